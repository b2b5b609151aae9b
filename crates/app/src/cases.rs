//! The discharge case: open it, read it, and every step of the process.

use axum::http::StatusCode;
use jiff::Timestamp;
use samverka_domain::access::Permission;
use samverka_domain::actor::{Actor, UnitRef};
use samverka_domain::case::{Case, CaseId, CaseKind, Command, OpenCase, RecordedEvent};
use samverka_domain::consent::{ConsentGiver, ConsentKind};
use samverka_domain::message::{MessageBody, MessageKind};
use samverka_domain::org::CareType;
use samverka_domain::patient::Patient;
use samverka_domain::routing::notice_recipients;
use samverka_domain::sip::FollowUpOutcome;
use samverka_store::{CaseRecord, CaseSummary};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::audit::{log_read, refuse, refused_write, require};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::views::CaseView;

// ---- helpers shared by the handlers ----------------------------------------------------------

/// Reads a case the caller may see: its unit takes part in the care (need-to-know), or the
/// caller holds a live emergency grant for it. The read, or the refusal, is logged.
pub async fn read_case(st: &AppState, caller: &Caller, id: CaseId, action: &str) -> AppResult<(CaseRecord, Patient)> {
    require(st, caller, Permission::ReadPatientData, action, None, Some(id)).await?;
    let record = st.store.case(id).await?.ok_or_else(|| AppError::not_found("Ärendet"))?;
    let now = st.clock.now();
    let grant = if record.case.is_party(caller.actor.unit.id) {
        None
    } else {
        st.store.emergency_grant(caller.actor.user.id, caller.actor.unit.id, id, now).await?
    };
    if let Err(problem) = record.case.access(caller.actor.unit.id, grant.is_some()) {
        return Err(refuse(st, caller, action, Some(record.case.patient_id), Some(id), problem).await);
    }
    let patient = st.store.patient(record.case.patient_id).await?.ok_or_else(|| AppError::not_found("Patienten"))?;
    log_read(st, caller, action, Some(patient.id), Some(id), grant.as_deref(), patient.protection.is_protected())
        .await?;
    Ok((record, patient))
}

pub fn view(
    st: &AppState,
    caller: &Caller,
    record: CaseRecord,
    patient: &Patient,
    now: Timestamp,
) -> AppResult<CaseView> {
    let agreement = st.store.agreements().get(&record.agreement_id).ok_or_else(|| {
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unknown_agreement",
            format!("Överenskommelsen {} saknas i inställningarna.", record.agreement_id),
            "The case's agreement is not configured.",
        )
    })?;
    Ok(CaseView::of(record.case, record.agreement_id, &agreement, patient, &caller.actor, now))
}

/// Runs a command on a case (for the API and the web pages alike). The store writes the
/// access-log entry in the same transaction as the change; a refusal is logged here. Open
/// pages of the case's units hear of the change.
pub async fn execute(st: &AppState, caller: &Caller, id: CaseId, cmd: Command) -> AppResult<CaseRecord> {
    execute_all(st, caller, id, vec![cmd]).await
}

/// Carries out several commands on a case as one change (all or none), as `execute` does one.
pub async fn execute_all(st: &AppState, caller: &Caller, id: CaseId, cmds: Vec<Command>) -> AppResult<CaseRecord> {
    let now = st.clock.now();
    let action = cmds.first().map(|c| format!("case.{}", samverka_store::command_name(c))).unwrap_or_default();
    match st.store.execute_all(id, &caller.audit(), cmds, now).await {
        Ok((record, events)) => {
            caller.mark.set();
            if !events.is_empty() {
                st.changed(&record.case);
            }
            Ok(record)
        }
        Err(e) => {
            let patient = st.store.case(id).await.ok().flatten().map(|r| r.case.patient_id);
            Err(refused_write(st, caller, &action, patient, Some(id), e).await)
        }
    }
}

/// Sends a message in a case: to the chosen units; a correction, to those who got the message
/// it corrects; otherwise to those the kind of message goes to.
pub async fn send(
    st: &AppState,
    caller: &Caller,
    id: CaseId,
    message_id: Uuid,
    body: MessageBody,
    recipients: Option<&[Uuid]>,
    corrects: Option<Uuid>,
) -> AppResult<CaseRecord> {
    let record = st.store.case(id).await?.ok_or_else(|| AppError::not_found("Ärendet"))?;
    // Nothing is routed or looked up for a unit outside the case: refuse first.
    if !record.case.is_party(caller.actor.unit.id) {
        let problem = samverka_domain::Problem::forbidden(
            "not_a_party",
            format!("{} deltar inte i det här ärendet och kan inte skicka meddelanden i det.", caller.actor.unit.name),
            "Your unit is not a party to this case.",
        );
        return Err(refuse(st, caller, "case.send_message", Some(record.case.patient_id), Some(id), problem).await);
    }
    // A correction goes to whoever got the message it corrects, unless others are chosen.
    let corrected = corrects.and_then(|old| record.case.message(old)).map(|m| m.message.recipients.clone());
    let recipients = match (recipients, corrected) {
        (Some(ids), _) if !ids.is_empty() => resolve_units(st, ids, "recipients").await?,
        (_, Some(original)) if !original.is_empty() => original,
        (Some(ids), None) => resolve_units(st, ids, "recipients").await?,
        _ => default_recipients(st, &record.case, &body, &caller.actor).await?,
    };
    execute(st, caller, id, Command::SendMessage { message_id, body, recipients, corrects }).await
}

/// Looks up units named in a request; an unknown id names the field it came from.
pub async fn resolve_units(st: &AppState, ids: &[Uuid], field: &str) -> AppResult<Vec<UnitRef>> {
    let mut out = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let unit = st.store.unit_ref(*id).await?.ok_or_else(|| {
            AppError::invalid(
                &format!("{field}[{i}]"),
                "unknown_unit",
                "Enheten finns inte i Samverka.",
                "Unknown unit.",
            )
        })?;
        if !out.iter().any(|u: &UnitRef| u.id == unit.id) {
            out.push(unit);
        }
    }
    Ok(out)
}

pub async fn resolve_unit(st: &AppState, id: Uuid, field: &str) -> AppResult<UnitRef> {
    st.store
        .unit_ref(id)
        .await?
        .ok_or_else(|| AppError::invalid(field, "unknown_unit", "Enheten finns inte i Samverka.", "Unknown unit."))
}

/// Who a message goes to when the sender names nobody: the admission notice is routed from
/// the patient's municipality and listing; everything else goes to the case's other parties.
pub async fn default_recipients(
    st: &AppState,
    case: &Case,
    body: &MessageBody,
    actor: &Actor,
) -> AppResult<Vec<UnitRef>> {
    if body.kind() == MessageKind::Inskrivningsmeddelande {
        let units = st.store.routable_units(&case.kommun, case.listed_unit).await?;
        return Ok(notice_recipients(&case.kommun, case.listed_unit, &units)?);
    }
    Ok(case.parties.iter().map(|p| p.unit.clone()).filter(|u| u.id != actor.unit.id).collect())
}

// ---- requests ------------------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenCaseRequest {
    /// Chosen by the client to make a retry safe; generated when absent.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub id: Option<Uuid>,
    /// A patient registered with `POST /api/patients`; or give `patient` instead.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub patient_id: Option<Uuid>,
    /// The patient as registered at admission: linked to the patient Samverka already knows
    /// by the number, or registered now. The patient's data is returned only with the case.
    pub patient: Option<crate::patients::NewPatientRequest>,
    #[schema(value_type = String, format = DateTime)]
    pub admitted_at: Timestamp,
    /// When the doctor judged the patient will need care after discharge, if later than admission.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub needs_assessed_at: Option<Timestamp>,
    /// Defaults to the ward's own.
    pub care_type: Option<CareType>,
    /// Why a second open case is needed although the patient has one already (at least ten
    /// characters); without it such an admission is refused and the open case named.
    #[serde(default)]
    pub duplicate_reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    /// Chosen by the client to make a retry safe; generated when absent.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub id: Option<Uuid>,
    pub body: MessageBody,
    /// Recipient unit ids. When absent: the admission notice is routed to the patient's
    /// municipality and vårdcentral; other messages go to the case's other parties.
    #[schema(value_type = Option<Vec<String>>)]
    pub recipients: Option<Vec<Uuid>>,
    /// The message this one corrects.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub corrects: Option<Uuid>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MisSentRequest {
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardRequest {
    #[schema(value_type = String, format = Uuid)]
    pub to_unit: Uuid,
    #[serde(default)]
    pub note: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    #[schema(value_type = String, format = Uuid)]
    pub to_ward: Uuid,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// Defaults to the new ward's own.
    pub care_type: Option<CareType>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DischargeRequest {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddPartyRequest {
    #[schema(value_type = String, format = Uuid)]
    pub unit: Uuid,
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    #[schema(value_type = Option<String>, format = Uuid)]
    pub id: Option<Uuid>,
    pub kind: ConsentKind,
    pub given_by: ConsentGiver,
    #[schema(value_type = String, format = DateTime)]
    pub given_at: Timestamp,
    #[serde(default)]
    pub note: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpRequest {
    pub evaluation: String,
    pub outcome: FollowUpOutcome,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    #[serde(default)]
    pub note: String,
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Include closed and cancelled cases.
    #[serde(default)]
    pub include_closed: bool,
}

/// Opens a case at the caller's ward (the admission).
pub async fn open_case(st: &AppState, caller: &Caller, req: OpenCaseRequest) -> AppResult<(CaseRecord, Patient)> {
    require(st, caller, Permission::RegisterAdmission, "case.open", req.patient_id, None).await?;
    let patient =
        crate::patients::named(st, caller, crate::patients::Registrar::Ward, req.patient_id, req.patient).await?;
    let ward = st.store.unit(caller.actor.unit.id).await?.ok_or_else(|| AppError::not_found("Enheten"))?;
    let duplicate_reason =
        check_no_open_case(st, caller, &patient, &ward, req.id, req.duplicate_reason.as_deref()).await?;
    let agreement_id = st
        .store
        .organisation(ward.organisation_id)
        .await?
        .and_then(|(_, a)| a)
        .unwrap_or_else(|| st.config.default_agreement.clone());
    let case_id = req.id.unwrap_or_else(Uuid::now_v7);
    let open = OpenCase {
        case_id,
        patient_id: patient.id,
        kommun: patient.kommun.clone(),
        listed_unit: patient.listed_unit,
        care_type: req.care_type.unwrap_or(ward.care_type),
        admitted_at: req.admitted_at,
        needs_assessed_at: req.needs_assessed_at,
        born: patient.identifier.birth_date(),
        sip_at_home: st.store.sip_at_home(patient.id).await?,
    };
    let (record, created) = match st.store.open_case(&open, &agreement_id, &caller.audit(), st.clock.now()).await {
        Ok(r) => r,
        Err(e) => return Err(refused_write(st, caller, "case.open", Some(patient.id), Some(case_id), e).await),
    };
    if !created {
        return opened_again(st, caller, "case.open", record, patient).await;
    }
    if let Some(reason) = duplicate_reason {
        // The deliberate second case and why, for log review.
        let entry = caller.audit().entry(
            "case.open_duplicate",
            st.clock.now(),
            Some(patient.id),
            Some(case_id),
            samverka_store::Outcome::Allowed,
            Some(&reason),
            patient.protection.is_protected(),
        );
        crate::audit::log(st, caller, entry).await?;
    }
    caller.mark.set();
    st.changed(&record.case);
    Ok((record, patient))
}

/// A retried opening (the same case id again): the caller's own case comes back, logged as a
/// read; any other case behind that id stays hidden.
pub(crate) async fn opened_again(
    st: &AppState,
    caller: &Caller,
    action: &str,
    record: CaseRecord,
    patient: Patient,
) -> AppResult<(CaseRecord, Patient)> {
    let case_id = record.case.id;
    if !record.case.is_party(caller.actor.unit.id) || record.case.patient_id != patient.id {
        let problem = samverka_domain::Problem::conflict(
            "case_exists",
            "Ett annat ärende har redan det id:t. Skicka utan id så väljer Samverka ett.",
            "Id in use.",
        );
        return Err(refuse(st, caller, action, None, Some(case_id), problem).await);
    }
    let protected = patient.protection.is_protected();
    log_read(st, caller, "case.open_again", Some(patient.id), Some(case_id), None, protected).await?;
    Ok((record, patient))
}

/// One open discharge case per person and region (a coordination at home is no stay): an admission of a patient who already has an open
/// case at a ward of the same organisation is refused with that case named (at one's own
/// ward, to open instead; elsewhere, to transfer), unless a reason for a second one is given.
/// Another region's case is neither named nor in the way. A retry with the case's own id
/// passes. Answers the reason of a deliberate second case.
async fn check_no_open_case(
    st: &AppState,
    caller: &Caller,
    patient: &Patient,
    ward: &samverka_domain::org::Unit,
    case_id: Option<Uuid>,
    duplicate_reason: Option<&str>,
) -> AppResult<Option<String>> {
    let open: Vec<CaseSummary> = st
        .store
        .cases_for_patient(patient.id)
        .await?
        .into_iter()
        .filter(|c| c.kind == CaseKind::Discharge && c.phase.is_open() && Some(c.case_id) != case_id)
        .collect();
    let units = st.store.units().await?;
    let same_region = |c: &CaseSummary| {
        units.iter().find(|u| u.id == c.ward_id).is_some_and(|u| u.organisation_id == ward.organisation_id)
    };
    let Some(existing) = open.iter().find(|c| c.ward_id == ward.id).or_else(|| open.iter().find(|c| same_region(c)))
    else {
        return Ok(None);
    };
    let reason = duplicate_reason.map(str::trim).unwrap_or("");
    if !reason.is_empty() {
        if reason.chars().count() < 10 {
            return Err(AppError::invalid(
                "duplicate_reason",
                "reason_too_short",
                "Skriv med några ord varför patienten behöver ett andra öppet ärende (minst tio tecken).",
                "Say in a few words why a second open case is needed (at least ten characters).",
            ));
        }
        samverka_domain::text::check_text("duplicate_reason", reason, true)?;
        return Ok(Some(reason.to_string()));
    }
    let admitted = samverka_domain::calendar::local_date(existing.admitted_at);
    let (sv, en) = if existing.ward_id == ward.id {
        (
            format!(
                "Patienten har redan ett öppet ärende på er avdelning, inskriven {admitted}. Öppna det i stället. Behövs ändå ett nytt ärende, ange skälet."
            ),
            format!("The patient already has an open case at your ward, admitted {admitted}. Open it instead."),
        )
    } else {
        let at =
            units.iter().find(|u| u.id == existing.ward_id).map(|u| u.name.as_str()).unwrap_or("en annan avdelning");
        (
            format!(
                "Patienten har redan ett öppet ärende på {at}, inskriven {admitted}. Flyttas patienten hit, be den avdelningen registrera flytten i ärendet. Behövs ändå ett nytt ärende, ange skälet."
            ),
            format!(
                "The patient already has an open case at {at}, admitted {admitted}. A move is registered in that case."
            ),
        )
    };
    let problem = samverka_domain::Problem::conflict("open_case_exists", sv, en);
    let mut e = refuse(st, caller, "case.open", Some(patient.id), None, problem).await;
    if e.code == "open_case_exists" {
        e.field = Some("duplicate_reason".into());
        // Named only when it is the caller's ward's own case: theirs to open.
        if existing.ward_id == ward.id {
            e.existing_case = Some(existing.case_id);
        }
    }
    Err(e)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmNeedsRequest {
    /// When the doctor judged that the patient will need care after discharge.
    #[schema(value_type = String, format = DateTime)]
    pub assessed_at: Timestamp,
}

/// Why a draft from the admission feed is closed without a case.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum DismissReason {
    /// No care from the municipality or primary care will be needed after discharge.
    NoLongerNeeded,
    /// The admission was registered in error.
    AdmissionCancelled,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DismissDraftRequest {
    pub reason: DismissReason,
    #[serde(default)]
    pub note: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelDischargeRequest {
    /// Why the recorded discharge did not happen.
    pub note: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmergencyRequest {
    /// Why the care needs the case now (at least ten characters). Shown in log review.
    pub reason: String,
}

/// The stated reason for an emergency access: real words, at least ten characters.
pub fn emergency_reason(reason: &str) -> Result<(), samverka_domain::Problem> {
    samverka_domain::text::check_text("reason", reason, true)?;
    if reason.chars().count() < 10 {
        return Err(samverka_domain::Problem::invalid_field(
            "reason",
            "reason_too_short",
            "Skriv skälet till nödåtkomsten med några ord (minst tio tecken), t.ex. vilken vårdsituation det gäller.",
            "State the reason in at least ten characters.",
        ));
    }
    Ok(())
}

/// Grants (and logs) emergency access to a case the caller's unit takes no part in.
pub async fn grant_emergency(
    st: &AppState,
    caller: &Caller,
    id: CaseId,
    req: EmergencyRequest,
) -> AppResult<(CaseRecord, Patient)> {
    let action = "case.emergency_access";
    require(st, caller, Permission::EmergencyAccess, action, None, Some(id)).await?;
    let record = st.store.case(id).await?.ok_or_else(|| AppError::not_found("Ärendet"))?;
    let patient_id = record.case.patient_id;
    let reason = req.reason.trim();
    if let Err(p) = emergency_reason(reason) {
        return Err(refuse(st, caller, action, Some(patient_id), Some(id), p).await);
    }
    let now = st.clock.now();
    let patient = st.store.patient(patient_id).await?.ok_or_else(|| AppError::not_found("Patienten"))?;
    if !record.case.is_party(caller.actor.unit.id) {
        let expires = now + jiff::SignedDuration::from_mins(st.config.emergency_access_minutes);
        st.store
            .grant_emergency(Uuid::now_v7(), caller.actor.user.id, caller.actor.unit.id, id, reason, now, expires)
            .await?;
        tracing::warn!(case = %id, unit = %caller.actor.unit.id, "emergency access granted");
    }
    let emergency = (!record.case.is_party(caller.actor.unit.id)).then_some(reason);
    log_read(st, caller, action, Some(patient_id), Some(id), emergency, patient.protection.is_protected()).await?;
    Ok((record, patient))
}

/// The caller's unit's cases (the closed too when asked), most recent first; the list is
/// logged as one read.
pub async fn list(st: &AppState, caller: &Caller, include_closed: bool, limit: i64) -> AppResult<Vec<CaseSummary>> {
    const ACTION: &str = "cases.list";
    require(st, caller, Permission::ReadPatientData, ACTION, None, None).await?;
    let cases = st.store.cases_for_unit(caller.actor.unit.id, include_closed, limit).await?;
    log_read(st, caller, ACTION, None, None, None, cases.iter().any(|c| c.protection.is_protected())).await?;
    Ok(cases)
}

/// Every event of a case with who, unit and when, for a caller who may read the case.
pub async fn events(st: &AppState, caller: &Caller, id: CaseId) -> AppResult<Vec<RecordedEvent>> {
    read_case(st, caller, id, "case.read_history").await?;
    Ok(st.store.case_events(id).await?)
}

/// The patient of a case the caller has just read or changed (checked and logged with it).
pub async fn patient_of(st: &AppState, record: &CaseRecord) -> AppResult<Patient> {
    st.store.patient(record.case.patient_id).await?.ok_or_else(|| AppError::not_found("Patienten"))
}

/// The cases a system's search covers: the patient's cases or all the unit's, those the unit
/// is a party to and `keep` accepts. Each case is logged as read, all in one commit, before
/// anything is answered.
pub async fn visible(
    st: &AppState,
    caller: &Caller,
    patient: Option<Uuid>,
    keep: impl Fn(&CaseSummary) -> bool,
    action: &str,
) -> AppResult<Vec<CaseRecord>> {
    require(st, caller, Permission::ReadPatientData, action, None, None).await?;
    let summaries = match patient {
        Some(patient) => st.store.cases_for_patient(patient).await?,
        None => st.store.cases_for_unit(caller.actor.unit.id, true, 1000).await?,
    };
    let mut out = vec![];
    let mut entries = vec![];
    let now = st.clock.now();
    for s in summaries.iter().filter(|s| keep(s)) {
        let Some(record) = st.store.case(s.case_id).await? else { continue };
        if !record.case.is_party(caller.actor.unit.id) {
            continue;
        }
        let (patient, case, protected) = (record.case.patient_id, record.case.id, s.protection.is_protected());
        entries.push(caller.audit().entry(
            action,
            now,
            Some(patient),
            Some(case),
            samverka_store::Outcome::Allowed,
            None,
            protected,
        ));
        out.push(record);
    }
    if entries.is_empty() {
        log_read(st, caller, action, None, None, None, false).await?;
    } else {
        st.store.log_access_all(&entries).await?;
        caller.mark.set();
    }
    Ok(out)
}

/// Nödåtkomst by number: with a stated reason, the patient's current case (or latest) opens
/// even where the caller's unit takes no part. Role and reason are checked before anyone is
/// looked up; after the lookup, nobody with the number and a refused grant answer alike
/// (`None`), so the answer never tells whether a number belongs to someone. Each step is
/// logged.
pub async fn emergency_by_identifier(
    st: &AppState,
    caller: &Caller,
    number: &str,
    reason: &str,
) -> AppResult<Option<CaseId>> {
    const ACTION: &str = "patient.emergency_search";
    require(st, caller, Permission::EmergencyAccess, ACTION, None, None).await?;
    if let Err(p) = emergency_reason(reason) {
        return Err(refuse(st, caller, ACTION, None, None, p).await);
    }
    let rule = crate::patients::reserv_rule(st, &caller.actor).await?;
    let identifier = match samverka_domain::ids::PatientIdentifier::parse(
        number,
        samverka_domain::calendar::local_date(st.clock.now()),
        rule.as_ref(),
    ) {
        Ok(i) => i,
        Err(e) => return Err(refuse(st, caller, ACTION, None, None, e.problem("nummer")).await),
    };
    let patient = st.store.patient_by_identifier(&identifier).await?;
    let cases = match &patient {
        Some(p) => st.store.cases_for_patient(p.id).await?,
        None => vec![],
    };
    let case = cases.iter().find(|c| c.phase.is_open()).or(cases.first()).map(|c| c.case_id);
    let Some(case) = case else {
        let problem = samverka_domain::Problem::not_found("nobody", "Ingen träff.", "Nobody.");
        let logged = refuse(st, caller, ACTION, patient.map(|p| p.id), None, problem).await;
        // Answered only once the refusal is in the log.
        return if logged.code == "nobody" { Ok(None) } else { Err(logged) };
    };
    let request = EmergencyRequest { reason: reason.to_string() };
    Ok(grant_emergency(st, caller, case, request).await.ok().map(|_| case))
}

/// The case a message or consent id belongs to, for the caller. Ids are unique within a
/// case: of the `cases` an id appears in, the one the caller's unit takes part in, if any;
/// otherwise the first, so a unit outside the care is refused (and logged) when it reads it,
/// rather than told nothing.
async fn pick_case(st: &AppState, caller: &Caller, cases: Vec<CaseId>) -> AppResult<Option<CaseId>> {
    let unit = caller.actor.unit.id;
    let mut candidate = None;
    for case_id in cases {
        if st.store.case(case_id).await?.is_some_and(|r| r.case.is_party(unit)) {
            return Ok(Some(case_id));
        }
        candidate = candidate.or(Some(case_id));
    }
    Ok(candidate)
}

/// The case of a message, as [`pick_case`] chooses it.
pub async fn case_of_message(st: &AppState, caller: &Caller, message: Uuid) -> AppResult<Option<CaseId>> {
    pick_case(st, caller, st.store.cases_of_message(message).await?).await
}

/// The case of a consent, as [`pick_case`] chooses it.
pub async fn case_of_consent(st: &AppState, caller: &Caller, consent: Uuid) -> AppResult<Option<CaseId>> {
    pick_case(st, caller, st.store.cases_of_consent(consent).await?).await
}

/// Acknowledges, in one change, every message in the case that the caller's unit has yet to
/// acknowledge (a unit back from a weekend may have a dozen).
pub async fn acknowledge_all(st: &AppState, caller: &Caller, id: CaseId) -> AppResult<CaseRecord> {
    const ACTION: &str = "case.acknowledge_all";
    require(st, caller, Permission::HandleMessages, ACTION, None, Some(id)).await?;
    let (record, _) = read_case(st, caller, id, ACTION).await?;
    let cmds: Vec<Command> = record
        .case
        .available(&caller.actor, st.clock.now())
        .into_iter()
        .filter_map(|a| match a {
            samverka_domain::action::Action::Acknowledge { message_id } => {
                Some(Command::AcknowledgeMessage { message_id })
            }
            _ => None,
        })
        .collect();
    if cmds.is_empty() {
        let p = samverka_domain::Problem::conflict(
            "nothing_to_acknowledge",
            "Det finns inget meddelande till er enhet att kvittera i ärendet.",
            "Nothing to acknowledge for your unit in this case.",
        );
        return Err(refuse(st, caller, ACTION, Some(record.case.patient_id), Some(id), p).await);
    }
    execute_all(st, caller, id, cmds).await
}

/// What the person has said in their case (their own words before the SIP meeting, whether
/// they take part, their questions), for a case the caller has just read through
/// [`read_case`] (which logged the read).
/// What the person said in a case the caller has just read (the read is logged). What reached
/// the caller's unit is marked opened by it the first time (the person sees it, as a staff
/// message's sender does); on a full disk the caller reads on.
pub async fn person_statements(
    st: &AppState,
    caller: &Caller,
    read: &CaseRecord,
) -> AppResult<Vec<samverka_store::StatementRecord>> {
    let mut said = st.store.person_statements(read.case.id).await?;
    let unit = &caller.actor.unit;
    let new: Vec<Uuid> = said
        .iter()
        .filter(|s| s.delivered.iter().any(|(u, _)| *u == unit.id) && !s.opens.iter().any(|o| o.unit_id == unit.id))
        .map(|s| s.id)
        .collect();
    if !new.is_empty() {
        let opened = samverka_store::StatementRead {
            unit_id: unit.id,
            unit_name: unit.name.clone(),
            by_name: caller.actor.user.name.clone(),
            at: st.clock.now(),
        };
        match st.store.open_person_statements(&new, &opened).await {
            Ok(()) => {
                for s in said.iter_mut().filter(|s| new.contains(&s.id)) {
                    s.opens.push(opened.clone());
                }
                st.changed(&read.case);
            }
            Err(samverka_store::StoreError::DiskFull) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(said)
}

/// The caller's unit has read what the person said (the person sees who and when). Only a
/// unit that takes part in the case.
pub async fn read_person_statement(st: &AppState, caller: &Caller, id: CaseId, statement: Uuid) -> AppResult<()> {
    const ACTION: &str = "case.person_statement_read";
    let (record, patient) = read_case(st, caller, id, ACTION).await?;
    if !record.case.is_party(caller.actor.unit.id) {
        let problem = samverka_domain::error::Problem::forbidden(
            "not_a_party",
            "Bara enheter som deltar i ärendet kan markera patientens ord som lästa.",
            "Only a unit taking part in the case can mark the person's words as read.",
        );
        return Err(refuse(st, caller, ACTION, Some(record.case.patient_id), Some(id), problem).await);
    }
    let said = st.store.person_statements(id).await?;
    if !said.iter().any(|s| s.id == statement) {
        return Err(AppError::not_found("Det patienten skrev"));
    }
    let now = st.clock.now();
    let read = samverka_store::StatementRead {
        unit_id: caller.actor.unit.id,
        unit_name: caller.actor.unit.name.clone(),
        by_name: caller.actor.user.name.clone(),
        at: now,
    };
    let log = caller.audit().entry(
        ACTION,
        now,
        Some(record.case.patient_id),
        Some(id),
        samverka_store::Outcome::Allowed,
        None,
        patient.protection.is_protected(),
    );
    st.store.read_person_statement(statement, &read, &log).await?;
    st.changed(&record.case);
    Ok(())
}
