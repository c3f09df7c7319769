//! Refresh-token reuse detection (RFC 9700 §4.14): a refresh token presented again after it was
//! blacklisted revokes every token of its login (its family), unless it comes back within
//! REFRESH_TOKEN_REUSE_INTERVAL of being blacklisted.
//!
//! Why: with rotation, a stolen refresh token and its rightful owner both hold a copy; whoever
//! refreshes second presents a token already used. The server cannot tell which is the thief, so
//! it ends the login for both. The grace interval keeps an honest double-submit (a retried request,
//! two tabs racing) from logging the user out; that reuse is still refused.
//!
//! A token blacklisted otherwise (the blacklist view, logout everywhere, a password change) and
//! never rotated is only refused, with an info line, not the security warning: its family has
//! nothing live left to revoke. One that had also been rotated is exactly the attack above. The answer stays simplejwt's
//! 401 "Token is blacklisted", so clients written for simplejwt need no change.

use std::time::Duration;

use diesel::QueryResult;
use settings::SimpleJwt;
use users::tx::UserLock;
use users::DbConnection;

use crate::store::blacklist::{self, Standing};

/// What a reuse led to, for the caller's tests and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Detection off, a token without a family (issued elsewhere), or not blacklisted after all.
    Ignored,
    /// Within the grace interval: refused, the family left alone.
    Tolerated,
    /// The family was revoked: this many tokens were blacklisted just now.
    Revoked(usize),
}

/// Applies the policy to a blacklisted token that was presented for refresh at `now`.
///
/// Call it inside a write transaction of its own (`users::tx::write`) that holds no lock on the
/// user's row: before revoking it takes that row `FOR UPDATE` (PostgreSQL), which waits for every
/// rotation of the user's tokens under way (each holds the row `FOR SHARE` until it commits) and
/// keeps new ones out until the revocation commits. The revocation's `INSERT ... SELECT` begins
/// after the lock, so under READ COMMITTED it sees every successor those rotations recorded: a
/// thief rotating the family's newest token at that moment cannot keep its successor alive. (A
/// transaction already holding the row `FOR SHARE` would have to upgrade, and two of them doing
/// so deadlock.)
pub fn presented_again(
    conn: &mut DbConnection,
    settings: &SimpleJwt,
    standing: Option<&Standing>,
    now: i64,
) -> QueryResult<Outcome> {
    let Some(
        standing @ Standing {
            user_id,
            family: Some(family),
            blacklisted_at: Some(blacklisted_at),
            ..
        },
    ) = standing
    else {
        return Ok(Outcome::Ignored);
    };
    if !settings.detects_refresh_reuse() {
        return Ok(Outcome::Ignored);
    }
    let user = user_id.map_or_else(|| "unknown".to_owned(), |id| id.to_string());
    if !blacklist::was_rotated(conn, standing)? {
        // Blacklisted by a logout (or logout everywhere, a password change), never rotated: no
        // other copy of this login lives on, so nothing was stolen and there is nothing to revoke.
        log::info!(
            "refresh token of user {user} (login family {family}) presented again after it was \
             blacklisted by a logout: refused"
        );
        return Ok(Outcome::Ignored);
    }
    let elapsed = now
        .saturating_sub(blacklisted_at.and_utc().timestamp())
        .max(0);
    // Whole seconds: the store keeps blacklisting times to the second.
    if Duration::from_secs(elapsed.unsigned_abs()) < settings.refresh_token_reuse_interval {
        log::info!(
            "refresh token of user {user} (login family {family}) reused {elapsed}s after \
             rotation, within REFRESH_TOKEN_REUSE_INTERVAL: refused, family kept"
        );
        return Ok(Outcome::Tolerated);
    }
    if let Some(id) = user_id {
        users::tx::user_by_id(conn, *id, UserLock::Exclusive)?;
    }
    let revoked = blacklist::blacklist_family(conn, family, now)?;
    // A security event: the token itself is never logged, only whose login it ended.
    log::warn!(
        "security: refresh token reuse detected for user {user}, {elapsed}s after rotation: \
         revoked login family {family} ({revoked} live token(s) blacklisted)"
    );
    Ok(Outcome::Revoked(revoked))
}
