//! The person's side: sessions of people signed in to their own pages (apart from staff
//! sessions), and the log of what they read there.

use jiff::Timestamp;
use sqlx::FromRow;
use uuid::Uuid;

use samverka_domain::representative::{Ended, Representation};

use crate::access_log::Outcome;
use crate::sql::{from_micros, micros, parse_enum, uuid};
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
    /// The representation the reader acted under, when it was not the person themself.
    pub representation_id: Option<Uuid>,
}

/// Inserts one entry of the person's access log on either driver's connection.
macro_rules! insert_person_access {
    ($exec:expr, $e:expr) => {{
        let e: &$crate::persons::PersonAccess = $e;
        sqlx::query(
            "INSERT INTO person_access_log (at, patient_id, case_id, reader_name, action, outcome, client_address, \
             representation_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind($crate::sql::micros(e.at))
        .bind(e.patient_id.map(|p| p.to_string()))
        .bind(e.case_id.map(|c| c.to_string()))
        .bind(&e.reader_name)
        .bind(&e.action)
        .bind($crate::sql::enum_str(&e.outcome))
        .bind(&e.client_address)
        .bind(e.representation_id.map(|r| r.to_string()))
        .execute($exec)
        .await
    }};
}

/// The log a write's entry goes in: staff's access log, or the person's own.
pub enum WriteLog<'a> {
    Staff(&'a crate::AccessEntry),
    Person(&'a PersonAccess),
}

/// Writes an entry in the open transaction, in the log it belongs to.
macro_rules! insert_write_log {
    ($tx:expr, $log:expr) => {
        match &$log {
            WriteLog::Staff(e) => crate::access_log::insert_access!(&mut *$tx, e)?,
            WriteLog::Person(e) => insert_person_access!(&mut *$tx, e)?,
        }
    };
}

/// `access_log::logged_write!` for the person's side: begins, makes the write, adds its entry
/// to the log it belongs in and commits, so the write and its entry land together or not at all.
macro_rules! logged_write_in {
    ($store:expr, $log:expr, |$tx:ident| $body:block) => {
        on_db!($store, write, |pool| {
            let mut $tx = pool.begin().await?;
            let value = $body;
            insert_write_log!($tx, $log);
            $tx.commit().await?;
            value
        })
    };
}
pub(crate) use {insert_person_access, insert_write_log, logged_write_in};

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
                insert_person_access!(&mut *tx, e)?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// What was read or refused on the person's pages concerning a patient, newest first.
    pub async fn person_access_of(&self, patient: Uuid, limit: i64) -> Result<Vec<PersonAccess>> {
        type Row = (i64, Option<String>, Option<String>, String, String, String, Option<String>, Option<String>);
        let rows: Vec<Row> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT at, patient_id, case_id, reader_name, action, outcome, client_address, representation_id \
             FROM person_access_log \
             WHERE patient_id = $1 ORDER BY id DESC LIMIT $2"
        )
        .bind(patient.to_string())
        .bind(limit)
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|(at, patient_id, case_id, reader_name, action, outcome, client_address, representation_id)| {
                Ok(PersonAccess {
                    at: from_micros(at)?,
                    patient_id: patient_id.as_deref().map(uuid).transpose()?,
                    case_id: case_id.as_deref().map(uuid).transpose()?,
                    reader_name,
                    action,
                    outcome: parse_enum(&outcome)?,
                    client_address,
                    representation_id: representation_id.as_deref().map(uuid).transpose()?,
                })
            })
            .collect()
    }
}

/// A statement a person made in their case, with which units have read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRecord {
    pub id: Uuid,
    pub case_id: Uuid,
    pub patient_id: Uuid,
    pub statement: samverka_domain::person::Statement,
    pub by_name: String,
    pub at: Timestamp,
    /// The units of the case when it was said, (id, name): whom it was delivered to.
    pub delivered: Vec<(Uuid, String)>,
    /// Units where someone first saw it.
    pub opens: Vec<StatementRead>,
    /// Units that marked it read.
    pub reads: Vec<StatementRead>,
}

/// A unit of the case read a person's statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRead {
    pub unit_id: Uuid,
    pub unit_name: String,
    pub by_name: String,
    pub at: Timestamp,
}

impl Store {
    /// Keeps what a person said, and its log entry, in one commit.
    pub async fn add_person_statement(&self, s: &StatementRecord, log: &PersonAccess) -> Result<()> {
        let body = serde_json::to_string(&s.statement).map_err(crate::StoreError::corrupt)?;
        let delivered: Vec<serde_json::Value> =
            s.delivered.iter().map(|(id, name)| serde_json::json!({ "id": id, "name": name })).collect();
        let delivered = serde_json::to_string(&delivered).map_err(crate::StoreError::corrupt)?;
        logged_write_in!(self, WriteLog::Person(log), |tx| {
            sqlx::query(
                "INSERT INTO person_statements (id, case_id, patient_id, kind, body, by_name, at, delivered_to) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(s.id.to_string())
            .bind(s.case_id.to_string())
            .bind(s.patient_id.to_string())
            .bind(s.statement.kind())
            .bind(&body)
            .bind(&s.by_name)
            .bind(micros(s.at))
            .bind(&delivered)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// What the person has said in a case, oldest first, with whom it reached, who opened
    /// and who read each.
    pub async fn person_statements(&self, case: Uuid) -> Result<Vec<StatementRecord>> {
        type Row = (String, String, String, String, String, i64, Option<String>);
        let rows: Vec<Row> = on_db!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id, case_id, patient_id, body, by_name, at, delivered_to FROM person_statements \
                 WHERE case_id = $1 ORDER BY at, id",
            )
            .bind(case.to_string())
            .fetch_all(pool)
            .await?
        });
        // Both kinds of receipt in one round trip: a case page reads them on every view.
        type Receipt = (String, String, String, String, i64);
        let receipts: Vec<(bool, String, String, String, String, i64)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT TRUE, r.statement_id, r.unit_id, r.unit_name, r.by_name, r.at FROM person_statement_reads r \
             JOIN person_statements s ON s.id = r.statement_id WHERE s.case_id = $1 \
             UNION ALL \
             SELECT FALSE, o.statement_id, o.unit_id, o.unit_name, o.by_name, o.at FROM person_statement_opens o \
             JOIN person_statements s ON s.id = o.statement_id WHERE s.case_id = $1 ORDER BY 6"
        )
        .bind(case.to_string())
        .fetch_all(pool)
        .await?);
        let (reads, opens): (Vec<_>, Vec<_>) = receipts.into_iter().partition(|r| r.0);
        let strip = |v: Vec<(bool, String, String, String, String, i64)>| -> Vec<Receipt> {
            v.into_iter().map(|(_, a, b, c, d, e)| (a, b, c, d, e)).collect()
        };
        let (reads, opens) = (strip(reads), strip(opens));
        let of = |all: &[Receipt], id: &str| {
            all.iter()
                .filter(|r| r.0 == id)
                .map(|(_, unit, unit_name, by, at)| {
                    Ok(StatementRead {
                        unit_id: uuid(unit)?,
                        unit_name: unit_name.clone(),
                        by_name: by.clone(),
                        at: from_micros(*at)?,
                    })
                })
                .collect::<Result<Vec<_>>>()
        };
        rows.into_iter()
            .map(|(id, case_id, patient_id, body, by_name, at, delivered)| {
                let delivered: Vec<serde_json::Value> = match delivered {
                    Some(d) => serde_json::from_str(&d).map_err(crate::StoreError::corrupt)?,
                    None => vec![],
                };
                let delivered = delivered
                    .iter()
                    .map(|u| {
                        let id = u["id"].as_str().ok_or_else(|| crate::StoreError::corrupt("delivered_to"))?;
                        Ok((uuid(id)?, u["name"].as_str().unwrap_or_default().to_string()))
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(StatementRecord {
                    opens: of(&opens, &id)?,
                    reads: of(&reads, &id)?,
                    id: uuid(&id)?,
                    case_id: uuid(&case_id)?,
                    patient_id: uuid(&patient_id)?,
                    statement: serde_json::from_str(&body).map_err(crate::StoreError::corrupt)?,
                    by_name,
                    at: from_micros(at)?,
                    delivered,
                })
            })
            .collect()
    }

    /// Someone of a unit has seen these statements; the first time counts for each. Kept with
    /// the read's own access-log entry, which the caller has written.
    pub async fn open_person_statements(&self, statements: &[Uuid], opened: &StatementRead) -> Result<()> {
        if statements.is_empty() {
            return Ok(());
        }
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            for s in statements {
                sqlx::query(
                    "INSERT INTO person_statement_opens (statement_id, unit_id, unit_name, by_name, at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (statement_id, unit_id) DO NOTHING",
                )
                .bind(s.to_string())
                .bind(opened.unit_id.to_string())
                .bind(&opened.unit_name)
                .bind(&opened.by_name)
                .bind(micros(opened.at))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// A unit of the case has read a person's statement; the first reading counts, and the
    /// staff access-log entry commits with it.
    pub async fn read_person_statement(
        &self,
        statement: Uuid,
        read: &StatementRead,
        log: &crate::AccessEntry,
    ) -> Result<()> {
        crate::access_log::logged_write!(self, log, |tx| {
            sqlx::query(
                "INSERT INTO person_statement_reads (statement_id, unit_id, unit_name, by_name, at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (statement_id, unit_id) DO NOTHING",
            )
            .bind(statement.to_string())
            .bind(read.unit_id.to_string())
            .bind(&read.unit_name)
            .bind(&read.by_name)
            .bind(micros(read.at))
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }
}

impl Store {
    /// Keeps a new representation with its log entry, in one commit.
    pub async fn add_representation(&self, r: &Representation, log: WriteLog<'_>) -> Result<()> {
        let body = serde_json::to_string(r).map_err(crate::StoreError::corrupt)?;
        logged_write_in!(self, log, |tx| {
            sqlx::query(
                "INSERT INTO representations (id, patient_id, personnummer, body, granted_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(r.id.to_string())
            .bind(r.patient_id.to_string())
            .bind(&r.personnummer)
            .bind(&body)
            .bind(micros(r.granted_at))
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// Ends a representation once; ending one already ended is a conflict and writes nothing.
    pub async fn end_representation(&self, id: Uuid, ended: &Ended, log: WriteLog<'_>) -> Result<()> {
        let body = serde_json::to_string(ended).map_err(crate::StoreError::corrupt)?;
        logged_write_in!(self, log, |tx| {
            let n = sqlx::query("UPDATE representations SET ended = $2 WHERE id = $1 AND ended IS NULL")
                .bind(id.to_string())
                .bind(&body)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            crate::sql::changed_or(n, || {
                samverka_domain::Problem::conflict("already_ended", "Det är redan avslutat.", "It has already ended.")
                    .into()
            })?;
        });
        Ok(())
    }

    /// Everyone who represents a patient, in force or not, oldest first.
    pub async fn representations_of(&self, patient: Uuid) -> Result<Vec<Representation>> {
        let rows: Vec<(String, Option<String>)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT body, ended FROM representations WHERE patient_id = $1 ORDER BY granted_at, id"
        )
        .bind(patient.to_string())
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(representation).collect()
    }

    /// The newest representatives in force, as (name, personnummer), for a demo's sign-in list.
    pub async fn representatives_in_demo(&self, now: Timestamp, n: usize) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, Option<String>)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT body, ended FROM representations WHERE ended IS NULL ORDER BY granted_at DESC LIMIT 50"
        )
        .fetch_all(pool)
        .await?);
        let mut out: Vec<(String, String)> = vec![];
        for r in rows.into_iter().map(representation) {
            let r = r?;
            if r.in_force(now) && !out.iter().any(|(_, p)| *p == r.personnummer) && out.len() < n {
                out.push((r.name, r.personnummer));
            }
        }
        Ok(out)
    }

    /// Every representation held by the one with this personnummer, in force or not.
    pub async fn representations_held_by(&self, personnummer: &str) -> Result<Vec<Representation>> {
        let rows: Vec<(String, Option<String>)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT body, ended FROM representations WHERE personnummer = $1 ORDER BY granted_at, id"
        )
        .bind(personnummer)
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(representation).collect()
    }
}

fn representation((body, ended): (String, Option<String>)) -> Result<Representation> {
    let mut r: Representation = serde_json::from_str(&body).map_err(crate::StoreError::corrupt)?;
    r.ended = ended.as_deref().map(serde_json::from_str).transpose().map_err(crate::StoreError::corrupt)?;
    Ok(r)
}

/// A person's choice to be told by e-mail that something new waits for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonNotice {
    pub patient_id: Uuid,
    pub email: String,
    /// The language of the mail: the one the person chose it in.
    pub lang: String,
    pub opted_in_at: Timestamp,
    pub last_mailed_at: Option<Timestamp>,
}

type NoticeRow = (String, String, String, i64, Option<i64>);

fn notice((patient_id, email, lang, opted_in_at, last_mailed_at): NoticeRow) -> Result<PersonNotice> {
    Ok(PersonNotice {
        patient_id: uuid(&patient_id)?,
        email,
        lang,
        opted_in_at: from_micros(opted_in_at)?,
        last_mailed_at: last_mailed_at.map(from_micros).transpose()?,
    })
}

/// Marks what the person has seen of cases, inside an open transaction.
macro_rules! upsert_seen {
    ($tx:expr, $patient:expr, $seen:expr) => {{
        for (case, key) in $seen {
            sqlx::query(
                "INSERT INTO person_seen (patient_id, case_id, seen_key) VALUES ($1, $2, $3) \
                 ON CONFLICT (patient_id, case_id) DO UPDATE SET seen_key = excluded.seen_key",
            )
            .bind($patient.to_string())
            .bind(case.to_string())
            .bind(key)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

impl Store {
    /// Sets (or, with `None`, removes) the person's e-mail notices, with what they have seen so
    /// far and the log entry, in one commit.
    pub async fn set_person_notice(
        &self,
        patient: Uuid,
        choice: Option<(&str, &str)>,
        seen: &[(Uuid, String)],
        now: Timestamp,
        log: &PersonAccess,
    ) -> Result<()> {
        logged_write_in!(self, WriteLog::Person(log), |tx| {
            match choice {
                Some((email, lang)) => {
                    sqlx::query(
                        "INSERT INTO person_notices (patient_id, email, lang, opted_in_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (patient_id) DO UPDATE SET email = excluded.email, lang = excluded.lang",
                    )
                    .bind(patient.to_string())
                    .bind(email)
                    .bind(lang)
                    .bind(micros(now))
                    .execute(&mut *tx)
                    .await?;
                    upsert_seen!(tx, patient, seen);
                }
                None => {
                    sqlx::query("DELETE FROM person_notices WHERE patient_id = $1")
                        .bind(patient.to_string())
                        .execute(&mut *tx)
                        .await?;
                }
            }
        });
        Ok(())
    }

    pub async fn person_notice(&self, patient: Uuid) -> Result<Option<PersonNotice>> {
        let row: Option<NoticeRow> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT patient_id, email, lang, opted_in_at, last_mailed_at FROM person_notices WHERE patient_id = $1"
        )
        .bind(patient.to_string())
        .fetch_optional(pool)
        .await?);
        row.map(notice).transpose()
    }

    /// Everyone who asked to be told by e-mail.
    pub async fn person_notices(&self) -> Result<Vec<PersonNotice>> {
        let rows: Vec<NoticeRow> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT patient_id, email, lang, opted_in_at, last_mailed_at FROM person_notices ORDER BY opted_in_at"
        )
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(notice).collect()
    }

    /// What the person last saw of each of their cases, by case.
    pub async fn person_seen(&self, patient: Uuid) -> Result<Vec<(Uuid, String)>> {
        let rows: Vec<(String, String)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT case_id, seen_key FROM person_seen WHERE patient_id = $1"
        )
        .bind(patient.to_string())
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(|(c, k)| Ok((uuid(&c)?, k))).collect()
    }

    /// The person has seen these cases as they stand now.
    pub async fn mark_person_seen(&self, patient: Uuid, seen: &[(Uuid, String)]) -> Result<()> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            upsert_seen!(tx, patient, seen);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Queues the mail that tells the person something new waits, and marks what it tells of
    /// as told, in one commit: a crash sends it once or not at all, and never twice.
    pub async fn queue_person_notice(
        &self,
        patient: Uuid,
        mail: &crate::Mail,
        told: &[(Uuid, String)],
        now: Timestamp,
    ) -> Result<()> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            crate::mail::queue_mail!(tx, mail, now)?;
            sqlx::query("UPDATE person_notices SET last_mailed_at = $2 WHERE patient_id = $1")
                .bind(patient.to_string())
                .bind(micros(now))
                .execute(&mut *tx)
                .await?;
            upsert_seen!(tx, patient, told);
            tx.commit().await?;
        });
        Ok(())
    }
}
