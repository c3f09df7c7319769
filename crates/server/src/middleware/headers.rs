//! The headers every answer carries, set in one pass after the view: Django's security headers
//! (where the view set none of its own). One function instead of an actix middleware layer
//! (DefaultHeaders): each layer costs every request a service call and a future of its own. A
//! 401's `WWW-Authenticate` is not set here: the error carries it (`auth::api::ApiError`).

use actix_web::dev::ServiceResponse;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::ConnectionType;

/// Django's SecurityMiddleware and XFrameOptionsMiddleware defaults, on every response.
pub const SECURITY_HEADERS: [(HeaderName, HeaderValue); 4] = [
    (
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    ),
    (
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    ),
    (
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("same-origin"),
    ),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    ),
];

/// The security headers a response does not already have.
pub fn add_security_headers(headers: &mut HeaderMap) {
    for (name, value) in &SECURITY_HEADERS {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
}

/// What the app adds to every answer of a view (or of a 404/405); while the process stops,
/// `Connection: close` (`crate::prefork::drain`).
pub fn finish<B>(res: &mut ServiceResponse<B>) {
    add_security_headers(res.headers_mut());
    if crate::prefork::drain::draining() {
        res.response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
}
