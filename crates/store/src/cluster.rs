//! Several processes on one PostgreSQL database: background work done by one process at a
//! time, the admission feed's one turn, and changes told to the other processes.
//!
//! An SQLite file has one process (`Store::claim_sqlite_file`), so there each of these is
//! the process's own: a round is this process's to do once its interval has passed, the turn
//! is a local one, and there is nobody else to tell.
//!
//! On PostgreSQL the locks are advisory locks held by a database connection: when a process
//! dies, its connections close and its locks go with them at once, so the work passes to
//! the next process that asks (within its polling interval).

use std::future::Future;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::postgres::{PgListener, PgPool};
use sqlx::{Acquire, Postgres, pool::PoolConnection};
use uuid::Uuid;

use crate::{Db, Result, Store, on_db};

/// The class of Samverka's advisory locks (the first key of the two-key form), so that they
/// cannot meet another application's locks on the same database.
const LOCK_CLASS: i32 = 0x5a3e_7e00;

/// The NOTIFY channel on which processes tell each other of changed cases.
pub const CHANGES_CHANNEL: &str = "samverka_changes";

/// Background work that must be done once, by whichever process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    Escalation,
    Mail,
    PersonNotices,
    Subscriptions,
    /// HL7 messages stored but left unprocessed by a process that died.
    Hl7Recovery,
}

impl Job {
    fn name(self) -> &'static str {
        match self {
            Job::Escalation => "escalation",
            Job::Mail => "mail",
            Job::PersonNotices => "person_notices",
            Job::Subscriptions => "subscriptions",
            Job::Hl7Recovery => "hl7_recovery",
        }
    }

    fn lock_key(self) -> i32 {
        match self {
            Job::Escalation => 1,
            Job::Mail => 2,
            Job::PersonNotices => 3,
            Job::Subscriptions => 4,
            Job::Hl7Recovery => 5,
        }
    }
}

/// The admission feed's lock: one message at a time across all processes.
const FEED_TURN_KEY: i32 = 100;

/// A case changed: which, and the units taking part (whose open pages are told).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseChange {
    pub case_id: Uuid,
    pub units: Vec<Uuid>,
}

/// What a process hears from the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// Cases another process changed.
    Changes(Vec<CaseChange>),
    /// The listening connection was lost (and is being made again): whatever was told
    /// meanwhile is unknown, so every open page should look again.
    Lost,
}

/// The feed's turn across processes, held until dropped: then the lock is let go on its
/// connection before the connection goes back to the pool (or the connection is closed,
/// which ends the lock too).
pub struct FeedTurn {
    conn: Option<PoolConnection<Postgres>>,
}

impl Drop for FeedTurn {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            conn.close_on_drop();
            return;
        };
        runtime.spawn(async move {
            let unlocked = sqlx::query("SELECT pg_advisory_unlock($1, $2)")
                .bind(LOCK_CLASS)
                .bind(FEED_TURN_KEY)
                .execute(&mut *conn)
                .await;
            if unlocked.is_err() {
                conn.close_on_drop();
            }
        });
    }
}

const LAST_ROUND: &str = "SELECT finished_at FROM background_rounds WHERE job = $1";
const FINISH_ROUND: &str = "INSERT INTO background_rounds (job, finished_at) VALUES ($1, $2) \
     ON CONFLICT (job) DO UPDATE SET finished_at = excluded.finished_at";

impl Store {
    /// Does one round of `job` unless another process is doing one now or one finished less
    /// than `every` ago; `None` when it was not this process's turn. On PostgreSQL the round
    /// runs while its transaction holds the job's advisory lock, and the round's end is
    /// recorded in the same transaction: a process that dies mid-round leaves the round
    /// undone and the lock free, and the next process to ask does it.
    pub async fn round<T>(
        &self,
        job: Job,
        every: Duration,
        now: Timestamp,
        work: impl Future<Output = Result<T>>,
    ) -> Result<Option<T>> {
        let every_us = i64::try_from(every.as_micros()).unwrap_or(i64::MAX);
        let too_soon =
            |last: Option<i64>| last.is_some_and(|last| now.as_microsecond() < last.saturating_add(every_us));
        let Db::Postgres(pg) = &self.db else {
            // One process: nobody else to keep out, only the interval to keep.
            let last =
                on_db!(self, read, |pool| sqlx::query_scalar(LAST_ROUND).bind(job.name()).fetch_optional(pool).await?);
            if too_soon(last) {
                return Ok(None);
            }
            let out = work.await?;
            on_db!(self, write, |pool| sqlx::query(FINISH_ROUND)
                .bind(job.name())
                .bind(now.as_microsecond())
                .execute(pool)
                .await
                .map(drop)?);
            return Ok(Some(out));
        };
        let mut conn = pg.acquire().await?;
        let mut tx = conn.begin().await?;
        let mine: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1, $2)")
            .bind(LOCK_CLASS)
            .bind(job.lock_key())
            .fetch_one(&mut *tx)
            .await?;
        if !mine {
            tx.rollback().await?;
            return Ok(None);
        }
        let last: Option<i64> = sqlx::query_scalar(LAST_ROUND).bind(job.name()).fetch_optional(&mut *tx).await?;
        if too_soon(last) {
            tx.rollback().await?;
            return Ok(None);
        }
        let out = work.await?;
        sqlx::query(FINISH_ROUND).bind(job.name()).bind(now.as_microsecond()).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Some(out))
    }

    /// Waits for the admission feed's turn across processes; `None` on SQLite, where the
    /// process's own turn is the only one.
    pub async fn feed_turn(&self) -> Result<Option<FeedTurn>> {
        let Db::Postgres(pg) = &self.db else { return Ok(None) };
        let mut conn = pg.acquire().await?;
        let locked = sqlx::query("SELECT pg_advisory_lock($1, $2)")
            .bind(LOCK_CLASS)
            .bind(FEED_TURN_KEY)
            .execute(&mut *conn)
            .await;
        if let Err(e) = locked {
            conn.close_on_drop();
            return Err(e.into());
        }
        Ok(Some(FeedTurn { conn: Some(conn) }))
    }

    /// Tells the other processes that these cases changed (nothing on SQLite). The ids go in
    /// one NOTIFY, split where a payload would pass PostgreSQL's limit.
    pub async fn announce(&self, origin: Uuid, changes: &[CaseChange]) -> Result<()> {
        let Db::Postgres(pg) = &self.db else { return Ok(()) };
        for payload in payloads(origin, changes) {
            sqlx::query("SELECT pg_notify($1, $2)").bind(CHANGES_CHANNEL).bind(payload).execute(pg).await?;
        }
        Ok(())
    }

    /// Listens for what other processes announce; `None` on SQLite.
    pub async fn listen(&self, origin: Uuid) -> Result<Option<Listener>> {
        let Db::Postgres(pg) = &self.db else { return Ok(None) };
        Ok(Some(Listener::connect(pg.clone(), origin).await?))
    }
}

/// A process's ear for the others' changes. Its own announcements (by `origin`) are not
/// heard again.
pub struct Listener {
    pool: PgPool,
    origin: Uuid,
    inner: Option<PgListener>,
}

impl Listener {
    async fn connect(pool: PgPool, origin: Uuid) -> Result<Listener> {
        let mut l = Listener { pool, origin, inner: None };
        l.inner = Some(l.open().await?);
        Ok(l)
    }

    async fn open(&self) -> Result<PgListener> {
        let mut inner = PgListener::connect_with(&self.pool).await?;
        inner.listen(CHANGES_CHANNEL).await?;
        Ok(inner)
    }

    /// The next thing heard; `None` once the store is closed (the process is ending). After
    /// [`Heard::Lost`] the next call listens again on a new connection, waiting (and trying
    /// again every second) until it has one.
    pub async fn next(&mut self) -> Option<Heard> {
        loop {
            if self.pool.is_closed() {
                return None;
            }
            let Some(inner) = self.inner.as_mut() else {
                match self.open().await {
                    Ok(inner) => self.inner = Some(inner),
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for other processes' changes; trying again");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
                continue;
            };
            match inner.try_recv().await {
                Ok(Some(n)) => {
                    if let Some((origin, changes)) = parse_payload(n.payload())
                        && origin != self.origin
                    {
                        return Some(Heard::Changes(changes));
                    }
                }
                Ok(None) => {
                    self.inner = None;
                    return Some(Heard::Lost);
                }
                Err(_) if self.pool.is_closed() => return None,
                Err(e) => {
                    tracing::warn!(error = %e, "the connection listening for other processes' changes failed");
                    self.inner = None;
                    return Some(Heard::Lost);
                }
            }
        }
    }
}

/// PostgreSQL refuses a NOTIFY payload of 8000 bytes or more.
const MAX_PAYLOAD: usize = 7900;

/// `origin;case:unit,unit;case:unit…` — ids only, never patient data.
fn payloads(origin: Uuid, changes: &[CaseChange]) -> Vec<String> {
    let mut out = vec![];
    let mut current = origin.to_string();
    for c in changes {
        let mut part = format!(";{}:", c.case_id);
        part.push_str(&c.units.iter().map(Uuid::to_string).collect::<Vec<_>>().join(","));
        if current.len() + part.len() > MAX_PAYLOAD && current.len() > 36 {
            out.push(std::mem::replace(&mut current, origin.to_string()));
        }
        current.push_str(&part);
    }
    if current.len() > 36 {
        out.push(current);
    }
    out
}

fn parse_payload(payload: &str) -> Option<(Uuid, Vec<CaseChange>)> {
    let mut parts = payload.split(';');
    let origin = parts.next()?.parse().ok()?;
    let changes = parts
        .filter_map(|p| {
            let (case, units) = p.split_once(':')?;
            Some(CaseChange {
                case_id: case.parse().ok()?,
                units: units.split(',').filter(|u| !u.is_empty()).filter_map(|u| u.parse().ok()).collect(),
            })
        })
        .collect();
    Some((origin, changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_travel_as_ids_in_payloads_postgresql_accepts() {
        let origin = Uuid::now_v7();
        let changes: Vec<CaseChange> = (0..200)
            .map(|_| CaseChange { case_id: Uuid::now_v7(), units: vec![Uuid::now_v7(), Uuid::now_v7()] })
            .collect();
        let sent = payloads(origin, &changes);
        assert!(sent.len() > 1, "200 changes do not fit in one payload");
        assert!(sent.iter().all(|p| p.len() < 8000));
        let back: Vec<CaseChange> = sent
            .iter()
            .flat_map(|p| {
                let (o, c) = parse_payload(p).unwrap();
                assert_eq!(o, origin);
                c
            })
            .collect();
        assert_eq!(back, changes);
        assert!(payloads(origin, &[]).is_empty());
    }
}
