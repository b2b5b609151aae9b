//! Staff's side of representatives: a unit in the person's care registers a god man,
//! förvaltare or ombud with fullmakt (from the paper it was shown) and what they may see, and
//! records when the mandate ends. The person's own side is in [`crate::person`].
//! Who may register is who may record the person's consent in the case
//! (`Case::check(RecordConsent)`): both say who speaks for the person.

use samverka_domain::action::Action;
use samverka_domain::case::CaseId;
use samverka_domain::representative::{Ended, Granter, NewRepresentation, Representation, check_new, may_end};
use samverka_store::{CaseRecord, Outcome, WriteLog};
use uuid::Uuid;

use crate::AppState;
use crate::audit::{refuse, refused_write};
use crate::auth::Caller;
use crate::cases::read_case;
use crate::error::{AppError, AppResult};

/// Everyone who represents the person of a case the caller has just read (the read is logged).
pub async fn of_case(st: &AppState, read: &CaseRecord) -> AppResult<Vec<Representation>> {
    Ok(st.store.representations_of(read.case.patient_id).await?)
}

/// Everyone who represents the person of a case (in force or not), read and logged as a read
/// of the case.
pub async fn list(st: &AppState, caller: &Caller, id: CaseId) -> AppResult<Vec<Representation>> {
    let (record, _) = read_case(st, caller, id, "representation.list").await?;
    of_case(st, &record).await
}

/// Registers a legal representative of the case's person.
pub async fn register(st: &AppState, caller: &Caller, id: CaseId, new: NewRepresentation) -> AppResult<Representation> {
    const ACTION: &str = "representation.register";
    let (record, patient) = read_case(st, caller, id, ACTION).await?;
    let now = st.clock.now();
    let refused = |p| refuse(st, caller, ACTION, Some(patient.id), Some(id), p);
    if let Err(p) = record.case.check(&caller.actor, &Action::RecordConsent, now) {
        return Err(refused(p).await);
    }
    let existing = st.store.representations_of(patient.id).await?;
    let checked = match check_new(&new, false, patient.identifier.value(), &existing, now) {
        Ok(c) => c,
        Err(p) => return Err(refused(p).await),
    };
    let rep = Representation {
        id: Uuid::now_v7(),
        patient_id: patient.id,
        personnummer: checked.personnummer,
        name: new.name.trim().to_string(),
        kind: new.kind,
        shares: checked.shares,
        granted: Granter::Staff {
            name: caller.actor.user.name.clone(),
            unit: caller.actor.unit.id,
            unit_name: caller.actor.unit.name.clone(),
        },
        granted_at: now,
        valid_until: new.valid_until,
        ended: None,
    };
    let log = allowed(caller, ACTION, &patient, id, now);
    match st.store.add_representation(&rep, WriteLog::Staff(&log)).await {
        Ok(()) => Ok(rep),
        Err(e) => Err(refused_write(st, caller, ACTION, Some(patient.id), Some(id), e).await),
    }
}

/// Records that a representation ended (a decision of the överförmyndare or court, a fullmakt
/// taken back on paper), with the reason.
pub async fn end(st: &AppState, caller: &Caller, id: CaseId, representation: Uuid, reason: &str) -> AppResult<()> {
    const ACTION: &str = "representation.end";
    let (record, patient) = read_case(st, caller, id, ACTION).await?;
    let now = st.clock.now();
    let refused = |p| refuse(st, caller, ACTION, Some(patient.id), Some(id), p);
    if let Err(p) = record.case.check(&caller.actor, &Action::RecordConsent, now) {
        return Err(refused(p).await);
    }
    if reason.trim().is_empty() {
        let p = samverka_domain::Problem::invalid_field(
            "reason",
            "reason_missing",
            "Skriv varför det upphör, till exempel beslut från överförmyndaren.",
            "Say why it ends.",
        );
        return Err(refused(p).await);
    }
    let rep = st
        .store
        .representations_of(patient.id)
        .await?
        .into_iter()
        .find(|r| r.id == representation)
        .ok_or_else(|| AppError::not_found("Företrädaren"))?;
    if let Err(p) = may_end(&rep, false) {
        return Err(refused(p).await);
    }
    let ended = Ended {
        at: now,
        by: format!("{}, {}", caller.actor.user.name, caller.actor.unit.name),
        reason: reason.trim().to_string(),
    };
    let log = allowed(caller, ACTION, &patient, id, now);
    match st.store.end_representation(representation, &ended, WriteLog::Staff(&log)).await {
        Ok(()) => Ok(()),
        Err(e) => Err(refused_write(st, caller, ACTION, Some(patient.id), Some(id), e).await),
    }
}

/// The access-log entry of a change to the person's representatives, allowed.
fn allowed(
    caller: &Caller,
    action: &str,
    patient: &samverka_domain::patient::Patient,
    case: CaseId,
    now: jiff::Timestamp,
) -> samverka_store::AccessEntry {
    caller.audit().entry(
        action,
        now,
        Some(patient.id),
        Some(case),
        Outcome::Allowed,
        None,
        patient.protection.is_protected(),
    )
}
