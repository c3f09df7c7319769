//! The rules of single values, each named once, in the field attribute of its key:
//! `#[serde(deserialize_with = "validate::bind")]` reads the field's own type, then checks the
//! rule, whose reason the message shows after the key and where its value came from. Also the
//! secrets that are no secret. The signing-key policy, which looks at several keys, is `signing.rs`.

use std::fmt::Display;
use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::choices::{Algorithm, TokenClass};

/// A reason to show after the key, when a value breaks its setting's rule.
pub(crate) type Rule = Result<(), String>;

/// Declares rules as `deserialize_with` functions: `name: Type = |value| { body returning Rule }`.
macro_rules! rules {
    ($($(#[$doc:meta])* $name:ident: $ty:ty = |$v:pat_param| $body:block)*) => {$(
        $(#[$doc])*
        pub(crate) fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
            let value = <$ty>::deserialize(d)?;
            let rule = |$v: &$ty| -> Rule { $body };
            rule(&value).map_err(D::Error::custom)?;
            Ok(value)
        }
    )*};
}

/// At least 1, for any whole-number key.
pub(crate) fn at_least_one<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + PartialOrd + From<u8> + Display,
{
    let n = T::deserialize(d)?;
    positive(&n).map_err(D::Error::custom)?;
    Ok(n)
}

pub(crate) fn positive<T: PartialOrd + From<u8> + Display>(n: &T) -> Rule {
    if *n >= T::from(1) {
        Ok(())
    } else {
        Err(format!("must be at least 1, got {n}"))
    }
}

/// A limit with a maximum (gunicorn's, for the `LIMIT_REQUEST_*` keys); 0 means none or the
/// maximum, as the key says.
fn at_most(n: usize, max: usize) -> Rule {
    if n <= max {
        Ok(())
    } else {
        Err(format!("must be at most {max}, got {n}"))
    }
}

/// gunicorn's largest request line and header count (`Server::MAX_REQUEST_*`).
pub(crate) const MAX_REQUEST_LINE: usize = 8190;
pub(crate) const MAX_REQUEST_FIELDS: usize = 32768;

/// Django `request.META` key to HTTP header name: strip `HTTP_`, `_` -> `-`, lower case.
pub(crate) fn header_from_meta(name: &str) -> String {
    let name = name.trim();
    let name = name.strip_prefix("HTTP_").unwrap_or(name);
    name.replace('_', "-").to_ascii_lowercase()
}

/// A duration of at least a second, or `reason`.
fn a_second(d: Duration, also: &str) -> Rule {
    if d >= Duration::from_secs(1) {
        Ok(())
    } else {
        Err(format!("must be at least 1 second, got {d:?}{also}"))
    }
}

rules! {
    limit_request_line: usize = |&n| { at_most(n, MAX_REQUEST_LINE) }
    limit_request_fields: usize = |&n| { at_most(n, MAX_REQUEST_FIELDS) }

    /// bcrypt's minimum, and the cap the password hasher puts on stored hashes (bcrypt itself
    /// goes to 31, about 36 hours a hash; 16 takes about 4 s, Django's default 12 a quarter second).
    bcrypt_rounds: u32 = |&rounds| {
        if (4..=16).contains(&rounds) {
            Ok(())
        } else {
            Err(format!(
                "must be from 4 to 16, got {rounds} (each step doubles the work of every login; Django's default is 12)"
            ))
        }
    }

    /// `host:port` or `unix:/path.sock` addresses, at least one.
    bind: Vec<String> = |addresses| {
        if addresses.is_empty() {
            return Err("must list at least one address, e.g. [\"127.0.0.1:8000\"]".to_owned());
        }
        for address in addresses {
            if let Some(path) = address.strip_prefix("unix:") {
                if path.trim().is_empty() {
                    return Err(format!(
                        "{address:?} names no socket path, e.g. \"unix:/run/app/app.sock\""
                    ));
                }
                continue;
            }
            let port_ok = address
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if !port_ok {
                return Err(format!(
                    "{address:?} is not a host:port address, e.g. \"127.0.0.1:8000\" or \"[::]:8000\" (or a unix socket, \"unix:/run/app.sock\")"
                ));
            }
        }
        Ok(())
    }

    /// The words accepted before the token in the header, e.g. `Bearer`.
    auth_header_types: Vec<String> = |types| {
        if types.is_empty() {
            return Err("must list at least one header type, e.g. [\"Bearer\"]".to_owned());
        }
        match types
            .iter()
            .find(|t| t.is_empty() || t.contains(char::is_whitespace))
        {
            Some(bad) => Err(format!("{bad:?} is not a single word, e.g. \"Bearer\"")),
            None => Ok(()),
        }
    }

    /// Django `META` spelling of a header: `HTTP_AUTHORIZATION`, `HTTP_X_AUTH`.
    auth_header_name: String = |name| {
        let header = header_from_meta(name);
        if !header.is_empty() && header.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            Ok(())
        } else {
            Err(format!(
                "{name:?} is not a header name in Django's META spelling, e.g. \"HTTP_AUTHORIZATION\""
            ))
        }
    }

    auth_token_classes: Vec<TokenClass> = |classes| {
        if classes.is_empty() {
            Err("must list at least one, e.g. [\"AccessToken\"]".to_owned())
        } else {
            Ok(())
        }
    }

    /// An optional cookie name (see [`cookie_name`]).
    cookie: Option<String> = |name| { name.as_deref().map_or(Ok(()), cookie_name) }

    /// A cookie's `Path`: absolute, and nothing that would end the attribute.
    cookie_path: String = |path| {
        if path.starts_with('/') && path.chars().all(|c| c.is_ascii_graphic() && c != ';') {
            Ok(())
        } else {
            Err(format!(
                "{path:?} is not a cookie path: it must start with \"/\" and hold no spaces or \";\", e.g. \"/api/token/\""
            ))
        }
    }

    /// A cookie's `Domain`: a host name, optionally with a leading dot.
    cookie_domain: Option<String> = |domain| {
        let Some(domain) = domain else {
            return Ok(());
        };
        let host = domain.strip_prefix('.').unwrap_or(domain);
        if !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            Ok(())
        } else {
            Err(format!(
                "{domain:?} is not a domain: use a host name such as \"example.com\" (or \".example.com\"), or leave it unset for the host that set the cookie"
            ))
        }
    }

    /// Django 4.0's rule (4_0.E001): every trusted origin names its scheme.
    csrf_trusted_origins: Vec<String> = |origins| {
        match origins
            .iter()
            .find(|o| !(o.starts_with("https://") || o.starts_with("http://")) || o.ends_with('/'))
        {
            Some(bad) => Err(format!(
                "{bad:?} is not an origin: each must be a scheme and host without a path, e.g. \"https://app.example.com\" or \"https://*.example.com\""
            )),
            None => Ok(()),
        }
    }

    /// A BRUTE_FORCE duration: at least a second (locks are told in whole seconds, Retry-After).
    lockout_duration: Duration = |&d| {
        a_second(d, " (to turn brute-force protection off, set ENABLED = false)")
    }

    /// DATABASES.QUERY_TIMEOUT: at least a second (libpq's TCP keepalive settings are whole
    /// seconds, and a shorter bound would cut legitimate queries under load).
    query_timeout: Duration = |&d| { a_second(d, "") }

    not_empty: String = |text| {
        if text.trim().is_empty() {
            Err("must not be empty".to_owned())
        } else {
            Ok(())
        }
    }

    failure_factor: u32 = |n| {
        positive(n).map_err(|e| format!("{e} (to turn brute-force protection off, set ENABLED = false)"))
    }

    cache_url: String = |url| {
        let scheme = url.split_once("://").map(|(scheme, _)| scheme);
        match scheme {
            Some("locmem" | "redis" | "rediss") => Ok(()),
            _ => Err("must be locmem:// (in-process, the default) or redis://host:6379/0 (shared by every instance)".to_owned()),
        }
    }

    /// The longest `[CACHES] USER_TTL`: past it, "deactivated" would no longer mean "locked out".
    user_ttl: Duration = |ttl| {
        const MAX_USER_TTL: Duration = Duration::from_secs(60);
        if *ttl <= MAX_USER_TTL {
            Ok(())
        } else {
            Err(format!("must be at most {MAX_USER_TTL:?}: a user deactivated or whose password changed keeps access this long; \"0s\" looks the user up on every request"))
        }
    }
}

/// JWK_URL: an http(s) URL, and only for asymmetric algorithms (a JWKS never holds HMAC secrets;
/// simplejwt silently ignores it for HS*, we say so).
pub(crate) fn jwk_url(url: Option<&str>, algorithm: Algorithm) -> Rule {
    let Some(url) = url else {
        return Ok(());
    };
    if algorithm.is_hmac() {
        return Err(format!(
            "{algorithm} tokens are verified with the shared secret, never with a JWKS: use an RS*/ES*/EdDSA ALGORITHM, or remove JWK_URL"
        ));
    }
    let host = ["https://", "http://"]
        .iter()
        .find_map(|scheme| url.strip_prefix(scheme))
        .and_then(|rest| rest.split(['/', '?', '#']).next());
    if host.is_some_and(|h| !h.is_empty()) {
        Ok(())
    } else {
        Err(format!(
            "{:?} is not an http:// or https:// URL: set it to the issuer's JWKS address, e.g. \"https://issuer.example/.well-known/jwks.json\"",
            crate::secret::redact_url(url)
        ))
    }
}

/// The name of the CSRF cookie, which the token cookies must not take.
pub(crate) const CSRF_COOKIE: &str = "csrftoken";

/// A cookie name: an RFC 6265 token (visible ASCII, no separators), not the CSRF cookie's.
pub(crate) fn cookie_name(name: &str) -> Rule {
    const SEPARATORS: &str = "()<>@,;:\\\"/[]?={}";
    let token = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && !SEPARATORS.contains(c));
    if !token {
        return Err(format!(
            "{name:?} is not a cookie name: use letters, digits and -_.!#$%&'*+^`|~ only, e.g. \"access-token\""
        ));
    }
    if name == CSRF_COOKIE {
        return Err(format!(
            "{name:?} is the CSRF cookie's name: choose another, e.g. \"access-token\""
        ));
    }
    Ok(())
}

/// Values that are not secret however long they are: Django's generated development keys,
/// dictionary words and template placeholders, and Django's "fewer than 5 distinct characters".
pub(crate) fn is_placeholder(secret: &str) -> bool {
    const WORDS: &[&str] = &[
        "secret",
        "secretkey",
        "secret-key",
        "secret_key",
        "mysecret",
        "supersecret",
        "password",
        "test",
        "testing",
        "dev",
        "development",
        "default",
        "example",
        "jwt-secret",
        "jwt_secret",
    ];
    const MARKERS: &[&str] = &[
        "change-me",
        "change_me",
        "changeme",
        "replace-me",
        "replace_me",
        "replaceme",
        "your-secret",
        "your_secret",
        "insecure",
    ];
    let lower = secret.trim().to_ascii_lowercase();
    let distinct = lower
        .chars()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    lower.starts_with("django-insecure-")
        || WORDS.contains(&lower.as_str())
        || MARKERS.iter().any(|m| lower.contains(m))
        || distinct < 5
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::de::{toml_value, ValueDe};

    #[test]
    fn placeholders() {
        for bad in [
            "django-insecure-0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdef",
            "secret",
            "ChangeMe",
            "please-change-me-before-deploying-this-to-production",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "abababababababababababababababababababababababab",
        ] {
            assert!(is_placeholder(bad), "{bad}");
        }
        assert!(!is_placeholder(
            "x7#k2!pQ9@vL4$mN8&wR1*zT6^yU3(bH5)cJ0-eF_gA+dS=qW"
        ));
    }

    #[test]
    fn jwk_urls() {
        for ok in ["https://issuer.example/jwks.json", "http://127.0.0.1:8080"] {
            assert!(jwk_url(Some(ok), Algorithm::RS256).is_ok(), "{ok}");
        }
        for bad in [
            "issuer.example/jwks",
            "https://",
            "https:///jwks",
            "ftp://x/jwks",
            "",
        ] {
            assert!(jwk_url(Some(bad), Algorithm::RS256).is_err(), "{bad}");
        }
        assert!(jwk_url(Some("https://issuer.example/jwks"), Algorithm::HS256).is_err());
        let wrong = jwk_url(
            Some("htps://svc:s3cr3t@issuer.example/jwks"),
            Algorithm::RS256,
        );
        let reason = wrong.expect_err("not http(s)");
        assert!(!reason.contains("s3cr3t"), "{reason}");
        assert!(reason.contains("[redacted]@issuer.example"), "{reason}");
        assert!(jwk_url(None, Algorithm::HS256).is_ok());
    }

    /// Whether `rule` accepts the value written `toml` in the file.
    fn ok<T>(rule: fn(ValueDe) -> Result<T, crate::value_error::Error>, toml: &str) -> bool {
        rule(toml_value(toml)).is_ok()
    }

    #[test]
    fn ranges() {
        assert!(!ok(at_least_one::<_, u32>, "0"));
        assert!(ok(at_least_one::<_, usize>, "1"));
        assert!(!ok(bcrypt_rounds, "3"));
        assert!(ok(bcrypt_rounds, "4"));
        assert!(ok(bcrypt_rounds, "16"));
        assert!(!ok(bcrypt_rounds, "17"));
        assert!(!ok(bcrypt_rounds, "31"));
    }

    #[test]
    fn bind_addresses() {
        assert!(ok(bind, r#"["127.0.0.1:8000"]"#));
        assert!(ok(bind, r#"["[::]:8000", "localhost:80"]"#));
        assert!(!ok(bind, "[]"));
        assert!(!ok(bind, r#"["8000"]"#));
        assert!(!ok(bind, r#"[":8000"]"#));
        assert!(!ok(bind, r#"["host:http"]"#));
        assert!(ok(bind, r#"["unix:/run/app.sock", "127.0.0.1:80"]"#));
        assert!(!ok(bind, r#"["unix:"]"#));
    }

    #[test]
    fn cookie_attributes() {
        assert!(cookie_name("access-token").is_ok());
        assert!(cookie_name("jwt_auth").is_ok());
        assert!(cookie_name("").is_err());
        assert!(cookie_name("a b").is_err());
        assert!(cookie_name("a;b").is_err());
        assert!(cookie_name("a=b").is_err());
        assert!(cookie_name("csrftoken").is_err());
        assert!(ok(cookie_path, r#""/api/token/""#));
        assert!(ok(cookie_path, r#""/""#));
        assert!(!ok(cookie_path, r#""api/""#));
        assert!(!ok(cookie_path, r#""/a; Domain=evil.com""#));
        assert!(ok(cookie_domain, r#""example.com""#));
        assert!(ok(cookie_domain, r#"".example.com""#));
        assert!(!ok(cookie_domain, r#""example.com; Secure""#));
        assert!(!ok(cookie_domain, r#"".""#));
        assert!(ok(csrf_trusted_origins, r#"["https://*.example.com"]"#));
        assert!(!ok(csrf_trusted_origins, r#"["example.com"]"#));
        assert!(!ok(csrf_trusted_origins, r#"["https://example.com/"]"#));
    }

    #[test]
    fn header_types_and_names() {
        assert!(ok(auth_header_types, r#"["Bearer", "JWT"]"#));
        assert!(!ok(auth_header_types, "[]"));
        assert!(!ok(auth_header_types, r#"["Bearer token"]"#));
        assert!(ok(auth_header_name, r#""HTTP_X_AUTH""#));
        assert!(!ok(auth_header_name, r#""HTTP_""#));
        assert!(!ok(auth_header_name, r#""HTTP_X AUTH""#));
    }
}
