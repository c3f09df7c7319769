//! `manage`, Django's `manage.py` for this server: the command line and its dispatch to one
//! module per subcommand.
//!
//! Every command but `generatesecretkey` reads the settings like the server does (.env,
//! settings.toml or SETTINGS_FILE, environment). Only `runserver` signs tokens, so only it needs
//! a real SECRET_KEY (and it makes up an ephemeral one when none is set); the database commands
//! run with just DATABASE_URL configured.

mod activate;
mod changepassword;
mod changeuser;
mod check;
mod createsuperuser;
mod createuser;
mod dbshell;
mod deactivate;
mod deleteuser;
mod dumpdata;
mod error;
mod flags;
mod flushexpiredtokens;
mod generatesecretkey;
mod grant;
mod listusers;
mod loaddata;
mod migrate;
mod password_policy;
mod prompt;
mod revoke;
mod revoketokens;
mod runserver;
mod setup;
mod showmigrations;
mod showuser;
mod userview;
mod validate;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

pub use error::CommandError;

/// Administrative tasks for the JWT auth server (Django's manage.py).
#[derive(Debug, Parser)]
#[command(
    name = "manage",
    version,
    after_help = "Settings come from .env, settings.toml (or SETTINGS_FILE) and the environment \
                  (DATABASE_URL, SECRET_KEY, ...), as for the server.\n\
                  Type 'manage help <subcommand>' for help on a specific subcommand."
)]
pub struct Cli {
    /// Settings file to read instead of ./settings.toml (the same as setting SETTINGS_FILE).
    #[arg(long, global = true, value_name = "FILE")]
    pub settings: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Applies the database migrations that are not applied yet.
    Migrate(migrate::Args),
    /// Lists the database migrations and whether each is applied.
    Showmigrations(showmigrations::Args),
    /// Creates a superuser (staff and superuser status), prompting unless --noinput.
    Createsuperuser(createsuperuser::Args),
    /// Creates a user, by default active, not staff, without a usable password.
    Createuser(createuser::Args),
    /// Changes a user's password (by default the current OS user's, as Django's).
    Changepassword(changepassword::Args),
    /// Changes a user's username, names, email or active/staff/superuser status, as Django's
    /// admin does; a new username or status ends the user's sessions.
    Changeuser(changeuser::Args),
    /// Lists all users (times in UTC), without their password hashes.
    Listusers(listusers::Args),
    /// Shows one user and the algorithm of their password hash (never the hash).
    Showuser(showuser::Args),
    /// Marks a user as active: they can log in again.
    Activate(activate::Args),
    /// Marks a user as inactive: they can no longer log in or use their tokens.
    Deactivate(deactivate::Args),
    /// Grants staff and/or superuser status to a user.
    Grant(grant::Args),
    /// Revokes staff and/or superuser status from a user.
    Revoke(revoke::Args),
    /// Logs a user out everywhere: blacklists every outstanding refresh and sliding token.
    Revoketokens(revoketokens::Args),
    /// Deletes a user, after confirmation unless --yes.
    Deleteuser(deleteuser::Args),
    /// Loads the users of a Django `dumpdata auth.user` JSON file, keeping ids and hashes.
    ///
    /// All or nothing, and idempotent: records equal to their row change nothing. Records of
    /// other models are skipped with a note; groups and user permissions are not loaded. A
    /// record whose pk is a user of another username is refused unless --replace-users.
    Loaddata(loaddata::Args),
    /// Writes the users as Django's `dumpdata auth.user` JSON (without groups and permissions).
    Dumpdata(dumpdata::Args),
    /// Deletes expired outstanding and blacklisted tokens.
    ///
    /// Run it periodically (e.g. daily from cron) when BLACKLIST_AFTER_ROTATION or the blacklist
    /// endpoint are used; expired tokens are refused by their `exp` claim, so nothing is lost.
    Flushexpiredtokens(flushexpiredtokens::Args),
    /// Starts a development web server (use the `server` binary in production).
    ///
    /// Listens on ADDRPORT, not SERVER.BIND or PORT, with two workers. Without a configured
    /// SECRET_KEY it signs with a random key for this run only: tokens do not survive a restart.
    /// Unapplied migrations are reported, not fatal.
    Runserver(runserver::Args),
    /// Prints a new random secret suitable for SECRET_KEY.
    Generatesecretkey(generatesecretkey::Args),
    /// Runs the database's command-line client (sqlite3 or psql) on DATABASE_URL.
    Dbshell(dbshell::Args),
    /// Checks the settings for problems, Django-style; --deploy adds the production checks.
    Check(check::Args),
}

impl Cli {
    /// The default log level: `runserver` logs each request, the other commands only warnings.
    pub fn log_filter(&self) -> &'static str {
        match self.command {
            // r2d2 would log every failed connection attempt; the command reports the error once.
            Command::Runserver(_) => "info,r2d2=off",
            _ => "warn,r2d2=off",
        }
    }
}

/// The directory the operator called `./manage` from, set by that wrapper (which runs this binary
/// in the repository root so that .env and settings.toml are the project's). Relative file
/// arguments are the caller's, as with Django's manage.py.
pub const CALLER_DIR_VAR: &str = "MANAGE_CALLER_DIR";

impl Cli {
    /// Makes the relative file arguments (`--settings`, `loaddata FILE`, `dumpdata -o FILE`)
    /// relative to `dir` instead of the working directory.
    pub fn resolve_paths(&mut self, dir: &Path) {
        if let Some(path) = &mut self.settings {
            resolve_path(dir, path);
        }
        match &mut self.command {
            Command::Loaddata(args) => args.resolve_paths(dir),
            Command::Dumpdata(args) => args.resolve_paths(dir),
            _ => {}
        }
    }
}

/// `path` joined to `dir` when it is relative.
fn resolve_path(dir: &Path, path: &mut PathBuf) {
    if path.is_relative() {
        *path = dir.join(&*path);
    }
}

/// Runs the command, writing its output to `out` (prompts and warnings go to the terminal and
/// stderr). Call before spawning threads: `--settings` and the settings loader set environment
/// variables.
pub fn run(mut cli: Cli, out: &mut dyn Write) -> Result<(), CommandError> {
    if let Some(dir) = std::env::var_os(CALLER_DIR_VAR).filter(|d| !d.is_empty()) {
        cli.resolve_paths(Path::new(&dir));
    }
    if let Some(path) = &cli.settings {
        std::env::set_var("SETTINGS_FILE", path);
    }
    match cli.command {
        Command::Migrate(args) => migrate::run(args, out),
        Command::Showmigrations(args) => showmigrations::run(args, out),
        Command::Createsuperuser(args) => createsuperuser::run(args, out),
        Command::Createuser(args) => createuser::run(args, out),
        Command::Changepassword(args) => changepassword::run(args, out),
        Command::Changeuser(args) => changeuser::run(args, out),
        Command::Listusers(args) => listusers::run(args, out),
        Command::Showuser(args) => showuser::run(args, out),
        Command::Activate(args) => activate::run(args, out),
        Command::Deactivate(args) => deactivate::run(args, out),
        Command::Grant(args) => grant::run(args, out),
        Command::Revoke(args) => revoke::run(args, out),
        Command::Revoketokens(args) => revoketokens::run(args, out),
        Command::Deleteuser(args) => deleteuser::run(args, out),
        Command::Loaddata(args) => loaddata::run(args, out),
        Command::Dumpdata(args) => dumpdata::run(args, out),
        Command::Flushexpiredtokens(args) => flushexpiredtokens::run(args, out),
        Command::Runserver(args) => runserver::run(args, out),
        Command::Generatesecretkey(args) => generatesecretkey::run(args, out),
        Command::Check(args) => check::run(args, out),
        Command::Dbshell(args) => dbshell::run(args, out),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn subcommand_names_are_djangos_spelling() {
        let cli = Cli::command();
        let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
        for name in [
            "migrate",
            "showmigrations",
            "createsuperuser",
            "createuser",
            "changepassword",
            "changeuser",
            "dbshell",
            "listusers",
            "showuser",
            "activate",
            "deactivate",
            "grant",
            "revoke",
            "revoketokens",
            "deleteuser",
            "loaddata",
            "dumpdata",
            "flushexpiredtokens",
            "runserver",
            "generatesecretkey",
        ] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
    }

    #[test]
    fn grant_needs_a_flag() {
        assert!(Cli::try_parse_from(["manage", "grant", "alice"]).is_err());
        assert!(
            Cli::try_parse_from(["manage", "grant", "alice", "--staff", "--superuser"]).is_ok()
        );
    }
}
