//! Ending a user's sessions: logout everywhere (every outstanding refresh and sliding token of the
//! user blacklisted), used by its view (`views::service::logout_all`), by `manage revoketokens`
//! and after a password change.

use diesel::QueryResult;
use users::tx::{self, UserLock};
use users::DbConnection;

use crate::store::blacklist;

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
