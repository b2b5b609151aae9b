//! Over JSON: the admission feed's messages, for the region's administrators: what arrived, what became
//! of it, and processing a refused message again once its cause is fixed (say, a ward code
//! mapped). Raw messages hold patient data, so every look is access-logged.

use axum::Json;
use axum::extract::State;
use uuid::Uuid;

use samverka_app::AppState;
use samverka_app::auth::Caller;
use samverka_app::error::{AppResult, ProblemDetails};
use samverka_app::extract::{ApiPath, ApiQuery};
use samverka_app::hl7::*;

/// The feed's messages, newest first.
#[utoipa::path(get, path = "/api/hl7/messages", tag = "hl7", params(ListQuery),
    responses((status = 200, body = Vec<Hl7MessageView>), (status = 403, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Vec<Hl7MessageView>>> {
    let status = q.status.as_deref().map(parse_status).transpose()?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let messages = samverka_app::hl7::list(&st, &caller, status, limit).await?;
    Ok(Json(messages.iter().map(|m| Hl7MessageView::of(m, false)).collect()))
}

/// One message with its text.
#[utoipa::path(get, path = "/api/hl7/messages/{id}", tag = "hl7", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Hl7MessageView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn get(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Hl7MessageView>> {
    let m = read_one(&st, &caller, id).await?;
    Ok(Json(Hl7MessageView::of(&m, true)))
}

/// Processes a refused (or interrupted) message again; one already carried out is left alone.
#[utoipa::path(post, path = "/api/hl7/messages/{id}/replay", tag = "hl7", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Hl7MessageView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn replay(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Hl7MessageView>> {
    let m = replay_one(&st, &caller, id).await?;
    Ok(Json(Hl7MessageView::of(&m, false)))
}
