//! `createsuperuser`: Django's command, interactive by default, or `--noinput` with the
//! `DJANGO_SUPERUSER_*` environment variables.

use std::io::Write;

use chrono::Utc;
use users::password::make_unusable_password;
use users::{DbConnection, NewUser};

use super::error::CommandError;
use users::validators::{PasswordValidators, UserAttributes};

use super::{password_policy, prompt, setup, validate};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Specifies the login for the superuser (or DJANGO_SUPERUSER_USERNAME).
    #[arg(long)]
    username: Option<String>,
    /// Specifies the email for the superuser (or DJANGO_SUPERUSER_EMAIL).
    #[arg(long)]
    email: Option<String>,
    /// Do NOT prompt for input of any kind. You must use --username with --noinput, along with
    /// --email. The password is read from DJANGO_SUPERUSER_PASSWORD; without it the superuser
    /// is created with an unusable password and cannot log in until given one.
    #[arg(long = "noinput", visible_alias = "no-input")]
    noinput: bool,
}

/// What the superuser will be created with.
struct Superuser {
    username: String,
    email: String,
    /// None: an unusable password.
    password: Option<String>,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    if !args.noinput && !prompt::is_interactive() {
        // Django prints a notice and exits successfully here; a script would then carry on
        // without a superuser, so this is an error instead.
        return Err(CommandError::msg(
            "createsuperuser prompts for input but stdin is not a terminal: use --noinput with \
             --username and --email (the password comes from DJANGO_SUPERUSER_PASSWORD).",
        ));
    }
    let settings = setup::settings()?;
    let mut conn = setup::connect_migrated(&settings)?;
    let validators = password_policy::load(&settings)?;
    let wanted = if args.noinput {
        let wanted = from_options(&mut conn, args)?;
        if let Some(raw) = &wanted.password {
            password_policy::enforce(&validators, raw, &wanted.attributes())?;
        }
        wanted
    } else {
        interactively(&mut conn, args, &validators)?
    };
    let encoded = match &wanted.password {
        Some(raw) => setup::hasher(&settings)?.make_password(raw)?,
        None => make_unusable_password(),
    };
    users::queries::create(
        &mut conn,
        &NewUser {
            username: &wanted.username,
            email: &wanted.email,
            password: &encoded,
            first_name: "",
            last_name: "",
            is_active: true,
            is_staff: true,
            is_superuser: true,
            date_joined: Utc::now().naive_utc(),
        },
    )?;
    writeln!(out, "Superuser created successfully.")?;
    if wanted.password.is_none() {
        writeln!(
            out,
            "It has no usable password: set one with './manage changepassword {}'.",
            wanted.username
        )?;
    }
    Ok(())
}

impl Superuser {
    /// What the similarity check compares the password with (Django's `fake_user_data`).
    fn attributes(&self) -> UserAttributes<'_> {
        UserAttributes {
            username: &self.username,
            email: &self.email,
            ..Default::default()
        }
    }
}

/// Django's non-interactive mode: options first, then `DJANGO_SUPERUSER_*` variables.
fn from_options(conn: &mut DbConnection, args: Args) -> Result<Superuser, CommandError> {
    let username = args
        .username
        .or_else(|| env("DJANGO_SUPERUSER_USERNAME"))
        .ok_or_else(|| CommandError::msg("You must use --username with --noinput."))?;
    if username.is_empty() {
        return Err(CommandError::msg("Username cannot be blank."));
    }
    check_username(conn, &username)?.map_or(Ok(()), |e| Err(CommandError::Message(e)))?;

    // Django accepts a blank email only when it was given explicitly as blank.
    let email_env = env("DJANGO_SUPERUSER_EMAIL");
    let email = match (args.email, email_env) {
        (Some(e), _) if !e.is_empty() => e,
        (_, Some(e)) if !e.is_empty() => e,
        (Some(_), _) | (_, Some(_)) => String::new(),
        (None, None) => return Err(CommandError::msg("You must use --email with --noinput.")),
    };
    validate::email(&email).map_err(CommandError::Message)?;

    let password = env("DJANGO_SUPERUSER_PASSWORD");
    if password.as_deref().is_some_and(|p| p.trim().is_empty()) {
        // Django would store a hash of the blank password; an empty variable is far more likely
        // a missing secret than an intended password.
        return Err(CommandError::msg(
            "DJANGO_SUPERUSER_PASSWORD is set but blank: Blank passwords aren't allowed.",
        ));
    }
    Ok(Superuser {
        username,
        email,
        password,
    })
}

/// Django's prompts, re-asking after each invalid answer.
fn interactively(
    conn: &mut DbConnection,
    args: Args,
    validators: &PasswordValidators,
) -> Result<Superuser, CommandError> {
    let mut given = match args.username {
        Some(name) if name.is_empty() => {
            return Err(CommandError::msg("Username cannot be blank."))
        }
        given => given,
    };
    let default = default_username(conn)?;
    let username = loop {
        let candidate = match given.take() {
            Some(name) => name,
            None => {
                let question = match &default {
                    Some(d) => format!("Username (leave blank to use '{d}'): "),
                    None => "Username: ".to_owned(),
                };
                let answer = prompt::input(&question)?;
                match (&default, answer.is_empty()) {
                    (Some(d), true) => d.clone(),
                    _ => answer,
                }
            }
        };
        match check_username(conn, &candidate)? {
            Some(problem) => eprintln!("Error: {problem}"),
            None => break candidate,
        }
    };

    let email = match args.email {
        Some(email) => {
            validate::email(&email).map_err(CommandError::Message)?;
            email
        }
        None => loop {
            let answer = prompt::input("Email address: ")?;
            match validate::email(&answer) {
                Ok(()) => break answer,
                Err(problem) => eprintln!("Error: {problem}"),
            }
        },
    };

    let password = loop {
        let first = prompt::password("Password: ")?;
        let again = prompt::password("Password (again): ")?;
        if first != again {
            eprintln!("Error: Your passwords didn't match.");
        } else if first.trim().is_empty() {
            eprintln!("Error: Blank passwords aren't allowed.");
        } else {
            let user = UserAttributes {
                username: &username,
                email: &email,
                ..Default::default()
            };
            if password_policy::accept_interactively(validators, &first, &user, true)? {
                break first;
            }
        }
    };
    Ok(Superuser {
        username,
        email,
        password: Some(password),
    })
}

/// Why `username` cannot be used, in Django's words, or None when it is free and valid.
fn check_username(conn: &mut DbConnection, username: &str) -> Result<Option<String>, CommandError> {
    if let Err(problem) = validate::username(username) {
        return Ok(Some(problem));
    }
    if users::queries::by_username(conn, username)?.is_some() {
        return Ok(Some("That username is already taken.".to_owned()));
    }
    Ok(None)
}

/// Django's `get_default_username()`: the login name of whoever runs the command, lower-cased,
/// when it is a valid username not yet taken.
fn default_username(conn: &mut DbConnection) -> Result<Option<String>, CommandError> {
    let Some(name) = ["USER", "LOGNAME", "USERNAME"].into_iter().find_map(env) else {
        return Ok(None);
    };
    let name = name.to_lowercase();
    Ok(check_username(conn, &name)?.is_none().then_some(name))
}

/// A variable's value; absent and non-UTF-8 are the same here.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
