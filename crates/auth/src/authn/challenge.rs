//! Adds `WWW-Authenticate` to every 401, in one place. Protected views use their first
//! authentication class's challenge (DRF's `get_authenticate_header`); the token views always
//! use simplejwt's `Bearer realm="api"` (from AUTH_HEADER_TYPES), as TokenViewBase does.

use actix_web::dev::ServiceResponse;
use actix_web::http::header::{HeaderValue, WWW_AUTHENTICATE};
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage};

use crate::state::AuthState;

/// Marks a request handled by a view behind DEFAULT_AUTHENTICATION_CLASSES.
#[derive(Debug, Clone, Copy)]
pub struct ProtectedView;

/// Adds the challenge to a 401 (any other answer is left as it is).
pub fn add_challenge<B>(res: &mut ServiceResponse<B>) {
    if res.status() != StatusCode::UNAUTHORIZED {
        return;
    }
    let protected = res.request().extensions().get::<ProtectedView>().is_some();
    let value = match res.request().app_data::<web::Data<AuthState>>() {
        Some(state) if protected => state.view_challenge(),
        Some(state) => Some(state.challenge()),
        None => Some("Bearer realm=\"api\"".to_owned()),
    };
    if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
        res.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
}
