//! What the store can tell about its own work, for the process's metrics: connections in
//! use, group commits and the queues of background work.

use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;

use crate::sql::micros;
use crate::{Db, Result, Store, on_db};

/// Group commits so far: how many commits, and how many entries or commands they carried
/// (the ratio is the mean size of a group). Commands are grouped on SQLite only; PostgreSQL
/// commits each on its own connection.
#[derive(Default)]
pub(crate) struct CommitCounts {
    access_log_commits: AtomicU64,
    access_log_entries: AtomicU64,
    command_commits: AtomicU64,
    command_entries: AtomicU64,
}

impl CommitCounts {
    pub(crate) fn access_log(&self, entries: usize) {
        self.access_log_commits.fetch_add(1, Ordering::Relaxed);
        self.access_log_entries.fetch_add(entries as u64, Ordering::Relaxed);
    }

    pub(crate) fn commands(&self, entries: usize) {
        self.command_commits.fetch_add(1, Ordering::Relaxed);
        self.command_entries.fetch_add(entries as u64, Ordering::Relaxed);
    }
}

/// A reading of [`CommitCounts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupCommits {
    pub access_log_commits: u64,
    pub access_log_entries: u64,
    pub command_commits: u64,
    pub command_entries: u64,
}

/// The database connections of this process: open, idle, and the most there may be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUse {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

/// Work waiting in the durable queues, due now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    pub mail: i64,
    pub subscription_deliveries: i64,
    /// HL7 messages stored and not yet processed.
    pub hl7_unprocessed: i64,
}

impl Store {
    pub fn group_commits(&self) -> GroupCommits {
        let (a, c) = (&self.access_log.counts, &self.commands.counts);
        GroupCommits {
            access_log_commits: a.access_log_commits.load(Ordering::Relaxed),
            access_log_entries: a.access_log_entries.load(Ordering::Relaxed),
            command_commits: c.command_commits.load(Ordering::Relaxed),
            command_entries: c.command_entries.load(Ordering::Relaxed),
        }
    }

    pub fn pool_use(&self) -> PoolUse {
        match &self.db {
            Db::Sqlite { writer, reader, .. } => PoolUse {
                open: writer.size() + reader.size(),
                idle: (writer.num_idle() + reader.num_idle()) as u32,
                max: writer.options().get_max_connections() + reader.options().get_max_connections(),
            },
            Db::Postgres(pg) => {
                PoolUse { open: pg.size(), idle: pg.num_idle() as u32, max: pg.options().get_max_connections() }
            }
        }
    }

    pub async fn backlog(&self, now: Timestamp) -> Result<Backlog> {
        let (mail, subscription_deliveries, hl7_unprocessed): (i64, i64, i64) = on_db!(self, read, |pool| {
            sqlx::query_as(
                "SELECT \
                   (SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL AND next_attempt_at <= $1), \
                   (SELECT COUNT(*) FROM fhir_deliveries d JOIN fhir_subscriptions s ON s.id = d.subscription_id \
                      WHERE d.status = 'pending' AND d.next_at <= $1 AND s.status = 'active'), \
                   (SELECT COUNT(*) FROM hl7_messages WHERE status = 'received')",
            )
            .bind(micros(now))
            .fetch_one(pool)
            .await?
        });
        Ok(Backlog { mail, subscription_deliveries, hl7_unprocessed })
    }
}
