//! The OpenAPI document served at `/api/openapi.json`.

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};

use crate::{
    access_log, admin, cases, directives, directory, followup, forums, hl7, inbox, liability, life_story, login, meta,
    patients, representatives, rounds, units,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Samverka API",
        description = "Samverkan vid utskrivning från sluten vård (LUS): ärenden, meddelanden med kvittenser, \
                       SIP, samtycken och betalningsansvar. Fel returneras som application/problem+json med \
                       en svensk beskrivning (detail), en engelsk (detail_en) och en stabil kod (code)."
    ),
    paths(
        meta::health, meta::live, document,
        directory::me, directory::organisations, directory::units, directory::unit,
        patients::create, patients::search, patients::get,
        inbox::inbox,
        cases::open, cases::list, cases::get, cases::events,
        cases::send_message, cases::acknowledge_all, cases::open_message, cases::acknowledge, cases::mark_mis_sent, cases::forward,
        cases::transfer, cases::discharge, cases::cancel_discharge, cases::confirm_needs, cases::dismiss, cases::add_party,
        cases::record_consent, cases::withdraw_consent,
        representatives::list, representatives::register, representatives::end,
        life_story::get, life_story::write,
        cases::draw_up_sip, cases::follow_up_sip, cases::record_screening, cases::close, cases::open_home, cases::continue_at_home,
        liability::case, liability::municipal, liability::approve, liability::versions, liability::export,
        followup::get,
        directives::list, directives::register, directives::get, directives::confirm_read, directives::decide,
        directives::withdraw,
        forums::list, forums::create, forums::get, forums::schedule, forums::add_member, forums::remove_member,
        forums::raise_item, forums::plan_meeting, forums::meeting, forums::put_on_agenda, forums::take_off_agenda,
        forums::write_minutes, forums::record_attendance, forums::add_action, forums::approve, forums::cancel,
        forums::action_status,
        rounds::round, rounds::list_patient, rounds::record_note, rounds::complete_action,
        units::contacts, units::set_contacts, units::confirm_contacts, units::escalation_rule, units::set_escalation_rule,
        units::escalations,
        cases::emergency_access,
        access_log::review, access_log::extract,
        hl7::list, hl7::get, hl7::replay,
        login::login, login::change_password, login::totp_setup, login::verify_totp, login::choose_assignment,
        login::session, login::logout, login::change_own_password,
        admin::users, admin::create_user, admin::reset_password, admin::reset_totp, admin::unlock, admin::deactivate,
        admin::add_assignment, admin::deactivate_assignment, admin::create_unit, admin::update_address, admin::create_client,
    ),
    modifiers(&SessionAuth),
    security(("session" = [], "csrf" = [])),
    tags(
        (name = "cases", description = "Utskrivningsärendet"),
        (name = "messages", description = "Meddelanden och kvittenser"),
        (name = "consent", description = "Samtycken"),
        (name = "representatives", description = "Företrädare: god man, förvaltare, ombud med fullmakt och närstående"),
        (name = "life_story", description = "Levnadsberättelse: personens egen berättelse, delad av personen"),
        (name = "sip", description = "Samordnad individuell plan"),
        (name = "liability", description = "Betalningsansvar"),
        (name = "followup", description = "Uppföljning: indikatorer per område och period"),
        (name = "auth", description = "Inloggning: lösenord, kod från autentiseringsapp, uppdrag"),
        (name = "access_log", description = "Loggkontroll och loggutdrag"),
        (name = "admin", description = "Administration av den egna organisationens enheter och användare"),
        (name = "directory", description = "Vem gör vad: enheternas kontakter och eskaleringsregler"),
        (name = "forums", description = "Forum: möten, dagordning, minnesanteckningar, åtgärder och närvaro"),
        (name = "directives", description = "Direktiv: en validerad kanal med läskvitton"),
        (name = "hl7", description = "Meddelanden från sjukhusens journalsystem (HL7 v2 ADT över MLLP)"),
    )
)]
pub struct ApiDoc;

/// Login sets a session cookie; state-changing requests also carry the session's CSRF token.
struct SessionAuth;

impl Modify for SessionAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("__Host-samverka"))),
        );
        components
            .add_security_scheme("csrf", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-CSRF-Token"))));
    }
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
