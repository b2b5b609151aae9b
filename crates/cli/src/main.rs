//! `samverka`: the command line. Reads the configuration, wires store and HTTP together.

mod admin;
mod backup;
mod config;
mod demo;
mod national;
mod population;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand};
use jiff::Timestamp;
use samverka_app::{AppConfig, AppState, SystemClock};
use samverka_store::Store;

#[derive(Parser)]
#[command(name = "samverka", version, about = "Samverka – samverkan vid utskrivning från sluten vård")]
struct Cli {
    /// Configuration file (TOML). Default: samverka.toml in the current folder, if present.
    #[arg(long, env = "SAMVERKA_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start the server.
    Serve {
        /// Fill an empty database with the demo region first.
        #[arg(long)]
        demo: bool,
    },
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Fill an empty database with a fictive demo region, or with `--scale national` a data set
    /// shaped like all of Sweden over five years (for the follow-up's benchmarks).
    Demo {
        /// Number of demo patients (each with one case), for the regional demo.
        #[arg(long, default_value_t = 260)]
        patients: usize,
        /// Seed for the random choices, so the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// `region` (one fictive region, the default) or `national` (21 regions, 290
        /// municipalities, about 60 hospitals and 1 200 vårdcentraler).
        #[arg(long, default_value = "region")]
        scale: String,
        /// For `--scale national`: the number of discharge cases.
        #[arg(long, default_value_t = 2_000_000)]
        cases: usize,
        /// For `--scale national`: the years the cases are spread over, ending today.
        #[arg(long, default_value_t = 5)]
        years: i64,
    },
    /// Check the configuration and show what it resolves to.
    CheckConfig,
    /// Register an organisation (region, kommun or private provider) with a first unit.
    AddOrganisation {
        /// region, kommun or private_provider
        #[arg(long)]
        kind: String,
        #[arg(long)]
        name: String,
        /// The organisation's HSA-id, e.g. SE2321000016-0001.
        #[arg(long)]
        hsa_id: String,
        /// For a kommun: its SCB kommunkod.
        #[arg(long)]
        kommunkod: Option<String>,
        /// For a region: its län code, e.g. 01.
        #[arg(long)]
        region_code: Option<String>,
        /// For a region: the agreement its wards' cases follow.
        #[arg(long)]
        agreement: Option<String>,
    },
    /// Create an administrator for an organisation and print a temporary password.
    CreateAdmin {
        /// The organisation's HSA-id (or a kommun's kommunkod).
        #[arg(long)]
        organisation: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// HSA-id of the unit the administrator's assignment belongs to (default: the
        /// organisation's first unit; one is created if there is none).
        #[arg(long)]
        unit: Option<String>,
    },
    /// Remove access-log entries older than the retention period (access_log_retention_years).
    PurgeAccessLog,
    /// Write a consistent copy of the database to a new file while the server runs (SQLite:
    /// a database file; PostgreSQL: a pg_dump archive in custom format).
    Backup {
        /// The file to write; it must not exist.
        #[arg(long)]
        to: PathBuf,
    },
    /// Put a backup back into an empty (or absent) database and bring its schema up to date.
    Restore {
        #[arg(long)]
        from: PathBuf,
    },
    /// Load residents aged 65+ per municipality and year from a CSV file (columns kommun, år,
    /// antal_65_plus); the years in the file replace those already loaded.
    ImportPopulation {
        /// The CSV file, e.g. from SCB's statistical database.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let checked = match config::load(cli.config.as_deref()).and_then(config::Config::check) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(&checked.config.log_format);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match runtime.block_on(run(cli.command, checked)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

fn init_tracing(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SAMVERKA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" { builder.json().init() } else { builder.init() }
}

async fn open_store(checked: &config::Checked) -> Result<Store, String> {
    let store = Store::connect(&checked.database_url, checked.agreements.clone())
        .await
        .map_err(|e| format!("Databasen kan inte öppnas ({}): {e}", redact(&checked.database_url)))?;
    store.migrate().await.map_err(|e| format!("Databasens schema kan inte uppdateras: {e}"))?;
    Ok(store.with_case_cache(checked.config.case_cache_mb as u64 * 1024 * 1024))
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}

async fn fill_demo(store: &Store, patients: usize, seed: u64) -> Result<(), String> {
    let started = Instant::now();
    let report = demo::generate(store, patients, seed, Timestamp::now(), true)
        .await
        .map_err(|e| format!("Demodata kunde inte skapas: {e}"))?;
    println!(
        "Demodata skapad på {:.1} s: {} enheter, {} patienter med ärenden i alla skeden.",
        started.elapsed().as_secs_f64(),
        report.units,
        report.cases
    );
    Ok(())
}

async fn run(cmd: Cmd, checked: config::Checked) -> Result<(), String> {
    match cmd {
        Cmd::CheckConfig => {
            let c = &checked.config;
            println!("Inställningarna är giltiga.");
            println!("  listen            {}", checked.listen);
            println!("  databas           {}", redact(&checked.database_url));
            println!("  data_dir          {}", c.data_dir.display());
            println!(
                "  sessioner         {} min inaktivitet, högst {} h",
                c.session_idle_minutes, c.session_absolute_hours
            );
            println!("  nödåtkomst        {} min", c.emergency_access_minutes);
            println!("  åtkomstlogg       sparas minst {} år", c.access_log_retention_years);
            println!(
                "  samtidiga anrop   högst {}, övriga väntar högst {} ms",
                c.max_requests_in_flight, c.admission_wait_ms
            );
            println!("  hsts              {}", c.hsts || checked.tls.is_some());
            println!("  publik adress     {}", checked.public_url.as_deref().unwrap_or("(anropets egen värd)"));
            println!(
                "  tls               {}",
                if checked.tls.is_some() { "direkt (rustls)" } else { "av (bakom proxy eller bara lokalt)" }
            );
            println!(
                "  inloggningstjänst {}",
                if checked.oidc.is_empty() {
                    "(ingen)".to_string()
                } else {
                    checked.oidc.iter().map(|p| p.id.clone()).collect::<Vec<_>>().join(", ")
                }
            );
            println!(
                "  e-post            {}",
                match &checked.mail {
                    Some(m) => format!("via {}:{} ({:?}), från {}", m.host, m.port, m.security, m.from),
                    None => "(ingen)".to_string(),
                }
            );
            println!("  default_agreement {}", c.default_agreement);
            println!("  överenskommelser  {}", checked.agreements.ids().join(", "));
            Ok(())
        }
        Cmd::Migrate => {
            open_store(&checked).await?;
            println!("Databasen är uppdaterad.");
            Ok(())
        }
        Cmd::Demo { patients, seed, scale, cases, years } => {
            if !matches!(scale.as_str(), "region" | "national") {
                return Err(format!("--scale ska vara region eller national, inte \"{scale}\"."));
            }
            if !(1..=20).contains(&years) {
                return Err("--years ska vara mellan 1 och 20.".into());
            }
            let store = open_store(&checked).await?;
            if !store.is_empty().await.map_err(|e| e.to_string())? {
                return Err("Databasen innehåller redan data. Demodata läggs bara in i en tom databas.".into());
            }
            if scale == "national" {
                let started = Instant::now();
                let report = national::generate(&store, cases, years, seed, Timestamp::now(), true)
                    .await
                    .map_err(|e| format!("Demodata kunde inte skapas: {e}"))?;
                println!(
                    "Nationella demodata skapade på {:.0} s: {} enheter, {} ärenden med {} händelser.",
                    started.elapsed().as_secs_f64(),
                    report.units,
                    report.cases,
                    report.events
                );
                Ok(())
            } else {
                fill_demo(&store, patients, seed).await
            }
        }
        Cmd::AddOrganisation { kind, name, hsa_id, kommunkod, region_code, agreement } => {
            let store = open_store(&checked).await?;
            admin::add_organisation(&store, &checked, &kind, &name, &hsa_id, kommunkod, region_code, agreement).await
        }
        Cmd::CreateAdmin { organisation, username, name, unit } => {
            let store = open_store(&checked).await?;
            admin::create_admin(&store, &organisation, &username, &name, unit.as_deref()).await
        }
        Cmd::Backup { to } => {
            println!("{}", backup::backup(&checked, &to).await?);
            Ok(())
        }
        Cmd::Restore { from } => {
            println!("{}", backup::restore(&checked, &from).await?);
            Ok(())
        }
        Cmd::ImportPopulation { file } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("Filen {} kan inte läsas: {e}", file.display()))?;
            let rows = population::read(&text).map_err(|e| format!("Befolkningssiffrorna läses inte in:\n{e}"))?;
            let store = open_store(&checked).await?;
            store.set_population(&rows).await.map_err(|e| e.to_string())?;
            let years: std::collections::BTreeSet<i16> = rows.iter().map(|r| r.1).collect();
            println!(
                "{} rader inlästa för år {}.",
                rows.len(),
                years.iter().map(|y| y.to_string()).collect::<Vec<_>>().join(", ")
            );
            Ok(())
        }
        Cmd::PurgeAccessLog => {
            let store = open_store(&checked).await?;
            let now = Timestamp::now();
            let cutoff = now
                .to_zoned_datetime(samverka_domain::calendar::STOCKHOLM.clone())
                .checked_sub(jiff::Span::new().years(checked.config.access_log_retention_years))
                .map_err(|e| e.to_string())?
                .timestamp();
            let n = store.purge_access_log(cutoff, now).await.map_err(|e| e.to_string())?;
            println!("{n} poster äldre än {cutoff} togs bort ur åtkomstloggen.");
            Ok(())
        }
        Cmd::Serve { demo } => {
            let started = Instant::now();
            // Held until the process ends: one server per SQLite file.
            let sole = Store::claim_sqlite_file(&checked.database_url)?;
            let store = open_store(&checked).await?;
            // The file is this process's alone: reads' access-log entries go to its journal.
            if let Some(claim) = &sole {
                let left = store.use_access_journal(claim).await.map_err(|e| e.to_string())?;
                if left > 0 {
                    tracing::warn!(left, "access-log entries the last run answered for were folded into the log");
                }
            }
            if demo && store.is_empty().await.map_err(|e| e.to_string())? {
                fill_demo(&store, 260, 1).await?;
            }
            let listener = tokio::net::TcpListener::bind(checked.listen).await.map_err(|e| {
                format!("Kan inte lyssna på {} (inställningen listen / SAMVERKA_LISTEN): {e}", checked.listen)
            })?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let c = &checked.config;
            let config = AppConfig {
                default_agreement: c.default_agreement.clone(),
                session_idle_minutes: c.session_idle_minutes,
                session_absolute_hours: c.session_absolute_hours,
                emergency_access_minutes: c.emergency_access_minutes,
                // HSTS is right whenever users arrive over TLS: always when Samverka serves it.
                hsts: c.hsts || checked.tls.is_some(),
                // Demo accounts and their codes are shown only when the database is demo data.
                demo_logins: demo
                    && store.installation_fact("demo_data").await.map_err(|e| e.to_string())?.as_deref()
                        == Some("true"),
                oidc: checked.oidc.clone(),
                trusted_proxies: checked.trusted_proxies.clone(),
                public_url: checked.public_url.clone(),
                mail: checked.mail.clone(),
                // Both checked to be within their ranges (neither negative) by `Config::check`.
                max_in_flight: c.max_requests_in_flight as usize,
                admission_wait: std::time::Duration::from_millis(c.admission_wait_ms as u64),
                shutdown_drain: std::time::Duration::from_millis(c.shutdown_drain_ms as u64),
                shutdown_timeout: std::time::Duration::from_secs(c.shutdown_timeout_seconds as u64),
            };
            let state = if config.demo_logins {
                AppState::demo(store.clone(), config)
            } else {
                AppState::new(store.clone(), Arc::new(SystemClock), config)
            };
            // Other processes on the same PostgreSQL database hear of this one's changes.
            samverka_app::cluster::start(&state).await.map_err(|e| e.to_string())?;
            // FHIR Subscription notifications, from the durable outbox.
            tokio::spawn(samverka_fhir::notify::Notifier::new(state.clone()).run());
            tokio::spawn(samverka_app::escalation::run(state.clone()));
            if let Some(m) = checked.mail.clone() {
                tokio::spawn(samverka_app::mail::run(state.clone(), m));
                tokio::spawn(samverka_app::person::run_notices(state.clone()));
            }
            if let Some(m) = &checked.mllp {
                state.start_feed(m.settings.clone());
                let feed =
                    std::sync::Arc::new(samverka_app::feed::Feed::of(&state).expect("the feed was just started"));
                let recovered = feed.recover().await.map_err(|e| e.to_string())?;
                if recovered > 0 {
                    tracing::warn!(recovered, "HL7 messages left unprocessed by the last run were processed");
                }
                let mllp = tokio::net::TcpListener::bind(m.listen).await.map_err(|e| {
                    format!("Kan inte lyssna på {} (inställningen mllp_listen / SAMVERKA_MLLP_LISTEN): {e}", m.listen)
                })?;
                let mllp_addr = mllp.local_addr().map_err(|e| e.to_string())?;
                println!("HL7-flödet (MLLP{}) tar emot på {mllp_addr}", if m.tls.is_some() { " över TLS" } else { "" });
                tokio::spawn(feed.clone().keep_recovering());
                tokio::spawn(samverka_hl7::serve(mllp, m.tls.clone(), feed, shutdown_signal()));
            }
            if let Some(addr) = checked.metrics_listen {
                let metrics = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
                    format!("Kan inte lyssna på {addr} (inställningen metrics_listen / SAMVERKA_METRICS_LISTEN): {e}")
                })?;
                println!(
                    "Mätvärden (Prometheus) på http://{}/metrics",
                    metrics.local_addr().map_err(|e| e.to_string())?
                );
                tokio::spawn(samverka_server::serve_metrics(metrics, state.clone(), shutdown_signal()));
            }
            let scheme = if checked.tls.is_some() { "https" } else { "http" };
            println!("Samverka är igång: öppna {scheme}://{addr}/ (startade på {} ms)", started.elapsed().as_millis());
            tracing::info!(%addr, database = ?store.kind(), "listening");
            match checked.tls.clone() {
                Some(tls) => samverka_server::serve_tls(listener, tls, state, shutdown_signal()).await,
                None => samverka_server::serve(listener, state, shutdown_signal()).await,
            }
            .map_err(|e| e.to_string())?;
            store.close().await;
            Ok(())
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM, so requests under way can finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
