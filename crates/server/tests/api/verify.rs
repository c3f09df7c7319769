//! POST /api/token/verify/: any well-signed, unexpired token with exp and jti; blacklisted refresh
//! tokens are a 400.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn verify_accepts_access_and_refresh_tokens() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, access) = app.obtain_pair("alice", PASSWORD).await;
    for token in [refresh, access] {
        let (status, body) = parts(
            app.post_json("/api/token/verify/", &json!({"token": token}))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({}));
    }
    let untyped = app.sign(json!({"exp": now() + 60, "jti": "x"}));
    let (status, _) = parts(
        app.post_json("/api/token/verify/", &json!({"token": untyped}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "any type, even none");
}

#[tokio::test]
async fn verify_refuses_bad_tokens_with_simplejwt_messages() {
    let app = spawn_app().await;
    let t = now();
    let cases = [
        ("nope".to_owned(), "Token is invalid"),
        (
            app.sign(json!({"token_type": "access", "exp": t - 5, "jti": "x"})),
            "Token is expired",
        ),
        (
            app.sign(json!({"token_type": "access", "exp": t + 60})),
            "Token has no id",
        ),
        (
            app.sign(json!({"token_type": "access", "jti": "x"})),
            "Token has no 'exp' claim",
        ),
    ];
    for (token, msg) in cases {
        let (status, body) = parts(
            app.post_json("/api/token/verify/", &json!({"token": token}))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{msg}");
        assert_eq!(body, json!({"detail": msg, "code": "token_not_valid"}));
    }
    let (status, body) = parts(
        app.post_json("/api/token/verify/", &json!({"token": ""}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"token": ["This field may not be blank."]}));
}

#[tokio::test]
async fn verify_of_a_blacklisted_refresh_token_is_400() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, access) = app.obtain_pair("alice", PASSWORD).await;
    let (status, _) = parts(
        app.post_json("/api/token/blacklist/", &json!({"refresh": refresh}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = parts(
        app.post_json("/api/token/verify/", &json!({"token": refresh}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"non_field_errors": ["Token is blacklisted"]}));
    // Blacklisting a refresh token does not end its access tokens.
    let (status, _) = parts(
        app.post_json("/api/token/verify/", &json!({"token": access}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}
