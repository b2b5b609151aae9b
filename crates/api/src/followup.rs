//! Over JSON: follow-up indicators for managers, MAS, cluster leaders and the joint bodies: one area
//! (Sweden, a region, a municipality, a hospital, a ward or a vårdcentral) and one period, with
//! the trend over earlier periods and a comparison with neighbouring areas. The figures are
//! sums without patient data, read from the monthly sums the store keeps.

use axum::Json;
use axum::extract::State;

use samverka_app::AppState;
use samverka_app::auth::Caller;
use samverka_app::error::{AppResult, ProblemDetails};
use samverka_app::extract::ApiQuery;
use samverka_app::followup;
use samverka_app::followup::*;

/// Follow-up indicators for an area and period, with definitions, trend and comparison.
#[utoipa::path(get, path = "/api/followup", tag = "followup", params(FollowUpQuery),
    responses((status = 200, body = FollowUpView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn get(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<FollowUpQuery>,
) -> AppResult<Json<FollowUpView>> {
    Ok(Json(followup::get(&st, &caller, q).await?))
}
