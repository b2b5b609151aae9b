//! PostgreSQL stopped under load: while it is away every request is answered at once with 503
//! and a message that says what happened and that nothing was saved; when it is back the same
//! server answers again without being restarted. (Its own test binary, because it stops the
//! PostgreSQL server this test process shares.)

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use samverka_store::{Agreements, Store};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_started_under_load() {
    let pg = samverka_testkit::PgServer::get();
    let url = pg.fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_samverka");
    let out = Command::new(bin)
        .current_dir(dir.path())
        .args(["demo", "--patients", "20"])
        .env("SAMVERKA_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // A ward coordinator's session with an open case, written straight into the store.
    let store = Store::connect(&url, Agreements::built_in()).await.unwrap();
    let mut found = None;
    'outer: for a in store.local_accounts(1000).await.unwrap() {
        for x in store.assignments_of(a.id).await.unwrap() {
            if x.role != samverka_domain::access::Role::Vardsamordnare {
                continue;
            }
            if let Some(c) = store
                .cases_for_unit(x.unit.id, false, 50)
                .await
                .unwrap()
                .into_iter()
                .find(|c| c.ward_id == x.unit.id && c.phase >= samverka_domain::case::Phase::Notified)
            {
                found = Some((a.id, x.id, c.case_id));
                break 'outer;
            }
        }
    }
    let (user, assignment, case) = found.expect("an open case at a ward");
    let (token, session) = samverka_api::auth::session_at(
        user,
        samverka_store::Stage::Active,
        Some(assignment),
        jiff::Timestamp::now(),
        2,
    );
    let csrf = session.csrf_token.clone();
    store.create_session(&session, "127.0.0.1").await.unwrap();
    store.close().await;

    let mut server = Command::new(bin)
        .current_dir(dir.path())
        .arg("serve")
        .env("SAMVERKA_LISTEN", "127.0.0.1:0")
        .env("SAMVERKA_LOG", "error")
        .env("SAMVERKA_DATABASE_URL", &url)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.split_whitespace().find(|w| w.starts_with("http://")).unwrap().trim_end_matches('/').to_string();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let cookie = format!("{}={token}", samverka_api::auth::SESSION_COOKIE);
    let write = |n: usize| {
        client
            .post(format!("{base}/api/cases/{case}/messages"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&json!({ "body": { "kind": "allmant", "text": format!("Meddelande {n}") } }))
            .send()
    };
    let read = || client.get(format!("{base}/api/cases/{case}")).header("cookie", &cookie).send();

    for n in 0..20 {
        assert_eq!(write(n).await.unwrap().status(), 201);
    }
    let t = std::time::Instant::now();
    pg.stop();
    eprintln!("stopped after {:?}", t.elapsed());
    // Reads and writes alike get 503 with a message a user can act on; nothing hangs.
    for n in 0..20 {
        for res in [write(100 + n).await.unwrap(), read().await.unwrap()] {
            assert_eq!(res.status(), 503);
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["code"], "database_unavailable", "{body}");
            assert!(body["detail"].as_str().unwrap().contains("Inget har sparats"), "{body}");
        }
    }
    eprintln!("40 requests answered during the outage after {:?}", t.elapsed());
    let health = client.get(format!("{base}/api/health")).send().await.unwrap();
    assert_eq!(health.status(), 503, "the health check tells the load balancer");
    let live = client.get(format!("{base}/api/live")).send().await.unwrap();
    assert_eq!(live.status(), 200, "the process itself is alive: no reason to restart it");
    pg.start_again();
    eprintln!("started again after {:?}", t.elapsed());
    // The same server process recovers by itself: new connections once the database is back.
    let mut recovered = false;
    for n in 0..200 {
        let res = write(200 + n).await.unwrap();
        if res.status() == 201 {
            recovered = true;
            break;
        }
        assert_eq!(res.status(), 503, "only 503 while reconnecting");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the server answers again without a restart");
    eprintln!("recovered after {:?}", t.elapsed());
    assert_eq!(read().await.unwrap().status(), 200);
    assert!(server.try_wait().unwrap().is_none(), "the server never stopped");
    server.kill().unwrap();
    server.wait().unwrap();
}
