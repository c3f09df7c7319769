//! Write transactions that cannot lose a race: what ends a user's sessions and what rotates one of
//! their tokens must see each other whole, on both databases.
//!
//! - SQLite has one writer at a time. A plain `BEGIN` starts reading and upgrades to the write lock
//!   at its first write; if another writer committed meanwhile, the upgrade fails at once
//!   ("database is locked", no busy wait). `BEGIN IMMEDIATE` takes the write lock first, waiting in
//!   the busy handler, so every write transaction here runs alone, start to end. Before it, the
//!   writer waits for its turn in [`writer`]'s queue, so that SQLite's lock is free when it asks.
//! - PostgreSQL runs transactions side by side (READ COMMITTED). Two of them that touch one user's
//!   tokens serialize on that user's row: a rotation holds it `FOR SHARE` (rotations of one user
//!   still run together), ending the sessions holds it `FOR UPDATE` (as a password change's
//!   `UPDATE auth_user` does). Whichever comes second sees everything the first committed.
//!
//! Nothing is caught inside a transaction: a failed statement fails the transaction, and a
//! failed `COMMIT` is an error to the caller, never a success.

use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::result::Error;
use diesel::sqlite::SqliteConnection;

use crate::db::DbConnection;
use crate::models::User;
use crate::schema::auth_user::dsl;
use crate::writer;

/// Runs `f` in a write transaction (`BEGIN IMMEDIATE` on SQLite, `BEGIN` on PostgreSQL): committed
/// when `f` returns `Ok`, rolled back when it returns `Err`. Inside a transaction already, `f`
/// simply joins it (the outer one decides).
pub fn write<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<Error>,
{
    let depth =
        <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn)
            .transaction_depth()?;
    if depth.is_some() {
        return f(conn);
    }
    let this = std::ptr::from_ref::<DbConnection>(conn);
    let sqlite = match conn {
        DbConnection::Sqlite(sqlite) => sqlite,
        DbConnection::Pg(_) => {
            <DbConnection as Connection>::TransactionManager::begin_transaction(conn)?;
            return finish(conn, f);
        }
    };
    let deadline = Instant::now() + writer::BUSY_TIMEOUT;
    let (queue, group) = writer::queue_of(this, sqlite);
    let turn = match &queue {
        // A writer with a group commit may join the batch a turn finds open; any other turn
        // commits it first (`Queue::turn`).
        Some(queue) => match if group.is_some() {
            queue.batch_turn(deadline)
        } else {
            queue.turn(deadline)
        } {
            Ok(Some(turn)) => Some(turn),
            Ok(None) => return Err(busy().into()),
            // The lock files failed us (an NFS without locks?): SQLite's lock still holds.
            Err(e) => {
                log::debug!("writer queue unusable: {e}");
                None
            }
        },
        None => None,
    };
    // With a turn in the queue and a group commit: on the group's connection, in a batch with
    // the writers queued behind (`crate::batch`), synced after the turn is passed on
    // (`crate::group`).
    let done = match (queue.as_deref(), turn, group) {
        (Some(queue), Some(turn), Some(group)) => {
            crate::batch::run(queue, turn, &group, |conn| begin_on(conn, deadline), f)
        }
        // The turn (if any) came from `Queue::turn`, which committed any open batch.
        (_, _turn, _) => {
            begin_immediate(sqlite, deadline)?;
            finish(conn, f)
        }
    };
    done
}

/// `BEGIN IMMEDIATE` on the group's connection.
fn begin_on(conn: &mut DbConnection, deadline: Instant) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(sqlite) => begin_immediate(sqlite, deadline),
        DbConnection::Pg(_) => Err(Error::DatabaseError(
            diesel::result::DatabaseErrorKind::Unknown,
            Box::new("a group commit on PostgreSQL".to_owned()),
        )),
    }
}

/// `BEGIN IMMEDIATE`, waiting for SQLite's lock what is left until `deadline`.
fn begin_immediate(sqlite: &mut SqliteConnection, deadline: Instant) -> QueryResult<()> {
    // A turn waited for shortens SQLite's wait: the two together stay within the busy timeout.
    let left = deadline.saturating_duration_since(Instant::now());
    let shortened = writer::BUSY_TIMEOUT - left > SHORTEN_AFTER;
    if shortened {
        sqlite.batch_execute(&format!("PRAGMA busy_timeout = {};", left.as_millis()))?;
    }
    let begun = AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE");
    if shortened {
        let restored = sqlite.batch_execute(&format!(
            "PRAGMA busy_timeout = {};",
            writer::BUSY_TIMEOUT.as_millis()
        ));
        if let (Ok(()), Err(e)) = (&begun, restored) {
            // Not a transaction left open on a pooled connection.
            AnsiTransactionManager::rollback_transaction(sqlite)?;
            return Err(e);
        }
    }
    begun
}

/// A wait for a turn shorter than this leaves SQLite's busy timeout as it is (two statements
/// saved on most transactions; the bound is kept to within this much).
const SHORTEN_AFTER: Duration = Duration::from_millis(20);

/// What SQLite says when its busy timeout runs out, for a writer whose turn did not come in
/// time: callers answer both alike (503, try again).
fn busy() -> Error {
    Error::DatabaseError(
        diesel::result::DatabaseErrorKind::Unknown,
        Box::new("database is locked (no turn to write within the busy timeout)".to_owned()),
    )
}

/// Runs `f` in the transaction (or savepoint) just begun: commits (releases) it on `Ok`, rolls
/// it back on `Err`.
pub(crate) fn finish<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<Error>,
{
    match f(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// How a transaction holds a user's row (PostgreSQL; SQLite's write transaction holds everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserLock {
    /// Using the user's tokens (rotation, a slide): many at once, none beside an `Exclusive`.
    Shared,
    /// Ending the user's sessions or changing what their tokens may claim.
    Exclusive,
}

/// The user's row by id, read under `lock` (call inside [`write`]).
pub fn user_by_id(conn: &mut DbConnection, id: i32, lock: UserLock) -> QueryResult<Option<User>> {
    // Built in each arm: `User::as_select()` is typed by its backend.
    macro_rules! query {
        () => {
            dsl::auth_user.find(id).select(User::as_select())
        };
    }
    match (conn, lock) {
        (DbConnection::Pg(pg), UserLock::Shared) => query!().for_share().get_result(pg),
        (DbConnection::Pg(pg), UserLock::Exclusive) => query!().for_update().get_result(pg),
        (DbConnection::Sqlite(sqlite), _) => query!().get_result(sqlite),
    }
    .optional()
}

/// The user's row by username, read under `lock` (call inside [`write`]).
pub fn user_by_username(
    conn: &mut DbConnection,
    username: &str,
    lock: UserLock,
) -> QueryResult<Option<User>> {
    macro_rules! query {
        () => {
            dsl::auth_user
                .filter(dsl::username.eq(username))
                .select(User::as_select())
        };
    }
    match (conn, lock) {
        (DbConnection::Pg(pg), UserLock::Shared) => query!().for_share().get_result(pg),
        (DbConnection::Pg(pg), UserLock::Exclusive) => query!().for_update().get_result(pg),
        (DbConnection::Sqlite(sqlite), _) => query!().get_result(sqlite),
    }
    .optional()
}
