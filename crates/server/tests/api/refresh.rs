//! POST /api/token/refresh/: access from refresh, rotation, blacklist-after-rotation, user checks.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

fn token_error(msg: &str) -> Value {
    json!({"detail": msg, "code": "token_not_valid"})
}

#[tokio::test]
async fn refresh_rotates_and_blacklists_the_old_token() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, _) = app.obtain_pair("alice", PASSWORD).await;

    let (status, body) = parts(
        app.post_json("/api/token/refresh/", &json!({"refresh": refresh}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let keys: Vec<_> = body
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["access", "refresh"]);
    let new_refresh = str_field(&body, "refresh");
    let access = str_field(&body, "access");
    let (old, new) = (claims(&refresh), claims(&new_refresh));
    assert_ne!(old["jti"], new["jti"]);
    assert_eq!(old["user_id"], new["user_id"]);
    assert_eq!(claims(&access)["token_type"], "access");
    assert_eq!(app.me(&access).await.status(), StatusCode::OK);

    let res = app
        .post_json("/api/token/refresh/", &json!({"refresh": refresh}))
        .await;
    assert_eq!(
        res.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer realm=\"api\"")
    );
    let (status, body) = parts(res).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, token_error("Token is blacklisted"));

    // The rotated token works, once.
    let (status, _) = parts(
        app.post_json("/api/token/refresh/", &json!({"refresh": new_refresh}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn without_rotation_only_an_access_token_comes_back() {
    let app = spawn_app_with(&[("SIMPLE_JWT__ROTATE_REFRESH_TOKENS", "false")]).await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, _) = app.obtain_pair("alice", PASSWORD).await;
    for _ in 0..2 {
        let (status, body) = parts(
            app.post_json("/api/token/refresh/", &json!({"refresh": refresh}))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body.as_object().map(|m| m.len()), Some(1), "{body}");
        assert!(body["access"].is_string());
    }
}

#[tokio::test]
async fn rotation_without_blacklisting_leaves_the_old_token_usable() {
    let app = spawn_app_with(&[("SIMPLE_JWT__BLACKLIST_AFTER_ROTATION", "false")]).await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, _) = app.obtain_pair("alice", PASSWORD).await;
    for _ in 0..2 {
        let (status, body) = parts(
            app.post_json("/api/token/refresh/", &json!({"refresh": refresh}))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(body["refresh"].is_string());
    }
}

#[tokio::test]
async fn access_copies_custom_claims_of_the_refresh_token() {
    let app = spawn_app_with(&[("SIMPLE_JWT__ROTATE_REFRESH_TOKENS", "false")]).await;
    let alice = app.create_user("alice", PASSWORD, true);
    let refresh = app.sign(json!({
        "token_type": "refresh", "exp": now() + 600, "iat": now(), "jti": "a".repeat(32),
        "user_id": alice.id.to_string(), "tenant": "acme",
    }));
    let (status, body) = parts(
        app.post_json("/api/token/refresh/", &json!({"refresh": refresh}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let access = claims(&str_field(&body, "access"));
    assert_eq!(access["tenant"], "acme");
    assert_eq!(access["token_type"], "access");
    assert_ne!(access["jti"], json!("a".repeat(32)));
}

#[tokio::test]
async fn token_errors() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", PASSWORD, true);
    let uid = alice.id.to_string();
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let t = now();
    let cases = [
        ("garbage".to_owned(), "Token is invalid"),
        (access, "Token has wrong type"),
        (app.sign(json!({"token_type": "refresh", "exp": t - 1, "iat": t - 100, "jti": "x", "user_id": uid})), "Token is expired"),
        (app.sign(json!({"exp": t + 100, "jti": "x", "user_id": uid})), "Token has no type"),
        (app.sign(json!({"token_type": "refresh", "exp": t + 100, "user_id": uid})), "Token has no id"),
        (app.sign(json!({"token_type": "refresh", "jti": "x", "user_id": uid})), "Token has no 'exp' claim"),
        (app.sign(json!({"token_type": "refresh", "exp": "soon", "jti": "x", "user_id": uid})), "Token is invalid"),
        (app.sign(json!({"token_type": "refresh", "exp": t + 100, "iat": t + 1000, "jti": "x", "user_id": uid})), "Token is invalid"),
        (app.sign(json!({"token_type": "refresh", "exp": t + 100, "nbf": t + 1000, "jti": "x", "user_id": uid})), "Token is invalid"),
    ];
    for (token, msg) in cases {
        let (status, body) = parts(
            app.post_json("/api/token/refresh/", &json!({"refresh": token}))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{msg}");
        assert_eq!(body, token_error(msg));
    }
    let (status, body) = parts(app.post_json("/api/token/refresh/", &json!({})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"refresh": ["This field is required."]}));
}

#[tokio::test]
async fn inactive_deleted_and_unknown_users_have_no_active_account() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", PASSWORD, true);
    let bob = app.create_user("bob", PASSWORD, true);
    let (alice_refresh, _) = app.obtain_pair("alice", PASSWORD).await;
    let (bob_refresh, _) = app.obtain_pair("bob", PASSWORD).await;
    app.set_active(&alice, false);
    app.delete_user(&bob);
    let t = now();
    let stranger = app.sign(
        json!({"token_type": "refresh", "exp": t + 100, "iat": t, "jti": "y", "user_id": "99999"}),
    );
    let weird = app.sign(
        json!({"token_type": "refresh", "exp": t + 100, "iat": t, "jti": "z", "user_id": "abc"}),
    );
    for token in [alice_refresh, bob_refresh, stranger, weird] {
        let (status, body) = parts(
            app.post_json("/api/token/refresh/", &json!({"refresh": token}))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            body,
            json!({"detail": "No active account found for the given token."})
        );
    }
}

#[tokio::test]
async fn check_user_is_active_off_lets_inactive_users_refresh() {
    let app = spawn_app_with(&[("SIMPLE_JWT__CHECK_USER_IS_ACTIVE", "false")]).await;
    let alice = app.create_user("alice", PASSWORD, true);
    let (refresh, access) = app.obtain_pair("alice", PASSWORD).await;
    app.set_active(&alice, false);
    let (status, _) = parts(
        app.post_json("/api/token/refresh/", &json!({"refresh": refresh}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.me(&access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn many_concurrent_refreshes_of_one_token_yield_exactly_one_success() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, _) = app.obtain_pair("alice", PASSWORD).await;
    let body = json!({"refresh": refresh});
    let requests = (0..100).map(|_| app.post_json("/api/token/refresh/", &body));
    let responses = futures_util::future::join_all(requests).await;
    let mut ok = 0;
    for res in responses {
        let (status, body) = parts(res).await;
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::UNAUTHORIZED => assert_eq!(body, token_error("Token is blacklisted")),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(ok, 1);
}
