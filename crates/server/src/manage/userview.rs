//! How `listusers` and `showuser` present users: text and JSON, never the password hash.

use std::io::Write;

use chrono::NaiveDateTime;
use serde::Serialize;
use users::User;

use super::error::CommandError;

/// A user's fields minus the password, with Django's field names.
#[derive(Debug, Serialize)]
pub struct UserView<'a> {
    pub id: i32,
    pub username: &'a str,
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub last_login: Option<String>,
    pub date_joined: String,
}

impl<'a> UserView<'a> {
    pub fn new(user: &'a User) -> Self {
        UserView {
            id: user.id,
            username: &user.username,
            email: &user.email,
            first_name: &user.first_name,
            last_name: &user.last_name,
            is_active: user.is_active,
            is_staff: user.is_staff,
            is_superuser: user.is_superuser,
            last_login: user.last_login.map(json_time),
            date_joined: json_time(user.date_joined),
        }
    }
}

/// UTC as DjangoJSONEncoder writes it: ISO 8601, milliseconds at most, `Z`.
pub fn json_time(t: NaiveDateTime) -> String {
    let format = if t.and_utc().timestamp_subsec_millis() == 0 {
        "%Y-%m-%dT%H:%M:%SZ"
    } else {
        "%Y-%m-%dT%H:%M:%S%.3fZ"
    };
    t.format(format).to_string()
}

/// UTC, to the second, for tables.
pub fn text_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

pub fn yes_no(flag: bool) -> &'static str {
    if flag {
        "yes"
    } else {
        "no"
    }
}

/// Pretty JSON and a final newline.
pub fn write_json(out: &mut dyn Write, value: &impl Serialize) -> Result<(), CommandError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CommandError::msg(format!("cannot encode JSON: {e}")))?;
    writeln!(out, "{text}")?;
    Ok(())
}

/// Columns padded to their widest cell, two spaces apart, no trailing spaces.
pub fn write_table(
    out: &mut dyn Write,
    header: &[&str],
    rows: &[Vec<String>],
) -> Result<(), CommandError> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn times() {
        let t = NaiveDate::from_ymd_opt(2026, 11, 28)
            .and_then(|d| d.and_hms_micro_opt(12, 30, 5, 123_456))
            .unwrap();
        assert_eq!(json_time(t), "2026-11-28T12:30:05.123Z");
        assert_eq!(text_time(t), "2026-11-28 12:30:05");
        let whole = NaiveDate::from_ymd_opt(2026, 1, 2)
            .and_then(|d| d.and_hms_opt(3, 4, 5))
            .unwrap();
        assert_eq!(json_time(whole), "2026-01-02T03:04:05Z");
    }

    #[test]
    fn tables_align() {
        let mut out = Vec::new();
        let rows = vec![
            vec!["1".into(), "alice".into()],
            vec!["22".into(), "b".into()],
        ];
        write_table(&mut out, &["id", "username"], &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "id  username\n1   alice\n22  b\n"
        );
    }
}
