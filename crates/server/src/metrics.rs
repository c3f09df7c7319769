//! `/metrics` in Prometheus text format, and the middleware that counts and times every request
//! by route pattern, method and status. The series live in `auth::metrics::Metrics` (one set per
//! app state); auth events (logins, refreshes, blacklist hits, reuse) are recorded by the service.

use std::time::Instant;

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::{web, HttpResponse};

use auth::metrics::{PoolLevels, CONTENT_TYPE};
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

/// One request being timed: what its observation will be labelled with.
pub struct Timing {
    state: web::Data<AuthState>,
    route: String,
    method: &'static str,
    started: Instant,
}

/// Starts timing a request (`None` in an app without auth state). The route is the matched
/// pattern, never the raw path, which would give every probed URL a series of its own; the
/// pattern is known before routing runs.
pub fn start(req: &ServiceRequest) -> Option<Timing> {
    Some(Timing {
        state: req.app_data::<web::Data<AuthState>>()?.clone(),
        route: req.match_pattern().unwrap_or_else(|| UNMATCHED.to_owned()),
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
        };
        self.state.metrics.request(
            self.method,
            &self.route,
            status.as_u16(),
            self.started.elapsed().as_secs_f64(),
        );
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
