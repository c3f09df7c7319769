//! The HTTP views, thin: parse and validate the body, call the service, answer JSON. Routes are
//! mounted under the URLs simplejwt documents by `configure`.

pub mod bodies;
pub mod cookies;
pub mod openapi;
pub mod password_change;
pub mod schema;
pub mod service;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::{from_fn, DefaultHeaders, Next};
use actix_web::{web, FromRequest, Handler, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::api::{request, ApiError, Fields, RequestData};
use crate::authn::{challenge, AuthUser, RequireUser};
use crate::limits::throttle;
use crate::state::AuthState;
use crate::views::schema::{Empty, Jwks, Me};

type State = web::Data<AuthState>;

const PARSES: [&str; 3] = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
];

/// Validates one required CharField body, DRF-style.
fn one_field(data: &RequestData, name: &str) -> Result<String, ApiError> {
    let mut fields = Fields::new(&data.0)?;
    let value = fields.char_field(name);
    fields.finish()?;
    value.ok_or_else(|| ApiError::internal("validated field missing"))
}

/// With token cookies on, every view that sets or clears them first refuses a request another
/// site's page sent (login and logout CSRF; `csrf::enforce_origin`). Without cookies there is
/// nothing to plant or clear: simplejwt's views answer any origin.
fn same_site_sender(req: &HttpRequest, state: &AuthState) -> Result<(), ApiError> {
    if state.settings.rest_auth.uses_cookies() {
        crate::authn::csrf::enforce_origin(req, &state.settings.csrf_trusted_origins)?;
    }
    Ok(())
}

/// The obtain views' body: two required CharFields, both validated before either is refused.
fn credentials(data: &RequestData) -> Result<(String, String), ApiError> {
    let mut fields = Fields::new(&data.0)?;
    let username = fields.char_field("username");
    let password = fields.char_field("password");
    fields.finish()?;
    match (username, password) {
        (Some(username), Some(password)) => Ok((username, password)),
        _ => Err(ApiError::internal("validated fields missing")),
    }
}

#[utoipa::path(
    post,
    path = "/api/token/",
    tag = "token",
    operation_id = "token_obtain_pair",
    request_body = crate::views::schema::TokenObtainRequest,
    responses(
        (status = 200, description = "An access and refresh token pair.", body = crate::views::bodies::PairBody),
        (status = 400, description = "Field errors, or a body that does not parse.", body = crate::views::schema::BadRequest),
        (status = 401, description = "No active account found with the given credentials.", body = crate::views::schema::ErrorDetail),
        (status = 403, description = "With REST_AUTH cookies: an `Origin` (or HTTPS `Referer`) that is neither this host nor in CSRF_TRUSTED_ORIGINS (`CSRF Failed: ...`).", body = crate::views::schema::ErrorDetail),
    )
)]
async fn obtain_pair(
    state: State,
    req: HttpRequest,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    let (username, password) = credentials(&data)?;
    same_site_sender(&req, &state)?;
    let client = request::client_address(&req);
    let pair = service::obtain_pair(&state, &client, username, password).await?;
    let mut res = HttpResponse::Ok().json(bodies::pair(&state, &pair));
    cookies::pair_cookies(&state, &pair).apply(&mut res)?;
    Ok(res)
}

#[utoipa::path(
    post,
    path = "/api/token/sliding/",
    tag = "token",
    operation_id = "token_obtain_sliding",
    request_body = crate::views::schema::TokenObtainRequest,
    responses(
        (status = 200, description = "A sliding token.", body = crate::views::service::Slid),
        (status = 400, description = "Field errors, or a body that does not parse.", body = crate::views::schema::BadRequest),
        (status = 401, description = "No active account found with the given credentials.", body = crate::views::schema::ErrorDetail),
    )
)]
async fn obtain_sliding(
    state: State,
    req: HttpRequest,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    let (username, password) = credentials(&data)?;
    let client = request::client_address(&req);
    let token = service::obtain_sliding(&state, &client, username, password).await?;
    Ok(HttpResponse::Ok().json(token))
}

#[utoipa::path(
    post,
    path = "/api/token/sliding/refresh/",
    tag = "token",
    operation_id = "token_refresh_sliding",
    request_body = crate::views::schema::TokenRequest,
    responses(
        (status = 200, description = "The sliding token with a new expiry.", body = crate::views::service::Slid),
        (status = 400, description = "Field errors, or a body that does not parse.", body = crate::views::schema::BadRequest),
        (status = 401, description = "Invalid, expired or blacklisted token (code `token_not_valid`), or its user may no longer sign in.", body = crate::views::schema::ErrorDetail),
    )
)]
async fn refresh_sliding(state: State, data: RequestData) -> Result<HttpResponse, ApiError> {
    let raw = one_field(&data, "token")?;
    Ok(HttpResponse::Ok().json(service::refresh_sliding(&state, raw).await?))
}

#[utoipa::path(
    post,
    path = "/api/token/refresh/",
    tag = "token",
    operation_id = "token_refresh",
    request_body = crate::views::schema::RefreshRequest,
    responses(
        (status = 200, description = "A new access token, and a new refresh token when ROTATE_REFRESH_TOKENS is on. With REST_AUTH.JWT_AUTH_REFRESH_COOKIE the body may omit `refresh`: the cookie's token is used, and the new tokens are also set as cookies.", body = crate::views::bodies::RefreshedBody),
        (status = 400, description = "Field errors, or a body that does not parse.", body = crate::views::schema::BadRequest),
        (status = 401, description = "Invalid, expired or blacklisted token (code `token_not_valid`), or its user may no longer sign in.", body = crate::views::schema::ErrorDetail),
        (status = 403, description = "With REST_AUTH cookies: an `Origin` (or HTTPS `Referer`) that is neither this host nor in CSRF_TRUSTED_ORIGINS, or the refresh token came from its cookie without a passing CSRF check (`CSRF Failed: ...`).", body = crate::views::schema::ErrorDetail),
    )
)]
async fn refresh(
    req: HttpRequest,
    state: State,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    same_site_sender(&req, &state)?;
    let raw = match cookies::refresh_from_cookie(&req, &state, &data)? {
        Some(raw) => raw,
        None => one_field(&data, "refresh")?,
    };
    let refreshed = service::refresh(&state, raw).await?;
    let mut res = HttpResponse::Ok().json(bodies::refreshed(&state, &refreshed));
    cookies::refreshed_cookies(&req, &state, &refreshed).apply(&mut res)?;
    Ok(res)
}

#[utoipa::path(
    post,
    path = "/api/token/logout/",
    tag = "token",
    operation_id = "token_logout",
    request_body = crate::views::schema::LogoutRequest,
    responses(
        (status = 200, description = "The refresh token (from the refresh cookie, else the body) is blacklisted; the token cookies are cleared.", body = crate::views::schema::ErrorDetail),
        (status = 400, description = "A body that does not parse.", body = crate::views::schema::ErrorDetail),
        (status = 401, description = "No refresh token, or an invalid, expired or already blacklisted one (code `token_not_valid`); the token cookies are cleared all the same.", body = crate::views::schema::ErrorDetail),
        (status = 403, description = "With REST_AUTH cookies: an `Origin` (or HTTPS `Referer`) that is neither this host nor in CSRF_TRUSTED_ORIGINS, or the refresh token came from its cookie without a passing CSRF check (`CSRF Failed: ...`); nothing is blacklisted or cleared.", body = crate::views::schema::ErrorDetail),
    )
)]
/// dj-rest-auth's LogoutView: blacklist the refresh token, clear the token cookies.
async fn logout(
    req: HttpRequest,
    state: State,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    same_site_sender(&req, &state)?;
    cookies::logout(&req, &state, &data).await
}

#[utoipa::path(
    post,
    path = "/api/token/verify/",
    tag = "token",
    operation_id = "token_verify",
    request_body = crate::views::schema::TokenRequest,
    responses(
        (status = 200, description = "The token is valid.", body = crate::views::schema::Empty),
        (status = 400, description = "Field errors (a blacklisted token is a `non_field_errors` entry), or a body that does not parse.", body = crate::views::schema::BadRequest),
        (status = 401, description = "Invalid or expired token (code `token_not_valid`).", body = crate::views::schema::ErrorDetail),
    )
)]
async fn verify(state: State, data: RequestData) -> Result<HttpResponse, ApiError> {
    let raw = one_field(&data, "token")?;
    service::verify(&state, raw).await?;
    Ok(empty_object())
}

/// `HttpResponse::Ok().json(Empty {})`, byte for byte (`Content-Type: application/json`, `{}`),
/// without serializing the same two bytes and parsing the same media type on every request.
fn empty_object() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ))
        .body("{}")
}

#[utoipa::path(
    post,
    path = "/api/token/blacklist/",
    tag = "token",
    operation_id = "token_blacklist",
    request_body = crate::views::schema::RefreshRequest,
    responses(
        (status = 200, description = "The refresh token is blacklisted.", body = crate::views::schema::Empty),
        (status = 400, description = "Field errors, or a body that does not parse.", body = crate::views::schema::BadRequest),
        (status = 401, description = "Invalid, expired or already blacklisted token (code `token_not_valid`).", body = crate::views::schema::ErrorDetail),
    )
)]
async fn blacklist(state: State, data: RequestData) -> Result<HttpResponse, ApiError> {
    let raw = one_field(&data, "refresh")?;
    service::blacklist_token(&state, raw).await?;
    Ok(HttpResponse::Ok().json(Empty {}))
}

#[utoipa::path(
    post,
    path = "/api/token/logout-all/",
    tag = "token",
    operation_id = "token_logout_all",
    security(("jwt" = []), ("basic" = [])),
    responses(
        (status = 200, description = "Every outstanding token of the user is blacklisted (and the token cookies cleared).", body = crate::views::schema::Empty),
        (status = 401, description = "No credentials, or credentials no authentication class accepts.", body = crate::views::schema::Unauthorized),
        (status = 403, description = "Not permitted (or no authentication class is configured), or with REST_AUTH cookies a foreign `Origin` (`CSRF Failed: ...`).", body = crate::views::schema::ErrorDetail),
    )
)]
/// Logout everywhere: every outstanding token of the authenticated user is blacklisted.
async fn logout_all(
    state: State,
    req: HttpRequest,
    RequireUser(auth): RequireUser,
) -> Result<HttpResponse, ApiError> {
    same_site_sender(&req, &state)?;
    service::logout_all(&state, auth.user).await?;
    let mut res = HttpResponse::Ok().json(Empty {});
    cookies::cleared(&state, &mut res)?;
    Ok(res)
}

#[utoipa::path(
    post,
    path = "/api/users/me/password/",
    tag = "user",
    operation_id = "user_password_change",
    security(("jwt" = []), ("basic" = [])),
    request_body = crate::views::schema::PasswordChangeRequest,
    responses(
        (status = 200, description = "The new password is saved and every session ended.", body = crate::views::schema::ErrorDetail),
        (status = 400, description = "Field errors (a wrong old password, a new password AUTH_PASSWORD_VALIDATORS refuse), or a body that does not parse.", body = crate::views::schema::BadRequest),
        (status = 401, description = "No credentials, or credentials no authentication class accepts.", body = crate::views::schema::Unauthorized),
        (status = 403, description = "Not permitted (or no authentication class is configured), or with REST_AUTH cookies a foreign `Origin` (`CSRF Failed: ...`).", body = crate::views::schema::ErrorDetail),
    )
)]
/// Password change (old password required); ends every session of the user.
async fn change_password(
    state: State,
    req: HttpRequest,
    RequireUser(auth): RequireUser,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    same_site_sender(&req, &state)?;
    let (old, new) = password_change::parse(&data)?;
    let client = request::client_address(&req);
    let body = password_change::change(&state, &client, auth.user, old, new).await?;
    // Every session ended, this browser's too: expire its token cookies, as logout-all does.
    let mut res = HttpResponse::Ok().json(body);
    cookies::cleared(&state, &mut res)?;
    Ok(res)
}

/// `handler`, whose 401s answer with the challenge `kind` gives them (`challenge::token_view` or
/// `challenge::protected_view`): the kind of view decides, where it is declared.
fn answering<F, Args>(
    kind: fn(&AuthState, ApiError) -> ApiError,
    handler: F,
) -> impl Handler<(HttpRequest, Args), Output = Result<HttpResponse, ApiError>>
where
    F: Handler<Args, Output = Result<HttpResponse, ApiError>>,
    Args: FromRequest + 'static,
{
    move |req: HttpRequest, args: Args| {
        let handler = handler.clone();
        async move {
            handler
                .call(args)
                .await
                .map_err(|e| match req.app_data::<State>() {
                    Some(state) => kind(state, e),
                    None => e,
                })
        }
    }
}

/// An authenticated POST view: authentication runs before the method check (401 without a
/// token, 405 with one), as for /api/me/.
fn user_post_view<F, Args>(
    path: &str,
    name: &'static str,
    description: &'static str,
    handler: F,
) -> impl actix_web::dev::HttpServiceFactory
where
    F: Handler<Args, Output = Result<HttpResponse, ApiError>>,
    Args: FromRequest + 'static,
{
    web::resource(path)
        .wrap(
            DefaultHeaders::new()
                .add(("Allow", TOKEN_ALLOW))
                .add(("Vary", "Accept")),
        )
        .route(web::post().to(answering(challenge::protected_view, handler)))
        .route(
            web::method(Method::OPTIONS)
                .to(move |_: RequireUser| async move { metadata(name, description) }),
        )
        .default_service(web::to(|req: HttpRequest, _: RequireUser| async move {
            Err::<HttpResponse, _>(not_allowed(&req, TOKEN_ALLOW))
        }))
}

#[utoipa::path(
    get,
    path = "/api/me/",
    tag = "user",
    operation_id = "me",
    security(("jwt" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The authenticated user.", body = crate::views::schema::Me),
        (status = 401, description = "No credentials, or credentials no authentication class accepts.", body = crate::views::schema::Unauthorized),
        (status = 403, description = "Not permitted (or no authentication class is configured).", body = crate::views::schema::ErrorDetail),
    )
)]
/// The example protected view: who am I.
async fn me(RequireUser(auth): RequireUser) -> HttpResponse {
    let body = match &auth.user {
        AuthUser::User(u) => Me {
            id: json!(u.id),
            username: json!(u.username),
            email: json!(u.email),
        },
        AuthUser::Token(t) => {
            let claim = |k: &str| {
                t.token
                    .claims
                    .get(k)
                    .cloned()
                    .unwrap_or(Value::String(String::new()))
            };
            Me {
                id: t.id.clone(),
                username: claim("username"),
                email: claim("email"),
            }
        }
    };
    HttpResponse::Ok().json(body)
}

#[utoipa::path(
    get,
    path = "/api/token/jwks/",
    tag = "token",
    operation_id = "token_jwks",
    responses(
        (status = 200, description = "The verifying keys as a JSON Web Key Set.", body = crate::views::schema::Jwks),
    )
)]
/// The verifying keys as a JWK Set (RFC 7517), for other services to verify our tokens. Empty
/// for HMAC algorithms: the secret is never published.
async fn jwks(state: State) -> Result<HttpResponse, ApiError> {
    let body = Jwks::of(state.backend.jwks()).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(body))
}

/// DRF's OPTIONS answer (SimpleMetadata, without the per-field "actions").
fn metadata(name: &str, description: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "name": name,
        "description": description,
        "renders": ["application/json"],
        "parses": PARSES,
    }))
}

fn not_allowed(req: &HttpRequest, allow: &'static str) -> ApiError {
    ApiError::MethodNotAllowed {
        method: req.method().to_string(),
        allow,
    }
}

const TOKEN_ALLOW: &str = "POST, OPTIONS";
const ME_ALLOW: &str = "GET, HEAD, OPTIONS";
const JWKS_ALLOW: &str = "GET, HEAD, OPTIONS";

/// Wraps a token view (no authentication, as simplejwt's TokenViewBase): every request to it is
/// counted before anything else runs, with the view's scope (`Some("login")` for obtain views).
async fn throttled(
    scope: Option<&'static str>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(state) = req.app_data::<web::Data<AuthState>>() {
        state.throttles.check(req.request(), None, scope).await?;
    }
    next.call(req).await
}

/// A token view: POST does the work, OPTIONS describes it, anything else is 405 (no
/// authentication on token views, as in simplejwt; their 401s answer with simplejwt's challenge).
fn token_view<F, Args>(
    path: &str,
    throttle_scope: Option<&'static str>,
    name: &'static str,
    description: &'static str,
    handler: F,
) -> impl actix_web::dev::HttpServiceFactory
where
    F: Handler<Args, Output = Result<HttpResponse, ApiError>>,
    Args: FromRequest + 'static,
{
    web::resource(path)
        .wrap(from_fn(move |req, next| {
            throttled(throttle_scope, req, next)
        }))
        .wrap(
            DefaultHeaders::new()
                .add(("Allow", TOKEN_ALLOW))
                .add(("Vary", "Accept")),
        )
        .route(web::post().to(answering(challenge::token_view, handler)))
        .route(web::method(Method::OPTIONS).to(move || async move { metadata(name, description) }))
        .default_service(web::to(|req: HttpRequest| async move {
            Err::<HttpResponse, _>(not_allowed(&req, TOKEN_ALLOW))
        }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(token_view(
        "/api/token/",
        Some(throttle::LOGIN_SCOPE),
        "Token Obtain Pair",
        "Takes a set of user credentials and returns an access and refresh JSON web token pair to prove the authentication of those credentials.",
        obtain_pair,
    ))
    .service(token_view(
        "/api/token/refresh/",
        None,
        "Token Refresh",
        "Takes a refresh type JSON web token and returns an access type JSON web token if the refresh token is valid.",
        refresh,
    ))
    .service(token_view(
        "/api/token/sliding/",
        Some(throttle::LOGIN_SCOPE),
        "Token Obtain Sliding",
        "Takes a set of user credentials and returns a sliding JSON web token to prove the authentication of those credentials.",
        obtain_sliding,
    ))
    .service(token_view(
        "/api/token/sliding/refresh/",
        None,
        "Token Refresh Sliding",
        "Takes a sliding JSON web token and returns a new, refreshed version if the token's refresh period has not expired.",
        refresh_sliding,
    ))
    .service(token_view(
        "/api/token/verify/",
        None,
        "Token Verify",
        "Takes a token and indicates if it is valid.  This view provides no information about a token's fitness for a particular use.",
        verify,
    ))
    .service(token_view(
        "/api/token/blacklist/",
        None,
        "Token Blacklist",
        "Takes a token and blacklists it. Must be used with the `rest_framework_simplejwt.token_blacklist` app installed.",
        blacklist,
    ))
    .service(token_view(
        "/api/token/logout/",
        None,
        "Logout",
        "Blacklists the refresh token (from the refresh cookie, else the body) and clears the token cookies.",
        logout,
    ))
    .service(user_post_view(
        "/api/token/logout-all/",
        "Token Logout All",
        "Blacklists every outstanding token of the authenticated user: logs out every session.",
        logout_all,
    ))
    .service(user_post_view(
        "/api/users/me/password/",
        "Password Change",
        "Takes the old and the new password, sets the new one and ends every session of the user.",
        change_password,
    ))
    .service(
        web::resource("/api/token/jwks/")
            .wrap(DefaultHeaders::new().add(("Allow", JWKS_ALLOW)).add(("Vary", "Accept")))
            .route(web::get().to(jwks))
            .route(web::head().to(jwks))
            .route(web::method(Method::OPTIONS).to(|| async { metadata("Token JWKS", "The public keys that verify the tokens this server signs, as a JSON Web Key Set.") }))
            .default_service(web::to(|req: HttpRequest| async move {
                Err::<HttpResponse, _>(not_allowed(&req, JWKS_ALLOW))
            })),
    )
    .service(
        web::resource("/api/me/")
            .wrap(DefaultHeaders::new().add(("Allow", ME_ALLOW)).add(("Vary", "Accept")))
            .route(web::get().to(me))
            .route(web::head().to(me))
            .route(web::method(Method::OPTIONS).to(|_: RequireUser| async { metadata("Me", "The authenticated user.") }))
            // Authentication runs before the method check: without a token this is 401, with one 405.
            .default_service(web::to(|req: HttpRequest, _: RequireUser| async move {
                Err::<HttpResponse, _>(not_allowed(&req, ME_ALLOW))
            })),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_rt::test]
    async fn empty_object_is_the_serialized_empty_body() {
        let fast = empty_object();
        let slow = HttpResponse::Ok().json(Empty {});
        assert_eq!(fast.status(), slow.status());
        let headers = |r: &HttpResponse| {
            r.headers()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(headers(&fast), headers(&slow));
        let body = |r: HttpResponse| actix_web::body::to_bytes(r.into_body());
        let (fast, slow) = (body(fast).await.ok(), body(slow).await.ok());
        assert_eq!(fast, slow);
        assert_eq!(fast.as_deref(), Some(&b"{}"[..]));
    }
}
