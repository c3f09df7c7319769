//! `/api/schema/`: the OpenAPI 3 document, generated from the handlers' `#[utoipa::path]`
//! attributes and body types (see `auth::views::openapi`), serialised once per process.

use std::sync::OnceLock;

use actix_web::{web, HttpResponse};
use utoipa::OpenApi;

/// The document as JSON. It depends on the code only (never on settings), so it is built on
/// first use and shared.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| match auth::views::openapi::ApiDoc::openapi().to_json() {
        Ok(json) => json,
        Err(e) => {
            // Cannot happen for a derived document; answer an empty object rather than panic.
            log::error!("OpenAPI document failed to serialise: {e}");
            "{}".to_owned()
        }
    })
}

async fn schema() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document_json())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/schema/", web::get().to(schema));
}
