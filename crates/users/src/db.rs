//! Database connections: one connection type over SQLite and PostgreSQL, chosen by the URL's scheme, pooled with r2d2.

use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

use crate::deadline::{self, Armed, Slot, Watchdog};
use crate::group::Group;
use crate::wal;
use crate::writer;

pub use crate::connection::DbConnection;
use crate::counts::counting;
pub use crate::counts::{Counts, Tally};

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported DATABASE_URL {0:?}: use sqlite:///relative/path.sqlite3, sqlite:////absolute/path.sqlite3 or postgres://user:password@host:port/name")]
    UnsupportedUrl(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
}

impl From<r2d2::Error> for DbError {
    fn from(e: r2d2::Error) -> Self {
        DbError::Unavailable(e.to_string())
    }
}

/// Where the database lives, parsed from a dj-database-url style URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A file path (relative to the working directory unless absolute), or `:memory:`.
    Sqlite(PathBuf),
    /// A libpq connection URL, passed through unchanged.
    Postgres(String),
}

impl Target {
    /// `sqlite:///db.sqlite3` is relative, `sqlite:////abs/db.sqlite3` absolute (dj-database-url's rule);
    /// `postgres://` and `postgresql://` go to PostgreSQL.
    pub fn parse(url: &str) -> Result<Target, DbError> {
        if let Some(rest) = url.strip_prefix("sqlite://") {
            let path = rest.strip_prefix('/').unwrap_or(rest);
            if path.is_empty() {
                return Err(DbError::UnsupportedUrl(url.to_owned()));
            }
            return Ok(Target::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Target::Postgres(url.to_owned()));
        }
        Err(DbError::UnsupportedUrl(redact(url)))
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Target::Sqlite(_))
    }
}

/// Hides a password in a URL before it reaches an error message or a log.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Opens connections for r2d2. Our own manager (rather than MultiConnection's `establish`, which tries each
/// backend in turn) keeps the real error: a PostgreSQL that is down says so instead of "invalid URL".
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    target: Target,
    /// Set for a pool on a SQLite file: its connections leave checkpoints to this thread (see
    /// [`crate::wal`]), which stops when the last clone is dropped with the pool.
    keeper: Option<Arc<wal::Keeper>>,
    /// Set for a pool on PostgreSQL: breaks off connections that stop answering (see
    /// [`crate::deadline`]); stops with the pool, as the keeper does.
    watchdog: Option<Arc<Watchdog>>,
    /// SQLite's `PRAGMA synchronous` on each connection. FULL unless the settings say NORMAL: in
    /// WAL mode NORMAL syncs only at checkpoints, so a power loss can undo commits that were
    /// answered (a rotation, after which the old refresh token would work again).
    synchronous: settings::SqliteSynchronous,
    /// What the connections of this manager did (see [`Counts`]).
    counts: Arc<Counts>,
    /// Set for a pool on a SQLite file: its write transactions run on one connection, in
    /// batches ([`crate::batch`]), and with `synchronous = FULL` share the log's syncs (see
    /// [`crate::group`]).
    group: Option<Arc<Group>>,
}

impl ConnectionManager {
    /// A manager for one-off connections (`manage` commands): SQLite checkpoints as usual.
    pub fn new(target: Target) -> Self {
        ConnectionManager {
            target,
            keeper: None,
            watchdog: None,
            synchronous: settings::SqliteSynchronous::default(),
            counts: Arc::default(),
            group: None,
        }
    }

    /// The same manager with SQLite's `PRAGMA synchronous` set to `synchronous`.
    pub fn synchronous(self, synchronous: settings::SqliteSynchronous) -> Self {
        let group = match synchronous {
            settings::SqliteSynchronous::Full => self.group,
            _ => self.group.map(|group| Arc::new(group.without_syncs())),
        };
        ConnectionManager {
            synchronous,
            group,
            ..self
        }
    }

    /// A manager for a long-lived pool: on a SQLite file, a [`wal::Keeper`] runs the checkpoints;
    /// on PostgreSQL, every connection is bounded ([`deadline::bounded_url`]) and watched by a
    /// [`Watchdog`]. (`new` leaves both out: a migration may rightly run for minutes.)
    pub fn pooled(target: Target, connect_timeout: Duration, query_timeout: Duration) -> Self {
        match target {
            Target::Sqlite(path) => {
                let file = path.as_os_str() != ":memory:";
                let keeper = if file {
                    wal::Keeper::start(path.clone()).map(Arc::new)
                } else {
                    None
                };
                let counts = Arc::<Counts>::default();
                // The default, FULL (`synchronous` drops it for NORMAL).
                let group = file.then(|| {
                    Arc::new(Group::new(
                        path.clone(),
                        sqlite_pragmas(keeper.is_some()),
                        Arc::clone(&counts),
                    ))
                });
                ConnectionManager {
                    target: Target::Sqlite(path),
                    keeper,
                    watchdog: None,
                    synchronous: settings::SqliteSynchronous::default(),
                    counts,
                    group,
                }
            }
            Target::Postgres(url) => ConnectionManager {
                watchdog: Watchdog::start(&url, query_timeout).map(Arc::new),
                target: Target::Postgres(deadline::bounded_url(
                    &url,
                    connect_timeout,
                    query_timeout,
                )),
                keeper: None,
                synchronous: settings::SqliteSynchronous::default(),
                counts: Arc::default(),
                group: None,
            },
        }
    }

    pub fn target(&self) -> &Target {
        &self.target
    }
}

/// What SQLite connections run when they open, besides `synchronous` (from
/// `DATABASES.SQLITE_SYNCHRONOUS`) and WAL: busy_timeout makes a writer wait for the lock instead
/// of failing with "database is locked" (the writers' queue's [`writer::BUSY_TIMEOUT`]), foreign
/// keys are off by default; and with a [`wal::Keeper`], checkpoints are left to it.
fn sqlite_pragmas(keeper: bool) -> String {
    let mut pragmas = format!(
        "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON;",
        writer::BUSY_TIMEOUT.as_millis()
    );
    if keeper {
        pragmas.push_str(&format!(
            " PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = {};",
            wal::SIZE_LIMIT
        ));
    }
    pragmas
}

/// WAL lets readers run beside the one writer. The mode is stored in the file, so only the first
/// connections to a new database switch it, and that switch takes an exclusive lock for which
/// SQLite does not call the busy handler: when processes race to open a new file (two `migrate`s),
/// the loser retries for a bounded time instead of failing.
fn enable_wal(conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
    let mut attempts = 0;
    loop {
        match conn.batch_execute("PRAGMA journal_mode = WAL;") {
            Err(diesel::result::Error::DatabaseError(_, info))
                if info.message().contains("locked") && attempts < 100 =>
            {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// A pooled connection with what the pool needs to know about it: when it was last handed out
/// (so only idle connections are pinged) and whether a query found it broken (so it is dropped
/// instead of being returned to the pool). Derefs to [`DbConnection`].
pub struct ManagedConnection {
    conn: DbConnection,
    last_checkout: Instant,
    broken: bool,
    /// Its place in the pool's [`Watchdog`] (PostgreSQL).
    slot: Option<Arc<Slot>>,
    /// SQLite: its database's writer queue, found once when it was opened (see [`Self::run`]).
    queue: Option<Arc<writer::Queue>>,
    /// SQLite on a file: its pool's write connection, batches and (with FULL) group commit (see
    /// [`crate::group`]).
    group: Option<Arc<Group>>,
    /// What the pool's connections did.
    counts: Arc<Counts>,
}

impl ManagedConnection {
    /// Drops this connection when it goes back to the pool: call it when a query failed because
    /// the connection is gone (the next checkout then opens a fresh one).
    pub fn mark_broken(&mut self) {
        self.broken = true;
    }

    /// Marks the connection in use until the guard drops: on PostgreSQL, if that lasts past
    /// `QUERY_TIMEOUT` (+ [`deadline::GRACE`]), its socket is shut down and the query under way
    /// fails with a connection error (which the caller then reports with `mark_broken`).
    pub fn in_use(&self) -> Option<Armed> {
        self.slot.as_ref().map(Slot::arm)
    }

    /// Runs `f` with the connection, its writer queue known to `users::tx` (no statement per
    /// write transaction to find it).
    pub fn run<T>(&mut self, f: impl FnOnce(&mut DbConnection) -> T) -> T {
        let _known = writer::Known::set(&self.conn, self.queue.clone(), self.group.clone());
        f(&mut self.conn)
    }

    /// What the connections of this connection's pool did, counted (shared by the pool).
    pub fn counts(&self) -> &Arc<Counts> {
        &self.counts
    }
}

impl Drop for ManagedConnection {
    fn drop(&mut self) {
        // Before `conn` closes its socket (fields drop after this), so the watchdog never
        // shuts down a descriptor that may be reused.
        if let Some(slot) = &self.slot {
            slot.release();
        }
    }
}

impl Deref for ManagedConnection {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl DerefMut for ManagedConnection {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = ManagedConnection;
    type Error = diesel::ConnectionError;

    fn connect(&self) -> Result<ManagedConnection, diesel::ConnectionError> {
        let (mut conn, slot) = match &self.watchdog {
            Some(watchdog) => watchdog.open(|| self.establish())?,
            None => (self.establish()?, None),
        };
        let queue = match &mut conn {
            DbConnection::Sqlite(sqlite) => writer::queue_for(sqlite),
            DbConnection::Pg(_) => None,
        };
        let counted = counting(Arc::clone(&self.counts));
        match &mut conn {
            DbConnection::Sqlite(c) => c.set_instrumentation(counted),
            DbConnection::Pg(c) => c.set_instrumentation(counted),
        }
        Ok(ManagedConnection {
            conn,
            last_checkout: Instant::now(),
            broken: false,
            slot,
            group: queue.as_ref().and(self.group.clone()),
            queue,
            counts: Arc::clone(&self.counts),
        })
    }

    fn is_valid(&self, conn: &mut ManagedConnection) -> Result<(), diesel::ConnectionError> {
        let _bounded = conn.in_use();
        ping(conn)
    }

    fn has_broken(&self, conn: &mut ManagedConnection) -> bool {
        conn.broken
    }
}

fn ping(conn: &mut DbConnection) -> Result<(), diesel::ConnectionError> {
    conn.batch_execute("SELECT 1")
        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)
}

impl ConnectionManager {
    /// One unpooled connection (what `manage` commands use).
    pub fn establish(&self) -> Result<DbConnection, diesel::ConnectionError> {
        match &self.target {
            Target::Sqlite(path) => {
                let path = path.to_string_lossy();
                let mut conn = SqliteConnection::establish(&path)?;
                conn.batch_execute(&format!(
                    "{} PRAGMA synchronous = {};",
                    sqlite_pragmas(self.keeper.is_some()),
                    self.synchronous.as_str()
                ))
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                enable_wal(&mut conn)
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
            Target::Postgres(url) => Ok(DbConnection::Pg(connect_postgres(url)?)),
        }
    }
}

/// One PostgreSQL connection. Every connection the project opens to PostgreSQL, tests included,
/// goes through here, because of what libpq does on its first TLS connection: it initialises the
/// OpenSSL linked in with it, which registers an exit handler that frees OpenSSL's state when
/// the process exits. Threads still running then (a pool replenishing or closing a TLS
/// connection, a worker finishing a query) use freed memory and the process dies with SIGSEGV
/// after its work is done: a worker stopped by SIGTERM exiting with 139, a test binary whose
/// tests all passed failing. OpenSSL keeps the options of its first initialisation, so
/// initialising it here first with `OPENSSL_INIT_NO_ATEXIT` (what `openssl_sys::init` asks for)
/// means the handler is never registered; the memory is the kernel's to reclaim at exit.
pub fn connect_postgres(url: &str) -> Result<PgConnection, diesel::ConnectionError> {
    openssl_sys::init();
    PgConnection::establish(url)
}

/// Builds the pool without connecting: the server starts even when the database is down, and answers
/// 503 until it is back (each checkout waits at most `connect_timeout`).
pub fn build_pool(settings: &settings::Databases) -> Result<Pool, DbError> {
    let target = Target::parse(&settings.url)?;
    let manager =
        ConnectionManager::pooled(target, settings.connect_timeout, settings.query_timeout)
            .synchronous(settings.sqlite_synchronous);
    Ok(pool_of(
        manager,
        settings.pool_size,
        settings.connect_timeout,
    ))
}

/// A pool with the default `QUERY_TIMEOUT` (tests and tools).
pub fn pool_for(target: Target, size: u32, timeout: Duration) -> Pool {
    let query_timeout = settings::Databases::default().query_timeout;
    bounded_pool(target, size, timeout, query_timeout)
}

/// A pool whose checkouts wait at most `timeout` and whose PostgreSQL connections answer within
/// `query_timeout` or are replaced (see [`crate::deadline`]).
pub fn bounded_pool(target: Target, size: u32, timeout: Duration, query_timeout: Duration) -> Pool {
    pool_of(
        ConnectionManager::pooled(target, timeout, query_timeout),
        size,
        timeout,
    )
}

fn pool_of(manager: ConnectionManager, size: u32, timeout: Duration) -> Pool {
    // An in-memory SQLite database exists once per connection: a pool of one keeps a single database.
    let size = match &manager.target {
        Target::Sqlite(p) if p.as_os_str() == ":memory:" => 1,
        _ => size.max(1),
    };
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .connection_timeout(timeout)
        // Not r2d2's ping on every checkout (a `SELECT 1` round trip per request: +15% of the
        // work of a SQLite request, +50% on PostgreSQL); `get` pings only idle connections.
        .test_on_check_out(false)
        .build_unchecked(manager)
}

/// A connection handed out again within this long of its last checkout is not pinged (HikariCP's
/// aliveBypassWindowMs): under load no request pays for a ping, and one that finds a connection
/// broken anyway marks it ([`ManagedConnection::mark_broken`]) so that the pool drops it.
const PING_IDLE_AFTER: Duration = Duration::from_millis(500);

/// Checks a connection out of the pool, waiting at most the pool's timeout. A connection that sat
/// idle is pinged first and replaced if the database dropped it (a restart, a failover).
pub fn get(pool: &Pool) -> Result<PooledConnection, DbError> {
    // Bounded: every pooled connection may be stale after an outage, then a fresh one is opened.
    for _ in 0..=pool.max_size() {
        let mut conn = pool.get()?;
        let idle = conn.last_checkout.elapsed() >= PING_IDLE_AFTER;
        if idle {
            Counts::add(&conn.counts.pings);
            let bounded = conn.in_use();
            let alive = ping(&mut conn).is_ok();
            drop(bounded);
            if !alive {
                conn.mark_broken();
                continue;
            }
        }
        conn.last_checkout = Instant::now();
        Counts::add(&conn.counts.checkouts);
        return Ok(conn);
    }
    Err(DbError::Unavailable(
        "every connection to the database failed its check".to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_pool(dir: &tempfile::TempDir) -> (Pool, PathBuf) {
        let path = dir.path().join("db.sqlite3");
        let pool = pool_for(Target::Sqlite(path.clone()), 2, Duration::from_secs(5));
        (pool, path)
    }

    #[test]
    fn a_connection_marked_broken_is_dropped_not_pooled() {
        let dir = tempfile::tempdir().unwrap();
        let (pool, _) = sqlite_pool(&dir);
        drop(get(&pool).unwrap());
        assert_eq!(pool.state().idle_connections, 1, "a good one goes back");
        let mut conn = get(&pool).unwrap();
        conn.mark_broken();
        drop(conn);
        assert_eq!(pool.state().connections, 0, "a broken one does not");
        let mut again = get(&pool).unwrap();
        again.batch_execute("SELECT 1").unwrap();
    }

    #[test]
    fn a_write_through_run_does_not_ask_sqlite_for_its_queue() {
        let dir = tempfile::tempdir().unwrap();
        let (pool, _) = sqlite_pool(&dir);
        let mut conn = get(&pool).unwrap();
        let counts = Arc::clone(conn.counts());
        let before = counts.tally();
        conn.run(|c| crate::tx::write(c, |c| c.batch_execute("SELECT 1")))
            .unwrap();
        let spent = counts.tally().since(&before);
        assert_eq!(
            spent.statements, 3,
            "BEGIN IMMEDIATE, SELECT 1, COMMIT: {spent:?}"
        );
        assert_eq!((spent.begins, spent.commits, spent.work()), (1, 1, 1));
        let before = counts.tally();
        crate::tx::write(&mut conn, |c| c.batch_execute("SELECT 1")).unwrap();
        let spent = counts.tally().since(&before);
        assert_eq!(
            spent.statements, 4,
            "outside `run`, the queue is looked up: {spent:?}"
        );
    }

    fn autocheckpoint(conn: &mut SqliteConnection) -> i64 {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            wal_autocheckpoint: i64,
        }
        diesel::sql_query("PRAGMA wal_autocheckpoint")
            .get_result::<Row>(conn)
            .unwrap()
            .wal_autocheckpoint
    }

    #[test]
    fn a_pool_leaves_checkpoints_to_its_keeper_and_manage_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let (pool, path) = sqlite_pool(&dir);
        let mut pooled = get(&pool).unwrap();
        let DbConnection::Sqlite(pooled) = &mut **pooled else {
            unreachable!()
        };
        assert_eq!(autocheckpoint(pooled), 0);
        let one_off = ConnectionManager::new(Target::Sqlite(path)).establish();
        let Ok(DbConnection::Sqlite(mut one_off)) = one_off else {
            panic!("no SQLite connection")
        };
        assert_eq!(autocheckpoint(&mut one_off), 1000, "SQLite's default");
    }

    fn synchronous(conn: &mut DbConnection) -> i32 {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            synchronous: i32,
        }
        let DbConnection::Sqlite(conn) = conn else {
            panic!("no SQLite connection")
        };
        diesel::sql_query("PRAGMA synchronous")
            .get_result::<Row>(conn)
            .unwrap()
            .synchronous
    }

    #[test]
    fn pooled_sqlite_connections_sync_every_commit_unless_the_settings_say_normal() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:///{}", dir.path().join("db.sqlite3").display());
        let mut databases = settings::Databases {
            url,
            ..settings::Databases::default()
        };
        // SQLite's numbers: 2 is FULL, 1 NORMAL.
        let pool = build_pool(&databases).unwrap();
        assert_eq!(synchronous(&mut get(&pool).unwrap()), 2, "the default");
        let one_off = ConnectionManager::new(Target::parse(&databases.url).unwrap()).establish();
        assert_eq!(synchronous(&mut one_off.unwrap()), 2, "manage commands");

        databases.sqlite_synchronous = settings::SqliteSynchronous::Normal;
        let pool = build_pool(&databases).unwrap();
        assert_eq!(synchronous(&mut get(&pool).unwrap()), 1);
    }

    fn databases(dir: &tempfile::TempDir) -> settings::Databases {
        settings::Databases {
            url: format!("sqlite:///{}", dir.path().join("db.sqlite3").display()),
            ..settings::Databases::default()
        }
    }

    /// A pool of 8 connections (FULL) on a new database in `dir` with the table `t`.
    fn eight_with_a_table(dir: &tempfile::TempDir) -> Pool {
        let mut databases = databases(dir);
        databases.pool_size = 8;
        let pool = build_pool(&databases).unwrap();
        create_table(&pool);
        pool
    }

    fn create_table(pool: &Pool) {
        get(pool)
            .unwrap()
            .batch_execute("CREATE TABLE t (n INTEGER NOT NULL)")
            .unwrap();
    }

    fn insert(conn: &mut PooledConnection, n: i32) {
        conn.run(|c| {
            crate::tx::write(c, |c| {
                c.batch_execute(&format!("INSERT INTO t VALUES ({n})"))
            })
        })
        .unwrap();
    }

    fn rows(pool: &Pool) -> i64 {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = get(pool).unwrap();
        diesel::sql_query("SELECT count(*) AS n FROM t")
            .get_result::<Row>(&mut **conn)
            .unwrap()
            .n
    }

    /// With FULL (the default) a write transaction commits on the group's connection and returns
    /// only after a sync of the log; the pool's own connections keep FULL for everything else.
    #[test]
    fn a_write_transaction_returns_after_a_sync_of_the_log_with_full() {
        let dir = tempfile::tempdir().unwrap();
        let pool = build_pool(&databases(&dir)).unwrap();
        create_table(&pool);
        let mut conn = get(&pool).unwrap();
        let counts = Arc::clone(conn.counts());
        let before = counts.tally();
        insert(&mut conn, 1);
        let spent = counts.tally().since(&before);
        assert_eq!(spent.wal_syncs, 1, "{spent:?}");
        assert_eq!((spent.begins, spent.commits, spent.work()), (1, 1, 1));
        assert_eq!(
            synchronous(&mut conn),
            2,
            "the pooled connection is still FULL"
        );
        drop(conn);
        assert_eq!(rows(&pool), 1, "committed and visible to the pool");

        // A write transaction that fails is rolled back and not synced.
        let mut conn = get(&pool).unwrap();
        let before = counts.tally();
        let failed =
            conn.run(|c| crate::tx::write(c, |c| c.batch_execute("INSERT INTO t VALUES (NULL)")));
        assert!(failed.is_err());
        let spent = counts.tally().since(&before);
        assert_eq!((spent.rollbacks, spent.wal_syncs), (1, 0), "{spent:?}");
        drop(conn);
        assert_eq!(rows(&pool), 1);
    }

    /// A writer that panics mid-transaction leaves the group's connection in it (and holding
    /// SQLite's write lock): the next writer gets a fresh connection, and the panicked write is
    /// rolled back.
    #[test]
    fn a_writer_that_panicked_does_not_leave_writes_stuck() {
        let dir = tempfile::tempdir().unwrap();
        let pool = build_pool(&databases(&dir)).unwrap();
        create_table(&pool);
        let mut conn = get(&pool).unwrap();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            conn.run(|c| {
                crate::tx::write::<(), diesel::result::Error, _>(c, |c| {
                    c.batch_execute("INSERT INTO t VALUES (1)")?;
                    panic!("a bug in a writer")
                })
            })
        }));
        assert!(panicked.is_err());
        insert(&mut conn, 2);
        drop(conn);
        assert_eq!(
            rows(&pool),
            1,
            "the panicked write is not there, the next one is"
        );
    }

    /// With NORMAL the write transactions queued together still share one SQLite transaction;
    /// nothing is synced.
    #[test]
    fn with_normal_queued_writers_share_a_transaction_too() {
        let dir = tempfile::tempdir().unwrap();
        let mut databases = databases(&dir);
        databases.pool_size = 8;
        databases.sqlite_synchronous = settings::SqliteSynchronous::Normal;
        let pool = build_pool(&databases).unwrap();
        create_table(&pool);
        let counts = Arc::clone(get(&pool).unwrap().counts());
        let before = counts.tally();
        let results = queued_behind_one(&pool, (1..=3).map(inserting).collect());
        let spent = counts.tally().since(&before);
        for (n, result) in results.into_iter().enumerate() {
            assert!(matches!(result, Some(Ok(()))), "writer {n}: {result:?}");
            assert!(present(&pool, n as i32), "writer {n}'s row is committed");
        }
        assert_eq!(spent.outermost, 1, "one transaction: {spent:?}");
        assert_eq!(spent.wal_syncs, 0, "{spent:?}");
    }

    #[test]
    fn with_normal_commits_are_not_synced() {
        let dir = tempfile::tempdir().unwrap();
        let mut databases = databases(&dir);
        databases.sqlite_synchronous = settings::SqliteSynchronous::Normal;
        let pool = build_pool(&databases).unwrap();
        create_table(&pool);
        let mut conn = get(&pool).unwrap();
        let counts = Arc::clone(conn.counts());
        insert(&mut conn, 1);
        assert_eq!(counts.tally().wal_syncs, 0);
        assert_eq!(synchronous(&mut conn), 1);
    }

    /// Concurrent writers all commit, each after a sync, and share syncs.
    #[test]
    fn concurrent_write_transactions_all_commit_and_share_syncs() {
        let dir = tempfile::tempdir().unwrap();
        let pool = eight_with_a_table(&dir);
        let counts = Arc::clone(get(&pool).unwrap().counts());
        let before = counts.tally();
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    let mut conn = get(&pool).unwrap();
                    for i in 0..25 {
                        insert(&mut conn, t * 100 + i);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let spent = counts.tally().since(&before);
        assert_eq!(rows(&pool), 200);
        assert_eq!(spent.commits, 200, "{spent:?}");
        assert!(
            (1..=200).contains(&spent.wal_syncs),
            "a sync per commit at most: {spent:?}"
        );
        eprintln!("200 commits, {} syncs", spent.wal_syncs);
    }

    /// Inside a write transaction on SQLite: returns once `n` other writers of this process
    /// wait for a turn.
    fn until_waiting(c: &mut DbConnection, n: usize) {
        let DbConnection::Sqlite(sqlite) = c else {
            panic!("SQLite only")
        };
        let queue = crate::writer::queue_for(sqlite).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while queue.waiters() < n {
            assert!(Instant::now() < deadline, "{n} writers never queued");
            std::thread::yield_now();
        }
    }

    fn present(pool: &Pool, n: i32) -> bool {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = get(pool).unwrap();
        diesel::sql_query(format!("SELECT count(*) AS n FROM t WHERE n = {n}"))
            .get_result::<Row>(&mut **conn)
            .unwrap()
            .n
            == 1
    }

    type Work = Box<dyn FnOnce(&mut DbConnection) -> diesel::QueryResult<()> + Send>;

    /// A first writer inserts 0 and holds its transaction until `n` other writers queue behind
    /// it; `others`, run once the first writer holds its turn, starts them (and returns what they
    /// answer). Returns the first writer's result (`None`: it panicked) and `others`'.
    fn behind_a_first_writer<R>(
        pool: &Pool,
        n: usize,
        others: impl FnOnce() -> R,
    ) -> (Option<diesel::QueryResult<()>>, R) {
        std::thread::scope(|s| {
            let (began, first_began) = std::sync::mpsc::channel();
            let first = s.spawn(move || {
                let mut conn = get(pool).unwrap();
                conn.run(|c| {
                    crate::tx::write(c, |c| {
                        c.batch_execute("INSERT INTO t VALUES (0)")?;
                        began.send(()).unwrap();
                        until_waiting(c, n);
                        Ok(())
                    })
                })
            });
            first_began.recv().unwrap();
            let theirs = others();
            (first.join().ok(), theirs)
        })
    }

    /// [`behind_a_first_writer`] with one writer of `pool` per entry of `others`. The results,
    /// in the order of `others` (the first writer's first); a writer that panicked is `None`.
    fn queued_behind_one(pool: &Pool, others: Vec<Work>) -> Vec<Option<diesel::QueryResult<()>>> {
        let n = others.len();
        let (first, theirs) = behind_a_first_writer(pool, n, || {
            std::thread::scope(|s| {
                let others: Vec<_> = others
                    .into_iter()
                    .map(|work| {
                        s.spawn(move || {
                            let mut conn = get(pool).unwrap();
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                conn.run(|c| crate::tx::write(c, work))
                            }))
                            .ok()
                        })
                    })
                    .collect();
                others
                    .into_iter()
                    .map(|t| t.join().unwrap())
                    .collect::<Vec<_>>()
            })
        });
        let mut results = vec![first];
        results.extend(theirs);
        results
    }

    fn inserting(n: i32) -> Work {
        Box::new(move |c| c.batch_execute(&format!("INSERT INTO t VALUES ({n})")))
    }

    /// Writers that queue behind a transaction run in it, each in a savepoint, and commit with
    /// it once; each returns only when its row is committed.
    #[test]
    fn writers_queued_behind_a_transaction_join_it_and_commit_once() {
        let dir = tempfile::tempdir().unwrap();
        let pool = eight_with_a_table(&dir);
        let counts = Arc::clone(get(&pool).unwrap().counts());
        let before = counts.tally();
        let results = queued_behind_one(&pool, (1..=4).map(inserting).collect());
        let spent = counts.tally().since(&before);
        for (n, result) in results.into_iter().enumerate() {
            assert!(matches!(result, Some(Ok(()))), "writer {n}: {result:?}");
            assert!(present(&pool, n as i32), "writer {n}'s row is committed");
        }
        assert_eq!(rows(&pool), 5);
        assert_eq!(spent.outermost, 1, "one transaction: {spent:?}");
        assert_eq!(
            (spent.begins, spent.commits),
            (5, 5),
            "four savepoints in it: {spent:?}"
        );
        assert_eq!(spent.wal_syncs, 1, "{spent:?}");
    }

    /// A writer that fails inside a batch loses its own writes, and only those.
    #[test]
    fn a_failing_writer_in_a_batch_loses_only_its_own_writes() {
        let dir = tempfile::tempdir().unwrap();
        let pool = eight_with_a_table(&dir);
        let counts = Arc::clone(get(&pool).unwrap().counts());
        let before = counts.tally();
        let failing: Work =
            Box::new(|c| c.batch_execute("INSERT INTO t VALUES (2); INSERT INTO t VALUES (NULL)"));
        let others = vec![inserting(1), failing, inserting(3), inserting(4)];
        let results = queued_behind_one(&pool, others);
        let spent = counts.tally().since(&before);
        assert!(matches!(results[2], Some(Err(_))), "{:?}", results[2]);
        for n in [0, 1, 3, 4] {
            assert!(matches!(results[n], Some(Ok(()))), "{n}: {:?}", results[n]);
            assert!(present(&pool, n as i32));
        }
        assert!(
            !present(&pool, 2),
            "the failed writer's first insert is gone"
        );
        assert_eq!(rows(&pool), 4);
        assert_eq!(spent.outermost, 1, "one transaction: {spent:?}");
    }

    /// A writer that panics inside a batch takes the batch down with it (its connection is
    /// closed, which rolls the transaction back): the members before it are told, nothing of
    /// theirs is stored, the writers after it commit, and writes go on.
    #[test]
    fn a_writer_that_panics_in_a_batch_fails_the_batch_and_writes_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let pool = eight_with_a_table(&dir);
        let panicking: Work = Box::new(|c| {
            c.batch_execute("INSERT INTO t VALUES (2)")?;
            panic!("a bug in a writer")
        });
        let others = vec![inserting(1), panicking, inserting(3), inserting(4)];
        let results = queued_behind_one(&pool, others);
        assert!(results[2].is_none(), "writer 2 panicked");
        assert!(
            matches!(results[0], Some(Err(_))),
            "the first writer's batch was lost: {:?}",
            results[0]
        );
        assert!(!present(&pool, 0) && !present(&pool, 2));
        for n in [1, 3, 4] {
            match &results[n] {
                Some(Ok(())) => assert!(present(&pool, n as i32), "{n} answered Ok"),
                Some(Err(_)) => assert!(!present(&pool, n as i32), "{n} answered Err"),
                None => panic!("{n} panicked"),
            }
        }
        let mut conn = get(&pool).unwrap();
        insert(&mut conn, 9);
        drop(conn);
        assert!(present(&pool, 9), "writes go on after the panic");
    }

    /// A writer of another pool (here with NORMAL) that finds a batch open behind it commits
    /// the batch before it begins its own, instead of waiting for a lock nobody would release.
    #[test]
    fn a_writer_of_another_pool_commits_the_open_batch_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut databases = databases(&dir);
        databases.pool_size = 4;
        let pool = build_pool(&databases).unwrap();
        create_table(&pool);
        databases.sqlite_synchronous = settings::SqliteSynchronous::Normal;
        let normal = build_pool(&databases).unwrap();
        let (first, ()) = behind_a_first_writer(&pool, 1, || {
            let started = Instant::now();
            let mut conn = get(&normal).unwrap();
            insert(&mut conn, 1);
            assert!(
                started.elapsed() < crate::writer::BUSY_TIMEOUT,
                "did not wait out the busy timeout"
            );
        });
        assert!(matches!(first, Some(Ok(()))), "{first:?}");
        assert!(present(&pool, 0) && present(&pool, 1));
    }

    /// The log's keeper takes a turn for its RESTART checkpoint; a batch left open for it is
    /// committed first, so the checkpoint finds SQLite's lock free (it would otherwise wait for a
    /// lock the batch's members cannot release while it holds their turn).
    #[test]
    fn a_checkpoint_commits_the_open_batch_before_it_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mut databases = databases(&dir);
        databases.pool_size = 4;
        let pool = build_pool(&databases).unwrap();
        create_table(&pool);
        let path = dir.path().join("db.sqlite3");
        let (first, checkpointed) = behind_a_first_writer(&pool, 1, || {
            let mut keeper = SqliteConnection::establish(&path.to_string_lossy()).unwrap();
            crate::wal::checkpoint(&mut keeper)
        });
        assert!(matches!(first, Some(Ok(()))), "{first:?}");
        let outcome = checkpointed.unwrap();
        assert!(!outcome.busy, "the RESTART checkpoint found the lock free");
        assert!(present(&pool, 0), "the batch was committed");
    }

    #[test]
    fn sqlite_urls_follow_dj_database_url() {
        assert_eq!(
            Target::parse("sqlite:///db.sqlite3").ok(),
            Some(Target::Sqlite("db.sqlite3".into()))
        );
        assert_eq!(
            Target::parse("sqlite:////var/lib/app/db.sqlite3").ok(),
            Some(Target::Sqlite("/var/lib/app/db.sqlite3".into()))
        );
        assert!(Target::parse("sqlite://").is_err());
    }

    #[test]
    fn postgres_urls_pass_through() {
        for url in ["postgres://u@h/db", "postgresql://u:p@h:5432/db"] {
            assert_eq!(Target::parse(url).ok(), Some(Target::Postgres(url.into())));
        }
    }

    #[test]
    fn other_schemes_are_refused_without_leaking_passwords() {
        let err = Target::parse("mysql://root:hunter2@localhost/db")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("unsupported DATABASE_URL"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}
