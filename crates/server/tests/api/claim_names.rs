//! SIMPLE_JWT.USER_ID_FIELD, USER_ID_CLAIM, TOKEN_TYPE_CLAIM and JTI_CLAIM: what the claims are
//! called and which user field identifies the user, end to end (obtain, /api/me/, refresh,
//! blacklist), with simplejwt's defaults when they are absent.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn defaults_are_simplejwts_names_and_the_numeric_id() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", PASSWORD, true);
    let (refresh, access) = app.obtain_pair("alice", PASSWORD).await;
    let c = claims(&access);
    assert_eq!(c["token_type"], "access");
    assert_eq!(c["user_id"], json!(alice.id.to_string()));
    assert!(c["jti"].as_str().is_some_and(|j| j.len() == 32), "{c}");
    assert_eq!(claims(&refresh)["token_type"], "refresh");
}

#[tokio::test]
async fn renamed_claims_and_the_username_as_id_work_end_to_end() {
    let app = spawn_app_with(&[
        ("SIMPLE_JWT__USER_ID_FIELD", "username"),
        ("SIMPLE_JWT__USER_ID_CLAIM", "uid"),
        ("SIMPLE_JWT__TOKEN_TYPE_CLAIM", "typ"),
        ("SIMPLE_JWT__JTI_CLAIM", "token_id"),
        ("SIMPLE_JWT__ROTATE_REFRESH_TOKENS", "true"),
        ("SIMPLE_JWT__BLACKLIST_AFTER_ROTATION", "true"),
    ])
    .await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, access) = app.obtain_pair("alice", PASSWORD).await;
    for (token, kind) in [(&access, "access"), (&refresh, "refresh")] {
        let c = claims(token);
        assert_eq!(c["typ"], kind, "{c}");
        assert_eq!(c["uid"], "alice", "{c}");
        assert!(c["token_id"].as_str().is_some(), "{c}");
        for default_name in ["token_type", "user_id", "jti"] {
            assert!(c.get(default_name).is_none(), "{default_name} in {c}");
        }
    }

    // The user is found by username from the renamed claim.
    let (status, body) = parts(app.me(&access).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["username"], "alice");

    // The type is read from the renamed claim: a refresh token is no access token.
    let (status, body) = parts(app.me(&refresh).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "token_not_valid");

    // Rotation blacklists by the renamed jti claim: the old refresh token is refused after use.
    let (status, body) = parts(
        app.post_json("/api/token/refresh/", &json!({"refresh": refresh}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rotated = str_field(&body, "refresh");
    assert_eq!(claims(&rotated)["uid"], "alice");
    let (status, body) = parts(
        app.post_json("/api/token/refresh/", &json!({"refresh": refresh}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn a_token_without_the_configured_claims_is_refused() {
    let app = spawn_app_with(&[("SIMPLE_JWT__TOKEN_TYPE_CLAIM", "typ")]).await;
    let alice = app.create_user("alice", PASSWORD, true);
    // A well-signed token that names its type with the default claim, not the configured one.
    let token = app.sign(json!({
        "token_type": "access",
        "exp": now() + 300,
        "iat": now(),
        "jti": "0123456789abcdef0123456789abcdef",
        "user_id": alice.id.to_string(),
    }));
    let (status, body) = parts(app.me(&token).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "token_not_valid");
}
