//! Bad input at scale: schemathesis (PyPI) generates thousands of requests from
//! `/api/openapi.json` against the running server with a logged-in ward coordinator's session,
//! and checks that none gets a 5xx and every response matches the documented schema. The
//! login routes are left out: logging in again (or out) ends the very session the run uses.

use std::path::Path;
use std::process::Command;

mod support;

async fn fuzz(url: &str, env: &[(&str, &str)], dir: &Path) {
    let bin = env!("CARGO_BIN_EXE_samverka");
    let out = Command::new(bin)
        .current_dir(dir)
        .args(["demo", "--patients", "40"])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // A session for a ward's vårdsamordnare, written straight into the store.
    let ward = support::ward_session(url, false).await;
    let server = support::Serve::start(dir, env);
    let base = server.base.clone();

    let python = samverka_testkit::python();
    let schemathesis = Path::new(&python).parent().unwrap().join("schemathesis");
    // Run in the temp dir: schemathesis keeps a cache folder where it runs.
    let out = Command::new(schemathesis)
        .current_dir(dir)
        .args(["run", &format!("{base}/api/openapi.json"), "--no-color", "--max-examples", "25", "--seed", "1"])
        .args(["--checks", "not_a_server_error,response_schema_conformance"])
        .args(["--exclude-path-regex", "^/auth/"])
        .arg("-H")
        .arg(format!("Cookie: {}", ward.cookie))
        .arg("-H")
        .arg(format!("X-CSRF-Token: {}", ward.csrf))
        .output()
        .unwrap();
    drop(server);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "schemathesis found failures:\n{report}\n{}", String::from_utf8_lossy(&out.stderr));
    // "N generated, N passed": at least a thousand requests, every one passed.
    let line =
        report.lines().find(|l| l.contains(" generated, ")).unwrap_or_else(|| panic!("no summary in:\n{report}"));
    let numbers: Vec<u64> = line.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
    assert!(numbers.len() >= 2 && numbers[0] >= 1000 && numbers[0] == numbers[1], "{line}");
    // The run was authenticated: only the routes a ward coordinator may not use (administration,
    // log review, follow-up) answered nothing but 401/403.
    let refused = report
        .split("Authentication failed: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    assert!(refused <= 12, "{refused} operations refused all requests; the session did not hold:\n{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_fuzzing_finds_no_server_error_or_schema_break_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/samverka.db");
    fuzz(db.to_str().unwrap(), &[("SAMVERKA_DATA_DIR", "data")], dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_fuzzing_finds_no_server_error_or_schema_break_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let url = samverka_testkit::PgServer::get().fresh_database();
    fuzz(&url, &[("SAMVERKA_DATABASE_URL", &url)], dir.path()).await;
}
