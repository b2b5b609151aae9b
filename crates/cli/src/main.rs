//! `samverka`: the command line. Reads the configuration, wires store and HTTP together.

mod config;
mod demo;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand};
use jiff::Timestamp;
use samverka_api::{ApiConfig, AppState, SystemClock};
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
    /// Fill an empty database with a fictive demo region.
    Demo {
        /// Number of demo patients (each with one case).
        #[arg(long, default_value_t = 260)]
        patients: usize,
        /// Seed for the random choices, so the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Check the configuration and show what it resolves to.
    CheckConfig,
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
    Ok(store)
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
            println!("  dev_login         {}", c.dev_login);
            println!("  default_agreement {}", c.default_agreement);
            println!("  överenskommelser  {}", checked.agreements.ids().join(", "));
            Ok(())
        }
        Cmd::Migrate => {
            open_store(&checked).await?;
            println!("Databasen är uppdaterad.");
            Ok(())
        }
        Cmd::Demo { patients, seed } => {
            let store = open_store(&checked).await?;
            if !store.is_empty().await.map_err(|e| e.to_string())? {
                return Err("Databasen innehåller redan data. Demodata läggs bara in i en tom databas.".into());
            }
            fill_demo(&store, patients, seed).await
        }
        Cmd::Serve { demo } => {
            let started = Instant::now();
            let store = open_store(&checked).await?;
            if demo && store.is_empty().await.map_err(|e| e.to_string())? {
                fill_demo(&store, 260, 1).await?;
            }
            let listener = tokio::net::TcpListener::bind(checked.listen).await.map_err(|e| {
                format!("Kan inte lyssna på {} (inställningen listen / SAMVERKA_LISTEN): {e}", checked.listen)
            })?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let state = AppState::new(
                store.clone(),
                Arc::new(SystemClock),
                ApiConfig {
                    dev_login: checked.config.dev_login,
                    default_agreement: checked.config.default_agreement.clone(),
                },
            );
            println!("Samverka är igång: öppna http://{addr}/ (startade på {} ms)", started.elapsed().as_millis());
            tracing::info!(%addr, database = ?store.kind(), "listening");
            samverka_api::serve(listener, state, shutdown_signal()).await.map_err(|e| e.to_string())?;
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
