//! The names of every setting: sections, their keys, and which values must never be echoed.

use std::fmt;
use std::sync::OnceLock;

use crate::de;

use crate::{BruteForce, Caches, Databases, Passwords, RestAuth, RestFramework, Server, SimpleJwt};

pub(crate) const SIMPLE_JWT: &str = SimpleJwt::SECTION;
pub(crate) const DATABASES: &str = Databases::SECTION;
pub(crate) const SERVER: &str = Server::SECTION;
pub(crate) const CACHES: &str = Caches::SECTION;
pub(crate) const REST_AUTH: &str = RestAuth::SECTION;

/// Keys outside any section, in the order messages list them.
pub(crate) fn top_level_keys() -> &'static [&'static str] {
    de::keys::<crate::build::TopLevel>()
}

/// Each section and its keys (the fields of the section's struct, in `lib.rs`), in docs order.
pub(crate) fn sections() -> &'static [(&'static str, &'static [&'static str])] {
    static SECTIONS: OnceLock<[(&str, &[&str]); 8]> = OnceLock::new();
    SECTIONS.get_or_init(|| {
        [
            (RestFramework::SECTION, de::keys::<RestFramework>()),
            (SimpleJwt::SECTION, de::keys::<SimpleJwt>()),
            (Databases::SECTION, de::keys::<Databases>()),
            (Server::SECTION, de::keys::<Server>()),
            (Passwords::SECTION, de::keys::<Passwords>()),
            (Caches::SECTION, de::keys::<Caches>()),
            (BruteForce::SECTION, de::keys::<BruteForce>()),
            (RestAuth::SECTION, de::keys::<RestAuth>()),
        ]
    })
}

/// What may appear at the top level of the file: the top-level keys, then the sections.
pub(crate) fn top_level_listing() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    static LISTING: OnceLock<Vec<&str>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let sections = sections().iter().map(|(name, _)| format!("[{name}]"));
        top_level_keys()
            .iter()
            .map(|k| k.to_string())
            .chain(sections)
            .collect()
    });
    LISTING.get_or_init(|| names.iter().map(String::as_str).collect())
}

/// simplejwt settings that exist in Django but not here: named specifically so a ported
/// configuration gets "not supported" rather than a bare "unknown".
const UNSUPPORTED_SIMPLE_JWT: &[&str] = &[
    "JSON_ENCODER",
    "USER_AUTHENTICATION_RULE",
    "TOKEN_USER_CLASS",
    "TOKEN_OBTAIN_SERIALIZER",
    "TOKEN_REFRESH_SERIALIZER",
    "TOKEN_VERIFY_SERIALIZER",
    "TOKEN_BLACKLIST_SERIALIZER",
    "SLIDING_TOKEN_OBTAIN_SERIALIZER",
    "SLIDING_TOKEN_REFRESH_SERIALIZER",
];

/// dj-rest-auth's `REST_AUTH` settings that are not about JWT cookies: its serializers, sessions
/// and registration have no counterpart here.
const UNSUPPORTED_REST_AUTH: &[&str] = &[
    "USE_JWT",
    "SESSION_LOGIN",
    "TOKEN_MODEL",
    "TOKEN_CREATOR",
    "LOGIN_SERIALIZER",
    "TOKEN_SERIALIZER",
    "JWT_SERIALIZER",
    "JWT_SERIALIZER_WITH_EXPIRATION",
    "JWT_TOKEN_CLAIMS_SERIALIZER",
    "USER_DETAILS_SERIALIZER",
    "PASSWORD_RESET_SERIALIZER",
    "PASSWORD_RESET_CONFIRM_SERIALIZER",
    "PASSWORD_CHANGE_SERIALIZER",
    "REGISTER_SERIALIZER",
    "REGISTER_PERMISSION_CLASSES",
    "PASSWORD_RESET_USE_SITES_DOMAIN",
    "OLD_PASSWORD_FIELD_ENABLED",
    "LOGOUT_ON_PASSWORD_CHANGE",
];

/// Settings simplejwt itself removed (it refuses to start with them), and what replaced each.
const REMOVED_SIMPLE_JWT: &[(&str, &str)] = &[
    ("AUTH_HEADER_TYPE", "AUTH_HEADER_TYPES (a list, e.g. [\"Bearer\"])"),
    ("AUTH_TOKEN_CLASS", "AUTH_TOKEN_CLASSES (a list, e.g. [\"AccessToken\"])"),
    ("SECRET_KEY", "SIGNING_KEY (or the top-level SECRET_KEY, which it defaults to)"),
    ("TOKEN_BACKEND_CLASS", "ALGORITHM, SIGNING_KEY, VERIFYING_KEY, AUDIENCE, ISSUER, JWK_URL and LEEWAY, which configure the one token backend"),
];

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

/// The known section named exactly `name`, with its static name and keys.
pub(crate) fn section(name: &str) -> Option<(&'static str, &'static [&'static str])> {
    sections().iter().copied().find(|(s, _)| *s == name)
}

/// The static spelling of a top-level key.
pub(crate) fn top_level(name: &str) -> Option<&'static str> {
    top_level_keys().iter().copied().find(|k| *k == name)
}

/// The static spelling of `name` inside `keys`.
pub(crate) fn key_in(keys: &'static [&'static str], name: &str) -> Option<&'static str> {
    keys.iter().copied().find(|k| *k == name)
}

/// A hint for an unknown `name` among `valid`: unsupported simplejwt settings, wrong case, typos.
pub(crate) fn hint(section: Option<&str>, name: &str, valid: &[&str]) -> String {
    if section == Some(SIMPLE_JWT) {
        if let Some((_, instead)) = REMOVED_SIMPLE_JWT.iter().find(|(old, _)| *old == name) {
            return format!(
                " (the '{name}' setting has been removed from djangorestframework-simplejwt: use {instead})"
            );
        }
    }
    if section == Some(SIMPLE_JWT) && UNSUPPORTED_SIMPLE_JWT.contains(&name) {
        return " (a djangorestframework-simplejwt setting this server does not support: remove it)"
            .to_owned();
    }
    if section == Some(REST_AUTH) && UNSUPPORTED_REST_AUTH.contains(&name) {
        return " (a dj-rest-auth setting this server does not support: only its JWT_AUTH_* cookie settings apply; remove it)"
            .to_owned();
    }
    if section.is_none() {
        // Environment-only shortcuts written into the file.
        let moved = match name {
            "DATABASE_URL" => Some("URL in [DATABASES]"),
            "CACHE_URL" => Some("URL in [CACHES]"),
            "PORT" => Some("BIND in [SERVER]"),
            "WEB_CONCURRENCY" => Some("WORKERS in [SERVER]"),
            _ => None,
        };
        if let Some(moved) = moved {
            return format!(" ({name} is an environment variable; in the file, set {moved})");
        }
    }
    let upper = name.to_ascii_uppercase();
    if upper != name && valid.contains(&upper.as_str()) {
        return format!(" (setting names are UPPERCASE: did you mean {upper}?)");
    }
    valid
        .iter()
        .map(|v| (edit_distance(&upper, v), v))
        .filter(|&(d, v)| d <= 2.max(v.len() / 5))
        .min_by_key(|&(d, _)| d)
        .map(|(_, v)| format!(" (did you mean {v}?)"))
        .unwrap_or_default()
}

/// Levenshtein distance, for "did you mean" suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints() {
        let (_, jwt) = section(SIMPLE_JWT).unwrap();
        assert_eq!(
            hint(Some(SIMPLE_JWT), "ACCESS_TOKEN_LIFETIMEX", jwt),
            " (did you mean ACCESS_TOKEN_LIFETIME?)"
        );
        assert_eq!(
            hint(Some(SIMPLE_JWT), "leeway", jwt),
            " (setting names are UPPERCASE: did you mean LEEWAY?)"
        );
        assert!(hint(Some(SIMPLE_JWT), "JSON_ENCODER", jwt).contains("not support"));
        assert!(hint(Some(SIMPLE_JWT), "AUTH_HEADER_TYPE", jwt).contains(
            "has been removed from djangorestframework-simplejwt: use AUTH_HEADER_TYPES"
        ));
        assert_eq!(hint(Some(SIMPLE_JWT), "COMPLETELY_DIFFERENT", jwt), "");
        let (_, rest_auth) = section(REST_AUTH).unwrap();
        assert!(hint(Some(REST_AUTH), "USE_JWT", rest_auth).contains("JWT_AUTH_* cookie settings"));
        assert_eq!(
            hint(Some(REST_AUTH), "JWT_AUTH_COOKIES", rest_auth),
            " (did you mean JWT_AUTH_COOKIE?)"
        );
    }

    #[test]
    #[allow(non_snake_case)] // the lists' names when they were constants
    fn top_level_listing_matches_the_schema() {
        let (TOP_LEVEL, SECTIONS, TOP_LEVEL_LISTING) =
            (top_level_keys(), sections(), top_level_listing());
        let expected: Vec<String> = TOP_LEVEL
            .iter()
            .map(|k| k.to_string())
            .chain(SECTIONS.iter().map(|(s, _)| format!("[{s}]")))
            .collect();
        assert_eq!(TOP_LEVEL_LISTING, expected);
    }

    /// A key declared twice (a field renamed onto another's key) would be listed twice.
    #[test]
    #[allow(non_snake_case)] // the list's name when it was a constant
    fn declared_keys_are_unique_and_upper_case() {
        let SECTIONS = sections();
        for (section, keys) in SECTIONS {
            let unique: std::collections::BTreeSet<_> = keys.iter().collect();
            assert_eq!(unique.len(), keys.len(), "[{section}]");
            for key in *keys {
                assert_eq!(key.to_ascii_uppercase(), *key, "[{section}] {key}");
            }
        }
    }

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
