//! `SettingsError` and `Origin`: every message names the key, where its value came from, and the fix.
//!
//! No variant ever holds a secret's value: sensitive keys are described by kind only.

use std::fmt;
use std::path::PathBuf;

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Nobody set it: the built-in default applies.
    Default,
    /// The fallback secret handed to [`crate::Settings::load_with_fallback_secret`].
    Fallback,
    /// The settings file, by the name given to the loader (e.g. `settings.toml`).
    File(String),
    /// An environment variable, by its name (e.g. `SIMPLE_JWT__LEEWAY`).
    Env(String),
}

impl fmt::Display for Origin {
    /// Reads inline after a key: "SIMPLE_JWT.LEEWAY in settings.toml".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("(built-in default)"),
            Origin::Fallback => f.write_str("(development fallback key)"),
            Origin::File(name) => write!(f, "in {name}"),
            Origin::Env(var) => write!(f, "from environment variable {var}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `SETTINGS_FILE` names a file that does not exist.
    #[error("SETTINGS_FILE is {path:?}, which does not exist: create that file, or unset SETTINGS_FILE to use ./settings.toml")]
    FileNotFound { path: PathBuf },

    /// The settings file or `.env` exists but cannot be read.
    #[error("cannot read {path:?}: {source}; check that it is a readable UTF-8 text file")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// `.env` has a line dotenvy cannot parse. The line is not quoted: it may hold a secret.
    #[error("cannot parse .env{location}: check the quoting of that line (its text is not shown because it may hold a secret)")]
    DotEnv {
        /// e.g. " at line 3 (variable SECRET_KEY)", or empty when unknown.
        location: String,
    },

    /// The settings file is not valid TOML.
    #[error("{source_name} is not valid TOML{location}: {message}")]
    Syntax {
        source_name: String,
        /// e.g. " (line 3, column 14)", or empty when unknown.
        location: String,
        message: String,
    },

    /// A key that is not a setting (misspelt, or a Django setting this server does not have).
    #[error("unknown setting {key} {origin}{hint}; valid keys {} are: {}", scope(.section), .valid.join(", "))]
    UnknownKey {
        key: String,
        origin: Origin,
        /// The section the key was found in; `None` for the top level.
        section: Option<&'static str>,
        /// The keys allowed there (sections listed as `[NAME]`).
        valid: &'static [&'static str],
        /// e.g. " (did you mean ACCESS_TOKEN_LIFETIME?)", or empty.
        hint: String,
    },

    /// A value of the wrong TOML type, e.g. a string where a boolean is expected.
    #[error("{key} {origin} must be {expected}, found {found}")]
    WrongType {
        key: String,
        origin: Origin,
        expected: String,
        found: String,
    },

    /// A value of the right type that the setting does not allow.
    #[error("{key} {origin} is invalid: {reason}")]
    InvalidValue {
        key: String,
        origin: Origin,
        reason: String,
    },

    /// No `SECRET_KEY` anywhere (and no fallback).
    #[error("SECRET_KEY is not set: add SECRET_KEY=<random string of 50+ characters> to .env or the environment (`./manage generatesecretkey` prints one)")]
    MissingSecret,

    /// The HMAC signing key is shorter than the algorithm's hash.
    #[error("{key} {origin} is too short to sign {algorithm} tokens: it needs at least {min_len} bytes; use a random string of 50+ characters (`./manage generatesecretkey` prints one), or set DEBUG=true to only warn during development")]
    WeakSecret {
        /// e.g. "SIMPLE_JWT.SIGNING_KEY", or "SECRET_KEY (the signing key, as SIMPLE_JWT.SIGNING_KEY is not set)".
        key: String,
        origin: Origin,
        algorithm: crate::choices::Algorithm,
        min_len: usize,
    },

    /// The HMAC signing key is a placeholder or development key.
    #[error("{key} {origin} is a placeholder or well-known insecure value (e.g. a \"django-insecure-\" key, a dictionary word, or too few distinct characters): replace it with a random string of 50+ characters (`./manage generatesecretkey` prints one), or set DEBUG=true to only warn during development")]
    InsecureSecret { key: String, origin: Origin },

    /// An asymmetric ALGORITHM without the PEM key it needs.
    #[error(
        "SIMPLE_JWT.{key} is required when SIMPLE_JWT.ALGORITHM is {algorithm} ({origin}): {fix}"
    )]
    KeyRequired {
        key: &'static str,
        algorithm: crate::choices::Algorithm,
        /// Where ALGORITHM was set.
        origin: Origin,
        fix: &'static str,
    },

    /// A settings environment variable whose value is not UTF-8.
    #[error("environment variable {name} is not valid UTF-8: settings must be text")]
    NotUnicode { name: String },
}

/// "in [SIMPLE_JWT]" or "at the top level".
fn scope(section: &Option<&'static str>) -> String {
    match section {
        Some(section) => format!("in [{section}]"),
        None => "at the top level".to_owned(),
    }
}

impl SettingsError {
    pub(crate) fn invalid(
        key: impl fmt::Display,
        origin: &Origin,
        reason: impl Into<String>,
    ) -> Self {
        SettingsError::InvalidValue {
            key: key.to_string(),
            origin: origin.clone(),
            reason: reason.into(),
        }
    }
}
