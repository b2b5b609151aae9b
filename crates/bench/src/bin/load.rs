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

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use samverka_bench::{Login, Server, cpu_time, peak_rss_kib, rss_kib, session};
use samverka_domain::access::Role;
use samverka_domain::org::UnitKind;
use samverka_store::{Agreements, Store};
use tokio::sync::Mutex;
use uuid::Uuid;

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
    /// Phases to run, comma-separated: trivial, case, inbox, mixed, writes (empty: none).
    #[arg(long, default_value = "trivial,case,inbox,mixed,writes")]
    phases: String,
    /// Minutes of soak at `--soak-rate` after the phases (0: none).
    #[arg(long, default_value_t = 0)]
    soak_minutes: u64,
    #[arg(long, default_value_t = 300.0)]
    soak_rate: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Trivial,
    Inbox,
    Case,
    Search,
    Message,
    Acknowledge,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Trivial => "trivial `/api/live`",
            Kind::Inbox => "inbox `/`",
            Kind::Case => "case page `/arenden/{id}`",
            Kind::Search => "search `POST /sok`",
            Kind::Message => "write message `POST /api/cases/{id}/messages`",
            Kind::Acknowledge => "acknowledge `POST …/acknowledge`",
        }
    }
}

/// The working day's mix: mostly looking, a quarter writing.
const MIXED: &[(Kind, u32)] = &[
    (Kind::Inbox, 30),
    (Kind::Case, 40),
    (Kind::Search, 5),
    (Kind::Message, 12),
    (Kind::Acknowledge, 12),
    (Kind::Trivial, 1),
];
const WRITES: &[(Kind, u32)] = &[(Kind::Message, 1), (Kind::Acknowledge, 1)];

/// An open case and who works on it.
struct Target {
    case_id: Uuid,
    patient_number: String,
    ward: usize,
    bistand: usize,
}

struct World {
    base: String,
    wards: Vec<Login>,
    bistand: Vec<Login>,
    cases: Vec<Target>,
    /// Messages sent and not yet acknowledged: (case index, message id).
    unacknowledged: Mutex<VecDeque<(usize, Uuid)>>,
}

#[derive(Default)]
struct Stats {
    hist: BTreeMap<Kind, Histogram<u64>>,
    errors: BTreeMap<Kind, u64>,
    first_errors: Vec<String>,
}

impl Stats {
    fn record(&mut self, kind: Kind, latency: Duration, result: Result<(), String>) {
        let h = self.hist.entry(kind).or_insert_with(|| Histogram::new_with_bounds(1, 120_000_000, 3).unwrap());
        h.saturating_record(latency.as_micros() as u64);
        if let Err(e) = result {
            *self.errors.entry(kind).or_default() += 1;
            if self.first_errors.len() < 5 {
                self.first_errors.push(format!("{}: {e}", kind.name()));
            }
        }
    }
}

async fn expect(res: reqwest::Result<reqwest::Response>, ok: u16) -> Result<reqwest::Response, String> {
    let res = res.map_err(|e| e.to_string())?;
    if res.status().as_u16() == ok {
        Ok(res)
    } else {
        let status = res.status();
        Err(format!("{status}: {}", res.text().await.unwrap_or_default().chars().take(300).collect::<String>()))
    }
}

/// One request of `kind`, as one of the people in `world`; `pick` is a random number.
async fn request(world: &World, client: &reqwest::Client, kind: Kind, pick: usize) -> Result<(), String> {
    let base = &world.base;
    let target = &world.cases[pick % world.cases.len()];
    // Half the reads are the ward's, half the municipality's.
    let reader = if pick.is_multiple_of(2) { &world.wards[target.ward] } else { &world.bistand[target.bistand] };
    let res = match kind {
        Kind::Trivial => expect(client.get(format!("{base}/api/live")).send().await, 200).await?,
        Kind::Inbox => {
            expect(client.get(format!("{base}/")).header("cookie", &reader.cookie).send().await, 200).await?
        }
        Kind::Case => {
            let url = format!("{base}/arenden/{}", target.case_id);
            expect(client.get(url).header("cookie", &reader.cookie).send().await, 200).await?
        }
        Kind::Search => {
            let ward = &world.wards[target.ward];
            let form = serde_urlencoded::to_string([("csrf_token", &ward.csrf), ("nummer", &target.patient_number)])
                .map_err(|e| e.to_string())?;
            let req = client
                .post(format!("{base}/sok"))
                .header("cookie", &ward.cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form);
            expect(req.send().await, 200).await?
        }
        Kind::Message => return message(world, client, pick).await,
        Kind::Acknowledge => {
            let Some((case, message_id)) = world.unacknowledged.lock().await.pop_front() else {
                // Nothing to acknowledge yet: the ward writes instead.
                return message(world, client, pick).await;
            };
            let target = &world.cases[case];
            let who = &world.bistand[target.bistand];
            let url = format!("{base}/api/cases/{}/messages/{message_id}/acknowledge", target.case_id);
            let req = client.post(url).header("cookie", &who.cookie).header("x-csrf-token", &who.csrf);
            expect(req.send().await, 200).await?
        }
    };
    res.bytes().await.map(|_| ()).map_err(|e| e.to_string())
}

async fn message(world: &World, client: &reqwest::Client, pick: usize) -> Result<(), String> {
    let case = pick % world.cases.len();
    let target = &world.cases[case];
    let ward = &world.wards[target.ward];
    let id = Uuid::now_v7();
    let body = serde_json::json!({
        "id": id,
        "body": { "kind": "allmant", "text": "Patienten behöver hjälp med läkemedel morgon och kväll." },
    });
    let url = format!("{}/api/cases/{}/messages", world.base, target.case_id);
    let req = client.post(url).header("cookie", &ward.cookie).header("x-csrf-token", &ward.csrf).json(&body);
    expect(req.send().await, 201).await?.bytes().await.map_err(|e| e.to_string())?;
    world.unacknowledged.lock().await.push_back((case, id));
    Ok(())
}

fn choose(mix: &[(Kind, u32)], rng: &mut StdRng) -> Kind {
    let total: u32 = mix.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    for (kind, w) in mix {
        if x < *w {
            return *kind;
        }
        x -= w;
    }
    unreachable!()
}

/// What a phase measured.
struct Phase {
    name: String,
    elapsed: Duration,
    stats: Stats,
    server_cpu: Duration,
    server_rss_kib: u64,
}

/// Requests on a fixed schedule at `rate` per second for `seconds`; latency from the
/// scheduled start.
async fn open_loop(
    world: &Arc<World>,
    client: &reqwest::Client,
    mix: &[(Kind, u32)],
    rate: f64,
    seconds: u64,
) -> Stats {
    let stats = Arc::new(std::sync::Mutex::new(Stats::default()));
    let mut rng = StdRng::seed_from_u64(7);
    let total = (rate * seconds as f64) as u64;
    let start = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let scheduled = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(scheduled).await;
        let (kind, pick) = (choose(mix, &mut rng), rng.random_range(0..usize::MAX / 2));
        let (world, client, stats) = (world.clone(), client.clone(), stats.clone());
        tasks.spawn(async move {
            let result = request(&world, &client, kind, pick).await;
            stats.lock().unwrap().record(kind, scheduled.elapsed(), result);
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    Arc::try_unwrap(stats).ok().unwrap().into_inner().unwrap()
}

/// `connections` clients each sending `kind` back to back for `seconds`.
async fn closed_loop(
    world: &Arc<World>,
    client: &reqwest::Client,
    kind: Kind,
    connections: usize,
    seconds: u64,
) -> Stats {
    let stats = Arc::new(std::sync::Mutex::new(Stats::default()));
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..connections {
        let (world, client, stats) = (world.clone(), client.clone(), stats.clone());
        tasks.spawn(async move {
            let mut pick = c * 7919;
            while Instant::now() < end {
                let t = Instant::now();
                let result = request(&world, &client, kind, pick).await;
                stats.lock().unwrap().record(kind, t.elapsed(), result);
                pick += 1;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    Arc::try_unwrap(stats).ok().unwrap().into_inner().unwrap()
}

/// Idle live-update connections: each holds `/handelser` open and counts what arrives.
struct Streams {
    open: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
    events: Arc<AtomicU64>,
    tasks: tokio::task::JoinSet<()>,
}

async fn open_streams(world: &Arc<World>, n: usize) -> Streams {
    // Their own client, so their connections are never borrowed for requests.
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let (open, failed, events) =
        (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)), Arc::new(AtomicU64::new(0)));
    let mut tasks = tokio::task::JoinSet::new();
    let people: Vec<Login> = world.wards.iter().chain(&world.bistand).cloned().collect();
    for i in 0..n {
        let who = people[i % people.len()].clone();
        let url = format!("{}/handelser", world.base);
        let (client, open, failed, events) = (client.clone(), open.clone(), failed.clone(), events.clone());
        tasks.spawn(async move {
            let mut res = match client.get(url).header("cookie", &who.cookie).send().await {
                Ok(r) if r.status().is_success() => r,
                _ => {
                    failed.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            };
            open.fetch_add(1, Ordering::Relaxed);
            while let Ok(Some(chunk)) = res.chunk().await {
                let n = chunk.windows(12).filter(|w| w == b"event: chang").count();
                events.fetch_add(n as u64, Ordering::Relaxed);
            }
            open.fetch_sub(1, Ordering::Relaxed);
            failed.fetch_add(1, Ordering::Relaxed);
        });
        // Browsers do not all open at once either; this also keeps the accept queue short.
        if i % 200 == 199 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while open.load(Ordering::Relaxed) + failed.load(Ordering::Relaxed) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Streams { open, failed, events, tasks }
}

async fn setup(store: &Store, wards_wanted: usize) -> (Vec<Login>, Vec<Login>, Vec<Target>) {
    let units = store.units().await.unwrap();
    let mut rng = StdRng::seed_from_u64(11);
    let mut wards: Vec<_> = units.iter().filter(|u| u.kind == UnitKind::Ward).collect();
    // A fixed shuffle, so runs are comparable.
    for i in (1..wards.len()).rev() {
        wards.swap(i, rng.random_range(0..=i));
    }
    let (mut ward_logins, mut bistand_logins, mut targets) = (vec![], vec![], vec![]);
    let mut bistand_index: BTreeMap<Uuid, usize> = BTreeMap::new();
    for ward in wards {
        if ward_logins.len() >= wards_wanted {
            break;
        }
        let open: Vec<_> = store
            .cases_for_unit(ward.id, false, 40)
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.phase != samverka_domain::case::Phase::AwaitingAssessment)
            .collect();
        if open.is_empty() {
            continue;
        }
        let w = ward_logins.len();
        ward_logins.push(session(store, ward.id, ward.organisation_id, Role::Vardsamordnare, "Last Avdelning").await);
        for c in open {
            let record = store.case(c.case_id).await.unwrap().unwrap();
            let Some(b) = record.case.parties.iter().find(|p| p.unit.kind == UnitKind::Bistandsenhet) else { continue };
            let b = match bistand_index.get(&b.unit.id) {
                Some(i) => *i,
                None => {
                    let unit = units.iter().find(|u| u.id == b.unit.id).unwrap();
                    let login =
                        session(store, unit.id, unit.organisation_id, Role::Bistandshandlaggare, "Last Bistånd").await;
                    bistand_logins.push(login);
                    bistand_index.insert(unit.id, bistand_logins.len() - 1);
                    bistand_logins.len() - 1
                }
            };
            targets.push(Target {
                case_id: c.case_id,
                patient_number: c.patient_identifier.clone(),
                ward: w,
                bistand: b,
            });
        }
    }
    (ward_logins, bistand_logins, targets)
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
        format!("sqlite://{}", std::fs::canonicalize(&args.database).unwrap().display())
    };
    let server = Server::start(&args.binary, dir.path(), &[("SAMVERKA_DATABASE_URL", url)]).await;
    let pid = server.pid();
    println!(
        "Start-up to first answered request: {:.0} ms; resident memory {} MiB",
        server.startup.as_secs_f64() * 1000.0,
        rss_kib(pid) / 1024
    );
    let world = Arc::new(World {
        base: server.base.clone(),
        wards,
        bistand,
        cases,
        unacknowledged: Mutex::new(VecDeque::new()),
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
    let (mut trivial_p50, mut trivial_rate) = (None, None);
    for name in args.phases.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (cpu0, t0) = (cpu_time(pid), Instant::now());
        let stats = match name {
            "trivial" => closed_loop(&world, &client, Kind::Trivial, args.concurrency, args.seconds).await,
            "case" => closed_loop(&world, &client, Kind::Case, args.concurrency, args.seconds).await,
            "inbox" => closed_loop(&world, &client, Kind::Inbox, args.concurrency, args.seconds).await,
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
        phases.push(Phase {
            name: label,
            elapsed,
            stats,
            server_cpu: cpu_time(pid) - cpu0,
            server_rss_kib: rss_kib(pid),
        });
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
    server.stop();
}
