//! The whole middleware stack as one actix layer: gunicorn's request limits, the proxy (client
//! address and scheme), the request id, metrics, the access line, the request timeout and the
//! headers every answer carries, in that order from the outside in.
//!
//! They were six `from_fn` layers; each layer costs every request a boxed future of the next
//! layer and a service call, and they handed each other what they knew through the request's
//! extensions (a boxed value and a hash insert each, then the clearing). Here they share locals:
//! only what code outside the stack reads goes into the extensions (the client address for the
//! throttles, and the body progress for a request that has a body).

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use actix_web::body::{BodySize, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{REFERER, USER_AGENT};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage as _, ResponseError as _};

use auth::api::data::BodyProgress;
use auth::AuthState;
use settings::TrustedProxy;

use crate::middleware::access_log::{self, AccessLog, Entry};
use crate::middleware::metrics::{method_label, RouteCache};
use crate::middleware::request_id::{RequestId, HEADER as REQUEST_ID};
use crate::middleware::request_limits::RequestLimits;
use crate::middleware::timeout::{may_have_body, TimedOut};

/// What the stack needs, per request thread (`app::startup` builds one per `App`).
pub struct Stack {
    pub limits: RequestLimits,
    pub trusted: Box<[TrustedProxy]>,
    pub access_log: Arc<AccessLog>,
    /// `SERVER.TIMEOUT`; zero is no limit.
    pub timeout: Duration,
    pub state: web::Data<AuthState>,
    pub routes: RouteCache,
}

/// The middleware; see the module documentation for the order.
pub async fn middleware<B: MessageBody + 'static>(
    stack: Rc<Stack>,
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    // gunicorn's limits: the head as the client sent it, before the proxy step rewrites it.
    let refused = stack
        .limits
        .check(req.method(), req.uri(), req.headers())
        .err();
    let info = crate::middleware::proxy::apply(&mut req, &stack.trusted);
    let id = RequestId::choose(req.headers().get(REQUEST_ID));
    let route = stack.routes.route(&req);
    let method_name = method_label(req.method());
    let started = Instant::now();
    let logging = !stack.access_log.is_off();
    let time = if logging {
        SystemTime::now()
    } else {
        SystemTime::UNIX_EPOCH
    };
    // Cheap clones (shared bytes): the access line and a timeout's message are made of them
    // after the request itself went to the handler.
    let method = req.method().clone();
    let uri = req.uri().clone();
    let version = req.version();
    let (referer, user_agent) = if logging {
        (
            access_log::header(req.headers(), REFERER),
            access_log::header(req.headers(), USER_AGENT),
        )
    } else {
        (None, None)
    };

    let result = match refused {
        // Answered before routing and before the body is read; logged, with the common headers.
        Some(refused) => Ok(req
            .into_response(refused.error_response())
            .map_into_right_body()),
        None => call_with_timeout(stack.timeout, req, &next, &method, uri.path())
            .await
            .map(ServiceResponse::map_into_left_body),
    };
    let duration = started.elapsed();

    let (status, size) = match &result {
        Ok(res) => (
            res.status(),
            match res.response().body().size() {
                BodySize::Sized(n) => Some(n),
                BodySize::None | BodySize::Stream => None,
            },
        ),
        Err(e) => (e.as_response_error().status_code(), None),
    };
    let status = status.as_u16();
    if logging {
        stack.access_log.record(&Entry {
            client: info.addr,
            time,
            method: method.as_str(),
            target: uri
                .path_and_query()
                .map_or_else(|| uri.path(), |pq| pq.as_str()),
            version,
            status,
            size,
            referer: access_log::text(referer.as_ref()),
            user_agent: access_log::text(user_agent.as_ref()),
            duration,
            request_id: Some(id.as_str()),
        });
    }
    stack.routes.observe(
        &stack.state,
        method_name,
        route,
        status,
        duration.as_secs_f64(),
    );

    // An error (a timed-out request) carries its own headers and no request id.
    let mut res = result?;
    let headers = res.headers_mut();
    headers.reserve(1 + crate::middleware::headers::SECURITY_HEADERS.len());
    id.echo(headers);
    crate::middleware::headers::finish(&mut res);
    Ok(res)
}

/// The request timeout (gunicorn's `--timeout`, `crate::middleware::timeout`): innermost.
async fn call_with_timeout<B: MessageBody>(
    limit: Duration,
    req: ServiceRequest,
    next: &Next<B>,
    method: &actix_web::http::Method,
    path: &str,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    if limit.is_zero() {
        return next.call(req).await;
    }
    let progress = may_have_body(req.headers()).then(|| {
        let progress = BodyProgress::default();
        req.extensions_mut().insert(progress.clone());
        progress
    });
    match actix_web::rt::time::timeout(limit, next.call(req)).await {
        Ok(result) => result,
        Err(_elapsed) => {
            let awaiting_body = progress.is_some_and(|p| p.reading());
            Err(TimedOut::new(limit, method, path, awaiting_body).into())
        }
    }
}
