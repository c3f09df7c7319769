//! `revoke USERNAME --staff|--superuser`: takes staff and/or superuser status from a user.

use std::io::Write;

use super::error::CommandError;
use super::{flags, setup};

pub type Args = flags::StatusArgs;

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    let (_, mut conn, user) = setup::user(&args.username)?;
    for flag in args.flags() {
        let status = flags::status_name(flag);
        if flags::set(&mut conn, &user, flag, false)? {
            writeln!(
                out,
                "Revoked {status} status from user '{}'.",
                user.username
            )?;
        } else {
            writeln!(
                out,
                "User '{}' does not have {status} status.",
                user.username
            )?;
        }
    }
    Ok(())
}
