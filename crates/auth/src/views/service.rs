//! What the token views do, apart from HTTP: login, refresh with rotation, verify, blacklist.
//! Database work runs on the blocking pool in as few trips as possible.

use actix_web::web;
use serde_json::Value;
use users::tx::UserLock;
use users::{DbConnection, User};

use crate::api::ApiError;
use crate::authn::credentials;
use crate::authn::AuthUser;
use crate::metrics::Refresh;
use crate::state::AuthState;
use crate::store::blacklist::{self, Outstanding};
use crate::store::lookup;
use crate::store::reuse;
use crate::store::sessions;
use crate::tokens::revoke;
use crate::tokens::{now, Token, TokenError, TokenKind};

const NO_ACCOUNT_LOGIN: &str = "No active account found with the given credentials";
const NO_ACCOUNT_TOKEN: &str = "No active account found for the given token.";

/// A signed token pair (the views answer it as `views::bodies::PairBody`).
#[derive(Debug, Clone)]
pub struct Pair {
    pub refresh: String,
    pub access: String,
}

/// What a refresh made: `refresh` only when rotating (answered as `views::bodies::RefreshedBody`).
#[derive(Debug, Clone)]
pub struct Refreshed {
    pub access: String,
    pub refresh: Option<String>,
}

fn sign(state: &AuthState, token: &Token) -> Result<String, ApiError> {
    state.tokens().encode(token).map_err(ApiError::internal)
}

/// TokenObtainPairView. The password is checked even when the user does not exist (against a
/// dummy hash), so the answer and its timing do not say which usernames exist. `client` is the
/// client's address (`api::request::client_address`), for the brute-force counters.
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
    let user = credentials::authenticate(state, client, username, password).await?;
    // Only credential refusals count as failed logins; a 503 is not the client's failure.
    state.metrics.login(user.is_some());
    user.ok_or(ApiError::AuthenticationFailed(NO_ACCOUNT_LOGIN))
}

/// Counts a refusal of a blacklisted token (every view refuses with simplejwt's one message).
fn count_blacklisted<T>(state: &AuthState, result: Result<T, ApiError>) -> Result<T, ApiError> {
    // Only a refusal is looked at (the message is formatted then, not on every success).
    if let Err(ApiError::AuthenticationFailedCode { detail, .. } | ApiError::NonField(detail)) =
        &result
    {
        if *detail == TokenError::Blacklisted.to_string() {
            state.metrics.blacklist_hit();
        }
    }
    result
}

/// One trip for what a login writes: the outstanding token row, and last_login when asked. In a
/// write transaction under the user's shared lock, and only if the password that was checked is
/// still the stored one: a login with the old password racing a password change must not leave
/// a live token behind the change that was meant to end every session.
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
    let checked = user.password.clone();
    let recorded = state
        .with_conn(move |conn| {
            users::tx::write(conn, |conn| {
                // Writing last_login takes the row anyway: lock it for that from the start (a
                // shared lock upgraded by two concurrent logins would deadlock on PostgreSQL).
                let lock = if update_last_login {
                    UserLock::Exclusive
                } else {
                    UserLock::Shared
                };
                let current = users::tx::user_by_id(conn, user_id, lock)?;
                if current.is_none_or(|u| u.password != checked) {
                    return Ok(false);
                }
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
                Ok(true)
            })
        })
        .await?;
    if recorded {
        Ok(())
    } else {
        Err(ApiError::AuthenticationFailed(NO_ACCOUNT_LOGIN))
    }
}

/// What a refresh or a slide decided inside its write transaction. A refusal is committed, not
/// rolled back: what it wrote (a token blacklisted after a password change, a family revoked on
/// reuse) must stay.
enum Decided<T> {
    Done(T),
    Refused(ApiError),
    /// A blacklisted refresh token came back: reuse detection ran.
    Reused(reuse::Outcome),
    /// A blacklisted refresh token came back (nothing written): reuse detection runs next, in a
    /// transaction of its own (`reuse::presented_again` says why).
    PresentedAgain,
}

/// The user id claim of a refresh or sliding token, when present and truthy: simplejwt checks the
/// user only then.
fn user_claim<'t>(settings: &settings::SimpleJwt, token: &'t Token) -> Option<&'t Value> {
    match token.claims.get(&settings.user_id_claim) {
        None | Some(Value::Null) | Some(Value::Bool(false)) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::Number(n)) if n.as_f64() == Some(0.0) => None,
        Some(claim) => Some(claim),
    }
}

/// The user a refresh or sliding token names must still exist, be allowed in and, with
/// CHECK_REVOKE_TOKEN, have the password the token was issued for; a token that outlived a
/// password change is blacklisted (simplejwt after 5.5.1). Checked only when the claim is present
/// and truthy, as simplejwt does. The row is read under the user's shared lock (`users::tx`),
/// inside the caller's write transaction: `Ok(Err(_))` is a refusal to commit.
fn token_user(
    conn: &mut users::DbConnection,
    settings: &settings::SimpleJwt,
    token: &Token,
    raw: &str,
    at: i64,
) -> Result<Result<Option<users::User>, ApiError>, ApiError> {
    let Some(claim) = user_claim(settings, token) else {
        return Ok(Ok(None));
    };
    let user = lookup::user_for_claim_locked(conn, settings, claim, UserLock::Shared)?;
    Ok(checked_user(conn, settings, token, raw, at, user)?.map(Some))
}

/// Why a token's user may not have new tokens, if it may not: no such user or not allowed to
/// authenticate, or a password changed since the token was issued. The one list of those checks,
/// for `checked_user` and for the PostgreSQL rotation outside a transaction (`rotate_unlocked`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NoAccount,
    PasswordChanged,
}

fn refusal(settings: &settings::SimpleJwt, token: &Token, user: &User) -> Option<Refusal> {
    if !lookup::may_authenticate(settings, user) {
        Some(Refusal::NoAccount)
    } else if !revoke::still_valid(settings, &token.claims, user) {
        Some(Refusal::PasswordChanged)
    } else {
        None
    }
}

/// `token_user`'s checks of the row its claim found (`None`: no such user); a token whose
/// password changed is blacklisted on the way.
fn checked_user(
    conn: &mut users::DbConnection,
    settings: &settings::SimpleJwt,
    token: &Token,
    raw: &str,
    at: i64,
    user: Option<users::User>,
) -> Result<Result<users::User, ApiError>, ApiError> {
    let refused = user.as_ref().map(|u| refusal(settings, token, u));
    match (user, refused) {
        (Some(user), Some(None)) => Ok(Ok(user)),
        (Some(user), Some(Some(Refusal::PasswordChanged))) => {
            let record = Outstanding {
                jti: token.jti(settings).unwrap_or_default(),
                raw,
                user_id: Some(user.id),
                created_at: at,
                expires_at: token.exp(),
            };
            blacklist::blacklist(conn, &record, at)?;
            Ok(Err(ApiError::AuthenticationFailed(
                revoke::PASSWORD_CHANGED,
            )))
        }
        // No such user, or one that may not authenticate.
        _ => Ok(Err(ApiError::AuthenticationFailed(NO_ACCOUNT_TOKEN))),
    }
}

/// TokenRefreshView: a new access token; with ROTATE_REFRESH_TOKENS a new refresh token too, the
/// old one blacklisted first when BLACKLIST_AFTER_ROTATION (the blacklist insert is the atomic gate:
/// of many concurrent refreshes of one token exactly one wins). A blacklisted token presented here
/// goes through reuse detection (`reuse`).
///
/// One trip to the blocking pool, one write transaction (`users::tx`) under the user's shared
/// lock: the checks, the gate and the new token's row commit together, so ending the user's
/// sessions (logout everywhere, a password change) either sees the new token or makes this
/// rotation fail. The user claims (TOKEN_USER_CLAIMS) of the new tokens come from the user's row.
///
/// On PostgreSQL the usual rotation (`rotate_unlocked`) takes two statements and no transaction:
/// the read without a lock, then one statement that locks the user's row only if it is still the
/// version read and writes only under that lock (`blacklist::rotate_if_unchanged`, where the
/// races are argued); if the row changed, or the gate was lost, nothing was written and the
/// transaction above decides afresh.
pub async fn refresh(state: &web::Data<AuthState>, raw: String) -> Result<Refreshed, ApiError> {
    let refreshed = count_blacklisted(state, refresh_pair(state, raw).await)?;
    state.metrics.refreshed(Refresh::Pair);
    Ok(refreshed)
}

async fn refresh_pair(state: &web::Data<AuthState>, raw: String) -> Result<Refreshed, ApiError> {
    let at = now();
    let presented = state
        .decode(&raw, TokenKind::Refresh, at)
        .await
        .map_err(|e| ApiError::token(&e))?;
    let shared = state.clone();
    let decided = state
        .with_conn(move |conn| {
            if let Some(refreshed) = rotate_unlocked(conn, &shared, &presented, at)? {
                return Ok(Decided::Done(refreshed));
            }
            match users::tx::write(conn, |conn| rotate(conn, &shared, &presented, &raw, at))? {
                Decided::PresentedAgain => {
                    let jti = presented.jti(shared.jwt()).unwrap_or_default();
                    users::tx::write(conn, |conn| reused(conn, shared.jwt(), jti, at))
                }
                decided => Ok(decided),
            }
        })
        .await?;
    match decided {
        Decided::Done(refreshed) => Ok(refreshed),
        Decided::Refused(e) => Err(e),
        // Not left by the closure above; refused all the same.
        Decided::PresentedAgain => Err(ApiError::token(&TokenError::Blacklisted)),
        Decided::Reused(outcome) => {
            match outcome {
                reuse::Outcome::Revoked(_) => state.metrics.reuse_detected(true),
                reuse::Outcome::Tolerated => state.metrics.reuse_detected(false),
                reuse::Outcome::Ignored => {}
            }
            Err(ApiError::token(&TokenError::Blacklisted))
        }
    }
}

/// A blacklisted refresh token came back: reuse detection decides, in a write transaction of its
/// own (its standing read afresh there).
fn reused<T>(
    conn: &mut users::DbConnection,
    jwt: &settings::SimpleJwt,
    jti: &str,
    at: i64,
) -> Result<Decided<T>, ApiError> {
    let standing = blacklist::standing(conn, jti)?;
    Ok(Decided::Reused(reuse::presented_again(
        conn,
        jwt,
        standing.as_ref(),
        at,
    )?))
}

/// The access token for `presented` (its user claims from `user`'s row), and the token it was
/// derived from, which a rotation's successor is derived from too.
fn access_for(
    state: &AuthState,
    presented: &Token,
    user: Option<&User>,
    at: i64,
) -> Result<(String, Token), ApiError> {
    let t = state.tokens();
    let mut current = presented.clone();
    if let Some(user) = user {
        t.user_claims_from(&mut current, user);
    }
    let access = sign(state, &t.access_for(&current, at))?;
    Ok((access, current))
}

/// The rotated refresh token: `current` with a new jti, iat and exp, and its signed form.
fn successor(state: &AuthState, mut current: Token, at: i64) -> Result<(Token, String), ApiError> {
    state.tokens().rotate(&mut current, at);
    let signed = sign(state, &current)?;
    Ok((current, signed))
}

/// The usual rotation on PostgreSQL, in two statements and no transaction (see `refresh`): a token
/// recorded in its family and not blacklisted, its user found and allowed, its password-hash
/// claim still valid, ROTATE_REFRESH_TOKENS and BLACKLIST_AFTER_ROTATION on. `None` when it is
/// not that case, or when the second statement wrote nothing (the user's row changed, or the
/// gate was lost): then the caller runs `rotate`'s transaction, which reads everything again
/// under the lock and decides (a refusal, reuse detection) as it always did.
fn rotate_unlocked(
    conn: &mut DbConnection,
    state: &AuthState,
    presented: &Token,
    at: i64,
) -> Result<Option<Refreshed>, ApiError> {
    let DbConnection::Pg(pg) = conn else {
        return Ok(None);
    };
    let jwt = state.jwt();
    if !(jwt.rotate_refresh_tokens && jwt.blacklist_after_rotation) {
        return Ok(None);
    }
    let Some(key) = user_claim(jwt, presented).and_then(|c| lookup::UserKey::from_claim(jwt, c))
    else {
        return Ok(None);
    };
    let jti = presented.jti(jwt).unwrap_or_default();
    let Some((user, standing, version)) = blacklist::user_and_standing_unlocked(pg, &key, jti)?
    else {
        return Ok(None);
    };
    let Some(blacklist::Standing {
        id,
        family: Some(family),
        blacklisted_at: None,
        ..
    }) = standing
    else {
        return Ok(None);
    };
    // `checked_user`'s checks without its write: a refusal is the transaction's to commit.
    if refusal(jwt, presented, &user).is_some() {
        return Ok(None);
    }
    let (access, current) = access_for(state, presented, Some(&user), at)?;
    let (next, next_raw) = successor(state, current, at)?;
    let record = Outstanding {
        jti: next.jti(jwt).unwrap_or_default(),
        raw: &next_raw,
        user_id: Some(user.id),
        created_at: at,
        expires_at: next.exp(),
    };
    match blacklist::rotate_if_unchanged(pg, version, id, at, &record, &family)? {
        blacklist::Guarded::Rotated => Ok(Some(Refreshed {
            access,
            refresh: Some(next_raw),
        })),
        blacklist::Guarded::Changed | blacklist::Guarded::Lost => Ok(None),
    }
}

/// The refresh's transaction: see `refresh`. On the usual path (a token recorded by its login or
/// by a rotation) three statements: the user's row under its shared lock together with the
/// token's standing, then the gate and the successor's row (one statement on PostgreSQL).
fn rotate(
    conn: &mut users::DbConnection,
    state: &AuthState,
    presented: &Token,
    raw: &str,
    at: i64,
) -> Result<Decided<Refreshed>, ApiError> {
    let jwt = state.jwt();
    let jti = presented.jti(jwt).unwrap_or_default().to_owned();
    let claim = user_claim(jwt, presented);
    // The token's standing decides first (a blacklisted token goes to reuse detection whatever
    // its user); read with the user's row when the claim names one, in the same statement.
    let (standing, found) = match claim.and_then(|c| lookup::UserKey::from_claim(jwt, c)) {
        Some(key) => match blacklist::user_and_standing(conn, &key, &jti, UserLock::Shared)? {
            Some((user, standing)) => (standing, Some(user)),
            None => (blacklist::standing(conn, &jti)?, None),
        },
        None => (blacklist::standing(conn, &jti)?, None),
    };
    if standing
        .as_ref()
        .is_some_and(|s| s.blacklisted_at.is_some())
    {
        return Ok(Decided::PresentedAgain);
    }
    let user = match claim {
        None => None,
        Some(_) => match checked_user(conn, jwt, presented, raw, at, found)? {
            Ok(user) => Some(user),
            Err(refused) => return Ok(Decided::Refused(refused)),
        },
    };
    let (access, current) = access_for(state, presented, user.as_ref(), at)?;
    if !jwt.rotate_refresh_tokens {
        return Ok(Decided::Done(Refreshed {
            access,
            refresh: None,
        }));
    }
    let user_id = user.map(|u| u.id);
    // A token first seen here (issued by simplejwt, or before families existed) starts its own
    // family.
    let (row, family) = match standing {
        Some(blacklist::Standing {
            id,
            family: Some(family),
            ..
        }) => (Some(id), family),
        other => (
            None,
            other.and_then(|s| s.family).unwrap_or_else(|| jti.clone()),
        ),
    };
    let (next, next_raw) = successor(state, current, at)?;
    let record = Outstanding {
        jti: next.jti(jwt).unwrap_or_default(),
        raw: &next_raw,
        user_id,
        created_at: at,
        expires_at: next.exp(),
    };
    let passed = match (jwt.blacklist_after_rotation, row) {
        (false, _) => {
            blacklist::record_new(conn, &record, &family)?;
            true
        }
        // Recorded in its family already: the gate and the successor's row.
        (true, Some(id)) => blacklist::rotate(conn, id, at, &record, &family)?,
        (true, None) => {
            let presented_record = Outstanding {
                jti: &jti,
                raw,
                user_id,
                created_at: at,
                expires_at: presented.exp(),
            };
            let passed = blacklist::blacklist_in(conn, &presented_record, &family, at)?;
            if passed {
                blacklist::record_new(conn, &record, &family)?;
            }
            passed
        }
    };
    if !passed {
        // Lost the race to a concurrent refresh of the same token (or to a revocation); nothing
        // was written.
        return Ok(Decided::PresentedAgain);
    }
    Ok(Decided::Done(Refreshed {
        access,
        refresh: Some(next_raw),
    }))
}

/// TokenVerifyView: any well-signed, unexpired token with exp and jti. Only refresh and sliding
/// tokens can be blacklisted, so only they cost a database trip: verifying an access token needs no database.
pub async fn verify(state: &AuthState, raw: String) -> Result<(), ApiError> {
    count_blacklisted(state, verify_token(state, raw).await)
}

async fn verify_token(state: &AuthState, raw: String) -> Result<(), ApiError> {
    // `AuthState::decode`'s two steps, the second without building the claims map.
    state.backend.prepare(&raw).await;
    let Some(jti) = state
        .tokens()
        .verify_untyped(&raw, now())
        .map_err(|e| ApiError::token(&e))?
    else {
        return Ok(());
    };
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
/// refresh_exp has not passed and its user may still sign in. In one write transaction under the
/// user's shared lock (as `refresh`): the token's row takes the new exp, so that ending the user's
/// sessions finds it and `flushexpiredtokens` keeps its blacklist row while it can be used. Its
/// user claims come from the user's row.
pub async fn refresh_sliding(state: &web::Data<AuthState>, raw: String) -> Result<Slid, ApiError> {
    let slid = count_blacklisted(state, slide(state, raw).await)?;
    state.metrics.refreshed(Refresh::Sliding);
    Ok(slid)
}

async fn slide(state: &web::Data<AuthState>, raw: String) -> Result<Slid, ApiError> {
    let at = now();
    let token = state
        .decode(&raw, TokenKind::Sliding, at)
        .await
        .map_err(|e| ApiError::token(&e))?;
    let shared = state.clone();
    let decided = state
        .with_conn(move |conn| {
            users::tx::write(conn, |conn| slide_in(conn, &shared, token, &raw, at))
        })
        .await?;
    match decided {
        Decided::Done(slid) => Ok(slid),
        Decided::Refused(e) => Err(e),
        Decided::Reused(_) | Decided::PresentedAgain => {
            Err(ApiError::token(&TokenError::Blacklisted))
        }
    }
}

/// The slide's transaction: see `refresh_sliding`.
fn slide_in(
    conn: &mut users::DbConnection,
    state: &AuthState,
    mut token: Token,
    raw: &str,
    at: i64,
) -> Result<Decided<Slid>, ApiError> {
    let jwt = state.jwt();
    let jti = token.jti(jwt).unwrap_or_default().to_owned();
    if blacklist::is_blacklisted(conn, &jti)? {
        return Ok(Decided::Refused(ApiError::token(&TokenError::Blacklisted)));
    }
    let user = match token_user(conn, jwt, &token, raw, at)? {
        Ok(user) => user,
        Err(refused) => return Ok(Decided::Refused(refused)),
    };
    let t = state.tokens();
    if let Err(e) = t.slide(&mut token, at) {
        return Ok(Decided::Refused(ApiError::token(&e)));
    }
    if let Some(user) = &user {
        t.user_claims_from(&mut token, user);
    }
    let record = Outstanding {
        jti: &jti,
        raw,
        user_id: user.map(|u| u.id),
        created_at: at,
        expires_at: token.exp(),
    };
    blacklist::slid(conn, &record)?;
    Ok(Decided::Done(Slid {
        token: sign(state, &token)?,
    }))
}

/// The database row of the authenticated user. A stateless user (JWTStatelessUserAuthentication)
/// is looked up by its claim: sessions and passwords live in the database whatever authenticated.
pub fn database_user(
    conn: &mut DbConnection,
    state_jwt: &settings::SimpleJwt,
    user: &AuthUser,
) -> Result<User, ApiError> {
    match user {
        AuthUser::User(u) => Ok(u.clone()),
        AuthUser::Token(t) => lookup::user_for_claim(conn, state_jwt, &t.id)?.ok_or(
            ApiError::AuthenticationFailedCode {
                detail: "User not found".into(),
                code: "user_not_found",
            },
        ),
    }
}

/// `POST /api/token/logout-all/`: ends every session of the authenticated user.
pub async fn logout_all(state: &AuthState, user: AuthUser) -> Result<usize, ApiError> {
    let settings = state.settings.clone();
    let at = now();
    let (user_id, ended) = state
        .with_conn(move |conn| {
            let user = database_user(conn, &settings.simple_jwt, &user)?;
            Ok((user.id, sessions::end_all(conn, user.id, at)?))
        })
        .await?;
    log::info!("logout everywhere: user {user_id}, {ended} token(s) blacklisted");
    Ok(ended)
}
