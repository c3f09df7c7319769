//! The queue in front of SQLite's write lock: writers take it in turn, in arrival order, across
//! threads and worker processes, instead of polling for it.
//!
//! SQLite lets one writer in at a time, and a connection that finds the lock taken sleeps in its
//! busy handler (1, 2, 5, 10, ... then 100 ms between tries) while newcomers that try in between
//! get in first: under 32 concurrent refreshes on two workers, the unlucky ones waited 0.8 s
//! (p99) for a transaction that takes a millisecond. So a write transaction ([`crate::tx::write`])
//! first takes its turn here, and then finds SQLite's lock free:
//!
//! - in the process, a fair mutex: one thread at a time goes on, the others wait in line, each
//!   at most until its own deadline (the busy timeout), so a line never adds up waits;
//! - across processes, two `flock`s on files beside the database (`-writer`, `-writer-queue`):
//!   the writer holds `-writer`; the next process in line holds `-writer-queue` while it waits
//!   for `-writer`, so a process that just wrote and wants to write again queues behind it
//!   (turns alternate) instead of retaking the lock before the sleeper wakes. The kernel wakes
//!   a waiter at once, and drops a dead process's locks.
//!
//! SQLite's own lock stays the guarantee (writers that do not queue: `manage` commands' single
//! statements, the WAL keeper's checkpoints, other programs): after its turn, a transaction
//! still begins with `BEGIN IMMEDIATE`, waiting what is left of its deadline.
//!
//! A process stopped while it holds a lock file (SIGSTOP) holds up the one thread per process
//! that waits on that file until the master kills it (`TIMEOUT`); the rest of the line answers
//! "database is locked" (503) at its deadline, as without the queue.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use diesel::sqlite::SqliteConnection;
use diesel::RunQueryDsl;
use parking_lot::{FairMutex, FairMutexGuard, Mutex};
use rustix::fs::{flock, FlockOperation};

use crate::batch::{Batch, Open};
use crate::group::Group;

/// How long a writer waits for its turn and SQLite's lock together: the `busy_timeout` every
/// connection gets (`db::sqlite_pragmas`).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// One database file's queue in this process.
pub struct Queue {
    line: FairMutex<()>,
    /// Threads waiting in `line` for a turn (a batch stays open for them: [`crate::batch`]).
    waiters: AtomicUsize,
    /// The batch of write transactions left open by the last turn, if any: while there is one,
    /// this process holds `writer`'s lock for it, and the next turn inherits it. Read and changed
    /// only with the line held.
    open: Mutex<Option<Open>>,
    writer: File,
    waiting: File,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("waiters", &self.waiters)
            .finish_non_exhaustive()
    }
}

/// A writer's turn: SQLite's lock is its to take (with `BEGIN IMMEDIATE`) until this drops,
/// unless an open batch holds it already (`Turn::take_open`).
pub struct Turn<'a> {
    queue: &'a Queue,
    _line: FairMutexGuard<'a, ()>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        // A batch left open keeps the lock for the next turn.
        if self.queue.open.lock().is_some() {
            return;
        }
        // Errors: EINTR cannot happen on unlock; anything else leaves the lock to the kernel,
        // which drops it when the file closes.
        let _ = flock(&self.queue.writer, FlockOperation::Unlock);
    }
}

impl Turn<'_> {
    /// The batch the last turn left open, taken out of the queue: this turn must join it or
    /// close it ([`crate::batch`]).
    pub(crate) fn take_open(&self) -> Option<Open> {
        self.queue.open.lock().take()
    }

    /// Leaves `open` for the next turn (which inherits this process's lock of the database).
    pub(crate) fn leave_open(&self, open: Open) {
        *self.queue.open.lock() = Some(open);
    }

    /// Whether other threads of this process wait for a turn.
    pub(crate) fn others_waiting(&self) -> bool {
        self.queue.waiters.load(Ordering::SeqCst) > 0
    }
}

impl Queue {
    fn open(database: &Path) -> io::Result<Queue> {
        Ok(Queue {
            line: FairMutex::new(()),
            waiters: AtomicUsize::new(0),
            open: Mutex::new(None),
            writer: lock_file(database, "-writer")?,
            waiting: lock_file(database, "-writer-queue")?,
        })
    }

    /// Waits for this writer's turn until `deadline`: `None` when it passed first. A batch of
    /// write transactions the last turn left open is committed first ([`crate::batch`]): the
    /// turn's holder finds SQLite's lock free.
    pub fn turn(&self, deadline: Instant) -> io::Result<Option<Turn<'_>>> {
        let turn = self.batch_turn(deadline)?;
        if let Some(turn) = &turn {
            crate::batch::close_any(turn);
        }
        Ok(turn)
    }

    /// Waits for a turn until `deadline` (`None`: it passed first), which may find a batch left
    /// open ([`Turn::take_open`]): for [`crate::batch`], which joins or closes it.
    pub(crate) fn batch_turn(&self, deadline: Instant) -> io::Result<Option<Turn<'_>>> {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let line = self.line.try_lock_until(deadline);
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        let Some(line) = line else {
            return Ok(None);
        };
        if self.open.lock().is_some() {
            // An open batch holds SQLite's lock for this process: the turn inherits it.
            return Ok(Some(Turn {
                queue: self,
                _line: line,
            }));
        }
        // First in this process's line: wait for the process before us, behind the one writing.
        locked(&self.waiting)?;
        let writer = locked(&self.writer);
        let _ = flock(&self.waiting, FlockOperation::Unlock);
        writer?;
        Ok(Some(Turn {
            queue: self,
            _line: line,
        }))
    }

    #[cfg(test)]
    pub(crate) fn waiters(&self) -> usize {
        self.waiters.load(Ordering::SeqCst)
    }

    /// A turn, waited for until `deadline`, but only if the batch `mine` is still open then
    /// (`None`: it was closed meanwhile, or the line was not free in time, and nothing was
    /// locked). What a member of a batch whose outcome is slow to come uses to close the batch
    /// itself ([`crate::batch`]); bounded, so that it looks at its outcome again meanwhile.
    pub(crate) fn turn_to_close(&self, mine: &Arc<Batch>, deadline: Instant) -> Option<Turn<'_>> {
        let line = self.line.try_lock_until(deadline)?;
        let open = self
            .open
            .lock()
            .as_ref()
            .is_some_and(|open| Arc::ptr_eq(&open.batch, mine));
        open.then(|| Turn {
            queue: self,
            _line: line,
        })
    }
}

/// Takes `file`'s exclusive lock, waiting as long as it takes (the holder is a transaction,
/// bounded by its own deadline, or a process the kernel cleans up after).
fn locked(file: &File) -> io::Result<()> {
    loop {
        match flock(file, FlockOperation::LockExclusive) {
            Err(rustix::io::Errno::INTR) => continue,
            other => return other.map_err(io::Error::from),
        }
    }
}

/// `<database><suffix>`, created if need be (read-only when it exists but is not ours to write:
/// `flock` needs no more).
fn lock_file(database: &Path, suffix: &str) -> io::Result<File> {
    let mut name = OsString::from(database.as_os_str());
    name.push(suffix);
    let path = PathBuf::from(name);
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .or_else(|_| File::open(&path))
}

/// The queues of this process, by database file: one per file whatever the pool (the locks of
/// two open files of one database would otherwise queue against each other), kept while in use.
static QUEUES: std::sync::Mutex<BTreeMap<PathBuf, Weak<Queue>>> =
    std::sync::Mutex::new(BTreeMap::new());

/// The queue of the file `conn` has open, or `None` for an in-memory or temporary database, or
/// when its lock files cannot be opened (then SQLite's busy handler alone decides, as before).
pub fn queue_for(conn: &mut SqliteConnection) -> Option<Arc<Queue>> {
    let path = database_file(conn)?;
    let mut queues = QUEUES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(queue) = queues.get(&path).and_then(Weak::upgrade) {
        return Some(queue);
    }
    match Queue::open(&path) {
        Ok(queue) => {
            let queue = Arc::new(queue);
            queues.retain(|_, q| q.strong_count() > 0);
            queues.insert(path, Arc::downgrade(&queue));
            Some(queue)
        }
        Err(e) => {
            log::debug!("no writer queue for {}: {e}", path.display());
            None
        }
    }
}

/// A connection, by address, its queue (`None`: it has none) and its pool's group commit
/// (`None`: commits sync on their own).
type KnownQueue = (
    *const crate::connection::DbConnection,
    Option<Arc<Queue>>,
    Option<Arc<Group>>,
);

thread_local! {
    /// The queue of the pooled connection this thread is using (see [`Known`]).
    static KNOWN: RefCell<Option<KnownQueue>> = const { RefCell::new(None) };
}

/// While alive, this thread knows the queue of one connection (found once, when the pool opened
/// it), so that its write transactions do not ask SQLite for the database's file each time (a
/// statement per transaction). Dropped, the thread knows what it knew before.
pub(crate) struct Known {
    before: Option<KnownQueue>,
}

impl Known {
    /// `conn`'s queue is `queue` (`None`: it has none) until the guard drops. `conn` must not move
    /// meanwhile: the caller holds it borrowed for the guard's life.
    pub(crate) fn set(
        conn: &crate::connection::DbConnection,
        queue: Option<Arc<Queue>>,
        group: Option<Arc<Group>>,
    ) -> Known {
        let before = KNOWN.with(|k| k.replace(Some((std::ptr::from_ref(conn), queue, group))));
        Known { before }
    }
}

impl Drop for Known {
    fn drop(&mut self) {
        let before = self.before.take();
        KNOWN.with(|k| *k.borrow_mut() = before);
    }
}

/// `conn`'s queue and group commit: the ones this thread knows for it (see [`Known`]), else
/// [`queue_for`] and no group (its commits sync on their own).
pub(crate) fn queue_of(
    conn: *const crate::connection::DbConnection,
    sqlite: &mut SqliteConnection,
) -> (Option<Arc<Queue>>, Option<Arc<Group>>) {
    let known = KNOWN.with(|k| match &*k.borrow() {
        Some((known, queue, group)) if std::ptr::eq(*known, conn) => {
            Some((queue.clone(), group.clone()))
        }
        _ => None,
    });
    known.unwrap_or_else(|| (queue_for(sqlite), None))
}

/// The file of the connection's main database, as SQLite opened it (absolute); `None` when it
/// has none.
fn database_file(conn: &mut SqliteConnection) -> Option<PathBuf> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        file: String,
    }
    let row = diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'")
        .get_result::<Row>(conn)
        .ok()?;
    (!row.file.is_empty()).then(|| PathBuf::from(row.file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::Connection;

    #[test]
    fn one_queue_per_file_and_none_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let url = path.to_string_lossy().into_owned();
        let mut a = SqliteConnection::establish(&url).unwrap();
        let mut b = SqliteConnection::establish(&url).unwrap();
        let qa = queue_for(&mut a).unwrap();
        let qb = queue_for(&mut b).unwrap();
        assert!(Arc::ptr_eq(&qa, &qb));
        assert!(dir.path().join("db.sqlite3-writer").exists());
        let mut memory = SqliteConnection::establish(":memory:").unwrap();
        assert!(queue_for(&mut memory).is_none());
    }

    #[test]
    fn a_turn_waits_until_its_deadline_and_no_longer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let queue = Queue::open(&path).unwrap();
        let first = queue.turn(Instant::now()).unwrap();
        assert!(first.is_some(), "a free queue is taken at once");
        let started = Instant::now();
        let waited = std::thread::scope(|s| {
            s.spawn(|| {
                queue
                    .turn(Instant::now() + Duration::from_millis(100))
                    .unwrap()
                    .is_none()
            })
            .join()
            .unwrap()
        });
        assert!(waited, "no turn while another holds it");
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(100), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
        drop(first);
        assert!(queue.turn(Instant::now()).unwrap().is_some());
    }

    #[test]
    fn another_process_s_writer_lock_is_waited_for_and_handed_over() {
        // Another open file of the same database queues against this one as another process's
        // would (flock locks belong to open files).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let ours = Queue::open(&path).unwrap();
        let theirs = Queue::open(&path).unwrap();
        let held = theirs.turn(Instant::now()).unwrap().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| {
                let turn = ours.turn(Instant::now() + BUSY_TIMEOUT).unwrap();
                tx.send(turn.is_some()).unwrap();
            });
            assert!(
                rx.recv_timeout(Duration::from_millis(100)).is_err(),
                "waits while the other holds the lock"
            );
            drop(held);
            assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(true));
        });
    }
}
