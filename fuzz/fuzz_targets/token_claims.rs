//! The token decoder past the signature: the input is a token's payload (and optionally its
//! header), signed with the fixtures' key, so that the claim checks (iat, nbf, exp, iss, aud,
//! token type, jti, refresh_exp) and everything done with a decoded token run on fuzzed claims.
//! Input: `HEADER_JSON \n PAYLOAD` or just `PAYLOAD` (then the HS256 header simplejwt writes).
//! Property: never a panic; what decodes re-encodes to the same claims.
#![no_main]

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};
use libfuzzer_sys::fuzz_target;

const HEADER: &[u8] = br#"{"alg":"HS256","typ":"JWT"}"#;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fuzz_target!(|data: &[u8]| {
    let (header, payload) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (HEADER, data),
    };
    let Ok(key) = EncodingKey::from_secret(jwt_auth_fuzz::KEY.as_bytes()) else {
        return;
    };
    let message = format!("{}.{}", b64(header), b64(payload));
    let Ok(signature) = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256)
    else {
        return;
    };
    jwt_auth_fuzz::decode_everywhere(&format!("{message}.{signature}"));
});
