//! HS256/384/512 with the secret's padded key blocks hashed once, for the backend's own tokens.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use jsonwebtoken::Algorithm;
use sha2::{Sha256, Sha384, Sha512};

/// The HMAC secret made ready once. RFC 2104 hashes the key XOR ipad and the key XOR opad as
/// the first block of the inner and the outer hash; RustCrypto's `Hmac` keeps both hash states
/// after `new_from_slice`, so each token costs a clone of them and the hashing of its own bytes.
/// jsonwebtoken's `crypto::sign`/`verify` build (and box) a new `Hmac` per call, hashing the key's
/// blocks again (bench/callgrind: 12 SHA-256 compressions a verify before, 9 after). Same crates
/// underneath (RustCrypto `hmac` + `sha2`), same constant-time comparison (`verify_slice`).
#[derive(Clone)]
pub enum PreparedMac {
    Hs256(Hmac<Sha256>),
    Hs384(Hmac<Sha384>),
    Hs512(Hmac<Sha512>),
}

impl PreparedMac {
    /// `None` for the non-HMAC algorithms (and for a key HMAC refuses, which it never does).
    pub fn new(alg: Algorithm, secret: &[u8]) -> Option<Self> {
        match alg {
            Algorithm::HS256 => Hmac::new_from_slice(secret).ok().map(PreparedMac::Hs256),
            Algorithm::HS384 => Hmac::new_from_slice(secret).ok().map(PreparedMac::Hs384),
            Algorithm::HS512 => Hmac::new_from_slice(secret).ok().map(PreparedMac::Hs512),
            _ => None,
        }
    }

    /// The MAC of `message`, as bytes (`Tag::as_ref`), without a heap allocation; base64url
    /// without padding, it is `jsonwebtoken::crypto::sign`'s signature.
    pub fn tag(&self, message: &[u8]) -> Tag {
        fn tag<M: Mac + Clone>(mac: &M, message: &[u8]) -> Tag {
            let mut mac = mac.clone();
            mac.update(message);
            let bytes = mac.finalize().into_bytes();
            let mut tag = Tag {
                bytes: [0; 64],
                len: bytes.len(),
            };
            if let Some(slot) = tag.bytes.get_mut(..bytes.len()) {
                slot.copy_from_slice(&bytes);
            }
            tag
        }
        match self {
            PreparedMac::Hs256(m) => tag(m, message),
            PreparedMac::Hs384(m) => tag(m, message),
            PreparedMac::Hs512(m) => tag(m, message),
        }
    }

    /// Whether `signature` is the MAC of `message`, as `jsonwebtoken::crypto::verify` decides it:
    /// the signature decoded as base64url without padding (the same engine configuration as
    /// jsonwebtoken's: padding and trailing bits refused), then compared in constant time with
    /// `verify_slice`, which also refuses a tag of any other length.
    pub fn verifies(&self, message: &[u8], signature: &str) -> bool {
        fn check<M: Mac + Clone>(mac: &M, message: &[u8], tag: &[u8]) -> bool {
            let mut mac = mac.clone();
            mac.update(message);
            mac.verify_slice(tag).is_ok()
        }
        // HS512's 64 bytes with room to spare: base64's `decode_slice` wants room for its
        // estimate (3 bytes per 4 characters, rounded up); a longer signature is no MAC here.
        let mut buf = [0u8; 96];
        let Ok(len) = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode_slice(signature.as_bytes(), &mut buf)
        else {
            return false;
        };
        let tag = buf.get(..len).unwrap_or_default();
        match self {
            PreparedMac::Hs256(m) => check(m, message, tag),
            PreparedMac::Hs384(m) => check(m, message, tag),
            PreparedMac::Hs512(m) => check(m, message, tag),
        }
    }
}

/// An HMAC tag: 32, 48 or 64 bytes (HS256, HS384, HS512).
pub struct Tag {
    bytes: [u8; 64],
    len: usize,
}

impl AsRef<[u8]> for Tag {
    fn as_ref(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}
