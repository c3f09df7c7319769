//! gunicorn's request-head limits (`SERVER.LIMIT_REQUEST_LINE`, `LIMIT_REQUEST_FIELDS`,
//! `LIMIT_REQUEST_FIELD_SIZE`): a request whose head breaks one is answered before routing and
//! before its body is read, 414 or 431 in our JSON error shape (`crate::middleware::stack`
//! measures the head first, before the proxy step rewrites it, and answers inside the access
//! log and the common headers).
//!
//! actix-web parses the head before any middleware runs, and has hard limits of its own that
//! come first and answer with an empty body: more than 96 header fields or a head over 128 KiB
//! is a bare 431, a request target over 64 KiB a bare 400. So a `LIMIT_REQUEST_FIELDS` above 96
//! acts as 96 (gunicorn's default is 100).
//!
//! Lengths are counted as gunicorn counts the raw lines, from what actix kept of them: the
//! request line as `METHOD TARGET HTTP/1.1` and a field as `Name: value` plus its CRLF (a
//! client that writes other whitespace around the colon is measured as if it wrote one space).

use actix_web::http::header::HeaderMap;
use actix_web::http::{Method, Uri};

use auth::ApiError;

/// `HTTP/1.1`, `HTTP/1.0`: the version's length on the request line.
const VERSION_LENGTH: usize = 8;

/// The limits in force; `None` is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    pub line: Option<usize>,
    pub fields: usize,
    pub field_size: Option<usize>,
}

impl RequestLimits {
    /// What the settings mean, as gunicorn reads its flags: 0 is no limit for the line and the
    /// field size, and the maximum (32768) for the number of fields.
    pub fn new(server: &settings::Server) -> Self {
        let fields = match server.limit_request_fields {
            0 => settings::Server::MAX_REQUEST_FIELDS,
            n => n,
        };
        RequestLimits {
            line: Some(server.limit_request_line).filter(|&n| n > 0),
            fields,
            field_size: Some(server.limit_request_field_size).filter(|&n| n > 0),
        }
    }

    /// The first limit the head breaks, in gunicorn's order: the request line, then each field
    /// (too many, or too long).
    pub fn check(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<(), ApiError> {
        if let Some(limit) = self.line {
            let length = method.as_str().len() + 1 + target_length(uri) + 1 + VERSION_LENGTH;
            if length > limit {
                return Err(ApiError::RequestLineTooLarge { length, limit });
            }
        }
        let count = headers.len();
        if count > self.fields {
            return Err(ApiError::HeaderFieldsTooLarge(format!(
                "Too many request header fields ({count} > {}).",
                self.fields
            )));
        }
        if let Some(limit) = self.field_size {
            for (name, value) in headers.iter() {
                let length = name.as_str().len() + 2 + value.len() + 2;
                if length > limit {
                    return Err(ApiError::HeaderFieldsTooLarge(format!(
                        "Request header field \"{name}\" is too large ({length} > {limit})."
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The request target's length as the client sent it: origin form (`/path?query`), absolute
/// form (`http://host/path`) or authority form (`host:443`).
fn target_length(uri: &Uri) -> usize {
    let path = uri.path_and_query().map_or(0, |p| p.as_str().len());
    let authority = uri.authority().map_or(0, |a| a.as_str().len());
    let scheme = uri.scheme_str().map_or(0, |s| s.len() + "://".len());
    scheme + authority + path
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};
    use actix_web::ResponseError as _;

    fn limits(line: usize, fields: usize, field_size: usize) -> RequestLimits {
        RequestLimits::new(&settings::Server {
            limit_request_line: line,
            limit_request_fields: fields,
            limit_request_field_size: field_size,
            ..settings::Server::default()
        })
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn status(limits: RequestLimits, target: &str, pairs: &[(&str, &str)]) -> u16 {
        let uri: Uri = target.parse().unwrap();
        match limits.check(&Method::GET, &uri, &headers(pairs)) {
            Ok(()) => 200,
            Err(e) => e.status_code().as_u16(),
        }
    }

    #[test]
    fn zero_means_none_or_gunicorns_maximum() {
        assert_eq!(
            limits(0, 0, 0),
            RequestLimits {
                line: None,
                fields: 32768,
                field_size: None
            }
        );
        assert_eq!(
            RequestLimits::new(&settings::Server::default()),
            RequestLimits {
                line: Some(4094),
                fields: 100,
                field_size: Some(8190)
            }
        );
    }

    #[test]
    fn the_request_line_counts_method_target_and_version() {
        // "GET " + target + " HTTP/1.1" is 13 bytes around the target.
        let at = |n: usize| format!("/{}", "a".repeat(n - 13 - 1));
        assert_eq!(status(limits(100, 100, 0), &at(100), &[]), 200);
        assert_eq!(status(limits(100, 100, 0), &at(101), &[]), 414);
        assert_eq!(status(limits(0, 100, 0), &at(60_000), &[]), 200);
        let absolute = "http://example.com/abc";
        assert_eq!(target_length(&absolute.parse().unwrap()), absolute.len());
        assert_eq!(target_length(&"example.com:443".parse().unwrap()), 15);
        assert_eq!(target_length(&"/p?q=1".parse().unwrap()), 6);
    }

    #[test]
    fn fields_are_counted_and_measured_with_their_crlf() {
        // "x-a: " + value + CRLF: 7 bytes around the value.
        let value = |n: usize| "v".repeat(n - 7);
        assert_eq!(status(limits(0, 100, 50), "/", &[("x-a", &value(50))]), 200);
        assert_eq!(status(limits(0, 100, 50), "/", &[("x-a", &value(51))]), 431);
        let three = [("x-a", "1"), ("x-a", "2"), ("x-b", "3")];
        assert_eq!(status(limits(0, 3, 0), "/", &three), 200);
        assert_eq!(status(limits(0, 2, 0), "/", &three), 431);
    }
}
