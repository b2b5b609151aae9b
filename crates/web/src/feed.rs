//! The admission feed's messages for the region's administrators: a list by status, one page
//! per message with its text and outcome, and "process again". The same rules and access log
//! as `/api/hl7`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use samverka_store::Hl7Status;
use serde::Deserialize;
use uuid::Uuid;

use crate::page::{Frame, WebCaller, error_page, error_text, html, see_other};
use samverka_app::AppState;
use samverka_app::error::AppResult;
use samverka_app::extract::ApiPath;
use samverka_app::hl7::{Hl7MessageView, read_one, replay_one};

pub struct Row {
    pub id: String,
    pub received: String,
    pub sender: String,
    pub control_id: String,
    pub trigger: String,
    pub status: String,
    pub status_key: String,
    pub outcome: String,
}

#[derive(Template)]
#[template(path = "feed.html")]
pub struct FeedPage {
    pub frame: Frame,
    pub filter: String,
    pub filters: Vec<(String, String)>,
    pub rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "feed_message.html")]
pub struct MessagePage {
    pub frame: Frame,
    pub row: Row,
    pub text: String,
    pub case_id: String,
    pub attempts: i32,
    pub can_replay: bool,
}

#[derive(Deserialize)]
pub struct Filter {
    status: Option<String>,
    klart: Option<String>,
}

fn row(frame: &Frame, m: &Hl7MessageView) -> Row {
    let t = frame.t;
    let outcome = if t.lang == "en" { m.outcome_en.clone() } else { m.outcome_sv.clone() };
    Row {
        id: m.id.to_string(),
        received: t.datetime(&m.received_at),
        sender: m.sender.replace('|', " · "),
        control_id: m.control_id.clone().unwrap_or_default(),
        trigger: m.trigger_event.clone(),
        status: t.get(&format!("feed.status_{}", m.status)).to_string(),
        status_key: m.status.clone(),
        outcome: outcome.unwrap_or_default(),
    }
}

pub async fn list(State(st): State<AppState>, w: WebCaller, Query(q): Query<Filter>) -> Response {
    let t = w.frame.t;
    let r: AppResult<Response> = async {
        let status = q.status.as_deref().and_then(Hl7Status::from_name);
        let messages = samverka_app::hl7::list(&st, &w.caller, status, 200).await?;
        let mut frame = w.frame;
        frame.title = t.get("feed.title").to_string();
        let rows = messages.iter().map(|m| row(&frame, &Hl7MessageView::of(m, false))).collect();
        let filters = Hl7Status::ALL
            .into_iter()
            .map(|s| (s.as_str().to_string(), t.get(&format!("feed.status_{}", s.as_str())).to_string()))
            .collect();
        let filter = status.map(|s| s.as_str().to_string()).unwrap_or_default();
        Ok(html(StatusCode::OK, &FeedPage { frame, filter, filters, rows }))
    }
    .await;
    r.unwrap_or_else(|e| error_page(t, e.status, error_text(t, &e)))
}

pub async fn message(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Query(q): Query<Filter>,
) -> Response {
    let t = w.frame.t;
    let r: AppResult<Response> = async {
        let m = read_one(&st, &w.caller, id).await?;
        let view = Hl7MessageView::of(&m, true);
        let mut frame = w.frame;
        frame.title =
            format!("{} {} – {}", view.trigger_event, view.control_id.clone().unwrap_or_default(), t.get("feed.title"));
        if q.klart.as_deref() == Some("replayed") {
            frame.notice = Some(t.get("feed.replayed").to_string());
        }
        let page = MessagePage {
            row: row(&frame, &view),
            text: view.text.clone().unwrap_or_default(),
            case_id: view.case_id.map(|c| c.to_string()).unwrap_or_default(),
            attempts: view.attempts,
            can_replay: matches!(m.status, Hl7Status::Refused | Hl7Status::Received) && st.feed.get().is_some(),
            frame,
        };
        Ok(html(StatusCode::OK, &page))
    }
    .await;
    r.unwrap_or_else(|e| error_page(t, e.status, error_text(t, &e)))
}

pub async fn replay(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    let t = w.frame.t;
    match replay_one(&st, &w.caller, id).await {
        Ok(_) => see_other(&format!("/admin/hl7/{id}?klart=replayed")),
        Err(e) => error_page(t, e.status, error_text(t, &e)),
    }
}
