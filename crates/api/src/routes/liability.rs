//! Payment liability: per case, and the municipality's monthly invoice basis.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::ToSpan;
use jiff::civil::Date;
use samverka_domain::calendar::start_of_day;
use samverka_domain::ids::Kommunkod;
use samverka_domain::liability::{CaseLiability, LiabilityBasis, LiabilityFacts, case_liability, municipal_basis};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::extract::{ApiPath, ApiQuery};
use crate::problem::{ApiError, ApiResult, ProblemDetails};
use crate::routes::cases::read_case;
use crate::routes::{log_read, refuse, require};
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

/// The liability of one case as of now, with every day listed.
#[utoipa::path(get, path = "/api/cases/{id}/liability", tag = "liability", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = CaseLiability), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn case(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<CaseLiability>> {
    let (record, _) = read_case(&st, &caller, id, "case.read_liability").await?;
    let agreement =
        st.store.agreements().get(&record.agreement_id).ok_or_else(|| ApiError::not_found("Överenskommelsen"))?;
    let now = st.clock.now();
    let facts = LiabilityFacts::from_case(&record.case, &agreement, now);
    Ok(Json(case_liability(&facts, &agreement, now)))
}

fn parse_month(s: &str) -> Option<Date> {
    let (y, m) = s.split_once('-')?;
    Date::new(y.parse().ok()?, m.parse().ok()?, 1).ok().filter(|d| (2000..=2100).contains(&d.year()))
}

/// The invoice basis (betalningsunderlag) of a municipality for a month.
#[utoipa::path(get, path = "/api/liability", tag = "liability", params(BasisQuery),
    responses((status = 200, body = LiabilityBasis), (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn municipal(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<BasisQuery>,
) -> ApiResult<Json<LiabilityBasis>> {
    let action = "liability.basis";
    require(&st, &caller, Permission::ReadLiability, action, None, None).await?;
    let kommun = Kommunkod::parse(&q.kommun).map_err(|e| ApiError::from(e.problem("kommun")))?;
    // A municipality sees its own basis; a region those of the municipalities in its län.
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
        return Err(refuse(&st, &caller, action, None, None, problem).await);
    }
    let first = parse_month(&q.month).ok_or_else(|| {
        ApiError::invalid(
            "month",
            "invalid_month",
            "Ange månaden som ÅÅÅÅ-MM, t.ex. 2026-11.",
            "Write the month as YYYY-MM.",
        )
    })?;
    let agreement_id = match q.agreement {
        Some(a) => a,
        None => st
            .store
            .organisations()
            .await?
            .into_iter()
            .find(|(o, _)| o.region_code.as_deref() == Some(kommun.lan()))
            .and_then(|(_, a)| a)
            .unwrap_or_else(|| st.config.default_agreement.clone()),
    };
    let agreement = st.store.agreements().get(&agreement_id).ok_or_else(|| {
        ApiError::invalid(
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
    if first > samverka_domain::calendar::local_date(now) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "month_in_future",
            "Månaden har inte börjat än.",
            "The month has not begun.",
        ));
    }
    let window = agreement.somatic.average_window_months.max(agreement.psychiatric.average_window_months) as i32;
    let from = start_of_day(first - (window - 1).months());
    let to = start_of_day(first + 1.month());
    let liabilities: Vec<CaseLiability> = st
        .store
        .liability_cases(&kommun, &agreement_id, from, to)
        .await?
        .iter()
        .map(|c| case_liability(&LiabilityFacts::from_case(c, &agreement, now), &agreement, now))
        .collect();
    log_read(&st, &caller, action, None, None, None, false).await?;
    Ok(Json(municipal_basis(&kommun, first.year(), first.month(), &liabilities, &agreement)))
}
