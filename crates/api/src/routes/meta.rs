//! Health and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::AppState;
use crate::openapi::ApiDoc;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `database_unavailable`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    pub version: String,
}

/// Whether Samverka and its database answer.
#[utoipa::path(get, path = "/api/health", tag = "meta",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(st): State<AppState>) -> (StatusCode, Json<Health>) {
    let ok = st.store.ping().await;
    let database = match st.store.kind() {
        samverka_store::DatabaseKind::Sqlite => "sqlite",
        samverka_store::DatabaseKind::Postgres => "postgres",
    };
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (
        status,
        Json(Health {
            status: if ok { "ok" } else { "database_unavailable" }.into(),
            database: database.into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }),
    )
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The password every demo account has (demo data only, never in production).
pub const DEMO_PASSWORD: &str = "samverka-demo";

const STYLESHEET: &str = "body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}\
table{border-collapse:collapse}td,th{border:1px solid #767676;padding:.25rem .5rem;text-align:left}code{font-size:.95em}\
.demo{background:#fff4d6;border:1px solid #8a6d00;padding:.5rem 1rem}";

/// The start page's stylesheet (a file, so the page needs no inline style).
pub async fn stylesheet() -> impl axum::response::IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

/// The start page: what is running and how to log in.
pub async fn landing(State(st): State<AppState>) -> axum::response::Html<String> {
    let demo = if st.config.demo_logins {
        let now = st.clock.now();
        let mut rows = String::new();
        for a in st.store.local_accounts(60).await.unwrap_or_default() {
            let code =
                a.totp_secret.as_deref().and_then(|s| crate::auth::totp::current_code(s, now)).unwrap_or_default();
            let assignments = st.store.assignments_of(a.id).await.unwrap_or_default();
            let work: Vec<String> =
                assignments.iter().map(|x| format!("{} – {}", x.role.label_sv(), x.unit.name)).collect();
            rows.push_str(&format!(
                "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td></tr>",
                escape(a.username.as_deref().unwrap_or("")),
                escape(&work.join("; ")),
                code
            ));
        }
        format!(
            r#"<section class="demo"><h2>Demokonton</h2>
<p>Detta är demodata. Alla demokonton har lösenordet <code>{DEMO_PASSWORD}</code>. Koden för andra steget
visas här i stället för i en app (den byts var 30:e sekund; ladda om sidan).</p>
<table><thead><tr><th>Användarnamn</th><th>Uppdrag</th><th>Kod just nu</th></tr></thead><tbody>{rows}</tbody></table></section>"#
        )
    } else {
        String::new()
    };
    axum::response::Html(format!(
        r#"<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Samverka</title><link rel="stylesheet" href="/static/samverka.css">
</head><body>
<h1>Samverka</h1>
<p>Samverkan vid utskrivning från sluten hälso- och sjukvård (LUS): inskrivningsmeddelande, utskrivningsklar,
information vid utskrivning och SIP – med kvittenser, frister och betalningsansvar.</p>
<p>Databasen svarar: <strong>{db}</strong>. API-beskrivning: <a href="/api/openapi.json">/api/openapi.json</a>.
Hälsokontroll: <a href="/api/health">/api/health</a>.</p>
<h2>Inloggning</h2>
<p>Logga in med användarnamn och lösenord (<code>POST /auth/login</code>), sedan koden från din
autentiseringsapp (<code>POST /auth/totp</code>), och välj uppdrag (<code>POST /auth/assignment</code>).
{providers}</p>
{demo}
</body></html>"#,
        db = if st.store.ping().await { "ja" } else { "nej" },
        providers = st
            .config
            .oidc
            .iter()
            .map(|p| format!(
                r#" Eller logga in med <a href="/auth/oidc/{0}/start">{1}</a>."#,
                escape(&p.id),
                escape(&p.name)
            ))
            .collect::<String>(),
    ))
}
