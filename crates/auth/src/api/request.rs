//! What a view or an authentication class reads off the request besides its body: the client's
//! address (DRF's `get_ident`) and a cookie.

use std::net::IpAddr;

use actix_web::cookie::Cookie;
use actix_web::http::header::COOKIE;
use actix_web::{HttpMessage, HttpRequest};

/// The client's address as established by a trusted-proxy layer, when there is one (put it in
/// the request's extensions); without it the TCP peer address is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// DRF's `get_ident`: the proxy-aware client address ([`ClientAddr`]) or else the peer address.
pub fn client_address(req: &HttpRequest) -> String {
    if let Some(ClientAddr(addr)) = req.extensions().get::<ClientAddr>() {
        return addr.to_string();
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
}

/// The value of cookie `name` in the request, if present and not empty (an empty value counts as
/// absent). With several cookies of one name (a sibling subdomain can plant one), the first
/// non-empty one wins: browsers send the one with the most specific path first.
///
/// Each `;`-separated pair is parsed by [`Cookie::parse`], which trims it and strips one pair of
/// surrounding double quotes from the value, as Django's `parse_cookie`. What it refuses (a pair
/// without `=`, an empty name) is skipped, as is a `Cookie` header that is not UTF-8: a malformed
/// header is never an error. Values are not percent-decoded, as Django's are not.
///
/// Not [`HttpRequest::cookie`]: that one returns the first cookie of the name even when it is
/// empty, percent-decodes (dropping a pair whose decoded value is not UTF-8), gives up on every
/// header when one is not UTF-8, and caches its parse in the request's extensions with
/// `extensions_mut()`, which panics while a caller holds `req.connection_info()` (as
/// `csrf::enforce` does around this call).
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(COOKIE)
        .filter_map(|header| std::str::from_utf8(header.as_bytes()).ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| Cookie::parse(pair).ok())
        .filter(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
        .find(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::cookie as read;
    use super::*;
    use actix_web::test::TestRequest;

    /// `authn::csrf::CSRF_COOKIE` (a test of this room names no room above it).
    const CSRF_COOKIE: &str = "csrftoken";

    fn request(headers: &[&[u8]]) -> HttpRequest {
        let mut req = TestRequest::default();
        for header in headers {
            let value = actix_web::http::header::HeaderValue::from_bytes(header).unwrap();
            req = req.append_header((COOKIE, value));
        }
        req.to_http_request()
    }

    #[test]
    fn reads_the_first_non_empty_cookie_of_a_name() {
        let req = request(&[b"a=1; access=tok.en.x ; b=\"q\"; c=\"\""]);
        assert_eq!(read(&req, "access").as_deref(), Some("tok.en.x"));
        assert_eq!(
            read(&req, "b").as_deref(),
            Some("q"),
            "one pair of quotes goes"
        );
        assert_eq!(read(&req, "c"), None, "empty inside its quotes");
        assert_eq!(read(&req, "acc"), None);
        let req = request(&[b"access=; access2=x"]);
        assert_eq!(read(&req, "access"), None, "empty means absent");
        assert_eq!(read(&req, "access2").as_deref(), Some("x"));
        // Several cookies of one name: the first non-empty one, also across headers (HTTP/2
        // clients may send one `Cookie` header per cookie).
        let req = request(&[b"r=specific; r=planted"]);
        assert_eq!(read(&req, "r").as_deref(), Some("specific"));
        let req = request(&[b"r=; r=second"]);
        assert_eq!(read(&req, "r").as_deref(), Some("second"));
        let req = request(&[b"r=", b"r=second", b"r=third"]);
        assert_eq!(read(&req, "r").as_deref(), Some("second"));
        // actix's own lookup stops at the first of the name, empty or not.
        assert_eq!(
            req.cookie("r").map(|c| c.value().to_owned()).as_deref(),
            Some("")
        );
    }

    #[test]
    fn malformed_cookies_are_skipped_not_errors() {
        // Pairs the cookie crate refuses (no `=`, an empty name, nothing) are skipped; the rest
        // is read, including a value that is not valid percent-encoding (read raw, as Django).
        let req = request(&[b"junk; =x; ;; access=tok; b=%zz%FF; c=a=b"]);
        assert_eq!(read(&req, "access").as_deref(), Some("tok"));
        assert_eq!(read(&req, "b").as_deref(), Some("%zz%FF"));
        assert_eq!(read(&req, "c").as_deref(), Some("a=b"));
        assert_eq!(read(&req, "junk"), None);
        assert_eq!(read(&req, ""), None);
        // actix's lookup percent-decodes, and drops what does not decode to UTF-8.
        assert!(req.cookie("b").is_none());
        assert_eq!(req.cookie("access").unwrap().value(), "tok");

        // A header that is not UTF-8 is skipped; the others still count. actix's lookup gives
        // up on every header then.
        let req = request(&[b"a=\xff\xfe; access=lost", b"refresh=kept"]);
        assert_eq!(read(&req, "access"), None);
        assert_eq!(read(&req, "refresh").as_deref(), Some("kept"));
        assert!(req.cookie("refresh").is_none());
        // UTF-8 beyond ASCII is fine.
        let req = request(&["note=café; access=tok".as_bytes()]);
        assert_eq!(read(&req, "note").as_deref(), Some("café"));
        assert_eq!(read(&request(&[]), "access"), None);
    }

    #[test]
    fn reads_while_the_connection_info_is_borrowed() {
        // `csrf::enforce` holds `req.connection_info()` (a borrow of the request's extensions)
        // while it reads the CSRF cookie; `HttpRequest::cookies()` would panic here, as it
        // caches its parse with `extensions_mut()`.
        let req = request(&[b"csrftoken=abc"]);
        let info = req.connection_info();
        assert_eq!(read(&req, CSRF_COOKIE).as_deref(), Some("abc"));
        drop(info);
    }
}
