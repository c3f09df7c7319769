//! Sliding tokens (/api/token/sliding/ and /api/token/sliding/refresh/), their lifetimes and
//! refresh_exp claim, and AUTH_TOKEN_CLASSES choosing which token kinds authenticate.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const CLASSES: &str = "SIMPLE_JWT__AUTH_TOKEN_CLASSES";

async fn obtain_sliding(app: &TestApp) -> String {
    let res = app
        .post_json(
            "/api/token/sliding/",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    let (status, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
    str_field(&body, "token")
}

async fn slide(app: &TestApp, token: &str) -> (StatusCode, Value) {
    parts(
        app.post_json("/api/token/sliding/refresh/", &json!({ "token": token }))
            .await,
    )
    .await
}

#[tokio::test]
async fn a_sliding_token_has_simplejwts_claims_and_default_lifetimes() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", PASSWORD, true);
    let token = obtain_sliding(&app).await;
    let c = claims(&token);
    let keys: Vec<&String> = c.as_object().expect("claims").keys().collect();
    assert_eq!(
        keys,
        ["token_type", "exp", "iat", "jti", "refresh_exp", "user_id"]
    );
    assert_eq!(c["token_type"], "sliding");
    assert_eq!(c["user_id"], alice.id.to_string());
    let iat = c["iat"].as_i64().expect("iat");
    assert_eq!(c["exp"].as_i64(), Some(iat + 300));
    assert_eq!(c["refresh_exp"].as_i64(), Some(iat + 86_400));

    // Wrong credentials: the obtain pair view's answer.
    let res = app
        .post_json(
            "/api/token/sliding/",
            &json!({"username": "alice", "password": "x"}),
        )
        .await;
    let (status, body) = parts(res).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "No active account found with the given credentials"})
    );
}

#[tokio::test]
async fn lifetimes_and_the_refresh_claim_are_settings() {
    let app = spawn_app_with(&[
        ("SIMPLE_JWT__SLIDING_TOKEN_LIFETIME", "10m"),
        ("SIMPLE_JWT__SLIDING_TOKEN_REFRESH_LIFETIME", "2h"),
        ("SIMPLE_JWT__SLIDING_TOKEN_REFRESH_EXP_CLAIM", "renew_until"),
    ])
    .await;
    app.create_user("alice", PASSWORD, true);
    let c = claims(&obtain_sliding(&app).await);
    let iat = c["iat"].as_i64().expect("iat");
    assert_eq!(c["exp"].as_i64(), Some(iat + 600));
    assert_eq!(c["renew_until"].as_i64(), Some(iat + 7200));
    assert!(c.get("refresh_exp").is_none());
}

#[tokio::test]
async fn refreshing_renews_exp_and_keeps_the_jti_until_refresh_exp() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", PASSWORD, true);
    let token = obtain_sliding(&app).await;
    let (status, body) = slide(&app, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let renewed = claims(&str_field(&body, "token"));
    let before = claims(&token);
    assert_eq!(renewed["jti"], before["jti"]);
    assert_eq!(renewed["refresh_exp"], before["refresh_exp"]);

    // Past refresh_exp (exp still ahead): simplejwt's message.
    let base = json!({
        "token_type": "sliding", "exp": now() + 300, "iat": now() - 100,
        "jti": "0123456789abcdef0123456789abcdef", "user_id": alice.id.to_string(),
    });
    let mut stale = base.clone();
    stale["refresh_exp"] = json!(now() - 1);
    let (status, body) = slide(&app, &app.sign(stale)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "Token 'refresh_exp' claim has expired", "code": "token_not_valid"})
    );
    let (_, body) = slide(&app, &app.sign(base)).await;
    assert_eq!(body["detail"], "Token has no 'refresh_exp' claim");

    // Other kinds are refused; an inactive user cannot slide on.
    let (refresh, _) = app.obtain_pair("alice", PASSWORD).await;
    let (_, body) = slide(&app, &refresh).await;
    assert_eq!(
        body,
        json!({"detail": "Token has wrong type", "code": "token_not_valid"})
    );
    app.set_active(&alice, false);
    let (status, body) = slide(&app, &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "No active account found for the given token."})
    );
}

#[tokio::test]
async fn by_default_only_access_tokens_authenticate() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let token = obtain_sliding(&app).await;
    let (status, body) = parts(app.me(&token).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["messages"],
        json!([{"token_class": "AccessToken", "token_type": "access", "message": "Token has wrong type"}])
    );
}

#[tokio::test]
async fn auth_token_classes_choose_the_kinds_in_order() {
    let app = spawn_app_with(&[(
        CLASSES,
        r#"["rest_framework_simplejwt.tokens.AccessToken", "rest_framework_simplejwt.tokens.SlidingToken"]"#,
    )])
    .await;
    app.create_user("alice", PASSWORD, true);
    let sliding = obtain_sliding(&app).await;
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    assert_eq!(app.me(&sliding).await.status(), StatusCode::OK);
    assert_eq!(app.me(&access).await.status(), StatusCode::OK);
    let (_, body) = parts(app.me("garbage").await).await;
    assert_eq!(
        body["messages"],
        json!([
            {"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid"},
            {"token_class": "SlidingToken", "token_type": "sliding", "message": "Token is invalid"},
        ])
    );

    let only_sliding = spawn_app_with(&[(CLASSES, r#"["SlidingToken"]"#)]).await;
    only_sliding.create_user("alice", PASSWORD, true);
    let (_, access) = only_sliding.obtain_pair("alice", PASSWORD).await;
    let (status, body) = parts(only_sliding.me(&access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["messages"],
        json!([{"token_class": "SlidingToken", "token_type": "sliding", "message": "Token has wrong type"}])
    );
}

#[tokio::test]
async fn a_sliding_token_revoked_by_a_password_change_is_blacklisted() {
    let app = spawn_app_with(&[
        (CLASSES, r#"["SlidingToken"]"#),
        ("SIMPLE_JWT__CHECK_REVOKE_TOKEN", "true"),
    ])
    .await;
    let alice = app.create_user("alice", PASSWORD, true);
    let token = obtain_sliding(&app).await;
    assert_eq!(app.me(&token).await.status(), StatusCode::OK);
    app.change_password(&alice, "another password");
    let (status, body) = slide(&app, &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "The user's password has been changed."})
    );
    // Blacklisted now: refused as such when authenticating and by verify.
    let (_, body) = parts(app.me(&token).await).await;
    assert_eq!(body["messages"][0]["message"], "Token is blacklisted");
    let (status, body) = parts(
        app.post_json("/api/token/verify/", &json!({ "token": token }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"non_field_errors": ["Token is blacklisted"]}));
}
