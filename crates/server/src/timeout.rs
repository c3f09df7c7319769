//! The request timeout (gunicorn's `--timeout`): a request still running after `SERVER.TIMEOUT`
//! is answered 503 `{"detail": ..., "code": "service_unavailable"}` and its handler dropped.
//!
//! gunicorn kills the whole worker to stop a stuck request; an async worker can abandon just that
//! request and keep serving the others. Work already handed to the blocking pool (a bcrypt hash)
//! runs to its end, but nobody waits for it.

use std::fmt;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};

use auth::ApiError;

/// The 503 a timed-out request gets. It travels as an error because the request itself went
/// down with the abandoned handler (actix cannot hand it back), so it carries the security
/// headers that `crate::headers::finish` adds to ordinary responses.
#[derive(Debug)]
pub struct TimedOut {
    limit: Duration,
    request: String,
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} exceeded the {:?} request timeout",
            self.request, self.limit
        )
    }
}

impl ResponseError for TimedOut {
    fn status_code(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = ApiError::Unavailable(self.to_string()).error_response();
        crate::headers::add_security_headers(res.headers_mut());
        res
    }
}

/// Middleware; a zero `limit` means no limit.
pub async fn middleware<B: MessageBody>(
    limit: Duration,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    if limit.is_zero() {
        return next.call(req).await;
    }
    // Cheap clones (the path shares the request's bytes): formatted only if the time runs out.
    let (method, uri) = (req.method().clone(), req.uri().clone());
    match actix_web::rt::time::timeout(limit, next.call(req)).await {
        Ok(result) => result,
        Err(_elapsed) => Err(TimedOut {
            limit,
            request: format!("{method} {}", uri.path()),
        }
        .into()),
    }
}
