//! Settings reach the running app: lifetimes, algorithm, audience and issuer as configured.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn lifetimes_from_settings_shape_the_tokens() {
    let app = spawn_app_with(&[
        ("SIMPLE_JWT__ACCESS_TOKEN_LIFETIME", "10m"),
        ("SIMPLE_JWT__REFRESH_TOKEN_LIFETIME", "7d"),
    ])
    .await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, access) = app.obtain_pair("alice", PASSWORD).await;
    let (r, a) = (claims(&refresh), claims(&access));
    let iat = r["iat"].as_i64().unwrap_or_default();
    assert_eq!(r["exp"].as_i64(), Some(iat + 7 * 86_400));
    assert_eq!(a["exp"].as_i64(), Some(iat + 600));
}

#[tokio::test]
async fn hs512_audience_and_issuer() {
    let app = spawn_app_with(&[
        ("SIMPLE_JWT__ALGORITHM", "HS512"),
        (
            "SECRET_KEY",
            "a-secret-of-at-least-sixty-four-bytes-for-hs512-0123456789abcdef0123456789",
        ),
        ("SIMPLE_JWT__AUDIENCE", "my-api"),
        ("SIMPLE_JWT__ISSUER", "https://auth.example"),
    ])
    .await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, access) = app.obtain_pair("alice", PASSWORD).await;
    assert!(access.starts_with("eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9."));
    let a = claims(&access);
    assert_eq!(a["aud"], "my-api");
    assert_eq!(a["iss"], "https://auth.example");
    assert_eq!(app.me(&access).await.status(), StatusCode::OK);
    let (status, _) = parts(
        app.post_json("/api/token/refresh/", &json!({"refresh": refresh}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[test]
fn the_shipped_settings_toml_is_valid_and_matches_the_contract_server() {
    let text = include_str!("../../../../settings.toml");
    let env = vec![("SECRET_KEY".to_string(), VECTOR_KEY.to_string())];
    let s = settings::Settings::from_sources(Some((text, "settings.toml")), &env)
        .expect("settings.toml");
    assert!(s.simple_jwt.rotate_refresh_tokens && s.simple_jwt.blacklist_after_rotation);
    assert_eq!(s.simple_jwt.access_token_lifetime.as_secs(), 300);
    assert_eq!(s.simple_jwt.refresh_token_lifetime.as_secs(), 86_400);
    assert_eq!(s.databases.url, "sqlite:///db.sqlite3");
    assert_eq!(s.server.bind, ["127.0.0.1:8000"]);
}
