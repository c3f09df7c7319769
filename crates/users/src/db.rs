//! Database connections: one connection type over SQLite and PostgreSQL, chosen by the URL's scheme, pooled with r2d2.

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

/// A connection to whichever backend `DATABASES.URL` names. Queries written once run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

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
}

impl ConnectionManager {
    pub fn new(target: Target) -> Self {
        ConnectionManager { target }
    }

    pub fn target(&self) -> &Target {
        &self.target
    }
}

/// SQLite needs these per connection: busy_timeout makes a writer wait for the lock instead of
/// failing with "database is locked", foreign keys are off by default, NORMAL sync is safe in WAL.
const SQLITE_PRAGMAS: &str =
    "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";

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

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::ConnectionError;

    fn connect(&self) -> Result<DbConnection, diesel::ConnectionError> {
        match &self.target {
            Target::Sqlite(path) => {
                let path = path.to_string_lossy();
                let mut conn = SqliteConnection::establish(&path)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                enable_wal(&mut conn)
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
            Target::Postgres(url) => Ok(DbConnection::Pg(PgConnection::establish(url)?)),
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), diesel::ConnectionError> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// Builds the pool without connecting: the server starts even when the database is down, and answers
/// 503 until it is back (each checkout waits at most `connect_timeout`).
pub fn build_pool(settings: &settings::Databases) -> Result<Pool, DbError> {
    let target = Target::parse(&settings.url)?;
    Ok(pool_for(
        target,
        settings.pool_size,
        settings.connect_timeout,
    ))
}

pub fn pool_for(target: Target, size: u32, timeout: Duration) -> Pool {
    // An in-memory SQLite database exists once per connection: a pool of one keeps a single database.
    let size = match &target {
        Target::Sqlite(p) if p.as_os_str() == ":memory:" => 1,
        _ => size.max(1),
    };
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .connection_timeout(timeout)
        .test_on_check_out(true)
        .build_unchecked(ConnectionManager::new(target))
}

/// Checks a connection out of the pool, waiting at most the pool's timeout.
pub fn get(pool: &Pool) -> Result<PooledConnection, DbError> {
    Ok(pool.get()?)
}

#[cfg(test)]
mod tests {
    use super::*;

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
