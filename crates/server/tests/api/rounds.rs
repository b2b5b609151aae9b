//! Joint rounds over HTTP: the persons a round's unit meets there (only those whose care it
//! takes part in, each read logged), a note that reaches the next round with its open actions,
//! the list units put persons on, the page that keeps what was typed, and the notes over FHIR.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{As, TestApp, page, pnr, submit, ts};
use crate::on_both;

fn consent(kind: &str) -> Value {
    json!({ "kind": kind, "given_by": { "kind": "patient" }, "given_at": ts("2026-11-02 07:30").to_string() })
}

/// A coordination at home by the vårdcentral for `n`'s person; with the biståndsenhet invited
/// and a SIP drawn up when `sip`.
pub(crate) async fn coordination(app: &TestApp, n: u16, invite: bool, sip: bool) -> (String, String) {
    let w = &app.world;
    let person =
        json!({ "identifier": pnr(n), "given_name": "Greta", "family_name": format!("Lind{n}"), "kommun": "0184" });
    let v = app
        .post(
            &w.vc,
            "/api/home-coordinations",
            json!({ "patient": person, "reason": "Fallit i hemmet; hemtjänst och hemsjukvård samordnas" }),
            StatusCode::CREATED,
        )
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    let patient = v["patient"]["id"].as_str().unwrap().to_string();
    let p = |x: &str| format!("/api/cases/{id}{x}");
    for kind in ["information_sharing", "sip_call", "sip"] {
        app.post(&w.vc, &p("/consents"), consent(kind), StatusCode::CREATED).await;
    }
    if invite {
        let invite = json!({ "unit": w.units.bistand, "reason": "Hemtjänst behövs" });
        app.post(&w.vc, &p("/parties"), invite, StatusCode::OK).await;
    }
    if sip {
        let call = json!({ "body": { "kind": "kallelse_sip", "meeting_at": ts("2026-11-02 13:00").to_string(), "place": "Hemma", "patient_invited": true, "relatives_invited": false } });
        app.post(&w.vc, &p("/messages"), call, StatusCode::CREATED).await;
        let plan = json!({
            "needs": ["Hjälp med dusch"],
            "insatser": [{ "principal": "kommun", "description": "Hemtjänst morgon och kväll" }],
            "overall_responsible": "kommun",
            "own_goals": "Bo kvar hemma.",
            "participants": [{ "name": "Personen", "role": "patient" }],
            "coordinator": { "name": "Disa", "unit": w.units.vc },
            "follow_up_date": "2026-12-15",
            "follow_up_how": "Hembesök"
        });
        app.post(&w.vc, &p("/sip"), plan, StatusCode::CREATED).await;
    }
    (id, patient)
}

/// A joint round organised by Solna's biståndsenhet with the vårdcentral and the other
/// vårdcentral as members; a meeting this morning (under way) and one next week.
pub(crate) async fn round(app: &TestApp) -> (String, String, String) {
    let w = &app.world;
    let spec = json!({
        "name": "Rond Solna centrum",
        "kind": "rond",
        "purpose": "Vårdcentralen, hemsjukvården och hemtjänsten går igenom gemensamma patienter.",
        "schedule": { "first_date": "2026-11-03", "interval_weeks": 1, "start": "07:00", "duration_minutes": 90, "paused": false },
    });
    let f = app.post(&w.chef_solna, "/api/forums", spec, StatusCode::CREATED).await;
    let forum = f["forum"]["id"].as_str().unwrap().to_string();
    for unit in [app.world.units.vc, app.world.units.other_vc] {
        let member = json!({ "unit_id": unit, "role": "sjukskoterska", "mandate": "Vårdcentralens insatser" });
        app.post(&w.chef_solna, &format!("/api/forums/{forum}/members"), member, StatusCode::OK).await;
    }
    let meetings = format!("/api/forums/{forum}/meetings");
    let m = app.post(&w.chef_solna, &meetings, json!({ "date": "2026-11-03" }), StatusCode::CREATED).await;
    let now = m["meeting"]["id"].as_str().unwrap().to_string();
    let m = app.post(&w.chef_solna, &meetings, json!({ "date": "2026-11-10" }), StatusCode::CREATED).await;
    let next = m["meeting"]["id"].as_str().unwrap().to_string();
    (forum, now, next)
}

async fn persons(app: &TestApp, who: &As, meeting: &str) -> Value {
    app.get(who, &format!("/api/meetings/{meeting}/round")).await
}

on_both!(a_round_lists_the_shared_persons_and_its_note_reaches_the_next_round, |app: TestApp| async move {
    let w = &app.world;
    app.at("2026-11-02 08:00");
    let (greta, patient) = coordination(&app, 31, true, true).await;
    app.at("2026-11-03 08:00");
    let (forum, now, next) = round(&app).await;

    // The vårdcentral and the biståndsenhet take part in Greta's care and meet her on the round.
    for who in [&w.vc, &w.bistand] {
        let r = persons(&app, who, &now).await;
        let on: Vec<&str> = r["patients"].as_array().unwrap().iter().map(|p| p["case_id"].as_str().unwrap()).collect();
        assert_eq!(on, [greta.as_str()], "{r}");
        assert_eq!(r["patients"][0]["sip_in_force"], true);
    }
    // The other vårdcentral is at the round but not in her care: it does not see her.
    let r = persons(&app, &w.other_vc, &now).await;
    assert_eq!((r["patients"].as_array().unwrap().len(), r["may_list"].as_array().unwrap().len()), (0, 0), "{r}");
    // Outside the round, the round does not exist.
    let p = app.expect(&w.ward, Method::GET, &format!("/api/meetings/{now}/round"), None, StatusCode::NOT_FOUND).await;
    assert_eq!(p["code"], "forum_not_found");
    // Every person shown is in the access log, with the meeting.
    let filter = samverka_store::AccessFilter { user_id: Some(w.vc.user), limit: 50, ..Default::default() };
    let log = app.store.access_log(&filter).await.unwrap();
    let read = log.iter().find(|e| e.action == "round.read").unwrap();
    assert_eq!(read.patient_id.map(|p| p.to_string()), Some(patient.clone()));
    assert_eq!(read.object_id.map(|o| o.to_string()), Some(now.clone()));

    // The round's note, with an action owned by the biståndsenhet.
    let note = |meeting: &str, owner: uuid::Uuid| {
        json!({
            "meeting_id": meeting,
            "changed": "Har fallit två gånger sedan förra ronden.",
            "professions": [
                { "profession": "sjukskoterska", "what": "Ser över läkemedlen." },
                { "profession": "hemtjanst", "what": "Tillsyn på kvällen." }
            ],
            "next_review": "2026-11-10",
            "actions": [{ "what": "Pröva trygghetslarm", "owner_unit": owner, "owner_name": "Bodil", "due": "2026-11-09" }]
        })
    };
    let notes = format!("/api/cases/{greta}/round-notes");
    // Not before the round has begun, nor with an owner outside her care, nor by an outsider.
    let p = app.post(&w.vc, &notes, note(&next, w.units.bistand), StatusCode::CONFLICT).await;
    assert_eq!(p["code"], "meeting_not_started");
    let p = app.post(&w.vc, &notes, note(&now, w.units.hsl), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["code"], "owner_not_a_party");
    let p = app.post(&w.other_vc, &notes, note(&now, w.units.bistand), StatusCode::FORBIDDEN).await;
    assert_eq!(p["code"], "not_a_party");
    let v = app.post(&w.vc, &notes, note(&now, w.units.bistand), StatusCode::CREATED).await;
    assert_eq!(v["state"]["rounds"]["notes"][0]["note"]["changed"], "Har fallit två gånger sedan förra ronden.");

    // At the next round: what the round before said, and the action still open.
    app.at("2026-11-10 08:00");
    let r = persons(&app, &w.bistand, &next).await;
    let greta_there = &r["patients"][0];
    assert_eq!(greta_there["before"]["note"]["changed"], "Har fallit två gånger sedan förra ronden.", "{r}");
    assert!(greta_there["note"].is_null(), "nothing written at this round yet");
    let open = greta_there["open_actions"].as_array().unwrap();
    assert_eq!(open.len(), 1);
    let action = open[0]["id"].as_str().unwrap().to_string();
    // Only the unit that owns it marks it done.
    let done = format!("/api/cases/{greta}/round-actions/{action}/done");
    let p = app.post(&w.vc, &done, json!({}), StatusCode::FORBIDDEN).await;
    assert_eq!(p["code"], "not_action_owner");
    app.post(&w.bistand, &done, json!({}), StatusCode::OK).await;
    let r = persons(&app, &w.vc, &next).await;
    assert_eq!(r["patients"][0]["open_actions"].as_array().unwrap().len(), 0);

    // A person without a SIP joins the round when a unit puts them on its list, and only where
    // another of the round's units takes part in the care.
    let (alone, _) = coordination(&app, 32, false, false).await;
    let list = format!("/api/forums/{forum}/round-patients");
    let p = app.post(&w.vc, &list, json!({ "case_id": alone }), StatusCode::CONFLICT).await;
    assert_eq!(p["code"], "round_nobody_to_share");
    app.post(
        &w.vc,
        &format!("/api/cases/{alone}/parties"),
        json!({ "unit": w.units.bistand, "reason": "Hemtjänst" }),
        StatusCode::OK,
    )
    .await;
    let r = persons(&app, &w.vc, &next).await;
    assert_eq!(r["may_list"][0]["case_id"], alone.as_str(), "{r}");
    assert_eq!(r["patients"].as_array().unwrap().len(), 1);
    app.post(&w.vc, &list, json!({ "case_id": alone }), StatusCode::NO_CONTENT).await;
    app.post(&w.vc, &list, json!({ "case_id": alone }), StatusCode::NO_CONTENT).await;
    let r = persons(&app, &w.bistand, &next).await;
    let listed: Vec<(&str, bool)> = r["patients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["case_id"].as_str().unwrap(), p["listed"].as_bool().unwrap()))
        .collect();
    assert!(listed.contains(&(alone.as_str(), true)) && listed.contains(&(greta.as_str(), false)), "{listed:?}");
    // Only a round's list takes persons: not an ordinary forum's.
    let spec = json!({
        "name": "Fredagsavstämning",
        "kind": "statusmote",
        "purpose": "Samma besked till alla.",
        "schedule": { "first_date": "2026-11-06", "interval_weeks": 1, "start": "13:00", "duration_minutes": 60, "paused": false },
    });
    let f = app.post(&w.chef_solna, "/api/forums", spec, StatusCode::CREATED).await;
    let status = f["forum"]["id"].as_str().unwrap();
    let p = app
        .post(
            &w.chef_solna,
            &format!("/api/forums/{status}/round-patients"),
            json!({ "case_id": alone }),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(p["code"], "role_not_permitted", "a leader without care work is refused first");
    let p = app
        .post(
            &w.bistand,
            &format!("/api/forums/{status}/round-patients"),
            json!({ "case_id": alone }),
            StatusCode::NOT_FOUND,
        )
        .await;
    assert_eq!(p["code"], "round_not_found");

    // Over FHIR the note is an Observation of the person, validated like every resource.
    let token = crate::fhir::vc_reader(&app).await;
    let (s, note) = crate::fhir::fhir(&app, Some(&token), &format!("/fhir/Observation/{greta}-round-1")).await;
    assert_eq!(s, StatusCode::OK, "{note}");
    assert_eq!(note["code"]["coding"][0]["code"], "round-note");
    assert_eq!(note["component"][0]["valueString"], "Har fallit två gånger sedan förra ronden.");
    let (_, all) = crate::fhir::fhir(&app, Some(&token), &format!("/fhir/Observation?patient={patient}")).await;
    let ids: Vec<&str> =
        all["entry"].as_array().unwrap().iter().map(|e| e["resource"]["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&format!("{greta}-round-1").as_str()), "{ids:?}");
    let (s, _) = crate::fhir::fhir(&app, Some(&token), &format!("/fhir/Observation/{greta}-round-2")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    crate::fhir::validate(&[note, all]);
});

on_both!(the_rounds_page_shows_the_person_and_keeps_what_was_typed, |app: TestApp| async move {
    let w = &app.world;
    app.at("2026-11-02 08:00");
    let (greta, _) = coordination(&app, 33, true, true).await;
    app.at("2026-11-03 08:00");
    let (_, now, next) = round(&app).await;
    // The meeting's page leads to the round's persons.
    let (_, meeting) = page(&app, &w.vc, &format!("/moten/{now}")).await;
    assert!(meeting.contains(&format!("/moten/{now}/rond")));
    let (s, shown) = page(&app, &w.vc, &format!("/moten/{now}/rond")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        shown.contains("Greta Lind33")
            && shown.contains("SIP gäller")
            && shown.contains("Skriv anteckning från ronden")
    );
    // Outside her care, the page does not show her; outside the round, there is no page.
    let (_, other) = page(&app, &w.other_vc, &format!("/moten/{now}/rond")).await;
    assert!(!other.contains("Lind33"));
    assert_eq!(page(&app, &w.ward, &format!("/moten/{now}/rond")).await.0, StatusCode::NOT_FOUND);

    // A refused note comes back with the reason and everything typed.
    let form = |review: &'static str| {
        vec![
            ("changed", "Sover dåligt, orolig på nätterna."),
            ("prof_hemtjanst", "Extra tillsyn klockan 22."),
            ("next_review", review),
            ("action_what", "Kontakta anhörig"),
            ("action_owner_unit", "x"),
            ("action_owner_name", "Sjuksköterskan"),
            ("action_due", "2026-11-06"),
        ]
    };
    let unit = w.units.vc.to_string();
    let mut bad = form("2026-10-01");
    bad[4] = ("action_owner_unit", unit.as_str());
    let (s, refused) = submit(&app, &w.vc, &format!("/moten/{now}/rond/{greta}"), &bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.contains("Sover dåligt, orolig på nätterna.") && refused.contains("Extra tillsyn klockan 22."));
    let mut good = form("2026-11-10");
    good[4] = ("action_owner_unit", unit.as_str());
    let (s, to) = submit(&app, &w.vc, &format!("/moten/{now}/rond/{greta}"), &good).await;
    assert!(s.is_redirection(), "{s} {to}");
    // The next round shows it as the round before, with the open action the vårdcentral may close.
    app.at("2026-11-10 08:00");
    let (_, then) = page(&app, &w.vc, &format!("/moten/{next}/rond")).await;
    assert!(then.contains("Förra ronden") && then.contains("Sover dåligt, orolig på nätterna."));
    assert!(then.contains("Kontakta anhörig") && then.contains("Dags för genomgång"));
    assert!(then.contains(&format!("/rond/{greta}/klar/")));
    // The case's history says it too.
    let (_, case) = page(&app, &w.bistand, &format!("/arenden/{greta}")).await;
    assert!(case.contains("skrev en anteckning från gemensam rond"));
});
