//! The entry points: the process loader (`.env`, settings file, environment) and the pure one.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::error::SettingsError;
use crate::sources::{self, EnvVar, Layered};
use crate::{build, Secret, Settings};

/// The settings file used when SETTINGS_FILE is not set; missing is fine.
const DEFAULT_FILE: &str = "settings.toml";

impl Settings {
    /// The process entry point. In order:
    /// 1. `./.env` is loaded into the process environment with dotenvy, never overriding variables
    ///    that are already set (a missing `.env` is fine);
    /// 2. the file named by `SETTINGS_FILE` (which `.env` may set) is read (an error if it does
    ///    not exist), or else `./settings.toml` (defaults apply if it does not exist);
    /// 3. the process environment is laid over the file.
    ///
    /// Call it once at start-up, before spawning threads: step 1 sets environment variables.
    pub fn load() -> Result<Settings, SettingsError> {
        Self::load_with_fallback_secret(None)
    }

    /// [`Settings::load`], but an unset `SECRET_KEY` falls back to `fallback_secret` instead of
    /// being an error (`manage runserver` passes an ephemeral development key).
    pub fn load_with_fallback_secret(
        fallback_secret: Option<Secret>,
    ) -> Result<Settings, SettingsError> {
        load_dotenv(Path::new(".env"))?;
        let env = process_env()?;
        let file = read_settings_file()?;
        let file = file
            .as_ref()
            .map(|(text, name)| (text.as_str(), name.as_str()));
        Self::from_sources_with_fallback_secret(file, &env, fallback_secret)
    }

    /// The pure loader, for tests and tools: `file` is the TOML text and the name to use in
    /// messages (e.g. `"settings.toml"`), `None` for no file; `env` stands for the environment.
    /// Built-in defaults < file < `env`.
    pub fn from_sources(
        file: Option<(&str, &str)>,
        env: &[(String, String)],
    ) -> Result<Settings, SettingsError> {
        Self::from_sources_with_fallback_secret(file, env, None)
    }

    /// [`Settings::from_sources`] with [`Settings::load_with_fallback_secret`]'s fallback.
    pub fn from_sources_with_fallback_secret(
        file: Option<(&str, &str)>,
        env: &[(String, String)],
        fallback_secret: Option<Secret>,
    ) -> Result<Settings, SettingsError> {
        let mut layered = Layered::default();
        if let Some((text, source_name)) = file {
            layered.add_file(text, source_name)?;
        }
        layered.add_env(env)?;
        build::settings(&layered, fallback_secret)
    }
}

/// The process environment as UTF-8 pairs. Variables that are not settings are skipped whatever
/// their encoding; a setting that is not UTF-8 is an error rather than silently ignored.
fn process_env() -> Result<Vec<(String, String)>, SettingsError> {
    let mut env = Vec::new();
    for (name, value) in std::env::vars_os() {
        let Ok(name) = name.into_string() else {
            continue;
        };
        match value.into_string() {
            Ok(value) => env.push((name, value)),
            Err(_) if !matches!(sources::classify(&name), Ok(EnvVar::Ignored)) => {
                return Err(SettingsError::NotUnicode { name })
            }
            Err(_) => {}
        }
    }
    Ok(env)
}

/// The settings file's text and display name, if there is one.
fn read_settings_file() -> Result<Option<(String, String)>, SettingsError> {
    // SETTINGS_FILE: path of the TOML settings file; unset or empty means ./settings.toml.
    let chosen = std::env::var_os("SETTINGS_FILE").filter(|p| !p.is_empty());
    let required = chosen.is_some();
    let path = chosen.map_or_else(|| PathBuf::from(DEFAULT_FILE), PathBuf::from);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some((text, path.display().to_string()))),
        Err(e) if e.kind() == ErrorKind::NotFound && required => {
            Err(SettingsError::FileNotFound { path })
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SettingsError::Read { path, source }),
    }
}

/// Loads `.env` into the process environment without overriding what is already set. The whole
/// file is parsed first, so a syntax error leaves the environment untouched.
fn load_dotenv(path: &Path) -> Result<(), SettingsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(SettingsError::Read {
                path: path.to_owned(),
                source,
            })
        }
    };
    for (name, value) in parse_dotenv(&text)? {
        if std::env::var_os(&name).is_none() {
            std::env::set_var(name, value);
        }
    }
    Ok(())
}

/// `.env` text to pairs (first occurrence wins, as in dotenvy). Errors never quote the line.
fn parse_dotenv(text: &str) -> Result<Vec<(String, String)>, SettingsError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut pairs: Vec<(String, String)> = Vec::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        let (name, value) = item.map_err(|e| dotenv_error(text, e))?;
        if !pairs.iter().any(|(n, _)| *n == name) {
            pairs.push((name, value));
        }
    }
    Ok(pairs)
}

fn dotenv_error(text: &str, error: dotenvy::Error) -> SettingsError {
    let dotenvy::Error::LineParse(line, _) = error else {
        return SettingsError::DotEnv {
            location: String::new(),
        };
    };
    let line_no = text
        .find(line.as_str())
        .map(|at| text[..at].matches('\n').count() + 1);
    // The variable name is safe to show; the value is not.
    let variable = line
        .split('=')
        .next()
        .map(|n| n.trim().trim_start_matches("export ").trim())
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    let location = match (line_no, variable) {
        (Some(n), Some(v)) => format!(" at line {n} (variable {v})"),
        (Some(n), None) => format!(" at line {n}"),
        (None, Some(v)) => format!(" (variable {v})"),
        (None, None) => String::new(),
    };
    SettingsError::DotEnv { location }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_pairs_first_wins() {
        let pairs = parse_dotenv("# comment\nA=1\nexport B=\"two words\"\nA=3\n").unwrap();
        assert_eq!(
            pairs,
            vec![
                ("A".to_owned(), "1".to_owned()),
                ("B".to_owned(), "two words".to_owned())
            ]
        );
    }

    #[test]
    fn dotenv_errors_name_the_line_but_not_the_value() {
        let err = parse_dotenv("DEBUG=true\nSECRET_KEY=\"unterminated-topsecret\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("SECRET_KEY"), "{err}");
        assert!(!err.contains("topsecret"), "{err}");
    }
}
