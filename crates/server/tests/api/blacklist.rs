//! POST /api/token/blacklist/: logout; what the blacklist stores.

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn blacklisting_ends_the_refresh_token_but_not_its_access_tokens() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, access) = app.obtain_pair("alice", PASSWORD).await;
    let (status, body) = parts(
        app.post_json("/api/token/blacklist/", &json!({"refresh": refresh}))
            .await,
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));

    for path in ["/api/token/refresh/", "/api/token/blacklist/"] {
        let (status, body) = parts(app.post_json(path, &json!({"refresh": refresh})).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            body,
            json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
        );
    }
    assert_eq!(app.me(&access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn blacklist_needs_a_refresh_token() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let (status, body) = parts(
        app.post_json("/api/token/blacklist/", &json!({"refresh": access}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "Token has wrong type", "code": "token_not_valid"})
    );
    let (status, body) = parts(app.post_json("/api/token/blacklist/", &json!({})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"refresh": ["This field is required."]}));
}

#[tokio::test]
async fn the_database_holds_hashes_never_raw_tokens() {
    use users::schema::token_blacklist_outstandingtoken as out;
    let app = spawn_app().await;
    let alice = app.create_user("alice", PASSWORD, true);
    let (refresh, _) = app.obtain_pair("alice", PASSWORD).await;
    let (status, body) = parts(
        app.post_json("/api/token/refresh/", &json!({"refresh": refresh}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let rotated = str_field(&body, "refresh");

    let mut conn = users::db::get(&app.state.pool).expect("connection");
    let rows: Vec<(String, String, Option<i32>)> = out::table
        .select((out::jti, out::token_hash, out::user_id))
        .order(out::id)
        .load(&mut **conn)
        .expect("rows");
    assert_eq!(
        rows.len(),
        2,
        "login and rotation each record one outstanding token"
    );
    for ((jti, hash, user_id), token) in rows.iter().zip([&refresh, &rotated]) {
        assert_eq!(Some(jti.as_str()), claims(token)["jti"].as_str());
        assert_eq!(hash, &auth::store::blacklist::token_hash(token));
        assert_ne!(hash, token);
        assert_eq!(*user_id, Some(alice.id));
    }
}

#[tokio::test]
async fn flush_expired_removes_only_expired_rows() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (live, _) = app.obtain_pair("alice", PASSWORD).await;
    let t = now();
    let old = app.sign(
        json!({"token_type": "refresh", "exp": t + 2, "iat": t, "jti": "old", "user_id": "1"}),
    );
    let (status, _) = parts(
        app.post_json("/api/token/blacklist/", &json!({"refresh": old}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut conn = users::db::get(&app.state.pool).expect("connection");
    assert_eq!(
        auth::store::blacklist::flush_expired(&mut conn, t).expect("flush"),
        0
    );
    assert_eq!(
        auth::store::blacklist::flush_expired(&mut conn, t + 3).expect("flush"),
        1
    );
    assert!(!auth::store::blacklist::is_blacklisted(&mut conn, "old").expect("query"));
    let jti = claims(&live)["jti"].as_str().unwrap_or_default().to_owned();
    drop(conn);
    let (status, _) = parts(
        app.post_json("/api/token/verify/", &json!({"token": live}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "live token {jti} untouched");
}
