//! The case: a discharge from hospital under LUS, or a coordination at home (a SIP whenever the
//! person needs both health care and social services, SoL 2 kap 7 §, HSL 16 kap 4 §). Its
//! events, the state derived from them, and the rules that decide whether a command is allowed.
//!
//! A case is never edited. Every change is a [`CaseEvent`] appended to the case's history; the
//! current [`Case`] is what you get by applying them in order. [`Case::decide`] checks a
//! command against the current state and returns the events it would append, or a [`Problem`]
//! that says, in Swedish, what to do instead.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::{self, CaseAccess, Permission};
use crate::action::{Action, Check};
use crate::actor::{Actor, Stamp, UnitRef};
use crate::calendar::local_date;
use crate::consent::{ConsentGiver, ConsentId, ConsentKind, ConsentRecord, Consents};
use crate::error::Problem;
use crate::ids::Kommunkod;
use crate::message::{CancelReason, Message, MessageBody, MessageId, MessageKind, MessageState, MisSent, Receipt};
use crate::org::{CareType, UnitId, UnitKind};
use crate::patient::PatientId;
use crate::round::{RoundActionDone, RoundActionId, RoundNote, RoundNoteRecord, Rounds};
use crate::screening::{Screening, ScreeningRecord};
use crate::sip::{FollowUpOutcome, SipDraft, SipFollowUp, SipPlan, SipState, SipStatus, SipVersion};
use crate::text::{check_planned_date, check_text};

pub type CaseId = Uuid;

pub use crate::text::MAX_TEXT_CHARS;

/// Everything that can happen to a case. Stored as JSON; variants are only ever added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CaseEvent {
    CaseOpened {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        case_id: CaseId,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        patient_id: PatientId,
        /// Folkbokföringskommun when the case was opened: the municipality that is notified.
        kommun: Kommunkod,
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
        listed_unit: Option<UnitId>,
        ward: UnitRef,
        care_type: CareType,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
        admitted_at: Timestamp,
        /// When the treating doctor judged that the patient will need care after discharge.
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
        needs_assessed_at: Timestamp,
        /// Opened from the hospital's admission feed before anyone judged the patient's needs:
        /// a draft only the ward sees, until the ward confirms the needs or dismisses it.
        #[serde(default)]
        awaiting_assessment: bool,
        /// The patient's birth date, from their number (none for a reservnummer): follow-up
        /// counts by age.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
        born: Option<Date>,
        /// The coordination at home whose SIP was in force when the patient was admitted: the
        /// discharge planning builds on it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
        sip_at_home: Option<CaseId>,
    },
    /// The first event of a coordination at home: a unit in the person's care starts it, with
    /// why. No hospital stay, no LUS notices; the SIP track alone.
    CoordinationStarted {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        case_id: CaseId,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        patient_id: PatientId,
        kommun: Kommunkod,
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
        listed_unit: Option<UnitId>,
        unit: UnitRef,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
        born: Option<Date>,
        /// The discharge case whose SIP goes on here, with what it brings.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        continues: Option<Box<Continuation>>,
    },
    /// The ward confirmed a draft: the doctor judged that the patient will need care after
    /// discharge. The 24-hour clock for the admission notice starts here.
    NeedsAssessed {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
        at: Timestamp,
    },
    MessageSent {
        message: Message,
    },
    MessageDelivered {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        message_id: MessageId,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        unit: UnitId,
    },
    MessageOpened {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        message_id: MessageId,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        unit: UnitId,
    },
    MessageAcknowledged {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        message_id: MessageId,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        unit: UnitId,
    },
    MessageMarkedMisSent {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        message_id: MessageId,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        unit: UnitId,
        reason: String,
    },
    MessageForwarded {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        message_id: MessageId,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        from_unit: UnitId,
        to: UnitRef,
        #[serde(default)]
        note: String,
    },
    PatientTransferred {
        to_ward: UnitRef,
        care_type: CareType,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
        at: Timestamp,
    },
    DischargeRecorded {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
        at: Timestamp,
    },
    /// The recorded discharge did not happen (cancelled in the hospital's record system).
    DischargeCancelled {
        #[serde(default)]
        note: String,
    },
    PartyAdded {
        unit: UnitRef,
        reason: String,
    },
    /// A message `from_unit` did not acknowledge in time went on under its escalation rule:
    /// to its backup unit, which receives it (level `backup`), or as an alert to a leader's
    /// unit, which is told but does not join the case (level `leader`).
    MessageEscalated {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        message_id: MessageId,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        from_unit: UnitId,
        to: UnitRef,
        level: crate::escalation::Level,
        after_minutes: u32,
    },
    ConsentRecorded {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        consent_id: ConsentId,
        kind: ConsentKind,
        given_by: ConsentGiver,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
        given_at: Timestamp,
        #[serde(default)]
        note: String,
    },
    ConsentWithdrawn {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        consent_id: ConsentId,
    },
    SipDrawnUp {
        plan: SipPlan,
    },
    SipFollowedUp {
        evaluation: String,
        outcome: FollowUpOutcome,
    },
    /// Frailty, the need for coordination, or both, as judged by whoever met the person.
    ScreeningRecorded {
        screening: Screening,
    },
    /// What a joint round said about the person: changes, each profession's part, the next
    /// review and actions with owners.
    RoundNoteRecorded {
        note: RoundNote,
    },
    /// An action from a round is done.
    RoundActionDone {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        action_id: RoundActionId,
    },
    CaseClosed {
        #[serde(default)]
        note: String,
    },
    /// The discharge process is done and its SIP goes on in a coordination at home; this case
    /// closes.
    ContinuedAtHome {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        home_case: CaseId,
    },
    CaseCancelled {
        reason: CancelReason,
        #[serde(default)]
        note: String,
    },
}

impl CaseEvent {
    /// The messages whose state (`MessageState`: receipts, corrections) applying this event
    /// changes: a new message, the one it corrects, or the one whose receipt it records. Every
    /// other message of the case is left as it was, so a store need rewrite only these.
    pub fn messages_changed(&self) -> impl Iterator<Item = MessageId> {
        let (first, second) = match self {
            CaseEvent::MessageSent { message } => (Some(message.id), message.corrects),
            CaseEvent::MessageDelivered { message_id, .. }
            | CaseEvent::MessageOpened { message_id, .. }
            | CaseEvent::MessageAcknowledged { message_id, .. }
            | CaseEvent::MessageMarkedMisSent { message_id, .. }
            | CaseEvent::MessageForwarded { message_id, .. }
            | CaseEvent::MessageEscalated { message_id, .. } => (Some(*message_id), None),
            _ => (None, None),
        };
        first.into_iter().chain(second)
    }

    /// A stable name for storage and the timeline.
    pub fn name(&self) -> &'static str {
        match self {
            CaseEvent::CaseOpened { .. } => "case_opened",
            CaseEvent::CoordinationStarted { .. } => "coordination_started",
            CaseEvent::NeedsAssessed { .. } => "needs_assessed",
            CaseEvent::MessageSent { .. } => "message_sent",
            CaseEvent::MessageDelivered { .. } => "message_delivered",
            CaseEvent::MessageOpened { .. } => "message_opened",
            CaseEvent::MessageAcknowledged { .. } => "message_acknowledged",
            CaseEvent::MessageMarkedMisSent { .. } => "message_marked_mis_sent",
            CaseEvent::MessageForwarded { .. } => "message_forwarded",
            CaseEvent::PatientTransferred { .. } => "patient_transferred",
            CaseEvent::DischargeRecorded { .. } => "discharge_recorded",
            CaseEvent::DischargeCancelled { .. } => "discharge_cancelled",
            CaseEvent::PartyAdded { .. } => "party_added",
            CaseEvent::MessageEscalated { .. } => "message_escalated",
            CaseEvent::ConsentRecorded { .. } => "consent_recorded",
            CaseEvent::ConsentWithdrawn { .. } => "consent_withdrawn",
            CaseEvent::SipDrawnUp { .. } => "sip_drawn_up",
            CaseEvent::SipFollowedUp { .. } => "sip_followed_up",
            CaseEvent::ScreeningRecorded { .. } => "screening_recorded",
            CaseEvent::RoundNoteRecorded { .. } => "round_note_recorded",
            CaseEvent::RoundActionDone { .. } => "round_action_done",
            CaseEvent::CaseClosed { .. } => "case_closed",
            CaseEvent::ContinuedAtHome { .. } => "continued_at_home",
            CaseEvent::CaseCancelled { .. } => "case_cancelled",
        }
    }
}

/// An event as stored: its place in the case's history, when, and who.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordedEvent {
    /// 1 for the first event of a case, then consecutive.
    pub seq: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    pub actor: Actor,
    pub event: CaseEvent,
}

/// The lifecycle as the domain describes it: the hospital track until discharge, then the
/// SIP track. Withdrawing a ready notice takes the case back to planning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// A coordination at home, before the call to its SIP meeting.
    Coordinating,
    /// A draft from the admission feed: admitted, needs not yet judged.
    AwaitingAssessment,
    Admitted,
    Notified,
    Planning,
    ReadyForDischarge,
    Discharged,
    SipCalled,
    SipDrawnUp,
    FollowedUp,
    Closed,
    Cancelled,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Coordinating => "coordinating",
            Phase::AwaitingAssessment => "awaiting_assessment",
            Phase::Admitted => "admitted",
            Phase::Notified => "notified",
            Phase::Planning => "planning",
            Phase::ReadyForDischarge => "ready_for_discharge",
            Phase::Discharged => "discharged",
            Phase::SipCalled => "sip_called",
            Phase::SipDrawnUp => "sip_drawn_up",
            Phase::FollowedUp => "followed_up",
            Phase::Closed => "closed",
            Phase::Cancelled => "cancelled",
        }
    }

    pub fn label_sv(self) -> &'static str {
        match self {
            Phase::Coordinating => "Samordning påbörjad",
            Phase::AwaitingAssessment => "Inskriven, behov ej bedömt",
            Phase::Admitted => "Inskriven",
            Phase::Notified => "Inskrivningsmeddelande skickat",
            Phase::Planning => "Planering pågår",
            Phase::ReadyForDischarge => "Utskrivningsklar",
            Phase::Discharged => "Utskriven",
            Phase::SipCalled => "Kallad till SIP",
            Phase::SipDrawnUp => "SIP upprättad",
            Phase::FollowedUp => "SIP uppföljd",
            Phase::Closed => "Avslutad",
            Phase::Cancelled => "Avbruten",
        }
    }

    pub fn is_open(self) -> bool {
        !matches!(self, Phase::Closed | Phase::Cancelled)
    }
}

/// A stretch of time the patient was ready for discharge: from the notice until it was
/// withdrawn or the patient was discharged (open while neither has happened).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadyPeriod {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub message_id: MessageId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub from: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub until: Option<Timestamp>,
    pub withdrawn: bool,
    /// Psychiatric or somatic care at the time of the notice.
    pub care_type: CareType,
}

/// Who broke the process off, when, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cancellation {
    pub stamp: Stamp,
    pub reason: CancelReason,
}

/// A unit taking part in the case, and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Party {
    /// Invited explicitly (not only through messages).
    #[serde(default)]
    pub explicit: bool,
    pub unit: UnitRef,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub since: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WardStay {
    pub ward: UnitRef,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub from: Timestamp,
    pub care_type: CareType,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FastVardkontakt {
    pub name: String,
    pub role: String,
    pub phone: String,
    pub unit: UnitRef,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub appointed_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SipCall {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub message_id: MessageId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub sent_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub meeting_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub by_unit: UnitId,
}

/// What a case coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// A discharge from hospital under LUS: the eight steps.
    Discharge,
    /// A coordination at home: a SIP without a hospital stay.
    Home,
}

impl CaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Discharge => "discharge",
            CaseKind::Home => "home",
        }
    }
}

/// How a coordination at home began.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HomeStart {
    /// The unit that started it; it owns the call to the first SIP meeting.
    pub unit: UnitRef,
    pub reason: String,
    /// The discharge case whose SIP goes on here.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub continues_from: Option<CaseId>,
}

/// What a discharge case's SIP brings to the coordination at home it goes on in: the plan in
/// force, the units that take part in it, and the person's consents (new ids, the same words).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Continuation {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub from: CaseId,
    pub plan: SipVersion,
    pub parties: Vec<UnitRef>,
    pub consents: Vec<ConsentRecord>,
}

/// The eight steps of the joint routine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Inskrivningsmeddelande = 1,
    FastVardkontakt = 2,
    Planering = 3,
    KallelseSip = 4,
    Utskrivningsklar = 5,
    InformationVidUtskrivning = 6,
    UpprattaSip = 7,
    FoljaUppSip = 8,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Step::Inskrivningsmeddelande,
        Step::FastVardkontakt,
        Step::Planering,
        Step::KallelseSip,
        Step::Utskrivningsklar,
        Step::InformationVidUtskrivning,
        Step::UpprattaSip,
        Step::FoljaUppSip,
    ];

    pub fn number(self) -> u8 {
        self as u8
    }

    pub fn label_sv(self) -> &'static str {
        match self {
            Step::Inskrivningsmeddelande => "Skicka inskrivningsmeddelande",
            Step::FastVardkontakt => "Utse fast vårdkontakt",
            Step::Planering => "Planera inför utskrivning",
            Step::KallelseSip => "Kalla till SIP",
            Step::Utskrivningsklar => "Meddela utskrivningsklar",
            Step::InformationVidUtskrivning => "Informera vid utskrivning",
            Step::UpprattaSip => "Upprätta eller uppdatera SIP",
            Step::FoljaUppSip => "Följa upp och avsluta SIP",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepStatus {
    pub step: Step,
    pub number: u8,
    pub label_sv: &'static str,
    /// When the step was first done, if it has been.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub done_at: Option<Timestamp>,
    /// The step does not apply to this case (e.g. no SIP needed).
    pub not_needed: bool,
}

/// The current state of a case, derived from its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Case {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: CaseId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub patient_id: PatientId,
    pub kommun: Kommunkod,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub listed_unit: Option<UnitId>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub admitted_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub needs_assessed_at: Timestamp,
    /// A draft from the admission feed whose needs nobody has judged yet (see
    /// [`CaseEvent::CaseOpened`]). Only the ward takes part; no message can be sent.
    #[serde(default)]
    pub awaiting_assessment: bool,
    /// Ward stays in order; the last is where the patient is now.
    pub wards: Vec<WardStay>,
    /// Every unit that takes part in the case (need-to-know), in the order they joined.
    pub parties: Vec<Party>,
    pub messages: Vec<MessageState>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub admission_notice_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub estimated_discharge: Option<Date>,
    pub fast_vardkontakt: Option<FastVardkontakt>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub planning_at: Option<Timestamp>,
    pub ready_periods: Vec<ReadyPeriod>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub discharged_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub discharge_information_at: Option<Timestamp>,
    pub sip_needed: Option<bool>,
    pub sip_calls: Vec<SipCall>,
    pub sip: SipState,
    pub consents: Consents,
    pub closed: Option<Stamp>,
    pub cancelled: Option<Cancellation>,
    /// Messages escalated because nobody acknowledged them in time.
    #[serde(default)]
    pub escalations: Vec<EscalationRecord>,
    /// Screenings, oldest first.
    #[serde(default)]
    pub screenings: Vec<ScreeningRecord>,
    /// What joint rounds said about the person, and the actions done since.
    #[serde(default)]
    pub rounds: Rounds,
    /// The patient's birth date when their number carries one.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub born: Option<Date>,
    /// For a coordination at home, how it began; none for a discharge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<HomeStart>,
    /// A discharge case of a patient admitted with a SIP in force at home: that coordination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub sip_at_home: Option<CaseId>,
    /// A discharge case whose SIP went on at home: that coordination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub continued_at_home: Option<CaseId>,
    /// Sequence number of the last event applied.
    pub version: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

/// What opening a case needs.
#[derive(Debug, Clone)]
pub struct OpenCase {
    pub case_id: CaseId,
    pub patient_id: PatientId,
    pub kommun: Kommunkod,
    pub listed_unit: Option<UnitId>,
    pub care_type: CareType,
    pub admitted_at: Timestamp,
    pub needs_assessed_at: Option<Timestamp>,
    /// The patient's birth date (`PatientIdentifier::birth_date`).
    pub born: Option<Date>,
    /// The patient's coordination at home with a SIP in force, if any ([`sip_in_force_at_home`]).
    pub sip_at_home: Option<CaseId>,
}

/// What starting a coordination at home needs.
#[derive(Debug, Clone)]
pub struct OpenHome {
    pub case_id: CaseId,
    pub patient_id: PatientId,
    pub kommun: Kommunkod,
    pub listed_unit: Option<UnitId>,
    pub reason: String,
    pub born: Option<Date>,
    /// A discharge case's SIP going on at home ([`Case::continuation`]).
    pub continues: Option<Continuation>,
}

/// A request to change a case. Ids of new things are chosen by the caller, so that a retried
/// request can be recognised.
#[derive(Debug, Clone)]
pub enum Command {
    SendMessage {
        message_id: MessageId,
        body: MessageBody,
        recipients: Vec<UnitRef>,
        corrects: Option<MessageId>,
    },
    OpenMessage {
        message_id: MessageId,
    },
    AcknowledgeMessage {
        message_id: MessageId,
    },
    MarkMisSent {
        message_id: MessageId,
        reason: String,
    },
    ForwardMessage {
        message_id: MessageId,
        to: UnitRef,
        note: String,
    },
    TransferPatient {
        to_ward: UnitRef,
        care_type: CareType,
        at: Timestamp,
    },
    RecordDischarge {
        at: Timestamp,
    },
    /// The discharge was recorded in error (HL7 A13).
    CancelDischarge {
        note: String,
    },
    /// Turn a draft into a case: the doctor has judged that the patient will need care.
    ConfirmNeeds {
        assessed_at: Timestamp,
    },
    /// Close a draft without a case: no needs after discharge, or the admission was cancelled.
    DismissDraft {
        reason: CancelReason,
        note: String,
    },
    AddParty {
        unit: UnitRef,
        reason: String,
    },
    RecordConsent {
        consent_id: ConsentId,
        kind: ConsentKind,
        given_by: ConsentGiver,
        given_at: Timestamp,
        note: String,
    },
    WithdrawConsent {
        consent_id: ConsentId,
    },
    DrawUpSip {
        plan: SipPlan,
    },
    FollowUpSip {
        evaluation: String,
        outcome: FollowUpOutcome,
    },
    RecordScreening {
        screening: Screening,
    },
    RecordRoundNote {
        note: RoundNote,
    },
    CompleteRoundAction {
        action_id: RoundActionId,
    },
    CloseCase {
        note: String,
    },
    /// The discharge is done and the SIP goes on in the coordination at home `home_case`,
    /// started from [`Case::continuation`].
    ContinueAtHome {
        home_case: CaseId,
    },
    /// Samverka's own escalation of an unacknowledged message (only the system role).
    Escalate {
        message_id: MessageId,
        from_unit: UnitId,
        to: UnitRef,
        level: crate::escalation::Level,
        after_minutes: u32,
    },
}

impl Command {
    /// What the command does, as [`Case::available`] names it; none for Samverka's own
    /// escalation, which nobody is offered.
    pub fn action(&self) -> Option<Action> {
        Some(match self {
            Command::SendMessage { body, corrects, .. } => Action::Send { kind: body.kind(), corrects: *corrects },
            Command::OpenMessage { message_id } => Action::OpenMessage { message_id: *message_id },
            Command::AcknowledgeMessage { message_id } => Action::Acknowledge { message_id: *message_id },
            Command::MarkMisSent { message_id, .. } => Action::MarkMisSent { message_id: *message_id },
            Command::ForwardMessage { message_id, .. } => Action::Forward { message_id: *message_id },
            Command::TransferPatient { .. } => Action::Transfer,
            Command::RecordDischarge { .. } => Action::RecordDischarge,
            Command::CancelDischarge { .. } => Action::CancelDischarge,
            Command::ConfirmNeeds { .. } => Action::ConfirmNeeds,
            Command::DismissDraft { .. } => Action::DismissDraft,
            Command::AddParty { .. } => Action::AddParty,
            Command::RecordConsent { .. } => Action::RecordConsent,
            Command::WithdrawConsent { consent_id } => Action::WithdrawConsent { consent_id: *consent_id },
            Command::DrawUpSip { .. } => Action::DrawUpSip,
            Command::FollowUpSip { .. } => Action::FollowUpSip,
            Command::RecordScreening { .. } => Action::RecordScreening,
            Command::RecordRoundNote { .. } => Action::RecordRoundNote,
            Command::CompleteRoundAction { action_id } => Action::CompleteRoundAction { action_id: *action_id },
            Command::CloseCase { .. } => Action::Close,
            Command::ContinueAtHome { .. } => Action::ContinueAtHome,
            Command::Escalate { .. } => return None,
        })
    }
}

/// An escalation as the case remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EscalationRecord {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub message_id: MessageId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub from_unit: UnitId,
    pub to: UnitRef,
    pub level: crate::escalation::Level,
    pub after_minutes: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
}

/// Of a person's cases, the coordination at home whose SIP is in force (the newest if more):
/// what a new discharge case of theirs builds on.
pub fn sip_in_force_at_home<'a>(cases: impl IntoIterator<Item = &'a Case>) -> Option<CaseId> {
    cases.into_iter().filter(|c| c.home.is_some() && c.sip_in_force()).max_by_key(|c| c.admitted_at).map(|c| c.id)
}

fn out_of_order(sv: impl Into<String>, en: impl Into<String>) -> Problem {
    Problem::conflict("step_out_of_order", sv, en)
}

impl Case {
    /// The first event of a case. The actor must act for a ward.
    pub fn open(cmd: &OpenCase, actor: &Actor, now: Timestamp) -> Result<CaseEvent, Problem> {
        access::require(actor.role, Permission::RegisterAdmission)?;
        if actor.unit.kind != UnitKind::Ward {
            return Err(Problem::forbidden(
                "ward_only",
                "Bara en vårdavdelning kan registrera en inskrivning.",
                "Only a ward can register an admission.",
            ));
        }
        if cmd.admitted_at > now + 5.minutes() {
            return Err(Problem::invalid_field(
                "admitted_at",
                "date_in_future",
                "Inskrivningstiden ligger i framtiden. Ange när patienten skrevs in.",
                "The admission time lies in the future.",
            ));
        }
        let assessed = cmd.needs_assessed_at.unwrap_or(cmd.admitted_at);
        if assessed > now + 5.minutes() {
            return Err(Problem::invalid_field(
                "needs_assessed_at",
                "date_in_future",
                "Bedömningen ligger i framtiden. Ange när läkaren gjorde bedömningen.",
                "The assessment time lies in the future.",
            ));
        }
        if assessed < cmd.admitted_at {
            return Err(Problem::invalid_field(
                "needs_assessed_at",
                "before_admission",
                "Bedömningen kan inte ha gjorts före inskrivningen.",
                "The assessment cannot precede the admission.",
            ));
        }
        Ok(CaseEvent::CaseOpened {
            case_id: cmd.case_id,
            patient_id: cmd.patient_id,
            kommun: cmd.kommun.clone(),
            listed_unit: cmd.listed_unit,
            ward: actor.unit.clone(),
            care_type: cmd.care_type,
            admitted_at: cmd.admitted_at,
            needs_assessed_at: assessed,
            awaiting_assessment: false,
            born: cmd.born,
            sip_at_home: cmd.sip_at_home,
        })
    }

    /// The first event of a draft from the admission feed: the patient is admitted and
    /// flagged for follow-up, but nobody has judged the needs yet, so no deadline runs.
    pub fn open_draft(cmd: &OpenCase, actor: &Actor, now: Timestamp) -> Result<CaseEvent, Problem> {
        let mut event = Case::open(&OpenCase { needs_assessed_at: None, ..cmd.clone() }, actor, now)?;
        if let CaseEvent::CaseOpened { awaiting_assessment, .. } = &mut event {
            *awaiting_assessment = true;
        }
        Ok(event)
    }

    /// The first event of a coordination at home. The actor works with SIPs at a unit of the
    /// person's care outside hospital (not a ward: a ward's patient has a discharge case).
    pub fn open_home(cmd: &OpenHome, actor: &Actor, now: Timestamp) -> Result<CaseEvent, Problem> {
        access::require(actor.role, Permission::WorkWithSip)?;
        if actor.unit.kind == UnitKind::Ward {
            return Err(Problem::forbidden(
                "not_at_home",
                "En vårdavdelning samordnar via utskrivningsärendet. En samordning i hemmet startas av \
                 vårdcentralen, kommunen eller en annan enhet som ger vård eller omsorg i hemmet.",
                "A ward coordinates through the discharge case.",
            ));
        }
        check_text("reason", &cmd.reason, true)?;
        if let Some(c) = &cmd.continues
            && c.plan.drawn_up.at > now
        {
            return Err(out_of_order(
                "Planen som ska fortsätta är upprättad i framtiden.",
                "The plan to continue lies in the future.",
            ));
        }
        Ok(CaseEvent::CoordinationStarted {
            case_id: cmd.case_id,
            patient_id: cmd.patient_id,
            kommun: cmd.kommun.clone(),
            listed_unit: cmd.listed_unit,
            unit: actor.unit.clone(),
            reason: cmd.reason.trim().to_string(),
            born: cmd.born,
            continues: cmd.continues.clone().map(Box::new),
        })
    }

    /// What this discharge case's SIP brings to a coordination at home: the plan in force, the
    /// units outside hospital that take part (and the plan's coordinator), and the consents in
    /// force, each under a new id from `new_id`. Asked only once [`Action::ContinueAtHome`] is
    /// allowed.
    pub fn continuation(&self, mut new_id: impl FnMut() -> ConsentId) -> Option<Continuation> {
        let plan = self.sip.current()?.clone();
        let parties = self
            .parties
            .iter()
            .filter(|p| p.unit.kind != UnitKind::Ward || p.unit.id == plan.plan.coordinator.unit)
            .map(|p| p.unit.clone())
            .collect();
        let consents = self
            .consents
            .0
            .iter()
            .filter(|c| c.withdrawn.is_none())
            .map(|c| ConsentRecord { id: new_id(), ..c.clone() })
            .collect();
        Some(Continuation { from: self.id, plan, parties, consents })
    }

    /// Rebuilds a case from its history. The first event must open it.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a RecordedEvent>) -> Result<Case, Problem> {
        let mut iter = events.into_iter();
        let first =
            iter.next().ok_or_else(|| Problem::not_found("case_not_found", "Ärendet finns inte.", "No such case."))?;
        if let CaseEvent::CoordinationStarted { .. } = &first.event {
            let mut case = Case::started_at_home(first);
            for e in iter {
                case.apply(e);
            }
            return Ok(case);
        }
        let CaseEvent::CaseOpened {
            case_id,
            patient_id,
            kommun,
            listed_unit,
            ward,
            care_type,
            admitted_at,
            needs_assessed_at,
            awaiting_assessment,
            born,
            sip_at_home,
        } = &first.event
        else {
            return Err(Problem::conflict(
                "corrupt_history",
                "Ärendets historik är skadad.",
                "The case history does not start with case_opened.",
            ));
        };
        let parties = vec![Party { explicit: false, unit: ward.clone(), since: first.at }];
        let mut case = Case {
            admitted_at: *admitted_at,
            needs_assessed_at: *needs_assessed_at,
            awaiting_assessment: *awaiting_assessment,
            wards: vec![WardStay { ward: ward.clone(), from: *admitted_at, care_type: *care_type }],
            parties,
            sip_at_home: *sip_at_home,
            ..Case::blank(*case_id, *patient_id, kommun, *listed_unit, *born, first)
        };
        for e in iter {
            case.apply(e);
        }
        Ok(case)
    }

    /// The state of a coordination at home from its first event: the starting unit takes
    /// part, the SIP is needed, and a continued plan comes with its units and consents.
    fn started_at_home(first: &RecordedEvent) -> Case {
        let CaseEvent::CoordinationStarted { case_id, patient_id, kommun, listed_unit, unit, reason, born, continues } =
            &first.event
        else {
            unreachable!("asked only for a coordination's first event")
        };
        let mut parties = vec![Party { explicit: true, unit: unit.clone(), since: first.at }];
        let mut sip = SipState::default();
        let mut consents = Consents::default();
        if let Some(c) = continues {
            for u in &c.parties {
                if !parties.iter().any(|p| p.unit.id == u.id) {
                    parties.push(Party { explicit: true, unit: u.clone(), since: first.at });
                }
            }
            sip.versions.push(SipVersion { version: 1, ..c.plan.clone() });
            consents.0.extend(c.consents.iter().cloned());
        }
        Case {
            parties,
            sip_needed: Some(true),
            sip,
            consents,
            home: Some(HomeStart {
                unit: unit.clone(),
                reason: reason.clone(),
                continues_from: continues.as_ref().map(|c| c.from),
            }),
            ..Case::blank(*case_id, *patient_id, kommun, *listed_unit, *born, first)
        }
    }

    /// A case as its first event leaves it, before what only that kind of case sets.
    fn blank(
        id: CaseId,
        patient_id: PatientId,
        kommun: &Kommunkod,
        listed_unit: Option<UnitId>,
        born: Option<Date>,
        first: &RecordedEvent,
    ) -> Case {
        Case {
            id,
            patient_id,
            kommun: kommun.clone(),
            listed_unit,
            admitted_at: first.at,
            needs_assessed_at: first.at,
            awaiting_assessment: false,
            wards: vec![],
            parties: vec![],
            messages: vec![],
            admission_notice_at: None,
            estimated_discharge: None,
            fast_vardkontakt: None,
            planning_at: None,
            ready_periods: vec![],
            discharged_at: None,
            discharge_information_at: None,
            sip_needed: None,
            sip_calls: vec![],
            sip: SipState::default(),
            consents: Consents::default(),
            closed: None,
            cancelled: None,
            escalations: vec![],
            screenings: vec![],
            rounds: Rounds::default(),
            born,
            home: None,
            sip_at_home: None,
            continued_at_home: None,
            version: first.seq,
            updated_at: first.at,
        }
    }

    pub fn kind(&self) -> CaseKind {
        if self.home.is_some() { CaseKind::Home } else { CaseKind::Discharge }
    }

    /// A SIP drawn up and not closed, in a case still open.
    pub fn sip_in_force(&self) -> bool {
        self.phase().is_open() && self.sip.current().is_some() && self.sip.closed_at.is_none()
    }

    /// The ward that has the patient now; for a coordination at home, the unit that started
    /// it (the unit a case is listed under).
    pub fn ward(&self) -> &UnitRef {
        match (&self.home, self.wards.last()) {
            (_, Some(stay)) => &stay.ward,
            (Some(home), None) => &home.unit,
            (None, None) => unreachable!("a discharge case always has a ward"),
        }
    }

    pub fn care_type(&self) -> CareType {
        self.wards.last().map_or(CareType::Somatic, |w| w.care_type)
    }

    pub fn is_party(&self, unit: UnitId) -> bool {
        self.parties.iter().any(|p| p.unit.id == unit)
    }

    /// The need-to-know rule: a unit reaches a case only while it is a party to it, or through
    /// an emergency grant the user holds for it.
    pub fn access(&self, unit: UnitId, has_emergency_grant: bool) -> Result<CaseAccess, Problem> {
        if self.is_party(unit) {
            Ok(CaseAccess::NeedToKnow)
        } else if has_emergency_grant {
            Ok(CaseAccess::Emergency)
        } else {
            Err(Problem::forbidden(
                "not_a_party",
                "Din enhet deltar inte i vården av den här patienten, så ärendet kan inte visas. \
                 Behöver du uppgifterna för att ge vård nu, kan du begära nödåtkomst med ett skäl; \
                 den loggas och granskas.",
                "Your unit is not a party to this case. Emergency access with a stated reason is possible.",
            ))
        }
    }

    pub fn message(&self, id: MessageId) -> Option<&MessageState> {
        self.messages.iter().find(|m| m.message.id == id)
    }

    fn message_mut(&mut self, id: MessageId) -> Option<&mut MessageState> {
        self.messages.iter_mut().find(|m| m.message.id == id)
    }

    /// The open ready period, if the patient is ready for discharge now.
    pub fn current_ready(&self) -> Option<&ReadyPeriod> {
        self.ready_periods.last().filter(|p| p.until.is_none())
    }

    /// What the case already says for a first SIP: the needs from the planning messages and
    /// who the latest call to the meeting named. Corrected messages count as corrected.
    pub fn sip_draft(&self) -> SipDraft {
        let mut draft = SipDraft::default();
        let current = self.messages.iter().filter(|m| m.corrected_by.is_empty());
        for m in current.clone() {
            if let MessageBody::Planeringsunderlag { needs, .. } = &m.message.body {
                for line in needs.lines().map(str::trim).filter(|l| !l.is_empty()) {
                    if !draft.needs.iter().any(|n| n == line) {
                        draft.needs.push(line.to_string());
                    }
                }
            }
        }
        if let Some(MessageBody::KallelseSip { participants, patient_invited, .. }) =
            current.rev().find(|m| matches!(m.message.body, MessageBody::KallelseSip { .. })).map(|m| &m.message.body)
        {
            draft.invited = participants.iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect();
            draft.patient_invited = *patient_invited;
        }
        draft
    }

    pub fn sip_status(&self) -> Option<SipStatus> {
        if self.sip.closed_at.is_some() {
            Some(SipStatus::Closed)
        } else if !self.sip.follow_ups.is_empty()
            && self.sip.follow_ups.last().map(|f| f.stamp.at) > self.sip.current().map(|v| v.drawn_up.at)
        {
            Some(SipStatus::FollowedUp)
        } else if !self.sip.versions.is_empty() {
            Some(SipStatus::DrawnUp)
        } else if !self.sip_calls.is_empty() {
            Some(SipStatus::Called)
        } else {
            None
        }
    }

    pub fn phase(&self) -> Phase {
        if self.cancelled.is_some() {
            return Phase::Cancelled;
        }
        if self.closed.is_some() {
            return Phase::Closed;
        }
        if self.awaiting_assessment && self.discharged_at.is_none() {
            return Phase::AwaitingAssessment;
        }
        // After discharge, and at home throughout, the SIP track is the phase.
        if self.discharged_at.is_some() || self.home.is_some() {
            return match self.sip_status() {
                Some(SipStatus::Closed) => Phase::Closed,
                Some(SipStatus::FollowedUp) => Phase::FollowedUp,
                Some(SipStatus::DrawnUp) => Phase::SipDrawnUp,
                Some(SipStatus::Called) => Phase::SipCalled,
                None if self.home.is_some() => Phase::Coordinating,
                None => Phase::Discharged,
            };
        }
        if self.current_ready().is_some() {
            Phase::ReadyForDischarge
        } else if self.planning_at.is_some() || self.fast_vardkontakt.is_some() || !self.ready_periods.is_empty() {
            Phase::Planning
        } else if self.admission_notice_at.is_some() {
            Phase::Notified
        } else {
            Phase::Admitted
        }
    }

    /// The eight steps and when each was done.
    pub fn steps(&self) -> Vec<StepStatus> {
        let sip_not_needed = self.sip_needed == Some(false);
        Step::ALL
            .iter()
            .map(|&step| {
                let done_at = match step {
                    Step::Inskrivningsmeddelande => self.admission_notice_at,
                    Step::FastVardkontakt => self.fast_vardkontakt.as_ref().map(|f| f.appointed_at),
                    Step::Planering => self.planning_at,
                    Step::KallelseSip => self.sip_calls.first().map(|c| c.sent_at),
                    Step::Utskrivningsklar => self.ready_periods.first().map(|p| p.from),
                    Step::InformationVidUtskrivning => self.discharge_information_at,
                    Step::UpprattaSip => self.sip.versions.first().map(|v| v.drawn_up.at),
                    Step::FoljaUppSip => self.sip.follow_ups.first().map(|f| f.stamp.at),
                };
                let sip_step = matches!(step, Step::KallelseSip | Step::UpprattaSip | Step::FoljaUppSip);
                // At home only the SIP's steps apply.
                let not_needed = (sip_not_needed && sip_step) || (self.home.is_some() && !sip_step);
                StepStatus { step, number: step.number(), label_sv: step.label_sv(), done_at, not_needed }
            })
            .collect()
    }

    fn add_party(&mut self, unit: &UnitRef, at: Timestamp) {
        if !self.is_party(unit.id) {
            self.parties.push(Party { explicit: false, unit: unit.clone(), since: at });
        }
    }

    /// Whether anything but mis-sent messages ties the unit to the case: it cared for the
    /// patient as a ward, sent a message, holds a message it has not marked mis-sent, or was
    /// invited.
    fn has_link(&self, unit: UnitId) -> bool {
        self.wards.iter().any(|w| w.ward.id == unit)
            || self
                .messages
                .iter()
                .any(|m| m.message.sender.id == unit || m.receipt(unit).is_some_and(|r| r.mis_sent.is_none()))
            || self.parties.iter().any(|p| p.unit.id == unit && p.explicit)
    }

    /// Applies one stored event. Events were checked by [`Case::decide`] when recorded, so
    /// this never fails; an event for an unknown message is ignored rather than lost.
    pub fn apply(&mut self, e: &RecordedEvent) {
        let at = e.at;
        let stamp = e.actor.stamp(at);
        self.version = e.seq;
        self.updated_at = at;
        match &e.event {
            CaseEvent::CaseOpened { .. } | CaseEvent::CoordinationStarted { .. } => {}
            CaseEvent::NeedsAssessed { at: assessed } => {
                self.awaiting_assessment = false;
                self.needs_assessed_at = *assessed;
            }
            CaseEvent::MessageSent { message } => {
                let mut receipts = Vec::with_capacity(message.recipients.len());
                for r in &message.recipients {
                    receipts.push(Receipt::new(r.clone()));
                    self.add_party(r, at);
                }
                if let Some(old) = message.corrects
                    && let Some(m) = self.message_mut(old)
                {
                    m.corrected_by.push(message.id);
                }
                self.apply_message_effects(message, at);
                self.messages.push(MessageState {
                    message: message.clone(),
                    sent: stamp,
                    receipts,
                    corrected_by: vec![],
                });
            }
            CaseEvent::MessageDelivered { message_id, unit } => {
                if let Some(r) = self.message_mut(*message_id).and_then(|m| m.receipt_mut(*unit)) {
                    r.delivered_at.get_or_insert(at);
                }
            }
            CaseEvent::MessageOpened { message_id, unit } => {
                if let Some(r) = self.message_mut(*message_id).and_then(|m| m.receipt_mut(*unit)) {
                    r.opened.get_or_insert(stamp);
                }
            }
            CaseEvent::MessageAcknowledged { message_id, unit } => {
                if let Some(r) = self.message_mut(*message_id).and_then(|m| m.receipt_mut(*unit)) {
                    r.acknowledged.get_or_insert(stamp);
                }
            }
            CaseEvent::MessageMarkedMisSent { message_id, unit, reason } => {
                if let Some(r) = self.message_mut(*message_id).and_then(|m| m.receipt_mut(*unit)) {
                    r.mis_sent = Some(MisSent { stamp, reason: reason.clone() });
                }
                // A unit reached only by mistake leaves the case: need-to-know ends with it.
                if !self.has_link(*unit) {
                    self.parties.retain(|p| p.unit.id != *unit);
                }
            }
            CaseEvent::MessageForwarded { message_id, from_unit, to, .. } => {
                if let Some(m) = self.message_mut(*message_id) {
                    if let Some(r) = m.receipt_mut(*from_unit) {
                        r.forwarded_to.push(to.id);
                    }
                    if m.receipt(to.id).is_none() {
                        let mut receipt = Receipt::new(to.clone());
                        receipt.forwarded_from = Some(*from_unit);
                        receipt.delivered_at = Some(at);
                        m.receipts.push(receipt);
                    }
                }
                self.add_party(to, at);
            }
            CaseEvent::PatientTransferred { to_ward, care_type, at: moved_at } => {
                self.wards.push(WardStay { ward: to_ward.clone(), from: *moved_at, care_type: *care_type });
                self.add_party(to_ward, at);
            }
            CaseEvent::DischargeRecorded { at: discharged } => self.record_discharge(*discharged),
            CaseEvent::DischargeCancelled { .. } => self.cancel_discharge(),
            CaseEvent::PartyAdded { unit, .. } => {
                self.add_party(unit, at);
                if let Some(p) = self.parties.iter_mut().find(|p| p.unit.id == unit.id) {
                    p.explicit = true;
                }
            }
            CaseEvent::MessageEscalated { message_id, from_unit, to, level, after_minutes } => {
                if *level == crate::escalation::Level::Backup {
                    if let Some(m) = self.message_mut(*message_id)
                        && m.receipt(to.id).is_none()
                    {
                        let mut receipt = Receipt::new(to.clone());
                        receipt.forwarded_from = Some(*from_unit);
                        receipt.delivered_at = Some(at);
                        m.receipts.push(receipt);
                    }
                    self.add_party(to, at);
                }
                self.escalations.push(EscalationRecord {
                    message_id: *message_id,
                    from_unit: *from_unit,
                    to: to.clone(),
                    level: *level,
                    after_minutes: *after_minutes,
                    at,
                });
            }
            CaseEvent::ConsentRecorded { consent_id, kind, given_by, given_at, note } => {
                self.consents.0.push(ConsentRecord {
                    id: *consent_id,
                    kind: *kind,
                    given_by: given_by.clone(),
                    given_at: *given_at,
                    recorded: stamp,
                    note: note.clone(),
                    withdrawn: None,
                });
            }
            CaseEvent::ConsentWithdrawn { consent_id } => {
                if let Some(c) = self.consents.0.iter_mut().find(|c| c.id == *consent_id) {
                    c.withdrawn.get_or_insert(stamp);
                }
            }
            CaseEvent::SipDrawnUp { plan } => {
                let version = self.sip.versions.len() as u32 + 1;
                self.sip.versions.push(SipVersion { version, plan: plan.clone(), drawn_up: stamp });
            }
            CaseEvent::SipFollowedUp { evaluation, outcome } => {
                if *outcome == FollowUpOutcome::Close {
                    self.sip.closed_at = Some(at);
                }
                self.sip.follow_ups.push(SipFollowUp {
                    evaluation: evaluation.clone(),
                    outcome: outcome.clone(),
                    stamp,
                });
            }
            CaseEvent::ScreeningRecorded { screening } => {
                self.screenings.push(ScreeningRecord { screening: screening.clone(), recorded: stamp })
            }
            CaseEvent::RoundNoteRecorded { note } => {
                self.rounds.notes.push(RoundNoteRecord { note: note.clone(), recorded: stamp })
            }
            CaseEvent::RoundActionDone { action_id } => {
                self.rounds.done.push(RoundActionDone { action_id: *action_id, stamp })
            }
            CaseEvent::CaseClosed { .. } => self.closed = Some(stamp),
            CaseEvent::ContinuedAtHome { home_case } => {
                self.continued_at_home = Some(*home_case);
                self.closed = Some(stamp);
            }
            CaseEvent::CaseCancelled { reason, .. } => {
                if let Some(p) = self.ready_periods.last_mut().filter(|p| p.until.is_none()) {
                    p.until = Some(at);
                }
                self.cancelled = Some(Cancellation { stamp, reason: *reason });
            }
        }
    }

    fn record_discharge(&mut self, at: Timestamp) {
        if self.discharged_at.is_none() {
            self.discharged_at = Some(at);
            if let Some(p) = self.ready_periods.last_mut().filter(|p| p.until.is_none()) {
                p.until = Some(at.max(p.from));
            }
        }
    }

    /// The ready period the discharge ended is open again.
    fn cancel_discharge(&mut self) {
        let Some(old) = self.discharged_at.take() else { return };
        if let Some(p) = self.ready_periods.last_mut().filter(|p| !p.withdrawn && p.until == Some(old.max(p.from))) {
            p.until = None;
        }
    }

    /// A corrected discharge time replaces the recorded one, and the ready period it ended.
    fn correct_discharge(&mut self, at: Timestamp) {
        let Some(old) = self.discharged_at else { return self.record_discharge(at) };
        self.discharged_at = Some(at);
        if let Some(p) = self.ready_periods.iter_mut().rev().find(|p| !p.withdrawn && p.until == Some(old.max(p.from)))
        {
            p.until = Some(at.max(p.from));
        }
    }

    fn apply_message_effects(&mut self, message: &Message, at: Timestamp) {
        match &message.body {
            MessageBody::Inskrivningsmeddelande { estimated_discharge, .. } => {
                self.admission_notice_at.get_or_insert(at);
                self.estimated_discharge = Some(*estimated_discharge);
            }
            MessageBody::AndratUtskrivningsdatum { estimated_discharge, .. } => {
                self.estimated_discharge = Some(*estimated_discharge);
            }
            MessageBody::FastVardkontakt { name, role, phone, .. } => {
                self.fast_vardkontakt = Some(FastVardkontakt {
                    name: name.clone(),
                    role: role.clone(),
                    phone: phone.clone(),
                    unit: message.sender.clone(),
                    appointed_at: self.fast_vardkontakt.as_ref().map_or(at, |f| f.appointed_at),
                });
            }
            MessageBody::Planeringsunderlag { sip_needed, .. } => {
                self.planning_at.get_or_insert(at);
                if sip_needed.is_some() {
                    self.sip_needed = *sip_needed;
                }
            }
            MessageBody::Utskrivningsklar { sip_needed, .. } => {
                if sip_needed.is_some() {
                    self.sip_needed = *sip_needed;
                }
                // A correction fixes the notice's content; readiness still runs from the
                // original notice.
                if message.corrects.is_some() {
                    return;
                }
                self.ready_periods.push(ReadyPeriod {
                    message_id: message.id,
                    from: at,
                    until: None,
                    withdrawn: false,
                    care_type: self.care_type(),
                });
            }
            MessageBody::AtertagenUtskrivningsklar { .. } => {
                if let Some(p) = self.ready_periods.last_mut().filter(|p| p.until.is_none()) {
                    p.until = Some(at);
                    p.withdrawn = true;
                }
            }
            MessageBody::KallelseSip { meeting_at, .. } => {
                self.sip_calls.push(SipCall {
                    message_id: message.id,
                    sent_at: at,
                    meeting_at: *meeting_at,
                    by_unit: message.sender.id,
                });
            }
            MessageBody::InformationVidUtskrivning { discharged_at, .. } => {
                self.discharge_information_at.get_or_insert(at);
                if message.corrects.is_some() {
                    self.correct_discharge(*discharged_at);
                } else {
                    self.record_discharge(*discharged_at);
                }
            }
            MessageBody::AvbrottIProcessen { .. } | MessageBody::Allmant { .. } => {}
        }
    }

    fn require_open(&self) -> Result<(), Problem> {
        match self.phase() {
            Phase::Closed => Err(out_of_order(
                "Ärendet är avslutat. Öppna ett nytt ärende om patienten skrivs in igen.",
                "The case is closed.",
            )),
            Phase::Cancelled => Err(out_of_order("Ärendet är avbrutet och kan inte ändras.", "The case is cancelled.")),
            _ => Ok(()),
        }
    }

    /// Receipts are given until the case is closed; after that nobody is waiting for them
    /// (the inbox no longer lists them). A cancelled case's notice of the break is still
    /// acknowledged: that is how its receivers confirm they know.
    fn require_not_closed(&self) -> Result<(), Problem> {
        if self.phase() == Phase::Closed {
            return Err(out_of_order(
                "Ärendet är avslutat. Meddelanden i det kvitteras inte längre.",
                "The case is closed; its messages are no longer acknowledged.",
            ));
        }
        Ok(())
    }

    /// Refuses what only a hospital stay has (notices, transfers, discharge) in a coordination
    /// at home.
    fn require_discharge_case(&self, what_sv: &str) -> Result<(), Problem> {
        if self.home.is_some() {
            return Err(out_of_order(
                format!(
                    "Det här är en samordning i hemmet, inte ett utskrivningsärende; det går inte att {what_sv}. \
                     Blir personen inskriven på sjukhus öppnar avdelningen ett utskrivningsärende, som då visar den \
                     här planen."
                ),
                "This is a coordination at home, not a discharge case.",
            ));
        }
        Ok(())
    }

    fn require_ward(&self, actor: &Actor, what_sv: &str) -> Result<(), Problem> {
        if actor.unit.id != self.ward().id {
            return Err(Problem::forbidden(
                "not_responsible_ward",
                format!("Bara den vårdavdelning som har patienten nu ({}) kan {what_sv}.", self.ward().name),
                format!("Only the ward that has the patient now ({}) can do this.", self.ward().name),
            ));
        }
        Ok(())
    }

    fn require_party(&self, actor: &Actor) -> Result<(), Problem> {
        if !self.is_party(actor.unit.id) {
            return Err(Problem::forbidden(
                "not_a_party",
                format!("{} deltar inte i det här ärendet och kan inte göra ändringar i det.", actor.unit.name),
                "Your unit is not a party to this case.",
            ));
        }
        Ok(())
    }

    fn require_not_discharged(&self, what_sv: &str) -> Result<(), Problem> {
        if self.discharged_at.is_some() {
            return Err(out_of_order(
                format!("Patienten är redan utskriven; det går inte att {what_sv}."),
                "The patient has already been discharged.",
            ));
        }
        Ok(())
    }

    fn require_notice(&self, what_sv: &str) -> Result<(), Problem> {
        if self.admission_notice_at.is_none() {
            return Err(out_of_order(
                format!(
                    "Skicka inskrivningsmeddelandet först; det går inte att {what_sv} innan kommun och vårdcentral har fått det."
                ),
                "Send the admission notice first.",
            ));
        }
        Ok(())
    }

    /// When the patient came to the ward they are on now.
    fn last_ward_change(&self) -> Timestamp {
        self.wards.last().map_or(self.admitted_at, |w| w.from)
    }

    /// Refuses when a time the command must give cannot exist: `earliest` lies after `latest`.
    fn require_not_after(&self, earliest: Timestamp, latest: Timestamp) -> Result<(), Problem> {
        if earliest > latest {
            return Err(out_of_order(
                "Ärendets senaste händelse ligger i framtiden. Vänta tills den tiden har passerat.",
                "The case's latest event lies in the future.",
            ));
        }
        Ok(())
    }

    fn receipt_of(&self, actor: &Actor, message_id: MessageId) -> Result<(&MessageState, &Receipt), Problem> {
        let m = self.message(message_id).ok_or_else(|| {
            Problem::not_found(
                "message_not_found",
                "Meddelandet finns inte i det här ärendet.",
                "No such message in this case.",
            )
        })?;
        let r = m.receipt(actor.unit.id).ok_or_else(|| {
            Problem::forbidden(
                "not_a_recipient",
                format!("Meddelandet är inte adresserat till {}. Bara mottagarna kan öppna, kvittera eller vidarebefordra det.", actor.unit.name),
                "The message is not addressed to your unit.",
            )
        })?;
        Ok((m, r))
    }

    /// Decides whether `cmd` may be carried out by `actor` at `now`, and returns the events to
    /// append. An empty list means "already done" (e.g. a repeated acknowledgement).
    ///
    /// What the case allows is checked first, by the same [`Case::check`] that
    /// [`Case::available`] asks; then what the command carries (texts, times, recipients).
    pub fn decide(&self, actor: &Actor, cmd: Command, now: Timestamp) -> Result<Vec<CaseEvent>, Problem> {
        let Some(action) = cmd.action() else {
            return self.decide_escalation(actor, cmd);
        };
        if let Command::SendMessage { message_id, .. } = &cmd {
            access::require(actor.role, action.permission())?;
            if let Some(existing) = self.message(*message_id) {
                // The same request again from the same unit: already carried out. Anyone else
                // must not learn anything from an id they happen to know.
                if existing.message.sender.id == actor.unit.id {
                    return Ok(vec![]);
                }
                return Err(Problem::conflict(
                    "message_id_in_use",
                    "Meddelandets id används redan. Skicka utan id.",
                    "Message id in use.",
                ));
            }
        }
        if self.check(actor, &action, now)? == Check::AlreadyDone {
            return Ok(vec![]);
        }
        match cmd {
            Command::SendMessage { message_id, body, recipients, corrects } => {
                self.decide_send(actor, message_id, body, recipients, corrects, now)
            }
            Command::OpenMessage { message_id } => {
                Ok(vec![CaseEvent::MessageOpened { message_id, unit: actor.unit.id }])
            }
            Command::AcknowledgeMessage { message_id } => {
                let (_, r) = self.receipt_of(actor, message_id)?;
                let mut events = vec![];
                if r.opened.is_none() {
                    events.push(CaseEvent::MessageOpened { message_id, unit: actor.unit.id });
                }
                events.push(CaseEvent::MessageAcknowledged { message_id, unit: actor.unit.id });
                Ok(events)
            }
            Command::MarkMisSent { message_id, reason } => {
                check_text("reason", &reason, true)?;
                Ok(vec![CaseEvent::MessageMarkedMisSent {
                    message_id,
                    unit: actor.unit.id,
                    reason: reason.trim().to_string(),
                }])
            }
            Command::ForwardMessage { message_id, to, note } => {
                check_text("note", &note, false)?;
                let (m, _) = self.receipt_of(actor, message_id)?;
                if to.organisation_id != actor.unit.organisation_id {
                    return Err(Problem::forbidden(
                        "forward_outside_organisation",
                        format!(
                            "Ett meddelande kan bara vidarebefordras inom den egna organisationen; {} hör till en annan.",
                            to.name
                        ),
                        "Messages can only be forwarded within your own organisation.",
                    ));
                }
                if m.receipt(to.id).is_some() {
                    return Err(Problem::conflict(
                        "already_recipient",
                        format!("{} har redan fått meddelandet.", to.name),
                        "That unit already has the message.",
                    ));
                }
                Ok(vec![CaseEvent::MessageForwarded {
                    message_id,
                    from_unit: actor.unit.id,
                    to,
                    note: note.trim().to_string(),
                }])
            }
            Command::TransferPatient { to_ward, care_type, at } => {
                if to_ward.kind != UnitKind::Ward {
                    return Err(Problem::invalid_field(
                        "to_ward",
                        "not_a_ward",
                        format!("{} är ingen vårdavdelning. Välj den avdelning patienten flyttas till.", to_ward.name),
                        "The target unit is not a ward.",
                    ));
                }
                if to_ward.id == self.ward().id {
                    return Err(Problem::invalid_field(
                        "to_ward",
                        "same_ward",
                        "Patienten ligger redan på den avdelningen.",
                        "Same ward.",
                    ));
                }
                if at < self.last_ward_change() || at > now + 5.minutes() {
                    return Err(Problem::invalid_field(
                        "at",
                        "invalid_time",
                        "Flyttiden måste ligga efter senaste inskrivning eller flytt och får inte ligga i framtiden.",
                        "The transfer time must be after the last admission or transfer and not in the future.",
                    ));
                }
                Ok(vec![CaseEvent::PatientTransferred { to_ward, care_type, at }])
            }
            Command::RecordDischarge { at } => {
                self.check_discharge_time(at, now)?;
                Ok(vec![CaseEvent::DischargeRecorded { at }])
            }
            Command::CancelDischarge { note } => {
                check_text("note", &note, false)?;
                Ok(vec![CaseEvent::DischargeCancelled { note: note.trim().to_string() }])
            }
            Command::ConfirmNeeds { assessed_at } => {
                if assessed_at > now + 5.minutes() {
                    return Err(Problem::invalid_field(
                        "assessed_at",
                        "date_in_future",
                        "Bedömningen ligger i framtiden. Ange när läkaren gjorde bedömningen.",
                        "The assessment time lies in the future.",
                    ));
                }
                if assessed_at < self.admitted_at {
                    return Err(Problem::invalid_field(
                        "assessed_at",
                        "before_admission",
                        "Bedömningen kan inte ha gjorts före inskrivningen.",
                        "The assessment cannot precede the admission.",
                    ));
                }
                Ok(vec![CaseEvent::NeedsAssessed { at: assessed_at }])
            }
            Command::DismissDraft { reason, note } => {
                check_text("note", &note, false)?;
                Ok(vec![CaseEvent::CaseCancelled { reason, note: note.trim().to_string() }])
            }
            Command::AddParty { unit, reason } => {
                check_text("reason", &reason, true)?;
                if self.is_party(unit.id) {
                    return Ok(vec![]);
                }
                Ok(vec![CaseEvent::PartyAdded { unit, reason: reason.trim().to_string() }])
            }
            Command::RecordConsent { consent_id, kind, given_by, given_at, note } => {
                check_text("note", &note, false)?;
                if let ConsentGiver::Representative { name, relation } = &given_by {
                    check_text("given_by.name", name, true)?;
                    check_text("given_by.relation", relation, true)?;
                }
                if given_at > now + 5.minutes() {
                    return Err(Problem::invalid_field(
                        "given_at",
                        "date_in_future",
                        "Tidpunkten för samtycket ligger i framtiden.",
                        "The consent time lies in the future.",
                    ));
                }
                if self.consents.get(consent_id).is_some() {
                    return Ok(vec![]);
                }
                Ok(vec![CaseEvent::ConsentRecorded {
                    consent_id,
                    kind,
                    given_by,
                    given_at,
                    note: note.trim().to_string(),
                }])
            }
            Command::WithdrawConsent { consent_id } => Ok(vec![CaseEvent::ConsentWithdrawn { consent_id }]),
            Command::DrawUpSip { plan } => {
                plan.validate(local_date(now))?;
                self.check_sip_units(&plan)?;
                Ok(vec![CaseEvent::SipDrawnUp { plan }])
            }
            Command::FollowUpSip { evaluation, outcome } => {
                check_text("evaluation", &evaluation, true)?;
                if let FollowUpOutcome::Continue { next_follow_up } = &outcome {
                    let today = local_date(now);
                    check_planned_date(
                        "outcome.next_follow_up",
                        *next_follow_up,
                        today.tomorrow().unwrap_or(today),
                        today,
                    )?;
                }
                let closes = outcome == FollowUpOutcome::Close;
                let mut events = vec![CaseEvent::SipFollowedUp { evaluation: evaluation.trim().to_string(), outcome }];
                if closes && (self.discharged_at.is_some() || self.home.is_some()) {
                    events.push(CaseEvent::CaseClosed { note: "SIP avslutad vid uppföljning".into() });
                }
                Ok(events)
            }
            Command::RecordScreening { screening } => {
                Ok(vec![CaseEvent::ScreeningRecorded { screening: screening.checked()? }])
            }
            Command::RecordRoundNote { note } => {
                let parties: Vec<UnitId> = self.parties.iter().map(|p| p.unit.id).collect();
                let note = note.checked(local_date(now), &parties)?;
                Ok(vec![CaseEvent::RoundNoteRecorded { note }])
            }
            Command::CompleteRoundAction { action_id } => Ok(vec![CaseEvent::RoundActionDone { action_id }]),
            Command::CloseCase { note } => {
                check_text("note", &note, false)?;
                Ok(vec![CaseEvent::CaseClosed { note: note.trim().to_string() }])
            }
            Command::ContinueAtHome { home_case } => Ok(vec![CaseEvent::ContinuedAtHome { home_case }]),
            Command::Escalate { .. } => unreachable!("escalations have no action and were decided above"),
        }
    }

    /// Samverka's own escalation of an unacknowledged message: only the system role, and only
    /// while the message still waits at that unit.
    fn decide_escalation(&self, actor: &Actor, cmd: Command) -> Result<Vec<CaseEvent>, Problem> {
        let Command::Escalate { message_id, from_unit, to, level, after_minutes } = cmd else {
            unreachable!("every other command is an action")
        };
        access::require(actor.role, Permission::ReadPatientData)?;
        if actor.role != crate::access::Role::System {
            return Err(Problem::forbidden(
                "escalation_system_only",
                "Meddelanden eskaleras av Samverka enligt enhetens eskaleringsregel, inte för hand.",
                "Messages are escalated by Samverka under the unit's rule.",
            ));
        }
        let Some(m) = self.message(message_id) else {
            return Err(Problem::not_found("message_not_found", "Meddelandet finns inte.", "No such message."));
        };
        let waiting = m.receipt(from_unit).is_some_and(|r| r.acknowledged.is_none() && r.mis_sent.is_none());
        let done =
            self.escalations.iter().any(|e| e.message_id == message_id && e.from_unit == from_unit && e.level == level);
        // Answered meanwhile, closed, or already escalated: nothing to do.
        if !waiting || done || self.closed.is_some() || self.cancelled.is_some() {
            return Ok(vec![]);
        }
        Ok(vec![CaseEvent::MessageEscalated { message_id, from_unit, to, level, after_minutes }])
    }

    /// Whether `actor` may take `action` now, as far as the case can tell without the details
    /// a form fills in: the role's permission, the step the case has reached, who the actor's
    /// unit is in the case, consent. [`Case::decide`] asks this first and then checks the
    /// command's own contents, which can always be filled in so that they pass (a time, a
    /// text, another unit of the directory): so what this allows, some command carries out.
    pub fn check(&self, actor: &Actor, action: &Action, now: Timestamp) -> Result<Check, Problem> {
        access::require(actor.role, action.permission())?;
        match *action {
            Action::Send { kind, corrects } => {
                self.check_send(actor, kind, corrects)?;
                Ok(Check::Allowed)
            }
            Action::OpenMessage { message_id } => {
                let (_, r) = self.receipt_of(actor, message_id)?;
                Ok(if r.opened.is_some() { Check::AlreadyDone } else { Check::Allowed })
            }
            Action::Acknowledge { message_id } => {
                self.require_not_closed()?;
                let (_, r) = self.receipt_of(actor, message_id)?;
                if r.mis_sent.is_some() {
                    return Err(out_of_order(
                        "Meddelandet är markerat som felskickat och kan inte kvitteras.",
                        "The message is marked as mis-sent.",
                    ));
                }
                Ok(if r.acknowledged.is_some() { Check::AlreadyDone } else { Check::Allowed })
            }
            Action::MarkMisSent { message_id } => {
                self.require_not_closed()?;
                let (_, r) = self.receipt_of(actor, message_id)?;
                if r.acknowledged.is_some() {
                    return Err(out_of_order(
                        "Meddelandet är redan kvitterat av er enhet och kan inte markeras som felskickat. Skicka ett allmänt meddelande till avsändaren i stället.",
                        "The message is already acknowledged.",
                    ));
                }
                Ok(if r.mis_sent.is_some() { Check::AlreadyDone } else { Check::Allowed })
            }
            Action::Forward { message_id } => {
                // Forwarding shares the patient's data with one more unit: not once the case
                // has ended.
                self.require_open()?;
                self.receipt_of(actor, message_id)?;
                Ok(Check::Allowed)
            }
            Action::Transfer => {
                self.require_discharge_case("flytta patienten")?;
                self.require_open()?;
                self.require_ward(actor, "flytta patienten")?;
                self.require_not_discharged("flytta patienten")?;
                self.require_not_after(self.last_ward_change(), now + 5.minutes())?;
                Ok(Check::Allowed)
            }
            Action::RecordDischarge => {
                self.require_discharge_case("registrera en utskrivning")?;
                self.require_open()?;
                self.require_ward(actor, "registrera utskrivningen")?;
                self.require_not_discharged("registrera utskrivningen igen")?;
                self.require_not_after(self.admitted_at, now + 24.hours())?;
                Ok(Check::Allowed)
            }
            Action::CancelDischarge => {
                self.require_discharge_case("ångra en utskrivning")?;
                self.require_open()?;
                let Some(at) = self.discharged_at else {
                    return Ok(Check::AlreadyDone);
                };
                self.require_ward(actor, "ångra utskrivningen")?;
                if self.discharge_information_at.is_some_and(|i| i >= at) || !self.sip_calls.is_empty() {
                    return Err(out_of_order(
                        "Information vid utskrivning eller kallelse till SIP är redan skickad. Skicka ett \
                         meddelande till mottagarna i stället för att ångra utskrivningen.",
                        "Discharge information or a SIP call has already been sent.",
                    ));
                }
                Ok(Check::Allowed)
            }
            Action::ConfirmNeeds => {
                self.require_discharge_case("bekräfta behov efter utskrivning")?;
                self.require_open()?;
                self.require_ward(actor, "bekräfta behovet")?;
                if !self.awaiting_assessment {
                    return Ok(Check::AlreadyDone);
                }
                self.require_not_after(self.admitted_at, now + 5.minutes())?;
                Ok(Check::Allowed)
            }
            Action::DismissDraft => {
                self.require_discharge_case("avsluta ett utkast")?;
                self.require_open()?;
                self.require_ward(actor, "avsluta utkastet")?;
                if !self.awaiting_assessment {
                    return Err(out_of_order(
                        "Ärendet är redan bekräftat. Skicka meddelandet Avbrott i processen i stället.",
                        "The case has been confirmed; send a cancellation message instead.",
                    ));
                }
                Ok(Check::Allowed)
            }
            Action::AddParty => {
                self.require_open()?;
                self.require_party(actor)?;
                self.consents.require(
                    &[ConsentKind::InformationSharing],
                    "dela ärendet med en enhet som inte deltar",
                    "share the case with another unit",
                )?;
                Ok(Check::Allowed)
            }
            Action::RecordConsent => {
                self.require_open()?;
                self.require_party(actor)?;
                Ok(Check::Allowed)
            }
            Action::WithdrawConsent { consent_id } => {
                // A patient may take back a consent at any time, also after the case ended.
                self.require_party(actor)?;
                let c = self.consents.get(consent_id).ok_or_else(|| {
                    Problem::not_found("consent_not_found", "Samtycket finns inte i ärendet.", "No such consent.")
                })?;
                Ok(if c.withdrawn.is_some() { Check::AlreadyDone } else { Check::Allowed })
            }
            Action::DrawUpSip => {
                self.require_open()?;
                self.require_party(actor)?;
                if self.sip_calls.is_empty() && self.sip.versions.is_empty() {
                    return Err(out_of_order(
                        "Kalla till SIP innan planen upprättas (steg 4 före steg 7).",
                        "Call the SIP meeting first.",
                    ));
                }
                if self.sip.closed_at.is_some() {
                    return Err(out_of_order("Planen är avslutad.", "The plan is closed."));
                }
                self.consents.require(&[ConsentKind::Sip], "upprätta SIP", "draw up the SIP")?;
                Ok(Check::Allowed)
            }
            Action::FollowUpSip => {
                self.require_open()?;
                let current = self.sip.current().ok_or_else(|| {
                    out_of_order(
                        "Det finns ingen upprättad SIP att följa upp (steg 7 före steg 8).",
                        "There is no SIP to follow up.",
                    )
                })?;
                if self.sip.closed_at.is_some() {
                    return Err(out_of_order("Planen är redan avslutad.", "The plan is already closed."));
                }
                if actor.unit.id != current.plan.coordinator.unit {
                    return Err(Problem::forbidden(
                        "not_coordinator",
                        "Bara den enhet som samordnar planen kan följa upp och avsluta den.",
                        "Only the coordinating unit can follow up the plan.",
                    ));
                }
                Ok(Check::Allowed)
            }
            Action::RecordScreening | Action::RecordRoundNote => {
                self.require_open()?;
                self.require_party(actor)?;
                Ok(Check::Allowed)
            }
            Action::CompleteRoundAction { action_id } => {
                self.require_open()?;
                self.require_party(actor)?;
                let Some((a, done)) = self.rounds.action(action_id) else {
                    return Err(Problem::not_found(
                        "round_action_not_found",
                        "Åtgärden finns inte i ärendet.",
                        "No such action in the case.",
                    ));
                };
                if done {
                    return Ok(Check::AlreadyDone);
                }
                if a.owner_unit != actor.unit.id {
                    return Err(Problem::forbidden(
                        "not_action_owner",
                        "Bara den enhet som äger åtgärden kan markera den som klar.",
                        "Only the unit that owns the action can mark it done.",
                    ));
                }
                Ok(Check::Allowed)
            }
            Action::Close if self.home.is_some() => {
                self.require_open()?;
                self.require_party(actor)?;
                if self.sip_in_force() {
                    return Err(out_of_order(
                        "Planen gäller fortfarande. Avsluta den vid uppföljningen (steg 8), så avslutas samordningen.",
                        "The plan is in force; close it at follow-up.",
                    ));
                }
                Ok(Check::Allowed)
            }
            Action::ContinueAtHome => {
                self.require_discharge_case("fortsätta samordningen i hemmet igen")?;
                self.require_open()?;
                self.require_party(actor)?;
                if actor.unit.kind == UnitKind::Ward {
                    return Err(Problem::forbidden(
                        "not_at_home",
                        "Planen fortsätter hos den som ger vård eller omsorg i hemmet: vårdcentralen eller kommunen \
                         för den vidare.",
                        "The plan goes on with the units caring for the person at home.",
                    ));
                }
                if self.discharged_at.is_none() {
                    return Err(out_of_order(
                        "Planen kan fortsätta i hemmet först när patienten är utskriven.",
                        "The plan can go on at home only after discharge.",
                    ));
                }
                if self.sip.current().is_none() || self.sip.closed_at.is_some() {
                    return Err(out_of_order(
                        "Det finns ingen gällande SIP att fortsätta med. Upprätta planen först (steg 7).",
                        "There is no SIP in force to continue.",
                    ));
                }
                self.consents.require(&[ConsentKind::Sip], "fortsätta SIP i hemmet", "continue the SIP at home")?;
                Ok(Check::Allowed)
            }
            Action::Close => {
                self.require_open()?;
                self.require_party(actor)?;
                if self.discharged_at.is_none() {
                    return Err(out_of_order(
                        "Ärendet kan avslutas först när patienten är utskriven. Avbryt ärendet om processen inte ska fullföljas.",
                        "The case can be closed only after discharge.",
                    ));
                }
                if self.sip_needed == Some(true) && self.sip.closed_at.is_none() {
                    return Err(out_of_order(
                        "Patienten behöver en SIP. Avsluta planen vid uppföljningen (steg 8) i stället.",
                        "A SIP is needed; close it at follow-up.",
                    ));
                }
                Ok(Check::Allowed)
            }
        }
    }

    /// Everything `actor` may do to the case now: the actions [`Case::check`] allows, each on
    /// every message and consent it could concern. What is listed here, `decide` accepts;
    /// what is not, it refuses or finds already done.
    pub fn available(&self, actor: &Actor, now: Timestamp) -> Vec<Action> {
        let me = actor.unit.id;
        let mut candidates: Vec<Action> = MessageKind::ALL.iter().map(|k| Action::send(*k)).collect();
        for m in &self.messages {
            let id = m.message.id;
            if m.message.sender.id == me {
                candidates.push(Action::Send { kind: m.message.body.kind(), corrects: Some(id) });
            }
            if m.receipt(me).is_some() {
                candidates.extend([
                    Action::OpenMessage { message_id: id },
                    Action::Acknowledge { message_id: id },
                    Action::MarkMisSent { message_id: id },
                    Action::Forward { message_id: id },
                ]);
            }
        }
        candidates.extend([
            Action::Transfer,
            Action::RecordDischarge,
            Action::CancelDischarge,
            Action::ConfirmNeeds,
            Action::DismissDraft,
            Action::AddParty,
            Action::RecordConsent,
        ]);
        candidates.extend(self.consents.0.iter().map(|c| Action::WithdrawConsent { consent_id: c.id }));
        candidates.extend([
            Action::DrawUpSip,
            Action::FollowUpSip,
            Action::RecordScreening,
            Action::RecordRoundNote,
            Action::Close,
            Action::ContinueAtHome,
        ]);
        candidates.extend(self.rounds.open_actions().map(|a| Action::CompleteRoundAction { action_id: a.id }));
        candidates.retain(|a| matches!(self.check(actor, a, now), Ok(Check::Allowed)));
        candidates
    }

    /// The state's part of sending a message of `kind` (a correction of `corrects` when named).
    fn check_send(&self, actor: &Actor, kind: MessageKind, corrects: Option<MessageId>) -> Result<(), Problem> {
        self.require_open()?;
        if self.awaiting_assessment {
            return Err(out_of_order(
                "Patienten är inskriven men behovet är inte bedömt. Bekräfta först att läkaren bedömt att \
                 patienten behöver insatser efter utskrivningen.",
                "The needs have not been assessed; confirm them first.",
            ));
        }
        if let Some(old) = corrects {
            let original = self.message(old).ok_or_else(|| {
                Problem::invalid_field(
                    "corrects",
                    "message_not_found",
                    "Meddelandet som ska rättas finns inte i ärendet.",
                    "No such message to correct.",
                )
            })?;
            if original.message.sender.id != actor.unit.id || original.message.body.kind() != kind {
                return Err(Problem::invalid_field(
                    "corrects",
                    "invalid_correction",
                    "En rättelse måste komma från samma enhet och vara av samma typ som det meddelande den rättar.",
                    "A correction must come from the same unit and be of the same kind.",
                ));
            }
            if !original.corrected_by.is_empty() {
                return Err(Problem::invalid_field(
                    "corrects",
                    "already_corrected",
                    "Meddelandet är redan rättat. Rätta den senaste rättelsen i stället.",
                    "The message has already been corrected; correct the latest correction instead.",
                ));
            }
        }
        let is_correction = corrects.is_some();
        if !matches!(kind, MessageKind::KallelseSip | MessageKind::Allmant) {
            self.require_discharge_case(&format!("skicka {}", kind.label_sv().to_lowercase()))?;
        }
        match kind {
            MessageKind::Inskrivningsmeddelande => {
                self.require_ward(actor, "skicka inskrivningsmeddelande")?;
                self.require_not_discharged("skicka inskrivningsmeddelande")?;
                if self.admission_notice_at.is_some() && !is_correction {
                    return Err(out_of_order(
                        "Inskrivningsmeddelandet är redan skickat. Skicka \"ändrat beräknat utskrivningsdatum\" eller en rättelse i stället.",
                        "The admission notice has already been sent.",
                    ));
                }
            }
            MessageKind::AndratUtskrivningsdatum => {
                self.require_ward(actor, "ändra beräknat utskrivningsdatum")?;
                self.require_notice("ändra beräknat utskrivningsdatum")?;
                self.require_not_discharged("ändra beräknat utskrivningsdatum")?;
            }
            MessageKind::FastVardkontakt => {
                self.require_party(actor)?;
                self.require_notice("utse fast vårdkontakt")?;
                if actor.unit.kind != UnitKind::Vardcentral {
                    return Err(Problem::forbidden(
                        "vardcentral_only",
                        "Fast vårdkontakt utses av verksamhetschefen på patientens vårdcentral.",
                        "The fast vårdkontakt is appointed by the patient's vårdcentral.",
                    ));
                }
            }
            MessageKind::Planeringsunderlag => {
                self.require_party(actor)?;
                self.require_notice("skicka planeringsunderlag")?;
            }
            MessageKind::Utskrivningsklar => {
                self.require_ward(actor, "meddela utskrivningsklar")?;
                self.require_notice("meddela utskrivningsklar")?;
                self.require_not_discharged("meddela utskrivningsklar")?;
                if self.current_ready().is_some() && !is_correction {
                    return Err(out_of_order(
                        "Patienten är redan meddelad utskrivningsklar. Återta meddelandet först om bedömningen har ändrats.",
                        "The patient is already ready for discharge.",
                    ));
                }
            }
            MessageKind::AtertagenUtskrivningsklar => {
                self.require_ward(actor, "återta utskrivningsklar")?;
                if self.current_ready().is_none() {
                    return Err(out_of_order(
                        "Patienten är inte utskrivningsklar just nu, så det finns inget att återta.",
                        "The patient is not ready for discharge.",
                    ));
                }
            }
            MessageKind::KallelseSip => {
                self.require_party(actor)?;
                if self.home.is_none() {
                    self.require_notice("kalla till SIP")?;
                }
                self.consents.require(
                    &[ConsentKind::SipCall, ConsentKind::Sip],
                    "kalla till SIP",
                    "call a SIP meeting",
                )?;
            }
            MessageKind::InformationVidUtskrivning => {
                self.require_ward(actor, "skicka information vid utskrivning")?;
                if self.discharge_information_at.is_some() && !is_correction {
                    return Err(out_of_order(
                        "Information vid utskrivning är redan skickad. Skicka en rättelse om något ska ändras.",
                        "Discharge information has already been sent.",
                    ));
                }
            }
            MessageKind::AvbrottIProcessen => {
                self.require_ward(actor, "avbryta processen")?;
            }
            MessageKind::Allmant => {
                self.require_party(actor)?;
            }
        }
        // The person said no to sharing: nothing more goes between the units, except the notice
        // that ends the process, which carries no health detail and stops the others' work.
        if kind != MessageKind::AvbrottIProcessen
            && let Some(withdrawn) = self.consents.sharing_withdrawn()
        {
            let when = withdrawn
                .withdrawn
                .as_ref()
                .map(|w| crate::calendar::local(w.at).strftime("%F %H:%M").to_string())
                .unwrap_or_default();
            return Err(Problem::new(
                crate::ProblemKind::ConsentRequired,
                "consent_withdrawn",
                format!(
                    "Patienten återkallade sitt samtycke till informationsöverföring {when}. Inget skickas \
                     till andra enheter i ärendet förrän patienten ger ett nytt samtycke. Avbrott i processen \
                     kan fortfarande skickas."
                ),
                "The patient withdrew consent to information sharing; nothing is sent to other units until \
                 consent is given again.",
            ));
        }
        // A message other than the LUS routing goes only to the case's parties, unless the
        // patient consented to sharing: someone must be left to send it to.
        if !kind.is_routing()
            && !self.parties.iter().any(|p| p.unit.id != actor.unit.id)
            && self.consents.active(ConsentKind::InformationSharing).is_none()
        {
            let first = if self.home.is_some() {
                "Registrera personens samtycke till informationsöverföring, så kan du bjuda in enheterna."
            } else {
                "Skicka inskrivningsmeddelandet först, eller registrera patientens samtycke till \
                 informationsöverföring."
            };
            return Err(Problem::forbidden(
                "no_one_to_send_to",
                format!("Ingen annan enhet deltar i ärendet ännu. {first}"),
                "No other unit takes part in the case yet.",
            ));
        }
        Ok(())
    }

    fn check_discharge_time(&self, at: Timestamp, now: Timestamp) -> Result<(), Problem> {
        if at < self.admitted_at || at > now + 24.hours() {
            return Err(Problem::invalid_field(
                "discharged_at",
                "invalid_time",
                "Utskrivningstiden måste ligga efter inskrivningen och högst ett dygn framåt i tiden.",
                "The discharge time must be after admission and at most a day ahead.",
            ));
        }
        Ok(())
    }

    fn check_sip_units(&self, plan: &SipPlan) -> Result<(), Problem> {
        if !self.is_party(plan.coordinator.unit) {
            return Err(Problem::invalid_field(
                "coordinator.unit",
                "unit_not_party",
                "Samordnaren måste komma från en enhet som deltar i ärendet.",
                "The coordinator must belong to a unit that is a party to the case.",
            ));
        }
        Ok(())
    }

    /// The command's part of sending a message; [`Case::check_send`] has passed.
    fn decide_send(
        &self,
        actor: &Actor,
        message_id: MessageId,
        body: MessageBody,
        recipients: Vec<UnitRef>,
        corrects: Option<MessageId>,
        now: Timestamp,
    ) -> Result<Vec<CaseEvent>, Problem> {
        for (field, text) in body.texts() {
            check_text(field, text, false)?;
        }
        let is_correction = corrects.is_some();
        match &body {
            MessageBody::Inskrivningsmeddelande { estimated_discharge, .. }
            | MessageBody::AndratUtskrivningsdatum { estimated_discharge, .. } => {
                self.check_estimate(*estimated_discharge, now)?;
            }
            MessageBody::FastVardkontakt { name, role, phone, .. } => {
                check_text("name", name, true)?;
                check_text("role", role, true)?;
                check_text("phone", phone, true)?;
            }
            MessageBody::Planeringsunderlag { needs, function, current_insatser, assessments, .. } => {
                if [needs, function, current_insatser, assessments].iter().all(|t| t.trim().is_empty()) {
                    return Err(Problem::invalid_field(
                        "needs",
                        "required",
                        "Planeringsunderlaget är tomt. Beskriv minst behov, funktion, nuvarande insatser eller bedömningar.",
                        "The planning information is empty.",
                    ));
                }
            }
            MessageBody::AtertagenUtskrivningsklar { reason } => check_text("reason", reason, true)?,
            MessageBody::KallelseSip { meeting_at, place, participants, .. } => {
                check_text("place", place, true)?;
                for (i, p) in participants.iter().enumerate() {
                    check_text(&format!("participants[{i}]"), p, true)?;
                }
                check_planned_date("meeting_at", local_date(*meeting_at), local_date(now), local_date(now))?;
                if *meeting_at <= now {
                    return Err(Problem::invalid_field(
                        "meeting_at",
                        "date_not_in_future",
                        "Mötestiden måste ligga i framtiden.",
                        "The meeting must be in the future.",
                    ));
                }
            }
            MessageBody::InformationVidUtskrivning { discharged_at, .. } => match self.discharged_at {
                Some(recorded) if recorded != *discharged_at && !is_correction => {
                    return Err(Problem::invalid_field(
                        "discharged_at",
                        "discharge_time_differs",
                        "Utskrivningstiden skiljer sig från den som redan är registrerad. Ange samma tid.",
                        "The discharge time differs from the one already recorded.",
                    ));
                }
                _ => self.check_discharge_time(*discharged_at, now)?,
            },
            MessageBody::Allmant { text } => check_text("text", text, true)?,
            // The notice says the referrals no longer needed are cancelled (the agreement's
            // content of step 5); if some stay open, the note says which and why.
            MessageBody::Utskrivningsklar { referrals_cancelled: false, note, .. } if note.trim().is_empty() => {
                return Err(Problem::invalid_field(
                    "referrals_cancelled",
                    "referrals_open",
                    "Bekräfta att remisser och beställningar som inte längre behövs är avbeställda, eller skriv i kommentaren vilka som ligger kvar och varför.",
                    "Confirm that referrals no longer needed are cancelled, or say in the note which remain and why.",
                ));
            }
            MessageBody::Utskrivningsklar { .. } | MessageBody::AvbrottIProcessen { .. } => {}
        }

        if recipients.is_empty() {
            return Err(Problem::invalid_field(
                "recipients",
                "no_recipients",
                "Meddelandet har ingen mottagare. Välj minst en enhet.",
                "The message has no recipients.",
            ));
        }
        if recipients.iter().any(|r| r.id == actor.unit.id) {
            return Err(Problem::invalid_field(
                "recipients",
                "self_recipient",
                "Den egna enheten kan inte vara mottagare.",
                "Your own unit cannot be a recipient.",
            ));
        }
        // Sending to a unit that is not yet part of the case shares patient data beyond it:
        // only the LUS routing itself (notice and its follow-ups) may do that without consent.
        let newcomers: Vec<&UnitRef> = recipients.iter().filter(|r| !self.is_party(r.id)).collect();
        if !body.kind().is_routing() && !newcomers.is_empty() {
            self.consents.require(
                &[ConsentKind::InformationSharing],
                &format!("skicka till {}, som inte deltar i ärendet", newcomers[0].name),
                "send to a unit that is not a party to the case",
            )?;
        }

        let mut events = Vec::with_capacity(2 + recipients.len());
        let delivered: Vec<UnitId> = recipients.iter().map(|r| r.id).collect();
        let cancel = if let MessageBody::AvbrottIProcessen { reason, note } = &body {
            Some((*reason, note.clone()))
        } else {
            None
        };
        events.push(CaseEvent::MessageSent {
            message: Message { id: message_id, sender: actor.unit.clone(), recipients, body, corrects },
        });
        // Recipients inside Samverka have the message in their inbox the moment it is stored.
        events.extend(delivered.into_iter().map(|unit| CaseEvent::MessageDelivered { message_id, unit }));
        if let Some((reason, note)) = cancel {
            events.push(CaseEvent::CaseCancelled { reason, note });
        }
        Ok(events)
    }

    fn check_estimate(&self, estimate: Date, now: Timestamp) -> Result<(), Problem> {
        check_planned_date("estimated_discharge", estimate, Date::MIN, local_date(now))?;
        if estimate < local_date(self.admitted_at) {
            return Err(Problem::invalid_field(
                "estimated_discharge",
                "before_admission",
                "Beräknat utskrivningsdatum kan inte ligga före inskrivningsdagen.",
                "The estimated discharge date cannot precede the admission date.",
            ));
        }
        Ok(())
    }
}
