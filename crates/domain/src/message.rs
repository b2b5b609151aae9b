//! Messages between units: the typed LUS messages and the free "allmänt meddelande", each with
//! per-recipient receipts kept as separate facts (delivered, opened, acknowledged).

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::actor::{Stamp, UnitRef};
use crate::org::UnitId;

pub type MessageId = Uuid;

/// Why a case is ended early (avbrott i processen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// The case was opened for the wrong patient or sent to the wrong place.
    MisSent,
    PatientDied,
    /// Moved to other inpatient care (another region, psychiatric care...).
    OtherInpatientCare,
    /// The patient no longer needs care from the municipality or primary care after discharge.
    NoLongerNeeded,
    /// The admission itself was cancelled in the hospital's record system (HL7 A11).
    AdmissionCancelled,
}

impl CancelReason {
    pub fn label_sv(self) -> &'static str {
        match self {
            CancelReason::MisSent => "felaktigt skickat",
            CancelReason::PatientDied => "patienten har avlidit",
            CancelReason::OtherInpatientCare => "flyttad till annan slutenvård",
            CancelReason::NoLongerNeeded => "behov av insatser efter utskrivning finns inte längre",
            CancelReason::AdmissionCancelled => "inskrivningen är makulerad i journalsystemet",
        }
    }
}

/// The content of each message type (see the domain's "Messages" and the eight steps).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MessageBody {
    /// Step 1. Name, identity and address come from the patient record at the time of sending.
    Inskrivningsmeddelande {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        estimated_discharge: Date,
        #[serde(default)]
        note: String,
    },
    /// A changed estimate, sent again "as soon as possible".
    AndratUtskrivningsdatum {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        estimated_discharge: Date,
        #[serde(default)]
        note: String,
    },
    /// Step 2: the vårdcentral names the patient's fast vårdkontakt.
    FastVardkontakt {
        name: String,
        role: String,
        phone: String,
        #[serde(default)]
        note: String,
    },
    /// Step 3: planning information.
    Planeringsunderlag {
        #[serde(default)]
        needs: String,
        #[serde(default)]
        function: String,
        #[serde(default)]
        current_insatser: String,
        #[serde(default)]
        assessments: String,
        /// Whether the patient will need insatser from both principals, i.e. a SIP.
        #[serde(default)]
        sip_needed: Option<bool>,
    },
    /// Step 5: the patient is ready for discharge (utskrivningsklar) from the moment it is sent.
    Utskrivningsklar {
        #[serde(default)]
        referrals_cancelled: bool,
        #[serde(default)]
        sip_needed: Option<bool>,
        #[serde(default)]
        note: String,
    },
    /// Step 5, withdrawn: the patient is no longer ready.
    AtertagenUtskrivningsklar { reason: String },
    /// Step 4: call to a SIP meeting.
    KallelseSip {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
        meeting_at: Timestamp,
        place: String,
        #[serde(default)]
        participants: Vec<String>,
        patient_invited: bool,
        relatives_invited: bool,
        #[serde(default)]
        note: String,
    },
    /// Step 6: information at discharge.
    InformationVidUtskrivning {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
        discharged_at: Timestamp,
        #[serde(default)]
        medication: String,
        #[serde(default)]
        aids: String,
        #[serde(default)]
        information_to_patient: String,
        #[serde(default)]
        note: String,
    },
    /// The process is broken off.
    AvbrottIProcessen {
        reason: CancelReason,
        #[serde(default)]
        note: String,
    },
    /// Free message (chat) between the parties.
    Allmant { text: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Inskrivningsmeddelande,
    AndratUtskrivningsdatum,
    FastVardkontakt,
    Planeringsunderlag,
    Utskrivningsklar,
    AtertagenUtskrivningsklar,
    KallelseSip,
    InformationVidUtskrivning,
    AvbrottIProcessen,
    Allmant,
}

impl MessageKind {
    pub const ALL: [MessageKind; 10] = [
        MessageKind::Inskrivningsmeddelande,
        MessageKind::AndratUtskrivningsdatum,
        MessageKind::FastVardkontakt,
        MessageKind::Planeringsunderlag,
        MessageKind::Utskrivningsklar,
        MessageKind::AtertagenUtskrivningsklar,
        MessageKind::KallelseSip,
        MessageKind::InformationVidUtskrivning,
        MessageKind::AvbrottIProcessen,
        MessageKind::Allmant,
    ];

    /// The LUS routing itself (the notice and what follows it), which may reach units not yet
    /// part of the case without the patient's consent to sharing.
    pub fn is_routing(self) -> bool {
        matches!(
            self,
            MessageKind::Inskrivningsmeddelande
                | MessageKind::AndratUtskrivningsdatum
                | MessageKind::Utskrivningsklar
                | MessageKind::InformationVidUtskrivning
                | MessageKind::AvbrottIProcessen
        )
    }

    pub fn label_sv(self) -> &'static str {
        match self {
            MessageKind::Inskrivningsmeddelande => "Inskrivningsmeddelande",
            MessageKind::AndratUtskrivningsdatum => "Ändrat beräknat utskrivningsdatum",
            MessageKind::FastVardkontakt => "Fast vårdkontakt utsedd",
            MessageKind::Planeringsunderlag => "Planeringsunderlag",
            MessageKind::Utskrivningsklar => "Meddelande om utskrivningsklar",
            MessageKind::AtertagenUtskrivningsklar => "Återtagen utskrivningsklar",
            MessageKind::KallelseSip => "Kallelse till SIP",
            MessageKind::InformationVidUtskrivning => "Information vid utskrivning",
            MessageKind::AvbrottIProcessen => "Avbrott i processen",
            MessageKind::Allmant => "Allmänt meddelande",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Inskrivningsmeddelande => "inskrivningsmeddelande",
            MessageKind::AndratUtskrivningsdatum => "andrat_utskrivningsdatum",
            MessageKind::FastVardkontakt => "fast_vardkontakt",
            MessageKind::Planeringsunderlag => "planeringsunderlag",
            MessageKind::Utskrivningsklar => "utskrivningsklar",
            MessageKind::AtertagenUtskrivningsklar => "atertagen_utskrivningsklar",
            MessageKind::KallelseSip => "kallelse_sip",
            MessageKind::InformationVidUtskrivning => "information_vid_utskrivning",
            MessageKind::AvbrottIProcessen => "avbrott_i_processen",
            MessageKind::Allmant => "allmant",
        }
    }
}

impl MessageBody {
    pub fn kind(&self) -> MessageKind {
        match self {
            MessageBody::Inskrivningsmeddelande { .. } => MessageKind::Inskrivningsmeddelande,
            MessageBody::AndratUtskrivningsdatum { .. } => MessageKind::AndratUtskrivningsdatum,
            MessageBody::FastVardkontakt { .. } => MessageKind::FastVardkontakt,
            MessageBody::Planeringsunderlag { .. } => MessageKind::Planeringsunderlag,
            MessageBody::Utskrivningsklar { .. } => MessageKind::Utskrivningsklar,
            MessageBody::AtertagenUtskrivningsklar { .. } => MessageKind::AtertagenUtskrivningsklar,
            MessageBody::KallelseSip { .. } => MessageKind::KallelseSip,
            MessageBody::InformationVidUtskrivning { .. } => MessageKind::InformationVidUtskrivning,
            MessageBody::AvbrottIProcessen { .. } => MessageKind::AvbrottIProcessen,
            MessageBody::Allmant { .. } => MessageKind::Allmant,
        }
    }

    /// The free text fields, for length and content checks.
    pub fn texts(&self) -> Vec<(&'static str, &str)> {
        match self {
            MessageBody::Inskrivningsmeddelande { note, .. } | MessageBody::AndratUtskrivningsdatum { note, .. } => {
                vec![("note", note)]
            }
            MessageBody::FastVardkontakt { name, role, phone, note } => {
                vec![("name", name), ("role", role), ("phone", phone), ("note", note)]
            }
            MessageBody::Planeringsunderlag { needs, function, current_insatser, assessments, .. } => vec![
                ("needs", needs),
                ("function", function),
                ("current_insatser", current_insatser),
                ("assessments", assessments),
            ],
            MessageBody::Utskrivningsklar { note, .. } => vec![("note", note)],
            MessageBody::AtertagenUtskrivningsklar { reason } => vec![("reason", reason)],
            MessageBody::KallelseSip { place, note, .. } => vec![("place", place), ("note", note)],
            MessageBody::InformationVidUtskrivning { medication, aids, information_to_patient, note, .. } => vec![
                ("medication", medication),
                ("aids", aids),
                ("information_to_patient", information_to_patient),
                ("note", note),
            ],
            MessageBody::AvbrottIProcessen { note, .. } => vec![("note", note)],
            MessageBody::Allmant { text } => vec![("text", text)],
        }
    }
}

/// A message as sent. Never edited: a correction is a new message whose `corrects` names this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: MessageId,
    pub sender: UnitRef,
    pub recipients: Vec<UnitRef>,
    pub body: MessageBody,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub corrects: Option<MessageId>,
}

/// What happened to a message at one recipient unit. Each fact is kept on its own: users want
/// to know not only that a message was opened but that someone has taken it on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Receipt {
    pub unit: UnitRef,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub delivered_at: Option<Timestamp>,
    pub opened: Option<Stamp>,
    pub acknowledged: Option<Stamp>,
    pub mis_sent: Option<MisSent>,
    /// Units within the same organisation this recipient forwarded the message to.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>, format = Uuid))]
    pub forwarded_to: Vec<UnitId>,
    /// Set when this receipt exists because another unit forwarded the message here.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub forwarded_from: Option<UnitId>,
}

impl Receipt {
    pub fn new(unit: UnitRef) -> Self {
        Self {
            unit,
            delivered_at: None,
            opened: None,
            acknowledged: None,
            mis_sent: None,
            forwarded_to: vec![],
            forwarded_from: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MisSent {
    pub stamp: Stamp,
    pub reason: String,
}

/// A message with its receipts, as part of a case's derived state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageState {
    pub message: Message,
    pub sent: Stamp,
    /// One receipt per recipient unit, in the order they received the message.
    pub receipts: Vec<Receipt>,
    /// Messages that correct this one.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>, format = Uuid))]
    pub corrected_by: Vec<MessageId>,
}

impl MessageState {
    pub fn receipt(&self, unit: UnitId) -> Option<&Receipt> {
        self.receipts.iter().find(|r| r.unit.id == unit)
    }

    pub fn receipt_mut(&mut self, unit: UnitId) -> Option<&mut Receipt> {
        self.receipts.iter_mut().find(|r| r.unit.id == unit)
    }
}
