//! Escalation of messages nobody acknowledges: each receiving unit sets, in its own rule, how
//! long a message may wait unacknowledged before its backup unit (of the same organisation,
//! e.g. the municipality's weekend team) gets it too, and how long before a leader's unit (e.g.
//! the cluster leader's) is alerted. The backup receives the message itself and can act on
//! it; the leader is told that a unit has not answered, without the patient's details, and
//! calls. Every escalation is an event on the case, so everyone in it sees it. Where the server
//! sends e-mail, the receiving unit's functional mailbox is told too (without the patient).

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Problem;
use crate::message::MessageId;
use crate::org::{OrganisationId, UnitId};

/// Shortest and longest waits a rule accepts (15 minutes to a week).
pub const MIN_MINUTES: u32 = 15;
pub const MAX_MINUTES: u32 = 7 * 24 * 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EscalationRule {
    /// The receiving unit the rule is for.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub unit: UnitId,
    pub backup_after_minutes: u32,
    /// Of the same organisation as `unit`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub backup_unit: UnitId,
    pub leader_after_minutes: Option<u32>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub leader_unit: Option<UnitId>,
}

impl EscalationRule {
    /// `organisation_of` tells a unit's organisation (none: no such unit).
    pub fn validate(&self, organisation_of: impl Fn(UnitId) -> Option<OrganisationId>) -> Result<(), Problem> {
        let minutes = |field: &str, m: u32| {
            if (MIN_MINUTES..=MAX_MINUTES).contains(&m) {
                Ok(())
            } else {
                Err(Problem::invalid_field(
                    field,
                    "invalid_wait",
                    format!("Ange en väntetid mellan {MIN_MINUTES} minuter och en vecka ({MAX_MINUTES} minuter)."),
                    "Enter a wait between 15 minutes and a week.",
                ))
            }
        };
        minutes("backup_after_minutes", self.backup_after_minutes)?;
        let own = organisation_of(self.unit);
        if self.backup_unit == self.unit
            || organisation_of(self.backup_unit).is_none()
            || organisation_of(self.backup_unit) != own
        {
            return Err(Problem::invalid_field(
                "backup_unit",
                "invalid_backup",
                "Ersättande enhet ska vara en annan enhet i samma organisation, eftersom den får meddelandet och patientuppgifterna.",
                "The backup must be another unit of the same organisation.",
            ));
        }
        match (self.leader_after_minutes, self.leader_unit) {
            (None, None) => {}
            (Some(m), Some(leader)) => {
                minutes("leader_after_minutes", m)?;
                if m <= self.backup_after_minutes {
                    return Err(Problem::invalid_field(
                        "leader_after_minutes",
                        "leader_before_backup",
                        "Ledaren larmas efter den ersättande enheten: ange en längre väntetid än för den ersättande enheten.",
                        "The leader is alerted after the backup: enter a longer wait.",
                    ));
                }
                if leader == self.unit || organisation_of(leader).is_none() {
                    return Err(Problem::invalid_field(
                        "leader_unit",
                        "invalid_leader",
                        "Välj ledarens enhet i listan (inte enheten själv).",
                        "Choose the leader's unit from the list.",
                    ));
                }
            }
            _ => {
                return Err(Problem::invalid_field(
                    "leader_unit",
                    "leader_incomplete",
                    "Ange både ledarens enhet och väntetiden, eller ingen av dem.",
                    "Give both the leader's unit and the wait, or neither.",
                ));
            }
        }
        Ok(())
    }
}

/// How far an escalation has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The backup unit received the message.
    Backup,
    /// A leader's unit was alerted.
    Leader,
}

/// A message a unit has not acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub case_id: Uuid,
    pub message_id: MessageId,
    pub unit: UnitId,
    pub sent_at: Timestamp,
    /// The backup has acknowledged it (so nobody needs the leader).
    pub backup_acknowledged: bool,
    /// Levels already reached for this message and unit.
    pub done: Vec<Level>,
}

/// An escalation to make now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub case_id: Uuid,
    pub message_id: MessageId,
    pub from_unit: UnitId,
    pub to_unit: UnitId,
    pub level: Level,
    pub after_minutes: u32,
}

/// What is due for a waiting message under its unit's rule at `now`: the backup once its wait
/// has passed, then the leader once theirs has, unless the backup acknowledged meanwhile.
pub fn due(rule: &EscalationRule, w: &Waiting, now: Timestamp) -> Vec<Due> {
    let waited = |m: u32| now.duration_since(w.sent_at) >= SignedDuration::from_mins(m as i64);
    let mut out = vec![];
    if !w.done.contains(&Level::Backup) && waited(rule.backup_after_minutes) {
        out.push(Due {
            case_id: w.case_id,
            message_id: w.message_id,
            from_unit: w.unit,
            to_unit: rule.backup_unit,
            level: Level::Backup,
            after_minutes: rule.backup_after_minutes,
        });
    }
    if let (Some(m), Some(leader)) = (rule.leader_after_minutes, rule.leader_unit)
        && !w.done.contains(&Level::Leader)
        && !w.backup_acknowledged
        && waited(m)
    {
        out.push(Due {
            case_id: w.case_id,
            message_id: w.message_id,
            from_unit: w.unit,
            to_unit: leader,
            level: Level::Leader,
            after_minutes: m,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn rule(unit: Uuid, backup: Uuid, leader: Uuid) -> EscalationRule {
        EscalationRule {
            unit,
            backup_after_minutes: 240,
            backup_unit: backup,
            leader_after_minutes: Some(480),
            leader_unit: Some(leader),
        }
    }

    #[test]
    fn a_rule_keeps_the_backup_in_the_organisation_and_the_leader_after_it() {
        let (kommun, region) = (Uuid::now_v7(), Uuid::now_v7());
        let (unit, backup, leader, elsewhere) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let org = |u: Uuid| {
            if u == unit || u == backup {
                Some(kommun)
            } else if u == leader || u == elsewhere {
                Some(region)
            } else {
                None
            }
        };
        let r = rule(unit, backup, leader);
        assert!(r.validate(org).is_ok(), "a leader may be of another organisation: only told, not sent the message");
        let code = |r: EscalationRule| r.validate(org).unwrap_err().code;
        assert_eq!(code(EscalationRule { backup_unit: elsewhere, ..r.clone() }), "invalid_backup");
        assert_eq!(code(EscalationRule { backup_unit: unit, ..r.clone() }), "invalid_backup");
        assert_eq!(code(EscalationRule { backup_after_minutes: 5, ..r.clone() }), "invalid_wait");
        assert_eq!(code(EscalationRule { leader_after_minutes: Some(120), ..r.clone() }), "leader_before_backup");
        assert_eq!(code(EscalationRule { leader_unit: None, ..r.clone() }), "leader_incomplete");
        assert_eq!(code(EscalationRule { leader_unit: Some(Uuid::now_v7()), ..r.clone() }), "invalid_leader");
        assert!(EscalationRule { leader_after_minutes: None, leader_unit: None, ..r }.validate(org).is_ok());
    }

    #[test]
    fn the_backup_then_the_leader_each_once_and_not_the_leader_once_the_backup_answered() {
        let (unit, backup, leader) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let r = rule(unit, backup, leader);
        let w = Waiting {
            case_id: Uuid::now_v7(),
            message_id: Uuid::now_v7(),
            unit,
            sent_at: at("2026-11-27T15:00:00Z"),
            backup_acknowledged: false,
            done: vec![],
        };
        assert!(due(&r, &w, at("2026-11-27T18:59:00Z")).is_empty(), "within four hours");
        let first = due(&r, &w, at("2026-11-27T19:00:00Z"));
        assert_eq!(first.len(), 1);
        assert_eq!((first[0].level, first[0].to_unit, first[0].after_minutes), (Level::Backup, backup, 240));
        let after = Waiting { done: vec![Level::Backup], ..w.clone() };
        assert!(due(&r, &after, at("2026-11-27T22:59:00Z")).is_empty(), "once only");
        let second = due(&r, &after, at("2026-11-27T23:00:00Z"));
        assert_eq!((second[0].level, second[0].to_unit), (Level::Leader, leader));
        // Both at once when the server was away past both waits.
        assert_eq!(due(&r, &w, at("2026-11-28T09:00:00Z")).len(), 2);
        let answered = Waiting { backup_acknowledged: true, ..after };
        assert!(due(&r, &answered, at("2026-11-28T09:00:00Z")).is_empty(), "the backup answered");
        let done = Waiting { done: vec![Level::Backup, Level::Leader], ..w };
        assert!(due(&r, &done, at("2026-11-29T09:00:00Z")).is_empty());
    }
}
