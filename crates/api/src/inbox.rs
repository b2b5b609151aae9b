//! Over JSON: a unit's inbox: what is new, what is not yet acknowledged, and what falls due.

use axum::Json;
use axum::extract::State;

use samverka_app::AppState;
use samverka_app::auth::Caller;
use samverka_app::error::{AppResult, ProblemDetails};
use samverka_app::extract::ApiQuery;
use samverka_app::inbox::*;

/// The caller's unit's inbox.
#[utoipa::path(get, path = "/api/inbox", tag = "inbox", params(InboxQuery),
    responses((status = 200, body = InboxView), (status = 401, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn inbox(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<InboxQuery>,
) -> AppResult<Json<InboxView>> {
    Ok(Json(samverka_app::inbox::read(&st, &caller, q.all).await?))
}
