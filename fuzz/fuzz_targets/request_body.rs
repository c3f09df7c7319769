//! The request body parsers the token views use: `request.data` by Content-Type (JSON,
//! form-urlencoded, multipart with its boundary), then the serializer's CharField validation.
//! Input: `CONTENT_TYPE \n BODY` (no newline: the whole input is a JSON body).
//! Property: `Ok` or a 4xx `ApiError` (400 parse/field errors, 415), never a panic or a 5xx.
#![no_main]

use actix_web::http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::ResponseError as _;
use libfuzzer_sys::fuzz_target;

fn client_error(e: &auth::ApiError) {
    let status = e.status_code();
    assert!(status.is_client_error(), "{status} for {e:?}");
}

fuzz_target!(|data: &[u8]| {
    let (content_type, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"application/json"[..], data),
    };
    let mut headers = HeaderMap::new();
    // Bytes no HTTP header can carry never reach the parser: the request has no Content-Type.
    if let Ok(value) = HeaderValue::from_bytes(content_type) {
        headers.insert(CONTENT_TYPE, value);
    }
    let parsed = futures_executor::block_on(auth::api::data::parse(
        &headers,
        Bytes::copy_from_slice(body),
    ));
    let value = match parsed {
        Ok(value) => value,
        Err(e) => return client_error(&e),
    };
    // What the obtain views and the one-field views then do with it.
    let mut fields = match auth::api::Fields::new(&value) {
        Ok(fields) => fields,
        Err(e) => return client_error(&e),
    };
    let _ = fields.char_field("username");
    let _ = fields.char_field("password");
    let _ = fields.char_field("refresh");
    if let Err(e) = fields.finish() {
        client_error(&e);
    }
});
