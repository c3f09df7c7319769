//! `Secret`: a string that never shows up in `{:?}`, `{}` or logs, and URL password redaction.

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
