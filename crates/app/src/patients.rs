//! Registering and finding patients.

use axum::http::StatusCode;
use samverka_domain::access::Permission;
use samverka_domain::actor::Actor;
use samverka_domain::calendar::local_date;
use samverka_domain::ids::{Kommunkod, PatientIdentifier, ReservnummerRule};
use samverka_domain::org::UnitKind;
use samverka_domain::patient::{Address, Patient, ProtectedIdentity, validate_name};
use samverka_store::NewPatient;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::audit::{log_read, refuse, refused_write, require};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::views::PatientView;

#[derive(Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct NewPatientRequest {
    /// Chosen by the client to make a retry safe; generated when absent.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub id: Option<Uuid>,
    /// Personnummer or samordningsnummer (10 or 12 digits, with or without separator), or
    /// the region's reservnummer.
    pub identifier: String,
    pub given_name: String,
    pub family_name: String,
    /// Folkbokföringskommun as SCB kommunkod, e.g. "0184".
    pub kommun: String,
    /// The vårdcentral the patient is listed at.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub listed_unit: Option<Uuid>,
    #[serde(default)]
    pub protection: ProtectedIdentity,
    pub address: Option<Address>,
}

#[derive(Deserialize, IntoParams)]
pub struct SearchQuery {
    /// Personnummer, samordningsnummer or reservnummer.
    pub identifier: String,
}

/// The reservnummer pattern of the agreement the caller's organisation follows.
pub async fn reserv_rule(st: &AppState, actor: &Actor) -> AppResult<Option<ReservnummerRule>> {
    let agreement_id = st
        .store
        .known_organisation(actor.unit.organisation_id)
        .await?
        .and_then(|(_, a)| a)
        .unwrap_or_else(|| st.config.default_agreement.clone());
    Ok(st.store.agreements().get(&agreement_id).and_then(|a| a.reservnummer_pattern.clone()))
}

fn check_address(a: &Address) -> AppResult<Address> {
    let street = a.street.trim();
    let city = a.city.trim();
    let postal: String = a.postal_code.chars().filter(|c| !c.is_whitespace()).collect();
    if street.is_empty() || street.chars().count() > 200 || street.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "address.street",
            "invalid_address",
            "Skriv gatuadressen (högst 200 tecken).",
            "Write the street address.",
        ));
    }
    if postal.len() != 5 || !postal.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::invalid(
            "address.postal_code",
            "invalid_postal_code",
            "Postnumret ska vara fem siffror, t.ex. 171 64.",
            "A postal code is five digits.",
        ));
    }
    if city.is_empty() || city.chars().count() > 100 || city.chars().any(char::is_control) {
        return Err(AppError::invalid("address.city", "invalid_address", "Skriv postorten.", "Write the city."));
    }
    Ok(Address { street: street.into(), postal_code: format!("{} {}", &postal[..3], &postal[3..]), city: city.into() })
}

/// Registers a new patient. Only a ward does this, at admission; a number Samverka already
/// knows is refused without showing anything of that patient (open the case with the number
/// instead: `POST /api/cases` with `patient`).
pub async fn register(st: &AppState, caller: &Caller, req: NewPatientRequest) -> AppResult<(StatusCode, Patient)> {
    let action = "patient.register";
    let (identifier, new) = checked_patient(st, caller, Registrar::Ward, action, req.clone()).await?;
    if let Some(existing) = st.store.patient_by_identifier(&identifier).await? {
        if req.id == Some(existing.id) {
            // A retry of this very registration (the client chose the id): already done.
            let protected = existing.protection.is_protected();
            log_read(st, caller, "patient.register_again", Some(existing.id), None, None, protected).await?;
            return Ok((StatusCode::OK, existing));
        }
        let problem = samverka_domain::Problem::conflict(
            "patient_exists",
            "Numret finns redan i Samverka. Registrera inskrivningen med numret, så kopplas ärendet till patienten.",
            "The number is already registered; open the case with it instead.",
        );
        return Err(refuse(st, caller, action, Some(existing.id), None, problem).await);
    }
    insert(st, caller, req.id.unwrap_or_else(Uuid::now_v7), new, action).await.map(|p| (StatusCode::CREATED, p))
}

/// The patient of an admission: the one Samverka knows by the number, or a new one. Only the
/// case that is opened right after shows the patient's data.
pub async fn for_admission(st: &AppState, caller: &Caller, req: NewPatientRequest) -> AppResult<Patient> {
    of_registrar(st, caller, Registrar::Ward, req).await
}

/// The patient a new case names: one Samverka knows by id, or the person's details (linked to
/// the one Samverka knows by the number, or registered now by `who`).
pub async fn named(
    st: &AppState,
    caller: &Caller,
    who: Registrar,
    id: Option<Uuid>,
    details: Option<NewPatientRequest>,
) -> AppResult<Patient> {
    match (id, details) {
        (Some(id), None) => st.store.patient(id).await?.ok_or_else(|| {
            AppError::invalid(
                "patient_id",
                "unknown_patient",
                "Patienten finns inte i Samverka. Ange personnumret i stället.",
                "Unknown patient.",
            )
        }),
        (None, Some(p)) => of_registrar(st, caller, who, p).await,
        _ => Err(AppError::invalid(
            "patient_id",
            "patient_required",
            "Ange patienten: antingen patient_id eller patientens uppgifter (patient), inte båda.",
            "Give either patient_id or patient.",
        )),
    }
}

async fn of_registrar(st: &AppState, caller: &Caller, who: Registrar, req: NewPatientRequest) -> AppResult<Patient> {
    let action = "patient.register";
    let (identifier, new) = checked_patient(st, caller, who, action, req.clone()).await?;
    if let Some(existing) = st.store.patient_by_identifier(&identifier).await? {
        return Ok(existing);
    }
    insert(st, caller, req.id.unwrap_or_else(Uuid::now_v7), new, action).await
}

async fn insert(st: &AppState, caller: &Caller, id: Uuid, new: NewPatient, action: &str) -> AppResult<Patient> {
    match st.store.insert_patient(id, new, &caller.audit(), st.clock.now()).await {
        Ok(patient) => {
            caller.mark.set();
            Ok(patient)
        }
        Err(e) => Err(refused_write(st, caller, action, None, None, e).await),
    }
}

/// Who registers a person: a ward at admission, or a unit outside hospital that starts a
/// coordination at home.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Registrar {
    Ward,
    Home,
}

/// Checks a registration: role, the kind of unit, every field.
async fn checked_patient(
    st: &AppState,
    caller: &Caller,
    who: Registrar,
    action: &str,
    req: NewPatientRequest,
) -> AppResult<(PatientIdentifier, NewPatient)> {
    let (permission, allowed) = match who {
        Registrar::Ward => (Permission::RegisterAdmission, caller.actor.unit.kind == UnitKind::Ward),
        Registrar::Home => (Permission::WorkWithSip, caller.actor.unit.kind != UnitKind::Ward),
    };
    require(st, caller, permission, action, None, None).await?;
    if !allowed {
        let problem = samverka_domain::Problem::forbidden(
            "ward_only",
            "Patienter registreras vid inskrivning på en vårdavdelning, eller när en samordning i hemmet startas.",
            "Patients are registered at admission by a ward, or when a coordination at home starts.",
        );
        return Err(refuse(st, caller, action, None, None, problem).await);
    }
    let rule = reserv_rule(st, &caller.actor).await?;
    let identifier = match PatientIdentifier::parse(&req.identifier, local_date(st.clock.now()), rule.as_ref()) {
        Ok(i) => i,
        Err(e) => return Err(refuse(st, caller, action, None, None, e.problem("identifier")).await),
    };
    let checked = (|| -> Result<NewPatient, samverka_domain::Problem> {
        Ok(NewPatient {
            given_name: validate_name("given_name", &req.given_name)?,
            family_name: validate_name("family_name", &req.family_name)?,
            kommun: Kommunkod::parse(&req.kommun).map_err(|e| e.problem("kommun"))?,
            identifier: identifier.clone(),
            listed_unit: req.listed_unit,
            protection: req.protection,
            address: None,
        })
    })();
    let mut new = match checked {
        Ok(n) => n,
        Err(p) => return Err(refuse(st, caller, action, None, None, p).await),
    };
    if let Some(listed) = req.listed_unit {
        match st.store.unit(listed).await? {
            Some(u) if u.kind == UnitKind::Vardcentral => {}
            Some(u) => {
                return Err(AppError::invalid(
                    "listed_unit",
                    "not_a_vardcentral",
                    format!("{} är ingen vårdcentral. Välj den vårdcentral patienten är listad på.", u.name),
                    "The listed unit must be a vårdcentral.",
                ));
            }
            None => {
                return Err(AppError::invalid(
                    "listed_unit",
                    "unknown_unit",
                    "Vårdcentralen finns inte i Samverka.",
                    "Unknown unit.",
                ));
            }
        }
    }
    new.address = req.address.as_ref().map(check_address).transpose()?;
    Ok((identifier, new))
}

/// Finds a patient by personnummer, samordningsnummer or reservnummer.
pub async fn search(st: &AppState, caller: &Caller, q: SearchQuery) -> AppResult<SearchResult> {
    let action = "patient.search";
    require(st, caller, Permission::ReadPatientData, action, None, None).await?;
    let rule = reserv_rule(st, &caller.actor).await?;
    let identifier = match PatientIdentifier::parse(&q.identifier, local_date(st.clock.now()), rule.as_ref()) {
        Ok(i) => i,
        Err(e) => return Err(refuse(st, caller, action, None, None, e.problem("identifier")).await),
    };
    let found = st.store.patient_by_identifier(&identifier).await?;
    let visible = match &found {
        Some(p) => st.store.patient_visible_to(p.id, caller.actor.unit.id).await?,
        None => false,
    };
    match found {
        Some(p) if visible => {
            let cases = st.store.cases_of_patient_for_unit(p.id, caller.actor.unit.id).await?;
            log_read(st, caller, action, Some(p.id), None, None, p.protection.is_protected()).await?;
            Ok(SearchResult { patients: vec![PatientView::of(&p)], cases, message_sv: None })
        }
        other => {
            // Whether nobody has the number or someone your unit does not care for has it, the
            // answer is the same: a search never reveals who exists, least of all a protected
            // identity. A hit outside need-to-know is logged as refused, for log review.
            if let Some(p) = &other {
                let e = caller.audit().entry(
                    action,
                    st.clock.now(),
                    Some(p.id),
                    None,
                    samverka_store::Outcome::Denied,
                    None,
                    p.protection.is_protected(),
                );
                crate::audit::log(st, caller, e).await?;
            } else {
                log_read(st, caller, action, None, None, None, false).await?;
            }
            Ok(SearchResult {
                patients: vec![],
                cases: vec![],
                message_sv: Some(
                    "Ingen patient som din enhet deltar i vården av har det numret. Skrivs patienten in hos er, registrera inskrivningen.".into(),
                ),
            })
        }
    }
}

/// The answer to a search: the patients the caller may see, and a sentence when there are none.
#[derive(Serialize, ToSchema)]
pub struct SearchResult {
    pub patients: Vec<PatientView>,
    /// The found patient's cases that the caller's unit takes part in.
    pub cases: Vec<samverka_store::CaseSummary>,
    pub message_sv: Option<String>,
}

fn not_a_party() -> samverka_domain::Problem {
    samverka_domain::Problem::forbidden(
        "not_a_party",
        "Din enhet deltar inte i vården av den här patienten, så uppgifterna kan inte visas.",
        "Your unit takes no part in this patient's care.",
    )
}

/// One patient, for a unit that takes part in their care (a party to one of their cases, or
/// the vårdcentral they are listed at), with when its record last changed. The read, or the
/// refusal, is logged under `action`.
pub async fn read(st: &AppState, caller: &Caller, id: Uuid, action: &str) -> AppResult<(Patient, jiff::Timestamp)> {
    require(st, caller, Permission::ReadPatientData, action, Some(id), None).await?;
    let (p, visible, changed) =
        st.store.patient_for_unit(id, caller.actor.unit.id).await?.ok_or_else(|| AppError::not_found("Patienten"))?;
    if !visible {
        return Err(refuse(st, caller, action, Some(id), None, not_a_party()).await);
    }
    log_read(st, caller, action, Some(id), None, None, p.protection.is_protected()).await?;
    Ok((p, changed))
}

/// When these patients' records last changed, for `meta.lastUpdated`: no patient data, only
/// the times of records the caller has already been allowed to read.
pub async fn last_changed(st: &AppState, ids: &[Uuid]) -> AppResult<std::collections::HashMap<Uuid, jiff::Timestamp>> {
    Ok(st.store.patients_updated_at(ids).await?)
}

/// Which patients a system asks for.
pub enum Lookup {
    Identifier(PatientIdentifier),
    Id(Uuid),
    /// Every patient of the unit's cases.
    OfUnit,
    /// A lookup that cannot match (an identifier in another system): the search is still
    /// logged, and answers nobody.
    Nobody,
}

/// The patients of `lookup` whose care the caller's unit takes part in, each with when its
/// record last changed where that came with the read; one the unit does not care for is left
/// out, never hinted at. Each patient found is logged as read (so it appears in that patient's
/// log extract), all in one commit before anything is answered.
pub async fn find(
    st: &AppState,
    caller: &Caller,
    lookup: Lookup,
    action: &str,
) -> AppResult<Vec<(Patient, Option<jiff::Timestamp>)>> {
    require(st, caller, Permission::ReadPatientData, action, None, None).await?;
    let unit = caller.actor.unit.id;
    let mut found = vec![];
    let visible = |read: Option<(Patient, bool, jiff::Timestamp)>| read.filter(|r| r.1).map(|(p, _, t)| (p, Some(t)));
    match lookup {
        Lookup::Identifier(identifier) => {
            found.extend(visible(st.store.patient_by_identifier_for_unit(&identifier, unit).await?));
        }
        Lookup::Id(id) => found.extend(visible(st.store.patient_for_unit(id, unit).await?)),
        Lookup::Nobody => {}
        Lookup::OfUnit => {
            let mut seen = std::collections::BTreeSet::new();
            for s in st.store.cases_for_unit(unit, true, 1000).await? {
                if seen.insert(s.patient_id)
                    && let Some(p) = st.store.patient(s.patient_id).await?
                {
                    found.push((p, None));
                }
            }
        }
    }
    let now = st.clock.now();
    if found.is_empty() {
        log_read(st, caller, action, None, None, None, false).await?;
    } else {
        let entries: Vec<_> = found
            .iter()
            .map(|(p, _)| {
                let protected = p.protection.is_protected();
                caller.audit().entry(action, now, Some(p.id), None, samverka_store::Outcome::Allowed, None, protected)
            })
            .collect();
        st.store.log_access_all(&entries).await?;
        caller.mark.set();
    }
    Ok(found)
}
