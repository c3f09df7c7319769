//! Which `WWW-Authenticate` challenge a 401 answers with, decided by the kind of view that
//! refused and attached to the error (`ApiError::challenged`), whose one mapping to HTTP sets the
//! header. Protected views use their first authentication class's challenge (DRF's
//! `get_authenticate_header`); the token views always use simplejwt's `Bearer realm="api"` (from
//! AUTH_HEADER_TYPES), as TokenViewBase does.

use actix_web::http::header::HeaderValue;
use settings::{AuthenticationClass, Settings, SimpleJwt};

use crate::api::ApiError;
use crate::authn::basic;
use crate::state::AuthState;

/// A protected view's refusal (from its authentication, its permissions or the view itself): its
/// 401 answers with the first authentication class's challenge.
pub fn protected_view(state: &AuthState, error: ApiError) -> ApiError {
    error.challenged(view_challenge(&state.settings).and_then(header))
}

/// A token view's refusal: its 401 answers with simplejwt's challenge.
pub fn token_view(state: &AuthState, error: ApiError) -> ApiError {
    error.challenged(header(token_challenge(state.jwt())))
}

/// A challenge as a header value; none when a setting made it unsendable.
fn header(challenge: String) -> Option<HeaderValue> {
    HeaderValue::from_str(&challenge).ok()
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
