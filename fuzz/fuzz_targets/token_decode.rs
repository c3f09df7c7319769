//! The token decoder on arbitrary strings: whatever a client sends as a token (in a body or an
//! Authorization header) is decoded as every token kind under every fixture configuration.
//! Property: `Ok` or a `TokenError`, never a panic; what decodes re-encodes to the same claims.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Tokens reach the decoder as &str (JSON strings, header values read as UTF-8 lossily).
    jwt_auth_fuzz::decode_everywhere(&String::from_utf8_lossy(data));
});
