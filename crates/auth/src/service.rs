//! What the token views do, apart from HTTP: login, refresh with rotation, verify, blacklist.
//! Database work runs on the blocking pool in as few trips as possible.

use serde_json::Value;

use crate::api::ApiError;
use crate::blacklist::{self, Outstanding};
use crate::lookup;
use crate::state::AuthState;
use crate::tokens::{now, Token, TokenError, TokenKind};

const NO_ACCOUNT_LOGIN: &str = "No active account found with the given credentials";
const NO_ACCOUNT_TOKEN: &str = "No active account found for the given token.";

/// A signed token pair.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Pair {
    pub refresh: String,
    pub access: String,
}

/// The refresh view's answer: `refresh` only when rotating.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Refreshed {
    pub access: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
}

fn sign(state: &AuthState, token: &Token) -> Result<String, ApiError> {
    state.tokens().encode(token).map_err(ApiError::internal)
}

/// TokenObtainPairView. The password is checked even when the user does not exist (against a
/// dummy hash), so the answer and its timing do not say which usernames exist.
pub async fn obtain_pair(
    state: &AuthState,
    username: String,
    password: String,
) -> Result<Pair, ApiError> {
    let user = state
        .with_conn(move |conn| Ok(users::queries::by_username(conn, &username)?))
        .await?;
    let encoded = user.as_ref().map(|u| u.password.clone());
    let matches = state.check_password(password.clone(), encoded).await?;
    // Django's ModelBackend refuses inactive users whatever CHECK_USER_IS_ACTIVE says.
    let user = match user {
        Some(u) if matches && u.is_active => u,
        _ => return Err(ApiError::AuthenticationFailed(NO_ACCOUNT_LOGIN)),
    };

    let t = state.tokens();
    let at = now();
    let refresh = t.for_user(
        TokenKind::Refresh,
        &lookup::claim_for_user(state.jwt(), &user),
        at,
    );
    let access = t.access_for(&refresh, at);
    let pair = Pair {
        refresh: sign(state, &refresh)?,
        access: sign(state, &access)?,
    };

    // Django re-hashes a password stored with an older algorithm or cost on successful login.
    let rehashed = if state.hasher.must_update(&user.password) {
        let hasher = state.hasher.clone();
        Some(
            actix_web::web::block(move || hasher.make_password(&password))
                .await?
                .map_err(ApiError::internal)?,
        )
    } else {
        None
    };
    let update_last_login = state.jwt().update_last_login;
    let jti = refresh.jti(state.jwt()).unwrap_or_default().to_owned();
    let (raw, exp) = (pair.refresh.clone(), refresh.exp());
    state
        .with_conn(move |conn| {
            let record = Outstanding {
                jti: &jti,
                raw: &raw,
                user_id: Some(user.id),
                created_at: at,
                expires_at: exp,
            };
            blacklist::outstand(conn, &record)?;
            if update_last_login {
                users::queries::set_last_login(conn, user.id, blacklist::timestamp(at))?;
            }
            if let Some(encoded) = rehashed {
                users::queries::set_password(conn, user.id, &encoded)?;
            }
            Ok(())
        })
        .await?;
    Ok(pair)
}

/// The user a refresh token names must still exist and be allowed in (simplejwt checks this only
/// when the claim is present and truthy). Returns the user's id for the outstanding-token row.
fn check_token_user(
    conn: &mut users::DbConnection,
    settings: &settings::SimpleJwt,
    token: &Token,
) -> Result<Option<i32>, ApiError> {
    let claim = match token.claims.get(&settings.user_id_claim) {
        None | Some(Value::Null) | Some(Value::Bool(false)) => return Ok(None),
        Some(Value::String(s)) if s.is_empty() => return Ok(None),
        Some(Value::Number(n)) if n.as_f64() == Some(0.0) => return Ok(None),
        Some(claim) => claim,
    };
    match lookup::user_for_claim(conn, settings, claim)? {
        Some(user) if lookup::may_authenticate(settings, &user) => Ok(Some(user.id)),
        _ => Err(ApiError::AuthenticationFailed(NO_ACCOUNT_TOKEN)),
    }
}

/// TokenRefreshView: a new access token; with ROTATE_REFRESH_TOKENS a new refresh token too, the
/// old one blacklisted first when BLACKLIST_AFTER_ROTATION (the blacklist insert is the atomic gate:
/// of many concurrent refreshes of one token exactly one wins).
pub async fn refresh(state: &AuthState, raw: String) -> Result<Refreshed, ApiError> {
    let at = now();
    let mut token = state
        .tokens()
        .decode(&raw, TokenKind::Refresh, at)
        .map_err(|e| ApiError::token(&e))?;
    let settings = state.settings.clone();
    let presented = token.clone();
    let user_id = state
        .with_conn(move |conn| {
            let jwt = &settings.simple_jwt;
            let jti = presented.jti(jwt).unwrap_or_default().to_owned();
            if blacklist::is_blacklisted(conn, &jti)? {
                return Err(ApiError::token(&TokenError::Blacklisted));
            }
            let user_id = check_token_user(conn, jwt, &presented)?;
            if jwt.rotate_refresh_tokens && jwt.blacklist_after_rotation {
                let record = Outstanding {
                    jti: &jti,
                    raw: &raw,
                    user_id,
                    created_at: at,
                    expires_at: presented.exp(),
                };
                if !blacklist::blacklist(conn, &record, at)? {
                    return Err(ApiError::token(&TokenError::Blacklisted));
                }
            }
            Ok(user_id)
        })
        .await?;

    let t = state.tokens();
    let access = sign(state, &t.access_for(&token, at))?;
    if !state.jwt().rotate_refresh_tokens {
        return Ok(Refreshed {
            access,
            refresh: None,
        });
    }
    t.rotate(&mut token, at);
    let rotated = sign(state, &token)?;
    let jti = token.jti(state.jwt()).unwrap_or_default().to_owned();
    let (raw, exp) = (rotated.clone(), token.exp());
    state
        .with_conn(move |conn| {
            let record = Outstanding {
                jti: &jti,
                raw: &raw,
                user_id,
                created_at: at,
                expires_at: exp,
            };
            blacklist::outstand(conn, &record)?;
            Ok(())
        })
        .await?;
    Ok(Refreshed {
        access,
        refresh: Some(rotated),
    })
}

/// TokenVerifyView: any well-signed, unexpired token with exp and jti. Only refresh tokens can be
/// blacklisted, so only they cost a database trip: verifying an access token needs no database.
pub async fn verify(state: &AuthState, raw: String) -> Result<(), ApiError> {
    let token = state
        .tokens()
        .decode(&raw, TokenKind::Untyped, now())
        .map_err(|e| ApiError::token(&e))?;
    if token.kind_claim(state.jwt()) != Some(TokenKind::Refresh.name()) {
        return Ok(());
    }
    let jti = token.jti(state.jwt()).unwrap_or_default().to_owned();
    if state
        .with_conn(move |conn| Ok(blacklist::is_blacklisted(conn, &jti)?))
        .await?
    {
        return Err(ApiError::NonField(TokenError::Blacklisted.to_string()));
    }
    Ok(())
}

/// TokenBlacklistView: blacklists a refresh token (one already blacklisted is refused as such).
pub async fn blacklist_token(state: &AuthState, raw: String) -> Result<(), ApiError> {
    let at = now();
    let token = state
        .tokens()
        .decode(&raw, TokenKind::Refresh, at)
        .map_err(|e| ApiError::token(&e))?;
    let settings = state.settings.clone();
    state
        .with_conn(move |conn| {
            let jwt = &settings.simple_jwt;
            let jti = token.jti(jwt).unwrap_or_default().to_owned();
            if blacklist::is_blacklisted(conn, &jti)? {
                return Err(ApiError::token(&TokenError::Blacklisted));
            }
            let user_id = match token.claims.get(&jwt.user_id_claim) {
                Some(claim) => lookup::user_for_claim(conn, jwt, claim)?.map(|u| u.id),
                None => None,
            };
            let record = Outstanding {
                jti: &jti,
                raw: &raw,
                user_id,
                created_at: at,
                expires_at: token.exp(),
            };
            blacklist::blacklist(conn, &record, at)?;
            Ok(())
        })
        .await
}
