//! Interoperability with a real simplejwt 5.5.1 server sharing our key (testdata/ at the repository root).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

fn vectors() -> Value {
    serde_json::from_str(include_str!("../../../../testdata/simplejwt_tokens.json"))
        .expect("vectors")
}

fn token(v: &Value, group: &str, name: &str) -> String {
    v[group]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["name"] == name))
        .and_then(|i| i["token"].as_str())
        .unwrap_or_else(|| panic!("no vector {group}/{name}"))
        .to_owned()
}

#[tokio::test]
async fn simplejwt_tokens_are_accepted() {
    let v = vectors();
    assert_eq!(v["signing_key"], VECTOR_KEY);
    let app = spawn_app().await;
    let alice = app.create_user("alice", PASSWORD, true);
    assert_eq!(alice.id, 1, "the vectors name user 1");

    let access = token(&v, "valid", "access_from_refresh");
    let (status, body) = parts(app.me(&access).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["username"], "alice");

    let refresh = token(&v, "valid", "refresh");
    for t in [&access, &refresh] {
        let (status, _) = parts(
            app.post_json("/api/token/verify/", &json!({"token": t}))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, body) = parts(
        app.post_json("/api/token/refresh/", &json!({"refresh": refresh}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(claims(&str_field(&body, "access"))["user_id"], "1");
    // Rotation blacklisted simplejwt's refresh token, which we had never seen before.
    let (status, body) = parts(
        app.post_json("/api/token/refresh/", &json!({"refresh": refresh}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["detail"], "Token is blacklisted");
}

#[tokio::test]
async fn simplejwt_invalid_tokens_are_refused_with_its_messages() {
    let v = vectors();
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    for item in v["invalid"].as_array().into_iter().flatten() {
        let t = item["token"].as_str().unwrap_or_default();
        let msg = item["simplejwt_message"].as_str().unwrap_or_default();
        let (status, body) = parts(
            app.post_json("/api/token/verify/", &json!({"token": t}))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{}", item["name"]);
        assert_eq!(
            body,
            json!({"detail": msg, "code": "token_not_valid"}),
            "{}",
            item["name"]
        );
        let (status, body) = parts(app.me(t).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["messages"][0]["message"], msg);
    }
}

#[tokio::test]
async fn a_different_key_refuses_simplejwt_tokens() {
    let v = vectors();
    let app = spawn_app_with(&[(
        "SECRET_KEY",
        "another-secret-another-secret-another-secret-0123",
    )])
    .await;
    app.create_user("alice", PASSWORD, true);
    let access = token(&v, "valid", "access_from_refresh");
    let (status, body) = parts(app.me(&access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["messages"][0]["message"], "Token is invalid");
}

#[tokio::test]
async fn django_password_hashes_log_in_and_are_upgraded() {
    let hashes: Value = serde_json::from_str(include_str!(
        "../../../../testdata/django_password_hashes.json"
    ))
    .expect("hashes");
    let app = spawn_app().await;
    let mut n = 0;
    for item in hashes["hashes"].as_array().into_iter().flatten() {
        let hasher = item["hasher"].as_str().unwrap_or_default();
        if !matches!(
            hasher,
            "bcrypt_sha256" | "bcrypt" | "pbkdf2_sha256" | "pbkdf2_sha1"
        ) {
            continue; // argon2 and scrypt arrive with the Django-import issue.
        }
        let password = item["password"].as_str().unwrap_or_default();
        if password.is_empty() {
            continue; // A blank password never reaches the hasher: the field is refused first.
        }
        let encoded = item["encoded"].as_str().unwrap_or_default();
        let name = format!("user{n}");
        n += 1;
        app.insert_user(&name, encoded, true);
        let res = app
            .post_json(
                "/api/token/",
                &json!({"username": name, "password": password}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{hasher}: {encoded}");
        let stored = app.user(&name).map(|u| u.password).unwrap_or_default();
        assert!(
            stored.starts_with("bcrypt_sha256$$2b$04$"),
            "{hasher} re-hashed to our preferred format: {stored}"
        );
        let res = app
            .post_json(
                "/api/token/",
                &json!({"username": name, "password": password}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "the upgraded hash verifies");
    }
    assert!(n >= 4, "vectors covered: {n}");
    app.insert_user(
        "nopass",
        hashes["unusable_example"].as_str().unwrap_or("!x"),
        true,
    );
    let res = app
        .post_json(
            "/api/token/",
            &json!({"username": "nopass", "password": "anything"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
