//! The case history (append-only events) and the projections derived from it.
//!
//! Writing a case: in one transaction, read the current state, let the domain decide, append
//! the new events with consecutive sequence numbers, and update the projections (case row,
//! parties, deadlines, inbox). Two writers racing on one case collide on the event's primary
//! key or the version check; the loser retries against the new state.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::Timestamp;
use samverka_domain::Problem;
use samverka_domain::case::{Case, CaseId, CaseKind, Command, OpenCase, OpenHome, Phase, RecordedEvent};
use samverka_domain::deadlines::{Deadline, DeadlineKind, deadlines};
use samverka_domain::ids::Kommunkod;
use samverka_domain::message::{MessageId, MessageKind};
use samverka_domain::org::UnitId;
use samverka_domain::patient::{PatientId, ProtectedIdentity};
use serde::Serialize;
use sqlx::{Connection, FromRow};

use crate::access_log::{Audit, Outcome, insert_access_rows, logged_write};
use crate::case_cache::{Cached, Timeline, Versioned};
use crate::snapshot::Snapshot;
use crate::sql::{enum_str, from_micros, is_unique_violation, micros, parse_enum, placeholders, uuid};
use crate::{Db, Result, Store, StoreError, on_db};

/// How a case begins.
#[derive(Clone, Copy)]
enum Opening<'a> {
    Admission(&'a OpenCase),
    /// A draft from the admission feed.
    Draft(&'a OpenCase),
    Home(&'a OpenHome),
}

/// A case as stored: its derived state and the agreement that governs it. The state is shared
/// with what the store keeps of the case (see `case_cache`), so passing it on copies nothing.
#[derive(Debug, Clone)]
pub struct CaseRecord {
    pub case: Arc<Case>,
    pub agreement_id: String,
}

impl From<&Cached> for CaseRecord {
    fn from(kept: &Cached) -> Self {
        CaseRecord { case: kept.case.clone(), agreement_id: kept.agreement_id.clone() }
    }
}

/// One line of a unit's case list.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseSummary {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub case_id: CaseId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub patient_id: PatientId,
    pub patient_name: String,
    pub patient_identifier: String,
    pub protection: ProtectedIdentity,
    pub phase: Phase,
    pub kind: CaseKind,
    /// The ward the patient is on; for a coordination at home, the unit that started it.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub ward_id: UnitId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub admitted_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    /// Unmet deadlines of the case, earliest first.
    pub open_deadlines: Vec<DueDeadline>,
}

/// A deadline not yet met.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DueDeadline {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub case_id: CaseId,
    pub kind: DeadlineKind,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub owner: Option<UnitId>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub due: Timestamp,
    pub estimated: bool,
}

/// A due deadline with its case's patient, for an inbox.
#[derive(Debug, Clone)]
pub struct DueForPatient {
    pub deadline: DueDeadline,
    pub patient_name: String,
    pub protection: ProtectedIdentity,
}

/// A message in a unit's inbox with its receipt at that unit.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboxItem {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub message_id: MessageId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub case_id: CaseId,
    pub kind: MessageKind,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub sender_unit_id: UnitId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub sent_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub opened_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub acknowledged_at: Option<Timestamp>,
    pub mis_sent: bool,
    pub patient_name: String,
    pub patient_identifier: String,
    pub protection: ProtectedIdentity,
}

/// How many times a write is tried again after losing a race with another writer.
const MAX_ATTEMPTS: usize = 8;

/// Message ids whose state the events change, so only those message and inbox rows are
/// rewritten.
fn touched_messages(events: &[RecordedEvent]) -> BTreeSet<MessageId> {
    events.iter().flat_map(|e| e.event.messages_changed()).collect()
}

/// Rows to write for one case after a change.
pub(crate) struct Projection {
    pub(crate) state: Snapshot,
    pub(crate) phase: &'static str,
    pub(crate) ward_id: String,
    pub(crate) first_ready_at: Option<i64>,
    pub(crate) discharged_at: Option<i64>,
    pub(crate) parties: Vec<(String, i64)>,
    pub(crate) deadlines: Vec<Deadline>,
    pub(crate) inbox: Vec<InboxRow>,
    /// The case's messages that changed (`case_messages`).
    pub(crate) messages: Vec<MessageRow>,
    /// Consents to link to the case (all of them for a new case, after `since` only new ones).
    pub(crate) consents: Vec<String>,
    pub(crate) followup: Option<samverka_domain::followup::CaseFacts>,
    pub(crate) acks: crate::followup::AckMap,
    /// Whether the stored parties and deadlines must be rewritten (most writes, a message or
    /// a receipt, change neither).
    pub(crate) parties_changed: bool,
    pub(crate) deadlines_changed: bool,
}

/// One message of a case as stored: its place in the case and its state's JSON.
pub(crate) struct MessageRow {
    pub(crate) message_id: String,
    pub(crate) ord: i64,
    pub(crate) data: String,
}

/// What a command's projection is compared with: the case as it was before the command.
pub(crate) struct Before {
    parties: Vec<(String, i64)>,
    deadlines: Vec<Deadline>,
    consents: BTreeSet<String>,
}

impl Before {
    pub(crate) fn of(case: &Case, agreement: &samverka_domain::agreement::Agreement, now: Timestamp) -> Self {
        Before {
            parties: parties(case),
            deadlines: deadlines(case, agreement, now),
            consents: case.consents.0.iter().map(|c| c.id.to_string()).collect(),
        }
    }
}

fn parties(case: &Case) -> Vec<(String, i64)> {
    case.parties.iter().map(|p| (p.unit.id.to_string(), micros(p.since))).collect()
}

pub(crate) struct InboxRow {
    pub(crate) unit_id: String,
    pub(crate) message_id: String,
    pub(crate) kind: String,
    pub(crate) sender: String,
    pub(crate) sent_at: i64,
    pub(crate) opened_at: Option<i64>,
    pub(crate) acknowledged_at: Option<i64>,
    pub(crate) mis_sent: bool,
    pub(crate) case_open: bool,
}

impl Projection {
    /// The rows of `case`; of its messages, those in `touched`.
    pub(crate) fn of(
        case: &mut Case,
        agreement: &samverka_domain::agreement::Agreement,
        touched: &BTreeSet<MessageId>,
        now: Timestamp,
    ) -> Result<Self> {
        let mut messages = vec![];
        for (ord, m) in case.messages.iter().enumerate().filter(|(_, m)| touched.contains(&m.message.id)) {
            messages.push(MessageRow {
                message_id: m.message.id.to_string(),
                ord: ord as i64,
                data: serde_json::to_string(m).map_err(StoreError::corrupt)?,
            });
        }
        let mut inbox = vec![];
        // When the case has closed, every inbox row learns it (once: a closed case is not
        // written again).
        let open = case.phase().is_open();
        for m in case.messages.iter().filter(|m| !open || touched.contains(&m.message.id)) {
            for r in &m.receipts {
                inbox.push(InboxRow {
                    unit_id: r.unit.id.to_string(),
                    message_id: m.message.id.to_string(),
                    kind: enum_str(&m.message.body.kind()),
                    sender: m.message.sender.id.to_string(),
                    sent_at: micros(m.sent.at),
                    opened_at: r.opened.as_ref().map(|s| micros(s.at)),
                    acknowledged_at: r.acknowledged.as_ref().map(|s| micros(s.at)),
                    mis_sent: r.mis_sent.is_some(),
                    case_open: open,
                });
            }
        }
        Ok(Projection {
            state: Snapshot::of(case)?,
            phase: case.phase().as_str(),
            ward_id: case.ward().id.to_string(),
            first_ready_at: case.ready_periods.first().map(|p| micros(p.from)),
            discharged_at: case.discharged_at.map(micros),
            parties: parties(case),
            deadlines: deadlines(case, agreement, now),
            inbox,
            messages,
            consents: case.consents.0.iter().map(|c| c.id.to_string()).collect(),
            followup: samverka_domain::followup::CaseFacts::of(case, agreement, now),
            acks: crate::followup::ack_map(case),
            parties_changed: true,
            deadlines_changed: true,
        })
    }

    /// Leaves out the rewrite of what is the same as in the case's previous state.
    pub(crate) fn since(mut self, before: &Before) -> Self {
        self.parties_changed = before.parties != self.parties;
        // What is stored of a deadline does not depend on `now` (only its status does).
        let stored = |d: &Deadline| (d.kind, d.owner, d.due, d.met_at, d.estimated);
        self.deadlines_changed = !before.deadlines.iter().map(stored).eq(self.deadlines.iter().map(stored));
        self.consents.retain(|c| !before.consents.contains(c));
        self
    }
}

/// Writes a projection inside a transaction; expanded once per database driver. `$followup`
/// and `$ward_hospital` are what `write_followup!` needs from the stored case.
macro_rules! write_projection {
    ($tx:ident, $case_id:expr, $p:expr, $followup:expr, $ward_hospital:expr) => {{
        let case_id: String = $case_id;
        let p: &Projection = $p;
        // Parties can also leave (a unit reached only by a mis-sent message): rewrite them.
        if p.parties_changed {
            sqlx::query("DELETE FROM case_parties WHERE case_id = $1").bind(&case_id).execute(&mut *$tx).await?;
        }
        for (unit, since) in p.parties.iter().filter(|_| p.parties_changed) {
            sqlx::query("INSERT INTO case_parties (case_id, unit_id, since) VALUES ($1, $2, $3)")
                .bind(&case_id)
                .bind(unit)
                .bind(since)
                .execute(&mut *$tx)
                .await?;
        }
        if p.deadlines_changed {
            sqlx::query("DELETE FROM case_deadlines WHERE case_id = $1").bind(&case_id).execute(&mut *$tx).await?;
        }
        for d in p.deadlines.iter().filter(|_| p.deadlines_changed) {
            sqlx::query(
                "INSERT INTO case_deadlines (case_id, kind, owner_unit_id, due_at, met_at, estimated) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&case_id)
            .bind(enum_str(&d.kind))
            .bind(d.owner.map(|o| o.to_string()))
            .bind(micros(d.due))
            .bind(d.met_at.map(micros))
            .bind(d.estimated)
            .execute(&mut *$tx)
            .await?;
        }
        crate::followup::write_followup!($tx, &case_id, p.followup.as_ref(), &p.acks, $followup, $ward_hospital);
        for consent in &p.consents {
            sqlx::query("INSERT INTO case_consents (consent_id, case_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(consent)
                .bind(&case_id)
                .execute(&mut *$tx)
                .await?;
        }
        if !p.messages.is_empty() {
            let mut q = sqlx::QueryBuilder::new("INSERT INTO case_messages (case_id, message_id, ord, data) ");
            q.push_values(&p.messages, |mut row, m| {
                row.push_bind(&case_id).push_bind(&m.message_id).push_bind(m.ord).push_bind(&m.data);
            });
            q.push(" ON CONFLICT (case_id, message_id) DO UPDATE SET ord = excluded.ord, data = excluded.data");
            q.build().execute(&mut *$tx).await?;
        }
        // One statement for all the units a message reaches (a message reaches each unit once).
        if !p.inbox.is_empty() {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO inbox (unit_id, message_id, case_id, kind, sender_unit_id, sent_at, opened_at, \
                 acknowledged_at, mis_sent, case_open) ",
            );
            q.push_values(&p.inbox, |mut row, i| {
                row.push_bind(&i.unit_id)
                    .push_bind(&i.message_id)
                    .push_bind(&case_id)
                    .push_bind(&i.kind)
                    .push_bind(&i.sender)
                    .push_bind(i.sent_at)
                    .push_bind(i.opened_at)
                    .push_bind(i.acknowledged_at)
                    .push_bind(i.mis_sent)
                    .push_bind(i.case_open);
            });
            q.push(
                " ON CONFLICT (unit_id, case_id, message_id) DO UPDATE SET opened_at = excluded.opened_at, \
                 acknowledged_at = excluded.acknowledged_at, mis_sent = excluded.mis_sent, case_open = excluded.case_open",
            );
            q.build().execute(&mut *$tx).await?;
        }
    }};
}

/// Appends a command's events in one statement; expanded once per database driver.
macro_rules! insert_events {
    ($tx:ident, $case_id:expr, $events:expr) => {{
        let events: &[RecordedEvent] = $events;
        let mut data = Vec::with_capacity(events.len());
        for e in events {
            data.push(serde_json::to_string(e).map_err(StoreError::corrupt)?);
        }
        let mut q =
            sqlx::QueryBuilder::new("INSERT INTO case_events (case_id, seq, at, user_id, unit_id, kind, data) ");
        q.push_values(events.iter().zip(data), |mut row, (e, data)| {
            row.push_bind(&$case_id)
                .push_bind(e.seq as i64)
                .push_bind(micros(e.at))
                .push_bind(e.actor.user.id.to_string())
                .push_bind(e.actor.unit.id.to_string())
                .push_bind(e.event.name())
                .push_bind(data);
        });
        // Callers write only when there are events: an empty VALUES list is not SQL.
        if events.is_empty() { Ok(()) } else { q.build().execute(&mut *$tx).await.map(|_| ()) }
    }};
}

/// A case as a command finds it: its state and what its writes compare with, in one statement.
#[derive(FromRow)]
struct StoredCase {
    /// `None` when this process keeps the case at the stored version (see `case_cache`).
    state: Option<Snapshot>,
    version: i64,
    agreement_id: String,
    protection: String,
    ward_id: String,
    /// The ward's hospital (for the follow-up figures).
    hospital: Option<String>,
    /// The stored follow-up contribution; `followup_acks` is `None` when there is none.
    followup_facts: Option<String>,
    followup_acks: Option<String>,
}

macro_rules! stored_case_select {
    () => {
        "SELECT CASE WHEN c.version = $2 THEN NULL ELSE c.state END AS state, c.version, c.agreement_id, p.protection, c.ward_id, \
                (SELECT u.hospital FROM units u WHERE u.id = c.ward_id) AS hospital, \
                f.facts AS followup_facts, f.acks AS followup_acks \
         FROM cases c JOIN patients p ON p.id = c.patient_id LEFT JOIN case_followup f ON f.case_id = c.id"
    };
}

/// Decides a command on the stored case and writes what it changes (events, case row,
/// projections, access-log entry) in one transaction of `$conn` (a pool, or on SQLite the
/// batch's connection, where the transaction is a savepoint). `None` when another writer got
/// there first. Expanded once per database driver.
macro_rules! decide_and_write {
    ($store:expr, $conn:expr, $select:expr, $case_id:expr, $audit:expr, $cmds:expr, $now:expr) => {{
        let id = $case_id.to_string();
        let mut tx = $conn.begin().await?;
        let kept = $store.cases.get($case_id);
        let row: Option<StoredCase> = sqlx::query_as($select)
            .bind(&id)
            .bind(kept.as_ref().map_or(-1, |k| i64::from(k.version())))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(StoredCase {
            state,
            version,
            agreement_id,
            protection,
            ward_id,
            hospital,
            followup_facts,
            followup_acks,
        }) = row
        else {
            return Err(Problem::not_found("case_not_found", "Ärendet finns inte.", "No such case.").into());
        };
        let agreement = $store.agreement(&agreement_id)?;
        let mut cached = match (state, kept) {
            // The stored version is the one this process keeps: nothing to read or parse. It
            // stays kept, as the current version, until this write commits.
            (None, Some(kept)) => Cached::clone(&kept),
            (Some(state), _) => {
                let mut case: Case = state.case()?;
                let messages_in_state = !case.messages.is_empty();
                let mut message_bytes = vec![0; case.messages.len()];
                if !messages_in_state {
                    let rows: Vec<(i64, String)> =
                        sqlx::query_as("SELECT ord, data FROM case_messages WHERE case_id = $1")
                            .bind(&id)
                            .fetch_all(&mut *tx)
                            .await?;
                    message_bytes = stored_sizes(&rows);
                    case.messages = parse_messages(rows)?;
                }
                Cached {
                    case: Arc::new(case),
                    agreement_id,
                    state_bytes: state.len(),
                    message_bytes,
                    messages_in_state,
                }
            }
            (None, None) => return Err(StoreError::corrupt("the case's state was not read")),
        };
        // A state written before messages had rows of their own carries them; this write
        // moves them all.
        let moved: BTreeSet<MessageId> = if cached.messages_in_state {
            cached.case.messages.iter().map(|m| m.message.id).collect()
        } else {
            BTreeSet::new()
        };
        // The one copy a write makes of a kept case (none of one just read).
        let case = Arc::make_mut(&mut cached.case);
        let before = Before::of(case, &agreement, $now);
        let protected = parse_enum::<ProtectedIdentity>(&protection)?.is_protected();
        // Each command is decided on the state the ones before it left; one access-log entry
        // each.
        let mut logs = Vec::new();
        let mut recorded: Vec<RecordedEvent> = Vec::new();
        for cmd in $cmds {
            let action = format!("case.{}", command_name(&cmd));
            logs.push($audit.entry(
                &action,
                $now,
                Some(case.patient_id),
                Some(case.id),
                Outcome::Allowed,
                None,
                protected,
            ));
            for event in case.decide(&$audit.actor, cmd, $now)? {
                let e = RecordedEvent {
                    seq: version as u32 + 1 + recorded.len() as u32,
                    at: $now,
                    actor: $audit.actor.clone(),
                    event,
                };
                case.apply(&e);
                recorded.push(e);
            }
        }
        // The accesses happened whether or not anything changes; one statement for all.
        if !logs.is_empty() {
            insert_access_rows!(&mut *tx, &logs)?;
        }
        if recorded.is_empty() {
            tx.commit().await?;
            return Ok(Some((cached, vec![])));
        }
        match insert_events!(tx, id, &recorded) {
            Err(e) if is_unique_violation(&e) => return Ok(None),
            other => other?,
        }
        let mut touched = touched_messages(&recorded);
        touched.extend(moved);
        let p = Projection::of(case, &agreement, &touched, $now)?.since(&before);
        let updated = sqlx::query(
            "UPDATE cases SET phase = $2, version = $3, ward_id = $4, first_ready_at = $5, discharged_at = $6, \
             updated_at = $7, state = $8 WHERE id = $1 AND version = $9",
        )
        .bind(&id)
        .bind(p.phase)
        .bind(case.version as i64)
        .bind(&p.ward_id)
        .bind(p.first_ready_at)
        .bind(p.discharged_at)
        .bind(micros($now))
        .bind(&p.state)
        .bind(version)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Ok(None);
        }
        write_projection!(
            tx,
            id.clone(),
            &p,
            followup_acks.map(|acks| (followup_facts, acks)),
            Some((ward_id.as_str(), hospital))
        );
        tx.commit().await?;
        cached.messages_in_state = false;
        cached.state_bytes = p.state.len();
        cached.message_bytes.resize(cached.case.messages.len(), 0);
        for m in &p.messages {
            cached.message_bytes[m.ord as usize] = m.data.len() as u32;
        }
        Ok(Some((cached, recorded)))
    }};
}

#[derive(FromRow)]
struct SummaryRow {
    id: String,
    patient_id: String,
    phase: String,
    kind: String,
    ward_id: String,
    admitted_at: i64,
    updated_at: i64,
    given_name: String,
    family_name: String,
    identifier: String,
    protection: String,
}

#[derive(FromRow)]
struct DeadlineRow {
    case_id: String,
    kind: String,
    owner_unit_id: Option<String>,
    due_at: i64,
    estimated: bool,
}

#[derive(FromRow)]
struct DueRow {
    #[sqlx(flatten)]
    deadline: DeadlineRow,
    given_name: String,
    family_name: String,
    protection: String,
}

impl DeadlineRow {
    fn into_domain(self) -> Result<DueDeadline> {
        Ok(DueDeadline {
            case_id: uuid(&self.case_id)?,
            kind: parse_enum(&self.kind)?,
            owner: self.owner_unit_id.map(|o| uuid(&o)).transpose()?,
            due: from_micros(self.due_at)?,
            estimated: self.estimated,
        })
    }
}

#[derive(FromRow)]
struct InboxQueryRow {
    message_id: String,
    case_id: String,
    kind: String,
    sender_unit_id: String,
    sent_at: i64,
    opened_at: Option<i64>,
    acknowledged_at: Option<i64>,
    mis_sent: bool,
    given_name: String,
    family_name: String,
    identifier: String,
    protection: String,
}

/// A case's messages from their rows (`ord`, JSON), in the order sent.
fn parse_messages(mut rows: Vec<(i64, String)>) -> Result<Vec<samverka_domain::message::MessageState>> {
    rows.sort_unstable_by_key(|(ord, _)| *ord);
    rows.into_iter().map(|(_, d)| serde_json::from_str(&d).map_err(StoreError::corrupt)).collect()
}

/// One row of a read of cases with their messages (see [`with_messages!`]): a case's state,
/// or one of its messages.
#[derive(FromRow)]
struct StateRow {
    case_id: String,
    agreement_id: Option<String>,
    /// Set on a case's row, `None` on a message's.
    version: Option<i64>,
    state: Option<Snapshot>,
    ord: Option<i64>,
    data: Option<String>,
}

/// One statement, so one snapshot of the database, that reads the cases `chosen` by a query
/// (`id, agreement_id, version, state`) and the messages of those whose state it read: a row
/// per case, and one per message.
macro_rules! with_messages {
    ($chosen:expr) => {
        concat!(
            "WITH chosen AS (",
            $chosen,
            ") SELECT id AS case_id, agreement_id, version, state, CAST(NULL AS BIGINT) AS ord, \
                CAST(NULL AS TEXT) AS data FROM chosen \
             UNION ALL \
             SELECT m.case_id, NULL, NULL, NULL, m.ord, m.data FROM case_messages m \
                JOIN chosen c ON c.id = m.case_id WHERE c.state IS NOT NULL"
        )
    };
}

/// The stored size of each message row, in the case's order.
fn stored_sizes(rows: &[(i64, String)]) -> Vec<u32> {
    let mut sizes = vec![0; rows.len()];
    for (ord, data) in rows {
        if let Some(size) = sizes.get_mut(*ord as usize) {
            *size = data.len() as u32;
        }
    }
    sizes
}

/// The cases of [`with_messages!`] rows whose state was read, in the order read.
fn assemble(rows: Vec<StateRow>) -> Result<Vec<Cached>> {
    let mut messages: std::collections::HashMap<String, Vec<(i64, String)>> = std::collections::HashMap::new();
    let mut states = vec![];
    for row in rows {
        match (row.version, row.state, row.ord, row.data) {
            (Some(_), Some(state), _, _) => states.push((row.case_id, row.agreement_id.unwrap_or_default(), state)),
            (None, None, Some(ord), Some(data)) => messages.entry(row.case_id).or_default().push((ord, data)),
            _ => return Err(StoreError::corrupt("a case row without its state")),
        }
    }
    states
        .into_iter()
        .map(|(id, agreement_id, state)| {
            let mut case = state.case()?;
            let messages_in_state = !case.messages.is_empty();
            let mut message_bytes = vec![0; case.messages.len()];
            if let Some(rows) = messages.remove(&id) {
                message_bytes = stored_sizes(&rows);
                case.messages = parse_messages(rows)?;
            }
            Ok(Cached {
                case: Arc::new(case),
                agreement_id,
                state_bytes: state.len(),
                message_bytes,
                messages_in_state,
            })
        })
        .collect()
}

/// Events as stored (their JSON), in the order read.
fn parse_events(rows: Vec<(String,)>) -> Result<Vec<RecordedEvent>> {
    rows.into_iter().map(|(d,)| serde_json::from_str(&d).map_err(StoreError::corrupt)).collect()
}

impl Store {
    fn agreement(&self, id: &str) -> Result<std::sync::Arc<samverka_domain::agreement::Agreement>> {
        self.agreements.get(id).ok_or_else(|| {
            StoreError::Problem(Problem::conflict(
                "unknown_agreement",
                format!("Överenskommelsen \"{id}\" finns inte i Samverkas inställningar. Kontakta administratören."),
                format!("Unknown agreement {id}."),
            ))
        })
    }

    /// Opens a case (its first event) and says whether it was created now. Opening the same
    /// case id again returns it unchanged (`false`), so a retried request is safe; the caller
    /// decides whether the existing case may be shown and logs that.
    pub async fn open_case(
        &self,
        open: &OpenCase,
        agreement_id: &str,
        audit: &Audit,
        now: Timestamp,
    ) -> Result<(CaseRecord, bool)> {
        self.open(Opening::Admission(open), agreement_id, audit, now).await
    }

    /// Starts a coordination at home (see [`Case::open_home`]); the same retry rule as
    /// [`Store::open_case`].
    pub async fn open_home_case(
        &self,
        open: &OpenHome,
        agreement_id: &str,
        audit: &Audit,
        now: Timestamp,
    ) -> Result<(CaseRecord, bool)> {
        self.open(Opening::Home(open), agreement_id, audit, now).await
    }

    /// Opens a draft case from the hospital's admission feed (see [`Case::open_draft`]); the
    /// same retry rule as [`Store::open_case`].
    pub async fn open_draft_case(
        &self,
        open: &OpenCase,
        agreement_id: &str,
        audit: &Audit,
        now: Timestamp,
    ) -> Result<(CaseRecord, bool)> {
        self.open(Opening::Draft(open), agreement_id, audit, now).await
    }

    async fn open(
        &self,
        opening: Opening<'_>,
        agreement_id: &str,
        audit: &Audit,
        now: Timestamp,
    ) -> Result<(CaseRecord, bool)> {
        let actor = &audit.actor;
        let agreement = self.agreement(agreement_id)?;
        let (case_id, patient_id) = match opening {
            Opening::Admission(o) | Opening::Draft(o) => (o.case_id, o.patient_id),
            Opening::Home(o) => (o.case_id, o.patient_id),
        };
        if let Some(existing) = self.case(case_id).await? {
            return Ok((existing, false));
        }
        let protected = self.patient(patient_id).await?.is_some_and(|p| p.protection.is_protected());
        let (action, event) = match opening {
            Opening::Admission(o) => ("case.open", Case::open(o, actor, now)?),
            Opening::Draft(o) => ("case.open_draft", Case::open_draft(o, actor, now)?),
            Opening::Home(o) => ("case.open_home", Case::open_home(o, actor, now)?),
        };
        let log = audit.entry(action, now, Some(patient_id), Some(case_id), Outcome::Allowed, None, protected);
        let recorded = RecordedEvent { seq: 1, at: now, actor: actor.clone(), event };
        let mut case = Case::from_events([&recorded])?;
        let touched = case.messages.iter().map(|m| m.message.id).collect();
        let projection = Projection::of(&mut case, &agreement, &touched, now)?;
        let id = case.id.to_string();
        let events = [recorded];
        let inserted = logged_write!(self, &log, |tx| {
            // The same id again is a retry: it answers with the case as it is (and is logged,
            // as the access it is). ON CONFLICT keeps the transaction usable on PostgreSQL,
            // where a failed statement would end it.
            let first = sqlx::query(
                "INSERT INTO cases (id, patient_id, agreement_id, kommunkod, ward_id, phase, version, admitted_at, \
                 first_ready_at, discharged_at, updated_at, state, kind) \
                 VALUES ($1, $2, $3, $4, $5, $6, 1, $7, NULL, NULL, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&id)
            .bind(case.patient_id.to_string())
            .bind(agreement_id)
            .bind(case.kommun.as_str())
            .bind(&projection.ward_id)
            .bind(projection.phase)
            .bind(micros(case.admitted_at))
            .bind(micros(now))
            .bind(&projection.state)
            .bind(case.kind().as_str())
            .execute(&mut *tx)
            .await?;
            let inserted = first.rows_affected() == 1;
            if inserted {
                insert_events!(tx, id, &events)?;
                // A new case: no follow-up contribution is stored yet.
                write_projection!(tx, id.clone(), &projection, None, None);
            }
            inserted
        });
        if !inserted {
            let existing = self.case(case_id).await?.ok_or_else(|| StoreError::corrupt("case vanished"))?;
            return Ok((existing, false));
        }
        let kept = Cached {
            case: Arc::new(case),
            agreement_id: agreement_id.to_string(),
            state_bytes: projection.state.len(),
            message_bytes: projection.messages.iter().map(|m| m.data.len() as u32).collect(),
            messages_in_state: false,
        };
        let record = CaseRecord::from(&kept);
        self.cases.keep(kept);
        Ok((record, true))
    }

    /// Carries out a command on a case. Returns the new state and the events appended (none
    /// when the command had already been carried out).
    /// The access-log entry (action `case.<command>`) is written in the same transaction as
    /// the events, so the log survives a crash exactly as surely as the change it records.
    pub async fn execute(
        &self,
        case_id: CaseId,
        audit: &Audit,
        cmd: Command,
        now: Timestamp,
    ) -> Result<(CaseRecord, Vec<RecordedEvent>)> {
        self.execute_all(case_id, audit, vec![cmd], now).await
    }

    /// Carries out several commands on a case as one change: each is decided on the state the
    /// ones before it left, and if one is refused, none is carried out.
    pub async fn execute_all(
        &self,
        case_id: CaseId,
        audit: &Audit,
        cmds: Vec<Command>,
        now: Timestamp,
    ) -> Result<(CaseRecord, Vec<RecordedEvent>)> {
        if cmds.is_empty() {
            return Err(Problem::invalid("no_command", "Ingen åtgärd angavs.", "No command given.").into());
        }
        for attempt in 1..=MAX_ATTEMPTS {
            match self.try_execute(case_id, audit, cmds.clone(), now).await? {
                Some(done) => return Ok(done),
                None => tracing::debug!(%case_id, attempt, "lost a race on the case; trying again"),
            }
        }
        Err(StoreError::Problem(Problem::conflict(
            "busy",
            "Ärendet ändras av många samtidigt. Försök igen om en stund.",
            "The case is being changed by others; try again.",
        )))
    }

    /// One attempt; `None` when another writer got there first.
    async fn try_execute(
        &self,
        case_id: CaseId,
        audit: &Audit,
        cmds: Vec<Command>,
        now: Timestamp,
    ) -> Result<Option<(CaseRecord, Vec<RecordedEvent>)>> {
        // While the disk is full only the access log is written (see `disk`).
        self.disk.check_writable()?;
        let done: Option<(Cached, Vec<RecordedEvent>)> = match &self.db {
            // SQLite has a single writer connection, which already serialises writers; the
            // commands waiting for it are committed together (`batch`), and `run` answers once
            // that commit is done.
            Db::Sqlite { writer, .. } => {
                const SELECT: &str = concat!(stored_case_select!(), " WHERE c.id = $1");
                let (store, audit) = (self.clone(), audit.clone());
                self.commands
                    .run(writer, move |conn| {
                        Box::pin(async move { decide_and_write!(store, conn, SELECT, case_id, audit, cmds, now) })
                    })
                    .await?
            }
            // PostgreSQL: lock the case row so writers to one case queue instead of colliding.
            Db::Postgres(pg) => {
                const SELECT: &str = concat!(stored_case_select!(), " WHERE c.id = $1 FOR UPDATE OF c");
                let attempt: Result<Option<(Cached, Vec<RecordedEvent>)>> =
                    async { decide_and_write!(self, pg, SELECT, case_id, audit, cmds, now) }.await;
                attempt?
            }
        };
        // Committed: this version may answer the next read.
        Ok(done.map(|(cached, recorded)| {
            let record = CaseRecord::from(&cached);
            self.cases.keep(cached);
            (record, recorded)
        }))
    }

    /// A case as it is now: the one this process keeps when the database says it is still
    /// current, else read (in one statement) and kept.
    pub async fn case(&self, id: CaseId) -> Result<Option<CaseRecord>> {
        const SELECT: &str = with_messages!(
            "SELECT id, agreement_id, version, CASE WHEN version = $2 THEN NULL ELSE state END AS state \
             FROM cases WHERE id = $1"
        );
        let kept = self.cases.get(id);
        let rows: Vec<StateRow> = on_db!(self, read, |pool| sqlx::query_as(SELECT)
            .bind(id.to_string())
            .bind(kept.as_ref().map_or(-1, |k| i64::from(k.version())))
            .fetch_all(pool)
            .await?);
        if rows.iter().any(|r| r.version.is_some() && r.state.is_none()) {
            let kept = kept.ok_or_else(|| StoreError::corrupt("the case's state was not read"))?;
            return Ok(Some(CaseRecord::from(&*kept)));
        }
        let Some(cached) = assemble(rows)?.pop() else { return Ok(None) };
        let record = CaseRecord::from(&cached);
        self.cases.keep(cached);
        Ok(Some(record))
    }

    /// Forgets the cases this process keeps, so that the next read of each goes to the
    /// database (what a newly started process would read).
    pub fn forget_kept_cases(&self) {
        self.cases.clear();
        self.timelines.clear();
    }

    /// The full history of a case, oldest first.
    pub async fn case_events(&self, id: CaseId) -> Result<Vec<RecordedEvent>> {
        let rows: Vec<(String,)> =
            on_db!(self, read, |pool| sqlx::query_as("SELECT data FROM case_events WHERE case_id = $1 ORDER BY seq")
                .bind(id.to_string())
                .fetch_all(pool)
                .await?);
        parse_events(rows)
    }

    /// A case's history as its page shows it, oldest first: without the deliveries of messages
    /// (about four in ten events of an open case), which the page shows with each message's
    /// receipts instead, so they are neither read nor parsed.
    ///
    /// `version` is the case's as read: events up to it never change, so the timeline is kept
    /// by version, and a later version reads only the events after the one kept.
    pub async fn case_timeline(&self, id: CaseId, version: u32) -> Result<Arc<[RecordedEvent]>> {
        let kept = self.timelines.get(id).filter(|t| t.version <= version);
        if let Some(t) = kept.as_ref().filter(|t| t.version == version) {
            return Ok(t.events.clone());
        }
        let after = kept.as_ref().map_or(0, |t| t.version);
        let rows: Vec<(String,)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT data FROM case_events WHERE case_id = $1 AND seq > $2 AND seq <= $3 AND kind <> $4 ORDER BY seq"
        )
        .bind(id.to_string())
        .bind(i64::from(after))
        .bind(i64::from(version))
        // `CaseEvent::name` of a delivery, the `kind` it is stored with.
        .bind("message_delivered")
        .fetch_all(pool)
        .await?);
        let bytes: u64 = rows.iter().map(|(d,)| d.len() as u64).sum();
        let new = parse_events(rows)?;
        let (events, bytes): (Arc<[RecordedEvent]>, u64) = match kept {
            Some(t) => (t.events.iter().cloned().chain(new).collect(), t.bytes + bytes),
            None => (new.into(), bytes),
        };
        self.timelines.keep(Timeline { case_id: id, version, events: events.clone(), bytes });
        Ok(events)
    }

    /// Cases the unit takes part in, most recently changed first, with their open deadlines.
    pub async fn cases_for_unit(&self, unit: UnitId, include_closed: bool, limit: i64) -> Result<Vec<CaseSummary>> {
        let rows: Vec<SummaryRow> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT c.id, c.patient_id, c.phase, c.kind, c.ward_id, c.admitted_at, c.updated_at, \
                    p.given_name, p.family_name, p.identifier, p.protection \
             FROM case_parties cp JOIN cases c ON c.id = cp.case_id JOIN patients p ON p.id = c.patient_id \
             WHERE cp.unit_id = $1 AND ($2 OR c.phase NOT IN ('closed', 'cancelled')) \
             ORDER BY c.updated_at DESC LIMIT $3"
        )
        .bind(unit.to_string())
        .bind(include_closed)
        .bind(limit)
        .fetch_all(pool)
        .await?);
        self.summaries(rows).await
    }

    /// The ward's drafts from the admission feed, waiting for its judgement of the needs.
    pub async fn drafts_for_ward(&self, ward: UnitId) -> Result<Vec<CaseSummary>> {
        let rows: Vec<SummaryRow> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT c.id, c.patient_id, c.phase, c.kind, c.ward_id, c.admitted_at, c.updated_at, \
                    p.given_name, p.family_name, p.identifier, p.protection \
             FROM cases c JOIN patients p ON p.id = c.patient_id \
             WHERE c.ward_id = $1 AND c.phase = 'awaiting_assessment' ORDER BY c.admitted_at"
        )
        .bind(ward.to_string())
        .fetch_all(pool)
        .await?);
        self.summaries(rows).await
    }

    /// The cases holding a message with this id (ids are unique only within a case).
    pub async fn cases_of_message(&self, message: samverka_domain::message::MessageId) -> Result<Vec<CaseId>> {
        let rows: Vec<String> =
            on_db!(self, read, |pool| sqlx::query_scalar("SELECT DISTINCT case_id FROM inbox WHERE message_id = $1")
                .bind(message.to_string())
                .fetch_all(pool)
                .await?);
        rows.iter().map(|r| uuid(r)).collect()
    }

    /// The cases a consent was recorded in (one, unless two cases chose the same id).
    pub async fn cases_of_consent(&self, consent: uuid::Uuid) -> Result<Vec<CaseId>> {
        let rows: Vec<String> =
            on_db!(self, read, |pool| sqlx::query_scalar("SELECT case_id FROM case_consents WHERE consent_id = $1")
                .bind(consent.to_string())
                .fetch_all(pool)
                .await?);
        rows.iter().map(|r| uuid(r)).collect()
    }

    /// Cases of one patient (newest first).
    pub async fn cases_for_patient(&self, patient: PatientId) -> Result<Vec<CaseSummary>> {
        let rows: Vec<SummaryRow> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT c.id, c.patient_id, c.phase, c.kind, c.ward_id, c.admitted_at, c.updated_at, \
                    p.given_name, p.family_name, p.identifier, p.protection \
             FROM cases c JOIN patients p ON p.id = c.patient_id WHERE c.patient_id = $1 ORDER BY c.admitted_at DESC"
        )
        .bind(patient.to_string())
        .fetch_all(pool)
        .await?);
        self.summaries(rows).await
    }

    /// The person's open coordination at home, if any (there is at most one).
    pub async fn open_home_coordination(&self, patient: PatientId) -> Result<Option<Arc<Case>>> {
        for summary in self.cases_for_patient(patient).await? {
            if summary.kind == CaseKind::Home
                && summary.phase.is_open()
                && let Some(record) = self.case(summary.case_id).await?
            {
                return Ok(Some(record.case));
            }
        }
        Ok(None)
    }

    /// The person's coordination at home whose SIP is in force: what a new discharge case of
    /// theirs links to ([`samverka_domain::case::sip_in_force_at_home`]).
    pub async fn sip_at_home(&self, patient: PatientId) -> Result<Option<CaseId>> {
        let open = self.open_home_coordination(patient).await?;
        Ok(samverka_domain::case::sip_in_force_at_home(open.as_deref()))
    }

    /// A patient's cases in which `unit` takes part, newest first (what a unit's search for a
    /// patient shows).
    pub async fn cases_of_patient_for_unit(&self, patient: PatientId, unit: UnitId) -> Result<Vec<CaseSummary>> {
        let rows: Vec<SummaryRow> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT c.id, c.patient_id, c.phase, c.kind, c.ward_id, c.admitted_at, c.updated_at, \
                    p.given_name, p.family_name, p.identifier, p.protection \
             FROM cases c JOIN patients p ON p.id = c.patient_id \
             WHERE c.patient_id = $1 \
               AND EXISTS (SELECT 1 FROM case_parties cp WHERE cp.case_id = c.id AND cp.unit_id = $2) \
             ORDER BY c.updated_at DESC"
        )
        .bind(patient.to_string())
        .bind(unit.to_string())
        .fetch_all(pool)
        .await?);
        self.summaries(rows).await
    }

    /// Whether a unit takes part in the care of a patient: a party to one of the patient's
    /// cases, or the vårdcentral the patient is listed at.
    pub async fn patient_visible_to(&self, patient: PatientId, unit: UnitId) -> Result<bool> {
        let n: i64 = on_db!(self, read, |pool| sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM patients WHERE id = $1 AND listed_unit_id = $2) + \
                    (SELECT COUNT(*) FROM cases c JOIN case_parties cp ON cp.case_id = c.id \
                     WHERE c.patient_id = $1 AND cp.unit_id = $2)"
        )
        .bind(patient.to_string())
        .bind(unit.to_string())
        .fetch_one(pool)
        .await?);
        Ok(n > 0)
    }

    /// When each of these patients' records last changed (identity, name, address, listing).
    pub async fn patients_updated_at(
        &self,
        ids: &[PatientId],
    ) -> Result<std::collections::HashMap<PatientId, Timestamp>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let sql = format!("SELECT id, updated_at FROM patients WHERE id IN ({})", placeholders(1, ids.len()));
        let rows: Vec<(String, i64)> = on_db!(self, read, |pool| {
            // Only numbered placeholders are formatted into the text; the ids are bound.
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for id in ids {
                q = q.bind(id.to_string());
            }
            q.fetch_all(pool).await?
        });
        rows.into_iter().map(|(id, at)| Ok((uuid(&id)?, from_micros(at)?))).collect()
    }

    /// The latest admitted patients with a personnummer, for the demo's sign-in as a person:
    /// (name, personnummer), at most `n`.
    pub async fn recent_patients_with_cases(&self, n: i64) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, String, String)> = on_db!(self, read, |pool| {
            sqlx::query_as(
            "SELECT p.given_name, p.family_name, p.identifier FROM patients p \
             WHERE p.id_kind = 'personnummer' AND p.protection = 'none' \
             AND EXISTS (SELECT 1 FROM cases c WHERE c.patient_id = p.id AND c.phase <> 'cancelled' AND c.kind = 'discharge') \
             ORDER BY (SELECT MAX(c.admitted_at) FROM cases c WHERE c.patient_id = p.id AND c.kind = 'discharge') DESC LIMIT $1"
        )
        .bind(n)
        .fetch_all(pool)
        .await?
        });
        Ok(rows.into_iter().map(|(g, f, id)| (format!("{g} {f}"), id)).collect())
    }

    /// Which units take part in a case.
    pub async fn case_parties(&self, case: CaseId) -> Result<Vec<UnitId>> {
        let rows: Vec<(String,)> =
            on_db!(self, read, |pool| sqlx::query_as("SELECT unit_id FROM case_parties WHERE case_id = $1")
                .bind(case.to_string())
                .fetch_all(pool)
                .await?);
        rows.into_iter().map(|(u,)| uuid(&u)).collect()
    }

    async fn summaries(&self, rows: Vec<SummaryRow>) -> Result<Vec<CaseSummary>> {
        if rows.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT case_id, kind, owner_unit_id, due_at, estimated FROM case_deadlines \
             WHERE met_at IS NULL AND case_id IN ({}) ORDER BY due_at",
            placeholders(1, rows.len())
        );
        let deadline_rows: Vec<DeadlineRow> = on_db!(self, read, |pool| {
            // Only numbered placeholders are formatted into the text; the ids are bound.
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for r in &rows {
                q = q.bind(&r.id);
            }
            q.fetch_all(pool).await?
        });
        let deadlines = deadline_rows.into_iter().map(DeadlineRow::into_domain).collect::<Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|r| {
                let case_id = uuid(&r.id)?;
                Ok(CaseSummary {
                    case_id,
                    patient_id: uuid(&r.patient_id)?,
                    patient_name: format!("{} {}", r.given_name, r.family_name),
                    patient_identifier: r.identifier,
                    protection: parse_enum(&r.protection)?,
                    phase: parse_enum(&r.phase)?,
                    kind: parse_enum(&r.kind)?,
                    ward_id: uuid(&r.ward_id)?,
                    admitted_at: from_micros(r.admitted_at)?,
                    updated_at: from_micros(r.updated_at)?,
                    open_deadlines: deadlines.iter().filter(|d| d.case_id == case_id).cloned().collect(),
                })
            })
            .collect()
    }

    /// Unmet deadlines a unit owns that fall due before `before` (overdue ones included).
    pub async fn due_deadlines(&self, unit: UnitId, before: Timestamp) -> Result<Vec<DueDeadline>> {
        Ok(self.due_deadlines_with_patients(unit, before).await?.into_iter().map(|d| d.deadline).collect())
    }

    /// As [`Store::due_deadlines`], each with its patient's name and protection (what an inbox
    /// shows), in the same statement.
    pub async fn due_deadlines_with_patients(&self, unit: UnitId, before: Timestamp) -> Result<Vec<DueForPatient>> {
        let rows: Vec<DueRow> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT d.case_id, d.kind, d.owner_unit_id, d.due_at, d.estimated, \
                    p.given_name, p.family_name, p.protection FROM case_deadlines d \
             JOIN cases c ON c.id = d.case_id JOIN patients p ON p.id = c.patient_id \
             WHERE d.owner_unit_id = $1 AND d.met_at IS NULL AND d.due_at < $2 \
               AND c.phase NOT IN ('closed', 'cancelled') ORDER BY d.due_at"
        )
        .bind(unit.to_string())
        .bind(micros(before))
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|r| {
                Ok(DueForPatient {
                    patient_name: format!("{} {}", r.given_name, r.family_name),
                    protection: parse_enum(&r.protection)?,
                    deadline: r.deadline.into_domain()?,
                })
            })
            .collect()
    }

    /// The unit's inbox, newest first; unless `all`, only what it has yet to acknowledge in
    /// cases still open.
    pub async fn inbox(&self, unit: UnitId, all: bool, limit: i64) -> Result<Vec<InboxItem>> {
        // Two statements, so the pending one is planned on the partial index of pending rows.
        const ALL: &str = "SELECT i.message_id, i.case_id, i.kind, i.sender_unit_id, i.sent_at, i.opened_at, \
                    i.acknowledged_at, i.mis_sent, p.given_name, p.family_name, p.identifier, p.protection \
             FROM inbox i JOIN cases c ON c.id = i.case_id JOIN patients p ON p.id = c.patient_id \
             WHERE i.unit_id = $1 ORDER BY i.sent_at DESC LIMIT $2";
        const PENDING: &str = "SELECT i.message_id, i.case_id, i.kind, i.sender_unit_id, i.sent_at, i.opened_at, \
                    i.acknowledged_at, i.mis_sent, p.given_name, p.family_name, p.identifier, p.protection \
             FROM inbox i JOIN cases c ON c.id = i.case_id JOIN patients p ON p.id = c.patient_id \
             WHERE i.unit_id = $1 AND i.acknowledged_at IS NULL AND NOT i.mis_sent AND i.case_open \
             ORDER BY i.sent_at DESC LIMIT $2";
        let rows: Vec<InboxQueryRow> = on_db!(self, read, |pool| sqlx::query_as(if all { ALL } else { PENDING })
            .bind(unit.to_string())
            .bind(limit)
            .fetch_all(pool)
            .await?);
        rows.into_iter()
            .map(|r| {
                Ok(InboxItem {
                    message_id: uuid(&r.message_id)?,
                    case_id: uuid(&r.case_id)?,
                    kind: parse_enum(&r.kind)?,
                    sender_unit_id: uuid(&r.sender_unit_id)?,
                    sent_at: from_micros(r.sent_at)?,
                    opened_at: r.opened_at.map(from_micros).transpose()?,
                    acknowledged_at: r.acknowledged_at.map(from_micros).transpose()?,
                    mis_sent: r.mis_sent,
                    patient_name: format!("{} {}", r.given_name, r.family_name),
                    patient_identifier: r.identifier,
                    protection: parse_enum(&r.protection)?,
                })
            })
            .collect()
    }

    /// Messages the unit has neither acknowledged nor marked mis-sent, in open cases.
    pub async fn unread_count(&self, unit: UnitId) -> Result<i64> {
        Ok(on_db!(self, read, |pool| {
            sqlx::query_scalar(
            "SELECT COUNT(*) FROM inbox WHERE unit_id = $1 AND acknowledged_at IS NULL AND NOT mis_sent AND case_open"
        )
        .bind(unit.to_string())
        .fetch_one(pool)
        .await?
        }))
    }

    /// Cases of a municipality under an agreement that were ready for discharge at some time
    /// from `from` on: the candidates for an invoice basis whose window starts at `from`.
    pub async fn liability_cases(
        &self,
        kommun: &Kommunkod,
        agreement_id: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Case>> {
        // Two halves so each walks the (kommunkod, discharged_at) index: discharged within or
        // after the window, and still in hospital.
        const SELECT: &str = with_messages!(
            "SELECT id, agreement_id, version, state FROM cases WHERE kommunkod = $1 AND discharged_at >= $3 \
               AND agreement_id = $2 AND first_ready_at IS NOT NULL AND first_ready_at < $4 \
             UNION ALL \
             SELECT id, agreement_id, version, state FROM cases WHERE kommunkod = $1 AND discharged_at IS NULL \
               AND agreement_id = $2 AND first_ready_at IS NOT NULL AND first_ready_at < $4"
        );
        let rows: Vec<StateRow> = on_db!(self, read, |pool| sqlx::query_as(SELECT)
            .bind(kommun.as_str())
            .bind(agreement_id)
            .bind(micros(from))
            .bind(micros(to))
            .fetch_all(pool)
            .await?);
        Ok(assemble(rows)?.into_iter().map(|r| Arc::unwrap_or_clone(r.case)).collect())
    }

    /// Counts by phase, for the health page and the demo's report.
    pub async fn case_counts(&self) -> Result<Vec<(Phase, i64)>> {
        let rows: Vec<(String, i64)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT phase, COUNT(*) FROM cases GROUP BY phase ORDER BY phase"
        )
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(|(p, n)| Ok((parse_enum(&p)?, n))).collect()
    }
}

/// The command's name in the access log.
pub fn command_name(cmd: &Command) -> &'static str {
    match cmd {
        Command::SendMessage { .. } => "send_message",
        Command::OpenMessage { .. } => "open_message",
        Command::AcknowledgeMessage { .. } => "acknowledge_message",
        Command::MarkMisSent { .. } => "mark_mis_sent",
        Command::ForwardMessage { .. } => "forward_message",
        Command::TransferPatient { .. } => "transfer_patient",
        Command::RecordDischarge { .. } => "record_discharge",
        Command::CancelDischarge { .. } => "cancel_discharge",
        Command::ConfirmNeeds { .. } => "confirm_needs",
        Command::DismissDraft { .. } => "dismiss_draft",
        Command::AddParty { .. } => "add_party",
        Command::RecordConsent { .. } => "record_consent",
        Command::WithdrawConsent { .. } => "withdraw_consent",
        Command::DrawUpSip { .. } => "draw_up_sip",
        Command::FollowUpSip { .. } => "follow_up_sip",
        Command::RecordScreening { .. } => "record_screening",
        Command::RecordRoundNote { .. } => "record_round_note",
        Command::CompleteRoundAction { .. } => "complete_round_action",
        Command::CloseCase { .. } => "close_case",
        Command::ContinueAtHome { .. } => "continue_at_home",
        Command::Escalate { .. } => "escalate",
    }
}
