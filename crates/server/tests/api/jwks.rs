//! /api/token/jwks/: the verifying keys as a JWK Set with `kid`s (never an HMAC secret), KEY_ID in
//! token headers, and VERIFYING_KEYS so that keys rotate without logging everyone out.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

async fn jwks(app: &TestApp) -> Value {
    let res = app
        .client
        .get(app.url("/api/token/jwks/"))
        .send()
        .await
        .expect("request");
    let (status, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    body
}

#[tokio::test]
async fn hmac_publishes_an_empty_set() {
    let app = spawn_app().await;
    let body = jwks(&app).await;
    assert_eq!(body, json!({"keys": []}));
    assert!(!body.to_string().contains(VECTOR_KEY));
    // No authentication needed; other methods are 405.
    let res = app
        .client
        .post(app.url("/api/token/jwks/"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_published_key_verifies_our_tokens() {
    let app = spawn_app_with(&[
        ("SIMPLE_JWT__ALGORITHM", "RS256"),
        ("SIMPLE_JWT__SIGNING_KEY", &key_path("rsa.pem")),
        ("SIMPLE_JWT__VERIFYING_KEY", &key_path("rsa.pub.pem")),
    ])
    .await;
    app.create_user("alice", PASSWORD, true);
    let body = jwks(&app).await;
    let key = &body["keys"][0];
    assert_eq!(body["keys"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        (&key["kty"], &key["alg"], &key["use"]),
        (&json!("RSA"), &json!("RS256"), &json!("sig"))
    );
    // Without KEY_ID the kid is the RFC 7638 thumbprint, and tokens keep simplejwt's header.
    assert_eq!(key["kid"].as_str().map(str::len), Some(43));
    assert!(key.get("d").is_none(), "never private parameters: {key}");

    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    assert_eq!(header_of(&access), json!({"alg": "RS256", "typ": "JWT"}));
    let set: JwkSet = serde_json::from_value(body).expect("a JWK set");
    let decoding = DecodingKey::from_jwk(&set.keys[0]).expect("usable key");
    let mut validation = Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = true;
    let claims = jsonwebtoken::decode::<Value>(&access, &decoding, &validation).expect("verifies");
    assert_eq!(claims.claims["token_type"], "access");
}

#[tokio::test]
async fn key_id_goes_in_the_header_and_earlier_keys_stay_valid() {
    let app = spawn_app_with(&[
        ("SIMPLE_JWT__ALGORITHM", "RS256"),
        ("SIMPLE_JWT__SIGNING_KEY", &key_path("rsa.pem")),
        ("SIMPLE_JWT__VERIFYING_KEY", &key_path("rsa.pub.pem")),
        ("SIMPLE_JWT__KEY_ID", "2025-06"),
        (
            "SIMPLE_JWT__VERIFYING_KEYS",
            &format!(
                r#"[{{ KID = "2025-01", KEY = "{}" }}]"#,
                key_path("rsa_old.pub.pem")
            ),
        ),
    ])
    .await;
    let alice = app.create_user("alice", PASSWORD, true);
    let kids: Vec<Value> = jwks(&app).await["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert_eq!(kids, [json!("2025-06"), json!("2025-01")]);

    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    assert_eq!(
        header_of(&access),
        json!({"alg": "RS256", "kid": "2025-06", "typ": "JWT"})
    );
    assert_eq!(app.me(&access).await.status(), StatusCode::OK);

    // A token the previous key signed, with or without its kid, is still accepted.
    let old_key = EncodingKey::from_rsa_pem(
        std::fs::read_to_string(key_path("rsa_old.pem"))
            .expect("key")
            .as_bytes(),
    )
    .expect("old key");
    let claims = json!({
        "token_type": "access", "exp": now() + 300, "iat": now(),
        "jti": "0123456789abcdef0123456789abcdef", "user_id": alice.id.to_string(),
    });
    for kid in [Some("2025-01".to_owned()), None] {
        let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = kid.clone();
        let old = jsonwebtoken::encode(&header, &claims, &old_key).expect("sign");
        assert_eq!(app.me(&old).await.status(), StatusCode::OK, "{kid:?}");
    }
    // Claiming the current kid with the old key's signature does not pass.
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("2025-06".into());
    let forged = jsonwebtoken::encode(&header, &claims, &old_key).expect("sign");
    assert_eq!(app.me(&forged).await.status(), StatusCode::UNAUTHORIZED);
}
