//! Settings, as the configuration file and the environment give them (read and checked by the
//! `samverka` binary): the application's, the e-mail relay's, the identity providers' and the
//! admission feed's.

use std::collections::HashMap;
use std::time::Duration;

use samverka_domain::hl7::adt::FlagRule;
use samverka_domain::hl7::plan;
use samverka_domain::ids::HsaId;
use serde::Deserialize;

/// The password every demo account has (demo data only, never in production).
pub const DEMO_PASSWORD: &str = "samverka-demo";

/// Largest request body accepted (a long SIP fits many times over).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Settings of the application and its front ends, from the configuration file.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The agreement applied to cases of wards whose region names none.
    pub default_agreement: String,
    /// A session ends after this long without a request.
    pub session_idle_minutes: i64,
    /// A session ends this long after login, however busy.
    pub session_absolute_hours: i64,
    /// How long an emergency access (nödåtkomst) lasts.
    pub emergency_access_minutes: i64,
    /// Send Strict-Transport-Security (served over TLS, directly or behind a proxy).
    pub hsts: bool,
    /// Show the demo accounts and their current codes on the start page (demo data only).
    pub demo_logins: bool,
    /// Identity providers for OpenID Connect login.
    pub oidc: Vec<OidcProvider>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for throttling and the log).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The address users and systems reach Samverka at (`https://samverka.region.example`),
    /// for the absolute URLs FHIR answers with; none: the request's own host.
    pub public_url: Option<String>,
    /// Where e-mail goes out, when the server sends any.
    pub mail: Option<MailSettings>,
    /// Requests served at once; more wait for a place (see [`admission`]).
    pub max_in_flight: usize,
    /// How long a request waits for a place before it is answered 503.
    pub admission_wait: Duration,
    /// On SIGTERM, how long the process answers not-ready while it goes on serving.
    pub shutdown_drain: Duration,
    /// Then, how long requests under way may take before the process stops anyway.
    pub shutdown_timeout: Duration,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            default_agreement: "lagens-reservregel".into(),
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            emergency_access_minutes: 120,
            hsts: false,
            demo_logins: false,
            oidc: vec![],
            trusted_proxies: vec![],
            public_url: None,
            mail: None,
            max_in_flight: 128,
            admission_wait: Duration::from_secs(2),
            shutdown_drain: Duration::ZERO,
            shutdown_timeout: Duration::from_secs(20),
        }
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailSecurity {
    /// Plain SMTP: only for a relay on the same host or network.
    None,
    /// STARTTLS, required (port 587).
    StartTls,
    /// TLS from the start (port 465).
    Tls,
}

#[derive(Debug, Clone)]
pub struct MailSettings {
    pub host: String,
    pub port: u16,
    pub security: MailSecurity,
    /// The sender, e.g. `Samverka <samverka@region.example>`.
    pub from: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// One identity provider, from the configuration file.
#[derive(Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProvider {
    /// Short name used in the login address, e.g. "region".
    pub id: String,
    /// Shown on the login button, e.g. "SITHS eID (Region Demo)".
    pub name: String,
    /// The issuer URL exactly as the provider's discovery document gives it.
    pub issuer: String,
    pub client_id: String,
    /// The client secret; read from `client_secret_file` when that is given.
    #[serde(default)]
    pub client_secret: String,
    #[serde(default)]
    pub client_secret_file: Option<std::path::PathBuf>,
    /// This server's callback: `https://<host>/auth/oidc/<id>/callback`.
    pub redirect_url: String,
    /// True when the provider's login is itself two-factor (SITHS eID); otherwise Samverka
    /// asks for its own TOTP code after the provider's login.
    #[serde(default = "yes")]
    pub two_factor: bool,
    /// Whom the provider signs in: staff (the default) or persons and their representatives
    /// (e-legitimation such as BankID or Freja eID through a broker).
    #[serde(default)]
    pub audience: Audience,
    /// For persons: the ID token claim that carries the personnummer.
    #[serde(default = "personnummer_claim")]
    pub personnummer_claim: String,
    /// The assurance levels (the ID token's `acr`) a login must have. Unset: for persons,
    /// tillitsnivå 3 or higher as the Swedish eID framework names them; for staff, any.
    #[serde(default)]
    pub accepted_acr: Option<Vec<String>>,
}

/// The assurance levels of the Swedish eID framework (Digg) that suffice for health data:
/// tillitsnivå 3 and 4, and their eIDAS equivalents.
pub const LOA3_OR_HIGHER: [&str; 4] = [
    "http://id.elegnamnden.se/loa/1.0/loa3",
    "http://id.elegnamnden.se/loa/1.0/loa4",
    "http://id.elegnamnden.se/loa/1.0/eidas-sub",
    "http://id.elegnamnden.se/loa/1.0/eidas-high",
];

impl OidcProvider {
    /// A staff provider with nothing filled in, to build on (`..OidcProvider::staff()`).
    pub fn staff() -> OidcProvider {
        OidcProvider {
            id: String::new(),
            name: String::new(),
            issuer: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            client_secret_file: None,
            redirect_url: String::new(),
            two_factor: true,
            audience: Audience::Staff,
            personnummer_claim: personnummer_claim(),
            accepted_acr: None,
        }
    }

    /// The assurance levels a login through this provider must have; empty: any.
    pub fn accepted_acr(&self) -> Vec<String> {
        match (&self.accepted_acr, self.audience) {
            (Some(list), _) => list.clone(),
            (None, Audience::Person) => LOA3_OR_HIGHER.iter().map(|s| s.to_string()).collect(),
            (None, Audience::Staff) => vec![],
        }
    }
}

/// Whom an identity provider signs in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    #[default]
    Staff,
    Person,
}

/// The personnummer claim of the OIDC Sweden profile (Sweden Connect, most BankID brokers).
fn personnummer_claim() -> String {
    "https://id.oidc.se/claim/personalIdentityNumber".into()
}

fn yes() -> bool {
    true
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider").field("id", &self.id).field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

/// How the feed reads and applies messages (the `mllp_*` settings).
#[derive(Debug, Clone)]
pub struct FeedSettings {
    pub plan: plan::Settings,
    pub flag: Option<FlagRule>,
    /// PV1-3.1 codes of the hospital system → the ward's HSA-id in Samverka. A PV1-3.1 that
    /// is itself a ward's HSA-id needs no entry.
    pub locations: HashMap<String, HsaId>,
    pub max_message_bytes: usize,
}

impl Default for FeedSettings {
    fn default() -> Self {
        FeedSettings {
            plan: plan::Settings::default(),
            flag: None,
            locations: HashMap::new(),
            max_message_bytes: 1 << 20,
        }
    }
}
