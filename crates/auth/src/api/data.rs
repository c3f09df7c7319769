//! `request.data` as DRF builds it: the body parsed by content type (JSON, form, multipart), capped
//! in size, with DRF's answers for empty bodies, bad JSON and unsupported media types.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderMap};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpMessage as _, HttpRequest};
use futures_util::{FutureExt as _, StreamExt};
use serde_json::{Map, Value};

use super::error::ApiError;

/// The largest body accepted, in bytes (app data; `SERVER.MAX_BODY_SIZE`).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Whether the request's handler is waiting for the client's body right now (request extension,
/// put there by the server's timeout middleware): a request that runs out of time while waiting
/// for its body is the client's stall, answered 408, not the server's, answered 503.
#[derive(Debug, Clone, Default)]
pub struct BodyProgress(Rc<Cell<bool>>);

impl BodyProgress {
    pub fn reading(&self) -> bool {
        self.0.get()
    }
}

/// The parsed body: a JSON value (any shape: the serializer decides what is acceptable), or the
/// fields of a form, the last value of a repeated key winning (QueryDict's `[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestData(pub Value);

enum Media {
    Json,
    Form,
    Multipart,
}

fn media(content_type: &str) -> Option<Media> {
    // Compared without case, in place (no lowercased copy per request).
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    [
        ("application/json", Media::Json),
        ("application/x-www-form-urlencoded", Media::Form),
        ("multipart/form-data", Media::Multipart),
    ]
    .into_iter()
    .find_map(|(name, media)| essence.eq_ignore_ascii_case(name).then_some(media))
}

impl FromRequest for RequestData {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<BodyLimit>()
            .copied()
            .unwrap_or(BodyLimit(2_621_440))
            .0;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        // The parsers read only the Content-Type (multipart its boundary too): copy that header,
        // not the whole map.
        let mut headers = HeaderMap::new();
        if let Some(value) = req.headers().get(header::CONTENT_TYPE) {
            headers.insert(header::CONTENT_TYPE, value.clone());
        }
        let payload = payload.take();
        let progress = req.extensions().get::<BodyProgress>().cloned();
        Box::pin(async move {
            // Set while the body is awaited; left set if the read is abandoned by the timeout.
            if let Some(p) = &progress {
                p.0.set(true);
            }
            let body = read_body(declared, payload, limit).await;
            if let Some(p) = &progress {
                p.0.set(false);
            }
            parse(&headers, body?).await.map(RequestData)
        })
    }
}

async fn read_body(
    declared: Option<usize>,
    mut payload: Payload,
    limit: usize,
) -> Result<Bytes, ApiError> {
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let read_error = |e| ApiError::Parse(format!("Could not read the request body: {e}"));
    // A body that arrives in one chunk (most do) is used as it is, not copied.
    let first = match payload.next().await {
        None => return Ok(Bytes::new()),
        Some(chunk) => chunk.map_err(read_error)?,
    };
    if first.len() > limit {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let Some(second) = payload.next().await else {
        return Ok(first);
    };
    let mut body = BytesMut::from(&first[..]);
    let mut next = Some(second);
    while let Some(chunk) = next {
        let chunk = chunk.map_err(read_error)?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
        next = payload.next().await;
    }
    Ok(body.freeze())
}

/// `request.data` from the request's headers (Content-Type; multipart's boundary) and its whole
/// body. Pure (the stream it reads is the body itself), so the fuzz target
/// (fuzz/fuzz_targets/request_body.rs) calls it directly.
pub async fn parse(headers: &HeaderMap, body: Bytes) -> Result<Value, ApiError> {
    // DRF: no body means empty data, whatever the content type says (or without one).
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    // A body without a Content-Type is DRF's media type "" (WSGI's missing CONTENT_TYPE), which
    // no parser takes: 415 `Unsupported media type "" in request.`
    // Borrowed; copied only into the 415's message.
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()))
        .unwrap_or_default();
    match media(&content_type) {
        Some(Media::Json) => parse_json(&body),
        Some(Media::Form) => Ok(Value::Object(form_fields(&body))),
        Some(Media::Multipart) => multipart_fields(headers, body).await.map(Value::Object),
        None => Err(ApiError::UnsupportedMediaType(content_type.into_owned())),
    }
}

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    // serde_json refuses NaN/Infinity (as DRF's strict parser does) and nesting beyond 128 levels,
    // so a deeply nested body is a 400, not a stack overflow.
    serde_json::from_slice(body).map_err(|e| ApiError::Parse(format!("JSON parse error - {e}")))
}

fn form_fields(body: &[u8]) -> Map<String, Value> {
    let mut map = Map::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        map.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    map
}

async fn multipart_fields(
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Map<String, Value>, ApiError> {
    let bad = |e: actix_multipart::MultipartError| {
        ApiError::Parse(format!("Multipart form parse error - {e}"))
    };
    // actix-multipart 0.7 slices each line by the boundary's length and panics on a boundary
    // shorter than 4 bytes (found by fuzz/fuzz_targets/request_body.rs; fixed in 0.8, which needs
    // Rust 1.88). No client makes one that short. The boundary is read as actix-multipart reads it.
    let boundary_len = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.parse::<actix_web::mime::Mime>().ok())
        .and_then(|ct| {
            ct.get_param(actix_web::mime::BOUNDARY)
                .map(|b| b.as_str().len())
        });
    if boundary_len.is_some_and(|n| n < 4) {
        return Err(ApiError::Parse(
            "Multipart form parse error - Invalid boundary in multipart: shorter than 4 characters"
                .into(),
        ));
    }
    let stream =
        futures_util::stream::once(async move { Ok::<_, actix_web::error::PayloadError>(body) });
    let mut multipart = actix_multipart::Multipart::new(headers, stream);
    // The whole body is in memory, so every step can finish at its first poll; a parser still
    // waiting has been given a truncated body. actix-multipart 0.7 then waits without waking the
    // task, forever (found by fuzz/fuzz_targets/request_body.rs), so that is a 400 here.
    let incomplete = || bad(actix_multipart::MultipartError::Incomplete);
    let mut map = Map::new();
    while let Some(field) = multipart.next().now_or_never().ok_or_else(incomplete)? {
        let mut field = field.map_err(bad)?;
        let name = field.name().map(str::to_owned);
        let is_file = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .is_some();
        let mut value = BytesMut::new();
        while let Some(chunk) = field.next().now_or_never().ok_or_else(incomplete)? {
            value.extend_from_slice(&chunk.map_err(bad)?);
        }
        // Files are not fields of any serializer here; DRF would put them in request.FILES.
        if let (Some(name), false) = (name, is_file) {
            map.insert(
                name,
                Value::String(String::from_utf8_lossy(&value).into_owned()),
            );
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    /// `parse` polled once: the body is all there, so it must be ready (a `None` is a hang).
    fn parse_now(content_type: &'static str, body: &'static [u8]) -> Option<Result<Value, String>> {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        parse(&headers, Bytes::from_static(body))
            .now_or_never()
            .map(|r| r.map_err(|e| e.to_string()))
    }

    const MULTIPART: &str = "multipart/form-data; boundary=XyZw";

    #[test]
    fn a_body_without_a_content_type_is_unsupported_an_empty_one_is_no_fields() {
        let untyped = |body: &'static [u8]| {
            parse(&HeaderMap::new(), Bytes::from_static(body))
                .now_or_never()
                .map(|r| r.map_err(|e| e.to_string()))
        };
        assert_eq!(untyped(b""), Some(Ok(serde_json::json!({}))));
        assert_eq!(
            untyped(b"{}"),
            Some(Err("Unsupported media type \"\" in request.".into()))
        );
        assert_eq!(
            parse_now("text/plain", b""),
            Some(Ok(serde_json::json!({})))
        );
    }

    #[test]
    fn multipart_fields_and_files() {
        let body = b"--XyZw\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n\
            --XyZw\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nx\r\n\
            --XyZw--\r\n";
        assert_eq!(
            parse_now(MULTIPART, body),
            Some(Ok(serde_json::json!({"username": "alice"})))
        );
    }

    /// Fuzz regression (fuzz/regressions/request_body/multipart-short-boundary-panic): a line as
    /// long as a boundary of under 4 bytes made actix-multipart slice `chunk[2..1]`.
    #[test]
    fn short_multipart_boundary_is_a_parse_error_not_a_panic() {
        for (content_type, body) in [
            ("multipart/form-data; boundary=XyZ", &b"\r\rXyZ\r\n--\n"[..]),
            ("multipart/form-data; boundary=a", b"--\n--a\r\n"),
            ("multipart/form-data; boundary=\"ab\"", b"--\n"),
        ] {
            match parse_now(content_type, body) {
                Some(Err(e)) => assert!(e.contains("Invalid boundary"), "{e}"),
                other => panic!("{content_type}: {other:?}"),
            }
        }
        // Four characters are enough, and parse.
        let body = b"--abcd\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--abcd--\r\n";
        assert_eq!(
            parse_now("multipart/form-data; boundary=abcd", body),
            Some(Ok(serde_json::json!({"a": "x"})))
        );
    }

    /// Fuzz regression (fuzz/regressions/request_body/multipart-truncated-hang): a body cut off
    /// after a part's `\r\n` left actix-multipart waiting for data that never comes.
    #[test]
    fn truncated_multipart_is_a_parse_error_not_a_hang() {
        for body in [
            &b"--XyZw\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"[..],
            b"--XyZw\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nfile\r-X-Z\n-y-\r\n",
            b"--XyZw\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx",
            b"--XyZw\r\nContent-Disp",
        ] {
            match parse_now(MULTIPART, body) {
                Some(Err(e)) => assert!(e.starts_with("Multipart form parse error - "), "{e}"),
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(body)),
            }
        }
    }
}
