//! A value's problem (`Error`): what serde's readings report before they know the key, and the
//! message (`SettingsError`) once they do; and the wrong-type error of a value taken whole.

use std::fmt;

use serde::de::{self, Expected, Unexpected};

use crate::error::SettingsError;
use crate::raw::{describe, Entry};

/// A value's problem, before it knows its key.
#[derive(Debug)]
pub(crate) enum Error {
    /// "must be {expected}, found {found}" (`found` is described, or only named for secrets).
    WrongType {
        expected: String,
        found: toml::Value,
    },
    /// "is invalid: {reason}" (`de::Error::custom`'s message).
    Invalid(String),
    /// Already a settings error (a value inside a section).
    Located(SettingsError),
}

impl Error {
    /// The message for `entry`'s key and origin.
    pub(crate) fn locate(self, entry: &Entry) -> SettingsError {
        match self {
            Error::WrongType { expected, found } => SettingsError::WrongType {
                key: entry.key.to_string(),
                origin: entry.origin.clone(),
                expected,
                found: describe(&found, entry.key.is_sensitive()),
            },
            Error::Invalid(reason) => SettingsError::invalid(entry.key, &entry.origin, reason),
            Error::Located(error) => error,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::WrongType { expected, found } => {
                write!(f, "must be {expected}, found {}", describe(found, false))
            }
            Error::Invalid(reason) => f.write_str(reason),
            Error::Located(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::Invalid(msg.to_string())
    }

    fn invalid_type(unexpected: Unexpected, expected: &dyn Expected) -> Self {
        use toml::Value::*;
        let found = match unexpected {
            Unexpected::Bool(b) => Boolean(b),
            Unexpected::Signed(i) => Integer(i),
            Unexpected::Unsigned(u) => Integer(i64::try_from(u).unwrap_or(i64::MAX)),
            Unexpected::Float(f) => Float(f),
            Unexpected::Str(s) => String(s.to_owned()),
            Unexpected::Seq => Array(Vec::new()),
            Unexpected::Map => Table(toml::Table::new()),
            Unexpected::Other(text) => text
                .strip_prefix("date-time ")
                .and_then(|d| d.parse().ok())
                .map_or_else(|| String(text.to_owned()), Datetime),
            other => String(other.to_string()),
        };
        Error::WrongType {
            expected: expected.to_string(),
            found,
        }
    }
}

/// A wrong-type error for `found` (a value a conversion took whole, as `toml::Value`).
pub(crate) fn wrong<E: de::Error>(expected: &str, found: &toml::Value) -> E {
    use toml::Value::*;
    let datetime;
    let unexpected = match found {
        String(s) => Unexpected::Str(s),
        Integer(i) => Unexpected::Signed(*i),
        Float(f) => Unexpected::Float(*f),
        Boolean(b) => Unexpected::Bool(*b),
        Datetime(d) => {
            datetime = format!("date-time {d}");
            Unexpected::Other(&datetime)
        }
        Array(_) => Unexpected::Seq,
        Table(_) => Unexpected::Map,
    };
    E::invalid_type(unexpected, &expected)
}
