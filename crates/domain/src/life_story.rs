//! The person's life story (levnadsberättelse): who they are in their own words, so that the
//! staff who come to their home know more than a diagnosis and a list of insatser. It belongs
//! to the person, not to a case: it can be written long before much help is needed and
//! follows the person across cases and homes. The person writes it (or staff write it with
//! them); every version is kept; units read it only while the person shares it and the unit
//! takes part in their care ([`may_read`]).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::Problem;
use crate::ids::PatientIdentifier;

/// Longest text of one part, in characters (about two pages).
pub const MAX_PART: usize = 4000;

/// The parts of a life story, in the order they are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// Who I am: name I like to be called, where I come from.
    WhoIAm,
    /// Family and the people close to me.
    Family,
    /// Work and what I have done in life.
    Work,
    /// Interests.
    Interests,
    /// Habits and routines: mornings, meals, sleep.
    Habits,
    /// What gives me joy.
    Joys,
    /// What worries me or makes me uneasy.
    Worries,
    /// What I want staff to know.
    ForStaff,
}

impl Part {
    pub const ALL: [Part; 8] = [
        Part::WhoIAm,
        Part::Family,
        Part::Work,
        Part::Interests,
        Part::Habits,
        Part::Joys,
        Part::Worries,
        Part::ForStaff,
    ];

    /// A stable name: the form's field, the stored key and the texts' key.
    pub fn as_str(self) -> &'static str {
        match self {
            Part::WhoIAm => "who_i_am",
            Part::Family => "family",
            Part::Work => "work",
            Part::Interests => "interests",
            Part::Habits => "habits",
            Part::Joys => "joys",
            Part::Worries => "worries",
            Part::ForStaff => "for_staff",
        }
    }

    pub fn parse(s: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// The text of each part; a part left empty is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Story(pub std::collections::BTreeMap<Part, String>);

impl Story {
    /// A story from what was written, each part trimmed and the empty ones left out: refused
    /// when nothing is written or a part is too long (the refusal names that part's field).
    pub fn checked<'a>(written: impl IntoIterator<Item = (Part, &'a str)>) -> Result<Story, Problem> {
        let mut parts = std::collections::BTreeMap::new();
        for (part, text) in written {
            let text = text.trim();
            if text.chars().count() > MAX_PART {
                return Err(Problem::invalid_field(
                    part.as_str(),
                    "too_long",
                    format!("Texten är för lång: högst {MAX_PART} tecken i varje ruta."),
                    format!("The text is too long: at most {MAX_PART} characters in each box."),
                ));
            }
            if !text.is_empty() {
                parts.insert(part, text.to_string());
            }
        }
        if parts.is_empty() {
            return Err(Problem::invalid_field(
                Part::WhoIAm.as_str(),
                "nothing_written",
                "Skriv något i minst en av rutorna.",
                "Write something in at least one of the boxes.",
            ));
        }
        Ok(Story(parts))
    }

    pub fn get(&self, part: Part) -> &str {
        self.0.get(&part).map(String::as_str).unwrap_or("")
    }
}

/// Who wrote a version, or changed whether the story is shared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Author {
    /// The person themself, signed in with e-legitimation.
    Person { name: String },
    /// A member of staff, with the person: what the person said, written down by them.
    Staff { name: String, unit_id: uuid::Uuid, unit_name: String },
}

impl Author {
    pub fn name(&self) -> &str {
        match self {
            Author::Person { name } | Author::Staff { name, .. } => name,
        }
    }
}

/// The number a life story is kept by: the person's personnummer or samordningsnummer, which
/// stay with them. A reservnummer is a hospital's stand-in for a person not yet identified and
/// cannot carry it.
pub fn person_number(id: &PatientIdentifier) -> Result<&str, Problem> {
    match id {
        PatientIdentifier::Personnummer(_) | PatientIdentifier::Samordningsnummer(_) => Ok(id.value()),
        PatientIdentifier::Reservnummer(_) => Err(Problem::invalid(
            "reservnummer",
            "En levnadsberättelse följer personen via personnummer eller samordningsnummer. Registrera personens riktiga nummer först.",
            "A life story follows the person by personnummer or samordningsnummer; register the person's real number first.",
        )),
    }
}

/// One version of the story. Versions are never changed; a new one is written instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// 1, 2, 3 … in the order written.
    pub version: u32,
    pub story: Story,
    pub written_at: Timestamp,
    pub written_by: Author,
}

/// The person's choice to share the story with the units that take part in their care, or to
/// stop sharing it; the last one counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sharing {
    pub shared: bool,
    pub at: Timestamp,
    /// The person, or the member of staff who recorded the person's word.
    pub by: Author,
}

/// Whether a unit may read the story: only while the person shares it (`sharing` is the last
/// choice made, if any), and only a unit that takes part in the person's care (need-to-know).
pub fn may_read(sharing: Option<&Sharing>, unit_takes_part: bool) -> Result<(), Problem> {
    if !unit_takes_part {
        return Err(not_in_care());
    }
    match sharing {
        Some(s) if s.shared => Ok(()),
        _ => Err(Problem::forbidden(
            "not_shared",
            "Personen delar inte sin levnadsberättelse. Bara personen själv kan dela den.",
            "The person does not share their life story; only they can share it.",
        )),
    }
}

fn not_in_care() -> Problem {
    Problem::forbidden(
        "not_in_care",
        "Er enhet deltar inte i personens vård och kan inte läsa eller skriva levnadsberättelsen.",
        "Your unit does not take part in the person's care and cannot read or write the life story.",
    )
}

/// Whether staff may write a version with the person: only a unit that takes part in their
/// care, and only what the person wants read by those who care for them, so a version written
/// by staff is shared. If it is not shared yet, the person's word that it may be must be
/// recorded with it.
pub fn staff_may_write(
    sharing: Option<&Sharing>,
    unit_takes_part: bool,
    person_agrees_to_share: bool,
) -> Result<(), Problem> {
    if !unit_takes_part {
        return Err(not_in_care());
    }
    if sharing.is_some_and(|s| s.shared) || person_agrees_to_share {
        return Ok(());
    }
    Err(Problem::invalid_field(
        "person_agrees",
        "consent_required",
        "Fråga personen om berättelsen får delas med dem som vårdar hen, och kryssa i rutan. Utan det kan personal inte skriva den.",
        "Ask the person whether the story may be shared with those who care for them, and tick the box; without it staff cannot write it.",
    ))
}

/// A new version must be written on top of the latest one the writer saw, so that two people
/// writing at once do not overwrite each other unseen.
pub fn check_on_top_of(latest: u32, seen: u32) -> Result<u32, Problem> {
    if latest != seen {
        return Err(changed_meanwhile());
    }
    Ok(latest + 1)
}

/// The refusal of a version written on top of one that is no longer the latest.
pub fn changed_meanwhile() -> Problem {
    Problem::conflict(
        "changed_meanwhile",
        "Levnadsberättelsen har ändrats sedan du öppnade den. Din text finns kvar nedan; jämför med den nya versionen och spara igen.",
        "The life story changed since you opened it. Your text is kept below; compare with the new version and save again.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn sharing(shared: bool) -> Sharing {
        Sharing { shared, at: at("2026-12-01T10:00:00Z"), by: Author::Person { name: "Greta Ek".into() } }
    }

    #[test]
    fn a_story_keeps_what_was_written_trimmed_and_leaves_out_empty_parts() {
        let s = Story::checked([(Part::WhoIAm, "  Greta, kallas Gittan \n"), (Part::Worries, "   ")]).unwrap();
        assert_eq!(s.get(Part::WhoIAm), "Greta, kallas Gittan");
        assert_eq!(s.0.len(), 1);
        assert_eq!(s.get(Part::Worries), "");
    }

    #[test]
    fn nothing_written_or_a_part_too_long_is_refused_with_its_field() {
        let none = Story::checked([(Part::Family, " "), (Part::Joys, "")]).unwrap_err();
        assert_eq!((none.code, none.field.as_deref()), ("nothing_written", Some("who_i_am")));
        let long = "å".repeat(MAX_PART + 1);
        let e = Story::checked([(Part::WhoIAm, "Greta"), (Part::Habits, long.as_str())]).unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), ("too_long", Some("habits")));
        let just = "å".repeat(MAX_PART);
        assert!(Story::checked([(Part::Habits, just.as_str())]).is_ok(), "the limit counts characters, not bytes");
    }

    #[test]
    fn a_unit_reads_only_while_shared_and_only_when_it_takes_part() {
        // (sharing, takes part) → allowed or the refusal's code
        let cases: [(Option<Sharing>, bool, Result<(), &str>); 6] = [
            (Some(sharing(true)), true, Ok(())),
            (Some(sharing(true)), false, Err("not_in_care")),
            (Some(sharing(false)), true, Err("not_shared")),
            (Some(sharing(false)), false, Err("not_in_care")),
            (None, true, Err("not_shared")),
            (None, false, Err("not_in_care")),
        ];
        for (s, part, expected) in cases {
            assert_eq!(may_read(s.as_ref(), part).map_err(|p| p.code), expected, "{s:?} {part}");
        }
    }

    #[test]
    fn staff_write_only_in_the_care_and_only_what_the_person_shares() {
        assert!(staff_may_write(Some(&sharing(true)), true, false).is_ok());
        assert!(staff_may_write(None, true, true).is_ok());
        assert!(staff_may_write(Some(&sharing(false)), true, true).is_ok());
        assert_eq!(staff_may_write(Some(&sharing(false)), true, false).unwrap_err().code, "consent_required");
        assert_eq!(staff_may_write(None, true, false).unwrap_err().code, "consent_required");
        assert_eq!(staff_may_write(Some(&sharing(true)), false, true).unwrap_err().code, "not_in_care");
    }

    #[test]
    fn a_version_is_written_on_top_of_the_latest() {
        assert_eq!(check_on_top_of(0, 0).unwrap(), 1);
        assert_eq!(check_on_top_of(3, 3).unwrap(), 4);
        assert_eq!(check_on_top_of(4, 3).unwrap_err().code, "changed_meanwhile");
    }

    #[test]
    fn a_story_is_kept_by_a_number_that_stays_with_the_person() {
        use crate::ids::ReservnummerRule;
        let today = jiff::civil::date(2026, 12, 7);
        let pnr = PatientIdentifier::parse("19121212-1212", today, None).unwrap();
        assert_eq!(person_number(&pnr).unwrap(), "191212121212");
        let snr = PatientIdentifier::parse("197302889931", today, None).unwrap();
        assert_eq!((snr.kind(), person_number(&snr).unwrap()), ("samordningsnummer", "197302889931"));
        let rule = ReservnummerRule::new(r"99\d{10}").unwrap();
        let reserv = PatientIdentifier::parse("991234567890", today, Some(&rule)).unwrap();
        assert_eq!(person_number(&reserv).unwrap_err().code, "reservnummer");
    }

    #[test]
    fn parts_have_stable_names() {
        for p in Part::ALL {
            assert_eq!(Part::parse(p.as_str()), Some(p));
        }
        assert_eq!(Part::parse("diagnosis"), None);
    }
}
