//! POST /api/users/me/password/: old password required, AUTH_PASSWORD_VALIDATORS applied, every
//! session ended, and with CHECK_REVOKE_TOKEN the access tokens too.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const NEW: &str = "a brand new passphrase";

async fn change(app: &TestApp, access: &str, body: &Value) -> (StatusCode, Value) {
    parts(
        app.client
            .post(app.url("/api/users/me/password/"))
            .header("Authorization", format!("Bearer {access}"))
            .json(body)
            .send()
            .await
            .expect("request"),
    )
    .await
}

async fn login_status(app: &TestApp, password: &str) -> StatusCode {
    app.post_json(
        "/api/token/",
        &json!({"username": "alice", "password": password}),
    )
    .await
    .status()
}

#[tokio::test]
async fn changing_the_password_ends_every_session() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (laptop, access) = app.obtain_pair("alice", PASSWORD).await;
    let (phone, _) = app.obtain_pair("alice", PASSWORD).await;

    let (status, body) = change(
        &app,
        &access,
        &json!({"old_password": PASSWORD, "new_password": NEW}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"detail": "New password has been saved."}));
    for token in [&laptop, &phone] {
        let (status, body) = parts(
            app.post_json("/api/token/refresh/", &json!({"refresh": token}))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["detail"], "Token is blacklisted");
    }
    assert_eq!(login_status(&app, PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(login_status(&app, NEW).await, StatusCode::OK);
    // Without CHECK_REVOKE_TOKEN an access token lives until it expires (simplejwt's rule).
    assert_eq!(app.me(&access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn with_check_revoke_token_access_tokens_die_too() {
    // A user cache that would outlive the test: the change itself must forget the old row.
    let app = spawn_app_with(&[
        ("SIMPLE_JWT__CHECK_REVOKE_TOKEN", "true"),
        ("CACHES__USER_TTL", "60s"),
    ])
    .await;
    app.create_user("alice", PASSWORD, true);
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let (_, other_access) = app.obtain_pair("alice", PASSWORD).await;
    // Both authenticate, and the user row (with the old hash) is now cached.
    for token in [&access, &other_access] {
        assert_eq!(app.me(token).await.status(), StatusCode::OK);
    }
    let (status, _) = change(
        &app,
        &access,
        &json!({"old_password": PASSWORD, "new_password": NEW}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for token in [&access, &other_access] {
        let (status, body) = parts(app.me(token).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "password_changed");
    }
    let (_, fresh) = app.obtain_pair("alice", NEW).await;
    assert_eq!(app.me(&fresh).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_old_password_changes_nothing() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, access) = app.obtain_pair("alice", PASSWORD).await;
    let (status, body) = change(
        &app,
        &access,
        &json!({"old_password": "not it", "new_password": NEW}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"old_password": ["Your old password was entered incorrectly. Please enter it again."]})
    );
    assert_eq!(login_status(&app, PASSWORD).await, StatusCode::OK);
    let res = app
        .post_json("/api/token/refresh/", &json!({"refresh": refresh}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn field_errors_are_drfs() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let cases = [
        (
            json!({}),
            json!({"old_password": ["This field is required."], "new_password": ["This field is required."]}),
        ),
        (
            json!({"old_password": PASSWORD, "new_password": "  "}),
            json!({"new_password": ["This field may not be blank."]}),
        ),
        (
            json!({"old_password": null, "new_password": NEW}),
            json!({"old_password": ["This field may not be null."]}),
        ),
    ];
    for (body, want) in cases {
        assert_eq!(
            change(&app, &access, &body).await,
            (StatusCode::BAD_REQUEST, want)
        );
    }
}

#[tokio::test]
async fn the_new_password_must_pass_the_validators() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let (status, body) = change(
        &app,
        &access,
        &json!({"old_password": PASSWORD, "new_password": "1234"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"new_password": [
            "This password is too short. It must contain at least 8 characters.",
            "This password is too common.",
            "This password is entirely numeric.",
        ]})
    );
    let (status, body) = change(
        &app,
        &access,
        &json!({"old_password": PASSWORD, "new_password": "alice1987"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"new_password": ["The password is too similar to the username."]})
    );
    assert_eq!(login_status(&app, PASSWORD).await, StatusCode::OK);
}

#[tokio::test]
async fn validators_come_from_this_apps_settings() {
    let app = spawn_app_with(&[("AUTH_PASSWORD_VALIDATORS", "[]")]).await;
    app.create_user("alice", PASSWORD, true);
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let (status, _) = change(
        &app,
        &access,
        &json!({"old_password": PASSWORD, "new_password": "1234"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(login_status(&app, "1234").await, StatusCode::OK);
}

#[tokio::test]
async fn needs_authentication() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/api/users/me/password/",
            &json!({"old_password": PASSWORD, "new_password": NEW}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
