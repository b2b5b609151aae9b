//! Screening recorded in a case: frailty on a nine-level clinical frailty scale, and the need
//! for coordination (samordningsbehov) in a short structured assessment. Lekeberg's report
//! found no screening tool in use; recorded here, a screening is shown beside the SIP and
//! counted in follow-up.
//!
//! The scale's levels are numbers; what each means is a text. Samverka ships neutral wording
//! of its own (the texts `screening.frailty.1` … `.9`); a region licensed to use the official
//! wording loads it in its agreement (`[screening] frailty_levels`), and that is shown instead.

use serde::{Deserialize, Serialize};

use crate::actor::Stamp;
use crate::error::Problem;

/// Longest note with a screening, in characters.
pub const MAX_NOTE: usize = 2000;

/// A level on the nine-level frailty scale: 1 (fit) to 9 (terminally ill).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "u8", into = "u8")]
pub struct Frailty(u8);

impl Frailty {
    pub fn new(level: u8) -> Result<Frailty, Problem> {
        if (1..=9).contains(&level) {
            return Ok(Frailty(level));
        }
        Err(Problem::invalid_field(
            "frailty",
            "frailty_level",
            "Skörheten anges som en nivå från 1 till 9.",
            "Frailty is a level from 1 to 9.",
        ))
    }

    pub fn level(self) -> u8 {
        self.0
    }

    /// Level 5 and above: frail, in the scale's own division.
    pub fn is_frail(self) -> bool {
        self.0 >= 5
    }
}

impl TryFrom<u8> for Frailty {
    type Error = String;
    fn try_from(level: u8) -> Result<Self, String> {
        Frailty::new(level).map_err(|p| p.message_en)
    }
}

impl From<Frailty> for u8 {
    fn from(f: Frailty) -> u8 {
        f.0
    }
}

/// The need for coordination: the facts that make a person's care hard to hold together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct CoordinationNeed {
    /// Needs insatser from both the region and the municipality: what makes a SIP a duty
    /// (SoL 2 kap 7 §, HSL 16 kap 4 §).
    pub both_principals: bool,
    /// Three or more units or care providers take part in the care.
    pub many_providers: bool,
    /// Two or more hospital stays in the last twelve months.
    pub repeated_admissions: bool,
    /// Memory or cognition makes it hard to keep track of one's care.
    pub cognitive_impairment: bool,
    /// Relatives carry much of the care, or are worn down.
    pub carer_strain: bool,
}

impl CoordinationNeed {
    /// How many of the facts hold.
    pub fn count(&self) -> usize {
        [
            self.both_principals,
            self.many_providers,
            self.repeated_admissions,
            self.cognitive_impairment,
            self.carer_strain,
        ]
        .into_iter()
        .filter(|x| *x)
        .count()
    }

    /// Coordination is needed when both principals give insatser (a SIP is then a duty), or
    /// when two of the other facts hold.
    pub fn needed(&self) -> bool {
        self.both_principals || self.count() >= 2
    }
}

/// One screening: frailty, the need for coordination, or both, with a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Screening {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u8>, minimum = 1, maximum = 9))]
    pub frailty: Option<Frailty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordination: Option<CoordinationNeed>,
    /// What the screening was based on, or anything else worth knowing.
    #[serde(default)]
    pub note: String,
}

impl Screening {
    /// Refused when it screens nothing, or the note is too long; the note is trimmed.
    pub fn checked(self) -> Result<Screening, Problem> {
        if self.frailty.is_none() && self.coordination.is_none() {
            return Err(Problem::invalid_field(
                "frailty",
                "nothing_screened",
                "Ange skörhet, samordningsbehov eller båda.",
                "Give frailty, the need for coordination, or both.",
            ));
        }
        if self.note.chars().count() > MAX_NOTE {
            return Err(Problem::invalid_field(
                "note",
                "too_long",
                format!("Anteckningen är för lång: högst {MAX_NOTE} tecken."),
                format!("The note is too long: at most {MAX_NOTE} characters."),
            ));
        }
        Ok(Screening { note: self.note.trim().to_string(), ..self })
    }
}

/// A screening as the case keeps it: who recorded it, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScreeningRecord {
    pub screening: Screening,
    pub recorded: Stamp,
}

/// A region's own wording of the nine levels, from its agreement: exactly nine, none empty.
pub fn check_frailty_levels(levels: &[String]) -> Result<(), String> {
    if levels.len() != 9 {
        return Err(format!("nine levels are needed, one per level 1–9; found {}", levels.len()));
    }
    match levels.iter().position(|l| l.trim().is_empty()) {
        Some(i) => Err(format!("level {} has no text", i + 1)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frailty_is_a_level_from_one_to_nine() {
        for level in 1..=9 {
            assert_eq!(Frailty::new(level).unwrap().level(), level);
        }
        for level in [0, 10, 255] {
            assert_eq!(Frailty::new(level).unwrap_err().code, "frailty_level", "{level}");
        }
        assert!(!Frailty::new(4).unwrap().is_frail());
        assert!(Frailty::new(5).unwrap().is_frail());
        // Stored and read as its number; a stored number out of range is refused.
        assert_eq!(serde_json::to_string(&Frailty::new(6).unwrap()).unwrap(), "6");
        assert!(serde_json::from_str::<Frailty>("12").is_err());
    }

    #[test]
    fn coordination_is_needed_with_both_principals_or_two_other_facts() {
        let need = |b, m, r, c, s| CoordinationNeed {
            both_principals: b,
            many_providers: m,
            repeated_admissions: r,
            cognitive_impairment: c,
            carer_strain: s,
        };
        // (facts, needed)
        let cases = [
            (need(false, false, false, false, false), false),
            (need(true, false, false, false, false), true),
            (need(false, true, false, false, false), false),
            (need(false, true, true, false, false), true),
            (need(false, false, false, true, true), true),
            (need(false, false, true, false, false), false),
        ];
        for (n, needed) in cases {
            assert_eq!(n.needed(), needed, "{n:?}");
        }
    }

    #[test]
    fn a_screening_screens_something_and_its_note_is_bounded() {
        let nothing = Screening { frailty: None, coordination: None, note: "Hemma".into() };
        assert_eq!(nothing.checked().unwrap_err().code, "nothing_screened");
        let long = Screening { frailty: Frailty::new(3).ok(), coordination: None, note: "å".repeat(MAX_NOTE + 1) };
        assert_eq!(long.checked().unwrap_err().field.as_deref(), Some("note"));
        let ok =
            Screening { frailty: None, coordination: Some(CoordinationNeed::default()), note: "  Telefon \n".into() };
        assert_eq!(ok.checked().unwrap().note, "Telefon");
    }

    #[test]
    fn a_regions_wording_has_nine_levels() {
        let nine: Vec<String> = (1..=9).map(|i| format!("Nivå {i}")).collect();
        assert!(check_frailty_levels(&nine).is_ok());
        assert!(check_frailty_levels(&nine[..8]).unwrap_err().contains("found 8"));
        let mut blank = nine.clone();
        blank[4] = " ".into();
        assert_eq!(check_frailty_levels(&blank).unwrap_err(), "level 5 has no text");
    }
}
