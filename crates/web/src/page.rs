//! What every page shares: the frame around it (menu, language, user), the caller as a page
//! sees it, rendering, redirects and the error page.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use samverka_app::AppState;
use samverka_app::auth::{Caller, LIVE_HEADER, LoginSession};
use samverka_app::error::AppError;
use samverka_app::texts::{Texts, texts};
use samverka_domain::deadlines::countdown_sv;

pub use samverka_app::texts::{LANG_COOKIE, lang_of};
/// Double-submit cookie protecting the login form, before there is a session.
pub const LOGIN_CSRF_COOKIE: &str = "__Host-samverka-login";

/// What every page's frame needs: language, title, who is logged in, the CSRF token for its
/// forms, and what the live updates watch.
pub struct Frame {
    pub t: &'static Texts,
    pub title: String,
    pub unread: i64,
    /// Directives in force sent to the caller and not yet read.
    pub unread_directives: i64,
    /// The caller's unit has not confirmed its directory entry for long: its id and name.
    pub stale_unit: Option<(String, String)>,
    /// A demo server: the footer offers to move the clock forward.
    pub demo_clock: bool,
    pub user: Option<UserBar>,
    pub csrf: String,
    /// `inbox`, a case id, or empty: which changes refresh this page.
    pub live: String,
    pub error: Option<String>,
    pub notice: Option<String>,
}

pub struct UserBar {
    pub name: String,
    pub role: String,
    pub unit: String,
    pub reviewer: bool,
    /// Sees the follow-up figures.
    pub followup: bool,
    /// Sees invoice bases.
    pub liability: bool,
    pub admin: bool,
    pub clinical: bool,
    /// Registers admissions: a ward's staff.
    pub ward: bool,
    /// Starts coordinations at home: staff outside hospital who work with SIPs.
    pub home: bool,
    /// Takes part in forums.
    pub forums: bool,
}

impl Frame {
    pub fn bare(t: &'static Texts, title: &str) -> Self {
        Frame {
            t,
            title: title.to_string(),
            unread: 0,
            unread_directives: 0,
            stale_unit: None,
            demo_clock: false,
            user: None,
            csrf: String::new(),
            live: String::new(),
            error: None,
            notice: None,
        }
    }
}

/// A page's error as text in the page's language.
pub fn error_text(t: &Texts, e: &AppError) -> String {
    if t.lang == "en" { e.en.clone() } else { e.sv.clone() }
}

/// Renders a template as an HTML response.
pub fn html<T: askama::Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(body) => (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Sidan kunde inte visas.").into_response()
        }
    }
}

/// A logged-in user on a page: the API's `Caller` plus the page frame. Without a session the
/// browser is sent to the login.
pub struct WebCaller {
    pub caller: Caller,
    pub frame: Frame,
    /// Fetched by the page's live-update script, not by the user acting: nothing is marked
    /// opened on such a request.
    pub live_refresh: bool,
    /// Fetched ahead by the browser (prefetch or prerender): nobody has looked yet.
    pub prefetch: bool,
}

pub enum WebReject {
    Login,
    Page(Response),
}

impl IntoResponse for WebReject {
    fn into_response(self) -> Response {
        match self {
            WebReject::Login => Redirect::to("/logga-in").into_response(),
            WebReject::Page(r) => r,
        }
    }
}

#[derive(askama::Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub frame: Frame,
    pub message: String,
}

pub fn error_page(t: &'static Texts, status: StatusCode, message: String) -> Response {
    let frame = Frame::bare(t, t.get("error.title"));
    let mut res = html(status, &ErrorPage { frame, message: message.clone() });
    // The page is drawn again with the signed-in user's menu by `page_errors`.
    res.extensions_mut().insert(PageError(message));
    res
}

/// Marks an error page drawn without knowing who asked, with its message.
#[derive(Clone)]
struct PageError(String);

/// Whether a request is a browser asking for one of the pages (not the JSON API, FHIR, the
/// login's JSON, static files or calendar feeds).
fn wants_page(req: &axum::extract::Request) -> bool {
    let path = req.uri().path();
    let page_path =
        !["/api/", "/fhir", "/auth/", "/static/", "/kalender/", "/handelser"].iter().any(|p| path.starts_with(p));
    page_path
        && req.headers().get(header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("text/html"))
}

/// Every error a browser meets on a page is a page in its language with the menu and a way
/// on: a problem (a malformed address, a method the address does not take, a refusal answered
/// as problem+json) becomes an error page, and an error page drawn without knowing who asked
/// is drawn again with the signed-in user's menu. Other answers pass untouched.
pub async fn page_errors(
    axum::extract::State(st): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !wants_page(&req) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let mut asked = parts.clone();
    let res = next.run(axum::extract::Request::from_parts(parts, body)).await;
    let status = res.status();
    // 503s carry their own page and Retry-After (the breaker and admission control).
    if !(status.is_client_error() || status.is_server_error()) || status == StatusCode::SERVICE_UNAVAILABLE {
        return res;
    }
    let t = texts(lang_of(&asked.headers));
    let message = if let Some(PageError(m)) = res.extensions().get::<PageError>() {
        m.clone()
    } else {
        let is_problem = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|c| c.to_str().ok())
            .is_some_and(|c| c.starts_with("application/problem+json") || c.starts_with("text/plain"));
        if !is_problem {
            return res;
        }
        let bytes = axum::body::to_bytes(res.into_body(), 64 * 1024).await.unwrap_or_default();
        let problem: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let key = if t.lang == "en" { "detail_en" } else { "detail" };
        match problem[key].as_str() {
            Some(m) => m.to_string(),
            None => t.get("error.generic").to_string(),
        }
    };
    let mut frame = match WebCaller::from_request_parts(&mut asked, &st).await {
        Ok(w) => w.frame,
        Err(_) => Frame::bare(t, ""),
    };
    frame.title = t.get("error.title").to_string();
    html(status, &ErrorPage { frame, message })
}

impl FromRequestParts<AppState> for WebCaller {
    type Rejection = WebReject;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, WebReject> {
        let t = texts(lang_of(&parts.headers));
        let caller = match Caller::from_request_parts(parts, st).await {
            Ok(c) => c,
            Err(e) if e.status == StatusCode::UNAUTHORIZED => return Err(WebReject::Login),
            Err(e) => return Err(WebReject::Page(error_page(t, e.status, error_text(t, &e)))),
        };
        let role = caller.actor.role;
        use samverka_domain::access::{Permission, permits};
        // The unit's leaders are reminded on every page until its entry is confirmed again.
        let u = &caller.actor.unit;
        let stale_unit =
            if samverka_domain::directory::may_maintain(role, u.id, u.organisation_id, u.id, u.organisation_id)
                && role != samverka_domain::access::Role::Administrator
            {
                let confirmed = st.store.contacts_confirmed_at(u.id).await.ok().flatten();
                samverka_domain::directory::is_stale(confirmed, st.clock.now())
                    .then(|| (u.id.to_string(), u.name.clone()))
            } else {
                None
            };
        // The unread count tells of patients' messages: only for roles that read patient data.
        let unit = permits(role, Permission::ReadPatientData).then_some(caller.actor.unit.id);
        let user = permits(role, Permission::TakePartInForums).then_some(caller.actor.user.id);
        let today = samverka_domain::calendar::local_date(st.clock.now());
        let (unread, unread_directives) = st.store.header_counts(unit, user, today).await.unwrap_or((0, 0));
        let frame = Frame {
            t,
            title: String::new(),
            unread,
            unread_directives,
            stale_unit,
            demo_clock: st.demo_clock.is_some(),
            user: Some(UserBar {
                name: caller.actor.user.name.clone(),
                role: t.get(&format!("role.{}", role_key(role))).to_string(),
                unit: caller.actor.unit.name.clone(),
                reviewer: permits(role, Permission::ReviewAccessLog),
                followup: permits(role, Permission::ReadFollowUp),
                liability: permits(role, Permission::ReadLiability),
                admin: permits(role, Permission::Administer),
                clinical: permits(role, Permission::ReadPatientData),
                ward: caller.actor.unit.kind == samverka_domain::org::UnitKind::Ward
                    && permits(role, Permission::RegisterAdmission),
                home: caller.actor.unit.kind != samverka_domain::org::UnitKind::Ward
                    && permits(role, Permission::WorkWithSip),
                forums: permits(role, Permission::TakePartInForums),
            }),
            csrf: caller.session.csrf_token.clone(),
            live: String::new(),
            error: None,
            notice: None,
        };
        let live_refresh = parts.headers.contains_key(LIVE_HEADER);
        let prefetch = ["sec-purpose", "purpose"]
            .iter()
            .any(|h| parts.headers.get(*h).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("prefetch")));
        Ok(WebCaller { caller, frame, live_refresh, prefetch })
    }
}

/// The snake_case name of a role, as the texts are keyed.
pub fn role_key(role: samverka_domain::access::Role) -> String {
    match serde_json::to_value(role) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "unknown".into(),
    }
}

/// A login-stage session on a page; without one the browser goes to the login.
pub struct WebLogin {
    pub login: LoginSession,
    pub t: &'static Texts,
}

impl axum::extract::OptionalFromRequestParts<AppState> for WebLogin {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Option<Self>, Self::Rejection> {
        Ok(<WebLogin as FromRequestParts<AppState>>::from_request_parts(parts, st).await.ok())
    }
}

impl FromRequestParts<AppState> for WebLogin {
    type Rejection = WebReject;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, WebReject> {
        let t = texts(lang_of(&parts.headers));
        match LoginSession::from_request_parts(parts, st).await {
            Ok(login) => Ok(WebLogin { login, t }),
            Err(_) => Err(WebReject::Login),
        }
    }
}

/// Sets a response header value, for cookies.
pub fn with_cookie(mut res: Response, cookie: HeaderValue) -> Response {
    res.headers_mut().append(header::SET_COOKIE, cookie);
    res
}

/// A redirect after a successful form (post/redirect/get), to a place on the page.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// "19380407-9828" from the stored 12 digits; reservnummer as they are.
pub fn show_identifier(stored: &str) -> String {
    if stored.len() == 12 && stored.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}", &stored[..8], &stored[8..])
    } else {
        stored.to_string()
    }
}

/// "om 3 timmar" in Swedish; in English a plain form of the same.
pub fn countdown(t: &Texts, due: jiff::Timestamp, now: jiff::Timestamp) -> String {
    if t.lang == "sv" {
        return countdown_sv(due, now);
    }
    let secs = due.as_second() - now.as_second();
    let abs = secs.unsigned_abs();
    let amount = if abs < 3600 {
        format!("{} min", (abs / 60).max(1))
    } else if abs < 48 * 3600 {
        format!("{} h", abs / 3600)
    } else {
        format!("{} days", abs / 86400)
    };
    if secs > 0 { format!("in {amount}") } else { format!("{amount} overdue") }
}
