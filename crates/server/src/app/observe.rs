//! What the app mounts to describe and observe itself, composed for `startup`: the API root, the
//! OpenAPI document, the docs page and `/metrics` (the request id and the metrics of every
//! request are `crate::middleware::stack`'s).

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(crate::app::root::configure)
        .configure(crate::app::openapi::configure)
        .configure(crate::app::docs::configure)
        .configure(crate::middleware::metrics::configure);
}
