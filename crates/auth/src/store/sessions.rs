//! Ending a user's sessions: logout everywhere (every outstanding refresh and sliding token of the
//! user blacklisted), used by its view, by `manage revoketokens` and after a password change.

use diesel::QueryResult;
use users::tx::{self, UserLock};
use users::{DbConnection, User};

use crate::api::ApiError;
use crate::authn::AuthUser;
use crate::state::AuthState;
use crate::store::blacklist;
use crate::store::lookup;
use crate::tokens::now;

/// Blacklists every live outstanding token of the user; returns how many. Access tokens already
/// handed out live on until their `exp` (as after simplejwt's blacklist view); with
/// CHECK_REVOKE_TOKEN a password change ends those too.
/// `manage revoketokens` and `manage changepassword` call this too.
///
/// Atomic against rotation (`users::tx`): in a write transaction (its caller's, when it has one:
/// a password change ends the sessions in the transaction that stores the password), under the
/// user's exclusive lock. A rotation of one of these tokens either committed before, and its new
/// token is blacklisted here, or runs after, and finds its token blacklisted.
pub fn end_all(conn: &mut DbConnection, user_id: i32, at: i64) -> QueryResult<usize> {
    tx::write(conn, |conn| {
        tx::user_by_id(conn, user_id, UserLock::Exclusive)?;
        blacklist::blacklist_user(conn, user_id, at)
    })
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
            Ok((user.id, end_all(conn, user.id, at)?))
        })
        .await?;
    log::info!("logout everywhere: user {user_id}, {ended} token(s) blacklisted");
    Ok(ended)
}
