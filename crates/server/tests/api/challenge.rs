//! The `WWW-Authenticate` header, pinned for every kind of 401: a protected view answers with its
//! first authentication class's challenge (DRF's `get_authenticate_header`), a token view with
//! simplejwt's (the first AUTH_HEADER_TYPES, realm "api"), whatever raised the 401; an answer
//! that is not a 401 carries none.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

const CLASSES: &str = "REST_FRAMEWORK__DEFAULT_AUTHENTICATION_CLASSES";
const BEARER: Option<&str> = Some("Bearer realm=\"api\"");
const BASIC: Option<&str> = Some("Basic realm=\"api\"");
const JWT: Option<&str> = Some("JWT realm=\"api\"");

/// One request: method, path, optional Authorization, optional JSON body.
struct Call<'a> {
    method: Method,
    path: &'a str,
    authorization: Option<String>,
    body: Option<Value>,
}

fn call(method: Method, path: &str) -> Call<'_> {
    Call {
        method,
        path,
        authorization: None,
        body: None,
    }
}

impl Call<'_> {
    fn auth(mut self, authorization: impl Into<String>) -> Self {
        self.authorization = Some(authorization.into());
        self
    }

    fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
}

/// The status, body and challenge of `call`.
async fn send(app: &TestApp, call: &Call<'_>) -> (StatusCode, Value, Option<String>) {
    let mut req = app.client.request(call.method.clone(), app.url(call.path));
    if let Some(a) = &call.authorization {
        req = req.header("Authorization", a);
    }
    if let Some(body) = &call.body {
        req = req.json(body);
    }
    let res = req.send().await.expect("request");
    let challenge = challenge_of(&res);
    let status = res.status();
    let text = res.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body, challenge)
}

/// Asserts that each call is a 401 with `challenge`.
async fn assert_401s(app: &TestApp, calls: &[Call<'_>], challenge: Option<&str>) {
    for c in calls {
        let (status, body, got) = send(app, c).await;
        let what = format!("{} {} ({:?}): {body}", c.method, c.path, c.authorization);
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(got.as_deref(), challenge, "{what}");
    }
}

/// Every way into a protected view without acceptable credentials: the views' own methods, the
/// OPTIONS and wrong-method answers (authentication runs first), a malformed header, a bad token.
fn protected_calls() -> Vec<Call<'static>> {
    let mut calls = Vec::new();
    for path in [
        "/api/me/",
        "/api/token/logout-all/",
        "/api/users/me/password/",
    ] {
        for method in [Method::GET, Method::POST, Method::OPTIONS, Method::DELETE] {
            calls.push(call(method, path));
        }
        calls.push(call(Method::POST, path).auth("Bearer not-a-token"));
        calls.push(call(Method::POST, path).auth("Bearer two words"));
    }
    calls
}

/// Every token view refusing its input with a 401.
fn token_view_calls() -> Vec<Call<'static>> {
    let wrong = json!({"username": "alice", "password": "wrong"});
    vec![
        call(Method::POST, "/api/token/").json(wrong.clone()),
        call(Method::POST, "/api/token/sliding/").json(wrong),
        call(Method::POST, "/api/token/refresh/").json(json!({"refresh": "not-a-token"})),
        call(Method::POST, "/api/token/sliding/refresh/").json(json!({"token": "not-a-token"})),
        call(Method::POST, "/api/token/verify/").json(json!({"token": "not-a-token"})),
        call(Method::POST, "/api/token/blacklist/").json(json!({"refresh": "not-a-token"})),
        call(Method::POST, "/api/token/logout/").json(json!({"refresh": "not-a-token"})),
        // dj-rest-auth's "Refresh token was not included in request data."
        call(Method::POST, "/api/token/logout/").json(json!({})),
    ]
}

#[tokio::test]
async fn protected_views_with_jwt_authentication_answer_bearer() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    assert_401s(&app, &protected_calls(), BEARER).await;
    // The token views too: simplejwt's challenge is the same one here.
    assert_401s(&app, &token_view_calls(), BEARER).await;
}

#[tokio::test]
async fn protected_views_with_basic_first_answer_basic() {
    let app = spawn_app_with(&[(
        CLASSES,
        r#"["BasicAuthentication", "JWTStatelessUserAuthentication"]"#,
    )])
    .await;
    app.create_user("alice", PASSWORD, true);
    let mut calls = protected_calls();
    calls.push(call(Method::GET, "/api/me/").auth(basic_auth("alice", "wrong")));
    calls.push(call(Method::GET, "/api/me/").auth("Basic"));
    assert_401s(&app, &calls, BASIC).await;

    // A 401 the view itself raises after authentication (the stateless token names no user in
    // the database) answers with the view's challenge too.
    let t = now();
    let ghost = app.sign(json!({
        "token_type": "access", "exp": t + 60, "iat": t, "jti": "ghost", "user_id": 4242,
    }));
    let bearer = format!("Bearer {ghost}");
    let in_view = [
        call(Method::POST, "/api/token/logout-all/").auth(bearer.clone()),
        call(Method::POST, "/api/users/me/password/")
            .auth(bearer)
            .json(json!({"old_password": "a", "new_password": "b"})),
    ];
    for c in &in_view {
        let (status, body, got) = send(&app, c).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{}: {body}", c.path);
        assert_eq!(
            body,
            json!({"detail": "User not found", "code": "user_not_found"}),
            "{}",
            c.path
        );
        assert_eq!(got.as_deref(), BASIC, "{}", c.path);
    }

    // The token views keep simplejwt's challenge whatever the classes are.
    assert_401s(&app, &token_view_calls(), BEARER).await;
}

#[tokio::test]
async fn the_cookie_class_first_answers_with_the_header_type() {
    let app = spawn_app_with(&[
        (CLASSES, r#"["JWTCookieAuthentication"]"#),
        ("REST_AUTH__JWT_AUTH_COOKIE", "access-token"),
        ("REST_AUTH__JWT_AUTH_REFRESH_COOKIE", "refresh-token"),
    ])
    .await;
    let mut calls = protected_calls();
    calls.push(call(Method::GET, "/api/me/"));
    assert_401s(&app, &calls, BEARER).await;
    let res = app
        .client
        .get(app.url("/api/me/"))
        .header("Cookie", "access-token=not-a-token")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge_of(&res).as_deref(), BEARER);

    // The refresh view without a refresh token in the body or the cookie.
    let mut token_calls = token_view_calls();
    token_calls.push(call(Method::POST, "/api/token/refresh/").json(json!({})));
    assert_401s(&app, &token_calls, BEARER).await;
}

#[tokio::test]
async fn a_custom_header_type_names_the_challenge() {
    let types = ("SIMPLE_JWT__AUTH_HEADER_TYPES", r#"["JWT", "Bearer"]"#);
    let app = spawn_app_with(&[types]).await;
    app.create_user("alice", PASSWORD, true);
    assert_401s(&app, &protected_calls(), JWT).await;
    assert_401s(&app, &token_view_calls(), JWT).await;

    // Basic first: the protected views say Basic, the token views still the header type.
    let app = spawn_app_with(&[
        types,
        (CLASSES, r#"["BasicAuthentication", "JWTAuthentication"]"#),
    ])
    .await;
    assert_401s(&app, &protected_calls(), BASIC).await;
    assert_401s(&app, &token_view_calls(), JWT).await;
}

#[tokio::test]
async fn answers_other_than_401_carry_no_challenge() {
    let app = spawn_app_with(&[
        (
            "REST_FRAMEWORK__DEFAULT_PERMISSION_CLASSES",
            r#"["rest_framework.permissions.IsAdminUser"]"#,
        ),
        NO_USER_CACHE,
    ])
    .await;
    let alice = app.create_user("alice", PASSWORD, true);
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let bearer = format!("Bearer {access}");
    let checks = [
        // 400: field errors, a body that does not parse.
        (
            call(Method::POST, "/api/token/").json(json!({})),
            StatusCode::BAD_REQUEST,
        ),
        (
            call(Method::POST, "/api/token/refresh/").json(json!({"refresh": ""})),
            StatusCode::BAD_REQUEST,
        ),
        // 403: authenticated, not permitted.
        (
            call(Method::GET, "/api/me/").auth(bearer.clone()),
            StatusCode::FORBIDDEN,
        ),
        (
            call(Method::POST, "/api/token/logout-all/").auth(bearer.clone()),
            StatusCode::FORBIDDEN,
        ),
        // 405 and 404.
        (
            call(Method::GET, "/api/token/"),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (call(Method::GET, "/nowhere/"), StatusCode::NOT_FOUND),
    ];
    for (c, expected) in &checks {
        let (status, body, got) = send(&app, c).await;
        assert_eq!(status, *expected, "{} {}: {body}", c.method, c.path);
        assert_eq!(got, None, "{} {}", c.method, c.path);
    }

    // 200, and 405 and 400 behind authentication, for a permitted user.
    app.set_staff(&alice, true);
    let checks = [
        (
            call(Method::GET, "/api/me/").auth(bearer.clone()),
            StatusCode::OK,
        ),
        (
            call(Method::PUT, "/api/me/").auth(bearer.clone()),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            call(Method::POST, "/api/users/me/password/")
                .auth(bearer)
                .json(json!({})),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (c, expected) in &checks {
        let (status, body, got) = send(&app, c).await;
        assert_eq!(status, *expected, "{} {}: {body}", c.method, c.path);
        assert_eq!(got, None, "{} {}", c.method, c.path);
    }

    // 403 without authentication classes, and a CSRF refusal.
    let app = spawn_app_with(&[(CLASSES, "[]")]).await;
    let (status, _, got) = send(&app, &call(Method::GET, "/api/me/")).await;
    assert_eq!((status, got), (StatusCode::FORBIDDEN, None));
    let app = spawn_app_with(&[("REST_AUTH__JWT_AUTH_COOKIE", "access-token")]).await;
    let res = app
        .client
        .post(app.url("/api/token/"))
        .header("Origin", "https://evil.example")
        .json(&json!({"username": "alice", "password": "wrong"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(challenge_of(&res), None);
}
