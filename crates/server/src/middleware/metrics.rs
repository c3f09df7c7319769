//! `/metrics` in Prometheus text format, and the middleware that counts and times every request
//! by route pattern, method and status. The series live in `auth::metrics::Metrics` (one set per
//! app state); auth events (logins, refreshes, blacklist hits, reuse) are recorded by the service.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::{web, HttpResponse};

use auth::metrics::{PoolLevels, RequestSeries, CONTENT_TYPE};
use auth::AuthState;

/// The route label of requests no route matched (404s of arbitrary paths): one series for all.
const UNMATCHED: &str = "unmatched";

/// Standard methods by name; anything else (actix accepts extension methods) is "other", so a
/// client cannot mint series.
fn method_label(method: &Method) -> &'static str {
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

/// Per request thread (one per `App` instance, so per metrics registry): the route label of each
/// static path already seen, and the series of each (method, route, status) already recorded.
/// Without it every request walked the routes (`match_pattern`, allocating the pattern) and
/// hashed its labels twice in `with_label_values`. Both maps are bounded by the route table:
/// only paths that are their own pattern are remembered, and series are keyed by pattern.
#[derive(Default)]
pub struct RouteCache {
    routes: RefCell<HashMap<String, Rc<str>>>,
    series: RefCell<HashMap<SeriesKey, RequestSeries>>,
}

/// More static paths than any route table here has: a bound, should a resource ever match
/// itself for an unbounded set of paths.
const MAX_CACHED_PATHS: usize = 512;

impl RouteCache {
    /// The route label: the matched pattern, never the raw path (which would give every probed
    /// URL a series of its own), or [`UNMATCHED`].
    fn route(&self, req: &ServiceRequest) -> Rc<str> {
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
}

/// One request being timed: what its observation will be labelled with.
pub struct Timing {
    state: web::Data<AuthState>,
    cache: Rc<RouteCache>,
    route: Rc<str>,
    method: &'static str,
    started: Instant,
}

/// Starts timing a request (`None` in an app without auth state). The pattern is known before
/// routing runs.
pub fn start(req: &ServiceRequest, cache: &Rc<RouteCache>) -> Option<Timing> {
    Some(Timing {
        state: req.app_data::<web::Data<AuthState>>()?.clone(),
        cache: Rc::clone(cache),
        route: cache.route(req),
        method: method_label(req.method()),
        started: Instant::now(),
    })
}

impl Timing {
    /// Records the answer: its status, and the time to the response head.
    pub fn finish<B>(self, result: &Result<ServiceResponse<B>, actix_web::Error>) {
        let status = match result {
            Ok(res) => res.status(),
            Err(e) => e.as_response_error().status_code(),
        }
        .as_u16();
        let seconds = self.started.elapsed().as_secs_f64();
        let key = (self.method, self.route, status);
        if let Some(series) = self.cache.series.borrow().get(&key) {
            series.observe(seconds);
            return;
        }
        let Some(series) = self.state.metrics.request_series(key.0, &key.1, status) else {
            return;
        };
        series.observe(seconds);
        self.cache.series.borrow_mut().insert(key, series);
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
