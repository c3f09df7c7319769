//! `revoketokens USERNAME`: logs a user out everywhere, as `POST /api/token/logout-all/` does,
//! for an operator who cannot act as the user (a stolen device, an offboarding).

use std::io::Write;

use super::error::CommandError;
use super::setup;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user whose refresh and sliding tokens to blacklist.
    username: String,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    let (_, mut conn, user) = setup::user(&args.username)?;
    let revoked = auth::store::sessions::end_all(&mut conn, user.id, auth::tokens::now())?;
    writeln!(
        out,
        "Blacklisted {revoked} outstanding token(s) of user '{}'. Access tokens already issued \
         stay valid until they expire (at most ACCESS_TOKEN_LIFETIME).",
        user.username
    )?;
    Ok(())
}
