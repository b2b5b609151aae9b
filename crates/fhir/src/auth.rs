//! OAuth 2.0 for other systems: the client-credentials grant with SMART-style scopes
//! (`system/Patient.read`, `system/*.read`, `system/Communication.write`, or SMART v2's
//! `system/Patient.rs`), and bearer tokens that act exactly as the client's own account and
//! assignment would: the same roles, need-to-know and access log as a person.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::ToSpan;
use samverka_domain::actor::{Actor, UserRef};
use samverka_store::{ApiToken, Session, Stage};
use serde_json::json;
use uuid::Uuid;

use crate::http::FhirError;
use samverka_app::AppState;
use samverka_app::auth::{AccessMark, Caller, client_address, random_token, same_secret, token_hash};
use samverka_app::scopes::{Access, allows};

/// Access tokens live this long; clients ask for a new one when it ends.
pub const TOKEN_MINUTES: i64 = 60;

/// A system calling the FHIR API with a bearer token.
pub struct FhirCaller {
    pub caller: Caller,
    pub client_id: Uuid,
    pub scopes: Vec<String>,
}

impl FhirCaller {
    pub fn require(&self, resource: &str, access: Access) -> Result<(), FhirError> {
        if allows(&self.scopes, resource, access) {
            return Ok(());
        }
        let what = if access == Access::Read { "read" } else { "write" };
        Err(FhirError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("Token saknar behörigheten system/{resource}.{what}. Be administratören ge klienten den."),
            format!("The token lacks the scope system/{resource}.{what}."),
        ))
    }
}

fn unauthorized(sv: &str, en: &str) -> FhirError {
    FhirError::new(StatusCode::UNAUTHORIZED, "login", sv, en)
}

impl FromRequestParts<AppState> for FhirCaller {
    type Rejection = FhirError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, FhirError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                unauthorized(
                    "En åtkomsttoken (Authorization: Bearer) krävs. Hämta en från /fhir/auth/token.",
                    "A bearer token is required; get one from /fhir/auth/token.",
                )
            })?;
        let now = st.clock.now();
        let hash = token_hash(token);
        let invalid = || unauthorized("Åtkomsttoken är ogiltig eller har gått ut.", "The token is invalid or expired.");
        // Token, client, account and assignment in one read; each must still be valid.
        let holder = st.store.token_holder(&hash).await?.ok_or_else(invalid)?;
        let (actor, assignment_id) = holder.actor(now).ok_or_else(invalid)?;
        let (t, client) = (holder.token, holder.client);
        let mark = parts.extensions.get::<AccessMark>().cloned().unwrap_or_default();
        // The token stands where a person's session would: the same Caller, so every access
        // rule and log entry is the one the web and JSON API use.
        let session = Session {
            token_hash: hash,
            user_id: actor.user.id,
            stage: Stage::Active,
            assignment_id: Some(assignment_id),
            csrf_token: String::new(),
            created_at: now,
            last_seen_at: now,
            expires_at: t.expires_at,
        };
        let caller = Caller { actor, assignment_id, session, client_address: client_address(parts), mark };
        Ok(FhirCaller { caller, client_id: client.id, scopes: t.scopes })
    }
}

/// Who a client acts as: its account and assignment, while both are active.
pub async fn client_actor(
    store: &samverka_store::Store,
    client: &samverka_store::ApiClient,
) -> Result<Option<(Actor, Uuid)>, samverka_store::StoreError> {
    let Some(account) = store.account(client.user_id).await?.filter(|a| a.active) else { return Ok(None) };
    let Some(assignment) =
        store.assignment(client.assignment_id).await?.filter(|a| a.active && a.user_id == account.id)
    else {
        return Ok(None);
    };
    let actor =
        Actor { user: UserRef { id: account.id, name: account.name }, unit: assignment.unit, role: assignment.role };
    Ok(Some((actor, assignment.id)))
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut res = (status, Json(json!({ "error": error, "error_description": description }))).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, "no-store".parse().expect("static header"));
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, "Basic realm=\"samverka\"".parse().expect("static header"));
    }
    res
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(v.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// `POST /fhir/auth/token`: client credentials (HTTP Basic or form fields) for a bearer token
/// with the scopes asked for (all the client's when none are named).
pub async fn token(State(st): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if get("grant_type").as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Bara grant_type=client_credentials stöds.",
        );
    }
    let Some((id, secret)) = basic_credentials(&headers).or_else(|| Some((get("client_id")?, get("client_secret")?)))
    else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Klient-id och klienthemlighet saknas.");
    };
    let bad_client = || oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Okänd klient eller fel hemlighet.");
    let Ok(client_id) = Uuid::parse_str(&id) else { return bad_client() };
    let client = match st.store.api_client(client_id).await {
        Ok(Some(c)) if c.active => c,
        Ok(_) => return bad_client(),
        Err(e) => return FhirError::from(e).into_response(),
    };
    if !same_secret(&token_hash(&secret), &client.secret_hash) {
        return bad_client();
    }
    let granted: Vec<String> = match get("scope") {
        None => client.scopes.clone(),
        Some(asked) => {
            let asked: Vec<String> = asked.split_whitespace().map(str::to_string).collect();
            if let Some(bad) = asked.iter().find(|s| !client.scopes.contains(s)) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    &format!("Klienten har inte behörigheten {bad}."),
                );
            }
            asked
        }
    };
    let now = st.clock.now();
    let value = random_token();
    let t = ApiToken { client_id, scopes: granted.clone(), expires_at: now + TOKEN_MINUTES.minutes() };
    if let Err(e) = st.store.insert_api_token(&token_hash(&value), &t, now).await {
        return FhirError::from(e).into_response();
    }
    let mut res = Json(json!({
        "access_token": value,
        "token_type": "Bearer",
        "expires_in": TOKEN_MINUTES * 60,
        "scope": granted.join(" "),
    }))
    .into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, "no-store".parse().expect("static header"));
    res
}
