//! The request timeout (gunicorn's `--timeout`): a request still running after `SERVER.TIMEOUT`
//! is answered 503 `{"detail": ..., "code": "service_unavailable"}` and its handler dropped; one
//! whose handler was still waiting for the client's body, 408 `request_timeout` (the client
//! stalled, not the server).
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
use actix_web::{HttpMessage as _, HttpResponse, ResponseError};

use auth::api::data::BodyProgress;

use auth::ApiError;

/// The answer a timed-out request gets. It travels as an error because the request itself went
/// down with the abandoned handler (actix cannot hand it back), so it carries the security
/// headers that `crate::middleware::headers::finish` adds to ordinary responses.
#[derive(Debug)]
pub struct TimedOut {
    limit: Duration,
    request: String,
    /// The handler was waiting for the client's body: 408, the client's stall. Else 503.
    awaiting_body: bool,
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} exceeded the {:?} request timeout",
            self.request, self.limit
        )?;
        if self.awaiting_body {
            write!(f, " waiting for the client's body")?;
        }
        Ok(())
    }
}

impl TimedOut {
    fn as_api_error(&self) -> ApiError {
        if self.awaiting_body {
            ApiError::RequestTimeout(self.limit)
        } else {
            ApiError::Unavailable(self.to_string())
        }
    }
}

impl ResponseError for TimedOut {
    fn status_code(&self) -> StatusCode {
        self.as_api_error().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        if self.awaiting_body {
            log::info!("answering 408: {self}");
        }
        let mut res = self.as_api_error().error_response();
        crate::middleware::headers::add_security_headers(res.headers_mut());
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
    let progress = BodyProgress::default();
    req.extensions_mut().insert(progress.clone());
    match actix_web::rt::time::timeout(limit, next.call(req)).await {
        Ok(result) => result,
        Err(_elapsed) => Err(TimedOut {
            limit,
            request: format!("{method} {}", uri.path()),
            awaiting_body: progress.reading(),
        }
        .into()),
    }
}
