//! Live updates: the server-sent events an open page listens to, and the script and stylesheet it loads.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::{BroadcastStream, IntervalStream};

use samverka_app::AppState;

/// Server-sent events for the caller's unit: `change` with the case id whenever a case the
/// unit takes part in changes, and the unit's unread count. The page's script refetches
/// itself and swaps the changed parts. Listening does not keep the session alive, and the
/// stream ends soon after the session or the assignment does. Without a session the answer is
/// 204, which tells the browser to stop asking.
pub async fn events(
    State(st): State<AppState>,
    caller: Result<samverka_app::auth::Caller, samverka_app::error::AppError>,
) -> Response {
    let Ok(caller) = caller else { return StatusCode::NO_CONTENT.into_response() };
    if !samverka_domain::access::permits(caller.actor.role, samverka_domain::access::Permission::ReadPatientData) {
        return StatusCode::NO_CONTENT.into_response();
    }
    let unit = caller.actor.unit.id;
    let changes = BroadcastStream::new(st.live.subscribe(unit));
    let store = st.store.clone();
    let events = changes.then(move |c| {
        let store = store.clone();
        async move {
            let c = match c {
                Ok(c) => c,
                // Missed some (a slow reader): tell the page to look again anyway.
                Err(_) => samverka_app::live::LiveChange {
                    case_id: uuid::Uuid::nil(),
                    unread: store.unread_count(unit).await.unwrap_or(0),
                },
            };
            Some(Event::default().event("change").data(format!(r#"{{"case":"{}","unread":{}}}"#, c.case_id, c.unread)))
        }
    });
    let (store, clock, live) = (st.store.clone(), st.clock.clone(), st.live.clone());
    let (hash, assignment) = (caller.session.token_hash.clone(), caller.assignment_id);
    let idle = jiff::SignedDuration::from_mins(st.config.session_idle_minutes);
    let checks = IntervalStream::new(tokio::time::interval(Duration::from_secs(30))).skip(1).then(move |_| {
        let (store, clock, hash, live) = (store.clone(), clock.clone(), hash.clone(), live.clone());
        async move {
            // Every open page of the session shares one check for a while (`live.rs`).
            let check = async {
                let now = clock.now();
                let session_ok = match store.session(&hash).await {
                    Ok(Some(s)) => {
                        s.assignment_id == Some(assignment)
                            && now < s.expires_at
                            && now.duration_since(s.last_seen_at) <= idle
                    }
                    _ => false,
                };
                session_ok && matches!(store.assignment(assignment).await, Ok(Some(a)) if a.active)
            };
            live.session_valid(&hash, check).await.then(|| Event::default().comment("ok"))
        }
    });
    // When the process is on its way out the stream ends, and the browser reconnects (through
    // the load balancer, to another process).
    let closing = tokio_stream::wrappers::WatchStream::new(st.lifecycle.subscribe())
        .filter(|l| *l == samverka_app::state::Lifecycle::Closing)
        .map(|_| None);
    // Counted as open for as long as the stream lives.
    let counted = st.metrics.live_stream();
    let stream = events.merge(checks).merge(closing).map_while(move |e| {
        let _ = &counted;
        e.map(Ok::<Event, Infallible>)
    });
    let mut res = Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(20))).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../static/samverka.js"),
    )
        .into_response()
}

/// Samverka's icon, for the browser's tab (also at `/favicon.ico`, where browsers look first).
pub async fn icon() -> Response {
    (
        [(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")],
        include_str!("../static/favicon.svg"),
    )
        .into_response()
}

pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../static/samverka.css"),
    )
        .into_response()
}
