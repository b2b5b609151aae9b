//! Who does what and escalation over HTTP, on a manual clock: a unit's leaders keep its
//! contacts and confirm them (reminded when the entry goes stale); its escalation rule sends
//! an unacknowledged notice to the backup unit, then alerts a leader's unit that is told but
//! not given the case; both show on the case. Every denial is tested and logged.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, denied, page, pnr, submit};
use crate::on_both;

async fn sweep(app: &TestApp) -> usize {
    samverka_app::escalation::sweep(&app.state).await.unwrap()
}

on_both!(a_units_leaders_keep_its_contacts_and_are_reminded_when_they_go_stale, |app: TestApp| async move {
    let w = &app.world;
    let unit = format!("/enheter/{}", w.units.bistand);
    let (status, body) = page(&app, &w.chef_solna, &unit).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Kontaktuppgifterna för Biståndsenheten Solna är inte bekräftade"),
        "never confirmed: reminded"
    );
    // A contact nobody can reach is refused, and what was typed stays.
    let unreachable = [("name_0", "Anna Berg"), ("function_0", "Enhetschef"), ("phone_0", ""), ("email_0", "")];
    let (status, body) = submit(&app, &w.chef_solna, &format!("{unit}/kontakter"), &unreachable).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Ange telefon eller e-post för Anna Berg") && body.contains("value=\"Anna Berg\""));
    let contacts = [
        ("name_0", "Anna Berg"),
        ("function_0", "Enhetschef"),
        ("phone_0", "08-555 100 00"),
        ("name_1", "Helgjouren"),
        ("function_1", "Biståndshandläggare helg"),
        ("email_1", "helg@solna.example"),
    ];
    assert_eq!(submit(&app, &w.chef_solna, &format!("{unit}/kontakter"), &contacts).await.0, StatusCode::SEE_OTHER);
    // Only the unit's leaders (and the organisation's administrators) keep the entry.
    for who in [&w.bistand, &w.ward, &w.bistand_hsl] {
        assert_eq!(submit(&app, who, &format!("{unit}/kontakter"), &contacts).await.0, StatusCode::FORBIDDEN);
        assert_eq!(denied(&app, who, "unit.contacts", None).await, 1);
    }
    let (_, body) = page(&app, &w.ward, &unit).await;
    assert!(body.contains("Helgjouren") && body.contains("helg@solna.example") && body.contains("2 nov 2026"));
    assert!(!body.contains("Inaktuella?"));
    let (_, dir) = page(&app, &w.ward, "/enheter").await;
    assert!(dir.contains(&format!("href=\"{unit}\"")));
    // Ninety days on the entry is stale; the chief is reminded on every page until confirming.
    app.at("2027-02-01 08:00");
    let (_, body) = page(&app, &w.chef_solna, "/forum").await;
    assert!(body.contains("Kontaktuppgifterna för Biståndsenheten Solna är inte bekräftade"));
    let (_, dir) = page(&app, &w.ward, "/enheter").await;
    assert!(dir.contains("Inaktuella?"));
    assert_eq!(submit(&app, &w.bistand, &format!("{unit}/bekrafta"), &[]).await.0, StatusCode::FORBIDDEN);
    assert_eq!(submit(&app, &w.chef_solna, &format!("{unit}/bekrafta"), &[]).await.0, StatusCode::SEE_OTHER);
    let (_, body) = page(&app, &w.chef_solna, "/forum").await;
    assert!(!body.contains("är inte bekräftade"));
});

on_both!(an_unacknowledged_notice_goes_to_the_backup_then_alerts_the_leader, |app: TestApp| async move {
    let w = &app.world;
    let rule_path = format!("/enheter/{}/eskalering", w.units.bistand);
    let (hsl, leader, nacka) =
        (w.units.hsl.to_string(), w.units.other_vc.to_string(), w.units.nacka_bistand.to_string());
    let rule = [
        ("backup_after_hours", "4"),
        ("backup_unit", hsl.as_str()),
        ("leader_after_hours", "8"),
        ("leader_unit", leader.as_str()),
    ];
    // The backup must be of the same organisation; only the unit's leaders set the rule.
    let mut elsewhere = rule.to_vec();
    elsewhere[1] = ("backup_unit", nacka.as_str());
    let (status, body) = submit(&app, &w.chef_solna, &rule_path, &elsewhere).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains(
            "Ersättande enhet ska vara en annan enhet i samma organisation, eftersom den får meddelandet och patientuppgifterna."
        ),
        "{body}"
    );
    assert_eq!(submit(&app, &w.bistand, &rule_path, &rule).await.0, StatusCode::FORBIDDEN);
    assert_eq!(denied(&app, &w.bistand, "unit.escalation_rule", None).await, 1);
    assert_eq!(submit(&app, &w.chef_solna, &rule_path, &rule).await.0, StatusCode::SEE_OTHER);
    let (_, body) = page(&app, &w.ward, &format!("/enheter/{}", w.units.bistand)).await;
    assert!(body.contains("Efter 4 tim utan kvittens får Kommunal HSL Solna meddelandet."));

    // Friday 08:00: the admission notice goes to the biståndsenhet; nobody there acknowledges it.
    app.at("2026-11-06 08:00");
    let (id, _) = app.case(&pnr(3), "2026-11-06 07:00").await;
    let sent = app
        .post(
            &w.ward,
            &format!("/api/cases/{id}/messages"),
            json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-12" } }),
            StatusCode::CREATED,
        )
        .await;
    let message = sent["state"]["messages"][0]["message"]["id"].as_str().unwrap().to_string();
    app.at("2026-11-06 11:59");
    assert_eq!(sweep(&app).await, 0, "four hours have not passed");
    assert_eq!(
        page(&app, &w.bistand_hsl, &format!("/arenden/{id}")).await.0,
        StatusCode::FORBIDDEN,
        "not yet the backup's"
    );

    app.at("2026-11-06 12:01");
    assert_eq!(sweep(&app).await, 1);
    assert_eq!(sweep(&app).await, 0, "once");
    // The backup has the message in its inbox and the case.
    let inbox = app.get(&w.bistand_hsl, "/api/inbox").await;
    assert!(inbox.to_string().contains(&message), "{inbox}");
    let (status, body) = page(&app, &w.bistand_hsl, "/eskaleringar").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Öppna ärendet") && body.contains("Väntar"));

    // Eight hours: the leader's unit is alerted, but not given the case.
    app.at("2026-11-06 16:01");
    assert_eq!(sweep(&app).await, 1);
    let (_, body) = page(&app, &w.other_vc, "/eskaleringar").await;
    assert!(
        body.contains("Biståndsenheten Solna")
            && body.contains("Ni larmas som ledare")
            && !body.contains("Öppna ärendet")
    );
    assert!(body.contains("inte kvitterat på 8 tim"));
    assert_eq!(page(&app, &w.other_vc, &format!("/arenden/{id}")).await.0, StatusCode::FORBIDDEN);

    // The escalations are on the case for everyone in it.
    let (_, body) = page(&app, &w.ward, &format!("/arenden/{id}")).await;
    assert!(body.contains("vidare till Kommunal HSL Solna enligt eskaleringsregeln"), "{body}");
    assert!(body.contains("larmade Vårdcentralen Nacka Norra enligt eskaleringsregeln"));

    // The backup acknowledges; the leader's list shows it answered.
    app.post(&w.bistand_hsl, &format!("/api/cases/{id}/messages/{message}/acknowledge"), json!({}), StatusCode::OK)
        .await;
    let (_, body) = page(&app, &w.other_vc, "/eskaleringar").await;
    assert!(!body.contains("Väntar"), "answered by the backup");

    // A notice acknowledged in time escalates nowhere.
    let (id2, _) = app.case(&pnr(4), "2026-11-06 15:00").await;
    let sent = app
        .post(
            &w.ward,
            &format!("/api/cases/{id2}/messages"),
            json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-12" } }),
            StatusCode::CREATED,
        )
        .await;
    let m2 = sent["state"]["messages"][0]["message"]["id"].as_str().unwrap().to_string();
    app.post(&w.bistand, &format!("/api/cases/{id2}/messages/{m2}/acknowledge"), json!({}), StatusCode::OK).await;
    app.at("2026-11-07 16:01");
    assert_eq!(sweep(&app).await, 0);
});

async fn escalation_mail_goes_to_the_backups_mailbox(db: crate::helpers::Db) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let settings = samverka_app::config::MailSettings {
        host: "127.0.0.1".into(),
        port,
        security: samverka_app::config::MailSecurity::None,
        from: "Samverka <samverka@region.example>".into(),
        username: None,
        password: None,
    };
    let config = samverka_app::AppConfig { mail: Some(settings.clone()), ..crate::helpers::long_sessions() };
    let app = crate::helpers::spawn_app_with(db, config).await;
    let w = &app.world;
    let hsl = app.store.units().await.unwrap().iter().find(|u| u.id == w.units.hsl).unwrap().clone();
    let address =
        samverka_domain::org::AddressEntry { functional_mailbox: Some("hsl@solna.example".into()), ..hsl.address };
    app.store.update_unit_address(hsl.id, &address, samverka_app::Clock::now(app.clock.as_ref())).await.unwrap();
    let rule_path = format!("/enheter/{}/eskalering", w.units.bistand);
    let (hsl_id, leader) = (hsl.id.to_string(), w.units.other_vc.to_string());
    let rule = [
        ("backup_after_hours", "4"),
        ("backup_unit", hsl_id.as_str()),
        ("leader_after_hours", "8"),
        ("leader_unit", leader.as_str()),
    ];
    assert_eq!(submit(&app, &w.chef_solna, &rule_path, &rule).await.0, StatusCode::SEE_OTHER);
    app.at("2026-11-06 08:00");
    let (id, _) = app.case(&pnr(5), "2026-11-06 07:00").await;
    app.post(
        &w.ward,
        &format!("/api/cases/{id}/messages"),
        json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-12" } }),
        StatusCode::CREATED,
    )
    .await;

    // The SMTP server is down when the escalation happens: the mail waits and is tried again.
    app.at("2026-11-06 12:01");
    assert_eq!(sweep(&app).await, 1);
    assert_eq!(samverka_app::mail::deliver_due(&app.state, &settings).await.unwrap(), 0);
    let outbox = app.store.mail_outbox(10).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!((outbox[0].attempts, outbox[0].sent_at), (1, None));
    assert!(outbox[0].last_error.is_some());
    let smtp = samverka_testkit::SmtpServer::start(port);
    assert_eq!(samverka_app::mail::deliver_due(&app.state, &settings).await.unwrap(), 0, "not before the retry is due");
    app.at("2026-11-06 12:03");
    assert_eq!(samverka_app::mail::deliver_due(&app.state, &settings).await.unwrap(), 1);
    let mails = smtp.received();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail["to"], "hsl@solna.example", "{mail}");
    assert_eq!(mail["subject"], "Samverka: Inskrivningsmeddelande till Biståndsenheten Solna är inte kvitterat");
    let text = mail["body"].as_str().unwrap();
    assert!(
        text.contains("Enligt enhetens eskaleringsregel har meddelandet nu skickats till er.")
            && text.contains("Det här e-postmeddelandet innehåller inga patientuppgifter."),
        "what the backup is to do, and the promise: {text}"
    );
    // No patient data, decoded: neither name, nor the personnummer in any of its forms.
    let patient = app.get(&w.ward, &format!("/api/cases/{id}")).await["patient"].clone();
    let (given, family) = (patient["given_name"].as_str().unwrap(), patient["family_name"].as_str().unwrap());
    assert_eq!((given, family), ("Åsa", "Öberg"));
    let digits = pnr(5);
    assert_eq!(digits.len(), 12, "stored as YYYYMMDDNNNC: {digits}");
    let forms = [
        digits.clone(),
        format!("{}-{}", &digits[..8], &digits[8..]),
        digits[2..].to_string(),
        format!("{}-{}", &digits[2..8], &digits[8..]),
    ];
    for (field, value) in [("subject", mail["subject"].as_str().unwrap()), ("body", text)] {
        assert!(!value.contains(given) && !value.contains(family), "no name in the {field}: {value}");
        assert!(forms.iter().all(|f| !value.contains(f.as_str())), "no personnummer in the {field}: {value}");
    }
    assert_eq!(samverka_app::mail::deliver_due(&app.state, &settings).await.unwrap(), 0, "sent once");

    // The leader's unit has no mailbox: alerted in Samverka only.
    app.at("2026-11-06 16:01");
    assert_eq!(sweep(&app).await, 1);
    assert_eq!(app.store.mail_outbox(10).await.unwrap().len(), 1);
    drop(smtp);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_mail_goes_to_the_backups_mailbox_on_sqlite() {
    escalation_mail_goes_to_the_backups_mailbox(crate::helpers::Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_mail_goes_to_the_backups_mailbox_on_postgres() {
    escalation_mail_goes_to_the_backups_mailbox(crate::helpers::Db::Postgres).await;
}

on_both!(contacts_and_escalation_rules_over_json_are_kept_by_the_units_leaders, |app: TestApp| async move {
    let w = &app.world;
    let (chef, ward) = (&w.chef_solna, &w.ward);
    let unit = w.units.bistand;
    let contacts = format!("/api/units/{unit}/contacts");
    // Anyone signed in reads the directory; only the unit's leaders change it.
    let c = app.get(ward, &contacts).await;
    assert_eq!((c["maintainable"].as_bool(), c["stale"].as_bool()), (Some(false), Some(true)));
    assert!(c["contacts"].as_array().unwrap().is_empty());
    let eva = json!({ "name": "Eva Ek", "function": "biståndshandläggare helg", "phone": "08-123 45 67", "email": "" });
    let p = app
        .expect(ward, reqwest::Method::PUT, &contacts, Some(json!({ "contacts": [eva] })), StatusCode::FORBIDDEN)
        .await;
    assert_eq!(p["code"], "unit_maintainers_only");
    assert_eq!(denied(&app, ward, "unit.contacts", None).await, 1);
    // A contact nobody can reach is refused, naming its place in the list.
    let unreachable = json!({ "name": "Olle", "function": "MAS", "phone": "", "email": "" });
    let body = json!({ "contacts": [eva, unreachable] });
    let p = app.expect(chef, reqwest::Method::PUT, &contacts, Some(body), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!((p["code"].as_str(), p["field"].as_str()), (Some("contact_unreachable"), Some("contacts[1].phone")));
    let c = app.expect(chef, reqwest::Method::PUT, &contacts, Some(json!({ "contacts": [eva] })), StatusCode::OK).await;
    assert_eq!(c["contacts"][0]["name"], "Eva Ek");
    assert_eq!(c["maintainable"], true);
    let c = app.post(chef, &format!("{contacts}/confirm"), json!({}), StatusCode::OK).await;
    assert_eq!(c["stale"], false);
    assert!(c["confirmed_at"].is_string());

    // The escalation rule: none yet; a backup in another organisation is refused.
    let rule_path = format!("/api/units/{unit}/escalation-rule");
    app.expect(ward, reqwest::Method::GET, &rule_path, None, StatusCode::NOT_FOUND).await;
    let rule = |backup: uuid::Uuid| json!({ "backup_after_minutes": 240, "backup_unit": backup });
    let p = app
        .expect(
            chef,
            reqwest::Method::PUT,
            &rule_path,
            Some(rule(w.units.nacka_bistand)),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert_eq!(p["field"], "backup_unit");
    app.expect(ward, reqwest::Method::PUT, &rule_path, Some(rule(w.units.hsl)), StatusCode::FORBIDDEN).await;
    let r = app.expect(chef, reqwest::Method::PUT, &rule_path, Some(rule(w.units.hsl)), StatusCode::OK).await;
    assert_eq!(r["backup_unit"], w.units.hsl.to_string());
    let r = app.get(ward, &rule_path).await;
    assert_eq!(r["backup_after_minutes"], 240);
    // Nothing has been escalated to the unit yet.
    assert!(app.get(chef, "/api/escalations").await.as_array().unwrap().is_empty());
});
