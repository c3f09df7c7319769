//! The names of every setting: each section's keys (read off its struct's derive), what the top
//! level may hold, and the hints for an unknown key (did you mean, removed and unsupported
//! settings).

use std::cell::Cell;
use std::sync::OnceLock;

use serde::de::{self, Deserializer};

use crate::key::{
    BRUTE_FORCE, CACHES, DATABASES, PASSWORDS, REST_AUTH, REST_FRAMEWORK, SERVER, SIMPLE_JWT,
};
use crate::value_error::Error;

use crate::{BruteForce, Caches, Databases, Passwords, RestAuth, RestFramework, Server, SimpleJwt};

/// Keys outside any section, in the order messages list them.
pub(crate) fn top_level_keys() -> &'static [&'static str] {
    keys::<crate::TopLevel>()
}

/// Each section and its keys (the fields of the section's struct, in `lib.rs`), in docs order.
pub(crate) fn sections() -> &'static [(&'static str, &'static [&'static str])] {
    static SECTIONS: OnceLock<[(&str, &[&str]); 8]> = OnceLock::new();
    SECTIONS.get_or_init(|| {
        [
            (REST_FRAMEWORK, keys::<RestFramework>()),
            (SIMPLE_JWT, keys::<SimpleJwt>()),
            (DATABASES, keys::<Databases>()),
            (SERVER, keys::<Server>()),
            (PASSWORDS, keys::<Passwords>()),
            (CACHES, keys::<Caches>()),
            (BRUTE_FORCE, keys::<BruteForce>()),
            (REST_AUTH, keys::<RestAuth>()),
        ]
    })
}

/// What may appear at the top level of the file: the top-level keys, then the sections.
pub(crate) fn top_level_listing() -> &'static [&'static str] {
    static LISTING: OnceLock<Vec<&'static str>> = OnceLock::new();
    LISTING.get_or_init(|| {
        // Built once per process: the `[NAME]` strings live as long as the list.
        let sections = sections()
            .iter()
            .map(|(name, _)| &*format!("[{name}]").leak());
        top_level_keys().iter().copied().chain(sections).collect()
    })
}

/// A section's keys, in field order: the names serde's derive passes to `deserialize_struct`.
pub(crate) fn keys<T: de::DeserializeOwned>() -> &'static [&'static str] {
    let recorder = FieldNames(Cell::new(&[]));
    // Always an error: the recorder reads the names and gives no values.
    let _ = T::deserialize(&recorder);
    recorder.0.get()
}

struct FieldNames(Cell<&'static [&'static str]>);

impl<'de> Deserializer<'de> for &FieldNames {
    type Error = Error;

    fn deserialize_any<V: de::Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
        Err(Error::Invalid("not a struct".to_owned()))
    }

    fn deserialize_struct<V: de::Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Error> {
        self.0.set(fields);
        Err(Error::Invalid("field names only".to_owned()))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
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
}
