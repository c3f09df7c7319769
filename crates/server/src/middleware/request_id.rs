//! Request ids: the client's `X-Request-ID` when it looks sane, else a new UUID; printed by the
//! access log and echoed in the response (`crate::middleware::stack`).

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longer ids are replaced: they would bloat every log line a client can make us write.
const MAX_LEN: usize = 200;

/// This request's id: the client's own (its header value, shared, not copied) or a new UUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestId {
    Client(HeaderValue),
    New([u8; uuid::fmt::Hyphenated::LENGTH]),
}

/// Whether a client's id may be kept: short, and only characters that cannot forge or break a
/// log line (no spaces, quotes or control bytes).
pub fn is_sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl RequestId {
    /// The client's `X-Request-ID` when it is sane, else a new UUID, encoded straight into its
    /// bytes (`to_string` went through `fmt`).
    pub fn choose(header: Option<&HeaderValue>) -> RequestId {
        match header {
            Some(value) if value.to_str().is_ok_and(is_sane) => RequestId::Client(value.clone()),
            _ => {
                let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
                uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
                RequestId::New(buf)
            }
        }
    }

    /// The id as the access log prints it.
    pub fn as_str(&self) -> &str {
        match self {
            RequestId::Client(value) => value.to_str().unwrap_or_default(),
            RequestId::New(buf) => std::str::from_utf8(buf).unwrap_or_default(),
        }
    }

    /// Echoes the id on a response (error responses included, so a client can quote it).
    pub fn echo(&self, headers: &mut HeaderMap) {
        let value = match self {
            RequestId::Client(value) => Some(value.clone()),
            RequestId::New(buf) => HeaderValue::from_bytes(buf).ok(),
        };
        if let Some(value) = value {
            headers.insert(HEADER, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_kept_and_others_replaced() {
        assert!(is_sane("abc-123_x.y"));
        assert!(is_sane(&"a".repeat(200)));
        assert!(!is_sane(&"a".repeat(201)));
        assert!(!is_sane(""));
        assert!(!is_sane("a b"));
        assert!(!is_sane("a\"b"));
        let kept = HeaderValue::from_static("req-1");
        assert_eq!(RequestId::choose(Some(&kept)).as_str(), "req-1");
        let bad = HeaderValue::from_static("no spaces please");
        assert_eq!(RequestId::choose(Some(&bad)).as_str().len(), 36);
        assert_eq!(RequestId::choose(None).as_str().len(), 36);
        let mut headers = HeaderMap::new();
        RequestId::choose(None).echo(&mut headers);
        assert_eq!(headers.get(HEADER).map(|v| v.len()), Some(36));
    }
}
