//! What a rotating refresh costs the database (issue #19): one trip to the blocking pool; on
//! SQLite one write transaction and at most three statements in it; on PostgreSQL, for the usual
//! rotation, two statements and no transaction (`auth::store::blacklist::rotate_if_unchanged`).
//!
//! Counted by the pool's instrumentation (`users::db::Counts`: diesel's events). "Statements"
//! here are the ones that do the work: `BEGIN` (`BEGIN IMMEDIATE`) and `COMMIT` are not in the
//! three, and are asserted apart (exactly one of each); nor is the `SELECT 1` ping of a connection
//! idle for half a second. On SQLite, a writer whose turn in the writers' queue took more than
//! 20 ms also sends two `PRAGMA busy_timeout` around its `BEGIN IMMEDIATE` (`users::tx`); that
//! only happens under contention, never in this test.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_rotating_refresh_is_one_trip_and_at_most_three_statements() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (mut refresh, _) = app.obtain_pair("alice", PASSWORD).await;
    let counts = Arc::clone(
        users::db::get(&app.state.pool)
            .expect("connection")
            .counts(),
    );
    // The login's token, then tokens recorded by rotations.
    for round in 0..3 {
        let before = counts.tally();
        let (status, body) = parts(
            app.post_json("/api/token/refresh/", &json!({"refresh": refresh}))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let spent = counts.tally().since(&before);
        eprintln!(
            "refresh {round}: {spent:?}, {} doing the work",
            spent.work()
        );
        assert_eq!(
            spent.checkouts, 1,
            "one trip to the blocking pool: {spent:?}"
        );
        if on_postgres() {
            assert_eq!(
                (spent.begins, spent.commits, spent.rollbacks),
                (0, 0, 0),
                "no transaction: {spent:?}"
            );
            assert_eq!(spent.work(), 2, "2 statements: {spent:?}");
        } else {
            assert_eq!(
                (spent.begins, spent.commits, spent.rollbacks),
                (1, 1, 0),
                "one transaction: {spent:?}"
            );
            assert!(spent.work() <= 3, "at most 3 statements: {spent:?}");
        }
        refresh = str_field(&body, "refresh");
    }
}
