//! Health and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use samverka_app::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `disk_full` (reads are answered, writes refused until space is freed),
    /// `database_unavailable`, or `stopping` (the process is on its way out: a load balancer
    /// should send its requests elsewhere).
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    pub version: String,
}

/// Whether this process is ready for requests: it and its database answer (the load
/// balancer's readiness check).
#[utoipa::path(get, path = "/api/health", tag = "meta",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(st): State<AppState>) -> (StatusCode, Json<Health>) {
    // A process on its way out (SIGTERM) is not ready, whatever the database says.
    let stopping = st.lifecycle() != samverka_app::state::Lifecycle::Serving;
    let ok = !stopping && st.store.ping().await;
    let database = match st.store.kind() {
        samverka_store::DatabaseKind::Sqlite => "sqlite",
        samverka_store::DatabaseKind::Postgres => "postgres",
    };
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (
        status,
        Json(Health {
            status: match (ok, st.store.disk_full()) {
                _ if stopping => "stopping",
                (false, _) => "database_unavailable",
                (true, true) => "disk_full",
                (true, false) => "ok",
            }
            .into(),
            database: database.into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }),
    )
}

/// Whether the process answers at all (liveness), without asking the database: for an
/// orchestrator's liveness probe, and the baseline the load harness compares every figure to.
#[utoipa::path(get, path = "/api/live", tag = "meta", responses((status = 200, description = "The process answers", body = String)))]
pub async fn live() -> &'static str {
    "ok"
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// About this installation: what is running and how to log in (`/om`).
pub async fn landing(State(st): State<AppState>) -> axum::response::Html<String> {
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
<p><a href="/logga-in">Logga in</a> med användarnamn, lösenord och koden från din autentiseringsapp.
I API:t: <code>POST /auth/login</code>, <code>POST /auth/totp</code> och <code>POST /auth/assignment</code>.
{providers}</p>
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
