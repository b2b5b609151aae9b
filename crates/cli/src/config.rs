//! Configuration: a TOML file (optional) overlaid by `SAMVERKA_<KEY>` environment variables.
//! Every mistake is reported with the key, and where it came from, so it can be fixed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use samverka_domain::agreement::Agreement;
use samverka_store::Agreements;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on, e.g. "127.0.0.1:8080".
    pub listen: String,
    /// Folder for Samverka's own files (the SQLite database by default).
    pub data_dir: PathBuf,
    /// `postgres://…` for PostgreSQL; empty for the SQLite file in `data_dir`.
    pub database_url: String,
    /// Minutes without a request before a session ends.
    pub session_idle_minutes: i64,
    /// Hours after login before a session ends, however busy.
    pub session_absolute_hours: i64,
    /// Minutes an emergency access (nödåtkomst) lasts.
    pub emergency_access_minutes: i64,
    /// Years the access log is kept before `samverka purge-access-log` may remove entries
    /// (at least 5, HSLF-FS 2016:40).
    pub access_log_retention_years: i64,
    /// Send Strict-Transport-Security: set when users reach Samverka over TLS (directly or via
    /// a proxy that terminates TLS).
    pub hsts: bool,
    /// Identity providers for OpenID Connect login (`[[oidc]]` tables).
    pub oidc: Vec<samverka_app::config::OidcProvider>,
    /// Addresses of reverse proxies in front of Samverka, whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
    /// The address Samverka is reached at (`https://samverka.region.example`), for FHIR's
    /// absolute URLs; empty: the request's host.
    pub public_url: String,
    /// The agreement for wards whose region names none.
    pub default_agreement: String,
    /// Extra agreement files (TOML) besides the built-in ones.
    pub agreement_files: Vec<PathBuf>,
    /// `text` or `json` log lines.
    pub log_format: String,
    /// Serve HTTPS directly: the certificate chain (PEM). Leave out behind a TLS proxy.
    pub tls_cert_file: Option<PathBuf>,
    /// The certificate's private key (PEM).
    pub tls_key_file: Option<PathBuf>,
    /// The hospital's admission feed: address and port for HL7 v2 over MLLP, e.g.
    /// "0.0.0.0:2575". Empty: no feed.
    pub mllp_listen: String,
    /// Use TLS on the feed, with `tls_cert_file` and `tls_key_file`.
    pub mllp_tls: bool,
    /// Which admissions open a draft case: "flagged" (the message's flag field, or a SIP in
    /// force in Samverka) or "all_inpatients".
    pub mllp_drafts: String,
    /// The events that count as admissions: A01, and A04 and/or A05 if the hospital uses them.
    pub mllp_admission_events: Vec<String>,
    /// The field that flags a patient for follow-up after discharge, e.g. "ZSV-1" or "PV2-22".
    pub mllp_flag_field: String,
    /// The values of that field that mean "follow up".
    pub mllp_flag_values: Vec<String>,
    /// Ward codes of the hospital system (PV1-3.1) → the ward's HSA-id (`[mllp_locations]`).
    pub mllp_locations: std::collections::BTreeMap<String, String>,
    /// The largest message accepted, in kilobytes.
    pub mllp_max_message_kb: usize,
    /// Requests served at once; more wait for a place (admission control).
    pub max_requests_in_flight: i64,
    /// How long a request waits for a place before it is answered 503 busy, in milliseconds.
    pub admission_wait_ms: i64,
    /// On SIGTERM, how long the process answers not-ready while still serving, so that a load
    /// balancer stops sending it requests before it stops taking them (milliseconds; 0 with
    /// no balancer in front).
    pub shutdown_drain_ms: i64,
    /// Then, how long requests under way may take to finish before the process exits anyway.
    pub shutdown_timeout_seconds: i64,
    /// Megabytes of recently read and written cases (and their timelines) each process keeps
    /// in memory, so that reading one again costs one small row; 0 keeps none.
    pub case_cache_mb: i64,
    /// Address and port where `/metrics` answers (Prometheus), e.g. "127.0.0.1:9464"; empty:
    /// no metrics. Never the address users reach.
    pub metrics_listen: String,
    /// SMTP server for e-mail (escalations to units' functional mailboxes); empty: no e-mail.
    pub smtp_host: String,
    /// 0: the usual port of `smtp_security` (587, 465 or 25).
    pub smtp_port: u16,
    /// `starttls` (required), `tls`, or `none` (only for a relay on the same host or network).
    pub smtp_security: String,
    /// The sender, e.g. `Samverka <samverka@region.example>`.
    pub smtp_from: String,
    pub smtp_username: String,
    pub smtp_password: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            emergency_access_minutes: 120,
            access_log_retention_years: 5,
            hsts: false,
            oidc: vec![],
            trusted_proxies: vec![],
            public_url: String::new(),
            default_agreement: "lagens-reservregel".into(),
            agreement_files: vec![],
            log_format: "text".into(),
            tls_cert_file: None,
            tls_key_file: None,
            mllp_listen: String::new(),
            mllp_tls: false,
            mllp_drafts: "flagged".into(),
            mllp_admission_events: vec!["A01".into()],
            mllp_flag_field: String::new(),
            mllp_flag_values: vec!["Y".into(), "J".into()],
            mllp_locations: Default::default(),
            mllp_max_message_kb: 1024,
            max_requests_in_flight: 128,
            admission_wait_ms: 2000,
            shutdown_drain_ms: 0,
            shutdown_timeout_seconds: 20,
            case_cache_mb: 32,
            metrics_listen: String::new(),
            smtp_host: String::new(),
            smtp_port: 0,
            smtp_security: "starttls".into(),
            smtp_from: String::new(),
            smtp_username: String::new(),
            smtp_password: String::new(),
        }
    }
}

/// A configuration that has been checked: every value usable as it stands.
#[derive(Clone)]
pub struct Checked {
    pub config: Config,
    pub listen: SocketAddr,
    /// Where `/metrics` answers, when configured.
    pub metrics_listen: Option<SocketAddr>,
    pub database_url: String,
    pub agreements: Agreements,
    /// The identity providers, with their client secrets read.
    pub oidc: Vec<samverka_app::config::OidcProvider>,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The public address, checked; none when not set.
    pub public_url: Option<String>,
    /// Certificate and key, when Samverka serves HTTPS itself.
    pub tls: Option<std::sync::Arc<samverka_app::tls::ServerConfig>>,
    /// The admission feed, when configured.
    pub mllp: Option<Mllp>,
    /// Where e-mail goes out, when configured.
    pub mail: Option<samverka_app::config::MailSettings>,
}

#[derive(Clone)]
pub struct Mllp {
    pub listen: SocketAddr,
    pub tls: Option<std::sync::Arc<samverka_app::tls::ServerConfig>>,
    pub settings: samverka_app::config::FeedSettings,
}

/// Reads the file (if given or if `samverka.toml` exists here) and the environment.
pub fn load(file: Option<&Path>) -> Result<Config, String> {
    let mut fig = Figment::from(Serialized::defaults(Config::default()));
    match file {
        Some(f) if !f.is_file() => return Err(format!("Konfigurationsfilen {} finns inte.", f.display())),
        Some(f) => fig = fig.merge(Toml::file_exact(f)),
        None if Path::new("samverka.toml").is_file() => fig = fig.merge(Toml::file_exact("samverka.toml")),
        None => {}
    }
    // These variables are read elsewhere (the file's name, the log filter, the test harness);
    // they are not settings.
    fig = fig.merge(Env::prefixed("SAMVERKA_").filter(|k| {
        let k = k.as_str().to_ascii_lowercase();
        !matches!(k.as_str(), "config" | "log" | "testdata" | "pg_bin") && !k.starts_with("test_")
    }));
    fig.extract::<Config>().map_err(|e| {
        e.into_iter()
            .map(|e| {
                let key = e.path.join(".");
                let env_name = format!("SAMVERKA_{}", key.to_uppercase());
                let source = e.metadata.as_ref().map(|m| m.name.to_string()).unwrap_or_default();
                format!("Fel i inställningen \"{key}\" ({env_name}, från {source}): {}", e.kind)
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

impl Config {
    /// The SMTP settings, checked; none when no host is set.
    fn mail_settings(&self) -> Result<Option<samverka_app::config::MailSettings>, String> {
        use samverka_app::config::{MailSecurity, MailSettings};
        let host = self.smtp_host.trim();
        if host.is_empty() {
            return Ok(None);
        }
        let (security, port) = match self.smtp_security.trim() {
            "starttls" => (MailSecurity::StartTls, 587),
            "tls" => (MailSecurity::Tls, 465),
            "none" => (MailSecurity::None, 25),
            other => {
                return Err(format!(
                    "Fel i inställningen \"smtp_security\" (SAMVERKA_SMTP_SECURITY): \"{other}\" ska vara starttls, tls eller none."
                ));
            }
        };
        let from = self.smtp_from.trim();
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(format!(
                "Fel i inställningen \"smtp_from\" (SAMVERKA_SMTP_FROM): \"{from}\" är ingen e-postadress. \
                 Skriv t.ex. Samverka <samverka@region.example>."
            ));
        }
        let (user, pass) = (self.smtp_username.trim(), self.smtp_password.as_str());
        if user.is_empty() != pass.is_empty() {
            return Err("Fel i inställningarna \"smtp_username\" och \"smtp_password\": ange båda eller ingen.".into());
        }
        Ok(Some(MailSettings {
            host: host.to_string(),
            port: if self.smtp_port == 0 { port } else { self.smtp_port },
            security,
            from: from.to_string(),
            username: (!user.is_empty()).then(|| user.to_string()),
            password: (!pass.is_empty()).then(|| pass.to_string()),
        }))
    }

    /// Checks every value and reads the agreement files.
    pub fn check(self) -> Result<Checked, String> {
        let listen: SocketAddr = self.listen.parse().map_err(|_| {
            format!(
                "Fel i inställningen \"listen\" (SAMVERKA_LISTEN): \"{}\" är ingen adress med port. Skriv t.ex. 127.0.0.1:8080.",
                self.listen
            )
        })?;
        let database_url = if self.database_url.trim().is_empty() {
            let path = self.data_dir.join("samverka.db");
            path.to_str()
                .ok_or("Fel i inställningen \"data_dir\" (SAMVERKA_DATA_DIR): sökvägen måste vara UTF-8.")?
                .to_string()
        } else {
            let url = self.database_url.trim().to_string();
            let ok = url.starts_with("postgres://") || url.starts_with("postgresql://") || url.starts_with("sqlite://");
            if !ok {
                return Err(format!(
                    "Fel i inställningen \"database_url\" (SAMVERKA_DATABASE_URL): \"{url}\" ska börja med postgres:// eller sqlite://, \
                     eller vara tom för SQLite-filen i data_dir."
                ));
            }
            url
        };
        let range = |key: &str, v: i64, lo: i64, hi: i64, unit: &str| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(format!(
                    "Fel i inställningen \"{key}\" (SAMVERKA_{}): {v} ska vara mellan {lo} och {hi} {unit}.",
                    key.to_uppercase()
                ))
            }
        };
        range("session_idle_minutes", self.session_idle_minutes, 1, 240, "minuter")?;
        range("session_absolute_hours", self.session_absolute_hours, 1, 24, "timmar")?;
        range("emergency_access_minutes", self.emergency_access_minutes, 5, 24 * 60, "minuter")?;
        range("access_log_retention_years", self.access_log_retention_years, 5, 100, "år")?;
        range("max_requests_in_flight", self.max_requests_in_flight, 1, 100_000, "anrop")?;
        range("admission_wait_ms", self.admission_wait_ms, 0, 60_000, "millisekunder")?;
        range("shutdown_drain_ms", self.shutdown_drain_ms, 0, 60_000, "millisekunder")?;
        range("shutdown_timeout_seconds", self.shutdown_timeout_seconds, 1, 600, "sekunder")?;
        range("case_cache_mb", self.case_cache_mb, 0, 65_536, "megabyte")?;
        let mut oidc = self.oidc.clone();
        for (i, p) in oidc.iter_mut().enumerate() {
            if !p.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') || p.id.is_empty() {
                return Err(format!("Fel i inställningen \"oidc[{i}].id\": bara bokstäver, siffror och bindestreck."));
            }
            if let Some(file) = &p.client_secret_file {
                p.client_secret = std::fs::read_to_string(file)
                    .map_err(|e| {
                        format!(
                            "Fel i inställningen \"oidc[{i}].client_secret_file\": {} kan inte läsas: {e}",
                            file.display()
                        )
                    })?
                    .trim()
                    .to_string();
            }
            for (key, url) in [("issuer", &p.issuer), ("redirect_url", &p.redirect_url)] {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(format!("Fel i inställningen \"oidc[{i}].{key}\": \"{url}\" är ingen http(s)-adress."));
                }
            }
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(format!(
                "Fel i inställningen \"log_format\" (SAMVERKA_LOG_FORMAT): \"{}\" ska vara text eller json.",
                self.log_format
            ));
        }
        let mut agreements = Agreements::built_in();
        for file in &self.agreement_files {
            let text = std::fs::read_to_string(file).map_err(|e| {
                format!("Fel i inställningen \"agreement_files\": {} kan inte läsas: {e}", file.display())
            })?;
            let a =
                Agreement::from_toml(&text).map_err(|e| format!("Fel i överenskommelsen {}: {e}", file.display()))?;
            agreements.insert(a);
        }
        if agreements.get(&self.default_agreement).is_none() {
            return Err(format!(
                "Fel i inställningen \"default_agreement\" (SAMVERKA_DEFAULT_AGREEMENT): \"{}\" finns inte. Välj en av: {}.",
                self.default_agreement,
                agreements.ids().join(", ")
            ));
        }
        let tls = match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(cert), Some(key)) => Some(
                samverka_app::tls::server_config(cert, key)
                    .map_err(|e| format!("Fel i inställningarna \"tls_cert_file\"/\"tls_key_file\": {e}"))?,
            ),
            (None, None) => None,
            _ => {
                return Err(
                    "Fel i inställningarna \"tls_cert_file\" och \"tls_key_file\": ange båda eller ingen av dem."
                        .into(),
                );
            }
        };
        let trusted_proxies = self
            .trusted_proxies
            .iter()
            .map(|a| {
                a.parse().map_err(|_| format!("Fel i inställningen \"trusted_proxies\": \"{a}\" är ingen IP-adress."))
            })
            .collect::<Result<Vec<std::net::IpAddr>, String>>()?;
        let public_url = match self.public_url.trim().trim_end_matches('/') {
            "" => None,
            url => {
                let ok = (url.starts_with("https://") || url.starts_with("http://"))
                    && !url.contains(['?', '#', ' '])
                    && url.split("://").nth(1).is_some_and(|rest| !rest.is_empty());
                if !ok {
                    return Err(format!(
                        "Fel i inställningen \"public_url\" (SAMVERKA_PUBLIC_URL): \"{url}\" ska vara en http(s)-adress utan frågedel, \
                         t.ex. https://samverka.region.example."
                    ));
                }
                Some(url.to_string())
            }
        };
        let mllp = self.check_mllp(&tls)?;
        let mail = self.mail_settings()?;
        let metrics_listen = match self.metrics_listen.trim() {
            "" => None,
            addr => Some(addr.parse::<SocketAddr>().map_err(|_| {
                format!(
                    "Fel i inställningen \"metrics_listen\" (SAMVERKA_METRICS_LISTEN): \"{addr}\" är ingen adress med port. \
                     Skriv t.ex. 127.0.0.1:9464."
                )
            })?),
        };
        if metrics_listen.is_some_and(|m| m == listen) {
            return Err(
                "Fel i inställningen \"metrics_listen\" (SAMVERKA_METRICS_LISTEN): mätvärdena ska ha en egen adress, \
                 inte samma som listen."
                    .into(),
            );
        }
        Ok(Checked {
            listen,
            metrics_listen,
            database_url,
            agreements,
            oidc,
            tls,
            trusted_proxies,
            public_url,
            mllp,
            mail,
            config: self,
        })
    }

    fn check_mllp(
        &self,
        tls: &Option<std::sync::Arc<samverka_app::tls::ServerConfig>>,
    ) -> Result<Option<Mllp>, String> {
        use samverka_domain::hl7::adt::{AdtEvent, FieldPath, FlagRule};
        use samverka_domain::hl7::plan::{DraftPolicy, Settings};
        if self.mllp_listen.trim().is_empty() {
            return Ok(None);
        }
        let listen: SocketAddr = self.mllp_listen.trim().parse().map_err(|_| {
            format!(
                "Fel i inställningen \"mllp_listen\" (SAMVERKA_MLLP_LISTEN): \"{}\" är ingen adress med port. Skriv t.ex. 0.0.0.0:2575.",
                self.mllp_listen
            )
        })?;
        let tls = match (self.mllp_tls, tls) {
            (false, _) => None,
            (true, Some(t)) => Some(t.clone()),
            (true, None) => {
                return Err(
                    "Fel i inställningen \"mllp_tls\" (SAMVERKA_MLLP_TLS): TLS kräver tls_cert_file och tls_key_file."
                        .into(),
                );
            }
        };
        let drafts = match self.mllp_drafts.as_str() {
            "flagged" => DraftPolicy::Flagged,
            "all_inpatients" => DraftPolicy::AllInpatients,
            other => {
                return Err(format!(
                    "Fel i inställningen \"mllp_drafts\" (SAMVERKA_MLLP_DRAFTS): \"{other}\" ska vara flagged eller all_inpatients."
                ));
            }
        };
        let mut admission_events = vec![];
        for e in &self.mllp_admission_events {
            match AdtEvent::from_trigger(e.trim()) {
                Some(ev @ (AdtEvent::Admit | AdtEvent::Register | AdtEvent::PreAdmit)) => admission_events.push(ev),
                _ => {
                    return Err(format!(
                        "Fel i inställningen \"mllp_admission_events\": \"{e}\" kan inte räknas som inskrivning; välj bland A01, A04 och A05."
                    ));
                }
            }
        }
        if !admission_events.contains(&AdtEvent::Admit) {
            admission_events.push(AdtEvent::Admit);
        }
        let flag = if self.mllp_flag_field.trim().is_empty() {
            None
        } else {
            let field = FieldPath::parse(&self.mllp_flag_field).ok_or_else(|| {
                format!(
                    "Fel i inställningen \"mllp_flag_field\" (SAMVERKA_MLLP_FLAG_FIELD): \"{}\" är inget fält. Skriv segment och fältnummer, t.ex. ZSV-1.",
                    self.mllp_flag_field
                )
            })?;
            if self.mllp_flag_values.iter().all(|v| v.trim().is_empty()) {
                return Err(
                    "Fel i inställningen \"mllp_flag_values\": ange minst ett värde som betyder uppföljning.".into()
                );
            }
            Some(FlagRule { field, values: self.mllp_flag_values.iter().map(|v| v.trim().to_string()).collect() })
        };
        let mut locations = std::collections::HashMap::new();
        for (code, hsa) in &self.mllp_locations {
            let id = samverka_domain::ids::HsaId::parse(hsa).map_err(|_| {
                format!("Fel i inställningen \"mllp_locations.{code}\": \"{hsa}\" är inget HSA-id (SE + organisationsnummer + -id).")
            })?;
            locations.insert(code.clone(), id);
        }
        if !(1..=65536).contains(&self.mllp_max_message_kb) {
            return Err(format!(
                "Fel i inställningen \"mllp_max_message_kb\" (SAMVERKA_MLLP_MAX_MESSAGE_KB): {} ska vara mellan 1 och 65536.",
                self.mllp_max_message_kb
            ));
        }
        let settings = samverka_app::config::FeedSettings {
            plan: Settings { drafts, admission_events },
            flag,
            locations,
            max_message_bytes: self.mllp_max_message_kb * 1024,
        };
        Ok(Some(Mllp { listen, tls, settings }))
    }
}
