//! `Secret`: a string that never shows up in `{:?}`, `{}` or logs; `SecretUrl` and URL redaction.

use std::fmt;

/// A secret string (`SECRET_KEY`, `SIGNING_KEY`). Formatting prints `[redacted]`; read it with
/// [`Secret::expose`] only where the bytes are needed (signing, verifying).
#[derive(Clone, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret itself. Never log or format the result.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

// Compares without stopping at the first differing byte, so timing does not reveal a prefix.
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A URL that may carry credentials (`JWK_URL`, e.g. `https://user:pass@issuer/jwks` or a
/// `?token=`): formatted as [`redact_url`] shows it; read it whole with [`SecretUrl::expose`]
/// only to connect.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(url: String) -> Self {
        Self(url)
    }

    /// The URL itself, credentials included. Never log or format the result.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", redact_url(&self.0))
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

/// A URL as it may be shown in logs and messages: the userinfo (`user:password@`, or a token
/// as user name), every query value and the fragment replaced by `[redacted]`; the scheme, host,
/// path and query names kept, so that an operator still sees which address is meant. Works on
/// text that does not parse as a URL too (which is when it is shown in an error).
pub fn redact_url(url: &str) -> String {
    const HIDDEN: &str = "[redacted]";
    let (rest, fragment) = match url.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (url, None),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let (scheme, after_scheme) = match rest.split_once("://") {
        Some((scheme, after)) => (Some(scheme), after),
        None => (None, rest),
    };
    let authority_end = after_scheme.find('/').unwrap_or(after_scheme.len());
    let (authority, path) = after_scheme.split_at(authority_end);
    let mut shown = String::new();
    if let Some(scheme) = scheme {
        shown.push_str(scheme);
        shown.push_str("://");
    }
    match authority.rsplit_once('@') {
        Some((_userinfo, host)) => shown.push_str(&format!("{HIDDEN}@{host}")),
        None => shown.push_str(authority),
    }
    shown.push_str(path);
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _value)) => format!("{name}={HIDDEN}"),
                None if pair.is_empty() => String::new(),
                None => HIDDEN.to_owned(),
            })
            .collect();
        shown.push('?');
        shown.push_str(&pairs.join("&"));
    }
    if fragment.is_some_and(|f| !f.is_empty()) {
        shown.push('#');
        shown.push_str(HIDDEN);
    }
    shown
}

/// `scheme://user:password@host/db` -> `scheme://user:[redacted]@host/db`; other URLs unchanged.
pub(crate) fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:[redacted]@{host}{path}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let s = Secret::new("hunter2-very-secret".to_owned());
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&s)), "Some([redacted])");
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn equality_compares_whole_value() {
        let a = Secret::new("abc".to_owned());
        assert_eq!(a, Secret::new("abc".to_owned()));
        assert_ne!(a, Secret::new("abd".to_owned()));
        assert_ne!(a, Secret::new("abcd".to_owned()));
    }

    #[test]
    fn urls_are_shown_without_credentials() {
        let cases = [
            (
                "https://svc:s3cr3t@issuer.example/.well-known/jwks.json",
                "https://[redacted]@issuer.example/.well-known/jwks.json",
            ),
            (
                "https://tok3n@issuer.example:8443/jwks",
                "https://[redacted]@issuer.example:8443/jwks",
            ),
            (
                "https://issuer.example/jwks?api_key=s3cr3t&tenant=t1&flag",
                "https://issuer.example/jwks?api_key=[redacted]&tenant=[redacted]&[redacted]",
            ),
            (
                "https://u:p@a@issuer.example/jwks#s3cr3t",
                "https://[redacted]@issuer.example/jwks#[redacted]",
            ),
            // Not URLs, as a wrong setting may be: still no credentials.
            (
                "svc:s3cr3t@issuer.example/jwks",
                "[redacted]@issuer.example/jwks",
            ),
            (
                "htps://svc:s3cr3t@issuer.example",
                "htps://[redacted]@issuer.example",
            ),
            // Nothing to hide.
            (
                "https://issuer.example/.well-known/jwks.json",
                "https://issuer.example/.well-known/jwks.json",
            ),
            (
                "https://issuer.example/users/@me",
                "https://issuer.example/users/@me",
            ),
            (
                "https://issuer.example/jwks?",
                "https://issuer.example/jwks?",
            ),
            ("", ""),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_url(url), shown, "{url}");
        }
        let url = SecretUrl::new("https://svc:s3cr3t@issuer.example/jwks?k=s3cr3t".to_owned());
        for text in [
            format!("{url}"),
            format!("{url:?}"),
            format!("{:?}", Some(&url)),
        ] {
            assert!(!text.contains("s3cr3t"), "{text}");
            assert!(text.contains("issuer.example/jwks"), "{text}");
        }
        assert_eq!(
            url.expose(),
            "https://svc:s3cr3t@issuer.example/jwks?k=s3cr3t"
        );
    }

    #[test]
    fn url_passwords_are_redacted() {
        assert_eq!(
            redact_url_password("postgres://app:s3cr3t@db:5432/app?sslmode=require"),
            "postgres://app:[redacted]@db:5432/app?sslmode=require"
        );
        assert_eq!(
            redact_url_password("postgres://app@db/app"),
            "postgres://app@db/app"
        );
        assert_eq!(
            redact_url_password("sqlite:///db.sqlite3"),
            "sqlite:///db.sqlite3"
        );
        assert_eq!(redact_url_password("not a url"), "not a url");
    }
}
