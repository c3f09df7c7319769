//! The authentication classes: header → raw token → validated token → user, tried in the order of
//! DEFAULT_AUTHENTICATION_CLASSES, and the extractor that guards a view with them.

pub mod basic;
pub mod challenge;
pub mod credentials;
pub mod csrf;
pub mod permissions;
pub mod user;

pub use user::{AuthUser, Authenticated, TokenUser};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::{web, FromRequest, HttpRequest};

use settings::{AuthenticationClass, PermissionClass, SimpleJwt};
use users::User;

use crate::api::error::TokenMessage;
use crate::api::request;
use crate::api::ApiError;
use crate::state::AuthState;
use crate::store::blacklist;
use crate::store::lookup::{self, UserKey};
use crate::tokens::revoke;
use crate::tokens::{now, Token, TokenError, TokenKind};

const BAD_HEADER: &str = "Authorization header must contain two space-delimited values";

/// `JWTAuthentication.get_raw_token`: `None` when there is no header or it is another scheme
/// (the next class may recognise it); an error when it is ours but malformed.
fn raw_token(req: &HttpRequest, jwt: &SimpleJwt) -> Result<Option<String>, ApiError> {
    let name = jwt.auth_header();
    let values: Vec<&[u8]> = req
        .headers()
        .get_all(name.as_str())
        .map(|v| v.as_bytes())
        .collect();
    parse_header(&values, &jwt.auth_header_types)
}

/// The parsing half of `raw_token`, pure so that the fuzz target (fuzz/fuzz_targets/auth_header.rs)
/// calls it directly: `values` are every value of AUTH_HEADER_NAME in the request, `types`
/// AUTH_HEADER_TYPES.
pub fn parse_header(values: &[&[u8]], types: &[String]) -> Result<Option<String>, ApiError> {
    let Some(value) = values.first() else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(value);
    let parts: Vec<&str> = text.split_ascii_whitespace().collect();
    let Some(scheme) = parts.first() else {
        return Ok(None);
    };
    if !types.iter().any(|t| t == scheme) {
        return Ok(None);
    }
    // Two Authorization headers are ambiguous (a proxy and the app may read different ones).
    if parts.len() != 2 || values.len() > 1 {
        return Err(ApiError::AuthenticationFailedCode {
            detail: BAD_HEADER.into(),
            code: "bad_authorization_header",
        });
    }
    Ok(Some(parts[1].to_owned()))
}

/// `get_validated_token`: the first of AUTH_TOKEN_CLASSES that accepts the token wins; else every
/// reason. A sliding token is also checked against the blacklist, as simplejwt's BlacklistMixin does.
async fn validated_token(state: &AuthState, raw: &str) -> Result<Token, ApiError> {
    let mut messages = Vec::new();
    // With JWK_URL, the issuer's key is looked up once for every class below.
    state.backend.prepare(raw).await;
    for class in &state.jwt().auth_token_classes {
        let kind = TokenKind::from(*class);
        let checked = match state.tokens().decode(raw, kind, now()) {
            Ok(token) if kind.is_blacklistable() => not_blacklisted(state, token).await?,
            other => other,
        };
        match checked {
            Ok(token) => return Ok(token),
            Err(e) => messages.push(TokenMessage {
                kind,
                message: e.to_string(),
            }),
        }
    }
    Err(ApiError::NoValidToken(messages))
}

/// The blacklist check of simplejwt's BlacklistMixin.verify, for a decoded refresh or sliding
/// token: the token back, or "Token is blacklisted".
pub async fn not_blacklisted(
    state: &AuthState,
    token: Token,
) -> Result<Result<Token, TokenError>, ApiError> {
    let jti = token.jti(state.jwt()).unwrap_or_default().to_owned();
    let listed = state
        .with_conn(move |conn| Ok(blacklist::is_blacklisted(conn, &jti)?))
        .await?;
    Ok(if listed {
        state.metrics.blacklist_hit();
        Err(TokenError::Blacklisted)
    } else {
        Ok(token)
    })
}

fn no_user_id() -> ApiError {
    ApiError::AuthenticationFailedCode {
        detail: "Token contained no recognizable user identification".into(),
        code: "token_not_valid",
    }
}

/// `JWTAuthentication.get_user`: the user the token names, who must exist, be active and (with
/// CHECK_REVOKE_TOKEN) still have the password the token was issued for. The row may come from
/// this process's user cache (`[CACHES] USER_TTL`); the checks run on it every time.
async fn database_user(state: &AuthState, token: &Token) -> Result<User, ApiError> {
    let jwt = state.jwt();
    let claim = token
        .claims
        .get(&jwt.user_id_claim)
        .ok_or_else(no_user_id)?;
    if matches!(jwt.user_id_field, settings::UserIdField::Id)
        && lookup::id_from_claim(claim).is_none()
    {
        return Err(no_user_id());
    }
    let user = match UserKey::from_claim(jwt, claim) {
        Some(key) => cached_user(state, key).await?,
        None => None,
    }
    .ok_or(ApiError::AuthenticationFailedCode {
        detail: "User not found".into(),
        code: "user_not_found",
    })?;
    if jwt.check_user_is_active && !user.is_active {
        return Err(ApiError::AuthenticationFailedCode {
            detail: "User is inactive".into(),
            code: "user_inactive",
        });
    }
    if !revoke::still_valid(jwt, &token.claims, &user) {
        return Err(ApiError::AuthenticationFailedCode {
            detail: revoke::PASSWORD_CHANGED.into(),
            code: "password_changed",
        });
    }
    Ok(Arc::unwrap_or_clone(user))
}

/// The user `key` names: from the user cache, else from the database (and then cached).
async fn cached_user(state: &AuthState, key: UserKey) -> Result<Option<Arc<User>>, ApiError> {
    if let Some(user) = state.users.get(&key) {
        return Ok(Some(user));
    }
    // Taken before the read: a password change that forgets the user while this reads makes
    // the row stale, and it is then not kept.
    let ticket = state.users.ticket(key.clone());
    let found = state
        .with_conn(move |conn| Ok(lookup::user_by_key(conn, &key)?))
        .await?
        .map(Arc::new);
    if let Some(user) = &found {
        state.users.insert(ticket, Arc::clone(user));
    }
    Ok(found)
}

/// JWTAuthentication and JWTStatelessUserAuthentication: `None` when the header is not theirs.
async fn jwt_authenticate(
    req: &HttpRequest,
    state: &AuthState,
    class: AuthenticationClass,
) -> Result<Option<Authenticated>, ApiError> {
    let Some(raw) = raw_token(req, state.jwt())? else {
        return Ok(None);
    };
    let token = validated_token(state, &raw).await?;
    let user = if class == AuthenticationClass::JwtAuthentication {
        AuthUser::User(database_user(state, &token).await?)
    } else {
        let id = token
            .claims
            .get(&state.jwt().user_id_claim)
            .cloned()
            .ok_or_else(no_user_id)?;
        AuthUser::Token(TokenUser {
            id,
            token: token.clone(),
        })
    };
    Ok(Some(Authenticated {
        user,
        token: Some(token),
    }))
}

/// dj-rest-auth's JWTCookieAuthentication: with an AUTH_HEADER_NAME header, JWTAuthentication;
/// without one, the access token of the `REST_AUTH.JWT_AUTH_COOKIE` cookie, and then (with
/// JWT_AUTH_COOKIE_USE_CSRF) an unsafe method must pass the CSRF check first: a browser sends the
/// cookie on requests that other sites make it send.
async fn cookie_authenticate(
    req: &HttpRequest,
    state: &AuthState,
) -> Result<Option<Authenticated>, ApiError> {
    if req
        .headers()
        .contains_key(state.jwt().auth_header().as_str())
    {
        return jwt_authenticate(req, state, AuthenticationClass::JwtAuthentication).await;
    }
    let ra = &state.settings.rest_auth;
    let Some(name) = ra.jwt_auth_cookie.as_deref() else {
        return Ok(None);
    };
    let raw = request::cookie(req, name);
    if ra.jwt_auth_cookie_enforce_csrf_on_unauthenticated
        || (raw.is_some() && ra.jwt_auth_cookie_use_csrf)
    {
        csrf::enforce(req, &state.settings.csrf_trusted_origins)?;
    }
    let Some(raw) = raw else {
        return Ok(None);
    };
    let token = validated_token(state, &raw).await?;
    let user = database_user(state, &token).await?;
    Ok(Some(Authenticated {
        user: AuthUser::User(user),
        token: Some(token),
    }))
}

/// Runs DEFAULT_AUTHENTICATION_CLASSES in order, as DRF's `Request._authenticate`: a class that
/// does not recognise the request passes it on; the first that does decides (user or error).
/// `None` when no class recognised it.
pub async fn authenticate(
    req: &HttpRequest,
    state: &AuthState,
) -> Result<Option<Authenticated>, ApiError> {
    for class in &state.settings.rest_framework.default_authentication_classes {
        let found = match class {
            AuthenticationClass::BasicAuthentication => {
                basic::authenticate(req, state)
                    .await?
                    .map(|user| Authenticated {
                        user: AuthUser::User(user),
                        token: None,
                    })
            }
            AuthenticationClass::JwtCookieAuthentication => cookie_authenticate(req, state).await?,
            jwt => jwt_authenticate(req, state, *jwt).await?,
        };
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// The guard of a view that needs a user: authentication, then DEFAULT_PERMISSION_CLASSES plus
/// IsAuthenticated, then DEFAULT_THROTTLE_CLASSES. Runs before the method check, as in DRF (so a
/// wrong method with no token is 401). Its 401s carry the first authentication class's
/// challenge, not the token views'.
pub struct RequireUser(pub Authenticated);

async fn require_user(req: &HttpRequest, state: &AuthState) -> Result<Authenticated, ApiError> {
    let auth = authenticate(req, state).await?;
    let rf = &state.settings.rest_framework;
    let mut classes = rf.default_permission_classes.clone();
    classes.push(PermissionClass::IsAuthenticated);
    permissions::check(
        &classes,
        auth.as_ref().map(|a| &a.user),
        req.method(),
        !rf.default_authentication_classes.is_empty(),
    )?;
    // DRF's order: authentication, permissions, then throttles (which see the user).
    state
        .throttles
        .check(req, auth.as_ref().map(|a| &a.user as _), None)
        .await?;
    auth.ok_or(ApiError::NotAuthenticated)
}

impl FromRequest for RequireUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AuthState>>()
                .cloned()
                .ok_or_else(|| ApiError::internal("AuthState missing from app data"))?;
            require_user(&req, &state)
                .await
                .map(RequireUser)
                .map_err(|e| challenge::protected_view(&state, e))
        })
    }
}
