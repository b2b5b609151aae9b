//! Authentication and sessions: who the caller is, in which assignment, and that a
//! state-changing request really comes from the page that holds the session (CSRF).
//!
//! A session token is 256 random bits in a `__Host-` cookie (Secure, HttpOnly,
//! SameSite=Strict); the database keeps only its SHA-256. The token is replaced at every step
//! up in privilege (password, second factor, assignment), so a token planted before login is
//! worthless after it.

pub mod login;
pub mod password;
pub mod totp;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use jiff::{SignedDuration, Timestamp};
use samverka_domain::actor::{Actor, UserRef};
use samverka_store::{Account, Assignment, Audit, Session, Stage};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::error::AppError;
use crate::state::AppState;

/// The session cookie. The `__Host-` prefix makes browsers refuse it unless it is Secure,
/// has Path=/ and no Domain: it cannot be set by a sibling site.
pub const SESSION_COOKIE: &str = "__Host-samverka";
/// Header carrying the CSRF token on state-changing API requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The header a page's live-update script sends with its refetches: not the user at work, so
/// it neither keeps the session alive nor marks messages opened.
pub const LIVE_HEADER: &str = "x-samverka-live";
/// The live-update stream; listening to it is not activity either.
pub const EVENTS_PATH: &str = "/handelser";

/// 256 random bits as URL-safe text.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Constant-time comparison of two secrets.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

/// The `Set-Cookie` value for a new session token.
pub fn session_cookie(token: &str, max_age_secs: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}"
    ))
    .expect("token is ASCII")
}

pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("__Host-samverka=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Reverse proxies whose `X-Forwarded-For` header is believed (config `trusted_proxies`).
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(pub Vec<IpAddr>);

/// The client's address for logs and rate limits. A forwarded-for header is read only when
/// the connection comes from a trusted proxy, and then from the right: the first address
/// that is not itself a trusted proxy is the client (entries further left are client-set).
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let Some(header) = forwarded_for else { return peer };
    let mut client = peer;
    for hop in header.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => client = ip,
            Ok(ip) => return ip,
            Err(_) => return client,
        }
    }
    client
}

pub fn client_address(parts: &Parts) -> String {
    let Some(peer) = parts.extensions.get::<ConnectInfo<crate::tls::PeerAddr>>().map(|c| c.0.0.ip()) else {
        return "unknown".into();
    };
    let trusted = parts.extensions.get::<TrustedProxies>().map(|t| t.0.as_slice()).unwrap_or(&[]);
    let forwarded = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    client_ip(peer, forwarded, trusted).to_string()
}

/// Whether the request came straight from one of the trusted reverse proxies, so that its
/// `X-Forwarded-*` headers may be believed.
pub fn from_trusted_proxy(parts: &Parts) -> bool {
    let peer = parts.extensions.get::<ConnectInfo<crate::tls::PeerAddr>>().map(|c| c.0.0.ip());
    let trusted = parts.extensions.get::<TrustedProxies>().map(|t| t.0.as_slice()).unwrap_or(&[]);
    peer.is_some_and(|p| trusted.contains(&p))
}

/// A new session (and its token) for a user at a stage of the login.
pub fn new_session(st: &AppState, user: Uuid, stage: Stage, assignment: Option<Uuid>) -> (String, Session) {
    session_at(user, stage, assignment, st.clock.now(), st.config.session_absolute_hours)
}

/// A new session's token and record as of `now`, lasting `hours` (tools and tests that open a
/// session straight in the store use this too).
pub fn session_at(user: Uuid, stage: Stage, assignment: Option<Uuid>, now: Timestamp, hours: i64) -> (String, Session) {
    let token = random_token();
    let session = Session {
        token_hash: token_hash(&token),
        user_id: user,
        stage,
        assignment_id: assignment,
        csrf_token: random_token(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + SignedDuration::from_hours(hours),
    };
    (token, session)
}

/// Marks a request whose form carried the session's CSRF token, checked before any handler
/// ran (web forms send the token as a field, not a header).
#[derive(Clone)]
pub struct CsrfVerified;

/// Marks that the current request has written its access-log entry; the patient-data
/// routes refuse to answer without it (see `routes::require_access_log`).
#[derive(Clone, Default)]
pub struct AccessMark(pub Arc<AtomicBool>);

impl AccessMark {
    pub fn set(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A session at any stage of the login, found from the cookie; idle and absolute time-outs
/// are enforced here.
pub struct LoginSession {
    pub session: Session,
    pub client_address: String,
    /// Read with the session (one query for every request): the account, and the assignment
    /// the session acts in.
    account: Account,
    assignment: Option<Assignment>,
}

fn expired() -> AppError {
    AppError::unauthorized(
        "session_expired",
        "Din session har gått ut. Logga in igen.",
        "The session has expired; log in again.",
    )
}

fn csrf_ok(parts: &Parts, session: &Session) -> bool {
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    // A web form's token was checked against this session before the handler ran.
    if parts.extensions.get::<CsrfVerified>().is_some() {
        return true;
    }
    let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    sent.is_some_and(|t| same_secret(t, &session.csrf_token))
}

fn csrf_refused() -> AppError {
    AppError::new(
        StatusCode::FORBIDDEN,
        "csrf_failed",
        "Begäran saknar giltig säkerhetstoken. Ladda om sidan och försök igen.",
        "Missing or wrong CSRF token.",
    )
}

impl FromRequestParts<AppState> for LoginSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, AppError> {
        let token = cookie_value(&parts.headers, SESSION_COOKIE)
            .ok_or_else(|| AppError::unauthorized("login_required", "Du behöver logga in.", "Login required."))?;
        let hash = token_hash(&token);
        let (session, account, assignment) = st.store.session_actor(&hash).await?.ok_or_else(expired)?;
        let now = st.clock.now();
        let idle = SignedDuration::from_mins(st.config.session_idle_minutes);
        if now >= session.expires_at || now.duration_since(session.last_seen_at) > idle {
            st.store.delete_session(&hash).await?;
            return Err(expired());
        }
        if !csrf_ok(parts, &session) {
            return Err(csrf_refused());
        }
        // Write the last-seen time at most once a minute: reads stay reads. A page's own
        // live-update refetch is not the user at work and does not keep the session alive.
        let automatic = parts.headers.contains_key(LIVE_HEADER) || parts.uri.path() == EVENTS_PATH;
        if !automatic && now.duration_since(session.last_seen_at) > SignedDuration::from_mins(1) {
            match st.store.touch_session(&hash, now).await {
                // On a full disk the session is not kept alive, but reading goes on.
                Ok(()) | Err(samverka_store::StoreError::DiskFull) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(LoginSession { session, client_address: client_address(parts), account, assignment })
    }
}

/// A logged-in user acting in an assignment.
#[derive(Clone)]
pub struct Caller {
    pub actor: Actor,
    pub assignment_id: Uuid,
    pub session: Session,
    pub client_address: String,
    pub mark: AccessMark,
}

impl Caller {
    pub fn audit(&self) -> Audit {
        Audit {
            actor: self.actor.clone(),
            assignment_id: Some(self.assignment_id),
            client_address: Some(self.client_address.clone()),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, AppError> {
        let login = LoginSession::from_request_parts(parts, st).await?;
        let session = login.session;
        let (Stage::Active, Some(assignment_id)) = (session.stage, session.assignment_id) else {
            return Err(AppError::unauthorized(
                "login_incomplete",
                "Inloggningen är inte klar. Slutför inloggningen och välj uppdrag.",
                "Finish logging in and choose an assignment.",
            ));
        };
        let account = Some(login.account).filter(|a| a.active).ok_or_else(expired)?;
        let assignment = login
            .assignment
            .filter(|a| a.id == assignment_id && a.active && a.user_id == account.id)
            .ok_or_else(|| {
                AppError::unauthorized(
                    "assignment_ended",
                    "Ditt uppdrag är inte längre aktivt. Logga in igen och välj ett annat uppdrag.",
                    "The assignment is no longer active.",
                )
            })?;
        let mark = parts.extensions.get::<AccessMark>().cloned().unwrap_or_default();
        Ok(Caller {
            actor: Actor {
                user: UserRef { id: account.id, name: account.name },
                unit: assignment.unit,
                role: assignment.role,
            },
            assignment_id,
            session,
            client_address: login.client_address,
            mark,
        })
    }
}

/// Seconds from `now` to `t`, at least zero, for cookie lifetimes.
pub fn seconds_until(t: Timestamp, now: Timestamp) -> i64 {
    t.duration_since(now).as_secs().max(0)
}

#[cfg(test)]
mod tests {
    use super::client_ip;

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let proxy = ip("10.0.0.2");
        // Straight from a client: the header is the client's own claim, ignored.
        assert_eq!(client_ip(ip("198.51.100.7"), Some("1.2.3.4"), &[proxy]), ip("198.51.100.7"));
        // Through the proxy: the address the proxy saw.
        assert_eq!(client_ip(proxy, Some("198.51.100.7"), &[proxy]), ip("198.51.100.7"));
        // A client that sends its own header cannot hide behind it: the proxy appends the real one.
        assert_eq!(client_ip(proxy, Some("1.2.3.4, 198.51.100.7"), &[proxy]), ip("198.51.100.7"));
        // Two trusted hops.
        assert_eq!(client_ip(proxy, Some("198.51.100.7, 10.0.0.3"), &[proxy, ip("10.0.0.3")]), ip("198.51.100.7"));
        assert_eq!(client_ip(proxy, None, &[proxy]), proxy);
        // Garbage stops the walk at the last good hop.
        assert_eq!(client_ip(proxy, Some("nonsense"), &[proxy]), proxy);
    }
}
