//! The OpenAPI document served at `/api/openapi.json`.

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};

use crate::routes::{cases, directory, inbox, liability, meta, patients};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Samverka API",
        description = "Samverkan vid utskrivning från sluten vård (LUS): ärenden, meddelanden med kvittenser, \
                       SIP, samtycken och betalningsansvar. Fel returneras som application/problem+json med \
                       en svensk beskrivning (detail), en engelsk (detail_en) och en stabil kod (code)."
    ),
    paths(
        meta::health, meta::openapi,
        directory::me, directory::organisations, directory::units, directory::unit,
        patients::create, patients::search, patients::get,
        inbox::inbox,
        cases::open, cases::list, cases::get, cases::events,
        cases::send_message, cases::open_message, cases::acknowledge, cases::mark_mis_sent, cases::forward,
        cases::transfer, cases::discharge, cases::add_party,
        cases::record_consent, cases::withdraw_consent,
        cases::draw_up_sip, cases::follow_up_sip, cases::close,
        liability::case, liability::municipal,
    ),
    modifiers(&DevLogin),
    security(("dev_user" = [], "dev_unit" = [])),
    tags(
        (name = "cases", description = "Utskrivningsärendet"),
        (name = "messages", description = "Meddelanden och kvittenser"),
        (name = "consent", description = "Samtycken"),
        (name = "sip", description = "Samordnad individuell plan"),
        (name = "liability", description = "Betalningsansvar"),
    )
)]
pub struct ApiDoc;

/// The development login: the user and the unit named in two headers.
struct DevLogin;

impl Modify for DevLogin {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "dev_user",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Samverka-User"))),
        );
        components.add_security_scheme(
            "dev_unit",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Samverka-Unit"))),
        );
    }
}
