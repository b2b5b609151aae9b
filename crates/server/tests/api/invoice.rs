//! The invoice basis (betalningsunderlag) over HTTP: worked out by hand for three cases,
//! approved and locked as a version, corrected as a new version, exported as CSV and as an
//! Excel workbook read back by an independent reader (openpyxl, PyPI).

use reqwest::{Method, StatusCode};
use samverka_domain::access::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, account, pnr, session, ts};
use crate::on_both;

/// Under the demo agreement: 2 free days in 2026, 10 500 kr a day, day 0 not counted.
/// A: ready Tue 3 Nov, discharged Tue 10 Nov: ready 4–10 Nov (7 days), 4–5 free, 6–10 liable:
///    5 × 10 500 = 52 500 kr.
/// B: ready and discharged Wed 4 Nov (day 0): nothing, and not on the basis.
/// C: ready Fri 20 Nov, still in hospital on 2 Dec: in November 21–30 ready, 21–22 free,
///    23–30 liable: 8 × 10 500 = 84 000 kr.
async fn three_cases(app: &TestApp) -> (String, String) {
    let w = &app.world;
    let notice = json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-25" } });
    let ready = json!({ "body": { "kind": "utskrivningsklar", "referrals_cancelled": true } });
    let out = |at: &str| json!({ "at": ts(at).to_string() });
    let msg = |c: &str| format!("/api/cases/{c}/messages");
    app.at("2026-11-02 08:00");
    let (a, _) = app.case(&pnr(1), "2026-11-02 08:00").await;
    let (b, _) = app.case(&pnr(2), "2026-11-02 08:00").await;
    let (c, _) = app.case(&pnr(3), "2026-11-02 08:00").await;
    app.at("2026-11-02 09:00");
    for x in [&a, &b, &c] {
        app.post(&w.ward, &msg(x), notice.clone(), StatusCode::CREATED).await;
    }
    app.at("2026-11-03 10:00");
    app.post(&w.ward, &msg(&a), ready.clone(), StatusCode::CREATED).await;
    app.at("2026-11-04 09:00");
    app.post(&w.ward, &msg(&b), ready.clone(), StatusCode::CREATED).await;
    app.at("2026-11-04 15:00");
    app.post(&w.ward, &format!("/api/cases/{b}/discharge"), out("2026-11-04 15:00"), StatusCode::OK).await;
    app.at("2026-11-10 10:00");
    app.post(&w.ward, &format!("/api/cases/{a}/discharge"), out("2026-11-10 10:00"), StatusCode::OK).await;
    app.at("2026-11-20 10:00");
    app.post(&w.ward, &msg(&c), ready, StatusCode::CREATED).await;
    app.at("2026-12-02 09:00");
    (a, c)
}

fn line<'a>(basis: &'a Value, case: &str) -> &'a Value {
    basis["lines"].as_array().unwrap().iter().find(|l| l["case_id"] == case).unwrap_or_else(|| panic!("{case} missing"))
}

on_both!(an_approved_basis_is_locked_and_a_correction_is_a_new_version, |app: TestApp| async move {
    let w = &app.world;
    let (a, c) = three_cases(&app).await;
    let (id, asg) = account(&app.store, w.region, "rut", "Rut Region", w.units.ward, Role::Enhetschef).await;
    let region_chief = session(&app.store, id, w.units.ward, asg).await;
    let q = "kommun=0184&month=2026-11";

    let basis = app.get(&w.chef_solna, &format!("/api/liability?{q}")).await;
    assert_eq!(basis["lines"].as_array().unwrap().len(), 2, "the day-0 case owes nothing: {basis}");
    assert_eq!(line(&basis, &a)["liable_dates"].as_array().unwrap().len(), 5);
    assert_eq!(line(&basis, &a)["amount_ore"], 5 * 10_500 * 100);
    assert_eq!(line(&basis, &c)["liable_dates"][0], "2026-11-23");
    assert_eq!(line(&basis, &c)["amount_ore"], 8 * 10_500 * 100);
    assert_eq!(basis["total_amount_ore"], 13 * 10_500 * 100);

    // The municipality sees, the region approves.
    let approve = json!({ "kommun": "0184", "month": "2026-11" });
    let v = app.post(&w.chef_solna, "/api/liability/approve", approve.clone(), StatusCode::FORBIDDEN).await;
    assert!(v["detail"].as_str().unwrap().contains("regionen"), "{v}");
    app.post(&w.bistand, "/api/liability/approve", approve.clone(), StatusCode::FORBIDDEN).await;
    let v1 = app.post(&region_chief, "/api/liability/approve", approve.clone(), StatusCode::CREATED).await;
    assert_eq!((v1["version"].as_u64(), v1["approved_by"].as_str()), (Some(1), Some("Rut Region")));
    assert_eq!(v1["basis"]["total_amount_ore"], basis["total_amount_ore"]);
    let v = app.post(&region_chief, "/api/liability/approve", approve.clone(), StatusCode::CONFLICT).await;
    assert!(v["detail"].as_str().unwrap().contains("oförändrat sedan version 1"), "{v}");

    // A's discharge was recorded a day late; corrected, the basis changes, version 1 does not.
    app.at("2026-12-02 10:00");
    let cancel = json!({ "note": "Fel datum" });
    app.post(&w.ward, &format!("/api/cases/{a}/cancel-discharge"), cancel, StatusCode::OK).await;
    let out = json!({ "at": ts("2026-11-09 10:00").to_string() });
    app.post(&w.ward, &format!("/api/cases/{a}/discharge"), out, StatusCode::OK).await;
    let v = app.post(&region_chief, "/api/liability/approve", approve, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(v["field"], "note", "a new version says what it corrects: {v}");
    let correction =
        json!({ "kommun": "0184", "month": "2026-11", "note": "Utskrivningsdatum rättat för ett ärende." });
    let v2 = app.post(&region_chief, "/api/liability/approve", correction, StatusCode::CREATED).await;
    assert_eq!(v2["version"], 2);
    // A now 6–9 Nov: 4 days.
    assert_eq!(line(&v2["basis"], &a)["amount_ore"], 4 * 10_500 * 100);
    let versions = app.get(&w.bistand_hsl, &format!("/api/liability/versions?{q}")).await;
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["basis"], v1["basis"], "version 1 is as it was approved");
    assert_eq!(versions[1]["note"], "Utskrivningsdatum rättat för ett ärende.");
    // Another municipality sees neither.
    app.expect(&w.other_kommun, Method::GET, &format!("/api/liability/versions?{q}"), None, StatusCode::FORBIDDEN)
        .await;
    // The stored versions cannot be edited, not even by the database's own user.
    for sql in ["UPDATE liability_bases SET total_ore = 0", "DELETE FROM liability_bases"] {
        let refused = app.store.raw_execute_for_tests(sql).await.map_err(|e| e.to_string());
        assert!(refused.as_ref().is_err_and(|e| e.contains("liability_bases is append-only")), "{sql}: {refused:?}");
    }
});

on_both!(the_basis_is_exported_as_csv_and_as_a_workbook, |app: TestApp| async move {
    let w = &app.world;
    let (a, _) = three_cases(&app).await;
    let (id, asg) = account(&app.store, w.region, "rut", "Rut Region", w.units.ward, Role::Enhetschef).await;
    let region_chief = session(&app.store, id, w.units.ward, asg).await;
    app.post(
        &region_chief,
        "/api/liability/approve",
        json!({ "kommun": "0184", "month": "2026-11" }),
        StatusCode::CREATED,
    )
    .await;
    let download = |format: &str, version: &str| {
        let url = format!("{}/api/liability/export?kommun=0184&month=2026-11&format={format}{version}", app.base);
        let req = app.client.get(url).header("cookie", &w.chef_solna.cookie);
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            let disposition = res.headers()["content-disposition"].to_str().unwrap().to_string();
            (disposition, res.bytes().await.unwrap().to_vec())
        }
    };
    let (name, csv) = download("csv", "&version=1").await;
    assert!(name.contains("betalningsunderlag-0184-2026-11-v1.csv"), "{name}");
    let text = String::from_utf8(csv).unwrap();
    assert!(text.starts_with('\u{feff}'), "a byte-order mark for Excel");
    let rows: Vec<Vec<&str>> = text.trim_start_matches('\u{feff}').lines().map(|l| l.split(';').collect()).collect();
    assert_eq!(rows[0][0], "rad");
    let a_row = rows.iter().find(|r| r[5] == a).expect("case A has its row");
    assert_eq!((a_row[9], a_row[11]), ("5", "52500,00"));
    assert!(a_row[10].contains("2026-11-06") && a_row[10].contains("2026-11-10"), "the days themselves");
    // Who it is, so the invoice can be checked against the care.
    assert_eq!(&rows[0][14..18], ["patient", "personnummer", "avdelning", "inskriven"]);
    let number = crate::helpers::pnr(1);
    let shown_number = format!("{}-{}", &number[..8], &number[8..]);
    assert_eq!(
        &a_row[14..18],
        ["Åsa Öberg", shown_number.as_str(), "Norrviks sjukhus, Geriatrik avd 21", "2026-11-02"]
    );
    // Each person in the file is in the access log as read by the one who exported.
    let log = app
        .store
        .access_log(&samverka_store::AccessFilter {
            user_id: Some(w.chef_solna.user),
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    let exported: Vec<_> = log.iter().filter(|e| e.action == "liability.export" && e.case_id.is_some()).collect();
    assert!(exported.iter().any(|e| e.case_id.map(|c| c.to_string()).as_deref() == Some(a.as_str())), "{exported:?}");
    let total: Vec<&Vec<&str>> = rows.iter().filter(|r| r[0] == "summa").collect();
    assert!(total.iter().any(|r| r[11] == "136500,00"), "{total:?}");

    let (name, _) = download("csv", "").await;
    assert!(name.contains("preliminart"), "an unapproved export says so: {name}");

    let (name, xlsx) = download("xlsx", "&version=1").await;
    assert!(name.ends_with(".xlsx\""), "{name}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("underlag.xlsx");
    std::fs::write(&path, &xlsx).unwrap();
    let out = std::process::Command::new(samverka_testkit::python())
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/read_xlsx.py"))
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let book: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cases = book["Ärenden"].as_array().unwrap();
    let a_row = cases.iter().find(|r| r[0] == a).expect("case A in the workbook");
    assert_eq!((a_row[4].as_f64(), a_row[6].as_f64()), (Some(5.0), Some(52_500.0)));
    assert_eq!(a_row[9], "Åsa Öberg");
    let summary = book["Underlag"].as_array().unwrap();
    let version = summary.iter().find(|r| r[0] == "Version").unwrap();
    assert_eq!(version[1], "version 1");
    let total = summary.iter().find(|r| r[0] == "Totalt").unwrap();
    assert_eq!(total[4].as_f64(), Some(136_500.0));

    let res = app
        .client
        .get(format!("{}/api/liability/export?kommun=0184&month=2026-11&format=pdf", app.base))
        .header("cookie", &w.chef_solna.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
});

on_both!(the_basis_page_shows_the_days_and_the_region_approves_there, |app: TestApp| async move {
    let w = &app.world;
    let (_, c) = three_cases(&app).await;
    // C's patient has a protected identity: on the basis, neither name nor number.
    let patient = app.get(&w.ward, &format!("/api/cases/{c}")).await["patient"]["id"].as_str().unwrap().to_string();
    app.store
        .raw_execute_for_tests(&format!(
            "UPDATE patients SET protection = 'skyddad_folkbokforing' WHERE id = '{patient}'"
        ))
        .await
        .unwrap();
    let (id, asg) = account(&app.store, w.region, "rut", "Rut Region", w.units.ward, Role::Enhetschef).await;
    let region_chief = session(&app.store, id, w.units.ward, asg).await;
    let page = |who: &crate::helpers::As, path: &str| {
        let req = app.client.get(format!("{}{path}", app.base)).header("cookie", &who.cookie);
        async move {
            let res = req.send().await.unwrap();
            (res.status(), res.text().await.unwrap())
        }
    };
    let (s, html) = page(&w.chef_solna, "/betalningsansvar?kommun=0184&manad=2026-11").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("52\u{a0}500,00\u{a0}kr") && html.contains("136\u{a0}500,00\u{a0}kr"),
        "amounts the Swedish way"
    );
    assert!(html.contains("2026-11-06, 2026-11-07"), "the liable days are listed");
    assert!(html.contains("Åsa Öberg") && html.contains("Norrviks sjukhus, Geriatrik avd 21"), "who and where");
    let b_number = crate::helpers::pnr(2);
    assert!(html.contains("Skyddad identitet"), "{html}");
    assert!(
        !html.contains(&b_number) && !html.contains(&format!("{}-{}", &b_number[..8], &b_number[8..])),
        "no number"
    );
    assert!(!html.contains(",00</td>"), "whole days without decimals: {html}");
    assert!(!html.contains("Godkänn underlaget"), "the municipality does not approve");
    assert!(html.contains("href=\"/betalningsansvar\""), "in the menu");

    let (_, html) = page(&region_chief, "/betalningsansvar?kommun=0184&manad=2026-11").await;
    assert!(html.contains("Godkänn underlaget"));
    let res = app
        .client
        .post(format!("{}/betalningsansvar/godkann", app.base))
        .header("cookie", &region_chief.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            serde_urlencoded::to_string([
                ("csrf_token", region_chief.csrf.as_str()),
                ("kommun", "0184"),
                ("manad", "2026-11"),
                ("note", ""),
            ])
            .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let html = res.text().await.unwrap();
    assert!(html.contains("godkänt som version 1"), "{html}");
    assert!(html.contains("format=xlsx&amp;version=1"), "the version's files are offered");

    let (s, html) = page(&w.other_kommun, "/betalningsansvar?kommun=0184&manad=2026-11").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(html.contains("betalningsunderlag"), "the refusal says what is missing");
    let (s, _) = page(&w.ward, "/betalningsansvar").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "ward staff have no liability view");
});
