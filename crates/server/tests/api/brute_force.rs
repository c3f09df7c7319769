//! `[BRUTE_FORCE]`: failed password checks counted per username and per client address, locks
//! that grow (Keycloak's brute-force detection), the same 429 whether the user exists or not, on
//! every path that checks a password (both obtain views, Basic authentication, password change),
//! and counters shared through Redis. Time never passes here: the Redis tests end a lock by
//! deleting its key (what its expiry does), and the arithmetic over time is unit-tested in
//! `auth::limits::brute_force`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// Status, body and Retry-After of one answer.
type Answer = (StatusCode, Value, Option<String>);

async fn answer(res: reqwest::Response) -> Answer {
    let retry = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, body) = parts(res).await;
    (status, body, retry)
}

async fn login_at(app: &TestApp, path: &str, username: &str, password: &str) -> Answer {
    let body = json!({"username": username, "password": password});
    answer(app.post_json(path, &body).await).await
}

async fn login(app: &TestApp, username: &str, password: &str) -> Answer {
    login_at(app, "/api/token/", username, password).await
}

/// A login from `address`, as a trusted proxy (the test client's 127.0.0.1) reports it.
async fn login_from(app: &TestApp, address: &str, username: &str, password: &str) -> Answer {
    let res = app
        .client
        .post(app.url("/api/token/"))
        .header("X-Forwarded-For", address)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("request");
    answer(res).await
}

/// The lock's answer: 429, DRF's Throttled shape with our message, and Retry-After.
fn assert_locked(answer: &Answer, seconds: u64) {
    let (status, body, retry) = answer;
    assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(
        body,
        &json!({
            "detail": format!("Too many failed login attempts. Expected available in {seconds} seconds."),
            "code": "throttled",
        })
    );
    assert_eq!(retry.as_deref(), Some(seconds.to_string().as_str()));
}

fn assert_refused(answer: &Answer) {
    assert_eq!(answer.0, StatusCode::UNAUTHORIZED, "{}", answer.1);
}

#[tokio::test]
async fn a_username_is_locked_after_five_failures_whether_it_exists_or_not() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let mut locked = Vec::new();
    for username in ["alice", "nobody"] {
        for _ in 0..5 {
            assert_refused(&login(&app, username, "wrong").await);
        }
        let answer = login(&app, username, "wrong").await;
        assert_locked(&answer, 60);
        locked.push(answer);
    }
    // Nothing in the answer tells an existing user from an unknown one.
    assert_eq!(locked[0], locked[1]);
    // The refusals were not password checks: ten failed logins counted, not twelve.
    assert_eq!(
        metric(&app, r#"auth_logins_total{result="failed"}"#).await,
        10.0
    );
    assert_eq!(metric(&app, "auth_lockout_refusals_total").await, 2.0);
    assert_eq!(
        metric(&app, r#"auth_lockouts_total{scope="username"}"#).await,
        2.0
    );
    // Other usernames are not affected.
    app.create_user("bob", PASSWORD, true);
    app.obtain_pair("bob", PASSWORD).await;
}

#[tokio::test]
async fn the_right_password_is_refused_while_locked_on_every_path() {
    let app = spawn_app_with(&[(
        "REST_FRAMEWORK__DEFAULT_AUTHENTICATION_CLASSES",
        r#"["JWTAuthentication", "BasicAuthentication"]"#,
    )])
    .await;
    app.create_user("alice", PASSWORD, true);
    for _ in 0..5 {
        assert_refused(&login(&app, "alice", "wrong").await);
    }
    assert_locked(&login(&app, "alice", PASSWORD).await, 60);
    assert_locked(
        &login_at(&app, "/api/token/sliding/", "alice", PASSWORD).await,
        60,
    );
    let res = app
        .get_with_auth("/api/me/", &basic_auth("alice", PASSWORD))
        .await;
    assert_locked(&answer(res).await, 60);
}

#[tokio::test]
async fn a_success_clears_the_username_count() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    for _ in 0..4 {
        assert_refused(&login(&app, "alice", "wrong").await);
    }
    app.obtain_pair("alice", PASSWORD).await;
    // Counting starts again: five more failures before the lock, not one.
    for _ in 0..5 {
        assert_refused(&login(&app, "alice", "wrong").await);
    }
    assert_locked(&login(&app, "alice", "wrong").await, 60);
}

#[tokio::test]
async fn concurrent_guesses_cannot_outrun_the_count() {
    guesses_race(&spawn_app().await).await;
}

/// One failure, then twenty concurrent guesses at once.
async fn guesses_race(app: &TestApp) {
    app.create_user("alice", PASSWORD, true);
    assert_refused(&login(app, "alice", "wrong").await);
    let body = json!({"username": "alice", "password": "wrong"});
    let guesses = (0..20).map(|_| app.post_json("/api/token/", &body));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(guesses)
        .await
        .iter()
        .map(reqwest::Response::status)
        .collect();
    // With one failure of five, only four more checks may be under way at once: however many
    // race, exactly four are checked, the rest refused unchecked.
    let count = |status: StatusCode| statuses.iter().filter(|s| **s == status).count();
    assert_eq!(
        (
            count(StatusCode::UNAUTHORIZED),
            count(StatusCode::TOO_MANY_REQUESTS)
        ),
        (4, 16),
        "{statuses:?}"
    );
    assert_locked(&login(app, "alice", PASSWORD).await, 60);
}

#[tokio::test]
async fn a_first_burst_of_guesses_is_limited_too() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    // No failures yet: twenty guesses at once. In flight counts as failed would, so exactly
    // FAILURE_FACTOR (five) are checked and the rest refused unchecked.
    let body = json!({"username": "alice", "password": "wrong"});
    let guesses = (0..20).map(|_| app.post_json("/api/token/", &body));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(guesses)
        .await
        .iter()
        .map(reqwest::Response::status)
        .collect();
    let count = |status: StatusCode| statuses.iter().filter(|s| **s == status).count();
    assert_eq!(
        (
            count(StatusCode::UNAUTHORIZED),
            count(StatusCode::TOO_MANY_REQUESTS)
        ),
        (5, 15),
        "{statuses:?}"
    );
    assert_locked(&login(&app, "alice", PASSWORD).await, 60);
}

#[tokio::test]
async fn concurrent_logins_of_one_account_beyond_the_factor_are_asked_to_retry() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let body = json!({"username": "alice", "password": PASSWORD});
    let logins = (0..20).map(|_| app.post_json("/api/token/", &body));
    let answers = futures_util::future::join_all(logins).await;
    let ok = answers
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .count();
    // At least FAILURE_FACTOR at once; the others are told to come back in a second, and a
    // success clears nothing it should not: the account is not locked.
    assert!(ok >= 5, "{ok}");
    for res in &answers {
        if res.status() != StatusCode::OK {
            assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(
                res.headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()),
                Some("1")
            );
        }
    }
    app.obtain_pair("alice", PASSWORD).await;
}

#[tokio::test]
async fn a_client_address_is_locked_across_usernames() {
    let app = spawn_app_with(&[("BRUTE_FORCE__ADDRESS_FAILURE_FACTOR", "3")]).await;
    app.create_user("alice", PASSWORD, true);
    let attacker = "203.0.113.9";
    for username in ["u1", "u2", "alice"] {
        assert_refused(&login_from(&app, attacker, username, "wrong").await);
    }
    // Each username has one failure only, but the address has three: locked for any username.
    assert_locked(&login_from(&app, attacker, "u4", "wrong").await, 60);
    assert_locked(&login_from(&app, attacker, "alice", PASSWORD).await, 60);
    // Another client (as the trusted proxy reports it) logs in.
    let (status, body, _) = login_from(&app, "203.0.113.10", "alice", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        metric(&app, r#"auth_lockouts_total{scope="address"}"#).await,
        1.0
    );
}

/// `TRUSTED_PROXIES = "*"`: every hop of X-Forwarded-For left of the one the nearest proxy
/// appended was written by the client, so only that right-most hop names the client; a client
/// that varies the left-most hop is still one address.
#[tokio::test]
async fn with_any_proxy_trusted_only_the_right_most_hop_is_the_client() {
    let app = spawn_app_with(&[
        ("BRUTE_FORCE__ADDRESS_FAILURE_FACTOR", "3"),
        ("SERVER__TRUSTED_PROXIES", "*"),
    ])
    .await;
    app.create_user("alice", PASSWORD, true);
    for (forged, username) in [("1.2.3.4", "u1"), ("1.2.3.5", "u2"), ("1.2.3.6", "u3")] {
        let chain = format!("{forged}, 5.6.7.8");
        assert_refused(&login_from(&app, &chain, username, "wrong").await);
    }
    // Three failures from 5.6.7.8, whatever the client wrote before it: locked.
    assert_locked(
        &login_from(&app, "1.2.3.7, 5.6.7.8", "alice", PASSWORD).await,
        60,
    );
    // The forged addresses were never counted: a client that really is 1.2.3.4 logs in.
    let (status, body, _) = login_from(&app, "5.6.7.8, 1.2.3.4", "alice", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn successes_do_not_count_against_the_address() {
    let app = spawn_app_with(&[("BRUTE_FORCE__ADDRESS_FAILURE_FACTOR", "2")]).await;
    app.create_user("alice", PASSWORD, true);
    for _ in 0..5 {
        app.obtain_pair("alice", PASSWORD).await;
    }
    assert_refused(&login(&app, "u1", "wrong").await);
    app.obtain_pair("alice", PASSWORD).await;
    // The second failure locks the address; a success in between did not lift it either.
    assert_refused(&login(&app, "u2", "wrong").await);
    assert_locked(&login(&app, "alice", PASSWORD).await, 60);
}

#[tokio::test]
async fn old_password_guesses_on_password_change_lock_the_account() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let change = |old: &'static str| {
        app.client
            .post(app.url("/api/users/me/password/"))
            .bearer_auth(&access)
            .json(&json!({"old_password": old, "new_password": "a new long passphrase 42"}))
            .send()
    };
    for _ in 0..5 {
        let res = change("wrong").await.expect("request");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
    assert_locked(&answer(change("wrong").await.expect("request")).await, 60);
    // The lock is the account's: the token views refuse it too, right password or not.
    assert_locked(&login(&app, "alice", PASSWORD).await, 60);
}

#[tokio::test]
async fn disabled_it_never_locks() {
    let app = spawn_app_with(&[("BRUTE_FORCE__ENABLED", "false")]).await;
    app.create_user("alice", PASSWORD, true);
    for _ in 0..12 {
        assert_refused(&login(&app, "alice", "wrong").await);
    }
    app.obtain_pair("alice", PASSWORD).await;
}

// ---- Redis: counters shared by every instance ---------------------------------------------

/// Redis at 127.0.0.1:6379 (these machines run one; `TEST_REDIS_URL` points elsewhere).
fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}

/// A key prefix of the test's own: other tests and runs use the same Redis.
fn unique_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("test:bf:{}:{nanos}:", std::process::id())
}

/// Ends every lock under `prefix` now, as their expiry would.
async fn expire_locks(prefix: &str) {
    let client = redis::Client::open(redis_url()).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*_lock"))
        .query_async(&mut conn)
        .await
        .expect("KEYS");
    assert!(!keys.is_empty(), "no lock under {prefix}");
    let _: i64 = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut conn)
        .await
        .expect("DEL");
}

#[tokio::test]
async fn redis_counters_are_shared_by_every_instance() {
    let prefix = unique_prefix();
    let url = redis_url();
    let env = [
        ("CACHE_URL", url.as_str()),
        ("CACHES__KEY_PREFIX", prefix.as_str()),
        ("BRUTE_FORCE__FAILURE_FACTOR", "3"),
    ];
    let first = spawn_app_with(&env).await;
    let second = spawn_app_with(&env).await;
    first.create_user("alice", PASSWORD, true);
    second.create_user("alice", PASSWORD, true);
    for app in [&first, &second, &first] {
        assert_refused(&login(app, "alice", "wrong").await);
    }
    // Three failures across two instances: locked on both, known user or not alike.
    assert_locked(&login(&second, "alice", PASSWORD).await, 60);
    assert_locked(&login(&first, "alice", PASSWORD).await, 60);
}

#[tokio::test]
async fn redis_locks_grow_with_each_failure_past_the_factor_up_to_max_wait() {
    let prefix = unique_prefix();
    let url = redis_url();
    let app = spawn_app_with(&[
        ("CACHE_URL", url.as_str()),
        ("CACHES__KEY_PREFIX", prefix.as_str()),
        ("BRUTE_FORCE__FAILURE_FACTOR", "2"),
        ("BRUTE_FORCE__WAIT_INCREMENT", "1m"),
        ("BRUTE_FORCE__MAX_WAIT", "150s"),
    ])
    .await;
    app.create_user("alice", PASSWORD, true);
    for username in ["alice", "nobody"] {
        assert_refused(&login(&app, username, "wrong").await);
        // Keycloak's rule: each failure from the factor on locks for increment × failures/factor.
        let mut waits = Vec::new();
        for _ in 0..5 {
            assert_refused(&login(&app, username, "wrong").await);
            let answer = login(&app, username, PASSWORD).await;
            assert_eq!(answer.0, StatusCode::TOO_MANY_REQUESTS, "{}", answer.1);
            waits.push(answer.2.clone().unwrap_or_default());
            expire_locks(&prefix).await;
        }
        assert_eq!(waits, ["60", "60", "120", "120", "150"], "{username}");
    }
    // The unexpired count still holds: one more failure locks again, at the cap.
    assert_refused(&login(&app, "alice", "wrong").await);
    assert_locked(&login(&app, "alice", PASSWORD).await, 150);
}

#[tokio::test]
async fn redis_checks_and_records_concurrent_guesses_atomically() {
    let prefix = unique_prefix();
    let url = redis_url();
    let app = spawn_app_with(&[
        ("CACHE_URL", url.as_str()),
        ("CACHES__KEY_PREFIX", prefix.as_str()),
    ])
    .await;
    guesses_race(&app).await;
}

#[tokio::test]
async fn an_unreachable_redis_falls_back_to_counting_in_the_process() {
    // A listener that never answers: Redis "hangs" (kept open for the whole test).
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let url = format!("redis://127.0.0.1:{port}/0");
    let app = spawn_app_with(&[
        ("CACHE_URL", url.as_str()),
        ("BRUTE_FORCE__FAILURE_FACTOR", "2"),
    ])
    .await;
    app.create_user("alice", PASSWORD, true);
    // Not switched off by the outage: this instance counts and locks on its own.
    for _ in 0..2 {
        assert_refused(&login(&app, "alice", "wrong").await);
    }
    assert_locked(&login(&app, "alice", PASSWORD).await, 60);
    drop(silent);
}
