//! The `samverka` binary as users and operators meet it: configuration errors that name the
//! key, and acknowledged writes that survive the process being killed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use samverka_domain::case::Phase;
use samverka_domain::org::UnitKind;
use samverka_store::{Agreements, Store};
use serde_json::json;
use uuid::Uuid;

fn samverka(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_samverka"));
    c.current_dir(dir)
        .env_remove("SAMVERKA_LISTEN")
        .env_remove("SAMVERKA_DATABASE_URL")
        .env_remove("SAMVERKA_DATA_DIR");
    c
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run samverka");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn check_config_accepts_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    // Variables of the test harness share the prefix but are not settings.
    let (code, out, err) = run(samverka(dir.path()).arg("check-config").env("SAMVERKA_TEST_ANYTHING", "1"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("127.0.0.1:8080") && out.contains("samverka.db"), "{out}");
}

#[test]
fn a_wrong_setting_is_named_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(samverka(dir.path()).arg("check-config").env("SAMVERKA_LISTEN", "localhost"));
    assert_eq!(code, 2);
    assert!(err.contains("\"listen\"") && err.contains("SAMVERKA_LISTEN") && err.contains("127.0.0.1:8080"), "{err}");

    let (code, _, err) = run(samverka(dir.path()).arg("check-config").env("SAMVERKA_DATABASE_URL", "mysql://db/x"));
    assert_eq!(code, 2);
    assert!(err.contains("database_url") && err.contains("postgres://"), "{err}");

    let (code, _, err) = run(samverka(dir.path()).arg("check-config").env("SAMVERKA_HSTS", "maybe"));
    assert_eq!(code, 2);
    assert!(err.contains("hsts"), "{err}");

    let (code, _, err) = run(samverka(dir.path()).arg("check-config").env("SAMVERKA_DEFAULT_AGREEMENT", "atlantis"));
    assert_eq!(code, 2);
    assert!(err.contains("default_agreement") && err.contains("stockholm"), "{err}");

    let (code, _, err) = run(samverka(dir.path()).arg("check-config").env("SAMVERKA_CASE_CACHE_MB", "-1"));
    assert_eq!(code, 2);
    assert!(err.contains("case_cache_mb") && err.contains("megabyte"), "{err}");

    let file = dir.path().join("samverka.toml");
    std::fs::write(&file, "lisen = \"127.0.0.1:9000\"\n").unwrap();
    let (code, _, err) = run(samverka(dir.path()).arg("check-config"));
    assert_eq!(code, 2);
    assert!(err.contains("lisen"), "{err}");

    std::fs::write(&file, "trusted_proxies = [\"10.0.0.2\", \"proxy.local\"]\n").unwrap();
    let (code, _, err) = run(samverka(dir.path()).arg("check-config"));
    assert_eq!(code, 2);
    assert!(err.contains("trusted_proxies") && err.contains("proxy.local"), "{err}");

    std::fs::write(&file, "listen = \"127.0.0.1:9000\"\nagreement_files = [\"nope.toml\"]\n").unwrap();
    let (code, _, err) = run(samverka(dir.path()).arg("check-config"));
    assert_eq!(code, 2);
    assert!(err.contains("agreement_files") && err.contains("nope.toml"), "{err}");

    let (code, _, err) = run(samverka(dir.path()).args(["--config", "missing.toml", "check-config"]));
    assert_eq!(code, 2);
    assert!(err.contains("missing.toml"), "{err}");

    // E-mail: a security mode that does not exist, a sender that is no address.
    let dir = tempfile::tempdir().unwrap();
    let smtp = |security: &str, from: &str| {
        run(samverka(dir.path())
            .arg("check-config")
            .env("SAMVERKA_SMTP_HOST", "smtp.region.example")
            .env("SAMVERKA_SMTP_SECURITY", security)
            .env("SAMVERKA_SMTP_FROM", from))
    };
    let (code, _, err) = smtp("ssl", "samverka@region.example");
    assert_eq!(code, 2);
    assert!(err.contains("smtp_security") && err.contains("starttls"), "{err}");
    let (code, _, err) = smtp("starttls", "Samverka");
    assert_eq!(code, 2);
    assert!(err.contains("smtp_from") && err.contains("e-postadress"), "{err}");
    let (code, out, _) = smtp("tls", "Samverka <samverka@region.example>");
    assert_eq!(code, 0);
    assert!(out.contains("smtp.region.example:465"), "{out}");

    // The public address: an http(s) URL without a query; a trailing slash is dropped.
    let public = |url: &str| run(samverka(dir.path()).arg("check-config").env("SAMVERKA_PUBLIC_URL", url));
    for bad in ["samverka.region.example", "https://samverka.region.example/?x=1", "ftp://x"] {
        let (code, _, err) = public(bad);
        assert_eq!(code, 2, "{bad}");
        assert!(err.contains("public_url") && err.contains("SAMVERKA_PUBLIC_URL"), "{err}");
    }
    let (code, out, _) = public("https://samverka.region.example/");
    assert_eq!(code, 0);
    assert!(out.contains("publik adress     https://samverka.region.example\n"), "{out}");
}

/// A running server, killed with SIGKILL when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(dir: &Path, env: &[(&str, &str)]) -> Server {
        Self::start_with(dir, &[], env)
    }

    fn start_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = samverka(dir);
        cmd.arg("serve")
            .args(args)
            .env("SAMVERKA_LISTEN", "127.0.0.1:0")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("start samverka serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base =
            line.split_whitespace().find(|w| w.starts_with("http://")).unwrap_or_else(|| panic!("no URL in {line:?}"));
        Server { child, base: base.trim_end_matches('/').to_string() }
    }

    fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL on Unix: no shutdown, no flush.
        self.child.wait().unwrap();
    }
}

struct Actors {
    username: String,
    totp_secret: String,
    case: Uuid,
    vc: Uuid,
}

/// A demo vårdsamordnare whose ward has an open case.
async fn pick(url: &str) -> Actors {
    let store = Store::connect(url, Agreements::built_in()).await.unwrap();
    let vc = store.units().await.unwrap().iter().find(|u| u.kind == UnitKind::Vardcentral).unwrap().id;
    for account in store.local_accounts(1000).await.unwrap() {
        for a in store.assignments_of(account.id).await.unwrap() {
            if a.role != samverka_domain::access::Role::Vardsamordnare {
                continue;
            }
            let open = store.cases_for_unit(a.unit.id, false, 100).await.unwrap();
            if let Some(c) = open
                .iter()
                .find(|c| c.phase >= Phase::Notified && c.phase < Phase::Discharged && c.ward_id == a.unit.id)
            {
                store.close().await;
                return Actors {
                    username: account.username.clone().unwrap(),
                    totp_secret: account.totp_secret.clone().unwrap(),
                    case: c.case_id,
                    vc,
                };
            }
        }
    }
    panic!("the demo has an open case at some ward");
}

/// Logs in with password and the current TOTP code; returns the cookie and CSRF token.
async fn login(client: &reqwest::Client, base: &str, a: &Actors) -> (String, String) {
    let res = client
        .post(format!("{base}/auth/login"))
        .json(&json!({ "username": a.username, "password": samverka_app::config::DEMO_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let csrf = res.json::<serde_json::Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_string();
    let code = samverka_app::auth::totp::current_code(&a.totp_secret, jiff::Timestamp::now()).unwrap();
    let res = client
        .post(format!("{base}/auth/totp"))
        .header("cookie", cookie)
        .header("x-csrf-token", csrf)
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["stage"], "active");
    (cookie, body["csrf_token"].as_str().unwrap().to_string())
}

async fn killed_after_each_acknowledged_write_loses_nothing(url: &str, env: &[(&str, &str)], dir: &Path) {
    let (code, _, err) = run(samverka(dir).args(["demo", "--patients", "26"]).envs(env.iter().copied()));
    assert_eq!(code, 0, "{err}");
    let a = pick(url).await;
    let client = reqwest::Client::new();
    let mut messages = vec![];
    let mut patients = vec![];
    let mut session = None;
    for round in 0..10 {
        // Every other round as `serve --demo`, which on the demo's own data shows its accounts.
        let demo = round % 2 == 1;
        let server = Server::start_with(dir, if demo { &["--demo"] } else { &[] }, env);
        let page = reqwest::get(format!("{}/logga-in", server.base)).await.unwrap().text().await.unwrap();
        assert_eq!(page.contains("Demokonton"), demo, "demo accounts are shown exactly with --demo");
        // The session lives in the database: one login serves every round.
        if session.is_none() {
            session = Some(login(&client, &server.base, &a).await);
        }
        let (cookie, csrf) = session.clone().unwrap();
        let req = |path: String| {
            client.post(format!("{}{path}", server.base)).header("cookie", &cookie).header("x-csrf-token", &csrf)
        };
        let id = Uuid::now_v7();
        let res = req(format!("/api/cases/{}/messages", a.case))
            .json(&json!({ "id": id, "body": { "kind": "allmant", "text": format!("Runda {round}") } }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        messages.push(id);
        let pid = Uuid::now_v7();
        let pnr = samverka_domain::ids::personnummer_with_check_digit(jiff::civil::date(1952, 1, 1 + round), 990);
        let res = req("/api/patients".into())
            .json(&json!({ "id": pid, "identifier": pnr.as_str(), "given_name": "Kalle", "family_name": "Kill", "kommun": "0184", "listed_unit": a.vc }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        patients.push(pid);
        // The response has arrived: kill at once, before any orderly shutdown could flush.
        server.kill();
    }
    let store = Store::connect(url, Agreements::built_in()).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
    let case = store.case(a.case).await.unwrap().unwrap().case;
    for id in &messages {
        assert!(case.message(*id).is_some(), "message {id} acknowledged with 201 was lost");
    }
    for id in &patients {
        assert!(store.patient(*id).await.unwrap().is_some(), "patient {id} acknowledged with 201 was lost");
    }
    // History and snapshot still agree after the kills.
    let events = store.case_events(a.case).await.unwrap();
    assert_eq!(samverka_domain::case::Case::from_events(&events).unwrap(), *case);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_after_2xx_loses_nothing_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/samverka.db");
    killed_after_each_acknowledged_write_loses_nothing(
        db.to_str().unwrap(),
        &[("SAMVERKA_DATA_DIR", "data")],
        dir.path(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_after_2xx_loses_nothing_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let url = samverka_testkit::PgServer::get().fresh_database();
    killed_after_each_acknowledged_write_loses_nothing(&url, &[("SAMVERKA_DATABASE_URL", &url)], dir.path()).await;
}

#[test]
fn tls_settings_come_in_pairs_and_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(samverka(dir.path()).arg("check-config").env("SAMVERKA_TLS_CERT_FILE", "cert.pem"));
    assert_eq!(code, 2);
    assert!(err.contains("tls_key_file"), "{err}");
    let (code, _, err) = run(samverka(dir.path())
        .arg("check-config")
        .env("SAMVERKA_TLS_CERT_FILE", "cert.pem")
        .env("SAMVERKA_TLS_KEY_FILE", "key.pem"));
    assert_eq!(code, 2);
    assert!(err.contains("cert.pem"), "{err}");
    let (code, _, err) = run(samverka(dir.path()).arg("check-config").env("SAMVERKA_ACCESS_LOG_RETENTION_YEARS", "2"));
    assert_eq!(code, 2);
    assert!(err.contains("access_log_retention_years") && err.contains("mellan 5"), "{err}");
}

#[test]
fn admission_control_is_a_setting() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(samverka(dir.path()).arg("check-config").env("SAMVERKA_MAX_REQUESTS_IN_FLIGHT", "0"));
    assert_eq!(code, 2);
    assert!(err.contains("max_requests_in_flight") && err.contains("mellan 1"), "{err}");
    let (code, _, err) = run(samverka(dir.path()).arg("check-config").env("SAMVERKA_ADMISSION_WAIT_MS", "-5"));
    assert_eq!(code, 2);
    assert!(err.contains("admission_wait_ms") && err.contains("mellan 0"), "{err}");
    let (code, out, err) = run(samverka(dir.path())
        .arg("check-config")
        .env("SAMVERKA_MAX_REQUESTS_IN_FLIGHT", "300")
        .env("SAMVERKA_ADMISSION_WAIT_MS", "500"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("högst 300") && out.contains("högst 500 ms"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_installation_is_bootstrapped_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(samverka(dir.path()).args([
        "add-organisation",
        "--kind",
        "region",
        "--name",
        "Region Test",
        "--hsa-id",
        "SE2321000016-0001",
        "--region-code",
        "01",
        "--agreement",
        "stockholm",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Region Test"));
    let (code, _, err) = run(samverka(dir.path()).args([
        "add-organisation",
        "--kind",
        "kommun",
        "--name",
        "X",
        "--hsa-id",
        "SE2120000001-1",
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("--kommunkod"), "{err}");
    let (code, out, err) = run(samverka(dir.path()).args([
        "create-admin",
        "--organisation",
        "SE2321000016-0001",
        "--username",
        "ada",
        "--name",
        "Ada Admin",
    ]));
    assert_eq!(code, 0, "{err}");
    let temporary = out
        .lines()
        .find_map(|l| l.strip_prefix("Tillfälligt lösenord (visas bara nu): "))
        .expect("the temporary password is printed")
        .to_string();

    // The administrator logs in with it and must choose a new password first.
    let server = Server::start(dir.path(), &[]);
    let res = reqwest::Client::new()
        .post(format!("{}/auth/login", server.base))
        .json(&json!({ "username": "ada", "password": temporary }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["stage"], "change_password");
    server.kill();

    // `--demo` on a real installation's database fills nothing and shows no demo accounts:
    // only a database the demo itself filled may publish its login codes.
    let server = Server::start_with(dir.path(), &["--demo"], &[]);
    let page = reqwest::get(format!("{}/logga-in", server.base)).await.unwrap().text().await.unwrap();
    // (By name: the page's random CSRF token may well contain the letters "ada".)
    assert!(page.contains("Samverka") && !page.contains("Demokonton") && !page.contains("Ada Admin"), "{page}");
    server.kill();

    let (code, out, err) = run(samverka(dir.path()).arg("purge-access-log"));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("0 poster"), "{out}");
}

#[tokio::test]
async fn population_figures_are_imported_from_csv_or_refused_with_the_bad_rows_named() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "kommun;år;antal_65_plus\n0184;2026;14000\n01x4;2026;12\n").unwrap();
    let (code, _, err) = run(samverka(dir.path()).arg("import-population").arg(&bad));
    assert_eq!(code, 1);
    assert!(err.contains("Rad 3") && err.contains("01x4"), "{err}");
    let good = dir.path().join("scb.csv");
    std::fs::write(&good, "Kommun;År;Antal_65_plus\n0184;2026;14 250\n0182;2026;21000\n").unwrap();
    let (code, out, err) = run(samverka(dir.path()).arg("import-population").arg(&good));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 rader inlästa för år 2026"), "{out}");
    let store =
        Store::connect(dir.path().join("data/samverka.db").to_str().unwrap(), Agreements::built_in()).await.unwrap();
    let loaded = store.population(2026).await.unwrap();
    assert_eq!((loaded.get("0184"), loaded.get("0182")), (Some(&14_250), Some(&21_000)));
}

/// Every case in `restored` replays to its stored state and equals the live one, or an
/// earlier version of it (the backup was taken while writes went on).
async fn a_backup_while_serving_restores_to_the_same_data(
    live_url: &str,
    env: &[(&str, &str)],
    restore_env: &[(&str, &str)],
    restored_url: &str,
    dir: &Path,
) {
    let (code, _, err) = run(samverka(dir).args(["demo", "--patients", "26"]).envs(env.iter().copied()));
    assert_eq!(code, 0, "{err}");
    let a = pick(live_url).await;
    let server = Server::start(dir, env);
    let client = reqwest::Client::new();
    let (cookie, csrf) = login(&client, &server.base, &a).await;
    // Reads just before the backup: on SQLite their entries are still only in the server's
    // journal (nothing folds it until the next read), and the copy must take them.
    let since = jiff::Timestamp::now();
    for _ in 0..5 {
        let res =
            client.get(format!("{}/api/cases/{}", server.base, a.case)).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(res.status(), 200);
    }
    // Writes go on while the backup is taken.
    let writer = {
        let (client, base, case) = (client.clone(), server.base.clone(), a.case);
        tokio::spawn(async move {
            let mut sent = vec![];
            for i in 0..40 {
                let id = Uuid::now_v7();
                let res = client
                    .post(format!("{base}/api/cases/{case}/messages"))
                    .header("cookie", &cookie)
                    .header("x-csrf-token", &csrf)
                    .json(&json!({ "id": id, "body": { "kind": "allmant", "text": format!("Under säkerhetskopiering {i}") } }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
                sent.push(id);
            }
            sent
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let backup = dir.join("kopia.samverka");
    let (code, out, err) = run(samverka(dir).args(["backup", "--to"]).arg(&backup).envs(env.iter().copied()));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Säkerhetskopian är sparad"), "{out}");
    let sent = writer.await.unwrap();
    // Never over an existing file.
    let (code, _, err) = run(samverka(dir).args(["backup", "--to"]).arg(&backup).envs(env.iter().copied()));
    assert_eq!(code, 1);
    assert!(err.contains("finns redan"), "{err}");

    // Restore into an empty database; restoring again over it is refused.
    let (code, out, err) =
        run(samverka(dir).args(["restore", "--from"]).arg(&backup).envs(restore_env.iter().copied()));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Databasen är återställd"), "{out}");
    let (code, _, err) = run(samverka(dir).args(["restore", "--from"]).arg(&backup).envs(restore_env.iter().copied()));
    assert_eq!(code, 1);
    assert!(err.contains("innehåller redan data"), "{err}");

    let live = Store::connect(live_url, Agreements::built_in()).await.unwrap();
    let restored = Store::connect(restored_url, Agreements::built_in()).await.unwrap();
    assert_eq!(restored.integrity_check().await.unwrap(), "ok");
    let live_case = live.case(a.case).await.unwrap().unwrap().case;
    let copy = restored.case(a.case).await.unwrap().unwrap().case;
    // A consistent snapshot: the copy's history replays to its state, and it is the live case
    // as it stood at some moment (a prefix of its history).
    let events = restored.case_events(a.case).await.unwrap();
    assert_eq!(samverka_domain::case::Case::from_events(&events).unwrap(), *copy);
    let live_events = live.case_events(a.case).await.unwrap();
    assert_eq!(&live_events[..events.len()], &events[..], "the copy's history is the live one's beginning");
    let kept = sent.iter().filter(|id| copy.message(**id).is_some()).count();
    assert!(sent.iter().all(|id| live_case.message(*id).is_some()));
    assert!(sent[..kept].iter().all(|id| copy.message(*id).is_some()), "no gaps: the first {kept} writes, in order");
    assert_eq!(live.count_cases().await.unwrap(), restored.count_cases().await.unwrap());
    let filter = samverka_store::AccessFilter { from: Some(since), limit: 10_000, ..Default::default() };
    let reads = restored.access_log(&filter).await.unwrap().iter().filter(|e| e.action == "case.read").count();
    assert!(reads >= 5, "the copy has the reads' entries ({reads})");
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("data/samverka.db");
    let restored = dir.path().join("aterstalld/samverka.db");
    a_backup_while_serving_restores_to_the_same_data(
        live.to_str().unwrap(),
        &[("SAMVERKA_DATA_DIR", "data")],
        &[("SAMVERKA_DATA_DIR", "aterstalld")],
        restored.to_str().unwrap(),
        dir.path(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let live = samverka_testkit::PgServer::get().fresh_database();
    let restored = samverka_testkit::PgServer::get().fresh_database();
    a_backup_while_serving_restores_to_the_same_data(
        &live,
        &[("SAMVERKA_DATABASE_URL", &live)],
        &[("SAMVERKA_DATABASE_URL", &restored)],
        &restored,
        dir.path(),
    )
    .await;
}

/// SIGKILL while writes are in flight, twenty times: every write answered 201 is there after
/// the restart, and the database checks out.
async fn killed_under_write_load_loses_nothing(url: &str, env: &[(&str, &str)], dir: &Path) {
    let (code, _, err) = run(samverka(dir).args(["demo", "--patients", "26"]).envs(env.iter().copied()));
    assert_eq!(code, 0, "{err}");
    let a = pick(url).await;
    let client = reqwest::Client::new();
    let mut acknowledged: Vec<Uuid> = vec![];
    let mut refusals: Vec<String> = vec![];
    let mut session = None;
    // Answers so far, shared with the writers: each round is killed only after some of its
    // writes were acknowledged, however slow the machine, so no round is empty by chance.
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for round in 0..20 {
        let server = Server::start(dir, env);
        if session.is_none() {
            session = Some(login(&client, &server.base, &a).await);
        }
        let (cookie, csrf) = session.clone().unwrap();
        let before = answered.load(std::sync::atomic::Ordering::SeqCst);
        // Four writers post messages as fast as the server answers.
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (client, base, cookie, csrf, case, answered) =
                    (client.clone(), server.base.clone(), cookie.clone(), csrf.clone(), a.case, answered.clone());
                tokio::spawn(async move {
                    let mut ok = vec![];
                    for i in 0.. {
                        let id = Uuid::now_v7();
                        let res = client
                            .post(format!("{base}/api/cases/{case}/messages"))
                            .header("cookie", &cookie)
                            .header("x-csrf-token", &csrf)
                            .json(&json!({ "id": id, "body": { "kind": "allmant", "text": format!("Runda {round}, skribent {w}, nr {i}") } }))
                            .send()
                            .await;
                        match res {
                            Ok(r) if r.status() == 201 => {
                                ok.push(id);
                                answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            }
                            // Any other answer is a fault the count below reports.
                            Ok(r) => return (ok, Some(r.status().to_string())),
                            // The server was killed mid-request: not acknowledged, so not promised.
                            Err(_) => break,
                        }
                    }
                    (ok, None)
                })
            })
            .collect();
        // Kill mid-stream: after a moment of load and at least two answers this round (unless
        // every writer has already stopped, which the count below then shows).
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        while answered.load(std::sync::atomic::Ordering::SeqCst) < before + 2
            && !writers.iter().all(|w| w.is_finished())
        {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        server.kill();
        for w in writers {
            let (ok, refused) = w.await.unwrap();
            acknowledged.extend(ok);
            refusals.extend(refused);
        }
    }
    assert!(refusals.is_empty(), "writes refused while the server ran: {refusals:?}");
    assert!(acknowledged.len() >= 40, "the writers got answers: {}", acknowledged.len());
    eprintln!("{} writes acknowledged over 20 kills", acknowledged.len());
    let store = Store::connect(url, Agreements::built_in()).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
    let case = store.case(a.case).await.unwrap().unwrap().case;
    let lost: Vec<&Uuid> = acknowledged.iter().filter(|id| case.message(**id).is_none()).collect();
    assert!(lost.is_empty(), "{} of {} acknowledged writes lost: {lost:?}", lost.len(), acknowledged.len());
    let events = store.case_events(a.case).await.unwrap();
    assert_eq!(samverka_domain::case::Case::from_events(&events).unwrap(), *case);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_write_load_twenty_times_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/samverka.db");
    killed_under_write_load_loses_nothing(db.to_str().unwrap(), &[("SAMVERKA_DATA_DIR", "data")], dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_write_load_twenty_times_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let url = samverka_testkit::PgServer::get().fresh_database();
    killed_under_write_load_loses_nothing(&url, &[("SAMVERKA_DATABASE_URL", &url)], dir.path()).await;
}

#[test]
fn a_second_server_on_one_sqlite_file_is_refused_and_the_file_is_free_once_the_first_has_died() {
    let dir = tempfile::tempdir().unwrap();
    let first = Server::start(dir.path(), &[]);
    let (code, _, err) = run(samverka(dir.path()).arg("serve").env("SAMVERKA_LISTEN", "127.0.0.1:0"));
    assert_ne!(code, 0, "a second writer on the same file must not start");
    assert!(err.contains("samverka.db") && err.contains("används redan av en annan Samverka-process"), "{err}");
    assert!(err.contains("PostgreSQL"), "says what to do instead: {err}");
    // The first still serves; once it is killed (no shutdown), the file can be served again.
    first.kill();
    let again = Server::start(dir.path(), &[]);
    again.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_on_their_own_address_only() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let metrics_at = format!("127.0.0.1:{port}");
    let mut child = samverka(dir.path())
        .arg("serve")
        .env("SAMVERKA_LISTEN", "127.0.0.1:0")
        .env("SAMVERKA_DATA_DIR", "data")
        .env("SAMVERKA_METRICS_LISTEN", &metrics_at)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = vec![];
    while !lines.last().is_some_and(|l: &String| l.contains("igång")) {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0);
        lines.push(line);
    }
    assert!(lines.iter().any(|l| l.contains(&format!("http://{metrics_at}/metrics"))), "{lines:?}");
    let base =
        lines.last().unwrap().split_whitespace().find(|w| w.starts_with("http://")).unwrap().trim_end_matches('/');
    let client = reqwest::Client::new();
    assert_eq!(client.get(format!("{base}/api/live")).send().await.unwrap().status(), 200);
    let case = Uuid::now_v7();
    assert_eq!(client.get(format!("{base}/api/cases/{case}")).send().await.unwrap().status(), 401);
    // Not where users arrive.
    assert_eq!(client.get(format!("{base}/metrics")).send().await.unwrap().status(), 404);
    let text = client.get(format!("http://{metrics_at}/metrics")).send().await.unwrap().text().await.unwrap();
    for expected in [
        r#"samverka_http_requests_total{method="GET",route="/api/live",status="200"} 1"#,
        // By route template, never by id.
        r#"samverka_http_requests_total{method="GET",route="/api/cases/{id}",status="401"} 1"#,
        r#"samverka_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"samverka_http_request_duration_seconds_bucket{le="0.001",method="GET",route="/api/live"}"#,
        r#"samverka_db_connections{queue="max"} 9"#,
        r#"samverka_backlog{queue="mail"} 0"#,
        r#"samverka_live_streams 0"#,
        r#"samverka_group_commits_total{log="access_log"}"#,
    ] {
        assert!(text.contains(expected), "{expected} missing from\n{text}");
    }
    assert!(!text.contains(&case.to_string()), "no ids in labels");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn the_metrics_address_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let check = |v: &str| run(samverka(dir.path()).arg("check-config").env("SAMVERKA_METRICS_LISTEN", v));
    let (code, _, err) = check("överallt");
    assert_eq!(code, 2);
    assert!(err.contains("metrics_listen") && err.contains("SAMVERKA_METRICS_LISTEN"), "{err}");
    let (code, _, err) = check("127.0.0.1:8080");
    assert_eq!(code, 2, "the same address as listen");
    assert!(err.contains("egen adress"), "{err}");
    assert_eq!(check("127.0.0.1:9464").0, 0);
}

/// Reads by another system over FHIR, each answered, then SIGKILL at once: every answered read
/// has its access-log entry after the restart (searches' entries are made durable with the
/// others in the group commit, before the answer). On SQLite the server keeps them in its
/// journal, which the restarted server folds into the log before it answers anyone.
async fn answered_fhir_reads_are_logged_before_a_kill(url: &str, env: &[(&str, &str)], dir: &Path, journal: bool) {
    let (code, _, err) = run(samverka(dir).args(["demo", "--patients", "26"]).envs(env.iter().copied()));
    assert_eq!(code, 0, "{err}");
    let store = Store::connect(url, Agreements::built_in()).await.unwrap();
    let ward = store.units().await.unwrap().iter().find(|u| u.kind == UnitKind::Ward).unwrap().clone();
    let cases = store.cases_for_unit(ward.id, false, 20).await.unwrap();
    assert!(!cases.is_empty());
    let (client_id, secret) =
        samverka_bench::fhir_client(&store, ward.id, ward.organisation_id, "Journalsystem", &["system/*.read"]).await;
    store.close().await;
    let server = Server::start(dir, env);
    let client = reqwest::Client::new();
    let token = samverka_bench::fhir_token(&client, &server.base, client_id, &secret).await;
    let since = jiff::Timestamp::now();
    let mut answered = vec![];
    for (i, c) in cases.iter().cycle().take(30).enumerate() {
        let (path, action) = match i % 3 {
            0 => (format!("/fhir/Patient/{}", c.patient_id), "fhir.patient.read"),
            1 => (format!("/fhir/Patient?identifier={}", c.patient_identifier), "fhir.patient.search"),
            _ => (format!("/fhir/EpisodeOfCare?patient={}", c.patient_id), "fhir.episode.search"),
        };
        let res = client.get(format!("{}{path}", server.base)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        answered.push((c.patient_id, action));
    }
    server.kill();
    let server = Server::start(dir, env);
    let store = Store::connect(url, Agreements::built_in()).await.unwrap();
    let filter =
        samverka_store::AccessFilter { unit_id: Some(ward.id), from: Some(since), limit: 1000, ..Default::default() };
    let logged = store.access_log(&filter).await.unwrap();
    // Each answered read has an entry of its own kind for its patient (an episode search logs
    // one per case, so counts are by patient and kind).
    for (i, (patient, action)) in answered.iter().enumerate() {
        let n = answered.iter().take(i + 1).filter(|a| **a == (*patient, *action)).count();
        let entries = logged.iter().filter(|e| e.patient_id == Some(*patient) && e.action == *action).count();
        assert!(entries >= n, "{action} {i} of patient {patient} answered but not logged ({entries} entries)");
    }
    // On SQLite the entries went through the journal: folded in generations, none left over.
    let folds = store.raw_text_for_tests("SELECT CAST(COUNT(*) AS TEXT) FROM access_journal_folds").await.unwrap();
    assert_eq!(folds.as_deref().is_some_and(|n| n != "0"), journal, "{folds:?} journal generations folded");
    if journal {
        assert_eq!(Store::unfolded_access_journal(url).unwrap().entries(), 0, "folded at the restart");
    }
    store.close().await;
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answered_fhir_reads_survive_sigkill_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/samverka.db");
    answered_fhir_reads_are_logged_before_a_kill(
        db.to_str().unwrap(),
        &[("SAMVERKA_DATA_DIR", "data")],
        dir.path(),
        true,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answered_fhir_reads_survive_sigkill_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let url = samverka_testkit::PgServer::get().fresh_database();
    answered_fhir_reads_are_logged_before_a_kill(&url, &[("SAMVERKA_DATABASE_URL", &url)], dir.path(), false).await;
}
