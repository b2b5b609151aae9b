//! Reads and searches: what a client may see of the cases its unit takes part in, the
//! reference data, staff and the access log, as FHIR resources.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use jiff::Timestamp;
use samverka_domain::access::Permission;
use samverka_domain::calendar::local_date;
use samverka_domain::case::Case;
use samverka_domain::deadlines::deadlines;
use samverka_domain::ids::{HsaId, PatientIdentifier};
use samverka_store::CaseRecord;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::FhirCaller;
use crate::http::{FhirError, FhirResult, fhir};
use crate::resources;
use samverka_app::AppState;
use samverka_app::audit::{log_read, require};
use samverka_app::patients::Lookup;
use samverka_app::scopes::Access;

// ---- search parameters and bundles ------------------------------------------------------------

/// The common search parameters, read from the query string.
pub struct Params {
    pairs: Vec<(String, String)>,
    count: usize,
    offset: usize,
}

const DEFAULT_COUNT: usize = 50;
const MAX_COUNT: usize = 200;

impl Params {
    fn parse(uri: &Uri, allowed: &[&str]) -> Result<Params, FhirError> {
        Params::parse_query(uri.query().unwrap_or(""), allowed)
    }

    /// Reads a query string, allowing the parameters named and the common ones.
    pub fn parse_query(query: &str, allowed: &[&str]) -> Result<Params, FhirError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|_| FhirError::invalid("Sökfrågan kan inte läsas.", "The query string cannot be read."))?;
        for (k, _) in &pairs {
            let name = k.split(':').next().unwrap_or(k);
            // No modifier is supported: one dropped silently would widen the search (a
            // `identifier:exact` that matched every patient of the unit).
            if let Some((_, modifier)) = k.split_once(':') {
                return Err(FhirError::invalid(
                    format!("Modifieraren \":{modifier}\" i \"{k}\" stöds inte. Sök utan modifierare."),
                    format!("The modifier \":{modifier}\" in \"{k}\" is not supported."),
                ));
            }
            if !allowed.contains(&name) && !matches!(name, "_count" | "_offset" | "_lastUpdated" | "_format") {
                return Err(FhirError::invalid(
                    format!("Sökparametern \"{k}\" stöds inte här. Möjliga: {}.", allowed.join(", ")),
                    format!("Search parameter \"{k}\" is not supported here."),
                ));
            }
        }
        let number = |name: &str, default: usize, max: usize| -> Result<usize, FhirError> {
            match pairs.iter().find(|(k, _)| k == name) {
                None => Ok(default),
                Some((_, v)) => v.parse::<usize>().ok().filter(|n| *n <= max).ok_or_else(|| {
                    FhirError::invalid(
                        format!("{name} ska vara ett heltal mellan 0 och {max}."),
                        format!("{name} must be a whole number from 0 to {max}."),
                    )
                }),
            }
        };
        let count = number("_count", DEFAULT_COUNT, MAX_COUNT)?;
        let offset = number("_offset", 0, 1_000_000)?;
        Ok(Params { count, offset, pairs })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// `_lastUpdated` with the prefixes gt, ge, lt, le (or none: that instant's day onwards is
    /// not meant, so none means "eq" to the second).
    pub fn updated_filter(&self) -> Result<Vec<(String, Timestamp)>, FhirError> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == "_lastUpdated")
            .map(|(_, v)| {
                let (prefix, rest) = match v.get(..2) {
                    Some(p @ ("gt" | "ge" | "lt" | "le" | "eq")) => (p.to_string(), &v[2..]),
                    _ => ("eq".to_string(), v.as_str()),
                };
                let t = parse_fhir_time(rest).ok_or_else(|| {
                    FhirError::invalid(
                        format!("_lastUpdated \"{v}\" är ingen tidpunkt. Skriv t.ex. ge2026-11-01 eller ge2026-11-01T08:00:00+01:00."),
                        format!("_lastUpdated \"{v}\" is not a date or instant."),
                    )
                })?;
                Ok((prefix, t))
            })
            .collect()
    }

    fn matches_updated(filters: &[(String, Timestamp)], at: Timestamp) -> bool {
        filters.iter().all(|(p, t)| match p.as_str() {
            "gt" => at > *t,
            "ge" => at >= *t,
            "lt" => at < *t,
            "le" => at <= *t,
            _ => at.as_second() == t.as_second(),
        })
    }
}

/// A date (midnight Swedish time) or an RFC 3339 instant.
pub(crate) fn parse_fhir_time(s: &str) -> Option<Timestamp> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    let d: jiff::civil::Date = s.parse().ok()?;
    Some(samverka_domain::calendar::start_of_day(d))
}

/// A searchset Bundle of one page, with self/next/previous links that keep the query.
pub(crate) fn bundle(uri: &Uri, params: &Params, all: Vec<Value>) -> Value {
    let total = all.len();
    let page: Vec<Value> = all.into_iter().skip(params.offset).take(params.count).collect();
    let base = uri.path().to_string();
    let link_for = |offset: usize| {
        let mut q: Vec<(String, String)> =
            params.pairs.iter().filter(|(k, _)| k != "_offset" && k != "_count").cloned().collect();
        q.push(("_count".into(), params.count.to_string()));
        q.push(("_offset".into(), offset.to_string()));
        format!("{base}?{}", serde_urlencoded::to_string(&q).unwrap_or_default())
    };
    let mut links = vec![json!({ "relation": "self", "url": link_for(params.offset) })];
    // `_count=0` asks for the total alone: there are no pages to go to.
    if params.count > 0 && params.offset + params.count < total {
        links.push(json!({ "relation": "next", "url": link_for(params.offset + params.count) }));
    }
    if params.count > 0 && params.offset > 0 {
        links.push(json!({ "relation": "previous", "url": link_for(params.offset.saturating_sub(params.count)) }));
    }
    let mut bundle = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
    });
    // FHIR's JSON has no empty arrays: a page without matches has no `entry` at all.
    if !page.is_empty() {
        bundle["entry"] = page
            .into_iter()
            .map(|r| {
                let full = format!("{}/{}", r["resourceType"].as_str().unwrap_or(""), r["id"].as_str().unwrap_or(""));
                json!({ "fullUrl": full, "resource": r, "search": { "mode": "match" } })
            })
            .collect();
    }
    bundle
}

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

/// `Patient/<id>` or a bare id, as in `patient=` and `subject=`.
pub fn patient_param(p: &Params) -> Result<Option<Uuid>, FhirError> {
    let Some(v) = p.get("patient").or_else(|| p.get("subject")) else { return Ok(None) };
    let id = v.strip_prefix("Patient/").unwrap_or(v);
    Uuid::parse_str(id).map(Some).map_err(|_| {
        FhirError::invalid(
            format!("\"{v}\" är ingen patientreferens. Skriv Patient/<id>."),
            format!("\"{v}\" is not a Patient reference."),
        )
    })
}

// ---- metadata ---------------------------------------------------------------------------------

/// The CapabilityStatement: what this server does (no token needed).
pub async fn metadata(State(st): State<AppState>) -> Response {
    let search =
        |names: &[(&str, &str)]| names.iter().map(|(n, t)| json!({ "name": n, "type": t })).collect::<Vec<_>>();
    let common = [("_lastUpdated", "date"), ("_count", "number")];
    let resource = |ty: &str, codes: &[&str], params: &[(&str, &str)]| {
        let interactions: Vec<Value> = codes.iter().map(|c| json!({ "code": c })).collect();
        let mut p: Vec<(&str, &str)> = params.to_vec();
        p.extend_from_slice(&common);
        json!({ "type": ty, "interaction": interactions, "searchParam": search(&p) })
    };
    let mut communication = resource(
        "Communication",
        &["search-type", "read", "create"],
        &[("patient", "reference"), ("subject", "reference")],
    );
    communication["documentation"] = json!(
        "create: a typed message carries its content as payload.contentAttachment (application/json, the JSON API's \
         message body); a free message (category allmant) its text in contentString. inResponseTo corrects an earlier \
         message. An identifier urn:uuid:<id> makes a retry safe."
    );
    communication["operation"] = json!([{
        "name": "acknowledge",
        "definition": "urn:samverka:OperationDefinition:acknowledge",
        "documentation": "POST Communication/<id>/$acknowledge: the client's unit acknowledges (kvitterar) the message.",
    }]);
    let mut consent = resource("Consent", &["search-type", "read", "create", "update"], &[("patient", "reference")]);
    consent["documentation"] = json!(
        "The case is named by the extension urn:samverka:StructureDefinition:episode-of-care. update takes only the \
         withdrawal (status inactive); a consent is never edited otherwise."
    );
    let body = json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": resources::instant(&st.clock.now()),
        "publisher": "Samverka",
        "kind": "instance",
        "software": { "name": "Samverka", "version": env!("CARGO_PKG_VERSION") },
        "implementation": { "description": "Samverka – samverkan vid utskrivning (LUS)" },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [{
            "mode": "server",
            "security": {
                "service": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR" }] }],
                "description": "OAuth 2.0 client credentials at /fhir/auth/token; scopes system/<Resource>.read|write.",
            },
            "resource": [
                resource("Patient", &["search-type", "read"], &[("identifier", "token")]),
                resource("Organization", &["search-type", "read"], &[("identifier", "token")]),
                resource("EpisodeOfCare", &["search-type", "read"], &[("patient", "reference"), ("status", "token")]),
                resource("Encounter", &["search-type", "read"], &[("patient", "reference"), ("subject", "reference"), ("status", "token")]),
                communication,
                resource("Task", &["search-type", "read"], &[("patient", "reference"), ("owner", "reference"), ("status", "token")]),
                resource("CarePlan", &["search-type", "read"], &[("patient", "reference"), ("subject", "reference")]),
                consent,
                json!({ "type": "Practitioner", "interaction": [{ "code": "read" }] }),
                resource("PractitionerRole", &["search-type", "read"], &[("practitioner", "reference")]),
                resource("AuditEvent", &["search-type"], &[("patient", "reference")]),
                json!({ "type": "Subscription", "interaction": [{ "code": "create" }, { "code": "read" }, { "code": "delete" }] }),
            ],
        }],
    });
    fhir(&body)
}

// ---- Organization (reference data: any client) -----------------------------------------------

pub(crate) async fn organization_resources(st: &AppState) -> Result<Vec<Value>, FhirError> {
    let mut out: Vec<Value> = st.store.organisations().await?.iter().map(|(o, _)| resources::organisation(o)).collect();
    for u in st.store.units().await?.iter() {
        out.push(resources::unit(u, u.kind.label_sv()));
    }
    Ok(out)
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

pub(crate) async fn search_organizations(State(st): State<AppState>, c: FhirCaller, uri: Uri) -> FhirResult {
    c.require("Organization", Access::Read)?;
    let p = Params::parse(&uri, &["identifier", "name"])?;
    let mut all = organization_resources(&st).await?;
    if let Some(v) = p.get("identifier") {
        let value = v.strip_prefix(&format!("{}|", resources::HSA_ID)).unwrap_or(v);
        if HsaId::parse(value).is_err() && !value.is_empty() {
            return Err(FhirError::invalid(
                format!("\"{value}\" är inget HSA-id."),
                format!("\"{value}\" is not an HSA id."),
            ));
        }
        all.retain(|r| r["identifier"].as_array().is_some_and(|ids| ids.iter().any(|i| i["value"] == value)));
    }
    if let Some(name) = p.get("name") {
        let name = name.to_lowercase();
        all.retain(|r| r["name"].as_str().is_some_and(|n| n.to_lowercase().contains(&name)));
    }
    Ok(fhir(&bundle(&uri, &p, all)))
}

// ---- Patient ----------------------------------------------------------------------------------

pub(crate) async fn read_patient(State(st): State<AppState>, c: FhirCaller, Path(id): Path<String>) -> FhirResult {
    c.require("Patient", Access::Read)?;
    let id = parse_id(&id, "Patienten")?;
    let p = samverka_app::patients::read(&st, &c.caller, id, "fhir.patient.read").await?;
    Ok(fhir(&resources::patient(&p, &st.clock.now())))
}

/// Search by identifier (`system|value` or the value alone). Like the search page, a number
/// the unit does not care for gives an empty Bundle, never a hint that the person exists.
pub(crate) async fn search_patients(State(st): State<AppState>, c: FhirCaller, uri: Uri) -> FhirResult {
    c.require("Patient", Access::Read)?;
    let p = Params::parse(&uri, &["identifier", "_id"])?;
    let caller = &c.caller;
    let lookup = if let Some(v) = p.get("identifier") {
        let (system, value) = v.split_once('|').unwrap_or(("", v));
        let rule = samverka_app::patients::reserv_rule(&st, &caller.actor).await?;
        let identifier = PatientIdentifier::parse(value, local_date(st.clock.now()), rule.as_ref()).map_err(|e| {
            let pr = e.problem("identifier");
            FhirError::invalid(pr.message_sv, pr.message_en)
        })?;
        // `system|value` matches only in that system (an empty system: any).
        if system.is_empty() || system == resources::identifier_system(&identifier) {
            Lookup::Identifier(identifier)
        } else {
            Lookup::Nobody
        }
    } else if let Some(v) = p.get("_id") {
        Lookup::Id(parse_id(v, "Patienten")?)
    } else {
        Lookup::OfUnit
    };
    let found = samverka_app::patients::find(&st, caller, lookup, "fhir.patient.search").await?;
    let now = st.clock.now();
    let all = found.iter().map(|x| resources::patient(x, &now)).collect();
    Ok(fhir(&bundle(&uri, &p, all)))
}

// ---- resources derived from cases --------------------------------------------------------------

/// The cases a search covers: the patient's cases the unit takes part in, or all the unit's
/// cases; each read is checked and logged like a case page.
pub(crate) async fn visible_cases(
    st: &AppState,
    c: &FhirCaller,
    p: &Params,
    action: &str,
) -> Result<Vec<CaseRecord>, FhirError> {
    let updated = p.updated_filter()?;
    let patient = patient_param(p)?;
    let keep = |s: &samverka_store::CaseSummary| Params::matches_updated(&updated, s.updated_at);
    Ok(samverka_app::cases::visible(st, &c.caller, patient, keep, action).await?)
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

pub(crate) async fn read_case(st: &AppState, c: &FhirCaller, id: &str, action: &str) -> Result<Case, FhirError> {
    Ok(read_record(st, c, id, action).await?.case)
}

/// `status`: a comma is OR (`status=active,finished`), a repeated parameter is AND
/// (`status=active&status=finished` matches nothing, a resource having one status).
pub(crate) fn status_filter(p: &Params, all: &mut Vec<Value>) {
    for (_, s) in p.pairs.iter().filter(|(k, _)| k == "status") {
        let wanted: Vec<&str> = s.split(',').collect();
        all.retain(|r| r["status"].as_str().is_some_and(|x| wanted.contains(&x)));
    }
}

pub(crate) async fn read_episode(State(st): State<AppState>, c: FhirCaller, Path(id): Path<String>) -> FhirResult {
    c.require("EpisodeOfCare", Access::Read)?;
    let case = read_case(&st, &c, &id, "fhir.episode.read").await?;
    let available = case.available(&c.caller.actor, st.clock.now());
    Ok(fhir(&resources::episode_of_care(&case, &available)))
}

pub(crate) async fn search_episodes(State(st): State<AppState>, c: FhirCaller, uri: Uri) -> FhirResult {
    c.require("EpisodeOfCare", Access::Read)?;
    let p = Params::parse(&uri, &["patient", "status"])?;
    let cases = visible_cases(&st, &c, &p, "fhir.episode.search").await?;
    let now = st.clock.now();
    let mut all: Vec<Value> =
        cases.iter().map(|r| resources::episode_of_care(&r.case, &r.case.available(&c.caller.actor, now))).collect();
    status_filter(&p, &mut all);
    Ok(fhir(&bundle(&uri, &p, all)))
}

pub(crate) async fn read_encounter(State(st): State<AppState>, c: FhirCaller, Path(id): Path<String>) -> FhirResult {
    c.require("Encounter", Access::Read)?;
    let case = read_case(&st, &c, &id, "fhir.encounter.read").await?;
    Ok(fhir(&resources::encounter(&case)))
}

pub(crate) async fn search_encounters(State(st): State<AppState>, c: FhirCaller, uri: Uri) -> FhirResult {
    c.require("Encounter", Access::Read)?;
    let p = Params::parse(&uri, &["patient", "subject", "status"])?;
    let cases = visible_cases(&st, &c, &p, "fhir.encounter.search").await?;
    let mut all: Vec<Value> = cases.iter().map(|r| resources::encounter(&r.case)).collect();
    status_filter(&p, &mut all);
    Ok(fhir(&bundle(&uri, &p, all)))
}

pub(crate) async fn search_communications(State(st): State<AppState>, c: FhirCaller, uri: Uri) -> FhirResult {
    c.require("Communication", Access::Read)?;
    let p = Params::parse(&uri, &["patient", "subject"])?;
    let cases = visible_cases(&st, &c, &p, "fhir.communication.search").await?;
    let mut all = vec![];
    for r in &cases {
        for m in &r.case.messages {
            all.push(resources::communication(&r.case, m, m.message.body.kind().label_sv()));
        }
    }
    Ok(fhir(&bundle(&uri, &p, all)))
}

pub(crate) async fn search_tasks(State(st): State<AppState>, c: FhirCaller, uri: Uri) -> FhirResult {
    c.require("Task", Access::Read)?;
    let p = Params::parse(&uri, &["patient", "owner", "status"])?;
    let cases = visible_cases(&st, &c, &p, "fhir.task.search").await?;
    let now = st.clock.now();
    let owner = p.get("owner").map(|o| o.strip_prefix("Organization/").unwrap_or(o).to_string());
    let mut all = vec![];
    for r in &cases {
        let Some(agreement) = st.store.agreements().get(&r.agreement_id) else { continue };
        for d in deadlines(&r.case, &agreement, now) {
            let unit = d.owner.and_then(|o| r.case.parties.iter().find(|p| p.unit.id == o).map(|p| &p.unit));
            if owner.as_deref().is_some_and(|o| d.owner.map(|x| x.to_string()).as_deref() != Some(o)) {
                continue;
            }
            all.push(resources::task(&r.case, &d, unit, d.kind.step().label_sv()));
        }
    }
    status_filter(&p, &mut all);
    Ok(fhir(&bundle(&uri, &p, all)))
}

pub(crate) async fn search_care_plans(State(st): State<AppState>, c: FhirCaller, uri: Uri) -> FhirResult {
    c.require("CarePlan", Access::Read)?;
    let p = Params::parse(&uri, &["patient", "subject"])?;
    let cases = visible_cases(&st, &c, &p, "fhir.careplan.search").await?;
    let all = cases.iter().filter_map(|r| r.case.sip.current().map(|v| resources::care_plan(&r.case, v))).collect();
    Ok(fhir(&bundle(&uri, &p, all)))
}

pub(crate) async fn search_consents(State(st): State<AppState>, c: FhirCaller, uri: Uri) -> FhirResult {
    c.require("Consent", Access::Read)?;
    let p = Params::parse(&uri, &["patient"])?;
    let cases = visible_cases(&st, &c, &p, "fhir.consent.search").await?;
    let all = cases.iter().flat_map(|r| r.case.consents.0.iter().map(|x| resources::consent(&r.case, x))).collect();
    Ok(fhir(&bundle(&uri, &p, all)))
}

// ---- Practitioner, PractitionerRole (staff: names and assignments, no patient data) ------------

pub(crate) async fn read_practitioner(State(st): State<AppState>, c: FhirCaller, Path(id): Path<String>) -> FhirResult {
    c.require("Practitioner", Access::Read)?;
    let id = parse_id(&id, "Personen")?;
    let a = st.store.account(id).await?.ok_or_else(|| FhirError::not_found("Personen", "Practitioner"))?;
    Ok(fhir(&resources::practitioner(&a)))
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
    Ok(fhir(&resources::practitioner_role(&a, &name)))
}

pub(crate) async fn search_practitioner_roles(State(st): State<AppState>, c: FhirCaller, uri: Uri) -> FhirResult {
    c.require("PractitionerRole", Access::Read)?;
    let p = Params::parse(&uri, &["practitioner"])?;
    let Some(who) = p.get("practitioner") else {
        return Err(FhirError::invalid("Ange practitioner=Practitioner/<id>.", "Give practitioner=Practitioner/<id>."));
    };
    let id = who.strip_prefix("Practitioner/").unwrap_or(who);
    let id = Uuid::parse_str(id).map_err(|_| {
        FhirError::invalid(format!("\"{who}\" är ingen Practitioner-referens."), "Not a Practitioner reference.")
    })?;
    let name = st.store.account(id).await?.map(|u| u.name).unwrap_or_default();
    let all = st.store.assignments_of(id).await?.iter().map(|a| resources::practitioner_role(a, &name)).collect();
    Ok(fhir(&bundle(&uri, &p, all)))
}

// ---- AuditEvent (log review: MAS and enhetschef, own organisation) ------------------------------

/// The accesses to one patient's data within the caller's organisation, for log review.
pub(crate) async fn search_audit_events(State(st): State<AppState>, c: FhirCaller, uri: Uri) -> FhirResult {
    c.require("AuditEvent", Access::Read)?;
    let p = Params::parse(&uri, &["patient"])?;
    let caller = &c.caller;
    let action = "fhir.auditevent.search";
    let patient = patient_param(&p)?;
    require(&st, caller, Permission::ReviewAccessLog, action, patient, None).await?;
    let Some(patient) = patient else {
        return Err(FhirError::invalid("Ange patient=Patient/<id>.", "Give patient=Patient/<id>."));
    };
    let filter = samverka_store::AccessFilter {
        organisation_id: Some(caller.actor.unit.organisation_id),
        patient_id: Some(patient),
        limit: 10_000,
        ..Default::default()
    };
    let updated = p.updated_filter()?;
    let entries: Vec<Value> = st
        .store
        .access_log(&filter)
        .await?
        .iter()
        .filter(|e| Params::matches_updated(&updated, e.at))
        .map(resources::audit_event)
        .collect();
    let protected = st.store.patient(patient).await?.is_some_and(|x| x.protection.is_protected());
    log_read(&st, caller, action, Some(patient), None, None, protected).await?;
    Ok(fhir(&bundle(&uri, &p, entries)))
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
