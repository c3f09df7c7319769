//! `deactivate`: stops a user from logging in; with CHECK_USER_IS_ACTIVE (the default) their
//! existing tokens stop working too.

use std::io::Write;

use users::models::Flag;

use super::error::CommandError;
use super::{flags, setup};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user to deactivate.
    username: String,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    let (_, mut conn, user) = setup::user(&args.username)?;
    if flags::set(&mut conn, &user, Flag::Active, false)? {
        writeln!(out, "User '{}' deactivated.", user.username)?;
    } else {
        writeln!(out, "User '{}' is already inactive.", user.username)?;
    }
    Ok(())
}
