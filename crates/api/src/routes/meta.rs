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

/// The start page: what is running and how to reach the API.
pub async fn landing(State(st): State<AppState>) -> axum::response::Html<String> {
    let units = st.store.units().await.unwrap_or_default();
    let users = st.store.users().await.unwrap_or_default();
    let rows: String = units
        .iter()
        .take(12)
        .map(|u| {
            format!(
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                escape(&u.name),
                u.kind.label_sv(),
                u.hsa_id
            )
        })
        .collect();
    let user_rows: String = users
        .iter()
        .take(12)
        .map(|u| format!("<tr><td>{}</td><td><code>{}</code></td></tr>", escape(&u.name), u.id))
        .collect();
    axum::response::Html(format!(
        r#"<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Samverka</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}}
table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:.25rem .5rem;text-align:left}}code{{font-size:.95em}}</style>
</head><body>
<h1>Samverka</h1>
<p>Samverkan vid utskrivning från sluten hälso- och sjukvård (LUS): inskrivningsmeddelande, utskrivningsklar,
information vid utskrivning och SIP – med kvittenser, frister och betalningsansvar.</p>
<p>Databasen svarar: <strong>{db}</strong>. API-beskrivning: <a href="/api/openapi.json">/api/openapi.json</a>.
Hälsokontroll: <a href="/api/health">/api/health</a>.</p>
<h2>Utvecklingsinloggning</h2>
<p>Anropa API:t med rubrikerna <code>X-Samverka-User</code> (användarens id) och <code>X-Samverka-Unit</code>
(enhetens id eller HSA-id).</p>
<table><thead><tr><th>Användare</th><th>id</th></tr></thead><tbody>{user_rows}</tbody></table>
<p></p>
<table><thead><tr><th>Enhet</th><th>Typ</th><th>HSA-id</th></tr></thead><tbody>{rows}</tbody></table>
</body></html>"#,
        db = if st.store.ping().await { "ja" } else { "nej" },
    ))
}
