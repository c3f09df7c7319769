//! The HTTP views, thin: parse and validate the body, call the service, answer JSON. Routes are
//! mounted under the URLs simplejwt documents by `configure`.

use actix_web::http::Method;
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::api::{ApiError, Fields, RequestData};
use crate::authentication::{AuthUser, RequireUser};
use crate::service;
use crate::state::AuthState;

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

async fn obtain_pair(state: State, data: RequestData) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::new(&data.0)?;
    let username = fields.char_field("username");
    let password = fields.char_field("password");
    fields.finish()?;
    let (Some(username), Some(password)) = (username, password) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let pair = service::obtain_pair(&state, username, password).await?;
    Ok(HttpResponse::Ok().json(pair))
}

async fn refresh(state: State, data: RequestData) -> Result<HttpResponse, ApiError> {
    let raw = one_field(&data, "refresh")?;
    Ok(HttpResponse::Ok().json(service::refresh(&state, raw).await?))
}

async fn verify(state: State, data: RequestData) -> Result<HttpResponse, ApiError> {
    let raw = one_field(&data, "token")?;
    service::verify(&state, raw).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

async fn blacklist(state: State, data: RequestData) -> Result<HttpResponse, ApiError> {
    let raw = one_field(&data, "refresh")?;
    service::blacklist_token(&state, raw).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// The example protected view: who am I.
async fn me(RequireUser(auth): RequireUser) -> HttpResponse {
    let body = match &auth.user {
        AuthUser::User(u) => json!({ "id": u.id, "username": u.username, "email": u.email }),
        AuthUser::Token(t) => {
            let claim = |k: &str| {
                t.token
                    .claims
                    .get(k)
                    .cloned()
                    .unwrap_or(Value::String(String::new()))
            };
            json!({ "id": t.id, "username": claim("username"), "email": claim("email") })
        }
    };
    HttpResponse::Ok().json(body)
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

/// A token view: POST does the work, OPTIONS describes it, anything else is 405 (no
/// authentication on token views, as in simplejwt).
fn token_view<F, Fut>(
    path: &str,
    name: &'static str,
    description: &'static str,
    handler: F,
) -> impl actix_web::dev::HttpServiceFactory
where
    F: actix_web::Handler<(State, RequestData), Output = Fut> + Clone + 'static,
    Fut: actix_web::Responder + 'static,
{
    web::resource(path)
        .wrap(
            DefaultHeaders::new()
                .add(("Allow", TOKEN_ALLOW))
                .add(("Vary", "Accept")),
        )
        .route(web::post().to(handler))
        .route(web::method(Method::OPTIONS).to(move || async move { metadata(name, description) }))
        .default_service(web::to(|req: HttpRequest| async move {
            Err::<HttpResponse, _>(not_allowed(&req, TOKEN_ALLOW))
        }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(token_view(
        "/api/token/",
        "Token Obtain Pair",
        "Takes a set of user credentials and returns an access and refresh JSON web token pair to prove the authentication of those credentials.",
        obtain_pair,
    ))
    .service(token_view(
        "/api/token/refresh/",
        "Token Refresh",
        "Takes a refresh type JSON web token and returns an access type JSON web token if the refresh token is valid.",
        refresh,
    ))
    .service(token_view(
        "/api/token/verify/",
        "Token Verify",
        "Takes a token and indicates if it is valid.  This view provides no information about a token's fitness for a particular use.",
        verify,
    ))
    .service(token_view(
        "/api/token/blacklist/",
        "Token Blacklist",
        "Takes a token and blacklists it. Must be used with the `rest_framework_simplejwt.token_blacklist` app installed.",
        blacklist,
    ))
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
