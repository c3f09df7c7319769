//! Batches: the write transactions of one process that queue for SQLite's lock together run in
//! one SQLite transaction, each in a savepoint of its own, and commit together.
//!
//! Each transaction of its own pays for SQLite's lock (`flock`s of the writers' queue, the WAL's
//! lock, and re-reading the pages the other process changed since), and its commit writes every
//! page it touched to the log, though the transaction after it touches most of the same pages
//! again (the right-most leaves of the token tables and their indexes). Under load, writers wait
//! in the process's queue ([`crate::writer`]) while one writes; so the turn that finds others
//! waiting does not commit: it leaves its transaction open, and the next turn joins it. The last
//! member of a batch (the one that finds nobody waiting, or the batch full) commits it, once, and
//! every member answers after that commit and a sync of the log that began after it
//! ([`crate::group`]), as a transaction of its own would.
//!
//! What each member sees and does is what it would see and do alone: the members run one after
//! another on the group's one connection, in the order of the queue, and each reads what the
//! members before it wrote. A member whose work fails (its closure returns `Err`) rolls back to
//! its savepoint: its writes are gone, the others' stay. The batch commits whole or not at all;
//! if the commit fails, every member's answer is that error (nothing was answered before it).
//!
//! Savepoints cost two statements; the member that begins the batch needs none (nobody has joined
//! yet when it runs: its `Err` rolls back the whole transaction), so a writer alone runs exactly
//! the statements it did before batching: `BEGIN IMMEDIATE`, its own, `COMMIT`.
//!
//! An open batch is never left without an owner: a member leaves it open only while other threads
//! wait for a turn, and every member but the last waits for the outcome with a bound; past it,
//! it takes a turn itself and commits the batch if it is still open. Every other turn commits an
//! open batch first (`Queue::turn`: the log keeper's checkpoint, a writer of another pool or
//! without a group commit), and so does a member's turn that cannot join it (another group's
//! batch, or a full one): whoever holds a turn finds SQLite's lock free or held by its own batch. A writer that panics with the connection drops it (`group::Writer`), which rolls the
//! whole batch back; the next turn then reports the loss to the batch's members.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::TransactionManager;
use diesel::result::Error;
use diesel::Connection;

use crate::connection::DbConnection;
use crate::group::Group;
use crate::writer::{Queue, Turn};

/// The most transactions in one batch: a bound on how long the other process waits for the lock.
const MAX_MEMBERS: u32 = 16;

/// How long a member waits for its batch's outcome before it goes to commit the batch itself
/// (only a member left alone after the waiters gave up ever needs to).
const PATIENCE: Duration = Duration::from_millis(200);

/// A batch's outcome, published once by whoever commits (or loses) it.
#[derive(Default)]
pub(crate) struct Batch {
    outcome: Mutex<Option<Result<u64, String>>>,
    published: Condvar,
}

/// The open batch, as a turn leaves it for the next ([`crate::writer::Queue`] keeps it).
pub(crate) struct Open {
    group: Arc<Group>,
    pub(crate) batch: Arc<Batch>,
    members: u32,
}

impl Drop for Open {
    fn drop(&mut self) {
        // Dropped without a commit (a writer panicked while it held the batch): its members
        // hear so. After a commit, `close` has published already and this changes nothing.
        self.batch.publish(Err(lost()));
    }
}

impl Batch {
    fn publish(&self, outcome: Result<u64, String>) {
        let mut slot = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(outcome);
        }
        self.published.notify_all();
    }

    /// The outcome, once published within `patience`.
    fn outcome_within(&self, patience: Duration) -> Option<Result<u64, String>> {
        let slot = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        let (slot, _) = self
            .published
            .wait_timeout_while(slot, patience, |slot| slot.is_none())
            .unwrap_or_else(|e| e.into_inner());
        slot.clone()
    }
}

/// Runs `f` as a write transaction in this turn: in the open batch of `group` if there is one
/// (in a savepoint), else in a new transaction that `begin` starts on `group`'s connection.
/// Returns after the transaction committed (with its batch) and the log was synced.
pub(crate) fn run<T, E, F>(
    queue: &Queue,
    turn: Turn<'_>,
    group: &Arc<Group>,
    begin: impl FnOnce(&mut DbConnection) -> Result<(), Error>,
    f: F,
) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<Error>,
{
    let open = match turn.take_open() {
        Some(open) if Arc::ptr_eq(&open.group, group) && open.members < MAX_MEMBERS => Some(open),
        Some(other) => {
            // Not ours to join: commit it, and go on with the lock it held.
            close(other);
            None
        }
        None => None,
    };
    match open {
        Some(open) => join(queue, turn, open, f),
        None => begin_batch(queue, turn, group, begin, f),
    }
}

/// Commits the batch a turn found open and cannot join, before doing its own work.
pub(crate) fn close_any(turn: &Turn<'_>) {
    if let Some(open) = turn.take_open() {
        close(open);
    }
}

/// The first member: `BEGIN IMMEDIATE`, its work, then either the commit or the batch left open.
fn begin_batch<T, E, F>(
    queue: &Queue,
    turn: Turn<'_>,
    group: &Arc<Group>,
    begin: impl FnOnce(&mut DbConnection) -> Result<(), Error>,
    f: F,
) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<Error>,
{
    let mut writer = group.connection()?;
    let Some(conn) = writer.conn() else {
        return Err(missing().into());
    };
    begin(conn)?;
    let value = match f(conn) {
        Ok(value) => value,
        Err(e) => {
            // Nobody has joined: the whole transaction is this writer's.
            let rolled_back = rollback(conn);
            if !crate::group::idle(conn) {
                writer.discard();
            }
            rolled_back?;
            return Err(e);
        }
    };
    let open = Open {
        group: Arc::clone(group),
        batch: Arc::new(Batch::default()),
        members: 1,
    };
    let batch = Arc::clone(&open.batch);
    if turn.others_waiting() {
        drop(writer);
        turn.leave_open(open);
        drop(turn);
        return wait(queue, group, &batch).map(|()| value);
    }
    let committed = commit(conn);
    if !crate::group::idle(conn) {
        writer.discard();
    }
    drop(writer);
    drop(turn);
    committed?;
    group
        .sync(group.sync_ticket())
        .map_err(|e| sync_failed(&e))?;
    Ok(value)
}

/// A later member: its work in a savepoint of the open batch, then the batch committed or left
/// open for the next.
fn join<T, E, F>(queue: &Queue, turn: Turn<'_>, mut open: Open, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<Error>,
{
    let group = Arc::clone(&open.group);
    let mut writer = group.batch_connection();
    let Some(conn) = writer.conn() else {
        // The batch's connection was dropped by a writer that panicked: so was its work.
        drop(writer);
        open.batch.publish(Err(lost()));
        drop(turn);
        return Err(missing().into());
    };
    let done = savepoint(conn, f);
    if done.is_err() && conn_broken(conn) {
        // The savepoint itself failed: the batch's state is unknown, so it is rolled back whole.
        writer.discard();
        drop(writer);
        open.batch.publish(Err(lost()));
        drop(turn);
        return done;
    }
    drop(writer);
    if done.is_ok() {
        open.members += 1;
    }
    let batch = Arc::clone(&open.batch);
    if turn.others_waiting() && open.members < MAX_MEMBERS {
        turn.leave_open(open);
        drop(turn);
    } else {
        close(open);
        drop(turn);
    }
    let value = done?;
    wait(queue, &group, &batch).map(|()| value)
}

/// Runs `f` in a savepoint of the connection's transaction: released on `Ok`, rolled back to on
/// `Err`.
fn savepoint<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<Error>,
{
    <DbConnection as Connection>::TransactionManager::begin_transaction(conn)?;
    crate::tx::finish(conn, f)
}

/// Whether the connection is no longer exactly inside the batch's own transaction (a savepoint
/// statement failed, or a rollback left it elsewhere).
fn conn_broken(conn: &mut DbConnection) -> bool {
    !matches!(
        <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn)
            .transaction_depth(),
        Ok(Some(depth)) if depth.get() == 1
    )
}

/// Commits an open batch (the caller holds the turn) and tells its members.
fn close(open: Open) {
    let mut writer = open.group.batch_connection();
    let outcome = match writer.conn() {
        None => Err(lost()),
        Some(conn) => {
            let committed = commit(conn);
            if !crate::group::idle(conn) {
                writer.discard();
            }
            committed
                .map(|()| open.group.sync_ticket())
                .map_err(|e| e.to_string())
        }
    };
    drop(writer);
    open.batch.publish(outcome);
}

/// Waits for the batch's outcome (committing the batch itself if it is left without an owner),
/// then for the log's sync after that commit.
fn wait<E: From<Error>>(queue: &Queue, group: &Group, batch: &Arc<Batch>) -> Result<(), E> {
    let outcome = loop {
        if let Some(outcome) = batch.outcome_within(PATIENCE) {
            break outcome;
        }
        if let Some(turn) = queue.turn_to_close(batch, Instant::now() + PATIENCE) {
            close_any(&turn);
        }
    };
    let ticket = outcome.map_err(|e| {
        Error::DatabaseError(diesel::result::DatabaseErrorKind::Unknown, Box::new(e))
    })?;
    group.sync(ticket).map_err(|e| sync_failed(&e).into())
}

fn commit(conn: &mut DbConnection) -> Result<(), Error> {
    <DbConnection as Connection>::TransactionManager::commit_transaction(conn)
}

fn rollback(conn: &mut DbConnection) -> Result<(), Error> {
    <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)
}

fn lost() -> String {
    "the write transaction was lost with its connection".to_owned()
}

/// The group's connection was discarded under us (cannot happen: it is opened by `connection`).
fn missing() -> Error {
    Error::DatabaseError(
        diesel::result::DatabaseErrorKind::Unknown,
        Box::new("no write connection".to_owned()),
    )
}

fn sync_failed(e: &std::io::Error) -> Error {
    Error::DatabaseError(
        diesel::result::DatabaseErrorKind::Unknown,
        Box::new(e.to_string()),
    )
}
