//! A unit's inbox: what is new, what is not yet acknowledged, and what falls due.

use jiff::ToSpan;
use samverka_domain::access::Permission;
use samverka_domain::actor::UnitRef;
use samverka_domain::calendar::{end_of_day, local_date};
use samverka_domain::deadlines::countdown_sv;
use samverka_store::{CaseSummary, DueDeadline, DueForPatient, InboxItem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::audit::{log_read, require};
use crate::auth::Caller;
use crate::error::AppResult;

#[derive(Deserialize, IntoParams)]
pub struct InboxQuery {
    /// Include messages already acknowledged or marked mis-sent.
    #[serde(default)]
    pub all: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Overdue,
    DueToday,
    DueTomorrow,
}

#[derive(Serialize, ToSchema)]
pub struct DueItem {
    pub deadline: DueDeadline,
    pub urgency: Urgency,
    /// "om 3 timmar", "försenad 1 dygn".
    pub countdown_sv: String,
}

#[derive(Serialize, ToSchema)]
pub struct InboxView {
    pub unit: UnitRef,
    pub messages: Vec<InboxItem>,
    /// Deadlines the unit owns that are overdue or fall due today or tomorrow.
    pub due: Vec<DueItem>,
    pub unopened: usize,
    pub unacknowledged: usize,
    pub overdue: usize,
    pub due_today: usize,
}

/// The caller's unit's inbox: its messages (the pending, or `all`), and the deadlines it owns
/// that are overdue or fall due by the end of tomorrow. Logged as one read.
pub async fn read(st: &AppState, caller: &Caller, all: bool) -> AppResult<InboxView> {
    const ACTION: &str = "inbox.read";
    require(st, caller, Permission::ReadPatientData, ACTION, None, None).await?;
    let actor = &caller.actor;
    let now = st.clock.now();
    let today = local_date(now);
    let end_today = end_of_day(today);
    let end_tomorrow = end_of_day(today + 1.day());
    let messages = st.store.inbox(actor.unit.id, all, 500).await?;
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
    log_read(st, caller, ACTION, None, None, None, messages.iter().any(|m| m.protection.is_protected())).await?;
    let pending = messages.iter().filter(|m| m.acknowledged_at.is_none() && !m.mis_sent);
    Ok(InboxView {
        unopened: pending.clone().filter(|m| m.opened_at.is_none()).count(),
        unacknowledged: pending.count(),
        overdue: due.iter().filter(|d| matches!(d.urgency, Urgency::Overdue)).count(),
        due_today: due.iter().filter(|d| matches!(d.urgency, Urgency::DueToday)).count(),
        unit: actor.unit.clone(),
        messages,
        due,
    })
}

/// What the unit's start page shows: pending messages, the deadlines it owns by the end of
/// tomorrow with their patients, and (for a ward) cases drafted from the admission feed.
pub struct StartPage {
    pub messages: Vec<InboxItem>,
    pub due: Vec<DueForPatient>,
    pub drafts: Vec<CaseSummary>,
}

/// The start page's data, logged as one read under `action` (a live refetch has its own).
pub async fn start_page(st: &AppState, caller: &Caller, limit: i64, action: &str) -> AppResult<StartPage> {
    require(st, caller, Permission::ReadPatientData, action, None, None).await?;
    let unit = caller.actor.unit.id;
    let end_tomorrow = end_of_day(local_date(st.clock.now()) + 1.day());
    let (messages, due, drafts) = tokio::try_join!(
        st.store.inbox(unit, false, limit),
        st.store.due_deadlines_with_patients(unit, end_tomorrow),
        st.store.drafts_for_ward(unit)
    )?;
    let protected = drafts.iter().any(|d| d.protection.is_protected())
        || messages.iter().any(|m| m.protection.is_protected())
        || due.iter().any(|d| d.protection.is_protected());
    log_read(st, caller, action, None, None, None, protected).await?;
    Ok(StartPage { messages, due, drafts })
}
