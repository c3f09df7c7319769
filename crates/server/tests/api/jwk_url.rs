//! JWK_URL: tokens signed by another issuer verify against its JWKS, served here by a small
//! issuer on 127.0.0.1:0 that counts its requests: keys are picked by `kid`, cached, refetched on
//! rotation but not for every made-up `kid`, and an unreachable issuer is a 401, never a 5xx.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use actix_web::{web, App, HttpResponse, HttpServer};
use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// What the issuer answers at /jwks.json.
#[derive(Clone, Copy, PartialEq)]
enum Answer {
    Keys,
    Error,
    NotJson,
    Huge,
}

struct IssuerState {
    keys: Mutex<Vec<Value>>,
    answer: Mutex<Answer>,
    hits: AtomicUsize,
}

struct Issuer {
    url: String,
    state: web::Data<IssuerState>,
}

impl Issuer {
    async fn start(keys: Vec<Value>) -> Issuer {
        let state = web::Data::new(IssuerState {
            keys: Mutex::new(keys),
            answer: Mutex::new(Answer::Keys),
            hits: AtomicUsize::new(0),
        });
        let data = state.clone();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
        let addr = listener.local_addr().expect("addr");
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/jwks.json", web::get().to(jwks))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        Issuer {
            url: format!("http://{addr}/jwks.json"),
            state,
        }
    }

    fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    fn publish(&self, key: Value) {
        self.state.keys.lock().expect("keys").push(key);
    }

    fn answer(&self, answer: Answer) {
        *self.state.answer.lock().expect("answer") = answer;
    }
}

async fn jwks(state: web::Data<IssuerState>) -> HttpResponse {
    state.hits.fetch_add(1, Ordering::SeqCst);
    let answer = *state.answer.lock().expect("answer");
    match answer {
        Answer::Keys => {
            let keys = state.keys.lock().expect("keys").clone();
            HttpResponse::Ok().json(json!({ "keys": keys }))
        }
        Answer::Error => HttpResponse::InternalServerError().body("down for maintenance"),
        Answer::NotJson => HttpResponse::Ok().body("<html>login</html>"),
        Answer::Huge => HttpResponse::Ok()
            .content_type("application/json")
            .body(format!(
                r#"{{"keys": [], "pad": "{}"}}"#,
                "x".repeat(2 << 20)
            )),
    }
}

/// A test key pair: the PEM files in tests/api/keys/ and the algorithm they sign.
#[derive(Clone, Copy)]
struct Pair {
    private: &'static str,
    public: &'static str,
    alg: Algorithm,
}

const ISSUER_1: Pair = Pair {
    private: "rsa_old.pem",
    public: "rsa_old.pub.pem",
    alg: Algorithm::RS256,
};
const ISSUER_2: Pair = Pair {
    private: "rsa.pem",
    public: "rsa.pub.pem",
    alg: Algorithm::RS256,
};
const ISSUER_EC: Pair = Pair {
    private: "ec256.pem",
    public: "ec256.pub.pem",
    alg: Algorithm::ES256,
};

fn read(name: &str) -> Vec<u8> {
    std::fs::read(key_path(name)).expect("test key")
}

/// The public half as the issuer publishes it: kty, alg, use sig and `kid`.
fn published(pair: Pair, kid: &str) -> Value {
    let public = read(pair.public);
    let key = match pair.alg {
        Algorithm::ES256 => DecodingKey::from_ec_pem(&public),
        _ => DecodingKey::from_rsa_pem(&public),
    }
    .expect("public key");
    let mut jwk = Jwk::from_decoding_key(&key, Some(pair.alg)).expect("jwk");
    jwk.common.key_id = Some(kid.into());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    serde_json::to_value(jwk).expect("json")
}

fn claims_for(user: &users::User, kind: &str) -> Value {
    json!({
        "token_type": kind,
        "exp": now() + 300,
        "iat": now(),
        "jti": format!("{kind}-{}-{}", user.id, now()),
        "user_id": user.id.to_string(),
    })
}

/// A token the issuer signs: `kind` for `user`, with `kid` in its header.
fn issued(pair: Pair, kid: Option<&str>, user: &users::User, kind: &str) -> String {
    let private = read(pair.private);
    let key = match pair.alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&private),
        _ => EncodingKey::from_rsa_pem(&private),
    }
    .expect("private key");
    let mut header = Header::new(pair.alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, &claims_for(user, kind), &key).expect("sign")
}

/// This server, verifying with the issuer's JWKS (it still signs its own tokens with SIGNING_KEY).
async fn app_trusting(url: &str, algorithm: &str) -> TestApp {
    let signing = if algorithm == "ES256" {
        "ec256.pem"
    } else {
        "rsa.pem"
    };
    spawn_app_with(&[
        ("SIMPLE_JWT__ALGORITHM", algorithm),
        ("SIMPLE_JWT__SIGNING_KEY", &key_path(signing)),
        ("SIMPLE_JWT__JWK_URL", url),
    ])
    .await
}

async fn me_status(app: &TestApp, token: &str) -> (StatusCode, Value) {
    let (status, body, _) = app.me_as(Some(&format!("Bearer {token}"))).await;
    (status, body)
}

async fn verify(app: &TestApp, token: &str) -> (StatusCode, Value) {
    parts(
        app.post_json("/api/token/verify/", &json!({ "token": token }))
            .await,
    )
    .await
}

/// Refused as simplejwt refuses a token whose key cannot be found: 401 token_not_valid at
/// /api/me/ and at /api/token/verify/.
async fn assert_invalid(app: &TestApp, token: &str, what: &str) {
    let (status, body) = me_status(app, token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    assert_eq!(body["code"], "token_not_valid", "{what}: {body}");
    assert_eq!(body["messages"][0]["message"], "Token is invalid", "{what}");
    let (status, body) = verify(app, token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    assert_eq!(
        body,
        json!({"detail": "Token is invalid", "code": "token_not_valid"}),
        "{what}"
    );
}

#[tokio::test]
async fn an_issuer_token_authenticates_and_verifies_with_one_fetch() {
    let issuer = Issuer::start(vec![published(ISSUER_1, "issuer-1")]).await;
    let app = app_trusting(&issuer.url, "RS256").await;
    let alice = app.create_user("alice", PASSWORD, true);
    let access = issued(ISSUER_1, Some("issuer-1"), &alice, "access");
    assert_eq!(
        issuer.hits(),
        0,
        "nothing is fetched before a token needs it"
    );

    // A burst on a cold cache shares one fetch.
    let burst = (0..8).map(|_| me_status(&app, &access));
    for (status, body) in futures_util::future::join_all(burst).await {
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["username"], "alice");
    }
    for _ in 0..10 {
        assert_eq!(me_status(&app, &access).await.0, StatusCode::OK);
    }
    let (status, body) = verify(&app, &access).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    let refresh = issued(ISSUER_1, Some("issuer-1"), &alice, "refresh");
    let (status, body) = verify(&app, &refresh).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    assert_eq!(issuer.hits(), 1, "the JWKS is cached");

    // The kid must name the key that signed: another key under the same kid, or no kid, fails.
    let wrong_key = issued(ISSUER_2, Some("issuer-1"), &alice, "access");
    assert_invalid(&app, &wrong_key, "signed by another key").await;
    let no_kid = issued(ISSUER_1, None, &alice, "access");
    assert_invalid(&app, &no_kid, "no kid").await;
    // With JWK_URL the JWKS alone verifies (as simplejwt), and this server publishes no key of
    // its own when VERIFYING_KEY is unset.
    let res = app
        .client
        .get(app.url("/api/token/jwks/"))
        .send()
        .await
        .expect("request");
    assert_eq!(parts(res).await.1, json!({"keys": []}));
}

#[tokio::test]
async fn made_up_kids_are_refused_without_a_fetch_per_request() {
    let issuer = Issuer::start(vec![published(ISSUER_1, "issuer-1")]).await;
    let app = app_trusting(&issuer.url, "RS256").await;
    let alice = app.create_user("alice", PASSWORD, true);
    let good = issued(ISSUER_1, Some("issuer-1"), &alice, "access");
    assert_eq!(me_status(&app, &good).await.0, StatusCode::OK);
    assert_eq!(issuer.hits(), 1);
    for i in 0..25 {
        let kid = format!("made-up-{i}");
        let token = issued(ISSUER_1, Some(&kid), &alice, "access");
        let (status, body) = me_status(&app, &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{kid}: {body}");
        assert_eq!(body["code"], "token_not_valid");
    }
    // An unknown kid may cost one refetch (it could be a rotation), then the budget is spent.
    let hits = issuer.hits();
    assert!(
        hits <= 1 + auth::tokens::jwk_client::BURST as usize,
        "{hits} fetches for 25 made-up kids"
    );
    assert_eq!(me_status(&app, &good).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_rotated_in_key_is_fetched_for_its_kid() {
    let issuer = Issuer::start(vec![published(ISSUER_1, "issuer-1")]).await;
    let app = app_trusting(&issuer.url, "RS256").await;
    let alice = app.create_user("alice", PASSWORD, true);
    let old = issued(ISSUER_1, Some("issuer-1"), &alice, "access");
    assert_eq!(me_status(&app, &old).await.0, StatusCode::OK);
    assert_eq!(issuer.hits(), 1);

    issuer.publish(published(ISSUER_2, "issuer-2"));
    let new = issued(ISSUER_2, Some("issuer-2"), &alice, "access");
    let (status, body) = me_status(&app, &new).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(issuer.hits(), 2, "the unknown kid triggered one refetch");
    for token in [&old, &new, &new, &old] {
        assert_eq!(me_status(&app, token).await.0, StatusCode::OK);
    }
    assert_eq!(issuer.hits(), 2, "both keys now cached");
}

#[tokio::test]
async fn a_failing_issuer_is_a_401_and_a_recovered_one_is_used() {
    for answer in [Answer::Error, Answer::NotJson, Answer::Huge] {
        let issuer = Issuer::start(vec![published(ISSUER_1, "issuer-1")]).await;
        issuer.answer(answer);
        let app = app_trusting(&issuer.url, "RS256").await;
        let alice = app.create_user("alice", PASSWORD, true);
        let access = issued(ISSUER_1, Some("issuer-1"), &alice, "access");
        let (status, body) = me_status(&app, &access).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["code"], "token_not_valid");
        assert_eq!(issuer.hits(), 1);

        issuer.answer(Answer::Keys);
        let (status, body) = me_status(&app, &access).await;
        assert_eq!(status, StatusCode::OK, "after recovery: {body}");
        assert_eq!(issuer.hits(), 2);
    }
}

#[tokio::test]
async fn an_unreachable_issuer_is_a_401_within_the_timeout() {
    let timeout = auth::tokens::jwk_client::TIMEOUT;
    // Nothing listens on a port just freed: connection refused.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    // Accepts connections (the kernel does) but never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_addr = silent.local_addr().expect("addr");
    for addr in [closed, silent_addr] {
        let app = app_trusting(&format!("http://{addr}/jwks.json"), "RS256").await;
        let alice = app.create_user("alice", PASSWORD, true);
        let access = issued(ISSUER_1, Some("issuer-1"), &alice, "access");
        let refresh = issued(ISSUER_1, Some("issuer-1"), &alice, "refresh");
        let started = Instant::now();
        let (status, body) = me_status(&app, &access).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{addr}: {body}");
        assert_eq!(body["code"], "token_not_valid");
        assert!(
            started.elapsed() < timeout + std::time::Duration::from_secs(3),
            "{addr}: took {:?}",
            started.elapsed()
        );
        let (status, body) = verify(&app, &access).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{addr}: {body}");
        let (status, body) = parts(
            app.post_json("/api/token/refresh/", &json!({ "refresh": refresh }))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{addr}: {body}");
        assert_eq!(
            body,
            json!({"detail": "Token is invalid", "code": "token_not_valid"})
        );
    }
    drop(silent);
}

#[tokio::test]
async fn the_algorithm_stays_pinned_whatever_the_jwks_holds() {
    let attacker = b"attacker-controlled-secret-0123456789abcdef0123456789";
    let issuer = Issuer::start(vec![
        published(ISSUER_1, "issuer-1"),
        published(ISSUER_EC, "issuer-ec"),
        // A symmetric key in the set must never become an HMAC secret.
        json!({"kty": "oct", "kid": "hmac", "alg": "HS256", "k": b64(attacker)}),
    ])
    .await;
    let app = app_trusting(&issuer.url, "RS256").await;
    let alice = app.create_user("alice", PASSWORD, true);
    let claims = claims_for(&alice, "access");
    let hs256 = |kid: &str, secret: &[u8]| {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret(secret).expect("secret"),
        )
        .expect("sign")
    };
    let public_pem = read(ISSUER_1.public);
    let cases = [
        (
            hs256("issuer-1", &public_pem),
            "HS256 keyed with the RSA public key",
        ),
        (hs256("hmac", attacker), "HS256 with the JWKS's oct key"),
        (
            issued(ISSUER_EC, Some("issuer-ec"), &alice, "access"),
            "ES256 with a published EC key",
        ),
    ];
    for (token, what) in &cases {
        assert_invalid(&app, token, what).await;
    }
    let good = issued(ISSUER_1, Some("issuer-1"), &alice, "access");
    assert_eq!(me_status(&app, &good).await.0, StatusCode::OK);

    // With ALGORITHM ES256 the same set verifies the EC key's tokens, and no longer the RSA key's.
    let app = app_trusting(&issuer.url, "ES256").await;
    let alice = app.create_user("alice", PASSWORD, true);
    let ec = issued(ISSUER_EC, Some("issuer-ec"), &alice, "access");
    let (status, body) = me_status(&app, &ec).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rsa = issued(ISSUER_1, Some("issuer-1"), &alice, "access");
    assert_invalid(&app, &rsa, "RS256 at an ES256 server").await;
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
