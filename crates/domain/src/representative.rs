//! Who may follow and speak for the person on their own pages: a legal representative staff
//! register (god man, förvaltare, an ombud with fullmakt) or a närstående the person invites
//! themself. Each sees only what their representation shares, and only while it is in force.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::calendar::local_date;
use crate::error::Problem;
use crate::ids::Personnummer;
use crate::patient::PatientId;

pub type RepresentationId = Uuid;

/// What gives someone the right to follow the person.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// God man, appointed by the överförmyndare.
    GodMan,
    /// Förvaltare, appointed by the court.
    Forvaltare,
    /// Someone the person gave a written power of attorney (fullmakt), shown to staff.
    Fullmakt,
    /// A närstående the person invited on their own pages.
    Narstaende,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::GodMan, Kind::Forvaltare, Kind::Fullmakt, Kind::Narstaende];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::GodMan => "god_man",
            Kind::Forvaltare => "forvaltare",
            Kind::Fullmakt => "fullmakt",
            Kind::Narstaende => "narstaende",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// As logs and histories name it (the pages take their words from the texts).
    pub fn label_sv(self) -> &'static str {
        match self {
            Kind::GodMan => "god man",
            Kind::Forvaltare => "förvaltare",
            Kind::Fullmakt => "ombud med fullmakt",
            Kind::Narstaende => "närstående",
        }
    }

    /// A mandate that lets its holder act for the person (give or take back consent), not
    /// only follow them.
    pub fn is_legal(self) -> bool {
        self != Kind::Narstaende
    }
}

/// One part of the person's pages a representation may share.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Share {
    /// Where the person is, what comes next, whom to call, the SIP meeting.
    Overview,
    /// The SIP: goals, who does what, the follow-up.
    Plan,
    /// What the person said, and writing in their name before the meeting.
    Words,
    /// Giving and taking back consent for the person (legal mandates only).
    Consent,
}

impl Share {
    pub const ALL: [Share; 4] = [Share::Overview, Share::Plan, Share::Words, Share::Consent];

    pub fn as_str(self) -> &'static str {
        match self {
            Share::Overview => "overview",
            Share::Plan => "plan",
            Share::Words => "words",
            Share::Consent => "consent",
        }
    }

    pub fn parse(s: &str) -> Option<Share> {
        Share::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Who set the representation up: the person on their own pages, or staff of a unit in the
/// person's care (from a paper they were shown).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Granter {
    Person,
    Staff {
        name: String,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        unit: Uuid,
        unit_name: String,
    },
}

/// How a representation ended, if it has.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ended {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    /// "the person" or the staff member's name and unit.
    pub by: String,
    pub reason: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Representation {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: RepresentationId,
    /// The person represented.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub patient_id: PatientId,
    /// The representative's personnummer: how they are known when they sign in.
    pub personnummer: String,
    pub name: String,
    pub kind: Kind,
    /// Always holds [`Share::Overview`]; sorted, no repeats.
    pub shares: Vec<Share>,
    pub granted: Granter,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub granted_at: Timestamp,
    /// The last day of the mandate, if it has one (a fullmakt or appointment may be limited).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub valid_until: Option<Date>,
    pub ended: Option<Ended>,
}

impl Representation {
    /// In force: not ended, and `now` is no later than the mandate's last day.
    pub fn in_force(&self, now: Timestamp) -> bool {
        self.ended.is_none() && self.valid_until.is_none_or(|last| local_date(now) <= last)
    }

    /// Whether the representative may see or do `share` of the person's pages now.
    pub fn may(&self, share: Share, now: Timestamp) -> bool {
        self.in_force(now) && self.shares.contains(&share)
    }

    /// The person chose this representative themself. Protected identity is kept from
    /// everyone the person has not chosen, so only these see where the person lives or meets.
    pub fn chosen_by_person(&self) -> bool {
        matches!(self.granted, Granter::Person) || self.kind == Kind::Fullmakt
    }
}

/// Whether a reader of the person's pages may see places (a meeting at home, the
/// municipality's units): everyone when the identity is not protected; otherwise the person
/// themself (`through` none) and those they chose.
pub fn shows_whereabouts(protected: bool, through: Option<&Representation>) -> bool {
    !protected || through.is_none_or(Representation::chosen_by_person)
}

/// What someone asks to set up: checked by [`check_new`] before it is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRepresentation {
    pub name: String,
    pub personnummer: String,
    pub kind: Kind,
    pub shares: Vec<Share>,
    pub valid_until: Option<Date>,
}

/// A new representation as checked: its representative's personnummer in 12 digits and its
/// shares in order, with the overview always in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub personnummer: String,
    pub shares: Vec<Share>,
}

/// Checks a new representation.
/// The person may invite only a närstående; staff register only legal mandates (the person
/// invites their own närstående). Only a legal mandate may give or take back consent, and a
/// representative cannot be the person themself.
pub fn check_new(
    new: &NewRepresentation,
    by_person: bool,
    person_personnummer: &str,
    existing: &[Representation],
    now: Timestamp,
) -> Result<Checked, Problem> {
    if new.name.trim().is_empty() {
        return Err(Problem::invalid_field(
            "name",
            "name_missing",
            "Skriv namnet på den som ska få se.",
            "Write the name of the one who may see.",
        ));
    }
    if new.name.chars().count() > 200 {
        return Err(Problem::invalid_field("name", "too_long", "Namnet är för långt.", "The name is too long."));
    }
    let personnummer = Personnummer::parse(new.personnummer.trim(), local_date(now))
        .map_err(|e| {
            Problem::invalid_field(
                "personnummer",
                "invalid_personnummer",
                "Personnumret stämmer inte. Skriv det med tolv siffror: ÅÅÅÅMMDD-NNNN.",
                format!("The personnummer is not valid: {e}"),
            )
        })?
        .as_str()
        .to_string();
    if personnummer == person_personnummer {
        let sv = if by_person {
            "Det är ditt eget personnummer. Skriv personnumret för den du vill bjuda in."
        } else {
            "Det är patientens eget personnummer. Skriv företrädarens personnummer."
        };
        return Err(Problem::invalid_field("personnummer", "self", sv, "That is the person's own personnummer."));
    }
    match (by_person, new.kind) {
        (true, Kind::Narstaende) | (false, Kind::GodMan | Kind::Forvaltare | Kind::Fullmakt) => {}
        (true, _) => {
            return Err(Problem::invalid_field(
                "kind",
                "person_invites_narstaende",
                "Du kan bjuda in en närstående. God man, förvaltare och fullmakt registreras av personalen.",
                "The person invites a närstående; legal mandates are registered by staff.",
            ));
        }
        (false, _) => {
            return Err(Problem::invalid_field(
                "kind",
                "staff_register_mandates",
                "Personalen registrerar god man, förvaltare eller fullmakt. En närstående bjuds in av personen själv.",
                "Staff register legal mandates; the person invites their närstående.",
            ));
        }
    }
    if new.shares.contains(&Share::Consent) && !new.kind.is_legal() {
        return Err(Problem::invalid_field(
            "shares",
            "consent_needs_mandate",
            "En närstående kan inte ge eller återkalla samtycke åt någon annan. Det kräver god man, förvaltare eller fullmakt.",
            "Only a legal mandate may give or take back consent.",
        ));
    }
    if existing.iter().any(|r| r.personnummer == personnummer && r.kind == new.kind && r.in_force(now)) {
        return Err(Problem::invalid_field(
            "personnummer",
            "already_there",
            "Hen finns redan med. Ta bort hen först om du vill ändra vad hen ser.",
            "They are already there; remove them first to change what they see.",
        ));
    }
    if let Some(last) = new.valid_until
        && last < local_date(now)
    {
        return Err(Problem::invalid_field(
            "valid_until",
            "in_the_past",
            "Sista dagen har redan varit. Välj en dag från i dag och framåt, eller lämna rutan tom.",
            "The last day has passed.",
        ));
    }
    let mut shares = new.shares.clone();
    shares.push(Share::Overview);
    shares.sort();
    shares.dedup();
    Ok(Checked { personnummer, shares })
}

/// Who ends a representation, and whether they may: the person may end what they set up and
/// a fullmakt they gave; staff of the person's care may end any (an appointment ends by the
/// överförmyndare's or court's decision, which staff record).
pub fn may_end(rep: &Representation, by_person: bool) -> Result<(), Problem> {
    if rep.ended.is_some() {
        return Err(Problem::conflict("already_ended", "Det är redan avslutat.", "It has already ended."));
    }
    if by_person && !rep.chosen_by_person() {
        return Err(Problem::forbidden(
            "ended_by_decision",
            "En god man eller förvaltare avslutas av överförmyndaren eller tingsrätten. Prata med din handläggare.",
            "A god man or förvaltare ends by decision of the överförmyndare or court.",
        ));
    }
    Ok(())
}
