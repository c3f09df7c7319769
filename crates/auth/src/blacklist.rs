//! The token blacklist store: outstanding refresh tokens and the blacklisted ones, by jti, with a
//! SHA-256 of each token instead of the token (a database leak must not hand out live tokens).

use chrono::{DateTime, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};
use sha2::{Digest, Sha256};

use users::schema::token_blacklist_blacklistedtoken as black;
use users::schema::token_blacklist_outstandingtoken as out;
use users::DbConnection;

/// What the store needs to know about a token to record it.
#[derive(Debug, Clone)]
pub struct Outstanding<'a> {
    pub jti: &'a str,
    pub raw: &'a str,
    pub user_id: Option<i32>,
    pub created_at: i64,
    pub expires_at: i64,
}

pub fn token_hash(raw: &str) -> String {
    hex::encode(Sha256::digest(raw.as_bytes()))
}

/// Seconds since the epoch as the UTC timestamp the tables store (clamped to a representable time).
pub fn timestamp(secs: i64) -> NaiveDateTime {
    DateTime::from_timestamp(secs.clamp(0, 253_402_300_799), 0)
        .unwrap_or_default()
        .naive_utc()
}

fn is_unique_violation(e: &Error) -> bool {
    matches!(
        e,
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Records the token as outstanding unless it already is; returns its row id. Two racing calls for
/// one jti both get the same row.
pub fn outstand(conn: &mut DbConnection, t: &Outstanding<'_>) -> QueryResult<i64> {
    Ok(record(conn, t, None)?.id)
}

/// `outstand`, in a refresh-token family (see `reuse`). A row that had no family (written before
/// families existed, or a token first seen now) joins this one; a family never changes. Only
/// such a row costs an UPDATE: a rotation's two calls (the presented token's row, already in its
/// family, and the new token's, written with it) take no write lock for it.
pub fn outstand_in(conn: &mut DbConnection, t: &Outstanding<'_>, family: &str) -> QueryResult<i64> {
    let row = record(conn, t, Some(family))?;
    if row.family.is_none() {
        diesel::update(
            out::table
                .filter(out::id.eq(row.id))
                .filter(out::family.is_null()),
        )
        .set(out::family.eq(family))
        .execute(conn)?;
    }
    Ok(row.id)
}

/// An outstanding token's row id and family.
#[derive(diesel::Queryable)]
struct Row {
    id: i64,
    family: Option<String>,
}

fn record(conn: &mut DbConnection, t: &Outstanding<'_>, family: Option<&str>) -> QueryResult<Row> {
    if let Some(row) = outstanding(conn, t.jti)? {
        return Ok(row);
    }
    let inserted = diesel::insert_into(out::table)
        .values((
            out::jti.eq(t.jti),
            out::token_hash.eq(token_hash(t.raw)),
            out::user_id.eq(t.user_id),
            out::created_at.eq(Some(timestamp(t.created_at))),
            out::expires_at.eq(timestamp(t.expires_at)),
            out::family.eq(family),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {}
        Err(e) => return Err(e),
    }
    outstanding(conn, t.jti)?.ok_or(Error::NotFound)
}

/// What the store knows about one token: whose it is, its family, and when it was blacklisted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub user_id: Option<i32>,
    pub family: Option<String>,
    pub blacklisted_at: Option<NaiveDateTime>,
}

/// The token's row, `None` when it was never seen (one query: refresh asks this on every call).
pub fn standing(conn: &mut DbConnection, jti: &str) -> QueryResult<Option<Standing>> {
    let row: Option<(Option<i32>, Option<String>, Option<NaiveDateTime>)> = out::table
        .left_join(black::table)
        .filter(out::jti.eq(jti))
        .select((out::user_id, out::family, black::blacklisted_at.nullable()))
        .get_result(conn)
        .optional()?;
    Ok(row.map(|(user_id, family, blacklisted_at)| Standing {
        user_id,
        family,
        blacklisted_at,
    }))
}

fn outstanding(conn: &mut DbConnection, jti: &str) -> QueryResult<Option<Row>> {
    out::table
        .filter(out::jti.eq(jti))
        .select((out::id, out::family))
        .get_result(conn)
        .optional()
}

pub fn is_blacklisted(conn: &mut DbConnection, jti: &str) -> QueryResult<bool> {
    let hit: Option<i64> = black::table
        .inner_join(out::table)
        .filter(out::jti.eq(jti))
        .select(black::id)
        .get_result(conn)
        .optional()?;
    Ok(hit.is_some())
}

/// Blacklists the token. Returns false when it already was: the unique index on `token_id` makes
/// this the one atomic gate that lets exactly one of many concurrent rotations through.
pub fn blacklist(conn: &mut DbConnection, t: &Outstanding<'_>, now: i64) -> QueryResult<bool> {
    let token_id = outstand(conn, t)?;
    gate(conn, token_id, now)
}

/// `blacklist`, recording the token in `family` first (rotation: see `outstand_in`).
pub fn blacklist_in(
    conn: &mut DbConnection,
    t: &Outstanding<'_>,
    family: &str,
    now: i64,
) -> QueryResult<bool> {
    let token_id = outstand_in(conn, t, family)?;
    gate(conn, token_id, now)
}

/// Blacklists every unexpired, not yet blacklisted token of a family; returns how many. (Expired
/// rows are left alone: their `exp` refuses them anyway.)
pub fn blacklist_family(conn: &mut DbConnection, family: &str, now: i64) -> QueryResult<usize> {
    let ids: Vec<i64> = out::table
        .filter(out::family.eq(family))
        .filter(out::expires_at.ge(timestamp(now)))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            black::table.filter(black::token_id.eq(out::id)),
        )))
        .select(out::id)
        .load(conn)?;
    blacklist_ids(conn, &ids, now)
}

/// Blacklists every unexpired, not yet blacklisted token of a user (logout everywhere); returns
/// how many.
pub fn blacklist_user(conn: &mut DbConnection, user_id: i32, now: i64) -> QueryResult<usize> {
    let ids: Vec<i64> = out::table
        .filter(out::user_id.eq(user_id))
        .filter(out::expires_at.ge(timestamp(now)))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            black::table.filter(black::token_id.eq(out::id)),
        )))
        .select(out::id)
        .load(conn)?;
    blacklist_ids(conn, &ids, now)
}

/// One insert per row, each through the gate: a row blacklisted meanwhile (a concurrent rotation
/// or logout) is simply not counted, instead of failing the whole batch.
fn blacklist_ids(conn: &mut DbConnection, ids: &[i64], now: i64) -> QueryResult<usize> {
    let mut count = 0;
    for id in ids {
        if gate(conn, *id, now)? {
            count += 1;
        }
    }
    Ok(count)
}

/// Inserts the blacklist row; false when it already existed (the unique index decides).
fn gate(conn: &mut DbConnection, token_id: i64, now: i64) -> QueryResult<bool> {
    let inserted = diesel::insert_into(black::table)
        .values((
            black::token_id.eq(token_id),
            black::blacklisted_at.eq(timestamp(now)),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Deletes outstanding tokens (and, by cascade, their blacklist rows) that expired before `now`:
/// an expired token is refused by its `exp` alone. Returns how many were deleted.
pub fn flush_expired(conn: &mut DbConnection, now: i64) -> QueryResult<usize> {
    let cutoff = timestamp(now);
    conn.transaction(|conn| {
        let expired = out::table
            .filter(out::expires_at.lt(cutoff))
            .select(out::id);
        diesel::delete(black::table.filter(black::token_id.eq_any(expired))).execute(conn)?;
        diesel::delete(out::table.filter(out::expires_at.lt(cutoff))).execute(conn)
    })
}
