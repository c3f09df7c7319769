//! `changepassword [USERNAME]`: Django's command (three attempts at typing the password twice),
//! or the password from stdin for scripts. Without a username, the current OS user's, as Django's.

use std::io::Write;

use super::error::CommandError;
use users::validators::{PasswordValidators, UserAttributes};

use super::{password_policy, prompt, setup};

/// Django's MAX_TRIES.
const MAX_TRIES: usize = 3;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Username to change password for; by default, the current user's (as Django's).
    username: Option<String>,
    /// Read the new password from the first line of stdin instead of prompting.
    #[arg(long)]
    password_stdin: bool,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    if !args.password_stdin && !prompt::is_interactive() {
        return Err(CommandError::msg(
            "changepassword prompts for the password but stdin is not a terminal: use \
             --password-stdin to pipe it in.",
        ));
    }
    let username = match args.username {
        Some(name) => name,
        None => os_username()?,
    };
    let (settings, mut conn, user) = setup::user(&username)?;
    let validators = password_policy::load(&settings)?;
    let attributes = UserAttributes::from(&user);
    let password = if args.password_stdin {
        let password = prompt::password_from_stdin()?;
        password_policy::enforce(&validators, &password, &attributes)?;
        password
    } else {
        writeln!(out, "Changing password for user '{}'", user.username)?;
        out.flush()?;
        ask_twice(out, &validators, &attributes)?
    };
    let encoded = setup::hasher(&settings)?.make_password(&password)?;
    // A new password ends every session, as POST /api/users/me/password/ does, in the same
    // write transaction: no moment with the new password and the old sessions live, and no
    // success printed for work that did not commit.
    let at = auth::tokens::now();
    let changed = users::tx::write(&mut conn, |conn| -> Result<bool, CommandError> {
        if users::queries::set_password(conn, user.id, &encoded)? == 0 {
            return Ok(false);
        }
        auth::store::sessions::end_all(conn, user.id, at)?;
        Ok(true)
    })?;
    if !changed {
        // Deleted by someone else since it was looked up.
        return Err(super::error::not_found(&user.username));
    }
    writeln!(
        out,
        "Password changed successfully for user '{}'",
        user.username
    )?;
    Ok(())
}

/// Django's loop: a mismatch or a password the validators refuse uses up one of the attempts
/// (no bypass here, unlike createsuperuser).
fn ask_twice(
    out: &mut dyn Write,
    validators: &PasswordValidators,
    user: &UserAttributes<'_>,
) -> Result<String, CommandError> {
    for _ in 0..MAX_TRIES {
        let first = non_blank(prompt::password("Password: ")?)?;
        let again = non_blank(prompt::password("Password (again): ")?)?;
        if first != again {
            writeln!(out, "Passwords do not match. Please try again.")?;
            out.flush()?;
        } else if password_policy::accept_interactively(validators, &first, user, false)? {
            return Ok(first);
        }
    }
    Err(CommandError::msg(format!(
        "Aborting password change for user '{}' after {MAX_TRIES} attempts",
        user.username
    )))
}

/// Python's `getpass.getuser()`, which Django's command uses: LOGNAME, USER, LNAME or USERNAME,
/// else the name of the process's uid in /etc/passwd.
fn os_username() -> Result<String, CommandError> {
    let from_env = ["LOGNAME", "USER", "LNAME", "USERNAME"]
        .into_iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|name| !name.is_empty());
    from_env.or_else(passwd_name).ok_or_else(|| {
        CommandError::msg("cannot tell the current user's name: give the username to change.")
    })
}

/// The login name of this process's uid in /etc/passwd.
fn passwd_name() -> Option<String> {
    let uid = rustix::process::getuid().as_raw().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid).then(|| name.to_owned())
    })
}

/// Django gives up on an empty answer.
fn non_blank(password: String) -> Result<String, CommandError> {
    if password.is_empty() {
        Err(CommandError::msg("aborted"))
    } else {
        Ok(password)
    }
}
