//! A setting's address: the section names, `Key` (`SECRET_KEY`, `SIMPLE_JWT.LEEWAY`), and which
//! keys' values must never be echoed.

use std::fmt;

pub(crate) const REST_FRAMEWORK: &str = "REST_FRAMEWORK";
pub(crate) const SIMPLE_JWT: &str = "SIMPLE_JWT";
pub(crate) const DATABASES: &str = "DATABASES";
pub(crate) const SERVER: &str = "SERVER";
pub(crate) const PASSWORDS: &str = "PASSWORDS";
pub(crate) const CACHES: &str = "CACHES";
pub(crate) const BRUTE_FORCE: &str = "BRUTE_FORCE";
pub(crate) const REST_AUTH: &str = "REST_AUTH";

/// A setting's address: `SECRET_KEY` or `SIMPLE_JWT.LEEWAY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    pub section: Option<&'static str>,
    pub name: &'static str,
}

impl Key {
    pub(crate) const fn top(name: &'static str) -> Self {
        Key {
            section: None,
            name,
        }
    }

    pub(crate) const fn in_section(section: &'static str, name: &'static str) -> Self {
        Key {
            section: Some(section),
            name,
        }
    }

    /// Values of these keys are never echoed in messages (a database URL carries a password).
    pub(crate) fn is_sensitive(&self) -> bool {
        matches!(
            (self.section, self.name),
            (None, "SECRET_KEY")
                | (Some(SIMPLE_JWT), "SIGNING_KEY" | "VERIFYING_KEY")
                | (Some(DATABASES), "URL")
                | (Some(CACHES), "URL")
        )
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.section {
            Some(section) => write!(f, "{section}.{}", self.name),
            None => f.write_str(self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_display_dotted() {
        assert_eq!(Key::top("DEBUG").to_string(), "DEBUG");
        assert_eq!(
            Key::in_section(SIMPLE_JWT, "LEEWAY").to_string(),
            "SIMPLE_JWT.LEEWAY"
        );
        assert!(Key::in_section(DATABASES, "URL").is_sensitive());
        assert!(!Key::in_section(DATABASES, "POOL_SIZE").is_sensitive());
    }
}
