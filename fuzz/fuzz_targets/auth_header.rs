//! The Authorization header parsers: JWTAuthentication's (scheme from AUTH_HEADER_TYPES, exactly
//! one token word, one header) and BasicAuthentication's (DRF's rules, base64 of UTF-8 or Latin-1
//! `userid:password`). Input: the header's values, one per line (several lines = the header
//! repeated). Property: `Ok` or a 401 `ApiError`, never a panic; a token found is one
//! non-empty word.
#![no_main]

use actix_web::ResponseError as _;
use libfuzzer_sys::fuzz_target;

fn refused(e: &auth::ApiError) {
    let status = e.status_code();
    assert_eq!(status.as_u16(), 401, "{e:?}");
}

fuzz_target!(|data: &[u8]| {
    let values: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let types = ["Bearer".to_owned(), "JWT".to_owned()];
    match auth::authn::parse_header(&values, &types) {
        Ok(Some(token)) => assert!(
            !token.is_empty() && !token.contains(|c: char| c.is_ascii_whitespace()),
            "{token:?}"
        ),
        Ok(None) => {}
        Err(e) => refused(&e),
    }
    for value in &values {
        match auth::authn::basic::parse_header(value) {
            Ok(_) => {}
            Err(e) => refused(&e),
        }
    }
});
