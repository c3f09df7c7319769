//! Serde over the layered values. A section's `#[derive(Deserialize)]` struct reads the keys some
//! layer set as a map (missing keys keep the struct's `Default`); each value is a [`ValueDe`],
//! which reads environment text as the field's type asks, and whose problems [`Error::locate`]
//! turns into messages naming the key and where its value came from.
//!
//! File values are TOML already. Environment values: strings take the text verbatim (a secret such
//! as `0123` stays as written); booleans also take Python's `True` and `1`/`0`; the others parse
//! the text as a TOML value (`10`, `1.5`, `["a", "b"]`), and text that is not one TOML value is a
//! string (`10m`, `Bearer`). Serde's own readings are replaced where the settings' differ: a string
//! where a list is expected is a list of one, an empty string where an option is expected is
//! unset, a `Duration` is seconds or text like `"5m"`, and whole numbers are never negative.

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer};

use crate::error::{Origin, SettingsError};
use crate::key::Key;
use crate::raw::{Entry, Raw};
use crate::schema::keys;
use crate::sources::Layered;
use crate::value_error::{wrong, Error};

const A_LIST: &str = "a string or a list of strings";
const A_DURATION: &str =
    "a duration (seconds as a number, or text like \"5m\", \"1d\", \"1h 30m\")";

/// `text` as a single TOML value, or as a string when it is not one.
pub(crate) fn env_as_toml(text: &str) -> toml::Value {
    format!("v = {text}")
        .parse::<toml::Table>()
        .ok()
        .filter(|table| table.len() == 1)
        .and_then(|mut table| table.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_owned()))
}

/// One value, as a `Deserializer` for its field's type.
#[derive(Debug, Clone)]
pub(crate) struct ValueDe(Raw);

impl ValueDe {
    pub(crate) fn new(raw: &Raw) -> Self {
        ValueDe(raw.clone())
    }

    fn element(value: toml::Value) -> Self {
        ValueDe(Raw::Toml(value))
    }

    fn toml(self) -> toml::Value {
        match self.0 {
            Raw::Toml(value) => value,
            Raw::Env(text) => env_as_toml(&text),
        }
    }

    /// A non-negative whole number that fits `T`.
    fn unsigned<T: TryFrom<i64>>(self) -> Result<T, Error> {
        match self.toml() {
            toml::Value::Integer(i) if i < 0 => {
                Err(Error::Invalid(format!("must not be negative, got {i}")))
            }
            toml::Value::Integer(i) => {
                T::try_from(i).map_err(|_| Error::Invalid(format!("{i} is too large")))
            }
            other => Err(wrong("a whole number", &other)),
        }
    }
}

/// [`ValueDe`] applied to one entry: the result, or the message naming its key and origin.
pub(crate) fn convert<T>(
    entry: &Entry,
    read: impl FnOnce(ValueDe) -> Result<T, Error>,
) -> Result<T, SettingsError> {
    read(ValueDe::new(&entry.raw)).map_err(|e| e.locate(entry))
}

impl<'de> IntoDeserializer<'de, Error> for ValueDe {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> Deserializer<'de> for ValueDe {
    type Error = Error;

    fn deserialize_any<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.toml() {
            toml::Value::String(s) => visitor.visit_string(s),
            toml::Value::Integer(i) => visitor.visit_i64(i),
            toml::Value::Float(f) => visitor.visit_f64(f),
            toml::Value::Boolean(b) => visitor.visit_bool(b),
            // As toml's own deserializer hands one over, so `toml::Value` keeps it a date-time.
            toml::Value::Datetime(d) => visitor.visit_map(MapDeserializer::new(std::iter::once((
                "$__toml_private_datetime",
                d.to_string(),
            )))),
            toml::Value::Array(items) => {
                visitor.visit_seq(SeqDeserializer::new(items.into_iter().map(Self::element)))
            }
            toml::Value::Table(table) => visitor.visit_map(MapDeserializer::new(
                table.into_iter().map(|(k, v)| (k, Self::element(v))),
            )),
        }
    }

    /// TOML `true`/`false`. From the environment also `True`/`FALSE`/`1`/`0`: Django `.env`
    /// files are full of Python's `DEBUG=True`.
    fn deserialize_bool<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        const EXPECTED: &str = "a boolean (true or false)";
        match self.0 {
            Raw::Env(text) => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => visitor.visit_bool(true),
                "false" | "0" => visitor.visit_bool(false),
                _ => Err(wrong(EXPECTED, &env_as_toml(&text))),
            },
            Raw::Toml(toml::Value::Boolean(b)) => visitor.visit_bool(b),
            Raw::Toml(other) => Err(wrong(EXPECTED, &other)),
        }
    }

    fn deserialize_u32<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_u32(self.unsigned()?)
    }

    fn deserialize_u64<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_u64(self.unsigned()?)
    }

    fn deserialize_str<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_string<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Raw::Env(text) | Raw::Toml(toml::Value::String(text)) => visitor.visit_string(text),
            Raw::Toml(other) => Err(wrong("a string", &other)),
        }
    }

    /// An empty string means unset (simplejwt's `VERIFYING_KEY = ""` convention).
    fn deserialize_option<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.0 {
            Raw::Env(text) | Raw::Toml(toml::Value::String(text)) if text.trim().is_empty() => {
                visitor.visit_none()
            }
            _ => visitor.visit_some(self),
        }
    }

    /// A list of strings (the settings' lists are of names, paths, addresses); a single string
    /// is a list of one. Every item is checked to be a string before any is read.
    fn deserialize_seq<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let items = match self.toml() {
            toml::Value::Array(items) => items,
            one @ toml::Value::String(_) => vec![one],
            other => return Err(wrong(A_LIST, &other)),
        };
        if let Some(other) = items.iter().find(|item| !item.is_str()) {
            return Err(wrong(A_LIST, other));
        }
        visitor.visit_seq(SeqDeserializer::new(items.into_iter().map(Self::element)))
    }

    /// `std::time::Duration` (serde's `{ secs, nanos }`): seconds as a number, or text.
    fn deserialize_struct<V: de::Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if (name, fields) != ("Duration", &["secs", "nanos"]) {
            return self.deserialize_any(visitor);
        }
        let value = self.toml();
        let duration = match value {
            toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::String(_) => {
                crate::duration::from_value(&value).map_err(Error::Invalid)?
            }
            other => return Err(wrong(A_DURATION, &other)),
        };
        let parts = [duration.as_secs(), u64::from(duration.subsec_nanos())];
        visitor.visit_seq(SeqDeserializer::new(parts.into_iter()))
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u128 f32 f64 char bytes byte_buf unit unit_struct
        newtype_struct tuple tuple_struct map enum identifier ignored_any
    }
}

/// Reads the keys of one section (or of the top level) out of the layered values.
pub(crate) struct Section<'a> {
    pub layered: &'a Layered,
    pub section: Option<&'static str>,
}

impl Section<'_> {
    pub(crate) fn key(&self, name: &'static str) -> Key {
        Key {
            section: self.section,
            name,
        }
    }

    pub(crate) fn entry(&self, name: &'static str) -> Option<&Entry> {
        self.layered.get(self.key(name))
    }

    pub(crate) fn origin(&self, name: &'static str) -> Option<Origin> {
        self.entry(name).map(|e| e.origin.clone())
    }

    /// The section's struct: its `Default`, with every key a layer set laid over it in the
    /// struct's field order, except the keys `by_hand` (read afterwards, in `build.rs`).
    pub(crate) fn read<T: de::DeserializeOwned>(
        &self,
        by_hand: &[&str],
    ) -> Result<T, SettingsError> {
        let entries = keys::<T>()
            .iter()
            .filter(|name| !by_hand.contains(name))
            .filter_map(|name| self.entry(name))
            .collect::<Vec<_>>();
        let map = SetKeys {
            entries: entries.into_iter(),
            current: None,
        };
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map_err(|e| match e {
            Error::Located(error) => error,
            other => SettingsError::invalid(
                self.section.unwrap_or(""),
                &Origin::Default,
                other.to_string(),
            ),
        })
    }

    /// An error about `name` found by a rule across several keys: it names the first of
    /// `blamed` that a layer set (the built-in default when none was).
    pub(crate) fn invalid(
        &self,
        name: &'static str,
        blamed: &[&'static str],
        reason: impl Into<String>,
    ) -> SettingsError {
        let origin = blamed
            .iter()
            .find_map(|k| self.origin(k))
            .unwrap_or(Origin::Default);
        SettingsError::invalid(self.key(name), &origin, reason)
    }
}

/// The set keys of a section, as the map its struct's `Deserialize` reads.
struct SetKeys<'a, I: Iterator<Item = &'a Entry>> {
    entries: I,
    current: Option<&'a Entry>,
}

impl<'de, 'a, I: Iterator<Item = &'a Entry>> de::MapAccess<'de> for SetKeys<'a, I> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        self.current = self.entries.next();
        self.current
            .map(|entry| seed.deserialize(entry.key.name.into_deserializer()))
            .transpose()
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let entry = self
            .current
            .ok_or_else(|| Error::Invalid("a value without its key".to_owned()))?;
        seed.deserialize(ValueDe::new(&entry.raw))
            .map_err(|e| Error::Located(e.locate(entry)))
    }
}

/// A file value written in TOML syntax (`{ anon = "5/min" }`), for unit tests of
/// `deserialize_with` functions.
#[cfg(test)]
pub(crate) fn toml_value(text: &str) -> ValueDe {
    let table: toml::Table = format!("v = {text}").parse().unwrap_or_default();
    ValueDe::new(&Raw::Toml(
        table
            .get("v")
            .cloned()
            .unwrap_or(toml::Value::Boolean(false)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::SIMPLE_JWT;
    use serde::Deserialize;

    type Result<T> = std::result::Result<T, SettingsError>;

    fn env(name: &'static str, text: &str) -> Entry {
        Entry {
            key: Key::in_section(SIMPLE_JWT, name),
            origin: Origin::Env(format!("SIMPLE_JWT__{name}")),
            raw: Raw::Env(text.to_owned()),
        }
    }

    fn boolean(entry: &Entry) -> Result<bool> {
        convert(entry, bool::deserialize)
    }

    fn string(entry: &Entry) -> Result<String> {
        convert(entry, String::deserialize)
    }

    fn optional_string(entry: &Entry) -> Result<Option<String>> {
        convert(entry, Option::<String>::deserialize)
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

    #[test]
    fn toml_values_keep_their_date_times() {
        let value = toml::Value::deserialize(toml_value("1979-05-27")).unwrap();
        assert!(matches!(value, toml::Value::Datetime(_)), "{value:?}");
    }
}
