//! Forums over HTTP: a status meeting from raised items to approved minutes with action items
//! and attendance; who may see and change what (each denial tested and logged); bad input
//! keeps what was typed; the minutes as a document; meetings as iCalendar, read by an
//! independent parser (the `icalendar` package from PyPI).

use reqwest::StatusCode;
use samverka_store::AccessFilter;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{TestApp, denied, no_redirects, page, submit};
use crate::on_both;

fn id_after(location: &str, prefix: &str) -> String {
    location.strip_prefix(prefix).unwrap_or_else(|| panic!("{location}")).split(['#', '?']).next().unwrap().to_string()
}

/// Reads an iCalendar file with the independent parser.
fn read_ics(body: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.ics");
    std::fs::write(&path, body).unwrap();
    let out = std::process::Command::new(samverka_testkit::python())
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/read_ics.py"))
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

const FORUM: &[(&str, &str)] = &[
    ("name", "Fredagsavstämning Solna"),
    ("kind", "statusmote"),
    ("purpose", "Kommunen och alla utförare hör samma besked samtidigt."),
    ("video_link", "https://mote.example.se/fredag"),
    ("first_date", "2026-11-06"),
    ("interval_weeks", "1"),
    ("start", "13:00"),
    ("duration_minutes", "60"),
];

on_both!(a_status_meeting_from_raised_items_to_approved_minutes, |app: TestApp| async move {
    let w = &app.world;
    let chair = &w.chef_solna; // enhetschef at Solna's biståndsenhet
    let (ward, vc) = (&w.ward, &w.vc);

    // Bad input is refused in Swedish and what was typed stays in the form.
    let mut bad = FORUM.to_vec();
    bad[3] = ("video_link", "javascript:alert(1)");
    let (status, body) = submit(&app, chair, "/forum", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains(
            "Möteslänken ska vara en webbadress som börjar med https://, till exempel https://mote.example.se/abc."
        ),
        "the reason says what to write: {body}"
    );
    assert!(body.contains("value=\"Fredagsavstämning Solna\""), "the name typed is kept");
    // Only leaders create forums.
    let (status, _) = submit(&app, ward, "/forum", FORUM).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, location) = submit(&app, chair, "/forum", FORUM).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let forum = id_after(&location, "/forum/");

    // Need-to-know: a unit outside the forum is told it does not exist, and that is logged.
    let (status, body) = page(&app, ward, &format!("/forum/{forum}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains("Fredagsavstämning"));
    assert_eq!(denied(&app, ward, "forum.read", Some(&forum)).await, 1);

    let ward_unit = w.units.ward.to_string();
    let member =
        [("unit", ward_unit.as_str()), ("role", "vardsamordnare"), ("mandate", "Beslut om avdelningens rutiner")];
    assert_eq!(submit(&app, chair, &format!("/forum/{forum}/medlemmar"), &member).await.0, StatusCode::SEE_OTHER);
    let (status, body) = page(&app, ward, &format!("/forum/{forum}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Beslut om avdelningens rutiner"), "members and their mandates are shown");
    let (_, list) = page(&app, ward, "/forum").await;
    assert!(list.contains("Fredagsavstämning Solna"));

    // A member may not run the forum: neither the ward nor the organiser's own needs assessor.
    for who in [ward, &w.bistand] {
        let (status, _) = submit(&app, who, &format!("/forum/{forum}/schema"), &[("change", "lowered")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(denied(&app, who, "forum.schedule", Some(&forum)).await, 1);
    }
    assert_eq!(
        submit(&app, chair, &format!("/forum/{forum}/schema"), &[("change", "lowered")]).await.0,
        StatusCode::SEE_OTHER
    );
    let (_, body) = page(&app, chair, &format!("/forum/{forum}")).await;
    assert!(body.contains("Varannan vecka, fredagar kl. 13.00"), "the schedule was lowered");
    assert!(body.contains("Glesare möten"), "and the change is in the history");
    assert_eq!(
        submit(&app, chair, &format!("/forum/{forum}/schema"), &[("change", "raised")]).await.0,
        StatusCode::SEE_OTHER
    );

    // The ward raises an item with the template; "arbeta" must say what is asked.
    let item = [
        ("kind", "arbeta"),
        ("title", "Hjälpmedel vid helgutskrivning"),
        ("why", "Patienter kommer hem utan rullator."),
        ("affected", "Hemtjänsten"),
        ("ask", ""),
    ];
    let (status, body) = submit(&app, ward, &format!("/forum/{forum}/punkter"), &item).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("Skriv vad forumet ska göra med punkten: fatta beslut, tycka till eller ge mandat.")
            && body.contains("Är det bara för kännedom, välj"),
        "{body}"
    );
    assert!(body.contains("Patienter kommer hem utan rullator."), "what was typed is kept");
    let mut item = item.to_vec();
    item[4] = ("ask", "Beslut om gemensam rutin");
    assert_eq!(submit(&app, ward, &format!("/forum/{forum}/punkter"), &item).await.0, StatusCode::SEE_OTHER);
    let info = [
        ("kind", "bra_att_veta"),
        ("title", "Ny telefontid"),
        ("why", "Biståndsenheten svarar 8–16."),
        ("affected", ""),
        ("ask", ""),
    ];
    assert_eq!(submit(&app, ward, &format!("/forum/{forum}/punkter"), &info).await.0, StatusCode::SEE_OTHER);
    let items = app.store.forum_items(forum.parse().unwrap(), None).await.unwrap();
    assert_eq!(items.len(), 2);
    let (work, good) = (items[0].id.to_string(), items[1].id.to_string());

    // The chair plans Friday's meeting from the schedule and builds the agenda.
    assert_eq!(
        submit(&app, ward, &format!("/forum/{forum}/moten"), &[("date", "2026-11-06")]).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, location) = submit(&app, chair, &format!("/forum/{forum}/moten"), &[("date", "2026-11-06")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let meeting = id_after(&location, "/moten/");
    let (status, _) = submit(&app, chair, &format!("/forum/{forum}/moten"), &[("date", "2026-11-06")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "one meeting per time");
    for i in [&work, &good] {
        assert_eq!(
            submit(&app, chair, &format!("/moten/{meeting}/dagordning"), &[("item", i)]).await.0,
            StatusCode::SEE_OTHER
        );
    }
    assert_eq!(
        submit(&app, ward, &format!("/moten/{meeting}/dagordning"), &[("item", &work), ("remove", "1")]).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, body) = page(&app, ward, &format!("/moten/{meeting}")).await;
    assert!(body.contains("Hjälpmedel vid helgutskrivning") && body.contains("Bra att veta"));
    assert_eq!(page(&app, vc, &format!("/moten/{meeting}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(denied(&app, vc, "forum.meeting_read", Some(&meeting)).await, 1);

    // Minutes wait for the meeting.
    let note = format!("note_{work}");
    let decision = format!("decision_{work}");
    let minutes = [
        (note.as_str(), "Diskuterades."),
        (decision.as_str(), "Avdelningen tar fram en rutin."),
        ("notes", "Alla utförare närvarade."),
    ];
    let (status, body) = submit(&app, chair, &format!("/moten/{meeting}/anteckningar"), &minutes).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("har inte börjat"));
    app.at("2026-11-06 14:05");
    assert_eq!(submit(&app, chair, &format!("/moten/{meeting}/anteckningar"), &minutes).await.0, StatusCode::SEE_OTHER);
    let (bistand_unit, vc_unit) = (w.units.bistand.to_string(), w.units.vc.to_string());
    let present_b = format!("present_{bistand_unit}");
    let present_w = format!("present_{ward_unit}");
    let (status, _) = submit(&app, chair, &format!("/moten/{meeting}/narvaro"), &[(present_b.as_str(), "tre")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let attendance = [(present_b.as_str(), "3"), (present_w.as_str(), "2")];
    assert_eq!(submit(&app, chair, &format!("/moten/{meeting}/narvaro"), &attendance).await.0, StatusCode::SEE_OTHER);
    // An action item only for one of the forum's units.
    let action = [
        ("what", "Ta fram rutin för hjälpmedel"),
        ("owner_unit", vc_unit.as_str()),
        ("owner_name", "Vårdsamordnaren"),
        ("due", "2026-11-20"),
        ("item", work.as_str()),
    ];
    assert_eq!(
        submit(&app, chair, &format!("/moten/{meeting}/atgarder"), &action).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let mut action = action.to_vec();
    action[1] = ("owner_unit", ward_unit.as_str());
    assert_eq!(submit(&app, chair, &format!("/moten/{meeting}/atgarder"), &action).await.0, StatusCode::SEE_OTHER);
    assert_eq!(submit(&app, chair, &format!("/moten/{meeting}/faststall"), &[]).await.0, StatusCode::SEE_OTHER);
    // Approved minutes are fixed.
    let (status, body) = submit(&app, chair, &format!("/moten/{meeting}/anteckningar"), &minutes).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("fastställda"));

    // The minutes as a document to send home; the download is a file.
    let (status, doc) = page(&app, ward, &format!("/moten/{meeting}/minnesanteckningar")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc.contains("Avdelningen tar fram en rutin.") && doc.contains("Ta fram rutin för hjälpmedel"));
    assert!(doc.contains("<style>") && !doc.contains("/static/samverka.css"), "self-contained");
    let res = no_redirects()
        .get(format!("{}/moten/{meeting}/minnesanteckningar?ladda-ner=1", app.base))
        .header("cookie", &ward.cookie)
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"minnesanteckningar-2026-11-06")
    );

    // Attendance figures on the forum's page.
    let (_, body) = page(&app, ward, &format!("/forum/{forum}")).await;
    assert!(body.contains("1 hållna möten, i genomsnitt 2,0 organisationer och 5,0 deltagare per möte."), "{body}");

    // The action carries over to the next meeting until its unit reports it done.
    let (_, location) = submit(&app, chair, &format!("/forum/{forum}/moten"), &[("date", "2026-11-13")]).await;
    let next = id_after(&location, "/moten/");
    let (_, body) = page(&app, ward, &format!("/moten/{next}")).await;
    assert!(body.contains("Ta fram rutin för hjälpmedel"), "carried over");
    let action_id = app.store.forum_actions(forum.parse().unwrap()).await.unwrap()[0].id.to_string();
    // The organiser's needs assessor is neither leader nor owner.
    let (status, _) = submit(&app, &w.bistand, &format!("/atgarder/{action_id}/status"), &[("status", "done")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(denied(&app, &w.bistand, "forum.action_status", Some(&action_id)).await, 1);
    let back = format!("/moten/{next}#overforda");
    let (status, location) =
        submit(&app, ward, &format!("/atgarder/{action_id}/status"), &[("status", "done"), ("back", &back)]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, back.as_str()));
    let (_, body) = page(&app, ward, &format!("/moten/{next}")).await;
    assert!(!body.contains("Ta fram rutin för hjälpmedel"), "done, so no longer carried");

    // The meeting as an iCalendar file, read by an independent parser.
    let res = no_redirects()
        .get(format!("{}/moten/{meeting}/kalender.ics", app.base))
        .header("cookie", &ward.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/calendar; charset=utf-8");
    let cal = read_ics(&res.text().await.unwrap());
    let events = cal["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["uid"], format!("{meeting}@samverka"));
    assert_eq!(events[0]["summary"], "Fredagsavstämning Solna");
    assert_eq!(
        (events[0]["start"].as_str(), events[0]["end"].as_str()),
        (Some("2026-11-06T12:00:00+00:00"), Some("2026-11-06T13:00:00+00:00"))
    );
    assert_eq!(events[0]["location"], "https://mote.example.se/fredag");
    assert_eq!(events[0]["dtstamp"], true);

    // A calendar subscription: a personal address, without a session, until the unit leaves.
    let (status, body) = submit(&app, ward, &format!("/forum/{forum}/kalender"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let start = body.find("/kalender/").expect("the address is shown");
    let path = &body[start..start + body[start..].find(".ics").unwrap() + 4];
    let feed = no_redirects().get(format!("{}{path}", app.base)).send().await.unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    let cal = read_ics(&feed.text().await.unwrap());
    assert_eq!(cal["name"], "Fredagsavstämning Solna");
    let events = cal["events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["uid"] == format!("{meeting}@samverka") && e["status"] == "CONFIRMED"));
    assert!(events.iter().any(|e| e["uid"] == format!("{next}@samverka")));
    assert!(events.iter().any(|e| e["status"] == "TENTATIVE"), "coming meetings of the schedule, not yet planned");
    let log = app
        .store
        .access_log(&AccessFilter { user_id: Some(ward.user), limit: 500, ..Default::default() })
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "forum.calendar_read" && e.object_id.map(|o| o.to_string()) == Some(forum.clone()))
    );
    let remove = [("unit", ward_unit.as_str()), ("role", "vardsamordnare")];
    assert_eq!(
        submit(&app, chair, &format!("/forum/{forum}/medlemmar/ta-bort"), &remove).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(no_redirects().get(format!("{}{path}", app.base)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(
        no_redirects().get(format!("{}/kalender/{}.ics", app.base, Uuid::now_v7())).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(page(&app, ward, &format!("/forum/{forum}")).await.0, StatusCode::NOT_FOUND, "gone with the membership");
});

on_both!(forum_pages_need_a_session_and_forms_their_token, |app: TestApp| async move {
    let chair = &app.world.chef_solna;
    let res = no_redirects().get(format!("{}/forum", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = no_redirects()
        .post(format!("{}/forum", app.base))
        .header("cookie", &chair.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(FORUM).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no CSRF token");
    assert!(app.store.forums_of_unit(app.world.units.bistand).await.unwrap().is_empty());
});

on_both!(forums_over_json_follow_the_same_rules_and_log, |app: TestApp| async move {
    use reqwest::Method;
    use serde_json::json;
    let w = &app.world;
    let (chair, ward, vc, bodil) = (&w.chef_solna, &w.ward, &w.vc, &w.bistand);
    let spec = json!({
        "name": "Fredagsavstämning Solna",
        "kind": "statusmote",
        "purpose": "Kommunen och alla utförare hör samma besked samtidigt.",
        "video_link": "https://mote.example.se/fredag",
        "schedule": { "first_date": "2026-11-06", "interval_weeks": 1, "start": "13:00", "duration_minutes": 60, "paused": false },
    });
    // Only leaders create forums; bad input names its field in problem+json.
    let p = app.post(ward, "/api/forums", spec.clone(), StatusCode::FORBIDDEN).await;
    assert_eq!(p["code"], "role_not_permitted");
    let mut bad = spec.clone();
    bad["video_link"] = json!("javascript:alert(1)");
    let p = app.post(chair, "/api/forums", bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["field"], "video_link");
    let f = app.post(chair, "/api/forums", spec, StatusCode::CREATED).await;
    assert_eq!(f["leader"], true);
    assert_eq!(f["forum"]["spec"]["schedule"]["interval_weeks"], 1);
    let forum = f["forum"]["id"].as_str().unwrap().to_string();

    // Need-to-know: outside the forum it does not exist, and the denial is logged.
    let p = app.expect(ward, Method::GET, &format!("/api/forums/{forum}"), None, StatusCode::NOT_FOUND).await;
    assert_eq!(p["code"], "forum_not_found");
    assert_eq!(denied(&app, ward, "forum.read", Some(&forum)).await, 1);
    let member =
        json!({ "unit_id": w.units.ward, "role": "vardsamordnare", "mandate": "Beslut om avdelningens rutiner" });
    let p = app.post(ward, &format!("/api/forums/{forum}/members"), member.clone(), StatusCode::NOT_FOUND).await;
    assert_eq!(p["code"], "forum_not_found");
    let f = app.post(chair, &format!("/api/forums/{forum}/members"), member, StatusCode::OK).await;
    assert_eq!(f["forum"]["members"][0]["mandate"], "Beslut om avdelningens rutiner");
    let f = app.get(ward, &format!("/api/forums/{forum}")).await;
    assert_eq!(f["leader"], false);
    let list = app.get(ward, "/api/forums").await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // A member may not run the forum; the leader lowers the schedule, and the history says so.
    let lower = json!({ "change": "lowered" });
    let p = app.post(bodil, &format!("/api/forums/{forum}/schedule"), lower.clone(), StatusCode::FORBIDDEN).await;
    assert_eq!(p["code"], "forum_leader_only");
    assert_eq!(denied(&app, bodil, "forum.schedule", Some(&forum)).await, 1);
    let f = app.post(chair, &format!("/api/forums/{forum}/schedule"), lower, StatusCode::OK).await;
    assert_eq!(f["forum"]["spec"]["schedule"]["interval_weeks"], 2);
    assert!(f["history"].as_array().unwrap().iter().any(|h| h["change"] == "lowered"), "{f}");

    // The ward raises an item; "arbeta" must say what is asked.
    let mut item = json!({
        "kind": "arbeta", "title": "Hjälpmedel vid helgutskrivning", "why": "Patienter kommer hem utan rullator.",
        "affected": "Hemtjänsten", "ask": "",
    });
    let p = app.post(ward, &format!("/api/forums/{forum}/items"), item.clone(), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["field"], "ask");
    item["ask"] = json!("Beslut om gemensam rutin");
    let raised = app.post(ward, &format!("/api/forums/{forum}/items"), item, StatusCode::CREATED).await;
    assert_eq!(raised["raised_by_unit_id"], json!(w.units.ward));
    let item = raised["id"].as_str().unwrap().to_string();

    // The chair plans a meeting (one per time) and puts the item on the agenda.
    let day = json!({ "date": "2026-11-06" });
    app.post(ward, &format!("/api/forums/{forum}/meetings"), day.clone(), StatusCode::FORBIDDEN).await;
    let m = app.post(chair, &format!("/api/forums/{forum}/meetings"), day.clone(), StatusCode::CREATED).await;
    assert_eq!(m["meeting"]["status"], "planned");
    assert_eq!(m["may"]["agenda"], true);
    assert_eq!(m["may"]["minutes"], false, "not before it starts");
    let meeting = m["meeting"]["id"].as_str().unwrap().to_string();
    let p = app.post(chair, &format!("/api/forums/{forum}/meetings"), day, StatusCode::CONFLICT).await;
    assert_eq!(p["code"], "meeting_exists");
    let agenda = format!("/api/meetings/{meeting}/agenda/{item}");
    app.expect(ward, Method::PUT, &agenda, None, StatusCode::FORBIDDEN).await;
    let m = app.expect(chair, Method::PUT, &agenda, None, StatusCode::OK).await;
    assert_eq!(m["agenda"][0]["id"], json!(item));
    assert!(m["waiting_items"].as_array().unwrap().is_empty());
    let m = app.get(ward, &format!("/api/meetings/{meeting}")).await;
    assert_eq!(m["may"]["agenda"], false, "a member does not build the agenda");
    app.expect(vc, Method::GET, &format!("/api/meetings/{meeting}"), None, StatusCode::NOT_FOUND).await;
    assert_eq!(denied(&app, vc, "forum.meeting_read", Some(&meeting)).await, 1);

    // Minutes wait for the meeting; then minutes, attendance and an action item.
    let minutes = json!({
        "notes": "Alla utförare närvarade.",
        "items": [{ "item_id": item, "note": "Diskuterades.", "decision": "Avdelningen tar fram en rutin." }],
    });
    let path = format!("/api/meetings/{meeting}/minutes");
    let p = app.expect(chair, Method::PUT, &path, Some(minutes.clone()), StatusCode::CONFLICT).await;
    assert_eq!(p["code"], "meeting_not_started");
    app.at("2026-11-06 14:05");
    let stray = json!({ "items": [{ "item_id": Uuid::now_v7(), "note": "x" }] });
    let p = app.expect(chair, Method::PUT, &path, Some(stray), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(p["field"].as_str().unwrap().starts_with("note_"), "{p}");
    let m = app.expect(chair, Method::PUT, &path, Some(minutes.clone()), StatusCode::OK).await;
    assert_eq!(
        (m["meeting"]["status"].as_str(), m["agenda"][0]["decision"].as_str()),
        (Some("held"), Some("Avdelningen tar fram en rutin."))
    );
    let path = format!("/api/meetings/{meeting}/attendance");
    let outsider = json!([{ "unit_id": w.units.vc, "participants": 2 }]);
    let p = app.expect(chair, Method::PUT, &path, Some(outsider), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["field"], format!("present_{}", w.units.vc));
    let too_many = json!([{ "unit_id": w.units.ward, "participants": 501 }]);
    app.expect(chair, Method::PUT, &path, Some(too_many), StatusCode::UNPROCESSABLE_ENTITY).await;
    let present =
        json!([{ "unit_id": w.units.bistand, "participants": 3 }, { "unit_id": w.units.ward, "participants": 2 }]);
    let m = app.expect(chair, Method::PUT, &path, Some(present), StatusCode::OK).await;
    assert_eq!(m["attendance"].as_array().unwrap().len(), 2);
    let mut action = json!({
        "what": "Ta fram rutin för hjälpmedel", "owner_unit": w.units.vc, "owner_name": "Vårdsamordnaren",
        "due": "2026-11-20", "item_id": item,
    });
    let path = format!("/api/meetings/{meeting}/actions");
    let p = app.post(chair, &path, action.clone(), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["field"], "owner_unit", "only one of the forum's units");
    action["owner_unit"] = json!(w.units.ward);
    let a = app.post(chair, &path, action, StatusCode::CREATED).await;
    assert_eq!(a["status"], "open");
    let action_id = a["id"].as_str().unwrap().to_string();

    // Approved minutes are fixed.
    let m = app.post(chair, &format!("/api/meetings/{meeting}/approve"), json!({}), StatusCode::OK).await;
    assert_eq!(m["meeting"]["status"], "approved");
    assert_eq!(m["decided_actions"][0]["id"], json!(action_id));
    let p = app
        .expect(chair, Method::PUT, &format!("/api/meetings/{meeting}/minutes"), Some(minutes), StatusCode::CONFLICT)
        .await;
    assert_eq!(p["code"], "minutes_approved");
    let p = app.post(chair, &format!("/api/meetings/{meeting}/cancel"), json!({}), StatusCode::CONFLICT).await;
    assert_eq!(p["code"], "minutes_approved");

    // The action's unit reports it; the organiser's needs assessor may not.
    let path = format!("/api/action-items/{action_id}/status");
    let p = app.post(bodil, &path, json!({ "status": "done" }), StatusCode::FORBIDDEN).await;
    assert_eq!(p["code"], "action_owner_only");
    assert_eq!(denied(&app, bodil, "forum.action_status", Some(&action_id)).await, 1);
    let a = app.post(ward, &path, json!({ "status": "done" }), StatusCode::OK).await;
    assert_eq!(a["status"], "done");
    let f = app.get(chair, &format!("/api/forums/{forum}")).await;
    assert_eq!(f["attendance"]["meetings_held"], 1);
    assert_eq!(f["attendance"]["average_participants"], 5.0);

    // A second meeting is planned and cancelled; removing the ward's role hides the forum.
    let m = app
        .post(
            chair,
            &format!("/api/forums/{forum}/meetings"),
            json!({ "date": "2026-11-20", "start": "09:00" }),
            StatusCode::CREATED,
        )
        .await;
    let next = m["meeting"]["id"].as_str().unwrap().to_string();
    assert!(m["meeting"]["starts_at"].as_str().unwrap().starts_with("2026-11-20T08:00"), "09:00 in Sweden: {m}");
    let m = app.post(chair, &format!("/api/meetings/{next}/cancel"), json!({}), StatusCode::OK).await;
    assert_eq!(m["meeting"]["status"], "cancelled");
    let remove = json!({ "unit_id": w.units.ward, "role": "vardsamordnare" });
    app.post(chair, &format!("/api/forums/{forum}/members/remove"), remove, StatusCode::OK).await;
    app.expect(ward, Method::GET, &format!("/api/forums/{forum}"), None, StatusCode::NOT_FOUND).await;

    // Every read and write above is in the access log under the forum's or meeting's id.
    let log = app
        .store
        .access_log(&AccessFilter { user_id: Some(chair.user), limit: 500, ..Default::default() })
        .await
        .unwrap();
    for action in [
        "forum.create",
        "forum.read",
        "forum.member_add",
        "forum.schedule",
        "forum.meeting_plan",
        "forum.agenda",
        "forum.minutes_write",
        "forum.attendance",
        "forum.action_add",
        "forum.minutes_approve",
        "forum.meeting_cancel",
        "forum.member_remove",
        "forum.meeting_read",
    ] {
        assert!(
            log.iter().any(|e| e.action == action && e.outcome == samverka_store::Outcome::Allowed),
            "{action} not logged"
        );
    }
});
