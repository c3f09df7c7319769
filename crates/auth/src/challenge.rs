//! Adds `WWW-Authenticate` to every 401, in one place, as DRF does from the first auth class.

use actix_web::dev::ServiceResponse;
use actix_web::http::header::{HeaderValue, WWW_AUTHENTICATE};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::web;

use crate::state::AuthState;

/// For `ErrorHandlers::new().handler(StatusCode::UNAUTHORIZED, add_challenge)`.
pub fn add_challenge<B>(mut res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let value = res
        .request()
        .app_data::<web::Data<AuthState>>()
        .map(|s| s.challenge())
        .unwrap_or_else(|| "Bearer realm=\"api\"".to_owned());
    if let Ok(value) = HeaderValue::from_str(&value) {
        res.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    Ok(ErrorHandlerResponse::Response(res.map_into_left_body()))
}
