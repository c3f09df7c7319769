//! `activate`: lets an inactive user log in again.

use std::io::Write;

use users::models::Flag;

use super::error::CommandError;
use super::{flags, setup};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user to activate.
    username: String,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    let (_, mut conn, user) = setup::user(&args.username)?;
    if flags::set(&mut conn, &user, Flag::Active, true)? {
        writeln!(out, "User '{}' activated.", user.username)?;
    } else {
        writeln!(out, "User '{}' is already active.", user.username)?;
    }
    Ok(())
}
