//! `grant USERNAME --staff|--superuser`: gives a user staff and/or superuser status.

use std::io::Write;

use super::error::CommandError;
use super::{flags, setup};

pub type Args = flags::StatusArgs;

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    let (_, mut conn, user) = setup::user(&args.username)?;
    for flag in args.flags() {
        let status = flags::status_name(flag);
        if flags::set(&mut conn, &user, flag, true)? {
            writeln!(out, "Granted {status} status to user '{}'.", user.username)?;
        } else {
            writeln!(out, "User '{}' already has {status} status.", user.username)?;
        }
    }
    Ok(())
}
