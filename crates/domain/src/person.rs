//! What the person a case is about sees of it, in their own terms: where their discharge
//! stands, what happens next and when, who their contacts are, the SIP meeting and the plan.
//! Facts only; the words are the person's pages' texts, so a language is added without code.
//! Who may see a case as a person is decided here too ([`may_see`]).

use jiff::Timestamp;
use jiff::civil::Date;

use crate::actor::UnitRef;
use crate::case::{Case, FastVardkontakt, Phase};
use crate::error::Problem;
use crate::message::MessageBody;
use crate::org::UnitKind;
use crate::patient::PatientId;
use crate::round::{RoundAction, RoundNoteRecord};
use crate::sip::SipPlan;

/// Where the discharge stands, in the steps a person can follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// In hospital; the municipality has not been told yet.
    InHospital,
    /// The hospital has told the municipality and the vårdcentral that the person is in.
    Told,
    /// The hospital, the municipality and the vårdcentral are planning for going home.
    Planning,
    /// The doctor has judged that the hospital's care is done (utskrivningsklar).
    Ready,
    /// Gone home (or on to a care home); the plan goes on.
    Home,
    /// The plan is followed up and the case is closed.
    Done,
    /// The case was ended without a discharge (the person stayed, or died, or moved).
    Ended,
}

impl Standing {
    pub fn of(case: &Case) -> Standing {
        match case.phase() {
            Phase::AwaitingAssessment | Phase::Admitted => Standing::InHospital,
            Phase::Notified => Standing::Told,
            Phase::Planning => Standing::Planning,
            Phase::ReadyForDischarge => Standing::Ready,
            Phase::Coordinating | Phase::Discharged | Phase::SipCalled | Phase::SipDrawnUp | Phase::FollowedUp => {
                Standing::Home
            }
            Phase::Closed => Standing::Done,
            Phase::Cancelled => Standing::Ended,
        }
    }

    /// The steps shown as a path, in order (an ended case shows none).
    pub const PATH: [Standing; 6] =
        [Standing::InHospital, Standing::Told, Standing::Planning, Standing::Ready, Standing::Home, Standing::Done];

    /// The path a case's person is shown: a coordination at home has no hospital stay to go
    /// through, only the plan at home and its end.
    pub fn path(case: &Case) -> &'static [Standing] {
        if case.home.is_some() { &Standing::PATH[4..] } else { &Standing::PATH }
    }

    /// A stable name for texts and styles.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::InHospital => "in_hospital",
            Standing::Told => "told",
            Standing::Planning => "planning",
            Standing::Ready => "ready",
            Standing::Home => "home",
            Standing::Done => "done",
            Standing::Ended => "ended",
        }
    }
}

/// What happens next, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// The municipality and the vårdcentral will plan with the person; going home is expected
    /// about this day, when known.
    Planning { expected_home: Option<Date> },
    /// A meeting about the plan (SIP) is set.
    Meeting { at: Timestamp },
    /// Going home is expected about this day.
    GoingHome { expected_home: Option<Date> },
    /// The plan will be followed up on this day.
    FollowUp { on: Date },
    /// Nothing more is planned.
    Nothing,
}

/// The SIP meeting the person is called to, the latest one set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    pub at: Timestamp,
    /// A place or a video link, as the coordinator wrote it.
    pub place: String,
    pub you_are_invited: bool,
    pub relatives_invited: bool,
    pub participants: Vec<String>,
    /// The unit that called the meeting.
    pub called_by: UnitRef,
}

impl Meeting {
    /// The place when it is a link to a video meeting.
    pub fn video_link(&self) -> Option<&str> {
        self.place.split_whitespace().find(|w| w.starts_with("https://"))
    }
}

/// A person's view of one case.
#[derive(Debug, Clone)]
pub struct Overview<'a> {
    pub standing: Standing,
    pub next: Next,
    pub meeting: Option<Meeting>,
    /// The current SIP, when one is drawn up.
    pub plan: Option<&'a SipPlan>,
    pub fast_vardkontakt: Option<&'a FastVardkontakt>,
    /// Where the person is or was cared for.
    pub ward: &'a UnitRef,
    /// The units that take part, whom the person may contact: the ward, the vårdcentral, the
    /// biståndsenhet and home care, in that order.
    pub contacts: Vec<&'a UnitRef>,
    /// What the latest joint round said about the person.
    pub round: Option<&'a RoundNoteRecord>,
    /// What the rounds decided that is not yet done.
    pub round_actions: Vec<&'a RoundAction>,
}

/// The person's view of a case at `now`.
pub fn overview(case: &Case, now: Timestamp) -> Overview<'_> {
    let standing = Standing::of(case);
    let meeting = case
        .messages
        .iter()
        .filter(|m| m.corrected_by.is_empty())
        .filter_map(|m| match &m.message.body {
            MessageBody::KallelseSip {
                meeting_at, place, participants, patient_invited, relatives_invited, ..
            } => Some(Meeting {
                at: *meeting_at,
                place: place.clone(),
                you_are_invited: *patient_invited,
                relatives_invited: *relatives_invited,
                participants: participants.clone(),
                called_by: m.message.sender.clone(),
            }),
            _ => None,
        })
        .next_back();
    let upcoming = meeting.as_ref().filter(|m| m.at >= now).map(|m| m.at);
    let next = match standing {
        Standing::InHospital | Standing::Told | Standing::Planning => match upcoming {
            Some(at) => Next::Meeting { at },
            None => Next::Planning { expected_home: case.estimated_discharge },
        },
        Standing::Ready => match upcoming {
            Some(at) => Next::Meeting { at },
            None => Next::GoingHome { expected_home: case.estimated_discharge },
        },
        Standing::Home => match (upcoming, case.sip.next_follow_up()) {
            (Some(at), _) => Next::Meeting { at },
            (None, Some(on)) => Next::FollowUp { on },
            (None, None) => Next::Nothing,
        },
        Standing::Done | Standing::Ended => Next::Nothing,
    };
    let order = |u: &UnitRef| match u.kind {
        UnitKind::Ward => 0,
        UnitKind::Vardcentral => 1,
        UnitKind::Bistandsenhet => 2,
        _ => 3,
    };
    let mut contacts: Vec<&UnitRef> = case.parties.iter().map(|p| &p.unit).collect();
    contacts.sort_by_key(|u| order(u));
    // Wards the person has left are not whom to call.
    let ward = case.ward();
    contacts.retain(|u| u.kind != UnitKind::Ward || u.id == ward.id);
    Overview {
        standing,
        next,
        meeting,
        plan: case.sip.current().map(|v| &v.plan),
        fast_vardkontakt: case.fast_vardkontakt.as_ref(),
        ward,
        contacts,
        round: case.rounds.latest(),
        round_actions: case.rounds.open_actions().collect(),
    }
}

/// Whether a signed-in person may see a case as its subject: only their own.
pub fn may_see(person: PatientId, case: &Case) -> bool {
    case.patient_id == person
}

/// What the person (or their representative) says in their own case, in their own words.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Statement {
    /// Before the SIP meeting: what matters to them, their goals and wishes, whom they want
    /// present.
    BeforeMeeting { what_matters: String, goals: String, who_present: String },
    /// Whether they will take part in the SIP meeting.
    Attendance { attending: bool },
    /// A question to the coordinator.
    Question { text: String },
}

/// The longest text a person may write in one field.
pub const MAX_TEXT: usize = 4000;

impl Statement {
    /// A stable name, as stored and in texts.
    pub fn kind(&self) -> &'static str {
        match self {
            Statement::BeforeMeeting { .. } => "before_meeting",
            Statement::Attendance { .. } => "attendance",
            Statement::Question { .. } => "question",
        }
    }

    /// Checks what was written: something to say, nothing too long. The field named in the
    /// refusal is the form's.
    pub fn check(&self) -> Result<(), Problem> {
        let fields: Vec<(&str, &str)> = match self {
            Statement::BeforeMeeting { what_matters, goals, who_present } => {
                if [what_matters, goals, who_present].iter().all(|t| t.trim().is_empty()) {
                    return Err(Problem::invalid_field(
                        "what_matters",
                        "nothing_written",
                        "Skriv något i minst en av rutorna.",
                        "Write something in at least one of the boxes.",
                    ));
                }
                vec![("what_matters", what_matters), ("goals", goals), ("who_present", who_present)]
            }
            Statement::Attendance { .. } => vec![],
            Statement::Question { text } => {
                if text.trim().is_empty() {
                    return Err(Problem::invalid_field(
                        "text",
                        "nothing_written",
                        "Skriv din fråga i rutan.",
                        "Write your question in the box.",
                    ));
                }
                vec![("text", text)]
            }
        };
        match fields.into_iter().find(|(_, t)| t.chars().count() > MAX_TEXT) {
            Some((field, _)) => Err(Problem::invalid_field(
                field,
                "too_long",
                format!("Texten är för lång. Skriv högst {MAX_TEXT} tecken."),
                format!("The text is too long; at most {MAX_TEXT} characters."),
            )),
            None => Ok(()),
        }
    }
}

/// Whether the person may still speak in a case: while it is open.
pub fn may_speak(case: &Case) -> bool {
    !matches!(Standing::of(case), Standing::Done | Standing::Ended)
}

/// What the person's pages show of a case that staff change: where it stands, the latest SIP
/// meeting, the plan's version and the fast vårdkontakt. When it differs from what the person
/// last saw, something new waits for them (and they may be told so, without a word of what).
pub fn news_key(case: &Case) -> String {
    let view = overview(case, Timestamp::UNIX_EPOCH);
    let meeting = view.meeting.map(|m| format!("{}@{}", m.at.as_second(), m.place)).unwrap_or_default();
    let plan = case.sip.current().map(|v| v.version).unwrap_or(0);
    let contact = view.fast_vardkontakt.map(|f| f.name.as_str()).unwrap_or_default();
    let rounds = (case.rounds.notes.len(), case.rounds.done.len());
    format!("{}|{meeting}|{plan}|{contact}|{}.{}", view.standing.as_str(), rounds.0, rounds.1)
}
