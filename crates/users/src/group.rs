//! Group commit for SQLite write transactions: one `fsync` of the write-ahead log serves every
//! commit made before it started, and no writer holds the write lock while the disk syncs.
//!
//! With `synchronous = FULL` SQLite syncs the log inside `COMMIT`, while the transaction still
//! holds the write lock: every writer waits for its own sync and for the sync of each writer
//! ahead of it (bench/run measured FULL at 0.40× NORMAL's refreshes a second). So a pool whose
//! settings say FULL runs its write transactions ([`crate::tx::write`]) on one connection per
//! process and database that commits with `synchronous = NORMAL` (the commit reaches the log
//! file, not yet the disk), lets the next writer in, and only then syncs the log file
//! ([`Syncs::wait_for`]) before the transaction's caller goes on. Writers that commit while a
//! sync runs share the next one. A write is answered only after a sync that began after its
//! commit: the promise of FULL (an answered write survives a power loss) holds, because the log
//! is written in order and a sync covers everything written before it. A pool whose settings say
//! NORMAL gets the group without its syncs ([`Group::without_syncs`]): the same one connection,
//! for the batches of [`crate::batch`], and no sync but SQLite's own at checkpoints.
//!
//! What NORMAL would otherwise differ in, SQLite keeps for both modes: the log is synced before a
//! checkpoint copies it and the database after, and the log's header when it starts over. Reads
//! may see a commit whose sync is under way; its writer has not answered yet, and a power loss
//! then loses it whole, with everything after it.
//!
//! Writes outside [`crate::tx::write`] (single statements, `manage` commands) stay on connections
//! with FULL, syncing inside their own commit as before.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use diesel::connection::SimpleConnection;
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

use crate::connection::DbConnection;
use crate::counts::{counting, Counts};

/// The write connection and log syncs of one pool on one SQLite file.
pub struct Group {
    database: PathBuf,
    /// The pragmas the pool's own connections get, with `synchronous = NORMAL` in the place of
    /// FULL.
    pragmas: String,
    counts: Arc<Counts>,
    /// Opened at the first write; used only by a writer holding its turn in the writers' queue
    /// ([`crate::writer`]), so this lock is never contended.
    conn: Mutex<Option<DbConnection>>,
    syncs: Syncs,
    /// Whether commits wait for a sync of the log (`synchronous = FULL`); with NORMAL the group
    /// still runs the write transactions on one connection, in batches ([`crate::batch`]).
    syncing: bool,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl Group {
    /// The group of a pool on `database` whose connections are set up with `pragmas` (which must
    /// not set `synchronous`: the group's connection commits with NORMAL).
    pub fn new(database: PathBuf, pragmas: String, counts: Arc<Counts>) -> Group {
        Group {
            database,
            pragmas,
            counts,
            conn: Mutex::new(None),
            syncs: Syncs::default(),
            syncing: true,
        }
    }

    /// The same group for a pool with `synchronous = NORMAL`: its commits are not synced (the
    /// log is synced at checkpoints, as NORMAL does), but its write transactions still run on
    /// one connection, in batches.
    pub fn without_syncs(&self) -> Group {
        Group {
            syncing: false,
            ..Group::new(
                self.database.clone(),
                self.pragmas.clone(),
                Arc::clone(&self.counts),
            )
        }
    }

    /// The write connection, opened if need be. Call only with the writers' turn held.
    pub fn connection(&self) -> diesel::QueryResult<Writer<'_>> {
        let mut slot = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        // A writer that panicked mid-transaction left it open: not a connection to reuse.
        if slot.as_mut().is_some_and(|conn| !idle(conn)) {
            *slot = None;
        }
        if slot.is_none() {
            *slot = Some(self.open()?);
        }
        Ok(Writer { slot })
    }

    fn open(&self) -> diesel::QueryResult<DbConnection> {
        let path = self.database.to_string_lossy();
        let mut conn = SqliteConnection::establish(&path).map_err(|e| {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::Unknown,
                Box::new(format!("cannot open the write connection: {e}")),
            )
        })?;
        conn.batch_execute(&format!("{} PRAGMA synchronous = NORMAL;", self.pragmas))?;
        conn.set_instrumentation(counting(Arc::clone(&self.counts)));
        Ok(DbConnection::Sqlite(conn))
    }

    /// The group's write connection as a batch left it, inside the batch's transaction (see
    /// [`crate::batch`]); unlike [`Group::connection`] it does not discard a connection that is
    /// in a transaction. `None` inside: the connection was discarded (a writer panicked with it),
    /// and the batch's transaction with it.
    pub(crate) fn batch_connection(&self) -> Writer<'_> {
        Writer {
            slot: self.conn.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Returns once a sync numbered `ticket` or later ([`Syncs::ticket`], taken after the
    /// commit) has ended with `Ok`.
    pub(crate) fn sync(&self, ticket: u64) -> io::Result<()> {
        if !self.syncing {
            return Ok(());
        }
        let wal = wal_file(&self.database);
        self.syncs.wait_for(ticket, || {
            Counts::add(&self.counts.wal_syncs);
            sync_file(&wal)
        })
    }

    /// The sync a commit made now needs ([`Syncs::ticket`]).
    pub(crate) fn sync_ticket(&self) -> u64 {
        self.syncs.ticket()
    }
}

/// The group's write connection, held for one transaction.
pub struct Writer<'a> {
    slot: MutexGuard<'a, Option<DbConnection>>,
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        // A writer that panicked with the connection may have left it mid-transaction, or
        // mid-way through a batch of transactions: closing it rolls that back, and the next
        // writer opens another.
        if std::thread::panicking() {
            *self.slot = None;
        }
    }
}

impl Writer<'_> {
    pub fn conn(&mut self) -> Option<&mut DbConnection> {
        self.slot.as_mut()
    }

    /// Closes the connection (it failed in a way that may leave it unusable); the next write
    /// opens a new one.
    pub fn discard(&mut self) {
        *self.slot = None;
    }
}

/// Whether `conn` is outside any transaction, as diesel's transaction manager knows it.
pub fn idle(conn: &mut DbConnection) -> bool {
    use diesel::connection::TransactionManager;
    matches!(
        <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn)
            .transaction_depth(),
        Ok(None)
    )
}

/// `<database>-wal`.
fn wal_file(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// `fdatasync` of the file at `path`. The log exists as long as a connection is open (the group's
/// own is), so a missing one has nothing left to sync: SQLite removes it only after copying it
/// into the database and syncing that.
fn sync_file(path: &Path) -> io::Result<()> {
    match File::open(path) {
        Ok(file) => file.sync_data(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Syncs shared by the commits that wait for them. A sync serves the commits made before it
/// began: a writer that finds one running waits for it to end and then for the next, which the
/// first of the waiters starts for all of them.
#[derive(Default)]
pub struct Syncs {
    state: Mutex<SyncState>,
    ended: Condvar,
}

#[derive(Default)]
struct SyncState {
    /// Syncs begun so far; the one running, if any, is number `begun`.
    begun: u64,
    /// Syncs ended so far (in order: one runs at a time).
    ended: u64,
    running: bool,
    /// A sync failed: what it wrote may not be on disk, and a later sync cannot tell (the kernel
    /// may have dropped the pages it could not write). Every sync fails from then on, until the
    /// process restarts.
    failed: Option<String>,
    /// Writers waiting for a sync to end.
    waiting: u64,
}

impl Syncs {
    /// Returns once a call of `sync` that began after this call ended with `Ok`.
    #[cfg(test)]
    pub fn after_commit(&self, sync: impl Fn() -> io::Result<()>) -> io::Result<()> {
        self.wait_for(self.ticket(), sync)
    }

    /// The number of the first sync to begin from now on (the running one began before a commit
    /// made now): what a commit made now must wait for, in [`Syncs::wait_for`].
    pub fn ticket(&self) -> u64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).begun + 1
    }

    /// Returns once the sync numbered `needed` (or a later one) ended with `Ok`, running one if
    /// none is.
    pub fn wait_for(&self, needed: u64, sync: impl Fn() -> io::Result<()>) -> io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(failed) = &state.failed {
                return Err(io::Error::other(failed.clone()));
            }
            if state.ended >= needed {
                return Ok(());
            }
            if state.running {
                state.waiting += 1;
                state = self.ended.wait(state).unwrap_or_else(|e| e.into_inner());
                state.waiting -= 1;
                continue;
            }
            state.running = true;
            state.begun += 1;
            drop(state);
            let synced = sync();
            state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.running = false;
            state.ended += 1;
            if let Err(e) = synced {
                log::error!(
                    "syncing the SQLite write-ahead log failed: {e}; writes fail from now on"
                );
                state.failed = Some(format!("syncing the write-ahead log failed: {e}"));
            }
            // A wake-up costs a system call even with nobody to wake (most syncs under light
            // load): only when a writer waits (counted under this lock, so none is missed).
            if state.waiting > 0 {
                self.ended.notify_all();
            }
        }
    }

    #[cfg(test)]
    fn waiting(&self) -> u64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).waiting
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::mpsc;

    #[test]
    fn one_sync_after_a_commit_when_nobody_else_syncs() {
        let syncs = Syncs::default();
        let calls = AtomicU64::new(0);
        for n in 1..=3 {
            syncs
                .after_commit(|| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                })
                .unwrap();
            assert_eq!(calls.load(Ordering::SeqCst), n);
        }
    }

    type Running = (
        Arc<Syncs>,
        Arc<AtomicU64>,
        mpsc::Sender<()>,
        std::thread::JoinHandle<io::Result<()>>,
    );

    /// A writer whose sync (the first, counted in `calls`) has begun and holds until `release`.
    fn a_first_sync_running() -> Running {
        let syncs = Arc::new(Syncs::default());
        let calls = Arc::new(AtomicU64::new(0));
        let (started_tx, started) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let released = Mutex::new(released);
        let first = {
            let (syncs, calls) = (Arc::clone(&syncs), Arc::clone(&calls));
            std::thread::spawn(move || {
                syncs.after_commit(|| {
                    if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                        started_tx.send(()).unwrap();
                        released.lock().unwrap().recv().unwrap();
                    }
                    Ok(())
                })
            })
        };
        started.recv().unwrap();
        (syncs, calls, release, first)
    }

    /// A writer that commits while a sync runs must not take that sync for its own: it began
    /// before the commit, so it may have missed it.
    #[test]
    fn a_commit_made_while_a_sync_runs_waits_for_the_next_sync() {
        let (syncs, calls, release, first) = a_first_sync_running();
        // The first sync is running: a second writer commits now and waits.
        let second = {
            let (syncs, calls) = (Arc::clone(&syncs), Arc::clone(&calls));
            std::thread::spawn(move || {
                syncs.after_commit(|| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                })?;
                Ok::<u64, io::Error>(calls.load(Ordering::SeqCst))
            })
        };
        while syncs.waiting() == 0 {
            std::thread::yield_now();
        }
        release.send(()).unwrap();
        first.join().unwrap().unwrap();
        assert_eq!(
            second.join().unwrap().unwrap(),
            2,
            "the second writer returned only after a sync of its own"
        );
    }

    /// Writers that wait behind one sync share the next: N commits need far fewer than N syncs.
    #[test]
    fn waiting_writers_share_one_sync() {
        let (syncs, calls, release, first) = a_first_sync_running();
        let others: Vec<_> = (0..8)
            .map(|_| {
                let (syncs, calls) = (Arc::clone(&syncs), Arc::clone(&calls));
                std::thread::spawn(move || {
                    syncs.after_commit(|| {
                        calls.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    })
                })
            })
            .collect();
        while syncs.waiting() < 8 {
            std::thread::yield_now();
        }
        release.send(()).unwrap();
        first.join().unwrap().unwrap();
        for other in others {
            other.join().unwrap().unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2, "nine commits, two syncs");
    }

    #[test]
    fn a_failed_sync_fails_every_later_one() {
        let syncs = Syncs::default();
        let err = syncs
            .after_commit(|| Err(io::Error::other("EIO")))
            .unwrap_err();
        assert!(err.to_string().contains("EIO"), "{err}");
        let again = syncs.after_commit(|| Ok(())).unwrap_err();
        assert!(again.to_string().contains("EIO"), "{again}");
    }
}
