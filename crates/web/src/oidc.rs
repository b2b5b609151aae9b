//! OpenID Connect login of staff with a region's identity provider (where SITHS eID lives),
//! through `samverka_app::oidc`; the token's `sub` must be linked to a Samverka account by an
//! administrator.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use samverka_store::Stage;

use samverka_app::AppState;
use samverka_app::auth::login::{ClientAddress, stage_after_password, stage_after_second_factor};
use samverka_app::auth::{cookie_value, new_session, seconds_until, session_cookie};
use samverka_app::config::{Audience, OidcProvider};
use samverka_app::error::{AppError, AppResult};
use samverka_app::extract::ApiPath;
use samverka_app::oidc::{CLEAR_STATE_COOKIE, Callback, OidcState, STATE_COOKIE, unavailable};

/// A staff provider by its id.
fn provider<'a>(st: &'a AppState, id: &str) -> AppResult<&'a OidcProvider> {
    samverka_app::oidc::provider(st, id, Audience::Staff)
}

/// Starts a login: redirects the browser to the provider.
pub async fn start(
    State(st): State<AppState>,
    Extension(oidc): Extension<Arc<OidcState>>,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Response> {
    let p = provider(&st, &id)?;
    let started = samverka_app::oidc::start(&st, &oidc, p).await?;
    let mut res = StatusCode::SEE_OTHER.into_response();
    res.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&started.authorize_url).map_err(unavailable)?);
    // Binds the login to this browser: the callback must come back with the same state cookie.
    res.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&started.state_cookie).map_err(unavailable)?);
    Ok(res)
}

/// The provider sends the browser back here with a code; the code becomes a session.
pub async fn callback(
    State(st): State<AppState>,
    Extension(oidc): Extension<Arc<OidcState>>,
    ApiPath(id): ApiPath<String>,
    ClientAddress(address): ClientAddress,
    headers: axum::http::HeaderMap,
    Query(q): Query<Callback>,
) -> AppResult<Response> {
    let p = provider(&st, &id)?;
    let identity = samverka_app::oidc::finish(&st, &oidc, p, cookie_value(&headers, STATE_COOKIE), q).await?;
    let account = st.store.account_by_oidc(&p.issuer, &identity.subject).await?.filter(|a| a.active).ok_or_else(|| {
        AppError::new(
            StatusCode::FORBIDDEN,
            "no_linked_account",
            "Din inloggning är inte kopplad till något konto i Samverka. Be administratören i din organisation att koppla den.",
            "No Samverka account is linked to this login.",
        )
    })?;
    let (stage, assignment) = if p.two_factor {
        stage_after_second_factor(&st, account.id).await?
    } else {
        // The provider proved the password only: Samverka's own second factor follows.
        let stage = match stage_after_password(&account) {
            Stage::ChangePassword => Stage::TotpSetup,
            other => other,
        };
        (if account.totp_confirmed { Stage::Totp } else { stage }, None)
    };
    let (token, session) = new_session(&st, account.id, stage, assignment);
    st.store.create_session(&session, &address).await?;
    // A page that moves on by itself rather than a redirect: the browser is still in the
    // provider's cross-site navigation here, and would hold back the SameSite=Strict session
    // cookie on a redirect; the refresh is a same-site navigation that carries it.
    let page = "<!doctype html><html lang=\"sv\"><head><meta charset=\"utf-8\">\
        <meta http-equiv=\"refresh\" content=\"0;url=/\"><title>Inloggad – Samverka</title></head>\
        <body><p><a href=\"/\">Fortsätt till Samverka</a></p></body></html>";
    let mut res = axum::response::Html(page).into_response();
    let headers = res.headers_mut();
    headers.append(header::SET_COOKIE, session_cookie(&token, seconds_until(session.expires_at, st.clock.now())));
    headers.append(header::SET_COOKIE, HeaderValue::from_static(CLEAR_STATE_COOKIE));
    Ok(res)
}
