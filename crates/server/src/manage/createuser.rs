//! `createuser`: creates one user non-interactively, with the flags given and a password from
//! stdin or an unusable one.

use std::io::Write;

use chrono::Utc;
use users::password::make_unusable_password;
use users::NewUser;

use super::error::CommandError;
use super::{password_policy, prompt, setup, validate};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Login name: letters, digits and @/./+/-/_ only, 150 characters at most.
    username: String,
    /// Email address (optional).
    #[arg(long, default_value = "", hide_default_value = true)]
    email: String,
    /// First name (optional).
    #[arg(long, default_value = "", hide_default_value = true)]
    first_name: String,
    /// Last name (optional).
    #[arg(long, default_value = "", hide_default_value = true)]
    last_name: String,
    /// Create the user inactive (unable to log in until `activate`).
    #[arg(long)]
    inactive: bool,
    /// Give staff status (what IsAdminUser checks).
    #[arg(long)]
    staff: bool,
    /// Give superuser status (all permissions; combine with --staff for IsAdminUser).
    #[arg(long)]
    superuser: bool,
    /// Read the password from the first line of stdin; without it the password is unusable.
    #[arg(long)]
    password_stdin: bool,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    validate::username(&args.username).map_err(CommandError::Message)?;
    validate::email(&args.email).map_err(CommandError::Message)?;
    validate::name(&args.first_name).map_err(CommandError::Message)?;
    validate::name(&args.last_name).map_err(CommandError::Message)?;
    let password = if args.password_stdin {
        Some(prompt::password_from_stdin()?)
    } else {
        None
    };
    let settings = setup::settings()?;
    if let Some(raw) = &password {
        let user = users::validators::UserAttributes {
            username: &args.username,
            email: &args.email,
            first_name: &args.first_name,
            last_name: &args.last_name,
        };
        password_policy::enforce(&password_policy::load(&settings)?, raw, &user)?;
    }
    let mut conn = setup::connect_migrated(&settings)?;
    // Checked before hashing so that a taken name fails fast; the unique index still decides.
    if users::queries::by_username(&mut conn, &args.username)?.is_some() {
        return Err(CommandError::msg("That username is already taken."));
    }
    let encoded = match &password {
        Some(raw) => setup::hasher(&settings)?.make_password(raw)?,
        None => make_unusable_password(),
    };
    let user = users::queries::create(
        &mut conn,
        &NewUser {
            username: &args.username,
            email: &args.email,
            password: &encoded,
            first_name: &args.first_name,
            last_name: &args.last_name,
            is_active: !args.inactive,
            is_staff: args.staff,
            is_superuser: args.superuser,
            date_joined: Utc::now().naive_utc(),
        },
    )?;
    writeln!(out, "User '{}' created (id {}).", user.username, user.id)?;
    if password.is_none() {
        writeln!(
            out,
            "It has no usable password, so it cannot log in until one is set: \
             './manage changepassword {}'.",
            user.username
        )?;
    }
    Ok(())
}
