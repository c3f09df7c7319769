//! `deleteuser`: deletes a user after a `[y/N]` confirmation, or at once with `--yes`. Their
//! outstanding tokens stay recorded (with no user) until they expire.

use std::io::Write;

use super::error::{not_found, CommandError};
use super::{prompt, setup};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user to delete.
    username: String,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    let (_, mut conn, user) = setup::user(&args.username)?;
    if !args.yes {
        if !prompt::is_interactive() {
            return Err(CommandError::msg(format!(
                "refusing to delete user '{}' without confirmation: stdin is not a terminal; \
                 pass --yes to delete anyway.",
                user.username
            )));
        }
        if !prompt::confirm(&format!("Delete user '{}'? [y/N] ", user.username))? {
            writeln!(out, "Deletion cancelled.")?;
            return Ok(());
        }
    }
    if users::queries::delete(&mut conn, user.id)? == 0 {
        return Err(not_found(&user.username));
    }
    writeln!(out, "Deleted user '{}'.", user.username)?;
    Ok(())
}
