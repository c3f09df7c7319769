//! `AUTH_PASSWORD_VALIDATORS`: Django's list of password validators, each a `NAME` (Django's
//! dotted path or the class name alone) with optional `OPTIONS`, parsed into a typed list.
//!
//! ```toml
//! [[AUTH_PASSWORD_VALIDATORS]]
//! NAME = "django.contrib.auth.password_validation.MinimumLengthValidator"
//! OPTIONS = { min_length = 10 }
//! ```
//!
//! Unset, the four validators of Django's `startproject` template apply; `[]` turns them off.

use std::path::PathBuf;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::value_error::wrong;

/// The module Django's validators live in; `NAME` may omit it.
const MODULE: &str = "django.contrib.auth.password_validation.";

/// One configured validator and its options (Django's keyword arguments, same names).
#[derive(Debug, Clone, PartialEq)]
pub enum PasswordValidator {
    /// `UserAttributeSimilarityValidator`: `user_attributes`, `max_similarity` (0.7, at least 0.1).
    UserAttributeSimilarity {
        user_attributes: Vec<UserAttribute>,
        max_similarity: f64,
    },
    /// `MinimumLengthValidator`: `min_length` characters (8).
    MinimumLength { min_length: usize },
    /// `CommonPasswordValidator`: `password_list_path`, default Django's built-in list.
    CommonPassword { password_list_path: Option<PathBuf> },
    /// `NumericPasswordValidator`: no options.
    NumericPassword,
}

/// The user fields `UserAttributeSimilarityValidator` may compare with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAttribute {
    Username,
    FirstName,
    LastName,
    Email,
}

impl UserAttribute {
    /// Django's `DEFAULT_USER_ATTRIBUTES`.
    pub const ALL: [UserAttribute; 4] = [
        UserAttribute::Username,
        UserAttribute::FirstName,
        UserAttribute::LastName,
        UserAttribute::Email,
    ];

    pub fn name(self) -> &'static str {
        match self {
            UserAttribute::Username => "username",
            UserAttribute::FirstName => "first_name",
            UserAttribute::LastName => "last_name",
            UserAttribute::Email => "email",
        }
    }
}

impl PasswordValidator {
    /// What Django's `startproject` settings enable, with Django's default options.
    pub fn django_defaults() -> Vec<PasswordValidator> {
        vec![
            PasswordValidator::UserAttributeSimilarity {
                user_attributes: UserAttribute::ALL.to_vec(),
                max_similarity: 0.7,
            },
            PasswordValidator::MinimumLength { min_length: 8 },
            PasswordValidator::CommonPassword {
                password_list_path: None,
            },
            PasswordValidator::NumericPassword,
        ]
    }

    /// Django's class name, e.g. `MinimumLengthValidator`.
    pub fn class_name(&self) -> &'static str {
        match self {
            PasswordValidator::UserAttributeSimilarity { .. } => "UserAttributeSimilarityValidator",
            PasswordValidator::MinimumLength { .. } => "MinimumLengthValidator",
            PasswordValidator::CommonPassword { .. } => "CommonPasswordValidator",
            PasswordValidator::NumericPassword => "NumericPasswordValidator",
        }
    }
}

/// The setting's value: a list of `{ NAME = "...", OPTIONS = { ... } }` tables.
pub(crate) fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PasswordValidator>, D::Error> {
    const EXPECTED: &str =
        "a list of tables like { NAME = \"django.contrib.auth.password_validation.MinimumLengthValidator\", OPTIONS = { min_length = 10 } }";
    match toml::Value::deserialize(d)? {
        toml::Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                toml::Value::Table(table) => one(table)
                    .map_err(|reason| D::Error::custom(format!("entry {}: {reason}", i + 1))),
                other => Err(wrong(EXPECTED, other)),
            })
            .collect(),
        other => Err(wrong(EXPECTED, &other)),
    }
}

fn one(table: &toml::Table) -> std::result::Result<PasswordValidator, String> {
    if let Some(key) = table.keys().find(|k| *k != "NAME" && *k != "OPTIONS") {
        return Err(format!(
            "unknown key {key:?}: each entry has NAME and optionally OPTIONS"
        ));
    }
    let name = match table.get("NAME") {
        Some(toml::Value::String(name)) => name.trim(),
        Some(_) => return Err("NAME must be a string".to_owned()),
        None => return Err("NAME is missing".to_owned()),
    };
    let class = name.strip_prefix(MODULE).unwrap_or(name);
    let empty = toml::Table::new();
    let options = match table.get("OPTIONS") {
        Some(toml::Value::Table(options)) => options,
        Some(_) => return Err("OPTIONS must be a table, e.g. { min_length = 10 }".to_owned()),
        None => &empty,
    };
    let (validator, known): (_, &[&str]) = match class {
        "UserAttributeSimilarityValidator" => {
            let user_attributes = match options.get("user_attributes") {
                Some(value) => user_attributes(value)?,
                None => UserAttribute::ALL.to_vec(),
            };
            let max_similarity = match options.get("max_similarity") {
                Some(value) => number(value, "max_similarity")?,
                None => 0.7,
            };
            // Django's own bound: below it almost every password would be "too similar".
            if max_similarity < 0.1 {
                return Err("max_similarity must be at least 0.1".to_owned());
            }
            let validator = PasswordValidator::UserAttributeSimilarity {
                user_attributes,
                max_similarity,
            };
            (validator, &["user_attributes", "max_similarity"])
        }
        "MinimumLengthValidator" => {
            let min_length = match options.get("min_length") {
                Some(toml::Value::Integer(n)) => usize::try_from(*n)
                    .map_err(|_| format!("min_length must not be negative, got {n}"))?,
                Some(_) => return Err("min_length must be a whole number".to_owned()),
                None => 8,
            };
            (
                PasswordValidator::MinimumLength { min_length },
                &["min_length"],
            )
        }
        "CommonPasswordValidator" => {
            let password_list_path = match options.get("password_list_path") {
                Some(toml::Value::String(path)) => Some(PathBuf::from(path)),
                Some(_) => {
                    return Err("password_list_path must be a string (a file path)".to_owned())
                }
                None => None,
            };
            let validator = PasswordValidator::CommonPassword { password_list_path };
            (validator, &["password_list_path"])
        }
        "NumericPasswordValidator" => (PasswordValidator::NumericPassword, &[]),
        _ => {
            return Err(format!(
                "unknown validator {name:?}; known: {} (optionally as \"{MODULE}<name>\")",
                PasswordValidator::django_defaults()
                    .iter()
                    .map(PasswordValidator::class_name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    };
    // Every option is consumed, so that a misspelt one is an error (Django would fail with a
    // TypeError at the first password change instead).
    match options.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) if known.is_empty() => {
            Err(format!("{class} takes no OPTIONS, got {unknown:?}"))
        }
        Some(unknown) => Err(format!(
            "{class} has no option {unknown:?}; its options: {}",
            known.join(", ")
        )),
        None => Ok(validator),
    }
}

fn user_attributes(value: &toml::Value) -> std::result::Result<Vec<UserAttribute>, String> {
    let valid = || {
        UserAttribute::ALL
            .iter()
            .map(|a| a.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let toml::Value::Array(items) = value else {
        return Err(format!("user_attributes must be a list of: {}", valid()));
    };
    items
        .iter()
        .map(|item| {
            let name = item
                .as_str()
                .ok_or_else(|| format!("user_attributes must be a list of: {}", valid()))?;
            // Django ignores attributes the user model lacks; a typo would silently disable the
            // check, so it is an error here.
            UserAttribute::ALL
                .into_iter()
                .find(|a| a.name() == name)
                .ok_or_else(|| {
                    format!(
                        "user_attributes: unknown attribute {name:?}; valid: {}",
                        valid()
                    )
                })
        })
        .collect()
}

fn number(value: &toml::Value, name: &str) -> std::result::Result<f64, String> {
    match value {
        toml::Value::Float(f) if f.is_finite() => Ok(*f),
        toml::Value::Integer(i) => Ok(*i as f64),
        _ => Err(format!("{name} must be a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Origin, SettingsError};
    use crate::key::Key;
    use crate::raw::{Entry, Raw};

    fn env(text: &str) -> Result<Vec<PasswordValidator>, SettingsError> {
        let entry = Entry {
            key: Key::top("AUTH_PASSWORD_VALIDATORS"),
            origin: Origin::Env("AUTH_PASSWORD_VALIDATORS".into()),
            raw: Raw::Env(text.to_owned()),
        };
        crate::de::convert(&entry, parse)
    }

    #[test]
    fn names_with_or_without_module_and_options() {
        let parsed = env(r#"[
            { NAME = "django.contrib.auth.password_validation.MinimumLengthValidator", OPTIONS = { min_length = 12 } },
            { NAME = "UserAttributeSimilarityValidator", OPTIONS = { user_attributes = ["username"], max_similarity = 1 } },
            { NAME = "CommonPasswordValidator" },
            { NAME = "NumericPasswordValidator", OPTIONS = {} },
        ]"#)
        .unwrap();
        assert_eq!(
            parsed,
            [
                PasswordValidator::MinimumLength { min_length: 12 },
                PasswordValidator::UserAttributeSimilarity {
                    user_attributes: vec![UserAttribute::Username],
                    max_similarity: 1.0
                },
                PasswordValidator::CommonPassword {
                    password_list_path: None
                },
                PasswordValidator::NumericPassword,
            ]
        );
        assert_eq!(env("[]").unwrap(), []);
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            (
                r#"[{ NAME = "LengthValidator" }]"#,
                "unknown validator \"LengthValidator\"",
            ),
            (r#"[{ OPTIONS = {} }]"#, "entry 1: NAME is missing"),
            (
                r#"[{ NAME = "MinimumLengthValidator", OPTIONS = { min_lenght = 3 } }]"#,
                "has no option \"min_lenght\"; its options: min_length",
            ),
            (
                r#"[{ NAME = "MinimumLengthValidator", OPTIONS = { min_length = -1 } }]"#,
                "must not be negative",
            ),
            (
                r#"[{ NAME = "UserAttributeSimilarityValidator", OPTIONS = { max_similarity = 0.05 } }]"#,
                "max_similarity must be at least 0.1",
            ),
            (
                r#"[{ NAME = "UserAttributeSimilarityValidator", OPTIONS = { user_attributes = ["nickname"] } }]"#,
                "unknown attribute \"nickname\"",
            ),
            (
                r#"[{ NAME = "NumericPasswordValidator", OPTIONS = { strict = true } }]"#,
                "takes no OPTIONS",
            ),
            (
                r#"[{ NAME = "NumericPasswordValidator", CLASS = "x" }]"#,
                "unknown key \"CLASS\"",
            ),
        ];
        for (text, expected) in cases {
            let err = env(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}: {err}");
            assert!(
                err.starts_with("AUTH_PASSWORD_VALIDATORS from environment variable"),
                "{err}"
            );
        }
        let err = env("MinimumLengthValidator").unwrap_err().to_string();
        assert!(err.contains("must be a list of tables"), "{err}");
    }
}
