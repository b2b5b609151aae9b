//! Consent (samtycke) as data: what it covers, who gave it, who recorded it, and when it was
//! withdrawn. Actions that need consent ask [`Consents::active`] and are refused without it.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::actor::Stamp;
use crate::error::{Problem, ProblemKind};

pub type ConsentId = Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentKind {
    /// Sharing information with units beyond those the LUS process itself involves.
    InformationSharing,
    /// Calling a SIP meeting (step 4).
    SipCall,
    /// Drawing up the SIP (step 7).
    Sip,
}

impl ConsentKind {
    pub fn label_sv(self) -> &'static str {
        match self {
            ConsentKind::InformationSharing => "samtycke till informationsöverföring",
            ConsentKind::SipCall => "samtycke till kallelse till SIP",
            ConsentKind::Sip => "samtycke till SIP",
        }
    }
}

/// Who gave consent: the person, or someone entitled to speak for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConsentGiver {
    Patient,
    /// E.g. god man, förvaltare or närstående with a power of attorney.
    Representative {
        name: String,
        relation: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentRecord {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: ConsentId,
    pub kind: ConsentKind,
    pub given_by: ConsentGiver,
    /// When the person gave consent (may be before it was recorded).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub given_at: Timestamp,
    pub recorded: Stamp,
    #[serde(default)]
    pub note: String,
    pub withdrawn: Option<Stamp>,
}

/// The consent records of one case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consents(pub Vec<ConsentRecord>);

impl Consents {
    pub fn active(&self, kind: ConsentKind) -> Option<&ConsentRecord> {
        self.0.iter().rev().find(|c| c.kind == kind && c.withdrawn.is_none())
    }

    /// The person's withdrawn consent to information sharing, while no newer one is active: from
    /// then on nothing is sent between the units of the case (see `Case::check_send`).
    pub fn sharing_withdrawn(&self) -> Option<&ConsentRecord> {
        if self.active(ConsentKind::InformationSharing).is_some() {
            return None;
        }
        self.0.iter().rev().find(|c| c.kind == ConsentKind::InformationSharing && c.withdrawn.is_some())
    }

    pub fn get(&self, id: ConsentId) -> Option<&ConsentRecord> {
        self.0.iter().find(|c| c.id == id)
    }

    /// Refuses with a message naming the missing consent, for actions that need one of `kinds`.
    pub fn require(&self, kinds: &[ConsentKind], action_sv: &str, action_en: &str) -> Result<(), Problem> {
        if kinds.iter().any(|k| self.active(*k).is_some()) {
            return Ok(());
        }
        let withdrawn = self.0.iter().any(|c| kinds.contains(&c.kind) && c.withdrawn.is_some());
        let what = kinds[0].label_sv();
        let sv = if withdrawn {
            format!(
                "Det går inte att {action_sv}: patientens {what} har återkallats. Registrera ett nytt samtycke om patienten ger det igen."
            )
        } else {
            format!("Det går inte att {action_sv} utan {what}. Fråga patienten och registrera samtycket först.")
        };
        let en = format!("Cannot {action_en}: the patient's consent ({kinds:?}) is missing or withdrawn.");
        Err(Problem::new(ProblemKind::ConsentRequired, "consent_required", sv, en))
    }
}
