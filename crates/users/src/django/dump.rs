//! Writing Django's dumpdata JSON, byte for byte as Django's JSON serializer lays it out.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};
use serde_json::{json, Value};

use super::datetime;
use super::fixture::USER_MODEL;
use crate::models::User;

/// The users as `manage.py dumpdata auth.user [--indent N]` writes them: `[`, one object per
/// user (each laid out by Python's `json.dump`: fields in model order, keys indented N spaces,
/// no trailing spaces), `]`, and a final newline only when indented.
///
/// `groups` and `user_permissions` are left out: we never saw them, and an empty list would
/// wipe a user's memberships if the file were loaded back into Django.
pub fn write(users: &[User], indent: Option<usize>) -> Result<Vec<u8>, serde_json::Error> {
    // Django tests `if indent:`, so 0 means no indentation.
    let indent = indent.filter(|n| *n > 0);
    let mut out = b"[".to_vec();
    for (i, user) in users.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(if indent.is_some() { b"," } else { b", " });
        }
        let object = record(user);
        match indent {
            Some(n) => {
                out.push(b'\n');
                let spaces = vec![b' '; n];
                let mut ser = serde_json::Serializer::with_formatter(
                    &mut out,
                    PrettyFormatter::with_indent(&spaces),
                );
                object.serialize(&mut ser)?;
            }
            None => {
                let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonCompact);
                object.serialize(&mut ser)?;
            }
        }
    }
    out.extend_from_slice(if indent.is_some() { b"\n]\n" } else { b"]" });
    Ok(out)
}

/// One user in Django's serialized shape (the field order is `AbstractUser`'s).
fn record(user: &User) -> Value {
    json!({
        "model": USER_MODEL,
        "pk": user.id,
        "fields": {
            "password": user.password,
            "last_login": user.last_login.map(datetime::format),
            "is_superuser": user.is_superuser,
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "is_staff": user.is_staff,
            "is_active": user.is_active,
            "date_joined": datetime::format(user.date_joined),
        }
    })
}

/// Python's `json.dump` default separators without indentation: `", "` and `": "`.
struct PythonCompact;

impl Formatter for PythonCompact {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn user(id: i32, username: &str) -> User {
        let joined = NaiveDate::from_ymd_opt(2026, 11, 28)
            .and_then(|d| d.and_hms_milli_opt(19, 13, 0, 243))
            .unwrap();
        User {
            id,
            password: "!x".into(),
            last_login: None,
            is_superuser: false,
            username: username.into(),
            first_name: "Zoë".into(),
            last_name: String::new(),
            email: String::new(),
            is_staff: false,
            is_active: true,
            date_joined: joined,
        }
    }

    fn text(users: &[User], indent: Option<usize>) -> String {
        String::from_utf8(write(users, indent).unwrap()).unwrap()
    }

    #[test]
    fn indented_like_django() {
        let expected = "[\n{\n \"model\": \"auth.user\",\n \"pk\": 1,\n \"fields\": {\n  \
            \"password\": \"!x\",\n  \"last_login\": null,\n  \"is_superuser\": false,\n  \
            \"username\": \"a\",\n  \"first_name\": \"Zoë\",\n  \"last_name\": \"\",\n  \
            \"email\": \"\",\n  \"is_staff\": false,\n  \"is_active\": true,\n  \
            \"date_joined\": \"2026-11-28T19:13:00.243Z\"\n }\n},\n{\n \"model\"";
        let out = text(&[user(1, "a"), user(2, "b")], Some(1));
        assert!(out.starts_with(expected), "{out}");
        assert!(out.ends_with("}\n}\n]\n"), "{out}");
    }

    #[test]
    fn compact_like_django() {
        let out = text(&[user(1, "a"), user(2, "b")], None);
        assert!(
            out.starts_with(
                "[{\"model\": \"auth.user\", \"pk\": 1, \"fields\": {\"password\": \"!x\", "
            ),
            "{out}"
        );
        assert!(
            out.contains("}}, {\"model\": \"auth.user\", \"pk\": 2"),
            "{out}"
        );
        assert!(out.ends_with("}}]"), "{out}");
        assert_eq!(text(&[user(1, "a")], Some(0)), text(&[user(1, "a")], None));
    }

    #[test]
    fn empty() {
        assert_eq!(text(&[], None), "[]");
        assert_eq!(text(&[], Some(2)), "[\n]\n");
    }
}
