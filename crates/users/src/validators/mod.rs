//! Django's password validation (`AUTH_PASSWORD_VALIDATORS`): the configured validators, run in
//! order on a new password, every failure collected with Django's message and code.
//!
//! Call [`PasswordValidators::validate`] wherever a password is set; a rejection renders as DRF's
//! 400 field shape with [`PasswordRejected::field_errors`].

mod common;
mod length;
mod numeric;
mod similarity;

use std::path::PathBuf;

use serde_json::{json, Value};
use settings::{PasswordValidator, UserAttribute};

use crate::models::{NewUser, User};

pub use similarity::quick_ratio;

/// One validator's objection: Django's `ValidationError` message and code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Django's code, e.g. `password_too_short`.
    pub code: &'static str,
    /// Django's English message, e.g. "This password is too common.".
    pub message: String,
}

/// Why a password was refused: every failure, in the order the validators are configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.messages().join(" "))]
pub struct PasswordRejected {
    pub failures: Vec<Failure>,
}

impl PasswordRejected {
    pub fn messages(&self) -> Vec<&str> {
        self.failures.iter().map(|f| f.message.as_str()).collect()
    }

    /// DRF's 400 body for a serializer field: `{"password": ["msg", ...]}` with `field` =
    /// "password" (or "new_password", as the password-change view names it).
    pub fn field_errors(&self, field: &str) -> Value {
        json!({ field: self.messages() })
    }
}

/// A validator that could not be built from its settings.
#[derive(Debug, thiserror::Error)]
pub enum ValidatorError {
    #[error("CommonPasswordValidator: cannot read password_list_path {path:?}: {source}")]
    PasswordList {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The embedded list is corrupt: a build problem, not a configuration one.
    #[error("CommonPasswordValidator: the built-in password list cannot be decompressed: {0}")]
    EmbeddedList(#[source] std::io::Error),
}

/// The user a password is for, as far as the similarity check is concerned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserAttributes<'a> {
    pub username: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: &'a str,
}

impl UserAttributes<'_> {
    fn get(&self, attribute: UserAttribute) -> &str {
        match attribute {
            UserAttribute::Username => self.username,
            UserAttribute::FirstName => self.first_name,
            UserAttribute::LastName => self.last_name,
            UserAttribute::Email => self.email,
        }
    }
}

impl<'a> From<&'a User> for UserAttributes<'a> {
    fn from(user: &'a User) -> Self {
        Self {
            username: &user.username,
            first_name: &user.first_name,
            last_name: &user.last_name,
            email: &user.email,
        }
    }
}

impl<'a> From<&NewUser<'a>> for UserAttributes<'a> {
    fn from(user: &NewUser<'a>) -> Self {
        Self {
            username: user.username,
            first_name: user.first_name,
            last_name: user.last_name,
            email: user.email,
        }
    }
}

#[derive(Debug, Clone)]
enum Validator {
    MinimumLength(length::MinimumLength),
    Common(common::CommonPasswords),
    Similarity(similarity::UserAttributeSimilarity),
    Numeric,
}

impl Validator {
    fn build(config: &PasswordValidator) -> Result<Self, ValidatorError> {
        Ok(match config {
            PasswordValidator::MinimumLength { min_length } => {
                Validator::MinimumLength(length::MinimumLength {
                    min_length: *min_length,
                })
            }
            PasswordValidator::CommonPassword {
                password_list_path: None,
            } => Validator::Common(common::CommonPasswords::django()?),
            PasswordValidator::CommonPassword {
                password_list_path: Some(path),
            } => Validator::Common(common::CommonPasswords::from_file(path)?),
            PasswordValidator::UserAttributeSimilarity {
                user_attributes,
                max_similarity,
            } => Validator::Similarity(similarity::UserAttributeSimilarity {
                user_attributes: user_attributes.clone(),
                max_similarity: *max_similarity,
            }),
            PasswordValidator::NumericPassword => Validator::Numeric,
        })
    }

    fn validate(&self, password: &str, user: Option<&UserAttributes<'_>>) -> Result<(), Failure> {
        match self {
            Validator::MinimumLength(v) => v.validate(password),
            Validator::Common(v) => v.validate(password),
            Validator::Similarity(v) => v.validate(password, user),
            Validator::Numeric => numeric::validate(password),
        }
    }
}

/// The configured validators, built once (the common-password list is read then) and cheap to
/// clone.
#[derive(Debug, Clone, Default)]
pub struct PasswordValidators {
    validators: Vec<Validator>,
}

impl PasswordValidators {
    /// From `settings.auth_password_validators`.
    pub fn from_settings(config: &[PasswordValidator]) -> Result<Self, ValidatorError> {
        let validators = config
            .iter()
            .map(Validator::build)
            .collect::<Result<_, _>>()?;
        Ok(Self { validators })
    }

    /// No validators configured (`AUTH_PASSWORD_VALIDATORS = []`): every password passes.
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// Django's `validate_password`: runs every validator and reports all their failures.
    /// `user` is who the password is for; without one the similarity check is skipped.
    pub fn validate(
        &self,
        password: &str,
        user: Option<&UserAttributes<'_>>,
    ) -> Result<(), PasswordRejected> {
        let failures: Vec<Failure> = self
            .validators
            .iter()
            .filter_map(|v| v.validate(password, user).err())
            .collect();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(PasswordRejected { failures })
        }
    }
}

/// Python's `str.lower()`. Rust's full Unicode lower-casing agrees with it (final sigma and the
/// dotted capital I included).
fn python_lower(text: &str) -> String {
    text.to_lowercase()
}

/// Python's `str.strip()`: its whitespace also includes the four information separators
/// U+001C..U+001F, which Rust's `trim` keeps.
fn python_strip(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> PasswordValidators {
        PasswordValidators::from_settings(&PasswordValidator::django_defaults()).unwrap()
    }

    #[test]
    fn all_failures_in_order_and_drf_shape() {
        let err = defaults().validate("1234", None).unwrap_err();
        assert_eq!(
            err.messages(),
            [
                "This password is too short. It must contain at least 8 characters.",
                "This password is too common.",
                "This password is entirely numeric.",
            ]
        );
        assert_eq!(
            err.field_errors("password"),
            json!({"password": [
                "This password is too short. It must contain at least 8 characters.",
                "This password is too common.",
                "This password is entirely numeric.",
            ]})
        );
        let codes: Vec<&str> = err.failures.iter().map(|f| f.code).collect();
        assert_eq!(
            codes,
            [
                "password_too_short",
                "password_too_common",
                "password_entirely_numeric"
            ]
        );
    }

    #[test]
    fn similarity_needs_a_user() {
        let user = UserAttributes {
            username: "admin",
            ..UserAttributes::default()
        };
        let v = defaults();
        assert!(v.validate("xadmin9z", None).is_ok());
        assert_eq!(
            v.validate("xadmin9z", Some(&user)).unwrap_err().messages(),
            ["The password is too similar to the username."]
        );
        assert!(v
            .validate("correct horse battery staple", Some(&user))
            .is_ok());
    }

    #[test]
    fn empty_configuration_accepts_anything() {
        let none = PasswordValidators::from_settings(&[]).unwrap();
        assert!(none.is_empty());
        assert!(none.validate("", None).is_ok());
    }

    #[test]
    fn python_string_helpers() {
        assert_eq!(python_strip("\u{1c} pw\t\n"), "pw");
        assert_eq!(python_lower("ΣΑΣ"), "σας");
        assert_eq!(python_lower("İ"), "i\u{307}");
    }
}
