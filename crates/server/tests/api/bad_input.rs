//! Bad input gets a 4xx problem+json that says what to fix; never a 500, and nothing stored.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, pnr};
use crate::on_both;

/// Checks the shape every problem shares, and returns it.
async fn problem(res: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["type"], format!("urn:samverka:problem:{code}"));
    assert!(body["detail"].as_str().unwrap().len() > 10, "a Swedish sentence: {body}");
    assert!(body["detail_en"].is_string());
    body
}

on_both!(invalid_personnummer_says_what_is_wrong, |app: TestApp| async move {
    let w = &app.world;
    let good = pnr(3);
    let bad_check = format!("{}{}", &good[..11], (good.as_bytes()[11] - b'0' + 1) % 10);
    let body = |id: &str| json!({ "identifier": id, "given_name": "Åsa", "family_name": "Öberg", "kommun": "0184" });
    let res = app.call(&w.ward, Method::POST, "/api/patients", Some(body(&bad_check))).await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_identifier").await;
    assert_eq!(p["field"], "identifier");
    assert!(p["detail"].as_str().unwrap().contains("Kontrollsiffran"), "{p}");
    // A date that does not exist.
    let res = app.call(&w.ward, Method::POST, "/api/patients", Some(body("19380230-9822"))).await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_identifier").await;
    assert!(p["detail"].as_str().unwrap().contains("inget verkligt datum"), "{p}");
    // A wrong kommunkod names its field.
    let mut b = body(&good);
    b["kommun"] = json!("9999");
    let p = problem(
        app.call(&w.ward, Method::POST, "/api/patients", Some(b)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_identifier",
    )
    .await;
    assert_eq!(p["field"], "kommun");
    // Nothing was stored.
    let found = app.get(&w.ward, &format!("/api/patients?identifier={good}")).await;
    assert_eq!(found["patients"], json!([]));
});

on_both!(unknown_unit_and_steps_out_of_order_are_refused, |app: TestApp| async move {
    let w = &app.world;
    let (id, _) = app.case(&pnr(4), "2026-11-02 07:30").await;
    let path = format!("/api/cases/{id}/messages");
    // The ready notice before the admission notice: a step out of order.
    let res = app.call(&w.ward, Method::POST, &path, Some(json!({ "body": { "kind": "utskrivningsklar" } }))).await;
    let p = problem(res, StatusCode::CONFLICT, "step_out_of_order").await;
    assert!(p["detail"].as_str().unwrap().contains("inskrivningsmeddelandet först"), "{p}");
    // A recipient that does not exist.
    let ghost = uuid::Uuid::now_v7();
    let body = json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" }, "recipients": [ghost] });
    let p = problem(
        app.call(&w.ward, Method::POST, &path, Some(body)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_unit",
    )
    .await;
    assert_eq!(p["field"], "recipients[0]");
    // A SIP before any call.
    let res = app.call(&w.vc, Method::POST, &format!("/api/cases/{id}/sip"), Some(json!({}))).await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    // Only the history's first event exists.
    assert_eq!(app.get(&w.ward, &format!("/api/cases/{id}/events")).await.as_array().unwrap().len(), 1);
});

on_both!(malformed_and_oversized_bodies, |app: TestApp| async move {
    let w = &app.world;
    let send = |body: String, content_type: &'static str| {
        app.client
            .post(format!("{}/api/patients", app.base))
            .header("cookie", &w.ward.cookie)
            .header("x-csrf-token", &w.ward.csrf)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let p = problem(
        send("{\"identifier\": ".into(), "application/json").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("JSON"));
    let p = problem(
        send("{\"identifier\": 12}".into(), "application/json").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("identifier"), "{p}");
    problem(
        send("identifier=1".into(), "text/plain").await.unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "json_required",
    )
    .await;
    let huge = format!("{{\"identifier\": \"{}\"}}", "1".repeat(300 * 1024));
    problem(send(huge, "application/json").await.unwrap(), StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    // Dates so far ahead that they could only be a typo, and invisible control characters.
    let (far, _) = app.case(&pnr(7), "2026-11-02 07:30").await;
    let res = app
        .call(
            &w.ward,
            Method::POST,
            &format!("/api/cases/{far}/messages"),
            Some(json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "9999-12-31" } })),
        )
        .await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY, "date_too_far_ahead").await;
    assert_eq!(p["field"], "estimated_discharge");
    // Free messages need someone in the case to go to: the municipality and vårdcentral, once
    // the admission notice has reached them.
    let notice = |id: String| {
        let app = &app;
        async move {
            let body = json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" } });
            app.post(&app.world.ward, &format!("/api/cases/{id}/messages"), body, StatusCode::CREATED).await;
        }
    };
    notice(far.clone()).await;
    let res = app
        .call(
            &w.ward,
            Method::POST,
            &format!("/api/cases/{far}/messages"),
            Some(json!({ "body": { "kind": "allmant", "text": "Hej\u{0}då" } })),
        )
        .await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_characters").await;
    let p = app.patient(&pnr(8)).await;
    let res = app
        .call(&w.ward, Method::POST, "/api/cases", Some(json!({ "patient_id": p["id"], "admitted_at": "2026-11-02T06:00:00Z", "needs_assessed_at": "2099-12-31T00:00:00Z" })))
        .await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY, "date_in_future").await;
    // A text longer than any field allows is refused by the domain, naming the field.
    let (id, _) = app.case(&pnr(5), "2026-11-02 07:30").await;
    notice(id.clone()).await;
    let long = json!({ "body": { "kind": "allmant", "text": "x".repeat(10_001) } });
    let p = problem(
        app.call(&w.ward, Method::POST, &format!("/api/cases/{id}/messages"), Some(long)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "text_too_long",
    )
    .await;
    assert_eq!(p["field"], "text");
});

on_both!(addresses_ids_and_login, |app: TestApp| async move {
    let w = &app.world;
    problem(
        app.call(&w.ward, Method::GET, "/api/cases/not-a-uuid", None).await,
        StatusCode::BAD_REQUEST,
        "invalid_path",
    )
    .await;
    problem(app.call(&w.ward, Method::GET, "/api/nowhere", None).await, StatusCode::NOT_FOUND, "no_such_address").await;
    problem(
        app.call(&w.ward, Method::DELETE, "/api/cases", None).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    let missing = app.call(&w.ward, Method::GET, &format!("/api/cases/{}", uuid::Uuid::now_v7()), None).await;
    problem(missing, StatusCode::NOT_FOUND, "not_found").await;
    problem(
        app.client.get(format!("{}/api/cases", app.base)).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "login_required",
    )
    .await;
    let p = problem(
        app.call(&w.chef_solna, Method::GET, "/api/liability?kommun=0184&month=november", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_month",
    )
    .await;
    assert_eq!(p["field"], "month");
    problem(
        app.call(&w.ward, Method::GET, "/api/cases?include_closed=perhaps", None).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
});

on_both!(a_unit_outside_the_case_is_refused, |app: TestApp| async move {
    let w = &app.world;
    let (id, _) = app.case(&pnr(6), "2026-11-02 07:30").await;
    app.at("2026-11-02 09:00");
    app.post(
        &w.ward,
        &format!("/api/cases/{id}/messages"),
        json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" } }),
        StatusCode::CREATED,
    )
    .await;
    // The Nacka vårdcentral and Nacka's needs assessors take no part in a Solna patient's care.
    for outsider in [&w.other_vc, &w.other_kommun] {
        let p = problem(
            app.call(outsider, Method::GET, &format!("/api/cases/{id}"), None).await,
            StatusCode::FORBIDDEN,
            "not_a_party",
        )
        .await;
        assert!(p["detail"].as_str().unwrap().contains("deltar inte"));
        problem(
            app.call(outsider, Method::GET, &format!("/api/cases/{id}/events"), None).await,
            StatusCode::FORBIDDEN,
            "not_a_party",
        )
        .await;
        let res = app
            .call(
                outsider,
                Method::POST,
                &format!("/api/cases/{id}/messages"),
                Some(json!({ "body": { "kind": "allmant", "text": "Hej" } })),
            )
            .await;
        problem(res, StatusCode::FORBIDDEN, "not_a_party").await;
        assert!(app.get(outsider, "/api/cases").await.as_array().unwrap().is_empty());
    }
    // Forwarding inside the municipality brings its HSL unit in.
    let case = app.get(&w.bistand, &format!("/api/cases/{id}")).await;
    let notice = case["state"]["messages"][0]["message"]["id"].as_str().unwrap();
    app.post(
        &w.bistand,
        &format!("/api/cases/{id}/messages/{notice}/forward"),
        json!({ "to_unit": w.bistand_hsl.unit }),
        StatusCode::OK,
    )
    .await;
    app.get(&w.bistand_hsl, &format!("/api/cases/{id}")).await;
});

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let app = crate::helpers::spawn_app(crate::helpers::Db::Sqlite).await;
    let doc: Value =
        app.client.get(format!("{}/api/openapi.json", app.base)).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/cases",
        "/api/cases/{id}",
        "/api/cases/{id}/messages",
        "/api/cases/{id}/sip",
        "/api/liability",
        "/api/inbox",
        "/api/directives",
        "/api/forums",
        "/api/forums/{id}/meetings",
        "/api/meetings/{id}/minutes",
        "/api/meetings/{id}/agenda/{item}",
        "/api/action-items/{id}/status",
        "/api/units/{id}/escalation-rule",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    for schema in [
        "CaseView",
        "MessageBody",
        "ProblemDetails",
        "SipPlan",
        "LiabilityBasis",
        "ForumDetail",
        "MeetingDetail",
        "ForumSpec",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema} missing");
    }
}

on_both!(a_known_number_is_linked_at_admission_and_never_shown_to_a_registration, |app: TestApp| async move {
    let w = &app.world;
    let first = app.patient(&pnr(8)).await;
    // Another ward registering the same number learns nothing about who it is.
    let body = json!({
        "identifier": pnr(8), "given_name": "Någon", "family_name": "Annan", "kommun": "0184",
    });
    let res = app.call(&w.ward2, Method::POST, "/api/patients", Some(body.clone())).await;
    let p = problem(res, StatusCode::CONFLICT, "patient_exists").await;
    let text = p.to_string();
    assert!(!text.contains("Öberg") && !text.contains(first["id"].as_str().unwrap()), "nothing of the patient: {text}");
    // A retry of the first registration, with the id the ward chose, is answered as done.
    let again = json!({
        "id": first["id"], "identifier": pnr(8), "given_name": "Åsa", "family_name": "Öberg", "kommun": "0184",
    });
    let same = app.post(&w.ward, "/api/patients", again, StatusCode::OK).await;
    assert_eq!(same["id"], first["id"]);
    // Only a ward registers patients.
    let res = app.call(&w.bistand, Method::POST, "/api/patients", Some(body.clone())).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The admission itself links the ward to the patient Samverka already knows...
    let case = app
        .post(
            &w.ward2,
            "/api/cases",
            json!({ "patient": body, "admitted_at": crate::helpers::ts("2026-11-02 07:00").to_string() }),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(case["patient"]["id"], first["id"], "the same patient, not a duplicate");
    // ...and registers one it does not know.
    let new = json!({ "identifier": pnr(9), "given_name": "Bo", "family_name": "Ny", "kommun": "0184" });
    let case = app
        .post(
            &w.ward2,
            "/api/cases",
            json!({ "patient": new, "admitted_at": crate::helpers::ts("2026-11-02 08:00").to_string() }),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(case["patient"]["family_name"], "Ny");
    // Neither or both is a mistake the ward can fix.
    let res = app
        .call(
            &w.ward2,
            Method::POST,
            "/api/cases",
            Some(json!({ "admitted_at": crate::helpers::ts("2026-11-02 08:00").to_string() })),
        )
        .await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY, "patient_required").await;
});
