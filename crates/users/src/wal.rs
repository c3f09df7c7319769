//! Keeps a SQLite database's write-ahead log small while a pool uses it.
//!
//! SQLite's automatic checkpoint, run by whichever connection commits once the log passes 1,000
//! pages, copies the log into the database but starts the log over only when no reader still
//! uses it. Under steady concurrent reads and writes that moment never comes, so the `-wal` file
//! grows without bound (75 MB a second in bench/run's refresh run). And since every commit then
//! runs one, the checkpoint lock is nearly always held, so a stronger checkpoint asked for
//! meanwhile fails at once without waiting.
//!
//! So a pool's connections leave checkpoints to one [`Keeper`] thread, as Litestream does. Every
//! [`EVERY`], once the log passes [`CHECKPOINT_AT`], it copies what it can into the database
//! without blocking anyone (PASSIVE), then runs a RESTART checkpoint: writers wait while it copies
//! the rest and the readers of the moment finish (at most [`WAIT`]; 5 to 25 ms in bench/run's
//! refresh run), and the next write starts the log over from its beginning and cuts the file
//! back to [`SIZE_LIMIT`]. Worker processes each run a keeper; the checkpoint lock lets one work
//! at a time.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};

/// The log's size past which the keeper checkpoints it: 4,096 pages of 4 KiB, what one block of
/// SQLite's log index maps (readers search every block). Four times SQLite's automatic threshold:
/// each checkpoint makes writers wait a few milliseconds, so fewer is better.
pub const CHECKPOINT_AT: u64 = 16 * 1024 * 1024;
/// The size the log file is cut back to when it starts over (`journal_size_limit`): the file
/// keeps this size while the log refills it, so a file larger than [`CHECKPOINT_AT`] means a log
/// that holds more, and an idle database is not checkpointed again and again.
pub const SIZE_LIMIT: u64 = CHECKPOINT_AT;
/// How often the keeper looks at the log's size (one `stat`).
pub const EVERY: Duration = Duration::from_millis(100);
/// How long a checkpoint waits for the lock and for readers; writers wait meanwhile.
pub const WAIT: Duration = Duration::from_millis(200);

/// The keeper thread of one database. Dropping it stops the thread at its next look.
#[derive(Debug)]
pub struct Keeper {
    _stop: mpsc::Sender<()>,
}

impl Keeper {
    /// Starts the keeper of the SQLite database at `path`; `None` when the thread cannot start
    /// (the pool's connections then keep SQLite's automatic checkpoints).
    pub fn start(path: PathBuf) -> Option<Keeper> {
        let (stop, stopped) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("sqlite-wal".into())
            .spawn(move || keep(&path, &stopped));
        match spawned {
            Ok(_) => Some(Keeper { _stop: stop }),
            Err(e) => {
                log::warn!(
                    "cannot start the SQLite log keeper ({e}); automatic checkpoints stay on"
                );
                None
            }
        }
    }
}

fn keep(db: &Path, stopped: &mpsc::Receiver<()>) {
    let wal = wal_path(db);
    let mut conn: Option<SqliteConnection> = None;
    let mut failing = false;
    // The stop channel's timeout is the tick: a dropped Keeper ends the loop at once.
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
        if !std::fs::metadata(&wal).is_ok_and(|m| m.len() > CHECKPOINT_AT) {
            continue;
        }
        match tick(db, &mut conn) {
            Ok(outcome) => {
                if outcome.busy {
                    // Another process's keeper, or readers that outlasted WAIT: next tick.
                    log::debug!("SQLite checkpoint busy: {outcome:?}");
                }
                failing = false;
            }
            Err(e) => {
                // Once per failing streak, not every tick; a fresh connection next time.
                if !failing {
                    log::warn!("SQLite checkpoint failed: {e}");
                }
                failing = true;
                conn = None;
            }
        }
    }
}

/// One checkpoint, on the keeper's connection (opened the first time it is needed).
fn tick(db: &Path, conn: &mut Option<SqliteConnection>) -> Result<Outcome, String> {
    let conn = match conn {
        Some(conn) => conn,
        None => conn.insert(open(db)?),
    };
    checkpoint(conn)
}

fn open(db: &Path) -> Result<SqliteConnection, String> {
    let mut conn = SqliteConnection::establish(&db.to_string_lossy()).map_err(|e| e.to_string())?;
    conn.batch_execute(&format!("PRAGMA busy_timeout = {};", WAIT.as_millis()))
        .map_err(|e| e.to_string())?;
    Ok(conn)
}

/// What `PRAGMA wal_checkpoint` answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::QueryableByName)]
pub struct Outcome {
    /// The checkpoint could not finish: another one was running, or a writer or reader outlasted
    /// the busy timeout. The log was left as it was, or partly copied, and goes on growing.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub busy: bool,
    /// Frames in the log (-1 when the checkpoint did not start).
    #[diesel(sql_type = diesel::sql_types::BigInt, column_name = log)]
    pub log_frames: i64,
    /// Frames copied into the database.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub checkpointed: i64,
}

/// Copies the log into the database, first without blocking anyone, then waiting up to the
/// connection's busy timeout for the writer and for the readers of the moment, so that the next
/// write starts the log over. Returns the second checkpoint's answer.
pub fn checkpoint(conn: &mut SqliteConnection) -> Result<Outcome, String> {
    let run = |conn: &mut SqliteConnection, mode: &str| {
        diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})"))
            .get_result::<Outcome>(conn)
            .map_err(|e| e.to_string())
    };
    let passive = run(conn, "PASSIVE")?;
    if passive.busy {
        // Another keeper is at work.
        return Ok(passive);
    }
    // In the writers' line (`crate::writer`), so that they wait for the end of the checkpoint
    // woken at once, not asleep in SQLite's busy handler; no turn within WAIT: next time.
    let queue = crate::writer::queue_for(conn);
    let _turn = match queue.as_ref().map(|q| q.turn(Instant::now() + WAIT)) {
        Some(Ok(None)) => return Ok(passive),
        Some(Ok(Some(turn))) => Some(turn),
        Some(Err(_)) | None => None,
    };
    run(conn, "RESTART")
}

/// The log sits beside the database, its name suffixed with `-wal`.
pub fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_sits_beside_the_database() {
        assert_eq!(
            wal_path(Path::new("/var/lib/app/db.sqlite3")),
            PathBuf::from("/var/lib/app/db.sqlite3-wal")
        );
    }

    /// The checkpoint sequence number in the log's header (bytes 12..16, big-endian): SQLite
    /// adds one each time the log starts over.
    fn restarts(wal: &Path) -> Option<u32> {
        use std::io::Read;
        let mut header = [0u8; 16];
        std::fs::File::open(wal)
            .ok()?
            .read_exact(&mut header)
            .ok()?;
        Some(u32::from_be_bytes([
            header[12], header[13], header[14], header[15],
        ]))
    }

    /// Two threads read without pause while this one writes: SQLite's own checkpoints would
    /// never start the log over (each write finds a reader on it) and the file only grows. The
    /// keeper starts it over. Bounded by a count of writes, not by time.
    #[test]
    fn the_keeper_starts_the_log_over_under_steady_reads_and_writes() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;

        use crate::db::{get, pool_for, Target};

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let pool = pool_for(Target::Sqlite(path.clone()), 3, Duration::from_secs(5));
        let mut writer = get(&pool).unwrap();
        writer.batch_execute("CREATE TABLE t (x BLOB)").unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (pool, stop) = (pool.clone(), Arc::clone(&stop));
                std::thread::spawn(move || {
                    let mut conn = get(&pool).unwrap();
                    let mut reads = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        conn.batch_execute("SELECT count(*) FROM t").unwrap();
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();

        let wal = wal_path(&path);
        let insert = "INSERT INTO t VALUES (randomblob(4000))";
        writer.batch_execute(insert).unwrap();
        let first = restarts(&wal).expect("the write went to the log");
        let (mut peak, mut started_over) = (0, false);
        // 20,000 writes of ~8 KiB would grow a log that never starts over to ~160 MB.
        for _ in 0..20_000 {
            writer.batch_execute(insert).unwrap();
            let size = std::fs::metadata(&wal).map_or(0, |m| m.len());
            if restarts(&wal) != Some(first) {
                // The write that started the log over cut the file back.
                assert!(size <= SIZE_LIMIT, "{size} bytes after starting over");
                started_over = true;
                break;
            }
            peak = peak.max(size);
        }
        stop.store(true, Ordering::Relaxed);
        for reader in readers {
            assert!(reader.join().unwrap() > 0, "the readers read meanwhile");
        }
        assert!(
            started_over,
            "the log grew to {peak} bytes and never started over"
        );
        assert!(peak > CHECKPOINT_AT, "not before it was due: {peak} bytes");
    }
}
