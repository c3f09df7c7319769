//! SIMPLE_JWT.TOKEN_USER_CLAIMS: user fields copied into tokens (what simplejwt users write a
//! custom TokenObtainPairSerializer.get_token for).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn none_by_default() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, access) = app.obtain_pair("alice", PASSWORD).await;
    for token in [refresh, access] {
        let c = claims(&token);
        assert!(
            c.get("username").is_none() && c.get("email").is_none(),
            "{c}"
        );
    }
}

#[tokio::test]
async fn named_fields_go_into_refresh_access_and_sliding_tokens_after_user_id() {
    let app = spawn_app_with(&[(
        "SIMPLE_JWT__TOKEN_USER_CLAIMS",
        r#"["username", "email", "is_staff"]"#,
    )])
    .await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, access) = app.obtain_pair("alice", PASSWORD).await;
    for token in [&refresh, &access] {
        let c = claims(token);
        let keys: Vec<&String> = c.as_object().expect("claims").keys().collect();
        assert_eq!(
            keys,
            [
                "token_type",
                "exp",
                "iat",
                "jti",
                "user_id",
                "username",
                "email",
                "is_staff"
            ]
        );
        assert_eq!(c["username"], "alice");
        assert_eq!(c["email"], "alice@example.com");
        assert_eq!(c["is_staff"], false);
    }
    // A refreshed access token still has them (copied from the refresh token).
    let (status, body) = parts(
        app.post_json("/api/token/refresh/", &json!({ "refresh": refresh }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(claims(&str_field(&body, "access"))["username"], "alice");

    let res = app
        .post_json(
            "/api/token/sliding/",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    let (_, body) = parts(res).await;
    assert_eq!(
        claims(&str_field(&body, "token"))["email"],
        "alice@example.com"
    );
}
