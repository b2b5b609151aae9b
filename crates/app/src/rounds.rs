//! Joint rounds (gemensam rond) for the pages and the JSON API: the persons a unit meets on a
//! round, putting a person on the round's list, and what the round says about them.
//!
//! A round is a forum of kind `Rond`; its members meet there, but a person on it is shown only
//! to the units that take part in the person's care, by the case's own rule, and every person
//! shown is in the access log before the list is answered. A round's note is a command on the
//! person's case, logged with it.

use jiff::civil::Date;
use samverka_domain::Problem;
use samverka_domain::access::Permission;
use samverka_domain::case::{CaseId, Command};
use samverka_domain::forum::{ForumAccess, ForumId, ForumKind, MeetingId, MeetingStatus};
use samverka_domain::org::UnitId;
use samverka_domain::patient::Patient;
use samverka_domain::round::{ProfessionPart, RoundAction, RoundActionId, RoundNote, on_round};
use samverka_store::{CaseRecord, ForumRecord, MeetingRecord, Outcome};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::require;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::forums::{forum_for, forum_unit_ids, meeting_for, refuse_object};
use crate::state::AppState;

fn not_a_round() -> Problem {
    Problem::not_found(
        "round_not_found",
        "Forumet är ingen gemensam rond. Personer sätts upp på en rond, inte på andra forum.",
        "The forum is not a joint round.",
    )
}

/// One person on a round, as the viewer's unit may see them.
pub struct RoundPatient {
    pub case: CaseRecord,
    pub patient: Patient,
    /// A unit put the person on the list (else they are on it for their SIP in force).
    pub listed: bool,
}

/// A round's meeting with the persons the caller's unit meets there.
pub struct Round {
    pub meeting: MeetingRecord,
    pub forum: ForumRecord,
    pub access: ForumAccess,
    pub patients: Vec<RoundPatient>,
    /// The caller's unit's other open cases shared with a unit of the round: whom it may put
    /// on the list.
    pub may_list: Vec<RoundPatient>,
}

/// The round at `meeting` for a member of it. Every person shown (on the round, or offered for
/// its list) is logged as read, in one commit, before anything is answered.
pub async fn round(st: &AppState, caller: &Caller, meeting: MeetingId) -> AppResult<Round> {
    const ACTION: &str = "round.read";
    require(st, caller, Permission::ReadPatientData, ACTION, None, None).await?;
    let (meeting, forum, access) = meeting_for(st, caller, meeting, ForumAccess::Member, ACTION).await?;
    if forum.spec.kind != ForumKind::Rond {
        return Err(refuse_object(st, caller, ACTION, meeting.id, not_a_round()).await);
    }
    let me = caller.actor.unit.id;
    let units = forum_unit_ids(&forum);
    let (mut patients, mut may_list) = (vec![], vec![]);
    for (case_id, listed) in st.store.round_candidates(forum.id, me).await? {
        let Some(case) = st.store.case(case_id).await? else { continue };
        let parties: Vec<UnitId> = case.case.parties.iter().map(|p| p.unit.id).collect();
        let Some(patient) = st.store.patient(case.case.patient_id).await? else { continue };
        let shown = RoundPatient { case, patient, listed };
        if on_round(me, &parties, &units, shown.case.case.sip_in_force(), listed) {
            patients.push(shown);
        } else if shown.case.case.is_party(me) {
            may_list.push(shown);
        }
    }
    let now = st.clock.now();
    let entries: Vec<_> = patients
        .iter()
        .chain(&may_list)
        .map(|p| {
            let mut e = caller.audit().entry(
                ACTION,
                now,
                Some(p.patient.id),
                Some(p.case.case.id),
                Outcome::Allowed,
                None,
                p.patient.protection.is_protected(),
            );
            e.object_id = Some(meeting.id);
            e
        })
        .collect();
    if entries.is_empty() {
        crate::forums::log_object_read(st, caller, ACTION, meeting.id).await?;
    } else {
        st.store.log_access_all(&entries).await?;
        caller.mark.set();
    }
    patients.sort_by(|a, b| a.patient.family_name.cmp(&b.patient.family_name));
    may_list.sort_by(|a, b| a.patient.family_name.cmp(&b.patient.family_name));
    Ok(Round { meeting, forum, access, patients, may_list })
}

/// Puts a person whose care the caller's unit takes part in on a round's list, when another of
/// the round's units takes part too (else the others could not see them).
pub async fn list_patient(st: &AppState, caller: &Caller, forum: ForumId, case_id: CaseId) -> AppResult<()> {
    const ACTION: &str = "round.list_patient";
    require(st, caller, Permission::WorkWithSip, ACTION, None, Some(case_id)).await?;
    let (forum, _) = forum_for(st, caller, forum, ForumAccess::Member, ACTION).await?;
    if forum.spec.kind != ForumKind::Rond {
        return Err(refuse_object(st, caller, ACTION, forum.id, not_a_round()).await);
    }
    let record = st.store.case(case_id).await?.ok_or_else(|| AppError::not_found("Ärendet"))?;
    let case = &record.case;
    let me = caller.actor.unit.id;
    let refuse = |p: Problem| crate::audit::refuse(st, caller, ACTION, Some(case.patient_id), Some(case.id), p);
    if let Err(p) = case.access(me, false) {
        return Err(refuse(p).await);
    }
    if !case.phase().is_open() {
        return Err(refuse(Problem::conflict(
            "case_closed",
            "Ärendet är avslutat. Bara personer med pågående ärenden sätts upp på ronden.",
            "The case is closed.",
        ))
        .await);
    }
    let parties: Vec<UnitId> = case.parties.iter().map(|p| p.unit.id).collect();
    if !on_round(me, &parties, &forum_unit_ids(&forum), true, true) {
        return Err(refuse(Problem::conflict(
            "round_nobody_to_share",
            "Ingen annan av rondens enheter deltar i personens vård, så ingen annan skulle se personen. \
             Bjud in enheten i ärendet först (med personens samtycke).",
            "No other unit of the round takes part in the person's care.",
        ))
        .await);
    }
    let patient = crate::cases::patient_of(st, &record).await?;
    let mut entry = caller.audit().entry(
        ACTION,
        st.clock.now(),
        Some(patient.id),
        Some(case.id),
        Outcome::Allowed,
        None,
        patient.protection.is_protected(),
    );
    entry.object_id = Some(forum.id);
    st.store.list_on_round(forum.id, case.id, me, &caller.actor.unit.name, &entry, st.clock.now()).await?;
    caller.mark.set();
    Ok(())
}

/// As [`list_patient`], for the round whose meeting is `meeting` (the pages work from a meeting).
pub async fn list_patient_at(st: &AppState, caller: &Caller, meeting: MeetingId, case_id: CaseId) -> AppResult<()> {
    let (meeting, _, _) = meeting_for(st, caller, meeting, ForumAccess::Member, "round.list_patient").await?;
    list_patient(st, caller, meeting.forum_id, case_id).await
}

/// An action as a form or a client sends it; the id is chosen when none is given.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ActionRequest {
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub id: Option<RoundActionId>,
    pub what: String,
    #[schema(value_type = String, format = Uuid)]
    pub owner_unit: UnitId,
    pub owner_name: String,
    #[schema(value_type = String, format = Date)]
    pub due: Date,
}

/// What a round says about a person, as a form or a client sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NoteRequest {
    #[schema(value_type = String, format = Uuid)]
    pub meeting_id: MeetingId,
    pub changed: String,
    #[serde(default)]
    pub professions: Vec<ProfessionPart>,
    #[schema(value_type = String, format = Date)]
    pub next_review: Date,
    #[serde(default)]
    pub actions: Vec<ActionRequest>,
}

/// Records a round's note in the person's case: the meeting is a round's that the caller's unit
/// is a member of, held or under way, and the person is on it for the caller.
pub async fn record_note(st: &AppState, caller: &Caller, case_id: CaseId, req: NoteRequest) -> AppResult<CaseRecord> {
    const ACTION: &str = "case.record_round_note";
    require(st, caller, Permission::WorkWithSip, ACTION, None, Some(case_id)).await?;
    let (meeting, forum, _) = meeting_for(st, caller, req.meeting_id, ForumAccess::Member, ACTION).await?;
    if forum.spec.kind != ForumKind::Rond {
        return Err(refuse_object(st, caller, ACTION, meeting.id, not_a_round()).await);
    }
    let now = st.clock.now();
    let timing = match meeting.status {
        MeetingStatus::Cancelled => Some(Problem::conflict(
            "meeting_cancelled",
            "Ronden är inställd. Skriv anteckningen vid nästa rond.",
            "The round is cancelled.",
        )),
        _ if now < meeting.starts_at => Some(Problem::conflict(
            "meeting_not_started",
            "Ronden har inte börjat än. Anteckningen skrivs vid ronden.",
            "The round has not started yet.",
        )),
        _ => None,
    };
    if let Some(p) = timing {
        return Err(refuse_object(st, caller, ACTION, meeting.id, p).await);
    }
    // Outside the person's care the case itself refuses (and logs) the command below.
    if let Some(record) = st.store.case(case_id).await?
        && record.case.is_party(caller.actor.unit.id)
    {
        let listed = st.store.round_candidates(forum.id, caller.actor.unit.id).await?;
        let listed = listed.iter().any(|(id, l)| *id == case_id && *l);
        let parties: Vec<UnitId> = record.case.parties.iter().map(|p| p.unit.id).collect();
        let units = forum_unit_ids(&forum);
        if !on_round(caller.actor.unit.id, &parties, &units, record.case.sip_in_force(), listed) {
            let p = Problem::conflict(
                "not_on_round",
                "Personen är inte uppsatt på ronden. Sätt upp personen på rondens lista först.",
                "The person is not on the round.",
            );
            return Err(crate::audit::refuse(st, caller, ACTION, Some(record.case.patient_id), Some(case_id), p).await);
        }
    }
    let note = RoundNote {
        forum_id: forum.id,
        meeting_id: meeting.id,
        changed: req.changed,
        professions: req.professions,
        next_review: req.next_review,
        actions: req
            .actions
            .into_iter()
            .map(|a| RoundAction {
                id: a.id.unwrap_or_else(Uuid::now_v7),
                what: a.what,
                owner_unit: a.owner_unit,
                owner_name: a.owner_name,
                due: a.due,
            })
            .collect(),
    };
    crate::cases::execute(st, caller, case_id, Command::RecordRoundNote { note }).await
}

/// Marks an action from a round done (its unit).
pub async fn complete_action(
    st: &AppState,
    caller: &Caller,
    case_id: CaseId,
    action_id: RoundActionId,
) -> AppResult<CaseRecord> {
    crate::cases::execute(st, caller, case_id, Command::CompleteRoundAction { action_id }).await
}
