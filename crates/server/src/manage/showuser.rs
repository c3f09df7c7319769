//! `showuser`: one user's fields and the algorithm of their password hash (never the hash).

use std::io::Write;

use serde::Serialize;
use users::password::{identify, is_password_usable};

use super::error::CommandError;
use super::setup;
use super::userview::{self, text_time, yes_no, UserView};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user to show.
    username: String,
    /// Print a JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Detail<'a> {
    #[serde(flatten)]
    user: UserView<'a>,
    has_usable_password: bool,
    /// Django's hasher name ("bcrypt_sha256", "pbkdf2_sha256", ...); null when unusable or
    /// not recognised.
    password_algorithm: Option<&'static str>,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    let (_, _, user) = setup::user(&args.username)?;
    let usable = is_password_usable(&user.password);
    let algorithm = identify(&user.password);
    if args.json {
        let detail = Detail {
            user: UserView::new(&user),
            has_usable_password: usable,
            password_algorithm: algorithm,
        };
        return userview::write_json(out, &detail);
    }
    let password = match (usable, algorithm) {
        (false, _) => "unusable (cannot log in with a password)",
        (true, Some(name)) => name,
        (true, None) => "unknown algorithm (cannot be checked)",
    };
    let lines = [
        ("id", user.id.to_string()),
        ("username", user.username.clone()),
        ("email", user.email.clone()),
        ("first_name", user.first_name.clone()),
        ("last_name", user.last_name.clone()),
        ("active", yes_no(user.is_active).to_owned()),
        ("staff", yes_no(user.is_staff).to_owned()),
        ("superuser", yes_no(user.is_superuser).to_owned()),
        (
            "last_login",
            user.last_login
                .map_or_else(|| "never".to_owned(), text_time),
        ),
        ("date_joined", text_time(user.date_joined)),
        ("password", password.to_owned()),
    ];
    for (name, value) in lines {
        writeln!(
            out,
            "{}",
            format!("{:<12} {value}", format!("{name}:")).trim_end()
        )?;
    }
    Ok(())
}
