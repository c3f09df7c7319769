//! Health endpoints for load balancers and orchestrators: liveness and database readiness.

use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::json;

use auth::{ApiError, AuthState};

/// The process is up and answering.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Whether this process has said why it is not ready (a log line, not state that decides).
static WARNED: AtomicBool = AtomicBool::new(false);

/// Ready when the database answers a query within the pool timeout and its schema has every
/// migration this binary embeds (a database without tables would answer every login with an
/// error); 503 otherwise, saying which.
async fn readyz(state: web::Data<AuthState>) -> Result<HttpResponse, ApiError> {
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
        return Ok(HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, "5"))
            .json(json!({
                "detail": "The database schema is not up to date: run `manage migrate`.",
                "code": "service_unavailable",
                "status": "unavailable",
                "database": "migrations not applied",
            })));
    }
    Ok(HttpResponse::Ok().json(json!({ "status": "ok", "database": "ok" })))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}
