//! What the API answers with, built from the domain's state. Protected identities lose their
//! address here, so no handler can forget it.

use jiff::Timestamp;
use samverka_domain::action::Action;
use samverka_domain::actor::Actor;
use samverka_domain::agreement::Agreement;
use samverka_domain::case::{Case, Phase, StepStatus};
use samverka_domain::deadlines::{Deadline, countdown_sv, deadlines};
use samverka_domain::org::UnitId;
use samverka_domain::patient::{Address, Patient, PatientId, ProtectedIdentity};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct PatientView {
    #[schema(value_type = String, format = Uuid)]
    pub id: PatientId,
    /// `personnummer`, `samordningsnummer` or `reservnummer`.
    pub identifier_kind: String,
    /// As shown on screen, e.g. `19380407-9828`.
    pub identifier: String,
    pub given_name: String,
    pub family_name: String,
    /// Folkbokföringskommun (SCB kommunkod).
    pub kommun: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub listed_unit: Option<UnitId>,
    pub protection: ProtectedIdentity,
    /// True for 01003 sekretessmarkering and 01020 skyddad folkbokföring: show the marking.
    pub protected: bool,
    /// Never present for a protected identity.
    pub address: Option<Address>,
}

impl PatientView {
    pub fn of(p: &Patient) -> Self {
        PatientView {
            id: p.id,
            identifier_kind: p.identifier.kind().to_string(),
            identifier: p.identifier.display(),
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
            kommun: p.kommun.as_str().to_string(),
            listed_unit: p.listed_unit,
            protection: p.protection,
            protected: p.protection.is_protected(),
            address: p.visible_address().cloned(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlineView {
    pub deadline: Deadline,
    /// "om 3 timmar", "försenad 2 dygn"; empty once met.
    pub countdown_sv: String,
}

impl DeadlineView {
    pub fn of(deadline: Deadline, now: Timestamp) -> Self {
        let countdown_sv = if deadline.met_at.is_some() { String::new() } else { countdown_sv(deadline.due, now) };
        DeadlineView { deadline, countdown_sv }
    }
}

/// A case as a party sees it: the derived state, the eight steps and the deadlines as of now.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
    pub agreement_id: String,
    pub phase: Phase,
    pub phase_label_sv: String,
    pub patient: PatientView,
    pub steps: Vec<StepStatus>,
    pub deadlines: Vec<DeadlineView>,
    /// What the caller may do to the case now ([`Case::available`]): each one the case will
    /// accept, given a well-filled request.
    pub available: Vec<Action>,
    #[schema(value_type = Case)]
    pub state: std::sync::Arc<Case>,
}

impl CaseView {
    pub fn of(
        case: std::sync::Arc<Case>,
        agreement_id: String,
        agreement: &Agreement,
        patient: &Patient,
        viewer: &Actor,
        now: Timestamp,
    ) -> Self {
        CaseView {
            available: case.available(viewer, now),
            id: case.id,
            agreement_id,
            phase: case.phase(),
            phase_label_sv: case.phase().label_sv().to_string(),
            patient: PatientView::of(patient),
            steps: case.steps(),
            deadlines: deadlines(&case, agreement, now).into_iter().map(|d| DeadlineView::of(d, now)).collect(),
            state: case,
        }
    }
}
