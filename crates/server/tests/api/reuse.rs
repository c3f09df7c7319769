//! Refresh-token reuse detection: a rotated refresh token presented again revokes its login's
//! family, unless within REFRESH_TOKEN_REUSE_INTERVAL (no sleeps: the interval is set to 0s or 1h).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const NOW: (&str, &str) = ("SIMPLE_JWT__REFRESH_TOKEN_REUSE_INTERVAL", "0s");
const LONG: (&str, &str) = ("SIMPLE_JWT__REFRESH_TOKEN_REUSE_INTERVAL", "1h");

fn blacklisted() -> Value {
    json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
}

async fn refresh(app: &TestApp, token: &str) -> (StatusCode, Value) {
    parts(
        app.post_json("/api/token/refresh/", &json!({"refresh": token}))
            .await,
    )
    .await
}

/// Refreshes, asserting a 200, and returns the rotated refresh token.
async fn rotate(app: &TestApp, token: &str) -> String {
    let (status, body) = refresh(app, token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    str_field(&body, "refresh")
}

#[tokio::test]
async fn reusing_a_rotated_token_revokes_its_whole_login() {
    let app = spawn_app_with(&[NOW]).await;
    app.create_user("alice", PASSWORD, true);
    let (first, _) = app.obtain_pair("alice", PASSWORD).await;
    let (other_login, _) = app.obtain_pair("alice", PASSWORD).await;
    let second = rotate(&app, &first).await;
    let third = rotate(&app, &second).await;

    // The thief (or the victim) presents an already rotated token: refused as simplejwt would...
    assert_eq!(
        refresh(&app, &first).await,
        (StatusCode::UNAUTHORIZED, blacklisted())
    );
    // ...and the newest token of that login is dead too.
    assert_eq!(
        refresh(&app, &third).await,
        (StatusCode::UNAUTHORIZED, blacklisted())
    );
    let (status, body) = parts(
        app.post_json("/api/token/verify/", &json!({"token": third}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"non_field_errors": ["Token is blacklisted"]}));
    // Another login of the same user is another family: untouched.
    rotate(&app, &other_login).await;
}

#[tokio::test]
async fn reuse_within_the_interval_is_refused_but_keeps_the_login() {
    let app = spawn_app_with(&[LONG]).await;
    app.create_user("alice", PASSWORD, true);
    let (first, _) = app.obtain_pair("alice", PASSWORD).await;
    let second = rotate(&app, &first).await;
    assert_eq!(
        refresh(&app, &first).await,
        (StatusCode::UNAUTHORIZED, blacklisted())
    );
    rotate(&app, &second).await;
}

#[tokio::test]
async fn the_default_interval_tolerates_a_double_submit() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (first, _) = app.obtain_pair("alice", PASSWORD).await;
    let second = rotate(&app, &first).await;
    assert_eq!(
        refresh(&app, &first).await,
        (StatusCode::UNAUTHORIZED, blacklisted())
    );
    rotate(&app, &second).await;
}

#[tokio::test]
async fn detection_can_be_turned_off() {
    let app = spawn_app_with(&[NOW, ("SIMPLE_JWT__REFRESH_TOKEN_REUSE_DETECTION", "false")]).await;
    app.create_user("alice", PASSWORD, true);
    let (first, _) = app.obtain_pair("alice", PASSWORD).await;
    let second = rotate(&app, &first).await;
    assert_eq!(
        refresh(&app, &first).await,
        (StatusCode::UNAUTHORIZED, blacklisted())
    );
    rotate(&app, &second).await;
}

#[tokio::test]
async fn concurrent_losers_do_not_revoke_the_winners_login() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (first, _) = app.obtain_pair("alice", PASSWORD).await;
    let body = json!({"refresh": first});
    let requests = (0..20).map(|_| app.post_json("/api/token/refresh/", &body));
    let mut winners = Vec::new();
    for res in futures_util::future::join_all(requests).await {
        let (status, body) = parts(res).await;
        match status {
            StatusCode::OK => winners.push(str_field(&body, "refresh")),
            StatusCode::UNAUTHORIZED => assert_eq!(body, blacklisted()),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(winners.len(), 1);
    rotate(&app, &winners[0]).await;
}

#[tokio::test]
async fn a_token_never_seen_before_starts_its_own_family() {
    // As a token issued by simplejwt before the switch: no outstanding row, no family.
    let app = spawn_app_with(&[NOW]).await;
    let alice = app.create_user("alice", PASSWORD, true);
    let t = now();
    let foreign = app.sign(json!({
        "token_type": "refresh", "exp": t + 600, "iat": t, "jti": "f".repeat(32),
        "user_id": alice.id.to_string(),
    }));
    let second = rotate(&app, &foreign).await;
    assert_eq!(
        refresh(&app, &foreign).await,
        (StatusCode::UNAUTHORIZED, blacklisted())
    );
    assert_eq!(
        refresh(&app, &second).await,
        (StatusCode::UNAUTHORIZED, blacklisted())
    );
}

#[tokio::test]
async fn a_token_recorded_without_a_family_joins_the_one_its_rotation_starts() {
    // As an outstanding token imported from simplejwt's tables: a row, but no family.
    let app = spawn_app_with(&[NOW]).await;
    let alice = app.create_user("alice", PASSWORD, true);
    let t = now();
    let jti = "e".repeat(32);
    let imported = app.sign(json!({
        "token_type": "refresh", "exp": t + 600, "iat": t, "jti": jti,
        "user_id": alice.id.to_string(),
    }));
    let row = auth::store::blacklist::Outstanding {
        jti: &jti,
        raw: &imported,
        user_id: Some(alice.id),
        created_at: t,
        expires_at: t + 600,
    };
    let mut conn = users::db::get(&app.state.pool).expect("connection");
    auth::store::blacklist::outstand(&mut conn, &row).expect("outstanding row");
    drop(conn);

    let second = rotate(&app, &imported).await;
    let third = rotate(&app, &second).await;
    // Presented again, the imported token is refused and revokes the family it now heads.
    assert_eq!(
        refresh(&app, &imported).await,
        (StatusCode::UNAUTHORIZED, blacklisted())
    );
    assert_eq!(
        refresh(&app, &third).await,
        (StatusCode::UNAUTHORIZED, blacklisted())
    );
}

#[tokio::test]
async fn a_logged_out_token_presented_again_is_refused() {
    let app = spawn_app_with(&[NOW]).await;
    app.create_user("alice", PASSWORD, true);
    let (first, _) = app.obtain_pair("alice", PASSWORD).await;
    let (status, _) = parts(
        app.post_json("/api/token/blacklist/", &json!({"refresh": first}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        refresh(&app, &first).await,
        (StatusCode::UNAUTHORIZED, blacklisted())
    );
}
