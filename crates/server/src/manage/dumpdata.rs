//! `dumpdata`: writes the users in Django's `dumpdata auth.user` JSON, which `loaddata` (ours
//! or Django's) reads back.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

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
        Some(path) => write_private(path, &json)
            .map_err(|e| CommandError::msg(format!("{}: {e}", path.display()))),
        None => Ok(out.write_all(&json)?),
    }
}

impl Args {
    /// `-o FILE` relative to `dir`, the directory the operator called `./manage` from.
    pub fn resolve_paths(&mut self, dir: &Path) {
        if let Some(path) = &mut self.output {
            super::resolve_path(dir, path);
        }
    }
}

/// The dump holds every password hash: readable by its owner only (0600), like an ssh key, even
/// when it replaces a file that was readable by others.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = create_private(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // `mode` applies only to a file it creates.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
}
