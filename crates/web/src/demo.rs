//! The demo's clock, moved forward from the page (demo data only).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::page::{WebCaller, error_page, error_text};
use samverka_app::AppState;

/// Moves a demo server's clock forward (1 to 168 hours) and applies the escalation rules at
/// once, to show what happens later; not found on any other server.
pub async fn demo_clock(
    State(st): State<AppState>,
    w: WebCaller,
    axum::extract::Form(f): axum::extract::Form<Vec<(String, String)>>,
) -> Response {
    let t = w.frame.t;
    let Some(clock) = &st.demo_clock else {
        return error_page(t, StatusCode::NOT_FOUND, t.get("error.not_found").to_string());
    };
    let hours = f.iter().find(|(k, _)| k == "hours").and_then(|(_, v)| v.parse::<i64>().ok());
    let Some(hours) = hours.filter(|h| (1..=168).contains(h)) else {
        return error_page(t, StatusCode::UNPROCESSABLE_ENTITY, t.get("demo.hours_invalid").to_string());
    };
    let by = jiff::SignedDuration::from_hours(hours);
    if let Err(e) = st.store.shift_sessions(by).await {
        let e = samverka_app::error::AppError::from(e);
        return error_page(t, e.status, error_text(t, &e));
    }
    clock.advance(by);
    if let Err(e) = samverka_app::escalation::sweep(&st).await {
        tracing::warn!(error = %e, "escalation sweep after moving the demo clock failed");
    }
    let back = f.iter().find(|(k, _)| k == "back").map(|(_, v)| v.as_str()).unwrap_or("/");
    crate::page::see_other(if back.starts_with('/') && !back.starts_with("//") { back } else { "/" })
}
