//! Request ids: the client's `X-Request-ID` when it looks sane, else a new UUID; kept in the
//! request's extensions (for the access log) and echoed in the response.

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::HttpMessage;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longer ids are replaced: they would bloat every log line a client can make us write.
const MAX_LEN: usize = 200;

/// This request's id, in the request extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Whether a client's id may be kept: short, and only characters that cannot forge or break a
/// log line (no spaces, quotes or control bytes).
pub fn is_sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn choose(header: Option<&HeaderValue>) -> String {
    match header.and_then(|v| v.to_str().ok()) {
        Some(id) if is_sane(id) => id.to_owned(),
        // Encoded straight into its string: `to_string` went through `fmt` (a tenth of the
        // middleware's own cost in the healthz profile).
        _ => {
            let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
            uuid::Uuid::new_v4()
                .hyphenated()
                .encode_lower(&mut buf)
                .to_owned()
        }
    }
}

/// Chooses this request's id and puts it in the extensions; call before anything inner runs.
pub fn assign(req: &ServiceRequest) -> RequestId {
    let id = RequestId(choose(req.headers().get(&HEADER)));
    req.extensions_mut().insert(id.clone());
    id
}

/// Echoes the id on a response (error responses included, so a client can quote it).
pub fn echo<B>(res: &mut ServiceResponse<B>, id: &RequestId) {
    // `is_sane` or a UUID: always a valid header value.
    if let Ok(value) = HeaderValue::from_str(&id.0) {
        res.headers_mut().insert(HEADER, value);
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
        assert_eq!(choose(Some(&kept)), "req-1");
        let bad = HeaderValue::from_static("no spaces please");
        assert_eq!(choose(Some(&bad)).len(), 36);
        assert_eq!(choose(None).len(), 36);
    }
}
