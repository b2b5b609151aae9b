//! Logging in: two factors, assignments, sessions that rotate and expire, CSRF, throttling
//! that cannot lock others out for good, TOTP replay, and administrators' limits.

use reqwest::{Method, StatusCode};
use samverka_app::{AppConfig, Clock};
use samverka_domain::access::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{As, Db, PASSWORD, TestApp, account, spawn_app_with};
use crate::on_both;

/// The session cookie's `name=value` from a response, if it sets one.
fn set_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-samverka="))
        .map(str::to_string)
}

fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

struct Step {
    status: StatusCode,
    body: Value,
    cookie: Option<String>,
}

async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    cookie: Option<&str>,
    csrf: Option<&str>,
    body: Value,
) -> Step {
    let mut req = client.post(format!("{}{path}", app.base)).json(&body);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    if let Some(t) = csrf {
        req = req.header("x-csrf-token", t);
    }
    let res = req.send().await.unwrap();
    let cookie = set_cookie(&res);
    Step { status: res.status(), body: res.json().await.unwrap_or(Value::Null), cookie }
}

async fn get(app: &TestApp, path: &str, cookie: &str) -> (StatusCode, Value) {
    let res = app.client.get(format!("{}{path}", app.base)).header("cookie", cookie).send().await.unwrap();
    (res.status(), res.json().await.unwrap_or(Value::Null))
}

async fn code(app: &TestApp, username: &str) -> String {
    let secret = app.store.account_by_username(username).await.unwrap().unwrap().totp_secret.unwrap();
    samverka_app::auth::totp::current_code(&secret, app.clock.now()).unwrap()
}

/// Password and code; returns the cookie and CSRF token after the second factor.
async fn login(app: &TestApp, client: &reqwest::Client, username: &str) -> (String, Value) {
    let s = post(app, client, "/auth/login", None, None, json!({ "username": username, "password": PASSWORD })).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    let c1 = pair(&s.cookie.unwrap());
    let csrf = s.body["csrf_token"].as_str().unwrap().to_string();
    let s = post(app, client, "/auth/totp", Some(&c1), Some(&csrf), json!({ "code": code(app, username).await })).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    (pair(&s.cookie.unwrap()), s.body)
}

on_both!(two_factors_then_an_assignment, |app: TestApp| async move {
    let w = &app.world;
    let (user, _) = account(&app.store, w.region, "lena", "Lena Läkare", w.units.ward, Role::Lakare).await;
    app.store.add_assignment(Uuid::now_v7(), user, w.units.vc, Role::Lakare, None, app.clock.now()).await.unwrap();
    let client = reqwest::Client::new();

    let s = post(&app, &client, "/auth/login", None, None, json!({ "username": "Lena", "password": PASSWORD })).await;
    assert_eq!((s.status, s.body["stage"].as_str()), (StatusCode::OK, Some("totp")));
    let raw = s.cookie.unwrap();
    for attr in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(raw.contains(attr), "cookie lacks {attr}: {raw}");
    }
    let after_password = pair(&raw);
    let csrf = s.body["csrf_token"].as_str().unwrap().to_string();
    // Half logged in is not logged in.
    assert_eq!(get(&app, "/api/cases", &after_password).await.1["code"], "login_incomplete");

    let wrong =
        post(&app, &client, "/auth/totp", Some(&after_password), Some(&csrf), json!({ "code": "000000" })).await;
    assert_eq!((wrong.status, wrong.body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_code")));
    let s = post(
        &app,
        &client,
        "/auth/totp",
        Some(&after_password),
        Some(&csrf),
        json!({ "code": code(&app, "lena").await }),
    )
    .await;
    assert_eq!(s.body["stage"], "choose_assignment");
    assert_eq!(s.body["assignments"].as_array().unwrap().len(), 2);
    let after_totp = pair(&s.cookie.unwrap());
    assert_ne!(after_totp, after_password, "the token is replaced at the second factor");
    assert_eq!(get(&app, "/auth/session", &after_password).await.0, StatusCode::UNAUTHORIZED, "the old token is dead");

    let csrf = s.body["csrf_token"].as_str().unwrap().to_string();
    let vc_assignment = s.body["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["unit"]["id"] == w.units.vc.to_string())
        .unwrap()["id"]
        .clone();
    let s = post(
        &app,
        &client,
        "/auth/assignment",
        Some(&after_totp),
        Some(&csrf),
        json!({ "assignment_id": vc_assignment }),
    )
    .await;
    assert_eq!(s.body["stage"], "active");
    let active = pair(&s.cookie.unwrap());
    assert_ne!(active, after_totp);
    let (status, me) = get(&app, "/api/me", &active).await;
    assert_eq!(
        (status, me["unit"]["id"].as_str(), me["role"].as_str()),
        (StatusCode::OK, Some(w.units.vc.to_string().as_str()), Some("lakare"))
    );

    // Someone else's assignment cannot be chosen.
    let csrf = s.body["csrf_token"].as_str().unwrap().to_string();
    let theirs = post(
        &app,
        &client,
        "/auth/assignment",
        Some(&active),
        Some(&csrf),
        json!({ "assignment_id": w.ward.assignment }),
    )
    .await;
    assert_eq!((theirs.status, theirs.body["code"].as_str()), (StatusCode::FORBIDDEN, Some("not_your_assignment")));

    let out = post(&app, &client, "/auth/logout", Some(&active), Some(&csrf), json!({})).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.cookie.unwrap().contains("Max-Age=0"));
    assert_eq!(get(&app, "/api/me", &active).await.0, StatusCode::UNAUTHORIZED);
});

on_both!(a_planted_session_token_is_worthless, |app: TestApp| async move {
    let w = &app.world;
    account(&app.store, w.region, "sara", "Sara Sjuksköterska", w.units.vc, Role::Sjukskoterska).await;
    let client = reqwest::Client::new();
    let planted = "__Host-samverka=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let s =
        post(&app, &client, "/auth/login", Some(planted), None, json!({ "username": "sara", "password": PASSWORD }))
            .await;
    assert_eq!(s.status, StatusCode::OK);
    assert_ne!(pair(&s.cookie.unwrap()), planted, "login issues its own token");
    assert_eq!(get(&app, "/auth/session", planted).await.0, StatusCode::UNAUTHORIZED);
});

on_both!(state_changes_need_the_csrf_token, |app: TestApp| async move {
    let w = &app.world;
    let (id, _) = app.case(&crate::helpers::pnr(3), "2026-11-02 07:00").await;
    let path = format!("/api/cases/{id}/messages");
    let body = json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" } });
    let no_token = As { csrf: String::new(), ..w.ward.clone() };
    let wrong = As { csrf: "f".repeat(64), ..w.ward.clone() };
    for who in [&no_token, &wrong] {
        let res = app.call(who, Method::POST, &path, Some(body.clone())).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(res.json::<Value>().await.unwrap()["code"], "csrf_failed");
    }
    // Reading needs no token; the real token works.
    assert_eq!(app.call(&no_token, Method::GET, &format!("/api/cases/{id}"), None).await.status(), StatusCode::OK);
    assert_eq!(app.call(&w.ward, Method::POST, &path, Some(body)).await.status(), StatusCode::CREATED);
    // Nothing but the accepted message was written.
    let events = app.get(&w.ward, &format!("/api/cases/{id}/events")).await;
    assert_eq!(events.as_array().unwrap().len(), 4);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_time_out_when_idle_and_absolutely() {
    let app = spawn_app_with(Db::Sqlite, AppConfig::default()).await;
    let w = &app.world;
    account(&app.store, w.region, "ida", "Ida Idle", w.units.vc, Role::Sjukskoterska).await;
    let client = reqwest::Client::new();
    let (cookie, _) = login(&app, &client, "ida").await;
    app.clock.advance(jiff::SignedDuration::from_mins(29));
    assert_eq!(get(&app, "/api/me", &cookie).await.0, StatusCode::OK, "29 minutes idle is fine");
    app.clock.advance(jiff::SignedDuration::from_mins(31));
    let (status, body) = get(&app, "/api/me", &cookie).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("session_expired")));

    // A busy session still ends 12 hours after login.
    app.clock.advance(jiff::SignedDuration::from_secs(60));
    let (cookie, _) = login(&app, &client, "ida").await;
    for _ in 0..35 {
        app.clock.advance(jiff::SignedDuration::from_mins(20));
        assert_eq!(get(&app, "/api/me", &cookie).await.0, StatusCode::OK);
    }
    app.clock.advance(jiff::SignedDuration::from_mins(20));
    assert_eq!(get(&app, "/api/me", &cookie).await.1["code"], "session_expired");
}

on_both!(failed_logins_lock_one_address_for_a_while_not_the_account_for_good, |app: TestApp| async move {
    let w = &app.world;
    account(&app.store, w.region, "olle", "Olle Offer", w.units.vc, Role::Sjukskoterska).await;
    let attacker = reqwest::Client::new();
    for _ in 0..5 {
        let s = post(
            &app,
            &attacker,
            "/auth/login",
            None,
            None,
            json!({ "username": "olle", "password": "fel lösenord igen" }),
        )
        .await;
        assert_eq!((s.status, s.body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_credentials")));
    }
    // From the attacker's address even the right password is refused now...
    let s = post(&app, &attacker, "/auth/login", None, None, json!({ "username": "olle", "password": PASSWORD })).await;
    assert_eq!((s.status, s.body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("account_locked_here")));
    // ...but Olle at his own computer gets in.
    let olle =
        reqwest::Client::builder().local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    let s = post(&app, &olle, "/auth/login", None, None, json!({ "username": "olle", "password": PASSWORD })).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    // And the lock lifts by itself.
    app.clock.advance(jiff::SignedDuration::from_mins(16));
    let s = post(&app, &attacker, "/auth/login", None, None, json!({ "username": "olle", "password": PASSWORD })).await;
    assert_eq!(s.status, StatusCode::OK);

    // An address guessing at many accounts is stopped altogether.
    let scanner =
        reqwest::Client::builder().local_address("127.0.0.3".parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    for i in 0..30 {
        post(
            &app,
            &scanner,
            "/auth/login",
            None,
            None,
            json!({ "username": format!("user{i}"), "password": "gissning123456" }),
        )
        .await;
    }
    let s = post(&app, &scanner, "/auth/login", None, None, json!({ "username": "olle", "password": PASSWORD })).await;
    assert_eq!((s.status, s.body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")));
});

on_both!(a_totp_code_works_once, |app: TestApp| async move {
    let w = &app.world;
    account(&app.store, w.region, "rut", "Rut Replay", w.units.vc, Role::Sjukskoterska).await;
    let client = reqwest::Client::new();
    let used = code(&app, "rut").await;
    let (cookie, body) = login(&app, &client, "rut").await;
    assert_eq!(body["stage"], "active");
    post(&app, &client, "/auth/logout", Some(&cookie), body["csrf_token"].as_str(), json!({})).await;
    // Same code again, within the same 30 seconds: refused as a replay.
    let s = post(&app, &client, "/auth/login", None, None, json!({ "username": "rut", "password": PASSWORD })).await;
    let c = pair(&s.cookie.unwrap());
    let csrf = s.body["csrf_token"].as_str().unwrap().to_string();
    let again = post(&app, &client, "/auth/totp", Some(&c), Some(&csrf), json!({ "code": used })).await;
    assert_eq!((again.status, again.body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_code")));
    // The next code, 30 seconds later, is fine.
    app.clock.advance(jiff::SignedDuration::from_secs(30));
    let next =
        post(&app, &client, "/auth/totp", Some(&c), Some(&csrf), json!({ "code": code(&app, "rut").await })).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.body);
});

on_both!(administrators_create_reset_and_stay_in_their_organisation, |app: TestApp| async move {
    let w = &app.world;
    let (admin_id, admin_assignment) =
        account(&app.store, w.solna, "adam", "Adam Admin", w.units.bistand, Role::Administrator).await;
    let admin = crate::helpers::session(&app.store, admin_id, w.units.bistand, admin_assignment).await;
    let created = app
        .post(&admin, "/api/admin/users", json!({ "name": "Nina Ny", "username": "nina" }), StatusCode::CREATED)
        .await;
    let nina = created["user"]["id"].as_str().unwrap().to_string();
    let temporary = created["temporary_password"].as_str().unwrap().to_string();
    app.post(
        &admin,
        &format!("/api/admin/users/{nina}/assignments"),
        json!({ "unit": w.units.bistand, "role": "bistandshandlaggare" }),
        StatusCode::CREATED,
    )
    .await;

    // First login: the temporary password must be replaced, then the app set up.
    let client = reqwest::Client::new();
    let s = post(&app, &client, "/auth/login", None, None, json!({ "username": "nina", "password": temporary })).await;
    assert_eq!(s.body["stage"], "change_password");
    let (c, csrf) = (pair(&s.cookie.unwrap()), s.body["csrf_token"].as_str().unwrap().to_string());
    let weak =
        post(&app, &client, "/auth/password", Some(&c), Some(&csrf), json!({ "new_password": "nina12345678" })).await;
    assert_eq!(weak.body["code"], "password_contains_username");
    let s = post(&app, &client, "/auth/password", Some(&c), Some(&csrf), json!({ "new_password": PASSWORD })).await;
    assert_eq!(s.body["stage"], "totp_setup");
    let (c, csrf) = (pair(&s.cookie.unwrap()), s.body["csrf_token"].as_str().unwrap().to_string());
    let res = app.client.get(format!("{}/auth/totp/setup", app.base)).header("cookie", &c).send().await.unwrap();
    let setup: Value = res.json().await.unwrap();
    assert!(setup["url"].as_str().unwrap().starts_with("otpauth://totp/"));
    let code = samverka_app::auth::totp::current_code(setup["secret"].as_str().unwrap(), app.clock.now()).unwrap();
    let s = post(&app, &client, "/auth/totp", Some(&c), Some(&csrf), json!({ "code": code })).await;
    assert_eq!(s.body["stage"], "active");
    let nina_cookie = pair(&s.cookie.unwrap());
    assert_eq!(get(&app, "/api/me", &nina_cookie).await.0, StatusCode::OK);

    // Nina changes her own password: the wrong current one is refused, the right one works,
    // and her other sessions end.
    app.clock.advance(jiff::SignedDuration::from_secs(30));
    let other = login(&app, &client, "nina").await;
    let wrong = post(
        &app,
        &client,
        "/auth/change-password",
        Some(&nina_cookie),
        s.body["csrf_token"].as_str(),
        json!({ "current_password": "fel", "new_password": "en helt ny mening i dag" }),
    )
    .await;
    assert_eq!(wrong.body["code"], "wrong_password");
    let changed = post(
        &app,
        &client,
        "/auth/change-password",
        Some(&nina_cookie),
        s.body["csrf_token"].as_str(),
        json!({ "current_password": PASSWORD, "new_password": "en helt ny mening i dag" }),
    )
    .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT);
    let nina_cookie = pair(&changed.cookie.unwrap());
    assert_eq!(get(&app, "/api/me", &nina_cookie).await.0, StatusCode::OK);
    assert_eq!(get(&app, "/api/me", &other.0).await.0, StatusCode::UNAUTHORIZED, "the other session ended");

    // A reset ends Nina's session and forces a new password.
    let reset = app.post(&admin, &format!("/api/admin/users/{nina}/reset-password"), json!({}), StatusCode::OK).await;
    assert_eq!(get(&app, "/api/me", &nina_cookie).await.0, StatusCode::UNAUTHORIZED);
    let s = post(
        &app,
        &client,
        "/auth/login",
        None,
        None,
        json!({ "username": "nina", "password": reset["temporary_password"] }),
    )
    .await;
    assert_eq!(s.body["stage"], "change_password");

    // The Solna administrator cannot touch the region's units or people.
    let res = app
        .call(
            &admin,
            Method::POST,
            &format!("/api/admin/users/{nina}/assignments"),
            Some(json!({ "unit": w.units.vc, "role": "sjukskoterska" })),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "other_organisation");
    let res = app
        .call(&admin, Method::POST, &format!("/api/admin/users/{}/reset-password", w.vc.user), Some(json!({})))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Solna's administrator may route Solna's notices to a Solna unit, not Nacka's to it.
    let unit = |kommun: &str| {
        json!({ "name": "Biståndsenheten Syd", "kind": "bistandsenhet", "hsa_id": "SE2120000000-B9",
                "receives_for_kommun": kommun })
    };
    app.post(&admin, "/api/admin/units", unit("0184"), StatusCode::CREATED).await;
    let res = app.call(&admin, Method::POST, "/api/admin/units", Some(unit("0182"))).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = res.json::<Value>().await.unwrap();
    assert_eq!((p["code"].as_str(), p["field"].as_str()), (Some("not_your_municipality"), Some("receives_for_kommun")));
    // An administrator reads no patient data; a nurse administers nothing.
    assert_eq!(app.call(&admin, Method::GET, "/api/cases", None).await.status(), StatusCode::FORBIDDEN);
    let res = app.call(&w.vc, Method::GET, "/api/admin/users", None).await;
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "role_not_permitted");

    // A deactivated user is refused at once, with the same words as a wrong password.
    app.post(&admin, &format!("/api/admin/users/{nina}/deactivate"), json!({}), StatusCode::NO_CONTENT).await;
    let s = post(&app, &client, "/auth/login", None, None, json!({ "username": "nina", "password": PASSWORD })).await;
    assert_eq!(s.body["code"], "invalid_credentials");
    // An ended assignment ends the sessions acting in it.
    let res = app
        .call(
            &admin,
            Method::POST,
            &format!("/api/admin/assignments/{}/deactivate", w.bistand.assignment),
            Some(json!({})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.call(&w.bistand, Method::GET, "/api/inbox", None).await.json::<Value>().await.unwrap()["code"],
        "assignment_ended"
    );
});

on_both!(wrong_codes_pause_the_account_from_every_address, |app: TestApp| async move {
    let w = &app.world;
    account(&app.store, w.region, "gun", "Gun Gissad", w.units.vc, Role::Sjukskoterska).await;
    // Someone who knows Gun's password guesses codes, spreading the guesses over addresses.
    for last in 10..12u8 {
        let from = std::net::IpAddr::from([127, 0, 0, last]);
        let client = reqwest::Client::builder().local_address(from).build().unwrap();
        let s =
            post(&app, &client, "/auth/login", None, None, json!({ "username": "gun", "password": PASSWORD })).await;
        let (c, csrf) = (pair(&s.cookie.unwrap()), s.body["csrf_token"].as_str().unwrap().to_string());
        for guess in 0..5 {
            let wrong =
                post(&app, &client, "/auth/totp", Some(&c), Some(&csrf), json!({ "code": format!("{guess:06}") }))
                    .await;
            assert_eq!(wrong.body["code"], "invalid_code");
        }
    }
    // Ten wrong codes: even Gun's right code, from her own address, waits out the window.
    let gun = reqwest::Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, 20])).build().unwrap();
    let s = post(&app, &gun, "/auth/login", None, None, json!({ "username": "gun", "password": PASSWORD })).await;
    let (c, csrf) = (pair(&s.cookie.unwrap()), s.body["csrf_token"].as_str().unwrap().to_string());
    let refused =
        post(&app, &gun, "/auth/totp", Some(&c), Some(&csrf), json!({ "code": code(&app, "gun").await })).await;
    assert_eq!(
        (refused.status, refused.body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_codes"))
    );
    app.clock.advance(jiff::SignedDuration::from_mins(16));
    let (_, body) = login(&app, &gun, "gun").await;
    assert_eq!(body["stage"], "active");
});

/// A demo server shows a demo account its code at the code step (it has no app); any other
/// server never does.
async fn demo_code_step(db: Db, demo: bool) {
    let app = spawn_app_with(db, AppConfig { demo_logins: demo, ..crate::helpers::long_sessions() }).await;
    let w = &app.world;
    account(&app.store, w.region, "lena", "Lena Läkare", w.units.ward, Role::Lakare).await;
    let client = reqwest::Client::new();
    // The account list can be narrowed by what one looks for.
    let page =
        client.get(format!("{}/logga-in?visa=L%C3%A4kare", app.base)).send().await.unwrap().text().await.unwrap();
    assert_eq!(page.contains("Demokonton"), demo);
    if demo {
        assert!(page.contains("<code>lena</code>") && !page.contains("<code>erik</code>"), "{page}");
    }
    let s = post(&app, &client, "/auth/login", None, None, json!({ "username": "lena", "password": PASSWORD })).await;
    let cookie = pair(&s.cookie.unwrap());
    let csrf = s.body["csrf_token"].as_str().unwrap().to_string();
    let page = client.get(format!("{}/logga-in/kod", app.base)).header("cookie", &cookie).send().await.unwrap();
    let page = page.text().await.unwrap();
    let now = code(&app, "lena").await;
    assert_eq!(page.contains(&format!("value=\"{now}\"")), demo, "{page}");
    assert_eq!(page.contains("Demoläge"), demo);
    if demo {
        // A minute later the page gives the new code, and it is accepted.
        app.clock.advance(jiff::SignedDuration::from_secs(60));
        let page = client.get(format!("{}/logga-in/kod", app.base)).header("cookie", &cookie).send().await.unwrap();
        let page = page.text().await.unwrap();
        let later = code(&app, "lena").await;
        assert_ne!(later, now);
        assert!(page.contains(&format!("value=\"{later}\"")), "{page}");
        let s = post(&app, &client, "/auth/totp", Some(&cookie), Some(&csrf), json!({ "code": later })).await;
        assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_user_is_given_the_code_at_the_code_step() {
    for db in [Db::Sqlite, Db::Postgres] {
        demo_code_step(db, true).await;
        demo_code_step(db, false).await;
    }
}
