//! JWK_URL: another issuer's verifying keys, fetched from its JWKS and cached by `kid` (simplejwt's
//! PyJWKClient), with every fetch bounded: timeouts, a size cap, one fetch at a time, and a budget
//! so that tokens naming made-up `kid`s cannot make this server hammer the issuer. The URL may
//! carry credentials (`https://user:pass@...`, `?token=`): logs and errors show it redacted.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::DecodingKey;
use serde_json::Value;
use settings::Algorithm;

/// How long fetched keys count as fresh (PyJWKClient's default `lifespan`). Stale keys still
/// verify until a refresh succeeds: an issuer outage does not log everyone out.
pub const LIFESPAN: Duration = Duration::from_secs(300);
/// The fetch budget: `BURST` fetches back to back (a refresh, then a rotation right after it),
/// then one per `REFILL`, whatever the traffic.
pub const BURST: u32 = 2;
pub const REFILL: Duration = Duration::from_secs(10);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The whole fetch, body included; a request waiting for the issuer waits at most this long.
pub const TIMEOUT: Duration = Duration::from_secs(3);
/// A JWK Set is a few kilobytes; anything larger is not one.
pub const MAX_BYTES: usize = 1 << 20;

/// Why a fetch brought no keys (logged; the request sees only "Token is invalid").
#[derive(Debug, thiserror::Error)]
enum FetchError {
    /// Without its URL (see `From`): the JWK_URL is logged beside it, redacted.
    #[error("{0}")]
    Http(reqwest::Error),
    #[error("the issuer answered HTTP {0}")]
    Status(reqwest::StatusCode),
    #[error("the answer is larger than {MAX_BYTES} bytes")]
    TooLarge,
    #[error("the answer is not a JWK Set: {0}")]
    NotJwks(String),
    #[error("none of its {total} keys fits ALGORITHM {algorithm} (a `kid`, kty {kty}, `use` sig or none, `alg` {algorithm} or none, public parameters only)")]
    NoUsableKey {
        total: usize,
        algorithm: Algorithm,
        kty: &'static str,
    },
}

impl From<reqwest::Error> for FetchError {
    /// reqwest names the URL in its messages, credentials and all (a redirect's too).
    fn from(e: reqwest::Error) -> Self {
        FetchError::Http(e.without_url())
    }
}

/// A JWK_URL this server cannot fetch from: a startup error.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("not a valid URL: {0}")]
    Url(#[from] url::ParseError),
    #[error("cannot make an HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// The keys of the last successful fetch, read by the synchronous half of verification.
#[derive(Default)]
struct Cache {
    keys: HashMap<String, Arc<DecodingKey>>,
    fetched: Option<Instant>,
    /// Finished fetches, successful or not: a request that waited for a fetch in flight uses its
    /// outcome instead of starting another.
    attempts: u64,
}

impl Cache {
    fn fresh(&self, now: Instant) -> bool {
        self.fetched
            .is_some_and(|at| now.saturating_duration_since(at) < LIFESPAN)
    }
}

/// A token bucket of fetches: `BURST` at most, one earned back per `REFILL`.
#[derive(Debug)]
struct Budget {
    available: u32,
    since: Instant,
}

impl Budget {
    fn new(now: Instant) -> Self {
        Budget {
            available: BURST,
            since: now,
        }
    }

    /// Spends one fetch if there is one to spend.
    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.since);
        let earned = (elapsed.as_nanos() / REFILL.as_nanos()).min(u128::from(BURST));
        let earned = u32::try_from(earned).unwrap_or(BURST);
        if earned > 0 {
            self.available = (self.available + earned).min(BURST);
            self.since += REFILL * earned;
        }
        if self.available == 0 {
            return false;
        }
        if self.available == BURST {
            // A full bucket earns nothing: the refill clock starts with the first fetch spent.
            self.since = now;
        }
        self.available -= 1;
        true
    }
}

/// The issuer's JWKS at JWK_URL, as keys by `kid` that fit the pinned ALGORITHM.
pub struct JwkClient {
    url: String,
    /// `url` as logs show it (`settings::redact_url`).
    shown: String,
    algorithm: Algorithm,
    http: reqwest::Client,
    cache: RwLock<Cache>,
    /// Held for the length of a fetch, so concurrent requests share one; it guards the budget.
    flight: tokio::sync::Mutex<Budget>,
}

impl std::fmt::Debug for JwkClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwkClient")
            .field("url", &self.shown)
            .finish_non_exhaustive()
    }
}

impl JwkClient {
    /// `url` is the whole JWK_URL (`SecretUrl::expose`): it is only ever shown redacted.
    pub fn new(url: &str, algorithm: Algorithm) -> Result<Self, ClientError> {
        url::Url::parse(url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(3))
            // Fetches are minutes apart and run on whichever worker's runtime needs them; an idle
            // pooled connection would belong to the runtime that opened it.
            .pool_max_idle_per_host(0)
            .user_agent(concat!("jwt-auth/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let shown = settings::redact_url(url);
        if plain_http_off_host(url) {
            log::warn!(
                "SIMPLE_JWT.JWK_URL {shown} is plain http: anyone on the path to it can replace the issuer's keys and sign tokens; use https"
            );
        }
        Ok(JwkClient {
            url: url.to_owned(),
            shown,
            algorithm,
            http,
            cache: RwLock::new(Cache::default()),
            flight: tokio::sync::Mutex::new(Budget::new(Instant::now())),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Cache> {
        self.cache.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached key for `kid`, fresh or stale: the synchronous half of verification.
    pub fn key(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        self.read().keys.get(kid).cloned()
    }

    /// Gets the key for `kid` into the cache if the issuer publishes it: nothing to do when it is
    /// cached and fresh; a stale key is refreshed by one request while the others go on with it;
    /// an unknown `kid` waits for the fetch in flight or, budget permitting, starts one
    /// (PyJWKClient refetches on an unknown `kid` too, without a budget). Never fails: a missing
    /// key is the verifier's "Token is invalid".
    pub async fn prepare(&self, kid: &str) {
        let (known, fresh, attempts) = {
            let cache = self.read();
            (
                cache.keys.contains_key(kid),
                cache.fresh(Instant::now()),
                cache.attempts,
            )
        };
        if known && fresh {
            return;
        }
        let mut budget = if known {
            match self.flight.try_lock() {
                Ok(budget) => budget,
                Err(_) => return,
            }
        } else {
            self.flight.lock().await
        };
        if self.read().attempts != attempts {
            // A fetch finished while this request waited: its keys are the answer.
            return;
        }
        if !budget.take(Instant::now()) {
            log::debug!("JWK_URL: not refetching for kid {kid:?}: fetch budget spent");
            return;
        }
        let outcome = self.fetch().await;
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        cache.attempts += 1;
        match outcome {
            Ok(keys) => {
                log::info!("JWK_URL {}: {} keys", self.shown, keys.len());
                cache.keys = keys;
                cache.fetched = Some(Instant::now());
            }
            Err(e) => log::warn!(
                "JWK_URL {}: fetching the issuer's keys failed: {e}; {} cached keys stay in use",
                self.shown,
                cache.keys.len()
            ),
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<DecodingKey>>, FetchError> {
        let mut res = self
            .http
            .get(&self.url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await?;
        if !res.status().is_success() {
            return Err(FetchError::Status(res.status()));
        }
        if res.content_length().is_some_and(|n| n > MAX_BYTES as u64) {
            return Err(FetchError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await? {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        usable_keys(&body, self.algorithm)
    }
}

/// An http:// URL to anything but this machine.
fn plain_http_off_host(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    parsed.scheme() == "http" && !loopback
}

/// The key type (and curve) that ALGORITHM verifies with; `None` for HMAC, which a JWKS never
/// serves (settings refuse JWK_URL with HS*).
fn key_type(algorithm: Algorithm) -> Option<(&'static str, Option<&'static str>)> {
    match algorithm {
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => Some(("RSA", None)),
        Algorithm::ES256 => Some(("EC", Some("P-256"))),
        Algorithm::ES384 => Some(("EC", Some("P-384"))),
        Algorithm::EdDSA => Some(("OKP", Some("Ed25519"))),
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => None,
    }
}

/// Members that only a private (or symmetric) key has.
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

/// The keys of a JWK Set that can verify `algorithm` tokens, by `kid` (the first of a repeated
/// `kid` wins, as in PyJWKClient). Entries that do not fit are skipped, not errors.
fn usable_keys(
    body: &[u8],
    algorithm: Algorithm,
) -> Result<HashMap<String, Arc<DecodingKey>>, FetchError> {
    let set: Value =
        serde_json::from_slice(body).map_err(|e| FetchError::NotJwks(e.to_string()))?;
    let entries = set
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| FetchError::NotJwks("no \"keys\" array".into()))?;
    let (kty, _) = key_type(algorithm).unwrap_or(("none", None));
    let mut keys = HashMap::new();
    for entry in entries {
        if let Some((kid, key)) = usable_key(entry, algorithm) {
            keys.entry(kid).or_insert_with(|| Arc::new(key));
        }
    }
    if keys.is_empty() {
        return Err(FetchError::NoUsableKey {
            total: entries.len(),
            algorithm,
            kty,
        });
    }
    Ok(keys)
}

/// One JWK, if it names itself (`kid`), is a signature key (`use` sig or absent, `key_ops`
/// absent or with verify), is for this algorithm (`alg` equal or absent, the right `kty` and
/// `crv`) and is public only.
fn usable_key(entry: &Value, algorithm: Algorithm) -> Option<(String, DecodingKey)> {
    let text = |name: &str| entry.get(name).and_then(Value::as_str);
    let kid = text("kid").filter(|k| !k.is_empty())?;
    if entry.get("use").is_some_and(|u| u != "sig")
        || entry
            .get("alg")
            .is_some_and(|a| *a != algorithm.to_string())
    {
        return None;
    }
    if let Some(ops) = entry.get("key_ops") {
        if !ops.as_array()?.iter().any(|op| op == "verify") {
            return None;
        }
    }
    let (kty, crv) = key_type(algorithm)?;
    if text("kty") != Some(kty) || text("crv") != crv {
        return None;
    }
    if PRIVATE_MEMBERS.iter().any(|m| entry.get(*m).is_some()) {
        // Published private key material: anyone who fetched the set can sign with it.
        log::warn!("JWK_URL: ignoring key {kid:?}: the JWKS publishes its private part");
        return None;
    }
    let jwk: Jwk = serde_json::from_value(entry.clone()).ok()?;
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    Some((kid.to_owned(), key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
    use serde_json::json;

    const RSA_PUB: &str = include_str!("../../../server/tests/api/keys/rsa.pub.pem");
    const EC_PUB: &str = include_str!("../../../server/tests/api/keys/ec256.pub.pem");

    fn jwk(pem: &str, alg: jsonwebtoken::Algorithm, kid: &str) -> Value {
        let key = match alg {
            jsonwebtoken::Algorithm::RS256 => DecodingKey::from_rsa_pem(pem.as_bytes()),
            _ => DecodingKey::from_ec_pem(pem.as_bytes()),
        }
        .expect("test key");
        let mut jwk = Jwk::from_decoding_key(&key, Some(alg)).expect("jwk");
        jwk.common.key_id = Some(kid.into());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        serde_json::to_value(jwk).expect("json")
    }

    fn kids(set: &Value, alg: Algorithm) -> Vec<String> {
        let mut kids: Vec<String> = usable_keys(set.to_string().as_bytes(), alg)
            .map(|keys| keys.into_keys().collect())
            .unwrap_or_default();
        kids.sort();
        kids
    }

    #[actix_rt::test]
    async fn credentials_in_the_url_are_never_shown() {
        // A port nobody listens on (bound, then released): the fetch fails.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let url = format!("http://svc:s3cr3t@127.0.0.1:{port}/jwks.json?token=s3cr3t");
        let client = JwkClient::new(&url, Algorithm::RS256).expect("client");
        let debug = format!("{client:?}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(debug.contains("[redacted]@127.0.0.1"), "{debug}");
        let Err(error) = client.fetch().await else {
            panic!("nothing listens there");
        };
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(!text.contains("s3cr3t"), "{text}");
        }
        // Off this machine over plain http: warned about at startup, redacted too.
        let remote = JwkClient::new("http://svc:s3cr3t@issuer.example/jwks", Algorithm::RS256);
        assert!(!format!("{remote:?}").contains("s3cr3t"));
    }

    #[test]
    fn only_keys_that_fit_the_algorithm_are_used() {
        let rsa = jwk(RSA_PUB, jsonwebtoken::Algorithm::RS256, "rsa");
        let ec = jwk(EC_PUB, jsonwebtoken::Algorithm::ES256, "ec");
        let with = |base: &Value, changes: Value| {
            let mut v = base.clone();
            for (k, x) in changes.as_object().into_iter().flatten() {
                if x.is_null() {
                    v.as_object_mut().map(|o| o.remove(k));
                } else {
                    v[k] = x.clone();
                }
            }
            v
        };
        let set = json!({"keys": [
            rsa,
            ec,
            with(&rsa, json!({"kid": "no-use", "use": null, "alg": null})),
            with(&rsa, json!({"kid": "enc", "use": "enc"})),
            with(&rsa, json!({"kid": "rs384", "alg": "RS384"})),
            with(&rsa, json!({"kid": "ops-sign", "key_ops": ["sign"]})),
            with(&rsa, json!({"kid": "ops-verify", "key_ops": ["verify"]})),
            with(&rsa, json!({"kid": "private", "d": "AQAB"})),
            with(&rsa, json!({"kid": null})),
            with(&rsa, json!({"kid": ""})),
            with(&ec, json!({"kid": "p384", "crv": "P-384"})),
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
            "not an object",
        ]});
        assert_eq!(
            kids(&set, Algorithm::RS256),
            ["no-use", "ops-verify", "rsa"]
        );
        assert_eq!(kids(&set, Algorithm::ES256), ["ec"]);
        assert_eq!(kids(&set, Algorithm::RS512), ["no-use"]);
        assert!(matches!(
            usable_keys(set.to_string().as_bytes(), Algorithm::EdDSA),
            Err(FetchError::NoUsableKey { total: 14, .. })
        ));
    }

    #[test]
    fn not_a_jwk_set_is_an_error() {
        for body in ["", "[]", "{}", r#"{"keys": {}}"#, "<html>"] {
            assert!(
                matches!(
                    usable_keys(body.as_bytes(), Algorithm::RS256),
                    Err(FetchError::NotJwks(_))
                ),
                "{body:?}"
            );
        }
    }

    #[test]
    fn the_budget_allows_a_burst_then_one_fetch_per_refill() {
        let t0 = Instant::now();
        let mut b = Budget::new(t0);
        assert!(b.take(t0));
        assert!(b.take(t0 + Duration::from_millis(1)));
        assert!(!b.take(t0 + Duration::from_secs(1)));
        assert!(!b.take(t0 + REFILL - Duration::from_millis(1)));
        assert!(b.take(t0 + REFILL));
        assert!(!b.take(t0 + REFILL + Duration::from_secs(1)));
        // A long quiet spell earns back the burst, no more.
        let later = t0 + REFILL * 100;
        assert!(b.take(later));
        assert!(b.take(later));
        assert!(!b.take(later));
    }

    #[test]
    fn plain_http_is_flagged_only_off_this_machine() {
        assert!(plain_http_off_host("http://issuer.example/jwks.json"));
        assert!(!plain_http_off_host("https://issuer.example/jwks.json"));
        assert!(!plain_http_off_host("http://127.0.0.1:8080/jwks.json"));
        assert!(!plain_http_off_host("http://[::1]/jwks.json"));
        assert!(!plain_http_off_host("http://localhost/jwks.json"));
    }
}
