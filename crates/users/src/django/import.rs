//! Loading fixture records into `auth_user`: one transaction, each record matched by pk (by
//! username when it has none) and created, updated or left alone, and a count of each. A record
//! whose pk is another username's row replaces that user only when asked to.

use std::collections::HashMap;

use diesel::Connection;

use super::fixture::{Problem, Record, RecordError};
use super::UserFields;
use crate::db::DbConnection;
use crate::models::NewUser;
use crate::queries;

/// What loading did, record by record.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub created: usize,
    /// Updated rows, the replaced ones included.
    pub updated: usize,
    pub unchanged: usize,
    /// The users whose row now holds someone else (their tokens, which name the id, must end).
    pub replaced: Vec<Replacement>,
}

/// A record whose pk is the row of a user with another username: loading it puts a different
/// user in that row, and every token naming the id would then authenticate as the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    pub id: i32,
    pub old_username: String,
    pub new_username: String,
}

impl std::fmt::Display for Replacement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pk {}: {:?} by {:?}",
            self.id, self.old_username, self.new_username
        )
    }
}

/// Whether a record may replace another user (see [`Replacement`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    Refuse,
    Allow,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error("{} record(s) would replace a user of the same pk with another username ({})", .0.len(), list(.0))]
    Replaces(Vec<Replacement>),
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
}

fn list(replacements: &[Replacement]) -> String {
    replacements
        .iter()
        .map(Replacement::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// Loads every record or none: on any error the transaction is rolled back and the error names
/// the record. Records equal to their row change nothing, so loading a file twice is a no-op.
/// `on_record` is called after each record (for a progress bar).
/// With `Replace::Refuse`, records that would replace users stop the load before anything is
/// written, all of them named.
pub fn load(
    conn: &mut DbConnection,
    records: &[Record],
    replace: Replace,
    on_record: &mut dyn FnMut(),
) -> Result<Summary, ImportError> {
    conn.transaction(|conn| {
        let mut table = Table::read(conn)?;
        let replaced = table.replacements(records);
        if !replaced.is_empty() && replace == Replace::Refuse {
            return Err(ImportError::Replaces(replaced));
        }
        let mut summary = Summary {
            replaced,
            ..Summary::default()
        };
        for record in records {
            match table.apply(conn, record)? {
                Outcome::Created => summary.created += 1,
                Outcome::Updated => summary.updated += 1,
                Outcome::Unchanged => summary.unchanged += 1,
            }
            on_record();
        }
        if summary.created > 0 {
            queries::sync_id_sequence(conn)?;
        }
        Ok(summary)
    })
}

/// The users table as it stands during the load, read once and kept up to date, so each
/// record costs at most one statement.
struct Table {
    by_id: HashMap<i32, UserFields>,
    id_of: HashMap<String, i32>,
}

impl Table {
    fn read(conn: &mut DbConnection) -> Result<Self, ImportError> {
        let mut table = Table {
            by_id: HashMap::new(),
            id_of: HashMap::new(),
        };
        for user in queries::all(conn)? {
            table.remember(user.id, UserFields::of(&user));
        }
        Ok(table)
    }

    /// The records whose pk holds a user of another username, as the table stands before the
    /// load.
    fn replacements(&self, records: &[Record]) -> Vec<Replacement> {
        records
            .iter()
            .filter_map(|record| {
                let id = record.pk?;
                let current = self.by_id.get(&id)?;
                (current.username != record.fields.username).then(|| Replacement {
                    id,
                    old_username: current.username.clone(),
                    new_username: record.fields.username.clone(),
                })
            })
            .collect()
    }

    fn remember(&mut self, id: i32, fields: UserFields) {
        if let Some(old) = self.by_id.get(&id) {
            // A renamed user no longer holds its old username (usernames are unique).
            if old.username != fields.username {
                self.id_of.remove(&old.username);
            }
        }
        self.id_of.insert(fields.username.clone(), id);
        self.by_id.insert(id, fields);
    }

    fn apply(&mut self, conn: &mut DbConnection, record: &Record) -> Result<Outcome, ImportError> {
        let owner = self.id_of.get(&record.fields.username).copied();
        // Without a pk, a record is the user of that username (Django's natural key).
        let id = record.pk.or(owner);
        if let (Some(owner), Some(id)) = (owner, id) {
            if owner != id {
                return Err(error(record, Some("username"), Problem::UsernameTaken(owner)).into());
            }
        }
        let current = id.and_then(|id| self.by_id.get(&id));
        let outcome = match (id, current) {
            (_, Some(current)) if *current == record.fields => return Ok(Outcome::Unchanged),
            (Some(id), Some(_)) => {
                let user = record.fields.clone().with_id(id);
                queries::replace(conn, &user).map_err(|e| database(record, e))?;
                self.remember(id, record.fields.clone());
                Outcome::Updated
            }
            (Some(id), None) => {
                let user = record.fields.clone().with_id(id);
                queries::insert_exact(conn, &user).map_err(|e| database(record, e))?;
                self.remember(id, record.fields.clone());
                Outcome::Created
            }
            (None, _) => {
                let id = insert_new(conn, &record.fields).map_err(|e| database(record, e))?;
                self.remember(id, record.fields.clone());
                Outcome::Created
            }
        };
        Ok(outcome)
    }
}

/// A user with a new id from the database (a record without a pk).
fn insert_new(conn: &mut DbConnection, fields: &UserFields) -> Result<i32, queries::UserError> {
    let user = queries::create(
        conn,
        &NewUser {
            username: &fields.username,
            email: &fields.email,
            password: &fields.password,
            first_name: &fields.first_name,
            last_name: &fields.last_name,
            is_active: fields.is_active,
            is_staff: fields.is_staff,
            is_superuser: fields.is_superuser,
            date_joined: fields.date_joined,
        },
    )?;
    if let Some(at) = fields.last_login {
        queries::set_last_login(conn, user.id, at)?;
    }
    Ok(user.id)
}

fn error(record: &Record, field: Option<&str>, problem: Problem) -> RecordError {
    RecordError {
        index: record.index,
        pk: record.pk.map(|pk| pk.to_string()),
        username: Some(record.fields.username.clone()),
        field: field.map(str::to_owned),
        problem,
    }
}

fn database(record: &Record, e: impl std::fmt::Display) -> ImportError {
    error(record, None, Problem::Database(e.to_string())).into()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::db::{ConnectionManager, Target};

    fn connection() -> DbConnection {
        let mut conn = ConnectionManager::new(Target::Sqlite(":memory:".into()))
            .establish()
            .unwrap();
        crate::migrations::run_pending(&mut conn).unwrap();
        conn
    }

    fn record(index: usize, pk: Option<i32>, username: &str) -> Record {
        Record {
            index,
            pk,
            fields: UserFields {
                password: "!unusable".into(),
                last_login: None,
                is_superuser: false,
                username: username.into(),
                first_name: String::new(),
                last_name: String::new(),
                email: String::new(),
                is_staff: false,
                is_active: true,
                date_joined: NaiveDate::from_ymd_opt(2026, 11, 28)
                    .and_then(|d| d.and_hms_milli_opt(19, 13, 0, 243))
                    .unwrap(),
            },
            had_memberships: false,
        }
    }

    fn load_all(conn: &mut DbConnection, records: &[Record]) -> Result<Summary, ImportError> {
        load(conn, records, Replace::Allow, &mut || {})
    }

    fn summary(created: usize, updated: usize, unchanged: usize) -> Summary {
        Summary {
            created,
            updated,
            unchanged,
            replaced: Vec::new(),
        }
    }

    #[test]
    fn create_then_unchanged_then_update() {
        let mut conn = connection();
        let records = [record(1, Some(10), "a"), record(2, Some(3), "b")];
        assert_eq!(load_all(&mut conn, &records).unwrap(), summary(2, 0, 0));
        assert_eq!(load_all(&mut conn, &records).unwrap(), summary(0, 0, 2));
        let mut changed = records.clone();
        changed[1].fields.email = "b@example.com".into();
        changed[1].fields.last_login = Some(changed[1].fields.date_joined);
        assert_eq!(load_all(&mut conn, &changed).unwrap(), summary(0, 1, 1));
        let rows = queries::all(&mut conn).unwrap();
        assert_eq!(rows.iter().map(|u| u.id).collect::<Vec<_>>(), [3, 10]);
        assert_eq!(UserFields::of(&rows[0]), changed[1].fields);
    }

    #[test]
    fn records_without_pk_match_by_username() {
        let mut conn = connection();
        load_all(&mut conn, &[record(1, Some(5), "a")]).unwrap();
        let mut a = record(1, None, "a");
        a.fields.is_staff = true;
        let new = record(2, None, "new");
        assert_eq!(load_all(&mut conn, &[a, new]).unwrap(), summary(1, 1, 0));
        let a = queries::by_username(&mut conn, "a").unwrap().unwrap();
        assert_eq!((a.id, a.is_staff), (5, true));
        // AUTOINCREMENT follows the explicit id 5.
        assert_eq!(
            queries::by_username(&mut conn, "new").unwrap().unwrap().id,
            6
        );
    }

    #[test]
    fn renames_free_the_old_username() {
        let mut conn = connection();
        load_all(&mut conn, &[record(1, Some(1), "old")]).unwrap();
        let renamed = [record(1, Some(1), "new"), record(2, Some(2), "old")];
        let mut expected = summary(1, 1, 0);
        expected.replaced = vec![Replacement {
            id: 1,
            old_username: "old".into(),
            new_username: "new".into(),
        }];
        assert_eq!(load_all(&mut conn, &renamed).unwrap(), expected);
    }

    #[test]
    fn replacing_a_user_is_refused_unless_allowed() {
        let mut conn = connection();
        load_all(
            &mut conn,
            &[record(1, Some(1), "alice"), record(2, Some(2), "bob")],
        )
        .unwrap();
        let records = [
            record(1, Some(1), "alice"),
            record(2, Some(2), "mallory"),
            record(3, Some(3), "carol"),
        ];
        let e = load(&mut conn, &records, Replace::Refuse, &mut || {}).unwrap_err();
        assert_eq!(
            e.to_string(),
            "1 record(s) would replace a user of the same pk with another username (pk 2: \"bob\" \
             by \"mallory\")"
        );
        assert_eq!(queries::all(&mut conn).unwrap().len(), 2, "nothing loaded");
        assert!(queries::by_username(&mut conn, "bob").unwrap().is_some());
    }

    #[test]
    fn a_username_held_by_another_id_rolls_everything_back() {
        let mut conn = connection();
        load_all(&mut conn, &[record(1, Some(1), "taken")]).unwrap();
        let records = [record(1, Some(2), "fresh"), record(2, Some(7), "taken")];
        let e = load_all(&mut conn, &records).unwrap_err();
        let ImportError::Record(e) = e else {
            panic!("{e:?}")
        };
        assert_eq!(e.problem, Problem::UsernameTaken(1));
        assert_eq!(
            e.to_string(),
            "record 2 (pk 7, username \"taken\"), field \"username\": is already the username \
             of another user in the database (id 1)"
        );
        assert_eq!(queries::all(&mut conn).unwrap().len(), 1, "rolled back");
    }
}
