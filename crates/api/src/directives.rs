//! Directives over JSON: the information channel's list, one directive with its readers (for
//! its owners), registration, the validator's decision, read confirmation and withdrawal.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use samverka_app::auth::Caller;
use samverka_app::directives::{self, DirectiveDetail, DirectiveList};
use samverka_app::extract::{ApiJson, ApiPath};
use samverka_app::{AppResult, AppState, ProblemDetails};
use samverka_domain::directive::DirectiveSpec;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The directives for the caller's unit and, for registrars and validators, their
/// organisation's own at every stage with who has read them.
#[utoipa::path(get, path = "/api/directives", tag = "directives",
    responses((status = 200, body = DirectiveList), (status = 403, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn list(State(st): State<AppState>, caller: Caller) -> AppResult<Json<DirectiveList>> {
    Ok(Json(directives::list(&st, &caller).await?))
}

/// Registers a directive; it reaches nobody until a validator (never the registrar) publishes it.
#[utoipa::path(post, path = "/api/directives", tag = "directives", request_body = DirectiveSpec,
    responses((status = 201, body = DirectiveDetail), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn register(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(spec): ApiJson<DirectiveSpec>,
) -> AppResult<(StatusCode, Json<DirectiveDetail>)> {
    let id = Uuid::now_v7();
    directives::register(&st, &caller, id, &spec).await?;
    Ok((StatusCode::CREATED, Json(directives::read(&st, &caller, id).await?)))
}

/// One directive as the caller may see it.
#[utoipa::path(get, path = "/api/directives/{id}", tag = "directives", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = DirectiveDetail), (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn get(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<DirectiveDetail>> {
    Ok(Json(directives::read(&st, &caller, id).await?))
}

/// The caller has read the directive (a repeat is fine: the first time counts).
#[utoipa::path(post, path = "/api/directives/{id}/read", tag = "directives", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = DirectiveDetail), (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn confirm_read(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<DirectiveDetail>> {
    directives::confirm_read(&st, &caller, id).await?;
    Ok(Json(directives::read(&st, &caller, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Publish to the audience, or send back to the registrar.
    pub publish: bool,
    /// Why it is sent back (required then); a note on publishing.
    #[serde(default)]
    pub note: String,
    /// When directives in force on the same topic reach the same people: both are to apply.
    #[serde(default)]
    pub both_apply: bool,
}

/// A validator's decision on a pending directive (never on one they registered).
#[utoipa::path(post, path = "/api/directives/{id}/decision", tag = "directives", params(("id" = String, Path, format = Uuid)),
    request_body = Decision,
    responses((status = 200, body = DirectiveDetail), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn decide(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(d): ApiJson<Decision>,
) -> AppResult<Json<DirectiveDetail>> {
    directives::decide(&st, &caller, id, d.publish, &d.note, d.both_apply).await?;
    Ok(Json(directives::read(&st, &caller, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// Why it no longer applies.
    pub note: String,
}

/// Withdraws a published directive; it stays, marked withdrawn.
#[utoipa::path(post, path = "/api/directives/{id}/withdraw", tag = "directives", params(("id" = String, Path, format = Uuid)),
    request_body = Withdrawal,
    responses((status = 200, body = DirectiveDetail), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn withdraw(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(w): ApiJson<Withdrawal>,
) -> AppResult<Json<DirectiveDetail>> {
    directives::withdraw(&st, &caller, id, &w.note).await?;
    Ok(Json(directives::read(&st, &caller, id).await?))
}
