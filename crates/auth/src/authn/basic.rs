//! DRF's BasicAuthentication: `Authorization: Basic base64(username:password)` on every request,
//! checked against the user table; DRF's messages for every malformed header.

use actix_web::http::header::AUTHORIZATION;
use actix_web::HttpRequest;
use base64::Engine as _;

use users::User;

use crate::api::ApiError;
use crate::authn::credentials;
use crate::state::AuthState;

/// The `WWW-Authenticate` value when BasicAuthentication is the first class.
pub const CHALLENGE: &str = "Basic realm=\"api\"";

const NO_CREDENTIALS: &str = "Invalid basic header. No credentials provided.";
const SPACES: &str = "Invalid basic header. Credentials string should not contain spaces.";
const NOT_BASE64: &str = "Invalid basic header. Credentials not correctly base64 encoded.";
const INVALID: &str = "Invalid username/password.";

/// `None` when the request does not use the Basic scheme (the next class may recognise it).
pub async fn authenticate(req: &HttpRequest, state: &AuthState) -> Result<Option<User>, ApiError> {
    let Some((username, password)) = credentials_in(req)? else {
        return Ok(None);
    };
    // Django's ModelBackend refuses inactive users, so DRF's "User inactive or deleted." is
    // never reached with it: an inactive user gets "Invalid username/password." as here.
    // Every request carries the password, so every one counts against the brute-force limits.
    let client = crate::api::request::client_address(req);
    match credentials::authenticate(state, &client, username, password).await? {
        Some(user) => Ok(Some(user)),
        None => Err(ApiError::AuthenticationFailed(INVALID)),
    }
}

fn credentials_in(req: &HttpRequest) -> Result<Option<(String, String)>, ApiError> {
    match req.headers().get(AUTHORIZATION) {
        Some(value) => parse_header(value.as_bytes()),
        None => Ok(None),
    }
}

/// DRF's header parsing: scheme `basic` in any case, exactly one credentials word, base64 of
/// UTF-8 (else Latin-1) `userid:password`. `None` when the scheme is not Basic. Pure, so the
/// fuzz target (fuzz/fuzz_targets/auth_header.rs) calls it directly.
pub fn parse_header(value: &[u8]) -> Result<Option<(String, String)>, ApiError> {
    let parts: Vec<&[u8]> = value
        .split(|b| b.is_ascii_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    match parts.as_slice() {
        [scheme, ..] if !scheme.eq_ignore_ascii_case(b"basic") => Ok(None),
        [] => Ok(None),
        [_] => Err(ApiError::AuthenticationFailed(NO_CREDENTIALS)),
        [_, encoded] => decode(encoded).map(Some),
        _ => Err(ApiError::AuthenticationFailed(SPACES)),
    }
}

fn decode(encoded: &[u8]) -> Result<(String, String), ApiError> {
    let bad = || ApiError::AuthenticationFailed(NOT_BASE64);
    // Python's b64decode (validate=False) skips characters outside the alphabet.
    let cleaned: Vec<u8> = encoded
        .iter()
        .copied()
        .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cleaned)
        .map_err(|_| bad())?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => e.into_bytes().iter().map(|&b| char::from(b)).collect(),
    };
    let (userid, password) = text.split_once(':').ok_or_else(bad)?;
    Ok((userid.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn parse(header: &str) -> Result<Option<(String, String)>, String> {
        let req = TestRequest::default()
            .insert_header((AUTHORIZATION, header))
            .to_http_request();
        credentials_in(&req).map_err(|e| e.to_string())
    }

    #[test]
    fn drf_header_rules() {
        let ok = |u: &str, p: &str| Ok(Some((u.to_owned(), p.to_owned())));
        assert_eq!(parse("Basic YWxpY2U6c2VjcmV0"), ok("alice", "secret"));
        assert_eq!(parse("basic YWxpY2U6c2VjcmV0"), ok("alice", "secret"));
        // The password may contain colons; only the first one splits.
        assert_eq!(parse("BASIC YWxpY2U6YTpi"), ok("alice", "a:b"));
        // Latin-1 when not UTF-8: "é" as 0xE9.
        assert_eq!(parse("Basic 6Tpwdw=="), ok("\u{e9}", "pw"));
        assert_eq!(parse("Bearer abc"), Ok(None));
        assert_eq!(parse(""), Ok(None));
        assert_eq!(parse("Basic"), Err(NO_CREDENTIALS.to_owned()));
        assert_eq!(parse("Basic a b"), Err(SPACES.to_owned()));
        assert_eq!(parse("Basic !!!"), Err(NOT_BASE64.to_owned()));
        // Valid base64 without a colon.
        assert_eq!(parse("Basic YWxpY2U="), Err(NOT_BASE64.to_owned()));
    }
}
