//! Health endpoints for load balancers and orchestrators: liveness, and readiness (this worker is
//! not stopping, the database answers with its schema up to date, a Redis cache answers).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use auth::limits::redis_cache::RedisCache;
use auth::{ApiError, AuthState};

/// The process is up and answering.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Whether this process has said why it is not ready (a log line, not state that decides).
static WARNED: AtomicBool = AtomicBool::new(false);

/// What `/readyz` keeps between probes, per request thread: the Redis client it pings, made on
/// the first probe, with a breaker of its own (see [`RedisCache::for_readiness`]).
#[derive(Default)]
struct Readiness {
    /// `None`: the cache is in the process. `Err`: the URL the client refused.
    cache: OnceLock<Option<Result<RedisCache, String>>>,
}

impl Readiness {
    fn cache(&self, caches: &settings::Caches) -> Option<&Result<RedisCache, String>> {
        self.cache
            .get_or_init(|| {
                auth::limits::redis_cache::client(caches).map(|client| {
                    client
                        .map(RedisCache::for_readiness)
                        .map_err(|e| e.to_string())
                })
            })
            .as_ref()
    }
}

/// 503 in DRF's shape, with `Retry-After`, and `checks` saying which failed.
fn not_ready(detail: &str, checks: Value) -> HttpResponse {
    let mut body = json!({
        "detail": detail,
        "code": "service_unavailable",
        "status": "unavailable",
    });
    if let (Some(body), Value::Object(checks)) = (body.as_object_mut(), checks) {
        body.extend(checks);
    }
    HttpResponse::ServiceUnavailable()
        .insert_header((header::RETRY_AFTER, "5"))
        .json(body)
}

/// Ready when this worker is not stopping, the database answers a query within the pool timeout
/// and its schema has every migration this binary embeds (a database without tables would answer
/// every login with an error), and a Redis `CACHES.URL` answers a PING within 0.5 s (while it
/// does not, each process counts throttles and lockouts on its own); 503 otherwise, naming which.
async fn readyz(
    state: web::Data<AuthState>,
    readiness: web::Data<Readiness>,
) -> Result<HttpResponse, ApiError> {
    // A keep-alive connection to a worker whose graceful stop began (`crate::prefork::drain`): a load
    // balancer still probing through it takes the worker out of rotation.
    if crate::prefork::drain::draining() {
        return Ok(not_ready(
            "This worker is shutting down.",
            json!({ "worker": "draining" }),
        ));
    }
    let unapplied = state
        .with_conn(|conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute("SELECT 1")
                .map_err(|e| ApiError::Unavailable(e.to_string()))?;
            Ok(users::migrations::unapplied(conn)?)
        })
        .await?;
    if !unapplied.is_empty() {
        // Once per process, not on every probe.
        if !WARNED.swap(true, Ordering::Relaxed) {
            log::warn!(
                "not ready: {} database migration(s) not applied ({}); run `manage migrate`",
                unapplied.len(),
                unapplied.join(", ")
            );
        }
        return Ok(not_ready(
            "The database schema is not up to date: run `manage migrate`.",
            json!({ "database": "migrations not applied" }),
        ));
    }
    let Some(cache) = readiness.cache(&state.settings.caches) else {
        return Ok(HttpResponse::Ok().json(json!({ "status": "ok", "database": "ok" })));
    };
    let reachable = match cache {
        Ok(cache) => cache.reachable().await,
        // Already logged at startup by the throttles, which count in-process.
        Err(_) => false,
    };
    if !reachable {
        return Ok(not_ready(
            "The cache (Redis, CACHES.URL) does not answer: throttles and lockouts count in each process until it does.",
            json!({ "database": "ok", "cache": "unreachable" }),
        ));
    }
    Ok(HttpResponse::Ok().json(json!({ "status": "ok", "database": "ok", "cache": "ok" })))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(Readiness::default()))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}
