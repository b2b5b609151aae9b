//! `samverka-followup-bench`: the follow-up on the national data set, as managers meet it.
//!
//! Given a database filled by `samverka demo --scale national`, it starts `samverka serve` on
//! it and reports, for all of Sweden and for the largest municipality: the time to open the
//! indicator dashboard (the page with its charts, and the JSON API) cold — the first request
//! after the server starts, with the operating system's file cache dropped where allowed —
//! and warm (HDR histogram of repeated requests); then the time to produce a month's invoice
//! basis for every municipality.
//!
//!     target/release/samverka demo --scale national            # in an empty data/ folder
//!     target/release/samverka-followup-bench --database data/samverka.db

use std::process::Command;
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use samverka_bench::{Server, session};
use samverka_domain::access::Role;
use samverka_domain::org::{OrganisationKind, UnitKind};
use samverka_store::{Agreements, Store};

#[derive(Parser)]
struct Args {
    /// The national data set: a SQLite file or a postgres:// URL.
    #[arg(long)]
    database: String,
    #[arg(long, default_value = "target/release/samverka")]
    binary: String,
    /// Warm requests per page.
    #[arg(long, default_value_t = 50)]
    requests: u64,
    /// The month to show ("YYYY-MM"); by default last month.
    #[arg(long)]
    month: Option<String>,
}

fn drop_os_cache() -> bool {
    // Needs root; a failure only means "cold" is the server's cold, not the disk's.
    Command::new("sync").status().is_ok() && std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    let store = Store::connect(&args.database, Agreements::built_in()).await.unwrap();
    store.migrate().await.unwrap();
    let orgs = store.organisations().await.unwrap();
    let units = store.units().await.unwrap();
    let cases = store.count_cases().await.unwrap();
    // A unit manager at the first region's first ward sees all of Sweden's figures; one per
    // region produces the invoice bases of its municipalities.
    let mut region_cookies = vec![];
    for (o, _) in orgs.iter().filter(|(o, _)| o.kind == OrganisationKind::Region) {
        let ward = units.iter().find(|u| u.organisation_id == o.id && u.kind == UnitKind::Ward).unwrap();
        let cookie = session(&store, ward.id, o.id, Role::Enhetschef, &format!("Chef {}", o.name)).await.cookie;
        region_cookies.push((o.region_code.clone().unwrap(), cookie));
    }
    let kommuner: Vec<String> =
        orgs.iter().filter_map(|(o, _)| o.kommunkod.as_ref().map(|k| k.as_str().to_string())).collect();
    let today = samverka_domain::calendar::local_date(jiff::Timestamp::now());
    let population = store.population(today.year()).await.unwrap();
    let largest = population.iter().max_by_key(|(_, n)| **n).map(|(k, _)| k.clone()).unwrap();
    store.close().await;
    let month =
        args.month.clone().unwrap_or_else(|| today.first_of_month().yesterday().unwrap().strftime("%Y-%m").to_string());
    println!("Data set: {cases} cases, {} municipalities, {} units; month {month}", kommuner.len(), units.len());

    let dropped = drop_os_cache();
    let dir = tempfile::tempdir().unwrap();
    let url = if args.database.starts_with("postgres") {
        args.database.clone()
    } else {
        format!("sqlite://{}", std::fs::canonicalize(&args.database).unwrap().display())
    };
    let server = Server::start(&args.binary, dir.path(), &[("SAMVERKA_DATABASE_URL", url)]).await;
    let base = server.base.clone();
    let client = reqwest::Client::new();
    println!("Server answering after {:.0} ms (OS file cache dropped: {dropped})", ms(server.startup));
    let chief = region_cookies[0].1.clone();
    let get = |path: String, cookie: String| {
        let req = client.get(format!("{base}{path}")).header("cookie", cookie);
        async move {
            let s = Instant::now();
            let res = req.send().await.unwrap();
            let status = res.status();
            let body = res.bytes().await.unwrap();
            assert!(status.is_success(), "{status}: {}", String::from_utf8_lossy(&body));
            (s.elapsed(), body.len())
        }
    };

    println!("\n| what | cold (ms) | warm p50 | warm p99 | size |");
    println!("|---|---:|---:|---:|---:|");
    let pages = [
        ("dashboard page, Sweden, month", format!("/uppfoljning?omrade=sverige&period={month}")),
        (
            "dashboard page, largest municipality, month",
            format!("/uppfoljning?omrade=kommun%3A{largest}&period={month}"),
        ),
        ("API, Sweden, year", format!("/api/followup?scope=sverige&period={}", &month[..4])),
        ("API, Sweden, month", format!("/api/followup?scope=sverige&period={month}")),
        ("API, largest municipality, month", format!("/api/followup?scope=kommun:{largest}&period={month}")),
    ];
    for (what, path) in pages {
        let (cold, size) = get(path.clone(), chief.clone()).await;
        let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        for _ in 0..args.requests {
            let (t, _) = get(path.clone(), chief.clone()).await;
            hist.record(t.as_micros() as u64).unwrap();
        }
        println!(
            "| {what} | {:.0} | {:.1} | {:.1} | {} kB |",
            ms(cold),
            hist.value_at_quantile(0.5) as f64 / 1000.0,
            hist.value_at_quantile(0.99) as f64 / 1000.0,
            size / 1024
        );
    }

    // The invoice basis of every municipality for the month, one after another: first with
    // the cases' pages cold on disk, then again warm.
    for pass in ["cold", "warm"] {
        let t = Instant::now();
        let mut slowest = (Duration::ZERO, String::new());
        for k in &kommuner {
            let cookie = region_cookies.iter().find(|(lan, _)| k.starts_with(lan.as_str())).unwrap().1.clone();
            let (d, _) = get(format!("/api/liability?kommun={k}&month={month}"), cookie).await;
            if d > slowest.0 {
                slowest = (d, k.clone());
            }
        }
        println!(
            "Invoice basis for all {} municipalities, {month}, {pass}: {:.1} s in all (slowest {} at {:.0} ms)",
            kommuner.len(),
            t.elapsed().as_secs_f64(),
            slowest.1,
            ms(slowest.0)
        );
    }
    server.stop();
}
