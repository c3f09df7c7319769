//! Schema migrations, embedded in the binary: one folder per backend, same version names.

use diesel::connection::SimpleConnection;
use diesel::RunQueryDsl;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::db::{DbConnection, DbError};

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// An arbitrary constant: the PostgreSQL advisory lock that serialises `migrate` across processes
/// (Heroku's release phase may overlap a running dyno's own migrate).
const PG_MIGRATION_LOCK: i64 = 0x6a77_745f_6d69_6772;

/// Applies pending migrations and returns the versions applied (empty when up to date).
/// Safe to run twice and from two processes at once.
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    let result = match conn {
        // SQLite has no advisory lock, so the whole run is one BEGIN IMMEDIATE transaction (each
        // migration a savepoint in it): a second process waits for the write lock in the busy
        // handler and then finds nothing pending. Without it, two runs interleaved migration by
        // migration and the loser failed on "table auth_user already exists" with later
        // migrations still to apply.
        DbConnection::Sqlite(c) => c.immediate_transaction(|c| apply(c, SQLITE)),
        DbConnection::Pg(c) => with_pg_lock(c, |c| apply(c, POSTGRES)),
    };
    match result {
        Ok(applied) => Ok(applied),
        // Kept as a second line of defence: a run that failed while another completed the schema
        // has nothing left to do.
        Err(e) if conn_is_sqlite(conn) && pending(conn)?.is_empty() => {
            log::debug!("migration race lost to another process: {e}");
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

/// Runs `f` holding the migration advisory lock. Even reading what is pending takes it: the
/// harness creates its bookkeeping table on first use, and two concurrent CREATE TABLE IF NOT
/// EXISTS collide in PostgreSQL's catalog.
fn with_pg_lock<T>(
    c: &mut diesel::PgConnection,
    f: impl FnOnce(&mut diesel::PgConnection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    c.batch_execute(&format!("SELECT pg_advisory_lock({PG_MIGRATION_LOCK})"))?;
    let result = f(c);
    c.batch_execute(&format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"))?;
    result
}

fn conn_is_sqlite(conn: &DbConnection) -> bool {
    matches!(conn, DbConnection::Sqlite(_))
}

fn apply<C, B>(c: &mut C, source: EmbeddedMigrations) -> Result<Vec<String>, DbError>
where
    C: MigrationHarness<B>,
    B: diesel::backend::Backend,
    EmbeddedMigrations: diesel::migration::MigrationSource<B>,
{
    c.run_pending_migrations(source)
        .map(|v| v.iter().map(ToString::to_string).collect())
        .map_err(|e| DbError::Migration(e.to_string()))
}

fn names<C, B>(c: &mut C, source: EmbeddedMigrations) -> Result<Vec<String>, DbError>
where
    C: MigrationHarness<B>,
    B: diesel::backend::Backend,
    EmbeddedMigrations: diesel::migration::MigrationSource<B>,
{
    c.pending_migrations(source)
        .map(|m| m.iter().map(|m| m.name().to_string()).collect())
        .map_err(|e| DbError::Migration(e.to_string()))
}

/// Versions of the embedded migrations that the database has not recorded as applied, read
/// without the migration lock and without creating anything (readiness asks this on every
/// probe). A database never migrated has no bookkeeping table: every migration is unapplied.
pub fn unapplied(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    #[derive(diesel::QueryableByName)]
    struct Applied {
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    let embedded = match conn {
        DbConnection::Sqlite(_) => versions::<diesel::sqlite::Sqlite>(&SQLITE)?,
        DbConnection::Pg(_) => versions::<diesel::pg::Pg>(&POSTGRES)?,
    };
    let applied: Vec<Applied> =
        match diesel::sql_query("SELECT version FROM __diesel_schema_migrations").load(conn) {
            Ok(rows) => rows,
            // No such table (the first migrate creates it): nothing is applied.
            Err(diesel::result::Error::DatabaseError(_, info))
                if info.message().contains("__diesel_schema_migrations") =>
            {
                Vec::new()
            }
            Err(e) => return Err(e.into()),
        };
    Ok(embedded
        .into_iter()
        .filter(|v| !applied.iter().any(|a| &a.version == v))
        .collect())
}

fn versions<B: diesel::backend::Backend>(
    source: &EmbeddedMigrations,
) -> Result<Vec<String>, DbError>
where
    EmbeddedMigrations: diesel::migration::MigrationSource<B>,
{
    diesel::migration::MigrationSource::<B>::migrations(source)
        .map(|all| all.iter().map(|m| m.name().version().to_string()).collect())
        .map_err(|e| DbError::Migration(e.to_string()))
}

/// Names of migrations not yet applied.
pub fn pending(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    match conn {
        DbConnection::Sqlite(c) => names(c, SQLITE),
        DbConnection::Pg(c) => with_pg_lock(c, |c| names(c, POSTGRES)),
    }
}
