//! `samverka-load`: a region's (or Sweden's) working day against one server.
//!
//! Given a database filled by `samverka demo --scale national`, it logs in the staff of many
//! wards and of the municipalities' needs-assessment units (biståndsenheter) taking part in
//! their open cases, starts `samverka serve` on it, opens thousands of idle live-update
//! connections (`/handelser`, as every open browser tab holds) and then runs, phase by phase:
//!
//! - **trivial**: `/api/live` (no database) as fast as `--concurrency` connections allow: what
//!   the machine and the HTTP stack give, the baseline for every ratio;
//! - **case** and **inbox** alone, the same way: their own ceiling;
//! - **mixed**: the working day at `--rate` requests a second, open loop (requests start on a
//!   fixed schedule whether or not earlier ones have finished, and latency counts from the
//!   scheduled start, so a stalled server cannot hide its queue): open the inbox, open a case,
//!   search for a patient, write a message in a case, acknowledge (kvittera) a message;
//! - **writes**: messages and acknowledgements only, at `--write-rate`, each durable with its
//!   access-log entry before the answer;
//! - **soak** (with `--soak-minutes`): the mixed load at `--soak-rate`, memory sampled all along.
//!
//! For every request type: throughput and p50/p95/p99/max latency (HDR histogram), errors;
//! per phase the server's CPU (of 2 cores) and resident memory. Every read of patient data is
//! access-logged by the server as in production.
//!
//!     target/release/samverka demo --scale national --cases 500000   # in an empty folder
//!     target/release/samverka-load --database data/samverka.db

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Parser;
use samverka_bench::load::{Kind, MIXED, Phase, WRITES, World, closed_loop, open_loop, open_streams, setup};
use samverka_bench::{Server, cpu_time, peak_rss_kib, rss_kib};
use samverka_store::{Agreements, Store};
use tokio::sync::Mutex;

#[derive(Parser)]
struct Args {
    /// The national data set: a SQLite file or a postgres:// URL.
    #[arg(long)]
    database: String,
    #[arg(long, default_value = "target/release/samverka")]
    binary: String,
    /// Mixed requests per second.
    #[arg(long, default_value_t = 2000.0)]
    rate: f64,
    /// Writes per second in the write phase.
    #[arg(long, default_value_t = 1000.0)]
    write_rate: f64,
    /// Seconds per phase.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Idle live-update connections held open through every phase.
    #[arg(long, default_value_t = 5000)]
    idle_streams: usize,
    /// Wards whose staff take part (with the biståndsenheter of their open cases).
    #[arg(long, default_value_t = 200)]
    wards: usize,
    /// Connections of the closed-loop ceiling phases.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Phases to run, comma-separated: trivial, case, inbox, fhir-read, fhir-search,
    /// fhir-episodes, fhir-message, message, acknowledge (writes back to back), mixed, writes
    /// (at a rate) (empty: none).
    #[arg(long, default_value = "trivial,case,inbox,mixed,writes")]
    phases: String,
    /// Minutes of soak at `--soak-rate` after the phases (0: none).
    #[arg(long, default_value_t = 0)]
    soak_minutes: u64,
    #[arg(long, default_value_t = 300.0)]
    soak_rate: f64,
    /// Samverka processes on the database (PostgreSQL for more than one); requests are spread
    /// over them, and with two or more a probe measures how long a change on one takes to
    /// reach an open page on another.
    #[arg(long, default_value_t = 1)]
    processes: usize,
    /// How often the probe across processes writes. Under 1 000 ms it meets the limit of one
    /// telling a second per unit and measures that; above, the path itself.
    #[arg(long, default_value_t = 1500)]
    probe_every_ms: u64,
}

/// Busy time of CPU core 0 (where the server side runs), from /proc/stat.
fn core0_busy() -> Duration {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .find(|l| l.starts_with("cpu0 "))
        .map(|l| l.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect())
        .unwrap_or_default();
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    let busy: u64 = fields.iter().enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, v)| v).take(8).sum();
    Duration::from_millis(busy * 10)
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

fn report(phases: &[Phase], trivial_p50: Option<u64>, trivial_rate: Option<f64>) {
    println!(
        "\n| phase | request | count | req/s | p50 ms | p95 | p99 | max | errors | p50 × trivial | req/s ÷ trivial |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for p in phases {
        let secs = p.elapsed.as_secs_f64();
        for (kind, h) in &p.stats.hist {
            let rate = h.len() as f64 / secs;
            let vs_p50 = trivial_p50.map(|t| format!("{:.1}", h.value_at_quantile(0.5) as f64 / t.max(1) as f64));
            let vs_rate = trivial_rate.map(|t| format!("{:.2}", rate / t));
            println!(
                "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} |",
                p.name,
                kind.name(),
                h.len(),
                rate,
                ms(h.value_at_quantile(0.5)),
                ms(h.value_at_quantile(0.95)),
                ms(h.value_at_quantile(0.99)),
                ms(h.max()),
                p.stats.errors.get(kind).copied().unwrap_or(0),
                vs_p50.unwrap_or_default(),
                vs_rate.unwrap_or_default(),
            );
        }
    }
    println!("\n| phase | all requests/s | server CPU (of 2 cores) | server RSS at end |");
    println!("|---|---:|---:|---:|");
    for p in phases {
        let n: u64 = p.stats.hist.values().map(|h| h.len()).sum();
        let secs = p.elapsed.as_secs_f64();
        println!(
            "| {} | {:.0} | {:.0} % | {:.0} MiB |",
            p.name,
            n as f64 / secs,
            100.0 * p.server_cpu.as_secs_f64() / secs,
            p.server_rss_kib as f64 / 1024.0
        );
    }
    for p in phases {
        for e in &p.stats.first_errors {
            println!("error in {}: {e}", p.name);
        }
    }
}

/// Reads the SQLite file (and its write-ahead log) once, as a server long in service has it in
/// the file cache. The virtual machines we measure on give idle file cache back to their host
/// within minutes, so without this a run's first seconds read from disk and two runs of the same
/// binary differ by half.
fn warm_file_cache(database: &str) -> u64 {
    [database.to_string(), format!("{database}-wal")]
        .iter()
        .filter_map(|path| std::fs::File::open(path).ok())
        .map(|mut file| std::io::copy(&mut file, &mut std::io::sink()).unwrap_or(0))
        .sum()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let store = Store::connect(&args.database, Agreements::built_in()).await.unwrap();
    store.migrate().await.unwrap();
    let cases_in_db = store.count_cases().await.unwrap();
    let (wards, bistand, cases) = setup(&store, args.wards).await;
    store.close().await;
    assert!(!cases.is_empty(), "no open cases with a biståndsenhet in {}", args.database);
    println!(
        "Data set: {cases_in_db} cases; {} wards and {} biståndsenheter at work on {} open cases",
        wards.len(),
        bistand.len(),
        cases.len()
    );

    let dir = tempfile::tempdir().unwrap();
    let url = if args.database.starts_with("postgres") {
        args.database.clone()
    } else {
        let started = Instant::now();
        let bytes = warm_file_cache(&args.database);
        println!(
            "Database file read once into the operating system's file cache: {} MiB in {:.1} s",
            bytes >> 20,
            started.elapsed().as_secs_f64()
        );
        format!("sqlite://{}", std::fs::canonicalize(&args.database).unwrap().display())
    };
    let mut servers = vec![];
    for _ in 0..args.processes.max(1) {
        servers.push(Server::start(&args.binary, dir.path(), &[("SAMVERKA_DATABASE_URL", url.clone())]).await);
    }
    let server = &servers[0];
    let pid = server.pid();
    let pids: Vec<u32> = servers.iter().map(Server::pid).collect();
    let all_cpu = || pids.iter().map(|p| cpu_time(*p)).sum::<Duration>();
    let all_rss = || pids.iter().map(|p| rss_kib(*p)).sum::<u64>();
    println!(
        "{} process(es); start-up to first answered request: {:.0} ms; resident memory {} MiB",
        servers.len(),
        server.startup.as_secs_f64() * 1000.0,
        all_rss() / 1024
    );
    // A FHIR client per ward, with a token, when a FHIR phase is asked for.
    let mut fhir_tokens = vec![];
    if args.phases.contains("fhir") {
        let store = Store::connect(&args.database, Agreements::built_in()).await.unwrap();
        let units = store.units().await.unwrap();
        let client = reqwest::Client::new();
        for ward in &wards {
            let unit = units.iter().find(|u| u.id == ward.unit).unwrap();
            let scopes = ["system/*.read", "system/Communication.write"];
            let (id, secret) =
                samverka_bench::fhir_client(&store, unit.id, unit.organisation_id, "Last Verksamhetssystem", &scopes)
                    .await;
            fhir_tokens.push(samverka_bench::fhir_token(&client, &server.base, id, &secret).await);
        }
        store.close().await;
    }
    // With several processes one case is kept out of the load for the probe across processes.
    let mut cases = cases;
    let probed = if servers.len() > 1 { cases.pop().map(Arc::new) } else { None };
    let world = Arc::new(World {
        bases: servers.iter().map(|s| s.base.clone()).collect(),
        wards,
        bistand,
        cases,
        unacknowledged: Mutex::new(VecDeque::new()),
        fhir_tokens,
    });
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();

    let streams = open_streams(&world, args.idle_streams).await;
    println!(
        "Live-update connections: {} open, {} refused; resident memory {} MiB",
        streams.open.load(Ordering::Relaxed),
        streams.failed.load(Ordering::Relaxed),
        rss_kib(pid) / 1024
    );

    let mut phases = vec![];
    let mut across = vec![];
    let (mut trivial_p50, mut trivial_rate) = (None, None);
    for name in args.phases.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let probe = probed
            .clone()
            .filter(|_| name != "trivial")
            .map(|t| samverka_bench::load::probe_across(&world, t, Duration::from_millis(args.probe_every_ms)));
        let (cpu0, core0, t0) = (all_cpu(), core0_busy(), Instant::now());
        let stats = match name {
            "trivial" => closed_loop(&world, &client, Kind::Trivial, args.concurrency, args.seconds).await,
            "case" => closed_loop(&world, &client, Kind::Case, args.concurrency, args.seconds).await,
            "inbox" => closed_loop(&world, &client, Kind::Inbox, args.concurrency, args.seconds).await,
            "fhir-read" => closed_loop(&world, &client, Kind::FhirPatient, args.concurrency, args.seconds).await,
            "fhir-search" => closed_loop(&world, &client, Kind::FhirSearch, args.concurrency, args.seconds).await,
            "fhir-episodes" => closed_loop(&world, &client, Kind::FhirEpisodes, args.concurrency, args.seconds).await,
            "fhir-message" => closed_loop(&world, &client, Kind::FhirMessage, args.concurrency, args.seconds).await,
            // Writes back to back: a free message from the ward, an acknowledgement by the
            // biståndsenhet of one sent before.
            "message" => closed_loop(&world, &client, Kind::Message, args.concurrency, args.seconds).await,
            "acknowledge" => closed_loop(&world, &client, Kind::Acknowledge, args.concurrency, args.seconds).await,
            "mixed" => open_loop(&world, &client, MIXED, args.rate, args.seconds).await,
            "writes" => open_loop(&world, &client, WRITES, args.write_rate, args.seconds).await,
            other => panic!("unknown phase {other}"),
        };
        let elapsed = t0.elapsed();
        if name == "trivial" {
            let h = &stats.hist[&Kind::Trivial];
            trivial_p50 = Some(h.value_at_quantile(0.5));
            trivial_rate = Some(h.len() as f64 / elapsed.as_secs_f64());
        }
        let label = match name {
            "mixed" => format!("mixed at {}/s", args.rate),
            "writes" => format!("writes at {}/s", args.write_rate),
            n => format!("{n} ({} connections)", args.concurrency),
        };
        let core0 = core0_busy() - core0;
        if let Some((probe, task)) = probe {
            task.abort();
            let h = probe.lock().unwrap().clone();
            across.push((label.clone(), h));
        }
        println!(
            "{label}: core 0 (Samverka and PostgreSQL) busy {:.0} %",
            100.0 * core0.as_secs_f64() / elapsed.as_secs_f64()
        );
        phases.push(Phase { name: label, elapsed, stats, server_cpu: all_cpu() - cpu0, server_rss_kib: all_rss() });
        eprintln!("phase {name} done");
    }

    if args.soak_minutes > 0 {
        // Memory after the first five minutes is the baseline (caches fill first), sampled
        // every ten seconds to the end.
        let samples = Arc::new(std::sync::Mutex::new(Vec::<(Duration, u64)>::new()));
        let t0 = Instant::now();
        let sampler = {
            let samples = samples.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    samples.lock().unwrap().push((t0.elapsed(), rss_kib(pid)));
                }
            })
        };
        let cpu0 = cpu_time(pid);
        let stats = open_loop(&world, &client, MIXED, args.soak_rate, args.soak_minutes * 60).await;
        sampler.abort();
        let elapsed = t0.elapsed();
        let samples = samples.lock().unwrap().clone();
        let base =
            samples.iter().find(|(t, _)| *t >= Duration::from_secs(300)).or(samples.first()).map(|s| s.1).unwrap_or(0);
        let last = samples.last().map(|s| s.1).unwrap_or(0);
        let max = samples.iter().map(|s| s.1).max().unwrap_or(0);
        println!(
            "\nSoak: {} min at {}/s: resident memory {} MiB after 5 min, {} MiB at the end ({:+.1} %), {} MiB at most",
            args.soak_minutes,
            args.soak_rate,
            base / 1024,
            last / 1024,
            100.0 * (last as f64 - base as f64) / base.max(1) as f64,
            max / 1024
        );
        println!(
            "Memory samples (s, MiB): {}",
            samples.iter().map(|(t, k)| format!("{}:{}", t.as_secs(), k / 1024)).collect::<Vec<_>>().join(" ")
        );
        phases.push(Phase {
            name: format!("soak at {}/s", args.soak_rate),
            elapsed,
            stats,
            server_cpu: cpu_time(pid) - cpu0,
            server_rss_kib: rss_kib(pid),
        });
    }

    report(&phases, trivial_p50, trivial_rate);
    if !across.is_empty() {
        println!("\n| phase | changes probed across processes | p50 ms | p95 | p99 | max |");
        println!("|---|---:|---:|---:|---:|---:|");
        for (phase, h) in &across {
            println!(
                "| {phase} | {} | {:.0} | {:.0} | {:.0} | {:.0} |",
                h.len(),
                ms(h.value_at_quantile(0.5)),
                ms(h.value_at_quantile(0.95)),
                ms(h.value_at_quantile(0.99)),
                ms(h.max())
            );
        }
    }
    println!(
        "\nLive-update connections at the end: {} open, {} lost; {} change events delivered",
        streams.open.load(Ordering::Relaxed),
        streams.failed.load(Ordering::Relaxed),
        streams.events.load(Ordering::Relaxed)
    );
    println!(
        "Server: peak resident memory {} MiB; harness CPU {:.0} s in all",
        peak_rss_kib(pid) / 1024,
        cpu_time(std::process::id()).as_secs_f64()
    );
    drop(streams.tasks);
    drop(servers);
}
