//! `/metrics` in Prometheus text format, and the middleware that counts and times every request
//! by route pattern, method and status. The series live in `auth::metrics::Metrics` (one set per
//! app state); auth events (logins, refreshes, blacklist hits, reuse) are recorded by the service.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

use actix_web::dev::ServiceRequest;
use actix_web::http::Method;
use actix_web::{web, HttpResponse};

use auth::metrics::{PoolLevels, RequestSeries, CONTENT_TYPE};
use auth::AuthState;

/// The route label of requests no route matched (404s of arbitrary paths): one series for all.
const UNMATCHED: &str = "unmatched";

/// Standard methods by name; anything else (actix accepts extension methods) is "other", so a
/// client cannot mint series.
pub(crate) fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Method label, route label, status.
type SeriesKey = (&'static str, Rc<str>, u16);

/// FNV-1a: the keys are a few short strings of our own route table, hashed on every request;
/// the default SipHash (built against hostile keys) cost several times as much. A client picks
/// the path, but only paths that are their own route pattern are stored (at most
/// [`MAX_CACHED_PATHS`]), so there is nothing to flood.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &byte in bytes {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// Per request thread (one per `App` instance, so per metrics registry): the route label of each
/// static path already seen, and the series of each (method, route, status) already recorded.
/// Without it every request walked the routes (`match_pattern`, allocating the pattern) and
/// hashed its labels twice in `with_label_values`. Both maps are bounded by the route table:
/// only paths that are their own pattern are remembered, and series are keyed by pattern.
#[derive(Default)]
pub struct RouteCache {
    routes: RefCell<FnvMap<String, Rc<str>>>,
    series: RefCell<FnvMap<SeriesKey, RequestSeries>>,
}

/// More static paths than any route table here has: a bound, should a resource ever match
/// itself for an unbounded set of paths.
const MAX_CACHED_PATHS: usize = 512;

impl RouteCache {
    /// The route label: the matched pattern, never the raw path (which would give every probed
    /// URL a series of its own), or [`UNMATCHED`].
    pub fn route(&self, req: &ServiceRequest) -> Rc<str> {
        let path = req.path();
        if let Some(route) = self.routes.borrow().get(path) {
            return Rc::clone(route);
        }
        match req.match_pattern() {
            Some(pattern) if pattern == path => {
                let route: Rc<str> = pattern.into();
                let mut routes = self.routes.borrow_mut();
                if routes.len() < MAX_CACHED_PATHS {
                    routes.insert(path.to_owned(), Rc::clone(&route));
                }
                route
            }
            Some(pattern) => pattern.into(),
            None => UNMATCHED.into(),
        }
    }

    /// Records an answer: its (method, route, status) series, and the time to the response head.
    /// The series is resolved once per thread and kept.
    pub fn observe(
        &self,
        state: &AuthState,
        method: &'static str,
        route: Rc<str>,
        status: u16,
        seconds: f64,
    ) {
        let key = (method, route, status);
        if let Some(series) = self.series.borrow().get(&key) {
            series.observe(seconds);
            return;
        }
        let Some(series) = state.metrics.request_series(key.0, &key.1, status) else {
            return;
        };
        series.observe(seconds);
        self.series.borrow_mut().insert(key, series);
    }
}

async fn metrics(state: web::Data<AuthState>) -> HttpResponse {
    let pool = state.pool.state();
    let levels = PoolLevels {
        connections: pool.connections,
        idle: pool.idle_connections,
        max_size: state.pool.max_size(),
    };
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(state.metrics.render(levels))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics));
}
