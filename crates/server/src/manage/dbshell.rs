//! `dbshell [-- ARGS]`: Django's command: runs the database's own client (`sqlite3` or `psql`)
//! on the configured database, in place of this process.

use std::ffi::OsString;
use std::io::Write;
use std::process::Command;

use users::db::Target;

use super::error::CommandError;
use super::setup;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Passed on to the client, after `--` (e.g. `-- -c 'select count(*) from auth_user'`).
    #[arg(last = true, value_name = "ARGS")]
    parameters: Vec<OsString>,
}

pub fn run(args: Args, _out: &mut dyn Write) -> Result<(), CommandError> {
    let settings = setup::settings()?;
    let target = Target::parse(&settings.databases.url)?;
    let (program, mut command) = client(target);
    command.args(&args.parameters);
    let error = exec(&mut command);
    if error.kind() == std::io::ErrorKind::NotFound {
        // Django's wording.
        return Err(CommandError::msg(format!(
            "You appear not to have the '{program}' program installed or on your path."
        )));
    }
    Err(CommandError::msg(format!("cannot run {program}: {error}")))
}

/// The client and its arguments for `target`. A PostgreSQL password goes in PGPASSWORD, as
/// Django's does, so that it is not on a command line anyone can read in `ps`.
fn client(target: Target) -> (&'static str, Command) {
    match target {
        Target::Sqlite(path) => {
            let mut command = Command::new("sqlite3");
            command.arg(path);
            ("sqlite3", command)
        }
        Target::Postgres(url) => {
            let mut command = Command::new("psql");
            match url::Url::parse(&url) {
                Ok(mut parsed) if parsed.password().is_some() => {
                    if let Some(password) = parsed.password() {
                        let password = percent_decode(password);
                        command.env("PGPASSWORD", password);
                    }
                    let _ = parsed.set_password(None);
                    command.arg(parsed.as_str());
                }
                _ => {
                    command.arg(url);
                }
            }
            ("psql", command)
        }
    }
}

/// A URL's userinfo is percent-encoded; libpq wants the password itself.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Replaces this process with `command`; returns only the error when that fails.
#[cfg(unix)]
fn exec(command: &mut Command) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    command.exec()
}

#[cfg(not(unix))]
fn exec(command: &mut Command) -> std::io::Error {
    match command.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_password_leaves_the_command_line() {
        let (program, command) = client(Target::Postgres(
            "postgres://app:p%40ss%2Fw@db.internal:5432/app?sslmode=require".into(),
        ));
        assert_eq!(program, "psql");
        let args: Vec<_> = command.get_args().collect();
        assert_eq!(
            args,
            ["postgres://app@db.internal:5432/app?sslmode=require"]
        );
        let env: Vec<_> = command.get_envs().collect();
        assert_eq!(
            env,
            [(
                std::ffi::OsStr::new("PGPASSWORD"),
                Some(std::ffi::OsStr::new("p@ss/w"))
            )]
        );
    }
}
