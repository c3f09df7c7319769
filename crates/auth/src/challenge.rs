//! Adds `WWW-Authenticate` to every 401, in one place. Protected views use their first
//! authentication class's challenge (DRF's `get_authenticate_header`); the token views always
//! use simplejwt's `Bearer realm="api"` (from AUTH_HEADER_TYPES), as TokenViewBase does.

use actix_web::dev::ServiceResponse;
use actix_web::http::header::{HeaderValue, WWW_AUTHENTICATE};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{web, HttpMessage};

use crate::state::AuthState;

/// Marks a request handled by a view behind DEFAULT_AUTHENTICATION_CLASSES.
#[derive(Debug, Clone, Copy)]
pub struct ProtectedView;

/// For `ErrorHandlers::new().handler(StatusCode::UNAUTHORIZED, add_challenge)`.
pub fn add_challenge<B>(mut res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let protected = res.request().extensions().get::<ProtectedView>().is_some();
    let value = match res.request().app_data::<web::Data<AuthState>>() {
        Some(state) if protected => state.view_challenge(),
        Some(state) => Some(state.challenge()),
        None => Some("Bearer realm=\"api\"".to_owned()),
    };
    if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
        res.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    Ok(ErrorHandlerResponse::Response(res.map_into_left_body()))
}
