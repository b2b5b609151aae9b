//! Search by number, log review for MAS, the unit directory, the glossary, the accessibility
//! statement, the language choice, and the live-update stream.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use samverka_domain::calendar::local_date;
use serde::Deserialize;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::{BroadcastStream, IntervalStream};

use super::case::show_identifier;
use super::{Frame, LANG_COOKIE, WebCaller, error_page, error_text, html, lang_of, see_other};
use samverka_app::AppState;
use samverka_app::access_log::{ExtractQuery, ReviewQuery, action_sv};
use samverka_app::patients::SearchQuery;
use samverka_app::texts::{Lang, texts};
use samverka_app::views::PatientView;

// ---- search ------------------------------------------------------------------------------------

pub struct FoundCase {
    pub id: String,
    pub phase: String,
    pub admitted: String,
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub frame: Frame,
    pub number: String,
    pub searched: bool,
    pub patient: Option<PatientView>,
    pub cases: Vec<FoundCase>,
    pub nobody: String,
    /// The role may open a case outside need-to-know with a stated reason (nödåtkomst).
    pub may_emergency: bool,
}

#[derive(Deserialize)]
pub struct SearchForm {
    nummer: Option<String>,
}

/// The search form. The number is posted, never put in an address, so it stays out of the
/// browser's history and of proxies' and servers' logs.
pub async fn search_form(State(st): State<AppState>, w: WebCaller) -> Response {
    search(st, w, SearchForm { nummer: None }).await
}

pub async fn search_post(
    State(st): State<AppState>,
    w: WebCaller,
    axum::extract::Form(f): axum::extract::Form<SearchForm>,
) -> Response {
    search(st, w, f).await
}

async fn search(st: AppState, w: WebCaller, q: SearchForm) -> Response {
    let WebCaller { caller, mut frame, .. } = w;
    let t = frame.t;
    frame.title = t.get("search.title").to_string();
    let number = q.nummer.unwrap_or_default().trim().to_string();
    let may_emergency =
        samverka_domain::access::permits(caller.actor.role, samverka_domain::access::Permission::EmergencyAccess);
    let mut page = SearchPage {
        frame,
        number: number.clone(),
        searched: false,
        patient: None,
        cases: vec![],
        nobody: String::new(),
        may_emergency,
    };
    if number.is_empty() {
        // An empty form reads no patient data, but the page is still a patient-data page.
        let permission = samverka_domain::access::Permission::ReadPatientData;
        if let Err(e) = samverka_app::audit::require(&st, &caller, permission, "patient.search_form", None, None).await
        {
            return error_page(t, e.status, error_text(t, &e));
        }
        if let Err(e) =
            samverka_app::audit::log_read(&st, &caller, "patient.search_form", None, None, None, false).await
        {
            return error_page(t, e.status, error_text(t, &e));
        }
        return html(StatusCode::OK, &page);
    }
    page.searched = true;
    let unit = caller.actor.unit.id;
    let result = samverka_app::patients::search(&st, &caller, SearchQuery { identifier: number }).await;
    match result {
        Ok(found) => match found.patients.into_iter().next() {
            Some(p) => {
                let cases = st.store.cases_of_patient_for_unit(p.id, unit).await.unwrap_or_default();
                page.cases = cases
                    .into_iter()
                    .map(|c| FoundCase {
                        id: c.case_id.to_string(),
                        phase: t.get(&format!("phase.{}", c.phase.as_str())).to_string(),
                        admitted: t.date(&local_date(c.admitted_at)),
                    })
                    .collect();
                page.patient = Some(p);
            }
            None => page.nobody = t.get("search.nobody").to_string(),
        },
        Err(e) => {
            page.frame.error = Some(error_text(t, &e));
            return html(e.status, &page);
        }
    }
    html(StatusCode::OK, &page)
}

/// Nödåtkomst from the search: with a stated reason, the patient's current case opens even
/// where the unit takes no part. Role and reason are checked before anyone is looked up, and
/// every refusal after the lookup is the same "nobody" as any search: the form never tells
/// whether a number belongs to someone.
pub async fn emergency_search(
    State(st): State<AppState>,
    w: WebCaller,
    axum::extract::Form(f): axum::extract::Form<super::case::Pairs>,
) -> Response {
    use samverka_domain::access::{Permission, permits};
    let WebCaller { caller, mut frame, .. } = w;
    let t = frame.t;
    frame.title = t.get("search.title").to_string();
    let number = super::case::field(&f, "nummer").trim().to_string();
    let reason = super::case::field(&f, "reason").trim().to_string();
    let action = "patient.emergency_search";
    let may_emergency = permits(caller.actor.role, Permission::EmergencyAccess);
    let page = |mut frame: Frame, status: StatusCode, error: Option<String>, nobody: String| {
        frame.error = error;
        let page = SearchPage {
            frame,
            number: number.clone(),
            searched: true,
            patient: None,
            cases: vec![],
            nobody,
            may_emergency,
        };
        html(status, &page)
    };
    if let Err(e) = samverka_app::audit::require(&st, &caller, Permission::EmergencyAccess, action, None, None).await {
        return page(frame, e.status, Some(error_text(t, &e)), String::new());
    }
    if let Err(p) = samverka_app::cases::emergency_reason(&reason) {
        let e = samverka_app::audit::refuse(&st, &caller, action, None, None, p).await;
        return page(frame, e.status, Some(error_text(t, &e)), String::new());
    }
    let rule = match samverka_app::patients::reserv_rule(&st, &caller.actor).await {
        Ok(r) => r,
        Err(e) => return page(frame, e.status, Some(error_text(t, &e)), String::new()),
    };
    let identifier =
        match samverka_domain::ids::PatientIdentifier::parse(&number, local_date(st.clock.now()), rule.as_ref()) {
            Ok(i) => i,
            Err(e) => {
                let e = samverka_app::audit::refuse(&st, &caller, action, None, None, e.problem("nummer")).await;
                return page(frame, e.status, Some(error_text(t, &e)), String::new());
            }
        };
    let nobody = t.get("search.nobody").to_string();
    let patient = st.store.patient_by_identifier(&identifier).await.ok().flatten();
    let cases = match &patient {
        Some(p) => st.store.cases_for_patient(p.id).await.unwrap_or_default(),
        None => vec![],
    };
    let case = cases.iter().find(|c| c.phase.is_open()).or(cases.first()).map(|c| c.case_id);
    let Some(case) = case else {
        let problem = samverka_domain::Problem::not_found("nobody", nobody.clone(), "Nobody.");
        let _ = samverka_app::audit::refuse(&st, &caller, action, patient.map(|p| p.id), None, problem).await;
        return page(frame, StatusCode::OK, None, nobody);
    };
    match samverka_app::cases::grant_emergency(&st, &caller, case, samverka_app::cases::EmergencyRequest { reason })
        .await
    {
        Ok(_) => see_other(&format!("/arenden/{case}")),
        // Role and reason were checked above; anything else is answered as for anybody.
        Err(_) => page(frame, StatusCode::OK, None, nobody),
    }
}

// ---- log review --------------------------------------------------------------------------------

pub struct LogRow {
    pub at: String,
    pub at_iso: String,
    pub user: String,
    pub role: String,
    pub unit: String,
    pub patient: String,
    pub action: String,
    pub outcome: String,
    pub outcome_class: &'static str,
    pub emergency: bool,
    pub reason: String,
    pub protected: bool,
}

#[derive(Template)]
#[template(path = "log.html")]
pub struct LogPage {
    pub frame: Frame,
    pub patient: String,
    pub from: String,
    pub to: String,
    pub emergency: bool,
    pub protected: bool,
    pub rows: Vec<LogRow>,
    pub truncated: bool,
}

#[derive(Deserialize, Default)]
pub struct LogForm {
    patient: Option<String>,
    from: Option<String>,
    to: Option<String>,
    emergency: Option<String>,
    protected: Option<String>,
}

fn some_text(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// The log review; filters by patient are posted (the number stays out of addresses).
pub async fn log_review(State(st): State<AppState>, w: WebCaller, Query(q): Query<LogForm>) -> Response {
    review(st, w, q).await
}

pub async fn log_review_post(
    State(st): State<AppState>,
    w: WebCaller,
    axum::extract::Form(q): axum::extract::Form<LogForm>,
) -> Response {
    review(st, w, q).await
}

async fn review(st: AppState, w: WebCaller, q: LogForm) -> Response {
    let WebCaller { caller, mut frame, .. } = w;
    let t = frame.t;
    frame.title = t.get("log.title").to_string();
    let query = ReviewQuery {
        patient: some_text(&q.patient),
        user: None,
        unit: None,
        from: some_text(&q.from),
        to: some_text(&q.to),
        emergency: q.emergency.is_some(),
        protected: q.protected.is_some(),
        limit: Some(300),
    };
    let mut page = LogPage {
        frame,
        patient: q.patient.clone().unwrap_or_default(),
        from: q.from.clone().unwrap_or_default(),
        to: q.to.clone().unwrap_or_default(),
        emergency: query.emergency,
        protected: query.protected,
        rows: vec![],
        truncated: false,
    };
    match samverka_app::access_log::review(&st, &caller, query).await {
        Ok(review) => {
            let ids: Vec<uuid::Uuid> = review.entries.iter().filter_map(|e| e.patient_id).collect();
            let patients = st.store.patient_labels(&ids).await.unwrap_or_default();
            page.truncated = review.truncated;
            page.rows = review
                .entries
                .into_iter()
                .map(|e| {
                    let (outcome, outcome_class) = match e.outcome {
                        samverka_store::Outcome::Allowed => (t.get("log.allowed"), "met"),
                        samverka_store::Outcome::Denied => (t.get("log.denied"), "overdue"),
                        samverka_store::Outcome::Refused => (t.get("log.refused"), "today"),
                    };
                    LogRow {
                        at: t.datetime(&e.at),
                        at_iso: t.iso(&e.at),
                        user: e.user_name,
                        role: e
                            .role
                            .map(|r| t.get(&format!("role.{}", super::role_key(r))).to_string())
                            .unwrap_or_default(),
                        unit: e.unit_name,
                        patient: e
                            .patient_id
                            .and_then(|p| patients.get(&p))
                            .map(|(identifier, name)| format!("{name} {}", show_identifier(identifier)))
                            .unwrap_or_default(),
                        action: if t.lang == "sv" { action_sv(&e.action).to_string() } else { e.action.clone() },
                        outcome: outcome.to_string(),
                        outcome_class,
                        emergency: e.emergency,
                        reason: e.reason.unwrap_or_default(),
                        protected: e.protected_identity,
                    }
                })
                .collect();
            html(StatusCode::OK, &page)
        }
        Err(e) => {
            let status = e.status;
            page.frame.error = Some(error_text(t, &e));
            html(status, &page)
        }
    }
}

pub struct ExtractRow {
    pub at: String,
    pub unit: String,
    pub user: String,
    pub role: String,
    pub what: String,
    pub emergency: bool,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "log_extract.html")]
pub struct ExtractPage {
    pub frame: Frame,
    pub patient_name: String,
    pub patient_identifier: String,
    pub organisation: String,
    pub generated: String,
    pub rows: Vec<ExtractRow>,
}

pub async fn log_extract(
    State(st): State<AppState>,
    w: WebCaller,
    axum::extract::Form(q): axum::extract::Form<LogForm>,
) -> Response {
    let WebCaller { caller, mut frame, .. } = w;
    let t = frame.t;
    frame.title = t.get("extract.title").to_string();
    let patient = some_text(&q.patient).unwrap_or_default();
    match samverka_app::access_log::extract(&st, &caller, ExtractQuery { patient }).await {
        Ok(x) => {
            let rows = x
                .lines
                .into_iter()
                .map(|l| ExtractRow {
                    at: t.datetime(&l.at),
                    unit: l.unit,
                    user: l.user,
                    role: l.role,
                    what: l.what,
                    emergency: l.emergency,
                    reason: l.reason.unwrap_or_default(),
                })
                .collect();
            let page = ExtractPage {
                patient_name: x.patient_name,
                patient_identifier: x.patient_identifier,
                organisation: x.organisation,
                generated: t.datetime(&x.generated_at),
                rows,
                frame,
            };
            html(StatusCode::OK, &page)
        }
        Err(e) => error_page(t, e.status, error_text(t, &e)),
    }
}

// ---- the directory -----------------------------------------------------------------------------

pub struct DirectoryUnit {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub hsa_id: String,
    pub phone: String,
    pub mailbox: String,
    pub hours: String,
    pub cover: String,
    pub backup: String,
    /// When the unit last confirmed its entry ("" when never), and whether that is too long ago.
    pub confirmed: String,
    pub stale: bool,
}

pub struct DirectoryOrg {
    pub name: String,
    pub units: Vec<DirectoryUnit>,
}

#[derive(Template)]
#[template(path = "directory.html")]
pub struct DirectoryPage {
    pub frame: Frame,
    pub query: String,
    pub organisations: Vec<DirectoryOrg>,
}

#[derive(Deserialize)]
pub struct DirectoryForm {
    q: Option<String>,
}

pub async fn directory(State(st): State<AppState>, w: WebCaller, Query(f): Query<DirectoryForm>) -> Response {
    let WebCaller { mut frame, .. } = w;
    let t = frame.t;
    frame.title = t.get("directory.title").to_string();
    let (orgs, units, confirmations) =
        match tokio::try_join!(st.store.organisations(), st.store.units(), st.store.contacts_confirmations()) {
            Ok(x) => x,
            Err(e) => {
                let e = samverka_app::error::AppError::from(e);
                return error_page(t, e.status, error_text(t, &e));
            }
        };
    let now = st.clock.now();
    let confirmed_of = |id: uuid::Uuid| confirmations.iter().find(|c| c.0 == id).and_then(|c| c.1);
    let query = f.q.unwrap_or_default().trim().to_string();
    let needle = query.to_lowercase();
    let name_of = |id: uuid::Uuid| units.iter().find(|u| u.id == id).map(|u| u.name.clone()).unwrap_or_default();
    let mut organisations: Vec<DirectoryOrg> = orgs
        .iter()
        .map(|(o, _)| DirectoryOrg {
            name: o.name.clone(),
            units: units
                .iter()
                .filter(|u| u.organisation_id == o.id)
                .filter(|u| {
                    needle.is_empty()
                        || u.name.to_lowercase().contains(&needle)
                        || o.name.to_lowercase().contains(&needle)
                })
                .map(|u| DirectoryUnit {
                    id: u.id.to_string(),
                    name: u.name.clone(),
                    kind: t.get(&format!("unit_kind.{}", super::case::serde_key(&u.kind))).to_string(),
                    hsa_id: u.hsa_id.as_str().to_string(),
                    phone: u.address.phone.clone().unwrap_or_default(),
                    mailbox: u.address.functional_mailbox.clone().unwrap_or_default(),
                    hours: u.address.opening_hours.clone().unwrap_or_default(),
                    cover: u.address.evening_weekend_cover.clone().unwrap_or_default(),
                    backup: u.address.backup_unit.map(name_of).unwrap_or_default(),
                    confirmed: confirmed_of(u.id)
                        .map(|c| t.date(&samverka_domain::calendar::local_date(c)))
                        .unwrap_or_default(),
                    stale: samverka_domain::directory::is_stale(confirmed_of(u.id), now),
                })
                .collect(),
        })
        .filter(|o| !o.units.is_empty())
        .collect();
    organisations.sort_by(|a, b| a.name.cmp(&b.name));
    html(StatusCode::OK, &DirectoryPage { frame, query, organisations })
}

// ---- glossary, accessibility, language ---------------------------------------------------------

pub struct Term {
    pub sv: String,
    pub en: String,
    pub meaning: String,
}

/// The glossary's table rows (`docs/glossary.md`, the one place the terms are explained).
fn glossary_terms() -> &'static [Term] {
    static TERMS: std::sync::OnceLock<Vec<Term>> = std::sync::OnceLock::new();
    TERMS.get_or_init(|| {
        include_str!("../../../../docs/glossary.md")
            .lines()
            .filter(|l| l.starts_with('|'))
            .skip(2) // header and separator
            .filter_map(|l| {
                let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
                match cells.as_slice() {
                    [sv, en, meaning_sv, meaning_en] => Some(Term {
                        sv: sv.to_string(),
                        en: en.to_string(),
                        meaning: format!("{meaning_sv}\u{1f}{meaning_en}"),
                    }),
                    _ => None,
                }
            })
            .collect()
    })
}

pub struct TermRow {
    pub term: String,
    pub other: String,
    pub meaning: String,
}

#[derive(Template)]
#[template(path = "glossary.html")]
pub struct GlossaryPage {
    pub frame: Frame,
    pub terms: Vec<TermRow>,
}

/// Pages anyone may read, logged in or not.
fn public_frame(st: &AppState, headers: &HeaderMap, title_key: &str) -> Frame {
    let _ = st;
    let t = texts(lang_of(headers));
    Frame::bare(t, t.get(title_key))
}

pub async fn glossary(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let frame = public_frame(&st, &headers, "glossary.title");
    let sv = frame.t.lang == "sv";
    let terms = glossary_terms()
        .iter()
        .map(|x| {
            let (meaning_sv, meaning_en) = x.meaning.split_once('\u{1f}').unwrap_or((&x.meaning, ""));
            TermRow {
                term: x.sv.clone(),
                other: x.en.clone(),
                meaning: if sv { meaning_sv.to_string() } else { meaning_en.to_string() },
            }
        })
        .collect();
    html(StatusCode::OK, &GlossaryPage { frame, terms })
}

#[derive(Template)]
#[template(path = "accessibility.html")]
pub struct AccessibilityPage {
    pub frame: Frame,
}

pub async fn accessibility(State(st): State<AppState>, headers: HeaderMap) -> Response {
    html(StatusCode::OK, &AccessibilityPage { frame: public_frame(&st, &headers, "a11y.title") })
}

/// Sets the language and goes back to the page the user came from (on this site only).
pub async fn language(axum::extract::Path(lang): axum::extract::Path<String>, headers: HeaderMap) -> Response {
    let lang = if lang == "en" { Lang::En } else { Lang::Sv };
    let code = if lang == Lang::En { "en" } else { "sv" };
    // Back only to a page of this site: the referrer's host must be ours, and the path plain.
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let back = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.parse::<axum::http::Uri>().ok())
        .filter(|u| u.authority().map(|a| a.as_str()) == host)
        .map(|u| u.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.starts_with("/sprak/"))
        .unwrap_or_else(|| "/".into());
    let cookie =
        HeaderValue::from_str(&format!("{LANG_COOKIE}={code}; Path=/; Secure; SameSite=Lax; Max-Age=31536000"))
            .expect("ASCII cookie");
    super::with_cookie(see_other(&back), cookie)
}

// ---- live updates ------------------------------------------------------------------------------

/// Server-sent events for the caller's unit: `change` with the case id whenever a case the
/// unit takes part in changes, and the unit's unread count. The page's script refetches
/// itself and swaps the changed parts. Listening does not keep the session alive, and the
/// stream ends soon after the session or the assignment does. Without a session the answer is
/// 204, which tells the browser to stop asking.
pub async fn events(
    State(st): State<AppState>,
    caller: Result<samverka_app::auth::Caller, samverka_app::error::AppError>,
) -> Response {
    let Ok(caller) = caller else { return StatusCode::NO_CONTENT.into_response() };
    if !samverka_domain::access::permits(caller.actor.role, samverka_domain::access::Permission::ReadPatientData) {
        return StatusCode::NO_CONTENT.into_response();
    }
    let unit = caller.actor.unit.id;
    let changes = BroadcastStream::new(st.live.subscribe(unit));
    let store = st.store.clone();
    let events = changes.then(move |c| {
        let store = store.clone();
        async move {
            let c = match c {
                Ok(c) => c,
                // Missed some (a slow reader): tell the page to look again anyway.
                Err(_) => samverka_app::live::LiveChange {
                    case_id: uuid::Uuid::nil(),
                    unread: store.unread_count(unit).await.unwrap_or(0),
                },
            };
            Some(Event::default().event("change").data(format!(r#"{{"case":"{}","unread":{}}}"#, c.case_id, c.unread)))
        }
    });
    let (store, clock, live) = (st.store.clone(), st.clock.clone(), st.live.clone());
    let (hash, assignment) = (caller.session.token_hash.clone(), caller.assignment_id);
    let idle = jiff::SignedDuration::from_mins(st.config.session_idle_minutes);
    let checks = IntervalStream::new(tokio::time::interval(Duration::from_secs(30))).skip(1).then(move |_| {
        let (store, clock, hash, live) = (store.clone(), clock.clone(), hash.clone(), live.clone());
        async move {
            // Every open page of the session shares one check for a while (`live.rs`).
            let check = async {
                let now = clock.now();
                let session_ok = match store.session(&hash).await {
                    Ok(Some(s)) => {
                        s.assignment_id == Some(assignment)
                            && now < s.expires_at
                            && now.duration_since(s.last_seen_at) <= idle
                    }
                    _ => false,
                };
                session_ok && matches!(store.assignment(assignment).await, Ok(Some(a)) if a.active)
            };
            live.session_valid(&hash, check).await.then(|| Event::default().comment("ok"))
        }
    });
    let stream = events.merge(checks).map_while(|e| e.map(Ok::<Event, Infallible>));
    let mut res = Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(20))).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/samverka.js"),
    )
        .into_response()
}

pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/samverka.css"),
    )
        .into_response()
}

// ---- the demo's clock ----------------------------------------------------------------------

/// Moves a demo server's clock forward (1 to 168 hours) and applies the escalation rules at
/// once, to show what happens later; not found on any other server.
pub async fn demo_clock(
    State(st): State<AppState>,
    w: WebCaller,
    axum::extract::Form(f): axum::extract::Form<Vec<(String, String)>>,
) -> Response {
    let t = w.frame.t;
    let Some(clock) = &st.demo_clock else {
        return error_page(t, StatusCode::NOT_FOUND, t.get("error.not_found").to_string());
    };
    let hours = f.iter().find(|(k, _)| k == "hours").and_then(|(_, v)| v.parse::<i64>().ok());
    let Some(hours) = hours.filter(|h| (1..=168).contains(h)) else {
        return error_page(t, StatusCode::UNPROCESSABLE_ENTITY, t.get("demo.hours_invalid").to_string());
    };
    let by = jiff::SignedDuration::from_hours(hours);
    if let Err(e) = st.store.shift_sessions(by).await {
        let e = samverka_app::error::AppError::from(e);
        return error_page(t, e.status, error_text(t, &e));
    }
    clock.advance(by);
    if let Err(e) = samverka_app::escalation::sweep(&st).await {
        tracing::warn!(error = %e, "escalation sweep after moving the demo clock failed");
    }
    let back = f.iter().find(|(k, _)| k == "back").map(|(_, v)| v.as_str()).unwrap_or("/");
    super::see_other(if back.starts_with('/') && !back.starts_with("//") { back } else { "/" })
}
