//! `changeuser USERNAME --email ... --is-staff true ...`: what Django's admin changes on a user
//! record (username, names, email, active/staff/superuser status), in one transaction that also
//! ends the user's sessions when who they are or what they may do changes.

use std::io::Write;

use clap::builder::BoolishValueParser;
use diesel::Connection;
use users::models::UserChanges;

use super::error::CommandError;
use super::{setup, validate};

#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("change").required(true).multiple(true).args([
        "new_username", "email", "first_name", "last_name", "is_active", "is_staff", "is_superuser",
    ])
))]
pub struct Args {
    /// The user to change.
    username: String,
    /// A new username (ends the user's sessions).
    #[arg(long = "username", value_name = "NEW")]
    new_username: Option<String>,
    /// A new email address ("" clears it).
    #[arg(long)]
    email: Option<String>,
    /// A new first name ("" clears it).
    #[arg(long)]
    first_name: Option<String>,
    /// A new last name ("" clears it).
    #[arg(long)]
    last_name: Option<String>,
    /// Active status: false stops logins and tokens (ends the user's sessions).
    #[arg(long, value_name = "true|false", value_parser = BoolishValueParser::new())]
    is_active: Option<bool>,
    /// Staff status, what IsAdminUser checks (ends the user's sessions).
    #[arg(long, value_name = "true|false", value_parser = BoolishValueParser::new())]
    is_staff: Option<bool>,
    /// Superuser status (ends the user's sessions).
    #[arg(long, value_name = "true|false", value_parser = BoolishValueParser::new())]
    is_superuser: Option<bool>,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    if let Some(name) = &args.new_username {
        validate::username(name).map_err(CommandError::Message)?;
    }
    if let Some(email) = &args.email {
        validate::email(email).map_err(CommandError::Message)?;
    }
    for name in [&args.first_name, &args.last_name].into_iter().flatten() {
        validate::name(name).map_err(CommandError::Message)?;
    }
    let wanted = UserChanges {
        username: args.new_username,
        email: args.email,
        first_name: args.first_name,
        last_name: args.last_name,
        is_active: args.is_active,
        is_staff: args.is_staff,
        is_superuser: args.is_superuser,
    };
    let (_, mut conn, _) = setup::user(&args.username)?;
    let now = auth::tokens::now();
    let changes = conn.transaction(|conn| {
        // Read again inside the transaction: what is compared is what is overwritten.
        let user = users::queries::require(conn, &args.username)?;
        let changes = wanted.against(&user);
        if changes.is_empty() {
            return Ok(changes);
        }
        if users::queries::update(conn, user.id, &changes)? == 0 {
            return Err(super::error::not_found(&user.username));
        }
        // Tokens carry the user id, and the server looks the user up by it: after a rename or a
        // change of status, tokens issued before must not keep working as if nothing happened.
        if changes.ends_sessions() {
            auth::store::sessions::end_all(conn, user.id, now)?;
        }
        Ok::<_, CommandError>(changes)
    })?;
    if changes.is_empty() {
        writeln!(
            out,
            "User '{}' already has those values; nothing changed.",
            args.username
        )?;
        return Ok(());
    }
    let name = match &changes.username {
        Some(new) => format!("'{}' (now '{new}')", args.username),
        None => format!("'{}'", args.username),
    };
    writeln!(out, "Changed user {name}: {}.", changes.fields().join(", "))?;
    if changes.ends_sessions() {
        writeln!(out, "Ended the user's sessions: they must log in again.")?;
    }
    Ok(())
}
