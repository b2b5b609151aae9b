//! One module per resource; `router` puts them together.
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
pub mod meta;
pub mod patients;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use samverka_domain::access::{self, Permission};
use samverka_domain::{Problem, ProblemKind};
use samverka_store::{AccessEntry, Outcome, StoreError};
use uuid::Uuid;

use crate::AppState;
use crate::auth::{AccessMark, Caller};
use crate::problem::{ApiError, ApiResult};

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
    post "/api/cases/{id}/sip" => cases::draw_up_sip,
    post "/api/cases/{id}/sip/follow-up" => cases::follow_up_sip,
    post "/api/cases/{id}/close" => cases::close,
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
    let patient_data = patient_data_router().route_layer(axum::middleware::from_fn(require_access_log));
    Router::new()
        .route("/om", get(meta::landing))
        .route("/api/health", get(meta::health))
        .route("/api/live", get(meta::live))
        .route("/api/openapi.json", get(meta::openapi))
        .route("/auth/login", post(crate::auth::login::login))
        .route("/auth/password", post(crate::auth::login::change_password))
        .route("/auth/change-password", post(crate::auth::login::change_own_password))
        .route("/auth/totp/setup", get(crate::auth::login::totp_setup))
        .route("/auth/totp", post(crate::auth::login::verify_totp))
        .route("/auth/assignment", post(crate::auth::login::choose_assignment))
        .route("/auth/session", get(crate::auth::login::session))
        .route("/auth/logout", post(crate::auth::login::logout))
        .route("/auth/oidc/{id}/start", get(crate::auth::oidc::start))
        .route("/auth/oidc/{id}/callback", get(crate::auth::oidc::callback))
        .route("/api/me", get(directory::me))
        .route("/api/organisations", get(directory::organisations))
        .route("/api/units", get(directory::units))
        .route("/api/units/{id}", get(directory::unit))
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
}

/// Fail closed: a patient-data route that answers without having written its access-log
/// entry is a bug, and its answer is withheld. (Refusals are logged by the handlers too; the
/// access-matrix test proves it for every route. A request stopped at the door, before any
/// patient data is looked at, such as a missing CSRF token, is not an access.)
pub(crate) async fn require_access_log(mut req: Request, next: Next) -> Response {
    let mark = AccessMark::default();
    req.extensions_mut().insert(mark.clone());
    let res = next.run(req).await;
    if res.status().is_success() && !mark.is_set() {
        tracing::error!(status = %res.status(), "patient-data answer without an access-log entry was withheld");
        return ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "access_log_missing",
            "Åtkomsten kunde inte loggas, så uppgifterna visas inte. Kontakta support.",
            "The access could not be logged, so nothing is shown.",
        )
        .into_response();
    }
    res
}

/// Writes an access-log entry, durably, and marks the request as logged. When the log
/// cannot be written, the caller gets an error instead of the data.
pub(crate) async fn log(st: &AppState, caller: &Caller, entry: AccessEntry) -> ApiResult<()> {
    st.store.log_access(&entry).await?;
    caller.mark.set();
    Ok(())
}

/// Logs a read of patient data by the caller.
pub(crate) async fn log_read(
    st: &AppState,
    caller: &Caller,
    action: &str,
    patient: Option<Uuid>,
    case: Option<Uuid>,
    emergency: Option<&str>,
    protected: bool,
) -> ApiResult<()> {
    let e = caller.audit().entry(action, st.clock.now(), patient, case, Outcome::Allowed, emergency, protected);
    log(st, caller, e).await
}

/// Logs a refused access and returns the error to answer with.
pub(crate) async fn refuse(
    st: &AppState,
    caller: &Caller,
    action: &str,
    patient: Option<Uuid>,
    case: Option<Uuid>,
    problem: Problem,
) -> ApiError {
    let outcome = match problem.kind {
        ProblemKind::Forbidden | ProblemKind::ConsentRequired => Outcome::Denied,
        _ => Outcome::Refused,
    };
    let protected = match patient {
        Some(p) => st.store.patient(p).await.ok().flatten().is_some_and(|p| p.protection.is_protected()),
        None => false,
    };
    let e = caller.audit().entry(action, st.clock.now(), patient, case, outcome, None, protected);
    if let Err(err) = log(st, caller, e).await {
        return err;
    }
    problem.into()
}

/// Refuses (and logs) when the caller's role lacks a permission.
pub(crate) async fn require(
    st: &AppState,
    caller: &Caller,
    p: Permission,
    action: &str,
    patient: Option<Uuid>,
    case: Option<Uuid>,
) -> ApiResult<()> {
    match access::require(caller.actor.role, p) {
        Ok(()) => Ok(()),
        Err(problem) => Err(refuse(st, caller, action, patient, case, problem).await),
    }
}

/// Turns a store error from a patient-data write into an answer, logging domain refusals.
pub(crate) async fn refused_write(
    st: &AppState,
    caller: &Caller,
    action: &str,
    patient: Option<Uuid>,
    case: Option<Uuid>,
    e: StoreError,
) -> ApiError {
    match e {
        StoreError::Problem(p) if p.kind != ProblemKind::NotFound => refuse(st, caller, action, patient, case, p).await,
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request as HttpRequest;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn an_answer_without_an_access_log_entry_is_withheld() {
        async fn forgetful() -> &'static str {
            "patient data"
        }
        async fn careful(axum::Extension(mark): axum::Extension<AccessMark>) -> &'static str {
            mark.set();
            "patient data"
        }
        let app = Router::new()
            .route("/forgetful", get(forgetful))
            .route("/careful", get(careful))
            .route_layer(axum::middleware::from_fn(require_access_log));
        let call = |path: &'static str| app.clone().oneshot(HttpRequest::get(path).body(Body::empty()).unwrap());
        assert_eq!(call("/forgetful").await.unwrap().status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(call("/careful").await.unwrap().status(), StatusCode::OK);
    }
}
