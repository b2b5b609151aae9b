//! The login: password, then the second factor, then the assignment. Each step replaces the
//! session token and moves the session to its next stage; the front ends (the JSON API, the
//! login pages) only carry the steps' input and answers.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use jiff::SignedDuration;
use samverka_store::{Account, Assignment, Session, Stage};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{LoginSession, client_address, new_session, password, token_hash, totp};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Failed logins within this window count towards throttling.
pub const FAILURE_WINDOW_MINUTES: i64 = 15;
/// Failures for one account from one address before that pair is locked for the window.
pub const MAX_FAILURES_ACCOUNT_ADDRESS: i64 = 5;
/// Failures from one address (any accounts) before the address is refused for the window.
pub const MAX_FAILURES_ADDRESS: i64 = 30;
/// Wrong authenticator codes for one account (from anywhere) before its logins pause for the
/// window: whoever knows the password still cannot guess the second factor.
pub const MAX_WRONG_CODES: i64 = 10;

/// Where the login stands, and what the client needs for the next step.
#[derive(Serialize, ToSchema)]
pub struct LoginState {
    pub stage: Stage,
    /// Send in the `X-CSRF-Token` header with every state-changing request.
    pub csrf_token: String,
    pub user_name: String,
    /// The active assignments to choose between.
    pub assignments: Vec<Assignment>,
    /// The assignment acted in, once chosen.
    pub assignment: Option<Assignment>,
}

#[derive(Serialize, ToSchema)]
pub struct TotpSetup {
    /// The secret to type into an authenticator app (base32).
    pub secret: String,
    /// The same as an `otpauth://` address (for a QR code).
    pub url: String,
}

/// Where the session's login stands.
pub async fn login_state(st: &AppState, session: &Session) -> AppResult<LoginState> {
    let account = st.store.account(session.user_id).await?.ok_or_else(|| AppError::not_found("Kontot"))?;
    let assignments: Vec<Assignment> =
        st.store.assignments_of(account.id).await?.into_iter().filter(|a| a.active).collect();
    let assignment = session.assignment_id.and_then(|id| assignments.iter().find(|a| a.id == id).cloned());
    Ok(LoginState {
        stage: session.stage,
        csrf_token: session.csrf_token.clone(),
        user_name: account.name,
        assignments,
        assignment,
    })
}

/// The stage after the password (or after an OIDC login that is not itself two-factor).
pub fn stage_after_password(account: &Account) -> Stage {
    if account.password_must_change {
        Stage::ChangePassword
    } else if account.totp_confirmed {
        Stage::Totp
    } else {
        Stage::TotpSetup
    }
}

/// The stage after both factors: straight in with a single assignment, else choose.
pub async fn stage_after_second_factor(st: &AppState, user: Uuid) -> AppResult<(Stage, Option<Uuid>)> {
    let active: Vec<Assignment> = st.store.assignments_of(user).await?.into_iter().filter(|a| a.active).collect();
    match active.as_slice() {
        [] => Err(AppError::new(
            StatusCode::FORBIDDEN,
            "no_assignment",
            "Du har inget aktivt uppdrag i Samverka. Kontakta administratören i din organisation.",
            "You have no active assignment.",
        )),
        [only] => Ok((Stage::Active, Some(only.id))),
        _ => Ok((Stage::ChooseAssignment, None)),
    }
}

fn too_many(code: &str, sv: &str) -> AppError {
    AppError::new(StatusCode::TOO_MANY_REQUESTS, code, sv, "Too many failed attempts; try again later.")
}

fn bad_credentials() -> AppError {
    AppError::unauthorized(
        "invalid_credentials",
        "Fel användarnamn eller lösenord. Kontrollera och försök igen.",
        "Wrong username or password.",
    )
}

/// The client's address, for handlers that take a JSON body.
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(client_address(parts)))
    }
}

/// Checks username and password (with throttling) and starts a session at the next stage.
pub async fn password_step(
    st: &AppState,
    address: &str,
    username: &str,
    password: String,
    presented: Option<String>,
) -> AppResult<(String, Session)> {
    let now = st.clock.now();
    let username = username.trim().to_lowercase();
    // A session presented with the login is dropped: the login always starts a new one.
    if let Some(old) = presented {
        st.store.delete_session(&token_hash(&old)).await?;
    }
    let since = now - SignedDuration::from_mins(FAILURE_WINDOW_MINUTES);
    let (pair, from_address, _) = st.store.login_failures(&username, address, since).await?;
    if from_address >= MAX_FAILURES_ADDRESS {
        return Err(too_many(
            "too_many_attempts",
            "För många misslyckade inloggningar från din dator. Vänta 15 minuter och försök igen.",
        ));
    }
    if pair >= MAX_FAILURES_ACCOUNT_ADDRESS {
        return Err(too_many(
            "account_locked_here",
            "Kontot är spärrat för inloggning från den här datorn i 15 minuter efter för många felaktiga försök. \
             Försök igen senare eller be administratören låsa upp kontot.",
        ));
    }
    let account = st.store.account_by_username(&username).await?;
    let hash = account.as_ref().filter(|a| a.active).and_then(|a| a.password_hash.clone());
    let ok = password::verify(password, hash.clone()).await && hash.is_some();
    let Some(account) = account.filter(|_| ok) else {
        st.store.record_login_failure(&username, address, now).await?;
        tracing::info!(%address, "failed login");
        return Err(bad_credentials());
    };
    st.store.delete_expired_sessions(now).await?;
    let (token, session) = new_session(st, account.id, stage_after_password(&account), None);
    st.store.create_session(&session, address).await?;
    Ok((token, session))
}

/// Replaces the session's token and moves it to `stage`.
async fn advance(
    st: &AppState,
    login: &LoginSession,
    stage: Stage,
    assignment: Option<Uuid>,
) -> AppResult<(String, Session)> {
    let (token, mut session) = new_session(st, login.session.user_id, stage, assignment);
    // The absolute time-out runs from the first login step, not from each step.
    session.expires_at = login.session.expires_at;
    session.created_at = login.session.created_at;
    st.store.rotate_session(&login.session.token_hash, &session, &login.client_address).await?;
    Ok((token, session))
}

fn wrong_stage() -> AppError {
    AppError::new(
        StatusCode::CONFLICT,
        "wrong_login_step",
        "Det steget hör inte till inloggningen just nu. Börja om.",
        "Wrong login step.",
    )
}

/// Sets the new password a first login (or a reset) requires.
pub async fn new_password_step(
    st: &AppState,
    login: &LoginSession,
    new_password: String,
) -> AppResult<(String, Session)> {
    if login.session.stage != Stage::ChangePassword {
        return Err(wrong_stage());
    }
    let account = st.store.account(login.session.user_id).await?.ok_or_else(|| AppError::not_found("Kontot"))?;
    password::check_policy(&new_password, account.username.as_deref().unwrap_or(""))?;
    if password::verify(new_password.clone(), account.password_hash.clone()).await {
        return Err(AppError::invalid(
            "new_password",
            "password_unchanged",
            "Välj ett annat lösenord än det tillfälliga.",
            "Choose a new password.",
        ));
    }
    let hash = password::hash(new_password).await?;
    st.store.set_password(account.id, &hash, false).await?;
    let account = Account { password_must_change: false, ..account };
    advance(st, login, stage_after_password(&account), None).await
}

/// The secret (created on first request) to set up the authenticator app with.
pub async fn totp_setup_step(st: &AppState, login: &LoginSession) -> AppResult<TotpSetup> {
    if login.session.stage != Stage::TotpSetup {
        return Err(wrong_stage());
    }
    let account = st.store.account(login.session.user_id).await?.ok_or_else(|| AppError::not_found("Kontot"))?;
    let secret = match account.totp_secret.filter(|_| !account.totp_confirmed) {
        Some(s) => s,
        None => {
            let s = totp::new_secret();
            st.store.set_totp(account.id, Some(&s), false).await?;
            s
        }
    };
    let label = account.username.unwrap_or_else(|| account.name.clone());
    let url = totp::setup_url(&secret, &label).unwrap_or_default();
    Ok(TotpSetup { secret, url })
}

/// Wrong codes are counted per account, from any address, under this key: a correct password
/// must not buy fresh guesses at the second factor.
fn code_key(username: &str) -> String {
    format!("totp:{username}")
}

/// Checks the authenticator code (once per time step) and moves on to the assignment.
pub async fn code_step(st: &AppState, login: &LoginSession, code: &str) -> AppResult<(String, Session)> {
    let setting_up = match login.session.stage {
        Stage::Totp => false,
        Stage::TotpSetup => true,
        _ => return Err(wrong_stage()),
    };
    let now = st.clock.now();
    let account = st.store.account(login.session.user_id).await?.ok_or_else(|| AppError::not_found("Kontot"))?;
    let username = account.username.clone().unwrap_or_else(|| account.id.to_string());
    let since = now - SignedDuration::from_mins(FAILURE_WINDOW_MINUTES);
    let (_, _, wrong_codes) = st.store.login_failures(&code_key(&username), &login.client_address, since).await?;
    if wrong_codes >= MAX_WRONG_CODES {
        st.store.delete_session(&login.session.token_hash).await?;
        return Err(too_many("too_many_codes", "För många felaktiga koder. Vänta 15 minuter och logga in igen."));
    }
    let step = account.totp_secret.as_deref().and_then(|s| totp::matching_step(s, code, now));
    let accepted = match step {
        Some(step) => st.store.use_totp_step(account.id, step, setting_up).await?,
        None => false,
    };
    if !accepted {
        st.store.record_login_failure(&code_key(&username), &login.client_address, now).await?;
        return Err(AppError::unauthorized(
            "invalid_code",
            "Koden stämmer inte eller har redan använts. Vänta på nästa kod i appen och försök igen.",
            "Wrong or already used code.",
        ));
    }
    // Only a complete login (both factors) forgives earlier failures from this address.
    st.store.clear_login_failures(&username, Some(&login.client_address)).await?;
    st.store.clear_login_failures(&code_key(&username), None).await?;
    let (stage, assignment) = stage_after_second_factor(st, account.id).await?;
    advance(st, login, stage, assignment).await
}

/// Acts in one of the user's active assignments from now on.
pub async fn assignment_step(st: &AppState, login: &LoginSession, assignment_id: Uuid) -> AppResult<(String, Session)> {
    if !matches!(login.session.stage, Stage::ChooseAssignment | Stage::Active) {
        return Err(wrong_stage());
    }
    let chosen = st.store.assignment(assignment_id).await?.filter(|a| a.active && a.user_id == login.session.user_id);
    let Some(chosen) = chosen else {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "not_your_assignment",
            "Uppdraget finns inte bland dina aktiva uppdrag.",
            "That assignment is not one of yours.",
        ));
    };
    advance(st, login, Stage::Active, Some(chosen.id)).await
}

/// A logged-in user changes their own password: every other session of theirs ends, and
/// this one goes on with a new token (returned with its session).
pub async fn change_own_password(
    st: &AppState,
    login: &LoginSession,
    current_password: String,
    new_password: String,
) -> AppResult<(String, Session)> {
    if login.session.stage != Stage::Active {
        return Err(wrong_stage());
    }
    let account = st.store.account(login.session.user_id).await?.ok_or_else(|| AppError::not_found("Kontot"))?;
    let username = account.username.clone().unwrap_or_default();
    let since = st.clock.now() - SignedDuration::from_mins(FAILURE_WINDOW_MINUTES);
    if st.store.login_failures(&username, &login.client_address, since).await?.0 >= MAX_FAILURES_ACCOUNT_ADDRESS {
        return Err(too_many("account_locked_here", "För många felaktiga försök. Vänta 15 minuter och försök igen."));
    }
    if !password::verify(current_password, account.password_hash.clone()).await || account.password_hash.is_none() {
        st.store.record_login_failure(&username, &login.client_address, st.clock.now()).await?;
        return Err(AppError::invalid(
            "current_password",
            "wrong_password",
            "Det nuvarande lösenordet stämmer inte.",
            "Wrong current password.",
        ));
    }
    password::check_policy(&new_password, &username)?;
    st.store.set_password(account.id, &password::hash(new_password).await?, false).await?;
    // Every other session of the user ends; this one goes on with a new token.
    st.store.delete_sessions_of(account.id).await?;
    let (token, mut session) = new_session(st, account.id, Stage::Active, login.session.assignment_id);
    session.expires_at = login.session.expires_at;
    st.store.create_session(&session, &login.client_address).await?;
    Ok((token, session))
}
