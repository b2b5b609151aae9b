//! Over JSON: a unit's inbox: what is new, what is not yet acknowledged, and what falls due.

use axum::Json;
use axum::extract::State;
use jiff::ToSpan;
use samverka_domain::calendar::{end_of_day, local_date};
use samverka_domain::deadlines::countdown_sv;

use samverka_app::AppState;
use samverka_app::audit::{log_read, require};
use samverka_app::auth::Caller;
use samverka_app::error::{AppResult, ProblemDetails};
use samverka_app::extract::ApiQuery;
use samverka_app::inbox::*;
use samverka_domain::access::Permission;

/// The caller's unit's inbox.
#[utoipa::path(get, path = "/api/inbox", tag = "inbox", params(InboxQuery),
    responses((status = 200, body = InboxView), (status = 401, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn inbox(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<InboxQuery>,
) -> AppResult<Json<InboxView>> {
    require(&st, &caller, Permission::ReadPatientData, "inbox.read", None, None).await?;
    let actor = &caller.actor;
    let now = st.clock.now();
    let today = local_date(now);
    let end_today = end_of_day(today);
    let end_tomorrow = end_of_day(today + 1.day());
    let messages = st.store.inbox(actor.unit.id, q.all, 500).await?;
    let due: Vec<DueItem> = st
        .store
        .due_deadlines(actor.unit.id, end_tomorrow)
        .await?
        .into_iter()
        .map(|d| {
            let urgency = if d.due <= now {
                Urgency::Overdue
            } else if d.due <= end_today {
                Urgency::DueToday
            } else {
                Urgency::DueTomorrow
            };
            DueItem { countdown_sv: countdown_sv(d.due, now), deadline: d, urgency }
        })
        .collect();
    log_read(&st, &caller, "inbox.read", None, None, None, messages.iter().any(|m| m.protection.is_protected()))
        .await?;
    let pending = messages.iter().filter(|m| m.acknowledged_at.is_none() && !m.mis_sent);
    Ok(Json(InboxView {
        unopened: pending.clone().filter(|m| m.opened_at.is_none()).count(),
        unacknowledged: pending.count(),
        overdue: due.iter().filter(|d| matches!(d.urgency, Urgency::Overdue)).count(),
        due_today: due.iter().filter(|d| matches!(d.urgency, Urgency::DueToday)).count(),
        unit: actor.unit.clone(),
        messages,
        due,
    }))
}
