//! The person's own pages (`/min`): signing in with e-legitimation through a real OpenID
//! Connect provider (`oidc-provider-mock`, the personnummer in a claim), seeing only one's own
//! discharge in plain words, the log extract, and the walls between a person's session and
//! staff sessions. Every page is checked for plain language (LIX) and weight.

use reqwest::StatusCode;
use samverka_app::AppConfig;
use samverka_app::config::{Audience, OidcProvider};
use serde_json::json;

use crate::fhir::busy_case;
use crate::helpers::{Db, TestApp, long_sessions, pnr, spawn_app_with, submit};
use crate::oidc::{cookie_named, start_provider, through_provider};

const CLAIM: &str = "https://id.oidc.se/claim/personalIdentityNumber";
const PERSON_COOKIE: &str = "__Host-samverka-person";
/// Tillitsnivå 3: what a login through BankID or Freja+ gives.
const LOA3: &str = "http://id.elegnamnden.se/loa/1.0/loa3";

fn config(issuer: &str, demo: bool) -> AppConfig {
    let bankid = OidcProvider {
        id: "bankid".into(),
        name: "BankID (test)".into(),
        issuer: issuer.into(),
        client_id: "samverka".into(),
        client_secret: "test-secret".into(),
        redirect_url: "http://127.0.0.1/min/logga-in/bankid/tillbaka".into(),
        audience: Audience::Person,
        personnummer_claim: CLAIM.into(),
        ..OidcProvider::staff()
    };
    AppConfig { oidc: vec![bankid], demo_logins: demo, ..long_sessions() }
}

/// Signs in at the provider as `sub` and returns the person's session cookie (or the answer
/// when none was set).
async fn sign_in(app: &TestApp, issuer: &str, sub: &str) -> Result<String, reqwest::Response> {
    let res = through_provider(app, issuer, "/min/logga-in/bankid", "/min/logga-in/bankid/tillbaka", sub).await;
    cookie_named(&res, PERSON_COOKIE).filter(|c| !c.ends_with('=')).ok_or(res)
}

/// The provider knows `sub` with these claims.
async fn known_at_provider(issuer: &str, sub: &str, claims: serde_json::Value) {
    let res = reqwest::Client::new().put(format!("{issuer}/users/{sub}")).json(&claims).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
}

async fn page(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = client.get(format!("{}{path}", app.base)).header("cookie", cookie).send().await.unwrap();
    let status = res.status();
    (status, res.text().await.unwrap())
}

/// The readable text of a page, one block (heading, paragraph, list item, button) per line.
fn text_of(html: &str) -> String {
    let body = html.split("<main").nth(1).unwrap_or(html);
    let blocks = regex::Regex::new(r"(?i)</?(p|h[1-6]|li|blockquote|button|a|section|ol|ul|main)\b[^>]*>").unwrap();
    let tags = regex::Regex::new(r"<[^>]+>").unwrap();
    let text = tags.replace_all(&blocks.replace_all(body, "\n"), " ").to_string();
    text.replace("&nbsp;", " ").replace("&amp;", "&")
}

/// Läsbarhetsindex: words per sentence plus the percentage of words longer than six letters.
/// A sentence ends at . ! ? : or at the end of a block (a heading, a list item, a button).
fn lix(text: &str) -> f64 {
    let mut words = 0usize;
    let mut long = 0usize;
    let mut sentences = 0usize;
    for block in text.lines().filter(|l| l.chars().any(char::is_alphabetic)) {
        sentences += 1 + block.trim().trim_end_matches(['.', '!', '?', ':']).matches(['.', '!', '?', ':']).count();
        for w in block.split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty()) {
            words += 1;
            if w.chars().count() > 6 {
                long += 1;
            }
        }
    }
    words as f64 / sentences.max(1) as f64 + 100.0 * long as f64 / words.max(1) as f64
}

#[test]
fn lix_is_counted_as_defined() {
    // 9 words, 2 sentences, 2 long words (sjukhuset, kommunen).
    assert_eq!(lix("Du är inlagd på sjukhuset.\nKommunen hör av sig."), 9.0 / 2.0 + 100.0 * 2.0 / 9.0);
    // A colon ends a sentence too; a block ends one without a full stop.
    assert_eq!(lix("Ring: hit\nHemma"), 3.0 / 3.0);
}

async fn person_pages(db: Db) {
    let provider = start_provider().await;
    let app = spawn_app_with(db, config(&provider.issuer, false)).await;
    let w = &app.world;
    let (case, patient) = busy_case(&app, 5).await;
    let (other_case, _) = busy_case(&app, 6).await;
    // The ward reads the case: the person will see it in their log extract.
    app.get(&w.ward, &format!("/api/cases/{case}")).await;

    // Signing in: the personnummer comes in the configured claim.
    known_at_provider(&provider.issuer, "ingrid", json!({ CLAIM: pnr(5), "name": "Ingrid Lund", "acr": LOA3 })).await;
    let me = sign_in(&app, &provider.issuer, "ingrid").await.expect("a person's session");
    // A login without a personnummer gives no session.
    known_at_provider(&provider.issuer, "nobody", json!({ "name": "Utan Nummer", "acr": LOA3 })).await;
    let refused = sign_in(&app, &provider.issuer, "nobody").await.unwrap_err();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.text().await.unwrap().contains("personnummer"));
    // A login below tillitsnivå 3 (or that says none) gives no session either.
    for (sub, acr) in [("weak", json!("http://id.elegnamnden.se/loa/1.0/loa2")), ("unsaid", json!(null))] {
        known_at_provider(&provider.issuer, sub, json!({ CLAIM: pnr(5), "name": "Ingrid Lund", "acr": acr })).await;
        let refused = sign_in(&app, &provider.issuer, sub).await.unwrap_err();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{sub}");
        assert!(refused.text().await.unwrap().contains("inte tillräckligt säker"), "{sub}");
    }

    // The start page lists the person's own stay, and only that.
    let (s, start) = page(&app, &me, "/min").await;
    assert_eq!(s, StatusCode::OK);
    assert!(start.contains(&format!("/min/utskrivning/{case}")), "{start}");
    assert!(!start.contains(&other_case));
    let (s, mine) = page(&app, &me, &format!("/min/utskrivning/{case}")).await;
    assert_eq!(s, StatusCode::OK, "{mine}");
    for expected in [
        "Sjukhuset har sagt till kommunen att du är inlagd.",
        "Klara mig hemma och gå till affären själv.",
        "Hemtjänst morgon och kväll",
        "Hit kan du ringa",
    ] {
        assert!(mine.contains(expected), "{expected}: {mine}");
    }
    // The SIP meeting, with a calendar file.
    assert!(mine.contains(&format!("/min/utskrivning/{case}/mote.ics")));
    let (s, ics) = page(&app, &me, &format!("/min/utskrivning/{case}/mote.ics")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(ics.contains("BEGIN:VEVENT") && ics.contains("LOCATION:Hemma"), "{ics}");

    // Another person's case, by its id or a made-up one: the same "not found", logged.
    for id in [other_case.clone(), uuid::Uuid::now_v7().to_string(), "nonsense".into()] {
        let (s, body) = page(&app, &me, &format!("/min/utskrivning/{id}")).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{id}");
        assert!(!body.contains("Klara mig hemma"));
    }
    let patient_id: uuid::Uuid = patient.parse().unwrap();
    let logged = app.store.person_access_of(patient_id, 100).await.unwrap();
    assert!(logged.iter().any(|e| e.action == "person.case" && e.outcome == samverka_store::Outcome::Allowed));
    assert!(
        logged.iter().any(|e| e.case_id.map(|c| c.to_string()) == Some(other_case.clone())
            && e.outcome == samverka_store::Outcome::Denied),
        "the attempt on another's case is logged"
    );

    // An address under /min that does not exist is the person's own page, not staff's.
    let (s, lost) = page(&app, &me, "/min/finns-inte").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(lost.contains("/min/stil.css") && lost.contains("Vi hittar inte den sidan."), "{lost}");

    // One view of the page is one read in the log.
    let reads = |log: &[samverka_store::PersonAccess]| log.iter().filter(|e| e.action == "person.case").count();
    let before = reads(&app.store.person_access_of(patient_id, 1000).await.unwrap());
    page(&app, &me, &format!("/min/utskrivning/{case}")).await;
    assert_eq!(reads(&app.store.person_access_of(patient_id, 1000).await.unwrap()), before + 1);

    // Who has read my data: the ward's read is there, with name and unit.
    let (s, log) = page(&app, &me, "/min/vem-har-last").await;
    assert_eq!(s, StatusCode::OK);
    assert!(log.contains("Norrviks sjukhus, Geriatrik avd 21"), "{log}");

    // Their own voice: what matters to them, before the meeting. A form that cannot be taken
    // is drawn again with what was typed; the token of another page is refused.
    let csrf =
        regex::Regex::new(r#"name="csrf_token" value="([^"]+)""#).unwrap().captures(&mine).unwrap()[1].to_string();
    let post = |path: String, body: String| {
        let (app, me) = (&app, &me);
        async move {
            let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
            let res = client
                .post(format!("{}{path}", app.base))
                .header("cookie", me)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            (res.status(), res.text().await.unwrap())
        }
    };
    let words = format!("/min/utskrivning/{case}/mina-ord");
    let too_long = "x".repeat(samverka_domain::person::MAX_TEXT + 1);
    let (s, refused) =
        post(words.clone(), format!("csrf_token={csrf}&what_matters={too_long}&goals=&who_present=Dottern+Eva")).await;
    assert!(s.is_client_error(), "{s}");
    assert!(refused.contains("Texten är för lång.") && refused.contains("Dottern Eva"), "typed text kept");
    let (s, refused) = post(words.clone(), format!("csrf_token={csrf}&what_matters=&goals=+&who_present=")).await;
    assert!(s.is_client_error() && refused.contains("Skriv något i minst en av rutorna."), "{s}");
    let (s, _) = post(words.clone(), "csrf_token=wrong&what_matters=Hej".into()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) =
        post(format!("/min/utskrivning/{other_case}/mina-ord"), format!("csrf_token={csrf}&what_matters=Hej")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "not into another's case");
    let (s, _) = post(
        words.clone(),
        format!("csrf_token={csrf}&what_matters=Att+f%C3%A5+bo+kvar+hemma&goals=Promenera+till+aff%C3%A4ren&who_present=Dottern+Eva"),
    )
    .await;
    assert!(s.is_redirection(), "{s}");
    let (s, _) = post(format!("/min/utskrivning/{case}/svar"), format!("csrf_token={csrf}&attending=ja")).await;
    assert!(s.is_redirection());
    // It reached every unit of the case, as a staff message does; nobody has opened it yet.
    let (_, mine_now) = page(&app, &me, &format!("/min/utskrivning/{case}")).await;
    for unit in ["Norrviks sjukhus, Geriatrik avd 21", "Biståndsenheten Solna"] {
        assert!(mine_now.contains(&format!("{unit} har fått det.")), "{unit}: {mine_now}");
    }
    // The staff see it on the case page and beside the goals in the SIP editor, marked as the
    // person's own words; the ward marks it read, and the person sees that.
    let (_, staff_page) = page(&app, &w.ward.cookie, &format!("/arenden/{case}")).await;
    assert!(staff_page.contains("Patientens egna ord") && staff_page.contains("Att få bo kvar hemma"), "{staff_page}");
    assert!(staff_page.contains("Jag kommer till mötet."));
    let (_, sip_page) = page(&app, &w.vc.cookie, &format!("/arenden/{case}/sip")).await;
    assert!(sip_page.contains("Promenera till affären"), "the SIP editor shows the person's words");
    let said = app.store.person_statements(case.parse().unwrap()).await.unwrap();
    assert_eq!(said.len(), 2);
    let first = said[0].id;
    let (_, mine_now) = page(&app, &me, &format!("/min/utskrivning/{case}")).await;
    assert!(mine_now.contains("Norrviks sjukhus, Geriatrik avd 21 har öppnat det"), "the ward opened it: {mine_now}");
    assert!(mine_now.contains("Biståndsenheten Solna har fått det."), "the municipality has not looked");
    assert_eq!(said[0].opens.len(), 2, "opened by the ward and by the vårdcentral, once each");
    let mark = |who: &crate::helpers::As| {
        let path = format!("{}/arenden/{case}/patientens-ord/{first}/last", app.base);
        let (cookie, token) = (who.cookie.clone(), who.csrf.clone());
        async move {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .post(path)
                .header("cookie", cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("csrf_token={token}"))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert!(mark(&w.ward).await.is_redirection());
    assert!(mark(&w.other_kommun).await.is_client_error(), "a unit outside the case cannot");
    let (_, mine_now) = page(&app, &me, &format!("/min/utskrivning/{case}")).await;
    assert!(mine_now.contains("Norrviks sjukhus, Geriatrik avd 21 har läst det"), "{mine_now}");
    let marked = app.store.person_statements(case.parse().unwrap()).await.unwrap();
    assert_eq!(marked[0].reads.len(), 1, "read once, by the ward");

    // Their own consent: taking back the consent to share stops sharing the case at once;
    // saying yes again opens it, the same as a consent staff record.
    let consent = format!("/min/utskrivning/{case}/samtycke");
    let (s, _) = post(consent.clone(), format!("csrf_token={csrf}&kind=information_sharing&do=aterkalla")).await;
    assert!(s.is_redirection(), "{s}");
    let invite = json!({ "unit": w.units.hsl, "reason": "Hemsjukvård behövs" });
    let refused = app.post(&w.ward, &format!("/api/cases/{case}/parties"), invite.clone(), StatusCode::FORBIDDEN).await;
    assert_eq!(refused["code"], "consent_required", "{refused}");
    let (_, staff_page) = page(&app, &w.ward.cookie, &format!("/arenden/{case}")).await;
    assert!(staff_page.contains("Ingrid Lund (själv, med e-legitimation)"), "the case says who withdrew it");
    // Nothing more goes between the units: the municipality gets no message, and the pages say why.
    let question = json!({ "body": { "kind": "allmant", "text": "Hur går det?" }, "recipients": [w.units.bistand] });
    let before =
        app.get(&w.bistand, &format!("/api/cases/{case}")).await["state"]["messages"].as_array().unwrap().len();
    let refused =
        app.post(&w.ward, &format!("/api/cases/{case}/messages"), question.clone(), StatusCode::FORBIDDEN).await;
    assert_eq!(refused["code"], "consent_withdrawn", "{refused}");
    let after = app.get(&w.bistand, &format!("/api/cases/{case}")).await["state"]["messages"].as_array().unwrap().len();
    assert_eq!(after, before, "the municipality received nothing");
    for who in [&w.ward, &w.bistand] {
        let (_, staff_page) = page(&app, &who.cookie, &format!("/arenden/{case}")).await;
        assert!(staff_page.contains("Inget skickas till andra enheter i ärendet"), "{staff_page}");
    }
    let (s, _) = post(consent.clone(), format!("csrf_token={csrf}&kind=information_sharing&do=ge")).await;
    assert!(s.is_redirection());
    app.post(&w.ward, &format!("/api/cases/{case}/parties"), invite, StatusCode::OK).await;
    app.post(&w.ward, &format!("/api/cases/{case}/messages"), question, StatusCode::CREATED).await;
    let (_, mine_now) = page(&app, &me, &format!("/min/utskrivning/{case}")).await;
    assert!(mine_now.contains("Du har sagt ja."));
    let (s, _) = post(consent.clone(), "csrf_token=wrong&kind=sip&do=aterkalla".into()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "another page's token is refused");
    let logged = app
        .store
        .access_log(&samverka_store::AccessFilter { patient_id: Some(patient_id), limit: 500, ..Default::default() })
        .await
        .unwrap();
    assert!(
        logged
            .iter()
            .any(|e| e.role == Some(samverka_domain::access::Role::Person) && e.action == "case.record_consent"),
        "the person's consent is in the access log as theirs"
    );
    let (_, extract) = page(&app, &me, "/min/vem-har-last").await;
    assert!(!extract.contains("själv, med e-legitimation"), "what the person did is not someone reading about them");

    // The walls: a person's cookie opens no staff page or API; a staff cookie no person page.
    let (s, _) = page(&app, &me, &format!("/api/cases/{case}")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = page(&app, &me, &format!("/arenden/{case}")).await;
    assert!(s.is_redirection(), "to the staff login: {s}");
    let (s, staff_view) = page(&app, &w.ward.cookie, &format!("/min/utskrivning/{case}")).await;
    assert!(s.is_redirection() && !staff_view.contains("Klara mig"), "{s}");
    let (_, staff_start) = page(&app, &w.ward.cookie, "/min").await;
    assert!(staff_start.contains("/min/logga-in/bankid"), "a staff session is no person's: {staff_start}");

    // Plain language and light pages.
    for path in [
        "/min".to_string(),
        format!("/min/utskrivning/{case}"),
        "/min/vem-har-last".into(),
        "/min/narstaende".into(),
        "/min/tillganglighet".into(),
    ] {
        let (_, html) = page(&app, &me, &path).await;
        let score = lix(&text_of(&html));
        eprintln!("{path}: LIX {score:.1}, {} bytes", html.len());
        assert!(score <= 40.0, "{path}: LIX {score:.1}\n{}", text_of(&html));
        assert!(html.len() < 50_000, "{path}: {} bytes", html.len());
    }
    // Without e-mail in this installation, nobody is offered it.
    let (_, start) = page(&app, &me, "/min").await;
    assert!(!start.contains("Få ett e-brev"), "no e-mail to offer");
    let (s, _) = person_post(&app, &me, "/min/e-post", &[("email", "ingrid@exempel.se"), ("do", "ja")]).await;
    assert_eq!(s, StatusCode::CONFLICT);
    // The accessibility statement is open to all; a form sent where none is taken gets the
    // person's own page, not the staff's.
    let (s, statement) = page(&app, "", "/min/tillganglighet").await;
    assert!(s == StatusCode::OK && statement.contains("WCAG 2.1"), "{s}");
    let (s, wrong) = person_post(&app, &me, "/min/vem-har-last", &[]).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong.contains("/min/stil.css") && !wrong.contains("/static/samverka.css"), "{wrong}");
    let (_, sign_in_page) = page(&app, "", "/min").await;
    let score = lix(&text_of(&sign_in_page));
    assert!(score <= 40.0, "sign-in: LIX {score:.1}");

    // Signing out ends the session: the cookie opens nothing after.
    let csrf =
        regex::Regex::new(r#"name="csrf_token" value="([^"]+)""#).unwrap().captures(&start).unwrap()[1].to_string();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let out = client
        .post(format!("{}/min/logga-ut", app.base))
        .header("cookie", &me)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf_token={csrf}"))
        .send()
        .await
        .unwrap();
    assert!(out.status().is_redirection());
    let (s, _) = page(&app, &me, &format!("/min/utskrivning/{case}")).await;
    assert!(s.is_redirection(), "signed out: {s}");
    // Writing on after the session ended loses nothing: the text comes back to copy.
    let (s, back) = post(words.clone(), format!("csrf_token={csrf}&what_matters=Min+l%C3%A5nga+text&goals=")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(back.contains("Min långa text") && back.contains("Logga in igen"), "{back}");
    assert!(lix(&text_of(&back)) <= 40.0, "the page that gives the text back is plain too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_and_sees_only_their_own_discharge_on_sqlite() {
    person_pages(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_and_sees_only_their_own_discharge_on_postgres() {
    person_pages(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_as_a_demo_person_works_only_in_a_demo() {
    for demo in [false, true] {
        let mut app = spawn_app_with(Db::Sqlite, AppConfig { demo_logins: demo, ..long_sessions() }).await;
        let _dir = app.take_dir();
        let (case, _) = busy_case(&app, 7).await;
        let (_, start) = page(&app, "", "/min").await;
        assert_eq!(start.contains(&pnr(7)), demo, "demo persons are listed only in a demo");
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let res = client
            .post(format!("{}/min/demo", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("personnummer={}", pnr(7)))
            .send()
            .await
            .unwrap();
        let cookie = cookie_named(&res, PERSON_COOKIE);
        assert_eq!(cookie.is_some(), demo, "{}", res.status());
        if let Some(c) = cookie {
            let (s, _) = page(&app, &c, &format!("/min/utskrivning/{case}")).await;
            assert_eq!(s, StatusCode::OK);
        }
    }
}

/// Posts a person's form (with their page's token) and answers the status and the body, or
/// the address it leads on to.
async fn person_post(app: &TestApp, cookie: &str, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let (_, start) = page(app, cookie, "/min").await;
    let token =
        regex::Regex::new(r#"name="csrf_token" value="([^"]+)""#).unwrap().captures(&start).unwrap()[1].to_string();
    let mut all = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&all).unwrap())
        .send()
        .await
        .unwrap();
    let status = res.status();
    let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_string());
    (status, location.unwrap_or_default() + &res.text().await.unwrap())
}

async fn representatives(db: Db) {
    use samverka_domain::ids::personnummer_with_check_digit;
    let provider = start_provider().await;
    let app = spawn_app_with(db, config(&provider.issuer, false)).await;
    let w = &app.world;
    let (case, patient) = busy_case(&app, 8).await;
    let (other_case, _) = busy_case(&app, 9).await;
    let patient_id: uuid::Uuid = patient.parse().unwrap();
    let seen = app.get(&w.ward, &format!("/api/cases/{case}")).await;
    let name = format!(
        "{} {}",
        seen["patient"]["given_name"].as_str().unwrap(),
        seen["patient"]["family_name"].as_str().unwrap()
    );
    let daughter = personnummer_with_check_digit(jiff::civil::date(1970, 1, 2), 238).as_str().to_string();
    let guardian = personnummer_with_check_digit(jiff::civil::date(1960, 3, 3), 123).as_str().to_string();
    for (sub, number, who) in
        [("ingrid", pnr(8), "Ingrid"), ("eva", daughter.clone(), "Eva Lund"), ("karl", guardian.clone(), "Karl Berg")]
    {
        known_at_provider(&provider.issuer, sub, json!({ CLAIM: number, "name": who, "acr": LOA3 })).await;
    }
    let me = sign_in(&app, &provider.issuer, "ingrid").await.expect("the person");
    let eva = sign_in(&app, &provider.issuer, "eva").await.expect("the daughter");
    let karl = sign_in(&app, &provider.issuer, "karl").await.expect("the god man");
    let mine = format!("/min/utskrivning/{case}");

    // Before anyone is invited, the daughter sees nothing of her mother's.
    assert_eq!(page(&app, &eva, &mine).await.0, StatusCode::NOT_FOUND);

    // The person invites her daughter to see where she is, not her plan or her words. A
    // refused invitation comes back with what was typed.
    let bad = daughter[..11].to_string() + if daughter.ends_with('0') { "1" } else { "0" };
    let (s, back) = person_post(&app, &me, "/min/narstaende", &[("name", "Eva Lund"), ("personnummer", &bad)]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{back}");
    assert!(back.contains("Personnumret stämmer inte") && back.contains(r#"value="Eva Lund""#), "{back}");
    let (s, to) = person_post(&app, &me, "/min/narstaende", &[("name", "Eva Lund"), ("personnummer", &daughter)]).await;
    assert!(s.is_redirection(), "{s} {to}");
    let (s, twice) = person_post(
        &app,
        &me,
        "/min/narstaende",
        &[("name", "Eva Lund"), ("personnummer", &daughter), ("share", "plan")],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "invited once: {twice}");
    assert!(twice.contains("Hen finns redan med"), "{twice}");

    // The daughter sees her mother's standing and contacts, and only that.
    let (s, start) = page(&app, &eva, "/min").await;
    assert_eq!(s, StatusCode::OK);
    assert!(start.contains(&format!("Du följer {name} som närstående")) && start.contains(&mine), "{start}");
    assert!(!start.contains(&other_case));
    let (s, hers) = page(&app, &eva, &mine).await;
    assert_eq!(s, StatusCode::OK);
    assert!(hers.contains("Just nu") && hers.contains("Hit kan du ringa") && hers.contains("som närstående"), "{hers}");
    let score = lix(&text_of(&hers));
    eprintln!("a närstående's view: LIX {score:.1}, {} bytes", hers.len());
    assert!(score <= 40.0 && hers.len() < 50_000, "a närstående's view: LIX {score:.1}");
    for hidden in ["Din plan", "Det här är viktigt för mig", "Samtycke", "Vem har läst"] {
        assert!(!hers.contains(hidden), "{hidden} is not shared: {hers}");
    }
    let (s, _) = person_post(&app, &eva, &format!("{mine}/mina-ord"), &[("what_matters", "Jag bestämmer")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "she may not write in her mother's name");
    let (s, _) = person_post(&app, &eva, &format!("{mine}/samtycke"), &[("kind", "sip"), ("do", "ge")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "nor consent for her");
    assert!(app.store.person_statements(case.parse().unwrap()).await.unwrap().is_empty());
    assert_eq!(page(&app, &eva, &format!("/min/utskrivning/{other_case}")).await.0, StatusCode::NOT_FOUND);

    // The person's log extract names her daughter's reading.
    let (_, extract) = page(&app, &me, "/min/vem-har-last").await;
    assert!(extract.contains("Eva Lund (närstående)"), "{extract}");

    // Staff register a god man who may consent, from the decision they were shown; a unit
    // outside the care may not, nor may staff register a närstående.
    let register = |kind: &'static str, number: String| {
        vec![
            ("kind", kind.to_string()),
            ("name", "Karl Berg".to_string()),
            ("personnummer", number),
            ("share", "consent".to_string()),
        ]
    };
    let fields = register("god_man", guardian.clone());
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let path = format!("/arenden/{case}/foretradare");
    let (s, body) = submit(&app, &w.other_kommun, &path, &fields).await;
    assert!(s.is_client_error(), "{s} {body}");
    let narstaende = register("narstaende", guardian.clone());
    let narstaende: Vec<(&str, &str)> = narstaende.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, _) = submit(&app, &w.ward, &path, &narstaende).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, to) = submit(&app, &w.ward, &path, &fields).await;
    assert!(s.is_redirection() && to.contains("klart=foretradare"), "{s} {to}");
    let (_, staff_page) = crate::helpers::page(&app, &w.ward, &format!("/arenden/{case}")).await;
    assert!(staff_page.contains("Karl Berg") && staff_page.contains("Eva Lund"), "the case lists both");

    // The god man gives consent for her, recorded as given by her representative.
    let (s, body) = person_post(&app, &karl, &format!("{mine}/samtycke"), &[("kind", "sip"), ("do", "ge")]).await;
    assert!(s.is_redirection(), "{s} {body}");
    let seen = app.get(&w.ward, &format!("/api/cases/{case}")).await;
    let consents = seen["state"]["consents"].as_array().unwrap();
    assert!(
        consents.iter().any(|c| c["kind"] == "sip"
            && c["given_by"]["name"] == "Karl Berg"
            && c["given_by"]["relation"] == "god man"),
        "{consents:?}"
    );
    // The person cannot end an appointment she did not make.
    let reps = app.store.representations_of(patient_id).await.unwrap();
    let karls = reps.iter().find(|r| r.name == "Karl Berg").unwrap().id;
    let evas = reps.iter().find(|r| r.name == "Eva Lund").unwrap().id;
    let (s, _) = person_post(&app, &me, &format!("/min/narstaende/{karls}/avsluta"), &[]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // When the mandate ends, he sees nothing; when she takes back the invitation, neither
    // does her daughter. Both attempts are logged as denied.
    let (s, _) =
        submit(&app, &w.ward, &format!("/arenden/{case}/foretradare/{karls}/avsluta"), &[("reason", "")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "a reason is needed");
    let (s, _) = submit(
        &app,
        &w.ward,
        &format!("/arenden/{case}/foretradare/{karls}/avsluta"),
        &[("reason", "Beslut från överförmyndaren")],
    )
    .await;
    assert!(s.is_redirection());
    assert_eq!(page(&app, &karl, &mine).await.0, StatusCode::NOT_FOUND);
    let (s, _) = person_post(&app, &me, &format!("/min/narstaende/{evas}/avsluta"), &[]).await;
    assert!(s.is_redirection());
    assert_eq!(page(&app, &eva, &mine).await.0, StatusCode::NOT_FOUND);
    let (_, start) = page(&app, &eva, "/min").await;
    assert!(!start.contains(&mine));
    let logged = app.store.person_access_of(patient_id, 1000).await.unwrap();
    assert!(logged.iter().any(|e| e.action == "person.invite" && e.reader_name == "Ingrid"));
    let denied_case = app.store.person_access_of(patient_id, 1000).await.unwrap();
    assert!(denied_case.iter().any(|e| e.representation_id == Some(evas) && e.action == "person.case"));
    let staff_log = app
        .store
        .access_log(&samverka_store::AccessFilter { patient_id: Some(patient_id), limit: 500, ..Default::default() })
        .await
        .unwrap();
    for action in ["representation.register", "representation.end"] {
        assert!(
            staff_log.iter().any(|e| e.action == action && e.outcome == samverka_store::Outcome::Allowed),
            "{action}"
        );
    }
    assert!(
        staff_log.iter().any(|e| e.action == "representation.register" && e.outcome == samverka_store::Outcome::Denied),
        "the outsider's attempt is logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_representative_sees_only_what_is_shared_and_nothing_once_it_ends_on_sqlite() {
    representatives(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_representative_sees_only_what_is_shared_and_nothing_once_it_ends_on_postgres() {
    representatives(Db::Postgres).await;
}

async fn told_by_mail(db: Db) {
    let provider = start_provider().await;
    // The installation sends e-mail (nothing is sent here: the outbox is read instead).
    let mail = samverka_app::config::MailSettings {
        host: "smtp.region.example".into(),
        port: 587,
        security: samverka_app::config::MailSecurity::StartTls,
        from: "Samverka <samverka@region.example>".into(),
        username: None,
        password: None,
    };
    let app = spawn_app_with(db, AppConfig { mail: Some(mail), ..config(&provider.issuer, false) }).await;
    let w = &app.world;
    let (case, _) = busy_case(&app, 10).await;
    known_at_provider(&provider.issuer, "greta", json!({ CLAIM: pnr(10), "name": "Greta", "acr": LOA3 })).await;
    let me = sign_in(&app, &provider.issuer, "greta").await.expect("the person");
    let (_, start) = page(&app, &me, "/min").await;
    assert!(start.contains("Få ett e-brev när något är nytt"), "{start}");

    // A wrong address comes back with what was typed; a right one is kept.
    let (s, back) = person_post(&app, &me, "/min/e-post", &[("email", "greta.exempel.se"), ("do", "ja")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(back.contains("Skriv en e-postadress") && back.contains(r#"value="greta.exempel.se""#), "{back}");
    let (s, _) = person_post(&app, &me, "/min/e-post", &[("email", "greta@exempel.se"), ("do", "ja")]).await;
    assert!(s.is_redirection());
    let (_, start) = page(&app, &me, "/min").await;
    assert!(start.contains("Vi skickar ett e-brev till greta@exempel.se"), "{start}");

    // What was there when she asked is not news.
    assert_eq!(samverka_app::person::notify_news(&app.state).await.unwrap(), 0);
    // The ward says she is ready to go home: one mail, saying only that something is new.
    let ready = json!({ "body": { "kind": "utskrivningsklar", "referrals_cancelled": true }, "recipients": [w.units.bistand, w.units.vc] });
    app.post(&w.ward, &format!("/api/cases/{case}/messages"), ready, StatusCode::CREATED).await;
    let acknowledged = app.get(&w.bistand, &format!("/api/cases/{case}")).await;
    assert_eq!(samverka_app::person::notify_news(&app.state).await.unwrap(), 1);
    assert_eq!(samverka_app::person::notify_news(&app.state).await.unwrap(), 0, "told once");
    let outbox = app.store.mail_outbox(10).await.unwrap();
    assert_eq!(outbox.len(), 1);
    let mail = &outbox[0].mail;
    assert_eq!((mail.to.as_str(), mail.subject.as_str()), ("greta@exempel.se", "Nytt i Samverka"));
    assert!(mail.body.contains("Det finns något nytt för dig i Samverka."), "{}", mail.body);
    let patient = &acknowledged["patient"];
    for secret in [
        patient["given_name"].as_str().unwrap(),
        patient["family_name"].as_str().unwrap(),
        &pnr(10),
        &pnr(10)[2..8],
        "Geriatrik",
        "Norrviks",
        "utskrivningsklar",
        "Hemma",
        "Hemtjänst",
        &case,
    ] {
        assert!(!mail.body.contains(secret) && !mail.subject.contains(secret), "{secret} in the mail: {}", mail.body);
    }

    // News within twelve hours waits; once she has looked, it is no longer news.
    app.post(
        &w.ward,
        &format!("/api/cases/{case}/discharge"),
        json!({ "at": samverka_app::clock::Clock::now(&*app.clock).to_string() }),
        StatusCode::OK,
    )
    .await;
    assert_eq!(samverka_app::person::notify_news(&app.state).await.unwrap(), 0, "at most one mail in twelve hours");
    app.clock.advance(jiff::SignedDuration::from_hours(13));
    assert_eq!(samverka_app::person::notify_news(&app.state).await.unwrap(), 1, "told when twelve hours have passed");
    let call = json!({ "body": { "kind": "kallelse_sip", "meeting_at": "2026-11-20T12:00:00Z", "place": "Hemma", "patient_invited": true, "relatives_invited": false } });
    app.post(&w.vc, &format!("/api/cases/{case}/messages"), call, StatusCode::CREATED).await;
    app.clock.advance(jiff::SignedDuration::from_hours(13));
    let me = sign_in(&app, &provider.issuer, "greta").await.expect("signed in again");
    assert_eq!(page(&app, &me, &format!("/min/utskrivning/{case}")).await.0, StatusCode::OK);
    assert_eq!(samverka_app::person::notify_news(&app.state).await.unwrap(), 0, "she has seen the new meeting");
    assert_eq!(app.store.mail_outbox(10).await.unwrap().len(), 2);

    // Stopping removes the address; nothing more is sent.
    let (s, _) = person_post(&app, &me, "/min/e-post", &[("do", "nej")]).await;
    assert!(s.is_redirection());
    assert!(
        app.store
            .person_notice(acknowledged["patient"]["id"].as_str().unwrap().parse().unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let logged = app
        .store
        .person_access_of(acknowledged["patient"]["id"].as_str().unwrap().parse().unwrap(), 100)
        .await
        .unwrap();
    assert!(
        logged.iter().any(|e| e.action == "person.notice_on") && logged.iter().any(|e| e.action == "person.notice_off")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_is_told_by_mail_that_something_is_new_and_nothing_more_on_sqlite() {
    told_by_mail(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_is_told_by_mail_that_something_is_new_and_nothing_more_on_postgres() {
    told_by_mail(Db::Postgres).await;
}

/// A login begun on one Samverka process ends on another on the same database (behind a load
/// balancer the provider's answer may reach any), and its answer is taken only once.
async fn one_login_across_processes(db: Db) {
    let provider = start_provider().await;
    let app = spawn_app_with(db, config(&provider.issuer, false)).await;
    let other = samverka_app::AppState::new(app.store.clone(), app.clock.clone(), (*app.state.config).clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other_base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(samverka_server::serve(listener, other, std::future::pending()));
    let (_case, _) = busy_case(&app, 11).await;
    known_at_provider(&provider.issuer, "astrid", json!({ CLAIM: pnr(11), "name": "Astrid", "acr": LOA3 })).await;

    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let started = client.get(format!("{}/min/logga-in/bankid", app.base)).send().await.unwrap();
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let authorize = started.headers()["location"].to_str().unwrap().to_string();
    let state_cookie = cookie_named(&started, "__Host-samverka-oidc").expect("bound to this browser");
    let approved = client
        .post(&authorize)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("sub=astrid")
        .send()
        .await
        .unwrap();
    let back = approved.headers()["location"].to_str().unwrap().to_string();
    let query = back.split_once('?').unwrap().1.to_string();
    let callback = format!("{other_base}/min/logga-in/bankid/tillbaka?{query}");
    let done = client.get(&callback).header("cookie", &state_cookie).send().await.unwrap();
    assert!(done.status().is_redirection(), "{}", done.status());
    let session = cookie_named(&done, PERSON_COOKIE).filter(|c| !c.ends_with('=')).expect("signed in on the other");
    assert_eq!(page(&app, &session, "/min").await.0, StatusCode::OK, "and the session holds on the first");
    let again = client.get(&callback).header("cookie", &state_cookie).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED, "an answer is taken once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_begun_on_one_process_ends_on_another_on_sqlite() {
    one_login_across_processes(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_begun_on_one_process_ends_on_another_on_postgres() {
    one_login_across_processes(Db::Postgres).await;
}

/// The life story: the person writes it and decides whether it is shared; a unit in the care
/// sees it only while it is shared; staff write it down with the person; nothing typed is lost
/// when a save is refused; every read and write is logged.
async fn life_story(db: Db) {
    let mut app = spawn_app_with(db, AppConfig { demo_logins: true, ..long_sessions() }).await;
    let _dir = app.take_dir();
    let w = &app.world;
    let (case, patient) = busy_case(&app, 8).await;
    let patient_id: uuid::Uuid = patient.parse().unwrap();
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/min/demo", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("personnummer={}", pnr(8)))
        .send()
        .await
        .unwrap();
    let me = cookie_named(&res, PERSON_COOKIE).expect("a demo person's session");
    let api = format!("/api/cases/{case}/life-story");

    // Nothing written, nothing shared: the unit sees why, and nothing else.
    let seen = app.get(&w.vc, &api).await;
    assert_eq!((seen["shared"].as_bool(), seen["withheld"].as_str()), (Some(false), Some("not_shared")), "{seen}");

    // The person writes. A refused save comes back with what was typed.
    let (_, start) = page(&app, &me, "/min").await;
    assert!(start.contains("/min/levnadsberattelse"), "the start page leads to it");
    let too_long = "x".repeat(samverka_domain::life_story::MAX_PART + 1);
    let (s, back) = person_post(
        &app,
        &me,
        "/min/levnadsberattelse",
        &[("seen_version", "0"), ("who_i_am", "Kallas Gittan"), ("worries", &too_long)],
    )
    .await;
    assert!(s.is_client_error() && back.contains("för lång") && back.contains("Kallas Gittan"), "{s}");
    let (s, to) = person_post(
        &app,
        &me,
        "/min/levnadsberattelse",
        &[("seen_version", "0"), ("who_i_am", "Kallas Gittan"), ("joys", "Kaffe på förmiddagen")],
    )
    .await;
    assert!(s.is_redirection() && to.contains("klart=sparad"), "{s} {to}");
    let (s, mine) = page(&app, &me, "/min/levnadsberattelse").await;
    assert_eq!(s, StatusCode::OK);
    assert!(mine.contains("Kallas Gittan") && mine.contains("Bara du kan läsa"), "{mine}");
    let score = lix(&text_of(&mine));
    assert!(score <= 40.0, "/min/levnadsberattelse: LIX {score:.1}\n{}", text_of(&mine));
    // Written, but not shared: still nothing for the unit.
    assert_eq!(app.get(&w.vc, &api).await["parts"], json!({}));

    // Shared: the unit in the care reads the latest version.
    let (s, _) = person_post(&app, &me, "/min/levnadsberattelse/delning", &[("do", "dela")]).await;
    assert!(s.is_redirection(), "{s}");
    let seen = app.get(&w.vc, &api).await;
    assert_eq!(seen["shared"], json!(true));
    assert_eq!(seen["parts"], json!({ "who_i_am": "Kallas Gittan", "joys": "Kaffe på förmiddagen" }));
    assert_eq!(seen["version"], json!(1));
    // A unit outside the care is refused, the page says why.
    let (s, _) = crate::helpers::page(&app, &w.other_vc, &format!("/arenden/{case}/levnadsberattelse")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Emergency access (nödåtkomst) reaches the case, not the life story.
    let reason = json!({ "reason": "Patienten sökte akut på vårdcentralen med andnöd" });
    app.post(&w.other_vc, &format!("/api/cases/{case}/emergency-access"), reason, StatusCode::OK).await;
    let urgent = app.get(&w.other_vc, &api).await;
    assert_eq!((urgent["withheld"].as_str(), urgent["parts"].clone()), (Some("not_in_care"), json!({})), "{urgent}");

    // Staff write with her on the page. On top of an old version the form comes back with
    // what was typed and says why.
    let web = format!("/arenden/{case}/levnadsberattelse");
    let (s, shown) = crate::helpers::page(&app, &w.vc, &web).await;
    assert!(s == StatusCode::OK && shown.contains("Kaffe på förmiddagen"), "{s}");
    let (s, to) = submit(
        &app,
        &w.vc,
        &web,
        &[("seen_version", "1"), ("who_i_am", "Kallas Gittan"), ("habits", "Vill sova länge")],
    )
    .await;
    assert!(s.is_redirection() && to.contains("klart=1"), "{s} {to}");
    let (s, stale) =
        submit(&app, &w.vc, &web, &[("seen_version", "1"), ("who_i_am", "Skrivet ovanpå en gammal version")]).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(stale.contains("har ändrats") && stale.contains("Skrivet ovanpå en gammal version"), "typed text kept");
    let (_, mine) = page(&app, &me, "/min/levnadsberattelse").await;
    assert!(mine.contains("Vill sova länge") && mine.contains("skrev med dig"), "she sees who wrote with her");
    // The unit sees the latest version, and of the earlier ones only who wrote them and when.
    let seen = app.get(&w.vc, &api).await;
    assert_eq!(seen["parts"], json!({ "who_i_am": "Kallas Gittan", "habits": "Vill sova länge" }));
    assert_eq!(seen["versions"].as_array().map(Vec::len), Some(2));
    assert!(!seen.to_string().contains("Kaffe på förmiddagen"), "an earlier version's text stays hers: {seen}");
    let (_, staff_page) = crate::helpers::page(&app, &w.vc, &web).await;
    assert!(!staff_page.contains("Kaffe på förmiddagen"), "not on the page either");

    // She stops sharing: the unit sees nothing again, though it wrote with her.
    let (s, _) = person_post(&app, &me, "/min/levnadsberattelse/delning", &[("do", "sluta")]).await;
    assert!(s.is_redirection(), "{s}");
    let seen = app.get(&w.vc, &api).await;
    assert_eq!((seen["shared"].as_bool(), seen["parts"].clone()), (Some(false), json!({})));
    assert_eq!(seen["versions"], json!([]), "who wrote when is hers too");
    // Staff cannot share it for her without her word.
    let (s, refused) = submit(&app, &w.vc, &web, &[("seen_version", "2"), ("who_i_am", "Gittan")]).await;
    assert!(s.is_client_error() && refused.contains("kryssa i rutan") && refused.contains("Gittan"), "{s}");

    // Every step is logged: her own in her log, the unit's reads and write in the access log.
    let hers: Vec<String> =
        app.store.person_access_of(patient_id, 100).await.unwrap().into_iter().map(|e| e.action).collect();
    for action in
        ["person.life_story", "person.life_story.write", "person.life_story.share", "person.life_story.unshare"]
    {
        assert!(hers.iter().any(|a| a == action), "{action} in {hers:?}");
    }
    let staff = app
        .store
        .access_log(&samverka_store::AccessFilter { patient_id: Some(patient_id), limit: 500, ..Default::default() })
        .await
        .unwrap();
    let count = |action: &str, outcome| staff.iter().filter(|e| e.action == action && e.outcome == outcome).count();
    assert!(count("life_story.read", samverka_store::Outcome::Allowed) >= 5);
    assert!(count("life_story.read", samverka_store::Outcome::Denied) >= 1, "the outsider's attempt");
    assert_eq!(
        count("life_story.write", samverka_store::Outcome::Allowed),
        1 + 3,
        "one write and three reads to write"
    );
    assert_eq!(
        count("life_story.write", samverka_store::Outcome::Refused),
        2,
        "the stale save and the one without her word"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_life_story_is_the_persons_and_shared_only_by_them_on_sqlite() {
    life_story(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_life_story_is_the_persons_and_shared_only_by_them_on_postgres() {
    life_story(Db::Postgres).await;
}

/// What a joint round said reaches the person's own page, in plain words.
async fn round_outcome(db: Db) {
    let provider = start_provider().await;
    let app = spawn_app_with(db, config(&provider.issuer, false)).await;
    let w = &app.world;
    app.at("2026-11-02 08:00");
    let (case, _) = crate::rounds::coordination(&app, 34, true, true).await;
    app.at("2026-11-03 08:00");
    let (_, meeting, _) = crate::rounds::round(&app).await;
    let note = json!({
        "meeting_id": meeting,
        "changed": "Du har fallit två gånger.",
        "professions": [{ "profession": "hemtjanst", "what": "Tittar till dig på kvällen." }],
        "next_review": "2026-11-17",
        "actions": [{ "what": "Sätta upp ett handtag i badrummet", "owner_unit": w.units.bistand, "owner_name": "Bodil", "due": "2026-11-10" }]
    });
    app.post(&w.vc, &format!("/api/cases/{case}/round-notes"), note, StatusCode::CREATED).await;
    known_at_provider(&provider.issuer, "greta", json!({ CLAIM: pnr(34), "name": "Greta Lind34", "acr": LOA3 })).await;
    let me = sign_in(&app, &provider.issuer, "greta").await.expect("a person's session");
    let (s, mine) = page(&app, &me, &format!("/min/utskrivning/{case}")).await;
    assert_eq!(s, StatusCode::OK);
    let text = text_of(&mine);
    for said in [
        "Från mötet om dig",
        "Du har fallit två gånger.",
        "Hemtjänst: Tittar till dig på kvällen.",
        "Sätta upp ett handtag i badrummet. Klart senast",
        "Vi går igenom hur du har det igen",
    ] {
        assert!(text.contains(said), "{said}: {text}");
    }
    // The section's own words are plain language too.
    let ours: String = text
        .lines()
        .skip_while(|l| !l.contains("Från mötet om dig"))
        .filter(|l| !l.contains("fallit") && !l.contains("Tittar") && !l.contains("handtag"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(lix(&ours) <= 40.0, "LIX {}: {ours}", lix(&ours));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_sees_what_the_round_said_on_sqlite() {
    round_outcome(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_sees_what_the_round_said_on_postgres() {
    round_outcome(Db::Postgres).await;
}
