//! Health endpoints for load balancers and orchestrators: liveness and database readiness.

use actix_web::{web, HttpResponse};
use serde_json::json;

use auth::{ApiError, AuthState};

/// The process is up and answering.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers a query within the pool timeout; 503 otherwise.
async fn readyz(state: web::Data<AuthState>) -> Result<HttpResponse, ApiError> {
    state
        .with_conn(|conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute("SELECT 1")
                .map_err(|e| ApiError::Unavailable(e.to_string()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ok", "database": "ok" })))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}
