//! The app's Prometheus metrics: one registry per `AuthState`, the auth events the service
//! records into it, and the HTTP series the server's middleware records.
//!
//! One registry per state rather than the process-wide default one: each test app counts only its
//! own requests, and a state is already shared by every worker thread of a process.

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// Latency buckets in seconds: a login spends ~0.25 s in bcrypt by design, so the buckets reach
/// well past it; the default Prometheus buckets would lump most logins into one.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Which refresh view succeeded.
#[derive(Debug, Clone, Copy)]
pub enum Refresh {
    Pair,
    Sliding,
}

/// One request series pair (see [`Metrics::request_series`]): recording is two atomic updates.
#[derive(Clone)]
pub struct RequestSeries {
    requests: IntCounter,
    latency: Histogram,
}

impl RequestSeries {
    pub fn observe(&self, seconds: f64) {
        self.requests.inc();
        self.latency.observe(seconds);
    }
}

/// The metrics, or nothing when they could not be built (only a bad metric name can cause that,
/// and a unit test guards the names): an app without metrics still serves.
#[derive(Default)]
pub struct Metrics(Option<Series>);

struct Series {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    logins: IntCounterVec,
    refreshes: IntCounterVec,
    blacklist_hits: IntCounter,
    reuse: IntCounterVec,
    lockouts: IntCounterVec,
    lockout_refusals: IntCounter,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
}

impl Series {
    fn new() -> prometheus::Result<Series> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered."),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from request to response head.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["method", "route", "status"],
        )?;
        let logins = IntCounterVec::new(
            Opts::new(
                "auth_logins_total",
                "Logins on the token obtain views, by result.",
            ),
            &["result"],
        )?;
        let refreshes = IntCounterVec::new(
            Opts::new(
                "auth_token_refreshes_total",
                "Successful refreshes, by token kind.",
            ),
            &["kind"],
        )?;
        let blacklist_hits = IntCounter::new(
            "auth_blacklist_hits_total",
            "Tokens refused because they are blacklisted.",
        )?;
        let reuse = IntCounterVec::new(
            Opts::new(
                "auth_refresh_reuse_detections_total",
                "Rotated refresh tokens presented again, by what the reuse policy did.",
            ),
            &["outcome"],
        )?;
        let lockouts = IntCounterVec::new(
            Opts::new(
                "auth_lockouts_total",
                "Brute-force locks started, by what was locked (username or address).",
            ),
            &["scope"],
        )?;
        let lockout_refusals = IntCounter::new(
            "auth_lockout_refusals_total",
            "Password checks refused unchecked because the username or address was locked.",
        )?;
        let pool_connections = IntGauge::new(
            "db_pool_connections",
            "Database connections open in the pool.",
        )?;
        let pool_idle = IntGauge::new(
            "db_pool_idle_connections",
            "Open database connections not in use.",
        )?;
        let pool_max = IntGauge::new("db_pool_max_size", "The pool's connection limit.")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(logins.clone()))?;
        registry.register(Box::new(refreshes.clone()))?;
        registry.register(Box::new(blacklist_hits.clone()))?;
        registry.register(Box::new(reuse.clone()))?;
        registry.register(Box::new(lockouts.clone()))?;
        registry.register(Box::new(lockout_refusals.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        registry.register(Box::new(pool_max.clone()))?;
        // Series that exist from the start read 0 instead of being absent, so a dashboard's
        // rate() works before the first failure.
        for result in ["succeeded", "failed"] {
            logins.with_label_values(&[result]);
        }
        for kind in ["refresh", "sliding"] {
            refreshes.with_label_values(&[kind]);
        }
        for outcome in ["revoked", "tolerated"] {
            reuse.with_label_values(&[outcome]);
        }
        for scope in ["username", "address"] {
            lockouts.with_label_values(&[scope]);
        }
        Ok(Series {
            registry,
            requests,
            latency,
            logins,
            refreshes,
            blacklist_hits,
            reuse,
            lockouts,
            lockout_refusals,
            pool_connections,
            pool_idle,
            pool_max,
        })
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        match Series::new() {
            Ok(series) => Metrics(Some(series)),
            Err(e) => {
                log::error!("metrics disabled: {e}");
                Metrics(None)
            }
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.0.is_some()
    }

    /// One answered request; `route` is the matched pattern (bounded cardinality), never the path.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Some(s) = &self.0 {
            let status = status.to_string();
            let labels = [method, route, status.as_str()];
            s.requests.with_label_values(&labels).inc();
            s.latency.with_label_values(&labels).observe(seconds);
        }
    }

    /// The two series of one (method, route, status), resolved once so that a caller can keep
    /// them: `with_label_values` hashes the labels and takes a lock on every call.
    pub fn request_series(&self, method: &str, route: &str, status: u16) -> Option<RequestSeries> {
        let s = self.0.as_ref()?;
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        Some(RequestSeries {
            requests: s.requests.with_label_values(&labels),
            latency: s.latency.with_label_values(&labels),
        })
    }

    pub fn login(&self, succeeded: bool) {
        if let Some(s) = &self.0 {
            let result = if succeeded { "succeeded" } else { "failed" };
            s.logins.with_label_values(&[result]).inc();
        }
    }

    pub fn refreshed(&self, kind: Refresh) {
        if let Some(s) = &self.0 {
            let kind = match kind {
                Refresh::Pair => "refresh",
                Refresh::Sliding => "sliding",
            };
            s.refreshes.with_label_values(&[kind]).inc();
        }
    }

    pub fn blacklist_hit(&self) {
        if let Some(s) = &self.0 {
            s.blacklist_hits.inc();
        }
    }

    /// A rotated token presented again: `revoked` when its login family was ended.
    pub fn reuse_detected(&self, revoked: bool) {
        if let Some(s) = &self.0 {
            let outcome = if revoked { "revoked" } else { "tolerated" };
            s.reuse.with_label_values(&[outcome]).inc();
        }
    }

    /// A brute-force lock started on a `"username"` or an `"address"`.
    pub fn lockout_started(&self, scope: &str) {
        if let Some(s) = &self.0 {
            s.lockouts.with_label_values(&[scope]).inc();
        }
    }

    /// A password check refused because of a brute-force lock.
    pub fn lockout_refused(&self) {
        if let Some(s) = &self.0 {
            s.lockout_refusals.inc();
        }
    }

    /// The Prometheus text exposition, with the pool gauges read now (they are levels, so
    /// sampling them at scrape time is exact enough and costs nothing between scrapes).
    pub fn render(&self, pool: PoolLevels) -> String {
        let Some(s) = &self.0 else {
            return String::new();
        };
        s.pool_connections.set(i64::from(pool.connections));
        s.pool_idle.set(i64::from(pool.idle));
        s.pool_max.set(i64::from(pool.max_size));
        let mut out = String::new();
        if let Err(e) = TextEncoder::new().encode_utf8(&s.registry.gather(), &mut out) {
            log::error!("metrics encoding failed: {e}");
        }
        out
    }
}

/// The database pool's levels at scrape time (r2d2's `Pool::state()` and `max_size()`).
#[derive(Debug, Clone, Copy)]
pub struct PoolLevels {
    pub connections: u32,
    pub idle: u32,
    pub max_size: u32,
}

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_name_is_valid() {
        assert!(Metrics::new().is_enabled());
    }
}
