//! A person's representatives in the JSON API: those staff register (god man, förvaltare,
//! ombud with fullmakt) and those the person invited, with the same rules and log as the page.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use samverka_app::auth::Caller;
use samverka_app::extract::{ApiJson, ApiPath};
use samverka_app::representatives;
use samverka_app::{AppResult, AppState, ProblemDetails};
use samverka_domain::representative::{Kind, NewRepresentation, Representation, Share};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Who represents the case's person, in force or not.
#[utoipa::path(get, path = "/api/cases/{id}/representatives", tag = "representatives",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Vec<Representation>),
        (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<Representation>>> {
    Ok(Json(representatives::list(&st, &caller, id).await?))
}

/// A legal representative to register, from the decision or power of attorney staff have seen.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub name: String,
    /// Twelve digits, with or without the hyphen.
    pub personnummer: String,
    /// god_man, forvaltare or fullmakt (a närstående is invited by the person themself).
    pub kind: Kind,
    /// What they may see besides where the person is and whom to call.
    #[serde(default)]
    pub shares: Vec<Share>,
    /// The mandate's last day, if it has one.
    #[schema(value_type = Option<String>, format = Date)]
    #[serde(default)]
    pub valid_until: Option<jiff::civil::Date>,
}

/// Registers a legal representative of the case's person.
#[utoipa::path(post, path = "/api/cases/{id}/representatives", tag = "representatives",
    params(("id" = String, Path, format = Uuid)), request_body = RegisterRequest,
    responses((status = 201, body = Representation),
        (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn register(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> AppResult<(StatusCode, Json<Representation>)> {
    let new = NewRepresentation {
        name: req.name,
        personnummer: req.personnummer,
        kind: req.kind,
        shares: req.shares,
        valid_until: req.valid_until,
    };
    Ok((StatusCode::CREATED, Json(representatives::register(&st, &caller, id, new).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndRequest {
    /// Why it ends, e.g. the överförmyndare's decision.
    pub reason: String,
}

/// Records that a representation ended; from then on the representative sees nothing.
#[utoipa::path(post, path = "/api/cases/{id}/representatives/{representation}/end", tag = "representatives",
    params(("id" = String, Path, format = Uuid), ("representation" = String, Path, format = Uuid)),
    request_body = EndRequest,
    responses((status = 204),
        (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn end(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath((id, representation)): ApiPath<(Uuid, Uuid)>,
    ApiJson(req): ApiJson<EndRequest>,
) -> AppResult<StatusCode> {
    representatives::end(&st, &caller, id, representation, &req.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}
