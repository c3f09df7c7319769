//! Adds `WWW-Authenticate` to every 401, in one place. Protected views use their first
//! authentication class's challenge (DRF's `get_authenticate_header`); the token views always
//! use simplejwt's `Bearer realm="api"` (from AUTH_HEADER_TYPES), as TokenViewBase does.

use actix_web::dev::ServiceResponse;
use actix_web::http::header::{HeaderValue, WWW_AUTHENTICATE};
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage};
use settings::{AuthenticationClass, Settings, SimpleJwt};

use crate::authn::basic;
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
        Some(state) if protected => view_challenge(&state.settings),
        Some(state) => Some(token_challenge(state.jwt())),
        None => Some("Bearer realm=\"api\"".to_owned()),
    };
    if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
        res.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
}

/// The `WWW-Authenticate` value of the token views' 401s and of JWT authentication: the first
/// header type, realm "api" (simplejwt's).
pub fn token_challenge(jwt: &SimpleJwt) -> String {
    let kind = jwt
        .auth_header_types
        .first()
        .map(String::as_str)
        .unwrap_or("Bearer");
    format!("{kind} realm=\"api\"")
}

/// The challenge of a protected view's 401: its first authentication class's (`None` when
/// there is none; DRF then answers 403 instead, which `permissions::check` does).
pub fn view_challenge(settings: &Settings) -> Option<String> {
    match settings
        .rest_framework
        .default_authentication_classes
        .first()?
    {
        AuthenticationClass::BasicAuthentication => Some(basic::CHALLENGE.to_owned()),
        _ => Some(token_challenge(&settings.simple_jwt)),
    }
}
