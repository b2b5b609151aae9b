//! Joint rounds over JSON: the persons a unit meets on a round's meeting, putting a person on
//! the round's list, and what the round says about a person (`samverka_app::rounds`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::civil::Date;
use samverka_app::auth::Caller;
use samverka_app::cases::{patient_of, view};
use samverka_app::extract::{ApiJson, ApiPath};
use samverka_app::rounds::{self, NoteRequest, RoundPatient};
use samverka_app::views::{CaseView, PatientView};
use samverka_app::{AppResult, AppState, ProblemDetails};
use samverka_domain::case::CaseKind;
use samverka_domain::round::{RoundAction, RoundNoteRecord};
use samverka_store::{ForumRecord, MeetingRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// One person on a round, with what the rounds said and what is still to be done.
#[derive(Serialize, ToSchema)]
pub struct RoundPerson {
    #[schema(value_type = String, format = Uuid)]
    pub case_id: Uuid,
    pub kind: CaseKind,
    pub patient: PatientView,
    /// A unit put the person on the list (else they are on it for their SIP in force).
    pub listed: bool,
    pub sip_in_force: bool,
    /// This meeting's note, once written.
    pub note: Option<RoundNoteRecord>,
    /// The latest note of an earlier round.
    pub before: Option<RoundNoteRecord>,
    /// Actions not yet done, from every round.
    pub open_actions: Vec<RoundAction>,
    #[schema(value_type = Option<String>, format = Date)]
    pub next_review: Option<Date>,
}

impl RoundPerson {
    fn of(p: &RoundPatient, meeting: Uuid) -> Self {
        let case = &p.case.case;
        RoundPerson {
            case_id: case.id,
            kind: case.kind(),
            patient: PatientView::of(&p.patient),
            listed: p.listed,
            sip_in_force: case.sip_in_force(),
            note: case.rounds.of_meeting(meeting).cloned(),
            before: case.rounds.before(meeting).cloned(),
            open_actions: case.rounds.open_actions().cloned().collect(),
            next_review: case.rounds.latest().map(|n| n.note.next_review),
        }
    }
}

/// A round's meeting as one of its units sees it.
#[derive(Serialize, ToSchema)]
pub struct RoundDetail {
    pub meeting: MeetingRecord,
    pub forum: ForumRecord,
    /// The persons on the round whose care the caller's unit takes part in.
    pub patients: Vec<RoundPerson>,
    /// The caller's unit's other persons shared with a unit of the round, who may be put on it.
    pub may_list: Vec<RoundPerson>,
}

/// The persons on a round's meeting, for a member of the round: only those whose care the
/// caller's unit takes part in, each logged as read.
#[utoipa::path(get, path = "/api/meetings/{id}/round", tag = "forums", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = RoundDetail), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn round(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<RoundDetail>> {
    let r = rounds::round(&st, &caller, id).await?;
    let m = r.meeting.id;
    Ok(Json(RoundDetail {
        patients: r.patients.iter().map(|p| RoundPerson::of(p, m)).collect(),
        may_list: r.may_list.iter().map(|p| RoundPerson::of(p, m)).collect(),
        meeting: r.meeting,
        forum: r.forum,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct ListPatient {
    #[schema(value_type = String, format = Uuid)]
    pub case_id: Uuid,
}

/// Puts a person on a round's list: a person whose care the caller's unit and another of the
/// round's units take part in. Listing again changes nothing.
#[utoipa::path(post, path = "/api/forums/{id}/round-patients", tag = "forums", params(("id" = String, Path, format = Uuid)),
    request_body = ListPatient,
    responses((status = 204), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn list_patient(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<ListPatient>,
) -> AppResult<StatusCode> {
    rounds::list_patient(&st, &caller, id, req.case_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Records what a round said about the person: what changed, each profession's part, the next
/// review and actions with owners (units that take part in the care).
#[utoipa::path(post, path = "/api/cases/{id}/round-notes", tag = "sip", params(("id" = String, Path, format = Uuid)),
    request_body = NoteRequest,
    responses((status = 201, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn record_note(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<NoteRequest>,
) -> AppResult<(StatusCode, Json<CaseView>)> {
    let record = rounds::record_note(&st, &caller, id, req).await?;
    let patient = patient_of(&st, &record).await?;
    Ok((StatusCode::CREATED, Json(view(&st, &caller, record, &patient, st.clock.now())?)))
}

/// Marks an action from a round done (the unit that owns it); again changes nothing.
#[utoipa::path(post, path = "/api/cases/{id}/round-actions/{action_id}/done", tag = "sip",
    params(("id" = String, Path, format = Uuid), ("action_id" = String, Path, format = Uuid)),
    responses((status = 200, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn complete_action(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath((id, action)): ApiPath<(Uuid, Uuid)>,
) -> AppResult<Json<CaseView>> {
    let record = rounds::complete_action(&st, &caller, id, action).await?;
    let patient = patient_of(&st, &record).await?;
    Ok(Json(view(&st, &caller, record, &patient, st.clock.now())?))
}
