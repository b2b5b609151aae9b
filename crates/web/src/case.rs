//! The case page and everything done from it: messages of every kind, receipts, consent,
//! moves, discharge, closing, emergency access; and registering a new admission.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use samverka_domain::access::{Permission, permits};
use samverka_domain::action::Action;
use samverka_domain::calendar::{STOCKHOLM, local_date};
use samverka_domain::case::{Case, CaseEvent, CaseId, Command, RecordedEvent};
use samverka_domain::consent::{ConsentGiver, ConsentKind};
use samverka_domain::deadlines::{DeadlineKind, DeadlineStatus, deadlines};
use samverka_domain::liability::{LiabilityFacts, case_liability};
use samverka_domain::message::{CancelReason, MessageBody, MessageKind, MessageState};
use samverka_domain::org::{CareType, UnitId, UnitKind};
use samverka_domain::patient::{Address, Patient, ProtectedIdentity};
use samverka_domain::screening::{CoordinationNeed, Frailty, Screening};
use samverka_store::CaseRecord;
use uuid::Uuid;

use crate::page::countdown;
use crate::page::{Frame, WebCaller, error_page, error_text, html, see_other};
use samverka_app::AppState;
use samverka_app::auth::Caller;
use samverka_app::cases::{OpenCaseRequest, execute, execute_all, read_case, resolve_unit, send};
use samverka_app::error::{AppError, AppResult};
use samverka_app::extract::ApiPath;
use samverka_app::patients::NewPatientRequest;
use samverka_app::texts::Texts;
use samverka_app::views::PatientView;

pub struct ReceiptRow {
    pub unit: String,
    pub delivered: String,
    pub opened: String,
    pub acknowledged: String,
    pub mis_sent: String,
    pub forwarded_from: bool,
}

pub struct MessageView {
    pub id: String,
    pub kind: String,
    pub sender: String,
    pub author: String,
    pub sent: String,
    pub sent_iso: String,
    pub fields: Vec<(String, String)>,
    pub corrected: bool,
    pub correction: bool,
    pub receipts: Vec<ReceiptRow>,
    /// The viewer's unit is a recipient and may still acknowledge.
    pub can_acknowledge: bool,
    /// The viewer's unit is a recipient and may mark the message mis-sent.
    pub can_mis_send: bool,
    /// The viewer's unit is a recipient and may forward it within its organisation.
    pub can_forward: bool,
    /// The viewer's unit sent it and may send a correction.
    pub can_correct: bool,
}

pub struct StepRow {
    pub label: String,
    pub done: String,
    pub not_needed: bool,
}

pub struct DeadlineRow {
    pub what: String,
    pub owner: String,
    pub due: String,
    pub due_iso: String,
    pub state: String,
    pub class: &'static str,
    pub countdown: String,
    pub rule: String,
    /// Where the caller does it: the form on this page, or the SIP editor; empty when the
    /// step is not the caller's to take now.
    pub link: String,
}

pub struct TimelineRow {
    pub when: String,
    pub who: String,
    pub text: String,
}

pub struct ConsentRow {
    pub id: String,
    /// The viewer may withdraw it (it is not withdrawn already).
    pub can_withdraw: bool,
    pub kind: String,
    pub given_by: String,
    pub given_at: String,
    pub recorded: String,
    pub withdrawn: String,
}

/// What the person said in their case, as the staff page shows it.
pub struct PersonWords {
    pub id: String,
    pub kind: String,
    /// (label, text) of each part written.
    pub parts: Vec<(String, String)>,
    pub by: String,
    pub at: String,
    /// Units that have read it: "Biståndsenheten Solna (Bo Berg) 3 nov kl. 10.00".
    pub read_by: Vec<String>,
    /// Units where someone has opened it but nobody has marked it read.
    pub opened_by: Vec<String>,
    /// The viewer's unit takes part and has not marked it read.
    pub can_mark_read: bool,
}

/// Someone who represents the person, as the staff page lists them.
pub struct RepresentativeView {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub sees: String,
    /// Who registered or invited, and until when, or how it ended.
    pub state: String,
    pub in_force: bool,
}

/// What the viewer may do here, read from [`Case::available`], so the page offers exactly the
/// forms the case will accept. Per-message and per-consent actions are on their rows.
pub struct Can {
    pub notice: bool,
    pub changed_date: bool,
    pub ready: bool,
    pub withdraw_ready: bool,
    pub discharge_info: bool,
    pub cancel: bool,
    pub appoint_fvk: bool,
    pub planning: bool,
    pub sip_call: bool,
    /// A SIP call waits only for the patient's consent: the page says so and where to record it.
    pub sip_call_needs_consent: bool,
    pub free_message: bool,
    pub share: bool,
    pub consent: bool,
    /// Draw up or follow up the SIP (the editor does both).
    pub sip: bool,
    pub transfer: bool,
    pub discharge: bool,
    pub undo_discharge: bool,
    pub confirm_needs: bool,
    pub dismiss_draft: bool,
    pub close: bool,
    pub screening: bool,
    /// After discharge, let the SIP go on at home.
    pub continue_at_home: bool,
}

impl Can {
    fn of(case: &Case, actor: &samverka_domain::actor::Actor, now: Timestamp, available: &[Action]) -> Can {
        let has = |a: Action| available.contains(&a);
        let send = |k: MessageKind| has(Action::send(k));
        Can {
            notice: send(MessageKind::Inskrivningsmeddelande),
            changed_date: send(MessageKind::AndratUtskrivningsdatum),
            ready: send(MessageKind::Utskrivningsklar),
            withdraw_ready: send(MessageKind::AtertagenUtskrivningsklar),
            discharge_info: send(MessageKind::InformationVidUtskrivning),
            cancel: send(MessageKind::AvbrottIProcessen),
            appoint_fvk: send(MessageKind::FastVardkontakt),
            planning: send(MessageKind::Planeringsunderlag),
            sip_call: send(MessageKind::KallelseSip),
            sip_call_needs_consent: case
                .check(actor, &Action::send(MessageKind::KallelseSip), now)
                .is_err_and(|p| p.kind == samverka_domain::ProblemKind::ConsentRequired),
            free_message: send(MessageKind::Allmant),
            share: has(Action::AddParty),
            consent: has(Action::RecordConsent),
            sip: has(Action::DrawUpSip) || has(Action::FollowUpSip),
            transfer: has(Action::Transfer),
            discharge: has(Action::RecordDischarge),
            undo_discharge: has(Action::CancelDischarge),
            confirm_needs: has(Action::ConfirmNeeds),
            dismiss_draft: has(Action::DismissDraft),
            close: has(Action::Close),
            screening: has(Action::RecordScreening),
            continue_at_home: has(Action::ContinueAtHome),
        }
    }

    /// Whether any message can be written here.
    pub fn write(&self) -> bool {
        self.notice
            || self.changed_date
            || self.ready
            || self.withdraw_ready
            || self.discharge_info
            || self.cancel
            || self.appoint_fvk
            || self.planning
            || self.sip_call
            || self.free_message
    }
}

#[derive(Template)]
#[template(path = "case.html")]
pub struct CasePage {
    pub frame: Frame,
    pub id: String,
    pub patient: PatientView,
    pub address: Option<Address>,
    pub kommun: String,
    pub listed: String,
    pub phase: String,
    pub ward: String,
    pub admitted: String,
    /// For a coordination at home, why it was started.
    pub home: Option<String>,
    /// Cases linked with this one that the viewer's unit takes part in.
    pub links: Vec<LinkRow>,
    pub estimate: String,
    pub emergency: bool,
    /// Why nothing more is sent in the case: the person withdrew consent to sharing.
    pub sharing_withdrawn: Option<String>,
    pub next: Vec<DeadlineRow>,
    pub steps: Vec<StepRow>,
    pub deadlines: Vec<DeadlineRow>,
    pub messages: Vec<MessageView>,
    pub timeline: Vec<TimelineRow>,
    pub consents: Vec<ConsentRow>,
    /// What the person said in their own words (on their own pages).
    pub person_words: Vec<PersonWords>,
    pub representatives: Vec<RepresentativeView>,
    pub sip_status: String,
    pub sip_version: u32,
    /// Screenings, newest first.
    pub screenings: Vec<crate::screening::ScreeningRow>,
    /// The frailty scale's levels, as (level, wording) for the form.
    pub frailty_levels: Vec<(u8, String)>,
    pub liability: String,
    pub can: Can,
    /// Messages the caller's unit may acknowledge now (with two or more, all at once).
    pub to_acknowledge: usize,
    pub parties: Vec<(String, String)>,
    pub wards: Vec<(String, String)>,
    pub today: String,
    pub now_local: String,
    /// A refused form, drawn again with what was typed and the error beside it.
    pub refused: Option<Refused>,
}

/// A linked case as the page lists it.
pub struct LinkRow {
    pub case_id: String,
    pub text: String,
    pub phase: String,
    pub since: String,
}

/// A form the case refused: which one, what was typed in it, and why.
pub struct Refused {
    /// The form's name: a message's kind, or the action (`samtycke`, `flytt`, …).
    pub form: String,
    pub typed: Pairs,
    /// The field the refusal names, if any.
    pub field: String,
    pub message: String,
}

impl CasePage {
    fn refused_form(&self, form: &str) -> Option<&Refused> {
        self.refused.as_ref().filter(|r| r.form == form)
    }

    /// Whether `form` was the one refused (its section stays open).
    pub fn is_refused(&self, form: &str) -> bool {
        self.refused_form(form).is_some()
    }

    /// What was typed in `name` of the refused `form`; otherwise `default`.
    pub fn typed(&self, form: &str, name: &str, default: &str) -> String {
        match self.refused_form(form) {
            Some(r) => field(&r.typed, name).to_string(),
            None => default.to_string(),
        }
    }

    /// Whether a checkbox is ticked: as it was sent, or `default` on a fresh form.
    pub fn ticked(&self, form: &str, name: &str, default: bool) -> bool {
        self.refused_form(form).map_or(default, |r| checked(&r.typed, name))
    }

    /// Whether a radio button or option with `value` is chosen: as sent, or `default`.
    pub fn chosen(&self, form: &str, name: &str, value: &str, default: bool) -> bool {
        self.refused_form(form).map_or(default, |r| field(&r.typed, name) == value)
    }

    /// Whether one of several checkboxes named `name` was ticked with `value` when sent.
    pub fn listed(&self, form: &str, name: &str, value: &str) -> bool {
        self.refused_form(form).is_some_and(|r| r.typed.iter().any(|(k, v)| k == name && v == value))
    }

    /// Whether the refusal names `name` of `form` (the error is shown beside it).
    pub fn bad(&self, form: &str, name: &str) -> bool {
        self.refused_form(form).is_some_and(|r| r.field == name)
    }

    /// The refusal of `form` when it names none of `fields` (shown at the top of the form).
    pub fn form_error(&self, form: &str, fields: &str) -> String {
        match self.refused_form(form) {
            Some(r) if !fields.split(',').any(|f| f == r.field) => r.message.clone(),
            _ => String::new(),
        }
    }

    /// The refusal's text.
    pub fn error_message(&self) -> &str {
        self.refused.as_ref().map(|r| r.message.as_str()).unwrap_or("")
    }
}

#[derive(Template)]
#[template(path = "case_denied.html")]
pub struct DeniedPage {
    pub frame: Frame,
    pub id: String,
    pub message: String,
    pub may_request: bool,
}

fn yes_no(t: &Texts, b: bool) -> String {
    t.get(if b { "common.yes" } else { "common.no" }).to_string()
}

fn stamp_text(t: &Texts, s: &Option<samverka_domain::actor::Stamp>) -> String {
    s.as_ref().map(|s| format!("{}, {}", s.by.name, t.datetime(&s.at))).unwrap_or_default()
}

/// "Name, kl. 14.05" when on the day of `near`, else with the date.
fn stamp_near(t: &Texts, s: &Option<samverka_domain::actor::Stamp>, near: &Timestamp) -> String {
    s.as_ref().map(|s| format!("{}, {}", s.by.name, t.datetime_near(&s.at, near))).unwrap_or_default()
}

fn unit_name(case: &Case, id: UnitId) -> String {
    case.parties.iter().find(|p| p.unit.id == id).map(|p| p.unit.name.clone()).unwrap_or_default()
}

fn message_fields(t: &Texts, body: &MessageBody) -> Vec<(String, String)> {
    let f = |k: &str, v: String| (t.get(k).to_string(), v);
    let mut out = match body {
        MessageBody::Inskrivningsmeddelande { estimated_discharge, note }
        | MessageBody::AndratUtskrivningsdatum { estimated_discharge, note } => {
            vec![f("field.estimated_discharge", t.date(estimated_discharge)), f("field.note", note.clone())]
        }
        MessageBody::FastVardkontakt { name, role, phone, note } => vec![
            f("field.fvk_name", name.clone()),
            f("field.fvk_role", role.clone()),
            f("field.phone", phone.clone()),
            f("field.note", note.clone()),
        ],
        MessageBody::Planeringsunderlag { needs, function, current_insatser, assessments, sip_needed } => vec![
            f("field.needs", needs.clone()),
            f("field.function", function.clone()),
            f("field.current_insatser", current_insatser.clone()),
            f("field.assessments", assessments.clone()),
            f("field.sip_needed", sip_needed.map(|b| yes_no(t, b)).unwrap_or_default()),
        ],
        MessageBody::Utskrivningsklar { referrals_cancelled, sip_needed, note } => vec![
            f("field.referrals_cancelled", yes_no(t, *referrals_cancelled)),
            f("field.sip_needed", sip_needed.map(|b| yes_no(t, b)).unwrap_or_default()),
            f("field.note", note.clone()),
        ],
        MessageBody::AtertagenUtskrivningsklar { reason } => vec![f("field.reason", reason.clone())],
        MessageBody::KallelseSip { meeting_at, place, participants, patient_invited, relatives_invited, note } => vec![
            f("field.meeting_at", t.datetime(meeting_at)),
            f("field.place", place.clone()),
            f("field.participants", participants.join(", ")),
            f("field.patient_invited", yes_no(t, *patient_invited)),
            f("field.relatives_invited", yes_no(t, *relatives_invited)),
            f("field.note", note.clone()),
        ],
        MessageBody::InformationVidUtskrivning { discharged_at, medication, aids, information_to_patient, note } => {
            vec![
                f("field.discharged_at", t.datetime(discharged_at)),
                f("field.medication", medication.clone()),
                f("field.aids", aids.clone()),
                f("field.information_to_patient", information_to_patient.clone()),
                f("field.note", note.clone()),
            ]
        }
        MessageBody::AvbrottIProcessen { reason, note } => {
            vec![
                f("field.cancel_reason", t.get(&format!("cancel.{}", cancel_key(*reason))).to_string()),
                f("field.note", note.clone()),
            ]
        }
        MessageBody::Allmant { text } => vec![f("field.text", text.clone())],
    };
    out.retain(|(_, v)| !v.trim().is_empty());
    out
}

fn cancel_key(r: CancelReason) -> &'static str {
    match r {
        CancelReason::MisSent => "mis_sent",
        CancelReason::PatientDied => "patient_died",
        CancelReason::OtherInpatientCare => "other_inpatient_care",
        CancelReason::NoLongerNeeded => "no_longer_needed",
        CancelReason::AdmissionCancelled => "admission_cancelled",
    }
}

fn consent_key(k: ConsentKind) -> &'static str {
    match k {
        ConsentKind::InformationSharing => "information_sharing",
        ConsentKind::SipCall => "sip_call",
        ConsentKind::Sip => "sip",
    }
}

/// A message kind's name inside a sentence: "skickade inskrivningsmeddelande", not
/// "skickade Inskrivningsmeddelande" (the names are common nouns; "SIP" keeps its capitals).
fn kind_in_sentence(t: &Texts, kind: MessageKind) -> String {
    let key = format!("message.{}", kind.as_str());
    let mut chars = t.get(&key).chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn describe(t: &Texts, case: &Case, e: &RecordedEvent) -> String {
    let kind_of = |id: Uuid| case.message(id).map(|m| kind_in_sentence(t, m.message.body.kind())).unwrap_or_default();
    match &e.event {
        CaseEvent::CaseOpened { ward, .. } => t.fill("timeline.opened", &[("ward", &ward.name)]),
        CaseEvent::CoordinationStarted { reason, .. } => t.fill("timeline.coordination_started", &[("reason", reason)]),
        CaseEvent::ContinuedAtHome { .. } => t.get("timeline.continued_at_home").to_string(),
        CaseEvent::MessageSent { message } => {
            let to = message.recipients.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ");
            t.fill("timeline.sent", &[("kind", &kind_in_sentence(t, message.body.kind())), ("to", &to)])
        }
        CaseEvent::MessageDelivered { message_id, unit } => {
            t.fill("timeline.delivered", &[("kind", &kind_of(*message_id)), ("unit", &unit_name(case, *unit))])
        }
        CaseEvent::MessageOpened { message_id, .. } => {
            t.fill("timeline.message_opened", &[("kind", &kind_of(*message_id))])
        }
        CaseEvent::MessageAcknowledged { message_id, .. } => {
            t.fill("timeline.acknowledged", &[("kind", &kind_of(*message_id))])
        }
        CaseEvent::MessageMarkedMisSent { message_id, reason, .. } => {
            t.fill("timeline.mis_sent", &[("kind", &kind_of(*message_id)), ("reason", reason)])
        }
        CaseEvent::MessageForwarded { message_id, to, .. } => {
            t.fill("timeline.forwarded", &[("kind", &kind_of(*message_id)), ("unit", &to.name)])
        }
        CaseEvent::PatientTransferred { to_ward, at, .. } => {
            t.fill("timeline.transferred", &[("ward", &to_ward.name), ("at", &t.datetime(at))])
        }
        CaseEvent::DischargeRecorded { at } => t.fill("timeline.discharged", &[("at", &t.datetime(at))]),
        CaseEvent::NeedsAssessed { at } => t.fill("timeline.needs_assessed", &[("at", &t.datetime(at))]),
        CaseEvent::DischargeCancelled { note } => t.fill("timeline.discharge_cancelled", &[("note", note)]),
        CaseEvent::PartyAdded { unit, reason } => {
            t.fill("timeline.party_added", &[("unit", &unit.name), ("reason", reason)])
        }
        CaseEvent::MessageEscalated { message_id, from_unit, to, level, after_minutes } => {
            let wait = t.wait(*after_minutes);
            let key = match level {
                samverka_domain::escalation::Level::Backup => "timeline.escalated_backup",
                samverka_domain::escalation::Level::Leader => "timeline.escalated_leader",
            };
            t.fill(
                key,
                &[
                    ("kind", &kind_of(*message_id)),
                    ("unit", &to.name),
                    ("from", &unit_name(case, *from_unit)),
                    ("wait", &wait),
                ],
            )
        }
        CaseEvent::ConsentRecorded { kind, .. } => {
            t.fill("timeline.consent", &[("kind", t.get(&format!("consent.{}", consent_key(*kind))))])
        }
        CaseEvent::ConsentWithdrawn { .. } => t.get("timeline.consent_withdrawn").to_string(),
        CaseEvent::SipDrawnUp { .. } => t.get("timeline.sip").to_string(),
        CaseEvent::SipFollowedUp { .. } => t.get("timeline.sip_follow_up").to_string(),
        CaseEvent::ScreeningRecorded { screening } => {
            t.fill("timeline.screening", &[("what", &crate::screening::summary(t, screening))])
        }
        CaseEvent::RoundNoteRecorded { note } => {
            t.fill("timeline.round_note", &[("changed", &note.changed), ("review", &note.next_review.to_string())])
        }
        CaseEvent::RoundActionDone { action_id } => t.fill(
            "timeline.round_action_done",
            &[("what", case.rounds.action(*action_id).map(|(a, _)| a.what.as_str()).unwrap_or_default())],
        ),
        CaseEvent::CaseClosed { .. } => t.get("timeline.closed").to_string(),
        CaseEvent::CaseCancelled { reason, .. } => {
            t.fill("timeline.cancelled", &[("reason", t.get(&format!("cancel.{}", cancel_key(*reason))))])
        }
    }
}

/// Builds the page for a case the caller may see.
async fn build(
    st: &AppState,
    w: WebCaller,
    record: CaseRecord,
    patient: Patient,
    emergency: bool,
) -> AppResult<CasePage> {
    let WebCaller { caller, mut frame, .. } = w;
    let t = frame.t;
    let now = st.clock.now();
    let case = &record.case;
    let me = caller.actor.unit.id;
    let agreement =
        st.store.agreements().get(&record.agreement_id).ok_or_else(|| AppError::not_found("Överenskommelsen"))?;
    let available = case.available(&caller.actor, now);
    let link = |kind: DeadlineKind| -> String {
        let send = |k: MessageKind| available.contains(&Action::send(k)).then(|| format!("#skicka-{}", k.as_str()));
        let found = match kind {
            DeadlineKind::AdmissionNotice => send(MessageKind::Inskrivningsmeddelande),
            DeadlineKind::FastVardkontakt => send(MessageKind::FastVardkontakt),
            DeadlineKind::SipCall => send(MessageKind::KallelseSip).or_else(|| {
                // Waiting for consent: the way on is the consents.
                matches!(case.check(&caller.actor, &Action::send(MessageKind::KallelseSip), now),
                    Err(ref p) if p.code == "consent_required")
                .then(|| "#samtycken".to_string())
            }),
            DeadlineKind::DischargeInformation => send(MessageKind::InformationVidUtskrivning),
            DeadlineKind::SipFollowUp => {
                available.contains(&Action::FollowUpSip).then(|| format!("/arenden/{}/sip", case.id))
            }
        };
        found.unwrap_or_default()
    };
    let deadline_rows: Vec<DeadlineRow> = deadlines(case, &agreement, now)
        .into_iter()
        .map(|d| {
            let (state, class) = match d.status {
                DeadlineStatus::Open => (t.get("deadline_status.open"), "open"),
                DeadlineStatus::Overdue => (t.get("deadline_status.overdue"), "overdue"),
                DeadlineStatus::Met => (t.get("deadline_status.met"), "met"),
                DeadlineStatus::MetLate => (t.get("deadline_status.met_late"), "late"),
            };
            DeadlineRow {
                what: t.get(&format!("deadline.{}", d.kind.as_str())).to_string(),
                owner: d.owner.map(|o| unit_name(case, o)).unwrap_or_default(),
                due: t.due(&d.due),
                due_iso: t.iso(&d.due),
                state: if d.estimated {
                    format!("{state} ({})", t.get("deadline.estimated"))
                } else {
                    state.to_string()
                },
                class,
                countdown: if d.met_at.is_none() { countdown(t, d.due, now) } else { String::new() },
                rule: if t.lang == "sv" { d.rule_sv.clone() } else { String::new() },
                link: if d.met_at.is_none() { link(d.kind) } else { String::new() },
            }
        })
        .collect();
    let next = deadline_rows
        .iter()
        .filter(|d| d.class == "open" || d.class == "overdue")
        .map(|d| DeadlineRow { ..clone_row(d) })
        .collect();
    let steps = case
        .steps()
        .into_iter()
        .map(|s| StepRow {
            label: t.get(&format!("step.{}", s.number)).to_string(),
            done: s.done_at.map(|d| t.datetime(&d)).unwrap_or_default(),
            not_needed: s.not_needed,
        })
        .collect();
    let units = st.store.units().await?;
    let messages = build_messages(t, case, &available);
    let history = st.store.case_timeline(case.id, case.version).await?;
    // Newest first; within a day only the time, so a long history stays short.
    let mut previous: Option<Timestamp> = None;
    // Who opened which message is shown at each message; in the history it would drown the
    // steps (a unit back from a weekend opens dozens at once).
    let timeline = history
        .iter()
        .rev()
        .filter(|e| !matches!(e.event, CaseEvent::MessageOpened { .. }))
        .map(|e| {
            let when = match previous {
                Some(p) => t.datetime_near(&e.at, &p),
                None => t.datetime(&e.at),
            };
            previous = Some(e.at);
            TimelineRow {
                when,
                who: format!("{} ({})", e.actor.user.name, e.actor.unit.name),
                text: describe(t, case, e),
            }
        })
        .collect();
    let consents = case
        .consents
        .0
        .iter()
        .map(|c| ConsentRow {
            id: c.id.to_string(),
            can_withdraw: available.contains(&Action::WithdrawConsent { consent_id: c.id }),
            kind: t.get(&format!("consent.{}", consent_key(c.kind))).to_string(),
            given_by: match &c.given_by {
                ConsentGiver::Patient => t.get("consent.by_patient").to_string(),
                ConsentGiver::Representative { name, relation } => format!("{name} ({relation})"),
            },
            given_at: t.datetime(&c.given_at),
            recorded: format!("{}, {}", c.recorded.by.name, t.datetime(&c.recorded.at)),
            withdrawn: stamp_text(t, &c.withdrawn),
        })
        .collect();
    let liability = if !permits(caller.actor.role, Permission::ReadLiability) {
        String::new()
    } else {
        let l = case_liability(&LiabilityFacts::from_case(case, &agreement, now), &agreement, now);
        match l.excluded {
            Some(x) => t.fill("case.liability_excluded", &[("why", t.get(&format!("exclusion.{}", serde_key(&x))))]),
            None if l.ready_days == 0 => String::new(),
            None => t.fill(
                "case.liability_text",
                &[
                    ("ready", &l.ready_days.to_string()),
                    ("liable", &l.liable_days.to_string()),
                    ("amount", &t.kronor(&l.amount_ore)),
                ],
            ),
        }
    };
    let can = Can::of(case, &caller.actor, now, &available);
    let parties =
        case.parties.iter().filter(|p| p.unit.id != me).map(|p| (p.unit.id.to_string(), p.unit.name.clone())).collect();
    // A transfer goes to another ward of the same region (the choice would otherwise list
    // every ward in the country).
    let wards = units
        .iter()
        .filter(|u| u.kind == UnitKind::Ward && u.id != case.ward().id)
        .filter(|u| u.organisation_id == case.ward().organisation_id)
        .map(|u| (u.id.to_string(), u.name.clone()))
        .collect();
    let listed = match patient.listed_unit {
        Some(u) => units.iter().find(|x| x.id == u).map(|x| x.name.clone()).unwrap_or_default(),
        None => String::new(),
    };
    let orgs = st.store.organisations().await?;
    let person_words = person_words(t, &samverka_app::cases::person_statements(st, &caller, &record).await?, me, case);
    let representatives = samverka_app::representatives::of_case(st, &record)
        .await?
        .iter()
        .rev()
        .map(|r| {
            use samverka_domain::representative::Granter;
            let granted = match &r.granted {
                Granter::Person => t.get("representative.invited_by_person").to_string(),
                Granter::Staff { name, unit_name, .. } => format!("{name}, {unit_name}"),
            };
            let mut state =
                t.fill("representative.granted", &[("by", &granted), ("when", &t.date(&local_date(r.granted_at)))]);
            if let Some(last) = r.valid_until {
                state.push(' ');
                state.push_str(&t.fill("representative.until", &[("date", &t.date(&last))]));
            }
            if let Some(e) = &r.ended {
                state.push(' ');
                state.push_str(&t.fill(
                    "representative.ended",
                    &[("when", &t.datetime(&e.at)), ("by", &e.by), ("reason", &e.reason)],
                ));
            }
            RepresentativeView {
                id: r.id.to_string(),
                name: r.name.clone(),
                kind: t.get(&format!("person.rep_kind.{}", r.kind.as_str())).to_string(),
                sees: r
                    .shares
                    .iter()
                    .map(|s| t.get(&format!("representative.share.{}", s.as_str())).to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                state,
                in_force: r.in_force(now),
            }
        })
        .collect();
    let sip = case.sip.current();
    frame.title = format!("{} – {}", patient.full_name(), t.get(&format!("phase.{}", case.phase().as_str())));
    frame.live = case.id.to_string();
    let local_now = now.to_zoned_datetime(STOCKHOLM.clone());
    Ok(CasePage {
        id: case.id.to_string(),
        address: patient.visible_address().cloned(),
        patient: PatientView::of(&patient),
        kommun: match orgs.iter().find(|(o, _)| o.kommunkod.as_ref() == Some(&patient.kommun)) {
            Some((o, _)) => format!("{} ({})", o.name, patient.kommun.as_str()),
            None => patient.kommun.as_str().to_string(),
        },
        listed,
        phase: t.get(&format!("phase.{}", case.phase().as_str())).to_string(),
        ward: case.ward().name.clone(),
        admitted: t.datetime(&case.admitted_at),
        home: case.home.as_ref().map(|h| h.reason.clone()),
        links: samverka_app::home::linked(st, &caller, case)
            .await?
            .into_iter()
            .map(|l| LinkRow {
                case_id: l.case_id.to_string(),
                text: t.get(&format!("home.link_{}", l.link.as_str())).to_string(),
                phase: t.get(&format!("phase.{}", l.phase.as_str())).to_string(),
                since: t.date(&local_date(l.since)),
            })
            .collect(),
        estimate: case.estimated_discharge.map(|d| t.date(&d)).unwrap_or_default(),
        emergency,
        sharing_withdrawn: case.consents.sharing_withdrawn().and_then(|c| c.withdrawn.as_ref()).map(|w| {
            t.fill("case.sharing_withdrawn", &[("when", &t.datetime(&w.at)), ("unit", &unit_name(case, w.unit))])
        }),
        next,
        steps,
        deadlines: deadline_rows,
        messages,
        timeline,
        consents,
        person_words,
        representatives,
        sip_status: case
            .sip_status()
            .map(|s| t.get(&format!("sip_status.{}", serde_key(&s))).to_string())
            .unwrap_or_default(),
        sip_version: sip.map(|v| v.version).unwrap_or(0),
        screenings: crate::screening::rows(t, &agreement, case),
        // The form's choices, only for a caller offered the form (a case page is built often).
        frailty_levels: if can.screening { crate::screening::levels(t, &agreement) } else { vec![] },
        liability,
        to_acknowledge: available.iter().filter(|a| matches!(a, Action::Acknowledge { .. })).count(),
        can,
        parties,
        wards,
        today: local_date(now).to_string(),
        now_local: format!("{}T{:02}:{:02}", local_now.date(), local_now.hour(), local_now.minute()),
        refused: None,
        frame,
    })
}

/// The case's messages, newest first, as the viewer's unit sees them.
fn build_messages(t: &Texts, case: &Case, available: &[Action]) -> Vec<MessageView> {
    case.messages
        .iter()
        .rev()
        .map(|m: &MessageState| {
            let id = m.message.id;
            MessageView {
                id: m.message.id.to_string(),
                kind: t.get(&format!("message.{}", m.message.body.kind().as_str())).to_string(),
                sender: m.message.sender.name.clone(),
                author: m.sent.by.name.clone(),
                sent: t.datetime(&m.sent.at),
                sent_iso: t.iso(&m.sent.at),
                fields: message_fields(t, &m.message.body),
                corrected: !m.corrected_by.is_empty(),
                correction: m.message.corrects.is_some(),
                receipts: m
                    .receipts
                    .iter()
                    .map(|r| ReceiptRow {
                        unit: r.unit.name.clone(),
                        delivered: r.delivered_at.map(|d| t.datetime_near(&d, &m.sent.at)).unwrap_or_default(),
                        opened: stamp_near(t, &r.opened, &m.sent.at),
                        acknowledged: stamp_near(t, &r.acknowledged, &m.sent.at),
                        mis_sent: r
                            .mis_sent
                            .as_ref()
                            .map(|x| format!("{} ({})", x.reason, x.stamp.by.name))
                            .unwrap_or_default(),
                        forwarded_from: r.forwarded_from.is_some(),
                    })
                    .collect(),
                can_acknowledge: available.contains(&Action::Acknowledge { message_id: id }),
                can_mis_send: available.contains(&Action::MarkMisSent { message_id: id }),
                can_forward: available.contains(&Action::Forward { message_id: id }),
                can_correct: available.contains(&Action::Send { kind: m.message.body.kind(), corrects: Some(id) }),
            }
        })
        .collect()
}

fn clone_row(d: &DeadlineRow) -> DeadlineRow {
    DeadlineRow {
        what: d.what.clone(),
        owner: d.owner.clone(),
        due: d.due.clone(),
        due_iso: d.due_iso.clone(),
        state: d.state.clone(),
        class: d.class,
        countdown: d.countdown.clone(),
        rule: d.rule.clone(),
        link: d.link.clone(),
    }
}

/// The snake_case name of a serialisable enum.
pub fn serde_key<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Opens, for the viewer's unit, every message addressed to it that it has not opened: the
/// sender sees "opened" the moment the case page is looked at.
async fn open_unread(st: &AppState, caller: &Caller, record: &CaseRecord) -> Option<CaseRecord> {
    if !permits(caller.actor.role, Permission::ReadPatientData) {
        return None;
    }
    let opens: Vec<Command> = record
        .case
        .messages
        .iter()
        .filter(|m| m.receipt(caller.actor.unit.id).is_some_and(|r| r.opened.is_none()))
        .map(|m| Command::OpenMessage { message_id: m.message.id })
        .collect();
    if opens.is_empty() {
        return None;
    }
    // One change for all of them: a unit back from a weekend may have dozens unopened.
    execute_all(st, caller, record.case.id, opens).await.ok()
}

/// A refused form: the error, the form's name and what was typed.
type FormRefusal = (AppError, &'static str, Pairs);

/// Renders the case page, with a refused form drawn again (what was typed, the error beside
/// the field) or without.
async fn show(st: &AppState, w: WebCaller, id: CaseId, error: Option<FormRefusal>) -> Response {
    let t = w.frame.t;
    // The page's own live refetch is logged as such: a read, but not someone looking.
    let action = if w.live_refresh { "case.read_live" } else { "case.read" };
    match read_case(st, &w.caller, id, action).await {
        Ok((mut record, patient)) => {
            let emergency = !record.case.is_party(w.caller.actor.unit.id);
            if !emergency
                && !w.live_refresh
                && !w.prefetch
                && let Some(r) = open_unread(st, &w.caller, &record).await
            {
                record = r;
            }
            let status = error.as_ref().map(|e| e.0.status).unwrap_or(StatusCode::OK);
            match build(st, w, record, patient, emergency).await {
                Ok(mut page) => {
                    if let Some((e, form, typed)) = error {
                        let message = error_text(t, &e);
                        // The message's kind names the form it came from.
                        let form = if form == "meddelande" { field(&typed, "kind").to_string() } else { form.into() };
                        page.frame.error = Some(format!("{} {}", t.get("case.form_refused"), message));
                        page.refused =
                            Some(Refused { form, typed, field: e.field.clone().unwrap_or_default(), message });
                    }
                    html(status, &page)
                }
                Err(e) => error_page(t, e.status, error_text(t, &e)),
            }
        }
        Err(e) if e.code == "not_a_party" => {
            let may_request = permits(w.caller.actor.role, Permission::EmergencyAccess);
            let mut frame = w.frame;
            frame.title = t.get("denied.title").to_string();
            html(
                StatusCode::FORBIDDEN,
                &DeniedPage { frame, id: id.to_string(), message: error_text(t, &e), may_request },
            )
        }
        Err(e) => error_page(t, e.status, error_text(t, &e)),
    }
}

#[derive(serde::Deserialize)]
pub struct CaseQuery {
    /// The form just carried out (a message's kind, or the action's name): said on the page.
    klart: Option<String>,
}

pub async fn page(
    State(st): State<AppState>,
    mut w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    axum::extract::Query(q): axum::extract::Query<CaseQuery>,
) -> Response {
    let t = w.frame.t;
    w.frame.notice = q.klart.as_deref().and_then(|done| match MessageKind::ALL.iter().find(|k| k.as_str() == done) {
        Some(kind) => Some(t.fill("case.done_sent", &[("kind", t.get(&format!("message.{}", kind.as_str())))])),
        None => {
            let key = format!("case.done_{done}");
            t.has(&key).then(|| t.get(&key).to_string())
        }
    });
    show(&st, w, id, None).await
}

/// After a form: back to the page on success, or the page with the refused `form` drawn
/// again as it was filled in.
async fn after(
    st: &AppState,
    w: WebCaller,
    id: CaseId,
    result: AppResult<CaseRecord>,
    anchor: &str,
    form: &'static str,
    typed: Pairs,
) -> Response {
    match result {
        Ok(_) => {
            // Said on the page it leads back to.
            let done = if form == "meddelande" { field(&typed, "kind") } else { form };
            let done: String = done.chars().filter(|c| c.is_ascii_lowercase() || *c == '_').collect();
            see_other(&format!("/arenden/{id}?klart={done}{anchor}"))
        }
        Err(e) => show(st, w, id, Some((e, form, typed))).await,
    }
}

/// A form as its pairs (fields may repeat, e.g. recipients).
pub type Pairs = Vec<(String, String)>;

pub fn field<'a>(f: &'a Pairs, name: &str) -> &'a str {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
}

pub fn checked(f: &Pairs, name: &str) -> bool {
    f.iter().any(|(k, v)| k == name && (v == "on" || v == "true" || v == "ja"))
}

fn invalid(field: &str, sv: &str, en: &str) -> AppError {
    AppError::invalid(field, "invalid_form", sv, en)
}

pub fn parse_date(f: &Pairs, name: &str) -> AppResult<Date> {
    field(f, name)
        .trim()
        .parse()
        .map_err(|_| invalid(name, "Ange ett datum (ÅÅÅÅ-MM-DD).", "Enter a date (YYYY-MM-DD)."))
}

/// A `datetime-local` value, read as Swedish local time.
pub fn parse_local(f: &Pairs, name: &str) -> AppResult<Timestamp> {
    let dt: DateTime = field(f, name)
        .trim()
        .parse()
        .map_err(|_| invalid(name, "Ange datum och klockslag.", "Enter a date and time."))?;
    dt.to_zoned_datetime(STOCKHOLM.clone()).map(|z| z.timestamp()).map_err(|_| {
        invalid(name, "Den tiden finns inte (sommartid). Välj en annan.", "That local time does not exist.")
    })
}

fn tri(f: &Pairs, name: &str) -> Option<bool> {
    match field(f, name) {
        "ja" => Some(true),
        "nej" => Some(false),
        _ => None,
    }
}

fn body_of(f: &Pairs) -> AppResult<MessageBody> {
    let s = |n: &str| field(f, n).trim().to_string();
    Ok(match field(f, "kind") {
        "inskrivningsmeddelande" => MessageBody::Inskrivningsmeddelande {
            estimated_discharge: parse_date(f, "estimated_discharge")?,
            note: s("note"),
        },
        "andrat_utskrivningsdatum" => MessageBody::AndratUtskrivningsdatum {
            estimated_discharge: parse_date(f, "estimated_discharge")?,
            note: s("note"),
        },
        "fast_vardkontakt" => {
            MessageBody::FastVardkontakt { name: s("name"), role: s("role"), phone: s("phone"), note: s("note") }
        }
        "planeringsunderlag" => MessageBody::Planeringsunderlag {
            needs: s("needs"),
            function: s("function"),
            current_insatser: s("current_insatser"),
            assessments: s("assessments"),
            sip_needed: tri(f, "sip_needed"),
        },
        "utskrivningsklar" => MessageBody::Utskrivningsklar {
            referrals_cancelled: checked(f, "referrals_cancelled"),
            sip_needed: tri(f, "sip_needed"),
            note: s("note"),
        },
        "atertagen_utskrivningsklar" => MessageBody::AtertagenUtskrivningsklar { reason: s("reason") },
        "kallelse_sip" => MessageBody::KallelseSip {
            meeting_at: parse_local(f, "meeting_at")?,
            place: s("place"),
            participants: s("participants")
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect(),
            patient_invited: checked(f, "patient_invited"),
            relatives_invited: checked(f, "relatives_invited"),
            note: s("note"),
        },
        "information_vid_utskrivning" => MessageBody::InformationVidUtskrivning {
            discharged_at: parse_local(f, "discharged_at")?,
            medication: s("medication"),
            aids: s("aids"),
            information_to_patient: s("information_to_patient"),
            note: s("note"),
        },
        "avbrott_i_processen" => MessageBody::AvbrottIProcessen {
            reason: match field(f, "cancel_reason") {
                "patient_died" => CancelReason::PatientDied,
                "other_inpatient_care" => CancelReason::OtherInpatientCare,
                "mis_sent" => CancelReason::MisSent,
                _ => CancelReason::NoLongerNeeded,
            },
            note: s("note"),
        },
        "allmant" => MessageBody::Allmant { text: s("text") },
        _ => {
            return Err(invalid(
                "kind",
                "Välj vilken sorts meddelande som ska skickas.",
                "Choose the kind of message.",
            ));
        }
    })
}

async fn send_op(st: &AppState, caller: &Caller, id: CaseId, f: &Pairs) -> AppResult<CaseRecord> {
    let body = body_of(f)?;
    let chosen: Vec<Uuid> = f.iter().filter(|(k, _)| k == "recipients").filter_map(|(_, v)| v.parse().ok()).collect();
    let corrects: Option<Uuid> = field(f, "corrects").parse().ok();
    let recipients = (!chosen.is_empty()).then_some(chosen.as_slice());
    send(st, caller, id, Uuid::now_v7(), body, recipients, corrects).await
}

pub async fn send_message(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = send_op(&st, &w.caller, id, &f).await;
    after(&st, w, id, r, "#meddelanden", "meddelande", f).await
}

#[derive(Template)]
#[template(path = "message_actions.html")]
pub struct MessagePage {
    pub frame: Frame,
    pub id: String,
    pub patient: PatientView,
    pub message: MessageView,
    pub can_mis_send: bool,
    pub forward_targets: Vec<(String, String)>,
    /// The sending unit may correct the message: its fields, filled in as sent.
    pub correction: Option<Correction>,
}

/// A correction form: the message's own fields with their values, sent as a new message of
/// the same kind that names the one it corrects.
pub struct Correction {
    pub kind: String,
    pub fields: Vec<FormField>,
}

pub struct FormField {
    pub name: &'static str,
    pub label: String,
    /// `text`, `textarea`, `date`, `datetime-local`, `checkbox` or `tri` (yes / no / not assessed).
    pub input: &'static str,
    pub value: String,
    pub checked: bool,
}

fn local_input(t: &Timestamp) -> String {
    let z = t.to_zoned_datetime(STOCKHOLM.clone());
    format!("{}T{:02}:{:02}", z.date(), z.hour(), z.minute())
}

/// The fields of a message as a form, filled in with what it said. None for kinds that end
/// the process (they cannot be corrected, only followed by a new case).
fn correction_of(t: &Texts, body: &MessageBody) -> Option<Correction> {
    let f = |name: &'static str, input: &'static str, value: String| FormField {
        name,
        label: t.get(&format!("field.{name}")).to_string(),
        input,
        value,
        checked: false,
    };
    let flag = |name: &'static str, on: bool| FormField { checked: on, ..f(name, "checkbox", String::new()) };
    let tri = |name: &'static str, v: Option<bool>| {
        f(
            name,
            "tri",
            match v {
                Some(true) => "ja".into(),
                Some(false) => "nej".into(),
                None => String::new(),
            },
        )
    };
    let fields = match body {
        MessageBody::Inskrivningsmeddelande { estimated_discharge, note }
        | MessageBody::AndratUtskrivningsdatum { estimated_discharge, note } => {
            vec![f("estimated_discharge", "date", estimated_discharge.to_string()), f("note", "textarea", note.clone())]
        }
        MessageBody::FastVardkontakt { name, role, phone, note } => vec![
            FormField { label: t.get("field.fvk_name").to_string(), ..f("name", "text", name.clone()) },
            FormField { label: t.get("field.fvk_role").to_string(), ..f("role", "text", role.clone()) },
            f("phone", "text", phone.clone()),
            f("note", "textarea", note.clone()),
        ],
        MessageBody::Planeringsunderlag { needs, function, current_insatser, assessments, sip_needed } => vec![
            f("needs", "textarea", needs.clone()),
            f("function", "textarea", function.clone()),
            f("current_insatser", "textarea", current_insatser.clone()),
            f("assessments", "textarea", assessments.clone()),
            tri("sip_needed", *sip_needed),
        ],
        MessageBody::Utskrivningsklar { referrals_cancelled, sip_needed, note } => vec![
            flag("referrals_cancelled", *referrals_cancelled),
            tri("sip_needed", *sip_needed),
            f("note", "textarea", note.clone()),
        ],
        MessageBody::AtertagenUtskrivningsklar { reason } => vec![f("reason", "textarea", reason.clone())],
        MessageBody::KallelseSip { meeting_at, place, participants, patient_invited, relatives_invited, note } => vec![
            f("meeting_at", "datetime-local", local_input(meeting_at)),
            f("place", "text", place.clone()),
            f("participants", "text", participants.join(", ")),
            flag("patient_invited", *patient_invited),
            flag("relatives_invited", *relatives_invited),
            f("note", "textarea", note.clone()),
        ],
        MessageBody::InformationVidUtskrivning { discharged_at, medication, aids, information_to_patient, note } => {
            vec![
                f("discharged_at", "datetime-local", local_input(discharged_at)),
                f("medication", "textarea", medication.clone()),
                f("aids", "textarea", aids.clone()),
                f("information_to_patient", "textarea", information_to_patient.clone()),
                f("note", "textarea", note.clone()),
            ]
        }
        MessageBody::Allmant { text } => vec![f("text", "textarea", text.clone())],
        MessageBody::AvbrottIProcessen { .. } => return None,
    };
    Some(Correction { kind: body.kind().as_str().to_string(), fields })
}

/// One message with what the receiving unit can do besides acknowledging: mark it mis-sent,
/// or forward it to another unit of its own organisation.
pub async fn message_page(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath((id, message_id)): ApiPath<(Uuid, Uuid)>,
) -> Response {
    let t = w.frame.t;
    let (record, patient) = match read_case(&st, &w.caller, id, "case.read_message").await {
        Ok(x) => x,
        Err(e) => return error_page(t, e.status, error_text(t, &e)),
    };
    let me = w.caller.actor.unit.id;
    let available = record.case.available(&w.caller.actor, st.clock.now());
    let Some(view) = build_messages(t, &record.case, &available).into_iter().find(|m| m.id == message_id.to_string())
    else {
        return error_page(t, StatusCode::NOT_FOUND, t.get("case.no_such_message").to_string());
    };
    let m = record.case.message(message_id);
    let my_org = w.caller.actor.unit.organisation_id;
    let forward_targets = match m {
        Some(m) if view.can_forward => st
            .store
            .units()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|u| u.organisation_id == my_org && u.id != me && m.receipt(u.id).is_none())
            .map(|u| (u.id.to_string(), u.name.clone()))
            .collect(),
        _ => vec![],
    };
    let correction = m.filter(|_| view.can_correct).and_then(|m| correction_of(t, &m.message.body));
    let mut frame = w.frame;
    frame.title = format!("{} – {}", view.kind, patient.full_name());
    let page = MessagePage {
        id: id.to_string(),
        patient: PatientView::of(&patient),
        can_mis_send: view.can_mis_send,
        message: view,
        forward_targets,
        correction,
        frame,
    };
    html(StatusCode::OK, &page)
}

/// Acknowledges a message; every message's button posts the one form of the page.
pub async fn acknowledge(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = match field(&f, "message_id").parse() {
        Ok(message_id) => execute(&st, &w.caller, id, Command::AcknowledgeMessage { message_id }).await,
        Err(_) => Err(invalid(
            "message_id",
            "Välj vilket meddelande som ska kvitteras.",
            "Choose the message to acknowledge.",
        )),
    };
    let anchor = format!("#m-{}", field(&f, "message_id"));
    after(&st, w, id, r, if anchor.len() == 39 { &anchor } else { "" }, "kvittera", f).await
}

/// Acknowledges every message to the caller's unit in the case at once.
pub async fn acknowledge_all(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    let r = samverka_app::cases::acknowledge_all(&st, &w.caller, id).await;
    after(&st, w, id, r, "#meddelanden", "kvittera_alla", vec![]).await
}

pub async fn mis_sent(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath((id, message_id)): ApiPath<(Uuid, Uuid)>,
    Form(f): Form<Pairs>,
) -> Response {
    let r =
        execute(&st, &w.caller, id, Command::MarkMisSent { message_id, reason: field(&f, "reason").to_string() }).await;
    match r {
        // Nothing else tied the unit to the case: it has left it, so back to the inbox.
        Ok(record) if !record.case.is_party(w.caller.actor.unit.id) => see_other("/"),
        r => after(&st, w, id, r, &format!("#m-{message_id}"), "felskickat", f).await,
    }
}

pub async fn forward(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath((id, message_id)): ApiPath<(Uuid, Uuid)>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        let to_id: Uuid =
            field(&f, "to_unit").parse().map_err(|_| invalid("to_unit", "Välj enhet.", "Choose a unit."))?;
        let to = resolve_unit(&st, to_id, "to_unit").await?;
        execute(&st, &w.caller, id, Command::ForwardMessage { message_id, to, note: field(&f, "note").to_string() })
            .await
    }
    .await;
    after(&st, w, id, r, &format!("#m-{message_id}"), "vidarebefordra", f).await
}

pub async fn record_consent(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        // Several kinds at once: a patient often agrees to the call, the plan and the sharing
        // in one conversation.
        let mut kinds = vec![];
        for (k, v) in &f {
            if k != "kind" {
                continue;
            }
            kinds.push(match v.as_str() {
                "sip_call" => ConsentKind::SipCall,
                "sip" => ConsentKind::Sip,
                "information_sharing" => ConsentKind::InformationSharing,
                _ => return Err(invalid("kind", "Välj vad samtycket gäller.", "Choose what the consent covers.")),
            });
        }
        if kinds.is_empty() {
            return Err(invalid("kind", "Kryssa i vad samtycket gäller.", "Tick what the consent covers."));
        }
        let given_by = if field(&f, "given_by") == "representative" {
            ConsentGiver::Representative {
                name: field(&f, "rep_name").trim().into(),
                relation: field(&f, "rep_relation").trim().into(),
            }
        } else {
            ConsentGiver::Patient
        };
        let given_at = if field(&f, "given_at").is_empty() { st.clock.now() } else { parse_local(&f, "given_at")? };
        let cmds = kinds
            .into_iter()
            .map(|kind| Command::RecordConsent {
                consent_id: Uuid::now_v7(),
                kind,
                given_by: given_by.clone(),
                given_at,
                note: field(&f, "note").to_string(),
            })
            .collect();
        execute_all(&st, &w.caller, id, cmds).await
    }
    .await;
    after(&st, w, id, r, "#samtycken", "samtycke", f).await
}

pub async fn withdraw_consent(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath((id, consent_id)): ApiPath<(Uuid, Uuid)>,
) -> Response {
    let r = execute(&st, &w.caller, id, Command::WithdrawConsent { consent_id }).await;
    after(&st, w, id, r, "#samtycken", "aterkalla", vec![]).await
}

pub async fn transfer(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        let ward_id: Uuid =
            field(&f, "to_ward").parse().map_err(|_| invalid("to_ward", "Välj avdelning.", "Choose a ward."))?;
        let ward = st
            .store
            .unit(ward_id)
            .await?
            .ok_or_else(|| invalid("to_ward", "Avdelningen finns inte.", "No such ward."))?;
        let care_type = ward.care_type;
        let to_ward = samverka_store::reference_unit_ref(&ward);
        execute(&st, &w.caller, id, Command::TransferPatient { to_ward, care_type, at: parse_local(&f, "at")? }).await
    }
    .await;
    after(&st, w, id, r, "", "flytt", f).await
}

pub async fn discharge(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async { execute(&st, &w.caller, id, Command::RecordDischarge { at: parse_local(&f, "at")? }).await }.await;
    after(&st, w, id, r, "", "utskrivning", f).await
}

pub async fn confirm_needs(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        execute(&st, &w.caller, id, Command::ConfirmNeeds { assessed_at: parse_local(&f, "assessed_at")? }).await
    }
    .await;
    after(&st, w, id, r, "", "bekrafta", f).await
}

pub async fn dismiss(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let reason = match field(&f, "reason") {
        "admission_cancelled" => CancelReason::AdmissionCancelled,
        _ => CancelReason::NoLongerNeeded,
    };
    let r = execute(&st, &w.caller, id, Command::DismissDraft { reason, note: field(&f, "note").to_string() }).await;
    after(&st, w, id, r, "", "utkast", f).await
}

pub async fn cancel_discharge(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = execute(&st, &w.caller, id, Command::CancelDischarge { note: field(&f, "note").to_string() }).await;
    after(&st, w, id, r, "", "angra", f).await
}

pub async fn close(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = execute(&st, &w.caller, id, Command::CloseCase { note: field(&f, "note").to_string() }).await;
    after(&st, w, id, r, "", "avsluta", f).await
}

pub async fn emergency(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let req = samverka_app::cases::EmergencyRequest { reason: field(&f, "reason").to_string() };
    match samverka_app::cases::grant_emergency(&st, &w.caller, id, req).await {
        Ok(_) => see_other(&format!("/arenden/{id}")),
        Err(e) => {
            let t = w.frame.t;
            let may_request = permits(w.caller.actor.role, Permission::EmergencyAccess);
            let mut frame = w.frame;
            frame.title = t.get("denied.title").to_string();
            frame.error = Some(error_text(t, &e));
            html(
                e.status,
                &DeniedPage { frame, id: id.to_string(), message: t.get("denied.text").to_string(), may_request },
            )
        }
    }
}

// ---- inviting a unit ----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "invite.html")]
pub struct InvitePage {
    pub frame: Frame,
    pub id: String,
    pub patient: PatientView,
    pub units: Vec<(String, String)>,
    pub sharing_consent: bool,
}

async fn invite_page(st: &AppState, w: WebCaller, id: CaseId, error: Option<(StatusCode, String)>) -> Response {
    let t = w.frame.t;
    let (record, patient) = match read_case(st, &w.caller, id, "case.read").await {
        Ok(x) => x,
        Err(e) => return error_page(t, e.status, error_text(t, &e)),
    };
    let mut units: Vec<(String, String)> = st
        .store
        .units()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|u| !record.case.is_party(u.id))
        .map(|u| (u.id.to_string(), u.name.clone()))
        .collect();
    units.sort_by(|a, b| a.1.cmp(&b.1));
    let mut frame = w.frame;
    frame.title = format!("{} – {}", t.get("invite.title"), patient.full_name());
    let status = error.as_ref().map(|e| e.0).unwrap_or(StatusCode::OK);
    frame.error = error.map(|e| e.1);
    let sharing_consent = record.case.consents.active(ConsentKind::InformationSharing).is_some();
    html(status, &InvitePage { frame, id: id.to_string(), patient: PatientView::of(&patient), units, sharing_consent })
}

pub async fn invite_form(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    invite_page(&st, w, id, None).await
}

/// Brings another unit into the case (with the patient's consent to share information).
pub async fn invite(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        let unit_id: Uuid = field(&f, "unit").parse().map_err(|_| invalid("unit", "Välj enhet.", "Choose a unit."))?;
        let unit = resolve_unit(&st, unit_id, "unit").await?;
        execute(&st, &w.caller, id, Command::AddParty { unit, reason: field(&f, "reason").trim().to_string() }).await
    }
    .await;
    match r {
        Ok(_) => see_other(&format!("/arenden/{id}")),
        Err(e) => {
            let text = error_text(w.frame.t, &e);
            invite_page(&st, w, id, Some((e.status, text))).await
        }
    }
}

// ---- a new admission ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "new_admission.html")]
pub struct AdmissionPage {
    pub frame: Frame,
    pub form: Pairs,
    /// The patient's open case that the admission would duplicate: offered instead, and a
    /// second case only with a reason.
    pub existing: Option<Existing>,
    pub kommuner: Vec<(String, String)>,
    pub vardcentraler: Vec<(String, String)>,
    pub now_local: String,
    /// Starting a coordination at home rather than registering an admission.
    pub home: bool,
}

/// An open case an admission ran into.
pub struct Existing {
    /// The case, when it is the caller's ward's own (else only named in the message).
    pub case_id: String,
    pub message: String,
}

impl AdmissionPage {
    pub fn value(&self, name: &str) -> String {
        field(&self.form, name).to_string()
    }
    pub fn selected(&self, name: &str, value: &str) -> bool {
        field(&self.form, name) == value
    }
}

async fn admission_page(
    st: &AppState,
    mut frame: Frame,
    form: Pairs,
    status: StatusCode,
    existing: Option<Existing>,
    home: bool,
) -> Response {
    let t = frame.t;
    frame.title = t.get(if home { "home.title" } else { "admission.title" }).to_string();
    let orgs = st.store.organisations().await.unwrap_or_default();
    let mut kommuner: Vec<(String, String)> = orgs
        .iter()
        .filter_map(|(o, _)| o.kommunkod.as_ref().map(|k| (k.as_str().to_string(), format!("{} ({k})", o.name))))
        .collect();
    kommuner.sort_by(|a, b| a.1.cmp(&b.1));
    let mut vardcentraler: Vec<(String, String)> = st
        .store
        .units()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|u| u.kind == UnitKind::Vardcentral)
        .map(|u| (u.id.to_string(), u.name.clone()))
        .collect();
    vardcentraler.sort_by(|a, b| a.1.cmp(&b.1));
    let local_now = st.clock.now().to_zoned_datetime(STOCKHOLM.clone());
    let now_local = format!("{}T{:02}:{:02}", local_now.date(), local_now.hour(), local_now.minute());
    html(status, &AdmissionPage { frame, form, existing, kommuner, vardcentraler, now_local, home })
}

pub async fn new_admission_form(State(st): State<AppState>, w: WebCaller) -> Response {
    // Looking at an empty form reads no patient data; it is still an access to the page.
    if !w.frame.user.as_ref().is_some_and(|u| u.ward) {
        let t = w.frame.t;
        return error_page(t, StatusCode::FORBIDDEN, t.get("admission.ward_only").to_string());
    }
    if let Err(e) = samverka_app::audit::log_read(&st, &w.caller, "admission.form", None, None, None, false).await {
        return error_page(w.frame.t, e.status, error_text(w.frame.t, &e));
    }
    admission_page(&st, w.frame, vec![], StatusCode::OK, None, false).await
}

/// The form that starts a coordination at home.
pub async fn new_home_form(State(st): State<AppState>, w: WebCaller) -> Response {
    if !w.frame.user.as_ref().is_some_and(|u| u.home) {
        let t = w.frame.t;
        return error_page(t, StatusCode::FORBIDDEN, t.get("home.not_allowed").to_string());
    }
    if let Err(e) = samverka_app::audit::log_read(&st, &w.caller, "home.form", None, None, None, false).await {
        return error_page(w.frame.t, e.status, error_text(w.frame.t, &e));
    }
    admission_page(&st, w.frame, vec![], StatusCode::OK, None, true).await
}

pub async fn new_home(State(st): State<AppState>, w: WebCaller, Form(f): Form<Pairs>) -> Response {
    let open = samverka_app::home::OpenHomeRequest {
        id: None,
        patient_id: None,
        patient: Some(patient_of_form(&f)),
        reason: field(&f, "reason").to_string(),
    };
    match samverka_app::home::open(&st, &w.caller, open).await {
        Ok((record, _)) => see_other(&format!("/arenden/{}", record.case.id)),
        Err(e) => {
            let existing = (e.code == "home_coordination_exists").then(|| Existing {
                case_id: e.existing_case.map(|c| c.to_string()).unwrap_or_default(),
                message: error_text(w.frame.t, &e),
            });
            let mut frame = w.frame;
            if existing.is_none() {
                frame.error = Some(error_text(frame.t, &e));
            }
            admission_page(&st, frame, f, e.status, existing, true).await
        }
    }
}

/// After discharge, the SIP goes on at home in a coordination of the caller's unit.
pub async fn continue_at_home(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    match samverka_app::home::continue_from(&st, &w.caller, id, None).await {
        Ok((home, _)) => see_other(&format!("/arenden/{}", home.case.id)),
        Err(e) => show(&st, w, id, Some((e, "sip", vec![]))).await,
    }
}

/// The person as the admission and home forms give them.
fn patient_of_form(f: &Pairs) -> NewPatientRequest {
    let s = |n: &str| field(f, n).trim().to_string();
    let address = if s("street").is_empty() && s("postal_code").is_empty() && s("city").is_empty() {
        None
    } else {
        Some(Address { street: s("street"), postal_code: s("postal_code"), city: s("city") })
    };
    let protection = match field(f, "protection") {
        "sekretessmarkering" => ProtectedIdentity::Sekretessmarkering,
        "skyddad_folkbokforing" => ProtectedIdentity::SkyddadFolkbokforing,
        _ => ProtectedIdentity::None,
    };
    NewPatientRequest {
        id: None,
        identifier: s("identifier"),
        given_name: s("given_name"),
        family_name: s("family_name"),
        kommun: s("kommun"),
        listed_unit: field(f, "listed_unit").parse().ok(),
        protection,
        address,
    }
}

async fn admit(st: &AppState, caller: &Caller, f: &Pairs) -> AppResult<CaseRecord> {
    let s = |n: &str| field(f, n).trim().to_string();
    let req = patient_of_form(f);
    let care_type = match field(f, "care_type") {
        "psychiatric" => Some(CareType::Psychiatric),
        "somatic" => Some(CareType::Somatic),
        _ => None,
    };
    // A number Samverka knows links the admission to that patient; a new one is registered.
    let open = OpenCaseRequest {
        id: None,
        patient_id: None,
        patient: Some(req),
        admitted_at: parse_local(f, "admitted_at")?,
        needs_assessed_at: None,
        care_type,
        duplicate_reason: Some(s("duplicate_reason")).filter(|r| !r.is_empty()),
    };
    let (record, _) = samverka_app::cases::open_case(st, caller, open).await?;
    Ok(record)
}

pub async fn new_admission(State(st): State<AppState>, w: WebCaller, Form(f): Form<Pairs>) -> Response {
    match admit(&st, &w.caller, &f).await {
        Ok(record) => see_other(&format!("/arenden/{}", record.case.id)),
        Err(e) if e.code == "open_case_exists" => {
            let existing = Existing {
                case_id: e.existing_case.map(|c| c.to_string()).unwrap_or_default(),
                message: error_text(w.frame.t, &e),
            };
            admission_page(&st, w.frame, f, e.status, Some(existing), false).await
        }
        Err(e) => {
            let mut frame = w.frame;
            frame.error = Some(error_text(frame.t, &e));
            admission_page(&st, frame, f, e.status, None, false).await
        }
    }
}

/// The person's words as the staff page shows them.
pub fn person_words(
    t: &samverka_app::texts::Texts,
    said: &[samverka_store::StatementRecord],
    me: Uuid,
    case: &samverka_domain::case::Case,
) -> Vec<PersonWords> {
    use samverka_domain::person::Statement;
    said.iter()
        .rev()
        .map(|s| {
            let parts: Vec<(String, String)> = match &s.statement {
                Statement::BeforeMeeting { what_matters, goals, who_present } => [
                    ("person_words.what_matters", what_matters),
                    ("person_words.goals", goals),
                    ("person_words.who_present", who_present),
                ]
                .into_iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(k, v)| (t.get(k).to_string(), v.clone()))
                .collect(),
                Statement::Attendance { attending } => vec![(
                    String::new(),
                    t.get(if *attending { "person_words.attending" } else { "person_words.not_attending" }).to_string(),
                )],
                Statement::Question { text } => vec![(String::new(), text.clone())],
            };
            PersonWords {
                id: s.id.to_string(),
                kind: t.get(&format!("person_words.kind_{}", s.statement.kind())).to_string(),
                parts,
                by: s.by_name.clone(),
                at: t.datetime(&s.at),
                read_by: s
                    .reads
                    .iter()
                    .map(|r| format!("{} ({}) {}", r.unit_name, r.by_name, t.datetime(&r.at)))
                    .collect(),
                opened_by: s
                    .opens
                    .iter()
                    .filter(|o| !s.reads.iter().any(|r| r.unit_id == o.unit_id))
                    .map(|r| format!("{} ({}) {}", r.unit_name, r.by_name, t.datetime(&r.at)))
                    .collect(),
                can_mark_read: case.is_party(me) && !s.reads.iter().any(|r| r.unit_id == me),
            }
        })
        .collect()
}

/// The caller's unit has read what the person wrote.
pub async fn read_person_words(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath((id, statement)): ApiPath<(Uuid, Uuid)>,
) -> Response {
    let r = match samverka_app::cases::read_person_statement(&st, &w.caller, id, statement).await {
        Ok(()) => case_after_write(&st, id).await,
        Err(e) => Err(e),
    };
    after(&st, w, id, r, "#patientens-ord", "patientens_ord", vec![]).await
}

/// Staff register a legal representative of the case's person (from the paper shown to them).
pub async fn register_representative(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    use samverka_domain::representative::{Kind, NewRepresentation, Share};
    let r = async {
        let kind = Kind::parse(field(&f, "kind"))
            .filter(|k| k.is_legal())
            .ok_or_else(|| invalid("kind", "Välj vad som ger rätten att företräda.", "Choose the mandate."))?;
        let valid_until = match field(&f, "valid_until").trim() {
            "" => None,
            _ => Some(parse_date(&f, "valid_until")?),
        };
        let shares = f.iter().filter(|(k, _)| k == "share").filter_map(|(_, v)| Share::parse(v)).collect();
        let new = NewRepresentation {
            name: field(&f, "name").to_string(),
            personnummer: field(&f, "personnummer").to_string(),
            kind,
            shares,
            valid_until,
        };
        samverka_app::representatives::register(&st, &w.caller, id, new).await?;
        case_after_write(&st, id).await
    }
    .await;
    after(&st, w, id, r, "#foretradare", "foretradare", f).await
}

/// Staff record that a representation ended, with the reason.
pub async fn end_representative(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath((id, rep)): ApiPath<(Uuid, Uuid)>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        samverka_app::representatives::end(&st, &w.caller, id, rep, field(&f, "reason")).await?;
        case_after_write(&st, id).await
    }
    .await;
    after(&st, w, id, r, "#foretradare", "foretradare_slut", f).await
}

/// The case as a write just left it, for the page it leads back to.
async fn case_after_write(st: &AppState, id: Uuid) -> AppResult<CaseRecord> {
    st.store.case(id).await?.ok_or_else(|| AppError::not_found("Ärendet"))
}

/// The form's screening; a frailty level that is no level is refused by the domain.
fn screening_of(f: &Pairs) -> Result<Screening, samverka_domain::Problem> {
    let frailty = match field(f, "frailty").trim() {
        "" => None,
        level => Some(Frailty::new(level.parse().unwrap_or(0))?),
    };
    let coordination = checked(f, "coordination").then(|| CoordinationNeed {
        both_principals: checked(f, "both_principals"),
        many_providers: checked(f, "many_providers"),
        repeated_admissions: checked(f, "repeated_admissions"),
        cognitive_impairment: checked(f, "cognitive_impairment"),
        carer_strain: checked(f, "carer_strain"),
    });
    Ok(Screening { frailty, coordination, note: field(f, "note").to_string() })
}

pub async fn record_screening(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = match screening_of(&f) {
        Ok(screening) => execute(&st, &w.caller, id, Command::RecordScreening { screening }).await,
        Err(p) => Err(p.into()),
    };
    after(&st, w, id, r, "#screening", "screening", f).await
}
