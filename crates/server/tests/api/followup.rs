//! Follow-up over HTTP: the indicators of hand-built cases, worked out in the comments, for a
//! municipality, a hospital and the country; who may see them; the page with its charts.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, pnr, ts};
use crate::on_both;

fn figure(v: &Value, key: &str) -> Option<f64> {
    v["indicators"].as_array().unwrap().iter().find(|i| i["key"] == key).unwrap()["value"].as_f64()
}

fn close(got: Option<f64>, want: f64, what: &str) {
    let got = got.unwrap_or_else(|| panic!("{what}: no value"));
    assert!((got - want).abs() < 1e-9, "{what}: {got} != {want}");
}

/// A: notice in time, ready Thu 5 Nov, discharged Sat 7 Nov (2 days, a weekend).
/// B: notice 26 hours after admission, ready and discharged Wed 4 Nov (day 0).
async fn two_discharges(app: &TestApp) {
    let w = &app.world;
    let notice = json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" } });
    let ready = json!({ "body": { "kind": "utskrivningsklar", "referrals_cancelled": true } });
    app.at("2026-11-02 08:00");
    let (a, _) = app.case(&pnr(1), "2026-11-02 08:00").await;
    let (b, _) = app.case(&pnr(2), "2026-11-02 08:00").await;
    app.at("2026-11-02 09:00");
    let sent = app.post(&w.ward, &format!("/api/cases/{a}/messages"), notice.clone(), StatusCode::CREATED).await;
    let notice_a = sent["state"]["messages"][0]["message"]["id"].as_str().unwrap().to_string();
    app.at("2026-11-02 11:30");
    let ack = format!("/api/cases/{a}/messages/{notice_a}/acknowledge");
    app.expect(&w.bistand, Method::POST, &ack, None, StatusCode::OK).await;
    app.at("2026-11-03 10:00");
    app.post(&w.ward, &format!("/api/cases/{b}/messages"), notice, StatusCode::CREATED).await;
    app.at("2026-11-04 09:00");
    app.post(&w.ward, &format!("/api/cases/{b}/messages"), ready.clone(), StatusCode::CREATED).await;
    app.at("2026-11-04 15:00");
    let out = |at: &str| json!({ "at": ts(at).to_string() });
    app.post(&w.ward, &format!("/api/cases/{b}/discharge"), out("2026-11-04 15:00"), StatusCode::OK).await;
    app.at("2026-11-05 10:00");
    app.post(&w.ward, &format!("/api/cases/{a}/messages"), ready, StatusCode::CREATED).await;
    app.at("2026-11-07 14:00");
    app.post(&w.ward, &format!("/api/cases/{a}/discharge"), out("2026-11-07 14:00"), StatusCode::OK).await;
    app.at("2026-12-02 09:00");
}

on_both!(indicators_of_hand_built_cases, |app: TestApp| async move {
    let w = &app.world;
    app.store.set_ward_capacity(w.units.ward, Some("Norrviks sjukhus"), Some(20)).await.unwrap();
    let solna = samverka_domain::ids::Kommunkod::parse("0184").unwrap();
    app.store.set_population(&[(solna, 2026, 14_000)]).await.unwrap();
    two_discharges(&app).await;

    let mas = &w.bistand_hsl;
    let v = app.get(mas, "/api/followup?scope=kommun:0184&period=2026-11").await;
    assert_eq!(v["scope_label"], "Solna stad");
    close(figure(&v, "episodes"), 2.0, "episodes");
    close(figure(&v, "ready_days"), 2.0, "ready days");
    // 2 days over both ready episodes; SKR leaves out B's day 0.
    close(figure(&v, "average_days"), 1.0, "average, all");
    close(figure(&v, "average_days_skr"), 2.0, "average, SKR");
    close(figure(&v, "notices_in_time"), 50.0, "notices within 24 h");
    close(figure(&v, "weekend_discharges"), 50.0, "weekend discharges");
    close(figure(&v, "days_per_thousand"), 2.0 * 1000.0 / 14_000.0, "days per 1 000 aged 65+");
    // The bistånd received four notices (two admission, two ready) and acknowledged one,
    // A's admission notice after 2.5 hours.
    close(figure(&v, "ack_hours"), 2.5, "time to acknowledge");
    close(figure(&v, "ack_within_day"), 25.0, "acknowledged within a day");
    assert_eq!(figure(&v, "bed_share"), None, "a municipality has no beds");
    let trend = v["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 12);
    assert_eq!(trend.last().unwrap()["period"], "2026-11");
    assert_eq!(trend[10]["indicators"][0]["value"], 0.0, "nothing in October");
    assert!(v["indicators"].as_array().unwrap().iter().all(|i| i["definition_sv"].as_str().unwrap().len() > 40));

    // The hospital: 2 ready days on 20 beds × 30 days of November.
    let h = app.get(mas, "/api/followup?scope=sjukhus:Norrviks%20sjukhus&period=2026-11").await;
    close(figure(&h, "bed_share"), 2.0 * 100.0 / 600.0, "bed share");
    assert_eq!(h["comparison"].as_array().unwrap().len(), 1, "the hospital's one ward with discharges");
    // The country, compared by region; the quarter holds the same two.
    let s = app.get(&w.chef_solna, "/api/followup?scope=sverige&period=2026-Q4").await;
    close(figure(&s, "episodes"), 2.0, "Sweden, Q4");
    assert_eq!(s["comparison"][0]["label"], "Region Demo");
    let r = app.get(mas, "/api/followup?scope=region:01&period=2026-11").await;
    let kommuner: Vec<&str> =
        r["comparison"].as_array().unwrap().iter().map(|a| a["label"].as_str().unwrap()).collect();
    assert_eq!(kommuner, ["Solna stad"]);
    // Psychiatric care alone: none of these.
    let p = app.get(mas, "/api/followup?scope=kommun:0184&period=2026-11&care_type=psychiatric").await;
    close(figure(&p, "episodes"), 0.0, "psychiatric episodes");
    assert_eq!(figure(&p, "average_days_skr"), None, "no denominator, no figure");
});

on_both!(follow_up_is_for_managers_and_says_what_to_write, |app: TestApp| async move {
    let w = &app.world;
    // Staff who work with patients see no figures.
    for who in [&w.ward, &w.bistand, &w.vc] {
        let v = app.expect(who, Method::GET, "/api/followup", None, StatusCode::FORBIDDEN).await;
        assert!(v["detail"].as_str().unwrap().contains("uppföljningens siffror"), "{v}");
    }
    let mas = &w.bistand_hsl;
    for (query, field) in [("scope=kommun:9999", "scope"), ("scope=lan:01", "scope"), ("period=2026-13", "period")] {
        let v = app
            .expect(mas, Method::GET, &format!("/api/followup?{query}"), None, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
        assert_eq!(v["field"], field, "{query}: {v}");
    }
    // The default period is last month.
    let v = app.get(mas, "/api/followup").await;
    assert_eq!(v["period"], "2026-10", "the clock stands in November 2026");
});

on_both!(the_follow_up_page_draws_charts_with_tables, |app: TestApp| async move {
    let w = &app.world;
    two_discharges(&app).await;
    let get = |who: &crate::helpers::As, path: &str| {
        let req = reqwest::Client::new().get(format!("{}{path}", app.base)).header("cookie", &who.cookie);
        async move {
            let res = req.send().await.unwrap();
            (res.status(), res.text().await.unwrap())
        }
    };
    let (s, html) = get(&w.bistand_hsl, "/uppfoljning?omrade=kommun%3A0184&period=2026-11").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("<svg class=\"chart\" role=\"img\""), "charts are accessible SVG");
    assert!(html.contains("Medelantal dagar som utskrivningsklar, minst en dag (SKR)"));
    assert!(html.contains("2\u{a0}%") || html.contains("50\u{a0}%"), "percentages the Swedish way");
    assert!(html.contains("<caption>"), "every chart has its table");
    assert!(html.contains("href=\"/uppfoljning\""), "the menu links the page");
    let (s, html) = get(&w.ward, "/uppfoljning").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(html.contains("uppföljningens siffror"));
    assert!(!html.contains("href=\"/uppfoljning\""), "no menu link for those who may not");
});

on_both!(follow_up_counts_the_persons_65_and_older_in_coordination_screened_for_frailty, |app: TestApp| async move {
    let w = &app.world;
    let notice = json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" } });
    let ready = json!({ "body": { "kind": "utskrivningsklar", "referrals_cancelled": true, "sip_needed": true } });
    let frail = |level: u8| json!({ "frailty": level, "note": "Bedömt på avdelningen" });
    // Two patients aged 88, both needing a SIP; one screened before the discharge.
    app.at("2026-11-02 08:00");
    let (a, _) = app.case(&pnr(11), "2026-11-02 08:00").await;
    let (b, _) = app.case(&pnr(12), "2026-11-02 08:00").await;
    for case in [&a, &b] {
        app.at("2026-11-02 09:00");
        app.post(&w.ward, &format!("/api/cases/{case}/messages"), notice.clone(), StatusCode::CREATED).await;
        app.at("2026-11-04 09:00");
        app.post(&w.ward, &format!("/api/cases/{case}/messages"), ready.clone(), StatusCode::CREATED).await;
    }
    app.at("2026-11-04 10:00");
    app.post(&w.vc, &format!("/api/cases/{a}/screenings"), frail(6), StatusCode::CREATED).await;
    app.at("2026-11-05 12:00");
    for case in [&a, &b] {
        let out = json!({ "at": ts("2026-11-05 12:00").to_string() });
        app.post(&w.ward, &format!("/api/cases/{case}/discharge"), out, StatusCode::OK).await;
    }
    app.at("2026-12-02 09:00");
    let share = || async {
        let v = app.get(&w.bistand_hsl, "/api/followup?scope=kommun:0184&period=2026-11").await;
        figure(&v, "older_screened")
    };
    close(share().await, 50.0, "one of two screened");
    // The other is screened at home after the discharge: counted to the month of discharge.
    app.post(&w.vc, &format!("/api/cases/{b}/screenings"), frail(5), StatusCode::CREATED).await;
    close(share().await, 100.0, "both screened");
});

on_both!(follow_up_counts_sips_at_home_and_whether_they_were_followed_up_in_time, |app: TestApp| async move {
    let w = &app.world;
    let consent = |kind: &str| json!({ "kind": kind, "given_by": { "kind": "patient" }, "given_at": ts("2026-11-02 08:00").to_string() });
    let plan = |follow_up: &str| {
        json!({
            "needs": ["Stöd med läkemedel"],
            "insatser": [{ "principal": "kommun", "description": "Hemtjänst" }],
            "overall_responsible": "kommun",
            "own_goals": "Bo kvar hemma.",
            "participants": [{ "name": "Personen", "role": "patient" }],
            "coordinator": { "name": "Disa", "unit": w.units.vc },
            "follow_up_date": follow_up,
            "follow_up_how": "Hembesök"
        })
    };
    // Two persons at home, 88 years old, one followed up by the plan's date and one after it.
    let mut homes = vec![];
    for n in [13, 14] {
        app.at("2026-11-02 08:00");
        let person = json!({ "identifier": pnr(n), "given_name": "Greta", "family_name": "Lind", "kommun": "0184", "listed_unit": w.units.vc });
        let v = app
            .post(
                &w.vc,
                "/api/home-coordinations",
                json!({ "patient": person, "reason": "Fallrisk och läkemedel" }),
                StatusCode::CREATED,
            )
            .await;
        let home = v["id"].as_str().unwrap().to_string();
        let p = |x: &str| format!("/api/cases/{home}{x}");
        for kind in ["information_sharing", "sip_call", "sip"] {
            app.post(&w.vc, &p("/consents"), consent(kind), StatusCode::CREATED).await;
        }
        app.post(&w.vc, &p("/parties"), json!({ "unit": w.units.bistand, "reason": "Hemtjänst" }), StatusCode::OK)
            .await;
        let call = json!({ "body": { "kind": "kallelse_sip", "meeting_at": ts("2026-11-05 13:00").to_string(), "place": "Hemma", "patient_invited": true, "relatives_invited": false } });
        app.post(&w.vc, &p("/messages"), call, StatusCode::CREATED).await;
        app.at("2026-11-05 14:00");
        app.post(&w.vc, &p("/sip"), plan("2026-12-01"), StatusCode::CREATED).await;
        homes.push(home);
    }
    let figures = || async {
        let v = app.get(&w.bistand_hsl, "/api/followup?scope=kommun:0184&period=2026-11").await;
        (figure(&v, "home_sips"), figure(&v, "home_followed_up_in_time"), figure(&v, "older_screened"))
    };
    app.at("2026-11-20 09:00");
    let (sips, in_time, screened) = figures().await;
    close(sips, 2.0, "two SIPs drawn up at home in November");
    assert_eq!(in_time, None, "none followed up yet");
    close(screened, 0.0, "two persons 65+ in coordination, none screened");
    let follow_up =
        json!({ "evaluation": "Fungerar", "outcome": { "kind": "continue", "next_follow_up": "2027-03-01" } });
    app.at("2026-11-30 10:00");
    app.post(&w.vc, &format!("/api/cases/{}/sip/follow-up", homes[0]), follow_up.clone(), StatusCode::OK).await;
    app.at("2026-12-03 10:00");
    app.post(&w.vc, &format!("/api/cases/{}/sip/follow-up", homes[1]), follow_up, StatusCode::OK).await;
    app.post(&w.vc, &format!("/api/cases/{}/screenings", homes[1]), json!({ "frailty": 5 }), StatusCode::CREATED).await;
    let (sips, in_time, screened) = figures().await;
    close(sips, 2.0, "still two");
    close(in_time, 50.0, "one of two followed up by the date");
    close(screened, 50.0, "one of two screened");
    // Counted by the vårdcentral too, and nothing as hospital episodes.
    let v = app.get(&w.bistand_hsl, &format!("/api/followup?scope=vardcentral:{}&period=2026-11", w.units.vc)).await;
    close(figure(&v, "home_sips"), 2.0, "by vårdcentral");
    close(figure(&v, "episodes"), 0.0, "no hospital episodes");
});
