//! Every error a client can see, and its one mapping to a status and a DRF-shaped JSON body.

use actix_web::http::header::{self, HeaderValue, WWW_AUTHENTICATE};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Map, Value};

use crate::tokens::{TokenError, TokenKind};

/// One entry of "messages" in an authentication failure: which token class refused and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenMessage {
    pub kind: TokenKind,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `{"field": ["message", ...], ...}` (serializer field errors, in field order).
    #[error("invalid fields")]
    Fields(Map<String, Value>),
    /// 400 `{"non_field_errors": ["message"]}`.
    #[error("{0}")]
    NonField(String),
    /// 400 `{"detail": "JSON parse error - ..."}`.
    #[error("{0}")]
    Parse(String),
    /// 401 `{"detail": "..."}` — DRF's own AuthenticationFailed, which shows no code.
    #[error("{0}")]
    AuthenticationFailed(&'static str),
    /// 401 `{"detail": "...", "code": "..."}` — simplejwt's AuthenticationFailed and InvalidToken.
    #[error("{detail}")]
    AuthenticationFailedCode { detail: String, code: &'static str },
    /// 401 `{"detail": "Given token not valid for any token type", "code": ..., "messages": [...]}`.
    #[error("Given token not valid for any token type")]
    NoValidToken(Vec<TokenMessage>),
    /// 401 (403 when no authentication class is configured) `{"detail": "Authentication credentials were not provided."}`.
    #[error("Authentication credentials were not provided.")]
    NotAuthenticated,
    /// One of the 401s above with the `WWW-Authenticate` value it answers with, attached where
    /// the 401 was raised (`ApiError::challenged`): the view that refused knows which challenge
    /// is its own (`authn::challenge`). A 401 without one answers without the header.
    #[error("{error}")]
    Challenged {
        error: Box<ApiError>,
        challenge: HeaderValue,
    },
    /// 403 `{"detail": "You do not have permission to perform this action."}`.
    #[error("You do not have permission to perform this action.")]
    PermissionDenied,
    /// 403 `{"detail": "...", "code": "..."}`: a PermissionDenied with its own message, e.g.
    /// dj-rest-auth's "CSRF Failed: ...".
    #[error("{detail}")]
    Forbidden { detail: String, code: &'static str },
    #[error("Not found.")]
    NotFound,
    /// 429 `{"detail": "Request was throttled. Expected available in N seconds."}` + Retry-After.
    #[error("Request was throttled.")]
    Throttled { wait: Option<u64> },
    /// 429 `{"detail": "Too many failed login attempts. Expected available in N seconds.",
    /// "code": "throttled"}` + Retry-After: a username or client address locked by
    /// `brute_force`, whether or not the user exists.
    #[error("Too many failed login attempts.")]
    LockedOut { wait: u64 },
    #[error("Method {method:?} not allowed.")]
    MethodNotAllowed { method: String, allow: &'static str },
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("Unsupported media type {0:?} in request.")]
    UnsupportedMediaType(String),
    /// 408 `{"detail": "...", "code": "request_timeout"}`: the client did not send the body it
    /// announced within SERVER.TIMEOUT (its fault, not the server's: no 503).
    #[error("request body not received within {0:?}")]
    RequestTimeout(std::time::Duration),
    /// 414 `{"detail": "Request line is too large (N > LIMIT).", "code":
    /// "request_line_too_large"}`: gunicorn's `limit_request_line` (its message).
    #[error("Request line is too large ({length} > {limit}).")]
    RequestLineTooLarge { length: usize, limit: usize },
    /// 431 `{"detail": "...", "code": "request_header_fields_too_large"}`: gunicorn's
    /// `limit_request_fields` and `limit_request_field_size`.
    #[error("{0}")]
    HeaderFieldsTooLarge(String),
    /// 503: the database cannot be reached within the pool timeout.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 500 with an opaque body; the cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A simplejwt token error on refresh/verify/blacklist: 401 with code `token_not_valid`.
    pub fn token(e: &TokenError) -> Self {
        ApiError::AuthenticationFailedCode {
            detail: e.to_string(),
            code: "token_not_valid",
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }

    /// This error answering with `challenge` as its `WWW-Authenticate`, when it is a 401 (DRF
    /// sends the header with every 401 and with nothing else). A 401 that carries a challenge
    /// already keeps it: it was decided nearer to where the 401 was raised.
    pub fn challenged(self, challenge: Option<HeaderValue>) -> Self {
        match challenge {
            Some(challenge)
                if self.status_code() == StatusCode::UNAUTHORIZED
                    && !matches!(self, ApiError::Challenged { .. }) =>
            {
                ApiError::Challenged {
                    error: Box::new(self),
                    challenge,
                }
            }
            _ => self,
        }
    }

    /// The `WWW-Authenticate` value this error answers with, if any.
    pub fn challenge(&self) -> Option<&HeaderValue> {
        match self {
            ApiError::Challenged { challenge, .. } => Some(challenge),
            _ => None,
        }
    }

    fn body(&self) -> Value {
        match self {
            ApiError::Challenged { error, .. } => error.body(),
            ApiError::Fields(map) => Value::Object(map.clone()),
            ApiError::NonField(msg) => json!({ "non_field_errors": [msg] }),
            ApiError::Parse(msg) => json!({ "detail": msg }),
            ApiError::AuthenticationFailed(detail) => json!({ "detail": detail }),
            ApiError::AuthenticationFailedCode { detail, code }
            | ApiError::Forbidden { detail, code } => {
                json!({ "detail": detail, "code": code })
            }
            ApiError::NoValidToken(messages) => {
                let messages: Vec<Value> = messages
                    .iter()
                    .map(|m| {
                        json!({
                            "token_class": m.kind.class_name(),
                            "token_type": m.kind.name(),
                            "message": m.message,
                        })
                    })
                    .collect();
                json!({
                    "detail": "Given token not valid for any token type",
                    "code": "token_not_valid",
                    "messages": messages,
                })
            }
            ApiError::NotAuthenticated | ApiError::PermissionDenied | ApiError::NotFound => {
                json!({ "detail": self.to_string() })
            }
            ApiError::Throttled { wait } => {
                let detail = match wait {
                    Some(1) => "Request was throttled. Expected available in 1 second.".to_owned(),
                    Some(n) => format!("Request was throttled. Expected available in {n} seconds."),
                    None => "Request was throttled.".to_owned(),
                };
                json!({ "detail": detail })
            }
            ApiError::LockedOut { wait } => {
                let unit = if *wait == 1 { "second" } else { "seconds" };
                json!({
                    "detail": format!("Too many failed login attempts. Expected available in {wait} {unit}."),
                    "code": "throttled",
                })
            }
            ApiError::MethodNotAllowed { method, .. } => {
                json!({ "detail": format!("Method \"{method}\" not allowed.") })
            }
            ApiError::PayloadTooLarge { limit } => json!({
                "detail": format!("Request body is too large (the limit is {limit} bytes)."),
                "code": "request_too_large",
            }),
            ApiError::UnsupportedMediaType(media) => {
                json!({ "detail": format!("Unsupported media type \"{media}\" in request.") })
            }
            ApiError::RequestLineTooLarge { .. } => json!({
                "detail": self.to_string(),
                "code": "request_line_too_large",
            }),
            ApiError::HeaderFieldsTooLarge(detail) => json!({
                "detail": detail,
                "code": "request_header_fields_too_large",
            }),
            ApiError::RequestTimeout(_) => json!({
                "detail": "The request body was not received in time.",
                "code": "request_timeout",
            }),
            ApiError::Unavailable(_) => json!({
                "detail": "Service temporarily unavailable, try again later.",
                "code": "service_unavailable",
            }),
            ApiError::Internal(_) => json!({
                "detail": "A server error occurred.",
                "code": "error",
            }),
        }
    }
}

/// Seconds a client should wait after a 503 (a busy or unreachable database, a request past
/// SERVER.TIMEOUT): long enough not to hammer a recovering database.
pub const UNAVAILABLE_RETRY_AFTER: &str = "5";

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Challenged { error, .. } => error.status_code(),
            ApiError::Fields(_) | ApiError::NonField(_) | ApiError::Parse(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::AuthenticationFailed(_)
            | ApiError::AuthenticationFailedCode { .. }
            | ApiError::NoValidToken(_)
            | ApiError::NotAuthenticated => StatusCode::UNAUTHORIZED,
            ApiError::PermissionDenied | ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Throttled { .. } | ApiError::LockedOut { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::RequestLineTooLarge { .. } => StatusCode::URI_TOO_LONG,
            ApiError::HeaderFieldsTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Unavailable(cause) => log::warn!("answering 503: {cause}"),
            ApiError::Internal(cause) => log::error!("answering 500: {cause}"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        if let ApiError::MethodNotAllowed { allow, .. } = self {
            res.insert_header((header::ALLOW, HeaderValue::from_static(allow)));
        }
        // DRF sends Retry-After only for a non-zero wait.
        if let ApiError::Throttled { wait: Some(wait) } = self {
            if *wait > 0 {
                res.insert_header((header::RETRY_AFTER, wait.to_string()));
            }
        }
        if let ApiError::LockedOut { wait } = self {
            res.insert_header((header::RETRY_AFTER, wait.to_string()));
        }
        if let ApiError::Unavailable(_) = self {
            res.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_AFTER));
        }
        if let Some(challenge) = self.challenge() {
            res.insert_header((WWW_AUTHENTICATE, challenge.clone()));
        }
        res.json(self.body())
    }
}

impl From<users::DbError> for ApiError {
    fn from(e: users::DbError) -> Self {
        match e {
            users::DbError::Unavailable(cause) => ApiError::Unavailable(cause),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::Error as E;
        match e {
            // A connection that broke mid-query means the database went away: retryable.
            E::DatabaseError(diesel::result::DatabaseErrorKind::ClosedConnection, info) => {
                ApiError::Unavailable(info.message().to_owned())
            }
            // Busy, not broken: another process held SQLite's lock past the busy timeout, or
            // PostgreSQL gave up on a lock (deadlock, serialization, lock or statement timeout).
            // The same request a moment later succeeds: 503 with Retry-After, not a 500.
            E::DatabaseError(kind, info) if is_contention(&kind, info.message()) => {
                ApiError::Unavailable(info.message().to_owned())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// A database error that says "try again", not "this is wrong".
fn is_contention(kind: &diesel::result::DatabaseErrorKind, message: &str) -> bool {
    use diesel::result::DatabaseErrorKind as K;
    matches!(kind, K::SerializationFailure)
        || message.starts_with("database is locked")
        || message.starts_with("database table is locked")
        || message.starts_with("deadlock detected")
        || message.starts_with("canceling statement due to lock timeout")
        || message.starts_with("canceling statement due to statement timeout")
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_401_carries_a_challenge_and_the_first_one_given_stays() {
        let basic = HeaderValue::from_static("Basic realm=\"api\"");
        let bearer = HeaderValue::from_static("Bearer realm=\"api\"");
        let e = ApiError::NotAuthenticated
            .challenged(Some(basic.clone()))
            .challenged(Some(bearer.clone()));
        assert_eq!(e.challenge(), Some(&basic));
        assert_eq!(e.body(), ApiError::NotAuthenticated.body());
        assert_eq!(e.to_string(), ApiError::NotAuthenticated.to_string());
        let res = e.error_response();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.headers().get(WWW_AUTHENTICATE), Some(&basic));

        let code = ApiError::token(&crate::tokens::TokenError::Blacklisted);
        let res = code.challenged(Some(bearer.clone())).error_response();
        assert_eq!(res.headers().get(WWW_AUTHENTICATE), Some(&bearer));

        // Not a 401: no challenge, whatever is offered.
        for other in [
            ApiError::PermissionDenied,
            ApiError::NonField("no".into()),
            ApiError::Throttled { wait: None },
        ] {
            let other = other.challenged(Some(bearer.clone()));
            assert_eq!(other.challenge(), None, "{other}");
            assert!(other
                .error_response()
                .headers()
                .get(WWW_AUTHENTICATE)
                .is_none());
        }
        // A 401 nobody gave a challenge (no authentication class names one) answers without.
        let bare = ApiError::NotAuthenticated.challenged(None);
        assert!(bare
            .error_response()
            .headers()
            .get(WWW_AUTHENTICATE)
            .is_none());
    }
}
