//! POST /api/token/: credentials in, a token pair out; every failure as simplejwt words it.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const NO_ACCOUNT: &str = "No active account found with the given credentials";

#[tokio::test]
async fn valid_credentials_give_a_pair_with_simplejwt_claims() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", PASSWORD, true);
    let (refresh, access) = app.obtain_pair("alice", PASSWORD).await;

    let r = claims(&refresh);
    let a = claims(&access);
    let keys = |v: &serde_json::Value| {
        v.as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert_eq!(keys(&r), ["token_type", "exp", "iat", "jti", "user_id"]);
    assert_eq!(keys(&a), ["token_type", "exp", "iat", "jti", "user_id"]);
    assert_eq!(r["token_type"], "refresh");
    assert_eq!(a["token_type"], "access");
    assert_eq!(r["user_id"], json!(alice.id.to_string()));
    assert_eq!(a["user_id"], json!(alice.id.to_string()));
    let iat = r["iat"].as_i64().unwrap_or_default();
    assert!((iat - now()).abs() <= 5);
    assert_eq!(
        r["exp"].as_i64(),
        Some(iat + 86_400),
        "refresh lives one day"
    );
    assert_eq!(
        a["exp"].as_i64(),
        Some(iat + 300),
        "access lives five minutes"
    );
    for t in [&r, &a] {
        let jti = t["jti"].as_str().unwrap_or_default();
        assert_eq!(jti.len(), 32);
        assert!(jti.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
    }
    assert_ne!(r["jti"], a["jti"]);
    // The header segment is PyJWT's, byte for byte.
    assert!(refresh.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."));
}

#[tokio::test]
async fn wrong_password_unknown_user_and_inactive_user_are_the_same_401() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    app.create_user("sleepy", PASSWORD, false);
    for (username, password) in [
        ("alice", "wrong"),
        ("nobody", PASSWORD),
        ("sleepy", PASSWORD),
        ("ALICE", PASSWORD),
    ] {
        let res = app
            .post_json(
                "/api/token/",
                &json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(
            res.headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer realm=\"api\"")
        );
        let (status, body) = parts(res).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{username}");
        assert_eq!(
            body,
            json!({ "detail": NO_ACCOUNT }),
            "{username}: no code, as DRF"
        );
    }
}

#[tokio::test]
async fn field_errors_follow_drf() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"password": "x"}),
            json!({"username": ["This field is required."]}),
        ),
        (
            json!({}),
            json!({"username": ["This field is required."], "password": ["This field is required."]}),
        ),
        (
            json!({"username": "", "password": "x"}),
            json!({"username": ["This field may not be blank."]}),
        ),
        (
            json!({"username": "a", "password": "   "}),
            json!({"password": ["This field may not be blank."]}),
        ),
        (
            json!({"username": null, "password": "x"}),
            json!({"username": ["This field may not be null."]}),
        ),
        (
            json!({"username": true, "password": "x"}),
            json!({"username": ["Not a valid string."]}),
        ),
        (
            json!({"username": ["a"], "password": "x"}),
            json!({"username": ["Not a valid string."]}),
        ),
        (
            json!({"username": {"a": 1}, "password": "x"}),
            json!({"username": ["Not a valid string."]}),
        ),
        (
            json!({"username": "a\u{0}", "password": "x"}),
            json!({"username": ["Null characters are not allowed."]}),
        ),
    ];
    for (body, want) in cases {
        let (status, got) = parts(app.post_json("/api/token/", &body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(got, want, "{body}");
    }
}

#[tokio::test]
async fn a_number_is_taken_as_its_string_and_whitespace_is_trimmed() {
    let app = spawn_app().await;
    app.create_user("12345", " pass word ".trim(), true);
    let res = app
        .post_json(
            "/api/token/",
            &json!({"username": 12345, "password": "  pass word  "}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_json(
            "/api/token/",
            &json!({"username": " 12345\n", "password": "pass word"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn form_and_multipart_bodies_work_like_json() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let res = app
        .client
        .post(app.url("/api/token/"))
        .form(&[("username", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .expect("request");
    let (status, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["access"].is_string() && body["refresh"].is_string());

    let form = reqwest::multipart::Form::new()
        .text("username", "alice")
        .text("password", PASSWORD);
    let res = app
        .client
        .post(app.url("/api/token/"))
        .multipart(form)
        .send()
        .await
        .expect("request");
    let (status, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let form = reqwest::multipart::Form::new().text("username", "alice");
    let res = app
        .client
        .post(app.url("/api/token/"))
        .multipart(form)
        .send()
        .await
        .expect("request");
    let (status, body) = parts(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"password": ["This field is required."]}));
}

#[tokio::test]
async fn last_duplicate_key_wins() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let body = format!(r#"{{"username":"nobody","username":"alice","password":"{PASSWORD}"}}"#);
    let res = app.post_raw("/api/token/", "application/json", body).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_raw(
            "/api/token/",
            "application/x-www-form-urlencoded",
            format!(
                "username=x&username=alice&password={}",
                PASSWORD.replace(' ', "+")
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn update_last_login_is_honoured() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    app.obtain_pair("alice", PASSWORD).await;
    assert_eq!(
        app.user("alice").and_then(|u| u.last_login),
        None,
        "off by default, as simplejwt"
    );

    let app = spawn_app_with(&[("SIMPLE_JWT__UPDATE_LAST_LOGIN", "true")]).await;
    app.create_user("alice", PASSWORD, true);
    app.obtain_pair("alice", PASSWORD).await;
    let last = app
        .user("alice")
        .and_then(|u| u.last_login)
        .map(|t| t.and_utc().timestamp());
    assert!(last.is_some_and(|t| (t - now()).abs() <= 5), "{last:?}");
}

#[tokio::test]
async fn get_is_405_with_allow_header() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/api/token/"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        res.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("POST, OPTIONS")
    );
    let (status, body) = parts(res).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body, json!({"detail": "Method \"GET\" not allowed."}));
    let (status, body) = parts(
        app.client
            .delete(app.url("/api/token/refresh/"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body, json!({"detail": "Method \"DELETE\" not allowed."}));
}

#[tokio::test]
async fn options_describes_the_view() {
    let app = spawn_app().await;
    let res = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/token/"))
        .send()
        .await
        .expect("request");
    let (status, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], "Token Obtain Pair");
    assert_eq!(body["parses"][0], "application/json");
}

#[tokio::test]
async fn a_stored_hash_over_the_cost_cap_is_a_failed_login_not_a_days_work() {
    let app = spawn_app().await;
    // A real bcrypt_sha256 hash respelled at cost 31: ~36 hours a check, were it computed.
    let costly = "bcrypt_sha256$$2b$31$cAMpXvskydqaQ0nHa.JRxOlvKRZ0DdYgL2DU/PXYmVDIuyNazqrUS";
    app.insert_user("eve", costly, true);
    for password in ["guess", "another guess"] {
        let body = json!({"username": "eve", "password": password});
        let answer = app.post_json("/api/token/", &body);
        // A bound on the wait, so that a regression fails instead of hanging for a day.
        let res = tokio::time::timeout(std::time::Duration::from_secs(60), answer)
            .await
            .expect("answered without computing the hash");
        let (status, body) = parts(res).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body, json!({ "detail": NO_ACCOUNT }));
    }
}
