//! One case through all eight steps, as three units in three organisations do it, with every
//! deadline, receipt and the final payment liability checked.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, pnr, ts};
use crate::on_both;

fn deadline<'a>(case: &'a Value, kind: &str) -> &'a Value {
    case["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["deadline"]["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} deadline in {}", case["deadlines"]))
}

fn receipt<'a>(case: &'a Value, message_index: usize, unit: &uuid::Uuid) -> &'a Value {
    case["state"]["messages"][message_index]["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit"]["id"] == unit.to_string())
        .unwrap()
}

fn at(v: &Value) -> jiff::Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

/// Each deadline of the case as (kind, status), in the order the case lists them.
fn statuses(case: &Value) -> Vec<(&str, &str)> {
    case["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["deadline"]["kind"].as_str().unwrap(), d["deadline"]["status"].as_str().unwrap()))
        .collect()
}

on_both!(eight_steps, |app: TestApp| async move {
    let w = &app.world;
    let (id, case) = app.case(&pnr(1), "2026-11-02 07:30").await;
    let c = |p: &str| format!("/api/cases/{id}{p}");

    // Admitted: the ward owes the inskrivningsmeddelande within 24 hours.
    assert_eq!(case["phase"], "admitted");
    let d = deadline(&case, "admission_notice");
    assert_eq!(at(&d["deadline"]["due"]), ts("2026-11-03 07:30"));
    assert_eq!(d["deadline"]["status"], "open");
    assert_eq!(d["countdown_sv"], "om 23 timmar");
    assert_eq!(d["deadline"]["owner"], w.ward.unit.to_string());
    // The estimated day is not known yet, so there is no discharge-information deadline.
    assert!(case["deadlines"].as_array().unwrap().iter().all(|d| d["deadline"]["kind"] != "discharge_information"));

    // Step 1: routed by Samverka to the patient's municipality and vårdcentral.
    app.at("2026-11-02 09:00");
    let case = app
        .post(
            &w.ward,
            &c("/messages"),
            json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" } }),
            StatusCode::CREATED,
        )
        .await;
    let notice = case["state"]["messages"][0].clone();
    let notice_id = notice["message"]["id"].as_str().unwrap().to_string();
    let recipients: Vec<&str> =
        notice["message"]["recipients"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(recipients, ["Biståndsenheten Solna", "Vårdcentralen Solna Centrum"]);
    assert_eq!(deadline(&case, "admission_notice")["deadline"]["status"], "met");
    let info = deadline(&case, "discharge_information");
    assert_eq!(
        (at(&info["deadline"]["due"]), info["deadline"]["estimated"].as_bool()),
        (ts("2026-11-10 00:00"), Some(true))
    );
    for unit in [&w.bistand.unit, &w.vc.unit] {
        let r = receipt(&case, 0, unit);
        assert_eq!(at(&r["delivered_at"]), ts("2026-11-02 09:00"));
        assert!(r["opened"].is_null() && r["acknowledged"].is_null());
    }
    // Fast vårdkontakt is due the day after the notice (demo agreement: 1 day).
    assert_eq!(at(&deadline(&case, "fast_vardkontakt")["deadline"]["due"]), ts("2026-11-04 00:00"));

    // The municipality opens it; opening is not acknowledging.
    app.at("2026-11-02 09:30");
    let case = app.post(&w.bistand, &c(&format!("/messages/{notice_id}/open")), json!({}), StatusCode::OK).await;
    let r = receipt(&case, 0, &w.bistand.unit);
    assert_eq!(
        (at(&r["opened"]["at"]), r["opened"]["by"]["name"].as_str()),
        (ts("2026-11-02 09:30"), Some("Bodil Biståndshandläggare"))
    );
    assert!(r["acknowledged"].is_null());
    let inbox = app.get(&w.vc, "/api/inbox").await;
    assert_eq!((inbox["unopened"].as_u64(), inbox["unacknowledged"].as_u64()), (Some(1), Some(1)));

    app.at("2026-11-02 10:00");
    for who in [&w.bistand, &w.vc] {
        app.post(who, &c(&format!("/messages/{notice_id}/acknowledge")), json!({}), StatusCode::OK).await;
    }
    let case = app.get(&w.ward, &c("")).await;
    for (unit, name) in [(&w.bistand.unit, "Bodil Biståndshandläggare"), (&w.vc.unit, "Disa Distriktssköterska")] {
        let r = receipt(&case, 0, unit);
        assert_eq!(at(&r["acknowledged"]["at"]), ts("2026-11-02 10:00"));
        assert_eq!(r["acknowledged"]["by"]["name"], name);
    }
    assert_eq!(app.get(&w.vc, "/api/inbox").await["unacknowledged"], 0);

    // Step 2: the vårdcentral names the fast vårdkontakt (to the other parties by default).
    app.at("2026-11-02 13:00");
    let case = app
        .post(&w.vc, &c("/messages"), json!({ "body": { "kind": "fast_vardkontakt", "name": "Eva Lund", "role": "distriktssköterska", "phone": "08-123 45 67" } }), StatusCode::CREATED)
        .await;
    assert_eq!(deadline(&case, "fast_vardkontakt")["deadline"]["status"], "met");
    assert_eq!(case["state"]["messages"][1]["message"]["recipients"].as_array().unwrap().len(), 2);

    // Step 3: planning information; the municipality judges that a SIP is needed.
    app.at("2026-11-03 10:00");
    let case = app
        .post(
            &w.bistand,
            &c("/messages"),
            json!({ "body": { "kind": "planeringsunderlag", "needs": "Hjälp morgon och kväll", "sip_needed": true } }),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(case["phase"], "planning");

    // Step 5: ready for discharge on Thursday 5 November; the SIP call is due within 3 days.
    app.at("2026-11-05 10:00");
    let case = app
        .post(
            &w.ward,
            &c("/messages"),
            json!({ "body": { "kind": "utskrivningsklar", "referrals_cancelled": true } }),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(case["phase"], "ready_for_discharge");
    let sip = deadline(&case, "sip_call");
    assert_eq!(at(&sip["deadline"]["due"]), ts("2026-11-09 00:00"));
    assert_eq!(sip["deadline"]["owner"], w.vc.unit.to_string());
    let ready_id = case["state"]["messages"][3]["message"]["id"].as_str().unwrap().to_string();
    app.at("2026-11-05 10:20");
    for who in [&w.bistand, &w.vc] {
        app.post(who, &c(&format!("/messages/{ready_id}/acknowledge")), json!({}), StatusCode::OK).await;
    }

    // Step 4: consent first, then the call.
    app.at("2026-11-06 09:00");
    for kind in ["sip_call", "sip"] {
        app.post(
            &w.vc,
            &c("/consents"),
            json!({ "kind": kind, "given_by": { "kind": "patient" }, "given_at": ts("2026-11-06 08:45").to_string() }),
            StatusCode::CREATED,
        )
        .await;
    }
    app.at("2026-11-06 09:30");
    let case = app
        .post(
            &w.vc,
            &c("/messages"),
            json!({ "body": { "kind": "kallelse_sip", "meeting_at": ts("2026-11-10 13:00").to_string(), "place": "Hemma hos patienten",
                    "patient_invited": true, "relatives_invited": true } }),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(deadline(&case, "sip_call")["deadline"]["status"], "met");

    // Step 6: discharged on 10 November; the information goes the same day.
    app.at("2026-11-10 10:05");
    let case = app
        .post(
            &w.ward,
            &c("/messages"),
            json!({ "body": { "kind": "information_vid_utskrivning", "discharged_at": ts("2026-11-10 10:00").to_string(), "medication": "Enligt lista" } }),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(case["phase"], "sip_called");
    let info = deadline(&case, "discharge_information");
    assert_eq!(
        (at(&info["deadline"]["due"]), info["deadline"]["status"].as_str()),
        (ts("2026-11-11 00:00"), Some("met"))
    );

    // Step 7: the SIP, coordinated by the vårdcentral.
    app.at("2026-11-10 15:00");
    let plan = json!({
        "needs": ["Stöd med personlig hygien"],
        "insatser": [
            { "principal": "kommun", "unit": w.bistand.unit, "description": "Hemtjänst två gånger per dag" },
            { "principal": "region", "unit": w.vc.unit, "description": "Läkemedelsgenomgång" }
        ],
        "others_measures": [{ "who": "Dottern", "description": "Handlar på fredagar" }],
        "overall_responsible": "kommun",
        "own_goals": "Jag vill kunna gå till affären själv.",
        "participants": [{ "name": "Åsa Öberg", "role": "patient" }, { "name": "Karin Öberg", "role": "narstaende", "title": "dotter" }],
        "coordinator": { "name": "Eva Lund", "unit": w.vc.unit },
        "follow_up_date": "2026-12-08",
        "follow_up_how": "Hembesök"
    });
    let case = app.post(&w.vc, &c("/sip"), plan, StatusCode::CREATED).await;
    assert_eq!(case["phase"], "sip_drawn_up");
    assert_eq!(case["state"]["sip"]["versions"][0]["version"], 1);
    let fu = deadline(&case, "sip_follow_up");
    assert_eq!(
        (at(&fu["deadline"]["due"]), fu["deadline"]["owner"].as_str()),
        (ts("2026-12-09 00:00"), Some(w.vc.unit.to_string().as_str()))
    );

    // Step 8: followed up and closed by the coordinator. Just before, every deadline of the
    // discharge is met in time and only the follow-up is still owed.
    app.at("2026-12-08 10:00");
    let met = [
        ("admission_notice", "met"),
        ("fast_vardkontakt", "met"),
        ("sip_call", "met"),
        ("discharge_information", "met"),
    ];
    let before = app.get(&w.vc, &c("")).await;
    assert_eq!(statuses(&before), [&met[..], &[("sip_follow_up", "open")][..]].concat());
    let case = app
        .post(
            &w.vc,
            &c("/sip/follow-up"),
            json!({ "evaluation": "Målen är nådda.", "outcome": { "kind": "close" } }),
            StatusCode::OK,
        )
        .await;
    assert_eq!(case["phase"], "closed");
    let steps = case["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 8);
    assert!(steps.iter().all(|s| !s["done_at"].is_null()), "all eight steps done: {steps:?}");
    // Closed: the follow-up is done and owed no more; the four met deadlines stay as they were.
    assert_eq!(statuses(&case), met);
    assert!(case["deadlines"].as_array().unwrap().iter().all(|d| d["deadline"]["met_at"].is_string()));

    // Payment liability: ready 5 Nov, discharged 10 Nov = 5 days (6-10 Nov); 2 free days in
    // 2026 under the demo agreement; 8, 9, 10 Nov at 10 500 kr = 31 500 kr.
    let l = app.get(&w.bistand, &c("/liability")).await;
    assert_eq!(
        (l["ready_days"].as_i64(), l["liable_days"].as_i64(), l["amount_ore"].as_i64()),
        (Some(5), Some(3), Some(3_150_000))
    );
    assert!(l["excluded"].is_null());
    let basis = app.get(&w.chef_solna, "/api/liability?kommun=0184&month=2026-11").await;
    assert_eq!(basis["agreement_id"], "demo");
    assert_eq!(basis["total_amount_ore"], 3_150_000);
    assert_eq!(basis["lines"][0]["case_id"], id);
    assert_eq!(basis["lines"][0]["liable_dates"], json!(["2026-11-08", "2026-11-09", "2026-11-10"]));
    assert_eq!(app.get(&w.chef_solna, "/api/liability?kommun=0184&month=2026-10").await["total_amount_ore"], 0);

    // The history: every event in order, each with who and which unit.
    let events = app.get(&w.ward, &c("/events")).await;
    let events = events.as_array().unwrap();
    assert!(events.len() >= 25, "{}", events.len());
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seq"], i + 1);
        assert!(e["actor"]["user"]["name"].is_string() && e["actor"]["unit"]["hsa_id"].is_string());
    }
    assert_eq!(events[0]["event"]["type"], "case_opened");
    assert_eq!(events.last().unwrap()["event"]["type"], "case_closed");
});

on_both!(withdrawn_ready_notice_and_a_move_between_wards, |app: TestApp| async move {
    let w = &app.world;
    let (id, _) = app.case(&pnr(2), "2026-11-02 07:30").await;
    let c = |p: &str| format!("/api/cases/{id}{p}");
    app.at("2026-11-02 08:00");
    app.post(
        &w.ward,
        &c("/messages"),
        json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" } }),
        StatusCode::CREATED,
    )
    .await;
    app.at("2026-11-03 09:00");
    let moved = app
        .post(
            &w.ward,
            &c("/transfer"),
            json!({ "to_ward": w.ward2.unit, "at": ts("2026-11-03 08:30").to_string() }),
            StatusCode::OK,
        )
        .await;
    assert_eq!(moved["state"]["wards"].as_array().unwrap().len(), 2);
    // The first ward no longer has the patient; the new one does.
    let refused = app
        .post(&w.ward, &c("/messages"), json!({ "body": { "kind": "utskrivningsklar" } }), StatusCode::FORBIDDEN)
        .await;
    assert_eq!(refused["code"], "not_responsible_ward");
    let ready = json!({ "body": { "kind": "utskrivningsklar", "referrals_cancelled": true } });
    app.at("2026-11-04 10:00");
    app.post(&w.ward2, &c("/messages"), ready.clone(), StatusCode::CREATED).await;
    app.at("2026-11-05 10:00");
    let case = app
        .post(
            &w.ward2,
            &c("/messages"),
            json!({ "body": { "kind": "atertagen_utskrivningsklar", "reason": "Feber" } }),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(case["phase"], "planning");
    app.at("2026-11-07 10:00");
    app.post(&w.ward2, &c("/messages"), ready, StatusCode::CREATED).await;
    app.at("2026-11-12 11:00");
    app.post(&w.ward2, &c("/discharge"), json!({ "at": ts("2026-11-12 10:30").to_string() }), StatusCode::OK).await;
    // Periods: 5 Nov (1 day, free) and 8-12 Nov (5 days: 2 free, 10-12 Nov liable).
    let l = app.get(&w.ward2, &c("/liability")).await;
    assert_eq!(
        (l["ready_days"].as_i64(), l["liable_days"].as_i64(), l["amount_ore"].as_i64()),
        (Some(6), Some(3), Some(3_150_000))
    );
    assert_eq!(l["periods"].as_array().unwrap().len(), 2);
    // Both wards took part and may read the case.
    app.get(&w.ward, &c("")).await;
});

on_both!(a_correction_goes_to_whoever_got_the_message_it_corrects, |app: TestApp| async move {
    let w = &app.world;
    let (id, _) = app.case(&pnr(3), "2026-11-02 07:30").await;
    let path = format!("/api/cases/{id}/messages");
    let notice = json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" } });
    app.post(&w.ward, &path, notice, StatusCode::CREATED).await;
    // A free message to the vårdcentral alone, then its correction with no recipients named.
    let free = json!({ "body": { "kind": "allmant", "text": "Ring avdelningen." }, "recipients": [w.units.vc] });
    let case = app.post(&w.ward, &path, free, StatusCode::CREATED).await;
    let original = case["state"]["messages"][1]["message"]["id"].clone();
    let fix = json!({ "body": { "kind": "allmant", "text": "Ring avdelningen efter kl. 10." }, "corrects": original });
    let case = app.post(&w.ward, &path, fix, StatusCode::CREATED).await;
    let correction = &case["state"]["messages"][2]["message"];
    assert_eq!(correction["corrects"], original);
    let to: Vec<&str> =
        correction["recipients"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(to, [w.units.vc.to_string().as_str()], "not the whole case: {correction}");
});
