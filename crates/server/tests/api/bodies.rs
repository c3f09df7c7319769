//! The success bodies of every view, byte for byte: field order and all, as simplejwt and
//! dj-rest-auth write them (the views serialize the types the OpenAPI document describes).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

/// Status and body text of a POST with a JSON body and an optional Authorization.
async fn post(
    app: &TestApp,
    path: &str,
    authorization: Option<&str>,
    body: serde_json::Value,
) -> (StatusCode, String) {
    let mut req = app.client.post(app.url(path)).json(&body);
    if let Some(a) = authorization {
        req = req.header("Authorization", a);
    }
    let res = req.send().await.expect("request");
    (res.status(), res.text().await.expect("body"))
}

fn string(body: &str, field: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).expect("json");
    str_field(&value, field)
}

#[tokio::test]
async fn token_bodies_keep_simplejwt_field_order() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let credentials = json!({"username": "alice", "password": PASSWORD});

    let (status, body) = post(&app, "/api/token/", None, credentials.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let (refresh, access) = (string(&body, "refresh"), string(&body, "access"));
    assert_eq!(
        body,
        format!(r#"{{"refresh":"{refresh}","access":"{access}"}}"#)
    );

    let (status, body) = post(&app, "/api/token/verify/", None, json!({"token": access})).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "{}"));

    let (status, body) = post(
        &app,
        "/api/token/refresh/",
        None,
        json!({"refresh": refresh}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (rotated, access) = (string(&body, "refresh"), string(&body, "access"));
    assert_eq!(
        body,
        format!(r#"{{"access":"{access}","refresh":"{rotated}"}}"#)
    );

    let (status, body) = post(
        &app,
        "/api/token/blacklist/",
        None,
        json!({"refresh": rotated}),
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "{}"));

    let (status, body) = post(&app, "/api/token/sliding/", None, credentials).await;
    assert_eq!(status, StatusCode::OK);
    let sliding = string(&body, "token");
    assert_eq!(body, format!(r#"{{"token":"{sliding}"}}"#));

    let (_, body) = post(
        &app,
        "/api/token/",
        None,
        json!({"username": "alice", "password": PASSWORD}),
    )
    .await;
    let refresh = string(&body, "refresh");
    let (status, body) = post(
        &app,
        "/api/token/logout/",
        None,
        json!({"refresh": refresh}),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"detail":"Successfully logged out."}"#)
    );
}

#[tokio::test]
async fn user_view_bodies_are_exact() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let bearer = format!("Bearer {access}");
    let (status, body) = post(
        &app,
        "/api/users/me/password/",
        Some(&bearer),
        json!({"old_password": PASSWORD, "new_password": "a much newer passphrase 42"}),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (
            StatusCode::OK,
            r#"{"detail":"New password has been saved."}"#
        )
    );

    let (_, access) = app.obtain_pair("alice", "a much newer passphrase 42").await;
    let (status, body) = post(
        &app,
        "/api/token/logout-all/",
        Some(&format!("Bearer {access}")),
        json!({}),
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "{}"));
}

#[tokio::test]
async fn expirations_follow_the_tokens_and_a_hidden_refresh_stays_first() {
    let app = spawn_app_with(&[
        ("REST_AUTH__JWT_AUTH_COOKIE", "access-token"),
        ("REST_AUTH__JWT_AUTH_REFRESH_COOKIE", "refresh-token"),
        ("REST_AUTH__JWT_AUTH_RETURN_EXPIRATION", "true"),
    ])
    .await;
    app.create_user("alice", PASSWORD, true);
    let (status, body) = post(
        &app,
        "/api/token/",
        None,
        json!({"username": "alice", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let access = string(&body, "access");
    let (a, r) = (
        string(&body, "access_expiration"),
        string(&body, "refresh_expiration"),
    );
    assert_eq!(
        body,
        format!(
            r#"{{"refresh":"","access":"{access}","access_expiration":"{a}","refresh_expiration":"{r}"}}"#
        )
    );

    // Without a rotation: no refresh token, no refresh_expiration.
    let app = spawn_app_with(&[
        ("REST_AUTH__JWT_AUTH_RETURN_EXPIRATION", "true"),
        ("SIMPLE_JWT__ROTATE_REFRESH_TOKENS", "false"),
    ])
    .await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, _) = app.obtain_pair("alice", PASSWORD).await;
    let (status, body) = post(
        &app,
        "/api/token/refresh/",
        None,
        json!({"refresh": refresh}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (access, a) = (string(&body, "access"), string(&body, "access_expiration"));
    assert_eq!(
        body,
        format!(r#"{{"access":"{access}","access_expiration":"{a}"}}"#)
    );
}

#[tokio::test]
async fn jwks_is_the_key_set_as_serialized() {
    for (algorithm, private, public, kty) in [
        ("RS256", "rsa.pem", "rsa.pub.pem", "RSA"),
        ("ES256", "ec256.pem", "ec256.pub.pem", "EC"),
        ("EdDSA", "ed25519.pem", "ed25519.pub.pem", "OKP"),
    ] {
        let app = spawn_app_with(&[
            ("SIMPLE_JWT__ALGORITHM", algorithm),
            ("SIMPLE_JWT__SIGNING_KEY", &key_path(private)),
            ("SIMPLE_JWT__VERIFYING_KEY", &key_path(public)),
        ])
        .await;
        let res = app
            .client
            .get(app.url("/api/token/jwks/"))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::OK, "{algorithm}");
        let body = res.text().await.expect("body");
        let expected = serde_json::to_string(app.state.backend.jwks()).expect("serialize");
        assert!(
            expected.contains(&format!("\"kty\":\"{kty}\"")),
            "{expected}"
        );
        assert_eq!(body, expected, "{algorithm}");
    }
}
