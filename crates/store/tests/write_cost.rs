//! What a command writes does not grow with the case's history: sending a message to, or
//! acknowledging one in, a case with 500 events writes within a fifth of what the same command
//! writes to a case with 20. Measured as the database measures it, not as time: on SQLite the
//! pages a commit appends to the write-ahead log, on PostgreSQL the bytes of WAL it generates
//! (each the least of three tries, so that a background write of the server's own cannot
//! count against the command). Its own test binary, so that no other test writes meanwhile.

use std::path::PathBuf;

use samverka_domain::case::Command;
use samverka_domain::message::MessageBody;
use samverka_store::{DatabaseKind, Store};
use uuid::Uuid;

#[macro_use]
mod common;
use common::*;

/// A free message from the ward to the biståndsenhet, of a length staff often write.
fn free_message(w: &World) -> Command {
    Command::SendMessage {
        message_id: Uuid::now_v7(),
        body: MessageBody::Allmant {
            text: "Patienten har haft en lugn natt, äter bättre och går med rollator till toaletten. \
                   Anhöriga önskar ett samtal före hemgång; dottern nås på eftermiddagarna. \
                   Läkemedelslistan är uppdaterad och skickas med informationen vid utskrivning."
                .into(),
        },
        recipients: vec![w.bistand.clone()],
        corrects: None,
    }
}

/// Opens a case and lets the ward and the biståndsenhet exchange messages until it has at
/// least `events` events.
async fn case_with_history(store: &Store, w: &World, events: u32) -> Uuid {
    let case_id = open(store, w, "2026-11-02 08:00").await;
    let mut at = ts("2026-11-02 09:00");
    let (ward, bistand) = (w.actor(&w.ward), w.actor(&w.bistand));
    let (mut record, _) = store.execute(case_id, &ward, notice(w), at).await.unwrap();
    while record.case.version < events {
        at += jiff::SignedDuration::from_mins(1);
        let cmd = free_message(w);
        let Command::SendMessage { message_id, .. } = cmd else { unreachable!() };
        store.execute(case_id, &ward, cmd, at).await.unwrap();
        store.execute(case_id, &bistand, Command::OpenMessage { message_id }, at).await.unwrap();
        (record, _) = store.execute(case_id, &bistand, Command::AcknowledgeMessage { message_id }, at).await.unwrap();
    }
    case_id
}

/// How a database counts what a commit writes.
enum Meter {
    /// The SQLite file's write-ahead log, emptied before each command.
    SqliteWal {
        wal: PathBuf,
        page_size: u64,
    },
    Postgres,
}

impl Meter {
    async fn of(store: &Store) -> Meter {
        match store.kind() {
            DatabaseKind::Sqlite => {
                let file = text(store, "SELECT file FROM pragma_database_list WHERE name = 'main'").await;
                let page_size = text(store, "SELECT CAST(page_size AS TEXT) FROM pragma_page_size").await;
                Meter::SqliteWal { wal: PathBuf::from(format!("{file}-wal")), page_size: page_size.parse().unwrap() }
            }
            DatabaseKind::Postgres => Meter::Postgres,
        }
    }

    /// Where the log stands (SQLite: emptied first, so zero).
    async fn start(&self, store: &Store) -> u64 {
        match self {
            Meter::SqliteWal { wal, .. } => {
                store.raw_execute_for_tests("PRAGMA wal_checkpoint(TRUNCATE)").await.unwrap();
                let len = std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0);
                assert_eq!(len, 0, "the write-ahead log was not emptied");
                0
            }
            Meter::Postgres => lsn(store).await,
        }
    }

    /// What was written since `start`: SQLite pages, PostgreSQL bytes.
    async fn since(&self, store: &Store, start: u64) -> u64 {
        match self {
            Meter::SqliteWal { wal, page_size } => {
                // A 32-byte header, then a 24-byte header and a page for each frame.
                let len = std::fs::metadata(wal).unwrap().len();
                (len - 32) / (page_size + 24)
            }
            Meter::Postgres => lsn(store).await - start,
        }
    }
}

async fn text(store: &Store, sql: &str) -> String {
    store.raw_text_for_tests(sql).await.unwrap().unwrap()
}

async fn lsn(store: &Store) -> u64 {
    text(store, "SELECT CAST(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0') AS TEXT)").await.parse().unwrap()
}

/// The commands measured.
#[derive(Clone, Copy)]
enum Measured {
    /// The ward sends a free message.
    Send,
    /// The biståndsenhet acknowledges a message sent to it just before.
    Acknowledge,
}

/// The least `what` writes to `case_id` in three tries; `clock` is the minute of the tests'
/// day, moved on by every command.
async fn written(store: &Store, w: &World, meter: &Meter, clock: &mut i64, case_id: Uuid, what: Measured) -> u64 {
    let mut at = || {
        *clock += 1;
        ts("2026-11-20 00:00") + jiff::SignedDuration::from_mins(*clock)
    };
    let mut least = u64::MAX;
    for _ in 0..3 {
        let (cmd, audit) = match what {
            Measured::Send => (free_message(w), w.actor(&w.ward)),
            Measured::Acknowledge => {
                let cmd = free_message(w);
                let Command::SendMessage { message_id, .. } = cmd else { unreachable!() };
                store.execute(case_id, &w.actor(&w.ward), cmd, at()).await.unwrap();
                (Command::AcknowledgeMessage { message_id }, w.actor(&w.bistand))
            }
        };
        let start = meter.start(store).await;
        let (_, events) = store.execute(case_id, &audit, cmd, at()).await.unwrap();
        assert!(!events.is_empty(), "the command changed the case");
        least = least.min(meter.since(store, start).await);
    }
    least
}

on_both!(a_write_costs_the_same_however_long_the_history, |store: Store| async move {
    let w = seed(&store).await;
    let short = case_with_history(&store, &w, 20).await;
    let long = case_with_history(&store, &w, 500).await;
    assert!(store.case_events(long).await.unwrap().len() >= 500);
    let meter = Meter::of(&store).await;
    let unit = match meter {
        Meter::SqliteWal { .. } => "pages",
        Meter::Postgres => "bytes of WAL",
    };
    let mut clock = 0;
    for (what, name) in [(Measured::Send, "a message"), (Measured::Acknowledge, "an acknowledgement")] {
        let to_short = written(&store, &w, &meter, &mut clock, short, what).await;
        let to_long = written(&store, &w, &meter, &mut clock, long, what).await;
        eprintln!("{name}: {to_short} {unit} in a case of 20 events, {to_long} in one of 500");
        assert!(
            to_long * 5 <= to_short * 6,
            "{name} in a case of 500 events wrote {to_long} {unit}, in one of 20 {to_short}"
        );
    }
});
