//! Starts the real application on a random port, on SQLite or PostgreSQL, with a small world
//! of organisations, units, users and one patient.

use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::DateTime;
use reqwest::{Method, Response, StatusCode};
use samverka_app::{AppConfig, AppState, ManualClock};
use samverka_domain::access::Role;
use samverka_domain::calendar::STOCKHOLM;
use samverka_domain::ids::{HsaId, Kommunkod};
use samverka_domain::org::{AddressEntry, CareType, Organisation, OrganisationKind, Unit, UnitKind};
use samverka_store::{Agreements, Store};
use serde_json::Value;
use uuid::Uuid;

/// Local Swedish time, written "2026-11-02 10:00".
pub fn ts(local: &str) -> Timestamp {
    let dt: DateTime = local.replace(' ', "T").parse().unwrap();
    dt.to_zoned_datetime(STOCKHOLM.clone()).unwrap().timestamp()
}

#[derive(Clone, Copy, Debug)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A logged-in user acting in an assignment at a unit.
#[derive(Clone, Debug)]
pub struct As {
    pub user: Uuid,
    pub unit: Uuid,
    pub assignment: Uuid,
    pub cookie: String,
    pub csrf: String,
}

pub struct World {
    pub ward: As,
    pub ward2: As,
    pub bistand: As,
    pub bistand_hsl: As,
    pub chef_solna: As,
    pub vc: As,
    pub other_vc: As,
    pub other_kommun: As,
    pub region: Uuid,
    pub solna: Uuid,
    pub nacka: Uuid,
    pub units: Units,
}

/// The units of the test world, by what they are.
#[derive(Clone, Debug)]
pub struct Units {
    pub ward: Uuid,
    pub ward2: Uuid,
    pub bistand: Uuid,
    pub hsl: Uuid,
    pub vc: Uuid,
    pub other_vc: Uuid,
    pub nacka_bistand: Uuid,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    #[allow(dead_code)]
    pub store: Store,
    pub world: World,
    /// The application's state (the admission feed is reached through it).
    #[allow(dead_code)]
    pub state: AppState,
    _dir: Option<tempfile::TempDir>,
}

async fn unit(
    store: &Store,
    org: &Organisation,
    name: &str,
    kind: UnitKind,
    hsa: &str,
    receives: Option<&str>,
) -> Uuid {
    let u = Unit {
        id: Uuid::now_v7(),
        organisation_id: org.id,
        kind,
        name: name.into(),
        hsa_id: HsaId::parse(hsa).unwrap(),
        care_type: CareType::Somatic,
        receives_for_kommun: receives.map(|k| Kommunkod::parse(k).unwrap()),
        address: AddressEntry::default(),
    };
    store.insert_unit(&u, ts("2026-01-01 00:00")).await.unwrap();
    u.id
}

/// The password of every test account.
pub const PASSWORD: &str = "korv med bröd på fredag";

fn password_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        use argon2::password_hash::PasswordHasher;
        argon2::Argon2::default().hash_password(PASSWORD.as_bytes()).unwrap().to_string()
    })
}

/// Creates an account (password + confirmed TOTP) with one assignment.
pub async fn account(store: &Store, org: Uuid, username: &str, name: &str, unit: Uuid, role: Role) -> (Uuid, Uuid) {
    let id = Uuid::now_v7();
    let a = samverka_store::NewAccount {
        id,
        name: name.into(),
        hsa_id: None,
        organisation_id: org,
        username: Some(username.into()),
        password_hash: Some(password_hash().into()),
        password_must_change: false,
        totp_secret: Some(samverka_app::auth::totp::new_secret()),
        totp_confirmed: true,
        oidc: None,
    };
    store.create_account(&a, ts("2026-01-01 00:00")).await.unwrap();
    let assignment = Uuid::now_v7();
    store.add_assignment(assignment, id, unit, role, None, ts("2026-01-01 00:00")).await.unwrap();
    (id, assignment)
}

/// A session straight into the store, for tests of what an assignment may do (the login
/// itself is tested on its own).
pub async fn session(store: &Store, user: Uuid, unit: Uuid, assignment: Uuid) -> As {
    let token = samverka_app::auth::random_token();
    let csrf = samverka_app::auth::random_token();
    let s = samverka_store::Session {
        token_hash: samverka_app::auth::token_hash(&token),
        user_id: user,
        stage: samverka_store::Stage::Active,
        assignment_id: Some(assignment),
        csrf_token: csrf.clone(),
        created_at: ts("2026-01-01 00:00"),
        last_seen_at: ts("2026-01-01 00:00"),
        expires_at: ts("2099-01-01 00:00"),
    };
    store.create_session(&s, "127.0.0.1").await.unwrap();
    As { user, unit, assignment, cookie: format!("{}={token}", samverka_app::auth::SESSION_COOKIE), csrf }
}

async fn user(store: &Store, org: Uuid, username: &str, name: &str, unit: Uuid, role: Role) -> As {
    let (id, assignment) = account(store, org, username, name, unit, role).await;
    session(store, id, unit, assignment).await
}

fn org(kind: OrganisationKind, name: &str, region_code: Option<&str>, kommun: Option<&str>, hsa: &str) -> Organisation {
    Organisation {
        id: Uuid::now_v7(),
        kind,
        name: name.into(),
        region_code: region_code.map(str::to_string),
        kommunkod: kommun.map(|k| Kommunkod::parse(k).unwrap()),
        hsa_id: Some(HsaId::parse(hsa).unwrap()),
        acts_for: None,
    }
}

/// Settings for tests that move the clock over weeks: sessions that do not time out.
pub fn long_sessions() -> AppConfig {
    AppConfig { session_idle_minutes: 10_000_000, session_absolute_hours: 1_000_000, ..AppConfig::default() }
}

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, long_sessions()).await
}

pub async fn spawn_app_with(db: Db, config: AppConfig) -> TestApp {
    let (store, dir) = match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("samverka.db");
            (Store::connect(path.to_str().unwrap(), Agreements::built_in()).await.unwrap(), Some(dir))
        }
        Db::Postgres => {
            let url = samverka_testkit::PgServer::get().fresh_database();
            (Store::connect(&url, Agreements::built_in()).await.unwrap(), None)
        }
    };
    store.migrate().await.unwrap();
    let t = ts("2026-01-01 00:00");
    let region = org(OrganisationKind::Region, "Region Demo", Some("01"), None, "SE2321009990-0001");
    let solna = org(OrganisationKind::Kommun, "Solna stad", None, Some("0184"), "SE2120002882-0001");
    let nacka = org(OrganisationKind::Kommun, "Nacka kommun", None, Some("0182"), "SE2120002833-0001");
    store.insert_organisation(&region, Some("demo"), t).await.unwrap();
    store.insert_organisation(&solna, None, t).await.unwrap();
    store.insert_organisation(&nacka, None, t).await.unwrap();
    let ward =
        unit(&store, &region, "Norrviks sjukhus, Geriatrik avd 21", UnitKind::Ward, "SE2321009990-AVD21", None).await;
    let ward2 =
        unit(&store, &region, "Norrviks sjukhus, Medicin avd 34", UnitKind::Ward, "SE2321009990-AVD34", None).await;
    let bistand =
        unit(&store, &solna, "Biståndsenheten Solna", UnitKind::Bistandsenhet, "SE2120002882-BIST", Some("0184")).await;
    let hsl = unit(&store, &solna, "Kommunal HSL Solna", UnitKind::KommunalHsl, "SE2120002882-HSL", None).await;
    let vc =
        unit(&store, &region, "Vårdcentralen Solna Centrum", UnitKind::Vardcentral, "SE2321009990-VC1", None).await;
    let other_vc =
        unit(&store, &region, "Vårdcentralen Nacka Norra", UnitKind::Vardcentral, "SE2321009990-VC2", None).await;
    let nacka_b =
        unit(&store, &nacka, "Biståndsenheten Nacka", UnitKind::Bistandsenhet, "SE2120002833-BIST", Some("0182")).await;
    let (r, s, n) = (region.id, solna.id, nacka.id);
    let world = World {
        ward: user(&store, r, "vera", "Vera Vårdsamordnare", ward, Role::Vardsamordnare).await,
        ward2: user(&store, r, "mats", "Mats Medicin", ward2, Role::Vardsamordnare).await,
        bistand: user(&store, s, "bodil", "Bodil Biståndshandläggare", bistand, Role::Bistandshandlaggare).await,
        bistand_hsl: user(&store, s, "maria", "Maria MAS", hsl, Role::Mas).await,
        chef_solna: user(&store, s, "erik", "Erik Enhetschef", bistand, Role::Enhetschef).await,
        vc: user(&store, r, "disa", "Disa Distriktssköterska", vc, Role::Sjukskoterska).await,
        other_vc: user(&store, r, "nils", "Nils Nackasson", other_vc, Role::Sjukskoterska).await,
        other_kommun: user(&store, n, "nora", "Nora Nacka", nacka_b, Role::Bistandshandlaggare).await,
        region: r,
        solna: s,
        nacka: n,
        units: Units { ward, ward2, bistand, hsl, vc, other_vc, nacka_bistand: nacka_b },
    };
    let clock = Arc::new(ManualClock::new(ts("2026-11-02 08:00")));
    let state = AppState::new(store.clone(), clock.clone(), config);
    state.start_feed(hl7_settings());
    tokio::spawn(samverka_fhir::notify::Notifier::new(state.clone()).run());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(samverka_server::serve(listener, state.clone(), std::future::pending()));
    TestApp { base, client: reqwest::Client::new(), clock, store, world, state, _dir: dir }
}

impl TestApp {
    /// The SQLite database's folder, for the caller to keep as long as the app is used.
    pub fn take_dir(&mut self) -> Option<tempfile::TempDir> {
        self._dir.take()
    }

    pub fn at(&self, local: &str) {
        self.clock.set(ts(local));
    }

    pub async fn call(&self, who: &As, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &who.cookie)
            .header("x-csrf-token", &who.csrf);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    /// Calls and expects `status`; returns the JSON body.
    pub async fn expect(&self, who: &As, method: Method, path: &str, body: Option<Value>, status: StatusCode) -> Value {
        let res = self.call(who, method.clone(), path, body).await;
        let got = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(got, status, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn get(&self, who: &As, path: &str) -> Value {
        self.expect(who, Method::GET, path, None, StatusCode::OK).await
    }

    pub async fn post(&self, who: &As, path: &str, body: Value, status: StatusCode) -> Value {
        self.expect(who, Method::POST, path, Some(body), status).await
    }

    /// Registers a patient living in Solna, listed at the Solna vårdcentral.
    pub async fn patient(&self, identifier: &str) -> Value {
        let body = serde_json::json!({
            "identifier": identifier,
            "given_name": "Åsa",
            "family_name": "Öberg",
            "kommun": "0184",
            "listed_unit": self.world.vc.unit,
            "address": { "street": "Storgatan 1", "postal_code": "17164", "city": "Solna" }
        });
        self.post(&self.world.ward, "/api/patients", body, StatusCode::CREATED).await
    }

    /// Opens a case for a new patient, admitted at `admitted` (local time).
    pub async fn case(&self, identifier: &str, admitted: &str) -> (String, Value) {
        let p = self.patient(identifier).await;
        let body = serde_json::json!({ "patient_id": p["id"], "admitted_at": ts(admitted).to_string() });
        let c = self.post(&self.world.ward, "/api/cases", body, StatusCode::CREATED).await;
        (c["id"].as_str().unwrap().to_string(), c)
    }
}

/// Runs one async test body on both databases.
#[macro_export]
macro_rules! on_both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let mut app = $crate::helpers::spawn_app($crate::helpers::Db::Sqlite).await;
                // Held here: a body that uses only some of the app's fields captures only those,
                // and the database's folder must outlive it all the same.
                let _dir = app.take_dir();
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                ($body)($crate::helpers::spawn_app($crate::helpers::Db::Postgres).await).await;
            }
        }
    };
}

/// A valid personnummer, different for each `n` below 20 (birth numbers 980-999 as in
/// Skatteverket's test numbers).
pub fn pnr(n: u16) -> String {
    samverka_domain::ids::personnummer_with_check_digit(jiff::civil::date(1938, 4, 7), 980 + n).as_str().to_string()
}

/// The admission feed as the tests configure it: ward code "AVD21" is the geriatric ward,
/// and a ZSV-1 of "J" flags a patient for follow-up.
fn hl7_settings() -> samverka_app::config::FeedSettings {
    use samverka_domain::hl7::adt::{FieldPath, FlagRule};
    let mut s = samverka_app::config::FeedSettings {
        flag: Some(FlagRule { field: FieldPath::parse("ZSV-1").unwrap(), values: vec!["J".into()] }),
        ..Default::default()
    };
    s.locations.insert("AVD21".into(), samverka_domain::ids::HsaId::parse("SE2321009990-AVD21").unwrap());
    s
}

/// A client that does not follow redirects, so a form's 303 and its target can be checked.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A web page as `who`: its status and HTML.
pub async fn page(app: &TestApp, who: &As, path: &str) -> (StatusCode, String) {
    let res = no_redirects().get(format!("{}{path}", app.base)).header("cookie", &who.cookie).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

/// Posts a web form as `who`, with their CSRF token: the status, and the redirect's target (if
/// any) followed by the body.
pub async fn submit(app: &TestApp, who: &As, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let mut all = vec![("csrf_token", who.csrf.as_str())];
    all.extend_from_slice(fields);
    let res = no_redirects()
        .post(format!("{}{path}", app.base))
        .header("cookie", &who.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&all).unwrap())
        .send()
        .await
        .unwrap();
    let status = res.status();
    let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_string());
    (status, location.unwrap_or_default() + &res.text().await.unwrap())
}

/// How many of `who`'s accesses were denied for `action` (on `object`, when given), by the log.
pub async fn denied(app: &TestApp, who: &As, action: &str, object: Option<&str>) -> usize {
    let filter = samverka_store::AccessFilter { user_id: Some(who.user), limit: 500, ..Default::default() };
    let log = app.store.access_log(&filter).await.unwrap();
    log.iter()
        .filter(|e| e.action == action && e.outcome == samverka_store::Outcome::Denied)
        .filter(|e| object.is_none_or(|o| e.object_id.map(|x| x.to_string()).as_deref() == Some(o)))
        .count()
}
