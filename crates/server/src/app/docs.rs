//! `/api/docs/`: Swagger UI on our schema, every byte served by this binary (the assets are the
//! npm package `swagger-ui-dist`, vendored under `assets/swagger-ui/` and embedded at build time).

use actix_web::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY};
use actix_web::{web, HttpResponse};

const INDEX: &str = include_str!("../../assets/docs/index.html");
const INIT_JS: &str = include_str!("../../assets/docs/init.js");
const BUNDLE_JS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js");
const CSS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css");

/// Only our own origin: a page that tried to reach a CDN would show it in the browser test.
/// Swagger UI sets inline styles and uses data: images, hence those two allowances.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; connect-src 'self'; font-src 'self'; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const JS: &str = "text/javascript; charset=utf-8";

async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((CONTENT_SECURITY_POLICY, CSP))
        .body(INDEX)
}

/// An embedded asset; cacheable for a day (they change only with a new build).
fn asset(content_type: &'static str, body: &'static [u8]) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((CACHE_CONTROL, "public, max-age=86400"))
        .body(body)
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/docs/", web::get().to(index))
        .route(
            "/api/docs/assets/swagger-ui-bundle.js",
            web::get().to(|| async { asset(JS, BUNDLE_JS) }),
        )
        .route(
            "/api/docs/assets/swagger-ui.css",
            web::get().to(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/api/docs/assets/init.js",
            web::get().to(|| async { asset(JS, INIT_JS.as_bytes()) }),
        );
}
