//! FHIR by the book: every search parameter and modifier the CapabilityStatement lists — and
//! some it does not — sent and checked against the specification's rules
//! (https://hl7.org/fhir/R4/search.html); every error an OperationOutcome; every reference
//! Samverka emits resolves; links absolute; SMART discovery names the token endpoint.

use reqwest::StatusCode;
use samverka_domain::access::Role;
use serde_json::{Value, json};

use crate::fhir::{Client, bearer, busy_case, entries, fhir, register, validate};
use crate::helpers::{TestApp, account, pnr, session};
use crate::on_both;

/// A GET with headers, for what `fhir()` does not send.
async fn get_with(app: &TestApp, token: &str, path: &str, headers: &[(&str, &str)]) -> (StatusCode, Value) {
    let url = if path.starts_with("http") { path.to_string() } else { format!("{}{path}", app.base) };
    let mut req = app.client.get(url).bearer_auth(token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn links(bundle: &Value) -> Vec<(String, String)> {
    bundle["link"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["relation"].as_str().unwrap().to_string(), l["url"].as_str().unwrap().to_string()))
        .collect()
}

/// Every `reference` in a resource, except contained ones (`#…`).
fn references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                match (k.as_str(), x) {
                    ("reference", Value::String(r)) if !r.starts_with('#') => out.push(r.clone()),
                    _ => references(x, out),
                }
            }
        }
        Value::Array(xs) => xs.iter().for_each(|x| references(x, out)),
        _ => {}
    }
}

/// The modifiers a parameter's documentation lists ("Modifiers: :not.").
fn listed_modifiers(doc: &str) -> Vec<String> {
    doc.split("Modifiers: ")
        .nth(1)
        .map(|rest| rest.trim_end_matches('.').split(", ").map(|m| m.trim_start_matches(':').to_string()).collect())
        .unwrap_or_default()
}

/// Whether a resource meets `name=value` as the specification defines it, for the parameters
/// matched on the resource's own elements.
fn meets(r: &Value, name: &str, modifier: Option<&str>, value: &str) -> bool {
    match (name, modifier) {
        ("_id", None) => r["id"] == value,
        ("status", None) => r["status"] == value,
        ("status", Some("not")) => r["status"] != value,
        ("name", None) => r["name"].as_str().unwrap().to_lowercase().starts_with(&value.to_lowercase()),
        ("name", Some("contains")) => r["name"].as_str().unwrap().to_lowercase().contains(&value.to_lowercase()),
        ("name", Some("exact")) => r["name"] == value,
        _ => true,
    }
}

on_both!(every_listed_search_parameter_follows_the_specification, |app: TestApp| async move {
    let w = &app.world;
    let (case, patient) = busy_case(&app, 2).await;
    let screening = serde_json::json!({ "frailty": 5, "note": "Vid hembesök" });
    app.post(&w.vc, &format!("/api/cases/{case}/screenings"), screening, StatusCode::CREATED).await;
    // The HL7 feed admits a patient too: its identity is in the access log, so AuditEvents
    // name it (a Device that must resolve).
    let feed = samverka_app::feed::Feed::of(&app.state).unwrap();
    let a01 = format!(
        "MSH|^~\\&|Cosmic|KS|Samverka|Region|20261102080000||ADT^A01^ADT_A01|FS-1|P|2.5|||||SWE|UNICODE UTF-8\r\
         EVN|A01|20261102080000\r\
         PID|1||{}^^^^PN||Lund^Ingrid||19380407|F|||Solnavägen 1^^Solna^^17164^SWE^H^^0184\r\
         PV1|1|I|AVD21^^^KS\rZSV|J\r",
        pnr(3)
    );
    let ack = feed.receive(a01.as_bytes(), Some("127.0.0.1:1")).await;
    assert!(String::from_utf8_lossy(&ack).contains("MSA|AA"), "{}", String::from_utf8_lossy(&ack));
    let fed = app
        .store
        .patient_by_identifier(
            &samverka_domain::ids::PatientIdentifier::parse(&pnr(3), jiff::civil::date(2026, 11, 2), None).unwrap(),
        )
        .await
        .unwrap()
        .expect("admitted by the feed");

    let (admin, a) = account(&app.store, w.region, "ada", "Ada Admin", w.units.ward, Role::Administrator).await;
    let admin = session(&app.store, admin, w.units.ward, a).await;
    let ward = bearer(&app, &register(&app, &admin, w.units.ward, "vardsamordnare", &["system/*.read"]).await).await;
    let review = bearer(&app, &register(&app, &admin, w.units.ward, "enhetschef", &["system/*.read"]).await).await;

    // The values to search with, from what Samverka itself answers.
    let plan = entries(&fhir(&app, Some(&ward), &format!("/fhir/CarePlan?patient={patient}")).await.1).remove(0);
    let author = plan["author"]["reference"].as_str().unwrap().to_string();
    let required = |ty: &str| -> String {
        match ty {
            "PractitionerRole" => format!("practitioner={author}"),
            "AuditEvent" => format!("patient=Patient/{}", fed.id),
            _ => String::new(),
        }
    };
    let token_for = |ty: &str| if ty == "AuditEvent" { &review } else { &ward };

    let (_, meta) = fhir(&app, None, "/fhir/metadata").await;
    let mut emitted: Vec<Value> = vec![meta.clone()];
    let mut checked = 0;
    for r in meta["rest"][0]["resource"].as_array().unwrap() {
        let ty = r["type"].as_str().unwrap();
        let Some(params) = r["searchParam"].as_array() else {
            // A type without search answers a search 405, as an OperationOutcome.
            let (s, o) = fhir(&app, Some(&ward), &format!("/fhir/{ty}")).await;
            assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED, "{ty}: {o}");
            continue;
        };
        let join = |extra: &str| {
            let parts: Vec<String> = [required(ty), extra.to_string()].into_iter().filter(|p| !p.is_empty()).collect();
            format!("/fhir/{ty}?{}", parts.join("&"))
        };
        let (s, all) = fhir(&app, Some(token_for(ty)), &join("")).await;
        assert_eq!(s, StatusCode::OK, "{ty}: {all}");
        let found = entries(&all);
        assert!(!found.is_empty(), "{ty}: the demo has some");
        let first = &found[0];
        emitted.extend(found.iter().take(5).cloned());
        for (relation, url) in links(&all) {
            assert!(url.starts_with(&format!("{}/fhir/{ty}?", app.base)), "{relation} is absolute: {url}");
        }
        for e in all["entry"].as_array().unwrap() {
            let full = e["fullUrl"].as_str().unwrap();
            let r = &e["resource"];
            assert_eq!(
                full,
                format!("{}/fhir/{}/{}", app.base, r["resourceType"].as_str().unwrap(), r["id"].as_str().unwrap())
            );
        }
        for p in params {
            let name = p["name"].as_str().unwrap();
            let kind = p["type"].as_str().unwrap();
            let doc = p["documentation"].as_str().unwrap_or("");
            if doc.contains("Required.") {
                // Without it: refused, with the reason.
                let (s, o) = fhir(&app, Some(token_for(ty)), &format!("/fhir/{ty}")).await;
                assert_eq!(s, StatusCode::BAD_REQUEST, "{ty} without {name}: {o}");
                continue;
            }
            let value = match (name, kind) {
                ("_id", _) => first["id"].as_str().unwrap().to_string(),
                ("_count", _) => "1".into(),
                ("_offset", _) => "1".into(),
                ("status", _) => first["status"].as_str().unwrap().to_string(),
                ("name", _) => first["name"].as_str().unwrap().chars().take(4).collect::<String>().to_uppercase(),
                ("identifier", _) => {
                    let i = &first["identifier"][0];
                    format!("{}|{}", i["system"].as_str().unwrap(), i["value"].as_str().unwrap())
                }
                ("patient" | "subject", _) => format!("Patient/{patient}"),
                ("owner", _) => first["owner"]["reference"].as_str().unwrap().to_string(),
                (_, "date") => {
                    let at = if name == "date" { &first["recorded"] } else { &first["meta"]["lastUpdated"] };
                    format!("eq{}", at.as_str().unwrap())
                }
                _ => panic!("{ty}.{name} ({kind}) is listed but this test has no value for it"),
            };
            let query = format!("{name}={}", urlencode(&value));
            let (s, b) = fhir(&app, Some(token_for(ty)), &join(&query)).await;
            assert_eq!(s, StatusCode::OK, "{ty}?{query}: {b}");
            let got = entries(&b);
            match name {
                "_count" => assert_eq!(got.len(), 1, "{ty}?{query}"),
                "_offset" => {
                    let (_, just_before) = fhir(&app, Some(token_for(ty)), &join("")).await;
                    let before = entries(&just_before);
                    // The access log is newest first and this search's own entry is on top.
                    let skipped = if ty == "AuditEvent" { 0 } else { 1 };
                    let (s, b) = fhir(&app, Some(token_for(ty)), &join(&query)).await;
                    assert_eq!(s, StatusCode::OK);
                    let got = entries(&b);
                    assert_eq!(got.first().map(|g| &g["id"]), before.get(skipped).map(|f| &f["id"]), "{ty}?{query}");
                }
                _ => {
                    assert!(!got.is_empty(), "{ty}?{query} finds the resource it was taken from");
                    assert!(got.iter().all(|g| meets(g, name, None, &value)), "{ty}?{query}: {b}");
                }
            }
            let (_, self_url) = links(&b).into_iter().find(|(r, _)| r == "self").unwrap();
            assert!(self_url.contains(&format!("{name}=")), "the self link keeps {name}: {self_url}");
            // Each modifier listed is answered by its rule; one not listed is refused, or,
            // under lenient handling, ignored and reported.
            for m in listed_modifiers(doc) {
                let plain = value.trim_start_matches("eq");
                let (s, b) = fhir(&app, Some(token_for(ty)), &join(&format!("{name}:{m}={}", urlencode(plain)))).await;
                assert_eq!(s, StatusCode::OK, "{ty}?{name}:{m}: {b}");
                assert!(entries(&b).iter().all(|g| meets(g, name, Some(&m), plain)), "{ty}?{name}:{m}: {b}");
                checked += 1;
            }
            let unsupported = format!("{name}:missing=true");
            let (s, o) = fhir(&app, Some(token_for(ty)), &join(&unsupported)).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{ty}?{unsupported}: {o}");
            let (s, lenient) =
                get_with(&app, token_for(ty), &join(&unsupported), &[("prefer", "handling=lenient")]).await;
            assert_eq!(s, StatusCode::OK, "{ty}?{unsupported} lenient: {lenient}");
            let outcome = lenient["entry"].as_array().unwrap().iter().find(|e| e["search"]["mode"] == "outcome");
            assert!(outcome.is_some_and(|e| e["resource"]["resourceType"] == "OperationOutcome"), "{lenient}");
            let reason = &outcome.unwrap()["resource"]["issue"][0];
            assert!(reason["details"]["text"].as_str().is_some_and(|t| t.contains("missing")), "{reason}");
            assert!(
                links(&lenient).iter().all(|(_, u)| !u.contains("missing")),
                "the ignored parameter is not in self"
            );
            if ty != "AuditEvent" {
                // (The access log grows with every search, its own included.)
                assert_eq!(lenient["total"], all["total"], "ignored means ignored");
            }
            emitted.push(lenient);
            checked += 1;
        }
        // Parameters Samverka does not list: refused, never dropped.
        for unlisted in ["_sort=_id", "_include=*", "nonsense=1", "patient.name=Lund", "_summary=count"] {
            let (s, o) = fhir(&app, Some(token_for(ty)), &join(unlisted)).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{ty}?{unlisted}: {o}");
        }
        // `_count=0`: the total alone.
        let (_, zero) = fhir(&app, Some(token_for(ty)), &join("_count=0")).await;
        assert!(zero["total"].as_u64().unwrap() >= found.len() as u64 && zero.get("entry").is_none(), "{ty}: {zero}");
    }
    assert!(checked > 20, "the statement lists the parameters ({checked} checked)");

    // Dates, by the specification's rules: the value's precision is a range, each prefix
    // compares ranges. The case's EpisodeOfCare changed at `t`.
    let episode = fhir(&app, Some(&ward), &format!("/fhir/EpisodeOfCare/{case}")).await.1;
    let t: jiff::Timestamp = episode["meta"]["lastUpdated"].as_str().unwrap().parse().unwrap();
    let local = t.to_zoned_datetime(samverka_domain::calendar::STOCKHOLM.clone());
    let finds = |q: String| {
        let (app, ward, case) = (&app, &ward, &case);
        async move {
            let (s, b) = fhir(app, Some(ward), &format!("/fhir/EpisodeOfCare?_lastUpdated={}", urlencode(&q))).await;
            assert_eq!(s, StatusCode::OK, "{q}: {b}");
            entries(&b).iter().any(|e| e["id"] == *case)
        }
    };
    let day = local.date().to_string();
    let offset = local.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
    for (q, expected) in [
        (format!("{t}"), true),
        (format!("eq{t}"), true),
        (format!("ne{t}"), false),
        (format!("gt{t}"), false),
        (format!("sa{t}"), false),
        (format!("ge{t}"), true),
        (format!("le{t}"), true),
        (format!("lt{t}"), false),
        (format!("eb{t}"), false),
        (offset.clone(), true),
        (day.clone(), true),
        (format!("ge{}", &day[..7]), true),
        (day[..4].to_string(), true),
        (format!("lt{day}"), false),
        (format!("gt{day}"), false),
        (format!("ap{day}"), true),
        (format!("{},{}", "2001-01-01", day), true),
    ] {
        assert_eq!(finds(q.clone()).await, expected, "_lastUpdated={q}");
    }
    // Two patients at once: a case has one, so nothing; either of them: the one's cases.
    let both = fhir(&app, Some(&ward), &format!("/fhir/EpisodeOfCare?patient={patient}&patient={}", fed.id)).await.1;
    assert_eq!(both["total"], 0, "{both}");
    let either = fhir(&app, Some(&ward), &format!("/fhir/EpisodeOfCare?patient={patient},{}", fed.id)).await.1;
    assert_eq!(either["total"], 2, "{either}");
    // Repeated: AND (a day and not that day: nothing).
    let both = fhir(&app, Some(&ward), &format!("/fhir/EpisodeOfCare?_lastUpdated={day}&_lastUpdated=ne{day}")).await.1;
    assert_eq!(both["total"], 0);
    // An unencoded `+` in the zone arrives as a space and is read as `+`.
    let raw = fhir(&app, Some(&ward), &format!("/fhir/EpisodeOfCare?_lastUpdated={offset}")).await.1;
    assert!(entries(&raw).iter().any(|e| e["id"] == case), "{offset}: {raw}");
    for bad in [local.strftime("%Y-%m-%dT%H:%M:%S").to_string(), "2026-13".into(), "ge".into(), "yesterday".into()] {
        let (s, o) = fhir(&app, Some(&ward), &format!("/fhir/EpisodeOfCare?_lastUpdated={bad}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {o}");
    }

    // meta.lastUpdated is when the resource changed, not when it was asked for.
    let p1 = fhir(&app, Some(&ward), &format!("/fhir/Patient/{patient}")).await.1;
    app.clock.advance(jiff::SignedDuration::from_mins(5));
    let p2 = fhir(&app, Some(&ward), &format!("/fhir/Patient/{patient}")).await.1;
    assert_eq!(p1["meta"]["lastUpdated"], p2["meta"]["lastUpdated"]);
    let changed = p1["meta"]["lastUpdated"].as_str().unwrap();
    let same = fhir(&app, Some(&ward), &format!("/fhir/Patient?_lastUpdated={}", urlencode(changed))).await.1;
    assert!(entries(&same).iter().any(|p| p["id"] == patient.as_str()), "{same}");

    // Every reference Samverka emitted resolves for a reader allowed to read its source.
    let audit = fhir(&app, Some(&review), &format!("/fhir/AuditEvent?patient=Patient/{}&_count=200", fed.id)).await.1;
    let events = entries(&audit);
    assert!(
        events.iter().any(|e| e["agent"][0]["who"]["reference"].as_str().is_some_and(|r| r.starts_with("Device/"))),
        "the feed acts as a Device (of {} entries)",
        audit["total"]
    );
    emitted.extend(events);
    let mut refs = vec![];
    for r in &emitted {
        references(r, &mut refs);
    }
    refs.sort();
    refs.dedup();
    assert!(refs.iter().any(|r| r.starts_with("Device/")) && refs.iter().any(|r| r.starts_with("Practitioner/")));
    for r in &refs {
        let (s, o) = fhir(&app, Some(&ward), &format!("/fhir/{r}")).await;
        assert_eq!(s, StatusCode::OK, "{r} resolves: {o}");
        emitted.push(o);
    }
    // What claims an HL7 Sweden base profile meets it, and each of the four types claims it.
    let claimed: Vec<&str> = emitted.iter().filter_map(|r| r["meta"]["profile"][0].as_str()).collect();
    for ty in ["SEBasePatient", "SEBaseOrganization", "SEBasePractitioner", "SEBasePractitionerRole"] {
        assert!(claimed.iter().any(|p| p.ends_with(ty)), "{ty} is claimed");
    }
    let breaches: Vec<String> = emitted.iter().filter_map(se_base_breach).collect();
    assert!(breaches.is_empty(), "{breaches:?}");
    validate(&emitted);
});

/// What HL7 Sweden's base profiles (hl7se.fhir.base 1.1.0) ask of a resource that claims one:
/// identifier slices of at most one per system, an HSA-id typed PRN, at most one name, protected
/// identity only with the profile's security labels. None: it meets them.
fn se_base_breach(r: &Value) -> Option<String> {
    let profile = r["meta"]["profile"][0].as_str()?;
    let ids = r["identifier"].as_array().cloned().unwrap_or_default();
    let count = |system: &str| ids.iter().filter(|i| i["system"] == system).count();
    let typed = |system: &str, code: &str| {
        ids.iter().filter(|i| i["system"] == system).all(|i| {
            i["type"]["coding"].as_array().is_some_and(|c| {
                c.iter().any(|c| c["system"] == "http://terminology.hl7.org/CodeSystem/v2-0203" && c["code"] == code)
            })
        })
    };
    let hsa = "urn:oid:1.2.752.29.4.19";
    let names = r["name"].as_array().map_or(0, Vec::len);
    let breach = match profile.rsplit('/').next()? {
        "SEBasePatient" => {
            let labels: Vec<&str> = r["meta"]["security"]
                .as_array()
                .map_or(vec![], |l| l.iter().filter_map(|l| l["code"].as_str()).collect());
            let systems = ["personnummer", "samordningsnummer", "nationelltReservnummer"]
                .map(|s| format!("http://electronichealth.se/identifier/{s}"));
            (names > 1)
                .then(|| "more than one name".to_string())
                .or_else(|| systems.iter().find(|s| count(s) > 1).map(|s| format!("two identifiers in {s}")))
                .or_else(|| {
                    labels
                        .iter()
                        .find(|l| !["DEMO", "sekretessmarkering", "skyddadFolkbokforing"].contains(l))
                        .map(|l| format!("label {l}"))
                })
        }
        "SEBaseOrganization" => (count(hsa) > 1 || !typed(hsa, "PRN")).then(|| "hsaid slice".to_string()),
        "SEBasePractitioner" => {
            (names > 1 || count(hsa) > 1 || !typed(hsa, "PRN")).then(|| "name or hsaid slice".to_string())
        }
        "SEBasePractitionerRole" => (count(hsa) > 1 || !typed(hsa, "PRN")).then(|| "hsaid slice".to_string()),
        other => Some(format!("unknown profile {other}")),
    };
    breach.map(|b| format!("{profile}: {b} in {r}"))
}

fn urlencode(v: &str) -> String {
    serde_urlencoded::to_string([("x", v)]).unwrap()[2..].to_string()
}

on_both!(every_fhir_error_is_an_operation_outcome, |app: TestApp| async move {
    let w = &app.world;
    let (_, patient) = busy_case(&app, 4).await;
    let (admin, a) = account(&app.store, w.region, "ada", "Ada Admin", w.units.ward, Role::Administrator).await;
    let admin = session(&app.store, admin, w.units.ward, a).await;
    let client: Client = register(&app, &admin, w.units.ward, "vardsamordnare", &["system/*.read"]).await;
    let ward = bearer(&app, &client).await;
    let send = |method: reqwest::Method, path: String, headers: Vec<(&'static str, &'static str)>| {
        let (app, ward) = (&app, &ward);
        async move {
            let mut req = app.client.request(method, format!("{}{path}", app.base)).bearer_auth(ward);
            for (k, v) in headers {
                req = req.header(k, v);
            }
            let res = req.send().await.unwrap();
            let status = res.status();
            let allow = res.headers().get("allow").map(|v| v.to_str().unwrap().to_string());
            let ct = res.headers()["content-type"].to_str().unwrap().to_string();
            let body: Value = res.json().await.unwrap();
            assert!(ct.starts_with("application/fhir+json"), "{path}: {ct}");
            assert_eq!(body["resourceType"], "OperationOutcome", "{path}: {body}");
            assert!(body["issue"][0]["details"]["text"].as_str().is_some_and(|t| t.len() > 10), "{body}");
            (status, allow)
        }
    };
    use reqwest::Method;
    let cases = [
        (Method::GET, "/fhir/MedicationRequest".to_string(), vec![], StatusCode::NOT_FOUND),
        (Method::GET, "/fhir/Practitioner".into(), vec![], StatusCode::METHOD_NOT_ALLOWED),
        (Method::GET, format!("/fhir/Patient/{patient}/$everything"), vec![], StatusCode::NOT_FOUND),
        (Method::DELETE, format!("/fhir/Patient/{patient}"), vec![], StatusCode::METHOD_NOT_ALLOWED),
        (
            Method::POST,
            "/fhir/Patient".into(),
            vec![("content-type", "application/fhir+json")],
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (Method::GET, "/fhir/Patient?_format=xml".into(), vec![], StatusCode::NOT_ACCEPTABLE),
        (Method::GET, "/fhir/metadata?_format=application/fhir%2Bxml".into(), vec![], StatusCode::NOT_ACCEPTABLE),
        (Method::GET, "/fhir/Patient".into(), vec![("accept", "application/fhir+xml")], StatusCode::NOT_ACCEPTABLE),
        (Method::GET, "/fhir/Patient?_lastUpdated=2026-12-06T10:00:00".into(), vec![], StatusCode::BAD_REQUEST),
    ];
    for (method, path, headers, expected) in cases {
        let (status, allow) = send(method.clone(), path.clone(), headers).await;
        assert_eq!(status, expected, "{method} {path}");
        if status == StatusCode::METHOD_NOT_ALLOWED && path.contains(&patient) {
            assert!(allow.is_some_and(|a| a.contains("GET")), "{method} {path}: Allow names what is");
        }
    }
    // JSON asked for in any of its names is served.
    for accept in
        ["application/fhir+json", "application/json", "*/*", "application/fhir+json;q=0.9, application/fhir+xml"]
    {
        let res = app
            .client
            .get(format!("{}/fhir/Patient/{patient}", app.base))
            .bearer_auth(&ward)
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{accept}");
    }
    // The token endpoint keeps OAuth's own errors (RFC 6749), not OperationOutcomes.
    let res =
        app.client.post(format!("{}/fhir/auth/token", app.base)).body("grant_type=password").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "unsupported_grant_type");
});

on_both!(smart_discovery_names_the_token_endpoint, |app: TestApp| async move {
    let w = &app.world;
    let (admin, a) = account(&app.store, w.region, "ada", "Ada Admin", w.units.ward, Role::Administrator).await;
    let admin = session(&app.store, admin, w.units.ward, a).await;
    let client = register(&app, &admin, w.units.ward, "vardsamordnare", &["system/Organization.read"]).await;
    let (_, meta) = fhir(&app, None, "/fhir/metadata").await;
    let oauth = &meta["rest"][0]["security"]["extension"][0];
    assert_eq!(oauth["url"], "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris");
    let token_uri = oauth["extension"][0]["valueUri"].as_str().unwrap().to_string();
    assert_eq!(token_uri, format!("{}/fhir/auth/token", app.base));
    for path in ["/fhir/.well-known/smart-configuration", "/.well-known/smart-configuration"] {
        let conf: Value = app.client.get(format!("{}{path}", app.base)).send().await.unwrap().json().await.unwrap();
        assert_eq!(conf["token_endpoint"], token_uri, "{path}");
        assert_eq!(conf["grant_types_supported"], json!(["client_credentials"]));
        assert!(conf["scopes_supported"].as_array().unwrap().iter().any(|s| s == "system/Patient.read"));
    }
    // A client that knows only the base finds a token where discovery says.
    let res = app
        .client
        .post(&token_uri)
        .basic_auth(&client.id, Some(&client.secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // A forwarded host from a peer that is not a trusted proxy is not believed.
    let t = bearer(&app, &client).await;
    let (_, b) = get_with(&app, &t, "/fhir/Organization?_count=1", &[("x-forwarded-host", "evil.example")]).await;
    assert!(b["entry"][0]["fullUrl"].as_str().unwrap().starts_with(&format!("{}/fhir/Organization/", app.base)), "{b}");
    // The HSA-id is typed as HL7 Sweden's base profile asks, and the profile is claimed.
    let org = &b["entry"][0]["resource"];
    assert_eq!(org["meta"]["profile"][0], "http://hl7.se/fhir/ig/base/StructureDefinition/SEBaseOrganization");
    assert_eq!(org["identifier"][0]["type"]["coding"][0]["code"], "PRN");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_public_url_makes_the_links() {
    let config = samverka_app::AppConfig {
        public_url: Some("https://samverka.region.example".into()),
        ..crate::helpers::long_sessions()
    };
    let mut app = crate::helpers::spawn_app_with(crate::helpers::Db::Sqlite, config).await;
    let _dir = app.take_dir();
    let w = &app.world;
    let (admin, a) = account(&app.store, w.region, "ada", "Ada Admin", w.units.ward, Role::Administrator).await;
    let admin = session(&app.store, admin, w.units.ward, a).await;
    let t = bearer(&app, &register(&app, &admin, w.units.ward, "vardsamordnare", &["system/*.read"]).await).await;
    let b = fhir(&app, Some(&t), "/fhir/Organization?_count=1").await.1;
    assert!(
        b["entry"][0]["fullUrl"].as_str().unwrap().starts_with("https://samverka.region.example/fhir/Organization/")
    );
    assert!(links(&b).iter().all(|(_, u)| u.starts_with("https://samverka.region.example/fhir/Organization?")));
    let (_, meta) = fhir(&app, None, "/fhir/metadata").await;
    assert_eq!(
        meta["rest"][0]["security"]["extension"][0]["extension"][0]["valueUri"],
        "https://samverka.region.example/fhir/auth/token"
    );
}

on_both!(the_directory_says_when_it_changed, |app: TestApp| async move {
    let w = &app.world;
    let (admin, a) = account(&app.store, w.region, "ada", "Ada Admin", w.units.ward, Role::Administrator).await;
    let admin = session(&app.store, admin, w.units.ward, a).await;
    let t = bearer(&app, &register(&app, &admin, w.units.ward, "vardsamordnare", &["system/*.read"]).await).await;
    let ward = fhir(&app, Some(&t), &format!("/fhir/Organization/{}", w.units.ward)).await.1;
    let before = ward["meta"]["lastUpdated"].as_str().unwrap().to_string();
    let later = fhir(&app, Some(&t), &format!("/fhir/Organization?_lastUpdated=gt{}", urlencode(&before))).await.1;
    assert_eq!(later["total"], 0, "nothing changed since: {later}");

    // The ward's telephone number changes later (within the token's hour): only the ward has
    // changed since.
    app.clock.advance(jiff::SignedDuration::from_mins(20));
    let address = json!({ "phone": "08-123 456 00", "functional_mailbox": "avd21@region.example" });
    app.post(&admin, &format!("/api/admin/units/{}/address", w.units.ward), address, StatusCode::OK).await;
    let ward = fhir(&app, Some(&t), &format!("/fhir/Organization/{}", w.units.ward)).await.1;
    let after = ward["meta"]["lastUpdated"].as_str().unwrap().to_string();
    assert!(after > before, "{before} → {after}");
    let later = fhir(&app, Some(&t), &format!("/fhir/Organization?_lastUpdated=gt{}", urlencode(&before))).await.1;
    let ids: Vec<String> = entries(&later).iter().map(|o| o["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, [w.units.ward.to_string()]);

    // An assignment that ends is a PractitionerRole that changed.
    let who = crate::helpers::account(&app.store, w.region, "bo", "Bo Berg", w.units.ward, Role::Vardsamordnare).await;
    let (user, assignment) = (who.0, who.1);
    let roles = format!("/fhir/PractitionerRole?practitioner=Practitioner/{user}&_lastUpdated=gt");
    let now = samverka_app::Clock::now(app.clock.as_ref()).to_string();
    assert_eq!(fhir(&app, Some(&t), &format!("{roles}{}", urlencode(&now))).await.1["total"], 0);
    app.clock.advance(jiff::SignedDuration::from_mins(10));
    app.post(&admin, &format!("/api/admin/assignments/{assignment}/deactivate"), json!({}), StatusCode::NO_CONTENT)
        .await;
    let changed = fhir(&app, Some(&t), &format!("{roles}{}", urlencode(&now))).await.1;
    assert_eq!(changed["total"], 1, "{changed}");
    assert_eq!(changed["entry"][0]["resource"]["active"], false);
});
