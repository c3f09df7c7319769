//! `listusers`: every user as a table or a JSON array, never with password hashes.

use std::io::Write;

use super::error::CommandError;
use super::setup;
use super::userview::{self, text_time, yes_no, UserView};

const HEADER: [&str; 8] = [
    "id",
    "username",
    "email",
    "active",
    "staff",
    "superuser",
    "last_login",
    "date_joined",
];

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print a JSON array of user objects instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    let settings = setup::settings()?;
    let mut conn = setup::connect_migrated(&settings)?;
    let all = users::queries::all(&mut conn)?;
    if args.json {
        let views: Vec<UserView<'_>> = all.iter().map(UserView::new).collect();
        return userview::write_json(out, &views);
    }
    if all.is_empty() {
        writeln!(out, "No users.")?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|u| {
            vec![
                u.id.to_string(),
                u.username.clone(),
                u.email.clone(),
                yes_no(u.is_active).to_owned(),
                yes_no(u.is_staff).to_owned(),
                yes_no(u.is_superuser).to_owned(),
                u.last_login.map_or_else(|| "never".to_owned(), text_time),
                text_time(u.date_joined),
            ]
        })
        .collect();
    userview::write_table(out, &HEADER, &rows)
}
