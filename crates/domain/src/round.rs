//! The joint round (gemensam rond): the vårdcentral, the municipality's health care and home
//! care of an area meet regularly and go through the persons they share. Lekeberg's report makes
//! the round, with every profession, the base of planning together at home.
//!
//! A round is a forum of kind [`crate::forum::ForumKind::Rond`]: its schedule, meetings and
//! attendance are the forum's. What is said about a person is not the forum's but the person's
//! case's: a [`RoundNote`] is an event in the case (what changed, what each profession does, the
//! next review, actions with owners), so it is read under the case's need-to-know rule, is in
//! its history, reaches the person's own pages, and its actions stay open from round to round
//! until their unit marks them done.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::actor::Stamp;
use crate::error::Problem;
use crate::forum::{ForumId, MeetingId, check_title};
use crate::org::UnitId;
use crate::text::{check_planned_date, check_text};

pub type RoundActionId = Uuid;

/// Most actions decided for one person at one round.
pub const MAX_ACTIONS: usize = 20;

/// The professions that speak at a round, each with its part of a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Profession {
    Lakare,
    Sjukskoterska,
    Arbetsterapeut,
    Fysioterapeut,
    /// Home care (hemtjänst): the staff who see the person every day.
    Hemtjanst,
    Bistandshandlaggare,
    Annan,
}

impl Profession {
    pub const ALL: [Profession; 7] = [
        Profession::Lakare,
        Profession::Sjukskoterska,
        Profession::Arbetsterapeut,
        Profession::Fysioterapeut,
        Profession::Hemtjanst,
        Profession::Bistandshandlaggare,
        Profession::Annan,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Profession::Lakare => "lakare",
            Profession::Sjukskoterska => "sjukskoterska",
            Profession::Arbetsterapeut => "arbetsterapeut",
            Profession::Fysioterapeut => "fysioterapeut",
            Profession::Hemtjanst => "hemtjanst",
            Profession::Bistandshandlaggare => "bistandshandlaggare",
            Profession::Annan => "annan",
        }
    }
}

/// What one profession does for the person until the next review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProfessionPart {
    pub profession: Profession,
    pub what: String,
}

/// Something to be done for the person, with the unit that answers for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoundAction {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: RoundActionId,
    pub what: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub owner_unit: UnitId,
    /// Who at that unit (a name or a function).
    pub owner_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub due: Date,
}

/// What a round said about one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoundNote {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub forum_id: ForumId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub meeting_id: MeetingId,
    /// What has changed since the last round.
    pub changed: String,
    /// What each profession does; professions with nothing to say are left out.
    #[serde(default)]
    pub professions: Vec<ProfessionPart>,
    /// When the round looks at the person again.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub next_review: Date,
    #[serde(default)]
    pub actions: Vec<RoundAction>,
}

impl RoundNote {
    /// The note with its texts trimmed and empty profession parts left out, or why it cannot
    /// be recorded: `parties` are the units that take part in the case, who alone may own an
    /// action.
    pub fn checked(mut self, today: Date, parties: &[UnitId]) -> Result<RoundNote, Problem> {
        check_text("changed", &self.changed, true)?;
        self.changed = self.changed.trim().to_string();
        self.professions.retain(|p| !p.what.trim().is_empty());
        for p in &mut self.professions {
            check_text(&format!("profession_{}", p.profession.as_str()), &p.what, true)?;
            p.what = p.what.trim().to_string();
        }
        let mut seen = vec![];
        for p in &self.professions {
            if seen.contains(&p.profession) {
                return Err(Problem::invalid_field(
                    "professions",
                    "profession_twice",
                    "Varje yrkesgrupp skrivs en gång. Slå ihop texterna.",
                    "Each profession once; merge the texts.",
                ));
            }
            seen.push(p.profession);
        }
        check_planned_date("next_review", self.next_review, today, today)?;
        if self.actions.len() > MAX_ACTIONS {
            return Err(Problem::invalid_field(
                "actions",
                "too_many_actions",
                format!("Högst {MAX_ACTIONS} åtgärder per person och rond."),
                format!("At most {MAX_ACTIONS} actions per person and round."),
            ));
        }
        for a in &mut self.actions {
            check_text("action_what", &a.what, true)?;
            check_title("action_owner_name", &a.owner_name)?;
            check_planned_date("action_due", a.due, today, today)?;
            if !parties.contains(&a.owner_unit) {
                return Err(Problem::invalid_field(
                    "action_owner_unit",
                    "owner_not_a_party",
                    "En åtgärd ägs av en enhet som deltar i personens vård. Bjud in enheten i ärendet först.",
                    "An action's owner must take part in the person's care.",
                ));
            }
            a.what = a.what.trim().to_string();
            a.owner_name = a.owner_name.trim().to_string();
        }
        Ok(self)
    }
}

/// A round's note as the case keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoundNoteRecord {
    pub note: RoundNote,
    pub recorded: Stamp,
}

/// An action marked done, and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoundActionDone {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub action_id: RoundActionId,
    pub stamp: Stamp,
}

/// The round notes of a case and the actions marked done, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rounds {
    pub notes: Vec<RoundNoteRecord>,
    pub done: Vec<RoundActionDone>,
}

impl Rounds {
    /// The latest note, when there is one.
    pub fn latest(&self) -> Option<&RoundNoteRecord> {
        self.notes.last()
    }

    /// The note of one meeting (the latest written there, when corrected).
    pub fn of_meeting(&self, meeting: MeetingId) -> Option<&RoundNoteRecord> {
        self.notes.iter().rev().find(|n| n.note.meeting_id == meeting)
    }

    /// The latest note written at any other meeting than `meeting`: what the round before said.
    pub fn before(&self, meeting: MeetingId) -> Option<&RoundNoteRecord> {
        self.notes.iter().rev().find(|n| n.note.meeting_id != meeting)
    }

    /// An action of any note, with whether it is done.
    pub fn action(&self, id: RoundActionId) -> Option<(&RoundAction, bool)> {
        let a = self.notes.iter().flat_map(|n| &n.note.actions).find(|a| a.id == id)?;
        Some((a, self.is_done(id)))
    }

    pub fn is_done(&self, id: RoundActionId) -> bool {
        self.done.iter().any(|d| d.action_id == id)
    }

    /// Actions not yet done, oldest first: carried from round to round.
    pub fn open_actions(&self) -> impl Iterator<Item = &RoundAction> {
        self.notes.iter().flat_map(|n| &n.note.actions).filter(|a| !self.is_done(a.id))
    }
}

/// Whether a person is on a round for the unit `viewer`: the viewer's unit takes part in the
/// case (need-to-know), another of the round's units does too (the person is shared), and
/// either a SIP is in force or a unit put the person on the round's list.
pub fn on_round(viewer: UnitId, parties: &[UnitId], round_units: &[UnitId], sip_in_force: bool, listed: bool) -> bool {
    parties.contains(&viewer)
        && parties.iter().any(|p| *p != viewer && round_units.contains(p))
        && (sip_in_force || listed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn note(parties: &[UnitId]) -> RoundNote {
        RoundNote {
            forum_id: Uuid::now_v7(),
            meeting_id: Uuid::now_v7(),
            changed: " Fallit två gånger sedan förra ronden. ".into(),
            professions: vec![
                ProfessionPart { profession: Profession::Sjukskoterska, what: "Ser över läkemedlen.".into() },
                ProfessionPart { profession: Profession::Fysioterapeut, what: "  ".into() },
            ],
            next_review: date(2026, 12, 21),
            actions: vec![RoundAction {
                id: Uuid::now_v7(),
                what: "Beställ rollator".into(),
                owner_unit: parties[0],
                owner_name: "Arbetsterapeuten".into(),
                due: date(2026, 12, 14),
            }],
        }
    }

    #[test]
    fn a_note_is_trimmed_and_empty_professions_left_out() {
        let parties = [Uuid::now_v7()];
        let n = note(&parties).checked(date(2026, 12, 7), &parties).unwrap();
        assert_eq!(n.changed, "Fallit två gånger sedan förra ronden.");
        assert_eq!(n.professions.len(), 1, "the empty part is left out");
    }

    #[test]
    fn a_note_says_what_is_wrong_with_it() {
        let parties = [Uuid::now_v7()];
        let today = date(2026, 12, 7);
        let field = |n: RoundNote| n.checked(today, &parties).unwrap_err().field.unwrap();
        assert_eq!(field(RoundNote { changed: " ".into(), ..note(&parties) }), "changed");
        assert_eq!(field(RoundNote { next_review: date(2026, 12, 6), ..note(&parties) }), "next_review");
        let mut outsider = note(&parties);
        outsider.actions[0].owner_unit = Uuid::now_v7();
        let e = outsider.checked(today, &parties).unwrap_err();
        assert_eq!(e.code, "owner_not_a_party");
        let mut twice = note(&parties);
        twice.professions[1].profession = Profession::Sjukskoterska;
        twice.professions[1].what = "Också".into();
        assert_eq!(twice.checked(today, &parties).unwrap_err().code, "profession_twice");
        let mut late = note(&parties);
        late.actions[0].due = date(2026, 12, 1);
        assert_eq!(field(late), "action_due");
    }

    #[test]
    fn open_actions_are_carried_until_done_and_the_round_before_is_found() {
        let parties = [Uuid::now_v7()];
        let first = note(&parties);
        let second = RoundNote { meeting_id: Uuid::now_v7(), actions: vec![], ..first.clone() };
        let stamp = Stamp {
            at: "2026-12-07T10:00:00Z".parse().unwrap(),
            by: crate::actor::UserRef { id: Uuid::now_v7(), name: "Disa".into() },
            unit: parties[0],
        };
        let mut r = Rounds::default();
        r.notes.push(RoundNoteRecord { note: first.clone(), recorded: stamp.clone() });
        r.notes.push(RoundNoteRecord { note: second.clone(), recorded: stamp.clone() });
        assert_eq!(r.open_actions().count(), 1, "the first round's action is still open at the second");
        assert_eq!(r.before(second.meeting_id).unwrap().note.meeting_id, first.meeting_id);
        assert_eq!(r.of_meeting(second.meeting_id).unwrap().note, second);
        r.done.push(RoundActionDone { action_id: first.actions[0].id, stamp });
        assert_eq!(r.open_actions().count(), 0);
        assert_eq!(r.action(first.actions[0].id).map(|(_, done)| done), Some(true));
    }

    #[test]
    fn a_person_is_on_the_round_only_where_shared_and_known_to_the_viewer() {
        let (vc, hsl, hemtjanst, ward) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let round = [vc, hsl, hemtjanst];
        // Shared with the municipality's nurse, a SIP in force: on the round.
        assert!(on_round(vc, &[vc, hsl], &round, true, false));
        // Listed though no SIP yet.
        assert!(on_round(hsl, &[vc, hsl], &round, false, true));
        // Neither a SIP nor listed.
        assert!(!on_round(vc, &[vc, hsl], &round, false, false));
        // Home care takes no part in the person's care: not shown to it.
        assert!(!on_round(hemtjanst, &[vc, hsl], &round, true, true));
        // Only the viewer and a ward outside the round: nobody to share with.
        assert!(!on_round(vc, &[vc, ward], &round, true, true));
    }
}
