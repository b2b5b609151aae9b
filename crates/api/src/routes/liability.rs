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
use crate::extract::{ApiPath, ApiQuery, CurrentActor};
use crate::problem::{ApiError, ApiResult, ProblemDetails};
use crate::routes::cases::load_for;

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
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<CaseLiability>> {
    let record = load_for(&st, id, &actor).await?;
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
    CurrentActor(_): CurrentActor,
    ApiQuery(q): ApiQuery<BasisQuery>,
) -> ApiResult<Json<LiabilityBasis>> {
    let kommun = Kommunkod::parse(&q.kommun).map_err(|e| ApiError::from(e.problem("kommun")))?;
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
    Ok(Json(municipal_basis(&kommun, first.year(), first.month(), &liabilities, &agreement)))
}
