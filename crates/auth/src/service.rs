//! What the token views do, apart from HTTP: login, refresh with rotation, verify, blacklist.
//! Database work runs on the blocking pool in as few trips as possible.

use serde_json::Value;

use crate::api::ApiError;
use crate::blacklist::{self, Outstanding};
use crate::brute_force;
use crate::lookup;
use crate::metrics::Refresh;
use crate::reuse;
use crate::revoke;
use crate::state::AuthState;
use crate::tokens::{now, Token, TokenError, TokenKind};

const NO_ACCOUNT_LOGIN: &str = "No active account found with the given credentials";
const NO_ACCOUNT_TOKEN: &str = "No active account found for the given token.";

/// A signed token pair.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Pair {
    pub refresh: String,
    pub access: String,
}

/// The refresh view's answer: `refresh` only when rotating.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Refreshed {
    pub access: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
}

fn sign(state: &AuthState, token: &Token) -> Result<String, ApiError> {
    state.tokens().encode(token).map_err(ApiError::internal)
}

/// TokenObtainPairView. The password is checked even when the user does not exist (against a
/// dummy hash), so the answer and its timing do not say which usernames exist. `client` is the
/// client's address (`throttle::client_address`), for the brute-force counters.
pub async fn obtain_pair(
    state: &AuthState,
    client: &str,
    username: String,
    password: String,
) -> Result<Pair, ApiError> {
    let user = login(state, client, username, password).await?;
    let t = state.tokens();
    let at = now();
    let refresh = t.for_user_record(TokenKind::Refresh, &user, at);
    let access = t.access_for(&refresh, at);
    let pair = Pair {
        refresh: sign(state, &refresh)?,
        access: sign(state, &access)?,
    };
    record_login(state, &user, &refresh, &pair.refresh, at).await?;
    Ok(pair)
}

/// TokenObtainSlidingView: one sliding token (outstanding, like a refresh token).
pub async fn obtain_sliding(
    state: &AuthState,
    client: &str,
    username: String,
    password: String,
) -> Result<Slid, ApiError> {
    let user = login(state, client, username, password).await?;
    let at = now();
    let token = state
        .tokens()
        .for_user_record(TokenKind::Sliding, &user, at);
    let signed = sign(state, &token)?;
    record_login(state, &user, &token, &signed, at).await?;
    Ok(Slid { token: signed })
}

/// The sliding views' answer.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Slid {
    pub token: String,
}

/// The active user the credentials belong to, or simplejwt's one refusal for every reason (Django's
/// ModelBackend refuses inactive users whatever CHECK_USER_IS_ACTIVE says), behind the
/// brute-force guard (429 while the username or the client's address is locked).
async fn login(
    state: &AuthState,
    client: &str,
    username: String,
    password: String,
) -> Result<users::User, ApiError> {
    let user = brute_force::authenticate(state, client, username, password).await?;
    // Only credential refusals count as failed logins; a 503 is not the client's failure.
    state.metrics.login(user.is_some());
    user.ok_or(ApiError::AuthenticationFailed(NO_ACCOUNT_LOGIN))
}

/// Counts a refusal of a blacklisted token (every view refuses with simplejwt's one message).
fn count_blacklisted<T>(state: &AuthState, result: Result<T, ApiError>) -> Result<T, ApiError> {
    let blacklisted = TokenError::Blacklisted.to_string();
    if let Err(ApiError::AuthenticationFailedCode { detail, .. } | ApiError::NonField(detail)) =
        &result
    {
        if *detail == blacklisted {
            state.metrics.blacklist_hit();
        }
    }
    result
}

/// One trip for what a login writes: the outstanding token row, and last_login when asked.
async fn record_login(
    state: &AuthState,
    user: &users::User,
    token: &Token,
    signed: &str,
    at: i64,
) -> Result<(), ApiError> {
    let update_last_login = state.jwt().update_last_login;
    let jti = token.jti(state.jwt()).unwrap_or_default().to_owned();
    let (raw, exp, user_id) = (signed.to_owned(), token.exp(), user.id);
    state
        .with_conn(move |conn| {
            let record = Outstanding {
                jti: &jti,
                raw: &raw,
                user_id: Some(user_id),
                created_at: at,
                expires_at: exp,
            };
            // The login's refresh (or sliding) token starts a family named by its own jti.
            blacklist::outstand_in(conn, &record, &jti)?;
            if update_last_login {
                users::queries::set_last_login(conn, user_id, blacklist::timestamp(at))?;
            }
            Ok(())
        })
        .await
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

/// The user a refresh or sliding token names must still exist, be allowed in and, with
/// CHECK_REVOKE_TOKEN, have the password the token was issued for; a token that outlived a
/// password change is blacklisted (simplejwt after 5.5.1). Checked only when the claim is present
/// and truthy, as simplejwt does. Returns the user's id for the outstanding-token row.
fn check_token_user(
    conn: &mut users::DbConnection,
    settings: &settings::SimpleJwt,
    token: &Token,
    raw: &str,
    at: i64,
) -> Result<Option<i32>, ApiError> {
    let claim = match token.claims.get(&settings.user_id_claim) {
        None | Some(Value::Null) | Some(Value::Bool(false)) => return Ok(None),
        Some(Value::String(s)) if s.is_empty() => return Ok(None),
        Some(Value::Number(n)) if n.as_f64() == Some(0.0) => return Ok(None),
        Some(claim) => claim,
    };
    let user = match lookup::user_for_claim(conn, settings, claim)? {
        Some(user) if lookup::may_authenticate(settings, &user) => user,
        _ => return Err(ApiError::AuthenticationFailed(NO_ACCOUNT_TOKEN)),
    };
    if !revoke::still_valid(settings, token, &user) {
        let record = Outstanding {
            jti: token.jti(settings).unwrap_or_default(),
            raw,
            user_id: Some(user.id),
            created_at: at,
            expires_at: token.exp(),
        };
        blacklist::blacklist(conn, &record, at)?;
        return Err(ApiError::AuthenticationFailed(revoke::PASSWORD_CHANGED));
    }
    Ok(Some(user.id))
}

/// TokenRefreshView: a new access token; with ROTATE_REFRESH_TOKENS a new refresh token too, the
/// old one blacklisted first when BLACKLIST_AFTER_ROTATION (the blacklist insert is the atomic gate:
/// of many concurrent refreshes of one token exactly one wins). A blacklisted token presented here
/// goes through reuse detection (`reuse`). The new tokens are signed before the one database trip,
/// so the gate and the new token's row are written back to back.
pub async fn refresh(state: &AuthState, raw: String) -> Result<Refreshed, ApiError> {
    let refreshed = count_blacklisted(state, refresh_pair(state, raw).await)?;
    state.metrics.refreshed(Refresh::Pair);
    Ok(refreshed)
}

async fn refresh_pair(state: &AuthState, raw: String) -> Result<Refreshed, ApiError> {
    let at = now();
    let presented = state
        .decode(&raw, TokenKind::Refresh, at)
        .await
        .map_err(|e| ApiError::token(&e))?;
    let t = state.tokens();
    let access = sign(state, &t.access_for(&presented, at))?;
    let next = if state.jwt().rotate_refresh_tokens {
        let mut next = presented.clone();
        t.rotate(&mut next, at);
        let jti = next.jti(state.jwt()).unwrap_or_default().to_owned();
        Some((sign(state, &next)?, jti, next.exp()))
    } else {
        None
    };
    let settings = state.settings.clone();
    let rotated = next.as_ref().map(|(signed, _, _)| signed.clone());
    let reuse = state
        .with_conn(move |conn| {
            let jwt = &settings.simple_jwt;
            let jti = presented.jti(jwt).unwrap_or_default().to_owned();
            let standing = blacklist::standing(conn, &jti)?;
            if standing
                .as_ref()
                .is_some_and(|s| s.blacklisted_at.is_some())
            {
                let outcome = reuse::presented_again(conn, jwt, standing.as_ref(), at)?;
                return Ok(Some(outcome));
            }
            let user_id = check_token_user(conn, jwt, &presented, &raw, at)?;
            let Some((next_raw, next_jti, next_exp)) = next else {
                return Ok(None);
            };
            // A token first seen here (issued by simplejwt, or before families existed) starts
            // its own family.
            let family = standing
                .and_then(|s| s.family)
                .unwrap_or_else(|| jti.clone());
            if jwt.blacklist_after_rotation {
                let record = Outstanding {
                    jti: &jti,
                    raw: &raw,
                    user_id,
                    created_at: at,
                    expires_at: presented.exp(),
                };
                if !blacklist::blacklist_in(conn, &record, &family, at)? {
                    // Lost the race to a concurrent refresh of the same token.
                    let standing = blacklist::standing(conn, &jti)?;
                    let outcome = reuse::presented_again(conn, jwt, standing.as_ref(), at)?;
                    return Ok(Some(outcome));
                }
            }
            let record = Outstanding {
                jti: &next_jti,
                raw: &next_raw,
                user_id,
                created_at: at,
                expires_at: next_exp,
            };
            blacklist::outstand_in(conn, &record, &family)?;
            Ok(None)
        })
        .await?;
    // The reuse outcome leaves the closure as a value so that it can be counted here.
    if let Some(outcome) = reuse {
        match outcome {
            reuse::Outcome::Revoked(_) => state.metrics.reuse_detected(true),
            reuse::Outcome::Tolerated => state.metrics.reuse_detected(false),
            reuse::Outcome::Ignored => {}
        }
        return Err(ApiError::token(&TokenError::Blacklisted));
    }
    Ok(Refreshed {
        access,
        refresh: rotated,
    })
}

/// TokenVerifyView: any well-signed, unexpired token with exp and jti. Only refresh and sliding
/// tokens can be blacklisted, so only they cost a database trip: verifying an access token needs no database.
pub async fn verify(state: &AuthState, raw: String) -> Result<(), ApiError> {
    count_blacklisted(state, verify_token(state, raw).await)
}

async fn verify_token(state: &AuthState, raw: String) -> Result<(), ApiError> {
    let token = state
        .decode(&raw, TokenKind::Untyped, now())
        .await
        .map_err(|e| ApiError::token(&e))?;
    let kind = token.kind_claim(state.jwt());
    if kind != Some(TokenKind::Refresh.name()) && kind != Some(TokenKind::Sliding.name()) {
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
    count_blacklisted(state, blacklist_raw(state, raw).await)
}

async fn blacklist_raw(state: &AuthState, raw: String) -> Result<(), ApiError> {
    let at = now();
    let token = state
        .decode(&raw, TokenKind::Refresh, at)
        .await
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

/// TokenRefreshSlidingView: the same token (same jti) with a new exp and iat, while its
/// refresh_exp has not passed and its user may still sign in.
pub async fn refresh_sliding(state: &AuthState, raw: String) -> Result<Slid, ApiError> {
    let slid = count_blacklisted(state, slide(state, raw).await)?;
    state.metrics.refreshed(Refresh::Sliding);
    Ok(slid)
}

async fn slide(state: &AuthState, raw: String) -> Result<Slid, ApiError> {
    let at = now();
    let token = state
        .decode(&raw, TokenKind::Sliding, at)
        .await
        .map_err(|e| ApiError::token(&e))?;
    let settings = state.settings.clone();
    let presented = token.clone();
    state
        .with_conn(move |conn| {
            let jwt = &settings.simple_jwt;
            let jti = presented.jti(jwt).unwrap_or_default().to_owned();
            if blacklist::is_blacklisted(conn, &jti)? {
                return Err(ApiError::token(&TokenError::Blacklisted));
            }
            check_token_user(conn, jwt, &presented, &raw, at)?;
            Ok(())
        })
        .await?;
    let mut token = token;
    state
        .tokens()
        .slide(&mut token, at)
        .map_err(|e| ApiError::token(&e))?;
    Ok(Slid {
        token: sign(state, &token)?,
    })
}
