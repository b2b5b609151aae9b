//! One module per resource; `router` puts them together.

pub mod cases;
pub mod directory;
pub mod inbox;
pub mod liability;
pub mod meta;
pub mod patients;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(meta::landing))
        .route("/api/health", get(meta::health))
        .route("/api/openapi.json", get(meta::openapi))
        .route("/api/me", get(directory::me))
        .route("/api/organisations", get(directory::organisations))
        .route("/api/units", get(directory::units))
        .route("/api/units/{id}", get(directory::unit))
        .route("/api/patients", post(patients::create).get(patients::search))
        .route("/api/patients/{id}", get(patients::get))
        .route("/api/inbox", get(inbox::inbox))
        .route("/api/liability", get(liability::municipal))
        .route("/api/cases", post(cases::open).get(cases::list))
        .route("/api/cases/{id}", get(cases::get))
        .route("/api/cases/{id}/events", get(cases::events))
        .route("/api/cases/{id}/liability", get(liability::case))
        .route("/api/cases/{id}/messages", post(cases::send_message))
        .route("/api/cases/{id}/messages/{message_id}/open", post(cases::open_message))
        .route("/api/cases/{id}/messages/{message_id}/acknowledge", post(cases::acknowledge))
        .route("/api/cases/{id}/messages/{message_id}/mis-sent", post(cases::mark_mis_sent))
        .route("/api/cases/{id}/messages/{message_id}/forward", post(cases::forward))
        .route("/api/cases/{id}/transfer", post(cases::transfer))
        .route("/api/cases/{id}/discharge", post(cases::discharge))
        .route("/api/cases/{id}/parties", post(cases::add_party))
        .route("/api/cases/{id}/consents", post(cases::record_consent))
        .route("/api/cases/{id}/consents/{consent_id}/withdraw", post(cases::withdraw_consent))
        .route("/api/cases/{id}/sip", post(cases::draw_up_sip))
        .route("/api/cases/{id}/sip/follow-up", post(cases::follow_up_sip))
        .route("/api/cases/{id}/close", post(cases::close))
}
