//! The person's side: sessions of people signed in to their own pages (apart from staff
//! sessions), and the log of what they read there.

use jiff::Timestamp;
use sqlx::FromRow;
use uuid::Uuid;

use crate::access_log::Outcome;
use crate::sql::{enum_str, from_micros, micros, parse_enum, uuid};
use crate::{Result, Store, on_db};

/// A person signed in with e-legitimation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonSession {
    pub token_hash: String,
    /// The personnummer the identity provider vouched for.
    pub personnummer: String,
    pub name: String,
    /// The person's patient record, when Samverka has one.
    pub patient_id: Option<Uuid>,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(FromRow)]
struct PersonSessionRow {
    token_hash: String,
    personnummer: String,
    name: String,
    patient_id: Option<String>,
    csrf_token: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
}

/// One read or refusal on the person's pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonAccess {
    pub at: Timestamp,
    pub patient_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub reader_name: String,
    pub action: String,
    pub outcome: Outcome,
    pub client_address: Option<String>,
}

impl Store {
    pub async fn create_person_session(&self, s: &PersonSession, client_address: &str) -> Result<()> {
        on_db!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO person_sessions (token_hash, personnummer, name, patient_id, csrf_token, created_at, \
                 last_seen_at, expires_at, client_address) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&s.token_hash)
            .bind(&s.personnummer)
            .bind(&s.name)
            .bind(s.patient_id.map(|p| p.to_string()))
            .bind(&s.csrf_token)
            .bind(micros(s.created_at))
            .bind(micros(s.last_seen_at))
            .bind(micros(s.expires_at))
            .bind(client_address)
            .execute(pool)
            .await
            .map(|_| ())?
        });
        Ok(())
    }

    pub async fn person_session(&self, token_hash: &str) -> Result<Option<PersonSession>> {
        let row: Option<PersonSessionRow> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT token_hash, personnummer, name, patient_id, csrf_token, created_at, last_seen_at, expires_at \
             FROM person_sessions WHERE token_hash = $1"
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await?);
        let Some(r) = row else { return Ok(None) };
        Ok(Some(PersonSession {
            token_hash: r.token_hash,
            personnummer: r.personnummer,
            name: r.name,
            patient_id: r.patient_id.as_deref().map(uuid).transpose()?,
            csrf_token: r.csrf_token,
            created_at: from_micros(r.created_at)?,
            last_seen_at: from_micros(r.last_seen_at)?,
            expires_at: from_micros(r.expires_at)?,
        }))
    }

    pub async fn touch_person_session(&self, token_hash: &str, now: Timestamp) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query("UPDATE person_sessions SET last_seen_at = $2 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(micros(now))
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    pub async fn delete_person_session(&self, token_hash: &str) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query("DELETE FROM person_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    /// Records reads or a refusal on the person's pages; durable before it returns.
    pub async fn log_person_access(&self, entries: &[PersonAccess]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            for e in entries {
                sqlx::query(
                    "INSERT INTO person_access_log (at, patient_id, case_id, reader_name, action, outcome, client_address) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(micros(e.at))
                .bind(e.patient_id.map(|p| p.to_string()))
                .bind(e.case_id.map(|c| c.to_string()))
                .bind(&e.reader_name)
                .bind(&e.action)
                .bind(enum_str(&e.outcome))
                .bind(&e.client_address)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// What was read or refused on the person's pages concerning a patient, newest first.
    pub async fn person_access_of(&self, patient: Uuid, limit: i64) -> Result<Vec<PersonAccess>> {
        type Row = (i64, Option<String>, Option<String>, String, String, String, Option<String>);
        let rows: Vec<Row> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT at, patient_id, case_id, reader_name, action, outcome, client_address FROM person_access_log \
             WHERE patient_id = $1 ORDER BY id DESC LIMIT $2"
        )
        .bind(patient.to_string())
        .bind(limit)
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|(at, patient_id, case_id, reader_name, action, outcome, client_address)| {
                Ok(PersonAccess {
                    at: from_micros(at)?,
                    patient_id: patient_id.as_deref().map(uuid).transpose()?,
                    case_id: case_id.as_deref().map(uuid).transpose()?,
                    reader_name,
                    action,
                    outcome: parse_enum(&outcome)?,
                    client_address,
                })
            })
            .collect()
    }
}
