//! Group commit for the access log.
//!
//! Every read of patient data writes an access-log entry durably before it answers. One commit
//! per read would make the database's single writer (SQLite has one; PostgreSQL pays a WAL
//! flush per commit) the ceiling for reads. Instead, entries from requests running at the same
//! time are written together: a background task takes whatever requests are waiting, inserts
//! their entries (one for a read, one per patient or case for a search) in one transaction,
//! commits once, and only then tells each request that its entries are durable. Under light
//! load a batch is one request and nothing waits longer than before.

use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, oneshot};

use crate::access_log::{AccessEntry, insert_access_rows};
use crate::disk::DiskGuard;
use crate::{Db, Result, Store, StoreError};

/// Most requests taken from the queue at a time.
const MAX_BATCH: usize = 512;
/// Most entries in one commit (a search logs one per patient or case it answers with).
const MAX_ENTRIES: usize = 2048;

/// One request's entries (a search logs one per case it answers with) and where to say they
/// are durable.
type Job = (Vec<AccessEntry>, oneshot::Sender<Result<()>>);

/// The queue to the writer task; the task starts with the first entry, on the runtime that
/// writes it.
#[derive(Default)]
pub(crate) struct AccessLogWriter {
    queue: OnceLock<mpsc::UnboundedSender<Job>>,
    pub(crate) counts: Arc<crate::stats::CommitCounts>,
}

impl AccessLogWriter {
    /// Appends `entries` and returns once they are committed (with the others of their batch).
    pub(crate) async fn append(&self, db: &Db, disk: &Arc<DiskGuard>, entries: Vec<AccessEntry>) -> Result<()> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(run(db.clone(), disk.clone(), self.counts.clone(), rx));
            tx
        });
        let (done, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError((entries, _))) = queue.send((entries, done)) {
            // The task is gone (its runtime ended, as between tests): write directly.
            return insert_batch(db, disk, &entries).await;
        }
        answer.await.unwrap_or_else(|_| Err(StoreError::Unavailable("the access-log writer stopped".into())))
    }
}

impl Store {
    /// Appends one entry, durably, before the caller answers. Entries of concurrent requests
    /// share one commit (see `group_commit`).
    pub async fn log_access(&self, e: &AccessEntry) -> Result<()> {
        self.access_log.append(&self.db, &self.disk, vec![e.clone()]).await
    }

    /// Appends several entries, e.g. one per case a search answered with, all in one commit
    /// (shared, like a single entry's, with the entries of requests running at the same time).
    pub async fn log_access_all(&self, entries: &[AccessEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        self.access_log.append(&self.db, &self.disk, entries.to_vec()).await
    }
}

async fn run(
    db: Db,
    disk: Arc<DiskGuard>,
    counts: Arc<crate::stats::CommitCounts>,
    mut queue: mpsc::UnboundedReceiver<Job>,
) {
    let mut waiting: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut waiting, MAX_BATCH).await > 0 {
        // Requests in order, in commits of at most MAX_ENTRIES entries (a request with more
        // has a commit of its own), so that a burst of large searches does not hold the writer.
        let mut jobs = waiting.drain(..).peekable();
        while jobs.peek().is_some() {
            let mut batch = vec![];
            let mut entries: Vec<AccessEntry> = vec![];
            while let Some((job, _)) = jobs.peek() {
                if !batch.is_empty() && entries.len() + job.len() > MAX_ENTRIES {
                    break;
                }
                let (job, done) = jobs.next().expect("peeked");
                entries.extend(job.iter().cloned());
                batch.push((job, done));
            }
            commit(&db, &disk, &counts, batch, entries).await;
        }
    }
}

/// Commits one batch and answers its requests.
async fn commit(
    db: &Db,
    disk: &Arc<DiskGuard>,
    counts: &crate::stats::CommitCounts,
    batch: Vec<Job>,
    entries: Vec<AccessEntry>,
) {
    match insert_batch(db, disk, &entries).await {
        Ok(()) => {
            counts.access_log(entries.len());
            for (_, done) in batch {
                let _ = done.send(Ok(()));
            }
        }
        // One bad entry must not fail the others: each request's entries are tried alone
        // and get their own answer.
        Err(_) => {
            for (entries, done) in batch {
                let _ = done.send(insert_batch(db, disk, &entries).await);
            }
        }
    }
}

/// Inserts the entries in one transaction. The access log is written even while the disk is
/// full: the first time it finds the disk full, the reserve is given up for it and it tries
/// once more.
pub(crate) async fn insert_batch(db: &Db, disk: &DiskGuard, entries: &[AccessEntry]) -> Result<()> {
    match insert(db, entries).await {
        Err(StoreError::DiskFull) if disk.hit() => insert(db, entries).await,
        other => other,
    }
}

async fn insert(db: &Db, entries: &[AccessEntry]) -> Result<()> {
    macro_rules! in_one_transaction {
        ($pool:expr) => {{
            let mut tx = $pool.begin().await?;
            for rows in chunks(entries) {
                insert_access_rows!(&mut *tx, rows)?;
            }
            tx.commit().await?;
        }};
    }
    match db {
        Db::Sqlite { writer, .. } => in_one_transaction!(writer),
        Db::Postgres(pg) => in_one_transaction!(pg),
    }
    Ok(())
}

/// The entries in runs of 64, 32, … 1 rows: one statement per run instead of one per entry,
/// and only seven statement texts to prepare and keep.
fn chunks<T>(entries: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut rest = entries;
    while !rest.is_empty() {
        let n = if rest.len() >= 64 { 64 } else { 1 << rest.len().ilog2() };
        let (run, tail) = rest.split_at(n);
        out.push(run);
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn entries_are_written_in_runs_of_powers_of_two() {
        let sizes = |n: usize| super::chunks(&vec![0u8; n]).iter().map(|c| c.len()).collect::<Vec<_>>();
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(1), vec![1]);
        assert_eq!(sizes(37), vec![32, 4, 1]);
        assert_eq!(sizes(130), vec![64, 64, 2]);
    }
}
