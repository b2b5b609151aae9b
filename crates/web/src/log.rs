//! Loggkontroll: the access log reviewed, and a patient's log extract.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::page::show_identifier;
use crate::page::{Frame, WebCaller, error_page, error_text, html};
use samverka_app::AppState;
use samverka_app::access_log::{ExtractQuery, ReviewQuery, action_sv};

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
                            .map(|r| t.get(&format!("role.{}", crate::page::role_key(r))).to_string())
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
