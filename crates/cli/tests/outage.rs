//! PostgreSQL stopped under load: while it is away every request is answered at once with 503
//! and a message that says what happened and that nothing was saved; when it is back the same
//! server answers again without being restarted. (Its own test binary, because it stops the
//! PostgreSQL server this test process shares.)

use std::process::Command;
use std::time::Duration;

use serde_json::json;

mod support;

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
    let ward = support::ward_session(&url, true).await;
    let case = ward.case.unwrap();
    let mut server = support::Serve::start(dir.path(), &[("SAMVERKA_DATABASE_URL", &url)]);
    let base = server.base.clone();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let (cookie, csrf) = (ward.cookie.clone(), ward.csrf.clone());
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
    // A browser gets a page that says the same, not problem+json.
    let page = client
        .get(format!("{base}/arenden/{case}"))
        .header("cookie", &cookie)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 503);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.headers().contains_key("retry-after"));
    let text = page.text().await.unwrap();
    assert!(text.contains("Samverka når inte sin databas") && text.contains("Inget har sparats"), "{text}");
    eprintln!("41 requests answered during the outage after {:?}", t.elapsed());
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
    assert!(server.child.try_wait().unwrap().is_none(), "the server never stopped");
}
