//! The unit's inbox (what is new, not yet acknowledged, due) and its list of cases.

use crate::page::countdown;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use samverka_domain::access::Permission;
use samverka_domain::calendar::{end_of_day, local_date};
use serde::Deserialize;

use crate::page::{Frame, WebCaller, error_page, error_text, html};
use samverka_app::AppState;
use samverka_app::error::AppError;
use samverka_app::inbox::StartPage;
use samverka_app::texts::Texts;

pub struct DueRow {
    pub case_id: String,
    pub what: String,
    pub patient: String,
    pub protected: bool,
    pub due: String,
    pub due_iso: String,
    pub countdown: String,
    pub urgency: String,
    pub class: &'static str,
}

pub struct MessageRow {
    pub case_id: String,
    pub message_id: String,
    pub kind: String,
    pub patient: String,
    pub protected: bool,
    pub sent: String,
    pub sent_iso: String,
    pub status: String,
    pub class: &'static str,
}

/// A draft from the admission feed waiting for the ward to judge the needs.
pub struct DraftRow {
    pub case_id: String,
    pub patient: String,
    pub protected: bool,
    pub admitted: String,
}

#[derive(Template)]
#[template(path = "inbox.html")]
pub struct InboxPage {
    pub frame: Frame,
    pub unit: String,
    pub summary: String,
    pub drafts: Vec<DraftRow>,
    pub due: Vec<DueRow>,
    pub messages: Vec<MessageRow>,
    /// Said when more messages wait than the page shows.
    pub more: String,
}

fn failed(t: &'static Texts, e: AppError) -> Response {
    error_page(t, e.status, error_text(t, &e))
}

/// Messages the inbox page shows at most, newest first: the page stays quick to read (and to
/// serve) however far behind a unit is.
const INBOX_PAGE: i64 = 100;

pub async fn inbox(State(st): State<AppState>, w: WebCaller) -> Response {
    let WebCaller { caller, mut frame, live_refresh: w_live, .. } = w;
    let t = frame.t;
    // Administrators read no patient data: their start page is the administration.
    if !samverka_domain::access::permits(caller.actor.role, Permission::ReadPatientData) {
        let home = if samverka_domain::access::permits(caller.actor.role, Permission::Administer) {
            "/admin"
        } else {
            "/enheter"
        };
        caller.mark.set(); // nothing of a patient is read or answered
        return crate::page::see_other(home);
    }
    let now = st.clock.now();
    let end_today = end_of_day(local_date(now));
    let action = if w_live { "inbox.read_live" } else { "inbox.read" };
    let StartPage { messages, due, drafts } =
        match samverka_app::inbox::start_page(&st, &caller, INBOX_PAGE, action).await {
            Ok(x) => x,
            Err(e) => return failed(t, e),
        };
    let drafts: Vec<DraftRow> = drafts
        .iter()
        .map(|c| DraftRow {
            case_id: c.case_id.to_string(),
            patient: c.patient_name.clone(),
            protected: c.protection.is_protected(),
            admitted: t.datetime(&c.admitted_at),
        })
        .collect();
    let due: Vec<DueRow> = due
        .into_iter()
        .map(|item| {
            let d = item.deadline;
            let (urgency, class) = if d.due <= now {
                (t.get("inbox.overdue"), "overdue")
            } else if d.due <= end_today {
                (t.get("inbox.due_today"), "today")
            } else {
                (t.get("inbox.due_tomorrow"), "soon")
            };
            DueRow {
                case_id: d.case_id.to_string(),
                what: t.get(&format!("deadline.{}", d.kind.as_str())).to_string(),
                patient: item.patient_name,
                protected: item.protection.is_protected(),
                due: t.due(&d.due),
                due_iso: t.iso(&d.due),
                countdown: countdown(t, d.due, now),
                urgency: urgency.to_string(),
                class,
            }
        })
        .collect();
    let unopened = messages.iter().filter(|m| m.opened_at.is_none()).count();
    let messages: Vec<MessageRow> = messages
        .into_iter()
        .map(|m| {
            let (status, class) = if m.opened_at.is_none() {
                (t.get("inbox.status_new"), "new")
            } else {
                (t.get("inbox.status_opened"), "opened")
            };
            MessageRow {
                case_id: m.case_id.to_string(),
                message_id: m.message_id.to_string(),
                kind: t.get(&format!("message.{}", m.kind.as_str())).to_string(),
                patient: m.patient_name,
                protected: m.protection.is_protected(),
                sent: t.datetime(&m.sent_at),
                sent_iso: t.iso(&m.sent_at),
                status: status.to_string(),
                class,
            }
        })
        .collect();
    let overdue = due.iter().filter(|d| d.class == "overdue").count().to_string();
    let summary = t.fill(
        "inbox.summary",
        &[("new", &unopened.to_string()), ("unacknowledged", &messages.len().to_string()), ("overdue", &overdue)],
    );
    frame.title = t.get("inbox.title").to_string();
    frame.live = "inbox".into();
    let more = if messages.len() as i64 >= INBOX_PAGE && frame.unread > INBOX_PAGE {
        t.fill("inbox.messages_more", &[("shown", &INBOX_PAGE.to_string()), ("total", &frame.unread.to_string())])
    } else {
        String::new()
    };
    html(
        StatusCode::OK,
        &InboxPage { unit: caller.actor.unit.name.clone(), frame, summary, drafts, due, messages, more },
    )
}

pub struct CaseRow {
    pub case_id: String,
    pub patient: String,
    pub identifier: String,
    pub protected: bool,
    pub phase: String,
    pub next: String,
    pub admitted: String,
}

#[derive(Template)]
#[template(path = "cases.html")]
pub struct CasesPage {
    pub frame: Frame,
    pub unit: String,
    pub include_closed: bool,
    pub cases: Vec<CaseRow>,
}

#[derive(Deserialize)]
pub struct CasesQuery {
    alla: Option<String>,
}

pub async fn cases(State(st): State<AppState>, w: WebCaller, Query(q): Query<CasesQuery>) -> Response {
    let WebCaller { caller, mut frame, .. } = w;
    let t = frame.t;
    let include_closed = q.alla.is_some();
    let list = match samverka_app::cases::list(&st, &caller, include_closed, 1000).await {
        Ok(l) => l,
        Err(e) => return failed(t, e),
    };
    let now = st.clock.now();
    let cases = list
        .into_iter()
        .map(|c| CaseRow {
            case_id: c.case_id.to_string(),
            patient: c.patient_name.clone(),
            identifier: crate::page::show_identifier(&c.patient_identifier),
            protected: c.protection.is_protected(),
            phase: t.get(&format!("phase.{}", c.phase.as_str())).to_string(),
            next: c
                .open_deadlines
                .first()
                .map(|d| format!("{} ({})", t.get(&format!("deadline.{}", d.kind.as_str())), countdown(t, d.due, now)))
                .unwrap_or_default(),
            admitted: t.date(&local_date(c.admitted_at)),
        })
        .collect();
    frame.title = t.get("cases.title").to_string();
    frame.live = "inbox".into();
    html(StatusCode::OK, &CasesPage { unit: caller.actor.unit.name.clone(), frame, include_closed, cases })
}
