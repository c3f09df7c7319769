//! The token blacklist store: outstanding refresh tokens and the blacklisted ones, by jti, with a
//! SHA-256 of each token instead of the token (a database leak must not hand out live tokens).

use chrono::{DateTime, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::Error;
use diesel::sql_types::Timestamp;
use sha2::{Digest, Sha256};

use users::schema::token_blacklist_blacklistedtoken as black;
use users::schema::token_blacklist_outstandingtoken as out;
use users::DbConnection;

use crate::store::lookup::UserKey;

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
    insert(conn, t, family)?;
    outstanding(conn, t.jti)?.ok_or(Error::NotFound)
}

/// Records a token just issued here (a fresh jti: no row to look for first), in `family`.
pub fn record_new(conn: &mut DbConnection, t: &Outstanding<'_>, family: &str) -> QueryResult<()> {
    insert(conn, t, Some(family))
}

fn insert(conn: &mut DbConnection, t: &Outstanding<'_>, family: Option<&str>) -> QueryResult<()> {
    // ON CONFLICT, not a caught unique violation: inside a PostgreSQL transaction an error aborts
    // the whole transaction, whatever the code does with it afterwards.
    let hash = token_hash(t.raw);
    users::on_backend!(conn, c => diesel::insert_into(out::table)
        .values((
            out::jti.eq(t.jti),
            out::token_hash.eq(&hash),
            out::user_id.eq(t.user_id),
            out::created_at.eq(Some(timestamp(t.created_at))),
            out::expires_at.eq(timestamp(t.expires_at)),
            out::family.eq(family),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// What the store knows about one token: its row, whose it is, its family, and when it was
/// blacklisted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub id: i64,
    pub user_id: Option<i32>,
    pub family: Option<String>,
    pub blacklisted_at: Option<NaiveDateTime>,
}

/// The token's row, `None` when it was never seen (one query; a refresh reads it with the
/// user's row instead, `user_and_standing`, when its claim names a user).
pub fn standing(conn: &mut DbConnection, jti: &str) -> QueryResult<Option<Standing>> {
    out::table
        .left_join(black::table)
        .filter(out::jti.eq(jti))
        .select((
            out::id,
            out::user_id,
            out::family,
            black::blacklisted_at.nullable(),
        ))
        .get_result::<(i64, Option<i32>, Option<String>, Option<NaiveDateTime>)>(conn)
        .optional()
        .map(|row| {
            row.map(|(id, user_id, family, blacklisted_at)| Standing {
                id,
                user_id,
                family,
                blacklisted_at,
            })
        })
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

/// Whether a token was rotated: its family holds a token recorded after it. (A token blacklisted
/// by a logout, logout everywhere or a password change, and never rotated, has no successor.)
pub fn was_rotated(conn: &mut DbConnection, standing: &Standing) -> QueryResult<bool> {
    let Some(family) = &standing.family else {
        return Ok(false);
    };
    let successor: Option<i64> = out::table
        .filter(out::family.eq(family))
        .filter(out::id.gt(standing.id))
        .select(out::id)
        .first(conn)
        .optional()?;
    Ok(successor.is_some())
}

/// Blacklists every unexpired, not yet blacklisted token of a family; returns how many. (Expired
/// rows are left alone: their `exp` refuses them anyway.)
pub fn blacklist_family(conn: &mut DbConnection, family: &str, now: i64) -> QueryResult<usize> {
    users::on_backend!(conn, c => diesel::insert_into(black::table)
        .values(
            out::table
                .filter(out::family.eq(family))
                .filter(out::expires_at.ge(timestamp(now)))
                .select((out::id, timestamp(now).into_sql::<Timestamp>())),
        )
        .into_columns((black::token_id, black::blacklisted_at))
        .on_conflict_do_nothing()
        .execute(c))
}

/// Blacklists every unexpired, not yet blacklisted token of a user (logout everywhere); returns
/// how many. One statement: a token recorded by a rotation that committed before it is in, and
/// one already blacklisted (a concurrent logout) is skipped, not an error. Atomic against a
/// rotation only under the user's exclusive lock (`sessions::end_all`).
pub fn blacklist_user(conn: &mut DbConnection, user_id: i32, now: i64) -> QueryResult<usize> {
    users::on_backend!(conn, c => diesel::insert_into(black::table)
        .values(
            out::table
                .filter(out::user_id.eq(user_id))
                .filter(out::expires_at.ge(timestamp(now)))
                .select((out::id, timestamp(now).into_sql::<Timestamp>())),
        )
        .into_columns((black::token_id, black::blacklisted_at))
        .on_conflict_do_nothing()
        .execute(c))
}

/// Blacklists a recorded token by its row id: the gate. False when it already was (the unique
/// index decides: the one atomic gate that lets exactly one of many concurrent rotations through).
pub fn gate(conn: &mut DbConnection, token_id: i64, now: i64) -> QueryResult<bool> {
    let inserted = users::on_backend!(conn, c => diesel::insert_into(black::table)
        .values((
            black::token_id.eq(token_id),
            black::blacklisted_at.eq(timestamp(now)),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// A sliding token was slid to `exp`: its row's `expires_at` follows, so that ending the user's
/// sessions still finds it and `flush_expired` keeps its blacklist row while any version of it
/// can be used. Records it (in no family) if it was never seen.
pub fn slid(conn: &mut DbConnection, t: &Outstanding<'_>) -> QueryResult<()> {
    let id = outstand(conn, t)?;
    diesel::update(
        out::table
            .filter(out::id.eq(id))
            .filter(out::expires_at.lt(timestamp(t.expires_at))),
    )
    .set(out::expires_at.eq(timestamp(t.expires_at)))
    .execute(conn)?;
    Ok(())
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

/// The refresh's first statement: the user a token names, read under `lock` (PostgreSQL: `FOR
/// SHARE OF` the user's row alone, the token's rows being on the outer side of the joins), with the
/// token's standing. `None` when no user has that key (then ask [`standing`] alone).
pub fn user_and_standing(
    conn: &mut DbConnection,
    key: &UserKey,
    jti: &str,
    lock: users::tx::UserLock,
) -> QueryResult<Option<(users::User, Option<Standing>)>> {
    let read = |lock: Option<&'static str>| UserAndStanding {
        key,
        jti,
        lock,
        version: false,
    };
    let row: Option<UserAndStandingRow> = match conn {
        DbConnection::Sqlite(c) => read(None).get_result(c).optional()?,
        DbConnection::Pg(c) => read(Some(match lock {
            users::tx::UserLock::Shared => " FOR SHARE OF u",
            users::tx::UserLock::Exclusive => " FOR UPDATE OF u",
        }))
        .get_result(c)
        .optional()?,
    };
    Ok(row.map(UserAndStandingRow::split))
}

/// The version of a user's row that a statement read (PostgreSQL): its id and `xmin`, the
/// transaction that wrote that version. Every `UPDATE` (and a delete and re-insert) writes a new
/// version with the updating transaction's id, never the one that wrote the version read, so an
/// unchanged `xmin` means the very row the checks saw; a row lock alone leaves it as it is, and so
/// does freezing (since PostgreSQL 9.4 a frozen row keeps its raw `xmin`, which is what the column
/// shows). A version that reads as changed when it is not would only cost the transactional path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowVersion {
    user_id: i32,
    xmin: i64,
}

/// The usual refresh's first statement on PostgreSQL (see `views::service::refresh`):
/// `user_and_standing` without a lock, in autocommit, with the version of the user's row, so
/// that [`rotate_if_unchanged`] can take the lock later and check nothing changed in between.
pub fn user_and_standing_unlocked(
    pg: &mut diesel::PgConnection,
    key: &UserKey,
    jti: &str,
) -> QueryResult<Option<(users::User, Option<Standing>, RowVersion)>> {
    let row: Option<VersionedRow> = UserAndStanding {
        key,
        jti,
        lock: None,
        version: true,
    }
    .get_result(pg)
    .optional()?;
    Ok(row.map(
        |VersionedRow {
             read: row,
             row_version,
         }| {
            let version = RowVersion {
                user_id: row.user.id,
                xmin: row_version,
            };
            let (user, standing) = row.split();
            (user, standing, version)
        },
    ))
}

/// `user_and_standing`'s statement. Written out (diesel's DSL has no `FOR SHARE OF`), its SQL
/// the same at every call so that the connection's statement cache keeps it prepared.
/// `version`: also the user's row version (`xmin`, PostgreSQL only).
#[derive(Debug, Clone, Copy)]
struct UserAndStanding<'a> {
    key: &'a UserKey,
    jti: &'a str,
    lock: Option<&'static str>,
    version: bool,
}

#[derive(diesel::QueryableByName)]
struct VersionedRow {
    // Not named `row`: the derive's own variable is.
    #[diesel(embed)]
    read: UserAndStandingRow,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    row_version: i64,
}

#[derive(diesel::QueryableByName)]
struct UserAndStandingRow {
    #[diesel(embed)]
    user: users::User,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    token_row: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    token_user: Option<i32>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    token_family: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Timestamp>)]
    token_blacklisted_at: Option<NaiveDateTime>,
}

impl UserAndStandingRow {
    /// The user, and the token's standing when the token is recorded.
    fn split(self) -> (users::User, Option<Standing>) {
        let standing = self.token_row.map(|id| Standing {
            id,
            user_id: self.token_user,
            family: self.token_family,
            blacklisted_at: self.token_blacklisted_at,
        });
        (self.user, standing)
    }
}

impl diesel::query_builder::QueryId for UserAndStanding<'_> {
    type QueryId = ();
    // Cached by its SQL text (the key and the lock change it), not by type.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for UserAndStanding<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<Conn> RunQueryDsl<Conn> for UserAndStanding<'_> {}

impl<DB> diesel::query_builder::QueryFragment<DB> for UserAndStanding<'_>
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<diesel::sql_types::Text>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Integer>,
    str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
    i32: diesel::serialize::ToSql<diesel::sql_types::Integer, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        out.push_sql(
            "SELECT u.id, u.password, u.last_login, u.is_superuser, u.username, u.first_name, \
             u.last_name, u.email, u.is_staff, u.is_active, u.date_joined, \
             o.id AS token_row, o.user_id AS token_user, o.family AS token_family, \
             b.blacklisted_at AS token_blacklisted_at",
        );
        if self.version {
            // `xid` has no integer cast; its text is the 32-bit id.
            out.push_sql(", u.xmin::text::bigint AS row_version");
        }
        out.push_sql(
            " FROM auth_user u \
             LEFT JOIN token_blacklist_outstandingtoken o ON o.jti = ",
        );
        out.push_bind_param::<diesel::sql_types::Text, str>(self.jti)?;
        out.push_sql(" LEFT JOIN token_blacklist_blacklistedtoken b ON b.token_id = o.id WHERE ");
        match self.key {
            UserKey::Id(id) => {
                out.push_sql("u.id = ");
                out.push_bind_param::<diesel::sql_types::Integer, i32>(id)?;
            }
            UserKey::Username(name) => {
                out.push_sql("u.username = ");
                out.push_bind_param::<diesel::sql_types::Text, str>(name)?;
            }
        }
        if let Some(lock) = self.lock {
            out.push_sql(lock);
        }
        Ok(())
    }
}

/// A rotation's writes, once the presented token (recorded, row `token_id`) and its user passed
/// every check: blacklist it (the gate: false when it already was, and then nothing is written)
/// and record its successor `next` in `family`. PostgreSQL: one statement (the successor is
/// inserted from the gate's `RETURNING`); SQLite, which has no writing CTEs: the two inserts,
/// under the write lock its transaction holds from `BEGIN IMMEDIATE`.
pub fn rotate(
    conn: &mut DbConnection,
    token_id: i64,
    now: i64,
    next: &Outstanding<'_>,
    family: &str,
) -> QueryResult<bool> {
    let pg = match conn {
        DbConnection::Pg(pg) => pg,
        DbConnection::Sqlite(_) => {
            if !gate(conn, token_id, now)? {
                return Ok(false);
            }
            record_new(conn, next, family)?;
            return Ok(true);
        }
    };
    let passed: Passed = RotateWrites::new(None, token_id, now, next, family).get_result(pg)?;
    Ok(passed.passed == 1)
}

#[derive(diesel::QueryableByName)]
struct Passed {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    passed: i64,
}

/// What [`rotate_if_unchanged`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guarded {
    /// The user's row was the version read, the gate passed, the successor is recorded.
    Rotated,
    /// The user's row is not the version read (updated, or deleted): nothing was written.
    Changed,
    /// The row was the same but the gate was lost (the token was blacklisted by then: a
    /// concurrent refresh of it, a logout, ending the user's sessions): nothing was written.
    Lost,
}

/// [`rotate`] on PostgreSQL outside a transaction, for a refresh whose checks ran on the user's row
/// as [`user_and_standing_unlocked`] read it (`version`), without a lock: one statement, in
/// autocommit, that takes the user's row `FOR SHARE` only if it is still that version, then
/// blacklists the presented token (row `token_id`: the gate) only if it got the row, then records
/// the successor `next` only if the gate passed. Nothing is written unless the answer is
/// [`Guarded::Rotated`]; then everything is, in one commit.
///
/// Why this is as safe as [`rotate`] inside `users::tx::write` (which holds the row `FOR SHARE`
/// from the read to the commit), under READ COMMITTED:
///
/// - *The checks.* They used only the user's row and the token's standing. The row lock's
///   condition includes `xmin` = the version read, so the rotation commits only if the row is,
///   at the moment it is locked, the one the checks (active, the password-hash claim) and the new
///   tokens' user claims were taken from. If it was updated before this statement's snapshot, the
///   snapshot's version has another `xmin` and no row is locked. If it is updated by a
///   transaction still open when this statement reaches it (a password change, a deactivation,
///   holding the row `FOR UPDATE` through its `UPDATE`), `FOR SHARE` waits for that transaction
///   and then re-checks its condition against the row's newest version (PostgreSQL's
///   EvalPlanQual recheck of a concurrently updated row): another `xmin`, no row. Either way the
///   answer is [`Guarded::Changed`], nothing is written, and the caller starts over under the
///   lock. The token's standing cannot change in a way that matters except by being
///   blacklisted, which the gate sees (next point); its row id and family never change.
/// - *The gate.* `INSERT .. ON CONFLICT DO NOTHING` on the unique `token_id`: under READ
///   COMMITTED the conflict check reads the index with a dirty snapshot, so it sees a row
///   committed *after* this statement's snapshot was taken, and waits for one being inserted by
///   a transaction still open, then does nothing if that committed. So a token blacklisted at any
///   time before this statement's insert (a concurrent refresh of the same token, a logout, the
///   sessions ended) makes the gate lose: [`Guarded::Lost`], and the successor, inserted from the
///   gate's `RETURNING`, is not written either. Of many refreshes of one token exactly one
///   passes, as in [`rotate`].
/// - *Ending the user's sessions* (`sessions::end_all`: `FOR UPDATE` of the user's row, then
///   every outstanding token blacklisted, in one transaction; a password change the same, after
///   its `UPDATE`):
///   - committed before this statement (whether before or after the first read): the presented
///     token is blacklisted by a commit this statement's gate sees (above): `Lost`, or `Changed`
///     too when the row was updated; nothing written.
///   - running when this statement locks the row: it holds the row `FOR UPDATE`, so `FOR SHARE`
///     waits for its commit; then its blacklist row for the presented token is committed, and the
///     gate loses (a password change has also changed `xmin`: `Changed`). Nothing written.
///   - beginning after this statement took the row: its `FOR UPDATE` waits for this statement's
///     commit (autocommit: the lock is held until the statement's own commit), and its
///     blacklisting statement runs with a snapshot taken after that commit: it blacklists the
///     successor too.
///
///   Whichever comes second sees everything the first committed, as with the transaction.
/// - The lock is taken only for a row that passed the condition, and the inserts select from it,
///   so no write happens without the lock; and the one statement is its own transaction: it
///   commits whole or not at all.
pub fn rotate_if_unchanged(
    pg: &mut diesel::PgConnection,
    version: RowVersion,
    token_id: i64,
    now: i64,
    next: &Outstanding<'_>,
    family: &str,
) -> QueryResult<Guarded> {
    let answer: Answer =
        RotateWrites::new(Some(version), token_id, now, next, family).get_result(pg)?;
    Ok(match (answer.same, answer.passed) {
        (0, _) => Guarded::Changed,
        (_, 0) => Guarded::Lost,
        _ => Guarded::Rotated,
    })
}

#[derive(diesel::QueryableByName)]
struct Answer {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    same: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    passed: i64,
}

/// `rotate`'s statement on PostgreSQL, and with a `guard` `rotate_if_unchanged`'s. Written out as
/// a query of its own rather than with `sql_query` (which PostgreSQL would parse and plan at every
/// call): its SQL is the same at every call (one text with a guard, one without), so the
/// connection keeps it prepared.
struct RotateWrites<'a> {
    guard: Option<RowVersion>,
    token_id: i64,
    now: NaiveDateTime,
    jti: &'a str,
    hash: String,
    user_id: Option<i32>,
    created_at: Option<NaiveDateTime>,
    expires_at: NaiveDateTime,
    family: &'a str,
}

impl<'a> RotateWrites<'a> {
    fn new(
        guard: Option<RowVersion>,
        token_id: i64,
        now: i64,
        next: &Outstanding<'a>,
        family: &'a str,
    ) -> RotateWrites<'a> {
        RotateWrites {
            guard,
            token_id,
            now: timestamp(now),
            jti: next.jti,
            hash: token_hash(next.raw),
            user_id: next.user_id,
            created_at: Some(timestamp(next.created_at)),
            expires_at: timestamp(next.expires_at),
            family,
        }
    }
}

impl diesel::query_builder::QueryId for RotateWrites<'_> {
    type QueryId = ();
    // Cached by its SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for RotateWrites<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<Conn> RunQueryDsl<Conn> for RotateWrites<'_> {}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for RotateWrites<'_> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        use diesel::sql_types::{BigInt, Integer, Nullable, Text};
        match &self.guard {
            None => {
                out.push_sql(
                    "WITH gate AS (INSERT INTO token_blacklist_blacklistedtoken \
                     (token_id, blacklisted_at) VALUES (",
                );
                out.push_bind_param::<BigInt, i64>(&self.token_id)?;
                out.push_sql(", ");
                out.push_bind_param::<Timestamp, NaiveDateTime>(&self.now)?;
                out.push_sql(")");
            }
            Some(version) => {
                // The row lock first, on the version read only; the gate selects from it.
                out.push_sql("WITH locked AS (SELECT id FROM auth_user WHERE id = ");
                out.push_bind_param::<Integer, i32>(&version.user_id)?;
                out.push_sql(" AND xmin::text::bigint = ");
                out.push_bind_param::<BigInt, i64>(&version.xmin)?;
                out.push_sql(
                    " FOR SHARE), \
                     gate AS (INSERT INTO token_blacklist_blacklistedtoken \
                     (token_id, blacklisted_at) SELECT ",
                );
                out.push_bind_param::<BigInt, i64>(&self.token_id)?;
                out.push_sql(", ");
                out.push_bind_param::<Timestamp, NaiveDateTime>(&self.now)?;
                out.push_sql(" FROM locked");
            }
        }
        out.push_sql(
            " ON CONFLICT DO NOTHING RETURNING token_id), \
             recorded AS (INSERT INTO token_blacklist_outstandingtoken \
             (jti, token_hash, user_id, created_at, expires_at, family) SELECT ",
        );
        out.push_bind_param::<Text, str>(self.jti)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, String>(&self.hash)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Integer>, Option<i32>>(&self.user_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Timestamp>, Option<NaiveDateTime>>(&self.created_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, NaiveDateTime>(&self.expires_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, str>(self.family)?;
        out.push_sql(" FROM gate ON CONFLICT DO NOTHING RETURNING id) SELECT ");
        if self.guard.is_some() {
            out.push_sql("(SELECT count(*) FROM locked) AS same, ");
        }
        out.push_sql("(SELECT count(*) FROM gate) AS passed");
        Ok(())
    }
}
