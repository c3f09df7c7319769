//! What the app mounts to describe and observe itself, composed for `startup`: the API root, the
//! OpenAPI document, the docs page, `/metrics`, and the request-id and metrics middleware.

use std::rc::Rc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(crate::app::root::configure)
        .configure(crate::app::openapi::configure)
        .configure(crate::app::docs::configure)
        .configure(crate::middleware::metrics::configure);
}

/// Middleware: the request id is assigned before anything inner runs (so the access log can
/// print it), the request is timed, and the id is echoed on the response.
pub async fn middleware(
    routes: Rc<crate::middleware::metrics::RouteCache>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = crate::middleware::request_id::assign(&req);
    let timing = crate::middleware::metrics::start(&req, &routes);
    let result = next.call(req).await;
    if let Some(timing) = timing {
        timing.finish(&result);
    }
    let mut res = result?;
    crate::middleware::request_id::echo(&mut res, &id);
    crate::middleware::headers::finish(&mut res);
    Ok(res)
}
