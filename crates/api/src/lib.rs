//! Samverka's HTTP layer: the JSON API under `/api`, its OpenAPI document, and the plumbing
//! (limits, time-outs, tracing) around it.
//!
//! Architecture invariant: handlers translate HTTP to domain commands and back. Rules live in
//! `samverka-domain`, SQL in `samverka-store`; nothing here decides what is allowed.

pub mod clock;
pub mod extract;
pub mod openapi;
pub mod problem;
mod routes;
pub mod views;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use samverka_store::Store;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use clock::{Clock, ManualClock, SystemClock};
pub use problem::{ApiError, ProblemDetails};

/// Largest request body accepted (a long SIP fits many times over).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Settings the HTTP layer needs.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Accept the development login (user and unit named in headers). Off in production.
    pub dev_login: bool,
    /// The agreement applied to cases of wards whose region names none.
    pub default_agreement: String,
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<ApiConfig>,
}

impl AppState {
    pub fn new(store: Store, clock: Arc<dyn Clock>, config: ApiConfig) -> Self {
        AppState { store, clock, config: Arc::new(config) }
    }
}

/// The whole application as one router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(routes::router())
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_such_address",
                "Adressen finns inte i Samverka. Kontrollera länken.",
                "No such address.",
            )
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Den här adressen tar inte emot den sortens anrop.",
                "Method not allowed for this address.",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30)))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A bug must not cut the connection without an answer: log it and answer 500 as a problem.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = what, "handler panicked");
    axum::response::IntoResponse::into_response(ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "Ett oväntat fel inträffade. Inget har sparats. Kontakta support om det upprepas.",
        "An unexpected error occurred. Nothing was saved.",
    ))
}

/// Serves until `shutdown` resolves, finishing requests already under way.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}
