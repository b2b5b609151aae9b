//! Reads and searches: what a client may see of the cases its unit takes part in, the
//! reference data, staff and the access log, as FHIR resources.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use samverka_domain::access::Permission;
use samverka_domain::calendar::local_date;
use samverka_domain::case::Case;
use samverka_domain::deadlines::deadlines;
use samverka_domain::ids::{HsaId, PatientIdentifier};
use samverka_store::CaseRecord;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::FhirCaller;
use crate::http::{FhirError, FhirResult, fhir};
use crate::resources;
use crate::search::{Search, SearchRequest, Token, bad_value, identifiers_match};
use samverka_app::AppState;
use samverka_app::audit::{log_read, require};
use samverka_app::patients::Lookup;
use samverka_app::scopes::Access;

pub(crate) fn parse_id(raw: &str, what_sv: &str) -> Result<Uuid, FhirError> {
    Uuid::parse_str(raw).map_err(|_| {
        FhirError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("{what_sv} med id \"{raw}\" finns inte."),
            format!("No resource with id \"{raw}\"."),
        )
    })
}

/// The search of a request, by the table's row for the resource type.
fn search(st: &AppState, ty: &str, req: &SearchRequest) -> Result<Search, FhirError> {
    Search::parse(ty, req, st.clock.now())
}

// ---- Organization (reference data: any client) -----------------------------------------------

pub(crate) async fn organization_resources(st: &AppState) -> Result<Vec<Value>, FhirError> {
    let mut out: Vec<Value> = st.store.organisations().await?.iter().map(|(o, _)| resources::organisation(o)).collect();
    for u in st.store.units().await?.iter() {
        out.push(resources::unit(u, u.kind.label_sv()));
    }
    with_directory_times(st, &mut out).await?;
    Ok(out)
}

/// Gives directory resources (organisations, units, users, assignments) the time they last
/// changed as `meta.lastUpdated`.
async fn with_directory_times(st: &AppState, resources: &mut [Value]) -> Result<(), FhirError> {
    let ids: Vec<Uuid> = resources.iter().filter_map(|r| r["id"].as_str()?.parse().ok()).collect();
    let times = st.store.directory_times(&ids).await?;
    for r in resources.iter_mut() {
        let at = r["id"].as_str().and_then(|id| id.parse::<Uuid>().ok()).and_then(|id| times.get(&id));
        if let Some(at) = at {
            r["meta"]["lastUpdated"] = serde_json::json!(resources::instant(at));
        }
    }
    Ok(())
}

pub(crate) async fn read_organization(State(st): State<AppState>, c: FhirCaller, Path(id): Path<String>) -> FhirResult {
    c.require("Organization", Access::Read)?;
    let id = parse_id(&id, "Organisationen")?;
    let all = organization_resources(&st).await?;
    let found = all
        .into_iter()
        .find(|r| r["id"] == id.to_string())
        .ok_or_else(|| FhirError::not_found("Organisationen", "Organization"))?;
    Ok(fhir(&found))
}

pub(crate) async fn search_organizations(State(st): State<AppState>, c: FhirCaller, req: SearchRequest) -> FhirResult {
    c.require("Organization", Access::Read)?;
    let s = search(&st, "Organization", &req)?;
    for (_, values) in s.occurrences("identifier") {
        for v in values {
            let code = Token::parse(v).code;
            if !code.is_empty() && HsaId::parse(code).is_err() {
                return Err(bad_value("identifier", v, "är inget HSA-id.", "is not an HSA id."));
            }
        }
    }
    let mut all = organization_resources(&st).await?;
    all.retain(|r| identifiers_match(&s, r));
    Ok(fhir(&s.bundle(all)))
}

// ---- Patient ----------------------------------------------------------------------------------

pub(crate) async fn read_patient(State(st): State<AppState>, c: FhirCaller, Path(id): Path<String>) -> FhirResult {
    c.require("Patient", Access::Read)?;
    let id = parse_id(&id, "Patienten")?;
    let (p, changed) = samverka_app::patients::read(&st, &c.caller, id, "fhir.patient.read").await?;
    Ok(fhir(&resources::patient(&p, Some(&changed))))
}

/// Search by identifier (`system|value` or the value alone) or id. Like the search page, a
/// number the unit does not care for gives an empty Bundle, never a hint that the person
/// exists; only the patients asked for are read (and logged).
pub(crate) async fn search_patients(State(st): State<AppState>, c: FhirCaller, req: SearchRequest) -> FhirResult {
    c.require("Patient", Access::Read)?;
    let s = search(&st, "Patient", &req)?;
    let caller = &c.caller;
    let action = "fhir.patient.search";
    let mut lookups = vec![];
    if let Some((_, values)) = s.occurrences("identifier").next() {
        let rule = samverka_app::patients::reserv_rule(&st, &caller.actor).await?;
        for v in values {
            let token = Token::parse(v);
            if token.code.is_empty() {
                // `system|`: every patient of the unit with an identifier in that system.
                lookups = vec![Lookup::OfUnit];
                break;
            }
            let identifier =
                PatientIdentifier::parse(token.code, local_date(st.clock.now()), rule.as_ref()).map_err(|e| {
                    let pr = e.problem("identifier");
                    FhirError::invalid(pr.message_sv, pr.message_en)
                })?;
            // `system|value` matches only in that system.
            let system_ok = token.system.is_none_or(|sys| sys == resources::identifier_system(&identifier));
            lookups.push(if system_ok { Lookup::Identifier(identifier) } else { Lookup::Nobody });
        }
    } else if let Some((_, values)) = s.occurrences("_id").next() {
        for v in values {
            lookups.push(Uuid::parse_str(v).map(Lookup::Id).unwrap_or(Lookup::Nobody));
        }
    } else {
        lookups.push(Lookup::OfUnit);
    }
    let mut found: Vec<(samverka_domain::patient::Patient, Option<jiff::Timestamp>)> = vec![];
    for lookup in lookups {
        for (p, at) in samverka_app::patients::find(&st, caller, lookup, action).await? {
            if !found.iter().any(|(f, _)| f.id == p.id) {
                found.push((p, at));
            }
        }
    }
    // Change times that did not come with the read (a unit's whole list), in one more read.
    let missing: Vec<Uuid> = found.iter().filter(|(_, at)| at.is_none()).map(|(p, _)| p.id).collect();
    let changed = samverka_app::patients::last_changed(&st, &missing).await?;
    let mut all: Vec<Value> =
        found.iter().map(|(p, at)| resources::patient(p, at.as_ref().or_else(|| changed.get(&p.id)))).collect();
    all.retain(|r| identifiers_match(&s, r));
    Ok(fhir(&s.bundle(all)))
}

// ---- resources derived from cases --------------------------------------------------------------

/// The cases a search covers: the named patients' cases the unit takes part in, or all the
/// unit's cases, narrowed by `_lastUpdated` (a case's resources change with it) and, for the
/// types whose id is the case's, by `_id`, before anything is read; each read is checked and
/// logged like a case page.
pub(crate) async fn visible_cases(
    st: &AppState,
    c: &FhirCaller,
    s: &Search,
    ids_are_cases: bool,
    action: &str,
) -> Result<Vec<CaseRecord>, FhirError> {
    let patients = match (s.reference_set("patient", "Patient")?, s.reference_set("subject", "Patient")?) {
        (Some(mut a), Some(b)) => {
            a.retain(|id| b.contains(id));
            Some(a)
        }
        (a, b) => a.or(b),
    };
    let keep = |x: &samverka_store::CaseSummary| {
        s.date_matches("_lastUpdated", x.updated_at) && (!ids_are_cases || s.id_matches(x.case_id))
    };
    let Some(patients) = patients else {
        return Ok(samverka_app::cases::visible(st, &c.caller, None, keep, action).await?);
    };
    if patients.is_empty() {
        // Patients that exclude each other (`patient=A&patient=B`): nothing, once the caller
        // is known to be allowed to search at all.
        return Ok(samverka_app::cases::visible(st, &c.caller, None, |_| false, action).await?);
    }
    let mut out: Vec<CaseRecord> = vec![];
    for p in patients {
        out.extend(samverka_app::cases::visible(st, &c.caller, Some(p), keep, action).await?);
    }
    Ok(out)
}

pub(crate) async fn read_record(
    st: &AppState,
    c: &FhirCaller,
    id: &str,
    action: &str,
) -> Result<CaseRecord, FhirError> {
    let id = parse_id(id, "Ärendet")?;
    let (record, _) = samverka_app::cases::read_case(st, &c.caller, id, action).await?;
    Ok(record)
}

pub(crate) async fn read_case(
    st: &AppState,
    c: &FhirCaller,
    id: &str,
    action: &str,
) -> Result<std::sync::Arc<Case>, FhirError> {
    Ok(read_record(st, c, id, action).await?.case)
}

pub(crate) async fn read_episode(State(st): State<AppState>, c: FhirCaller, Path(id): Path<String>) -> FhirResult {
    c.require("EpisodeOfCare", Access::Read)?;
    let case = read_case(&st, &c, &id, "fhir.episode.read").await?;
    let available = case.available(&c.caller.actor, st.clock.now());
    Ok(fhir(&resources::episode_of_care(&case, &available)))
}

pub(crate) async fn search_episodes(State(st): State<AppState>, c: FhirCaller, req: SearchRequest) -> FhirResult {
    c.require("EpisodeOfCare", Access::Read)?;
    let s = search(&st, "EpisodeOfCare", &req)?;
    let cases = visible_cases(&st, &c, &s, true, "fhir.episode.search").await?;
    let now = st.clock.now();
    let all: Vec<Value> =
        cases.iter().map(|r| resources::episode_of_care(&r.case, &r.case.available(&c.caller.actor, now))).collect();
    Ok(fhir(&s.bundle(all)))
}

pub(crate) async fn read_encounter(State(st): State<AppState>, c: FhirCaller, Path(id): Path<String>) -> FhirResult {
    c.require("Encounter", Access::Read)?;
    let case = read_case(&st, &c, &id, "fhir.encounter.read").await?;
    // A coordination at home has no hospital stay.
    if case.home.is_some() {
        return Err(FhirError::not_found("Vårdtillfället", "Encounter"));
    }
    Ok(fhir(&resources::encounter(&case)))
}

pub(crate) async fn search_encounters(State(st): State<AppState>, c: FhirCaller, req: SearchRequest) -> FhirResult {
    c.require("Encounter", Access::Read)?;
    let s = search(&st, "Encounter", &req)?;
    let cases = visible_cases(&st, &c, &s, true, "fhir.encounter.search").await?;
    let all: Vec<Value> =
        cases.iter().filter(|r| r.case.home.is_none()).map(|r| resources::encounter(&r.case)).collect();
    Ok(fhir(&s.bundle(all)))
}

pub(crate) async fn search_communications(State(st): State<AppState>, c: FhirCaller, req: SearchRequest) -> FhirResult {
    c.require("Communication", Access::Read)?;
    let s = search(&st, "Communication", &req)?;
    let cases = visible_cases(&st, &c, &s, false, "fhir.communication.search").await?;
    let mut all = vec![];
    for r in &cases {
        for m in &r.case.messages {
            all.push(resources::communication(&r.case, m, m.message.body.kind().label_sv()));
        }
    }
    Ok(fhir(&s.bundle(all)))
}

pub(crate) async fn search_tasks(State(st): State<AppState>, c: FhirCaller, req: SearchRequest) -> FhirResult {
    c.require("Task", Access::Read)?;
    let s = search(&st, "Task", &req)?;
    let owners = s.reference_set("owner", "Organization")?;
    let cases = visible_cases(&st, &c, &s, false, "fhir.task.search").await?;
    let now = st.clock.now();
    let mut all = vec![];
    for r in &cases {
        let Some(agreement) = st.store.agreements().get(&r.agreement_id) else { continue };
        for d in deadlines(&r.case, &agreement, now) {
            let unit = d.owner.and_then(|o| r.case.parties.iter().find(|p| p.unit.id == o).map(|p| &p.unit));
            if owners.as_ref().is_some_and(|o| !d.owner.is_some_and(|x| o.contains(&x))) {
                continue;
            }
            all.push(resources::task(&r.case, &d, unit, d.kind.step().label_sv()));
        }
    }
    Ok(fhir(&s.bundle(all)))
}

pub(crate) async fn search_care_plans(State(st): State<AppState>, c: FhirCaller, req: SearchRequest) -> FhirResult {
    c.require("CarePlan", Access::Read)?;
    let s = search(&st, "CarePlan", &req)?;
    let cases = visible_cases(&st, &c, &s, true, "fhir.careplan.search").await?;
    let all = cases.iter().filter_map(|r| r.case.sip.current().map(|v| resources::care_plan(&r.case, v))).collect();
    Ok(fhir(&s.bundle(all)))
}

/// The screenings of the cases visible to the caller, each with the region's wording of its
/// frailty level when the agreement has one (else Samverka's own), then the joint rounds' notes.
fn observations(st: &AppState, r: &CaseRecord) -> Vec<serde_json::Value> {
    let mut all = screenings(st, r);
    all.extend(r.case.rounds.notes.iter().enumerate().map(|(i, n)| resources::round_observation(&r.case, i + 1, n)));
    all
}

fn screenings(st: &AppState, r: &CaseRecord) -> Vec<serde_json::Value> {
    let agreement = st.store.agreements().get(&r.agreement_id);
    let texts = samverka_app::texts::texts(samverka_app::texts::Lang::SV);
    r.case
        .screenings
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let level = s.screening.frailty.map(|f| texts.frailty_level(agreement.as_deref(), f.level()));
            resources::observation(&r.case, i + 1, s, level.as_deref())
        })
        .collect()
}

pub(crate) async fn search_observations(State(st): State<AppState>, c: FhirCaller, req: SearchRequest) -> FhirResult {
    c.require("Observation", Access::Read)?;
    let s = search(&st, "Observation", &req)?;
    let cases = visible_cases(&st, &c, &s, false, "fhir.observation.search").await?;
    let all = cases.iter().flat_map(|r| observations(&st, r)).collect();
    Ok(fhir(&s.bundle(all)))
}

/// Observation ids are `<case id>-screening-<n>`, the n:th screening of the case, or
/// `<case id>-round-<n>`, the n:th note from a joint round.
pub(crate) async fn read_observation(State(st): State<AppState>, c: FhirCaller, Path(id): Path<String>) -> FhirResult {
    c.require("Observation", Access::Read)?;
    let (case_part, rest) = (id.get(..36).unwrap_or(""), id.get(36..).unwrap_or(""));
    let number = |prefix: &str| rest.strip_prefix(prefix).and_then(|n| n.parse::<usize>().ok());
    let (screening, round) = (number("-screening-"), number("-round-"));
    let record = read_record(&st, &c, case_part, "fhir.observation.read").await?;
    let found = match (screening, round) {
        (Some(n), _) => screenings(&st, &record).into_iter().nth(n.wrapping_sub(1)),
        (_, Some(n)) => {
            let note = record.case.rounds.notes.get(n.wrapping_sub(1));
            note.map(|note| resources::round_observation(&record.case, n, note))
        }
        _ => None,
    };
    found.map(|o| fhir(&o)).ok_or_else(|| FhirError::not_found("Observationen", "Observation"))
}

pub(crate) async fn search_consents(State(st): State<AppState>, c: FhirCaller, req: SearchRequest) -> FhirResult {
    c.require("Consent", Access::Read)?;
    let s = search(&st, "Consent", &req)?;
    let cases = visible_cases(&st, &c, &s, false, "fhir.consent.search").await?;
    let all = cases.iter().flat_map(|r| r.case.consents.0.iter().map(|x| resources::consent(&r.case, x))).collect();
    Ok(fhir(&s.bundle(all)))
}

// ---- Practitioner, PractitionerRole, Device (who acts: no patient data) -------------------------

pub(crate) async fn read_practitioner(State(st): State<AppState>, c: FhirCaller, Path(id): Path<String>) -> FhirResult {
    c.require("Practitioner", Access::Read)?;
    let id = parse_id(&id, "Personen")?;
    let a = st.store.account(id).await?.ok_or_else(|| FhirError::not_found("Personen", "Practitioner"))?;
    let mut r = [resources::practitioner(&a)];
    with_directory_times(&st, &mut r).await?;
    Ok(fhir(&r[0]))
}

/// The systems that act in Samverka on their own (the HL7 feed, escalation), named in the
/// access log and so in AuditEvents.
pub(crate) async fn read_device(c: FhirCaller, Path(id): Path<String>) -> FhirResult {
    c.require("Device", Access::Read)?;
    let id = parse_id(&id, "Systemet")?;
    let (_, name) = samverka_app::SYSTEM_IDENTITIES
        .iter()
        .find(|(system, _)| *system == id)
        .ok_or_else(|| FhirError::not_found("Systemet", "Device"))?;
    Ok(fhir(&resources::device(id, name)))
}

pub(crate) async fn read_practitioner_role(
    State(st): State<AppState>,
    c: FhirCaller,
    Path(id): Path<String>,
) -> FhirResult {
    c.require("PractitionerRole", Access::Read)?;
    let id = parse_id(&id, "Uppdraget")?;
    let a = st.store.assignment(id).await?.ok_or_else(|| FhirError::not_found("Uppdraget", "PractitionerRole"))?;
    let name = st.store.account(a.user_id).await?.map(|u| u.name).unwrap_or_default();
    let mut r = [resources::practitioner_role(&a, &name)];
    with_directory_times(&st, &mut r).await?;
    Ok(fhir(&r[0]))
}

pub(crate) async fn search_practitioner_roles(
    State(st): State<AppState>,
    c: FhirCaller,
    req: SearchRequest,
) -> FhirResult {
    c.require("PractitionerRole", Access::Read)?;
    let s = search(&st, "PractitionerRole", &req)?;
    let mut all = vec![];
    for id in s.reference_set("practitioner", "Practitioner")?.unwrap_or_default() {
        let name = st.store.account(id).await?.map(|u| u.name).unwrap_or_default();
        all.extend(st.store.assignments_of(id).await?.iter().map(|a| resources::practitioner_role(a, &name)));
    }
    with_directory_times(&st, &mut all).await?;
    Ok(fhir(&s.bundle(all)))
}

// ---- AuditEvent (log review: MAS and enhetschef, own organisation) ------------------------------

/// The accesses to a patient's data within the caller's organisation, for log review.
pub(crate) async fn search_audit_events(State(st): State<AppState>, c: FhirCaller, req: SearchRequest) -> FhirResult {
    c.require("AuditEvent", Access::Read)?;
    let caller = &c.caller;
    let action = "fhir.auditevent.search";
    let s = search(&st, "AuditEvent", &req)?;
    let mut all = vec![];
    for patient in s.reference_set("patient", "Patient")?.unwrap_or_default() {
        require(&st, caller, Permission::ReviewAccessLog, action, Some(patient), None).await?;
        let filter = samverka_store::AccessFilter {
            organisation_id: Some(caller.actor.unit.organisation_id),
            patient_id: Some(patient),
            limit: 10_000,
            ..Default::default()
        };
        all.extend(st.store.access_log(&filter).await?.iter().map(resources::audit_event));
        let protected = st.store.patient(patient).await?.is_some_and(|x| x.protection.is_protected());
        log_read(&st, caller, action, Some(patient), None, None, protected).await?;
    }
    Ok(fhir(&s.bundle(all)))
}

// ---- reads by id of resources inside a case ------------------------------------------------------

pub(crate) async fn read_communication(
    State(st): State<AppState>,
    c: FhirCaller,
    Path(id): Path<String>,
) -> FhirResult {
    c.require("Communication", Access::Read)?;
    let message = parse_id(&id, "Meddelandet")?;
    let case_id = case_of_message(&st, &c, message).await?;
    let case = read_case(&st, &c, &case_id.to_string(), "fhir.communication.read").await?;
    let m = case.message(message).ok_or_else(|| FhirError::not_found("Meddelandet", "Communication"))?;
    Ok(fhir(&resources::communication(&case, m, m.message.body.kind().label_sv())))
}

pub(crate) async fn case_of_message(st: &AppState, c: &FhirCaller, message: Uuid) -> Result<Uuid, FhirError> {
    samverka_app::cases::case_of_message(st, &c.caller, message)
        .await?
        .ok_or_else(|| FhirError::not_found("Meddelandet", "Communication"))
}

/// Task ids are `<case id>-<deadline kind>`, e.g. `…-admission-notice`.
pub(crate) async fn read_task(State(st): State<AppState>, c: FhirCaller, Path(id): Path<String>) -> FhirResult {
    c.require("Task", Access::Read)?;
    let (case_part, kind) = (id.get(..36).unwrap_or(""), id.get(37..).unwrap_or(""));
    let record = read_record(&st, &c, case_part, "fhir.task.read").await?;
    let case = &record.case;
    let agreement = st
        .store
        .agreements()
        .get(&record.agreement_id)
        .ok_or_else(|| FhirError::not_found("Överenskommelsen", "agreement"))?;
    let d = deadlines(case, &agreement, st.clock.now())
        .into_iter()
        .find(|d| d.kind.as_str().replace('_', "-") == kind)
        .ok_or_else(|| FhirError::not_found("Uppgiften", "Task"))?;
    let unit = d.owner.and_then(|o| case.parties.iter().find(|p| p.unit.id == o).map(|p| &p.unit));
    Ok(fhir(&resources::task(case, &d, unit, d.kind.step().label_sv())))
}

/// A case's SIP has the case's id.
pub(crate) async fn read_care_plan(State(st): State<AppState>, c: FhirCaller, Path(id): Path<String>) -> FhirResult {
    c.require("CarePlan", Access::Read)?;
    let case = read_case(&st, &c, &id, "fhir.careplan.read").await?;
    let v = case.sip.current().ok_or_else(|| FhirError::not_found("Planen", "CarePlan"))?;
    Ok(fhir(&resources::care_plan(&case, v)))
}
