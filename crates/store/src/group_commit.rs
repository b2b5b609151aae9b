//! Group commit for the access log.
//!
//! Every read of patient data writes an access-log entry durably before it answers. One commit
//! per read would make the database's single writer (SQLite has one; PostgreSQL pays a WAL
//! flush per commit) the ceiling for reads. Instead, entries from requests running at the same
//! time are written together: a background task takes whatever requests are waiting, inserts
//! their entries (one for a read, one per patient or case for a search) in one transaction,
//! commits once, and only then tells each request that its entries are durable. Under light
//! load a batch is one request and nothing waits longer than before.
//!
//! A server that owns its SQLite file appends the batch to the access log's journal instead
//! (one `fdatasync`, see `journal`), and the same task folds the journal into the table in
//! batches, so that reads no longer commit to the database the readers read.

use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::{mpsc, oneshot};

use crate::access_log::{AccessEntry, insert_access_rows};
use crate::disk::DiskGuard;
use crate::journal::{Generation, Journal};
use crate::{Db, Result, Store, StoreError};

/// Most requests taken from the queue at a time.
const MAX_BATCH: usize = 512;
/// Most entries in one commit (a search logs one per patient or case it answers with).
const MAX_ENTRIES: usize = 2048;

/// One request's entries (a search logs one per case it answers with) and where to say they
/// are durable.
type Append = (Vec<AccessEntry>, oneshot::Sender<Result<()>>);

/// What the writer task is asked to do.
enum Job {
    Append(Append),
    /// Fold the journal into the table now (a review of the log, a backup, closing).
    Fold(oneshot::Sender<Result<()>>),
}

/// The journal a server owns, shared with its writer task.
pub(crate) type SharedJournal = Arc<OnceLock<Mutex<Journal>>>;

/// The queue to the writer task; the task starts with the first entry, on the runtime that
/// writes it.
#[derive(Default)]
pub(crate) struct AccessLogWriter {
    queue: OnceLock<mpsc::UnboundedSender<Job>>,
    pub(crate) counts: Arc<crate::stats::CommitCounts>,
    /// Set once, by the server that owns the SQLite file (`Store::use_access_journal`).
    pub(crate) journal: SharedJournal,
}

impl AccessLogWriter {
    fn queue(&self, db: &Db, disk: &Arc<DiskGuard>) -> &mpsc::UnboundedSender<Job> {
        self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(run(db.clone(), disk.clone(), self.counts.clone(), self.journal.clone(), rx));
            tx
        })
    }

    /// Appends `entries` and returns once they are durable (with the others of their batch).
    pub(crate) async fn append(&self, db: &Db, disk: &Arc<DiskGuard>, entries: Vec<AccessEntry>) -> Result<()> {
        let (done, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError(Job::Append((entries, _)))) =
            self.queue(db, disk).send(Job::Append((entries, done)))
        {
            // The task is gone (its runtime ended, as between tests): write directly.
            return insert_batch(db, disk, &entries).await;
        }
        answer.await.unwrap_or_else(|_| Err(StoreError::Unavailable("the access-log writer stopped".into())))
    }

    /// Folds what the journal holds into the table and returns once it is there; nothing to do
    /// without a journal.
    pub(crate) async fn fold(&self, db: &Db, disk: &Arc<DiskGuard>) -> Result<()> {
        if self.journal.get().is_none() {
            return Ok(());
        }
        let (done, answer) = oneshot::channel();
        if self.queue(db, disk).send(Job::Fold(done)).is_err() {
            return Err(StoreError::Unavailable("the access-log writer stopped".into()));
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
    journal: SharedJournal,
    mut queue: mpsc::UnboundedReceiver<Job>,
) {
    let mut waiting: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    // Folding runs beside the appends, so that a fold's commit never holds a read's answer.
    let (to_folder, folds_waiting) = mpsc::unbounded_channel();
    tokio::spawn(folder(db.clone(), disk.clone(), folds_waiting));
    while queue.recv_many(&mut waiting, MAX_BATCH).await > 0 {
        let mut folds = vec![];
        let mut appends = vec![];
        for job in waiting.drain(..) {
            match job {
                Job::Append(a) => appends.push(a),
                Job::Fold(done) => folds.push(done),
            }
        }
        // Requests in order, in commits of at most MAX_ENTRIES entries (a request with more
        // has a commit of its own), so that a burst of large searches does not hold the writer.
        let mut jobs = appends.into_iter().peekable();
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
            commit(&db, &disk, &counts, &journal, batch, entries).await;
        }
        let due = journal.get().is_some_and(|j| j.lock().expect("journal lock").due());
        if due || !folds.is_empty() {
            match rotate(&journal).await {
                Ok(Some(g)) => {
                    let _ = to_folder.send(Fold::Generation(g));
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("the access-log journal could not start a new generation: {e}"),
            }
            for done in folds {
                let _ = to_folder.send(Fold::Flush(done));
            }
        }
    }
}

/// What the folding task is given.
enum Fold {
    Generation(Generation),
    /// Answer once every generation handed over before is folded.
    Flush(oneshot::Sender<Result<()>>),
}

/// Hands the journal's current generation over (a new file takes the appends), unless empty.
async fn rotate(journal: &SharedJournal) -> Result<Option<Generation>> {
    if journal.get().is_none() {
        return Ok(None);
    }
    let j = journal.clone();
    tokio::task::spawn_blocking(move || {
        let mut j = j.get().expect("set").lock().expect("journal lock");
        if j.is_empty() { Ok(None) } else { j.rotate().map(Some) }
    })
    .await
    .map_err(|e| StoreError::Unavailable(format!("the access-log journal failed: {e}")))?
}

/// Folds the generations handed over, oldest first; each file goes once its entries are
/// committed. A fold that fails is tried again with the next generation or flush.
async fn folder(db: Db, disk: Arc<DiskGuard>, mut jobs: mpsc::UnboundedReceiver<Fold>) {
    let mut waiting: std::collections::VecDeque<Generation> = std::collections::VecDeque::new();
    while let Some(job) = jobs.recv().await {
        let flush = match job {
            Fold::Generation(g) => {
                waiting.push_back(g);
                None
            }
            Fold::Flush(done) => Some(done),
        };
        let mut folded = Ok(());
        while let Some(g) = waiting.front() {
            if let Err(e) = fold_generation(&db, &disk, g.number, &g.entries).await {
                tracing::warn!("the access-log journal could not be folded into the table yet: {e}");
                folded = Err(e);
                break;
            }
            crate::journal::remove(&g.path);
            waiting.pop_front();
        }
        if let Some(done) = flush {
            let _ = done.send(folded);
        }
    }
}

/// Commits one generation's entries to the table together with its number, once: a generation
/// already folded (the process died before its file went) is not folded again.
/// Answers whether it folded them (false: folded before).
pub(crate) async fn fold_generation(db: &Db, disk: &DiskGuard, number: u64, entries: &[AccessEntry]) -> Result<bool> {
    let Db::Sqlite { writer, .. } = db else {
        return Err(StoreError::Unavailable("the access-log journal is for SQLite".into()));
    };
    let once = || async {
        let mut tx = writer.begin().await?;
        let done: Option<i64> = sqlx::query_scalar("SELECT generation FROM access_journal_folds WHERE generation = $1")
            .bind(number as i64)
            .fetch_optional(&mut *tx)
            .await?;
        if done.is_some() {
            return Ok(false);
        }
        for rows in chunks(entries) {
            insert_access_rows!(&mut *tx, rows)?;
        }
        sqlx::query("INSERT INTO access_journal_folds (generation, entries, folded_at) VALUES ($1, $2, $3)")
            .bind(number as i64)
            .bind(entries.len() as i64)
            .bind(crate::sql::micros(jiff::Timestamp::now()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok::<bool, StoreError>(true)
    };
    match once().await {
        Err(StoreError::DiskFull) if disk.hit() => once().await,
        other => other,
    }
}

/// Makes one batch durable, in the journal when the server owns one (else, or should the
/// journal fail, in the table), and answers its requests.
async fn commit(
    db: &Db,
    disk: &Arc<DiskGuard>,
    counts: &crate::stats::CommitCounts,
    journal: &SharedJournal,
    batch: Vec<Append>,
    entries: Vec<AccessEntry>,
) {
    let (entries, appended) = if journal.get().is_some() {
        // Written and synced on a blocking thread: the fsync must not hold the runtime's
        // threads (on one core there is one), as the database driver's thread held it before.
        let j = journal.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let appended = j.get().expect("set").lock().expect("journal lock").append(&entries);
            (entries, appended)
        })
        .await;
        match joined {
            Ok((entries, appended)) => (entries, Some(appended)),
            Err(e) => {
                tracing::error!("the access-log journal's writer failed: {e}");
                for (_, done) in batch {
                    let _ = done.send(Err(StoreError::Unavailable("the access-log journal failed".into())));
                }
                return;
            }
        }
    } else {
        (entries, None)
    };
    if let Some(appended) = appended {
        match appended {
            Ok(()) => {
                counts.access_log(entries.len());
                for (_, done) in batch {
                    let _ = done.send(Ok(()));
                }
                return;
            }
            Err(e) => tracing::warn!("the access-log journal could not be written; the table takes the entries: {e}"),
        }
    }
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
