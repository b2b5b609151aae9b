//! The process's metrics, in Prometheus's text format (`prometheus-client`): requests by
//! route and status with their time, database connections, open live streams, HL7 messages by
//! answer, the durable queues and the group commits. Labels are route templates and codes,
//! never ids, so their number stays bounded. Served only on the address `metrics_listen`
//! names (see the server), never where users arrive.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use samverka_store::Store;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    queue: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LogLabels {
    log: &'static str,
}

type Durations = Family<RouteLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Durations,
    live_streams: Gauge,
    hl7: Family<CodeLabels, Counter>,
    pool: Family<QueueLabels, Gauge>,
    backlog: Family<QueueLabels, Gauge>,
    commits: Family<LogLabels, Counter>,
    committed: Family<LogLabels, Counter>,
}

fn request_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("samverka");
        let m = Metrics {
            requests: Family::default(),
            durations: Family::new_with_constructor(request_histogram as fn() -> Histogram),
            live_streams: Gauge::default(),
            hl7: Family::default(),
            pool: Family::default(),
            backlog: Family::default(),
            commits: Family::default(),
            committed: Family::default(),
            registry: Registry::default(),
        };
        registry.register("http_requests", "HTTP requests answered, by route template and status", m.requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time from request to answer, by route template",
            m.durations.clone(),
        );
        registry.register("live_streams", "Open live-update streams (pages listening)", m.live_streams.clone());
        registry.register("hl7_messages", "HL7 messages answered, by acknowledgement code", m.hl7.clone());
        registry.register("db_connections", "Database connections: open, idle and the most allowed", m.pool.clone());
        registry.register("backlog", "Durable queues: items due now", m.backlog.clone());
        registry.register("group_commits", "Group commits made", m.commits.clone());
        registry.register("group_commit_entries", "Entries those group commits carried", m.committed.clone());
        Metrics { registry, ..m }
    }
}

/// Held by an open live stream; counted until dropped.
pub struct LiveStream(std::sync::Arc<Metrics>);

impl Drop for LiveStream {
    fn drop(&mut self) {
        self.0.live_streams.dec();
    }
}

impl Metrics {
    /// One answered request; `route` is the route template (`/api/cases/{id}`), or
    /// "unmatched".
    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let (method, route) = (method.to_string(), route.to_string());
        self.durations
            .get_or_create(&RouteLabels { method: method.clone(), route: route.clone() })
            .observe(took.as_secs_f64());
        self.requests.get_or_create(&RequestLabels { method, route, status }).inc();
    }

    /// One HL7 answer sent (AA, AE or AR).
    pub fn hl7_answer(&self, code: &str) {
        self.hl7.get_or_create(&CodeLabels { code: code.to_string() }).inc();
    }

    /// An open live stream, for as long as the returned guard lives.
    pub fn live_stream(self: &std::sync::Arc<Self>) -> LiveStream {
        self.live_streams.inc();
        LiveStream(self.clone())
    }
}

/// The metrics as Prometheus text, with the database's figures read now.
pub async fn render(m: &Metrics, store: &Store) -> String {
    let pool = store.pool_use();
    for (name, v) in [("open", pool.open), ("idle", pool.idle), ("max", pool.max)] {
        m.pool.get_or_create(&QueueLabels { queue: name }).set(i64::from(v));
    }
    match store.backlog(jiff::Timestamp::now()).await {
        Ok(b) => {
            for (name, v) in [
                ("mail", b.mail),
                ("subscription_deliveries", b.subscription_deliveries),
                ("hl7_unprocessed", b.hl7_unprocessed),
            ] {
                m.backlog.get_or_create(&QueueLabels { queue: name }).set(v);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: the queues could not be counted"),
    }
    let g = store.group_commits();
    let catch_up = |c: &Counter, to: u64| {
        let now = c.get();
        if to > now {
            c.inc_by(to - now);
        }
    };
    catch_up(&m.commits.get_or_create(&LogLabels { log: "access_log" }), g.access_log_commits);
    catch_up(&m.committed.get_or_create(&LogLabels { log: "access_log" }), g.access_log_entries);
    catch_up(&m.commits.get_or_create(&LogLabels { log: "commands" }), g.command_commits);
    catch_up(&m.committed.get_or_create(&LogLabels { log: "commands" }), g.command_entries);
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &m.registry) {
        tracing::warn!(error = %e, "metrics could not be written");
    }
    out
}
