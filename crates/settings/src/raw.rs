//! A value as written (`Raw`), with its key and where it came from (`Entry`), and how messages
//! describe a value.

use crate::error::Origin;
use crate::key::Key;

/// A value as written, not yet interpreted.
#[derive(Debug, Clone)]
pub(crate) enum Raw {
    /// A TOML value from the file (or synthesised, like `PORT`'s bind list).
    Toml(toml::Value),
    /// An environment variable's text: string settings take it verbatim, others parse it as TOML.
    Env(String),
}

/// A value that some layer set: its key, where it came from, and what was written.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub key: Key,
    pub origin: Origin,
    pub raw: Raw,
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
