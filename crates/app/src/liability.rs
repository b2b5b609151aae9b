//! Payment liability: per case, and the municipality's monthly invoice basis.

use axum::http::StatusCode;
use jiff::ToSpan;
use jiff::civil::Date;
use samverka_domain::calendar::start_of_day;
use samverka_domain::ids::Kommunkod;
use samverka_domain::liability::{CaseLiability, LiabilityBasis, LiabilityFacts, case_liability, municipal_basis};
use samverka_store::ApprovedBasis;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::audit::{log_read, refuse, require};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use samverka_domain::access::Permission;
use samverka_domain::org::OrganisationKind;

#[derive(Deserialize, IntoParams)]
pub struct BasisQuery {
    /// SCB kommunkod, e.g. "0184".
    pub kommun: String,
    /// The month, "YYYY-MM".
    pub month: String,
    /// The agreement; by default the one of the region the municipality lies in.
    pub agreement: Option<String>,
}

fn parse_month(s: &str) -> Option<Date> {
    let (y, m) = s.split_once('-')?;
    Date::new(y.parse().ok()?, m.parse().ok()?, 1).ok().filter(|d| (2000..=2100).contains(&d.year()))
}

/// Who may see a municipality's basis: the municipality itself, and the region of its län.
/// Returns the municipality and the first day of the month.
pub async fn scope(
    st: &AppState,
    caller: &Caller,
    permission: Permission,
    action: &str,
    kommun: &str,
    month: &str,
) -> AppResult<(Kommunkod, Date, OrganisationKind)> {
    require(st, caller, permission, action, None, None).await?;
    let kommun = Kommunkod::parse(kommun).map_err(|e| AppError::from(e.problem("kommun")))?;
    let org = st.store.organisation(caller.actor.unit.organisation_id).await?.map(|(o, _)| o);
    let own = org.as_ref().is_some_and(|o| match o.kind {
        OrganisationKind::Kommun => o.kommunkod.as_ref() == Some(&kommun),
        OrganisationKind::Region => o.region_code.as_deref() == Some(kommun.lan()),
        OrganisationKind::PrivateProvider => false,
    });
    if !own {
        let problem = samverka_domain::Problem::forbidden(
            "other_municipality",
            format!("Din organisation kan inte se betalningsunderlaget för kommun {kommun}."),
            "Your organisation cannot see this municipality's invoice basis.",
        );
        return Err(refuse(st, caller, action, None, None, problem).await);
    }
    let first = parse_month(month).ok_or_else(|| {
        AppError::invalid(
            "month",
            "invalid_month",
            "Ange månaden som ÅÅÅÅ-MM, t.ex. 2026-11.",
            "Write the month as YYYY-MM.",
        )
    })?;
    if first > samverka_domain::calendar::local_date(st.clock.now()) {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "month_in_future",
            "Månaden har inte börjat än.",
            "The month has not begun.",
        ));
    }
    Ok((kommun, first, org.map(|o| o.kind).unwrap_or(OrganisationKind::PrivateProvider)))
}

/// The basis as the cases say now (not logged: the caller logs what it shows).
pub async fn compute(
    st: &AppState,
    kommun: &Kommunkod,
    first: Date,
    agreement: Option<&str>,
) -> AppResult<LiabilityBasis> {
    let agreement_id = match agreement {
        Some(a) => a.to_string(),
        None => st
            .store
            .organisations()
            .await?
            .iter()
            .find(|(o, _)| o.region_code.as_deref() == Some(kommun.lan()))
            .and_then(|(_, a)| a.clone())
            .unwrap_or_else(|| st.config.default_agreement.clone()),
    };
    let agreement = st.store.agreements().get(&agreement_id).ok_or_else(|| {
        AppError::invalid(
            "agreement",
            "unknown_agreement",
            format!(
                "Överenskommelsen \"{agreement_id}\" finns inte. Välj en av: {}.",
                st.store.agreements().ids().join(", ")
            ),
            "Unknown agreement.",
        )
    })?;
    let now = st.clock.now();
    let window = agreement.somatic.average_window_months.max(agreement.psychiatric.average_window_months) as i32;
    let from = start_of_day(first - (window - 1).months());
    let to = start_of_day(first + 1.month());
    let liabilities: Vec<CaseLiability> = st
        .store
        .liability_cases(kommun, &agreement_id, from, to)
        .await?
        .iter()
        .map(|c| case_liability(&LiabilityFacts::from_case(c, &agreement, now), &agreement, now))
        .collect();
    Ok(municipal_basis(kommun, first.year(), first.month(), &liabilities, &agreement))
}

pub fn month_key(first: Date) -> i32 {
    first.year() as i32 * 100 + first.month() as i32
}

/// The invoice basis (betalningsunderlag) of a municipality for a month, as the cases say now.
/// Approved versions are read with `/api/liability/versions`.
pub async fn municipal(st: &AppState, caller: &Caller, q: BasisQuery) -> AppResult<LiabilityBasis> {
    let action = "liability.basis";
    let (kommun, first, _) = scope(st, caller, Permission::ReadLiability, action, &q.kommun, &q.month).await?;
    let basis = compute(st, &kommun, first, q.agreement.as_deref()).await?;
    log_read(st, caller, action, None, None, None, false).await?;
    Ok(basis)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    /// SCB kommunkod.
    pub kommun: String,
    /// "YYYY-MM".
    pub month: String,
    pub agreement: Option<String>,
    /// Why a new version, when there is an earlier one.
    #[serde(default)]
    pub note: String,
}

/// Approves the basis as the cases say now: it is stored as the next version and never
/// changes again. A later correction is approved as a new version beside it.
pub async fn approve(st: &AppState, caller: &Caller, req: ApproveRequest) -> AppResult<ApprovedBasis> {
    let action = "liability.approve";
    let (kommun, first, kind) =
        scope(st, caller, Permission::ApproveLiability, action, &req.kommun, &req.month).await?;
    if kind != OrganisationKind::Region {
        let problem = samverka_domain::Problem::forbidden(
            "region_approves",
            "Betalningsunderlaget godkänns av regionen, som fakturerar. Kommunen ser underlaget och dess versioner.",
            "The region, which invoices, approves the basis.",
        );
        return Err(refuse(st, caller, action, None, None, problem).await);
    }
    let note = req.note.trim().to_string();
    if note.chars().count() > 2000 {
        return Err(AppError::invalid(
            "note",
            "too_long",
            "Anteckningen får vara högst 2 000 tecken.",
            "At most 2,000 characters.",
        ));
    }
    let basis = compute(st, &kommun, first, req.agreement.as_deref()).await?;
    let earlier = st.store.approved_bases(&kommun, month_key(first)).await?;
    if let Some(latest) = earlier.last() {
        if latest.basis == basis {
            return Err(AppError::new(
                StatusCode::CONFLICT,
                "unchanged",
                format!("Underlaget är oförändrat sedan version {} som redan är godkänd.", latest.version),
                "Nothing changed since the latest approved version.",
            ));
        }
        if note.is_empty() {
            return Err(AppError::invalid(
                "note",
                "note_required",
                format!("Version {} är redan godkänd. Skriv vad som har rättats i den nya versionen.", latest.version),
                "Say what the new version corrects.",
            ));
        }
    }
    let approved = st.store.approve_basis(&basis, month_key(first), &caller.audit(), &note, st.clock.now()).await?;
    caller.mark.set();
    tracing::info!(target: "audit", kommun = %kommun, month = %req.month, version = approved.version, "invoice basis approved");
    Ok(approved)
}

#[derive(Deserialize, IntoParams)]
pub struct VersionsQuery {
    pub kommun: String,
    pub month: String,
}

/// The approved versions of a municipality's basis for a month, oldest first.
pub async fn versions(st: &AppState, caller: &Caller, q: VersionsQuery) -> AppResult<Vec<ApprovedBasis>> {
    let action = "liability.versions";
    let (kommun, first, _) = scope(st, caller, Permission::ReadLiability, action, &q.kommun, &q.month).await?;
    let list = st.store.approved_bases(&kommun, month_key(first)).await?;
    log_read(st, caller, action, None, None, None, false).await?;
    Ok(list)
}

#[derive(Deserialize, IntoParams)]
pub struct ExportQuery {
    pub kommun: String,
    pub month: String,
    /// An approved version; without it, the basis as the cases say now (marked preliminary).
    pub version: Option<u32>,
    /// `csv` or `xlsx`.
    pub format: String,
}

/// Who a line of the basis is about, so a controller can check the invoice against the
/// care: name and number (never for a protected identity), the ward, the admission.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BasisPerson {
    #[schema(value_type = String, format = Uuid)]
    pub case_id: samverka_domain::case::CaseId,
    /// "Skyddad identitet" for a protected identity.
    pub name: String,
    /// Empty for a protected identity.
    pub identifier: String,
    pub protected: bool,
    /// The ward the patient was discharged from (or is at).
    pub ward: String,
    #[schema(value_type = String, format = Date)]
    pub admitted_on: Date,
}

/// The people of the basis's lines, in its order. Each is logged as read under `action`,
/// one entry per person and case (so it appears in that person's log extract), all in one
/// commit before anything is shown.
pub async fn people(
    st: &AppState,
    caller: &Caller,
    basis: &LiabilityBasis,
    action: &str,
) -> AppResult<Vec<BasisPerson>> {
    let now = st.clock.now();
    let mut out = Vec::with_capacity(basis.lines.len());
    let mut entries = vec![];
    for line in &basis.lines {
        let Some(record) = st.store.case(line.case_id).await? else { continue };
        let Some(patient) = st.store.patient(record.case.patient_id).await? else { continue };
        let protected = patient.protection.is_protected();
        let shown = crate::views::PatientView::of(&patient);
        entries.push(caller.audit().entry(
            action,
            now,
            Some(patient.id),
            Some(line.case_id),
            samverka_store::Outcome::Allowed,
            None,
            protected,
        ));
        out.push(BasisPerson {
            case_id: line.case_id,
            name: if protected {
                "Skyddad identitet".into()
            } else {
                format!("{} {}", shown.given_name, shown.family_name)
            },
            identifier: if protected { String::new() } else { shown.identifier },
            protected,
            ward: record.case.ward().name.clone(),
            admitted_on: samverka_domain::calendar::local_date(record.case.admitted_at),
        });
    }
    if !entries.is_empty() {
        st.store.log_access_all(&entries).await?;
        caller.mark.set();
    }
    Ok(out)
}
