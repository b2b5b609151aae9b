//! What can be done to a case, named without the details a form fills in: "send the ready
//! notice", "acknowledge this message", "draw up the SIP". [`crate::case::Case::available`]
//! lists the actions an actor may take now, from the same checks [`crate::case::Case::decide`]
//! makes, so a page, the JSON API or FHIR offers exactly what will be accepted.

use serde::{Deserialize, Serialize};

use crate::access::Permission;
use crate::consent::ConsentId;
use crate::message::{MessageId, MessageKind};

/// One thing an actor can do to a case. Actions on one message or one consent name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Send a message of this kind; with `corrects`, a correction of that earlier message.
    Send {
        kind: MessageKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
        corrects: Option<MessageId>,
    },
    OpenMessage {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        message_id: MessageId,
    },
    Acknowledge {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        message_id: MessageId,
    },
    MarkMisSent {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        message_id: MessageId,
    },
    Forward {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        message_id: MessageId,
    },
    Transfer,
    RecordDischarge,
    CancelDischarge,
    ConfirmNeeds,
    DismissDraft,
    AddParty,
    RecordConsent,
    WithdrawConsent {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        consent_id: ConsentId,
    },
    DrawUpSip,
    FollowUpSip,
    /// Record a screening: frailty, the need for coordination.
    RecordScreening,
    /// Record what a joint round said about the person.
    RecordRoundNote,
    /// Mark an action from a round done (its unit).
    CompleteRoundAction {
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        action_id: crate::round::RoundActionId,
    },
    Close,
    /// After discharge, let the SIP go on in a coordination at home (closes this case).
    ContinueAtHome,
}

impl Action {
    /// Sending a new message of `kind`.
    pub const fn send(kind: MessageKind) -> Action {
        Action::Send { kind, corrects: None }
    }

    /// The permission the actor's role must carry.
    pub fn permission(&self) -> Permission {
        match self {
            Action::Send { kind, .. } => match kind {
                MessageKind::Inskrivningsmeddelande
                | MessageKind::AndratUtskrivningsdatum
                | MessageKind::Utskrivningsklar
                | MessageKind::AtertagenUtskrivningsklar
                | MessageKind::InformationVidUtskrivning
                | MessageKind::AvbrottIProcessen => Permission::SendWardNotices,
                MessageKind::FastVardkontakt => Permission::AppointFastVardkontakt,
                MessageKind::KallelseSip => Permission::WorkWithSip,
                MessageKind::Planeringsunderlag | MessageKind::Allmant => Permission::HandleMessages,
            },
            Action::OpenMessage { .. } => Permission::ReadPatientData,
            Action::Acknowledge { .. } | Action::MarkMisSent { .. } | Action::Forward { .. } | Action::Close => {
                Permission::HandleMessages
            }
            Action::Transfer
            | Action::RecordDischarge
            | Action::CancelDischarge
            | Action::ConfirmNeeds
            | Action::DismissDraft => Permission::RegisterAdmission,
            Action::AddParty => Permission::ShareCase,
            Action::RecordConsent | Action::WithdrawConsent { .. } => Permission::RecordConsent,
            Action::DrawUpSip
            | Action::FollowUpSip
            | Action::RecordScreening
            | Action::RecordRoundNote
            | Action::CompleteRoundAction { .. }
            | Action::ContinueAtHome => Permission::WorkWithSip,
        }
    }
}

/// What checking an action against a case found, when it is not refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The action would change the case.
    Allowed,
    /// It has been done already (a message opened twice, a consent withdrawn twice): asking
    /// again changes nothing and is not an error, so retries are safe.
    AlreadyDone,
}
