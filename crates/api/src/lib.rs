//! Samverka's JSON API (`/api`, `/auth`): one module per resource, thin handlers over the
//! application layer (`samverka_app`), the OpenAPI document; `router` puts them together.
//!
//! Architecture invariant: handlers translate JSON to application calls and back, and decide
//! nothing; no other front end is imported.
//!
//! Routes that touch patient data are declared in one list, [`PATIENT_DATA_ROUTES`], which
//! both builds their router and is what the access-log test walks: a route added there is
//! tested, and a route that answers without writing its access-log entry is refused at run
//! time by [`require_access_log`].

pub mod access_log;
pub mod admin;
pub mod cases;
pub mod directives;
pub mod directory;
pub mod followup;
pub mod forums;
pub mod hl7;
pub mod inbox;
pub mod liability;
pub mod life_story;
pub mod login;
pub mod meta;
pub mod openapi;
pub mod patients;
pub mod representatives;
pub mod rounds;
pub mod units;

use axum::Router;
use axum::routing::{get, post, put};
use samverka_app::AppState;

macro_rules! patient_data_routes {
    ($( $method:ident $path:literal => $handler:path ),* $(,)?) => {
        /// Every route that reads or writes patient data, as (method, path).
        pub const PATIENT_DATA_ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        fn patient_data_router() -> Router<AppState> {
            Router::new() $(.route($path, axum::routing::$method($handler)))*
        }
    };
}

patient_data_routes! {
    get "/api/inbox" => inbox::inbox,
    get "/api/cases" => cases::list,
    post "/api/cases" => cases::open,
    get "/api/cases/{id}" => cases::get,
    get "/api/cases/{id}/events" => cases::events,
    get "/api/cases/{id}/liability" => liability::case,
    post "/api/cases/{id}/emergency-access" => cases::emergency_access,
    post "/api/cases/{id}/messages" => cases::send_message,
    post "/api/cases/{id}/acknowledge-all" => cases::acknowledge_all,
    post "/api/cases/{id}/messages/{message_id}/open" => cases::open_message,
    post "/api/cases/{id}/messages/{message_id}/acknowledge" => cases::acknowledge,
    post "/api/cases/{id}/messages/{message_id}/mis-sent" => cases::mark_mis_sent,
    post "/api/cases/{id}/messages/{message_id}/forward" => cases::forward,
    post "/api/cases/{id}/transfer" => cases::transfer,
    post "/api/cases/{id}/discharge" => cases::discharge,
    post "/api/cases/{id}/cancel-discharge" => cases::cancel_discharge,
    post "/api/cases/{id}/confirm-needs" => cases::confirm_needs,
    post "/api/cases/{id}/dismiss" => cases::dismiss,
    post "/api/cases/{id}/parties" => cases::add_party,
    post "/api/cases/{id}/consents" => cases::record_consent,
    post "/api/cases/{id}/consents/{consent_id}/withdraw" => cases::withdraw_consent,
    get "/api/cases/{id}/representatives" => representatives::list,
    post "/api/cases/{id}/representatives" => representatives::register,
    post "/api/cases/{id}/representatives/{representation}/end" => representatives::end,
    get "/api/cases/{id}/life-story" => life_story::get,
    post "/api/cases/{id}/life-story" => life_story::write,
    post "/api/cases/{id}/sip" => cases::draw_up_sip,
    post "/api/cases/{id}/sip/follow-up" => cases::follow_up_sip,
    post "/api/cases/{id}/screenings" => cases::record_screening,
    post "/api/cases/{id}/round-notes" => rounds::record_note,
    post "/api/cases/{id}/round-actions/{action_id}/done" => rounds::complete_action,
    post "/api/cases/{id}/close" => cases::close,
    post "/api/cases/{id}/continue-at-home" => cases::continue_at_home,
    post "/api/home-coordinations" => cases::open_home,
    get "/api/meetings/{id}/round" => rounds::round,
    post "/api/forums/{id}/round-patients" => rounds::list_patient,
    post "/api/patients" => patients::create,
    get "/api/patients" => patients::search,
    get "/api/patients/{id}" => patients::get,
    get "/api/liability" => liability::municipal,
    get "/api/liability/versions" => liability::versions,
    get "/api/liability/export" => liability::export,
    get "/api/access-log" => access_log::review,
    get "/api/access-log/extract" => access_log::extract,
    get "/api/hl7/messages" => hl7::list,
    get "/api/hl7/messages/{id}" => hl7::get,
    post "/api/hl7/messages/{id}/replay" => hl7::replay,
}

pub fn router() -> Router<AppState> {
    let patient_data =
        patient_data_router().route_layer(axum::middleware::from_fn(samverka_app::audit::require_access_log));
    // Collaboration beyond the case is logged like the case: every read, write and refusal.
    let collaboration = Router::new()
        .route("/api/directives", get(directives::list).post(directives::register))
        .route("/api/directives/{id}", get(directives::get))
        .route("/api/directives/{id}/read", post(directives::confirm_read))
        .route("/api/directives/{id}/decision", post(directives::decide))
        .route("/api/directives/{id}/withdraw", post(directives::withdraw))
        .route("/api/forums", get(forums::list).post(forums::create))
        .route("/api/forums/{id}", get(forums::get))
        .route("/api/forums/{id}/schedule", post(forums::schedule))
        .route("/api/forums/{id}/members", post(forums::add_member))
        .route("/api/forums/{id}/members/remove", post(forums::remove_member))
        .route("/api/forums/{id}/items", post(forums::raise_item))
        .route("/api/forums/{id}/meetings", post(forums::plan_meeting))
        .route("/api/meetings/{id}", get(forums::meeting))
        .route("/api/meetings/{id}/agenda/{item}", put(forums::put_on_agenda).delete(forums::take_off_agenda))
        .route("/api/meetings/{id}/minutes", put(forums::write_minutes))
        .route("/api/meetings/{id}/attendance", put(forums::record_attendance))
        .route("/api/meetings/{id}/actions", post(forums::add_action))
        .route("/api/meetings/{id}/approve", post(forums::approve))
        .route("/api/meetings/{id}/cancel", post(forums::cancel))
        .route("/api/action-items/{id}/status", post(forums::action_status))
        .route("/api/units/{id}/contacts", put(units::set_contacts))
        .route("/api/units/{id}/contacts/confirm", post(units::confirm_contacts))
        .route("/api/units/{id}/escalation-rule", put(units::set_escalation_rule))
        .route("/api/escalations", get(units::escalations))
        .route_layer(axum::middleware::from_fn(samverka_app::audit::require_access_log));
    Router::new()
        .route("/om", get(meta::landing))
        .route("/api/health", get(meta::health))
        .route("/api/live", get(meta::live))
        .route("/api/openapi.json", get(openapi::document))
        .route("/auth/login", post(crate::login::login))
        .route("/auth/password", post(crate::login::change_password))
        .route("/auth/change-password", post(crate::login::change_own_password))
        .route("/auth/totp/setup", get(crate::login::totp_setup))
        .route("/auth/totp", post(crate::login::verify_totp))
        .route("/auth/assignment", post(crate::login::choose_assignment))
        .route("/auth/session", get(crate::login::session))
        .route("/auth/logout", post(crate::login::logout))
        .route("/api/me", get(directory::me))
        .route("/api/organisations", get(directory::organisations))
        .route("/api/units", get(directory::units))
        .route("/api/units/{id}", get(directory::unit))
        .route("/api/units/{id}/contacts", get(units::contacts))
        .route("/api/units/{id}/escalation-rule", get(units::escalation_rule))
        .route("/api/followup", get(followup::get))
        .route("/api/liability/approve", post(liability::approve))
        .route("/api/admin/users", get(admin::users).post(admin::create_user))
        .route("/api/admin/users/{id}/reset-password", post(admin::reset_password))
        .route("/api/admin/users/{id}/reset-totp", post(admin::reset_totp))
        .route("/api/admin/users/{id}/unlock", post(admin::unlock))
        .route("/api/admin/users/{id}/deactivate", post(admin::deactivate))
        .route("/api/admin/users/{id}/assignments", post(admin::add_assignment))
        .route("/api/admin/assignments/{id}/deactivate", post(admin::deactivate_assignment))
        .route("/api/admin/units", post(admin::create_unit))
        .route("/api/admin/units/{id}/address", post(admin::update_address))
        .route("/api/admin/clients", post(admin::create_client))
        .merge(patient_data)
        .merge(collaboration)
}
