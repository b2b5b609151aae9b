//! The admission feed inside the application: a draft is the ward's alone until the ward
//! confirms the needs; a refused message is kept, shown to the region's administrators only,
//! and processed again once its cause is fixed. (The feed over a real socket, with an
//! independent sender, is tested in crates/cli/tests/hl7_feed.rs.)

use reqwest::{Method, StatusCode};
use samverka_domain::access::Role;
use samverka_domain::case::Phase;
use samverka_domain::ids::PatientIdentifier;
use serde_json::{Value, json};

use crate::helpers::{TestApp, account, pnr, session, ts};
use crate::on_both;

fn a01(control: &str, number: &str, location: &str) -> Vec<u8> {
    format!(
        "MSH|^~\\&|Cosmic|KS|Samverka|Region|20261102080000||ADT^A01^ADT_A01|{control}|P|2.5|||||SWE|UNICODE UTF-8\r\
         EVN|A01|20261102080000\r\
         PID|1||{number}^^^^PN||Lund^Ingrid||19400101|F|||Solnavägen 1^^Solna^^17164^SWE^H^^0184\r\
         PV1|1|I|{location}^^^KS\rZSV|J\r"
    )
    .into_bytes()
}

fn ack_code(ack: &[u8]) -> String {
    let text = String::from_utf8_lossy(ack);
    text.split('\r').find(|s| s.starts_with("MSA|")).unwrap().split('|').nth(1).unwrap().to_string()
}

async fn case_of(app: &TestApp, number: &str) -> String {
    let id = PatientIdentifier::parse(number, jiff::civil::date(2026, 11, 2), None).unwrap();
    let p = app.store.patient_by_identifier(&id).await.unwrap().expect("registered from the message");
    app.store.cases_for_patient(p.id).await.unwrap()[0].case_id.to_string()
}

on_both!(a_draft_is_the_wards_alone_until_the_needs_are_confirmed, |app: TestApp| async move {
    let w = &app.world;
    let feed = samverka_app::feed::Feed::of(&app.state).unwrap();
    let ack = feed.receive(&a01("D-1", &pnr(40), "AVD21"), Some("127.0.0.1:1")).await;
    assert_eq!(ack_code(&ack), "AA", "{}", String::from_utf8_lossy(&ack));
    let id = case_of(&app, &pnr(40)).await;

    let case = app.get(&w.ward, &format!("/api/cases/{id}")).await;
    assert_eq!(case["phase"], "awaiting_assessment");
    let inbox = reqwest::Client::new()
        .get(format!("{}/", app.base))
        .header("cookie", &w.ward.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(inbox.contains(&format!("/arenden/{id}#utkast")), "the ward's inbox lists the draft: {inbox}");
    let page = reqwest::Client::new()
        .get(format!("{}/arenden/{id}", app.base))
        .header("cookie", &w.ward.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("/bekrafta-behov") && page.contains("Inskriven enligt journalsystemet"), "{page}");
    assert!(!page.contains("value=\"inskrivningsmeddelande\""), "no notice before the needs are confirmed");

    // Nobody else sees it, and another ward cannot confirm it.
    let res = app.call(&w.bistand, Method::GET, &format!("/api/cases/{id}"), None).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let confirm = json!({ "assessed_at": ts("2026-11-02 09:30").to_string() });
    let res = app.call(&w.ward2, Method::POST, &format!("/api/cases/{id}/confirm-needs"), Some(confirm.clone())).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A message cannot be sent from a draft.
    let notice = json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" } });
    app.post(&w.ward, &format!("/api/cases/{id}/messages"), notice.clone(), StatusCode::CONFLICT).await;

    app.at("2026-11-02 10:00");
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/arenden/{id}/bekrafta-behov", app.base))
        .header("cookie", &w.ward.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf_token={}&assessed_at=2026-11-02T09%3A30", w.ward.csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let case = app.get(&w.ward, &format!("/api/cases/{id}")).await;
    assert_eq!(case["phase"], "admitted");
    let deadlines = case["deadlines"].as_array().unwrap();
    let due = deadlines.iter().find(|d| d["deadline"]["kind"] == "admission_notice").expect("the clock runs now");
    let due: jiff::Timestamp = due["deadline"]["due"].as_str().unwrap().parse().unwrap();
    assert_eq!(due, ts("2026-11-03 09:30"), "24 hours from the assessment");
    app.post(&w.ward, &format!("/api/cases/{id}/messages"), notice, StatusCode::CREATED).await;
    // Now the municipality takes part.
    app.get(&w.bistand, &format!("/api/cases/{id}")).await;
});

on_both!(a_refused_message_is_shown_to_the_region_and_replayed_once_fixed, |app: TestApp| async move {
    let w = &app.world;
    let feed = samverka_app::feed::Feed::of(&app.state).unwrap();
    // The ward named by HSA-id does not exist yet.
    let ack = feed.receive(&a01("R-1", &pnr(41), "SE2321009990-AVD40"), None).await;
    assert_eq!(ack_code(&ack), "AE");
    assert!(String::from_utf8_lossy(&ack).contains("SE2321009990-AVD40"));

    let (admin, a) = account(&app.store, w.region, "ada", "Ada Admin", w.units.ward, Role::Administrator).await;
    let admin = session(&app.store, admin, w.units.ward, a).await;
    let (kadmin, a) =
        account(&app.store, w.solna, "kim", "Kim Kommunadmin", w.units.bistand, Role::Administrator).await;
    let kadmin = session(&app.store, kadmin, w.units.bistand, a).await;

    let refused = app.get(&admin, "/api/hl7/messages?status=refused").await;
    let refused = refused.as_array().unwrap();
    assert_eq!(refused.len(), 1);
    let mid = refused[0]["id"].as_str().unwrap().to_string();
    assert_eq!(refused[0]["ack_code"], "AE");
    assert!(refused[0]["outcome_sv"].as_str().unwrap().contains("SE2321009990-AVD40"));
    let before = app.store.access_log_count().await.unwrap();
    let one = app.get(&admin, &format!("/api/hl7/messages/{mid}")).await;
    assert!(one["text"].as_str().unwrap().contains("PV1|1|I|SE2321009990-AVD40"));
    assert!(app.store.access_log_count().await.unwrap() > before, "reading a raw message is logged");
    // A municipality's administrator sees none of it.
    let res = app.call(&kadmin, Method::GET, &format!("/api/hl7/messages/{mid}"), None).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app.call(&kadmin, Method::POST, &format!("/api/hl7/messages/{mid}/replay"), None).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The same on the web pages.
    let web = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let get = |who: &crate::helpers::As, path: String| {
        web.get(format!("{}{path}", app.base)).header("cookie", who.cookie.clone()).send()
    };
    let list = get(&admin, "/admin/hl7?status=refused".into()).await.unwrap().text().await.unwrap();
    assert!(list.contains(&format!("/admin/hl7/{mid}")) && list.contains("Avvisat"), "{list}");
    let detail = get(&admin, format!("/admin/hl7/{mid}")).await.unwrap().text().await.unwrap();
    assert!(detail.contains("PV1|1|I|SE2321009990-AVD40") && detail.contains("/behandla"), "{detail}");
    assert_eq!(get(&kadmin, "/admin/hl7".into()).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(get(&kadmin, format!("/admin/hl7/{mid}")).await.unwrap().status(), StatusCode::FORBIDDEN);

    // Replaying before the cause is fixed refuses again; after, the draft opens.
    let again = app.post(&admin, &format!("/api/hl7/messages/{mid}/replay"), Value::Null, StatusCode::OK).await;
    assert_eq!((again["status"].as_str(), again["attempts"].as_i64()), (Some("refused"), Some(2)));
    let unit = json!({ "name": "Norrviks sjukhus, Ortopedi avd 40", "kind": "ward", "hsa_id": "SE2321009990-AVD40" });
    app.post(&admin, "/api/admin/units", unit, StatusCode::CREATED).await;
    let res = web
        .post(format!("{}/admin/hl7/{mid}/behandla", app.base))
        .header("cookie", &admin.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf_token={}", admin.csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let done = app.get(&admin, &format!("/api/hl7/messages/{mid}")).await;
    assert_eq!(done["status"], "applied", "{done}");
    let id = case_of(&app, &pnr(41)).await;
    assert_eq!(done["case_id"], id.as_str());
    let case = app.store.case(id.parse().unwrap()).await.unwrap().unwrap().case;
    assert_eq!(case.phase(), Phase::AwaitingAssessment);
    assert_eq!(case.ward().hsa_id.as_str(), "SE2321009990-AVD40");
    // The sender's retry of the same message is a duplicate now: acknowledged, nothing new.
    let ack = feed.receive(&a01("R-1", &pnr(41), "SE2321009990-AVD40"), None).await;
    assert_eq!(ack_code(&ack), "AA");
    let p = app.store.case(id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(app.store.cases_for_patient(p.case.patient_id).await.unwrap().len(), 1);
});

/// The ERR segment's code (ERR-3), if any.
fn err_code(ack: &[u8]) -> String {
    let text = String::from_utf8_lossy(ack);
    let err = text.split('\r').find(|s| s.starts_with("ERR|")).unwrap_or("");
    err.split('|').nth(3).unwrap_or("").split('^').next().unwrap_or("").to_string()
}

on_both!(the_feed_says_the_first_reason_and_keeps_a_refusal_once, |app: TestApp| async move {
    let feed = samverka_app::feed::Feed::of(&app.state).unwrap();
    let ack = feed.receive(&a01("S-1", &pnr(40), "AVD21"), None).await;
    assert_eq!(ack_code(&ack), "AA", "{}", String::from_utf8_lossy(&ack));
    // A lab result reusing the admission's control id: its type is the reason, not the id.
    let oru = "MSH|^~\\&|Cosmic|KS|Samverka|Region|20261102081000||ORU^R01^ORU_R01|S-1|P|2.5\rPID|1||x\r".as_bytes();
    let ack = feed.receive(oru, None).await;
    assert_eq!(
        (ack_code(&ack), err_code(&ack)),
        ("AR".to_string(), "200".to_string()),
        "{}",
        String::from_utf8_lossy(&ack)
    );
    let after_first = app.store.hl7_messages(None, 1000).await.unwrap().len();
    // Sent again byte for byte: the same answer, not stored again; the same for the unreadable.
    let again = feed.receive(oru, None).await;
    assert_eq!((ack_code(&again), err_code(&again)), ("AR".to_string(), "200".to_string()));
    assert_eq!(app.store.hl7_messages(None, 1000).await.unwrap().len(), after_first);
    let garbage = b"this is not HL7".as_slice();
    feed.receive(garbage, None).await;
    let with_garbage = app.store.hl7_messages(None, 1000).await.unwrap().len();
    feed.receive(garbage, None).await;
    assert_eq!(
        app.store.hl7_messages(None, 1000).await.unwrap().len(),
        with_garbage,
        "an unreadable message is kept once"
    );
    // Another ADT with the same id and other content is still refused for the id.
    let other = a01("S-1", &pnr(13), "AVD21");
    let ack = feed.receive(&other, None).await;
    assert_eq!(err_code(&ack), "205");
    let n = app.store.hl7_messages(None, 1000).await.unwrap().len();
    feed.receive(&other, None).await;
    assert_eq!(app.store.hl7_messages(None, 1000).await.unwrap().len(), n, "and kept once too");
});

on_both!(a_message_time_may_be_a_date_alone, |app: TestApp| async move {
    let feed = samverka_app::feed::Feed::of(&app.state).unwrap();
    let number = pnr(14);
    let msg = format!(
        "MSH|^~\\&|Cosmic|KS|Samverka|Region|20261102||ADT^A01^ADT_A01|DAY-1|P|2.5|||||SWE|UNICODE UTF-8\r\
         EVN|A01\r\
         PID|1||{number}^^^^PN||Lund^Ingrid||19400101|F|||Solnavägen 1^^Solna^^17164^SWE^H^^0184\r\
         PV1|1|I|AVD21^^^KS\rZSV|J\r"
    );
    let ack = feed.receive(msg.as_bytes(), None).await;
    assert_eq!(ack_code(&ack), "AA", "{}", String::from_utf8_lossy(&ack));
    let id = case_of(&app, &number).await;
    let case = app.store.case(id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(case.case.admitted_at, ts("2026-11-02 00:00"), "the start of that day");
});

on_both!(the_public_samples_sent_twice_are_answered_alike_and_kept_once, |app: TestApp| async move {
    let feed = samverka_app::feed::Feed::of(&app.state).unwrap();
    let dir = samverka_testkit::testdata_dir().join("hl7v2");
    let mut samples: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    samples.sort();
    let mut first = vec![];
    for path in &samples {
        let ack = feed.receive(&std::fs::read(path).unwrap(), None).await;
        first.push((ack_code(&ack), err_code(&ack)));
    }
    let stored = app.store.hl7_messages(None, 1000).await.unwrap().len();
    assert_eq!(stored, samples.len(), "each kept once");
    for (path, answer) in samples.iter().zip(&first) {
        let ack = feed.receive(&std::fs::read(path).unwrap(), None).await;
        assert_eq!(&(ack_code(&ack), err_code(&ack)), answer, "{}: answered alike", path.display());
        // The American samples carry no Swedish number (AE, PID-3); A40 is not an event taken
        // (AR 201); some samples reuse another's control id with other content (AR 205).
        assert!(
            answer.0 == "AE" || matches!((answer.0.as_str(), answer.1.as_str()), ("AR", "201" | "205")),
            "{}: {answer:?}",
            path.display()
        );
    }
    assert_eq!(app.store.hl7_messages(None, 1000).await.unwrap().len(), stored, "not stored again");
});
