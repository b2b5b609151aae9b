//! The application's state: what every front end holds and every application call is given.

use std::sync::{Arc, OnceLock};

use samverka_store::Store;

use crate::clock::{Clock, DemoClock};
use crate::config::{AppConfig, FeedSettings};
use crate::live::{Announcements, LiveUpdates};

/// The admission feed, once it is configured: its settings, and the turn that lets one
/// message be processed at a time (see `feed`).
pub struct FeedState {
    pub settings: FeedSettings,
    pub turn: tokio::sync::Mutex<()>,
}

/// What every request is given. Cloned several times per request (by each extractor and
/// middleware), so it is one shared pointer: see [`Shared`] for its parts.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of the application's state.
pub struct Shared {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<AppConfig>,
    /// Changes to cases, for the live updates of open pages.
    pub live: Arc<LiveUpdates>,
    /// Changes to cases, for the other processes on the same database.
    pub announcements: Arc<Announcements>,
    /// The admission feed, when configured (set once at start).
    pub feed: Arc<OnceLock<FeedState>>,
    /// Woken whenever a case changes, so subscription notifications go out at once.
    pub wake: Arc<tokio::sync::Notify>,
    /// The demo's movable clock (`serve --demo` on demo data only); none in production.
    pub demo_clock: Option<Arc<DemoClock>>,
    /// Until when (milliseconds since the epoch) requests are answered 503 at once, because
    /// the database was just found unreachable (the server's database breaker).
    pub db_outage: Arc<std::sync::atomic::AtomicI64>,
    /// Places for requests being served (the server's admission control).
    pub admission: Arc<tokio::sync::Semaphore>,
    /// The process's metrics (`/metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Serving, or on its way out (SIGTERM): see [`Lifecycle`].
    pub lifecycle: Arc<tokio::sync::watch::Sender<Lifecycle>>,
}

/// Where a process is in its life. On SIGTERM it first answers not-ready while it goes on
/// serving (so that the load balancer sends no more), then closes its live streams (so that
/// browsers reconnect to another process) and finishes the requests under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Serving,
    Draining,
    Closing,
}

impl AppState {
    pub fn new(store: Store, clock: Arc<dyn Clock>, config: AppConfig) -> Self {
        Self::with_demo_clock(store, clock, config, None)
    }

    fn with_demo_clock(
        store: Store,
        clock: Arc<dyn Clock>,
        config: AppConfig,
        demo_clock: Option<Arc<DemoClock>>,
    ) -> Self {
        AppState(Arc::new(Shared {
            store,
            clock,
            admission: Arc::new(tokio::sync::Semaphore::new(config.max_in_flight.max(1))),
            config: Arc::new(config),
            live: Arc::default(),
            announcements: Arc::default(),
            feed: Arc::default(),
            wake: Arc::default(),
            db_outage: Arc::default(),
            demo_clock,
            metrics: Arc::default(),
            lifecycle: Arc::new(tokio::sync::watch::Sender::new(Lifecycle::Serving)),
        }))
    }

    pub fn lifecycle(&self) -> Lifecycle {
        *self.lifecycle.borrow()
    }

    pub fn set_lifecycle(&self, to: Lifecycle) {
        self.lifecycle.send_replace(to);
    }

    /// The state of a demo server, whose clock can be moved forward (see [`DemoClock`]).
    pub fn demo(store: Store, config: AppConfig) -> Self {
        let clock = Arc::new(DemoClock::default());
        AppState::with_demo_clock(store, clock.clone(), config, Some(clock))
    }

    /// Turns the admission feed on with `settings` (once, at start).
    pub fn start_feed(&self, settings: FeedSettings) {
        let _ = self.feed.set(FeedState { settings, turn: tokio::sync::Mutex::new(()) });
    }

    /// Tells open pages of the case's parties that it changed (nobody listening is fine),
    /// on this process and the others.
    pub fn changed(&self, case: &samverka_domain::case::Case) {
        self.changed_for(case.id, case.parties.iter().map(|p| p.unit.id).collect());
    }

    /// Tells open pages of `units` that case `case_id` changed, on this process and the others.
    pub fn changed_for(&self, case_id: uuid::Uuid, units: Vec<uuid::Uuid>) {
        self.live.changed(&self.store, case_id, units.iter().copied());
        self.announcements.push(samverka_store::CaseChange { case_id, units });
        self.wake.notify_one();
    }
}
