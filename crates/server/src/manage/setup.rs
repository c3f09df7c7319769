//! What the database commands share: settings without a real SECRET_KEY, one connection, the
//! migration check, the password hasher, and fetching a user by name.

use settings::{Secret, Settings};
use users::db::{ConnectionManager, Target};
use users::{DbConnection, PasswordHasher, User};

use super::error::{not_found, CommandError};
use super::generatesecretkey::random_secret_key;

/// Loads the settings for a command that never signs a token. SECRET_KEY is only needed to sign
/// and verify tokens, so a throwaway random key stands in when none is configured: `migrate` or
/// `createsuperuser` then run where only DATABASE_URL is set (a release phase, a CI job). A
/// configured key is still loaded and checked, as the server would.
pub fn settings() -> Result<Settings, CommandError> {
    Ok(Settings::load_with_fallback_secret(Some(Secret::new(
        random_secret_key(),
    )))?)
}

/// One direct connection, not a pool: a CLI needs one, and a bad SQLite path or a refused
/// PostgreSQL connection then fails at once instead of after the pool's retries.
pub fn connect(settings: &Settings) -> Result<DbConnection, CommandError> {
    let target = Target::parse(&settings.databases.url)?;
    let described = match &target {
        Target::Sqlite(path) => format!("the SQLite database {}", path.display()),
        // The URL is not shown: it may hold a password.
        Target::Postgres(_) => "the PostgreSQL database".to_owned(),
    };
    if !target.is_sqlite() && std::env::var_os("PGCONNECT_TIMEOUT").is_none() {
        // libpq waits indefinitely for an unreachable host by default; give up after
        // DATABASES.CONNECT_TIMEOUT as the server's pool does (libpq's minimum is 2 seconds).
        let secs = settings.databases.connect_timeout.as_secs().max(2);
        std::env::set_var("PGCONNECT_TIMEOUT", secs.to_string());
    }
    ConnectionManager::new(target)
        .establish()
        .map_err(|e| CommandError::msg(format!("cannot connect to {described}: {e}")))
}

/// Django's notice, also printed by `runserver`.
pub fn unapplied_message(count: usize) -> String {
    format!("You have {count} unapplied migration(s). Run './manage migrate' to apply them.")
}

/// A connection to a database whose schema is up to date. Commands on users and tokens refuse
/// to run otherwise, rather than fail halfway with "no such table".
pub fn connect_migrated(settings: &Settings) -> Result<DbConnection, CommandError> {
    let mut conn = connect(settings)?;
    let pending = users::migrations::pending(&mut conn)?;
    if pending.is_empty() {
        Ok(conn)
    } else {
        Err(CommandError::msg(unapplied_message(pending.len())))
    }
}

/// Settings, an up-to-date database and the named user, for the commands that change one user.
pub fn user(username: &str) -> Result<(Settings, DbConnection, User), CommandError> {
    let settings = settings()?;
    let mut conn = connect_migrated(&settings)?;
    let user =
        users::queries::by_username(&mut conn, username)?.ok_or_else(|| not_found(username))?;
    Ok((settings, conn, user))
}

/// Built only when a password is hashed: it precomputes a hash at the configured cost.
pub fn hasher(settings: &Settings) -> Result<PasswordHasher, CommandError> {
    Ok(PasswordHasher::new(settings.passwords.bcrypt_rounds)?)
}
