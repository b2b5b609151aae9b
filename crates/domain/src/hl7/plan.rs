//! What an ADT message means for Samverka: open a draft, move, discharge, undo, or nothing.
//! Decided from the message and what Samverka already knows, with no I/O, so every rule has a
//! plain test. The shell carries the plan out through the same commands users give.

use jiff::Timestamp;

use super::adt::{AdtEvent, AdtMessage, Refusal, error_code};
use crate::actor::UnitRef;
use crate::case::{Case, Command};
use crate::message::CancelReason;
use crate::org::CareType;
use crate::patient::validate_name;

/// Which admissions open a draft case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DraftPolicy {
    /// Only patients flagged for follow-up: by the message (the configured flag field) or
    /// by Samverka (an open case after an earlier discharge, or a SIP in force).
    #[default]
    Flagged,
    /// Every inpatient admission to a ward Samverka knows.
    AllInpatients,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub drafts: DraftPolicy,
    /// A04 (register) and A05 (pre-admit) count as admissions only when listed here.
    pub admission_events: Vec<AdtEvent>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { drafts: DraftPolicy::Flagged, admission_events: vec![AdtEvent::Admit] }
    }
}

/// What Samverka knows that bears on the message.
#[derive(Debug, Clone, Copy)]
pub struct Situation<'a> {
    pub patient_known: bool,
    /// The patient has a SIP in force in Samverka.
    pub in_joint_care: bool,
    /// The patient's newest open case, if any: still in hospital, or discharged and followed
    /// up under a SIP.
    pub open_case: Option<&'a Case>,
    /// The ward PV1-3 names, if Samverka knows it, and its kind of care.
    pub ward: Option<(&'a UnitRef, CareType)>,
}

#[derive(Debug, Clone)]
pub enum Plan {
    /// Open a draft case at the ward (registering the patient first if Samverka does not know
    /// them).
    OpenDraft { ward: UnitRef, care_type: CareType, admitted_at: Timestamp },
    /// A command on the open case, given as the ward.
    Execute(Command),
    /// The patient's name changed (A08).
    UpdateNames { given_name: String, family_name: String },
    /// Accepted, nothing to do; the reason is kept with the message.
    Nothing { sv: String, en: String },
}

fn nothing(sv: impl Into<String>, en: impl Into<String>) -> Plan {
    Plan::Nothing { sv: sv.into(), en: en.into() }
}

fn unknown_ward(msg: &AdtMessage) -> Refusal {
    let loc = &msg.visit.location;
    if loc.is_empty() {
        return Refusal::error(
            error_code::REQUIRED_FIELD_MISSING,
            Some("PV1-3"),
            "Vårdenhet saknas i PV1-3.",
            "PV1-3 (assigned location) is missing.",
        );
    }
    Refusal::error(
        error_code::TABLE_VALUE_NOT_FOUND,
        Some("PV1-3"),
        format!(
            "Vårdenheten \"{loc}\" (PV1-3) är inte kopplad till någon vårdavdelning i Samverka. Administratören \
             kopplar den i inställningarna ([mllp.locations]) och skickar sedan om meddelandet."
        ),
        format!("Location \"{loc}\" (PV1-3) is not mapped to a Samverka ward."),
    )
}

pub fn plan(msg: &AdtMessage, s: &Situation<'_>, settings: &Settings) -> Result<Plan, Refusal> {
    let case = s.open_case;
    match msg.event {
        AdtEvent::Admit | AdtEvent::Register | AdtEvent::PreAdmit => {
            if !settings.admission_events.contains(&msg.event) {
                return Ok(nothing(
                    format!("ADT^{} räknas inte som inskrivning i den här installationen.", msg.header.trigger),
                    format!("ADT^{} does not count as an admission here.", msg.header.trigger),
                ));
            }
            let class = msg.visit.patient_class.as_str();
            if !class.is_empty() && class != "I" {
                return Ok(nothing(
                    format!("Patientklass \"{class}\" (PV1-2) är inte slutenvård."),
                    format!("Patient class \"{class}\" is not inpatient care."),
                ));
            }
            let (ward, care_type) = s.ward.ok_or_else(|| unknown_ward(msg))?;
            let at = msg.visit.admitted_at.unwrap_or(msg.occurred_at);
            // Still in hospital on an open case: the same stay, perhaps on another ward. A
            // case past discharge (the SIP track) means a new stay and a new case.
            if let Some(case) = case.filter(|c| c.discharged_at.is_none()) {
                return Ok(if case.ward().id == ward.id {
                    nothing("Patienten har redan ett öppet ärende på avdelningen.", "The case is already open.")
                } else {
                    Plan::Execute(Command::TransferPatient { to_ward: ward.clone(), care_type, at })
                });
            }
            let flagged =
                settings.drafts == DraftPolicy::AllInpatients || msg.flagged || s.in_joint_care || case.is_some();
            if !flagged {
                return Ok(nothing(
                    "Patienten är inte markerad för uppföljning efter utskrivning; inget ärende öppnas.",
                    "The patient is not flagged for follow-up; no case is opened.",
                ));
            }
            if !s.patient_known {
                if msg.patient.kommun.is_none() {
                    return Err(Refusal::error(
                        error_code::REQUIRED_FIELD_MISSING,
                        Some("PID-11"),
                        "Folkbokföringskommun saknas (PID-11.9 eller PID-12). Den behövs för att veta vilken kommun \
                         som ska underrättas.",
                        "The municipality of residence (PID-11.9 or PID-12) is missing.",
                    ));
                }
                for (field, value) in [("PID-5.2", &msg.patient.given_name), ("PID-5.1", &msg.patient.family_name)] {
                    validate_name(field, value).map_err(|p| {
                        Refusal::error(error_code::REQUIRED_FIELD_MISSING, Some("PID-5"), p.message_sv, p.message_en)
                    })?;
                }
            }
            Ok(Plan::OpenDraft { ward: ward.clone(), care_type, admitted_at: at })
        }
        AdtEvent::Transfer => {
            let Some(case) = case else {
                return Ok(nothing("Patienten har inget öppet ärende i Samverka.", "No open case."));
            };
            if case.discharged_at.is_some() {
                return Ok(nothing("Patienten är redan utskriven i Samverka.", "Already discharged."));
            }
            let (ward, care_type) = s.ward.ok_or_else(|| unknown_ward(msg))?;
            if case.ward().id == ward.id {
                return Ok(nothing("Patienten ligger redan på avdelningen.", "Already on that ward."));
            }
            Ok(Plan::Execute(Command::TransferPatient { to_ward: ward.clone(), care_type, at: msg.occurred_at }))
        }
        AdtEvent::Discharge => match case {
            Some(c) if c.discharged_at.is_none() => {
                Ok(Plan::Execute(Command::RecordDischarge { at: msg.visit.discharged_at.unwrap_or(msg.occurred_at) }))
            }
            Some(_) => Ok(nothing("Utskrivningen är redan registrerad.", "The discharge is already recorded.")),
            None => Ok(nothing("Patienten har inget öppet ärende i Samverka.", "No open case.")),
        },
        AdtEvent::CancelDischarge => match case {
            Some(c) if c.discharged_at.is_some() => Ok(Plan::Execute(Command::CancelDischarge {
                note: format!("Makulerad i journalsystemet (ADT^A13, {}).", msg.header.control_id),
            })),
            _ => Ok(nothing("Det finns ingen registrerad utskrivning att ångra.", "No discharge to cancel.")),
        },
        AdtEvent::CancelAdmit => match case {
            Some(c) if c.awaiting_assessment => Ok(Plan::Execute(Command::DismissDraft {
                reason: CancelReason::AdmissionCancelled,
                note: format!("ADT^A11, {}.", msg.header.control_id),
            })),
            Some(_) => Ok(nothing(
                "Ärendet är redan påbörjat; avdelningen avgör om processen ska avbrytas.",
                "The case has started; the ward decides whether to cancel it.",
            )),
            None => Ok(nothing("Patienten har inget öppet ärende i Samverka.", "No open case.")),
        },
        AdtEvent::Update => {
            if !s.patient_known {
                return Ok(nothing("Patienten finns inte i Samverka.", "Unknown patient."));
            }
            let (given, family) = (&msg.patient.given_name, &msg.patient.family_name);
            if given.is_empty() || family.is_empty() {
                return Ok(nothing("Inget namn att uppdatera.", "No name to update."));
            }
            for (field, value) in [("PID-5.2", given), ("PID-5.1", family)] {
                validate_name(field, value)
                    .map_err(|p| Refusal::error(error_code::DATA_TYPE, Some("PID-5"), p.message_sv, p.message_en))?;
            }
            Ok(Plan::UpdateNames { given_name: given.clone(), family_name: family.clone() })
        }
    }
}
