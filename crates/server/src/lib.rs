//! Samverka's HTTP server: the JSON API, the pages and FHIR under one router, and the plumbing
//! around them (body limits, time-outs, tracing, security headers, the database breaker and
//! admission control).
//!
//! Architecture invariant: this crate composes front ends and decides nothing about patient
//! data; it answers 503 at once while the database is away or the server is past capacity, and
//! liveness always answers.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use samverka_app::config::MAX_BODY_BYTES;
use samverka_app::state::Lifecycle;
use samverka_app::{AppError, AppState, auth, tls};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use samverka_app::{AppConfig, Clock, ManualClock, SystemClock};

/// The whole application as one router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(samverka_api::router())
        .merge(samverka_fhir::router())
        .merge(samverka_person::router())
        .merge(samverka_web::router(state.clone()))
        // Each answer carries its route template, for the metrics around everything.
        .route_layer(axum::middleware::from_fn(mark_route))
        .fallback(not_found)
        .method_not_allowed_fallback(|| async {
            AppError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Den här adressen tar inte emot den sortens anrop.",
                "Method not allowed for this address.",
            )
        })
        .layer(axum::middleware::from_fn_with_state(state.clone(), samverka_web::page_errors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), database_breaker))
        .layer(axum::middleware::from_fn_with_state(state.clone(), admission))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn_with_state(state.clone(), security_headers))
        .layer(axum::Extension(auth::TrustedProxies(state.config.trusted_proxies.clone())))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30)))
        // FHIR's answers are FHIR's, errors at the door included.
        .layer(axum::middleware::from_fn(samverka_fhir::http::negotiate))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn_with_state(state.clone(), measure))
        .with_state(state)
}

/// The route template a request matched (in the answer's extensions).
#[derive(Clone)]
struct Route(axum::extract::MatchedPath);

async fn mark_route(
    route: Option<axum::extract::MatchedPath>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut res = next.run(req).await;
    if let Some(route) = route {
        res.extensions_mut().insert(Route(route));
    }
    res
}

/// Counts and times every answer by route template and status (`/metrics`). A live stream is
/// timed to its first byte, not its end.
async fn measure(
    axum::extract::State(st): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let res = next.run(req).await;
    let route = res.extensions().get::<Route>().map(|r| r.0.as_str()).unwrap_or("unmatched");
    st.metrics.request(method.as_str(), route, res.status().as_u16(), started.elapsed());
    res
}

/// How long requests are answered 503 at once after the database was found unreachable.
const OUTAGE_PAUSE_MS: i64 = 1_000;

/// Fails fast while the database is away: once a request finds it unreachable, the following
/// second's requests get 503 at once instead of each waiting for a connection that will not
/// come; then one request tries again. The health check always asks the database itself.
async fn database_breaker(
    axum::extract::State(st): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use std::sync::atomic::Ordering;
    let now = jiff::Timestamp::now().as_millisecond();
    if !always_let_in(req.uri().path()) && now < st.db_outage.load(Ordering::Relaxed) {
        return turned_away(req.headers(), AppError::database_unavailable(), None);
    }
    let res = next.run(req).await;
    if res.extensions().get::<samverka_app::error::DatabaseUnavailable>().is_some() {
        // From when the failure was seen, not when the request began: finding out may take
        // the pool's whole acquire timeout.
        st.db_outage.store(jiff::Timestamp::now().as_millisecond() + OUTAGE_PAUSE_MS, Ordering::Relaxed);
    }
    res
}

/// Admission control: at most `max_in_flight` requests are served at once; the next wait up to
/// `admission_wait` for a place and are then answered 503 with Retry-After. Past its capacity
/// the server turns work away at once instead of queueing it without end, where every answer
/// would come late and the queue would take the memory. Liveness, health and static files
/// (no database) are always let in.
async fn admission(
    axum::extract::State(st): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = req.uri().path();
    if always_let_in(path) {
        return next.run(req).await;
    }
    let place = match st.admission.try_acquire() {
        Ok(p) => p,
        Err(_) => match tokio::time::timeout(st.config.admission_wait, st.admission.acquire()).await {
            Ok(Ok(p)) => p,
            _ => {
                tracing::warn!(path, "turned away: the server is at capacity");
                return turned_away(req.headers(), AppError::busy(), Some("error.busy"));
            }
        },
    };
    let res = next.run(req).await;
    drop(place);
    res
}

/// Liveness, health and static files: never turned away by the breaker nor by admission
/// control. Liveness and static files need no database; the health check asks it itself, so a
/// load balancer learns of an outage from it, and a liveness probe never restarts a process
/// that is only waiting for its database.
fn always_let_in(path: &str) -> bool {
    path == "/api/live" || path == "/api/health" || path == "/favicon.ico" || path.starts_with("/static/")
}

/// A request turned away before any handler (503): a page for a browser, with the page's own
/// text when `page_text` names one, else the problem's; problem+json for everyone else. Both
/// say when to try again.
fn turned_away(
    headers: &axum::http::HeaderMap,
    problem: AppError,
    page_text: Option<&str>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if !wants_html(headers) {
        return problem.into_response();
    }
    let t = samverka_app::texts::texts(samverka_web::lang_of(headers));
    let text = page_text.map_or_else(|| samverka_web::error_text(t, &problem), |key| t.get(key).to_string());
    let mut page = samverka_web::error_page(t, problem.status, text);
    page.headers_mut().insert(axum::http::header::RETRY_AFTER, samverka_app::error::RETRY_AFTER);
    page
}

/// Whether the client is a browser asking for a page (else it gets problem+json).
fn wants_html(headers: &axum::http::HeaderMap) -> bool {
    headers.get(axum::http::header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("text/html"))
}

/// An unknown address: a page for a browser, problem+json for everyone else.
async fn not_found(headers: axum::http::HeaderMap) -> axum::response::Response {
    use axum::response::IntoResponse;
    if wants_html(&headers) {
        let t = samverka_app::texts::texts(samverka_web::lang_of(&headers));
        return samverka_web::error_page(t, StatusCode::NOT_FOUND, t.get("error.not_found").to_string());
    }
    AppError::new(
        StatusCode::NOT_FOUND,
        "no_such_address",
        "Adressen finns inte i Samverka. Kontrollera länken.",
        "No such address.",
    )
    .into_response()
}

/// Headers every answer carries: no inline script, no framing, no referrer, no caching of
/// patient data, and HSTS when Samverka is reached over TLS.
async fn security_headers(
    axum::extract::State(st): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if st.config.hsts {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    res
}

/// A bug must not cut the connection without an answer: log it and answer 500 as a problem.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = what, "handler panicked");
    axum::response::IntoResponse::into_response(AppError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "Ett oväntat fel inträffade. Inget har sparats. Kontakta support om det upprepas.",
        "An unexpected error occurred. Nothing was saved.",
    ))
}

/// Serves until `shutdown` resolves, then leaves in order (see [`leave`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state.clone()).into_make_service_with_connect_info::<tls::PeerAddr>();
    let (stop, left) = leave(state.clone(), shutdown);
    bounded(axum::serve(listener, app).with_graceful_shutdown(stop).into_future(), left, &state).await
}

/// Serves HTTPS with the given certificate until `shutdown` resolves, then leaves in order.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state.clone()).into_make_service_with_connect_info::<tls::PeerAddr>();
    let (stop, left) = leave(state.clone(), shutdown);
    let server = axum::serve(tls::TlsListener::new(listener, config)?, app).with_graceful_shutdown(stop);
    bounded(server.into_future(), left, &state).await
}

/// The way out, once `shutdown` resolves: answer not-ready (the health check says
/// "stopping") while still serving for `shutdown_drain`, so that a load balancer stops sending
/// requests here; then close the live streams (browsers reconnect, through the balancer, to
/// another process) and stop taking connections. The first future resolves when the server
/// should stop taking connections; the second tells when it did.
fn leave(
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> (impl std::future::Future<Output = ()> + Send + 'static, tokio::sync::oneshot::Receiver<()>) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let stop = async move {
        shutdown.await;
        state.set_lifecycle(Lifecycle::Draining);
        tracing::info!(drain = ?state.config.shutdown_drain, "not ready: the load balancer sends no more");
        tokio::time::sleep(state.config.shutdown_drain).await;
        state.set_lifecycle(Lifecycle::Closing);
        tracing::info!("closing live streams and finishing requests under way");
        let _ = tx.send(());
    };
    (stop, rx)
}

/// Runs the server until it has finished its requests, or until `shutdown_timeout` after it
/// stopped taking connections: then it stops with what is still under way (a request that is
/// cut off has not been answered, so nothing acknowledged is lost).
async fn bounded(
    server: impl std::future::Future<Output = std::io::Result<()>>,
    left: tokio::sync::oneshot::Receiver<()>,
    state: &AppState,
) -> std::io::Result<()> {
    let limit = state.config.shutdown_timeout;
    let deadline = async move {
        if left.await.is_err() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(limit).await;
    };
    tokio::select! {
        done = server => done,
        _ = deadline => {
            tracing::warn!(?limit, "requests still under way when the time to stop ran out");
            Ok(())
        }
    }
}

/// Serves `/metrics` (Prometheus text) on its own address, which only the monitoring reaches.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route(
            "/metrics",
            axum::routing::get(|axum::extract::State(st): axum::extract::State<AppState>| async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                    samverka_app::metrics::render(&st.metrics, &st.store).await,
                )
            }),
        )
        .with_state(state);
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    #[tokio::test]
    async fn past_capacity_a_request_waits_briefly_then_is_turned_away_and_liveness_always_answers() {
        let dir = tempfile::tempdir().unwrap();
        let store = samverka_store::Store::connect(
            dir.path().join("t.db").to_str().unwrap(),
            samverka_store::Agreements::built_in(),
        )
        .await
        .unwrap();
        let config = AppConfig { max_in_flight: 1, admission_wait: Duration::from_millis(50), ..AppConfig::default() };
        let state = AppState::new(store, Arc::new(SystemClock), config);
        let release = Arc::new(tokio::sync::Notify::new());
        let held = release.clone();
        let app: Router = Router::new()
            .route("/slow", axum::routing::get(move || async move { held.notified().await }))
            .route("/fast", axum::routing::get(|| async { "ok" }))
            .route("/api/live", axum::routing::get(|| async { "ok" }))
            .layer(axum::middleware::from_fn_with_state(state.clone(), admission))
            .with_state(state);
        let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();

        let slow = tokio::spawn(app.clone().oneshot(get("/slow")));
        // Once the slow request holds the one place, the next waits its 50 ms and is turned away.
        let mut turned_away = None;
        for _ in 0..100 {
            let res = app.clone().oneshot(get("/fast")).await.unwrap();
            if res.status() == StatusCode::SERVICE_UNAVAILABLE {
                turned_away = Some(res);
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let res = turned_away.expect("a request past capacity is answered 503");
        assert!(res.headers().contains_key(axum::http::header::RETRY_AFTER));
        let body = axum::body::to_bytes(res.into_body(), 10_000).await.unwrap();
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["code"], "busy");
        assert!(problem["detail"].as_str().unwrap().contains("Inget har sparats"));
        assert_eq!(app.clone().oneshot(get("/api/live")).await.unwrap().status(), StatusCode::OK, "liveness gets in");
        // A browser is shown a page that says so, in Swedish.
        let page = Request::get("/fast").header("accept", "text/html").body(Body::empty()).unwrap();
        let res = app.clone().oneshot(page).await.unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(res.headers().contains_key(axum::http::header::RETRY_AFTER));
        let html = String::from_utf8(axum::body::to_bytes(res.into_body(), 100_000).await.unwrap().to_vec()).unwrap();
        assert!(html.contains("fler anrop än det hinner med"), "{html}");

        // The slow request ends: its place serves the next one.
        release.notify_one();
        assert_eq!(slow.await.unwrap().unwrap().status(), StatusCode::OK);
        assert_eq!(app.clone().oneshot(get("/fast")).await.unwrap().status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn while_the_database_is_away_liveness_still_answers() {
        let dir = tempfile::tempdir().unwrap();
        let store = samverka_store::Store::connect(
            dir.path().join("t.db").to_str().unwrap(),
            samverka_store::Agreements::built_in(),
        )
        .await
        .unwrap();
        let state = AppState::new(store, Arc::new(SystemClock), AppConfig::default());
        // The breaker has just seen the database fail.
        let until = jiff::Timestamp::now().as_millisecond() + 60_000;
        state.db_outage.store(until, std::sync::atomic::Ordering::Relaxed);
        let app: Router = Router::new()
            .route("/api/cases", axum::routing::get(|| async { "ok" }))
            .route("/api/live", axum::routing::get(|| async { "ok" }))
            .layer(axum::middleware::from_fn_with_state(state.clone(), samverka_web::page_errors))
            .layer(axum::middleware::from_fn_with_state(state.clone(), database_breaker))
            .with_state(state);
        let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        let res = app.clone().oneshot(get("/api/cases")).await.unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(app.oneshot(get("/api/live")).await.unwrap().status(), StatusCode::OK, "no reason to restart");
    }
}
