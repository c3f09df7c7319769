//! Reading the file and the environment into one map of raw values, each remembering its origin.
//!
//! Later layers overwrite earlier ones key by key; unknown keys are rejected here, before any
//! value is interpreted, so a typo is reported even when another layer sets the real key.

use std::collections::BTreeMap;

use crate::error::{Origin, SettingsError};
use crate::key::{Key, CACHES, DATABASES, SERVER};
use crate::raw::{describe, Entry, Raw};
use crate::schema;

/// All explicitly set values, the last layer winning.
#[derive(Debug, Default)]
pub(crate) struct Layered {
    entries: BTreeMap<Key, Entry>,
}

impl Layered {
    pub(crate) fn get(&self, key: Key) -> Option<&Entry> {
        self.entries.get(&key)
    }

    fn set(&mut self, key: Key, origin: Origin, raw: Raw) {
        self.entries.insert(key, Entry { key, origin, raw });
    }

    /// Lays the settings file over what is already there.
    pub(crate) fn add_file(&mut self, text: &str, source_name: &str) -> Result<(), SettingsError> {
        let origin = Origin::File(source_name.to_owned());
        let table = text
            .parse::<toml::Table>()
            .map_err(|e| syntax_error(text, source_name, &e))?;
        for (name, value) in table {
            if let Some(key) = schema::top_level(&name) {
                self.set(Key::top(key), origin.clone(), Raw::Toml(value));
            } else if let Some((section, keys)) = schema::section(&name) {
                let toml::Value::Table(inner) = value else {
                    return Err(SettingsError::WrongType {
                        key: section.to_owned(),
                        origin,
                        expected: format!("a table (a [{section}] section)"),
                        found: describe(&value, false),
                    });
                };
                for (name, value) in inner {
                    let Some(key) = schema::key_in(keys, &name) else {
                        return Err(unknown_in_section(section, keys, &name, origin));
                    };
                    self.set(
                        Key::in_section(section, key),
                        origin.clone(),
                        Raw::Toml(value),
                    );
                }
            } else {
                return Err(unknown_top_level(&name, value.is_table(), origin));
            }
        }
        Ok(())
    }

    /// Lays the environment over what is already there. Only setting variables are read
    /// (see [`classify`]); everything else (PATH, HOME, ...) is ignored.
    pub(crate) fn add_env(&mut self, env: &[(String, String)]) -> Result<(), SettingsError> {
        // Platform shortcuts first, so the explicit SECTION__KEY spelling wins when both are set;
        // REDIS_URL first of them, so that CACHE_URL wins over it.
        let redis_url_first = env
            .iter()
            .filter(|(var, _)| var == "REDIS_URL")
            .chain(env.iter().filter(|(var, _)| var != "REDIS_URL"));
        for (var, value) in redis_url_first {
            if let EnvVar::Alias(key) = classify(var)? {
                let raw = alias_value(var, key, value)?;
                self.set(key, Origin::Env(var.clone()), raw);
            }
        }
        for (var, value) in env {
            if let EnvVar::Setting(key) = classify(var)? {
                if let Some(Origin::Env(alias)) = self.get(key).map(|e| &e.origin) {
                    if alias != var {
                        log::warn!("both {alias} and {var} are set; using {var}");
                    }
                }
                self.set(key, Origin::Env(var.clone()), Raw::Env(value.clone()));
            }
        }
        Ok(())
    }
}

/// What an environment variable means to the settings.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EnvVar {
    /// `SECRET_KEY`, `DEBUG`, or `SECTION__KEY`.
    Setting(Key),
    /// A platform convention mapped onto a setting: `DATABASE_URL`, `PORT`, `WEB_CONCURRENCY`,
    /// `CACHE_URL`, `REDIS_URL`.
    Alias(Key),
    /// Not a setting.
    Ignored,
}

/// Sorts an environment variable name. `SECTION__KEY` with a known section but unknown key is an
/// error, as is a known section spelt in lower case (figment-style lowercasing is not applied).
pub(crate) fn classify(var: &str) -> Result<EnvVar, SettingsError> {
    // A top-level key by its own name: SECRET_KEY, DEBUG, AUTH_PASSWORD_VALIDATORS (a TOML list),
    // CSRF_TRUSTED_ORIGINS (a list or one origin).
    if let Some(key) = schema::top_level(var) {
        return Ok(EnvVar::Setting(Key::top(key)));
    }
    let alias = match var {
        // dj-database-url / Heroku convention for DATABASES.URL.
        "DATABASE_URL" => Some((DATABASES, "URL")),
        // CACHE_URL: django-environ's, for CACHES.URL (locmem:// or redis://...); REDIS_URL: what
        // Heroku Redis (and others) set, CACHES.URL unless CACHE_URL is set.
        "CACHE_URL" | "REDIS_URL" => Some((CACHES, "URL")),
        // Heroku-style port to listen on, on all interfaces; becomes SERVER.BIND.
        "PORT" => Some((SERVER, "BIND")),
        // Heroku / gunicorn convention for the worker count; SERVER.WORKERS.
        "WEB_CONCURRENCY" => Some((SERVER, "WORKERS")),
        _ => None,
    };
    if let Some((section, name)) = alias {
        return Ok(EnvVar::Alias(Key::in_section(section, name)));
    }
    // SECTION__KEY: any setting of a section, e.g. SIMPLE_JWT__ACCESS_TOKEN_LIFETIME=10m.
    let Some((prefix, name)) = var.split_once("__") else {
        return Ok(EnvVar::Ignored);
    };
    let origin = Origin::Env(var.to_owned());
    if let Some((section, keys)) = schema::section(prefix) {
        return match schema::key_in(keys, name) {
            Some(key) => Ok(EnvVar::Setting(Key::in_section(section, key))),
            None => Err(unknown_in_section(section, keys, name, origin)),
        };
    }
    match schema::section(&prefix.to_ascii_uppercase()) {
        Some((section, keys)) => Err(SettingsError::UnknownKey {
            key: format!("{prefix}.{name}"),
            origin,
            section: Some(section),
            valid: keys,
            hint: format!(
                " (setting names are UPPERCASE: rename the variable to {})",
                var.to_ascii_uppercase()
            ),
        }),
        None => Ok(EnvVar::Ignored),
    }
}

/// The raw value an alias stands for.
fn alias_value(var: &str, key: Key, value: &str) -> Result<Raw, SettingsError> {
    if var != "PORT" {
        return Ok(Raw::Env(value.to_owned()));
    }
    let origin = Origin::Env(var.to_owned());
    match value.trim().parse::<u16>() {
        Ok(port) if port > 0 => Ok(Raw::Toml(toml::Value::Array(vec![toml::Value::String(
            format!("0.0.0.0:{port}"),
        )]))),
        _ => Err(SettingsError::invalid(
            key,
            &origin,
            format!("PORT must be a port number from 1 to 65535, got {value:?}"),
        )),
    }
}

fn unknown_in_section(
    section: &'static str,
    keys: &'static [&'static str],
    name: &str,
    origin: Origin,
) -> SettingsError {
    SettingsError::UnknownKey {
        key: format!("{section}.{name}"),
        origin,
        section: Some(section),
        valid: keys,
        hint: schema::hint(Some(section), name, keys),
    }
}

fn unknown_top_level(name: &str, is_table: bool, origin: Origin) -> SettingsError {
    let sections: Vec<&str> = schema::sections().iter().map(|(s, _)| *s).collect();
    let candidates: Vec<&str> = if is_table {
        sections
    } else {
        schema::top_level_keys().to_vec()
    };
    SettingsError::UnknownKey {
        key: if is_table {
            format!("section [{name}]")
        } else {
            name.to_owned()
        },
        origin,
        section: None,
        valid: schema::top_level_listing(),
        hint: schema::hint(None, name, &candidates),
    }
}

/// A TOML syntax error without the offending line: it may be the line holding the secret.
fn syntax_error(text: &str, source_name: &str, e: &toml::de::Error) -> SettingsError {
    let location = e.span().map_or_else(String::new, |span| {
        let before = text.get(..span.start).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!(" (line {line}, column {column})")
    });
    SettingsError::Syntax {
        source_name: source_name.to_owned(),
        location,
        message: e.message().trim().replace('\n', "; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::SIMPLE_JWT;

    #[test]
    fn classify_env_names() {
        assert_eq!(
            classify("SECRET_KEY").unwrap(),
            EnvVar::Setting(Key::top("SECRET_KEY"))
        );
        assert_eq!(
            classify("SIMPLE_JWT__LEEWAY").unwrap(),
            EnvVar::Setting(Key::in_section(SIMPLE_JWT, "LEEWAY"))
        );
        assert_eq!(
            classify("DATABASE_URL").unwrap(),
            EnvVar::Alias(Key::in_section(DATABASES, "URL"))
        );
        for other in [
            "PATH",
            "HOME",
            "RUST_LOG",
            "FOO__BAR",
            "__CF_USER_TEXT_ENCODING",
        ] {
            assert_eq!(classify(other).unwrap(), EnvVar::Ignored, "{other}");
        }
        let err = classify("simple_jwt__leeway").unwrap_err().to_string();
        assert!(err.contains("SIMPLE_JWT__LEEWAY"), "{err}");
    }

    #[test]
    fn redis_url_is_the_cache_url_unless_cache_url_or_caches_url_is_set() {
        let url = |env: &[(&str, &str)]| {
            let env: Vec<(String, String)> = env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let mut layered = Layered::default();
            layered
                .add_file("[CACHES]\nURL = \"locmem://\"\n", "settings.toml")
                .unwrap();
            layered.add_env(&env).unwrap();
            match &layered.get(Key::in_section(CACHES, "URL")).unwrap().raw {
                Raw::Env(value) => value.clone(),
                other => panic!("{other:?}"),
            }
        };
        let heroku = ("REDIS_URL", "rediss://:pw@heroku:6380");
        // Over the file, as DATABASE_URL.
        assert_eq!(url(&[heroku]), "rediss://:pw@heroku:6380");
        // Below CACHE_URL and CACHES__URL, whichever order the environment lists them in.
        let cache_url = ("CACHE_URL", "redis://mine:6379/0");
        assert_eq!(url(&[cache_url, heroku]), "redis://mine:6379/0");
        assert_eq!(url(&[heroku, cache_url]), "redis://mine:6379/0");
        let explicit = ("CACHES__URL", "redis://explicit:6379/0");
        assert_eq!(url(&[explicit, heroku]), "redis://explicit:6379/0");
    }

    #[test]
    fn syntax_errors_give_position_but_not_the_line() {
        let text = "DEBUG = true\nSECRET_KEY = unquoted-topsecret-value\n";
        let mut layered = Layered::default();
        let err = layered
            .add_file(text, "settings.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("settings.toml is not valid TOML (line 2"),
            "{err}"
        );
        assert!(!err.contains("topsecret"), "{err}");
    }
}
