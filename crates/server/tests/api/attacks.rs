//! The attack suite (issue 7): tokens and requests an attacker would try. Every one must be
//! answered with a 4xx JSON error — never a 5xx, never someone else's account — and the users
//! table must be intact afterwards.
//!
//! Tokens are forged by hand (base64url + the `jsonwebtoken` crate's raw signer) so that headers
//! a JWT library would refuse to produce (alg "nOnE", kid/jku/jwk, broken JSON) can be sent.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{crypto, Algorithm, EncodingKey};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use std::io::{Read, Write};

use crate::helpers::*;

// ---- forging ------------------------------------------------------------------------------

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `header.payload.` from raw JSON texts (which need not be valid JSON), unsigned.
fn unsigned(header: &str, payload: &str) -> String {
    format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()))
}

/// A token with any header, signed with `key` by `alg` over exactly those bytes.
fn forge(header: &Value, claims: &Value, alg: Algorithm, key: &EncodingKey) -> String {
    let message = unsigned(&header.to_string(), &claims.to_string());
    let signature = crypto::sign(message.as_bytes(), key, alg).expect("sign");
    format!("{message}.{signature}")
}

fn hs256(secret: &[u8]) -> EncodingKey {
    EncodingKey::from_secret(secret).expect("non-empty secret")
}

/// HMAC pads short keys with zero bytes, so one NUL byte signs exactly as the empty key does
/// (which the crate refuses to take).
const EMPTY_HMAC_KEY: &[u8] = b"\0";

fn rsa_private(name: &str) -> EncodingKey {
    let pem = std::fs::read(key_path(name)).expect("test key");
    EncodingKey::from_rsa_pem(&pem).expect("rsa key")
}

fn header(alg: &str) -> Value {
    json!({"alg": alg, "typ": "JWT"})
}

/// Claims of a token of `kind` for `user_id`, valid for five minutes.
fn claims(kind: &str, user_id: i32) -> Value {
    let t = now();
    json!({
        "token_type": kind,
        "exp": t + 300,
        "iat": t,
        "jti": format!("{:032x}", rand_u128()),
        "user_id": user_id.to_string(),
    })
}

fn rand_u128() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    nanos ^ (u128::from(N.fetch_add(1, Ordering::Relaxed)) << 64)
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn without(mut base: Value, key: &str) -> Value {
    if let Some(map) = base.as_object_mut() {
        map.remove(key);
    }
    base
}

// ---- asserting ----------------------------------------------------------------------------

/// A 4xx with a JSON body; returns both.
async fn client_error(res: Response, what: &str) -> (StatusCode, Value) {
    let status = res.status();
    let text = res.text().await.expect("body");
    assert!(status.is_client_error(), "{what}: {status} {text:?}");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{what}: not JSON ({status}): {text:?}"));
    (status, body)
}

/// simplejwt's 401 for a bad token on a token endpoint, with its message.
async fn token_refused(res: Response, message: &str, what: &str) {
    let (status, body) = client_error(res, what).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    assert_eq!(
        body,
        json!({"detail": message, "code": "token_not_valid"}),
        "{what}"
    );
}

/// The protected view's 401 for a bad access token, with its message.
async fn access_refused(app: &TestApp, token: &str, message: &str, what: &str) {
    let res = app.me(token).await;
    let (status, body) = client_error(res, what).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    assert_eq!(body["code"], "token_not_valid", "{what}: {body}");
    assert_eq!(body["messages"][0]["message"], message, "{what}: {body}");
}

async fn verify(app: &TestApp, token: &str) -> Response {
    app.post_json("/api/token/verify/", &json!({ "token": token }))
        .await
}

async fn refresh(app: &TestApp, token: &str) -> Response {
    app.post_json("/api/token/refresh/", &json!({ "refresh": token }))
        .await
}

/// Refused as access token, as refresh token and by verify, all with `message`.
async fn refused_everywhere(app: &TestApp, token: &str, message: &str, what: &str) {
    access_refused(app, token, message, what).await;
    token_refused(refresh(app, token).await, message, what).await;
    token_refused(verify(app, token).await, message, what).await;
}

/// The users created by [`victim`] are all still there, unchanged.
fn users_intact(app: &TestApp, expected: &[users::User]) {
    let mut conn = users::db::get(&app.state.pool).expect("connection");
    let now = users::queries::all(&mut conn).expect("auth_user still queryable");
    assert_eq!(now.len(), expected.len(), "{now:?}");
    for user in expected {
        let stored = now.iter().find(|u| u.id == user.id).expect("user kept");
        assert_eq!(stored.username, user.username);
        assert_eq!(stored.password, user.password, "password unchanged");
    }
}

/// `admin` (staff) and `alice`, both with [`PASSWORD`].
fn victims(app: &TestApp) -> Vec<users::User> {
    let admin = app.create_user("admin", PASSWORD, true);
    app.set_staff(&admin, true);
    let alice = app.create_user("alice", PASSWORD, true);
    vec![admin, alice]
}

// ---- alg none, key confusion, injected keys ----------------------------------------------

#[tokio::test]
async fn alg_none_in_every_spelling_is_refused() {
    let app = spawn_app().await;
    let users = victims(&app);
    let id = users[0].id;
    for alg in ["none", "None", "NONE", "nOnE", "", " none"] {
        for kind in ["access", "refresh"] {
            let body = unsigned(&header(alg).to_string(), &claims(kind, id).to_string());
            // No signature, an empty one, and the signature of a real token pasted on.
            let real = app.sign(claims(kind, id));
            let real_signature = real.rsplit('.').next().unwrap_or_default();
            for token in [
                body.clone(),
                format!("{body}."),
                format!("{body}.{real_signature}"),
            ] {
                refused_everywhere(
                    &app,
                    &token,
                    "Token is invalid",
                    &format!("alg {alg:?} {kind}"),
                )
                .await;
            }
        }
    }
    users_intact(&app, &users);
}

#[tokio::test]
async fn an_rs256_token_is_refused_by_an_hs256_server() {
    let app = spawn_app().await;
    let users = victims(&app);
    for kind in ["access", "refresh"] {
        let token = forge(
            &header("RS256"),
            &claims(kind, users[0].id),
            Algorithm::RS256,
            &rsa_private("rsa.pem"),
        );
        refused_everywhere(&app, &token, "Token is invalid", kind).await;
    }
    // Another HMAC size with the right secret is another algorithm too (contract).
    let token = forge(
        &header("HS512"),
        &claims("access", users[0].id),
        Algorithm::HS512,
        &hs256(VECTOR_KEY.as_bytes()),
    );
    refused_everywhere(&app, &token, "Token is invalid", "HS512 with the HS256 key").await;
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused_by_an_rs256_server() {
    let app = spawn_app_with(&[
        ("SIMPLE_JWT__ALGORITHM", "RS256"),
        ("SIMPLE_JWT__SIGNING_KEY", &key_path("rsa.pem")),
        ("SIMPLE_JWT__VERIFYING_KEY", &key_path("rsa.pub.pem")),
    ])
    .await;
    let users = victims(&app);
    let (_, genuine) = app.obtain_pair("admin", PASSWORD).await;
    assert_eq!(app.me(&genuine).await.status(), StatusCode::OK, "baseline");
    let public = std::fs::read_to_string(key_path("rsa.pub.pem")).expect("public key");
    // The classic confusion: the public PEM (as served, trimmed, or as its DER body) as secret.
    let der_body: String = public.lines().filter(|l| !l.starts_with("-----")).collect();
    for secret in [public.as_str(), public.trim(), der_body.as_str()] {
        for alg in ["HS256", "HS384", "HS512"] {
            let jwt_alg = match alg {
                "HS256" => Algorithm::HS256,
                "HS384" => Algorithm::HS384,
                _ => Algorithm::HS512,
            };
            for kind in ["access", "refresh"] {
                let token = forge(
                    &header(alg),
                    &claims(kind, users[0].id),
                    jwt_alg,
                    &hs256(secret.as_bytes()),
                );
                refused_everywhere(&app, &token, "Token is invalid", &format!("{alg} {kind}"))
                    .await;
            }
        }
    }
    users_intact(&app, &users);
}

#[tokio::test]
async fn embedded_and_remote_keys_in_the_header_are_never_used() {
    let app = spawn_app().await;
    let users = victims(&app);
    let attacker = b"attacker-controlled-secret-0123456789abcdef0123456789";
    // A listener the server would have to call if it followed jku/x5u: it must stay silent.
    let trap = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    trap.set_nonblocking(true).expect("nonblocking");
    let trap_url = format!("http://{}/jwks.json", trap.local_addr().expect("addr"));
    let headers = [
        json!({"alg": "HS256", "typ": "JWT", "jwk": {"kty": "oct", "k": b64(attacker)}}),
        json!({"alg": "HS256", "typ": "JWT", "jku": trap_url}),
        json!({"alg": "HS256", "typ": "JWT", "x5u": trap_url}),
        json!({"alg": "HS256", "typ": "JWT", "kid": "../../../../../../dev/null"}),
        json!({"alg": "HS256", "typ": "JWT", "kid": "' UNION SELECT 'attacker-controlled-secret' --"}),
        json!({"alg": "HS256", "typ": "JWT", "kid": "attacker", "jku": trap_url}),
    ];
    for header in &headers {
        for kind in ["access", "refresh"] {
            let token = forge(
                header,
                &claims(kind, users[0].id),
                Algorithm::HS256,
                &hs256(attacker),
            );
            refused_everywhere(
                &app,
                &token,
                "Token is invalid",
                &format!("{header} {kind}"),
            )
            .await;
            // Signed with the empty key a path like /dev/null would yield.
            let token = forge(
                header,
                &claims(kind, users[0].id),
                Algorithm::HS256,
                &hs256(EMPTY_HMAC_KEY),
            );
            refused_everywhere(
                &app,
                &token,
                "Token is invalid",
                &format!("{header} empty key"),
            )
            .await;
        }
    }
    match trap.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the server fetched a key from a token's header: {other:?}"),
    }
    // The same headers on a token the server really signed are ignored, as PyJWT ignores them
    // for HMAC: the signature decides, not the header's advice.
    for header in &headers {
        let token = forge(
            header,
            &claims("access", users[0].id),
            Algorithm::HS256,
            &hs256(VECTOR_KEY.as_bytes()),
        );
        assert_eq!(app.me(&token).await.status(), StatusCode::OK, "{header}");
    }
    users_intact(&app, &users);
}

#[tokio::test]
async fn tokens_signed_with_the_key_before_rotation_are_refused() {
    let new_key = "rotated-secret-after-the-leak-0123456789abcdefghijklmnop";
    let app = spawn_app_with(&[("SECRET_KEY", new_key)]).await;
    let users = victims(&app);
    for kind in ["access", "refresh"] {
        // VECTOR_KEY is the key the app had before (every other test app signs with it).
        let token = forge(
            &header("HS256"),
            &claims(kind, users[0].id),
            Algorithm::HS256,
            &hs256(VECTOR_KEY.as_bytes()),
        );
        refused_everywhere(&app, &token, "Token is invalid", kind).await;
    }
    // A real pair from an app still on the old key means nothing to the new one.
    let old = spawn_app().await;
    old.create_user("admin", PASSWORD, true);
    let (refresh_token, access) = old.obtain_pair("admin", PASSWORD).await;
    access_refused(&app, &access, "Token is invalid", "old access").await;
    token_refused(
        refresh(&app, &refresh_token).await,
        "Token is invalid",
        "old refresh",
    )
    .await;

    // The same for an RS256 key pair replaced by another.
    let rs = spawn_app_with(&[
        ("SIMPLE_JWT__ALGORITHM", "RS256"),
        ("SIMPLE_JWT__SIGNING_KEY", &key_path("rsa.pem")),
        ("SIMPLE_JWT__VERIFYING_KEY", &key_path("rsa.pub.pem")),
    ])
    .await;
    let rs_users = victims(&rs);
    let token = forge(
        &header("RS256"),
        &claims("access", rs_users[0].id),
        Algorithm::RS256,
        &rsa_private("rsa_old.pem"),
    );
    refused_everywhere(&rs, &token, "Token is invalid", "old RSA key").await;
    users_intact(&app, &users);
}

// ---- time claims at the leeway's edges ---------------------------------------------------

/// Verifies a token made at second `t` and returns the answer, retrying until the second did not
/// change while the request ran, so that the server's clock read the same `t` (no sleeps).
async fn verify_at_a_fixed_second(
    app: &TestApp,
    make: impl Fn(i64) -> String,
) -> (StatusCode, Value) {
    for _ in 0..20 {
        let t = now();
        let res = verify(app, &make(t)).await;
        let status = res.status();
        let body: Value = res.json().await.expect("json");
        if now() == t {
            return (status, body);
        }
    }
    panic!("the clock kept ticking over during every attempt");
}

fn timed(t: i64, exp: i64, extra: &[(&str, i64)]) -> Value {
    let mut c = json!({"token_type": "access", "jti": format!("{:032x}", rand_u128()), "user_id": "1", "exp": t + exp});
    for (k, v) in extra {
        c[*k] = json!(t + v);
    }
    c
}

#[tokio::test]
async fn exp_nbf_and_iat_at_the_exact_leeway_boundaries() {
    for leeway in [0, 30] {
        let app = spawn_app_with(&[("SIMPLE_JWT__LEEWAY", &leeway.to_string())]).await;
        let ok = (StatusCode::OK, json!({}));
        let invalid = (
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Token is invalid", "code": "token_not_valid"}),
        );
        let expired = (
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Token is expired", "code": "token_not_valid"}),
        );
        // PyJWT's rules: expired when exp <= now - leeway; immature when nbf or iat > now + leeway.
        let cases: Vec<(&str, Value, &(StatusCode, Value))> = vec![
            ("exp = now - leeway", json!([-leeway, []]), &expired),
            ("exp = now - leeway + 1", json!([1 - leeway, []]), &ok),
            ("nbf = now + leeway", json!([300, [["nbf", leeway]]]), &ok),
            (
                "nbf = now + leeway + 1",
                json!([300, [["nbf", leeway + 1]]]),
                &invalid,
            ),
            ("iat = now + leeway", json!([300, [["iat", leeway]]]), &ok),
            (
                "iat = now + leeway + 1",
                json!([300, [["iat", leeway + 1]]]),
                &invalid,
            ),
        ];
        for (what, spec, want) in cases {
            let exp = spec[0].as_i64().unwrap_or_default();
            let extra: Vec<(String, i64)> = spec[1]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    (
                        p[0].as_str().unwrap_or_default().to_owned(),
                        p[1].as_i64().unwrap_or_default(),
                    )
                })
                .collect();
            let got = verify_at_a_fixed_second(&app, |t| {
                let extra: Vec<(&str, i64)> = extra.iter().map(|(k, v)| (k.as_str(), *v)).collect();
                app.sign(timed(t, exp, &extra))
            })
            .await;
            assert_eq!(&got, want, "leeway {leeway}: {what}");
        }
    }
}

#[tokio::test]
async fn time_claims_of_the_wrong_type_are_invalid_not_errors() {
    let app = spawn_app().await;
    let t = now();
    for (claim, value) in [
        ("exp", json!("9999999999")),
        ("exp", json!(null)),
        ("exp", json!(true)),
        ("exp", json!([t + 300])),
        ("exp", json!({"$gt": 0})),
        ("exp", json!(1e300)),
        ("exp", json!(-1e300)),
        ("exp", json!(u64::MAX)),
        ("nbf", json!("0")),
        ("iat", json!({"a": 1})),
        ("nbf", json!(1e300)),
    ] {
        let mut c = claims("access", 1);
        c[claim] = value.clone();
        let token = app.sign(c);
        let (status, body) =
            client_error(verify(&app, &token).await, &format!("{claim}={value}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{claim}={value}: {body}");
        assert_eq!(body["code"], "token_not_valid", "{claim}={value}: {body}");
    }
    // A float exp in the future is a NumericDate like any other.
    let token = app.sign(with(claims("access", 1), "exp", json!(t as f64 + 300.5)));
    assert_eq!(verify(&app, &token).await.status(), StatusCode::OK);
}

// ---- token types ---------------------------------------------------------------------------

#[tokio::test]
async fn refresh_as_access_and_access_as_refresh_are_refused() {
    let app = spawn_app().await;
    let users = victims(&app);
    let (refresh_token, access) = app.obtain_pair("alice", PASSWORD).await;
    access_refused(
        &app,
        &refresh_token,
        "Token has wrong type",
        "refresh as access",
    )
    .await;
    token_refused(
        refresh(&app, &access).await,
        "Token has wrong type",
        "access as refresh",
    )
    .await;
    let res = app
        .post_json("/api/token/blacklist/", &json!({ "refresh": access }))
        .await;
    token_refused(res, "Token has wrong type", "blacklisting an access token").await;
    // Both still work for what they are.
    assert_eq!(app.me(&access).await.status(), StatusCode::OK);
    assert_eq!(refresh(&app, &refresh_token).await.status(), StatusCode::OK);
    users_intact(&app, &users);
}

#[tokio::test]
async fn a_missing_or_forged_token_type_is_refused() {
    let app = spawn_app().await;
    let users = victims(&app);
    let id = users[0].id;
    let access = app.sign(without(claims("access", id), "token_type"));
    access_refused(&app, &access, "Token has no type", "no type as access").await;
    token_refused(
        refresh(&app, &access).await,
        "Token has no type",
        "no type as refresh",
    )
    .await;
    for forged in [
        json!("Access"),
        json!("ACCESS"),
        json!("access "),
        json!(" access"),
        json!("access\u{0000}"),
        json!("аccess"), // Cyrillic а
        json!("refresh "),
        json!("Refresh"),
        json!("sliding"),
        json!(""),
        json!(null),
        json!(1),
        json!(true),
        json!(["access"]),
        json!({"token_type": "access"}),
    ] {
        let token = app.sign(with(claims("access", id), "token_type", forged.clone()));
        access_refused(
            &app,
            &token,
            "Token has wrong type",
            &format!("{forged} as access"),
        )
        .await;
        let token = app.sign(with(claims("refresh", id), "token_type", forged.clone()));
        token_refused(
            refresh(&app, &token).await,
            "Token has wrong type",
            &format!("{forged} as refresh"),
        )
        .await;
    }
    users_intact(&app, &users);
}

// ---- bodies ----------------------------------------------------------------------------------

const POST_ENDPOINTS: [&str; 4] = [
    "/api/token/",
    "/api/token/refresh/",
    "/api/token/verify/",
    "/api/token/blacklist/",
];

#[tokio::test]
async fn oversized_and_deeply_nested_bodies_on_every_endpoint() {
    let app = spawn_app_with(&[("SERVER__MAX_BODY_SIZE", "65536")]).await;
    let users = victims(&app);
    let depth = 50_000;
    let bodies: Vec<(&str, String)> = vec![
        (
            "oversized",
            format!("{{\"username\":\"{}\"}}", "a".repeat(100_000)),
        ),
        (
            "nested arrays",
            format!("{}{}", "[".repeat(depth), "]".repeat(depth)),
        ),
        (
            "nested objects",
            format!(
                "{}1{}",
                "{\"a\":".repeat(depth / 10),
                "}".repeat(depth / 10)
            ),
        ),
        (
            "nested field",
            format!(
                "{{\"token\":{}\"x\"{},\"refresh\":1}}",
                "[".repeat(depth / 10),
                "]".repeat(depth / 10)
            ),
        ),
        (
            "many keys",
            format!(
                "{{{}\"username\":\"a\"}}",
                (0..3000)
                    .map(|i| format!("\"k{i}\":{i},"))
                    .collect::<String>()
            ),
        ),
        (
            "huge number",
            format!(
                "{{\"username\":1{},\"password\":\"x\"}}",
                "0".repeat(10_000)
            ),
        ),
        ("unterminated", "{\"username\":\"".to_owned()),
    ];
    for path in POST_ENDPOINTS {
        for (what, body) in &bodies {
            let res = app.post_raw(path, "application/json", body.clone()).await;
            client_error(res, &format!("{path} {what}")).await;
        }
        // Forms cannot nest, but brackets in names must not make them try.
        let form = format!("{}=1&username=a", "a[b]".repeat(2000));
        client_error(
            app.post_raw(path, "application/x-www-form-urlencoded", form)
                .await,
            path,
        )
        .await;
    }
    // A token whose own header or payload is deeply nested JSON.
    // Deep enough for any recursive parser (serde_json stops at 128), small enough for a header.
    let nested = format!("{}{}", "[".repeat(2000), "]".repeat(2000));
    let signed_header = unsigned(&nested, &claims("access", 1).to_string());
    let signed_payload = unsigned(&header("HS256").to_string(), &nested);
    for body in [signed_header, signed_payload] {
        let signature = crypto::sign(
            body.as_bytes(),
            &hs256(VECTOR_KEY.as_bytes()),
            Algorithm::HS256,
        )
        .expect("sign");
        let token = format!("{body}.{signature}");
        let (status, _) = client_error(verify(&app, &token).await, "nested token").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        access_refused(&app, &token, "Token is invalid", "nested token").await;
    }
    users_intact(&app, &users);
}

// ---- Authorization header smuggling ---------------------------------------------------------

#[tokio::test]
async fn two_authorization_headers_are_refused_whatever_their_order() {
    let app = spawn_app().await;
    let users = victims(&app);
    let (_, admin) = app.obtain_pair("admin", PASSWORD).await;
    let (_, alice) = app.obtain_pair("alice", PASSWORD).await;
    for (first, second) in [
        (format!("Bearer {alice}"), format!("Bearer {admin}")),
        (format!("Bearer {alice}"), format!("Bearer {alice}")),
        ("Bearer garbage".to_owned(), format!("Bearer {admin}")),
        (format!("Bearer {admin}"), "Basic YWRtaW46eA==".to_owned()),
    ] {
        let res = app
            .client
            .get(app.url("/api/me/"))
            .header("Authorization", &first)
            .header("Authorization", &second)
            .send()
            .await
            .expect("request");
        let (status, body) = client_error(res, "two headers").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["code"], "bad_authorization_header", "{body}");
    }
    users_intact(&app, &users);
}

/// Sends raw bytes as one HTTP/1.1 request and returns the status line's code and the body.
fn raw_request(app: &TestApp, request: &[u8]) -> (u16, String) {
    let address = app.address.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request).expect("write");
    let mut response = Vec::new();
    // The server closes the connection (Connection: close), or the read times out.
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let code = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP response: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (code, body)
}

#[tokio::test]
async fn malformed_authorization_headers_are_4xx() {
    let app = spawn_app().await;
    let users = victims(&app);
    let (_, access) = app.obtain_pair("admin", PASSWORD).await;
    let request = |authorization: &[u8]| {
        let mut r =
            b"GET /api/me/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: "
                .to_vec();
        r.extend_from_slice(authorization);
        r.extend_from_slice(b"\r\n\r\n");
        r
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "obs-fold continuation",
            format!("Bearer x\r\n {access}").into_bytes(),
        ),
        ("bare CR", format!("Bearer\r{access}").into_bytes()),
        ("NUL", format!("Bearer {access}\0").into_bytes()),
        ("non-UTF-8", b"Bearer \xff\xfe\xfd".to_vec()),
        ("vertical tab", format!("Bearer\x0b{access}").into_bytes()),
        ("three parts", format!("Bearer {access} extra").into_bytes()),
        ("scheme only", b"Bearer".to_vec()),
        (
            "very long",
            format!("Bearer {}", "a".repeat(200_000)).into_bytes(),
        ),
        (
            "long but under limits",
            format!("Bearer {}", "a".repeat(6_000)).into_bytes(),
        ),
    ];
    for (what, value) in cases {
        let (code, body) = raw_request(&app, &request(&value));
        assert!((400..500).contains(&code), "{what}: {code} {body:?}");
        // Errors our app produces are JSON; a request the HTTP parser refuses never reaches it.
        if !body.is_empty() && code == 401 {
            assert!(
                serde_json::from_str::<Value>(&body).is_ok(),
                "{what}: {body:?}"
            );
        }
    }
    // A tab is whitespace to DRF's header.split() too: the same token, accepted.
    let (code, _) = raw_request(&app, &request(format!("Bearer\t{access}").as_bytes()));
    assert_eq!(code, 200, "tab-separated");
    users_intact(&app, &users);
}

// ---- usernames that look alike -------------------------------------------------------------

#[tokio::test]
async fn lookalike_usernames_never_log_in_as_someone_else() {
    let app = spawn_app().await;
    let users = victims(&app);
    for lookalike in [
        "ａｄｍｉｎ", // fullwidth
        "ADMIN",
        "Admin",
        "admin\u{200d}", // zero-width joiner
        "ad\u{200b}min", // zero-width space
        "\u{feff}admin", // byte-order mark
        "adm\u{0456}n",  // Cyrillic і
        "\u{0430}dmin",  // Cyrillic а
        "admi\u{0301}n", // combining acute
        "admın",         // dotless ı
        "admin\u{0000}",
        "%",
        "adm_n",
        "admin%",
        "*",
    ] {
        let res = app
            .post_json(
                "/api/token/",
                &json!({"username": lookalike, "password": PASSWORD}),
            )
            .await;
        let (status, body) = client_error(res, lookalike).await;
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::BAD_REQUEST,
            "{lookalike:?}: {status} {body}"
        );
        assert!(body.get("access").is_none(), "{lookalike:?}");
    }
    // A user really named with a lookalike is a different account with its own password.
    let fullwidth = app.create_user("ａｄｍｉｎ", "fullwidth own password", true);
    let (_, access) = app
        .obtain_pair("ａｄｍｉｎ", "fullwidth own password")
        .await;
    let me: Value = app.me(&access).await.json().await.expect("json");
    assert_eq!(me["id"], fullwidth.id, "{me}");
    let res = app
        .post_json(
            "/api/token/",
            &json!({"username": "ａｄｍｉｎ", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let mut all = users;
    all.push(fullwidth);
    users_intact(&app, &all);
}

// ---- SQL metacharacters --------------------------------------------------------------------

const SQL: [&str; 8] = [
    "' OR 1=1 --",
    "\"; DROP TABLE auth_user; --",
    "admin'--",
    "admin' /*",
    "1; DELETE FROM auth_user",
    "' UNION SELECT id, password FROM auth_user --",
    "\\'; DROP TABLE token_blacklist_outstandingtoken; --",
    "1 OR 1=1",
];

#[tokio::test]
async fn sql_metacharacters_in_every_field_are_just_text() {
    // Dozens of failed logins: without brute-force locks, so every one reaches the query.
    let app = spawn_app_with(&[("BRUTE_FORCE__ENABLED", "false")]).await;
    let users = victims(&app);
    let (genuine_refresh, _) = app.obtain_pair("alice", PASSWORD).await;
    for sql in SQL {
        for body in [
            json!({"username": sql, "password": PASSWORD}),
            json!({"username": "admin", "password": sql}),
            json!({"username": sql, "password": sql}),
        ] {
            let res = app.post_json("/api/token/", &body).await;
            let (status, _) = client_error(res, sql).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        }
        let form = format!(
            "username={}&password={}",
            form_escape(sql),
            form_escape(PASSWORD)
        );
        client_error(
            app.post_raw("/api/token/", "application/x-www-form-urlencoded", form)
                .await,
            sql,
        )
        .await;
        for (path, field) in [
            ("/api/token/refresh/", "refresh"),
            ("/api/token/verify/", "token"),
            ("/api/token/blacklist/", "refresh"),
        ] {
            let res = app.post_json(path, &json!({ field: sql })).await;
            token_refused(res, "Token is invalid", &format!("{path} {sql}")).await;
        }
        let (status, _, _) = app.me_as(Some(&format!("Bearer {sql}"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{sql}");
        // Well signed, with SQL in the claims the server looks up.
        let token = app.sign(with(claims("access", 1), "user_id", json!(sql)));
        let (status, _, _) = app.me_as(Some(&format!("Bearer {token}"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "user_id {sql}");
        let token = app.sign(with(claims("refresh", 1), "user_id", json!(sql)));
        client_error(
            refresh(&app, &token).await,
            &format!("refresh user_id {sql}"),
        )
        .await;
        // A jti is stored and looked up when blacklisting: it must be a plain value there too.
        let token = app.sign(with(claims("refresh", users[1].id), "jti", json!(sql)));
        let res = app
            .post_json("/api/token/blacklist/", &json!({ "refresh": token }))
            .await;
        assert!(res.status().as_u16() < 500, "jti {sql}: {}", res.status());
    }
    users_intact(&app, &users);
    // The token tables still work.
    assert_eq!(
        refresh(&app, &genuine_refresh).await.status(),
        StatusCode::OK
    );
    token_refused(
        refresh(&app, &genuine_refresh).await,
        "Token is blacklisted",
        "rotated",
    )
    .await;
}

fn form_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn user_id_claims_of_any_shape_never_pick_another_user() {
    let app = spawn_app().await;
    let users = victims(&app);
    let admin = users[0].id;
    for user_id in [
        json!({"$ne": null}),
        json!([admin]),
        json!(true),
        json!(null),
        json!(f64::from(admin) + 0.5),
        json!(-1),
        json!(0),
        json!(i64::from(i32::MAX) + 1),
        json!(i64::MAX),
        json!(u64::MAX),
        json!("9".repeat(400)),
        json!(format!("{admin}\u{0000}")),
        json!(""),
        // Forms of the admin's own id that Python's int() accepts: allowed to mean the admin,
        // never anyone else.
        json!(format!(" {admin} ")),
        json!(format!("0{admin}")),
        json!(admin
            .to_string()
            .chars()
            .map(|c| char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap_or(c))
            .collect::<String>()),
    ] {
        let token = app.sign(with(claims("access", admin), "user_id", user_id.clone()));
        let res = app.me(&token).await;
        let status = res.status();
        let text = res.text().await.expect("body");
        assert!(status.as_u16() < 500, "{user_id}: {status} {text}");
        let body: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{user_id}: not JSON {text:?}"));
        if status == StatusCode::OK {
            assert_eq!(body["id"], admin, "{user_id} authenticated as {body}");
        } else {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{user_id}: {body}");
        }
        let token = app.sign(with(claims("refresh", admin), "user_id", user_id.clone()));
        let status = refresh(&app, &token).await.status();
        assert!(status.as_u16() < 500, "refresh {user_id}: {status}");
    }
    users_intact(&app, &users);
}
