//! `loaddata`: loads the users of a Django `dumpdata` JSON file, all or nothing, keeping ids,
//! flags, dates and password hashes, and reports what changed. A record that would put another
//! user in an existing user's row (same pk, other username) is refused unless
//! `--replace-users`; then the replaced user's sessions end in the same transaction.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use diesel::Connection;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use users::django::fixture::{self, Fixture, ParseOptions, Record};
use users::django::import::{self, ImportError, Replace, Summary};
use users::password;

use super::error::CommandError;
use super::setup;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A JSON file written by Django's `manage.py dumpdata auth.user` (`-` reads stdin).
    #[arg(value_name = "FILE")]
    fixture: PathBuf,
    /// Skip fields that auth.user does not have (e.g. a custom user model's extras) instead of
    /// refusing the file.
    #[arg(short = 'i', long)]
    ignorenonexistent: bool,
    /// Let a record replace the user whose pk it has when the usernames differ (the old user's
    /// sessions are ended). Without it such a file is refused, every conflict named.
    #[arg(long)]
    replace_users: bool,
}

impl Args {
    /// FILE relative to `dir`, the directory the operator called `./manage` from.
    pub fn resolve_paths(&mut self, dir: &Path) {
        if self.fixture.as_os_str() != "-" {
            super::resolve_path(dir, &mut self.fixture);
        }
    }
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    let name = args.fixture.display().to_string();
    let text = read(&args.fixture).map_err(|e| CommandError::msg(format!("{name}: {e}")))?;
    let options = ParseOptions {
        ignore_nonexistent: args.ignorenonexistent,
    };
    // Every record is checked before the database is touched.
    let fixture = fixture::parse(&text, options)
        .map_err(|e| CommandError::msg(format!("{name}: {e}. Nothing was loaded.")))?;
    let settings = setup::settings()?;
    let mut conn = setup::connect_migrated(&settings)?;
    let replace = if args.replace_users {
        Replace::Allow
    } else {
        Replace::Refuse
    };
    let progress = progress_bar(fixture.users.len());
    let now = auth::tokens::now();
    let summary = conn.transaction(|conn| {
        let summary = import::load(conn, &fixture.users, replace, &mut || progress.inc(1))?;
        // Tokens name the user by id: the replaced users' tokens would otherwise authenticate
        // as whoever took their row.
        for replaced in &summary.replaced {
            auth::store::sessions::end_all(conn, replaced.id, now)?;
        }
        Ok::<_, ImportError>(summary)
    });
    progress.finish_and_clear();
    let summary = summary.map_err(|e| {
        let hint = match e {
            ImportError::Replaces(_) => {
                " Pass --replace-users to replace them (their sessions are ended)."
            }
            _ => "",
        };
        CommandError::msg(format!("{name}: {e}. Nothing was loaded.{hint}"))
    })?;
    report(out, &name, &fixture, summary)
}

fn read(path: &Path) -> std::io::Result<String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        return Ok(text);
    }
    std::fs::read_to_string(path)
}

/// Drawn on stderr only when it is a terminal, so logs and pipes stay clean.
fn progress_bar(len: usize) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} users ({eta} left)") {
        bar.set_style(style);
    }
    bar
}

fn report(
    out: &mut dyn Write,
    name: &str,
    fixture: &Fixture,
    summary: Summary,
) -> Result<(), CommandError> {
    let Summary {
        created,
        updated,
        unchanged,
        replaced,
    } = summary;
    writeln!(
        out,
        "Installed {} user(s) from {name}: {created} created, {updated} updated, {unchanged} \
         unchanged.",
        fixture.users.len()
    )?;
    for r in &replaced {
        writeln!(
            out,
            "Replaced user {:?} (pk {}) by {:?}; the sessions of {:?} were ended.",
            r.old_username, r.id, r.new_username, r.old_username
        )?;
    }
    if !fixture.skipped.is_empty() {
        let models: Vec<String> = fixture
            .skipped
            .iter()
            .map(|(model, count)| format!("{model} ({count})"))
            .collect();
        writeln!(
            out,
            "Skipped {} record(s) of other models: {}.",
            fixture.skipped.values().sum::<usize>(),
            models.join(", ")
        )?;
    }
    let with_memberships = fixture.users.iter().filter(|r| r.had_memberships).count();
    if with_memberships > 0 {
        writeln!(
            out,
            "Note: {with_memberships} user(s) had groups or user permissions; those are not \
             loaded (only is_staff and is_superuser are kept)."
        )?;
    }
    let uncheckable = uncheckable_hashes(&fixture.users);
    if !uncheckable.is_empty() {
        let algorithms: Vec<String> = uncheckable
            .iter()
            .map(|(algorithm, count)| format!("{algorithm} ({count})"))
            .collect();
        writeln!(
            out,
            "Note: {} user(s) have password hashes this server cannot check: {}. They cannot \
             log in until their password is set again ('./manage changepassword USERNAME').",
            uncheckable.values().sum::<usize>(),
            algorithms.join(", ")
        )?;
    }
    Ok(())
}

/// Usable hashes of algorithms we do not verify (Django's MD5 and older ones), by the text
/// before their first `$`.
fn uncheckable_hashes(records: &[Record]) -> BTreeMap<String, usize> {
    let mut found = BTreeMap::new();
    for record in records {
        let encoded = &record.fields.password;
        if password::is_password_usable(encoded) && password::identify(encoded).is_none() {
            let algorithm = match encoded.split_once('$') {
                Some((name, _)) if !name.is_empty() => name.to_owned(),
                _ => "unknown".to_owned(),
            };
            *found.entry(algorithm).or_default() += 1;
        }
    }
    found
}
