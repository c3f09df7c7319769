//! `showmigrations`: every migration, `[X]` when applied and `[ ]` when not, as Django lists them.

use std::io::Write;

use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::sqlite::Sqlite;
use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use users::db::Target;

use super::error::CommandError;
use super::setup;

// The same folders the users crate applies; only their names are read here (it exposes what is
// pending, not the full list).
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    let settings = setup::settings()?;
    let target = Target::parse(&settings.databases.url)?;
    let mut conn = setup::connect(&settings)?;
    let pending = users::migrations::pending(&mut conn)?;
    for name in all_names(&target)? {
        let mark = if pending.contains(&name) { ' ' } else { 'X' };
        writeln!(out, " [{mark}] {name}")?;
    }
    Ok(())
}

/// Every migration of the backend, oldest first.
fn all_names(target: &Target) -> Result<Vec<String>, CommandError> {
    let listed = match target {
        Target::Sqlite(_) => MigrationSource::<Sqlite>::migrations(&SQLITE)
            .map(|ms| ms.iter().map(|m| m.name().to_string()).collect::<Vec<_>>()),
        Target::Postgres(_) => MigrationSource::<Pg>::migrations(&POSTGRES)
            .map(|ms| ms.iter().map(|m| m.name().to_string()).collect::<Vec<_>>()),
    };
    let mut names =
        listed.map_err(|e| CommandError::msg(format!("cannot list migrations: {e}")))?;
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_migration_names() {
        let sqlite = all_names(&Target::Sqlite("db.sqlite3".into())).unwrap();
        let postgres = all_names(&Target::Postgres("postgres://h/db".into())).unwrap();
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, postgres);
    }
}
