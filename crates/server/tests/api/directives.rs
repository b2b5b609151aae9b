//! The information channel over HTTP: a directive registered, refused to its own registrar,
//! validated by MAS and published to the people of its audience at once; read confirmations
//! and who has not read; conflicts that must be confirmed; superseded and withdrawn
//! directives shown as such. Every denial is tested and logged.

use crate::helpers::{As, TestApp, denied, page, submit};
use crate::on_both;
use reqwest::StatusCode;

async fn register(app: &TestApp, who: &As, fields: &[(&str, &str)]) -> String {
    let (status, location) = submit(app, who, "/direktiv", fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    location.strip_prefix("/direktiv/").unwrap().to_string()
}

on_both!(a_directive_validated_published_read_superseded_and_withdrawn, |app: TestApp| async move {
    let w = &app.world;
    let (chef, mas, bodil, ward, nacka) = (&w.chef_solna, &w.bistand_hsl, &w.bistand, &w.ward, &w.other_kommun);
    let solna = w.solna.to_string();
    let visits: Vec<(&str, &str)> = vec![
        ("topic", "Besöksrestriktioner"),
        ("title", "Munskydd vid hembesök"),
        ("source", "vardhygien"),
        ("source_name", "Vårdhygien Region Demo"),
        ("reference", "VH 2026-11"),
        ("body", "Bär munskydd vid alla hembesök.\nGäller även biståndsbedömningar i hemmet."),
        ("valid_from", "2026-11-01"),
        ("valid_until", "2026-12-31"),
        ("organisation", solna.as_str()),
        ("unit_kind", "bistandsenhet"),
    ];

    // Only registrars register; bad input is refused in Swedish and kept.
    assert_eq!(submit(&app, ward, "/direktiv", &visits).await.0, StatusCode::FORBIDDEN);
    let mut backwards = visits.clone();
    backwards[7] = ("valid_until", "2026-10-01");
    let (status, body) = submit(&app, chef, "/direktiv", &backwards).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Giltigheten kan inte sluta innan den börjar"));
    assert!(body.contains("value=\"Munskydd vid hembesök\""), "what was typed is kept");
    let d1 = register(&app, chef, &visits).await;

    // Pending: the audience does not see it yet; the registrar may not validate it.
    assert_eq!(page(&app, bodil, &format!("/direktiv/{d1}")).await.0, StatusCode::NOT_FOUND);
    let (status, body) = submit(&app, chef, &format!("/direktiv/{d1}/beslut"), &[("decision", "publish")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("kan inte validera det själv"));
    assert_eq!(denied(&app, chef, "directive.decide", None).await, 1);
    // Sending back needs a reason.
    let (status, body) =
        submit(&app, mas, &format!("/direktiv/{d1}/beslut"), &[("decision", "reject"), ("note", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Skriv varför direktivet skickas tillbaka, så att registreraren kan rätta det."), "{body}");
    assert_eq!(
        submit(&app, mas, &format!("/direktiv/{d1}/beslut"), &[("decision", "publish")]).await.0,
        StatusCode::SEE_OTHER
    );

    // Published: the biståndsenhet's people see it, unread, counted in the menu.
    let (_, list) = page(&app, bodil, "/direktiv").await;
    assert!(list.contains("Munskydd vid hembesök") && list.contains("Oläst"));
    assert!(list.contains("class=\"count\">1<"), "the menu counts the unread directive");
    let (status, body) = page(&app, bodil, &format!("/direktiv/{d1}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Jag har läst direktivet"));
    assert_eq!(submit(&app, bodil, &format!("/direktiv/{d1}/last"), &[]).await.0, StatusCode::SEE_OTHER);
    let (_, body) = page(&app, bodil, &format!("/direktiv/{d1}")).await;
    assert!(body.contains("Du bekräftade att du läst direktivet") && !body.contains("Jag har läst direktivet"));
    // Outside the audience: not found, and logged.
    for who in [ward, nacka] {
        assert_eq!(page(&app, who, &format!("/direktiv/{d1}")).await.0, StatusCode::NOT_FOUND);
        assert_eq!(submit(&app, who, &format!("/direktiv/{d1}/last"), &[]).await.0, StatusCode::NOT_FOUND);
        assert_eq!(denied(&app, who, "directive.read", None).await, 1);
    }
    // The owners see who has read it and who has not.
    let (_, body) = page(&app, chef, &format!("/direktiv/{d1}")).await;
    assert!(body.contains("1 / 2"), "{body}");
    assert!(body.contains("Erik Enhetschef, Biståndsenheten Solna"), "the chief has not read it");

    // The same topic for the same people again: MAS must see the conflict and confirm it.
    let mut parallel = visits.clone();
    parallel[1] = ("title", "Besök på korttidsboende");
    let d2 = register(&app, chef, &parallel).await;
    let (status, body) = submit(&app, mas, &format!("/direktiv/{d2}/beslut"), &[("decision", "publish")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains(
            "Det finns gällande direktiv i samma ämne för samma mottagare. Skicka tillbaka direktivet så att det \
             ersätter dem, eller bekräfta att de ska gälla samtidigt."
        ),
        "{body}"
    );
    assert_eq!(
        submit(&app, mas, &format!("/direktiv/{d2}/beslut"), &[("decision", "publish"), ("coexist", "ja")]).await.0,
        StatusCode::SEE_OTHER
    );
    let (_, body) = page(&app, bodil, &format!("/direktiv/{d1}")).await;
    assert!(body.contains("Besök på korttidsboende") && body.contains("validerare har bekräftat att båda gäller"));

    // A new version supersedes the first; the first is shown as superseded, not replaced.
    let mut v2 = visits.clone();
    v2[4] = ("reference", "VH 2026-12");
    v2.push(("supersedes", d1.as_str()));
    let d3 = register(&app, chef, &v2).await;
    assert_eq!(
        submit(&app, mas, &format!("/direktiv/{d3}/beslut"), &[("decision", "publish"), ("coexist", "ja")]).await.0,
        StatusCode::SEE_OTHER
    );
    let (status, body) = page(&app, bodil, &format!("/direktiv/{d1}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Det här direktivet är ersatt av"));
    let (_, list) = page(&app, bodil, "/direktiv").await;
    let history = &list[list.find("Ersatta, återkallade och utgångna").unwrap()..];
    assert!(history.contains("Ersatt"), "the old version is in the history");

    // Withdrawn with a reason, still shown.
    assert_eq!(
        submit(&app, chef, &format!("/direktiv/{d2}/aterkalla"), &[("note", "")]).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        submit(&app, bodil, &format!("/direktiv/{d2}/aterkalla"), &[("note", "Fel")]).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        submit(&app, chef, &format!("/direktiv/{d2}/aterkalla"), &[("note", "Ingår i VH 2026-12.")]).await.0,
        StatusCode::SEE_OTHER
    );
    let (_, body) = page(&app, bodil, &format!("/direktiv/{d2}")).await;
    assert!(body.contains("Direktivet är återkallat: Ingår i VH 2026-12."));
    assert_eq!(submit(&app, bodil, &format!("/direktiv/{d2}/last"), &[]).await.0, StatusCode::CONFLICT);
});

on_both!(directives_over_json_follow_the_same_rules_and_log, |app: TestApp| async move {
    use serde_json::json;
    let w = &app.world;
    let (chef, mas, bodil, ward) = (&w.chef_solna, &w.bistand_hsl, &w.bistand, &w.ward);
    let spec = json!({
        "topic": "Besöksrestriktioner",
        "title": "Munskydd vid hembesök",
        "source": "vardhygien",
        "source_name": "Vårdhygien Region Demo",
        "reference": "VH 2026-11",
        "body": "Bär munskydd vid alla hembesök.",
        "valid_from": "2026-11-01",
        "valid_until": "2026-12-31",
        "audience": { "organisations": [w.solna], "unit_kinds": ["bistandsenhet"] },
    });
    // Only registrars register; bad input names its field in problem+json.
    let p = app.post(ward, "/api/directives", spec.clone(), StatusCode::FORBIDDEN).await;
    assert_eq!(p["code"], "role_not_permitted");
    let mut backwards = spec.clone();
    backwards["valid_until"] = json!("2026-10-01");
    let p = app.post(chef, "/api/directives", backwards, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!((p["code"].as_str(), p["field"].as_str()), (Some("invalid_period"), Some("valid_until")));
    let d = app.post(chef, "/api/directives", spec, StatusCode::CREATED).await;
    let id = d["id"].as_str().unwrap().to_string();
    assert_eq!(d["status"], "pending");

    // Pending: hidden from the audience; the registrar may not validate it; sending back needs a reason.
    let p =
        app.expect(bodil, reqwest::Method::GET, &format!("/api/directives/{id}"), None, StatusCode::NOT_FOUND).await;
    assert_eq!(p["code"], "directive_not_found");
    let decision = |publish: bool, note: &str| json!({ "publish": publish, "note": note });
    let p = app.post(chef, &format!("/api/directives/{id}/decision"), decision(true, ""), StatusCode::FORBIDDEN).await;
    assert!(p["detail"].as_str().unwrap().contains("kan inte validera det själv"), "{p}");
    assert_eq!(denied(&app, chef, "directive.decide", None).await, 1);
    let p = app
        .post(mas, &format!("/api/directives/{id}/decision"), decision(false, " "), StatusCode::UNPROCESSABLE_ENTITY)
        .await;
    assert_eq!(p["field"], "note");
    let d = app.post(mas, &format!("/api/directives/{id}/decision"), decision(true, ""), StatusCode::OK).await;
    assert_eq!(d["status"], "published");

    // Published: the biståndshandläggare finds it unread, confirms, and it is read.
    let list = app.get(bodil, "/api/directives").await;
    let mine = list["for_my_unit"].as_array().unwrap();
    assert_eq!(mine.len(), 1);
    assert!(mine[0]["read_at"].is_null());
    assert!(list["own_organisation"].as_array().unwrap().is_empty(), "not a registrar");
    let d = app.post(bodil, &format!("/api/directives/{id}/read"), json!({}), StatusCode::OK).await;
    assert!(d["read_at"].is_string());
    assert!(d["readers"].is_null(), "who has read what is for the owners");
    // Outside the audience: not found, and logged as denied.
    let p = app.post(ward, &format!("/api/directives/{id}/read"), json!({}), StatusCode::NOT_FOUND).await;
    assert_eq!(p["code"], "directive_not_found");
    assert_eq!(denied(&app, ward, "directive.confirm_read", None).await, 1);
    // The owners see who it went to and who has read it.
    let d = app.get(chef, &format!("/api/directives/{id}")).await;
    let readers = d["readers"].as_array().unwrap();
    assert_eq!(readers.len(), 2);
    assert_eq!(readers.iter().filter(|r| r["read_at"].is_string()).count(), 1);

    // Withdrawn with a reason, by a registrar; it stays, marked withdrawn.
    let p = app
        .post(chef, &format!("/api/directives/{id}/withdraw"), json!({ "note": "" }), StatusCode::UNPROCESSABLE_ENTITY)
        .await;
    assert_eq!(p["field"], "note");
    let d = app
        .post(
            chef,
            &format!("/api/directives/{id}/withdraw"),
            json!({ "note": "Ersätts av regionens nya rutin" }),
            StatusCode::OK,
        )
        .await;
    assert_eq!(d["status"], "withdrawn");
    let p = app.post(bodil, &format!("/api/directives/{id}/read"), json!({}), StatusCode::CONFLICT).await;
    assert_eq!(p["code"], "directive_not_published");
});
