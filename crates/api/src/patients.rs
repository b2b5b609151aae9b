//! Over JSON: registering and finding patients.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use samverka_app::AppState;
use samverka_app::auth::Caller;
use samverka_app::error::{AppResult, ProblemDetails};
use samverka_app::extract::{ApiJson, ApiPath, ApiQuery};
use samverka_app::patients;
use samverka_app::patients::*;
use samverka_app::views::PatientView;

/// Registers a patient.
#[utoipa::path(post, path = "/api/patients", tag = "patients", request_body = NewPatientRequest,
    responses(
        (status = 201, body = PatientView),
        (status = 409, description = "Already registered", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewPatientRequest>,
) -> AppResult<(StatusCode, Json<PatientView>)> {
    let (status, patient) = register(&st, &caller, req).await?;
    Ok((status, Json(PatientView::of(&patient))))
}

/// Finds a patient by personnummer, samordningsnummer or reservnummer.
#[utoipa::path(get, path = "/api/patients", tag = "patients", params(SearchQuery),
    responses(
        (status = 200, body = SearchResult),
        (status = 422, description = "Invalid number", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn search(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> AppResult<Json<SearchResult>> {
    Ok(Json(patients::search(&st, &caller, q).await?))
}

/// One patient.
#[utoipa::path(get, path = "/api/patients/{id}", tag = "patients", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = PatientView), (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn get(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<PatientView>> {
    let (p, _) = patients::read(&st, &caller, id, "patient.read").await?;
    Ok(Json(PatientView::of(&p)))
}
