//! The login pages: password, code (with first-time setup), new password, assignment.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use samverka_store::{Session, Stage};
use serde::Deserialize;
use uuid::Uuid;

use crate::page::{Frame, LOGIN_CSRF_COOKIE, WebLogin, error_text, html, lang_of, see_other, with_cookie};
use samverka_app::AppState;
use samverka_app::auth::login::{
    ClientAddress, assignment_step, code_step, new_password_step, password_step, totp_setup_step,
};
use samverka_app::auth::{clear_cookie, random_token, seconds_until, session_cookie, totp};
use samverka_app::error::AppError;
use samverka_app::texts::texts;

/// Where a login stage continues.
fn page_of(stage: Stage) -> &'static str {
    match stage {
        Stage::ChangePassword => "/logga-in/losenord",
        Stage::TotpSetup | Stage::Totp => "/logga-in/kod",
        Stage::ChooseAssignment => "/logga-in/uppdrag",
        Stage::Active => "/",
    }
}

fn continue_to(st: &AppState, token: &str, session: &Session) -> Response {
    with_cookie(
        see_other(page_of(session.stage)),
        session_cookie(token, seconds_until(session.expires_at, st.clock.now())),
    )
}

pub struct DemoAccount {
    pub username: String,
    pub work: String,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub frame: Frame,
    pub username: String,
    pub providers: Vec<(String, String)>,
    pub demo: Vec<DemoAccount>,
    pub demo_password: &'static str,
    /// What the demo accounts are filtered by (name, role or unit).
    pub filter: String,
    /// Demo accounts in all, before the filter.
    pub demo_total: usize,
}

async fn login_page(
    st: &AppState,
    headers: &HeaderMap,
    username: String,
    error: Option<String>,
    status: StatusCode,
    filter: String,
) -> Response {
    let t = texts(lang_of(headers));
    let mut frame = Frame::bare(t, t.get("login.title"));
    frame.error = error;
    // Double-submit token for the login form (there is no session yet). An existing one is
    // kept, so a login page open in another tab stays valid.
    frame.csrf = samverka_app::auth::cookie_value(headers, LOGIN_CSRF_COOKIE)
        .filter(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(random_token);
    let mut demo = vec![];
    let mut demo_total = 0;
    if st.config.demo_logins {
        // By role (the care roles first), then by unit: the accounts a visitor looks for.
        let mut rows = vec![];
        let accounts = st.store.local_accounts(1000).await.unwrap_or_default();
        let ids: Vec<Uuid> = accounts.iter().map(|a| a.id).collect();
        let mut all = st.store.assignments_of_users(&ids).await.unwrap_or_default();
        for a in accounts {
            let assignments = all.remove(&a.id).unwrap_or_default();
            let order = assignments
                .first()
                .and_then(|x| samverka_domain::access::Role::ALL.iter().position(|r| *r == x.role))
                .unwrap_or(usize::MAX);
            let work = assignments
                .iter()
                .map(|x| format!("{} – {}", t.get(&format!("role.{}", crate::page::role_key(x.role))), x.unit.name))
                .collect::<Vec<_>>()
                .join("; ");
            rows.push((order, DemoAccount { username: a.username.unwrap_or_default(), work }));
        }
        rows.sort_by(|a, b| (a.0, &a.1.work).cmp(&(b.0, &b.1.work)));
        demo_total = rows.len();
        let wanted = filter.trim().to_lowercase();
        demo = rows
            .into_iter()
            .map(|(_, d)| d)
            .filter(|d| wanted.is_empty() || format!("{} {}", d.username, d.work).to_lowercase().contains(&wanted))
            .collect();
    }
    let providers = st.config.oidc.iter().map(|p| (p.id.clone(), p.name.clone())).collect();
    let cookie = HeaderValue::from_str(&format!(
        "{LOGIN_CSRF_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=3600",
        frame.csrf
    ))
    .expect("ASCII token");
    let page = LoginPage {
        frame,
        username,
        providers,
        demo,
        demo_password: samverka_app::config::DEMO_PASSWORD,
        filter,
        demo_total,
    };
    with_cookie(html(status, &page), cookie)
}

pub async fn login_form(
    State(st): State<AppState>,
    headers: HeaderMap,
    login: Option<WebLogin>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    // Half way through a login (after the password, say): on to that step.
    if let Some(w) = login
        && w.login.session.stage != Stage::Active
    {
        return see_other(page_of(w.login.session.stage));
    }
    let filter = q.get("visa").cloned().unwrap_or_default();
    login_page(&st, &headers, String::new(), None, StatusCode::OK, filter).await
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

pub async fn login(
    State(st): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let presented = samverka_app::auth::cookie_value(&headers, samverka_app::auth::SESSION_COOKIE);
    match password_step(&st, &address, &f.username, f.password, presented).await {
        Ok((token, session)) => continue_to(&st, &token, &session),
        Err(e) => {
            let t = texts(lang_of(&headers));
            let status = e.status;
            login_page(&st, &headers, f.username, Some(error_text(t, &e)), status, String::new()).await
        }
    }
}

pub struct Setup {
    pub secret: String,
    pub qr_svg: String,
}

#[derive(Template)]
#[template(path = "login_code.html")]
pub struct CodePage {
    pub frame: Frame,
    pub setup: Option<Setup>,
    /// On a demo server: the account's code right now, filled in (a demo user has no app).
    pub demo_code: String,
}

/// An `otpauth://` address as an SVG QR code (drawn from the qrcodegen matrix).
fn qr_svg(text: &str, title: &str) -> String {
    let Ok(qr) = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium) else { return String::new() };
    let size = qr.size();
    let border = 4;
    let dim = size + 2 * border;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    let title = title.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;");
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {dim} {dim}" width="200" height="200" role="img" aria-label="{title}"><rect width="100%" height="100%" fill="#fff"/><path d="{path}" fill="#000"/></svg>"##
    )
}

async fn code_page(st: &AppState, w: &WebLogin, error: Option<String>, status: StatusCode) -> Response {
    let t = w.t;
    let mut frame = Frame::bare(t, t.get("code.title"));
    frame.csrf = w.login.session.csrf_token.clone();
    frame.error = error;
    let setup = if w.login.session.stage == Stage::TotpSetup {
        match totp_setup_step(st, &w.login).await {
            Ok(s) => Some(Setup { qr_svg: qr_svg(&s.url, t.get("code.qr_label")), secret: s.secret }),
            Err(e) => return crate::page::error_page(t, e.status, error_text(t, &e)),
        }
    } else {
        None
    };
    let mut demo_code = String::new();
    if st.config.demo_logins
        && w.login.session.stage == Stage::Totp
        && let Ok(Some(account)) = st.store.account(w.login.session.user_id).await
    {
        let now = st.clock.now();
        demo_code = account.totp_secret.as_deref().and_then(|s| totp::current_code(s, now)).unwrap_or_default();
    }
    html(status, &CodePage { frame, setup, demo_code })
}

pub async fn code_form(State(st): State<AppState>, w: WebLogin) -> Response {
    match w.login.session.stage {
        Stage::Totp | Stage::TotpSetup => code_page(&st, &w, None, StatusCode::OK).await,
        other => see_other(page_of(other)),
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
}

pub async fn code(State(st): State<AppState>, w: WebLogin, Form(f): Form<CodeForm>) -> Response {
    match code_step(&st, &w.login, &f.code).await {
        Ok((token, session)) => continue_to(&st, &token, &session),
        Err(e) if e.code == "no_assignment" || e.code == "account_locked_here" => {
            crate::page::error_page(w.t, e.status, error_text(w.t, &e))
        }
        Err(e) => code_page(&st, &w, Some(error_text(w.t, &e)), e.status).await,
    }
}

#[derive(Template)]
#[template(path = "login_password.html")]
pub struct PasswordPage {
    pub frame: Frame,
}

fn password_page(w: &WebLogin, error: Option<String>, status: StatusCode) -> Response {
    let mut frame = Frame::bare(w.t, w.t.get("password.title"));
    frame.csrf = w.login.session.csrf_token.clone();
    frame.error = error;
    html(status, &PasswordPage { frame })
}

pub async fn password_form(w: WebLogin) -> Response {
    match w.login.session.stage {
        Stage::ChangePassword => password_page(&w, None, StatusCode::OK),
        other => see_other(page_of(other)),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    new_password: String,
}

pub async fn change_password(State(st): State<AppState>, w: WebLogin, Form(f): Form<PasswordForm>) -> Response {
    match new_password_step(&st, &w.login, f.new_password).await {
        Ok((token, session)) => continue_to(&st, &token, &session),
        Err(e) => password_page(&w, Some(error_text(w.t, &e)), e.status),
    }
}

#[derive(Template)]
#[template(path = "login_assignment.html")]
pub struct AssignmentPage {
    pub frame: Frame,
    pub assignments: Vec<(Uuid, String)>,
}

async fn assignment_page(st: &AppState, w: &WebLogin, error: Option<String>, status: StatusCode) -> Response {
    let t = w.t;
    let mut frame = Frame::bare(t, t.get("assignment.title"));
    frame.csrf = w.login.session.csrf_token.clone();
    frame.error = error;
    let assignments = st
        .store
        .assignments_of(w.login.session.user_id)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a.active)
        .map(|a| (a.id, format!("{} – {}", t.get(&format!("role.{}", crate::page::role_key(a.role))), a.unit.name)))
        .collect();
    html(status, &AssignmentPage { frame, assignments })
}

pub async fn assignment_form(State(st): State<AppState>, w: WebLogin) -> Response {
    match w.login.session.stage {
        Stage::ChooseAssignment | Stage::Active => assignment_page(&st, &w, None, StatusCode::OK).await,
        other => see_other(page_of(other)),
    }
}

#[derive(Deserialize)]
pub struct AssignmentForm {
    assignment_id: Uuid,
}

pub async fn choose_assignment(State(st): State<AppState>, w: WebLogin, Form(f): Form<AssignmentForm>) -> Response {
    match assignment_step(&st, &w.login, f.assignment_id).await {
        Ok((token, session)) => continue_to(&st, &token, &session),
        Err(e) => assignment_page(&st, &w, Some(error_text(w.t, &e)), e.status).await,
    }
}

pub async fn logout(State(st): State<AppState>, w: WebLogin) -> Response {
    if let Err(e) = st.store.delete_session(&w.login.session.token_hash).await {
        let e = AppError::from(e);
        return crate::page::error_page(w.t, e.status, error_text(w.t, &e));
    }
    with_cookie(see_other("/logga-in"), clear_cookie())
}
