//! Reading Django's dumpdata JSON: the file's records, checked field by field into users, with
//! errors that name the record (its position, pk and username) and the field.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde_json::{Map, Value};

use super::datetime;
use super::UserFields;

/// The model label of Django's default user model, as dumpdata writes it.
pub const USER_MODEL: &str = "auth.user";

/// Column sizes of `auth_user` (Django's `AbstractUser`): checked here so that SQLite, which does
/// not enforce them, refuses the same files as PostgreSQL.
const PASSWORD_MAX: usize = 128;
const USERNAME_MAX: usize = 150;
const NAME_MAX: usize = 150;
const EMAIL_MAX: usize = 254;

/// Many-to-many fields Django writes for a user; we have no groups or permissions, so they are
/// read (to say how many users had some) and dropped.
const MEMBERSHIP_FIELDS: [&str; 2] = ["groups", "user_permissions"];

/// One `auth.user` record of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Position in the file, from 1, counting every record (other models too).
    pub index: usize,
    /// Django's primary key; None when dumped with `--natural-primary` (matched by username).
    pub pk: Option<i32>,
    pub fields: UserFields,
    /// Whether the record listed any groups or user permissions (which are not imported).
    pub had_memberships: bool,
}

/// What a fixture file holds, once checked.
#[derive(Debug, Default)]
pub struct Fixture {
    pub users: Vec<Record>,
    /// Records of other models, by model label: skipped, so that a whole-project dumpdata
    /// can be loaded for its users.
    pub skipped: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ParseOptions {
    /// Django's `--ignorenonexistent`: skip fields auth.user does not have (a custom user
    /// model's extras) instead of refusing the file.
    pub ignore_nonexistent: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("expected a JSON array of records, as `manage.py dumpdata auth.user` writes")]
    NotAnArray,
    #[error(transparent)]
    Record(#[from] RecordError),
}

/// A record that cannot be loaded, and which one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    pub index: usize,
    /// The pk as written in the file, when there is one.
    pub pk: Option<String>,
    pub username: Option<String>,
    pub field: Option<String>,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    NotAnObject,
    Missing,
    WrongType(&'static str),
    BadPk,
    BadDateTime(String),
    Empty,
    TooLong(usize),
    UnknownField,
    /// The same pk as an earlier record of the file.
    DuplicatePk(usize),
    /// The same username as an earlier record of the file.
    DuplicateUsername(usize),
    /// The username belongs to another user already in the database.
    UsernameTaken(i32),
    /// A password hash whose work factor this server never computes (`password::OverCost`'s
    /// message).
    OverCost(String),
    Database(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NotAnObject => write!(f, "is not a JSON object"),
            Problem::Missing => write!(f, "is missing"),
            Problem::WrongType(expected) => write!(f, "must be {expected}"),
            Problem::BadPk => write!(f, "must be a positive integer (or absent)"),
            Problem::BadDateTime(text) => write!(
                f,
                "{text:?} is not an ISO 8601 date and time (e.g. 2026-11-28T19:13:00.243Z)"
            ),
            Problem::Empty => write!(f, "must not be empty"),
            Problem::TooLong(max) => write!(f, "is longer than {max} characters"),
            Problem::UnknownField => write!(
                f,
                "is not a field of auth.user (--ignorenonexistent skips such fields)"
            ),
            Problem::DuplicatePk(first) => write!(f, "repeats the pk of record {first}"),
            Problem::DuplicateUsername(first) => {
                write!(f, "repeats the username of record {first}")
            }
            Problem::UsernameTaken(id) => write!(
                f,
                "is already the username of another user in the database (id {id})"
            ),
            Problem::OverCost(over) => write!(
                f,
                "{over}: every login of this user would fail, and each wrong guess would tie up a core; set a new password in Django (or leave the user out) and dump again"
            ),
            Problem::Database(message) => write!(f, "database error: {message}"),
        }
    }
}

impl std::error::Error for RecordError {}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {}", self.index)?;
        let mut who = Vec::new();
        if let Some(pk) = &self.pk {
            who.push(format!("pk {pk}"));
        }
        if let Some(username) = &self.username {
            who.push(format!("username {username:?}"));
        }
        if !who.is_empty() {
            write!(f, " ({})", who.join(", "))?;
        }
        match &self.field {
            Some(field) => write!(f, ", field {field:?}: {}", self.problem),
            None => write!(f, ": {}", self.problem),
        }
    }
}

/// Reads a whole fixture. Every record is checked before anything touches the database.
pub fn parse(text: &str, options: ParseOptions) -> Result<Fixture, FixtureError> {
    let Value::Array(records) = serde_json::from_str::<Value>(text)? else {
        return Err(FixtureError::NotAnArray);
    };
    let mut fixture = Fixture::default();
    let mut pks = HashMap::new();
    let mut usernames = HashMap::new();
    for (i, value) in records.iter().enumerate() {
        let reader = RecordReader::new(i + 1, value);
        let model = reader.model()?;
        if !model.eq_ignore_ascii_case(USER_MODEL) {
            *fixture
                .skipped
                .entry(model.to_ascii_lowercase())
                .or_default() += 1;
            continue;
        }
        let record = reader.user(options)?;
        if let Some(pk) = record.pk {
            if let Some(first) = pks.insert(pk, record.index) {
                return Err(reader.error(Some("pk"), Problem::DuplicatePk(first)).into());
            }
        }
        if let Some(first) = usernames.insert(record.fields.username.clone(), record.index) {
            return Err(reader
                .error(Some("username"), Problem::DuplicateUsername(first))
                .into());
        }
        fixture.users.push(record);
    }
    Ok(fixture)
}

/// Reads one record, remembering its pk and username as soon as they are known so that every
/// later error names them.
struct RecordReader<'a> {
    index: usize,
    value: &'a Value,
    pk: Option<String>,
    username: Option<String>,
}

impl<'a> RecordReader<'a> {
    fn new(index: usize, value: &'a Value) -> Self {
        let pk = value
            .get("pk")
            .filter(|pk| !pk.is_null())
            .map(|pk| match pk {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        let username = value
            .get("fields")
            .and_then(|f| f.get("username"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        RecordReader {
            index,
            value,
            pk,
            username,
        }
    }

    fn error(&self, field: Option<&str>, problem: Problem) -> RecordError {
        RecordError {
            index: self.index,
            pk: self.pk.clone(),
            username: self.username.clone(),
            field: field.map(str::to_owned),
            problem,
        }
    }

    fn object(&self) -> Result<&'a Map<String, Value>, RecordError> {
        self.value
            .as_object()
            .ok_or_else(|| self.error(None, Problem::NotAnObject))
    }

    fn model(&self) -> Result<&'a str, RecordError> {
        match self.object()?.get("model") {
            None => Err(self.error(Some("model"), Problem::Missing)),
            Some(Value::String(model)) => Ok(model),
            Some(_) => Err(self.error(Some("model"), Problem::WrongType("a string"))),
        }
    }

    fn user(&self, options: ParseOptions) -> Result<Record, RecordError> {
        let pk = self.pk()?;
        let fields = match self.object()?.get("fields") {
            Some(Value::Object(fields)) => fields,
            None => return Err(self.error(Some("fields"), Problem::Missing)),
            Some(_) => return Err(self.error(Some("fields"), Problem::WrongType("an object"))),
        };
        let fields = Fields {
            reader: self,
            map: fields,
        };
        fields.check_names(options)?;
        let had_memberships = fields.had_memberships()?;
        let username = fields.string("username", USERNAME_MAX, None)?;
        if username.is_empty() {
            return Err(self.error(Some("username"), Problem::Empty));
        }
        // Kept exactly as Django stored it (any algorithm, or unusable `!...`), unless its work
        // factor is over the hasher's cap.
        let password = fields.string("password", PASSWORD_MAX, None)?;
        crate::password::check_cost(&password)
            .map_err(|over| self.error(Some("password"), Problem::OverCost(over.to_string())))?;
        Ok(Record {
            index: self.index,
            pk,
            fields: UserFields {
                password,
                last_login: fields.optional_datetime("last_login")?,
                is_superuser: fields.boolean("is_superuser", false)?,
                username,
                first_name: fields.string("first_name", NAME_MAX, Some(""))?,
                last_name: fields.string("last_name", NAME_MAX, Some(""))?,
                email: fields.string("email", EMAIL_MAX, Some(""))?,
                is_staff: fields.boolean("is_staff", false)?,
                is_active: fields.boolean("is_active", true)?,
                date_joined: fields.datetime("date_joined")?,
            },
            had_memberships,
        })
    }

    /// Django's AutoField accepts an integer or its digits as a string.
    fn pk(&self) -> Result<Option<i32>, RecordError> {
        let pk = match self.object()?.get("pk") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(n)) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
            Some(Value::String(s)) if s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
            Some(_) => None,
        };
        match pk {
            Some(pk) if pk > 0 => Ok(Some(pk)),
            _ => Err(self.error(Some("pk"), Problem::BadPk)),
        }
    }
}

/// The `fields` object of a user record. Fields with a default in Django's model may be left
/// out, as Django's loaddata allows; username, password and date_joined may not.
struct Fields<'r, 'a> {
    reader: &'r RecordReader<'a>,
    map: &'a Map<String, Value>,
}

/// Every field of Django's `auth.user` that a fixture may carry.
const KNOWN_FIELDS: [&str; 12] = [
    "password",
    "last_login",
    "is_superuser",
    "username",
    "first_name",
    "last_name",
    "email",
    "is_staff",
    "is_active",
    "date_joined",
    "groups",
    "user_permissions",
];

impl Fields<'_, '_> {
    fn error(&self, field: &str, problem: Problem) -> RecordError {
        self.reader.error(Some(field), problem)
    }

    fn check_names(&self, options: ParseOptions) -> Result<(), RecordError> {
        if options.ignore_nonexistent {
            return Ok(());
        }
        match self
            .map
            .keys()
            .find(|k| !KNOWN_FIELDS.contains(&k.as_str()))
        {
            Some(unknown) => Err(self.error(unknown, Problem::UnknownField)),
            None => Ok(()),
        }
    }

    fn had_memberships(&self) -> Result<bool, RecordError> {
        let mut had = false;
        for name in MEMBERSHIP_FIELDS {
            match self.map.get(name) {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => had |= !items.is_empty(),
                Some(_) => return Err(self.error(name, Problem::WrongType("a list"))),
            }
        }
        Ok(had)
    }

    /// A string of at most `max` characters; `default` when absent (required if None).
    fn string(&self, name: &str, max: usize, default: Option<&str>) -> Result<String, RecordError> {
        let text = match (self.map.get(name), default) {
            (Some(Value::String(text)), _) => text.as_str(),
            (None, Some(default)) => default,
            (None, None) => return Err(self.error(name, Problem::Missing)),
            (Some(_), _) => return Err(self.error(name, Problem::WrongType("a string"))),
        };
        if text.chars().count() > max {
            return Err(self.error(name, Problem::TooLong(max)));
        }
        Ok(text.to_owned())
    }

    fn boolean(&self, name: &str, default: bool) -> Result<bool, RecordError> {
        match self.map.get(name) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(self.error(name, Problem::WrongType("true or false"))),
        }
    }

    fn datetime(&self, name: &str) -> Result<chrono::NaiveDateTime, RecordError> {
        self.optional_datetime(name)?
            .ok_or_else(|| self.error(name, Problem::Missing))
    }

    fn optional_datetime(&self, name: &str) -> Result<Option<chrono::NaiveDateTime>, RecordError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => datetime::parse(text)
                .map(Some)
                .ok_or_else(|| self.error(name, Problem::BadDateTime(text.clone()))),
            Some(_) => Err(self.error(name, Problem::WrongType("a date and time string"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn user(pk: Value, username: &str) -> Value {
        json!({
            "model": "auth.user",
            "pk": pk,
            "fields": {
                "password": "pbkdf2_sha256$1000000$salt$aGFzaA==",
                "last_login": null,
                "is_superuser": false,
                "username": username,
                "first_name": "",
                "last_name": "",
                "email": "",
                "is_staff": false,
                "is_active": true,
                "date_joined": "2026-11-28T19:13:00.243Z",
                "groups": [],
                "user_permissions": []
            }
        })
    }

    fn parse_values(records: &[Value]) -> Result<Fixture, FixtureError> {
        parse(
            &Value::Array(records.to_vec()).to_string(),
            ParseOptions::default(),
        )
    }

    fn record_error(records: &[Value]) -> RecordError {
        match parse_values(records) {
            Err(FixtureError::Record(e)) => e,
            other => panic!("expected a record error, got {other:?}"),
        }
    }

    #[test]
    fn reads_the_django_fixture() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/django_dumpdata_auth_user.json"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let fixture = parse(&text, ParseOptions::default()).unwrap();
        let names: Vec<_> = fixture
            .users
            .iter()
            .map(|r| r.fields.username.as_str())
            .collect();
        assert_eq!(names, ["alice", "bob", "admin", "carol", "nopass"]);
        let pks: Vec<_> = fixture.users.iter().map(|r| r.pk).collect();
        assert_eq!(pks, [Some(1), Some(2), Some(3), Some(4), Some(5)]);
        let admin = &fixture.users[2].fields;
        assert!(admin.is_superuser && admin.is_staff && admin.is_active);
        assert!(!fixture.users[1].fields.is_active);
        assert!(fixture.users[4].fields.password.starts_with('!'));
        assert!(fixture.skipped.is_empty());
    }

    #[test]
    fn other_models_are_counted_and_skipped() {
        let group = json!({"model": "auth.group", "pk": 1, "fields": {"name": "x"}});
        let session = json!({"model": "sessions.session", "pk": "abc", "fields": {}});
        let fixture = parse_values(&[group.clone(), user(json!(1), "a"), group, session]).unwrap();
        assert_eq!(fixture.users.len(), 1);
        assert_eq!(fixture.users[0].index, 2);
        assert_eq!(fixture.skipped["auth.group"], 2);
        assert_eq!(fixture.skipped["sessions.session"], 1);
    }

    #[test]
    fn model_label_is_case_insensitive_and_pk_may_be_a_string_or_absent() {
        let mut a = user(json!("7"), "a");
        a["model"] = json!("auth.User");
        let mut b = user(json!(null), "b");
        b.as_object_mut().unwrap().remove("pk");
        let fixture = parse_values(&[a, b]).unwrap();
        assert_eq!(fixture.users[0].pk, Some(7));
        assert_eq!(fixture.users[1].pk, None);
    }

    #[test]
    fn defaults_for_fields_django_defaults() {
        let mut a = user(json!(1), "a");
        let fields = a["fields"].as_object_mut().unwrap();
        for name in [
            "last_login",
            "is_superuser",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "groups",
            "user_permissions",
        ] {
            fields.remove(name);
        }
        let record = &parse_values(&[a]).unwrap().users[0];
        assert!(record.fields.is_active);
        assert!(!record.fields.is_staff && !record.fields.is_superuser);
        assert_eq!(record.fields.email, "");
        assert_eq!(record.fields.last_login, None);
        assert!(!record.had_memberships);
    }

    #[test]
    fn memberships_are_noted() {
        let mut a = user(json!(1), "a");
        a["fields"]["groups"] = json!([3]);
        assert!(parse_values(&[a]).unwrap().users[0].had_memberships);
    }

    #[test]
    fn errors_name_record_pk_username_and_field() {
        let mut bad = user(json!(3), "admin");
        bad["fields"]["date_joined"] = json!("2026-13-01T00:00:00Z");
        let e = record_error(&[user(json!(1), "a"), user(json!(2), "b"), bad]);
        assert_eq!(e.index, 3);
        assert_eq!(e.field.as_deref(), Some("date_joined"));
        assert_eq!(
            e.to_string(),
            "record 3 (pk 3, username \"admin\"), field \"date_joined\": \"2026-13-01T00:00:00Z\" \
             is not an ISO 8601 date and time (e.g. 2026-11-28T19:13:00.243Z)"
        );
    }

    #[test]
    fn over_cost_hashes_are_refused_naming_the_user_and_the_cap() {
        let mut costly = user(json!(2), "eve");
        costly["fields"]["password"] =
            json!("bcrypt$$2b$31$cAMpXvskydqaQ0nHa.JRxOlvKRZ0DdYgL2DU/PXYmVDIuyNazqrUS");
        let e = record_error(&[user(json!(1), "a"), costly]);
        assert_eq!(e.field.as_deref(), Some("password"));
        assert!(matches!(e.problem, Problem::OverCost(_)), "{e:?}");
        let text = e.to_string();
        assert!(
            text.starts_with(
                "record 2 (pk 2, username \"eve\"), field \"password\": its bcrypt cost 31 is above this server's cap of cost 16: "
            ),
            "{text}"
        );
        // At the cap, and the other families' Django defaults, load.
        let mut at_cap = user(json!(3), "max");
        at_cap["fields"]["password"] =
            json!("bcrypt$$2b$16$cAMpXvskydqaQ0nHa.JRxOlvKRZ0DdYgL2DU/PXYmVDIuyNazqrUS");
        assert_eq!(parse_values(&[at_cap]).unwrap().users.len(), 1);
    }

    #[test]
    fn field_problems() {
        let cases: Vec<(&str, Value, Problem)> = vec![
            ("username", json!(null), Problem::WrongType("a string")),
            ("username", json!(""), Problem::Empty),
            ("username", json!("x".repeat(151)), Problem::TooLong(150)),
            ("password", json!(5), Problem::WrongType("a string")),
            ("password", json!("x".repeat(129)), Problem::TooLong(128)),
            ("email", json!("x".repeat(255)), Problem::TooLong(254)),
            (
                "is_active",
                json!("yes"),
                Problem::WrongType("true or false"),
            ),
            (
                "last_login",
                json!("never"),
                Problem::BadDateTime("never".into()),
            ),
            ("date_joined", json!(null), Problem::Missing),
            ("groups", json!("staff"), Problem::WrongType("a list")),
            ("phone", json!("123"), Problem::UnknownField),
        ];
        for (field, value, problem) in cases {
            let mut bad = user(json!(1), "a");
            bad["fields"][field] = value;
            let e = record_error(&[bad]);
            assert_eq!((e.field.as_deref(), &e.problem), (Some(field), &problem));
        }
        for field in ["username", "password", "date_joined"] {
            let mut bad = user(json!(1), "a");
            bad["fields"].as_object_mut().unwrap().remove(field);
            let e = record_error(&[bad]);
            assert_eq!(
                (e.field.as_deref(), e.problem),
                (Some(field), Problem::Missing)
            );
        }
        // A 150-character name in multi-byte characters is within the limit.
        let mut ok = user(json!(1), &"é".repeat(150));
        ok["fields"]["first_name"] = json!("ü".repeat(150));
        assert!(parse_values(&[ok]).is_ok());
    }

    #[test]
    fn unknown_fields_can_be_ignored() {
        let mut extra = user(json!(1), "a");
        extra["fields"]["phone"] = json!("123");
        let text = Value::Array(vec![extra]).to_string();
        let options = ParseOptions {
            ignore_nonexistent: true,
        };
        assert_eq!(parse(&text, options).unwrap().users.len(), 1);
    }

    #[test]
    fn record_shape_problems() {
        for (pk, problem) in [
            (json!(0), Problem::BadPk),
            (json!(-1), Problem::BadPk),
            (json!(1.5), Problem::BadPk),
            (json!("x"), Problem::BadPk),
            (json!(i64::from(i32::MAX) + 1), Problem::BadPk),
        ] {
            assert_eq!(record_error(&[user(pk, "a")]).problem, problem);
        }
        assert_eq!(record_error(&[json!(5)]).problem, Problem::NotAnObject);
        let e = record_error(&[json!({"pk": 1, "fields": {}})]);
        assert_eq!(
            (e.field.as_deref(), e.problem),
            (Some("model"), Problem::Missing)
        );
        let e = record_error(&[json!({"model": "auth.user", "pk": 1})]);
        assert_eq!(
            (e.field.as_deref(), e.problem),
            (Some("fields"), Problem::Missing)
        );
    }

    #[test]
    fn duplicates_within_the_file() {
        let e = record_error(&[user(json!(1), "a"), user(json!(1), "b")]);
        assert_eq!(e.problem, Problem::DuplicatePk(1));
        assert_eq!(e.index, 2);
        let e = record_error(&[
            user(json!(1), "a"),
            user(json!(2), "b"),
            user(json!(3), "a"),
        ]);
        assert_eq!(e.problem, Problem::DuplicateUsername(1));
        assert_eq!(
            e.to_string(),
            "record 3 (pk 3, username \"a\"), field \"username\": repeats the username of record 1"
        );
    }

    #[test]
    fn file_level_problems() {
        let options = ParseOptions::default();
        assert!(matches!(
            parse("{}", options),
            Err(FixtureError::NotAnArray)
        ));
        assert!(matches!(parse("[", options), Err(FixtureError::Json(_))));
        assert!(parse("[]", options).unwrap().users.is_empty());
    }
}
