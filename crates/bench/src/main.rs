//! `samverka-bench`: measures the release binary as an operator would meet it.
//!
//! For each database it fills a fresh database with the demo region, starts `samverka serve`,
//! and reports the time to the first answered request, resident memory when idle, and the
//! latency of `GET /api/cases/{id}` over many sequential requests on one connection
//! (HDR histogram). PostgreSQL runs in a throw-away server in a temp dir.
//!
//!     cargo build --release -p samverka -p samverka-bench
//!     target/release/samverka-bench --requests 10000

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use samverka_bench::rss_kib;
use samverka_domain::access::Role;
use samverka_domain::org::UnitKind;
use samverka_store::{Agreements, Store};

#[derive(Parser)]
struct Args {
    /// The samverka binary to measure.
    #[arg(long, default_value = "target/release/samverka")]
    binary: PathBuf,
    /// Requests per latency run.
    #[arg(long, default_value_t = 10_000)]
    requests: u64,
    /// Demo patients in the database.
    #[arg(long, default_value_t = 260)]
    patients: usize,
    /// Which databases: sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    db: String,
    /// Requests per web page (0: skip the pages).
    #[arg(long, default_value_t = 1000)]
    page_requests: u64,
    /// Requests per FHIR search (0: skip the FHIR API).
    #[arg(long, default_value_t = 1000)]
    fhir_requests: u64,
    /// HL7 ADT messages through the MLLP feed, half admissions and half discharges, one
    /// connection, each waiting for its ACK (0: skip the feed).
    #[arg(long, default_value_t = 2000)]
    adt_messages: u64,
}

/// One web page's figures: latency over sequential requests (loopback, so an upper bound of
/// the server's time) and the size of the HTML.
struct PageRun {
    page: String,
    status: u16,
    bytes: usize,
    hist: Histogram<u64>,
}

/// The first answer's status and size, 20 warm-up requests, then `n` timed ones.
async fn timed<F, Fut>(page: String, get: F, n: u64) -> PageRun
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = reqwest::Result<reqwest::Response>>,
{
    let first = get().await.unwrap();
    let status = first.status().as_u16();
    let bytes = first.bytes().await.unwrap().len();
    for _ in 0..20 {
        get().await.unwrap().bytes().await.unwrap();
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 10_000_000, 3).unwrap();
    for _ in 0..n {
        let s = Instant::now();
        get().await.unwrap().bytes().await.unwrap();
        hist.record(s.elapsed().as_micros() as u64).unwrap();
    }
    PageRun { page, status, bytes, hist }
}

fn command(binary: &Path, dir: &Path, env: &[(&str, String)]) -> Command {
    let mut c = Command::new(binary);
    c.current_dir(dir).env("SAMVERKA_LOG", "warn").envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    c
}

struct Report {
    db: &'static str,
    startup: Duration,
    idle_rss_kib: u64,
    loaded_rss_kib: u64,
    hist: Histogram<u64>,
    elapsed: Duration,
    pages: Vec<PageRun>,
    fhir: Vec<PageRun>,
}

async fn measure(args: &Args, db: &'static str) -> Report {
    let binary = std::fs::canonicalize(&args.binary)
        .expect("the samverka binary (build it with cargo build --release -p samverka)");
    let dir = tempfile::tempdir().unwrap();
    let (url, env) = if db == "postgres" {
        let url = samverka_testkit::PgServer::get().fresh_database();
        (url.clone(), vec![("SAMVERKA_DATABASE_URL", url)])
    } else {
        let path = dir.path().join("data/samverka.db");
        (path.to_str().unwrap().to_string(), vec![("SAMVERKA_DATA_DIR", "data".to_string())])
    };
    let status = command(&binary, dir.path(), &env)
        .args(["demo", "--patients", &args.patients.to_string()])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "demo failed");

    // The case with the longest history, and a ward user taking part in it.
    let store = Store::connect(&url, Agreements::built_in()).await.unwrap();
    let mut best = None;
    for account in store.local_accounts(10_000).await.unwrap() {
        for a in store
            .assignments_of(account.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.unit.kind == UnitKind::Ward && a.role == Role::Vardsamordnare)
        {
            for c in store.cases_for_unit(a.unit.id, true, 500).await.unwrap() {
                let n = store.case_events(c.case_id).await.unwrap().len();
                if best.as_ref().is_none_or(|(m, _, _)| n > *m) {
                    best = Some((n, c.case_id, account.clone()));
                }
            }
        }
    }
    let (events, case, account) = best.expect("a case");
    let role_of = |role: Role| {
        let store = store.clone();
        async move {
            for a in store.local_accounts(10_000).await.unwrap() {
                if store.assignments_of(a.id).await.unwrap().iter().any(|x| x.role == role) {
                    return a;
                }
            }
            panic!("a demo account with role {role:?}")
        }
    };
    // A system acting for the same ward, for the FHIR API.
    let ward_assignment = store
        .assignments_of(account.id)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.unit.kind == UnitKind::Ward && a.role == Role::Vardsamordnare)
        .unwrap();
    let unit = &ward_assignment.unit;
    let (client_id, client_secret) =
        samverka_bench::fhir_client(&store, unit.id, unit.organisation_id, "Benchmark system", &["system/*.read"])
            .await;
    let patient_of_case = store.case(case).await.unwrap().unwrap().case.patient_id;
    let patient_number = store.patient(patient_of_case).await.unwrap().unwrap().identifier.value().to_string();
    let reviewer = role_of(Role::Enhetschef).await;
    let admin = role_of(Role::Administrator).await;
    // The collaboration pages as the enhetschef who runs the demo's status meeting.
    let mut chair = None;
    'find: for a in store.local_accounts(10_000).await.unwrap() {
        for x in store.assignments_of(a.id).await.unwrap().into_iter().filter(|x| x.role == Role::Enhetschef) {
            if let Some(f) = store.forums_of_unit(x.unit.id).await.unwrap().into_iter().next() {
                chair = Some((a, f.id, x.unit.id));
                break 'find;
            }
        }
    }
    let (chair, forum, chair_unit) = chair.expect("the demo's status meeting");
    let meeting = store.meetings_of_forum(forum).await.unwrap().first().expect("a meeting").id;
    let directive = store.published_directives().await.unwrap().first().expect("a directive").id;
    store.close().await;

    let started = Instant::now();
    let mut child: Child = command(&binary, dir.path(), &env)
        .arg("serve")
        .env("SAMVERKA_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.split_whitespace().find(|w| w.starts_with("http://")).unwrap().trim_end_matches('/').to_string();
    let client = reqwest::Client::new();
    loop {
        if let Ok(r) = client.get(format!("{base}/api/health")).send().await
            && r.status().is_success()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let startup = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss_kib = rss_kib(child.id());

    let cookie = login(&client, &base, &account).await;
    let url = format!("{base}/api/cases/{case}");
    let get = || client.get(&url).header("cookie", &cookie).send();
    let first = get().await.unwrap();
    assert!(first.status().is_success(), "GET case: {}", first.status());
    let size = first.bytes().await.unwrap().len();
    eprintln!("{db}: case with {events} events, {size} bytes per response");
    for _ in 0..200 {
        get().await.unwrap().bytes().await.unwrap();
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 10_000_000, 3).unwrap();
    let t = Instant::now();
    for _ in 0..args.requests {
        let s = Instant::now();
        let r = get().await.unwrap();
        r.bytes().await.unwrap();
        hist.record(s.elapsed().as_micros() as u64).unwrap();
    }
    let elapsed = t.elapsed();

    // Every kind of page, as the people who use it.
    let mut pages = vec![];
    if args.page_requests > 0 {
        let reviewer_cookie = login(&client, &base, &reviewer).await;
        let admin_cookie = login(&client, &base, &admin).await;
        let as_ward = [
            "/".to_string(),
            "/arenden".into(),
            format!("/arenden/{case}"),
            format!("/arenden/{case}/sip"),
            format!("/arenden/{case}/sip/utskrift"),
            "/sok".into(),
            "/arenden/ny".into(),
            "/enheter".into(),
            "/ordlista".into(),
            "/tillganglighet".into(),
        ];
        let chair_cookie = login(&client, &base, &chair).await;
        let as_chair = [
            "/forum".to_string(),
            format!("/forum/{forum}"),
            format!("/moten/{meeting}"),
            format!("/moten/{meeting}/minnesanteckningar"),
            format!("/moten/{meeting}/kalender.ics"),
            "/direktiv".into(),
            format!("/direktiv/{directive}"),
            format!("/enheter/{chair_unit}"),
            "/eskaleringar".into(),
        ];
        let runs = as_ward
            .into_iter()
            .map(|p| (p, Some(cookie.clone())))
            .chain([
                ("/logg".to_string(), Some(reviewer_cookie.clone())),
                ("/admin".to_string(), Some(admin_cookie.clone())),
                ("/logga-in".to_string(), None),
            ])
            .chain(as_chair.into_iter().map(|p| (p, Some(chair_cookie.clone()))));
        for (page, cookie) in runs {
            let url = format!("{base}{page}");
            let get = || {
                let req = client.get(&url);
                match &cookie {
                    Some(c) => req.header("cookie", c),
                    None => req,
                }
                .send()
            };
            pages.push(timed(page, get, args.page_requests).await);
        }
    }
    // The FHIR API as a system uses it: a token, then searches.
    let mut fhir = vec![];
    if args.fhir_requests > 0 {
        let token = samverka_bench::fhir_token(&client, &base, client_id, &client_secret).await;
        let searches = [
            format!("/fhir/Patient?identifier={patient_number}"),
            format!("/fhir/EpisodeOfCare?patient=Patient/{patient_of_case}"),
            format!("/fhir/Communication?patient=Patient/{patient_of_case}"),
            format!("/fhir/Task?patient=Patient/{patient_of_case}"),
            format!("/fhir/EpisodeOfCare/{case}"),
            "/fhir/EpisodeOfCare?status=active&_count=50".to_string(),
        ];
        for page in searches {
            let url = format!("{base}{page}");
            let get = || client.get(&url).bearer_auth(&token).send();
            fhir.push(timed(page, get, args.fhir_requests).await);
        }
    }
    let loaded_rss_kib = rss_kib(child.id());
    child.kill().unwrap();
    child.wait().unwrap();
    Report { db, startup, idle_rss_kib, loaded_rss_kib, hist, elapsed, pages, fhir }
}

/// The admission feed: flagged admissions (each registers a patient and opens a draft case)
/// and their discharges, sent back to back on one MLLP connection; every ACK is AA only after
/// the change is committed. Returns the latency histogram (µs) and the elapsed time.
async fn measure_adt(args: &Args, db: &'static str) -> (Histogram<u64>, Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let binary = std::fs::canonicalize(&args.binary).expect("the samverka binary");
    let dir = tempfile::tempdir().unwrap();
    let (url, mut env) = if db == "postgres" {
        let url = samverka_testkit::PgServer::get().fresh_database();
        (url.clone(), vec![("SAMVERKA_DATABASE_URL", url)])
    } else {
        let path = dir.path().join("data/samverka.db");
        (path.to_str().unwrap().to_string(), vec![("SAMVERKA_DATA_DIR", "data".to_string())])
    };
    let status = command(&binary, dir.path(), &env)
        .args(["demo", "--patients", &args.patients.to_string()])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "demo failed");
    let store = Store::connect(&url, Agreements::built_in()).await.unwrap();
    let ward = store.units().await.unwrap().iter().find(|u| u.kind == UnitKind::Ward).unwrap().clone();
    store.close().await;
    env.push(("SAMVERKA_MLLP_LISTEN", "127.0.0.1:0".into()));
    env.push(("SAMVERKA_MLLP_DRAFTS", "all_inpatients".into()));
    let mut child = command(&binary, dir.path(), &env)
        .arg("serve")
        .env("SAMVERKA_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut addr = None;
    for _ in 0..2 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        if line.starts_with("HL7") {
            addr = line.split_whitespace().last().map(str::to_string);
        }
    }
    let mut conn = tokio::net::TcpStream::connect(addr.expect("MLLP address")).await.unwrap();
    conn.set_nodelay(true).unwrap();
    let patients = args.adt_messages.div_ceil(2);
    let message = |i: u64, trigger: &str| {
        let pnr = samverka_domain::ids::personnummer_with_check_digit(
            jiff::civil::date(1930, 1, 1).checked_add(jiff::Span::new().days(i as i64)).unwrap(),
            980 + (i % 20) as u16,
        );
        let pv1 = if trigger == "A03" { "|".repeat(42) + "20261123120000" } else { String::new() };
        format!(
            "\x0bMSH|^~\\&|Bench|KS|Samverka|Region|20261123080000||ADT^{trigger}|B-{trigger}-{i}|P|2.5|||||SWE|UNICODE UTF-8\r\
             EVN|{trigger}|20261123080000\r\
             PID|1||{}^^^^PN||Bench^Patient {i}||19300101|F|||Gatan 1^^Solna^^17164^SWE^H^^0184\r\
             PV1|1|I|{}^^^KS{pv1}\r\x1c\r",
            pnr.as_str(),
            ward.hsa_id.as_str()
        )
        .into_bytes()
    };
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    let mut buf = vec![0u8; 4096];
    let t = Instant::now();
    for trigger in ["A01", "A03"] {
        for i in 0..patients {
            let s = Instant::now();
            conn.write_all(&message(i, trigger)).await.unwrap();
            let mut got = Vec::new();
            while !got.ends_with(&[0x1c, 0x0d]) {
                let n = conn.read(&mut buf).await.unwrap();
                assert!(n > 0, "the feed closed the connection");
                got.extend_from_slice(&buf[..n]);
            }
            hist.record(s.elapsed().as_micros() as u64).unwrap();
            let text = String::from_utf8_lossy(&got);
            assert!(text.contains("MSA|AA|"), "{trigger} {i}: {text}");
        }
    }
    let elapsed = t.elapsed();
    child.kill().unwrap();
    child.wait().unwrap();
    (hist, elapsed)
}

/// Password, then the current TOTP code; returns the session cookie.
async fn login(client: &reqwest::Client, base: &str, account: &samverka_store::Account) -> String {
    let res = client
        .post(format!("{base}/auth/login"))
        .json(&serde_json::json!({ "username": account.username, "password": samverka_app::config::DEMO_PASSWORD }))
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let csrf = res.json::<serde_json::Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_string();
    let code = samverka_app::auth::totp::current_code(account.totp_secret.as_deref().unwrap(), jiff::Timestamp::now())
        .unwrap();
    let res = client
        .post(format!("{base}/auth/totp"))
        .header("cookie", cookie)
        .header("x-csrf-token", csrf)
        .json(&serde_json::json!({ "code": code }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "login failed: {}", res.status());
    res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    let dbs: Vec<&'static str> = match args.db.as_str() {
        "sqlite" => vec!["sqlite"],
        "postgres" => vec!["postgres"],
        _ => vec!["sqlite", "postgres"],
    };
    let size = std::fs::metadata(&args.binary).map(|m| m.len()).unwrap_or(0);
    println!("release binary: {} ({:.1} MiB)", args.binary.display(), size as f64 / 1048576.0);
    println!();
    println!(
        "| database | start-up to first answer | idle RSS | RSS after run | GET case p50 | p95 | p99 | max | req/s (1 connection) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut reports = vec![];
    for db in dbs {
        let r = measure(&args, db).await;
        let ms = |us: u64| format!("{:.2} ms", us as f64 / 1000.0);
        println!(
            "| {} | {} ms | {:.1} MiB | {:.1} MiB | {} | {} | {} | {} | {:.0} |",
            r.db,
            r.startup.as_millis(),
            r.idle_rss_kib as f64 / 1024.0,
            r.loaded_rss_kib as f64 / 1024.0,
            ms(r.hist.value_at_quantile(0.5)),
            ms(r.hist.value_at_quantile(0.95)),
            ms(r.hist.value_at_quantile(0.99)),
            ms(r.hist.max()),
            args.requests as f64 / r.elapsed.as_secs_f64()
        );
        reports.push(r);
    }
    let ms = |us: u64| format!("{:.2}", us as f64 / 1000.0);
    if args.adt_messages > 0 {
        println!();
        println!(
            "HL7 ADT over MLLP ({} messages: flagged admissions opening draft cases, then their discharges; one connection, each ACK awaited):",
            args.adt_messages.div_ceil(2) * 2
        );
        println!();
        println!("| database | messages/s | p50 (ms) | p99 (ms) | max (ms) |");
        println!("|---|---|---|---|---|");
        for db in reports.iter().map(|r| r.db).collect::<Vec<_>>() {
            let (h, elapsed) = measure_adt(&args, db).await;
            println!(
                "| {db} | {:.0} | {} | {} | {} |",
                h.len() as f64 / elapsed.as_secs_f64(),
                ms(h.value_at_quantile(0.5)),
                ms(h.value_at_quantile(0.99)),
                ms(h.max())
            );
        }
    }
    for r in reports.iter().filter(|r| !r.fhir.is_empty()) {
        println!();
        println!("FHIR API on {} ({} sequential requests each, bearer token; ms, loopback):", r.db, args.fhir_requests);
        println!();
        println!("| request | status | bytes | p50 | p99 | max |");
        println!("|---|---|---|---|---|---|");
        for p in &r.fhir {
            println!(
                "| `{}` | {} | {} | {} | {} | {} |",
                p.page,
                p.status,
                p.bytes,
                ms(p.hist.value_at_quantile(0.5)),
                ms(p.hist.value_at_quantile(0.99)),
                ms(p.hist.max())
            );
        }
    }
    for r in reports.iter().filter(|r| !r.pages.is_empty()) {
        println!();
        println!("Web pages on {} ({} sequential requests each; ms, loopback):", r.db, args.page_requests);
        println!();
        println!("| page | status | HTML bytes | p50 | p99 | max |");
        println!("|---|---|---|---|---|---|");
        for p in &r.pages {
            println!(
                "| `{}` | {} | {} | {} | {} | {} |",
                p.page.split('?').next().unwrap_or(&p.page),
                p.status,
                p.bytes,
                ms(p.hist.value_at_quantile(0.5)),
                ms(p.hist.value_at_quantile(0.99)),
                ms(p.hist.max())
            );
        }
    }
}
