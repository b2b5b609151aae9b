//! The hospital's admission feed (HL7 v2 ADT): the processing of one message, whichever front
//! end received it (the MLLP listener, or an administrator's replay): store it, understand it ([`samverka_domain::hl7`]), carry out the plan with the
//! same commands users give, record the outcome, answer.
//!
//! Nothing acknowledged is lost: the raw message is committed before anything else happens,
//! and the answer AA is written only after the change is committed. A crash in between leaves
//! the message "received"; it is processed at the next start, and the sender, which got no
//! answer, sends it again and gets AA as a duplicate.

use jiff::Timestamp;
use samverka_domain::access::Role;
use samverka_domain::actor::{Actor, UnitRef, UserRef};
use samverka_domain::calendar::local_date;
use samverka_domain::case::{Case, Command, OpenCase};
use samverka_domain::hl7::adt::{self, AckCode, AdtMessage, Charset, Header, Refusal, error_code};
use samverka_domain::hl7::{ack, plan};
use samverka_domain::ids::HsaId;
use samverka_domain::org::UnitKind;
use samverka_domain::patient::{Patient, ProtectedIdentity};
use samverka_store::{
    Audit, Hl7Message, Hl7Outcome, Hl7Status, NewHl7Message, NewPatient, Outcome, Store, StoreError, Stored,
    reference_unit_ref,
};
use uuid::Uuid;

use crate::config::FeedSettings;
use crate::state::{AppState, FeedState};

/// The feed's own identity in case histories and the access log.
pub const FEED_USER_ID: Uuid = Uuid::from_u128(0x5a3e_7e00_0000_4000_8000_0000_0000_0007);

/// The header of a stored message's text, as far as it can be read (for the answer).
fn header_of(text: &str) -> Header {
    adt::parse_text(text).map(|m| adt::header(&m)).unwrap_or_default()
}

/// Processes messages one at a time, in the order they arrive, so that the messages of one
/// patient are applied in order whichever connection and whichever process they come on. A handle on the state's
/// feed: every handle shares its settings and its turn.
pub struct Feed {
    st: AppState,
}

/// Held while one message is processed; the cluster's turn is let go before the local one.
struct Turn<'a> {
    _cluster: Option<samverka_store::FeedTurn>,
    _local: tokio::sync::MutexGuard<'a, ()>,
}

/// What processing a message came to.
struct Done {
    status: Hl7Status,
    sv: String,
    en: String,
    patient_id: Option<Uuid>,
    case_id: Option<Uuid>,
}

impl Done {
    fn ignored(sv: String, en: String, patient_id: Option<Uuid>, case_id: Option<Uuid>) -> Done {
        Done { status: Hl7Status::Ignored, sv, en, patient_id, case_id }
    }
}

enum Failure {
    /// The message is at fault: answer AE/AR, keep it as refused.
    Refused(Refusal, Option<Uuid>),
    /// Samverka is (storage unavailable): answer AE "try again", keep it as received.
    Temporary(StoreError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Problem(p) => Failure::Refused(
                Refusal::error(error_code::APPLICATION_INTERNAL, None, p.message_sv, p.message_en),
                None,
            ),
            other => Failure::Temporary(other),
        }
    }
}

impl Feed {
    /// The feed, when it is configured ([`AppState::start_feed`]).
    pub fn of(st: &AppState) -> Option<Feed> {
        st.feed.get().map(|_| Feed { st: st.clone() })
    }

    fn gate(&self) -> &FeedState {
        self.st.feed.get().expect("a Feed is made only for a configured feed")
    }

    pub fn settings(&self) -> &FeedSettings {
        &self.gate().settings
    }

    fn store(&self) -> &Store {
        &self.st.store
    }

    /// The feed's turn: this process's, then (on PostgreSQL) all processes', so that one
    /// message is processed at a time whichever process received it.
    async fn turn(&self) -> Result<Turn<'_>, StoreError> {
        let local = self.gate().turn.lock().await;
        let cluster = self.store().feed_turn().await?;
        Ok(Turn { _cluster: cluster, _local: local })
    }

    /// Processes what a crash left stored but unprocessed, oldest first. Under the turn, a
    /// message still "received" is one whose process died before it was done.
    pub async fn recover(&self) -> Result<usize, StoreError> {
        let _turn = self.turn().await?;
        let pending = self.store().unprocessed_hl7().await?;
        let n = pending.len();
        for m in pending {
            if let Ok((text, charset)) = adt::decode(&m.raw) {
                self.process(&m, &text, charset, &header_of(&text), None).await;
            }
        }
        Ok(n)
    }

    /// For as long as the process runs, every half minute (one process at a time): processes
    /// what a process that died mid-message left stored but undone.
    pub async fn keep_recovering(self: std::sync::Arc<Self>) {
        const EVERY: std::time::Duration = std::time::Duration::from_secs(30);
        let st = self.st.clone();
        crate::cluster::repeat(st, samverka_store::Job::Hl7Recovery, EVERY, EVERY, move |_| {
            let feed = self.clone();
            async move {
                let n = feed.recover().await?;
                if n > 0 {
                    tracing::warn!(recovered = n, "HL7 messages left unprocessed by a stopped process were processed");
                }
                Ok(())
            }
        })
        .await
    }

    /// Receives one message and returns the answer to send.
    pub async fn receive(&self, raw: &[u8], peer: Option<&str>) -> Vec<u8> {
        let _turn = match self.turn().await {
            Ok(turn) => turn,
            Err(e) => {
                let header = adt::decode(raw).map(|(text, _)| header_of(&text)).unwrap_or_default();
                return self.unavailable(&header, e, Charset::Utf8);
            }
        };
        let now = self.st.clock.now();
        let decoded = adt::decode(raw).and_then(|(text, cs)| {
            let header = adt::header(&adt::parse_text(&text)?);
            Ok((text, cs, header))
        });
        let (text, charset, header) = match decoded {
            Ok(x) => x,
            Err(refusal) => {
                // Unreadable: keep it for the administrator all the same.
                let header = Header::default();
                let new = NewHl7Message { sender: "", control_id: None, trigger_event: "", raw };
                return match self.store().store_hl7(&new, now).await {
                    Ok(Stored::New(m) | Stored::Existing(m)) => {
                        let _ = self.finish(&m, &Err(Failure::Refused(refusal.clone(), None)), now).await;
                        self.answer(&header, AckCode::AR, Some(&refusal), Charset::Utf8)
                    }
                    Err(e) => self.unavailable(&header, e, Charset::Utf8),
                };
            }
        };
        let sender = format!("{}|{}", header.sending_application, header.sending_facility);
        // A message of a kind Samverka does not take says so, whatever its control id: that
        // is the first reason that applies. It is kept (once, known by its content).
        if let Err(refusal) = adt::parse_text(&text).and_then(|m| adt::screen(&m)) {
            let apart = NewHl7Message { sender: &sender, control_id: None, trigger_event: &header.trigger, raw };
            return match self.store().store_hl7(&apart, now).await {
                Ok(Stored::New(m) | Stored::Existing(m)) => {
                    let _ = self.finish(&m, &Err(Failure::Refused(refusal.clone(), None)), now).await;
                    self.answer(&header, AckCode::AR, Some(&refusal), charset)
                }
                Err(e) => self.unavailable(&header, e, charset),
            };
        }
        let control = (!header.control_id.trim().is_empty()).then_some(header.control_id.as_str());
        let new = NewHl7Message { sender: &sender, control_id: control, trigger_event: &header.trigger, raw };
        let stored = match self.store().store_hl7(&new, now).await {
            Ok(s) => s,
            Err(e) => return self.unavailable(&header, e, charset),
        };
        let row = match stored {
            Stored::New(m) => m,
            Stored::Existing(m) if m.raw != raw => {
                // Same control id, different content: keep it apart and refuse it.
                let refusal = Refusal::reject(
                    "205",
                    Some("MSH-10"),
                    format!(
                        "Kontroll-id \"{}\" (MSH-10) har redan använts för ett annat meddelande från samma avsändare.",
                        header.control_id
                    ),
                    "MSH-10 was already used for a different message from this sender.",
                );
                let apart = NewHl7Message { control_id: None, ..new };
                return match self.store().store_hl7(&apart, now).await {
                    Ok(Stored::New(m) | Stored::Existing(m)) => {
                        let _ = self.finish(&m, &Err(Failure::Refused(refusal.clone(), None)), now).await;
                        self.answer(&header, AckCode::AR, Some(&refusal), charset)
                    }
                    Err(e) => self.unavailable(&header, e, charset),
                };
            }
            Stored::Existing(m) if matches!(m.status, Hl7Status::Applied | Hl7Status::Ignored) => {
                // A duplicate of a message already carried out: acknowledged, not applied twice.
                tracing::info!(control_id = %header.control_id, %sender, "duplicate HL7 message acknowledged");
                return self.answer(&header, AckCode::AA, None, charset);
            }
            // Refused before, or cut short by a crash: try again.
            Stored::Existing(m) => m,
        };
        self.process(&row, &text, charset, &header, peer).await
    }

    /// Processes a stored message again on an administrator's request (after, say, a ward
    /// code was mapped). Messages already carried out are left alone.
    pub async fn replay(&self, id: Uuid) -> Result<Option<Hl7Message>, StoreError> {
        let _turn = self.turn().await?;
        let Some(m) = self.store().hl7_message(id).await? else { return Ok(None) };
        if matches!(m.status, Hl7Status::Refused | Hl7Status::Received)
            && let Ok((text, charset)) = adt::decode(&m.raw)
        {
            self.process(&m, &text, charset, &header_of(&text), None).await;
        }
        self.store().hl7_message(id).await
    }

    async fn process(
        &self,
        row: &Hl7Message,
        text: &str,
        charset: Charset,
        header: &Header,
        peer: Option<&str>,
    ) -> Vec<u8> {
        let now = self.st.clock.now();
        let result = self.apply(row, text, charset, peer, now).await;
        if let Err(e) = self.finish(row, &result, now).await {
            return self.unavailable(header, e, charset);
        }
        match result {
            Ok(_) => self.answer(header, AckCode::AA, None, charset),
            Err(Failure::Refused(r, _)) => self.answer(header, r.ack, Some(&r), charset),
            Err(Failure::Temporary(e)) => self.unavailable(header, e, charset),
        }
    }

    async fn finish(&self, row: &Hl7Message, result: &Result<Done, Failure>, now: Timestamp) -> Result<(), StoreError> {
        let outcome = match result {
            Ok(d) => Hl7Outcome {
                status: d.status,
                ack_code: "AA",
                sv: &d.sv,
                en: &d.en,
                patient_id: d.patient_id,
                case_id: d.case_id,
            },
            Err(Failure::Refused(r, patient)) => Hl7Outcome {
                status: Hl7Status::Refused,
                ack_code: r.ack.as_str(),
                sv: &r.sv,
                en: &r.en,
                patient_id: *patient,
                case_id: None,
            },
            // Left as received, to be processed again.
            Err(Failure::Temporary(_)) => return Ok(()),
        };
        self.store().finish_hl7(row.id, &outcome, now).await
    }

    /// The answer to a frame larger than the limit (the connection is then closed).
    pub fn too_large(&self) -> Vec<u8> {
        let refusal = Refusal::reject(
            error_code::SEGMENT_SEQUENCE,
            None,
            format!("Meddelandet är större än {} kB och tas inte emot.", self.settings().max_message_bytes / 1024),
            "The message is larger than the limit.",
        );
        self.answer(&Header::default(), AckCode::AR, Some(&refusal), Charset::Utf8)
    }

    fn answer(&self, header: &Header, code: AckCode, refusal: Option<&Refusal>, charset: Charset) -> Vec<u8> {
        let now = self.st.clock.now();
        self.st.metrics.hl7_answer(code.as_str());
        ack::build(header, code, refusal, &Uuid::now_v7().simple().to_string(), now, charset)
    }

    fn unavailable(&self, header: &Header, e: StoreError, charset: Charset) -> Vec<u8> {
        tracing::error!(error = %e, "HL7 message could not be stored or applied");
        let refusal = Refusal::error(
            error_code::APPLICATION_INTERNAL,
            None,
            "Samverka kan inte ta emot meddelandet just nu. Skicka det igen.",
            "Samverka cannot take the message right now; send it again.",
        );
        self.answer(header, AckCode::AE, Some(&refusal), charset)
    }

    fn actor(&self, unit: &UnitRef, header: &Header) -> Actor {
        let from = [header.sending_application.as_str(), header.sending_facility.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        Actor {
            user: UserRef { id: FEED_USER_ID, name: format!("Journalsystemet via HL7 ({from})") },
            unit: unit.clone(),
            role: Role::System,
        }
    }

    fn audit(&self, unit: &UnitRef, header: &Header, peer: Option<&str>) -> Audit {
        Audit { actor: self.actor(unit, header), assignment_id: None, client_address: peer.map(str::to_string) }
    }

    /// The ward PV1-3 names: a ward's HSA-id, or a code mapped in the settings.
    async fn ward(&self, location: &str) -> Result<Option<samverka_domain::org::Unit>, StoreError> {
        let hsa = match HsaId::parse(location) {
            Ok(h) => Some(h),
            Err(_) => self.settings().locations.get(location).cloned(),
        };
        let Some(hsa) = hsa else { return Ok(None) };
        Ok(self.store().unit_by_hsa(&hsa).await?.filter(|u| u.kind == UnitKind::Ward))
    }

    async fn apply(
        &self,
        row: &Hl7Message,
        text: &str,
        charset: Charset,
        peer: Option<&str>,
        now: Timestamp,
    ) -> Result<Done, Failure> {
        let store = self.store();
        let parsed = adt::parse_text(text).map_err(|r| Failure::Refused(r, None))?;
        let msg: AdtMessage = adt::read(&parsed, charset, self.settings().flag.as_ref(), None, local_date(now))
            .map_err(|r| Failure::Refused(r, None))?;
        let header = &msg.header;
        let patient = store.patient_by_identifier(&msg.patient.identifier).await?;
        let patient_id = patient.as_ref().map(|p| p.id);
        let refused = |r: Refusal| Failure::Refused(r, patient_id);
        let open_case: Option<std::sync::Arc<Case>> = match &patient {
            Some(p) => {
                // A coordination at home is no stay: the feed acts on discharge cases only.
                let open = store
                    .cases_for_patient(p.id)
                    .await?
                    .into_iter()
                    .find(|c| c.kind == samverka_domain::case::CaseKind::Discharge && c.phase.is_open());
                match open {
                    Some(c) => store.case(c.case_id).await?.map(|r| r.case),
                    None => None,
                }
            }
            None => None,
        };
        let in_joint_care = match &patient {
            Some(p) => store.patient_in_joint_care(p.id).await?,
            None => false,
        };
        let ward_unit = self.ward(&msg.visit.location).await?;
        let ward_ref = ward_unit.as_ref().map(reference_unit_ref);
        let situation = plan::Situation {
            patient_known: patient.is_some(),
            in_joint_care,
            open_case: open_case.as_deref(),
            ward: ward_ref.as_ref().zip(ward_unit.as_ref().map(|u| u.care_type)),
        };
        let decided = plan::plan(&msg, &situation, &self.settings().plan).map_err(refused)?;
        let case_id = open_case.as_ref().map(|c| c.id);
        match decided {
            plan::Plan::Nothing { sv, en } => {
                // The lookup read patient data: log it against the unit the message concerns.
                if let (Some(p), Some(unit)) = (&patient, open_case.as_ref().map(|c| c.ward()).or(ward_ref.as_ref())) {
                    let audit = self.audit(unit, header, peer);
                    let entry = audit.entry(
                        &format!("hl7.{}", header.trigger.to_ascii_lowercase()),
                        now,
                        Some(p.id),
                        case_id,
                        Outcome::Allowed,
                        None,
                        p.protection.is_protected(),
                    );
                    store.log_access(&entry).await?;
                }
                Ok(Done::ignored(sv, en, patient_id, case_id))
            }
            plan::Plan::OpenDraft { ward, care_type, admitted_at } => {
                let audit = self.audit(&ward, header, peer);
                let patient = match patient {
                    Some(p) => p,
                    None => self.register(&msg, &audit, now).await.map_err(|e| match Failure::from(e) {
                        Failure::Refused(r, _) => Failure::Refused(r, None),
                        t => t,
                    })?,
                };
                let unit = ward_unit.as_ref().expect("a draft has a ward");
                let agreement = store
                    .organisation(unit.organisation_id)
                    .await?
                    .and_then(|(_, a)| a)
                    .unwrap_or_else(|| self.st.config.default_agreement.clone());
                // The message's own id names the case, so processing it again finds the same case.
                let open = OpenCase {
                    case_id: row.id,
                    patient_id: patient.id,
                    kommun: patient.kommun.clone(),
                    listed_unit: patient.listed_unit,
                    care_type,
                    admitted_at,
                    needs_assessed_at: None,
                    born: patient.identifier.birth_date(),
                    sip_at_home: store.sip_at_home(patient.id).await?,
                };
                let (record, _) = store.open_draft_case(&open, &agreement, &audit, now).await.map_err(|e| {
                    match Failure::from(e) {
                        Failure::Refused(r, _) => Failure::Refused(r, Some(patient.id)),
                        t => t,
                    }
                })?;
                self.st.changed(&record.case);
                Ok(Done {
                    status: Hl7Status::Applied,
                    sv: format!("Utkast till ärende öppnat på {}; avdelningen bekräftar behovet.", ward.name),
                    en: format!("Draft case opened at {}.", ward.name),
                    patient_id: Some(patient.id),
                    case_id: Some(record.case.id),
                })
            }
            plan::Plan::Execute(cmd) => {
                let case = open_case.as_ref().expect("a command has a case");
                let audit = self.audit(case.ward(), header, peer);
                let (sv, en) = match &cmd {
                    Command::TransferPatient { to_ward, .. } => {
                        (format!("Patienten flyttad till {}.", to_ward.name), format!("Moved to {}.", to_ward.name))
                    }
                    Command::RecordDischarge { .. } => {
                        ("Utskrivningen registrerad.".into(), "Discharge recorded.".into())
                    }
                    Command::CancelDischarge { .. } => ("Utskrivningen ångrad.".into(), "Discharge cancelled.".into()),
                    Command::DismissDraft { .. } => ("Utkastet avslutat.".into(), "Draft dismissed.".into()),
                    other => {
                        let name = samverka_store::command_name(other);
                        (format!("Utfört i ärendet: {name}."), format!("Carried out on the case: {name}."))
                    }
                };
                let (record, events) =
                    store.execute(case.id, &audit, cmd, now).await.map_err(|e| match Failure::from(e) {
                        Failure::Refused(r, _) => Failure::Refused(r, patient_id),
                        t => t,
                    })?;
                self.st.changed(&record.case);
                Ok(Done {
                    status: if events.is_empty() { Hl7Status::Ignored } else { Hl7Status::Applied },
                    sv,
                    en,
                    patient_id,
                    case_id: Some(case.id),
                })
            }
            plan::Plan::UpdateNames { given_name, family_name } => {
                let p = patient.expect("a name change has a patient");
                if p.given_name == given_name && p.family_name == family_name {
                    return Ok(Done::ignored(
                        "Namnet är oförändrat.".into(),
                        "The name is unchanged.".into(),
                        patient_id,
                        case_id,
                    ));
                }
                let Some(unit) = open_case.as_ref().map(|c| c.ward()).or(ward_ref.as_ref()) else {
                    return Ok(Done::ignored(
                        "Namnändringen sparas inte: ingen avdelning i Samverka vårdar patienten.".into(),
                        "No ward in Samverka cares for the patient.".into(),
                        patient_id,
                        case_id,
                    ));
                };
                let audit = self.audit(unit, header, peer);
                let revised = Patient { given_name, family_name, ..p };
                store.revise_patient(&revised, &audit, now).await?;
                if let Some(c) = &open_case {
                    self.st.changed(c);
                }
                Ok(Done {
                    status: Hl7Status::Applied,
                    sv: "Patientens namn uppdaterat.".into(),
                    en: "The patient's name was updated.".into(),
                    patient_id,
                    case_id,
                })
            }
        }
    }

    /// Registers a patient Samverka does not know, from PID.
    async fn register(&self, msg: &AdtMessage, audit: &Audit, now: Timestamp) -> Result<Patient, StoreError> {
        let kommun = msg.patient.kommun.clone().expect("the plan checked the kommun");
        let new = NewPatient {
            identifier: msg.patient.identifier.clone(),
            given_name: msg.patient.given_name.clone(),
            family_name: msg.patient.family_name.clone(),
            kommun,
            listed_unit: None,
            protection: ProtectedIdentity::None,
            address: None,
        };
        self.store().insert_patient(Uuid::now_v7(), new, audit, now).await
    }
}
