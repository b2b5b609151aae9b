//! Finding a patient by number, and emergency access (nödåtkomst) from the search.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use samverka_domain::calendar::local_date;
use serde::Deserialize;

use crate::page::{Frame, WebCaller, error_page, error_text, html, see_other};
use samverka_app::AppState;
use samverka_app::patients::SearchQuery;
use samverka_app::views::PatientView;

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
    let result = samverka_app::patients::search(&st, &caller, SearchQuery { identifier: number }).await;
    match result {
        Ok(found) => match found.patients.into_iter().next() {
            Some(p) => {
                page.cases = found
                    .cases
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
    axum::extract::Form(f): axum::extract::Form<crate::case::Pairs>,
) -> Response {
    use samverka_domain::access::{Permission, permits};
    let WebCaller { caller, mut frame, .. } = w;
    let t = frame.t;
    frame.title = t.get("search.title").to_string();
    let number = crate::case::field(&f, "nummer").trim().to_string();
    let reason = crate::case::field(&f, "reason").trim().to_string();
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
    match samverka_app::cases::emergency_by_identifier(&st, &caller, &number, &reason).await {
        Ok(Some(case)) => see_other(&format!("/arenden/{case}")),
        Ok(None) => page(frame, StatusCode::OK, None, t.get("search.nobody").to_string()),
        Err(e) => page(frame, e.status, Some(error_text(t, &e)), String::new()),
    }
}
