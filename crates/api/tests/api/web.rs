//! The web pages over HTTP: sessions and CSRF on forms, need-to-know on pages, the access
//! log, what a live refresh may not do, the live-update stream, language, page weight.
//! (The whole journey in a real browser is in e2e/.)

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{As, TestApp, pnr};
use crate::on_both;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn page(app: &TestApp, who: &As, path: &str) -> (StatusCode, String) {
    let res = no_redirects().get(format!("{}{path}", app.base)).header("cookie", &who.cookie).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn form(app: &TestApp, who: &As, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    no_redirects()
        .post(format!("{}{path}", app.base))
        .header("cookie", &who.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(fields).unwrap())
        .send()
        .await
        .unwrap()
}

/// A case at the ward with the admission notice sent to Solna's biståndsenhet and the vårdcentral.
async fn noticed(app: &TestApp, n: u16) -> String {
    let (id, _) = app.case(&pnr(n), "2026-11-02 07:00").await;
    app.post(
        &app.world.ward,
        &format!("/api/cases/{id}/messages"),
        json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" } }),
        StatusCode::CREATED,
    )
    .await;
    id
}

fn receipt<'a>(case: &'a Value, unit: &uuid::Uuid) -> &'a Value {
    case["state"]["messages"][0]["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit"]["id"] == unit.to_string())
        .unwrap()
}

on_both!(pages_need_a_session_and_forms_their_token, |app: TestApp| async move {
    let w = &app.world;
    let id = noticed(&app, 1).await;
    for path in ["/", "/arenden", &format!("/arenden/{id}"), "/sok", "/admin", "/logg"] {
        let res = no_redirects().get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(res.headers()["location"], "/logga-in");
    }
    let events_path = format!("/api/cases/{id}/events");
    let count = |v: Value| v.as_array().unwrap().len();
    let before = count(app.get(&w.ward, &events_path).await);
    let path = format!("/arenden/{id}/meddelande");
    let fields = [("kind", "allmant"), ("text", "Hej från avdelningen")];
    // No token, or someone else's: refused, and nothing is written.
    let res = form(&app, &w.ward, &path, &fields).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("säkerhetskod"));
    let res = form(&app, &w.ward, &path, &[("csrf_token", w.bistand.csrf.as_str()), fields[0], fields[1]]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(app.get(&w.ward, &events_path).await), before);
    // With the session's token: sent, and back to the case page.
    let res = form(&app, &w.ward, &path, &[("csrf_token", w.ward.csrf.as_str()), fields[0], fields[1]]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"].to_str().unwrap(), format!("/arenden/{id}#meddelanden"));
    assert!(count(app.get(&w.ward, &events_path).await) > before);
});

on_both!(a_unit_outside_the_care_sees_no_patient_and_is_logged, |app: TestApp| async move {
    let w = &app.world;
    let id = noticed(&app, 2).await;
    let before = app.store.access_log_count().await.unwrap();
    let (status, body) = page(&app, &w.other_vc, &format!("/arenden/{id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!body.contains("Öberg") && !body.contains(&pnr(2)[..8]), "nothing of the patient");
    assert!(body.contains("nödåtkomst"), "a clinician is offered emergency access");
    assert!(app.store.access_log_count().await.unwrap() > before, "the refusal is logged");
    // A search outside the care finds nobody, in the same words as for an unknown number.
    let (_, known) = page(&app, &w.other_vc, &format!("/sok?nummer={}", pnr(2))).await;
    let (_, unknown) = page(&app, &w.other_vc, &format!("/sok?nummer={}", pnr(19))).await;
    let answer = |html: &str| html.split("<section").nth(1).map(str::to_string);
    assert!(known.contains("Ingen patient som din enhet deltar i vården av"));
    assert_eq!(answer(&known), answer(&unknown));
    // Forms of a case are refused to outsiders too.
    let res = form(
        &app,
        &w.other_vc,
        &format!("/arenden/{id}/meddelande"),
        &[("csrf_token", w.other_vc.csrf.as_str()), ("kind", "allmant"), ("text", "Hej")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Only administrators reach the administration; only reviewers the log review.
    assert_eq!(page(&app, &w.ward, "/admin").await.0, StatusCode::FORBIDDEN);
    assert_eq!(page(&app, &w.ward, "/logg").await.0, StatusCode::FORBIDDEN);
    assert_eq!(page(&app, &w.chef_solna, "/logg").await.0, StatusCode::OK);
});

on_both!(looking_opens_the_message_but_a_live_refresh_does_not, |app: TestApp| async move {
    let w = &app.world;
    let id = noticed(&app, 3).await;
    app.at("2026-11-02 09:30");
    let refetch = no_redirects()
        .get(format!("{}/arenden/{id}", app.base))
        .header("cookie", &w.bistand.cookie)
        .header("x-samverka-live", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(refetch.status(), StatusCode::OK);
    let case = app.get(&w.ward, &format!("/api/cases/{id}")).await;
    assert!(receipt(&case, &w.units.bistand)["opened"].is_null(), "the page's own refresh is not the user looking");
    let (status, body) = page(&app, &w.bistand, &format!("/arenden/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Inskrivningsmeddelande") && body.contains("Öberg"));
    let case = app.get(&w.ward, &format!("/api/cases/{id}")).await;
    assert_eq!(receipt(&case, &w.units.bistand)["opened"]["by"]["name"], "Bodil Biståndshandläggare");
    assert!(receipt(&case, &w.units.vc)["opened"].is_null());
});

/// Reads server-sent events until one names a case; returns that case id.
async fn next_change(stream: &mut reqwest::Response) -> String {
    let mut buf = String::new();
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(30), stream.chunk())
            .await
            .expect("an event")
            .unwrap()
            .expect("the stream is open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(at) = buf.find("\"case\":\"") {
            return buf[at + 8..at + 44].to_string();
        }
    }
}

on_both!(live_updates_go_to_the_units_of_the_case_only, |app: TestApp| async move {
    let w = &app.world;
    let solna_case = noticed(&app, 4).await;
    let listen = |who: &As| {
        let cookie = who.cookie.clone();
        let base = app.base.clone();
        async move {
            let res =
                reqwest::Client::new().get(format!("{base}/handelser")).header("cookie", cookie).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(res.headers()["content-type"], "text/event-stream");
            res
        }
    };
    let mut ward = listen(&w.ward).await;
    let mut nacka = listen(&w.other_kommun).await;
    // Solna's needs assessor acknowledges: the ward hears of it.
    app.post(
        &w.bistand,
        &format!("/api/cases/{solna_case}/messages/{}/acknowledge", {
            let c = app.get(&w.ward, &format!("/api/cases/{solna_case}")).await;
            c["state"]["messages"][0]["message"]["id"].as_str().unwrap().to_string()
        }),
        json!({}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(next_change(&mut ward).await, solna_case);
    // Nacka hears nothing of Solna's patient: the first change it hears is its own case's.
    let nacka_patient = json!({
        "identifier": pnr(5), "given_name": "Nils", "family_name": "Nackabo", "kommun": "0182",
    });
    let nacka_case = app
        .post(
            &w.ward,
            "/api/cases",
            json!({ "patient": nacka_patient, "admitted_at": crate::helpers::ts("2026-11-02 07:00").to_string() }),
            StatusCode::CREATED,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &w.ward,
        &format!("/api/cases/{nacka_case}/messages"),
        json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" } }),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(next_change(&mut nacka).await, nacka_case);
});

#[tokio::test]
async fn the_language_follows_a_cookie_and_returns_to_the_same_page() {
    let app = crate::helpers::spawn_app(crate::helpers::Db::Sqlite).await;
    let go = |referer: &'static str| {
        let base = app.base.clone();
        async move { no_redirects().get(format!("{base}/sprak/en")).header("referer", referer).send().await.unwrap() }
    };
    let res = go("http://127.0.0.1/arenden?alla=1").await;
    assert_eq!(res.headers()["location"], "/arenden?alla=1");
    assert!(res.headers()["set-cookie"].to_str().unwrap().starts_with("samverka-lang=en;"));
    // Never somewhere else.
    assert_eq!(go("https://evil.example//elsewhere").await.headers()["location"], "/");
    let english =
        app.client.get(format!("{}/ordlista", app.base)).header("cookie", "samverka-lang=en").send().await.unwrap();
    let html = english.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Glossary"));
    let swedish = app.client.get(format!("{}/ordlista", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(
        swedish.contains("<html lang=\"sv\">")
            && swedish.contains("Ordlista")
            && swedish.contains("biståndshandläggare")
    );
}

on_both!(a_case_page_with_200_events_stays_under_100_kb, |app: TestApp| async move {
    let w = &app.world;
    let id = noticed(&app, 6).await;
    // Free messages back and forth, each opened by its recipient: 4 events apiece.
    let mut n = 0;
    loop {
        let events = app.get(&w.ward, &format!("/api/cases/{id}/events")).await.as_array().unwrap().len();
        if events >= 200 {
            break;
        }
        n += 1;
        let (from, to) = if n % 2 == 0 { (&w.ward, &w.bistand) } else { (&w.bistand, &w.ward) };
        let sent = app
            .post(
                from,
                &format!("/api/cases/{id}/messages"),
                json!({ "body": { "kind": "allmant", "text": format!("Fråga {n}: hur går det med hemtjänsten inför utskrivningen?") } }),
                StatusCode::CREATED,
            )
            .await;
        let message = sent["state"]["messages"].as_array().unwrap().last().unwrap()["message"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        app.post(to, &format!("/api/cases/{id}/messages/{message}/open"), json!({}), StatusCode::OK).await;
    }
    let (status, body) = page(&app, &w.ward, &format!("/arenden/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.len() < 100_000, "the case page weighs {} bytes", body.len());
    assert!(body.matches("<article class=\"message\"").count() > 40, "every message is on the page");
});

on_both!(the_inbox_counts_what_is_unread, |app: TestApp| async move {
    let w = &app.world;
    noticed(&app, 7).await;
    noticed(&app, 8).await;
    let (status, body) = page(&app, &w.bistand, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<title>(2) Inkorg – Samverka</title>"), "{}", &body[..300]);
    assert_eq!(body.matches("Inskrivningsmeddelande</a>").count(), 2);
    let res = app.call(&w.bistand, Method::GET, "/", None).await;
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
});
