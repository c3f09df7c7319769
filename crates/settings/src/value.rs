//! Interpreting one raw value as the Rust type its setting needs, with type errors naming the key.
//!
//! File values are TOML already. Environment values: string settings take the text verbatim (a
//! secret such as `0123` stays as written); the others parse it as a TOML value (`true`, `10`,
//! `1.5`, `["a", "b"]`), and text that is not one TOML value is a string (`10m`, `Bearer`).

use std::str::FromStr;
use std::time::Duration;

use crate::choices::UnknownChoice;
use crate::error::SettingsError;
use crate::sources::{Entry, Raw};

type Result<T> = std::result::Result<T, SettingsError>;

/// A setting's value type, and how a raw value converts to it: the field's type picks it, as
/// serde picks a `Deserialize` impl, but the messages name the key and where its value came from.
pub(crate) trait FromEntry: Sized {
    fn from_entry(entry: &Entry) -> Result<Self>;
}

/// `FromEntry` impls, one `Type => conversion;` each.
macro_rules! from_entry {
    ($($ty:ty => $convert:expr;)*) => {
        $(impl crate::value::FromEntry for $ty {
            fn from_entry(
                entry: &crate::sources::Entry,
            ) -> std::result::Result<Self, crate::error::SettingsError> {
                $convert(entry)
            }
        })*
    };
}
pub(crate) use from_entry;

from_entry! {
    bool => boolean;
    String => string;
    // An empty string means unset.
    Option<String> => optional_string;
    Vec<String> => string_list;
    u32 => unsigned;
    usize => unsigned;
    Option<usize> => |entry| unsigned(entry).map(Some);
    Duration => duration;
}

/// "the string \"yes please\"", or just "a string" for sensitive keys.
pub(crate) fn describe(value: &toml::Value, sensitive: bool) -> String {
    use toml::Value::*;
    let kind = match value {
        String(_) => "a string",
        Integer(_) => "an integer",
        Float(_) => "a number",
        Boolean(_) => "a boolean",
        Datetime(_) => "a date-time",
        Array(_) => "a list",
        Table(_) => "a table",
    };
    if sensitive {
        return kind.to_owned();
    }
    match value {
        String(s) if s.chars().count() > 60 => {
            format!(
                "the string {:?}...",
                s.chars().take(60).collect::<std::string::String>()
            )
        }
        String(s) => format!("the string {s:?}"),
        Integer(i) => format!("the integer {i}"),
        Float(f) => format!("the number {f}"),
        Boolean(b) => format!("the boolean {b}"),
        Datetime(d) => format!("the date-time {d}"),
        Array(_) | Table(_) => kind.to_owned(),
    }
}

/// The value as TOML, parsing environment text.
pub(crate) fn as_toml(entry: &Entry) -> toml::Value {
    match &entry.raw {
        Raw::Toml(value) => value.clone(),
        Raw::Env(text) => env_as_toml(text),
    }
}

/// `text` as a single TOML value, or as a string when it is not one.
fn env_as_toml(text: &str) -> toml::Value {
    format!("v = {text}")
        .parse::<toml::Table>()
        .ok()
        .filter(|table| table.len() == 1)
        .and_then(|mut table| table.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_owned()))
}

pub(crate) fn wrong_type(entry: &Entry, expected: &str, found: &toml::Value) -> SettingsError {
    SettingsError::WrongType {
        key: entry.key.to_string(),
        origin: entry.origin.clone(),
        expected: expected.to_owned(),
        found: describe(found, entry.key.is_sensitive()),
    }
}

pub(crate) fn invalid(entry: &Entry, reason: impl Into<String>) -> SettingsError {
    SettingsError::invalid(entry.key, &entry.origin, reason)
}

/// TOML `true`/`false`. From the environment also `True`/`FALSE`/`1`/`0`: Django `.env` files
/// are full of Python's `DEBUG=True`.
pub(crate) fn boolean(entry: &Entry) -> Result<bool> {
    const EXPECTED: &str = "a boolean (true or false)";
    if let Raw::Env(text) = &entry.raw {
        return match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(wrong_type(entry, EXPECTED, &env_as_toml(text))),
        };
    }
    match as_toml(entry) {
        toml::Value::Boolean(b) => Ok(b),
        other => Err(wrong_type(entry, EXPECTED, &other)),
    }
}

pub(crate) fn string(entry: &Entry) -> Result<String> {
    match &entry.raw {
        Raw::Env(text) => Ok(text.clone()),
        Raw::Toml(toml::Value::String(s)) => Ok(s.clone()),
        Raw::Toml(other) => Err(wrong_type(entry, "a string", other)),
    }
}

/// A string where empty means "not set" (simplejwt's `VERIFYING_KEY = ""` convention).
pub(crate) fn optional_string(entry: &Entry) -> Result<Option<String>> {
    Ok(Some(string(entry)?).filter(|s| !s.trim().is_empty()))
}

/// A list of strings; a single string is a list of one.
pub(crate) fn string_list(entry: &Entry) -> Result<Vec<String>> {
    const EXPECTED: &str = "a string or a list of strings";
    match as_toml(entry) {
        toml::Value::String(s) => Ok(vec![s]),
        toml::Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                toml::Value::String(s) => Ok(s),
                other => Err(wrong_type(entry, EXPECTED, &other)),
            })
            .collect(),
        other => Err(wrong_type(entry, EXPECTED, &other)),
    }
}

/// A non-negative whole number that fits `T`.
pub(crate) fn unsigned<T: TryFrom<i64>>(entry: &Entry) -> Result<T> {
    match as_toml(entry) {
        toml::Value::Integer(i) if i < 0 => {
            Err(invalid(entry, format!("must not be negative, got {i}")))
        }
        toml::Value::Integer(i) => {
            T::try_from(i).map_err(|_| invalid(entry, format!("{i} is too large")))
        }
        other => Err(wrong_type(entry, "a whole number", &other)),
    }
}

pub(crate) fn duration(entry: &Entry) -> Result<Duration> {
    let value = as_toml(entry);
    match value {
        toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::String(_) => {
            crate::duration::from_value(&value).map_err(|reason| invalid(entry, reason))
        }
        other => Err(wrong_type(
            entry,
            "a duration (seconds as a number, or text like \"5m\", \"1d\", \"1h 30m\")",
            &other,
        )),
    }
}

/// One of an enumerated setting's names.
pub(crate) fn choice<T: FromStr<Err = UnknownChoice>>(entry: &Entry) -> Result<T> {
    string(entry)?
        .parse()
        .map_err(|e: UnknownChoice| invalid(entry, e.to_string()))
}

/// A list (or single) of an enumerated setting's names.
pub(crate) fn choice_list<T: FromStr<Err = UnknownChoice>>(entry: &Entry) -> Result<Vec<T>> {
    string_list(entry)?
        .iter()
        .map(|name| {
            name.parse()
                .map_err(|e: UnknownChoice| invalid(entry, e.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Origin;
    use crate::schema::{Key, SIMPLE_JWT};

    fn env(name: &'static str, text: &str) -> Entry {
        Entry {
            key: Key::in_section(SIMPLE_JWT, name),
            origin: Origin::Env(format!("SIMPLE_JWT__{name}")),
            raw: Raw::Env(text.to_owned()),
        }
    }

    #[test]
    fn env_text_parses_as_toml_or_stays_a_string() {
        assert_eq!(env_as_toml("true"), toml::Value::Boolean(true));
        assert_eq!(env_as_toml("10"), toml::Value::Integer(10));
        assert_eq!(env_as_toml("1.5"), toml::Value::Float(1.5));
        assert_eq!(
            env_as_toml(r#"["a", "b"]"#),
            toml::Value::Array(vec!["a".into(), "b".into()])
        );
        assert_eq!(env_as_toml("10m"), toml::Value::String("10m".into()));
        assert_eq!(env_as_toml(""), toml::Value::String("".into()));
        // Text that would smuggle in extra TOML keys is just a string.
        assert_eq!(
            env_as_toml("1\nw = 2"),
            toml::Value::String("1\nw = 2".into())
        );
    }

    #[test]
    fn env_booleans_accept_python_spelling() {
        for (text, want) in [
            ("true", true),
            ("True", true),
            ("1", true),
            ("FALSE", false),
            ("0", false),
        ] {
            assert_eq!(
                boolean(&env("ROTATE_REFRESH_TOKENS", text)).unwrap(),
                want,
                "{text}"
            );
        }
        let err = boolean(&env("ROTATE_REFRESH_TOKENS", "yes please"))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "SIMPLE_JWT.ROTATE_REFRESH_TOKENS from environment variable SIMPLE_JWT__ROTATE_REFRESH_TOKENS must be a boolean (true or false), found the string \"yes please\"");
    }

    #[test]
    fn strings_from_env_are_verbatim() {
        assert_eq!(string(&env("ISSUER", "0123")).unwrap(), "0123");
        assert_eq!(string(&env("ISSUER", "true")).unwrap(), "true");
        assert_eq!(optional_string(&env("ISSUER", "")).unwrap(), None);
    }

    #[test]
    fn sensitive_values_are_described_by_kind_only() {
        let entry = Entry {
            key: Key::in_section(SIMPLE_JWT, "SIGNING_KEY"),
            origin: Origin::File("settings.toml".into()),
            raw: Raw::Toml(toml::Value::Integer(987654321)),
        };
        let err = string(&entry).unwrap_err().to_string();
        assert!(err.ends_with("must be a string, found an integer"), "{err}");
        assert!(!err.contains("987654321"), "{err}");
    }
}
