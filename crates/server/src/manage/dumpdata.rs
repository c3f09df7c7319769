//! `dumpdata`: writes the users in Django's `dumpdata auth.user` JSON, which `loaddata` (ours
//! or Django's) reads back.

use std::io::Write;
use std::path::PathBuf;

use users::django::dump;

use super::error::CommandError;
use super::setup;

/// The labels that name our only dumpable model (Django's label matching is case-insensitive).
const LABELS: [&str; 2] = ["auth", "auth.user"];

#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to dump: `auth.user` or `auth` (the same here). The default is auth.user.
    #[arg(value_name = "app_label[.ModelName]")]
    labels: Vec<String>,
    /// Indent the JSON by N spaces per level, as Django's --indent.
    #[arg(long, value_name = "N")]
    indent: Option<usize>,
    /// Write to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    if let Some(label) = args
        .labels
        .iter()
        .find(|l| !LABELS.iter().any(|known| l.eq_ignore_ascii_case(known)))
    {
        return Err(CommandError::msg(format!(
            "Unknown model: {label}. Only auth.user can be dumped (the token blacklist is not)."
        )));
    }
    let settings = setup::settings()?;
    let mut conn = setup::connect_migrated(&settings)?;
    let all = users::queries::all(&mut conn)?;
    let json = dump::write(&all, args.indent)
        .map_err(|e| CommandError::msg(format!("cannot write JSON: {e}")))?;
    match &args.output {
        // Written whole, once the query has succeeded: a failure leaves no half file.
        Some(path) => std::fs::write(path, json)
            .map_err(|e| CommandError::msg(format!("{}: {e}", path.display()))),
        None => Ok(out.write_all(&json)?),
    }
}
