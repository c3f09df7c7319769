//! Keeps a SQLite database's write-ahead log bounded. SQLite's automatic checkpoints copy the
//! log into the database but can only restart it from the beginning when no reader still uses
//! it; under steady concurrent reads that moment never comes, and the `-wal` file grows without
//! bound (hundreds of MB to GB in bench/run's refresh runs). Once the log passes [`LIMIT`], a
//! TRUNCATE checkpoint waits briefly for the readers of the moment to finish, then empties it.

use std::path::{Path, PathBuf};
use std::sync::Weak;
use std::time::Duration;

use auth::AuthState;
use users::db::Target;

/// The size past which the log is checkpointed and truncated.
pub const LIMIT: u64 = 16 * 1024 * 1024;
/// How often the log's size is looked at (one `stat`).
const EVERY: Duration = Duration::from_secs(1);

/// Starts the keeper thread when the database is a SQLite file. It stops by itself once the
/// app's state is dropped.
pub fn keep_bounded(state: &actix_web::web::Data<AuthState>) {
    let Ok(Target::Sqlite(path)) = Target::parse(&state.settings.databases.url) else {
        return;
    };
    if path.as_os_str() == ":memory:" {
        return;
    }
    let wal = wal_path(&path);
    let state = std::sync::Arc::downgrade(&state.clone().into_inner());
    let spawned = std::thread::Builder::new()
        .name("sqlite-wal".into())
        .spawn(move || watch(&wal, &state));
    if let Err(e) = spawned {
        log::warn!("cannot start the SQLite log keeper ({e}); the -wal file may grow");
    }
}

fn watch(wal: &Path, state: &Weak<AuthState>) {
    loop {
        // A timed wait, not synchronisation: the loop polls the file's size.
        std::thread::sleep(EVERY);
        let Some(state) = state.upgrade() else { return };
        if std::fs::metadata(wal).is_ok_and(|m| m.len() > LIMIT) {
            if let Err(e) = checkpoint(&state) {
                log::warn!("SQLite checkpoint failed: {e}");
            }
        }
    }
}

fn checkpoint(state: &AuthState) -> Result<(), users::DbError> {
    let mut conn = users::db::get(&state.pool)?;
    users::db::truncate_wal(&mut conn)?;
    Ok(())
}

fn wal_path(db: &Path) -> PathBuf {
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
}
