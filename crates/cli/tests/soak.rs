//! The soak, in short: the working day's mix (inbox, case page, search, write a message,
//! acknowledge) at a moderate rate against `samverka serve` on demo data, with idle
//! live-update connections held open all along. No request may fail, no connection may drop,
//! and memory must not keep growing: the peak of the last window stays within 10 % of the
//! second's (the first fills the caches). The 30-minute soak on the national data set is
//! `samverka-load --phases '' --soak-minutes 30` (BENCHMARKS.md).

use std::collections::VecDeque;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use samverka_bench::load::{MIXED, World, open_loop, open_streams, setup};
use samverka_bench::{Server, rss_kib};
use samverka_store::{Agreements, Store};

const STREAMS: usize = 300;
const RATE: f64 = 15.0;
const WINDOWS: usize = 4;
const WINDOW_SECONDS: u64 = 15;

async fn soak(url: String) {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_samverka");
    let out = Command::new(bin)
        .current_dir(dir.path())
        .args(["demo", "--patients", "60"])
        .env("SAMVERKA_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let store = Store::connect(&url, Agreements::built_in()).await.unwrap();
    let (wards, bistand, cases) = setup(&store, 50).await;
    store.close().await;
    assert!(!cases.is_empty(), "the demo has open cases with a biståndsenhet");

    let server = Server::start(bin, dir.path(), &[("SAMVERKA_DATABASE_URL", url.clone())]).await;
    let pid = server.pid();
    let world = Arc::new(World {
        bases: vec![server.base.clone()],
        wards,
        bistand,
        cases,
        unacknowledged: Default::default(),
        fhir_tokens: vec![],
    });
    let streams = open_streams(&world, STREAMS).await;
    assert_eq!(streams.open.load(Ordering::Relaxed), STREAMS, "every live-update connection opens");

    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let mut peaks = vec![];
    let mut requests = 0;
    for window in 0..WINDOWS {
        let peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let sampler = {
            let peak = peak.clone();
            tokio::spawn(async move {
                loop {
                    peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            })
        };
        let stats = open_loop(&world, &client, MIXED, RATE, WINDOW_SECONDS).await;
        sampler.abort();
        let errors: u64 = stats.errors.values().sum();
        assert_eq!(errors, 0, "window {window}: no error responses; first: {:?}", stats.first_errors);
        requests += stats.hist.values().map(|h| h.len()).sum::<u64>();
        peaks.push(peak.load(Ordering::Relaxed));
    }
    eprintln!("{requests} requests; resident memory peaks per window (KiB): {peaks:?}");
    assert_eq!(requests, (RATE * (WINDOWS as u64 * WINDOW_SECONDS) as f64) as u64);
    assert!(peaks.iter().all(|&p| p > 0), "memory was sampled: {peaks:?}");
    let (second, last) = (peaks[1] as f64, peaks[WINDOWS - 1] as f64);
    assert!(last <= second * 1.10, "memory grew more than 10 % under steady load: {peaks:?}");

    assert_eq!(streams.open.load(Ordering::Relaxed), STREAMS, "no live-update connection dropped");
    assert_eq!(streams.failed.load(Ordering::Relaxed), 0);
    assert!(streams.events.load(Ordering::Relaxed) > 0, "the open pages heard of the changes");
    // Every message written was stored: what was acknowledged plus what waits.
    let waiting: VecDeque<_> = std::mem::take(&mut *world.unacknowledged.lock().await);
    let store = Store::connect(&url, Agreements::built_in()).await.unwrap();
    for (case, message) in waiting.iter().take(20) {
        let events = store.case_events(world.cases[*case].case_id).await.unwrap();
        let json = serde_json::to_string(&events).unwrap();
        assert!(json.contains(&message.to_string()), "message {message} is stored");
    }
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_soak_on_sqlite_fails_nothing_and_does_not_grow() {
    let dir = tempfile::tempdir().unwrap();
    soak(format!("sqlite://{}", dir.path().join("soak.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_soak_on_postgres_fails_nothing_and_does_not_grow() {
    soak(samverka_testkit::PgServer::get().fresh_database()).await;
}
