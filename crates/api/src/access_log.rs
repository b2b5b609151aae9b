//! Over JSON: log review (loggkontroll) for MAS and enhetschef, and the extract a patient may ask for:
//! who in the organisation has accessed their data.

use axum::Json;
use axum::extract::State;

use samverka_app::AppState;
use samverka_app::access_log;
use samverka_app::access_log::*;
use samverka_app::auth::Caller;
use samverka_app::error::{AppResult, ProblemDetails};
use samverka_app::extract::ApiQuery;

/// Entries of the reviewer's own organisation, newest first.
#[utoipa::path(get, path = "/api/access-log", tag = "access_log", params(ReviewQuery),
    responses((status = 200, body = Review), (status = 403, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn review(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ReviewQuery>,
) -> AppResult<Json<Review>> {
    Ok(Json(access_log::review(&st, &caller, q).await?))
}

/// The accesses to one patient's data within the organisation, for the patient.
#[utoipa::path(get, path = "/api/access-log/extract", tag = "access_log", params(ExtractQuery),
    responses((status = 200, body = PatientExtract), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn extract(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ExtractQuery>,
) -> AppResult<Json<PatientExtract>> {
    Ok(Json(access_log::extract(&st, &caller, q).await?))
}
