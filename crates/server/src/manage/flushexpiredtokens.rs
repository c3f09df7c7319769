//! `flushexpiredtokens`: deletes the outstanding tokens that have expired (their blacklist rows
//! go with them): an expired token is refused by its `exp` claim alone, so the rows are dead weight.

use std::io::Write;

use super::error::CommandError;
use super::setup;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    let settings = setup::settings()?;
    let mut conn = setup::connect_migrated(&settings)?;
    let deleted = auth::store::blacklist::flush_expired(&mut conn, auth::tokens::now())?;
    writeln!(out, "Deleted {deleted} expired token(s).")?;
    Ok(())
}
