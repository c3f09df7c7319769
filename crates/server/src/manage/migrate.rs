//! `migrate`: applies pending migrations, reporting them as Django does.

use std::io::Write;

use users::migrations;

use super::error::CommandError;
use super::setup;

/// The Django apps whose tables the migrations create (`auth_user`, `token_blacklist_*`).
pub const APPS: &str = "auth, token_blacklist";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Accepted for compatibility with Django: migrate never prompts.
    #[arg(long = "noinput", visible_alias = "no-input")]
    noinput: bool,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    // Nothing to turn off: the flag only keeps Django-era scripts working.
    let Args { noinput: _ } = args;
    let settings = setup::settings()?;
    let mut conn = setup::connect(&settings)?;
    let before = migrations::pending(&mut conn)?;
    writeln!(
        out,
        "Operations to perform:\n  Apply all migrations: {APPS}\nRunning migrations:"
    )?;
    if before.is_empty() {
        writeln!(out, "  No migrations to apply.")?;
        return Ok(());
    }
    let result = migrations::run_pending(&mut conn);
    // What this run applied is what was pending and no longer is; on failure that still tells
    // the operator how far it got (each migration runs in its own transaction).
    let after = migrations::pending(&mut conn).unwrap_or_else(|_| before.clone());
    let applied: Vec<&String> = before.iter().filter(|name| !after.contains(name)).collect();
    for name in &applied {
        writeln!(out, "  Applying {name}... OK")?;
    }
    result?;
    if applied.is_empty() {
        // Another process (a second release, a running dyno) applied them meanwhile.
        writeln!(out, "  No migrations to apply.")?;
    }
    Ok(())
}
