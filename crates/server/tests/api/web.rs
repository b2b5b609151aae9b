//! The web pages over HTTP: sessions and CSRF on forms, need-to-know on pages, the access
//! log, what a live refresh may not do, the live-update stream, language, page weight.
//! (The whole journey in a real browser is in e2e/.)

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{As, TestApp, no_redirects, page, pnr, submit};
use crate::on_both;

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
    assert_eq!(res.headers()["location"].to_str().unwrap(), format!("/arenden/{id}?klart=allmant#meddelanden"));
    assert!(count(app.get(&w.ward, &events_path).await) > before);
});

on_both!(a_unit_outside_the_care_sees_no_patient_and_is_logged, |app: TestApp| async move {
    let w = &app.world;
    let id = noticed(&app, 2).await;
    let before = app.store.access_log_count().await.unwrap();
    let (status, body) = page(&app, &w.other_vc, &format!("/arenden/{id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!body.contains("Öberg") && !body.contains(&pnr(2)[..8]), "nothing of the patient");
    let emergency_form = format!("action=\"/arenden/{id}/nodatkomst\"");
    assert!(body.contains(&emergency_form), "a clinician is offered emergency access");
    assert!(app.store.access_log_count().await.unwrap() > before, "the refusal is logged");
    // A biståndshandläggare's role has no emergency access: refused without the form.
    let (status, body) = page(&app, &w.other_kommun, &format!("/arenden/{id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!body.contains(&emergency_form), "no emergency access offered to a role without it");
    // A search outside the care finds nobody, in the same words as for an unknown number.
    let search = |number: String| {
        let who = w.other_vc.clone();
        let app = &app;
        async move {
            form(app, &who, "/sok", &[("csrf_token", who.csrf.as_str()), ("nummer", &number)])
                .await
                .text()
                .await
                .unwrap()
        }
    };
    let (known, unknown) = (search(pnr(2)).await, search(pnr(19)).await);
    let answer = |html: &str, number: &str| html.split("<section").nth(1).map(|s| s.replace(number, "NUMMER"));
    assert!(known.contains("Ingen patient som din enhet deltar i vården av"));
    assert_eq!(answer(&known, &pnr(2)), answer(&unknown, &pnr(19)));
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
    let go = |referer: String| {
        let base = app.base.clone();
        async move { no_redirects().get(format!("{base}/sprak/en")).header("referer", referer).send().await.unwrap() }
    };
    let res = go(format!("{}/arenden?alla=1", app.base)).await;
    assert_eq!(res.headers()["location"], "/arenden?alla=1");
    assert!(res.headers()["set-cookie"].to_str().unwrap().starts_with("samverka-lang=en;"));
    // Never somewhere else.
    assert_eq!(go("https://evil.example/arenden".into()).await.headers()["location"], "/");
    assert_eq!(go(format!("{}//evil.example/", app.base)).await.headers()["location"], "/");
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
    let messages = app.get(&w.ward, &format!("/api/cases/{id}")).await["state"]["messages"].as_array().unwrap().len();
    assert!(messages > 40, "{messages}");
    assert_eq!(body.matches("<article class=\"message\"").count(), messages, "every message is on the page");
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

on_both!(emergency_access_from_the_search_needs_a_reason_and_is_logged, |app: TestApp| async move {
    let w = &app.world;
    let id = noticed(&app, 9).await;
    let page_html = form(&app, &w.other_vc, "/sok", &[("csrf_token", w.other_vc.csrf.as_str()), ("nummer", &pnr(9))])
        .await
        .text()
        .await
        .unwrap();
    assert!(page_html.contains("/sok/nodatkomst"), "a clinician is offered emergency access");
    let ask = |reason: &'static str| {
        let who = w.other_vc.clone();
        let number = pnr(9);
        let app = &app;
        async move {
            form(
                app,
                &who,
                "/sok/nodatkomst",
                &[("csrf_token", who.csrf.as_str()), ("nummer", &number), ("reason", reason)],
            )
            .await
        }
    };
    let short = ask("akut").await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The same refusal for a number nobody has: the reason is checked before anyone is looked up.
    let short_nobody = form(
        &app,
        &w.other_vc,
        "/sok/nodatkomst",
        &[("csrf_token", w.other_vc.csrf.as_str()), ("nummer", &pnr(17)), ("reason", "akut")],
    )
    .await;
    assert_eq!(short_nobody.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        short.text().await.unwrap().replace(&pnr(9), "N"),
        short_nobody.text().await.unwrap().replace(&pnr(17), "N")
    );
    let res = ask("Patienten sökte akut på vårdcentralen med andnöd").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"].to_str().unwrap(), format!("/arenden/{id}"));
    let (status, body) = page(&app, &w.other_vc, &format!("/arenden/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("nödåtkomst") && body.contains("Öberg"));
    // A number nobody has gets the ordinary answer, logged as a refusal.
    let nobody = form(
        &app,
        &w.other_vc,
        "/sok/nodatkomst",
        &[
            ("csrf_token", w.other_vc.csrf.as_str()),
            ("nummer", &pnr(18)),
            ("reason", "Patienten sökte akut med andnöd"),
        ],
    )
    .await;
    assert_eq!(nobody.status(), StatusCode::OK);
    assert!(nobody.text().await.unwrap().contains("Ingen patient som din enhet deltar i vården av"));
    // A role without emergency access is not offered it, and is refused.
    let assessor =
        form(&app, &w.other_kommun, "/sok", &[("csrf_token", w.other_kommun.csrf.as_str()), ("nummer", &pnr(9))])
            .await
            .text()
            .await
            .unwrap();
    assert!(!assessor.contains("/sok/nodatkomst"));
    let refused = form(
        &app,
        &w.other_kommun,
        "/sok/nodatkomst",
        &[("csrf_token", w.other_kommun.csrf.as_str()), ("nummer", &pnr(9)), ("reason", "Jag vill bara se lite grann")],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let refused_nobody = form(
        &app,
        &w.other_kommun,
        "/sok/nodatkomst",
        &[
            ("csrf_token", w.other_kommun.csrf.as_str()),
            ("nummer", &pnr(17)),
            ("reason", "Jag vill bara se lite grann"),
        ],
    )
    .await;
    assert_eq!(refused_nobody.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        refused.text().await.unwrap().replace(&pnr(9), "N"),
        refused_nobody.text().await.unwrap().replace(&pnr(17), "N"),
        "no difference tells whether the patient exists"
    );
});

on_both!(a_unit_is_invited_with_the_patients_consent, |app: TestApp| async move {
    let w = &app.world;
    let id = noticed(&app, 10).await;
    let invite = |unit: uuid::Uuid| {
        let ward = w.ward.clone();
        let app = &app;
        let path = format!("/arenden/{id}/bjud-in");
        async move {
            form(
                app,
                &ward,
                &path,
                &[
                    ("csrf_token", ward.csrf.as_str()),
                    ("unit", &unit.to_string()),
                    ("reason", "Korttidsboende efter utskrivning"),
                ],
            )
            .await
        }
    };
    let (status, body) = page(&app, &w.ward, &format!("/arenden/{id}/bjud-in")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("inte samtyckt"), "the missing consent is pointed out before");
    assert_eq!(invite(w.units.hsl).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(page(&app, &w.bistand_hsl, &format!("/arenden/{id}")).await.0, StatusCode::FORBIDDEN);
    app.post(
        &w.ward,
        &format!("/api/cases/{id}/consents"),
        json!({ "kind": "information_sharing", "given_by": { "kind": "patient" }, "given_at": crate::helpers::ts("2026-11-02 08:00").to_string() }),
        StatusCode::CREATED,
    )
    .await;
    let res = invite(w.units.hsl).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(page(&app, &w.bistand_hsl, &format!("/arenden/{id}")).await.0, StatusCode::OK);
});

on_both!(administrators_start_in_the_administration_and_stay_in_their_organisation, |app: TestApp| async move {
    let w = &app.world;
    let (admin, assignment) = crate::helpers::account(
        &app.store,
        w.solna,
        "alma",
        "Alma Admin",
        w.units.bistand,
        samverka_domain::access::Role::Administrator,
    )
    .await;
    let admin = crate::helpers::session(&app.store, admin, w.units.bistand, assignment).await;
    let res = no_redirects().get(format!("{}/", app.base)).header("cookie", &admin.cookie).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/admin");
    let (status, body) = page(&app, &admin, "/admin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Bodil Biståndshandläggare") && !body.contains("Vera Vårdsamordnare"), "only Solna's people");
    assert_eq!(page(&app, &admin, &format!("/admin/anvandare/{}", w.bistand.user)).await.0, StatusCode::OK);
    assert_eq!(page(&app, &admin, &format!("/admin/anvandare/{}", w.ward.user)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(page(&app, &admin, &format!("/admin/enheter/{}", w.units.ward)).await.0, StatusCode::NOT_FOUND);
    // A change in the region is refused on the page, with nothing changed.
    let res = form(
        &app,
        &admin,
        &format!("/admin/enheter/{}/adress", w.units.ward),
        &[("csrf_token", admin.csrf.as_str()), ("phone", "08-666 66 66")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(app.store.unit(w.units.ward).await.unwrap().unwrap().address.phone.is_none());
    // Its own unit's address entry: saved, and back with a notice.
    let res = form(
        &app,
        &admin,
        &format!("/admin/enheter/{}/adress", w.units.bistand),
        &[
            ("csrf_token", admin.csrf.as_str()),
            ("phone", "08-734 20 00"),
            ("cover", "Jourhavande handläggare 08-734 20 99"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = page(&app, &admin, res.headers()["location"].to_str().unwrap()).await;
    assert!(body.contains("Kontaktuppgifterna är sparade") && body.contains("08-734 20 00"));
});

on_both!(the_sender_corrects_a_message_by_appending_a_new_one, |app: TestApp| async move {
    let w = &app.world;
    let id = noticed(&app, 11).await;
    let case = app.get(&w.ward, &format!("/api/cases/{id}")).await;
    let notice = case["state"]["messages"][0]["message"]["id"].as_str().unwrap().to_string();
    let path = format!("/arenden/{id}/meddelande/{notice}");
    let (status, body) = page(&app, &w.ward, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Rätta meddelandet") && body.contains("value=\"2026-11-09\""),
        "the form holds what was sent"
    );
    // A recipient may not correct what someone else sent.
    let (status, body) = page(&app, &w.bistand, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains("Rätta meddelandet"));
    let res = form(
        &app,
        &w.ward,
        &format!("/arenden/{id}/meddelande"),
        &[
            ("csrf_token", w.ward.csrf.as_str()),
            ("kind", "inskrivningsmeddelande"),
            ("corrects", &notice),
            ("estimated_discharge", "2026-11-12"),
            ("note", "Rättat datum efter ronden"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let case = app.get(&w.ward, &format!("/api/cases/{id}")).await;
    assert_eq!(case["state"]["estimated_discharge"], "2026-11-12");
    let messages = case["state"]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "the original stays");
    assert_eq!(messages[0]["corrected_by"].as_array().unwrap().len(), 1);
    let (status, body) = page(&app, &w.ward, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains("Rätta meddelandet"), "a corrected message is corrected once");
});

on_both!(the_live_stream_needs_a_session_and_does_not_keep_it_alive, |app: TestApp| async move {
    let w = &app.world;
    // Without a session: 204, which tells the browser to stop reconnecting.
    let res = reqwest::Client::new().get(format!("{}/handelser", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Administrators hear nothing of patients' messages.
    let (admin, assignment) = crate::helpers::account(
        &app.store,
        w.solna,
        "ada",
        "Ada Admin",
        w.units.bistand,
        samverka_domain::access::Role::Administrator,
    )
    .await;
    let admin = crate::helpers::session(&app.store, admin, w.units.bistand, assignment).await;
    let res = reqwest::Client::new()
        .get(format!("{}/handelser", app.base))
        .header("cookie", &admin.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Listening is not activity: the session's last-seen time stays where it was.
    let hash = samverka_app::auth::token_hash(w.bistand.cookie.split_once('=').unwrap().1);
    let before = app.store.session(&hash).await.unwrap().unwrap().last_seen_at;
    app.clock.advance(jiff::SignedDuration::from_mins(5));
    let res = reqwest::Client::new()
        .get(format!("{}/handelser", app.base))
        .header("cookie", &w.bistand.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    drop(res);
    assert_eq!(app.store.session(&hash).await.unwrap().unwrap().last_seen_at, before);
    // A live refetch is logged as what it is.
    let id = noticed(&app, 12).await;
    let refetch = no_redirects()
        .get(format!("{}/arenden/{id}", app.base))
        .header("cookie", &w.bistand.cookie)
        .header("x-samverka-live", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(refetch.status(), StatusCode::OK);
    assert_eq!(app.store.session(&hash).await.unwrap().unwrap().last_seen_at, before, "nor is a live refetch");
    let log = app.get(&w.chef_solna, &format!("/api/access-log?user={}", w.bistand.user)).await;
    assert!(log["entries"].as_array().unwrap().iter().any(|e| e["action"] == "case.read_live"));
    // A prefetch is not someone looking either.
    let prefetch = no_redirects()
        .get(format!("{}/arenden/{id}", app.base))
        .header("cookie", &w.bistand.cookie)
        .header("sec-purpose", "prefetch")
        .send()
        .await
        .unwrap();
    assert_eq!(prefetch.status(), StatusCode::OK);
    let case = app.get(&w.ward, &format!("/api/cases/{id}")).await;
    assert!(receipt(&case, &w.units.bistand)["opened"].is_null());
});

on_both!(forms_after_the_session_ended_go_to_the_login, |app: TestApp| async move {
    let w = &app.world;
    let id = noticed(&app, 13).await;
    let hash = samverka_app::auth::token_hash(w.ward.cookie.split_once('=').unwrap().1);
    app.store.delete_session(&hash).await.unwrap();
    let res = form(
        &app,
        &w.ward,
        &format!("/arenden/{id}/meddelande"),
        &[("csrf_token", w.ward.csrf.as_str()), ("kind", "allmant"), ("text", "Hej")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/logga-in");
    // An unknown address in a browser is a page, in Swedish.
    let res = app.client.get(format!("{}/finns-inte", app.base)).header("accept", "text/html").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("Sidan finns inte i Samverka"));
});

on_both!(a_unit_that_marks_its_only_message_mis_sent_leaves_the_case, |app: TestApp| async move {
    let w = &app.world;
    let id = noticed(&app, 14).await;
    let case = app.get(&w.ward, &format!("/api/cases/{id}")).await;
    let notice = case["state"]["messages"][0]["message"]["id"].as_str().unwrap().to_string();
    let res = form(
        &app,
        &w.vc,
        &format!("/arenden/{id}/felskickat/{notice}"),
        &[("csrf_token", w.vc.csrf.as_str()), ("reason", "Patienten är inte listad hos oss")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/", "back to the inbox, not to a case it no longer takes part in");
    // It has left the case: its page is closed to the vårdcentral, and the ward sees it gone.
    assert_eq!(page(&app, &w.vc, &format!("/arenden/{id}")).await.0, StatusCode::FORBIDDEN);
    let case = app.get(&w.ward, &format!("/api/cases/{id}")).await;
    let parties: Vec<&str> =
        case["state"]["parties"].as_array().unwrap().iter().map(|p| p["unit"]["id"].as_str().unwrap()).collect();
    assert!(parties.contains(&w.units.bistand.to_string().as_str()), "{parties:?}");
    assert!(!parties.contains(&w.units.vc.to_string().as_str()), "{parties:?}");
});

on_both!(the_sip_editor_says_what_it_waits_for, |app: TestApp| async move {
    let w = &app.world;
    let id = noticed(&app, 15).await;
    let (status, body) = page(&app, &w.bistand, &format!("/arenden/{id}/sip")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("när någon har kallat till SIP") && !body.contains("Spara SIP"));
});

on_both!(the_inbox_shows_the_newest_hundred_and_says_how_many_wait, |app: TestApp| async move {
    let w = &app.world;
    let id = noticed(&app, 1).await;
    for n in 0..101 {
        app.post(
            &w.ward,
            &format!("/api/cases/{id}/messages"),
            json!({ "body": { "kind": "allmant", "text": format!("Fråga {n}") }, "recipients": [w.units.bistand] }),
            StatusCode::CREATED,
        )
        .await;
    }
    let (status, html) = page(&app, &w.bistand, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("#m-").count(), 100, "the page lists the newest hundred");
    assert!(html.contains("Visar de 100 senaste av 102 meddelanden som väntar på kvittens"), "{html}");
    // The ward has nothing waiting: no such line.
    let (_, html) = page(&app, &w.ward, "/").await;
    assert!(!html.contains("Visar de"));
});

on_both!(the_case_page_offers_exactly_what_the_case_accepts, |app: TestApp| async move {
    let w = &app.world;
    let id = noticed(&app, 6).await;
    let undo = format!("action=\"/arenden/{id}/angra-utskrivning\"");
    // The discharge information goes out the afternoon before a discharge planned for the
    // next morning; the discharge can still be taken back if the plan changes.
    app.at("2026-11-08 15:00");
    app.post(
        &w.ward,
        &format!("/api/cases/{id}/messages"),
        json!({ "body": { "kind": "information_vid_utskrivning", "discharged_at": "2026-11-09T08:00:00Z",
                          "medication": "Enligt läkemedelslista" } }),
        StatusCode::CREATED,
    )
    .await;
    let (_, body) = page(&app, &w.ward, &format!("/arenden/{id}")).await;
    assert!(body.contains(&undo), "the page offers what the case accepts");
    let case = app.get(&w.ward, &format!("/api/cases/{id}")).await;
    assert!(case["available"].as_array().unwrap().contains(&json!({ "action": "cancel_discharge" })));
    // Nobody else is offered it, and the municipality's offers include acknowledging.
    let (_, body) = page(&app, &w.bistand, &format!("/arenden/{id}")).await;
    assert!(!body.contains(&undo));
    let case = app.get(&w.bistand, &format!("/api/cases/{id}")).await;
    assert!(!case["available"].as_array().unwrap().contains(&json!({ "action": "cancel_discharge" })));
    assert!(case["available"].as_array().unwrap().iter().any(|a| a["action"] == "acknowledge"));
    // Taken back through the form it offered: then it is no longer offered.
    let (status, _) =
        submit(&app, &w.ward, &format!("/arenden/{id}/angra-utskrivning"), &[("note", "Utskrivningen flyttas")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, body) = page(&app, &w.ward, &format!("/arenden/{id}")).await;
    assert!(!body.contains(&undo));
    assert!(app.get(&w.ward, &format!("/api/cases/{id}")).await["state"]["discharged_at"].is_null());
});

/// A page as a browser asks for it (Accept: text/html).
async fn browse(app: &TestApp, who: Option<&As>, method: Method, path: &str) -> (StatusCode, String, String) {
    let mut req = no_redirects().request(method, format!("{}{path}", app.base)).header("accept", "text/html");
    if let Some(w) = who {
        req = req.header("cookie", &w.cookie);
    }
    let res = req.send().await.unwrap();
    let kind = res.headers()["content-type"].to_str().unwrap().to_string();
    (res.status(), kind, res.text().await.unwrap())
}

on_both!(every_page_error_is_a_swedish_page_with_the_menu, |app: TestApp| async move {
    let ward = &app.world.ward;
    // A malformed id in a page's address: not the parser's English, and the menu is there.
    let (status, kind, body) = browse(&app, Some(ward), Method::GET, "/arenden/inte-ett-id").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(body.contains("Adressen innehåller ett id som inte finns."), "{body}");
    assert!(!body.contains("UUID") && !body.contains("\"detail\""), "{body}");
    assert!(body.contains("href=\"/arenden\"") && body.contains("Logga ut"), "the menu: {body}");
    // A method the address does not take.
    let (status, kind, body) = browse(&app, Some(ward), Method::GET, "/admin/enheter").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(body.contains("Den här adressen tar inte emot den sortens anrop."), "{body}");
    assert!(body.contains("href=\"/arenden\""), "the menu: {body}");
    // A case that does not exist, drawn by the handler: now with the menu too.
    let (status, _, body) = browse(&app, Some(ward), Method::GET, &format!("/arenden/{}", uuid::Uuid::now_v7())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("Ärendet finns inte") && body.contains("href=\"/sok\""), "{body}");
    // English when chosen.
    let res = no_redirects()
        .get(format!("{}/arenden/inte-ett-id", app.base))
        .header("accept", "text/html")
        .header("cookie", format!("{}; samverka-lang=en", ward.cookie))
        .send()
        .await
        .unwrap();
    let body = res.text().await.unwrap();
    assert!(body.contains("The address holds an invalid id"), "{body}");
    // The JSON API and FHIR keep their problems.
    let res = no_redirects()
        .get(format!("{}/api/cases/inte-ett-id", app.base))
        .header("cookie", &ward.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/problem+json");
});

on_both!(the_browser_finds_samverkas_icon, |app: TestApp| async move {
    for path in ["/favicon.ico", "/static/favicon.svg"] {
        let res = no_redirects().get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.headers()["content-type"], "image/svg+xml");
        assert!(res.text().await.unwrap().starts_with("<svg"));
    }
    let (_, body) = page(&app, &app.world.ward, "/").await;
    assert!(body.contains("<link rel=\"icon\" href=\"/static/favicon.svg\""), "{body}");
});

on_both!(a_refused_form_comes_back_as_it_was_filled_in, |app: TestApp| async move {
    let w = &app.world;
    let id = noticed(&app, 16).await;
    let path = format!("/arenden/{id}/meddelande");
    // A ready notice with the referrals neither confirmed cancelled nor explained.
    let ready = [("kind", "utskrivningsklar"), ("sip_needed", "ja"), ("note", "")];
    let (status, body) = submit(&app, &w.ward, &path, &ready).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Formuläret skickades inte, men det du skrev finns kvar nedan."), "{body}");
    assert!(body.contains("<details open><summary>Meddelande om utskrivningsklar"), "the form stays open: {body}");
    assert!(body.contains(r#"id="sipu1" name="sip_needed" value="ja" checked"#), "the choice is kept");
    assert!(body.contains(r#"id="fel-utskrivningsklar">Bekräfta att remisser"#), "the reason in the form: {body}");
    assert!(body.contains(r#"name="referrals_cancelled" value="on" aria-invalid="true""#), "the box is marked");

    // A free message one character too long: the text and the chosen recipient are kept, the
    // reason beside the field.
    let vc = w.units.vc.to_string();
    let long = "å".repeat(10_001);
    let free = [("kind", "allmant"), ("recipients", vc.as_str()), ("text", long.as_str())];
    let (status, body) = submit(&app, &w.ward, &path, &free).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains(&format!(">{long}</textarea>")), "the text is kept");
    assert!(body.contains(&format!(r#"value="{vc}" checked"#)), "the recipient is kept");
    assert!(body.contains(r#"<span class="field-error" id="fel-allmant">Texten är för lång."#), "{body}");
    assert!(body.contains(r#"maxlength="10000""#), "the field says its limit");

    // A call to SIP before consent: the meeting's time, place and participants are kept.
    let call = [
        ("kind", "kallelse_sip"),
        ("meeting_at", "2026-11-12T13:00"),
        ("place", "Hemma hos patienten"),
        ("participants", "Dottern Eva, hemtjänsten"),
        ("patient_invited", "on"),
    ];
    let (status, body) = submit(&app, &w.bistand, &path, &call).await;
    assert!(status.is_client_error(), "{status}");
    assert!(body.contains("<details open><summary>Kallelse till SIP"), "{body}");
    for kept in [r#"value="2026-11-12T13:00""#, r#"value="Hemma hos patienten""#, r#"value="Dottern Eva, hemtjänsten""#]
    {
        assert!(body.contains(kept), "{kept} is kept");
    }
    assert!(body.contains(r#"<p class="field-error" role="alert" id="fel-kallelse_sip">"#), "the reason in the form");
    assert!(body.contains("samtycke"), "{body}");
    // Nothing was sent by any of the three.
    let case = app.get(&w.ward, &format!("/api/cases/{id}")).await;
    assert_eq!(case["state"]["messages"].as_array().unwrap().len(), 1);
});

async fn admit_form(app: &TestApp, who: &As, f: Vec<(&'static str, String)>) -> (StatusCode, String) {
    let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    submit(app, who, "/arenden/ny", &fields).await
}

on_both!(a_second_open_case_for_the_same_person_needs_a_reason, |app: TestApp| async move {
    let w = &app.world;
    let number = pnr(17);
    let vc = w.units.vc.to_string();
    let admission = |extra: &[(&'static str, &'static str)]| {
        let mut f = vec![
            ("identifier", number.clone()),
            ("given_name", "Märta".to_string()),
            ("family_name", "Lind".to_string()),
            ("kommun", "0184".to_string()),
            ("listed_unit", vc.clone()),
            ("admitted_at", "2026-11-02T07:00".to_string()),
        ];
        f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        f
    };
    let (status, location) = admit_form(&app, &w.ward, admission(&[])).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let first = location.strip_prefix("/arenden/").unwrap().split('<').next().unwrap().to_string();

    // Back, the same form again: the open case is offered, nothing is created.
    let (status, body) = admit_form(&app, &w.ward, admission(&[])).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("Patienten har redan ett öppet ärende på er avdelning, inskriven 2026-11-02."), "{body}");
    assert!(body.contains(&format!("href=\"/arenden/{first}\"")), "the open case is one click away");
    assert!(body.contains("value=\"Märta\""), "what was typed is kept");
    let cases = app.get(&w.ward, "/api/cases").await;
    assert_eq!(cases.as_array().unwrap().len(), 1);

    // A second case is a deliberate choice with a reason, which is logged.
    let (status, _) = admit_form(&app, &w.ward, admission(&[("duplicate_reason", "kort")])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let reason = "Två vårdtillfällen samma dygn: inskriven igen efter permission.";
    let (status, _) = admit_form(&app, &w.ward, admission(&[("duplicate_reason", reason)])).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&w.ward, "/api/cases").await.as_array().unwrap().len(), 2);
    let log = app
        .store
        .access_log(&samverka_store::AccessFilter { user_id: Some(w.ward.user), limit: 500, ..Default::default() })
        .await
        .unwrap();
    let logged = log.iter().find(|e| e.action == "case.open_duplicate").expect("the second case is logged");
    assert_eq!(logged.reason.as_deref(), Some(reason));

    // The same rule over JSON, for another ward of the region: the case is named by its ward
    // but not linked (it is not theirs), and a reason opens a second one.
    let patient = app.get(&w.ward, &format!("/api/cases/{first}")).await["patient"]["id"].clone();
    let body = json!({ "patient_id": patient, "admitted_at": crate::helpers::ts("2026-11-02 07:30").to_string() });
    let p = app.post(&w.ward2, "/api/cases", body.clone(), StatusCode::CONFLICT).await;
    assert_eq!((p["code"].as_str(), p["field"].as_str()), (Some("open_case_exists"), Some("duplicate_reason")));
    assert!(p["detail"].as_str().unwrap().contains("Geriatrik avd 21"), "{p}");
    assert!(p["existing_case"].is_null(), "not the other ward's to open");
    let mut body = body;
    body["duplicate_reason"] = json!("Överflyttad utan att ärendet flyttades, avdelning 21 nås inte.");
    app.post(&w.ward2, "/api/cases", body, StatusCode::CREATED).await;
});

on_both!(the_case_page_reads_as_sentences, |app: TestApp| async move {
    let w = &app.world;
    let id = noticed(&app, 18).await;
    // The municipality opens the notice: shown at the message, not as a line of history.
    page(&app, &w.bistand, &format!("/arenden/{id}")).await;
    let (_, body) = page(&app, &w.ward, &format!("/arenden/{id}")).await;
    assert!(body.contains("registrerade inskrivningen på Norrviks sjukhus, Geriatrik avd 21."), "{body}");
    assert!(body.contains("skickade inskrivningsmeddelande till Biståndsenheten Solna"), "{body}");
    assert!(!body.contains("skickade Inskrivningsmeddelande") && !body.contains("öppnade inskrivningsmeddelande"));
    assert!(body.contains("Vem som har öppnat ett meddelande står vid meddelandet."));
    assert!(!body.contains(") ("), "no double brackets: {body}");
    assert!(body.contains("Skicka inskrivningsmeddelande") || body.contains("Utse fast vårdkontakt"), "{body}");
});

on_both!(the_next_step_is_one_click_away_and_saving_says_so, |app: TestApp| async move {
    let w = &app.world;
    let (id, _) = app.case(&pnr(19), "2026-11-02 07:00").await;
    // The ward's next step links to its form, which has that address.
    let (_, body) = page(&app, &w.ward, &format!("/arenden/{id}")).await;
    assert!(
        body.contains("<a href=\"#skicka-inskrivningsmeddelande\"><strong>Skicka inskrivningsmeddelande</strong></a>"),
        "{body}"
    );
    assert!(body.contains("id=\"skicka-inskrivningsmeddelande\""));
    // Saved: back to the page, which says what was done.
    let notice = [("kind", "inskrivningsmeddelande"), ("estimated_discharge", "2026-11-09"), ("note", "")];
    let (status, location) = submit(&app, &w.ward, &format!("/arenden/{id}/meddelande"), &notice).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, format!("/arenden/{id}?klart=inskrivningsmeddelande#meddelanden").as_str())
    );
    let (_, body) = page(&app, &w.ward, &format!("/arenden/{id}?klart=inskrivningsmeddelande")).await;
    assert!(body.contains("Inskrivningsmeddelande skickades."), "{body}");
    // Not the municipality's step: no link for it.
    let (_, body) = page(&app, &w.bistand, &format!("/arenden/{id}")).await;
    assert!(!body.contains("href=\"#skicka-inskrivningsmeddelande\""));

    // Several consents in one go.
    let consents = [("kind", "sip_call"), ("kind", "sip"), ("given_by", "patient")];
    let (status, location) = submit(&app, &w.ward, &format!("/arenden/{id}/samtycke"), &consents).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let case = app.get(&w.ward, &format!("/api/cases/{id}")).await;
    let kinds: Vec<&str> =
        case["state"]["consents"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["sip_call", "sip"]);
    let (status, _) = submit(&app, &w.ward, &format!("/arenden/{id}/samtycke"), &[("given_by", "patient")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "nothing ticked");

    // Two messages to the municipality: acknowledged in one click.
    let free = json!({ "body": { "kind": "allmant", "text": "Ring avdelningen." }, "recipients": [w.units.bistand] });
    app.post(&w.ward, &format!("/api/cases/{id}/messages"), free, StatusCode::CREATED).await;
    let (_, body) = page(&app, &w.bistand, &format!("/arenden/{id}")).await;
    assert!(body.contains("Kvittera alla 2"), "{body}");
    let (status, _) = submit(&app, &w.bistand, &format!("/arenden/{id}/kvittera-alla"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let case = app.get(&w.ward, &format!("/api/cases/{id}")).await;
    for m in case["state"]["messages"].as_array().unwrap() {
        let r = m["receipts"].as_array().unwrap().iter().find(|r| r["unit"]["id"] == json!(w.units.bistand));
        if let Some(r) = r {
            assert!(r["acknowledged"].is_object(), "{m}");
        }
    }
    let p = app.post(&w.bistand, &format!("/api/cases/{id}/acknowledge-all"), json!({}), StatusCode::CONFLICT).await;
    assert_eq!(p["code"], "nothing_to_acknowledge");
    // Outside the care: refused and logged, nothing said about the case.
    app.post(&w.other_kommun, &format!("/api/cases/{id}/acknowledge-all"), json!({}), StatusCode::FORBIDDEN).await;
    assert_eq!(crate::helpers::denied(&app, &w.other_kommun, "case.acknowledge_all", None).await, 1);
});

on_both!(the_sip_editor_starts_from_what_the_case_knows, |app: TestApp| async move {
    let w = &app.world;
    let id = noticed(&app, 9).await;
    let msg = format!("/api/cases/{id}/messages");
    let planning =
        json!({ "body": { "kind": "planeringsunderlag", "needs": "Hemtjänst morgon och kväll\nTrygghetslarm" } });
    app.post(&w.ward, &msg, planning, StatusCode::CREATED).await;
    for kind in ["sip_call", "sip"] {
        let c = json!({ "kind": kind, "given_by": { "kind": "patient" }, "given_at": crate::helpers::ts("2026-11-02 08:00").to_string() });
        app.post(&w.ward, &format!("/api/cases/{id}/consents"), c, StatusCode::CREATED).await;
    }
    let call = json!({ "body": {
        "kind": "kallelse_sip", "meeting_at": crate::helpers::ts("2026-11-10 13:00").to_string(), "place": "Hemma",
        "participants": ["Dottern Eva"], "patient_invited": true, "relatives_invited": true,
    } });
    app.post(&w.bistand, &msg, call, StatusCode::CREATED).await;
    let (status, body) = page(&app, &w.bistand, &format!("/arenden/{id}/sip")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(">Hemtjänst morgon och kväll\nTrygghetslarm</textarea>"), "the needs: {body}");
    assert!(body.contains("value=\"Dottern Eva\"") && body.contains("value=\"Åsa Öberg\""), "who was called");
    let me = app.get(&w.bistand, "/api/me").await;
    let name = me["user"]["name"].as_str().or(me["name"].as_str()).unwrap().to_string();
    assert!(body.contains(&format!("value=\"{name}\"")), "the coordinator is the one drawing it up");
});

on_both!(a_screening_is_recorded_on_the_case_page_and_shown_in_the_sip_and_its_history, |app: TestApp| async move {
    let w = &app.world;
    let (case, _) = crate::fhir::busy_case(&app, 41).await;
    let path = format!("/arenden/{case}");
    let (_, before) = page(&app, &w.vc, &path).await;
    assert!(before.contains("Ingen screening är registrerad") && before.contains("/screening\""), "offered: {before}");
    // A level that is no level comes back with what was typed, and nothing is recorded.
    let (s, refused) =
        submit(&app, &w.vc, &format!("{path}/screening"), &[("frailty", "12"), ("note", "Bedömt vid hembesök")]).await;
    assert!(s.is_client_error(), "{s}");
    assert!(refused.contains("nivå från 1 till 9") && refused.contains("Bedömt vid hembesök"), "typed text kept");
    let (s, to) = submit(
        &app,
        &w.vc,
        &format!("{path}/screening"),
        &[
            ("frailty", "6"),
            ("coordination", "on"),
            ("both_principals", "on"),
            ("carer_strain", "on"),
            ("note", "Bedömt vid hembesök"),
        ],
    )
    .await;
    assert!(s.is_redirection() && to.contains("klart=screening"), "{s} {to}");
    let (_, after) = page(&app, &w.vc, &path).await;
    for expected in [
        "Skörhet nivå 6 av 9: Behöver hjälp både inne och ute",
        "Samordningsbehov: ja (Behöver insatser från både region och kommun; Närstående bär mycket",
        "Bedömt vid hembesök",
        "registrerade screening: skörhet nivå 6 av 9; samordningsbehov: ja.",
    ] {
        assert!(after.contains(expected), "{expected}");
    }
    // The SIP and its print view show the latest screening.
    for sip in [format!("{path}/sip"), format!("{path}/sip/utskrift")] {
        let (s, shown) = page(&app, &w.vc, &sip).await;
        assert!(s == StatusCode::OK && shown.contains("Skörhet nivå 6 av 9"), "{sip}: {s}");
    }
    // The ward's manager reads the case but is offered no screening form.
    let (user, assignment) = crate::helpers::account(
        &app.store,
        w.region,
        "chef",
        "Chef Avdelning",
        w.units.ward,
        samverka_domain::access::Role::Enhetschef,
    )
    .await;
    let manager = crate::helpers::session(&app.store, user, w.units.ward, assignment).await;
    let (_, theirs) = page(&app, &manager, &path).await;
    assert!(theirs.contains("Skörhet nivå 6 av 9") && !theirs.contains("/screening\""), "not offered");
});
