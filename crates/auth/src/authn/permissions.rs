//! DRF's permission classes and the 401-or-403 rule for a refused request.

use actix_web::http::Method;
use settings::PermissionClass;

use crate::api::ApiError;
use crate::authn::user::AuthUser;

fn allows(class: PermissionClass, user: Option<&AuthUser>, method: &Method) -> bool {
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    match class {
        PermissionClass::AllowAny => true,
        PermissionClass::IsAuthenticated => user.is_some(),
        PermissionClass::IsAdminUser => user.is_some_and(AuthUser::is_staff),
        PermissionClass::IsAuthenticatedOrReadOnly => safe || user.is_some(),
    }
}

/// All classes must allow. A refusal is NotAuthenticated (401) when authentication classes exist
/// but none recognised the request, else PermissionDenied (403) — DRF's `permission_denied`.
pub fn check(
    classes: &[PermissionClass],
    user: Option<&AuthUser>,
    method: &Method,
    has_authenticators: bool,
) -> Result<(), ApiError> {
    if classes.iter().all(|c| allows(*c, user, method)) {
        return Ok(());
    }
    if user.is_none() && has_authenticators {
        Err(ApiError::NotAuthenticated)
    } else {
        Err(ApiError::PermissionDenied)
    }
}
