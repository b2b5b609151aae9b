//! The FHIR API as another system meets it: a client registered by an administrator, a token
//! from the token endpoint, need-to-know and scopes enforced, OperationOutcome for every
//! error, paging, protected identity labelled; and every resource emitted is checked by an
//! independent FHIR implementation (`fhir.resources`, PyPI) and round-tripped through it.

use reqwest::StatusCode;
use samverka_domain::access::Role;
use serde_json::{Value, json};

use crate::helpers::{As, TestApp, account, pnr, session, ts};
use crate::on_both;

pub(crate) struct Client {
    pub id: String,
    pub secret: String,
}

pub(crate) async fn register(app: &TestApp, admin: &As, unit: uuid::Uuid, role: &str, scopes: &[&str]) -> Client {
    let body = json!({ "name": format!("Verksamhetssystem ({role})"), "unit": unit, "role": role, "scopes": scopes });
    let v = app.post(admin, "/api/admin/clients", body, StatusCode::CREATED).await;
    Client { id: v["client_id"].as_str().unwrap().into(), secret: v["client_secret"].as_str().unwrap().into() }
}

pub(crate) async fn token(app: &TestApp, c: &Client, scope: Option<&str>) -> reqwest::Response {
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    app.client
        .post(format!("{}/fhir/auth/token", app.base))
        .basic_auth(&c.id, Some(&c.secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&form).unwrap())
        .send()
        .await
        .unwrap()
}

pub(crate) async fn bearer(app: &TestApp, c: &Client) -> String {
    let res = token(app, c, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
}

/// A bearer token of a system at the vårdcentral that reads everything it may
/// (`system/*.read`), registered by the region's administrator.
pub(crate) async fn vc_reader(app: &TestApp) -> String {
    let w = &app.world;
    let (admin, a) = crate::helpers::account(
        &app.store,
        w.region,
        "ada",
        "Ada Admin",
        w.units.vc,
        samverka_domain::access::Role::Administrator,
    )
    .await;
    let admin = crate::helpers::session(&app.store, admin, w.units.vc, a).await;
    let system = register(app, &admin, w.units.vc, "sjukskoterska", &["system/*.read"]).await;
    bearer(app, &system).await
}

/// GETs a FHIR path; returns status and body, checking the content type and that every error
/// is an OperationOutcome.
pub(crate) async fn fhir(app: &TestApp, token: Option<&str>, path: &str) -> (StatusCode, Value) {
    // Links in Bundles are absolute; tests name paths.
    let url = if path.starts_with("http") { path.to_string() } else { format!("{}{path}", app.base) };
    let mut req = app.client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/fhir+json"), "{path}: {ct}");
    let body: Value = res.json().await.unwrap();
    if !status.is_success() {
        assert_eq!(body["resourceType"], "OperationOutcome", "{path}: {body}");
        assert!(body["issue"][0]["details"]["text"].as_str().unwrap().len() > 10, "a reason in Swedish: {body}");
    }
    (status, body)
}

/// Runs the independent validator over resources; panics with its report.
pub(crate) fn validate(resources: &[Value]) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = vec![];
    for (i, r) in resources.iter().enumerate() {
        let path = dir.path().join(format!("{i}-{}.json", r["resourceType"].as_str().unwrap()));
        std::fs::write(&path, r.to_string()).unwrap();
        files.push(path);
    }
    let out = std::process::Command::new(samverka_testkit::python())
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fhir_validate.py"))
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "fhir.resources refused Samverka's resources:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn entries(bundle: &Value) -> Vec<Value> {
    // A Bundle without matches has no `entry` (FHIR's JSON has no empty arrays).
    bundle["entry"].as_array().map(|a| a.iter().map(|e| e["resource"].clone()).collect()).unwrap_or_default()
}

/// The actions an EpisodeOfCare offers its reader: (action, kind or reference).
fn available_actions(episode: &Value) -> Vec<(String, String)> {
    let empty = vec![];
    episode["extension"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .filter(|x| x["url"] == "urn:samverka:StructureDefinition:available-action")
        .map(|x| {
            let parts = x["extension"].as_array().unwrap();
            let get = |u: &str| parts.iter().find(|p| p["url"] == u);
            let action = get("action").unwrap()["valueCode"].as_str().unwrap().to_string();
            let detail = get("kind")
                .and_then(|k| k["valueCode"].as_str())
                .or_else(|| get("message_id").and_then(|m| m["valueReference"]["reference"].as_str()))
                .unwrap_or("")
                .to_string();
            (action, detail)
        })
        .collect()
}

/// A case that has been through notice, consents, SIP call and SIP.
pub(crate) async fn busy_case(app: &TestApp, n: u16) -> (String, String) {
    let w = &app.world;
    let (case, c) = app.case(&pnr(n), "2026-11-02 07:00").await;
    let patient = c["patient"]["id"].as_str().unwrap().to_string();
    let p = |x: &str| format!("/api/cases/{case}{x}");
    let notice = json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" } });
    app.post(&w.ward, &p("/messages"), notice, StatusCode::CREATED).await;
    for kind in ["sip_call", "sip", "information_sharing"] {
        let consent =
            json!({ "kind": kind, "given_by": { "kind": "patient" }, "given_at": ts("2026-11-02 07:30").to_string() });
        app.post(&w.vc, &p("/consents"), consent, StatusCode::CREATED).await;
    }
    let call = json!({ "body": { "kind": "kallelse_sip", "meeting_at": ts("2026-11-05 13:00").to_string(), "place": "Hemma", "patient_invited": true, "relatives_invited": false } });
    app.post(&w.vc, &p("/messages"), call, StatusCode::CREATED).await;
    let plan = json!({
        "needs": ["Stöd med hygien"],
        "insatser": [{ "principal": "kommun", "description": "Hemtjänst morgon och kväll" }],
        "overall_responsible": "kommun",
        "own_goals": "Klara mig hemma och gå till affären själv.",
        "participants": [{ "name": "Patienten", "role": "patient" }],
        "coordinator": { "name": "Disa Distriktssköterska", "unit": w.units.vc },
        "follow_up_date": "2026-12-01",
        "follow_up_how": "Möte hemma",
    });
    app.post(&w.vc, &p("/sip"), plan, StatusCode::CREATED).await;
    (case, patient)
}

on_both!(a_system_reads_its_units_cases_as_fhir, |app: TestApp| async move {
    let w = &app.world;
    let (case, patient) = busy_case(&app, 60).await;
    // A screening at the SIP meeting: read below as an Observation.
    let screening = json!({ "frailty": 6, "coordination": { "both_principals": true, "carer_strain": true }, "note": "Vid SIP-mötet" });
    app.post(&w.vc, &format!("/api/cases/{case}/screenings"), screening, StatusCode::CREATED).await;
    let (admin, a) = account(&app.store, w.region, "ada", "Ada Admin", w.units.ward, Role::Administrator).await;
    let admin = session(&app.store, admin, w.units.ward, a).await;
    let (kadmin, a) = account(&app.store, w.solna, "kim", "Kim Kommun", w.units.bistand, Role::Administrator).await;
    let kadmin = session(&app.store, kadmin, w.units.bistand, a).await;
    let (nadmin, a) =
        account(&app.store, w.nacka, "nadja", "Nadja Nacka", w.units.nacka_bistand, Role::Administrator).await;
    let nadmin = session(&app.store, nadmin, w.units.nacka_bistand, a).await;

    // Registering: own units only, known scopes only, never the administrator's role.
    let bad = json!({ "name": "X", "unit": w.units.bistand, "role": "vardsamordnare", "scopes": ["system/*.read"] });
    app.post(&admin, "/api/admin/clients", bad, StatusCode::FORBIDDEN).await;
    let bad =
        json!({ "name": "X", "unit": w.units.ward, "role": "vardsamordnare", "scopes": ["system/Everything.read"] });
    app.post(&admin, "/api/admin/clients", bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    let bad = json!({ "name": "X", "unit": w.units.ward, "role": "administrator", "scopes": ["system/*.read"] });
    app.post(&admin, "/api/admin/clients", bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    let ward_sys = register(&app, &admin, w.units.ward, "vardsamordnare", &["system/*.read"]).await;
    let kommun_sys =
        register(&app, &kadmin, w.units.bistand, "bistandshandlaggare", &["system/*.read", "system/Patient.read"])
            .await;
    let nacka_sys = register(&app, &nadmin, w.units.nacka_bistand, "bistandshandlaggare", &["system/*.read"]).await;
    let narrow = register(&app, &kadmin, w.units.bistand, "bistandshandlaggare", &["system/Patient.read"]).await;

    // The token endpoint: wrong secret, unknown scope, unsupported grant.
    let wrong = Client { id: ward_sys.id.clone(), secret: "0".repeat(64) };
    let res = token(&app, &wrong, None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_client");
    let res = token(&app, &narrow, Some("system/Communication.read")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_scope");
    let res = app
        .client
        .post(format!("{}/fhir/auth/token", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=password")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    let ward = bearer(&app, &ward_sys).await;
    let kommun = bearer(&app, &kommun_sys).await;
    let nacka = bearer(&app, &nacka_sys).await;
    let narrow = bearer(&app, &narrow).await;

    let mut emitted: Vec<Value> = vec![];
    let (s, meta) = fhir(&app, None, "/fhir/metadata").await;
    assert_eq!((s, meta["resourceType"].as_str()), (StatusCode::OK, Some("CapabilityStatement")));
    emitted.push(meta);

    // No token, a bad token: 401 with an OperationOutcome.
    assert_eq!(fhir(&app, None, &format!("/fhir/Patient/{patient}")).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(fhir(&app, Some("nonsense"), &format!("/fhir/Patient/{patient}")).await.0, StatusCode::UNAUTHORIZED);

    // The ward's system and the municipality's (a party through the notice) read the same case.
    for t in [&ward, &kommun] {
        let (s, p) = fhir(&app, Some(t), &format!("/fhir/Patient/{patient}")).await;
        assert_eq!(s, StatusCode::OK, "{p}");
        assert_eq!(p["identifier"][0]["system"], "http://electronichealth.se/identifier/personnummer");
        assert_eq!(p["identifier"][0]["value"], pnr(60));
        emitted.push(p);
        let (s, e) = fhir(&app, Some(t), &format!("/fhir/EpisodeOfCare/{case}")).await;
        assert_eq!(s, StatusCode::OK, "{e}");
        assert_eq!(e["status"], "active");
        // What this caller may do now, from the domain's `Case::available`: the ward sends
        // the ready notice, the municipality does not; the municipality acknowledges the
        // admission notice, a Communication it can read.
        let offered = available_actions(&e);
        let sends_ready = offered.iter().any(|(a, part)| a == "send" && part == "utskrivningsklar");
        assert_eq!(sends_ready, t == &ward, "{offered:?}");
        if t == &kommun {
            let (_, message) = offered.iter().find(|(a, _)| a == "acknowledge").expect("an acknowledgement is offered");
            let (s, m) = fhir(&app, Some(t), &format!("/fhir/{message}")).await;
            assert_eq!((s, m["resourceType"].as_str()), (StatusCode::OK, Some("Communication")), "{message}");
        }
        emitted.push(e);
    }
    let by_number = fhir(
        &app,
        Some(&kommun),
        &format!("/fhir/Patient?identifier=http://electronichealth.se/identifier/personnummer|{}", pnr(60)),
    )
    .await
    .1;
    assert_eq!(by_number["total"], 1);
    emitted.push(by_number.clone());
    // Search by the book: a system names where the number belongs (another system: nobody);
    // a modifier Samverka does not support is an error, never dropped (it would widen the
    // search to every patient of the unit); a repeated parameter is AND, a comma OR.
    let other_system =
        fhir(&app, Some(&kommun), &format!("/fhir/Patient?identifier=http://example.org/other|{}", pnr(60))).await.1;
    assert_eq!(other_system["total"], 0, "{other_system}");
    let (s, outcome) = fhir(&app, Some(&kommun), &format!("/fhir/Patient?identifier:exact={}", pnr(60))).await;
    assert_eq!((s, outcome["resourceType"].as_str()), (StatusCode::BAD_REQUEST, Some("OperationOutcome")));
    assert_eq!(fhir(&app, Some(&ward), "/fhir/EpisodeOfCare?status:missing=true").await.0, StatusCode::BAD_REQUEST);
    let not_active = fhir(&app, Some(&ward), "/fhir/EpisodeOfCare?status:not=active").await.1;
    assert!(entries(&not_active).iter().all(|e| e["status"] != "active"), "{not_active}");
    let both = fhir(&app, Some(&ward), "/fhir/EpisodeOfCare?status=active&status=finished").await.1;
    assert_eq!(both["total"], 0, "AND: nothing is both");
    let either = fhir(&app, Some(&ward), "/fhir/EpisodeOfCare?status=active,finished").await.1;
    assert!(either["total"].as_u64().unwrap() >= 1, "OR: {either}");
    let (_, enc) = fhir(&app, Some(&ward), &format!("/fhir/Encounter/{case}")).await;
    assert_eq!((enc["status"].as_str(), enc["class"]["code"].as_str()), (Some("in-progress"), Some("IMP")));
    emitted.push(enc);
    for path in ["Communication", "Task", "CarePlan", "Observation", "Consent", "EpisodeOfCare", "Encounter"] {
        let (s, b) = fhir(&app, Some(&ward), &format!("/fhir/{path}?patient=Patient/{patient}")).await;
        assert_eq!(s, StatusCode::OK, "{path}: {b}");
        assert!(b["total"].as_u64().unwrap() >= 1, "{path}: {b}");
        emitted.extend(entries(&b));
        emitted.push(b);
    }
    let comms = fhir(&app, Some(&ward), &format!("/fhir/Communication?patient={patient}")).await.1;
    let notice = entries(&comms)
        .into_iter()
        .find(|c| c["category"][0]["coding"][0]["code"] == "inskrivningsmeddelande")
        .unwrap();
    assert!(
        notice["recipient"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["reference"] == format!("Organization/{}", w.units.bistand))
    );
    let tasks = entries(&fhir(&app, Some(&ward), &format!("/fhir/Task?patient={patient}&status=completed")).await.1);
    assert!(
        tasks.iter().any(|t| t["code"]["coding"][0]["code"] == "admission_notice"),
        "the notice was sent: {tasks:?}"
    );
    let plan = &entries(&fhir(&app, Some(&ward), &format!("/fhir/CarePlan?subject=Patient/{patient}")).await.1)[0];
    assert_eq!(plan["description"], "Klara mig hemma och gå till affären själv.");
    let screened = &entries(&fhir(&app, Some(&ward), &format!("/fhir/Observation?patient={patient}")).await.1)[0];
    assert_eq!(screened["id"], format!("{case}-screening-1"));
    let component = |code: &str| {
        screened["component"].as_array().unwrap().iter().find(|c| c["code"]["coding"][0]["code"] == code).cloned()
    };
    assert_eq!(component("frailty").unwrap()["valueInteger"], 6);
    assert_eq!(component("coordination-needed").unwrap()["valueBoolean"], true);
    assert_eq!(component("many-providers").unwrap()["valueBoolean"], false);
    assert_eq!(screened["note"][0]["text"], "Vid SIP-mötet");
    // A screening the case does not have is not found.
    let (s, _) = fhir(&app, Some(&ward), &format!("/fhir/Observation/{case}-screening-2")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Each of them read by its own id, by a party; refused to the other municipality.
    let task_id = tasks[0]["id"].as_str().unwrap();
    for path in [
        format!("Communication/{}", notice["id"].as_str().unwrap()),
        format!("Task/{task_id}"),
        format!("CarePlan/{case}"),
        format!("Observation/{case}-screening-1"),
    ] {
        let (s, r) = fhir(&app, Some(&kommun), &format!("/fhir/{path}")).await;
        assert_eq!(s, StatusCode::OK, "{path}: {r}");
        assert_eq!(format!("{}/{}", r["resourceType"].as_str().unwrap(), r["id"].as_str().unwrap()), path);
        assert_eq!(fhir(&app, Some(&nacka), &format!("/fhir/{path}")).await.0, StatusCode::FORBIDDEN, "{path}");
        emitted.push(r);
    }
    // Paging: one at a time, with a next link that works.
    let page1 = fhir(&app, Some(&ward), &format!("/fhir/Communication?patient={patient}&_count=1")).await.1;
    assert_eq!(page1["entry"].as_array().unwrap().len(), 1);
    let total = page1["total"].as_u64().unwrap();
    assert!(total >= 2);
    let next = page1["link"].as_array().unwrap().iter().find(|l| l["relation"] == "next").unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let page2 = fhir(&app, Some(&ward), &next).await.1;
    assert_ne!(page1["entry"][0]["resource"]["id"], page2["entry"][0]["resource"]["id"]);
    assert!(page2["link"].as_array().unwrap().iter().any(|l| l["relation"] == "previous"));
    // _count=0: the total alone, and no page to follow (a next link equal to self never ended).
    let only_total = fhir(&app, Some(&ward), &format!("/fhir/Communication?patient={patient}&_count=0")).await.1;
    assert_eq!(only_total["total"].as_u64(), Some(total));
    assert!(only_total.get("entry").is_none(), "no empty array: {only_total}");
    let relations: Vec<&str> =
        only_total["link"].as_array().unwrap().iter().map(|l| l["relation"].as_str().unwrap()).collect();
    assert_eq!(relations, ["self"]);
    // Listing the unit's patients logs a read in each patient's own log.
    let listed = fhir(&app, Some(&ward), "/fhir/Patient").await.1;
    assert!(listed["total"].as_u64().unwrap() >= 1);
    let filter =
        samverka_store::AccessFilter { patient_id: Some(patient.parse().unwrap()), limit: 1000, ..Default::default() };
    let log = app.store.access_log(&filter).await.unwrap();
    assert!(log.iter().any(|e| e.action == "fhir.patient.search"), "the patient's log shows the listing");
    assert!(log.iter().any(|e| e.action == "fhir.communication.search"));
    // _lastUpdated in the future finds nothing.
    let none = fhir(&app, Some(&ward), "/fhir/EpisodeOfCare?_lastUpdated=gt2099-01-01").await.1;
    assert_eq!(none["total"], 0);

    // Need-to-know: another municipality's system sees nothing, and is logged.
    let before = app.store.access_log_count().await.unwrap();
    let (s, o) = fhir(&app, Some(&nacka), &format!("/fhir/Patient/{patient}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{o}");
    assert_eq!(fhir(&app, Some(&nacka), &format!("/fhir/EpisodeOfCare/{case}")).await.0, StatusCode::FORBIDDEN);
    let empty = fhir(&app, Some(&nacka), &format!("/fhir/Patient?identifier={}", pnr(60))).await.1;
    assert_eq!(empty["total"], 0, "a search outside the care finds nobody");
    assert_eq!(fhir(&app, Some(&nacka), &format!("/fhir/Communication?patient={patient}")).await.1["total"], 0);
    assert!(app.store.access_log_count().await.unwrap() >= before + 4);
    // Scopes: a Patient-only token reads patients, not episodes.
    assert_eq!(fhir(&app, Some(&narrow), &format!("/fhir/Patient/{patient}")).await.0, StatusCode::OK);
    assert_eq!(fhir(&app, Some(&narrow), &format!("/fhir/EpisodeOfCare/{case}")).await.0, StatusCode::FORBIDDEN);
    // Bad input: an unknown parameter, a bad count, a malformed id.
    assert_eq!(fhir(&app, Some(&ward), "/fhir/Patient?name=Åsa").await.0, StatusCode::BAD_REQUEST);
    // A count above the largest page is capped, as R4 lets a server do; a count that is no
    // number is refused.
    let capped = fhir(&app, Some(&ward), "/fhir/EpisodeOfCare?_count=5000").await.1;
    assert!(capped["link"][0]["url"].as_str().unwrap().contains("_count=200"), "{capped}");
    assert_eq!(fhir(&app, Some(&ward), "/fhir/EpisodeOfCare?_count=many").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(fhir(&app, Some(&ward), "/fhir/Patient?identifier=12345").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(fhir(&app, Some(&ward), "/fhir/EpisodeOfCare/not-an-id").await.0, StatusCode::NOT_FOUND);

    // The SIP's author as Practitioner and their assignments as PractitionerRole.
    let author = plan["author"]["reference"].as_str().unwrap().to_string();
    let (s, who) = fhir(&app, Some(&ward), &format!("/fhir/{author}")).await;
    assert_eq!(s, StatusCode::OK, "{who}");
    emitted.push(who);
    let roles = fhir(&app, Some(&ward), &format!("/fhir/PractitionerRole?practitioner={author}")).await.1;
    assert_eq!(roles["total"], 1);
    emitted.extend(entries(&roles));

    // The access log as AuditEvent: for log review only (MAS, enhetschef), own organisation.
    assert_eq!(
        fhir(&app, Some(&kommun), &format!("/fhir/AuditEvent?patient={patient}")).await.0,
        StatusCode::FORBIDDEN
    );
    let review = register(&app, &kadmin, w.units.bistand, "enhetschef", &["system/AuditEvent.read"]).await;
    let review = bearer(&app, &review).await;
    let audit = fhir(&app, Some(&review), &format!("/fhir/AuditEvent?patient=Patient/{patient}")).await.1;
    let events = entries(&audit);
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| e["agent"][0]["who"]["display"].as_str().is_some()), "every access names who");
    assert!(
        events.iter().any(|e| e["subtype"][0]["code"] == "fhir.patient.read"),
        "the municipality system's read is there"
    );
    emitted.extend(events.into_iter().take(20));

    // Organizations are reference data, found by HSA-id.
    let orgs =
        fhir(&app, Some(&nacka), "/fhir/Organization?identifier=urn:oid:1.2.752.29.4.19|SE2321009990-AVD21").await.1;
    assert_eq!(orgs["total"], 1);
    emitted.extend(entries(&orgs));

    validate(&emitted);
});

on_both!(a_protected_identity_is_labelled_and_has_no_address, |app: TestApp| async move {
    let w = &app.world;
    let body = json!({
        "identifier": pnr(61), "given_name": "Skyddad", "family_name": "Person", "kommun": "0184",
        "protection": "skyddad_folkbokforing",
        "address": { "street": "Hemlig väg 1", "postal_code": "17164", "city": "Solna" }
    });
    let p = app.post(&w.ward, "/api/patients", body, StatusCode::CREATED).await;
    let id = p["id"].as_str().unwrap();
    app.post(
        &w.ward,
        "/api/cases",
        json!({ "patient_id": id, "admitted_at": ts("2026-11-02 07:00").to_string() }),
        StatusCode::CREATED,
    )
    .await;
    let (admin, a) = account(&app.store, w.region, "ada", "Ada Admin", w.units.ward, Role::Administrator).await;
    let admin = session(&app.store, admin, w.units.ward, a).await;
    let sys = register(&app, &admin, w.units.ward, "vardsamordnare", &["system/Patient.read"]).await;
    let t = bearer(&app, &sys).await;
    let (s, r) = fhir(&app, Some(&t), &format!("/fhir/Patient/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    let labels: Vec<&str> =
        r["meta"]["security"].as_array().unwrap().iter().map(|l| l["code"].as_str().unwrap()).collect();
    assert_eq!(labels, ["DEMO", "skyddadFolkbokforing"]);
    assert!(r.get("address").is_none(), "{r}");
    assert!(!r.to_string().contains("Hemlig"));
    validate(&[r]);
});

/// What a subscriber's endpoint received.
#[derive(Clone, Default)]
struct Inbox(std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>>);

/// A subscriber's endpoint on loopback: records every POST; refuses the first `fail` of them
/// with 503, as a receiver that is down for a while would.
async fn receiver(fail: usize) -> (String, Inbox) {
    use axum::routing::post;
    let inbox = Inbox::default();
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/hook",
        post({
            let inbox = inbox.clone();
            move |headers: axum::http::HeaderMap, body: String| {
                let inbox = inbox.clone();
                let seen = seen.clone();
                async move {
                    if seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < fail {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    inbox.0.lock().unwrap().push((headers, body));
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, inbox)
}

async fn wait_for(inbox: &Inbox, n: usize) -> Vec<(axum::http::HeaderMap, String)> {
    for _ in 0..200 {
        if inbox.0.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    inbox.0.lock().unwrap().clone()
}

on_both!(a_municipality_is_told_of_a_new_admission_notice_without_polling, |app: TestApp| async move {
    let w = &app.world;
    let (kadmin, a) = account(&app.store, w.solna, "kim", "Kim Kommun", w.units.bistand, Role::Administrator).await;
    let kadmin = session(&app.store, kadmin, w.units.bistand, a).await;
    let sys = register(
        &app,
        &kadmin,
        w.units.bistand,
        "bistandshandlaggare",
        &["system/Subscription.write", "system/Subscription.read"],
    )
    .await;
    let t = bearer(&app, &sys).await;
    let (url, inbox) = receiver(1).await;
    let post = |body: Value| {
        app.client
            .post(format!("{}/fhir/Subscription", app.base))
            .bearer_auth(&t)
            .header("content-type", "application/fhir+json")
            .body(body.to_string())
            .send()
    };
    let sub = |criteria: String, endpoint: &str| {
        json!({ "resourceType": "Subscription", "status": "requested", "reason": "Nya inskrivningar", "criteria": criteria,
                "channel": { "type": "rest-hook", "endpoint": endpoint, "payload": "application/fhir+json", "header": ["Authorization: Bearer kommunens-nyckel"] } })
    };
    // Only the client's own unit, only https (or loopback).
    let other =
        post(sub(format!("Communication?recipient=Organization/{}", w.units.nacka_bistand), &url)).await.unwrap();
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
    let own = format!("Communication?recipient=Organization/{}&category=inskrivningsmeddelande", w.units.bistand);
    let plain = post(sub(own.clone(), "http://example.org/hook")).await.unwrap();
    assert_eq!(plain.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = post(sub(own, &url)).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let created: Value = res.json().await.unwrap();
    let secret = created["extension"][0]["valueString"].as_str().unwrap().to_string();
    validate(std::slice::from_ref(&created));

    // The ward sends the admission notice; the municipality's system hears of it by itself.
    let (case, _) = app.case(&pnr(70), "2026-11-02 07:00").await;
    let notice = json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" } });
    app.post(&w.ward, &format!("/api/cases/{case}/messages"), notice, StatusCode::CREATED).await;
    // The first attempt meets a 503; the retry waits its pause (the clock moves on here).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    app.at("2026-11-02 08:10");
    app.state.wake.notify_one();
    let got = wait_for(&inbox, 1).await;
    assert_eq!(got.len(), 1, "one notification after the retry");
    let (headers, body) = &got[0];
    assert_eq!(headers["authorization"], "Bearer kommunens-nyckel");
    let expected = samverka_fhir::notify::signature(&secret, body.as_bytes());
    assert_eq!(headers["x-samverka-signature"].to_str().unwrap(), expected);
    let comm: Value = serde_json::from_str(body).unwrap();
    assert_eq!(comm["resourceType"], "Communication");
    assert_eq!(comm["category"][0]["coding"][0]["code"], "inskrivningsmeddelande");
    validate(&[comm]);
    // A free message is not in the subscription's category: nothing more arrives.
    let free = json!({ "body": { "kind": "allmant", "text": "Hej" }, "recipients": [w.units.bistand] });
    app.post(&w.ward, &format!("/api/cases/{case}/messages"), free, StatusCode::CREATED).await;
    // One delivery round, run here to its end, sends whatever is due.
    samverka_fhir::notify::Notifier::new(app.state.clone()).once().await.unwrap();
    assert_eq!(inbox.0.lock().unwrap().len(), 1);

    // The subscription can be read back, without its secret, and deleted.
    let read = app.client.get(format!("{}{location}", app.base)).bearer_auth(&t).send().await.unwrap();
    let read: Value = read.json().await.unwrap();
    assert_eq!(read["status"], "active");
    assert!(read.get("extension").is_none());
    let del = app.client.delete(format!("{}{location}", app.base)).bearer_auth(&t).send().await.unwrap();
    assert_eq!(del.status(), StatusCode::NO_CONTENT);

    // Ending the client (its account) stops its notifications.
    let own = format!("Communication?recipient=Organization/{}", w.units.bistand);
    let again: Value = post(sub(own, &url)).await.unwrap().json().await.unwrap();
    let client = app.store.api_client(sys.id.parse().unwrap()).await.unwrap().unwrap();
    let res = app
        .call(&kadmin, reqwest::Method::POST, &format!("/api/admin/users/{}/deactivate", client.user_id), None)
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let (case2, _) = app.case(&pnr(71), "2026-11-02 08:00").await;
    let notice = json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" } });
    app.post(&w.ward, &format!("/api/cases/{case2}/messages"), notice, StatusCode::CREATED).await;
    samverka_fhir::notify::Notifier::new(app.state.clone()).once().await.unwrap();
    assert_eq!(inbox.0.lock().unwrap().len(), 1, "nothing goes to an ended client");
    let ended = app.store.subscription(again["id"].as_str().unwrap().parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(ended.status, "off");
});

on_both!(a_token_stops_when_it_expires_or_its_account_or_assignment_ends, |app: TestApp| async move {
    let w = &app.world;
    let (_, patient) = busy_case(&app, 62).await;
    let (admin, a) = account(&app.store, w.region, "ada", "Ada Admin", w.units.ward, Role::Administrator).await;
    let admin = session(&app.store, admin, w.units.ward, a).await;
    let path = format!("/fhir/Patient/{patient}");
    let mut clients = vec![];
    for _ in 0..3 {
        clients.push(register(&app, &admin, w.units.ward, "vardsamordnare", &["system/*.read"]).await);
    }
    let mut tokens = vec![];
    for c in &clients {
        tokens.push(bearer(&app, c).await);
    }
    let statuses = |tokens: Vec<String>| {
        let app = &app;
        let path = path.clone();
        async move {
            let mut out = vec![];
            for t in &tokens {
                out.push(fhir(app, Some(t), &path).await.0);
            }
            out
        }
    };
    assert_eq!(statuses(tokens.clone()).await, [StatusCode::OK; 3]);
    let holder = |i: usize| app.store.api_client(clients[i].id.parse().unwrap());
    // The first client's account ends: its token stops at once, the others go on.
    let user = holder(0).await.unwrap().unwrap().user_id;
    let res = app.call(&admin, reqwest::Method::POST, &format!("/api/admin/users/{user}/deactivate"), None).await;
    assert!(res.status().is_success(), "{}", res.status());
    let (ok, no) = (StatusCode::OK, StatusCode::UNAUTHORIZED);
    assert_eq!(statuses(tokens.clone()).await, [no, ok, ok]);
    // The second client's assignment ends.
    let assignment = holder(1).await.unwrap().unwrap().assignment_id;
    app.post(&admin, &format!("/api/admin/assignments/{assignment}/deactivate"), json!({}), StatusCode::NO_CONTENT)
        .await;
    assert_eq!(statuses(tokens.clone()).await, [no, no, ok]);
    // The third token expires.
    app.clock.advance(jiff::SignedDuration::from_hours(2));
    assert_eq!(statuses(tokens.clone()).await, [no, no, no]);
});

/// Sends a FHIR write; returns status and body, checking that every error is an
/// OperationOutcome with a Swedish reason.
async fn fhir_write(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: &Value,
) -> (StatusCode, Value) {
    fhir_write_raw(app, token, method, path, body.to_string()).await
}

/// As [`fhir_write`], with the body sent exactly as given.
async fn fhir_write_raw(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: String,
) -> (StatusCode, Value) {
    let res = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("content-type", "application/fhir+json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_string());
    let mut v: Value = res.json().await.unwrap();
    if !status.is_success() {
        assert_eq!(v["resourceType"], "OperationOutcome", "{path}: {v}");
        assert!(v["issue"][0]["details"]["text"].as_str().unwrap().len() > 10, "a reason in Swedish: {v}");
    }
    if let Some(l) = location {
        v["_location"] = json!(l);
    }
    (status, v)
}

fn base64_json(v: &Value) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(v.to_string())
}

on_both!(a_system_sends_acknowledges_and_records_consent_through_fhir, |app: TestApp| async move {
    use reqwest::Method;
    let w = &app.world;
    let (case, patient) = busy_case(&app, 61).await;
    let (admin, a) = account(&app.store, w.region, "ada", "Ada Admin", w.units.ward, Role::Administrator).await;
    let admin = session(&app.store, admin, w.units.ward, a).await;
    let (kadmin, a) = account(&app.store, w.solna, "kim", "Kim Kommun", w.units.bistand, Role::Administrator).await;
    let kadmin = session(&app.store, kadmin, w.units.bistand, a).await;
    let (nadmin, a) =
        account(&app.store, w.nacka, "nadja", "Nadja Nacka", w.units.nacka_bistand, Role::Administrator).await;
    let nadmin = session(&app.store, nadmin, w.units.nacka_bistand, a).await;
    let rw = ["system/*.read", "system/Communication.write", "system/Consent.write"];
    let ward = bearer(&app, &register(&app, &admin, w.units.ward, "vardsamordnare", &rw).await).await;
    let kommun = bearer(&app, &register(&app, &kadmin, w.units.bistand, "bistandshandlaggare", &rw).await).await;
    let nacka = bearer(&app, &register(&app, &nadmin, w.units.nacka_bistand, "bistandshandlaggare", &rw).await).await;
    let read_only =
        bearer(&app, &register(&app, &kadmin, w.units.bistand, "bistandshandlaggare", &["system/*.read"]).await).await;
    let mut emitted: Vec<Value> = vec![];

    // A typed message: a changed discharge date, its content as the JSON API's body.
    let changed = json!({ "kind": "andrat_utskrivningsdatum", "estimated_discharge": "2026-11-12", "note": "Väntar på provsvar." });
    let message_id = uuid::Uuid::now_v7();
    let communication = json!({
        "resourceType": "Communication",
        "identifier": [{ "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{message_id}") }],
        "status": "completed",
        "category": [{ "coding": [{ "system": "urn:samverka:CodeSystem:message-kind", "code": "andrat_utskrivningsdatum" }] }],
        "subject": { "reference": format!("Patient/{patient}") },
        "encounter": { "reference": format!("Encounter/{case}") },
        "payload": [{ "contentAttachment": { "contentType": "application/json", "data": base64_json(&changed) } }],
    });
    let free = json!({
        "resourceType": "Communication",
        "status": "completed",
        "category": [{ "coding": [{ "system": "urn:samverka:CodeSystem:message-kind", "code": "allmant" }] }],
        "encounter": { "reference": format!("Encounter/{case}") },
        "recipient": [{ "reference": format!("Organization/{}", w.units.ward) }],
        "payload": [{ "contentString": "Vi kan ta emot på torsdag förmiddag." }],
    });
    // What a client sends is FHIR to an independent implementation too.
    validate(&[communication.clone(), free.clone()]);

    let (s, sent) = fhir_write(&app, &ward, Method::POST, "/fhir/Communication", &communication).await;
    assert_eq!(s, StatusCode::CREATED, "{sent}");
    assert_eq!(sent["_location"], format!("/fhir/Communication/{message_id}"));
    assert_eq!(sent["id"], message_id.to_string());
    // A retry with the same identifier changes nothing.
    let (s, again) = fhir_write(&app, &ward, Method::POST, "/fhir/Communication", &communication).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(again["id"], sent["id"]);
    let view = app.get(&w.ward, &format!("/api/cases/{case}")).await;
    let changes: Vec<&Value> = view["state"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["message"]["body"]["kind"] == "andrat_utskrivningsdatum")
        .collect();
    assert_eq!(changes.len(), 1, "sent once: {changes:?}");
    assert_eq!(changes[0]["message"]["body"]["note"], "Väntar på provsvar.");
    // Read back, the content round-trips to what was sent.
    let (_, read) = fhir(&app, Some(&kommun), &format!("/fhir/Communication/{message_id}")).await;
    let attachment = read["payload"].as_array().unwrap().iter().find_map(|p| p["contentAttachment"]["data"].as_str());
    use base64::Engine as _;
    let content: Value =
        serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(attachment.unwrap()).unwrap())
            .unwrap();
    assert_eq!(content, changed);
    emitted.push(
        sent.as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| *k != "_location")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    );

    // The municipality answers with a free message and acknowledges the ward's.
    let (s, reply) = fhir_write(&app, &kommun, Method::POST, "/fhir/Communication", &free).await;
    assert_eq!(s, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["recipient"][0]["reference"], format!("Organization/{}", w.units.ward));
    let ack = format!("/fhir/Communication/{message_id}/$acknowledge");
    let (s, acked) = fhir_write(&app, &kommun, Method::POST, &ack, &json!({})).await;
    assert_eq!(s, StatusCode::OK, "{acked}");
    let receipt = acked["extension"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["extension"][0]["valueReference"]["reference"] == format!("Organization/{}", w.units.bistand))
        .unwrap();
    assert!(receipt["extension"].as_array().unwrap().iter().any(|e| e["url"] == "acknowledged"), "{receipt}");
    emitted.push(acked.clone());
    let view = app.get(&w.ward, &format!("/api/cases/{case}")).await;
    let m = view["state"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["message"]["id"] == message_id.to_string())
        .unwrap();
    let r = m["receipts"].as_array().unwrap().iter().find(|r| r["unit"]["id"] == w.units.bistand.to_string()).unwrap();
    assert!(r["acknowledged"].is_object(), "the ward sees the receipt: {r}");

    // Refusals: an unknown operation, a token without write scope, a unit outside the care
    // (refused and logged), and bodies that cannot be taken, each with a reason.
    let (s, _) =
        fhir_write(&app, &kommun, Method::POST, &format!("/fhir/Communication/{message_id}/$close"), &json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = fhir_write(&app, &read_only, Method::POST, "/fhir/Communication", &free).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let before = app.store.access_log_count().await.unwrap();
    let (s, o) = fhir_write(&app, &nacka, Method::POST, "/fhir/Communication", &free).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{o}");
    let (s, _) = fhir_write(&app, &nacka, Method::POST, &ack, &json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(app.store.access_log_count().await.unwrap() >= before + 2, "refusals are logged");
    let mut typed_as_text = free.clone();
    typed_as_text["category"][0]["coding"][0]["code"] = json!("planeringsunderlag");
    let mut wrong_kind = communication.clone();
    wrong_kind["category"][0]["coding"][0]["code"] = json!("utskrivningsklar");
    wrong_kind["identifier"] = json!([]);
    let mut other_patient = communication.clone();
    other_patient["subject"] = json!({ "reference": format!("Patient/{}", uuid::Uuid::now_v7()) });
    other_patient["identifier"] = json!([]);
    let mut no_encounter = free.clone();
    no_encounter.as_object_mut().unwrap().remove("encounter");
    let mut draft = free.clone();
    draft["status"] = json!("preparation");
    for (bad, words) in [
        (typed_as_text, "contentAttachment"),
        (wrong_kind, "category"),
        (other_patient, "annan patient"),
        (no_encounter, "encounter"),
        (draft, "status"),
        (json!({ "resourceType": "Patient" }), "resourceType"),
    ] {
        let (s, o) = fhir_write(&app, &ward, Method::POST, "/fhir/Communication", &bad).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {o}");
        assert!(o["issue"][0]["details"]["text"].as_str().unwrap().contains(words), "{words}: {o}");
    }
    let (s, o) = fhir_write_raw(&app, &ward, Method::POST, "/fhir/Communication", "{".to_string()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{o}");
    assert!(o["issue"][0]["details"]["text"].as_str().unwrap().contains("Kroppen är inte giltig JSON"), "{o}");

    // Consent given by a god man, recorded by the municipality's system.
    let consent_id = uuid::Uuid::now_v7();
    let consent = json!({
        "resourceType": "Consent",
        "extension": [{ "url": "urn:samverka:StructureDefinition:episode-of-care", "valueReference": { "reference": format!("EpisodeOfCare/{case}") } }],
        "identifier": [{ "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{consent_id}") }],
        "status": "active",
        "scope": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy" }] },
        "category": [{ "coding": [{ "system": "urn:samverka:CodeSystem:consent-kind", "code": "information-sharing" }] }],
        "patient": { "reference": format!("Patient/{patient}") },
        "dateTime": ts("2026-11-02 07:35").to_string(),
        "contained": [{ "resourceType": "RelatedPerson", "id": "representative", "patient": { "reference": format!("Patient/{patient}") },
            "relationship": [{ "text": "god man" }], "name": [{ "text": "Gustav Godman" }] }],
        "performer": [{ "reference": "#representative" }],
        "provision": { "type": "permit" },
    });
    validate(std::slice::from_ref(&consent));
    let (s, created) = fhir_write(&app, &kommun, Method::POST, "/fhir/Consent", &consent).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    assert_eq!(created["id"], consent_id.to_string());
    assert_eq!(created["contained"][0]["name"][0]["text"], "Gustav Godman");
    let (s, read) = fhir(&app, Some(&ward), &format!("/fhir/Consent/{consent_id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(read["status"], "active");
    emitted.push(read.clone());
    let count = |v: &Value| v["state"]["consents"].as_array().unwrap().len();
    let before = count(&app.get(&w.ward, &format!("/api/cases/{case}")).await);
    let (s, again) = fhir_write(&app, &kommun, Method::POST, "/fhir/Consent", &consent).await;
    assert_eq!(s, StatusCode::CREATED, "{again}");
    assert_eq!(again["id"], created["id"]);
    assert_eq!(count(&app.get(&w.ward, &format!("/api/cases/{case}")).await), before, "a retry adds nothing");
    // Outside the care: neither read nor written.
    assert_eq!(fhir(&app, Some(&nacka), &format!("/fhir/Consent/{consent_id}")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(fhir_write(&app, &nacka, Method::POST, "/fhir/Consent", &consent).await.0, StatusCode::FORBIDDEN);
    let unknown = uuid::Uuid::now_v7();
    assert_eq!(fhir(&app, Some(&ward), &format!("/fhir/Consent/{unknown}")).await.0, StatusCode::NOT_FOUND);

    // Update: only the withdrawal is taken; editing or reviving is refused.
    let path = format!("/fhir/Consent/{consent_id}");
    let mut edited = read.clone();
    edited["category"][0]["coding"][0]["code"] = json!("sip");
    let (s, o) = fhir_write(&app, &kommun, Method::PUT, &path, &edited).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(o["issue"][0]["details"]["text"].as_str().unwrap().contains("ändras inte"), "{o}");
    let mut withdrawn = read.clone();
    withdrawn["status"] = json!("inactive");
    assert_eq!(fhir_write(&app, &nacka, Method::PUT, &path, &withdrawn).await.0, StatusCode::FORBIDDEN);
    let (s, done) = fhir_write(&app, &kommun, Method::PUT, &path, &withdrawn).await;
    assert_eq!((s, done["status"].as_str()), (StatusCode::OK, Some("inactive")), "{done}");
    let view = app.get(&w.ward, &format!("/api/cases/{case}")).await;
    let c = view["state"]["consents"].as_array().unwrap().iter().find(|c| c["id"] == consent_id.to_string()).unwrap();
    assert!(c["withdrawn"].is_object(), "withdrawn in the case: {c}");
    let (s, _) = fhir_write(&app, &kommun, Method::PUT, &path, &read).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "a withdrawn consent is not revived");
    emitted.push(done);
    let (_, meta) = fhir(&app, None, "/fhir/metadata").await;
    emitted.push(meta);
    validate(&emitted);
});
