//! Several processes on one PostgreSQL database: every process tells the others which cases
//! it changed (NOTIFY) and tells its own open pages of theirs (LISTEN), and background work is
//! done in rounds that only one process at a time may do (`Store::round`). On SQLite (one
//! process) there is nobody to tell and every round is this process's.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::Duration;

use jiff::Timestamp;
use samverka_store::{Heard, Job, StoreError};

use crate::state::AppState;

/// At most this many changes go in one round of announcements (a few NOTIFYs).
const BATCH: usize = 500;

/// Starts telling and hearing the other processes (PostgreSQL only; on SQLite nothing).
pub async fn start(st: &AppState) -> Result<(), StoreError> {
    let Some(mut listener) = st.store.listen(st.announcements.origin).await? else { return Ok(()) };
    let Some(mut rx) = st.announcements.rx.lock().unwrap_or_else(|p| p.into_inner()).take() else {
        return Ok(());
    };
    st.announcements.running.store(true, Ordering::Relaxed);
    let out = st.clone();
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(BATCH);
        // Changes that arrive while one NOTIFY is under way go together in the next.
        while rx.recv_many(&mut batch, BATCH).await > 0 {
            if let Err(e) = out.store.announce(out.announcements.origin, &batch).await {
                // The pages of other processes will not hear of these until they look again;
                // their listeners notice a lost database too and tell them to.
                tracing::warn!(error = %e, changes = batch.len(), "changes could not be told to other processes");
            }
            batch.clear();
        }
    });
    let heard = st.clone();
    tokio::spawn(async move {
        while let Some(news) = listener.next().await {
            match news {
                Heard::Changes(changes) => {
                    for c in changes {
                        heard.live.changed(&heard.store, c.case_id, c.units);
                    }
                    heard.wake.notify_one();
                }
                Heard::Lost => {
                    tracing::warn!("lost the connection that hears other processes; every open page looks again");
                    heard.live.look_again(&heard.store);
                }
            }
        }
    });
    Ok(())
}

/// Does `work` in rounds for as long as the process runs: every `poll` this process asks for
/// the job's round, and does it when no other process is doing one and the last one finished
/// at least `every` ago. A process that dies mid-round leaves it to the next one that asks.
/// `work` is given the state for each round.
pub async fn repeat<F, Fut>(st: AppState, job: Job, every: Duration, poll: Duration, mut work: F)
where
    F: FnMut(AppState) -> Fut,
    Fut: Future<Output = Result<(), StoreError>>,
{
    loop {
        if let Err(e) = st.store.round(job, every, Timestamp::now(), work(st.clone())).await {
            tracing::warn!(?job, error = %e, "background round failed; trying again");
        }
        tokio::time::sleep(poll).await;
    }
}
