//! OpenID Connect login with a region's identity provider (where SITHS eID lives): the
//! authorization-code flow with PKCE and a nonce. The ID token's issuer, audience, signature
//! (from the provider's published keys), expiry and nonce are checked by `openidconnect`; the
//! token's `sub` must be linked to a Samverka account by an administrator.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};
use samverka_store::Stage;
use serde::Deserialize;
use tokio::sync::OnceCell;

use samverka_app::AppState;
use samverka_app::auth::login::{ClientAddress, stage_after_password, stage_after_second_factor};
use samverka_app::auth::{cookie_value, new_session, same_secret, seconds_until, session_cookie, token_hash};
use samverka_app::config::OidcProvider;
use samverka_app::error::{AppError, AppResult};
use samverka_app::extract::ApiPath;

struct Pending {
    provider: String,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
    started: Instant,
}

/// Logins under way (state → what the callback needs) and each provider's discovered
/// metadata. Pending logins live in memory: a restart only means starting the login again.
#[derive(Default)]
pub struct OidcState {
    pending: Mutex<HashMap<String, Pending>>,
    metadata: Mutex<HashMap<String, Arc<OnceCell<CoreProviderMetadata>>>>,
}

const PENDING_LIFETIME: Duration = Duration::from_secs(600);

fn http_client() -> openidconnect::reqwest::Client {
    // No redirects: a token endpoint that redirects is refused (SSRF protection).
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTP client")
}

fn unavailable(cause: impl std::fmt::Display) -> AppError {
    tracing::warn!(%cause, "identity provider");
    AppError::new(
        StatusCode::BAD_GATEWAY,
        "identity_provider_unavailable",
        "Inloggningstjänsten svarar inte som den ska just nu. Försök igen om en stund eller logga in med lösenord och kod.",
        "The identity provider could not be reached or answered wrongly.",
    )
}

fn provider<'a>(st: &'a AppState, id: &str) -> AppResult<&'a OidcProvider> {
    st.config.oidc.iter().find(|p| p.id == id).ok_or_else(|| AppError::not_found("Inloggningstjänsten"))
}

async fn metadata(oidc: &OidcState, p: &OidcProvider) -> AppResult<CoreProviderMetadata> {
    let cell = oidc.metadata.lock().unwrap().entry(p.id.clone()).or_default().clone();
    let meta = cell
        .get_or_try_init(|| async {
            let issuer = IssuerUrl::new(p.issuer.clone()).map_err(unavailable)?;
            CoreProviderMetadata::discover_async(issuer, &http_client()).await.map_err(unavailable)
        })
        .await?;
    Ok(meta.clone())
}

/// Starts a login: redirects the browser to the provider.
pub async fn start(
    State(st): State<AppState>,
    Extension(oidc): Extension<Arc<OidcState>>,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Response> {
    let p = provider(&st, &id)?;
    let meta = metadata(&oidc, p).await?;
    let redirect = RedirectUrl::new(p.redirect_url.clone()).map_err(unavailable)?;
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(p.client_id.clone()),
        Some(ClientSecret::new(p.client_secret.clone())),
    )
    .set_redirect_uri(redirect);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    {
        let mut pending = oidc.pending.lock().unwrap();
        pending.retain(|_, v| v.started.elapsed() < PENDING_LIFETIME);
        pending.insert(state.secret().clone(), Pending { provider: id, nonce, verifier, started: Instant::now() });
    }
    let mut res = StatusCode::SEE_OTHER.into_response();
    res.headers_mut().insert(header::LOCATION, HeaderValue::from_str(url.as_str()).map_err(unavailable)?);
    // Binds the login to this browser: the callback must come back with the same state
    // cookie (Lax, since the provider sends the browser back by a cross-site navigation).
    let cookie =
        format!("{STATE_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=600", token_hash(state.secret()));
    res.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(unavailable)?);
    Ok(res)
}

/// Cookie holding the hash of the login's state, set at the start of an OIDC login.
const STATE_COOKIE: &str = "__Host-samverka-oidc";

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The provider sends the browser back here with a code; the code becomes a session.
pub async fn callback(
    State(st): State<AppState>,
    Extension(oidc): Extension<Arc<OidcState>>,
    ApiPath(id): ApiPath<String>,
    ClientAddress(address): ClientAddress,
    headers: axum::http::HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> AppResult<Response> {
    let refused =
        |sv: &str| AppError::unauthorized("oidc_login_failed", sv, "The identity provider's login could not be used.");
    if q.error.is_some() {
        return Err(refused("Inloggningen avbröts hos inloggningstjänsten. Försök igen."));
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return Err(refused("Svaret från inloggningstjänsten saknar kod. Börja om inloggningen."));
    };
    // Someone else's callback address, opened in this browser, must not log it in.
    let bound = cookie_value(&headers, STATE_COOKIE).is_some_and(|c| same_secret(&c, &token_hash(&state)));
    if !bound {
        return Err(refused("Inloggningen började inte i den här webbläsaren. Börja om inloggningen här."));
    }
    let pending = oidc.pending.lock().unwrap().remove(&state);
    let Some(pending) = pending.filter(|p| p.provider == id && p.started.elapsed() < PENDING_LIFETIME) else {
        return Err(refused("Inloggningen har gått ut eller kommer inte från den här webbläsaren. Börja om."));
    };
    let p = provider(&st, &id)?;
    let meta = metadata(&oidc, p).await?;
    let redirect = RedirectUrl::new(p.redirect_url.clone()).map_err(unavailable)?;
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(p.client_id.clone()),
        Some(ClientSecret::new(p.client_secret.clone())),
    )
    .set_redirect_uri(redirect);
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(unavailable)?
        .set_pkce_verifier(pending.verifier)
        .request_async(&http_client())
        .await
        .map_err(unavailable)?;
    let id_token = tokens.id_token().ok_or_else(|| refused("Inloggningstjänsten skickade ingen identitet."))?;
    let claims = id_token.claims(&client.id_token_verifier(), &pending.nonce).map_err(|e| {
        tracing::warn!(error = %e, "ID token refused");
        refused("Identiteten från inloggningstjänsten kunde inte styrkas. Börja om inloggningen.")
    })?;
    let subject = claims.subject().as_str();
    let account = st.store.account_by_oidc(&p.issuer, subject).await?.filter(|a| a.active).ok_or_else(|| {
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
    headers.append(
        header::SET_COOKIE,
        HeaderValue::from_static("__Host-samverka-oidc=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(res)
}
