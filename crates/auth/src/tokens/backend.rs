//! The token backend: signs and verifies JWTs with the one configured algorithm (and, for key
//! rotation, earlier verifying keys chosen by `kid`), checks the registered claims (iat, nbf, exp,
//! iss, aud) the way PyJWT does for simplejwt, and describes its public keys as a JWKS. With
//! JWK_URL, tokens are verified with another issuer's published keys instead (`jwk_client`).

use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use serde_json::{Map, Value};

use settings::SimpleJwt;

use super::mac::PreparedMac;
use super::scan::{Registered, Scanned};

use crate::tokens::jwk_client::JwkClient;

pub type Claims = Map<String, Value>;

/// Why a token was refused; simplejwt shows users only "Token is expired" or "Token is invalid".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    #[error("Token is invalid")]
    Invalid,
    #[error("Token is expired")]
    Expired,
}

/// A key that does not fit the configured algorithm; a startup error.
#[derive(Debug, thiserror::Error)]
#[error("SIMPLE_JWT.{key}: {message}")]
pub struct KeyError {
    pub key: &'static str,
    pub message: String,
}

pub struct TokenBackend {
    algorithm: Algorithm,
    header_b64: String,
    encoding: EncodingKey,
    /// VERIFYING_KEY (the secret for HMAC); absent only with JWK_URL, which then verifies alone.
    decoding: Option<DecodingKey>,
    /// For an HMAC algorithm, the same secret with its padded key blocks hashed once (see
    /// `PreparedMac`): it signs, and verifies tokens that carry this backend's own header.
    mac: Option<PreparedMac>,
    /// KEY_ID: the current key's `kid`, written in every token's header when set.
    key_id: Option<String>,
    /// VERIFYING_KEYS: earlier public keys by `kid`, still accepted.
    previous: Vec<(String, DecodingKey)>,
    /// The public keys as published at /api/token/jwks/ (empty for HMAC: never the secret).
    jwks: JwkSet,
    /// JWK_URL: the issuer's keys by `kid`. When set, they alone verify tokens (as simplejwt's
    /// PyJWKClient: VERIFYING_KEY and VERIFYING_KEYS are then only published).
    remote: Option<JwkClient>,
    validation: Validation,
    audience: Option<Vec<String>>,
    issuer: Option<String>,
    /// The `aud` and `iss` values `encode` writes (AUDIENCE, ISSUER), built once.
    signed_aud: Option<Value>,
    signed_iss: Option<Value>,
    leeway: i64,
}

impl std::fmt::Debug for TokenBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenBackend")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn to_jwt_algorithm(alg: settings::Algorithm) -> Algorithm {
    use settings::Algorithm as A;
    match alg {
        A::HS256 => Algorithm::HS256,
        A::HS384 => Algorithm::HS384,
        A::HS512 => Algorithm::HS512,
        A::RS256 => Algorithm::RS256,
        A::RS384 => Algorithm::RS384,
        A::RS512 => Algorithm::RS512,
        A::ES256 => Algorithm::ES256,
        A::ES384 => Algorithm::ES384,
        A::EdDSA => Algorithm::EdDSA,
    }
}

fn keys(
    settings: &SimpleJwt,
    alg: Algorithm,
) -> Result<(EncodingKey, Option<DecodingKey>), KeyError> {
    let signing = settings.signing_key.expose().as_bytes();
    let bad = |key: &'static str| {
        move |e: jsonwebtoken::errors::Error| KeyError {
            key,
            message: format!("not a valid key for {alg:?}: {e}"),
        }
    };
    if settings.algorithm.is_hmac() {
        let enc = EncodingKey::from_secret(signing).map_err(bad("SIGNING_KEY"))?;
        let dec = DecodingKey::from_secret(signing).map_err(bad("SIGNING_KEY"))?;
        return Ok((enc, Some(dec)));
    }
    let encoding = match alg {
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => {
            EncodingKey::from_rsa_pem(signing)
        }
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(signing),
        _ => EncodingKey::from_ed_pem(signing),
    }
    .map_err(bad("SIGNING_KEY"))?;
    let decoding = match settings.verifying_key.as_deref() {
        Some(pem) => Some(public_key(alg, pem.as_bytes()).map_err(bad("VERIFYING_KEY"))?),
        // The keys JWK_URL publishes verify tokens.
        None if settings.jwk_url.is_some() => None,
        None => {
            return Err(KeyError {
                key: "VERIFYING_KEY",
                message: format!("{alg:?} needs a public key (PEM), or JWK_URL"),
            })
        }
    };
    Ok((encoding, decoding))
}

impl TokenBackend {
    pub fn from_settings(settings: &SimpleJwt) -> Result<Self, KeyError> {
        let algorithm = to_jwt_algorithm(settings.algorithm);
        let (encoding, decoding) = keys(settings, algorithm)?;
        let previous = settings
            .verifying_keys
            .iter()
            .map(|k| {
                public_key(algorithm, k.key.as_bytes())
                    .map(|key| (k.kid.clone(), key))
                    .map_err(|e| KeyError {
                        key: "VERIFYING_KEYS",
                        message: format!(
                            "the key {:?} is not a valid {alg:?} public key: {e}",
                            k.kid,
                            alg = algorithm
                        ),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Only the signature and the algorithm are checked by the library (the algorithm is pinned:
        // "none", another HMAC size or another family are refused); claims are checked below, with
        // simplejwt's semantics (leeway 0, nbf and iat honoured, aud only when configured).
        let mut validation = Validation::new(algorithm);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.leeway = 0;
        // PyJWT writes its header with sorted keys: {"alg":...,"typ":"JWT"}, byte-identical here;
        // with KEY_ID, {"alg":...,"kid":...,"typ":"JWT"}.
        let header = match &settings.key_id {
            None => format!(r#"{{"alg":"{}","typ":"JWT"}}"#, settings.algorithm),
            Some(kid) => format!(
                r#"{{"alg":"{}","kid":{},"typ":"JWT"}}"#,
                settings.algorithm,
                Value::String(kid.clone())
            ),
        };
        let jwks = if settings.algorithm.is_hmac() {
            JwkSet::default()
        } else {
            let current = decoding.iter().map(|key| (settings.key_id.as_deref(), key));
            let earlier = previous.iter().map(|(kid, key)| (Some(kid.as_str()), key));
            JwkSet {
                keys: current
                    .chain(earlier)
                    .map(|(kid, key)| public_jwk(key, algorithm, kid))
                    .collect::<Result<_, _>>()?,
            }
        };
        let remote = settings
            .jwk_url
            .as_ref()
            .map(|url| JwkClient::new(url.expose(), settings.algorithm))
            .transpose()
            .map_err(|e| KeyError {
                key: "JWK_URL",
                message: e.to_string(),
            })?;
        let mac = if settings.algorithm.is_hmac() {
            PreparedMac::new(algorithm, settings.signing_key.expose().as_bytes())
        } else {
            None
        };
        let backend = TokenBackend {
            algorithm,
            header_b64: b64(header.as_bytes()),
            encoding,
            decoding,
            mac,
            key_id: settings.key_id.clone(),
            previous,
            jwks,
            remote,
            validation,
            audience: settings.audience.clone(),
            issuer: settings.issuer.clone(),
            signed_aud: settings.audience.as_deref().map(|aud| match aud {
                [one] => Value::String(one.clone()),
                many => Value::from(many.to_vec()),
            }),
            signed_iss: settings.issuer.clone().map(Value::String),
            leeway: i64::try_from(settings.leeway.as_secs()).unwrap_or(i64::MAX),
        };
        // A key pair that does not match fails now, at startup, not on the first login.
        let probe = backend.encode(&Claims::new()).map_err(|_| KeyError {
            key: "SIGNING_KEY",
            message: "cannot sign with this key".into(),
        })?;
        if let Some(decoding) = &backend.decoding {
            jsonwebtoken::decode::<Claims>(&probe, decoding, &backend.validation).map_err(
                |_| KeyError {
                    key: "VERIFYING_KEY",
                    message: "does not verify tokens signed with SIGNING_KEY".into(),
                },
            )?;
        }
        Ok(backend)
    }

    /// Signs the claims, adding `aud` and `iss` when configured (as simplejwt does: a claim of
    /// that name already there keeps its place and takes the configured value; absent, `aud`
    /// then `iss` go last). The payload is the JSON `serde_json::to_vec` writes for the claims
    /// map so completed, written straight from `claims` (no copy of the map), and the token is
    /// built in one string: header, payload's base64, then the MAC of those, appended.
    pub fn encode(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        let payload = serde_json::to_vec(&Signed {
            claims,
            aud: self.signed_aud.as_ref(),
            iss: self.signed_iss.as_ref(),
        })?;
        let engine = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
        // base64 of the payload, and an HS512 signature's 86 characters at most (an RSA or EC
        // one may be longer: the string then grows once).
        let mut token =
            String::with_capacity(self.header_b64.len() + 2 + payload.len().div_ceil(3) * 4 + 86);
        token.push_str(&self.header_b64);
        token.push('.');
        engine.encode_string(&payload, &mut token);
        let signed = token.len();
        match &self.mac {
            Some(mac) => {
                let message = token.as_bytes().get(..signed).unwrap_or_default();
                let tag = mac.tag(message);
                token.push('.');
                engine.encode_string(tag, &mut token);
            }
            None => {
                let signature =
                    jsonwebtoken::crypto::sign(token.as_bytes(), &self.encoding, self.algorithm)?;
                token.push('.');
                token.push_str(&signature);
            }
        }
        Ok(token)
    }

    /// With JWK_URL: fetches the issuer's keys when the token's `kid` is not cached (or the cache
    /// is stale), within the fetch budget, so that `decode` finds it. Never blocks the executor;
    /// a token without a readable `kid` fetches nothing. Without JWK_URL: nothing to do.
    pub async fn prepare(&self, token: &str) {
        let Some(remote) = &self.remote else {
            return;
        };
        if let Some(kid) = jsonwebtoken::decode_header(token)
            .ok()
            .and_then(|header| header.kid)
        {
            remote.prepare(&kid).await;
        }
    }

    /// Verifies the signature and the registered claims at time `now` (seconds since the epoch).
    /// With JWK_URL, only keys already cached by `prepare` are used.
    pub fn decode(&self, token: &str, now: i64) -> Result<Claims, BackendError> {
        let claims = match self.verified_payload(token)? {
            Payload::Json(json) => {
                serde_json::from_slice(&json).map_err(|_| BackendError::Invalid)?
            }
            Payload::Claims(claims) => claims,
        };
        self.check_registered(&Registered::of(&claims), now)?;
        Ok(claims)
    }

    /// `decode`, with the same answers, but the claims are not collected into a map: only the
    /// registered ones (iat, nbf, exp, iss, aud) and the two `names` are kept, strings borrowed
    /// from the payload, and `read` gets them. For the views that need no more of a token than
    /// that (TokenVerifyView): on their happy path, no allocation but the payload's bytes.
    pub fn decode_scanned<T>(
        &self,
        token: &str,
        now: i64,
        names: [&str; 2],
        read: impl FnOnce(&Scanned<'_>) -> T,
    ) -> Result<T, BackendError> {
        match self.verified_payload(token)? {
            Payload::Json(json) => {
                let scanned = Scanned::from_json(&json, names).ok_or(BackendError::Invalid)?;
                self.check_registered(&scanned.registered(), now)?;
                Ok(read(&scanned))
            }
            Payload::Claims(claims) => {
                let scanned = Scanned::from_claims(&claims, names);
                self.check_registered(&scanned.registered(), now)?;
                Ok(read(&scanned))
            }
        }
    }

    /// The public keys, for /api/token/jwks/.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// The signature check. With JWK_URL, the token's `kid` picks one of the issuer's keys (no
    /// `kid`, no key: invalid, as PyJWKClient). With earlier keys configured, the token's `kid`
    /// picks the key; a token without a known `kid` (issued before KEY_ID was set) is tried
    /// against each key.
    fn verified_payload(&self, token: &str) -> Result<Payload, BackendError> {
        if let Some(remote) = &self.remote {
            let key = jsonwebtoken::decode_header(token)
                .ok()
                .and_then(|header| header.kid)
                .and_then(|kid| remote.key(&kid))
                .ok_or(BackendError::Invalid)?;
            return self.verify_with(token, &key, None);
        }
        let Some(decoding) = &self.decoding else {
            return Err(BackendError::Invalid);
        };
        // The current key, with its prepared MAC for HMAC algorithms.
        let current = || self.verify_with(token, decoding, self.mac.as_ref());
        if self.previous.is_empty() {
            return current();
        }
        let kid = jsonwebtoken::decode_header(token)
            .map_err(|_| BackendError::Invalid)?
            .kid;
        if let Some(kid) = kid.as_deref() {
            if self.key_id.as_deref() == Some(kid) {
                return current();
            }
            if let Some((_, key)) = self.previous.iter().find(|(k, _)| k == kid) {
                return self.verify_with(token, key, None);
            }
        }
        current()
            .ok()
            .or_else(|| {
                self.previous
                    .iter()
                    .find_map(|(_, key)| self.verify_with(token, key, None).ok())
            })
            .ok_or(BackendError::Invalid)
    }

    /// The signature check with one key. A token whose header is byte for byte the one this
    /// backend writes (PyJWT's too: same algorithm, same `kid`) has its algorithm known without
    /// parsing it; any other header goes through jsonwebtoken's
    /// `decode`, which parses it, checks `crit`/`b64` and pins the algorithm, and gives the
    /// claims parsed (it also reads them a second time for its own checks, all off here). `mac`
    /// is `key` prepared (`PreparedMac`), when it is this backend's HMAC secret.
    fn verify_with(
        &self,
        token: &str,
        key: &DecodingKey,
        mac: Option<&PreparedMac>,
    ) -> Result<Payload, BackendError> {
        match self.own_header_payload(token, key, mac)? {
            Some(json) => Ok(Payload::Json(json)),
            None => jsonwebtoken::decode::<Claims>(token, key, &self.validation)
                .map(|data| Payload::Claims(data.claims))
                .map_err(|_| BackendError::Invalid),
        }
    }

    /// For a token with this backend's own header: its signature checked and its payload's JSON
    /// bytes (`None`: another header, for jsonwebtoken's `decode` to parse and pin).
    fn own_header_payload(
        &self,
        token: &str,
        key: &DecodingKey,
        mac: Option<&PreparedMac>,
    ) -> Result<Option<Vec<u8>>, BackendError> {
        let rest = match token.split_once('.') {
            Some((header, rest)) if header == self.header_b64 => rest,
            _ => return Ok(None),
        };
        // header.payload.signature: exactly three parts.
        let (payload, signature) = rest.split_once('.').ok_or(BackendError::Invalid)?;
        if signature.contains('.') {
            return Err(BackendError::Invalid);
        }
        let message = token
            .get(..self.header_b64.len() + 1 + payload.len())
            .ok_or(BackendError::Invalid)?;
        // Both compare MACs in constant time (RustCrypto's verify_slice).
        let verified = match mac {
            Some(mac) => mac.verifies(message.as_bytes(), signature),
            None => {
                jsonwebtoken::crypto::verify(signature, message.as_bytes(), key, self.algorithm)
                    .unwrap_or(false)
            }
        };
        if !verified {
            return Err(BackendError::Invalid);
        }
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .map(Some)
            .map_err(|_| BackendError::Invalid)
    }

    /// PyJWT's order: iat, nbf, exp, iss, aud. Times must be numbers.
    fn check_registered(&self, claims: &Registered<'_>, now: i64) -> Result<(), BackendError> {
        // Saturating: LEEWAY may be as large as i64::MAX seconds, and a wrapped sum would refuse
        // every token (found by fuzz/fuzz_targets/token_decode.rs).
        let latest = now.saturating_add(self.leeway);
        let earliest = now.saturating_sub(self.leeway);
        if let Some(iat) = claims.iat {
            if epoch(iat)? > latest {
                return Err(BackendError::Invalid);
            }
        }
        if let Some(nbf) = claims.nbf {
            if epoch(nbf)? > latest {
                return Err(BackendError::Invalid);
            }
        }
        if let Some(exp) = claims.exp {
            if epoch(exp)? <= earliest {
                return Err(BackendError::Expired);
            }
        }
        if let Some(issuer) = &self.issuer {
            if claims.iss.and_then(Value::as_str) != Some(issuer.as_str()) {
                return Err(BackendError::Invalid);
            }
        }
        if let Some(audience) = &self.audience {
            let matches = |v: &Value| v.as_str().is_some_and(|a| audience.iter().any(|x| x == a));
            let ok = match claims.aud {
                Some(Value::Array(items)) => items.iter().any(matches),
                Some(v) => matches(v),
                None => false,
            };
            if !ok {
                return Err(BackendError::Invalid);
            }
        }
        Ok(())
    }
}

/// The claims `encode` signs: `claims` with `aud` and `iss` set when configured, serialized as
/// the claims map with them inserted would be (`Map::insert`: a key already there keeps its
/// place, a new one goes last; `aud` before `iss`).
struct Signed<'a> {
    claims: &'a Claims,
    aud: Option<&'a Value>,
    iss: Option<&'a Value>,
}

impl serde::Serialize for Signed<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let add_aud = self.aud.filter(|_| !self.claims.contains_key("aud"));
        let add_iss = self.iss.filter(|_| !self.claims.contains_key("iss"));
        let len =
            self.claims.len() + usize::from(add_aud.is_some()) + usize::from(add_iss.is_some());
        let mut map = serializer.serialize_map(Some(len))?;
        for (key, value) in self.claims {
            let value = match key.as_str() {
                "aud" => self.aud.unwrap_or(value),
                "iss" => self.iss.unwrap_or(value),
                _ => value,
            };
            map.serialize_entry(key, value)?;
        }
        if let Some(aud) = add_aud {
            map.serialize_entry("aud", aud)?;
        }
        if let Some(iss) = add_iss {
            map.serialize_entry("iss", iss)?;
        }
        map.end()
    }
}

/// A token whose signature checked out: its payload's JSON bytes (this backend's own header),
/// or the claims jsonwebtoken's `decode` already parsed (any other header).
enum Payload {
    Json(Vec<u8>),
    Claims(Claims),
}

/// A public key of the configured algorithm's family, from PEM.
fn public_key(alg: Algorithm, pem: &[u8]) -> Result<DecodingKey, jsonwebtoken::errors::Error> {
    match alg {
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => DecodingKey::from_rsa_pem(pem),
        Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(pem),
        _ => DecodingKey::from_ed_pem(pem),
    }
}

/// One published key: `kid` (KEY_ID, or the RFC 7638 thumbprint when none is set), `alg`,
/// `use: sig`, and the public parameters.
fn public_jwk(key: &DecodingKey, alg: Algorithm, kid: Option<&str>) -> Result<Jwk, KeyError> {
    let bad = |e: jsonwebtoken::errors::Error| KeyError {
        key: "VERIFYING_KEY",
        message: format!("cannot be published as a JWK: {e}"),
    };
    let mut jwk = Jwk::from_decoding_key(key, Some(alg)).map_err(bad)?;
    let kid = match kid {
        Some(kid) => kid.to_owned(),
        None => jwk.thumbprint(ThumbprintHash::SHA256).map_err(bad)?,
    };
    jwk.common.key_id = Some(kid);
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    Ok(jwk)
}

/// A NumericDate: an integer or a float (truncated, as PyJWT's int() does); anything else is invalid.
pub fn epoch(value: &Value) -> Result<i64, BackendError> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite() && f.abs() < 1e15)
                    .map(|f| f as i64)
            })
            .ok_or(BackendError::Invalid),
        _ => Err(BackendError::Invalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::scan::ClaimValue;
    use crate::tokens::{TokenKind, Tokens};
    use serde_json::json;
    use std::borrow::Cow;

    const KEY: &str = "vector-test-secret-0123456789abcdef0123456789abcdef";

    fn settings() -> SimpleJwt {
        let env = vec![("SECRET_KEY".to_string(), KEY.to_string())];
        settings::Settings::from_sources(None, &env)
            .map(|s| s.simple_jwt)
            .expect("default settings with a secret")
    }

    fn backend(s: &SimpleJwt) -> TokenBackend {
        TokenBackend::from_settings(s).expect("backend")
    }

    fn claims(v: Value) -> Claims {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn header_is_byte_identical_to_pyjwt() {
        let token = backend(&settings()).encode(&Claims::new()).expect("encode");
        let header = token.split('.').next().unwrap_or_default();
        assert_eq!(header, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
    }

    #[test]
    fn simplejwt_vectors_decode_and_reencode_identically() {
        let raw = include_str!("../../../../testdata/simplejwt_tokens.json");
        let vectors: Value = serde_json::from_str(raw).expect("vectors");
        let b = backend(&settings());
        let now = 1_800_000_000;
        for v in vectors["valid"].as_array().into_iter().flatten() {
            let token = v["token"].as_str().unwrap_or_default();
            let decoded = b.decode(token, now).expect("valid vector");
            assert_eq!(Value::Object(decoded.clone()), v["claims"]);
            // Same claims, same key: the very same bytes as simplejwt.
            assert_eq!(b.encode(&decoded).expect("encode"), token);
        }
        for v in vectors["invalid"].as_array().into_iter().flatten() {
            let token = v["token"].as_str().unwrap_or_default();
            let err = b.decode(token, now).expect_err("invalid vector");
            assert_eq!(
                err.to_string(),
                v["simplejwt_message"].as_str().unwrap_or_default()
            );
        }
    }

    #[test]
    fn exp_boundary_and_leeway() {
        let mut s = settings();
        let b = backend(&s);
        let t = b.encode(&claims(json!({"exp": 100}))).expect("encode");
        assert_eq!(b.decode(&t, 99).map(|_| ()), Ok(()));
        assert_eq!(b.decode(&t, 100).map(|_| ()), Err(BackendError::Expired));
        s.leeway = std::time::Duration::from_secs(10);
        let lenient = backend(&s);
        assert_eq!(lenient.decode(&t, 109).map(|_| ()), Ok(()));
        assert_eq!(
            lenient.decode(&t, 110).map(|_| ()),
            Err(BackendError::Expired)
        );
    }

    #[test]
    fn future_iat_and_nbf_and_non_numeric_times_are_invalid() {
        let b = backend(&settings());
        for c in [
            json!({"iat": 200, "exp": 1000}),
            json!({"nbf": 200, "exp": 1000}),
            json!({"exp": "1000"}),
            json!({"exp": null}),
            json!({"iat": true}),
        ] {
            let t = b.encode(&claims(c.clone())).expect("encode");
            assert_eq!(
                b.decode(&t, 100).map(|_| ()),
                Err(BackendError::Invalid),
                "{c}"
            );
        }
        let t = b.encode(&claims(json!({"exp": 1000.9}))).expect("encode");
        assert!(b.decode(&t, 100).is_ok(), "float exp is a NumericDate");
    }

    #[test]
    fn audience_and_issuer_are_added_and_required() {
        let mut s = settings();
        s.audience = Some(vec!["api".into()]);
        s.issuer = Some("https://issuer.example".into());
        let b = backend(&s);
        let t = b.encode(&Claims::new()).expect("encode");
        let c = b.decode(&t, 0).expect("own token");
        assert_eq!(c["aud"], "api");
        assert_eq!(c["iss"], "https://issuer.example");
        let plain = backend(&settings()).encode(&Claims::new()).expect("encode");
        assert_eq!(b.decode(&plain, 0).map(|_| ()), Err(BackendError::Invalid));
        let other = backend(&settings())
            .encode(&claims(
                json!({"aud": ["x", "api"], "iss": "https://issuer.example"}),
            ))
            .expect("encode");
        assert!(
            b.decode(&other, 0).is_ok(),
            "one matching audience in a list is enough"
        );
    }

    /// Fuzz regression (fuzz/regressions/token_decode/leeway-overflow): the largest LEEWAY the
    /// settings accept overflowed `now + leeway` (a panic in debug builds, every token refused
    /// in release ones).
    #[test]
    fn largest_leeway_does_not_overflow() {
        let mut s = settings();
        s.leeway = std::time::Duration::from_secs(i64::MAX.unsigned_abs());
        let b = backend(&s);
        let t = b
            .encode(&claims(
                json!({"iat": 1_900_000_000, "nbf": 1_900_000_000, "exp": 1}),
            ))
            .expect("encode");
        assert_eq!(b.decode(&t, 1_800_000_000).map(|_| ()), Ok(()));
        assert_eq!(b.decode(&t, i64::MAX).map(|_| ()), Ok(()));
    }

    #[test]
    fn garbage_is_invalid_not_a_panic() {
        let b = backend(&settings());
        for t in [
            "",
            ".",
            "..",
            "a.b.c",
            "eyJhbGciOiJIUzI1NiJ9..",
            "\u{0}",
            "é.é.é",
        ] {
            assert_eq!(
                b.decode(t, 0).map(|_| ()),
                Err(BackendError::Invalid),
                "{t:?}"
            );
        }
    }

    /// A compact JWS of any header and payload bytes, signed with the test secret.
    fn signed(header: &str, payload: &[u8], alg: Algorithm) -> String {
        let message = format!("{}.{}", b64(header.as_bytes()), b64(payload));
        let key = EncodingKey::from_secret(KEY.as_bytes()).expect("key");
        let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, alg).expect("sign");
        format!("{message}.{signature}")
    }

    /// Tokens with this backend's own header skip jsonwebtoken's header parsing: the framing,
    /// the signature and the payload are still checked; any other header is parsed and pinned.
    #[test]
    fn own_header_shortcut_checks_framing_signature_and_payload() {
        let b = backend(&settings());
        let own = r#"{"alg":"HS256","typ":"JWT"}"#;
        let body = br#"{"exp":1000,"user_id":1}"#;
        let good = signed(own, body, Algorithm::HS256);
        assert!(good.starts_with(&b.header_b64));
        let decoded = b.decode(&good, 0).expect("own header");
        assert_eq!(Value::Object(decoded), json!({"exp":1000,"user_id":1}));
        // The same claims under an equivalent header written otherwise: parsed, accepted.
        let reordered = signed(r#"{"typ":"JWT","alg":"HS256"}"#, body, Algorithm::HS256);
        assert!(!reordered.starts_with(&b.header_b64));
        assert!(b.decode(&reordered, 0).is_ok());
        let (message, signature) = good.rsplit_once('.').expect("three parts");
        let h = &b.header_b64;
        let mut tampered = signature.to_owned();
        tampered.replace_range(..1, if signature.starts_with('A') { "B" } else { "A" });
        for bad in [
            h.clone(),
            format!("{h}."),
            format!("{h}.."),
            message.to_owned(),
            format!("{message}."),
            format!("{message}.{tampered}"),
            format!("{message}.{signature}.{signature}"),
            format!("{h}.{signature}"),
            // A payload that is not base64url, not JSON, or not an object, correctly signed.
            format!(
                "{h}.e30=.{}",
                signed(own, b"{}", Algorithm::HS256)
                    .rsplit_once('.')
                    .expect("sig")
                    .1
            ),
            signed(own, b"not json", Algorithm::HS256),
            signed(own, b"[1,2]", Algorithm::HS256),
            // The algorithm stays pinned off the shortcut: HS512 with the same secret.
            signed(r#"{"alg":"HS512","typ":"JWT"}"#, body, Algorithm::HS512),
        ] {
            assert_eq!(
                b.decode(&bad, 0).map(|_| ()),
                Err(BackendError::Invalid),
                "{bad}"
            );
        }
    }

    /// What `decode` answered before the prepared MAC and the scan: for this backend's own
    /// header, jsonwebtoken's `crypto::verify` and the payload parsed into the claims map; for
    /// any other, jsonwebtoken's `decode` (header parsed, algorithm pinned); then the claims
    /// map's checks. (jsonwebtoken's `decode` refuses a payload naming `exp` twice; the own
    /// header's path, as PyJWT, keeps the last one.)
    fn reference(b: &TokenBackend, token: &str, now: i64) -> Result<Claims, BackendError> {
        let key = b.decoding.as_ref().expect("a verifying key");
        let claims = match token.split_once('.') {
            Some((header, rest)) if header == b.header_b64 => {
                let (payload, signature) = rest.split_once('.').ok_or(BackendError::Invalid)?;
                if signature.contains('.') {
                    return Err(BackendError::Invalid);
                }
                let message = &token[..header.len() + 1 + payload.len()];
                if !jsonwebtoken::crypto::verify(signature, message.as_bytes(), key, b.algorithm)
                    .unwrap_or(false)
                {
                    return Err(BackendError::Invalid);
                }
                let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(payload)
                    .map_err(|_| BackendError::Invalid)?;
                serde_json::from_slice(&json).map_err(|_| BackendError::Invalid)?
            }
            _ => jsonwebtoken::decode::<Claims>(token, key, &b.validation)
                .map(|data| data.claims)
                .map_err(|_| BackendError::Invalid)?,
        };
        b.check_registered(&Registered::of(&claims), now)?;
        Ok(claims)
    }

    fn with_alg(alg: settings::Algorithm) -> SimpleJwt {
        let mut s = settings();
        s.algorithm = alg;
        s
    }

    fn jwt_alg(alg: settings::Algorithm) -> Algorithm {
        to_jwt_algorithm(alg)
    }

    /// Tokens to try: well made, tampered, misframed, other headers and algorithms, odd
    /// payloads (all correctly signed unless tampered), for the backend's algorithm `alg`.
    fn cases(alg: settings::Algorithm) -> Vec<String> {
        let a = jwt_alg(alg);
        let own = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        let ok = br#"{"token_type":"refresh","exp":2000,"iat":1000,"jti":"abc","user_id":"1"}"#;
        let good = signed(&own, ok, a);
        let (message, signature) = good.rsplit_once('.').expect("three parts");
        let (header, payload) = message.split_once('.').expect("two parts");
        let flip = |s: &str, at: usize| {
            let mut bytes = s.as_bytes().to_vec();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            String::from_utf8(bytes).expect("ascii")
        };
        // The last character of an unpadded signature carries trailing bits: set them.
        let last = signature.len() - 1;
        let mut trailing = signature.as_bytes().to_vec();
        trailing[last] = match trailing[last] {
            b'A' => b'B',
            b'B' => b'C',
            c => c ^ 1,
        };
        let trailing = String::from_utf8(trailing).expect("ascii");
        let mut out = vec![
            good.clone(),
            format!("{message}.{}", flip(signature, 0)),
            format!("{message}.{}", flip(signature, last)),
            format!("{message}.{trailing}"),
            format!("{message}.{signature}="),
            format!("{message}.{signature}A"),
            format!("{message}.{signature}{signature}"),
            format!("{message}.{}", &signature[..signature.len() - 2]),
            format!("{message}."),
            format!("{message}.{signature}.{signature}"),
            format!("{header}.{}.{signature}", flip(payload, 3)),
            format!("{}.{payload}.{signature}", flip(header, 5)),
            format!("{header}..{signature}"),
            message.to_owned(),
            String::new(),
            "..".into(),
        ];
        let payloads: &[&[u8]] = &[
            br#"{"token_type":"access","exp":2000,"jti":"x"}"#,
            br#"{"exp":2000,"jti":"x"}"#,
            br#"{"token_type":"refresh","exp":2000}"#,
            br#"{"token_type":"refresh","jti":"x"}"#,
            br#"{"token_type":"sliding","exp":2000,"jti":7}"#,
            br#"{"token_type":"re\u0066resh","exp":2000,"jti":"\u0061b"}"#,
            br#"{"token_type":"refresh","token_type":"access","exp":1,"exp":2000,"jti":"x"}"#,
            br#"{"token_type":["refresh"],"exp":2000,"jti":{"a":[1,{"b":null}]}}"#,
            br#"{"token_type":"refresh","exp":999,"jti":"x"}"#,
            br#"{"token_type":"refresh","exp":1000,"jti":"x"}"#,
            br#"{"token_type":"refresh","exp":1000.5,"jti":"x"}"#,
            br#"{"token_type":"refresh","exp":"2000","jti":"x"}"#,
            br#"{"token_type":"refresh","exp":2000,"nbf":1001,"jti":"x"}"#,
            br#"{"token_type":"refresh","exp":2000,"iat":1001,"jti":"x"}"#,
            br#"{"token_type":"refresh","exp":2000,"iat":null,"jti":"x"}"#,
            br#"{"token_type":"refresh","exp":2000,"jti":"x","aud":"api","iss":"https://i"}"#,
            br#"{"token_type":"refresh","exp":2000,"jti":"x","aud":["z","api"],"iss":"x"}"#,
            br#"{"token_type":"refresh","exp":2000,"jti":"x","aud":[]}"#,
            br#"{"token_type":"refresh","exp":2000,"jti":"x","big":1e400}"#,
            br#"{"token_type":"refresh","exp":2000,"jti":"x","big":-1e400}"#,
            br#"{"token_type":"refresh","exp":2000,"jti":"x","n":123456789012345678901234567890}"#,
            br#"{"token_type":"refresh","exp":2000,"jti":"x","s":"\ud800"}"#,
            b"{\"token_type\":\"refresh\",\"exp\":2000,\"jti\":\"x\xff\"}",
            b"{\"token_type\":\"refresh\",\"exp\":2000,\"jti\":\"a\tb\"}",
            br#"{"token_type":"refresh","exp":2000,"jti":"x"} x"#,
            br#" {"exp":2000,"jti":"x"} "#,
            br#"{"exp":2000,"jti":"x",}"#,
            b"{}",
            b"[1,2]",
            b"null",
            b"",
            b"not json",
        ];
        for p in payloads {
            out.push(signed(&own, p, a));
        }
        let deep = format!(
            r#"{{"exp":2000,"jti":"x","d":{}{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        out.push(signed(&own, deep.as_bytes(), a));
        let shallow = format!(
            r#"{{"exp":2000,"jti":"x","d":{}{}}}"#,
            "[".repeat(100),
            "]".repeat(100)
        );
        out.push(signed(&own, shallow.as_bytes(), a));
        // Other headers: parsed and pinned by jsonwebtoken, on both paths.
        for (h, with) in [
            (format!(r#"{{"typ":"JWT","alg":"{alg}"}}"#), a),
            (format!(r#"{{"alg":"{alg}","kid":"k1","typ":"JWT"}}"#), a),
            (format!(r#"{{"alg":"{alg}","typ":"JWT","extra":1}}"#), a),
            (format!(r#"{{"alg":"{alg}"}}"#), a),
            (
                r#"{"alg":"HS256","typ":"JWT"}"#.to_owned(),
                Algorithm::HS256,
            ),
            (
                r#"{"alg":"HS384","typ":"JWT"}"#.to_owned(),
                Algorithm::HS384,
            ),
            (
                r#"{"alg":"HS512","typ":"JWT"}"#.to_owned(),
                Algorithm::HS512,
            ),
        ] {
            out.push(signed(&h, ok, with));
        }
        out.push(format!(
            "{}.{}.",
            b64(br#"{"alg":"none","typ":"JWT"}"#),
            b64(ok)
        ));
        out
    }

    fn owned(v: Option<&ClaimValue<'_>>) -> Option<ClaimValue<'static>> {
        v.map(|v| match v {
            ClaimValue::Str(s) => ClaimValue::Str(Cow::Owned(s.to_string())),
            ClaimValue::Other(o) => ClaimValue::Other(o.clone()),
        })
    }

    /// The prepared MAC and the scanned claims against jsonwebtoken and the claims map: the
    /// same answer for every case, every HMAC size, with and without aud/iss and leeway.
    #[test]
    fn fast_paths_agree_with_jsonwebtoken_and_the_claims_map() {
        use settings::Algorithm as A;
        let mut checked = 0;
        for alg in [A::HS256, A::HS384, A::HS512] {
            let plain = with_alg(alg);
            let mut strict = with_alg(alg);
            strict.audience = Some(vec!["api".into()]);
            strict.issuer = Some("https://i".into());
            let mut lenient = with_alg(alg);
            lenient.leeway = std::time::Duration::from_secs(5);
            for s in [plain, strict, lenient] {
                let b = backend(&s);
                assert!(b.mac.is_some(), "{alg}: the HMAC secret is prepared");
                let t = Tokens {
                    settings: &s,
                    backend: &b,
                };
                for token in cases(alg) {
                    for now in [0, 999, 1000, 1001, 1999, 2000, 2004, 2005] {
                        let want = reference(&b, &token, now);
                        let got = b.decode(&token, now);
                        assert_eq!(got, want, "{alg} {token} at {now}");
                        let scanned = b.decode_scanned(&token, now, ["token_type", "jti"], |c| {
                            (c.has_exp(), owned(c.picked(0)), owned(c.picked(1)))
                        });
                        let from_map = want.as_ref().map(|claims| {
                            let pick = |k: &str| {
                                claims.get(k).map(|v| match v {
                                    Value::String(s) => ClaimValue::Str(Cow::Owned(s.clone())),
                                    other => ClaimValue::Other(other.clone()),
                                })
                            };
                            (claims.contains_key("exp"), pick("token_type"), pick("jti"))
                        });
                        assert_eq!(scanned, from_map.map_err(|e| *e), "{alg} {token} at {now}");
                        let untyped = t.decode(&token, TokenKind::Untyped, now).map(|token| {
                            let kind = token.kind_claim(&s);
                            (kind == Some("refresh") || kind == Some("sliding"))
                                .then(|| token.jti(&s).unwrap_or_default().to_owned())
                        });
                        assert_eq!(t.verify_untyped(&token, now), untyped, "{token} at {now}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 1000);
    }

    /// `encode` as it was written before it wrote the payload straight from the claims: the
    /// claims map copied, `aud` and `iss` inserted, serialized, then signed by jsonwebtoken.
    fn reference_encode(b: &TokenBackend, claims: &Claims) -> String {
        let mut payload = claims.clone();
        if let Some(aud) = &b.audience {
            let value = match aud.as_slice() {
                [one] => Value::String(one.clone()),
                many => Value::from(many.to_vec()),
            };
            payload.insert("aud".into(), value);
        }
        if let Some(iss) = &b.issuer {
            payload.insert("iss".into(), Value::String(iss.clone()));
        }
        let body = serde_json::to_vec(&payload).expect("json");
        let message = format!("{}.{}", b.header_b64, b64(&body));
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &b.encoding, b.algorithm).expect("sign");
        format!("{message}.{signature}")
    }

    /// The token `encode` writes is byte for byte the one the claims map gave: key order, `aud`
    /// and `iss` replaced in place or appended (`aud` first), escapes, numbers, nesting; for
    /// each HMAC size, with and without AUDIENCE (one or several) and ISSUER, and with KEY_ID.
    #[test]
    fn encode_writes_what_the_claims_map_wrote() {
        use settings::Algorithm as A;
        let payloads = [
            json!({}),
            json!({"token_type": "refresh", "exp": 1_800_086_400, "iat": 1_800_000_000,
                   "jti": "0123456789abcdef0123456789abcdef", "user_id": "7"}),
            json!({"iss": "someone", "token_type": "access", "exp": 1}),
            json!({"aud": ["x", "y"], "user_id": 7, "iss": null}),
            json!({"exp": 1.5, "name": "é \"quoted\" \\ \u{1} </script>", "nested": {"a": [1, {"b": null}]},
                   "big": u64::MAX, "neg": i64::MIN, "flag": true}),
            json!({"aud": "api"}),
        ];
        let mut checked = 0;
        for alg in [A::HS256, A::HS384, A::HS512] {
            for (aud, iss, kid) in [
                (None, None, None),
                (Some(vec!["api".to_owned()]), None, None),
                (Some(vec!["api".to_owned(), "web".to_owned()]), None, None),
                (Some(vec![]), None, None),
                (None, Some("https://issuer.example".to_owned()), None),
                (
                    Some(vec!["api".to_owned()]),
                    Some("https://issuer.example".to_owned()),
                    None,
                ),
                (None, None, Some("key-1".to_owned())),
            ] {
                let mut s = with_alg(alg);
                s.audience = aud;
                s.issuer = iss;
                s.key_id = kid;
                let b = backend(&s);
                for payload in &payloads {
                    let c = claims(payload.clone());
                    assert_eq!(
                        b.encode(&c).expect("encode"),
                        reference_encode(&b, &c),
                        "{alg:?} {payload}"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 3 * 7 * payloads.len());
    }

    /// The prepared MAC signs exactly as jsonwebtoken does.
    #[test]
    fn prepared_mac_signs_as_jsonwebtoken() {
        use settings::Algorithm as A;
        for alg in [A::HS256, A::HS384, A::HS512] {
            let b = backend(&with_alg(alg));
            let mac = b.mac.as_ref().expect("prepared");
            let key = EncodingKey::from_secret(KEY.as_bytes()).expect("key");
            for message in [&b""[..], b"a.b", &[7u8; 1000]] {
                let want = jsonwebtoken::crypto::sign(message, &key, jwt_alg(alg)).expect("sign");
                assert_eq!(b64(mac.tag(message).as_ref()), want);
                assert!(mac.verifies(message, &want));
            }
        }
    }
}
