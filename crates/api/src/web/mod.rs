//! The web application: server-rendered pages in Swedish (English selectable) over the same
//! rules, access checks and access log as the JSON API. Every page is complete in one
//! request; a small script of our own (`static/samverka.js`) adds live updates when the
//! browser runs it, and every form works without it.

mod admin;
mod case;
mod charts;
mod directives;
mod feed;
mod followup;
mod forums;
mod inbox;
mod invoice;
mod login;
mod misc;
mod oidc;
mod sip;
mod units;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use samverka_app::AppState;
use samverka_app::auth::{Caller, EVENTS_PATH, LIVE_HEADER, LoginSession, same_secret, token_hash};
use samverka_app::error::AppError;
use samverka_app::texts::{Lang, Texts, texts};

/// The language cookie (not a secret: readable, long-lived).
pub(crate) const LANG_COOKIE: &str = "samverka-lang";
/// Double-submit cookie protecting the login form, before there is a session.
pub(crate) const LOGIN_CSRF_COOKIE: &str = "__Host-samverka-login";

pub fn lang_of(headers: &HeaderMap) -> Lang {
    match samverka_app::auth::cookie_value(headers, LANG_COOKIE).as_deref() {
        Some("en") => Lang::En,
        _ => Lang::Sv,
    }
}

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

/// Checks the `csrf_token` field of every form posted to the web pages against the session
/// (or, on the login form, against its double-submit cookie) before any handler runs, so no
/// form handler can forget it.
async fn form_csrf(axum::extract::State(st): axum::extract::State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let t = texts(lang_of(req.headers()));
    let refuse = || error_page(t, StatusCode::FORBIDDEN, t.get("error.csrf").to_string());
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, samverka_app::config::MAX_BODY_BYTES).await else {
        return error_page(t, StatusCode::PAYLOAD_TOO_LARGE, t.get("error.too_large").to_string());
    };
    let sent: Option<String> = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "csrf_token").map(|(_, v)| v));
    let Some(sent) = sent else { return refuse() };
    let expected = if parts.uri.path() == "/logga-in" {
        samverka_app::auth::cookie_value(&parts.headers, LOGIN_CSRF_COOKIE)
    } else {
        match samverka_app::auth::cookie_value(&parts.headers, samverka_app::auth::SESSION_COOKIE) {
            Some(token) => st.store.session(&token_hash(&token)).await.ok().flatten().map(|s| s.csrf_token),
            None => None,
        }
    };
    match expected {
        Some(e) if same_secret(&sent, &e) => {
            let mut req = Request::from_parts(parts, Body::from(bytes));
            req.extensions_mut().insert(samverka_app::auth::CsrfVerified);
            next.run(req).await
        }
        // No live session behind the cookie (timed out, logged out): to the login, not a
        // misleading "security code" error.
        None if parts.uri.path() != "/logga-in" => Redirect::to("/logga-in").into_response(),
        _ => refuse(),
    }
}

/// Patient-data pages, under the same fail-closed access-log rule as the API.
fn patient_pages() -> Router<AppState> {
    Router::new()
        .route("/", get(inbox::inbox))
        .route("/arenden", get(inbox::cases))
        .route("/arenden/ny", get(case::new_admission_form).post(case::new_admission))
        .route("/arenden/{id}", get(case::page))
        .route("/arenden/{id}/meddelande", post(case::send_message))
        .route("/arenden/{id}/meddelande/{message_id}", get(case::message_page))
        .route("/arenden/{id}/kvittera", post(case::acknowledge))
        .route("/arenden/{id}/felskickat/{message_id}", post(case::mis_sent))
        .route("/arenden/{id}/vidarebefordra/{message_id}", post(case::forward))
        .route("/arenden/{id}/samtycke", post(case::record_consent))
        .route("/arenden/{id}/samtycke/{consent_id}/aterkalla", post(case::withdraw_consent))
        .route("/arenden/{id}/bjud-in", get(case::invite_form).post(case::invite))
        .route("/arenden/{id}/flytt", post(case::transfer))
        .route("/arenden/{id}/utskrivning", post(case::discharge))
        .route("/arenden/{id}/angra-utskrivning", post(case::cancel_discharge))
        .route("/arenden/{id}/bekrafta-behov", post(case::confirm_needs))
        .route("/arenden/{id}/avsluta-utkast", post(case::dismiss))
        .route("/arenden/{id}/avsluta", post(case::close))
        .route("/arenden/{id}/nodatkomst", post(case::emergency))
        .route("/arenden/{id}/sip", get(sip::editor).post(sip::save))
        .route("/arenden/{id}/sip/utskrift", get(sip::print))
        .route("/arenden/{id}/sip/uppfoljning", post(sip::follow_up))
        .route("/sok", get(misc::search_form).post(misc::search_post))
        .route("/sok/nodatkomst", post(misc::emergency_search))
        .route("/logg", get(misc::log_review).post(misc::log_review_post))
        .route("/uppfoljning", get(followup::page))
        .route("/betalningsansvar", get(invoice::page))
        .route("/betalningsansvar/godkann", post(invoice::approve))
        .route("/logg/utdrag", post(misc::log_extract))
        .route("/admin/hl7", get(feed::list))
        .route("/admin/hl7/{id}", get(feed::message))
        .route("/admin/hl7/{id}/behandla", post(feed::replay))
        .route_layer(axum::middleware::from_fn(samverka_app::audit::require_access_log))
}

/// Forums, meetings, action items and directives: not patient data, but under the same fail-closed
/// access-log rule (every read and write of them is logged with the object's id).
fn forum_pages() -> Router<AppState> {
    Router::new()
        .route("/forum", get(forums::list).post(forums::create))
        .route("/forum/{id}", get(forums::page))
        .route("/forum/{id}/schema", post(forums::schedule))
        .route("/forum/{id}/medlemmar", post(forums::add_member))
        .route("/forum/{id}/medlemmar/ta-bort", post(forums::remove_member))
        .route("/forum/{id}/punkter", post(forums::raise_item))
        .route("/forum/{id}/moten", post(forums::plan_meeting))
        .route("/forum/{id}/kalender", post(forums::new_calendar))
        .route("/moten/{id}", get(forums::meeting))
        .route("/moten/{id}/kalender.ics", get(forums::meeting_ics))
        .route("/moten/{id}/minnesanteckningar", get(forums::minutes_document))
        .route("/moten/{id}/dagordning", post(forums::agenda))
        .route("/moten/{id}/anteckningar", post(forums::minutes))
        .route("/moten/{id}/narvaro", post(forums::attendance))
        .route("/moten/{id}/atgarder", post(forums::add_action))
        .route("/moten/{id}/faststall", post(forums::approve))
        .route("/moten/{id}/stall-in", post(forums::cancel))
        .route("/atgarder/{id}/status", post(forums::action_status))
        .route("/direktiv", get(directives::list).post(directives::register))
        .route("/direktiv/{id}", get(directives::page))
        .route("/direktiv/{id}/last", post(directives::confirm_read))
        .route("/direktiv/{id}/beslut", post(directives::decide))
        .route("/direktiv/{id}/aterkalla", post(directives::withdraw))
        .route("/eskaleringar", get(units::escalations))
        .route("/enheter/{id}/kontakter", post(units::contacts))
        .route("/enheter/{id}/bekrafta", post(units::confirm))
        .route("/enheter/{id}/eskalering", post(units::escalation_rule))
        .route_layer(axum::middleware::from_fn(samverka_app::audit::require_access_log))
}

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(patient_pages())
        .merge(forum_pages())
        .route("/kalender/{file}", get(forums::calendar_feed))
        .route("/logga-in", get(login::login_form).post(login::login))
        .route("/logga-in/losenord", get(login::password_form).post(login::change_password))
        .route("/logga-in/kod", get(login::code_form).post(login::code))
        .route("/logga-in/uppdrag", get(login::assignment_form).post(login::choose_assignment))
        .route("/logga-ut", post(login::logout))
        .route("/enheter", get(misc::directory))
        .route("/enheter/{id}", get(units::page))
        .route("/demo/klocka", post(misc::demo_clock))
        .route("/ordlista", get(misc::glossary))
        .route("/tillganglighet", get(misc::accessibility))
        .route("/sprak/{lang}", get(misc::language))
        .route(EVENTS_PATH, get(misc::events))
        .route("/auth/oidc/{id}/start", get(oidc::start))
        .route("/auth/oidc/{id}/callback", get(oidc::callback))
        .route("/static/samverka.js", get(misc::script))
        .route("/static/samverka.css", get(misc::stylesheet))
        .route("/admin", get(admin::page))
        .route("/admin/anvandare", post(admin::create_user))
        .route("/admin/anvandare/{id}", get(admin::user))
        .route("/admin/anvandare/{id}/uppdrag", post(admin::add_assignment))
        .route("/admin/anvandare/{id}/losenord", post(admin::reset_password))
        .route("/admin/anvandare/{id}/tvafaktor", post(admin::reset_totp))
        .route("/admin/anvandare/{id}/las-upp", post(admin::unlock))
        .route("/admin/anvandare/{id}/inaktivera", post(admin::deactivate))
        .route("/admin/uppdrag/{id}/avsluta", post(admin::end_assignment))
        .route("/admin/enheter", post(admin::create_unit))
        .route("/admin/enheter/{id}", get(admin::unit))
        .route("/admin/enheter/{id}/adress", post(admin::update_address))
        .layer(axum::middleware::from_fn_with_state(state, form_csrf))
        // Logins under way with an identity provider (see `oidc`).
        .layer(axum::Extension(std::sync::Arc::new(oidc::OidcState::default())))
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

#[cfg(test)]
mod tests {
    use samverka_app::texts::{Lang, texts};

    #[test]
    fn every_key_the_templates_and_code_use_exists() {
        let dirs = [
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/src/web"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/../app/src"),
        ];
        let re = regex::Regex::new(r#"\b(?:t|texts|tr)\.(?:get|fill)\("([a-z0-9_.]+)""#).unwrap();
        let keys: std::collections::BTreeSet<_> = texts(Lang::Sv).keys().collect();
        let mut used = 0;
        for dir in dirs {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                let Ok(text) = std::fs::read_to_string(&path) else { continue };
                for cap in re.captures_iter(&text) {
                    used += 1;
                    assert!(keys.contains(&cap[1].to_string()), "{}: no text for key {}", path.display(), &cap[1]);
                }
            }
        }
        assert!(used > 100, "found only {used} uses");
    }
}
