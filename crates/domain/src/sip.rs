//! The samordnad individuell plan (SIP), SoL 2 kap 7 § and HSL 16 kap 4 §.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::actor::Stamp;
use crate::error::Problem;
use crate::org::{Principal, UnitId};

/// One insats (intervention) and the principal that provides it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Insats {
    pub principal: Principal,
    /// The unit that carries it out, when known.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub unit: Option<UnitId>,
    pub description: String,
}

/// A measure by someone other than the principals: relatives, civil society, the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OtherMeasure {
    pub who: String,
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ParticipantRole {
    /// The person the plan is for.
    Patient,
    /// A relative or other close person (närstående), present with the person's agreement.
    Narstaende,
    /// Staff from a unit.
    Staff,
    /// God man, förvaltare or other representative.
    Representative,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Participant {
    pub name: String,
    pub role: ParticipantRole,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub unit: Option<UnitId>,
    /// E.g. "dotter", "distriktssköterska".
    #[serde(default)]
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Coordinator {
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub unit: UnitId,
}

/// What the law requires a SIP to state, plus what practice adds.
/// What a case already knows for its first plan, to start the editor with (editable; nothing
/// is kept until the plan is saved): see `Case::sip_draft`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SipDraft {
    /// The needs the planning messages named, one per line, each once.
    pub needs: Vec<String>,
    /// Who the latest call to the SIP meeting named.
    pub invited: Vec<String>,
    pub patient_invited: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SipPlan {
    pub needs: Vec<String>,
    pub insatser: Vec<Insats>,
    #[serde(default)]
    pub others_measures: Vec<OtherMeasure>,
    /// Which principal has overall responsibility for the plan.
    pub overall_responsible: Principal,
    /// The person's own goals, in their own words.
    pub own_goals: String,
    pub participants: Vec<Participant>,
    pub coordinator: Coordinator,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub follow_up_date: Date,
    pub follow_up_how: String,
}

impl SipPlan {
    /// Checks what the law requires a plan to state. `today` refuses follow-up dates in the past.
    pub fn validate(&self, today: Date) -> Result<(), Problem> {
        self.check_texts()?;
        crate::text::check_planned_date(
            "follow_up_date",
            self.follow_up_date,
            today.tomorrow().unwrap_or(today),
            today,
        )?;
        let missing = |field: &str, sv: &str, en: &str| Err(Problem::invalid_field(field, "required", sv, en));
        if self.needs.iter().all(|n| n.trim().is_empty()) {
            return missing(
                "needs",
                "Planen måste ange vilka insatser som behövs. Skriv minst ett behov.",
                "State at least one need.",
            );
        }
        if self.insatser.is_empty() || self.insatser.iter().any(|i| i.description.trim().is_empty()) {
            return missing(
                "insatser",
                "Planen måste ange vilka insatser respektive huvudman ska ge. Lägg till minst en insats med beskrivning.",
                "State at least one insats, each with a description.",
            );
        }
        if self.own_goals.trim().is_empty() {
            return missing(
                "own_goals",
                "Skriv personens egna mål med personens egna ord. Kan personen inte uttrycka mål, skriv det och varför.",
                "Write the person's own goals in their own words.",
            );
        }
        if self.participants.is_empty() {
            return missing("participants", "Ange vilka som deltog i planeringen.", "List the participants.");
        }
        if self.coordinator.name.trim().is_empty() {
            return missing("coordinator", "Ange vem som samordnar planen.", "Name the plan's coordinator.");
        }
        if self.follow_up_how.trim().is_empty() {
            return missing("follow_up_how", "Ange hur planen ska följas upp.", "State how the plan is followed up.");
        }
        Ok(())
    }

    /// Every free text of the plan, checked for length and stray control characters.
    fn check_texts(&self) -> Result<(), Problem> {
        use crate::text::check_text;
        for (i, n) in self.needs.iter().enumerate() {
            check_text(&format!("needs[{i}]"), n, false)?;
        }
        for (i, x) in self.insatser.iter().enumerate() {
            check_text(&format!("insatser[{i}].description"), &x.description, false)?;
        }
        for (i, m) in self.others_measures.iter().enumerate() {
            check_text(&format!("others_measures[{i}].who"), &m.who, true)?;
            check_text(&format!("others_measures[{i}].description"), &m.description, true)?;
        }
        for (i, p) in self.participants.iter().enumerate() {
            check_text(&format!("participants[{i}].name"), &p.name, true)?;
            check_text(&format!("participants[{i}].title"), &p.title, false)?;
        }
        check_text("own_goals", &self.own_goals, false)?;
        check_text("coordinator.name", &self.coordinator.name, false)?;
        check_text("follow_up_how", &self.follow_up_how, false)
    }

    pub fn patient_took_part(&self) -> bool {
        self.participants.iter().any(|p| p.role == ParticipantRole::Patient)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SipStatus {
    /// A call has been sent but no plan drawn up yet.
    Called,
    DrawnUp,
    FollowedUp,
    Closed,
}

/// The outcome of a follow-up (step 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FollowUpOutcome {
    /// The plan stands; follow it up again on the given date.
    Continue {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        next_follow_up: Date,
    },
    /// A new version of the plan will be drawn up.
    NewPlan,
    /// The plan has done its work and is closed.
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SipVersion {
    pub version: u32,
    pub plan: SipPlan,
    pub drawn_up: Stamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SipFollowUp {
    pub evaluation: String,
    pub outcome: FollowUpOutcome,
    pub stamp: Stamp,
}

/// The SIP as derived from a case's events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SipState {
    pub versions: Vec<SipVersion>,
    pub follow_ups: Vec<SipFollowUp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub closed_at: Option<Timestamp>,
}

impl SipState {
    pub fn current(&self) -> Option<&SipVersion> {
        self.versions.last()
    }

    /// The next date the plan is to be followed up, if it is still open.
    pub fn next_follow_up(&self) -> Option<Date> {
        if self.closed_at.is_some() {
            return None;
        }
        let current = self.current()?;
        // A follow-up after the current version may have set a new date.
        let later = self.follow_ups.iter().rev().find(|f| f.stamp.at >= current.drawn_up.at);
        match later.map(|f| &f.outcome) {
            Some(FollowUpOutcome::Continue { next_follow_up }) => Some(*next_follow_up),
            Some(FollowUpOutcome::NewPlan) | Some(FollowUpOutcome::Close) => None,
            None => Some(current.plan.follow_up_date),
        }
    }
}
