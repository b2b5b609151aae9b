//! HL7 FHIR R4 (JSON) for other systems: read and search over the cases a client's unit takes
//! part in, with OAuth 2.0 bearer tokens (see [`auth`]). Every answer is
//! `application/fhir+json`; every error an OperationOutcome with the reason in Swedish
//! (`details.text`) and English (`diagnostics`).
//!
//! Access goes through the same functions as the web pages and the JSON API
//! (`samverka_app::cases::read_case`, the patient visibility rule, the access log), so a system
//! sees exactly what a person in the same role at the same unit would.

pub mod auth;
pub mod capability;
pub mod http;
pub mod notify;
pub mod reads;
pub mod resources;
pub mod search;
pub mod subscriptions;
pub mod writes;

use axum::Router;
use axum::routing::{any, get, post};
use samverka_app::AppState;

pub use http::{FHIR_JSON, FhirError};
pub use samverka_app::scopes::RESOURCE_TYPES;
pub use subscriptions::read_subscription_request;

pub fn router() -> Router<AppState> {
    let patient_data = Router::new()
        .route("/fhir/Patient", get(reads::search_patients))
        .route("/fhir/Patient/{id}", get(reads::read_patient))
        .route("/fhir/EpisodeOfCare", get(reads::search_episodes))
        .route("/fhir/EpisodeOfCare/{id}", get(reads::read_episode))
        .route("/fhir/Encounter", get(reads::search_encounters))
        .route("/fhir/Encounter/{id}", get(reads::read_encounter))
        .route("/fhir/Communication", get(reads::search_communications).post(writes::create_communication))
        .route("/fhir/Communication/{id}", get(reads::read_communication))
        .route("/fhir/Communication/{id}/{operation}", post(writes::acknowledge_communication))
        .route("/fhir/Task", get(reads::search_tasks))
        .route("/fhir/Task/{id}", get(reads::read_task))
        .route("/fhir/CarePlan", get(reads::search_care_plans))
        .route("/fhir/CarePlan/{id}", get(reads::read_care_plan))
        .route("/fhir/Observation", get(reads::search_observations))
        .route("/fhir/Observation/{id}", get(reads::read_observation))
        .route("/fhir/Consent", get(reads::search_consents).post(writes::create_consent))
        .route("/fhir/Consent/{id}", get(writes::read_consent).put(writes::update_consent))
        .route("/fhir/AuditEvent", get(reads::search_audit_events))
        // Fail closed, as the JSON API: an answer without its access-log entry is withheld.
        .route_layer(axum::middleware::from_fn(samverka_app::audit::require_access_log));
    let fhir = Router::new()
        .route("/fhir/metadata", get(capability::metadata))
        .route("/fhir/Organization", get(reads::search_organizations))
        .route("/fhir/Organization/{id}", get(reads::read_organization))
        .route("/fhir/Practitioner/{id}", get(reads::read_practitioner))
        .route("/fhir/PractitionerRole", get(reads::search_practitioner_roles))
        .route("/fhir/PractitionerRole/{id}", get(reads::read_practitioner_role))
        .route("/fhir/Device/{id}", get(reads::read_device))
        .route("/fhir/Subscription", post(subscriptions::create_subscription))
        .route(
            "/fhir/Subscription/{id}",
            get(subscriptions::read_subscription).delete(subscriptions::delete_subscription),
        )
        .merge(patient_data)
        .route("/fhir/{*rest}", any(capability::unknown));
    // OAuth and SMART speak plain JSON with their own errors, not FHIR.
    Router::new()
        .route("/fhir/auth/token", post(auth::token))
        .route("/fhir/.well-known/smart-configuration", get(capability::smart_configuration))
        .route("/.well-known/smart-configuration", get(capability::smart_configuration))
        .merge(fhir)
}
