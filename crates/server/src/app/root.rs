//! `GET /`: the API root. DRF's browsable API answers its root with the endpoints it serves; this
//! is that as JSON, so that whoever opens the bare address finds the docs instead of a 404.

use actix_web::{web, HttpResponse};
use serde_json::json;

async fn index() -> HttpResponse {
    // Paths, not absolute URLs: behind a proxy the host this process sees may not be the public one.
    HttpResponse::Ok().json(json!({
        "docs": "/api/docs/",
        "schema": "/api/schema/",
        "token_obtain_pair": "/api/token/",
        "token_refresh": "/api/token/refresh/",
        "token_verify": "/api/token/verify/",
        "token_blacklist": "/api/token/blacklist/",
        "me": "/api/me/",
    }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index));
}
