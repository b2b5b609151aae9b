//! The HL7 v2 messages received over MLLP: stored before they are answered, then marked with
//! what became of them.

use jiff::Timestamp;
use samverka_domain::case::CaseId;
use samverka_domain::patient::PatientId;
use serde::Serialize;
use sqlx::FromRow;
use uuid::Uuid;

use crate::sql::{from_micros, is_unique_violation, micros};
use crate::{Result, Store, StoreError, on_db};

/// What became of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hl7Status {
    /// Stored, not yet processed (or processing was cut short by a crash).
    Received,
    Applied,
    /// Accepted, nothing to do (e.g. a patient not flagged for follow-up).
    Ignored,
    /// Answered AE or AR; kept for an administrator to look at and process again.
    Refused,
}

impl Hl7Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Hl7Status::Received => "received",
            Hl7Status::Applied => "applied",
            Hl7Status::Ignored => "ignored",
            Hl7Status::Refused => "refused",
        }
    }
    pub const ALL: [Hl7Status; 4] = [Hl7Status::Refused, Hl7Status::Received, Hl7Status::Applied, Hl7Status::Ignored];

    /// The status named by [`Hl7Status::as_str`].
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    fn parse(s: &str) -> Result<Self> {
        Self::from_name(s).ok_or_else(|| StoreError::corrupt(format!("hl7 status {s}")))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Hl7Message {
    pub id: Uuid,
    pub received_at: Timestamp,
    pub sender: String,
    pub control_id: Option<String>,
    pub trigger_event: String,
    #[serde(skip)]
    pub raw: Vec<u8>,
    pub status: Hl7Status,
    pub ack_code: Option<String>,
    pub outcome_sv: Option<String>,
    pub outcome_en: Option<String>,
    pub patient_id: Option<PatientId>,
    pub case_id: Option<CaseId>,
    pub processed_at: Option<Timestamp>,
    pub attempts: i32,
}

/// A message as received.
pub struct NewHl7Message<'a> {
    pub sender: &'a str,
    pub control_id: Option<&'a str>,
    pub trigger_event: &'a str,
    pub raw: &'a [u8],
}

/// The result of storing a message.
pub enum Stored {
    New(Hl7Message),
    /// The sender already sent a message with this control id.
    Existing(Hl7Message),
}

/// How a message ended.
pub struct Hl7Outcome<'a> {
    pub status: Hl7Status,
    pub ack_code: &'a str,
    pub sv: &'a str,
    pub en: &'a str,
    pub patient_id: Option<PatientId>,
    pub case_id: Option<CaseId>,
}

#[derive(FromRow)]
struct Row {
    id: String,
    received_at: i64,
    sender: String,
    control_id: Option<String>,
    trigger_event: String,
    raw: Vec<u8>,
    status: String,
    ack_code: Option<String>,
    outcome_sv: Option<String>,
    outcome_en: Option<String>,
    patient_id: Option<String>,
    case_id: Option<String>,
    processed_at: Option<i64>,
    attempts: i32,
}

fn uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(StoreError::corrupt)
}

impl Row {
    fn into_message(self) -> Result<Hl7Message> {
        Ok(Hl7Message {
            id: uuid(&self.id)?,
            received_at: from_micros(self.received_at)?,
            sender: self.sender,
            control_id: self.control_id,
            trigger_event: self.trigger_event,
            raw: self.raw,
            status: Hl7Status::parse(&self.status)?,
            ack_code: self.ack_code,
            outcome_sv: self.outcome_sv,
            outcome_en: self.outcome_en,
            patient_id: self.patient_id.as_deref().map(uuid).transpose()?,
            case_id: self.case_id.as_deref().map(uuid).transpose()?,
            processed_at: self.processed_at.map(from_micros).transpose()?,
            attempts: self.attempts,
        })
    }
}

const COLUMNS: &str = "id, received_at, sender, control_id, trigger_event, raw, status, ack_code, outcome_sv, \
                       outcome_en, patient_id, case_id, processed_at, attempts";

impl Store {
    /// Stores a message durably (committed before this returns), or finds the earlier message
    /// with the same sender and control id.
    pub async fn store_hl7(&self, new: &NewHl7Message<'_>, now: Timestamp) -> Result<Stored> {
        let id = Uuid::now_v7();
        // Without a control id, the content is what a resend is known by.
        let content_hash = new.control_id.is_none().then(|| {
            use sha2::Digest;
            sha2::Sha256::digest(new.raw).iter().map(|b| format!("{b:02x}")).collect::<String>()
        });
        let inserted = on_db!(self, write, |pool| {
            sqlx::query(
            "INSERT INTO hl7_messages (id, received_at, sender, control_id, trigger_event, raw, status, content_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, 'received', $7)"
        )
        .bind(id.to_string())
        .bind(micros(now))
        .bind(new.sender)
        .bind(new.control_id)
        .bind(new.trigger_event)
        .bind(new.raw)
        .bind(content_hash.as_deref())
        .execute(pool)
        .await
        .map(|_| ())
        });
        match inserted {
            Ok(_) => {
                Ok(Stored::New(self.hl7_message(id).await?.ok_or_else(|| StoreError::corrupt("hl7 row vanished"))?))
            }
            Err(e) if is_unique_violation(&e) => {
                let (sql, key) = match new.control_id {
                    Some(control) => (
                        format!("SELECT {COLUMNS} FROM hl7_messages WHERE sender = $1 AND control_id = $2"),
                        control.to_string(),
                    ),
                    None => (
                        format!(
                            "SELECT {COLUMNS} FROM hl7_messages \
                             WHERE sender = $1 AND control_id IS NULL AND content_hash = $2"
                        ),
                        content_hash.unwrap_or_default(),
                    ),
                };
                let row: Row = on_db!(self, write, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(new.sender)
                    .bind(key.as_str())
                    .fetch_one(pool)
                    .await?);
                Ok(Stored::Existing(row.into_message()?))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Records what became of a message.
    pub async fn finish_hl7(&self, id: Uuid, outcome: &Hl7Outcome<'_>, now: Timestamp) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query(
            "UPDATE hl7_messages SET status = $2, ack_code = $3, outcome_sv = $4, outcome_en = $5, patient_id = $6, \
             case_id = $7, processed_at = $8, attempts = attempts + 1 WHERE id = $1"
        )
        .bind(id.to_string())
        .bind(outcome.status.as_str())
        .bind(outcome.ack_code)
        .bind(outcome.sv)
        .bind(outcome.en)
        .bind(outcome.patient_id.map(|p| p.to_string()))
        .bind(outcome.case_id.map(|c| c.to_string()))
        .bind(micros(now))
        .execute(pool)
        .await
        .map(|_| ())?);
        Ok(())
    }

    pub async fn hl7_message(&self, id: Uuid) -> Result<Option<Hl7Message>> {
        let sql = format!("SELECT {COLUMNS} FROM hl7_messages WHERE id = $1");
        let row: Option<Row> = on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id.to_string())
            .fetch_optional(pool)
            .await?);
        row.map(Row::into_message).transpose()
    }

    /// Messages, newest first; with a status, only those.
    pub async fn hl7_messages(&self, status: Option<Hl7Status>, limit: i64) -> Result<Vec<Hl7Message>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM hl7_messages WHERE ($1 IS NULL OR status = $1) ORDER BY received_at DESC, id DESC LIMIT $2"
        );
        let rows: Vec<Row> = on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(status.map(|s| s.as_str()))
            .bind(limit)
            .fetch_all(pool)
            .await?);
        rows.into_iter().map(Row::into_message).collect()
    }

    /// Messages stored but not processed, oldest first: what a crash interrupted.
    pub async fn unprocessed_hl7(&self) -> Result<Vec<Hl7Message>> {
        let sql = format!("SELECT {COLUMNS} FROM hl7_messages WHERE status = 'received' ORDER BY received_at, id");
        let rows: Vec<Row> =
            on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).fetch_all(pool).await?);
        rows.into_iter().map(Row::into_message).collect()
    }

    /// Whether the patient has a SIP in force in Samverka (drawn up or followed up, not closed).
    pub async fn patient_in_joint_care(&self, patient: PatientId) -> Result<bool> {
        let n: i64 = on_db!(self, read, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM cases WHERE patient_id = $1 AND phase IN ('sip_drawn_up', 'followed_up')"
        )
        .bind(patient.to_string())
        .fetch_one(pool)
        .await?);
        Ok(n > 0)
    }
}
