//! The login over JSON (`/auth/…`): each step's request and answer, the session cookie set on
//! each. The steps themselves are the application's (`samverka_app::auth::login`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use samverka_app::auth::login::{self, ClientAddress, LoginState, TotpSetup, login_state};
use samverka_app::auth::{LoginSession, SESSION_COOKIE, clear_cookie, cookie_value, seconds_until, session_cookie};
use samverka_app::extract::ApiJson;
use samverka_app::{AppResult, AppState, ProblemDetails};
use samverka_store::Session;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPasswordRequest {
    pub new_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The six digits from the authenticator app.
    pub code: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentRequest {
    #[schema(value_type = String, format = Uuid)]
    pub assignment_id: Uuid,
}

/// Answers with the login state and a cookie for the session's new token.
async fn answer(st: &AppState, token: &str, session: &Session) -> AppResult<Response> {
    let body = login_state(st, session).await?;
    let mut res = Json(body).into_response();
    let max_age = seconds_until(session.expires_at, st.clock.now());
    res.headers_mut().insert(header::SET_COOKIE, session_cookie(token, max_age));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Step 1: username and password.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginState, description = "Password accepted; sets the session cookie"),
        (status = 401, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 429, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn login(
    State(st): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> AppResult<Response> {
    let presented = cookie_value(&headers, SESSION_COOKIE);
    let (token, session) = login::password_step(&st, &address, &req.username, req.password, presented).await?;
    answer(&st, &token, &session).await
}

/// A new password, when the account must change it (first login, after a reset).
#[utoipa::path(post, path = "/auth/password", tag = "auth", request_body = NewPasswordRequest,
    responses((status = 200, body = LoginState), (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn change_password(
    State(st): State<AppState>,
    login: LoginSession,
    ApiJson(req): ApiJson<NewPasswordRequest>,
) -> AppResult<Response> {
    let (token, session) = login::new_password_step(&st, &login, req.new_password).await?;
    answer(&st, &token, &session).await
}

/// The secret to set up the authenticator app with (first login).
#[utoipa::path(get, path = "/auth/totp/setup", tag = "auth",
    responses((status = 200, body = TotpSetup), (status = 409, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn totp_setup(State(st): State<AppState>, login: LoginSession) -> AppResult<Response> {
    let setup = login::totp_setup_step(&st, &login).await?;
    let mut res = Json(setup).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Step 2: the code from the authenticator app. A code is accepted once.
#[utoipa::path(post, path = "/auth/totp", tag = "auth", request_body = CodeRequest,
    responses((status = 200, body = LoginState), (status = 401, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn verify_totp(
    State(st): State<AppState>,
    login: LoginSession,
    ApiJson(req): ApiJson<CodeRequest>,
) -> AppResult<Response> {
    let (token, session) = login::code_step(&st, &login, &req.code).await?;
    answer(&st, &token, &session).await
}

/// Step 3: the assignment to act in (also to switch assignment later).
#[utoipa::path(post, path = "/auth/assignment", tag = "auth", request_body = AssignmentRequest,
    responses((status = 200, body = LoginState), (status = 403, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn choose_assignment(
    State(st): State<AppState>,
    login: LoginSession,
    ApiJson(req): ApiJson<AssignmentRequest>,
) -> AppResult<Response> {
    let (token, session) = login::assignment_step(&st, &login, req.assignment_id).await?;
    answer(&st, &token, &session).await
}

/// Where the login stands.
#[utoipa::path(get, path = "/auth/session", tag = "auth",
    responses((status = 200, body = LoginState), (status = 401, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn session(State(st): State<AppState>, login: LoginSession) -> AppResult<Json<LoginState>> {
    Ok(Json(login_state(&st, &login.session).await?))
}

/// Ends the session.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(State(st): State<AppState>, login: LoginSession) -> AppResult<Response> {
    st.store.delete_session(&login.session.token_hash).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(header::SET_COOKIE, clear_cookie());
    Ok(res)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeOwnPasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// A logged-in user changes their own password; their other sessions end.
#[utoipa::path(post, path = "/auth/change-password", tag = "auth", request_body = ChangeOwnPasswordRequest,
    responses((status = 204), (status = 401, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn change_own_password(
    State(st): State<AppState>,
    login: LoginSession,
    ApiJson(req): ApiJson<ChangeOwnPasswordRequest>,
) -> AppResult<Response> {
    let (token, session) = login::change_own_password(&st, &login, req.current_password, req.new_password).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&token, seconds_until(session.expires_at, st.clock.now())));
    Ok(res)
}
