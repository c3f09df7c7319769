//! Logout everywhere: POST /api/token/logout-all/ and `manage revoketokens USERNAME`.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

async fn refresh_status(app: &TestApp, token: &str) -> (StatusCode, Value) {
    parts(
        app.post_json("/api/token/refresh/", &json!({"refresh": token}))
            .await,
    )
    .await
}

async fn logout_all(app: &TestApp, authorization: Option<&str>) -> (StatusCode, Value) {
    let mut req = app.client.post(app.url("/api/token/logout-all/"));
    if let Some(a) = authorization {
        req = req.header("Authorization", a);
    }
    parts(req.send().await.expect("request")).await
}

fn blacklisted() -> Value {
    json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
}

#[tokio::test]
async fn logout_all_ends_every_session_of_the_user_only() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    app.create_user("bob", PASSWORD, true);
    let (laptop, access) = app.obtain_pair("alice", PASSWORD).await;
    let (phone, _) = app.obtain_pair("alice", PASSWORD).await;
    let (bobs, _) = app.obtain_pair("bob", PASSWORD).await;

    let (status, body) = logout_all(&app, Some(&format!("Bearer {access}"))).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    for token in [&laptop, &phone] {
        assert_eq!(
            refresh_status(&app, token).await,
            (StatusCode::UNAUTHORIZED, blacklisted())
        );
    }
    assert_eq!(refresh_status(&app, &bobs).await.0, StatusCode::OK);
    // As after simplejwt's blacklist view, access tokens live until they expire.
    assert_eq!(app.me(&access).await.status(), StatusCode::OK);
    // Nothing left to end: still a success.
    let (status, _) = logout_all(&app, Some(&format!("Bearer {access}"))).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn logout_all_needs_authentication_before_the_method_check() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, access) = app.obtain_pair("alice", PASSWORD).await;
    let (status, body) = logout_all(&app, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "Authentication credentials were not provided."})
    );
    // A refresh token does not authenticate.
    let (status, body) = logout_all(&app, Some(&format!("Bearer {refresh}"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "token_not_valid");
    let res = app
        .get_with_auth("/api/token/logout-all/", &format!("Bearer {access}"))
        .await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(refresh_status(&app, &refresh).await.0, StatusCode::OK);
}

#[tokio::test]
async fn logout_all_with_stateless_authentication() {
    let app = spawn_app_with(&[(
        "REST_FRAMEWORK__DEFAULT_AUTHENTICATION_CLASSES",
        "JWTStatelessUserAuthentication",
    )])
    .await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, access) = app.obtain_pair("alice", PASSWORD).await;
    let (status, _) = logout_all(&app, Some(&format!("Bearer {access}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        refresh_status(&app, &refresh).await,
        (StatusCode::UNAUTHORIZED, blacklisted())
    );
}

fn manage(app: &TestApp, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = dir.path().join("settings.toml");
    std::fs::write(&settings, "").expect("settings file");
    Command::new(env!("CARGO_BIN_EXE_manage"))
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .env("DATABASE_URL", &app.state.settings.databases.url)
        .env("SETTINGS_FILE", &settings)
        .output()
        .expect("run manage")
}

#[tokio::test]
async fn manage_revoketokens_logs_a_user_out_everywhere() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    app.create_user("bob", PASSWORD, true);
    let (laptop, _) = app.obtain_pair("alice", PASSWORD).await;
    let (phone, _) = app.obtain_pair("alice", PASSWORD).await;
    let (bobs, _) = app.obtain_pair("bob", PASSWORD).await;

    let out = manage(&app, &["revoketokens", "alice"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("Blacklisted 2 outstanding token(s) of user 'alice'."),
        "{stdout}"
    );
    for token in [&laptop, &phone] {
        assert_eq!(
            refresh_status(&app, token).await,
            (StatusCode::UNAUTHORIZED, blacklisted())
        );
    }
    assert_eq!(refresh_status(&app, &bobs).await.0, StatusCode::OK);

    let out = manage(&app, &["revoketokens", "ghost"]);
    assert!(!out.status.success());
}
