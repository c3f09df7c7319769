//! REST_FRAMEWORK.DEFAULT_AUTHENTICATION_CLASSES and DEFAULT_PERMISSION_CLASSES: DRF's order,
//! BasicAuthentication's messages, the first class's challenge, and the 401-or-403 rule.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const CLASSES: &str = "REST_FRAMEWORK__DEFAULT_AUTHENTICATION_CLASSES";
const PERMISSIONS: &str = "REST_FRAMEWORK__DEFAULT_PERMISSION_CLASSES";
const NOT_PROVIDED: &str = "Authentication credentials were not provided.";
const FORBIDDEN: &str = "You do not have permission to perform this action.";

#[tokio::test]
async fn basic_authentication_alone() {
    let app = spawn_app_with(&[(
        CLASSES,
        r#"["rest_framework.authentication.BasicAuthentication"]"#,
    )])
    .await;
    let alice = app.create_user("alice", PASSWORD, true);
    app.create_user("ina", PASSWORD, false);

    let (status, body, _) = app.me_as(Some(&basic_auth("alice", PASSWORD))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"id": alice.id, "username": "alice", "email": "alice@example.com"})
    );

    let basic = Some("Basic realm=\"api\"".to_owned());
    for (auth, detail) in [
        (
            Some(basic_auth("alice", "wrong")),
            "Invalid username/password.",
        ),
        (
            Some(basic_auth("nobody", PASSWORD)),
            "Invalid username/password.",
        ),
        // Django's ModelBackend refuses inactive users before DRF's own check.
        (
            Some(basic_auth("ina", PASSWORD)),
            "Invalid username/password.",
        ),
        (
            Some("Basic".to_owned()),
            "Invalid basic header. No credentials provided.",
        ),
        (
            Some("basic a b".to_owned()),
            "Invalid basic header. Credentials string should not contain spaces.",
        ),
        (
            Some("Basic YWxpY2U=".to_owned()),
            "Invalid basic header. Credentials not correctly base64 encoded.",
        ),
        (None, NOT_PROVIDED),
        // Not its scheme: nobody recognised the request.
        (Some("Bearer abc".to_owned()), NOT_PROVIDED),
    ] {
        let (status, body, challenge) = app.me_as(auth.as_deref()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(body, json!({ "detail": detail }), "{auth:?}");
        assert_eq!(challenge, basic, "{auth:?}");
    }

    // The token views keep simplejwt's challenge whatever the classes are.
    let res = app
        .post_json(
            "/api/token/",
            &json!({"username": "alice", "password": "wrong"}),
        )
        .await;
    assert_eq!(challenge_of(&res).as_deref(), Some("Bearer realm=\"api\""));
}

#[tokio::test]
async fn classes_are_tried_in_order_and_the_first_sets_the_challenge() {
    for (classes, challenge) in [
        (
            r#"["JWTAuthentication", "BasicAuthentication"]"#,
            "Bearer realm=\"api\"",
        ),
        (
            r#"["BasicAuthentication", "JWTAuthentication"]"#,
            "Basic realm=\"api\"",
        ),
    ] {
        let app = spawn_app_with(&[(CLASSES, classes)]).await;
        app.create_user("alice", PASSWORD, true);
        let (_, access) = app.obtain_pair("alice", PASSWORD).await;

        let (status, _, _) = app.me_as(Some(&format!("Bearer {access}"))).await;
        assert_eq!(status, StatusCode::OK, "{classes}");
        let (status, _, _) = app.me_as(Some(&basic_auth("alice", PASSWORD))).await;
        assert_eq!(status, StatusCode::OK, "{classes}");

        let (status, body, got) = app.me_as(None).await;
        assert_eq!(
            (status, body),
            (StatusCode::UNAUTHORIZED, json!({"detail": NOT_PROVIDED}))
        );
        assert_eq!(got.as_deref(), Some(challenge), "{classes}");

        // The class that recognises its scheme decides: a bad token is not handed on to Basic.
        let (status, body, _) = app.me_as(Some("Bearer not-a-token")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "token_not_valid", "{classes}");
        let (status, body, _) = app.me_as(Some(&basic_auth("alice", "wrong"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body, json!({"detail": "Invalid username/password."}));
    }
}

#[tokio::test]
async fn without_authentication_classes_refusals_are_403() {
    let app = spawn_app_with(&[(CLASSES, "[]")]).await;
    let (status, body, challenge) = app.me_as(Some("Bearer whatever")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, json!({"detail": FORBIDDEN}));
    assert_eq!(challenge, None);
}

#[tokio::test]
async fn is_admin_user_needs_staff() {
    let app = spawn_app_with(&[
        (PERMISSIONS, r#"["rest_framework.permissions.IsAdminUser"]"#),
        NO_USER_CACHE,
    ])
    .await;
    let alice = app.create_user("alice", PASSWORD, true);
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let bearer = format!("Bearer {access}");

    let (status, body, _) = app.me_as(Some(&bearer)).await;
    assert_eq!(
        (status, body),
        (StatusCode::FORBIDDEN, json!({"detail": FORBIDDEN}))
    );
    let (status, body, _) = app.me_as(None).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({"detail": NOT_PROVIDED}))
    );

    app.set_staff(&alice, true);
    let (status, _, _) = app.me_as(Some(&bearer)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn stateless_users_are_staff_by_their_claim() {
    let app = spawn_app_with(&[
        (
            CLASSES,
            r#"["rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication"]"#,
        ),
        (PERMISSIONS, r#"["IsAdminUser"]"#),
        (
            "SIMPLE_JWT__TOKEN_USER_CLAIMS",
            r#"["username", "email", "is_staff"]"#,
        ),
    ])
    .await;
    let alice = app.create_user("alice", PASSWORD, true);
    app.set_staff(&alice, true);
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let (status, body, _) = app.me_as(Some(&format!("Bearer {access}"))).await;
    assert_eq!(status, StatusCode::OK);
    // No database: the user comes from the claims.
    assert_eq!(
        body,
        json!({"id": alice.id.to_string(), "username": "alice", "email": "alice@example.com"})
    );

    let bob = app.create_user("bob", PASSWORD, true);
    let (_, access) = app.obtain_pair("bob", PASSWORD).await;
    let (status, _, _) = app.me_as(Some(&format!("Bearer {access}"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{bob:?} is not staff");
}
