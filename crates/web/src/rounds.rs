//! The joint round's page: the persons the caller's unit meets at a round's meeting, what the
//! round before said and which actions are still open, a note for this round, and the list a
//! unit puts persons on (`samverka_app::rounds`).

use askama::Template;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use samverka_app::AppState;
use samverka_app::error::{AppError, AppResult};
use samverka_app::extract::ApiPath;
use samverka_app::rounds::{self, ActionRequest, NoteRequest, RoundPatient};
use samverka_app::texts::Texts;
use samverka_domain::action::Action;
use samverka_domain::calendar;
use samverka_domain::case::Case;
use samverka_domain::forum::MeetingStatus;
use samverka_domain::round::{Profession, ProfessionPart, RoundNoteRecord};
use uuid::Uuid;

use crate::case::{Pairs, field, parse_date};
use crate::page::{Frame, WebCaller, error_page, error_text, html, see_other};

pub struct NoteView {
    pub when: String,
    pub by: String,
    pub changed: String,
    /// Profession and what it does.
    pub professions: Vec<(String, String)>,
    pub next_review: String,
}

pub struct ActionRow {
    pub id: String,
    pub what: String,
    pub owner: String,
    pub due: String,
    pub late: bool,
    /// The caller's unit owns it and may mark it done.
    pub mine: bool,
}

pub struct PersonView {
    pub case_id: String,
    pub name: String,
    pub identifier: String,
    pub protected: bool,
    pub listed: bool,
    pub sip_in_force: bool,
    pub before: Option<NoteView>,
    pub here: Option<NoteView>,
    pub open_actions: Vec<ActionRow>,
    /// The latest note's next review is due by this meeting.
    pub review_due: bool,
    pub next_review: String,
    pub can_write: bool,
    /// The units taking part in the care: who may own an action.
    pub parties: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "round.html")]
pub struct RoundPage {
    pub frame: Frame,
    pub meeting_id: String,
    pub forum_name: String,
    pub when: String,
    pub patients: Vec<PersonView>,
    /// Whom the caller's unit may put on the list: case id and name.
    pub may_list: Vec<(String, String)>,
    /// The professions with their labels, in the form's order.
    pub professions: Vec<(String, String)>,
    /// The case whose form was refused, and what was typed in it.
    pub form_case: String,
    pub form: Pairs,
}

impl RoundPage {
    /// What was typed in `name` of the refused form of `case`; empty elsewhere.
    pub fn value(&self, case: &str, name: &str) -> String {
        if self.form_case == case { field(&self.form, name).to_string() } else { String::new() }
    }
}

fn note_view(t: &Texts, case: &Case, n: &RoundNoteRecord) -> NoteView {
    NoteView {
        when: t.date(&calendar::local_date(n.recorded.at)),
        by: format!("{}, {}", n.recorded.by.name, unit_name(case, n.recorded.unit)),
        changed: n.note.changed.clone(),
        professions: n
            .note
            .professions
            .iter()
            .map(|p| (t.get(&format!("round.profession_{}", p.profession.as_str())).to_string(), p.what.clone()))
            .collect(),
        next_review: t.date(&n.note.next_review),
    }
}

fn unit_name(case: &Case, id: Uuid) -> String {
    case.parties.iter().find(|p| p.unit.id == id).map(|p| p.unit.name.clone()).unwrap_or_default()
}

fn person_view(
    w: &WebCaller,
    p: &RoundPatient,
    meeting: Uuid,
    starts: Timestamp,
    open: bool,
    now: Timestamp,
) -> PersonView {
    let t = w.frame.t;
    let case = &p.case.case;
    let me = w.caller.actor.unit.id;
    let available = case.available(&w.caller.actor, now);
    let today = calendar::local_date(now);
    let meeting_day = calendar::local_date(starts);
    PersonView {
        case_id: case.id.to_string(),
        name: format!("{} {}", p.patient.given_name, p.patient.family_name),
        identifier: p.patient.identifier.display(),
        protected: p.patient.protection.is_protected(),
        listed: p.listed,
        sip_in_force: case.sip_in_force(),
        before: case.rounds.before(meeting).map(|n| note_view(t, case, n)),
        here: case.rounds.of_meeting(meeting).map(|n| note_view(t, case, n)),
        open_actions: case
            .rounds
            .open_actions()
            .map(|a| ActionRow {
                id: a.id.to_string(),
                what: a.what.clone(),
                owner: format!("{} – {}", unit_name(case, a.owner_unit), a.owner_name),
                due: t.date(&a.due),
                late: a.due < today,
                mine: available.contains(&Action::CompleteRoundAction { action_id: a.id }) && a.owner_unit == me,
            })
            .collect(),
        review_due: case.rounds.latest().is_some_and(|n| n.note.next_review <= meeting_day),
        next_review: case.rounds.latest().map(|n| t.date(&n.note.next_review)).unwrap_or_default(),
        can_write: open && available.contains(&Action::RecordRoundNote),
        parties: case.parties.iter().map(|p| (p.unit.id.to_string(), p.unit.name.clone())).collect(),
    }
}

async fn round_page(
    st: &AppState,
    w: WebCaller,
    id: Uuid,
    form_case: String,
    form: Pairs,
    error: Option<AppError>,
) -> Response {
    let t = w.frame.t;
    let r = match rounds::round(st, &w.caller, id).await {
        Ok(r) => r,
        Err(e) => return error_page(t, e.status, error_text(t, &e)),
    };
    let now = st.clock.now();
    let m = &r.meeting;
    // A note is written at the round: once it has begun, unless it was cancelled.
    let open = m.status != MeetingStatus::Cancelled && now >= m.starts_at;
    let patients = r.patients.iter().map(|p| person_view(&w, p, m.id, m.starts_at, open, now)).collect();
    let may_list = r
        .may_list
        .iter()
        .map(|p| {
            let name =
                format!("{} {} ({})", p.patient.given_name, p.patient.family_name, p.patient.identifier.display());
            (p.case.case.id.to_string(), name)
        })
        .collect();
    let status = error.as_ref().map(|e| e.status).unwrap_or(StatusCode::OK);
    let mut frame = w.frame;
    frame.title = format!("{} {}", r.forum.spec.name, t.date(&calendar::local_date(m.starts_at)));
    frame.error = error.as_ref().map(|e| error_text(t, e));
    let page = RoundPage {
        meeting_id: m.id.to_string(),
        forum_name: r.forum.spec.name.clone(),
        when: t.datetime(&m.starts_at),
        patients,
        may_list,
        professions: Profession::ALL
            .iter()
            .map(|p| (p.as_str().to_string(), t.get(&format!("round.profession_{}", p.as_str())).to_string()))
            .collect(),
        form_case,
        form,
        frame,
    };
    html(status, &page)
}

pub async fn page(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    round_page(&st, w, id, String::new(), vec![], None).await
}

/// Back to the round after a change, or the page again with the reason and what was typed.
async fn after(
    st: &AppState,
    w: WebCaller,
    id: Uuid,
    r: AppResult<()>,
    case: String,
    f: Pairs,
    anchor: &str,
) -> Response {
    match r {
        Ok(()) => see_other(&format!("/moten/{id}/rond{anchor}")),
        // Not theirs to see: no page to show it on.
        Err(e) if e.status == StatusCode::NOT_FOUND => error_page(w.frame.t, e.status, error_text(w.frame.t, &e)),
        Err(e) => round_page(st, w, id, case, f, Some(e)).await,
    }
}

pub async fn list(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r: AppResult<()> = async {
        let case: Uuid = field(&f, "case_id").parse().map_err(|_| {
            AppError::from(samverka_domain::Problem::invalid_field(
                "case_id",
                "required",
                "Välj vem som ska sättas upp på ronden.",
                "Choose whom to put on the round.",
            ))
        })?;
        rounds::list_patient_at(&st, &w.caller, id, case).await
    }
    .await;
    let case = field(&f, "case_id").to_string();
    let anchor = format!("#person-{case}");
    after(&st, w, id, r, String::new(), vec![], &anchor).await
}

/// The note form's fields as the application's request.
fn note_request(meeting: Uuid, f: &Pairs) -> AppResult<NoteRequest> {
    let professions = Profession::ALL
        .iter()
        .map(|p| ProfessionPart { profession: *p, what: field(f, &format!("prof_{}", p.as_str())).to_string() })
        .collect();
    let mut actions = vec![];
    if !field(f, "action_what").trim().is_empty() {
        let owner_unit = field(f, "action_owner_unit").parse().map_err(|_| {
            AppError::from(samverka_domain::Problem::invalid_field(
                "action_owner_unit",
                "required",
                "Välj vilken enhet som äger åtgärden.",
                "Choose the unit that owns the action.",
            ))
        })?;
        actions.push(ActionRequest {
            id: None,
            what: field(f, "action_what").to_string(),
            owner_unit,
            owner_name: field(f, "action_owner_name").to_string(),
            due: parse_date(f, "action_due")?,
        });
    }
    Ok(NoteRequest {
        meeting_id: meeting,
        changed: field(f, "changed").to_string(),
        professions,
        next_review: parse_date(f, "next_review")?,
        actions,
    })
}

pub async fn note(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath((id, case)): ApiPath<(Uuid, Uuid)>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = match note_request(id, &f) {
        Ok(req) => rounds::record_note(&st, &w.caller, case, req).await.map(|_| ()),
        Err(e) => Err(e),
    };
    let keep = if r.is_err() { f } else { vec![] };
    after(&st, w, id, r, case.to_string(), keep, &format!("#person-{case}")).await
}

pub async fn done(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath((id, case, action)): ApiPath<(Uuid, Uuid, Uuid)>,
) -> Response {
    let r = rounds::complete_action(&st, &w.caller, case, action).await.map(|_| ());
    after(&st, w, id, r, String::new(), vec![], &format!("#person-{case}")).await
}
