//! A coordination at home over the pages and the JSON API: started by the vårdcentral for a
//! person Samverka did not know, joined by the municipality, called, drawn up, and linked with a
//! hospital stay both ways.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, page, pnr, submit, ts};
use crate::on_both;

fn plan(vc: uuid::Uuid) -> Value {
    json!({
        "needs": ["Stöd med läkemedel", "Hjälp med dusch"],
        "insatser": [{ "principal": "kommun", "description": "Hemtjänst morgon och kväll" }],
        "overall_responsible": "kommun",
        "own_goals": "Bo kvar hemma.",
        "participants": [{ "name": "Personen", "role": "patient" }],
        "coordinator": { "name": "Disa Distriktssköterska", "unit": vc },
        "follow_up_date": "2026-12-15",
        "follow_up_how": "Hembesök"
    })
}

fn consent(kind: &str) -> Value {
    json!({ "kind": kind, "given_by": { "kind": "patient" }, "given_at": ts("2026-11-02 07:30").to_string() })
}

on_both!(a_coordination_at_home_is_started_called_and_linked_with_a_hospital_stay, |app: TestApp| async move {
    let w = &app.world;
    // Offered to the vårdcentral, not to a ward.
    let (s, form) = page(&app, &w.vc, "/arenden/ny-samordning").await;
    assert!(s == StatusCode::OK && form.contains("Ny samordning i hemmet"), "{s}");
    assert_eq!(page(&app, &w.ward, "/arenden/ny-samordning").await.0, StatusCode::FORBIDDEN);
    let person = pnr(15);
    let vc_unit = w.units.vc.to_string();
    let fields = [
        ("identifier", person.as_str()),
        ("given_name", "Greta"),
        ("family_name", "Lind"),
        ("kommun", "0184"),
        ("listed_unit", vc_unit.as_str()),
        ("reason", "Fallit tre gånger i höst; hemtjänst och hemsjukvård behöver samordnas"),
    ];
    // A missing reason comes back with everything typed.
    let mut no_reason = fields;
    no_reason[5] = ("reason", " ");
    let (s, refused) = submit(&app, &w.vc, "/arenden/ny-samordning", &no_reason).await;
    assert!(s.is_client_error() && refused.contains("Greta") && refused.contains(&person), "{s}");
    let (s, to) = submit(&app, &w.vc, "/arenden/ny-samordning", &fields).await;
    assert!(s.is_redirection(), "{s} {to}");
    let home =
        to.trim_start_matches("/arenden/").split(['?', '#']).next().unwrap().chars().take(36).collect::<String>();
    let (_, shown) = page(&app, &w.vc, &format!("/arenden/{home}")).await;
    for expected in ["Samordning i hemmet", "Samordning påbörjad", "Fallit tre gånger i höst", "Kalla till SIP"] {
        assert!(shown.contains(expected), "{expected}");
    }
    // Nobody else reaches it before being invited.
    assert_eq!(page(&app, &w.bistand, &format!("/arenden/{home}")).await.0, StatusCode::FORBIDDEN);
    // One open coordination per person: a second start names the first to a unit in it.
    let (s, again) = submit(&app, &w.vc, "/arenden/ny-samordning", &fields).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(again.contains("redan en pågående samordning") && again.contains(&format!("/arenden/{home}")));

    // Invited with consent, called with receipts, drawn up.
    let p = |x: &str| format!("/api/cases/{home}{x}");
    let invite = json!({ "unit": w.units.bistand, "reason": "Hemtjänst behövs" });
    let refused = app.post(&w.vc, &p("/parties"), invite.clone(), StatusCode::FORBIDDEN).await;
    assert_eq!(refused["code"], "consent_required", "{refused}");
    for kind in ["information_sharing", "sip_call", "sip"] {
        app.post(&w.vc, &p("/consents"), consent(kind), StatusCode::CREATED).await;
    }
    app.post(&w.vc, &p("/parties"), invite, StatusCode::OK).await;
    let call = json!({ "body": { "kind": "kallelse_sip", "meeting_at": ts("2026-11-05 13:00").to_string(), "place": "Hemma", "patient_invited": true, "relatives_invited": true } });
    let v = app.post(&w.vc, &p("/messages"), call, StatusCode::CREATED).await;
    assert_eq!(v["phase"], "sip_called");
    let message = v["state"]["messages"][0]["message"]["id"].as_str().unwrap().to_string();
    app.post(&w.bistand, &p(&format!("/messages/{message}/acknowledge")), json!({}), StatusCode::OK).await;
    let v = app.post(&w.vc, &p("/sip"), plan(w.units.vc), StatusCode::CREATED).await;
    assert_eq!(v["phase"], "sip_drawn_up");
    // The hospital's steps are not offered here, and refused if tried.
    assert!(!v["available"].as_array().unwrap().iter().any(|a| a["kind"] == "inskrivningsmeddelande"));
    let notice = json!({ "body": { "kind": "planeringsunderlag", "needs": "Hemtjänst" } });
    assert_eq!(app.post(&w.vc, &p("/messages"), notice, StatusCode::CONFLICT).await["code"], "step_out_of_order");

    // Admitted to hospital with the plan in force: the discharge case links to it.
    let patient = v["patient"]["id"].clone();
    let admit = json!({ "patient_id": patient, "admitted_at": ts("2026-11-02 07:45").to_string() });
    let c = app.post(&w.ward, "/api/cases", admit, StatusCode::CREATED).await;
    let stay = c["id"].as_str().unwrap().to_string();
    assert_eq!(c["state"]["sip_at_home"], home.as_str());
    let notice = json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" } });
    app.post(&w.ward, &format!("/api/cases/{stay}/messages"), notice, StatusCode::CREATED).await;
    // The vårdcentral takes part in both, so it sees the link both ways; the ward does not
    // take part at home, so it does not.
    let (_, at_vc) = page(&app, &w.vc, &format!("/arenden/{stay}")).await;
    assert!(at_vc.contains("Patienten har en SIP i kraft i hemmet") && at_vc.contains(&format!("/arenden/{home}")));
    let (_, home_page) = page(&app, &w.vc, &format!("/arenden/{home}")).await;
    assert!(home_page.contains("Inskriven på sjukhus med den här planen i kraft"));
    assert!(home_page.contains(&format!("/arenden/{stay}")));
    let (_, at_ward) = page(&app, &w.ward, &format!("/arenden/{stay}")).await;
    assert!(!at_ward.contains(&format!("/arenden/{home}")), "the ward is not in the care at home");
    // The feed's rule sees the person in joint care (a SIP in force).
    assert!(app.store.patient_in_joint_care(patient.as_str().unwrap().parse().unwrap()).await.unwrap());
    // Over FHIR: the coordination is an EpisodeOfCare of its own kind with its plan as a
    // CarePlan, and no hospital stay (Encounter); validated like every resource.
    let token = crate::fhir::vc_reader(&app).await;
    let (s, episode) = crate::fhir::fhir(&app, Some(&token), &format!("/fhir/EpisodeOfCare/{home}")).await;
    assert_eq!((s, episode["type"][0]["coding"][0]["code"].as_str()), (StatusCode::OK, Some("home")), "{episode}");
    let (s, plan) = crate::fhir::fhir(&app, Some(&token), &format!("/fhir/CarePlan/{home}")).await;
    assert_eq!(s, StatusCode::OK, "{plan}");
    let (s, none) = crate::fhir::fhir(&app, Some(&token), &format!("/fhir/Encounter/{home}")).await;
    assert_eq!((s, none["resourceType"].as_str()), (StatusCode::NOT_FOUND, Some("OperationOutcome")));
    let (_, stays) =
        crate::fhir::fhir(&app, Some(&token), &format!("/fhir/Encounter?patient={}", patient.as_str().unwrap())).await;
    let ids: Vec<&str> =
        stays["entry"].as_array().unwrap().iter().map(|e| e["resource"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [stay.as_str()], "only the hospital stay");
    crate::fhir::validate(&[episode, plan, stays]);

    // The stay is no coordination: a second admission still states why.
    let admit = json!({ "patient_id": patient, "admitted_at": ts("2026-11-02 07:50").to_string() });
    assert_eq!(app.post(&w.ward, "/api/cases", admit, StatusCode::CONFLICT).await["code"], "open_case_exists");
});

on_both!(a_sip_from_discharge_continues_at_home_and_the_discharge_case_closes, |app: TestApp| async move {
    let w = &app.world;
    let (case, _) = crate::fhir::busy_case(&app, 16).await;
    let p = |x: &str| format!("/api/cases/{case}{x}");
    let home_id = uuid::Uuid::now_v7();
    let go_on = json!({ "id": home_id });
    // Not while the patient is in hospital.
    let early = app.post(&w.vc, &p("/continue-at-home"), go_on.clone(), StatusCode::CONFLICT).await;
    assert_eq!(early["code"], "step_out_of_order");
    let out = json!({ "body": { "kind": "information_vid_utskrivning", "discharged_at": ts("2026-11-02 08:00").to_string(), "medication": "Enligt läkemedelslistan" } });
    app.post(&w.ward, &p("/messages"), out, StatusCode::CREATED).await;
    // The ward's part ends with the stay.
    assert_eq!(
        app.post(&w.ward, &p("/continue-at-home"), go_on.clone(), StatusCode::FORBIDDEN).await["code"],
        "not_at_home"
    );
    // Offered on the page to the vårdcentral.
    let (_, offered) = page(&app, &w.vc, &format!("/arenden/{case}")).await;
    assert!(offered.contains("Fortsätt SIP i hemmet") && offered.contains("/fortsatt-hemma"));
    let v = app.post(&w.vc, &p("/continue-at-home"), go_on.clone(), StatusCode::CREATED).await;
    assert_eq!(v["id"], home_id.to_string());
    assert_eq!(
        (v["phase"].as_str(), v["state"]["home"]["continues_from"].as_str()),
        (Some("sip_drawn_up"), Some(case.as_str()))
    );
    assert_eq!(v["state"]["sip"]["versions"][0]["plan"]["own_goals"], "Klara mig hemma och gå till affären själv.");
    let parties: Vec<&str> =
        v["state"]["parties"].as_array().unwrap().iter().map(|p| p["unit"]["kind"].as_str().unwrap()).collect();
    assert!(!parties.contains(&"ward") && parties.contains(&"bistandsenhet"), "{parties:?}");
    let closed = app.get(&w.vc, &p("")).await;
    assert_eq!(
        (closed["phase"].as_str(), closed["state"]["continued_at_home"].as_str()),
        (Some("closed"), Some(home_id.to_string().as_str()))
    );
    // A retry answers the same coordination and changes nothing.
    let again = app.post(&w.vc, &p("/continue-at-home"), go_on, StatusCode::CREATED).await;
    assert_eq!(
        (again["id"].clone(), again["state"]["version"].clone()),
        (v["id"].clone(), v["state"]["version"].clone())
    );
    // The municipality, in the plan, follows it at home; the ward does not.
    assert_eq!(app.get(&w.bistand, &format!("/api/cases/{home_id}")).await["id"], home_id.to_string());
    app.expect(&w.ward, reqwest::Method::GET, &format!("/api/cases/{home_id}"), None, StatusCode::FORBIDDEN).await;
});

on_both!(
    a_sip_from_discharge_goes_on_as_a_new_version_of_the_coordination_already_at_home,
    |app: TestApp| async move {
        let w = &app.world;
        app.at("2026-11-02 08:00");
        let person = json!({ "identifier": pnr(17), "given_name": "Sten", "family_name": "Berg", "kommun": "0184", "listed_unit": w.units.vc });
        let v = app
            .post(
                &w.vc,
                "/api/home-coordinations",
                json!({ "patient": person, "reason": "Hjärtsvikt; hemsjukvård och hemtjänst samordnas" }),
                StatusCode::CREATED,
            )
            .await;
        let home = v["id"].as_str().unwrap().to_string();
        let patient = v["patient"]["id"].clone();
        let h = |x: &str| format!("/api/cases/{home}{x}");
        for kind in ["information_sharing", "sip_call", "sip"] {
            app.post(&w.vc, &h("/consents"), consent(kind), StatusCode::CREATED).await;
        }
        app.post(&w.vc, &h("/parties"), json!({ "unit": w.units.bistand, "reason": "Hemtjänst" }), StatusCode::OK)
            .await;
        let call = |at: &str| json!({ "body": { "kind": "kallelse_sip", "meeting_at": ts(at).to_string(), "place": "Hemma", "patient_invited": true, "relatives_invited": false } });
        app.post(&w.vc, &h("/messages"), call("2026-11-02 13:00"), StatusCode::CREATED).await;
        app.post(&w.vc, &h("/sip"), plan(w.units.vc), StatusCode::CREATED).await;

        // Admitted with the plan in force; at discharge the plan is revised.
        app.at("2026-11-03 07:00");
        let admit = json!({ "patient_id": patient, "admitted_at": ts("2026-11-03 06:30").to_string() });
        let stay =
            app.post(&w.ward, "/api/cases", admit, StatusCode::CREATED).await["id"].as_str().unwrap().to_string();
        let s = |x: &str| format!("/api/cases/{stay}{x}");
        let notice = json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-06" } });
        app.post(&w.ward, &s("/messages"), notice, StatusCode::CREATED).await;
        for kind in ["information_sharing", "sip_call", "sip"] {
            app.post(&w.vc, &s("/consents"), consent(kind), StatusCode::CREATED).await;
        }
        app.post(&w.vc, &s("/messages"), call("2026-11-04 13:00"), StatusCode::CREATED).await;
        let mut revised = plan(w.units.vc);
        revised["own_goals"] = json!("Klara trapporna igen.");
        app.post(&w.vc, &s("/sip"), revised, StatusCode::CREATED).await;
        let out = json!({ "body": { "kind": "information_vid_utskrivning", "discharged_at": ts("2026-11-05 10:00").to_string(), "medication": "Enligt läkemedelslistan" } });
        app.at("2026-11-05 11:00");
        app.post(&w.ward, &s("/messages"), out, StatusCode::CREATED).await;

        // Home again: the revised plan is a new version of the coordination already there.
        let v = app.post(&w.vc, &s("/continue-at-home"), json!({}), StatusCode::CREATED).await;
        assert_eq!(v["id"], home.as_str(), "no second coordination");
        let versions = v["state"]["sip"]["versions"].as_array().unwrap();
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[1]["plan"]["own_goals"], "Klara trapporna igen.");
        let closed = app.get(&w.vc, &s("")).await;
        assert_eq!(
            (closed["phase"].as_str(), closed["state"]["continued_at_home"].as_str()),
            (Some("closed"), Some(home.as_str()))
        );
        // A retry answers the same coordination and draws nothing up twice.
        let again = app.post(&w.vc, &s("/continue-at-home"), json!({}), StatusCode::CREATED).await;
        assert_eq!(
            (again["id"].clone(), again["state"]["version"].clone()),
            (v["id"].clone(), v["state"]["version"].clone())
        );
    }
);
