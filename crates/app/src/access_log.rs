//! Log review (loggkontroll) for MAS and enhetschef, and the extract a patient may ask for:
//! who in the organisation has accessed their data.

use jiff::Timestamp;
use jiff::civil::Date;
use samverka_domain::access::Permission;
use samverka_domain::calendar::{end_of_day, local_date, start_of_day};
use samverka_domain::ids::PatientIdentifier;
use samverka_store::{AccessEntry, AccessFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::audit::{log_read, refuse, require};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::patients::reserv_rule;

#[derive(Deserialize, IntoParams)]
pub struct ReviewQuery {
    /// The patient's personnummer, samordningsnummer or reservnummer.
    pub patient: Option<String>,
    pub user: Option<Uuid>,
    pub unit: Option<Uuid>,
    /// First day, YYYY-MM-DD.
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD.
    pub to: Option<String>,
    /// Only emergency accesses (nödåtkomst).
    #[serde(default)]
    pub emergency: bool,
    /// Only accesses to patients with protected identity.
    #[serde(default)]
    pub protected: bool,
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Review {
    pub entries: Vec<AccessEntry>,
    /// True when there were more entries than `limit`.
    pub truncated: bool,
}

fn date(field: &str, s: &str) -> AppResult<Date> {
    s.parse().map_err(|_| {
        AppError::invalid(field, "invalid_date", "Skriv datumet som ÅÅÅÅ-MM-DD.", "Write the date as YYYY-MM-DD.")
    })
}

async fn patient_id(st: &AppState, caller: &Caller, identifier: &str) -> AppResult<Option<Uuid>> {
    let rule = reserv_rule(st, &caller.actor).await?;
    let id = PatientIdentifier::parse(identifier, local_date(st.clock.now()), rule.as_ref())
        .map_err(|e| e.problem("patient"))?;
    Ok(st.store.patient_by_identifier(&id).await?.map(|p| p.id))
}

/// Entries of the reviewer's own organisation, newest first.
pub async fn review(st: &AppState, caller: &Caller, q: ReviewQuery) -> AppResult<Review> {
    let action = "log.review";
    require(st, caller, Permission::ReviewAccessLog, action, None, None).await?;
    let limit = q.limit.unwrap_or(500).clamp(1, 5000);
    let patient = match &q.patient {
        Some(p) => Some(patient_id(st, caller, p).await?.unwrap_or_else(Uuid::nil)),
        None => None,
    };
    let filter = AccessFilter {
        organisation_id: Some(caller.actor.unit.organisation_id),
        patient_id: patient,
        user_id: q.user,
        unit_id: q.unit,
        from: q.from.as_deref().map(|d| date("from", d)).transpose()?.map(start_of_day),
        to: q.to.as_deref().map(|d| date("to", d)).transpose()?.map(end_of_day),
        emergency_only: q.emergency,
        protected_only: q.protected,
        limit: limit + 1,
    };
    let mut entries = st.store.access_log(&filter).await?;
    let truncated = entries.len() as i64 > limit;
    entries.truncate(limit as usize);
    log_read(st, caller, action, patient.filter(|p| !p.is_nil()), None, None, false).await?;
    Ok(Review { entries, truncated })
}

#[derive(Deserialize, IntoParams)]
pub struct ExtractQuery {
    /// The patient's personnummer, samordningsnummer or reservnummer.
    pub patient: String,
}

/// One line of the extract, in words a patient understands.
#[derive(Serialize, ToSchema)]
pub struct ExtractLine {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub unit: String,
    pub user: String,
    pub role: String,
    pub what: String,
    pub emergency: bool,
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PatientExtract {
    pub patient_name: String,
    pub patient_identifier: String,
    pub organisation: String,
    #[schema(value_type = String, format = DateTime)]
    pub generated_at: Timestamp,
    pub lines: Vec<ExtractLine>,
}

/// What an access-log action means, in Swedish.
pub fn action_sv(action: &str) -> &'static str {
    match action {
        "case.read" => "läste ärendet",
        "case.read_live" => "ärendet uppdaterades på en öppen sida",
        "case.read_sip" => "läste SIP",
        "case.print_sip" => "skrev ut SIP",
        "case.read_message" => "läste ett meddelande",
        "case.open_again" => "läste ärendet vid upprepad inskrivning",
        "inbox.read" => "läste inkorgen",
        "inbox.read_live" => "inkorgen uppdaterades på en öppen sida",
        "cases.list" => "läste enhetens ärendelista",
        "patient.register_again" => "registrerade patienten på nytt (samma begäran)",
        "patient.emergency_search" => "sökte med nödåtkomst",
        "case.read_history" => "läste ärendets historik",
        "case.read_liability" => "läste betalningsansvaret för ärendet",
        "case.open" => "registrerade inskrivning",
        "case.emergency_access" => "öppnade ärendet med nödåtkomst",
        "case.send_message" => "skickade ett meddelande",
        "case.open_message" => "öppnade ett meddelande",
        "case.acknowledge_message" => "kvitterade ett meddelande",
        "case.mark_mis_sent" => "markerade ett meddelande som felskickat",
        "case.forward_message" => "vidarebefordrade ett meddelande",
        "case.transfer_patient" => "registrerade flytt till annan avdelning",
        "case.record_discharge" => "registrerade utskrivning",
        "case.add_party" => "bjöd in en enhet till ärendet",
        "case.record_consent" => "registrerade samtycke",
        "case.withdraw_consent" => "registrerade återkallat samtycke",
        "case.draw_up_sip" => "upprättade SIP",
        "case.follow_up_sip" => "följde upp SIP",
        "case.close_case" => "avslutade ärendet",
        "case.record_screening" => "registrerade en screening",
        "case.record_round_note" => "skrev en anteckning från gemensam rond",
        "case.complete_round_action" => "markerade en åtgärd från gemensam rond som klar",
        "round.read" => "läste patientlistan för gemensam rond",
        "round.list_patient" => "satte upp personen på en gemensam rond",
        "patient.register" => "registrerade patienten",
        "patient.register_existing" => "hämtade patientens uppgifter vid inskrivning",
        "patient.search" => "sökte på personnumret",
        "patient.read" => "läste patientens uppgifter",
        "patient.revise" => "ändrade patientens uppgifter",
        _ => "annan åtkomst",
    }
}

/// The accesses to one patient's data within the organisation, for the patient.
pub async fn extract(st: &AppState, caller: &Caller, q: ExtractQuery) -> AppResult<PatientExtract> {
    let action = "log.extract";
    require(st, caller, Permission::ReviewAccessLog, action, None, None).await?;
    // Unknown to Samverka and unknown to this organisation's log get the same answer: the
    // extract never tells a reviewer that someone exists elsewhere.
    // The refusal is logged too: asking after a patient is itself an access attempt.
    let nobody = || {
        samverka_domain::error::Problem::not_found(
            "not_found",
            "Ingen åtkomst till den patienten finns i organisationens logg.",
            "No access to that patient in this organisation's log.",
        )
    };
    let Some(id) = patient_id(st, caller, &q.patient).await? else {
        return Err(refuse(st, caller, action, None, None, nobody()).await);
    };
    let filter = AccessFilter {
        organisation_id: Some(caller.actor.unit.organisation_id),
        patient_id: Some(id),
        limit: 100_000,
        ..Default::default()
    };
    let entries = st.store.access_log(&filter).await?;
    if !entries.iter().any(|e| e.outcome == samverka_store::Outcome::Allowed) {
        return Err(refuse(st, caller, action, Some(id), None, nobody()).await);
    }
    let patient = st.store.patient(id).await?.ok_or_else(|| AppError::from(nobody()))?;
    let org = st.store.organisation(caller.actor.unit.organisation_id).await?.map(|(o, _)| o.name).unwrap_or_default();
    let lines = entries
        .into_iter()
        .filter(|e| e.outcome == samverka_store::Outcome::Allowed)
        .map(|e| ExtractLine {
            at: e.at,
            unit: e.unit_name,
            user: e.user_name,
            role: e.role.map(|r| r.label_sv().to_string()).unwrap_or_default(),
            what: action_sv(&e.action).to_string(),
            emergency: e.emergency,
            reason: e.reason,
        })
        .collect();
    log_read(st, caller, action, Some(id), None, None, patient.protection.is_protected()).await?;
    Ok(PatientExtract {
        patient_name: patient.full_name(),
        patient_identifier: patient.identifier.display(),
        organisation: org,
        generated_at: st.clock.now(),
        lines,
    })
}
