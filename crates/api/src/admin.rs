//! Over JSON: administration of an organisation's own units, users and assignments. An administrator
//! reaches nothing outside their organisation, and no patient data at all.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use samverka_domain::org::{AddressEntry, Unit};
use samverka_store::Assignment;
use uuid::Uuid;

use samverka_app::AppState;
use samverka_app::admin;
use samverka_app::admin::*;
use samverka_app::auth::Caller;
use samverka_app::error::{AppResult, ProblemDetails};
use samverka_app::extract::{ApiJson, ApiPath};

/// The organisation's users with their assignments.
#[utoipa::path(get, path = "/api/admin/users", tag = "admin",
    responses((status = 200, body = Vec<UserView>), (status = 403, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn users(State(st): State<AppState>, caller: Caller) -> AppResult<Json<Vec<UserView>>> {
    Ok(Json(admin::users(&st, &caller).await?))
}

/// Creates a user in the administrator's organisation.
#[utoipa::path(post, path = "/api/admin/users", tag = "admin", request_body = NewUserRequest,
    responses((status = 201, body = CreatedUser), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn create_user(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewUserRequest>,
) -> AppResult<(StatusCode, Json<CreatedUser>)> {
    Ok((StatusCode::CREATED, Json(admin::create_user(&st, &caller, req).await?)))
}

/// Gives the user a temporary password (to change at next login) and ends their sessions.
#[utoipa::path(post, path = "/api/admin/users/{id}/reset-password", tag = "admin", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = TemporaryPassword), (status = 403, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn reset_password(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<TemporaryPassword>> {
    Ok(Json(admin::reset_password(&st, &caller, id).await?))
}

/// Clears the authenticator app (lost phone); the user sets up a new one at next login.
#[utoipa::path(post, path = "/api/admin/users/{id}/reset-totp", tag = "admin", params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn reset_totp(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    admin::reset_totp(&st, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lifts a temporary lock-out after failed logins.
#[utoipa::path(post, path = "/api/admin/users/{id}/unlock", tag = "admin", params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn unlock(State(st): State<AppState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> AppResult<StatusCode> {
    admin::unlock(&st, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deactivates a user and ends their sessions. Nothing is deleted.
#[utoipa::path(post, path = "/api/admin/users/{id}/deactivate", tag = "admin", params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn deactivate(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    admin::deactivate(&st, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives a user an assignment (unit and role) in the organisation.
#[utoipa::path(post, path = "/api/admin/users/{id}/assignments", tag = "admin", params(("id" = String, Path, format = Uuid)),
    request_body = NewAssignmentRequest,
    responses((status = 201, body = Assignment), (status = 403, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn add_assignment(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<NewAssignmentRequest>,
) -> AppResult<(StatusCode, Json<Assignment>)> {
    Ok((StatusCode::CREATED, Json(admin::add_assignment(&st, &caller, id, req).await?)))
}

/// Ends an assignment; sessions acting in it are refused from their next request.
#[utoipa::path(post, path = "/api/admin/assignments/{id}/deactivate", tag = "admin", params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn deactivate_assignment(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    admin::deactivate_assignment(&st, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates a unit in the administrator's organisation.
#[utoipa::path(post, path = "/api/admin/units", tag = "admin", request_body = NewUnitRequest,
    responses((status = 201, body = Unit), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn create_unit(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewUnitRequest>,
) -> AppResult<(StatusCode, Json<Unit>)> {
    Ok((StatusCode::CREATED, Json(admin::create_unit(&st, &caller, req).await?)))
}

/// Updates a unit's address entry: phone, mailbox, hours, who covers evenings and weekends.
#[utoipa::path(post, path = "/api/admin/units/{id}/address", tag = "admin", params(("id" = String, Path, format = Uuid)),
    request_body = AddressEntry,
    responses((status = 200, body = Unit), (status = 403, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn update_address(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(a): ApiJson<AddressEntry>,
) -> AppResult<Json<Unit>> {
    Ok(Json(admin::update_address(&st, &caller, id, a).await?))
}

/// Registers another system as a client of the FHIR API, acting for a unit of the
/// organisation in a role. It gets its own account (without password) and assignment, so its
/// access follows the same rules as a person's, and the administrator can end it the same way.
#[utoipa::path(post, path = "/api/admin/clients", tag = "admin", request_body = NewClientRequest,
    responses((status = 201, body = NewClientView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn create_client(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewClientRequest>,
) -> AppResult<(StatusCode, Json<NewClientView>)> {
    Ok((StatusCode::CREATED, Json(admin::create_client(&st, &caller, req).await?)))
}
