//! OpenID Connect login, the relying party's side, shared by every front end that signs people
//! in: staff through the region's provider (SITHS eID), the person and their representatives
//! through an e-legitimation broker (BankID, Freja eID). The authorization-code flow with PKCE
//! and a nonce; the ID token's issuer, audience, signature (from the provider's published keys),
//! expiry and nonce are checked by `openidconnect`. What the identity then means (an account, a
//! personnummer) is the front end's to decide.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::SignedDuration;

use axum::http::StatusCode;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use crate::auth::{same_secret, token_hash};
use crate::config::{Audience, OidcProvider};
use crate::error::{AppError, AppResult};

/// Every claim of the ID token beyond the standard ones, by name (a broker's personnummer claim,
/// e.g. `https://id.oidc.se/claim/personalIdentityNumber`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    pub claims: HashMap<String, serde_json::Value>,
}

impl AdditionalClaims for OtherClaims {}

type IdFields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

type OidcClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    StandardTokenResponse<IdFields, CoreTokenType>,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    // As discovery leaves them: an authorization endpoint, maybe a token and userinfo endpoint.
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Each provider's discovered metadata, per process. The logins under way are in the database
/// (`oidc_pending`), so the provider may send the browser back to any process.
#[derive(Default)]
pub struct OidcState {
    metadata: Mutex<HashMap<String, Arc<OnceCell<CoreProviderMetadata>>>>,
}

/// How long a login may take at the provider.
const PENDING_LIFETIME: SignedDuration = SignedDuration::from_mins(10);

/// Cookie holding the hash of the login's state, set at the start of a login.
pub const STATE_COOKIE: &str = "__Host-samverka-oidc";

/// Clears [`STATE_COOKIE`] once the login is done.
pub const CLEAR_STATE_COOKIE: &str = "__Host-samverka-oidc=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0";

/// The configured provider `id` that signs in `audience` (a person's e-legitimation is not for
/// staff, nor a staff provider for persons).
pub fn provider<'a>(st: &'a crate::AppState, id: &str, audience: Audience) -> AppResult<&'a OidcProvider> {
    st.config
        .oidc
        .iter()
        .find(|p| p.id == id && p.audience == audience)
        .ok_or_else(|| AppError::not_found("Inloggningstjänsten"))
}

fn http_client() -> openidconnect::reqwest::Client {
    // No redirects: a token endpoint that redirects is refused (SSRF protection).
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTP client")
}

pub fn unavailable(cause: impl std::fmt::Display) -> AppError {
    tracing::warn!(%cause, "identity provider");
    AppError::new(
        StatusCode::BAD_GATEWAY,
        "identity_provider_unavailable",
        "Inloggningstjänsten svarar inte som den ska just nu. Försök igen om en stund.",
        "The identity provider could not be reached or answered wrongly.",
    )
}

async fn client(oidc: &OidcState, p: &OidcProvider) -> AppResult<(OidcClient, CoreProviderMetadata)> {
    let cell = oidc.metadata.lock().unwrap().entry(p.id.clone()).or_default().clone();
    let meta = cell
        .get_or_try_init(|| async {
            let issuer = IssuerUrl::new(p.issuer.clone()).map_err(unavailable)?;
            CoreProviderMetadata::discover_async(issuer, &http_client()).await.map_err(unavailable)
        })
        .await?
        .clone();
    let redirect = RedirectUrl::new(p.redirect_url.clone()).map_err(unavailable)?;
    let client = OidcClient::from_provider_metadata(
        meta.clone(),
        ClientId::new(p.client_id.clone()),
        Some(ClientSecret::new(p.client_secret.clone())),
    )
    .set_redirect_uri(redirect);
    Ok((client, meta))
}

/// A login begun: where to send the browser, and the value of the [`STATE_COOKIE`] that binds
/// the login to this browser.
pub struct Started {
    pub authorize_url: String,
    pub state_cookie: String,
}

/// Starts a login with a provider.
pub async fn start(st: &crate::AppState, oidc: &OidcState, p: &OidcProvider) -> AppResult<Started> {
    let (client, _) = client(oidc, p).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let now = st.clock.now();
    let pending = samverka_store::OidcPending {
        provider: p.id.clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        started_at: now,
    };
    st.store.begin_oidc_login(&token_hash(state.secret()), &pending, now - PENDING_LIFETIME).await?;
    // Lax, since the provider sends the browser back by a cross-site navigation.
    let state_cookie =
        format!("{STATE_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=600", token_hash(state.secret()));
    Ok(Started { authorize_url: url.to_string(), state_cookie })
}

/// What the provider sends the browser back with.
#[derive(Debug, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// Who the provider says signed in.
#[derive(Debug)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    /// The name the provider gives (`name`), when it gives one.
    pub name: Option<String>,
    pub claims: HashMap<String, serde_json::Value>,
}

fn refused(sv: &str) -> AppError {
    AppError::unauthorized("oidc_login_failed", sv, "The identity provider's login could not be used.")
}

/// Completes a login: the callback must come back to the browser that started it (its state
/// cookie), in time, with a code that the provider exchanges for a valid ID token.
pub async fn finish(
    st: &crate::AppState,
    oidc: &OidcState,
    p: &OidcProvider,
    state_cookie: Option<String>,
    q: Callback,
) -> AppResult<Identity> {
    if q.error.is_some() {
        return Err(refused("Inloggningen avbröts hos inloggningstjänsten. Försök igen."));
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return Err(refused("Svaret från inloggningstjänsten saknar kod. Börja om inloggningen."));
    };
    // Someone else's callback address, opened in this browser, must not log it in.
    let bound = state_cookie.is_some_and(|c| same_secret(&c, &token_hash(&state)));
    if !bound {
        return Err(refused("Inloggningen började inte i den här webbläsaren. Börja om inloggningen här."));
    }
    let now = st.clock.now();
    let pending = st.store.take_oidc_login(&token_hash(&state)).await?;
    let Some(pending) = pending.filter(|x| x.provider == p.id && now.duration_since(x.started_at) < PENDING_LIFETIME)
    else {
        return Err(refused("Inloggningen har gått ut eller kommer inte från den här webbläsaren. Börja om."));
    };
    let (client, _) = client(oidc, p).await?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(unavailable)?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
        .request_async(&http_client())
        .await
        .map_err(unavailable)?;
    let id_token = tokens.id_token().ok_or_else(|| refused("Inloggningstjänsten skickade ingen identitet."))?;
    let claims = id_token.claims(&client.id_token_verifier(), &Nonce::new(pending.nonce)).map_err(|e| {
        tracing::warn!(error = %e, "ID token refused");
        refused("Identiteten från inloggningstjänsten kunde inte styrkas. Börja om inloggningen.")
    })?;
    // A login weaker than the provider must give (e.g. below tillitsnivå 3) reaches nothing.
    let accepted = p.accepted_acr();
    let acr = claims.auth_context_ref().map(|a| a.to_string());
    if !accepted.is_empty() && !acr.as_ref().is_some_and(|a| accepted.contains(a)) {
        tracing::warn!(provider = %p.id, acr = ?acr, "login below the required assurance level refused");
        return Err(refused(
            "Inloggningen var inte tillräckligt säker för uppgifter om vård. Logga in med BankID eller Freja+.",
        ));
    }
    Ok(Identity {
        issuer: claims.issuer().to_string(),
        subject: claims.subject().to_string(),
        name: claims.name().and_then(|n| n.get(None)).map(|n| n.to_string()),
        claims: claims.additional_claims().claims.clone(),
    })
}
