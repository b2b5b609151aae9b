//! OpenID Connect login against a real provider started by the test: `oidc-provider-mock`
//! (PyPI, installed by scripts/test), a Flask/Authlib issuer with discovery, JWKS and signed
//! ID tokens. Nothing of the client side is mocked.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use samverka_app::AppConfig;
use samverka_app::config::OidcProvider;
use samverka_domain::access::Role;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{Db, long_sessions, spawn_app_with, ts};

pub(crate) struct Provider {
    child: Child,
    pub issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn provider_binary() -> String {
    if let Ok(p) = std::env::var("SAMVERKA_TEST_OIDC_PROVIDER") {
        return p;
    }
    let default = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/oidc-venv/bin/oidc-provider-mock");
    assert!(
        std::path::Path::new(default).exists(),
        "the OIDC test provider is not installed: run ./scripts/test, or install crates/server/tests/oidc-provider-requirements.txt \
         into a venv and set SAMVERKA_TEST_OIDC_PROVIDER"
    );
    default.to_string()
}

pub(crate) async fn start_provider() -> Provider {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(provider_binary())
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--require-nonce", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start oidc-provider-mock");
    let issuer = format!("http://127.0.0.1:{port}");
    let provider = Provider { child, issuer };
    let started = Instant::now();
    loop {
        let ok = reqwest::get(format!("{}/.well-known/openid-configuration", provider.issuer))
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok {
            return provider;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the OIDC provider did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn config(issuer: &str) -> AppConfig {
    let p = |id: &str, two_factor: bool| OidcProvider {
        id: id.into(),
        name: "SITHS eID (test)".into(),
        issuer: issuer.into(),
        client_id: "samverka".into(),
        client_secret: "test-secret".into(),
        client_secret_file: None,
        redirect_url: format!("http://127.0.0.1/auth/oidc/{id}/callback"),
        two_factor,
        ..OidcProvider::staff()
    };
    AppConfig { oidc: vec![p("region", true), p("password-only", false)], ..long_sessions() }
}

/// Goes through the provider as `sub` and returns our callback's response.
async fn login_as(app: &crate::helpers::TestApp, provider_id: &str, sub: &str) -> reqwest::Response {
    let issuer = app.state.config.oidc.iter().find(|p| p.id == provider_id).unwrap().issuer.clone();
    let (start, callback) = (format!("/auth/oidc/{provider_id}/start"), format!("/auth/oidc/{provider_id}/callback"));
    through_provider(app, &issuer, &start, &callback, sub).await
}

/// A login through the provider at `issuer`, as a browser makes it: Samverka's `start` sends it
/// to the provider (with PKCE and a nonce), the provider's form is sent as `sub`, and the
/// provider's answer comes back to Samverka's `callback` with the state cookie the start set.
/// Returns the callback's response.
pub(crate) async fn through_provider(
    app: &crate::helpers::TestApp,
    issuer: &str,
    start: &str,
    callback: &str,
    sub: &str,
) -> reqwest::Response {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let started = client.get(format!("{}{start}", app.base)).send().await.unwrap();
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let authorize = started.headers()["location"].to_str().unwrap().to_string();
    assert!(authorize.starts_with(issuer), "{authorize}");
    assert!(
        authorize.contains("code_challenge=") && authorize.contains("nonce="),
        "PKCE and nonce are sent: {authorize}"
    );
    // The provider's login form: post the subject to the authorize address.
    let approved = client
        .post(&authorize)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("sub={sub}"))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), StatusCode::FOUND);
    let back = approved.headers()["location"].to_str().unwrap().to_string();
    let query = back.split_once('?').unwrap().1.to_string();
    let state_cookie = cookie_named(&started, "__Host-samverka-oidc").expect("the login is bound to this browser");
    client.get(format!("{}{callback}?{query}", app.base)).header("cookie", state_cookie).send().await.unwrap()
}

/// `name=value` of the cookie the response sets under that name.
pub(crate) fn cookie_named(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

fn cookie(res: &reqwest::Response) -> String {
    cookie_named(res, "__Host-samverka").expect("a session cookie")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_through_the_regions_identity_provider() {
    let provider = start_provider().await;
    let app = spawn_app_with(Db::Sqlite, config(&provider.issuer)).await;
    let w = &app.world;
    let alice = Uuid::now_v7();
    let account = samverka_store::NewAccount {
        id: alice,
        name: "Alice Läkare".into(),
        hsa_id: None,
        organisation_id: w.region,
        username: None,
        password_hash: None,
        password_must_change: false,
        totp_secret: None,
        totp_confirmed: false,
        oidc: Some((provider.issuer.clone(), "alice-hsa-SE2321009990-P1".into())),
    };
    app.store.create_account(&account, ts("2026-01-01 00:00")).await.unwrap();
    app.store
        .add_assignment(Uuid::now_v7(), alice, w.units.ward, Role::Lakare, None, ts("2026-01-01 00:00"))
        .await
        .unwrap();

    // SITHS-like provider (two factors of its own): straight in, acting in the one assignment.
    let res = login_as(&app, "region", "alice-hsa-SE2321009990-P1").await;
    assert_eq!(res.status(), StatusCode::OK, "{:?}", res.headers());
    let c = cookie(&res);
    assert!(
        cookie_named(&res, "__Host-samverka-oidc").is_some_and(|c| c.ends_with('=')),
        "the binding cookie is cleared"
    );
    let me: Value =
        app.client.get(format!("{}/api/me", app.base)).header("cookie", &c).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (me["user"]["name"].as_str(), me["unit"]["id"].as_str()),
        (Some("Alice Läkare"), Some(w.units.ward.to_string().as_str()))
    );

    // A provider that only checks a password: Samverka's own second factor follows.
    let res = login_as(&app, "password-only", "alice-hsa-SE2321009990-P1").await;
    let c = cookie(&res);
    let s: Value = app
        .client
        .get(format!("{}/auth/session", app.base))
        .header("cookie", &c)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["stage"], "totp_setup");
    assert_eq!(
        app.client.get(format!("{}/api/me", app.base)).header("cookie", &c).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    // Someone the provider knows but Samverka does not.
    let res = login_as(&app, "region", "mallory").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "no_linked_account");

    // A genuine callback address opened in another browser (a link sent to a victim) is
    // refused: the login is bound to the browser that started it.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let start = client.get(format!("{}/auth/oidc/region/start", app.base)).send().await.unwrap();
    let authorize = start.headers()["location"].to_str().unwrap().to_string();
    let approved = client
        .post(&authorize)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("sub=alice-hsa-SE2321009990-P1")
        .send()
        .await
        .unwrap();
    let back = approved.headers()["location"].to_str().unwrap().to_string();
    let query = back.split_once('?').unwrap().1;
    let elsewhere = app.client.get(format!("{}/auth/oidc/region/callback?{query}", app.base)).send().await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::UNAUTHORIZED);
    assert!(cookie_named(&elsewhere, "__Host-samverka").is_none(), "no session for the other browser");

    // A callback with a made-up state is refused.
    let forged =
        app.client.get(format!("{}/auth/oidc/region/callback?code=abc&state=forged", app.base)).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(forged.json::<Value>().await.unwrap()["code"], "oidc_login_failed");
}
