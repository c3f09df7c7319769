//! Django's CSRF check (`CsrfViewMiddleware.process_view`), as dj-rest-auth's
//! `JWTCookieAuthentication.enforce_csrf` runs it for requests that a cookie authenticates:
//! Origin (or, over HTTPS, Referer) against the host and `CSRF_TRUSTED_ORIGINS`, then the
//! `X-CSRFToken` header against the `csrftoken` cookie (double submit), in constant time.

use actix_web::http::Method;
use actix_web::HttpRequest;
use rand::distr::{Alphanumeric, SampleString};
use subtle::ConstantTimeEq;

use crate::api::request;
use crate::api::ApiError;

/// Django's `CSRF_COOKIE_NAME`: scripts read it and send it back as `X-CSRFToken`.
pub const CSRF_COOKIE: &str = "csrftoken";
/// Django's CSRF secrets: 32 ASCII letters and digits.
pub const CSRF_SECRET_LENGTH: usize = 32;
/// Django's `CSRF_HEADER_NAME` (`HTTP_X_CSRFTOKEN`) as a header, and as its messages name it.
const HEADER: &str = "x-csrftoken";
const HEADER_SOURCE: &str = "the 'X-Csrftoken' HTTP header";
/// Django's `CSRF_ALLOWED_CHARS`: the alphabet of secrets and masked tokens.
const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A new CSRF secret, as Django's `_get_new_csrf_string`.
pub fn new_csrf_secret() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), CSRF_SECRET_LENGTH)
}

/// Refuses an unsafe request that fails Django's CSRF check: 403 `{"detail": "CSRF Failed:
/// <Django's reason>", "code": "permission_denied"}`. Safe methods always pass.
pub fn enforce(req: &HttpRequest, trusted_origins: &[String]) -> Result<(), ApiError> {
    if matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return Ok(());
    }
    let info = req.connection_info();
    let request = Request {
        scheme: info.scheme(),
        host: info.host(),
        origin: header(req, "origin"),
        referer: header(req, "referer"),
        cookie: request::cookie(req, CSRF_COOKIE),
        token: header(req, HEADER),
    };
    check(&request, trusted_origins).map_err(|reason| ApiError::Forbidden {
        detail: format!("CSRF Failed: {reason}"),
        code: "permission_denied",
    })
}

/// Login and logout CSRF: a page of another origin must neither log the browser into an account
/// of its choosing (its cookies would then be set) nor out (clearing them). Every view that sets
/// or clears the token cookies runs this, whether or not a cookie authenticates the request.
/// There is no CSRF token before login, so only the sender is checked, as the first step of
/// [`enforce`]: a sent `Origin`, which browsers send on every cross-origin POST, else over HTTPS
/// a sent `Referer` (older browsers). A request with neither (not a browser's) passes.
pub fn enforce_origin(req: &HttpRequest, trusted_origins: &[String]) -> Result<(), ApiError> {
    let origin = header(req, "origin");
    let referer = header(req, "referer");
    if origin.is_none() && referer.is_none() {
        return Ok(());
    }
    let info = req.connection_info();
    let request = Request {
        scheme: info.scheme(),
        host: info.host(),
        origin,
        referer,
        cookie: None,
        token: None,
    };
    check_sender(&request, trusted_origins).map_err(|reason| ApiError::Forbidden {
        detail: format!("CSRF Failed: {reason}"),
        code: "permission_denied",
    })
}

/// [`enforce_origin`]'s check, pure: the Origin when sent, else over HTTPS the Referer when sent.
fn check_sender(req: &Request, trusted: &[String]) -> Result<(), String> {
    match &req.origin {
        Some(origin) if !origin_verified(origin, req, trusted) => Err(format!(
            "Origin checking failed - {origin} does not match any trusted origins."
        )),
        Some(_) => Ok(()),
        None if req.scheme == "https" && req.referer.is_some() => check_referer(req, trusted),
        None => Ok(()),
    }
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// What the check reads from a request (pure, for the tests below).
struct Request<'a> {
    scheme: &'a str,
    host: &'a str,
    origin: Option<String>,
    referer: Option<String>,
    cookie: Option<String>,
    token: Option<String>,
}

/// Django's order: Origin when sent (else Referer for HTTPS), then the token. `Err` is the reason.
fn check(req: &Request, trusted: &[String]) -> Result<(), String> {
    if let Some(origin) = &req.origin {
        if !origin_verified(origin, req, trusted) {
            return Err(format!(
                "Origin checking failed - {origin} does not match any trusted origins."
            ));
        }
    } else if req.scheme == "https" {
        check_referer(req, trusted)?;
    }
    check_token(req)
}

/// `_origin_verified`: the request's own origin, an exact trusted origin, or a wildcard one
/// (`https://*.example.com`) matching by scheme and domain.
fn origin_verified(origin: &str, req: &Request, trusted: &[String]) -> bool {
    if origin == format!("{}://{}", req.scheme, req.host) || trusted.iter().any(|t| t == origin) {
        return true;
    }
    let Ok(parsed) = url::Url::parse(origin) else {
        return false;
    };
    let netloc = netloc(&parsed);
    trusted.iter().any(|t| {
        t.split_once("://*").is_some_and(|(scheme, domain)| {
            scheme == parsed.scheme() && same_domain(&netloc, domain)
        })
    })
}

/// `_check_referer`, for HTTPS requests without an Origin header.
fn check_referer(req: &Request, trusted: &[String]) -> Result<(), String> {
    let referer = req
        .referer
        .as_deref()
        .ok_or("Referer checking failed - no Referer.")?;
    let parsed = url::Url::parse(referer)
        .ok()
        .filter(|u| u.has_host())
        .ok_or("Referer checking failed - Referer is malformed.")?;
    if parsed.scheme() != "https" {
        return Err("Referer checking failed - Referer is insecure while host is secure.".into());
    }
    let netloc = netloc(&parsed);
    let good = same_domain(&netloc, &req.host.to_ascii_lowercase())
        || trusted.iter().any(|t| {
            t.split_once("://")
                .is_some_and(|(_, host)| same_domain(&netloc, &host.replacen('*', "", 1)))
        });
    if good {
        Ok(())
    } else {
        Err(format!(
            "Referer checking failed - {referer} does not match any trusted origins."
        ))
    }
}

/// `host[:port]` of a URL, lower-case, as Python's `urlparse(...).netloc` without credentials.
fn netloc(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

/// Django's `is_same_domain`: `pattern` is a host, or `.example.com` for it and its subdomains.
fn same_domain(host: &str, pattern: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    if pattern.is_empty() {
        return false;
    }
    match pattern.strip_prefix('.') {
        Some(parent) => host.ends_with(&pattern) || host == parent,
        None => host == pattern,
    }
}

/// `_check_token`: the cookie holds the secret, the header the secret or a masked token of it.
fn check_token(req: &Request) -> Result<(), String> {
    let cookie = req.cookie.as_deref().ok_or("CSRF cookie not set.")?;
    let secret = unmask(cookie).map_err(|reason| format!("CSRF cookie {reason}."))?;
    let token = req
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or("CSRF token missing.")?;
    let presented =
        unmask(token).map_err(|reason| format!("CSRF token from {HEADER_SOURCE} {reason}."))?;
    if bool::from(presented.as_bytes().ct_eq(secret.as_bytes())) {
        Ok(())
    } else {
        Err(format!("CSRF token from {HEADER_SOURCE} incorrect."))
    }
}

/// `_check_token_format` then `_unmask_cipher_token`: a 32-character secret as is, or the secret
/// inside a 64-character masked token (mask, then secret shifted by the mask in CHARS).
fn unmask(token: &str) -> Result<String, &'static str> {
    let bytes = token.as_bytes();
    if bytes.len() != CSRF_SECRET_LENGTH && bytes.len() != 2 * CSRF_SECRET_LENGTH {
        return Err("has incorrect length");
    }
    if !bytes.iter().all(|b| CHARS.contains(b)) {
        return Err("has invalid characters");
    }
    if bytes.len() == CSRF_SECRET_LENGTH {
        return Ok(token.to_owned());
    }
    let index = |b: &u8| CHARS.iter().position(|c| c == b).unwrap_or(0);
    let (mask, cipher) = bytes.split_at(CSRF_SECRET_LENGTH);
    Ok(mask
        .iter()
        .zip(cipher)
        .map(|(m, c)| char::from(CHARS[(index(c) + CHARS.len() - index(m)) % CHARS.len()]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "abcdefghijABCDEFGHIJ0123456789xy";

    fn request<'a>(scheme: &'a str, token: Option<&str>) -> Request<'a> {
        Request {
            scheme,
            host: "api.example.com",
            origin: None,
            referer: None,
            cookie: Some(SECRET.to_owned()),
            token: token.map(str::to_owned),
        }
    }

    /// Django's `_mask_cipher_secret` with a given mask.
    fn mask(secret: &str, mask: &str) -> String {
        let index = |b: u8| CHARS.iter().position(|c| *c == b).unwrap();
        let cipher: String = secret
            .bytes()
            .zip(mask.bytes())
            .map(|(s, m)| char::from(CHARS[(index(s) + index(m)) % CHARS.len()]))
            .collect();
        format!("{mask}{cipher}")
    }

    #[test]
    fn double_submit() {
        assert_eq!(check(&request("http", Some(SECRET)), &[]), Ok(()));
        assert_eq!(
            check(&request("http", None), &[]),
            Err("CSRF token missing.".into())
        );
        let wrong = "abcdefghijABCDEFGHIJ0123456789xz";
        assert_eq!(
            check(&request("http", Some(wrong)), &[]),
            Err("CSRF token from the 'X-Csrftoken' HTTP header incorrect.".into())
        );
        assert_eq!(
            check(&request("http", Some("short")), &[]),
            Err("CSRF token from the 'X-Csrftoken' HTTP header has incorrect length.".into())
        );
        let mut no_cookie = request("http", Some(SECRET));
        no_cookie.cookie = None;
        assert_eq!(check(&no_cookie, &[]), Err("CSRF cookie not set.".into()));
    }

    #[test]
    fn masked_tokens_unmask_to_the_secret() {
        let masked = mask(SECRET, "ZYXWVUTSRQponmlkjihgfedcba987654");
        assert_eq!(masked.len(), 64);
        assert_eq!(unmask(&masked).as_deref(), Ok(SECRET));
        assert_eq!(check(&request("http", Some(&masked)), &[]), Ok(()));
        assert_eq!(unmask(&"!".repeat(32)), Err("has invalid characters"));
    }

    #[test]
    fn origins() {
        let mut req = request("https", Some(SECRET));
        req.origin = Some("https://api.example.com".into());
        assert_eq!(check(&req, &[]), Ok(()));
        req.origin = Some("https://evil.example".into());
        assert_eq!(
            check(&req, &[]),
            Err(
                "Origin checking failed - https://evil.example does not match any trusted origins."
                    .into()
            )
        );
        req.origin = Some("https://app.example.com".into());
        assert!(check(&req, &[]).is_err());
        assert_eq!(check(&req, &["https://app.example.com".into()]), Ok(()));
        assert_eq!(check(&req, &["https://*.example.com".into()]), Ok(()));
        assert!(check(&req, &["http://*.example.com".into()]).is_err());
        req.origin = Some("http://api.example.com".into());
        assert!(
            check(&req, &[]).is_err(),
            "the scheme is part of the origin"
        );
    }

    #[test]
    fn the_sender_check_needs_no_token_and_no_header() {
        let sender = |scheme, origin: Option<&str>, referer: Option<&str>| {
            let mut req = request(scheme, None);
            req.cookie = None;
            req.origin = origin.map(str::to_owned);
            req.referer = referer.map(str::to_owned);
            check_sender(&req, &["https://app.example.com".into()])
        };
        assert_eq!(sender("https", None, None), Ok(()), "not a browser");
        assert_eq!(
            sender("https", Some("https://api.example.com"), None),
            Ok(())
        );
        assert_eq!(
            sender("https", Some("https://app.example.com"), None),
            Ok(())
        );
        assert_eq!(
            sender(
                "https",
                Some("https://evil.example"),
                Some("https://api.example.com/")
            ),
            Err(
                "Origin checking failed - https://evil.example does not match any trusted origins."
                    .into()
            )
        );
        assert_eq!(
            sender("https", None, Some("https://api.example.com/x")),
            Ok(())
        );
        assert_eq!(
            sender("https", None, Some("https://evil.example/")),
            Err("Referer checking failed - https://evil.example/ does not match any trusted origins.".into())
        );
        // Over plain HTTP only the Origin counts, as in Django.
        assert_eq!(sender("http", None, Some("https://evil.example/")), Ok(()));
    }

    #[test]
    fn referers_over_https_only() {
        let req = request("https", Some(SECRET));
        assert_eq!(
            check(&req, &[]),
            Err("Referer checking failed - no Referer.".into())
        );
        assert_eq!(check(&request("http", Some(SECRET)), &[]), Ok(()));
        let with = |referer: &str| {
            let mut req = request("https", Some(SECRET));
            req.referer = Some(referer.into());
            check(&req, &["https://*.example.org".into()])
        };
        assert_eq!(with("https://api.example.com/app/"), Ok(()));
        assert_eq!(with("https://www.example.org/"), Ok(()));
        assert_eq!(
            with("http://api.example.com/"),
            Err("Referer checking failed - Referer is insecure while host is secure.".into())
        );
        assert_eq!(
            with("https://evil.example/"),
            Err("Referer checking failed - https://evil.example/ does not match any trusted origins.".into())
        );
        assert_eq!(
            with("not a url"),
            Err("Referer checking failed - Referer is malformed.".into())
        );
    }

    #[test]
    fn csrf_secrets_are_random_alphanumerics() {
        let (a, b) = (new_csrf_secret(), new_csrf_secret());
        assert_eq!(a.len(), CSRF_SECRET_LENGTH);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
