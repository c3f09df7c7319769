//! GET /api/me/: the example protected view behind the authentication classes + IsAuthenticated.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const NOT_PROVIDED: &str = "Authentication credentials were not provided.";

fn invalid(msg: &str) -> Value {
    json!({
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": "AccessToken", "token_type": "access", "message": msg}],
    })
}

async fn me_with(
    app: &TestApp,
    authorization: Option<&str>,
) -> (StatusCode, Value, Option<String>) {
    let mut req = app.client.get(app.url("/api/me/"));
    if let Some(a) = authorization {
        req = req.header("Authorization", a);
    }
    let res = req.send().await.expect("request");
    let challenge = res
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, body) = parts(res).await;
    (status, body, challenge)
}

#[tokio::test]
async fn a_valid_access_token_shows_the_user() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", PASSWORD, true);
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let (status, body, _) = me_with(&app, Some(&format!("Bearer {access}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"id": alice.id, "username": "alice", "email": "alice@example.com"})
    );
}

#[tokio::test]
async fn missing_or_foreign_schemes_are_not_provided() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let jwt = format!("JWT {access}");
    let lower = format!("bearer {access}");
    for auth in [
        None,
        Some(jwt.as_str()),
        Some(lower.as_str()),
        Some("Basic YWxpY2U6eA=="),
        Some(""),
        Some("   "),
    ] {
        let (status, body, challenge) = me_with(&app, auth).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(body, json!({"detail": NOT_PROVIDED}), "{auth:?}");
        assert_eq!(challenge.as_deref(), Some("Bearer realm=\"api\""));
    }
}

#[tokio::test]
async fn malformed_bearer_headers() {
    let app = spawn_app().await;
    for auth in ["Bearer", "Bearer a b", "Bearer  "] {
        let (status, body, challenge) = me_with(&app, Some(auth)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(
            body,
            json!({"detail": "Authorization header must contain two space-delimited values", "code": "bad_authorization_header"}),
            "{auth:?}"
        );
        assert!(challenge.is_some());
    }
}

#[tokio::test]
async fn two_authorization_headers_are_refused() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let res = app
        .client
        .get(app.url("/api/me/"))
        .header("Authorization", format!("Bearer {access}"))
        .header("Authorization", "Bearer forged")
        .send()
        .await
        .expect("request");
    let (status, body) = parts(res).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "bad_authorization_header");
}

#[tokio::test]
async fn invalid_tokens_list_the_reason() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, _) = app.obtain_pair("alice", PASSWORD).await;
    let t = now();
    let cases = [
        ("nonsense".to_owned(), "Token is invalid"),
        (refresh, "Token has wrong type"),
        (
            app.sign(json!({"token_type": "access", "exp": t - 1, "jti": "x", "user_id": "1"})),
            "Token is expired",
        ),
        (
            app.sign(json!({"exp": t + 60, "jti": "x", "user_id": "1"})),
            "Token has no type",
        ),
        (
            app.sign(json!({"token_type": "access", "exp": t + 60, "user_id": "1"})),
            "Token has no id",
        ),
    ];
    for (token, msg) in cases {
        let (status, body, challenge) = me_with(&app, Some(&format!("Bearer {token}"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{msg}");
        assert_eq!(body, invalid(msg));
        assert!(challenge.is_some());
    }
}

#[tokio::test]
async fn user_problems() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", PASSWORD, true);
    let bob = app.create_user("bob", PASSWORD, true);
    let (_, alice_access) = app.obtain_pair("alice", PASSWORD).await;
    let (_, bob_access) = app.obtain_pair("bob", PASSWORD).await;
    app.set_active(&alice, false);
    app.delete_user(&bob);
    let t = now();
    let no_id = app.sign(json!({"token_type": "access", "exp": t + 60, "jti": "x"}));
    let weird_id =
        app.sign(json!({"token_type": "access", "exp": t + 60, "jti": "x", "user_id": "abc"}));
    let int_id =
        app.sign(json!({"token_type": "access", "exp": t + 60, "jti": "x", "user_id": alice.id}));
    let cases = [
        (
            alice_access,
            json!({"detail": "User is inactive", "code": "user_inactive"}),
        ),
        (
            int_id,
            json!({"detail": "User is inactive", "code": "user_inactive"}),
        ),
        (
            bob_access,
            json!({"detail": "User not found", "code": "user_not_found"}),
        ),
        (
            no_id,
            json!({"detail": "Token contained no recognizable user identification", "code": "token_not_valid"}),
        ),
        (
            weird_id,
            json!({"detail": "Token contained no recognizable user identification", "code": "token_not_valid"}),
        ),
    ];
    for (token, want) in cases {
        let (status, body, challenge) = me_with(&app, Some(&format!("Bearer {token}"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{want}");
        assert_eq!(body, want);
        assert!(challenge.is_some());
    }
}

#[tokio::test]
async fn authentication_runs_before_the_method_check() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let (status, body) = parts(
        app.client
            .post(app.url("/api/me/"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, json!({"detail": NOT_PROVIDED}));
    let res = app
        .client
        .post(app.url("/api/me/"))
        .header("Authorization", format!("Bearer {access}"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        res.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("GET, HEAD, OPTIONS")
    );
    let (status, body) = parts(res).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body, json!({"detail": "Method \"POST\" not allowed."}));
}

#[tokio::test]
async fn is_admin_user_in_the_defaults_restricts_to_staff() {
    let app = spawn_app_with(&[(
        "REST_FRAMEWORK__DEFAULT_PERMISSION_CLASSES",
        r#"["IsAdminUser"]"#,
    )])
    .await;
    app.create_user("alice", PASSWORD, true);
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let (status, body) = parts(app.me(&access).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        json!({"detail": "You do not have permission to perform this action."})
    );
}

#[tokio::test]
async fn stateless_authentication_needs_no_user_row() {
    let app = spawn_app_with(&[(
        "REST_FRAMEWORK__DEFAULT_AUTHENTICATION_CLASSES",
        r#"["rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication"]"#,
    )])
    .await;
    let t = now();
    let token = app.sign(json!({"token_type": "access", "exp": t + 60, "iat": t, "jti": "x", "user_id": "42", "username": "ghost"}));
    let (status, body) = parts(app.me(&token).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"id": "42", "username": "ghost", "email": ""}));
}

#[tokio::test]
async fn other_header_types_and_names_are_configurable() {
    let app = spawn_app_with(&[
        ("SIMPLE_JWT__AUTH_HEADER_TYPES", r#"["JWT", "Bearer"]"#),
        ("SIMPLE_JWT__AUTH_HEADER_NAME", "HTTP_X_ACCESS_TOKEN"),
    ])
    .await;
    app.create_user("alice", PASSWORD, true);
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    for scheme in ["JWT", "Bearer"] {
        let res = app
            .client
            .get(app.url("/api/me/"))
            .header("X-Access-Token", format!("{scheme} {access}"))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::OK, "{scheme}");
    }
    let res = app
        .get_with_auth("/api/me/", &format!("Bearer {access}"))
        .await;
    assert_eq!(
        res.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("JWT realm=\"api\"")
    );
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// `[CACHES] USER_TTL`: a worker reuses the user row it loaded; a change made behind its back
/// (here straight in the database, as `manage deactivate` does) shows once the entry expires, and
/// at once with "0s".
#[tokio::test]
async fn the_user_cache_bounds_how_long_a_change_elsewhere_takes() {
    for (ttl, after_deactivation) in [("60s", StatusCode::OK), ("0s", StatusCode::UNAUTHORIZED)] {
        let app = spawn_app_with(&[("CACHES__USER_TTL", ttl)]).await;
        let alice = app.create_user("alice", PASSWORD, true);
        let (_, access) = app.obtain_pair("alice", PASSWORD).await;
        assert_eq!(app.me(&access).await.status(), StatusCode::OK, "{ttl}");
        app.set_active(&alice, false);
        let (status, body) = parts(app.me(&access).await).await;
        assert_eq!(status, after_deactivation, "{ttl}: {body}");
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(
                body,
                json!({"detail": "User is inactive", "code": "user_inactive"})
            );
        } else {
            assert_eq!(body["username"], "alice");
        }
    }
}
