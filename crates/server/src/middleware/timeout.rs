//! The request timeout (gunicorn's `--timeout`): a request still running after `SERVER.TIMEOUT`
//! is answered 503 `{"detail": ..., "code": "service_unavailable"}` and its handler dropped; one
//! whose handler was still waiting for the client's body, 408 `request_timeout` (the client
//! stalled, not the server).
//!
//! Run by `crate::middleware::stack`, innermost.
//!
//! gunicorn kills the whole worker to stop a stuck request; an async worker can abandon just that
//! request and keep serving the others. Work already handed to the blocking pool (a bcrypt hash)
//! runs to its end, but nobody waits for it.

use std::fmt;
use std::time::Duration;

use actix_web::http::header::{HeaderMap, CONTENT_LENGTH, TRANSFER_ENCODING, UPGRADE};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, ResponseError};

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

impl TimedOut {
    /// The answer for `method path` after `limit`; `awaiting_body` when its handler was waiting
    /// for the client's body (`auth::api::data::BodyProgress::reading`).
    pub fn new(limit: Duration, method: &Method, path: &str, awaiting_body: bool) -> TimedOut {
        TimedOut {
            limit,
            request: format!("{method} {path}"),
            awaiting_body,
        }
    }
}

/// Whether the request may have a body to wait for: one that declares it (`Content-Length`,
/// `Transfer-Encoding`) or upgrades the connection. Without one actix gives the handler an empty
/// payload, which is never waited for, so no `BodyProgress` is needed to tell a stall.
pub fn may_have_body(headers: &HeaderMap) -> bool {
    headers.contains_key(CONTENT_LENGTH)
        || headers.contains_key(TRANSFER_ENCODING)
        || headers.contains_key(UPGRADE)
}
