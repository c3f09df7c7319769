//! SIMPLE_JWT.CHECK_REVOKE_TOKEN / REVOKE_TOKEN_CLAIM: tokens carry an MD5 of the password hash
//! and die when the password changes, on authentication and on refresh.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

/// Python's `hashlib.md5(user.password.encode()).hexdigest().upper()`.
fn md5_upper(text: &str) -> String {
    auth::tokens::revoke::password_hash_claim(text)
}

#[tokio::test]
async fn off_by_default_tokens_survive_a_password_change() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", PASSWORD, true);
    let (refresh, access) = app.obtain_pair("alice", PASSWORD).await;
    assert!(claims(&access).get("hash_password").is_none());
    app.change_password(&alice, "another password");
    assert_eq!(app.me(&access).await.status(), StatusCode::OK);
    let res = app
        .post_json("/api/token/refresh/", &json!({ "refresh": refresh }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_password_change_ends_access_and_refresh_tokens() {
    let app = spawn_app_with(&[("SIMPLE_JWT__CHECK_REVOKE_TOKEN", "true"), NO_USER_CACHE]).await;
    let alice = app.create_user("alice", PASSWORD, true);
    let (refresh, access) = app.obtain_pair("alice", PASSWORD).await;
    let stored = app.user("alice").expect("alice").password;
    // After user_id, in both tokens (the access token copies it).
    for token in [&refresh, &access] {
        let c = claims(token);
        assert_eq!(c["hash_password"], md5_upper(&stored));
        let keys: Vec<&String> = c.as_object().expect("claims").keys().collect();
        assert_eq!(
            keys,
            [
                "token_type",
                "exp",
                "iat",
                "jti",
                "user_id",
                "hash_password"
            ]
        );
    }
    assert_eq!(app.me(&access).await.status(), StatusCode::OK);

    app.change_password(&alice, "another password");
    let (status, body) = parts(app.me(&access).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "The user's password has been changed.", "code": "password_changed"})
    );

    // Refresh: DRF's AuthenticationFailed (no code), and the token is blacklisted for good.
    let (status, body) = parts(
        app.post_json("/api/token/refresh/", &json!({ "refresh": refresh }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "The user's password has been changed."})
    );
    let (status, body) = parts(
        app.post_json("/api/token/refresh/", &json!({ "refresh": refresh }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
    );

    // A new login carries the new hash and works.
    let (_, access) = app.obtain_pair("alice", "another password").await;
    assert_eq!(app.me(&access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_claim_name_is_a_setting_and_a_token_without_it_is_refused() {
    let app = spawn_app_with(&[
        ("SIMPLE_JWT__CHECK_REVOKE_TOKEN", "true"),
        ("SIMPLE_JWT__REVOKE_TOKEN_CLAIM", "pwd"),
    ])
    .await;
    let alice = app.create_user("alice", PASSWORD, true);
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    assert!(claims(&access).get("pwd").is_some());
    assert!(claims(&access).get("hash_password").is_none());

    // Issued before CHECK_REVOKE_TOKEN was turned on: no claim, refused like a changed password.
    let old = app.sign(json!({
        "token_type": "access", "exp": now() + 300, "iat": now(),
        "jti": "0123456789abcdef0123456789abcdef", "user_id": alice.id.to_string(),
    }));
    let (status, body) = parts(app.me(&old).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "password_changed");
}
