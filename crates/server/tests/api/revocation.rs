//! Revocation that a thief cannot outrun: a refresh loop (the thief holding a copy of the refresh
//! token) racing the owner's logout everywhere or password change, on SQLite and (with
//! `TEST_DATABASE=postgres`) PostgreSQL; sliding tokens that were slid; privileges taken from the
//! user's row at each rotation.
//!
//! Each race runs many trials. A trial is won by the owner when, once the owner's request has been
//! answered, no token of the user is left live in the store and the thief's newest token is
//! refused; a single escape fails the test.

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use crate::helpers::*;

const TRIALS: usize = 25;
/// Thieves per trial, each refreshing a login of its own: rotations in flight when the owner acts.
const THIEVES: usize = 4;
/// A bound on the thief's loop, far above what any trial needs: an escaped thief refreshes
/// until it, and the test fails instead of hanging.
const THIEF_LIMIT: usize = 2_000;

/// The thief: refreshes with the newest token until refused. Signals `ready` after its second
/// rotation so the owner acts while rotations are in flight. Returns the newest token it held
/// and whether it was refused (false: it ran into the bound).
async fn refresh_until_refused(
    app: &TestApp,
    mut token: String,
    ready: Option<oneshot::Sender<()>>,
) -> (String, bool) {
    let mut ready = ready;
    for i in 0..THIEF_LIMIT {
        let (status, body) = parts(
            app.post_json("/api/token/refresh/", &json!({ "refresh": token }))
                .await,
        )
        .await;
        if status != StatusCode::OK {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
            return (token, true);
        }
        token = str_field(&body, "refresh");
        if i == 1 {
            if let Some(ready) = ready.take() {
                let _ = ready.send(());
            }
        }
    }
    (token, false)
}

/// Outstanding tokens of the user that are neither blacklisted nor expired: what a thief could
/// still refresh.
fn live_tokens(app: &TestApp, user_id: i32) -> i64 {
    use users::schema::token_blacklist_blacklistedtoken as black;
    use users::schema::token_blacklist_outstandingtoken as out;
    let mut pooled = users::db::get(&app.state.pool).expect("connection");
    let conn: &mut users::DbConnection = &mut pooled;
    out::table
        .filter(out::user_id.eq(user_id))
        .filter(out::expires_at.ge(auth::store::blacklist::timestamp(now())))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            black::table.filter(black::token_id.eq(out::id)),
        )))
        .count()
        .get_result(conn)
        .expect("count")
}

/// `THIEVES` thieves, each with a login of its own; the first signals `ready`. Returns each one's
/// newest token and whether it was refused.
async fn thieves(app: &TestApp, password: &str, ready: oneshot::Sender<()>) -> Vec<(String, bool)> {
    let mut logins = Vec::new();
    for _ in 0..THIEVES {
        logins.push(app.obtain_pair("alice", password).await.0);
    }
    let mut ready = Some(ready);
    futures_util::future::join_all(
        logins
            .into_iter()
            .map(|token| refresh_until_refused(app, token, ready.take())),
    )
    .await
}

/// Every thief was refused, and refused again now, and the store holds no live token of the user.
async fn assert_all_ended(app: &TestApp, user_id: i32, thieves: &[(String, bool)], trial: usize) {
    for (newest, refused) in thieves {
        assert!(refused, "trial {trial}: a thief kept refreshing");
        assert_eq!(
            refresh_status(app, newest).await,
            StatusCode::UNAUTHORIZED,
            "trial {trial}"
        );
    }
    assert_eq!(live_tokens(app, user_id), 0, "trial {trial}");
}

/// The owner logs out everywhere with an access token.
async fn logout_all(app: &TestApp, access: &str) -> StatusCode {
    app.client
        .post(app.url("/api/token/logout-all/"))
        .bearer_auth(access)
        .send()
        .await
        .expect("request")
        .status()
}

/// The owner changes the password with an access token: the status and body.
async fn change_password(app: &TestApp, access: &str, old: &str, new: &str) -> (StatusCode, Value) {
    parts(
        app.client
            .post(app.url("/api/users/me/password/"))
            .bearer_auth(access)
            .json(&json!({ "old_password": old, "new_password": new }))
            .send()
            .await
            .expect("request"),
    )
    .await
}

async fn refresh_status(app: &TestApp, token: &str) -> StatusCode {
    app.post_json("/api/token/refresh/", &json!({ "refresh": token }))
        .await
        .status()
}

#[tokio::test]
async fn logout_everywhere_racing_a_refresh_loop_leaves_no_live_token() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", PASSWORD, true);
    for trial in 0..TRIALS {
        let (_, access) = app.obtain_pair("alice", PASSWORD).await;
        let (ready, go) = oneshot::channel();
        let owner = async {
            go.await.expect("thief started");
            assert_eq!(
                logout_all(&app, &access).await,
                StatusCode::OK,
                "trial {trial}"
            );
        };
        let (thieves, ()) = tokio::join!(thieves(&app, PASSWORD, ready), owner);
        assert_all_ended(&app, alice.id, &thieves, trial).await;
    }
}

#[tokio::test]
async fn a_password_change_racing_a_refresh_loop_ends_every_token_and_saves_the_password() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", PASSWORD, true);
    let mut current = PASSWORD.to_owned();
    for trial in 0..TRIALS {
        let (_, access) = app.obtain_pair("alice", &current).await;
        let next = format!("{PASSWORD} #{trial}");
        let (ready, go) = oneshot::channel();
        let owner = async {
            go.await.expect("thief started");
            change_password(&app, &access, &current, &next).await
        };
        let (thieves, (status, body)) = tokio::join!(thieves(&app, &current, ready), owner);
        // A 200 only for a password that was saved, with every session ended with it.
        assert_eq!(status, StatusCode::OK, "trial {trial}: {body}");
        assert_all_ended(&app, alice.id, &thieves, trial).await;
        let old_login = app
            .post_json(
                "/api/token/",
                &json!({"username": "alice", "password": current}),
            )
            .await;
        assert_eq!(
            old_login.status(),
            StatusCode::UNAUTHORIZED,
            "trial {trial}"
        );
        current = next;
        app.obtain_pair("alice", &current).await;
    }
}

#[tokio::test]
async fn a_login_with_the_old_password_racing_its_change_leaves_no_live_token() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", PASSWORD, true);
    let mut current = PASSWORD.to_owned();
    for trial in 0..TRIALS {
        let (_, access) = app.obtain_pair("alice", &current).await;
        let next = format!("{PASSWORD} #{trial}");
        let (ready, go) = oneshot::channel();
        // The thief knows the old password and logs in again and again.
        let thief = async {
            let mut ready = Some(ready);
            let mut obtained = Vec::new();
            for i in 0..THIEF_LIMIT {
                let res = app
                    .post_json(
                        "/api/token/",
                        &json!({"username": "alice", "password": current}),
                    )
                    .await;
                let (status, body) = parts(res).await;
                if status != StatusCode::OK {
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
                    return (obtained, true);
                }
                obtained.push(str_field(&body, "refresh"));
                if i == 1 {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(());
                    }
                }
            }
            (obtained, false)
        };
        let owner = async {
            go.await.expect("thief started");
            change_password(&app, &access, &current, &next).await.0
        };
        let ((obtained, refused), status) = tokio::join!(thief, owner);
        assert_eq!(status, StatusCode::OK, "trial {trial}");
        assert!(refused, "trial {trial}: the old password kept working");
        assert_eq!(live_tokens(&app, alice.id), 0, "trial {trial}");
        for token in &obtained {
            assert_eq!(
                refresh_status(&app, token).await,
                StatusCode::UNAUTHORIZED,
                "trial {trial}"
            );
        }
        current = next;
    }
}

/// Sets the stored expiry of every outstanding token of the user to `at` (as if they had been
/// issued long ago): time does not pass in these tests.
fn age_rows(app: &TestApp, user_id: i32, at: i64) {
    use users::schema::token_blacklist_outstandingtoken as out;
    let mut pooled = users::db::get(&app.state.pool).expect("connection");
    let conn: &mut users::DbConnection = &mut pooled;
    diesel::update(out::table.filter(out::user_id.eq(user_id)))
        .set(out::expires_at.eq(auth::store::blacklist::timestamp(at)))
        .execute(conn)
        .expect("update");
}

async fn obtain_and_slide(app: &TestApp, user_id: i32) -> String {
    let res = app
        .post_json(
            "/api/token/sliding/",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    let (status, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let first = str_field(&body, "token");
    // The first exp has passed, as far as the store knew before the slide.
    age_rows(app, user_id, now() - 60);
    let (status, body) = parts(
        app.post_json("/api/token/sliding/refresh/", &json!({ "token": first }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    str_field(&body, "token")
}

async fn slide_status(app: &TestApp, token: &str) -> StatusCode {
    app.post_json("/api/token/sliding/refresh/", &json!({ "token": token }))
        .await
        .status()
}

#[tokio::test]
async fn a_slid_sliding_token_dies_with_logout_everywhere_and_stays_dead_after_a_flush() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", PASSWORD, true);
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let slid = obtain_and_slide(&app, alice.id).await;
    assert_eq!(logout_all(&app, &access).await, StatusCode::OK);
    assert_eq!(slide_status(&app, &slid).await, StatusCode::UNAUTHORIZED);
    // flushexpiredtokens keeps the blacklist row of a token that can still be used.
    let mut conn = users::db::get(&app.state.pool).expect("connection");
    auth::store::blacklist::flush_expired(&mut conn, now()).expect("flush");
    drop(conn);
    assert_eq!(slide_status(&app, &slid).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_slid_sliding_token_dies_with_a_password_change_and_revoketokens() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", PASSWORD, true);
    // A password change through the API.
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let slid = obtain_and_slide(&app, alice.id).await;
    let (status, body) = change_password(&app, &access, PASSWORD, "a new password 123").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(slide_status(&app, &slid).await, StatusCode::UNAUTHORIZED);
    // What `manage revoketokens` and `manage changepassword` call.
    app.change_password(&alice, PASSWORD);
    let slid = obtain_and_slide(&app, alice.id).await;
    let mut conn = users::db::get(&app.state.pool).expect("connection");
    let ended = auth::store::sessions::end_all(&mut conn, alice.id, now()).expect("end all");
    drop(conn);
    assert!(ended >= 1, "{ended}");
    assert_eq!(slide_status(&app, &slid).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_demoted_staff_users_next_tokens_do_not_claim_staff() {
    let app = spawn_app_with(&[
        ("SIMPLE_JWT__TOKEN_USER_CLAIMS", r#"["is_staff"]"#),
        (
            "REST_FRAMEWORK__DEFAULT_AUTHENTICATION_CLASSES",
            r#"["rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication"]"#,
        ),
    ])
    .await;
    let carol = app.create_user("carol", PASSWORD, true);
    app.set_staff(&carol, true);
    let (refresh, access) = app.obtain_pair("carol", PASSWORD).await;
    assert_eq!(claims(&access)["is_staff"], true);
    // `manage revoke carol --staff`
    app.set_staff(&carol, false);
    let mut refresh = refresh;
    for _ in 0..3 {
        let (status, body) = parts(
            app.post_json("/api/token/refresh/", &json!({ "refresh": refresh }))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(claims(&str_field(&body, "access"))["is_staff"], false);
        refresh = str_field(&body, "refresh");
        assert_eq!(claims(&refresh)["is_staff"], false);
    }
    // A sliding token takes them from the row too.
    app.set_staff(&carol, true);
    let res = app
        .post_json(
            "/api/token/sliding/",
            &json!({"username": "carol", "password": PASSWORD}),
        )
        .await;
    let (status, body) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sliding = str_field(&body, "token");
    assert_eq!(claims(&sliding)["is_staff"], true);
    app.set_staff(&carol, false);
    let (status, body) = parts(
        app.post_json("/api/token/sliding/refresh/", &json!({ "token": sliding }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(claims(&str_field(&body, "token"))["is_staff"], false);
}

#[tokio::test]
async fn a_token_presented_again_after_a_logout_is_not_reported_as_reuse() {
    let app = spawn_app_with(&[("SIMPLE_JWT__REFRESH_TOKEN_REUSE_INTERVAL", "0s")]).await;
    app.create_user("alice", PASSWORD, true);
    let revoked = r#"auth_refresh_reuse_detections_total{outcome="revoked"}"#;
    // Logged out, never rotated: refused, no reuse alert.
    let (refresh, _) = app.obtain_pair("alice", PASSWORD).await;
    let res = app
        .post_json("/api/token/blacklist/", &json!({ "refresh": refresh }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        refresh_status(&app, &refresh).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(metric(&app, revoked).await, 0.0);
    // Rotated, then presented again: the real thing, still reported.
    let (refresh, _) = app.obtain_pair("alice", PASSWORD).await;
    assert_eq!(refresh_status(&app, &refresh).await, StatusCode::OK);
    assert_eq!(
        refresh_status(&app, &refresh).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(metric(&app, revoked).await, 1.0);
}
