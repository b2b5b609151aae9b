//! Several processes on one database: each `Store` here is one process's (its own pool of
//! connections) on the same PostgreSQL database.

mod common;

use std::time::Duration;

use jiff::Timestamp;
use samverka_store::{Agreements, CaseChange, Heard, Job, Store};
use uuid::Uuid;

async fn processes(n: usize) -> (Vec<Store>, String) {
    let (first, url) = common::postgres().await;
    let mut all = vec![first];
    for _ in 1..n {
        all.push(Store::connect(&url, Agreements::built_in()).await.unwrap());
    }
    (all, url)
}

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_round_is_done_by_one_process_at_a_time_and_passes_on_when_its_holder_dies() {
    let (p, url) = processes(3).await;
    let now = Timestamp::now();
    // A is in the middle of a round: B and C are refused it.
    let (started_tx, started) = tokio::sync::oneshot::channel();
    let (finish_tx, finish) = tokio::sync::oneshot::channel::<()>();
    let a = p[0].clone();
    let holder = tokio::spawn(async move {
        a.round(Job::Mail, MINUTE, now, async move {
            let _ = started_tx.send(());
            let _ = finish.await;
            Ok("a")
        })
        .await
        .unwrap()
    });
    started.await.unwrap();
    for other in &p[1..] {
        assert_eq!(other.round(Job::Mail, MINUTE, now, async { Ok("other") }).await.unwrap(), None);
    }
    // Another job is not held up by it.
    assert_eq!(p[1].round(Job::Escalation, MINUTE, now, async { Ok(1) }).await.unwrap(), Some(1));
    finish_tx.send(()).unwrap();
    assert_eq!(holder.await.unwrap(), Some("a"));
    // Done a moment ago: not again until `every` has passed, whoever asks.
    assert_eq!(p[2].round(Job::Mail, MINUTE, now, async { Ok("c") }).await.unwrap(), None);
    let later = now.checked_add(jiff::SignedDuration::from_secs(61)).unwrap();
    assert_eq!(p[2].round(Job::Mail, MINUTE, later, async { Ok("c") }).await.unwrap(), Some("c"));

    // A process dies mid-round (its connections close): the round was not done, and the next
    // process to ask does it at once.
    let dying = Store::connect(&url, Agreements::built_in()).await.unwrap();
    let (started_tx, started) = tokio::sync::oneshot::channel();
    let much_later = later.checked_add(jiff::SignedDuration::from_secs(120)).unwrap();
    let d = dying.clone();
    let doomed = tokio::spawn(async move {
        d.round(Job::Mail, MINUTE, much_later, async move {
            let _ = started_tx.send(());
            std::future::pending::<()>().await;
            Ok(())
        })
        .await
    });
    started.await.unwrap();
    assert_eq!(p[1].round(Job::Mail, MINUTE, much_later, async { Ok(()) }).await.unwrap(), None, "held");
    doomed.abort();
    let _ = doomed.await;
    dying.close().await;
    let mut taken = None;
    for _ in 0..50 {
        taken = p[1].round(Job::Mail, MINUTE, much_later, async { Ok("b") }).await.unwrap();
        if taken.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(taken, Some("b"), "the dead process's round passed on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_feed_has_one_turn_across_processes() {
    let (p, _) = processes(2).await;
    let turn = p[0].feed_turn().await.unwrap().expect("a turn on PostgreSQL");
    let b = p[1].clone();
    let waiting = tokio::spawn(async move { b.feed_turn().await.unwrap().is_some() });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "the second process waits while the first holds the turn");
    drop(turn);
    let got = tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("the turn passed").unwrap();
    assert!(got);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn changes_are_heard_by_the_other_processes_and_a_lost_ear_says_so() {
    let (p, url) = processes(2).await;
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let mut ear_a = p[0].listen(a).await.unwrap().unwrap();
    let mut ear_b = p[1].listen(b).await.unwrap().unwrap();
    let change = CaseChange { case_id: Uuid::now_v7(), units: vec![Uuid::now_v7(), Uuid::now_v7()] };
    p[0].announce(a, std::slice::from_ref(&change)).await.unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(5), ear_b.next()).await.unwrap().unwrap();
    assert_eq!(heard, Heard::Changes(vec![change.clone()]));
    // A does not hear itself: the next thing it hears is B's.
    let other = CaseChange { case_id: Uuid::now_v7(), units: vec![] };
    p[1].announce(b, std::slice::from_ref(&other)).await.unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(5), ear_a.next()).await.unwrap().unwrap();
    assert_eq!(heard, Heard::Changes(vec![other]));

    // B's listening connection is cut (as by a database restart or a network fault): B is
    // told, and then hears again.
    let cut = samverka_testkit::PgServer::get().psql(
        &url,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    );
    assert_eq!(cut.trim(), "2", "both processes' listening connections cut");
    let heard = tokio::time::timeout(Duration::from_secs(5), ear_b.next()).await.unwrap().unwrap();
    assert_eq!(heard, Heard::Lost);
    let again = CaseChange { case_id: Uuid::now_v7(), units: vec![Uuid::now_v7()] };
    // B listens again on its next call; announce until it hears (the first may come before).
    let listening = tokio::spawn(async move { ear_b.next().await.unwrap() });
    let mut heard = None;
    for _ in 0..50 {
        p[0].announce(a, std::slice::from_ref(&again)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        if listening.is_finished() {
            heard = Some(listening.await.unwrap());
            break;
        }
    }
    assert_eq!(heard, Some(Heard::Changes(vec![again])));
}

#[tokio::test]
async fn on_sqlite_every_round_is_the_one_process_s_once_its_interval_has_passed() {
    let (store, _dir) = common::sqlite().await;
    let now = Timestamp::now();
    assert_eq!(store.round(Job::Escalation, MINUTE, now, async { Ok(1) }).await.unwrap(), Some(1));
    assert_eq!(store.round(Job::Escalation, MINUTE, now, async { Ok(2) }).await.unwrap(), None, "within the interval");
    let later = now.checked_add(jiff::SignedDuration::from_secs(60)).unwrap();
    assert_eq!(store.round(Job::Escalation, MINUTE, later, async { Ok(3) }).await.unwrap(), Some(3));
    assert_eq!(store.round(Job::Mail, Duration::ZERO, later, async { Ok(4) }).await.unwrap(), Some(4));
    assert!(store.feed_turn().await.unwrap().is_none());
    assert!(store.listen(Uuid::now_v7()).await.unwrap().is_none());
    store.announce(Uuid::now_v7(), &[CaseChange { case_id: Uuid::now_v7(), units: vec![] }]).await.unwrap();
}
