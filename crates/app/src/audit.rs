//! The access log from the application's side: every read of patient data is logged before
//! it is answered, every refusal is logged with its reason, and an answer that was not logged
//! is withheld.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use samverka_domain::access::{self, Permission};
use samverka_domain::{Problem, ProblemKind};
use samverka_store::{AccessEntry, Outcome, StoreError};
use uuid::Uuid;

use crate::auth::{AccessMark, Caller};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Fail closed: a patient-data route that answers without having written its access-log
/// entry is a bug, and its answer is withheld. (Refusals are logged by the handlers too; the
/// access-matrix test proves it for every route. A request stopped at the door, before any
/// patient data is looked at, such as a missing CSRF token, is not an access.)
pub async fn require_access_log(mut req: Request, next: Next) -> Response {
    let mark = AccessMark::default();
    req.extensions_mut().insert(mark.clone());
    let res = next.run(req).await;
    if res.status().is_success() && !mark.is_set() {
        tracing::error!(status = %res.status(), "patient-data answer without an access-log entry was withheld");
        return AppError::new(
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
pub async fn log(st: &AppState, caller: &Caller, entry: AccessEntry) -> AppResult<()> {
    st.store.log_access(&entry).await?;
    caller.mark.set();
    Ok(())
}

/// Logs a read of patient data by the caller.
pub async fn log_read(
    st: &AppState,
    caller: &Caller,
    action: &str,
    patient: Option<Uuid>,
    case: Option<Uuid>,
    emergency: Option<&str>,
    protected: bool,
) -> AppResult<()> {
    let e = caller.audit().entry(action, st.clock.now(), patient, case, Outcome::Allowed, emergency, protected);
    log(st, caller, e).await
}

/// Logs a refused access and returns the error to answer with.
pub async fn refuse(
    st: &AppState,
    caller: &Caller,
    action: &str,
    patient: Option<Uuid>,
    case: Option<Uuid>,
    problem: Problem,
) -> AppError {
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
pub async fn require(
    st: &AppState,
    caller: &Caller,
    p: Permission,
    action: &str,
    patient: Option<Uuid>,
    case: Option<Uuid>,
) -> AppResult<()> {
    match access::require(caller.actor.role, p) {
        Ok(()) => Ok(()),
        Err(problem) => Err(refuse(st, caller, action, patient, case, problem).await),
    }
}

/// Turns a store error from a patient-data write into an answer, logging domain refusals.
pub async fn refused_write(
    st: &AppState,
    caller: &Caller,
    action: &str,
    patient: Option<Uuid>,
    case: Option<Uuid>,
    e: StoreError,
) -> AppError {
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

    use axum::Router;
    use axum::routing::get;

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
