//! A unit's inbox: what is new, what is not yet acknowledged, and what falls due.

use samverka_domain::actor::UnitRef;
use samverka_store::{DueDeadline, InboxItem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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
