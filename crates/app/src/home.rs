//! Coordination at home: a SIP whenever the person needs both health care and social services,
//! not only after a hospital stay. Started by a unit outside hospital, carried on from a
//! discharge, and linked both ways with the person's discharge cases. Everything else about it
//! (invitations, the call, the SIP, its follow-up) is the case's own commands.

use samverka_domain::access::Permission;
use samverka_domain::case::{Case, CaseId, Command, OpenHome};
use samverka_domain::patient::Patient;
use samverka_store::CaseRecord;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::audit::{refuse, refused_write, require};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenHomeRequest {
    /// Chosen by the client to make a retry safe; generated when absent.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub id: Option<Uuid>,
    /// A person Samverka knows; or give `patient` instead.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub patient_id: Option<Uuid>,
    /// The person: linked to the one Samverka knows by the number, or registered now.
    pub patient: Option<crate::patients::NewPatientRequest>,
    /// Why the person needs a coordinated plan now.
    pub reason: String,
}

/// Starts a coordination at home at the caller's unit. One open coordination per person: a
/// second is refused (and named to a unit that takes part in the first).
pub async fn open(st: &AppState, caller: &Caller, req: OpenHomeRequest) -> AppResult<(CaseRecord, Patient)> {
    const ACTION: &str = "case.open_home";
    require(st, caller, Permission::WorkWithSip, ACTION, req.patient_id, None).await?;
    let patient =
        crate::patients::named(st, caller, crate::patients::Registrar::Home, req.patient_id, req.patient).await?;
    let case_id = req.id.unwrap_or_else(Uuid::now_v7);
    if let Some(existing) = st.store.open_home_coordination(patient.id).await?.filter(|c| c.id != case_id) {
        let party = existing.is_party(caller.actor.unit.id);
        let problem = samverka_domain::Problem::conflict(
            "home_coordination_exists",
            if party {
                "Personen har redan en pågående samordning i hemmet som er enhet deltar i. Öppna den i stället."
            } else {
                "Personen har redan en pågående samordning i hemmet. Kontakta personens vårdcentral eller \
                 kommun, så bjuder den som samordnar in er."
            },
            "The person already has an open coordination at home.",
        );
        let mut e = refuse(st, caller, ACTION, Some(patient.id), None, problem).await;
        if party && e.code == "home_coordination_exists" {
            e.existing_case = Some(existing.id);
        }
        return Err(e);
    }
    let open = OpenHome {
        case_id,
        patient_id: patient.id,
        kommun: patient.kommun.clone(),
        listed_unit: patient.listed_unit,
        reason: req.reason,
        born: patient.identifier.birth_date(),
        continues: None,
    };
    let agreement = agreement_of(st, caller).await?;
    opened(st, caller, &open, &agreement, patient).await
}

/// After discharge, the SIP of discharge case `id` goes on in a coordination at home started by
/// the caller's unit; the discharge case closes with a link to it. Answers the coordination.
pub async fn continue_from(
    st: &AppState,
    caller: &Caller,
    id: CaseId,
    home_id: Option<Uuid>,
) -> AppResult<(CaseRecord, Patient)> {
    const ACTION: &str = "case.continue_at_home";
    let (record, patient) = crate::cases::read_case(st, caller, id, ACTION).await?;
    let discharge = &record.case;
    let now = st.clock.now();
    // A retry after the discharge case closed: the coordination it went on in.
    if let Some(done) = discharge.continued_at_home
        && home_id.is_none_or(|h| h == done)
        && let Some(home) = st.store.case(done).await?
    {
        return Ok((home, patient));
    }
    let home_id = home_id.unwrap_or_else(Uuid::now_v7);
    if let Err(problem) = discharge.check(&caller.actor, &samverka_domain::action::Action::ContinueAtHome, now) {
        return Err(refuse(st, caller, ACTION, Some(patient.id), Some(id), problem).await);
    }
    if let Some(existing) = st.store.open_home_coordination(patient.id).await?.filter(|c| c.id != home_id) {
        return into_existing(st, caller, &record, &existing, patient).await;
    }
    let continues = discharge.continuation(Uuid::now_v7);
    let open = OpenHome {
        case_id: home_id,
        patient_id: patient.id,
        kommun: patient.kommun.clone(),
        listed_unit: patient.listed_unit,
        reason: "SIP från utskrivningen fortsätter i hemmet.".into(),
        born: patient.identifier.birth_date(),
        continues,
    };
    let (home, patient) = opened(st, caller, &open, &record.agreement_id, patient).await?;
    // Opened first so the plan is never without a home; a crash between the two leaves the
    // coordination with its link back, and a retry with the same id closes the discharge case.
    crate::cases::execute(st, caller, id, Command::ContinueAtHome { home_case: home_id }).await?;
    Ok((home, patient))
}

async fn opened(
    st: &AppState,
    caller: &Caller,
    open: &OpenHome,
    agreement: &str,
    patient: Patient,
) -> AppResult<(CaseRecord, Patient)> {
    const ACTION: &str = "case.open_home";
    let (record, created) = match st.store.open_home_case(open, agreement, &caller.audit(), st.clock.now()).await {
        Ok(r) => r,
        Err(e) => return Err(refused_write(st, caller, ACTION, Some(patient.id), Some(open.case_id), e).await),
    };
    if !created {
        return crate::cases::opened_again(st, caller, ACTION, record, patient).await;
    }
    caller.mark.set();
    st.changed(&record.case);
    Ok((record, patient))
}

/// The agreement of the caller's organisation, or the installation's default.
async fn agreement_of(st: &AppState, caller: &Caller) -> AppResult<String> {
    Ok(st
        .store
        .organisation(caller.actor.unit.organisation_id)
        .await?
        .and_then(|(_, a)| a)
        .unwrap_or_else(|| st.config.default_agreement.clone()))
}

/// The discharge's plan goes on as a new version of the person's open coordination at home,
/// for a unit that takes part in it; the discharge case closes with the link. A retry after the
/// plan went in finds it there and does not draw it up twice.
async fn into_existing(
    st: &AppState,
    caller: &Caller,
    record: &CaseRecord,
    existing: &Case,
    patient: Patient,
) -> AppResult<(CaseRecord, Patient)> {
    const ACTION: &str = "case.continue_at_home";
    let discharge = &record.case;
    if !existing.is_party(caller.actor.unit.id) {
        let problem = samverka_domain::Problem::conflict(
            "home_coordination_exists",
            "Personen har redan en pågående samordning i hemmet som er enhet inte deltar i. Be en enhet i den \
             samordningen att fortsätta planen där, eller att bjuda in er.",
            "The person already has a coordination at home your unit takes no part in.",
        );
        return Err(refuse(st, caller, ACTION, Some(patient.id), Some(discharge.id), problem).await);
    }
    let Some(plan) = discharge.sip.current().map(|v| v.plan.clone()) else {
        return Err(AppError::not_found("Planen"));
    };
    if existing.sip.current().map(|v| &v.plan) != Some(&plan) {
        crate::cases::execute(st, caller, existing.id, Command::DrawUpSip { plan }).await?;
    }
    crate::cases::execute(st, caller, discharge.id, Command::ContinueAtHome { home_case: existing.id }).await?;
    let home = st.store.case(existing.id).await?.ok_or_else(|| AppError::not_found("Samordningen"))?;
    Ok((home, patient))
}

/// The plan in force in the coordination at home a discharge case links to, when the caller's
/// unit takes part in that coordination (the read is logged like any read of a case); none
/// otherwise.
pub async fn plan_at_home(
    st: &AppState,
    caller: &Caller,
    case: &Case,
) -> AppResult<Option<samverka_domain::sip::SipPlan>> {
    let Some(home_id) = case.sip_at_home else { return Ok(None) };
    let Some(home) = st.store.case(home_id).await? else { return Ok(None) };
    if !home.case.is_party(caller.actor.unit.id) || !home.case.sip_in_force() {
        return Ok(None);
    }
    let (home, _) = crate::cases::read_case(st, caller, home_id, "case.read_sip_at_home").await?;
    Ok(home.case.sip.current().map(|v| v.plan.clone()))
}

/// The cases linked with `case` that the caller's unit takes part in: for a discharge case, the
/// coordination at home its SIP came from or went on in; for a coordination, the discharge cases
/// that link to it. A link the caller may not follow is not shown.
pub async fn linked(st: &AppState, caller: &Caller, case: &Case) -> AppResult<Vec<Linked>> {
    let mut out = vec![];
    let mine = |c: &Case| c.is_party(caller.actor.unit.id);
    let summaries = st.store.cases_for_patient(case.patient_id).await?;
    for s in summaries.iter().filter(|s| s.case_id != case.id) {
        let Some(other) = st.store.case(s.case_id).await? else { continue };
        let other = &other.case;
        let link = match case.home.as_ref() {
            Some(home) if home.continues_from == Some(other.id) => Some(Link::ContinuesFrom),
            Some(_) if other.sip_at_home == Some(case.id) => Some(Link::AdmittedWithThisSip),
            None if case.sip_at_home == Some(other.id) => Some(Link::SipAtHome),
            None if case.continued_at_home == Some(other.id) => Some(Link::ContinuedAtHome),
            _ => None,
        };
        if let Some(link) = link.filter(|_| mine(other)) {
            out.push(Linked { case_id: other.id, link, phase: other.phase(), since: other.admitted_at });
        }
    }
    Ok(out)
}

/// How another case is linked with the one shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// This coordination continues that discharge case's SIP.
    ContinuesFrom,
    /// That discharge case began while this coordination's SIP was in force.
    AdmittedWithThisSip,
    /// This discharge case began while that coordination's SIP was in force.
    SipAtHome,
    /// This discharge case's SIP went on in that coordination.
    ContinuedAtHome,
}

impl Link {
    pub fn as_str(self) -> &'static str {
        match self {
            Link::ContinuesFrom => "continues_from",
            Link::AdmittedWithThisSip => "admitted_with_this_sip",
            Link::SipAtHome => "sip_at_home",
            Link::ContinuedAtHome => "continued_at_home",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct Linked {
    #[schema(value_type = String, format = Uuid)]
    pub case_id: CaseId,
    pub link: Link,
    pub phase: samverka_domain::case::Phase,
    /// Admitted, or for a coordination, started.
    #[schema(value_type = String, format = DateTime)]
    pub since: jiff::Timestamp,
}
