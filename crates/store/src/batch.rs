//! Case commands written several to one commit (SQLite).
//!
//! SQLite has one writer, and with `synchronous=FULL` every commit waits for the disk. Commands
//! that arrive while another is being written wait for the writer anyway; instead of a commit
//! each, a task takes every command waiting, runs each in its own savepoint of one transaction
//! (a refused command rolls back only its own changes) and commits once. No command is answered
//! before that commit, so nothing is acknowledged before it is durable. Under light load a batch
//! is one command and nothing waits longer than before.
//!
//! PostgreSQL needs none of this: it has many writers, and it groups their commits itself.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::{Result, StoreError};

/// Most commands in one commit; a longer queue is taken in several.
const MAX_BATCH: usize = 64;
/// A batch takes no more commands once it has run this long: the access log's own commits
/// (every read waits for one) queue for the writer behind the batch, so a batch's length is
/// a read's worst wait.
const MAX_BATCH_TIME: std::time::Duration = std::time::Duration::from_millis(8);

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How a command ended inside the transaction, and how to answer it once the commit is known.
struct Ran {
    /// A database failure (not a refusal): the transaction may be gone, so the batch stops.
    failed: Option<StoreError>,
    answer: Box<dyn FnOnce(Result<()>) + Send>,
}

type Work = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Ran> + Send>;

#[derive(Default)]
pub(crate) struct CommandBatcher {
    queue: OnceLock<mpsc::UnboundedSender<Work>>,
    pub(crate) counts: Arc<crate::stats::CommitCounts>,
}

impl CommandBatcher {
    /// Runs `command` on the writer, inside a savepoint of a shared transaction, and returns
    /// its result once that transaction is committed. `command` opens its savepoint itself
    /// (`conn.begin()` inside a transaction is one) and releases it when it succeeds.
    pub(crate) async fn run<R, F>(&self, writer: &SqlitePool, command: F) -> Result<R>
    where
        R: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<R>> + Send + 'static,
    {
        let (done, answer) = oneshot::channel::<Result<R>>();
        let work: Work = Box::new(move |conn| {
            Box::pin(async move {
                let result = command(conn).await;
                let failed = match &result {
                    Err(e @ (StoreError::Db(_) | StoreError::DiskFull | StoreError::Unavailable(_))) => Some(copy(e)),
                    _ => None,
                };
                Ran {
                    failed,
                    answer: Box::new(move |commit: Result<()>| {
                        let _ = done.send(match (result, commit) {
                            (Err(e), _) => Err(e),
                            (Ok(_), Err(e)) => Err(e),
                            (Ok(r), Ok(())) => Ok(r),
                        });
                    }),
                }
            })
        });
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let (writer, counts) = (writer.clone(), self.counts.clone());
            // Its own thread and runtime: a command's statements are a dozen round trips to the
            // connection's thread, and each would otherwise wait its turn behind every request
            // the server is busy with. It ends when the store is dropped.
            let started = std::thread::Builder::new().name("samverka-writer".into()).spawn(move || {
                match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt.block_on(serve(writer, counts, rx)),
                    Err(e) => tracing::error!(error = %e, "the database writer's runtime did not start"),
                }
            });
            if let Err(e) = started {
                tracing::error!(error = %e, "the database writer's thread did not start");
            }
            tx
        });
        if let Err(mpsc::error::SendError(work)) = queue.send(work) {
            // The writer's thread is gone: write alone, here.
            let mut one = vec![work];
            write_batch(writer, &mut one).await;
        }
        answer.await.unwrap_or_else(|_| Err(StoreError::Unavailable("the database writer stopped".into())))
    }
}

async fn serve(writer: SqlitePool, counts: Arc<crate::stats::CommitCounts>, mut queue: mpsc::UnboundedReceiver<Work>) {
    let mut batch: Vec<Work> = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // What a failed batch left unrun goes first in the next one.
        while !batch.is_empty() {
            let before = batch.len();
            write_batch(&writer, &mut batch).await;
            counts.commands(before - batch.len());
        }
    }
}

/// Runs the commands of `batch` in one transaction and answers them after its commit. A
/// database failure in one command (a full disk, a broken file) ends the batch there: the
/// transaction is rolled back, the commands already run get that failure as their answer, and
/// those not yet run stay in `batch`, as do those left when the batch has run its time.
async fn write_batch(writer: &SqlitePool, batch: &mut Vec<Work>) {
    let mut tx = match writer.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            // Dropping the commands answers each that the writer stopped.
            tracing::error!(error = %e, "the database writer cannot begin a transaction");
            batch.clear();
            return;
        }
    };
    let mut ran: Vec<Ran> = Vec::with_capacity(batch.len());
    let mut failure = None;
    let mut pending = std::mem::take(batch).into_iter();
    let started = std::time::Instant::now();
    for work in pending.by_ref() {
        let mut r = work(&mut tx).await;
        failure = r.failed.take();
        ran.push(r);
        if failure.is_some() || started.elapsed() >= MAX_BATCH_TIME {
            break;
        }
    }
    batch.extend(pending);
    let commit = match failure {
        Some(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
        None => tx.commit().await.map_err(StoreError::from),
    };
    for r in ran {
        r.answer(commit.as_ref().map(|_| ()).map_err(copy));
    }
}

impl Ran {
    fn answer(self, commit: Result<()>) {
        (self.answer)(commit)
    }
}

/// A database failure, once more for another command of the batch (errors cannot be cloned).
fn copy(e: &StoreError) -> StoreError {
    match e {
        StoreError::DiskFull => StoreError::DiskFull,
        e => StoreError::Unavailable(e.to_string()),
    }
}
