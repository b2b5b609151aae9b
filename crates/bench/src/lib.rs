//! What the benchmark programs share: starting the release binary and watching it, and
//! logging people in straight through the store (the login itself is measured elsewhere; its
//! password hashing is slow on purpose).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use samverka_domain::access::Role;
use samverka_store::Store;
use uuid::Uuid;

pub mod load;

/// A logged-in person: the session cookie, and the CSRF token that writes must carry.
#[derive(Clone, Debug)]
pub struct Login {
    pub cookie: String,
    pub csrf: String,
    pub unit: Uuid,
}

/// A new account with one assignment, `role` at `unit`, written straight into the store;
/// returns the account's id and the assignment's.
pub async fn account_at(store: &Store, unit: Uuid, organisation: Uuid, role: Role, name: &str) -> (Uuid, Uuid) {
    let now = jiff::Timestamp::now();
    let user = Uuid::now_v7();
    let account = samverka_store::NewAccount::without_sign_in(user, name, organisation);
    store.create_account(&account, now).await.unwrap();
    let assignment = Uuid::now_v7();
    store.add_assignment(assignment, user, unit, role, None, now).await.unwrap();
    (user, assignment)
}

/// A session for a new user with `role` at `unit`, written straight into the store.
pub async fn session(store: &Store, unit: Uuid, organisation: Uuid, role: Role, name: &str) -> Login {
    let (user, assignment) = account_at(store, unit, organisation, role, name).await;
    let now = jiff::Timestamp::now();
    let (token, s) = samverka_app::auth::session_at(user, samverka_store::Stage::Active, Some(assignment), now, 24);
    store.create_session(&s, "127.0.0.1").await.unwrap();
    Login { cookie: format!("{}={token}", samverka_app::auth::SESSION_COOKIE), csrf: s.csrf_token, unit }
}

/// A FHIR client (client credentials with `scopes`) of a new system account working as
/// vårdsamordnare at `unit`, written straight into the store; returns its id and secret.
pub async fn fhir_client(store: &Store, unit: Uuid, organisation: Uuid, name: &str, scopes: &[&str]) -> (Uuid, String) {
    let (user, assignment) = account_at(store, unit, organisation, Role::Vardsamordnare, name).await;
    let (id, secret) = (Uuid::now_v7(), samverka_app::auth::random_token());
    let client = samverka_store::ApiClient {
        id,
        user_id: user,
        assignment_id: assignment,
        secret_hash: samverka_app::auth::token_hash(&secret),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        active: true,
    };
    store.create_api_client(&client, None, jiff::Timestamp::now()).await.unwrap();
    (id, secret)
}

/// A bearer token for a client from the server's token endpoint.
pub async fn fhir_token(http: &reqwest::Client, base: &str, id: Uuid, secret: &str) -> String {
    let res = http
        .post(format!("{base}/fhir/auth/token"))
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    body["access_token"].as_str().unwrap_or_else(|| panic!("no FHIR token: {body}")).to_string()
}

/// `samverka serve` on a database, listening on a free port.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// From starting the process to its first answered request.
    pub startup: Duration,
}

impl Server {
    /// Starts the binary in `dir` with `env` and waits until `/api/live` answers.
    pub async fn start(binary: &str, dir: &std::path::Path, env: &[(&str, String)]) -> Server {
        let binary = std::fs::canonicalize(binary)
            .unwrap_or_else(|e| panic!("{binary}: {e} (build it with cargo build --release -p samverka)"));
        let started = Instant::now();
        let mut child = Command::new(binary)
            .current_dir(dir)
            .env("SAMVERKA_LOG", std::env::var("SAMVERKA_LOG").unwrap_or_else(|_| "warn".into()))
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("SAMVERKA_LISTEN", "127.0.0.1:0")
            .arg("serve")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .trim_end_matches('/')
            .to_string();
        let client = reqwest::Client::new();
        loop {
            if let Ok(r) = client.get(format!("{base}/api/live")).send().await
                && r.status().is_success()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Server { child, base, startup: started.elapsed() }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stop(self) {}
}

/// Killed when dropped, also when a test using it fails.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident memory of a process, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    proc_status(pid, "VmRSS:")
}

/// The most resident memory a process has had, in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    proc_status(pid, "VmHWM:")
}

fn proc_status(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time a process has used (user + system).
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the whole line, 11 and 12 after the name.
    Duration::from_secs_f64((ticks(11) + ticks(12)) as f64 / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}
