//! Protected identity, emergency access and log review, and the headers every answer carries.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, pnr, ts};
use crate::on_both;

const STREET: &str = "Hemliga vägen 7";

/// A patient with skyddad folkbokföring, admitted to the ward and notified.
async fn protected_case(app: &TestApp) -> (String, String) {
    let w = &app.world;
    let body = json!({
        "identifier": pnr(4), "given_name": "Ylva", "family_name": "Yttersta", "kommun": "0184",
        "listed_unit": w.units.vc, "protection": "skyddad_folkbokforing",
        "address": { "street": STREET, "postal_code": "17164", "city": "Solna" }
    });
    let p = app.post(&w.ward, "/api/patients", body, StatusCode::CREATED).await;
    assert_eq!(p["protected"], true);
    assert!(p["address"].is_null(), "the address is never shown, not even to the ward that registered it");
    let c = app
        .post(
            &w.ward,
            "/api/cases",
            json!({ "patient_id": p["id"], "admitted_at": ts("2026-11-02 07:00").to_string() }),
            StatusCode::CREATED,
        )
        .await;
    let id = c["id"].as_str().unwrap().to_string();
    app.post(
        &w.ward,
        &format!("/api/cases/{id}/messages"),
        json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" } }),
        StatusCode::CREATED,
    )
    .await;
    (id, p["id"].as_str().unwrap().to_string())
}

/// Every answer as text, to look for the address in.
async fn text(
    app: &TestApp,
    who: &crate::helpers::As,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, String) {
    let res = app.call(who, method, path, body).await;
    (res.status(), res.text().await.unwrap())
}

on_both!(a_protected_address_never_leaves_samverka, |app: TestApp| async move {
    let w = &app.world;
    app.at("2026-11-02 08:00");
    let (case, patient) = protected_case(&app).await;
    // Samverka has the address; it only never gives it out.
    let stored = app.store.patient(patient.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.address.map(|a| a.street).as_deref(), Some(STREET));
    let mut seen = vec![];
    for who in [&w.ward, &w.bistand, &w.vc] {
        for path in [
            format!("/api/cases/{case}"),
            format!("/api/cases/{case}/events"),
            format!("/api/cases/{case}/liability"),
            format!("/api/patients/{patient}"),
            format!("/api/patients?identifier={}", pnr(4)),
            "/api/inbox".to_string(),
            "/api/cases".to_string(),
        ] {
            seen.push(text(&app, who, Method::GET, &path, None).await);
        }
    }
    // Error messages, the invoice basis and the log extract too.
    seen.push(
        text(
            &app,
            &w.ward,
            Method::POST,
            &format!("/api/cases/{case}/messages"),
            Some(json!({ "body": { "kind": "utskrivningsklar" }, "x": 1 })),
        )
        .await,
    );
    seen.push(
        text(
            &app,
            &w.ward,
            Method::POST,
            "/api/patients",
            Some(json!({ "identifier": pnr(4), "given_name": "A", "family_name": "B", "kommun": "0184" })),
        )
        .await,
    );
    seen.push(text(&app, &w.chef_solna, Method::GET, "/api/liability?kommun=0184&month=2026-11", None).await);
    seen.push(
        text(&app, &w.chef_solna, Method::GET, &format!("/api/access-log/extract?patient={}", pnr(4)), None).await,
    );
    // Each answer is the one asked for, so an error page cannot pass for an address left out:
    // 21 reads, an unknown field, a number already registered, the basis and the extract.
    let mut expected = vec![StatusCode::OK; 21];
    expected.extend([StatusCode::UNPROCESSABLE_ENTITY, StatusCode::CONFLICT, StatusCode::OK, StatusCode::OK]);
    let statuses: Vec<StatusCode> = seen.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, expected, "{seen:?}");
    let code = |i: usize| serde_json::from_str::<Value>(&seen[i].1).unwrap()["code"].clone();
    assert_eq!((code(21), code(22)), (json!("invalid_body"), json!("patient_exists")));
    for (status, body) in &seen {
        assert!(!body.contains(STREET) && !body.contains("Hemliga"), "{status}: {body}");
    }
    let case_view: Value = serde_json::from_str(&seen[0].1).unwrap();
    assert_eq!(case_view["patient"]["protected"], true, "every view carries the marking");
    assert_eq!(case_view["patient"]["protection"], "skyddad_folkbokforing");
    let inbox: Value = serde_json::from_str(&seen[19].1).unwrap();
    assert_eq!(inbox["messages"][0]["protection"], "skyddad_folkbokforing");

    // Outside the care the patient does not exist, by search or by id.
    let (_, found) = text(&app, &w.other_vc, Method::GET, &format!("/api/patients?identifier={}", pnr(4)), None).await;
    let found: Value = serde_json::from_str(&found).unwrap();
    assert_eq!(found["patients"], json!([]));
    assert!(!found.to_string().contains("Ylva"));
    let (status, _) = text(&app, &w.other_vc, Method::GET, &format!("/api/patients/{patient}"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Both attempts are in the log, refused and flagged as a protected identity.
    let filter = samverka_store::AccessFilter { user_id: Some(w.other_vc.user), limit: 50, ..Default::default() };
    let attempts = app.store.access_log(&filter).await.unwrap();
    for action in ["patient.search", "patient.read"] {
        let e = attempts.iter().find(|e| e.action == action).unwrap_or_else(|| panic!("no {action}: {attempts:?}"));
        assert_eq!(
            (e.outcome, e.protected_identity, e.patient_id.map(|p| p.to_string())),
            (samverka_store::Outcome::Denied, true, Some(patient.clone())),
            "{action}"
        );
    }
    // The municipality's review of protected identities shows its own staff's reads of her.
    let review = app.get(&w.chef_solna, "/api/access-log?protected=true").await;
    let entries = review["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["user_id"] == w.bistand.user.to_string() && e["action"] == "case.read"));
    assert!(entries.iter().all(|e| e["protected_identity"] == true));
});

on_both!(emergency_access_needs_a_reason_is_flagged_and_reviewed, |app: TestApp| async move {
    let w = &app.world;
    app.at("2026-11-02 08:00");
    let (id, _) = app.case(&pnr(5), "2026-11-02 07:00").await;
    app.post(
        &w.ward,
        &format!("/api/cases/{id}/messages"),
        json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" } }),
        StatusCode::CREATED,
    )
    .await;
    let outsider = &w.other_vc;
    let denied = app.call(outsider, Method::GET, &format!("/api/cases/{id}"), None).await;
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    assert!(denied.json::<Value>().await.unwrap()["detail"].as_str().unwrap().contains("nödåtkomst"));
    let short = app
        .call(outsider, Method::POST, &format!("/api/cases/{id}/emergency-access"), Some(json!({ "reason": "akut" })))
        .await;
    assert_eq!(short.json::<Value>().await.unwrap()["code"], "reason_too_short");
    let reason = "Patienten sökte akut på vårdcentralen med andnöd";
    app.post(outsider, &format!("/api/cases/{id}/emergency-access"), json!({ "reason": reason }), StatusCode::OK).await;
    app.get(outsider, &format!("/api/cases/{id}")).await;
    // Reading, yes; writing, no.
    let write = app
        .call(
            outsider,
            Method::POST,
            &format!("/api/cases/{id}/messages"),
            Some(json!({ "body": { "kind": "allmant", "text": "Hej" } })),
        )
        .await;
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    // The grant runs out.
    app.clock.advance(jiff::SignedDuration::from_hours(3));
    assert_eq!(
        app.call(outsider, Method::GET, &format!("/api/cases/{id}"), None).await.status(),
        StatusCode::FORBIDDEN
    );

    // The region's log review shows the emergency accesses with their reason.
    let (chief, assignment) = crate::helpers::account(
        &app.store,
        w.region,
        "ella",
        "Ella Enhetschef",
        w.units.other_vc,
        samverka_domain::access::Role::Enhetschef,
    )
    .await;
    let chief = crate::helpers::session(&app.store, chief, w.units.other_vc, assignment).await;
    let review = app.get(&chief, "/api/access-log?emergency=true").await;
    let entries = review["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "the grant and the read under it: {review}");
    assert!(
        entries
            .iter()
            .all(|e| e["reason"] == reason && e["emergency"] == true && e["unit_id"] == w.units.other_vc.to_string())
    );
    // By user, by unit, by period, by patient.
    let by_user = app.get(&chief, &format!("/api/access-log?user={}", outsider.user)).await;
    assert!(by_user["entries"].as_array().unwrap().len() >= 4);
    assert!(
        app.get(&chief, "/api/access-log?from=2026-11-03&to=2026-11-04").await["entries"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let by_patient = app.get(&chief, &format!("/api/access-log?patient={}", pnr(5))).await;
    assert!(by_patient["entries"].as_array().unwrap().iter().any(|e| e["outcome"] == "denied"));
    // The municipality's reviewer sees only the municipality's own staff.
    let solna = app.get(&w.chef_solna, &format!("/api/access-log?user={}", outsider.user)).await;
    assert!(solna["entries"].as_array().unwrap().is_empty());

    // The patient's extract: who in the region accessed the data, in words.
    let extract = app.get(&chief, &format!("/api/access-log/extract?patient={}", pnr(5))).await;
    let lines = extract["lines"].as_array().unwrap();
    assert!(lines.iter().any(|l| l["what"] == "öppnade ärendet med nödåtkomst" && l["emergency"] == true));
    assert!(
        lines
            .iter()
            .any(|l| l["what"] == "registrerade inskrivning" && l["unit"] == "Norrviks sjukhus, Geriatrik avd 21")
    );
    // Reviewing is itself an access.
    let own = app.get(&chief, &format!("/api/access-log?user={}", chief.user)).await;
    assert!(own["entries"].as_array().unwrap().iter().any(|e| e["action"] == "log.extract"));

    // Nacka, which never took part, cannot use the extract to learn that the patient exists:
    // the answer is word for word the one for a number nobody has registered.
    let (nacka_chief, assignment) = crate::helpers::account(
        &app.store,
        w.nacka,
        "nacka-chef",
        "Nils Nackachef",
        w.units.nacka_bistand,
        samverka_domain::access::Role::Enhetschef,
    )
    .await;
    let nacka_chief = crate::helpers::session(&app.store, nacka_chief, w.units.nacka_bistand, assignment).await;
    let (known, known_text) =
        text(&app, &nacka_chief, Method::GET, &format!("/api/access-log/extract?patient={}", pnr(5)), None).await;
    let (unknown, unknown_text) =
        text(&app, &nacka_chief, Method::GET, &format!("/api/access-log/extract?patient={}", pnr(15)), None).await;
    assert_eq!((known, unknown), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(known_text, unknown_text);
    assert!(!known_text.contains("Öberg"));
    // Both attempts are in Nacka's own log.
    let tries = app.get(&nacka_chief, &format!("/api/access-log?user={}", nacka_chief.user)).await;
    let refused = tries["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "log.extract").count();
    assert!(refused >= 2, "{tries}");
});

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_no_internals() {
    let app = crate::helpers::spawn_app(crate::helpers::Db::Sqlite).await;
    for path in ["/", "/api/health", "/api/cases", "/api/nowhere", "/api/cases/not-a-uuid"] {
        let res = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        let h = res.headers().clone();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline")
                && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert_eq!(h["x-frame-options"], "DENY");
        assert!(!h.contains_key("strict-transport-security"), "no HSTS over plain HTTP");
        let body = res.text().await.unwrap();
        for leak in ["panicked", "sqlx", "SELECT", "stack backtrace", "src/"] {
            assert!(!body.contains(leak), "{path} leaks {leak}: {body}");
        }
    }
    let app = crate::helpers::spawn_app_with(
        crate::helpers::Db::Sqlite,
        samverka_app::AppConfig { hsts: true, ..crate::helpers::long_sessions() },
    )
    .await;
    let res = app.client.get(format!("{}/api/health", app.base)).send().await.unwrap();
    assert!(res.headers()["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
}
