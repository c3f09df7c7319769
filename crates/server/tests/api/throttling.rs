//! REST_FRAMEWORK.DEFAULT_THROTTLE_CLASSES / DEFAULT_THROTTLE_RATES: DRF's 429 body and
//! Retry-After, anonymous, per-user and the `login` scope of the token obtain views.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const CLASSES: &str = "REST_FRAMEWORK__DEFAULT_THROTTLE_CLASSES";
const RATES: &str = "REST_FRAMEWORK__DEFAULT_THROTTLE_RATES";

fn throttled(status: StatusCode, body: &serde_json::Value, retry_after: Option<&str>) {
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let detail = body["detail"].as_str().expect("detail");
    let wait: u64 = detail
        .strip_prefix("Request was throttled. Expected available in ")
        .and_then(|rest| rest.strip_suffix(" seconds."))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("DRF's message: {detail}"));
    assert!((1..=60).contains(&wait), "{detail}");
    assert_eq!(retry_after, Some(wait.to_string().as_str()));
}

async fn login(app: &TestApp, password: &str) -> (StatusCode, serde_json::Value, Option<String>) {
    let res = app
        .post_json(
            "/api/token/",
            &json!({"username": "alice", "password": password}),
        )
        .await;
    let retry = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, body) = parts(res).await;
    (status, body, retry)
}

#[tokio::test]
async fn no_throttling_by_default() {
    // Brute-force locks (on by default, tests/api/brute_force.rs) would answer 429 too.
    let app = spawn_app_with(&[("BRUTE_FORCE__ENABLED", "false")]).await;
    app.create_user("alice", PASSWORD, true);
    for _ in 0..8 {
        let (status, _, _) = login(&app, "wrong").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn the_login_scope_limits_the_obtain_views_only() {
    let app = spawn_app_with(&[
        (
            CLASSES,
            r#"["rest_framework.throttling.ScopedRateThrottle"]"#,
        ),
        (RATES, r#"{ login = "3/min" }"#),
    ])
    .await;
    app.create_user("alice", PASSWORD, true);
    for _ in 0..2 {
        assert_eq!(login(&app, "wrong").await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, _, _) = login(&app, PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    // The fourth attempt, even with the right password, is refused before it is checked.
    let (status, body, retry) = login(&app, PASSWORD).await;
    throttled(status, &body, retry.as_deref());
    // The sliding obtain view shares the scope (and the counter).
    let res = app
        .post_json(
            "/api/token/sliding/",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Views without a scope are not limited.
    for _ in 0..5 {
        let res = app
            .post_json("/api/token/verify/", &json!({"token": "x"}))
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn anonymous_and_user_rates() {
    let app = spawn_app_with(&[
        (CLASSES, r#"["AnonRateThrottle", "UserRateThrottle"]"#),
        (RATES, r#"{ anon = "2/min", user = "3/min" }"#),
    ])
    .await;
    app.create_user("alice", PASSWORD, true);
    // The token views are anonymous: two requests, then 429 whatever the endpoint.
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let res = app
        .post_json("/api/token/verify/", &json!({ "token": access }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (status, body, retry) = login(&app, PASSWORD).await;
    throttled(status, &body, retry.as_deref());

    // Authenticated requests count per user (anon does not apply to them).
    for _ in 0..3 {
        assert_eq!(app.me(&access).await.status(), StatusCode::OK);
    }
    let res = app.me(&access).await;
    let retry = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, body) = parts(res).await;
    throttled(status, &body, retry.as_deref());
}

#[tokio::test]
async fn a_scope_set_to_none_is_not_throttled() {
    let app = spawn_app_with(&[
        (CLASSES, r#"["AnonRateThrottle"]"#),
        (RATES, r#"{ anon = "None" }"#),
    ])
    .await;
    app.create_user("alice", PASSWORD, true);
    for _ in 0..5 {
        assert_eq!(login(&app, "wrong").await.0, StatusCode::UNAUTHORIZED);
    }
}

/// Redis at 127.0.0.1:6379 (these machines run one; `TEST_REDIS_URL` points elsewhere).
fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}

#[tokio::test]
async fn redis_counters_are_shared_by_every_instance() {
    // A prefix of this test's own: other runs and tests use other keys in the same Redis.
    let prefix = format!("test:{}:{}:", std::process::id(), now_nanos());
    let url = redis_url();
    let env = [
        (CLASSES, r#"["ScopedRateThrottle"]"#),
        (RATES, r#"{ login = "3/min" }"#),
        ("CACHE_URL", url.as_str()),
        ("CACHES__KEY_PREFIX", prefix.as_str()),
    ];
    let first = spawn_app_with(&env).await;
    let second = spawn_app_with(&env).await;
    first.create_user("alice", PASSWORD, true);
    second.create_user("alice", PASSWORD, true);
    for app in [&first, &second, &first] {
        let (status, body, _) = login(app, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // The fourth login in the minute is refused, whichever instance gets it.
    for app in [&second, &first] {
        let (status, body, retry) = login(app, PASSWORD).await;
        throttled(status, &body, retry.as_deref());
    }
}

#[tokio::test]
async fn an_unreachable_redis_falls_back_to_counting_in_the_process() {
    // A listener that never answers: Redis "hangs". Kept open for the whole test, so the port
    // cannot be taken by anything else meanwhile.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let url = format!("redis://127.0.0.1:{port}/0");
    let app = spawn_app_with(&[
        (CLASSES, r#"["ScopedRateThrottle"]"#),
        (RATES, r#"{ login = "1/min" }"#),
        ("CACHE_URL", url.as_str()),
    ])
    .await;
    app.create_user("alice", PASSWORD, true);
    // Neither failing closed (a cache outage is no login outage) nor open: this instance counts.
    let (status, body, _) = login(&app, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for _ in 0..2 {
        let (status, body, retry) = login(&app, PASSWORD).await;
        throttled(status, &body, retry.as_deref());
    }
    drop(silent);
}

async fn readyz(app: &TestApp) -> (StatusCode, serde_json::Value, Option<String>) {
    let res = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("request");
    let retry = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, body) = parts(res).await;
    (status, body, retry)
}

fn cache_unreachable(answer: (StatusCode, serde_json::Value, Option<String>)) {
    let (status, body, retry) = answer;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(retry.as_deref(), Some("5"));
    assert_eq!(
        body,
        json!({
            "detail": "The cache (Redis, CACHES.URL) does not answer: throttles and lockouts count in each process until it does.",
            "code": "service_unavailable",
            "status": "unavailable",
            "database": "ok",
            "cache": "unreachable",
        })
    );
}

#[tokio::test]
async fn not_ready_while_the_redis_cache_does_not_answer() {
    // A closed port: nothing listens there.
    let port = {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        closed.local_addr().expect("addr").port()
    };
    let url = format!("redis://127.0.0.1:{port}/0");
    let app = spawn_app_with(&[("CACHE_URL", url.as_str())]).await;
    cache_unreachable(readyz(&app).await);
    // The breaker is open now: the next probe says so at once, without trying Redis.
    let started = std::time::Instant::now();
    cache_unreachable(readyz(&app).await);
    assert!(started.elapsed() < std::time::Duration::from_millis(400));
}

#[tokio::test]
async fn redis_ready_when_the_cache_answers() {
    let url = redis_url();
    let app = spawn_app_with(&[("CACHE_URL", url.as_str())]).await;
    let (status, body, _) = readyz(&app).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!({"status": "ok", "database": "ok", "cache": "ok"})
        )
    );
}

/// Heroku Redis: `REDIS_URL` is `rediss://` with a self-signed certificate, which
/// `CACHES.TLS_VERIFY = false` accepts (redis-rs' `#insecure` fragment too); by default the
/// certificate is checked and this one refused.
#[tokio::test]
async fn redis_over_tls_with_a_self_signed_certificate_shares_the_counters() {
    let redis = crate::tls_redis::TlsRedis::start();
    let url = format!("rediss://127.0.0.1:{}/0", redis.port);
    let env = [
        (CLASSES, r#"["ScopedRateThrottle"]"#),
        (RATES, r#"{ login = "3/min" }"#),
        ("REDIS_URL", url.as_str()),
        ("CACHES__TLS_VERIFY", "false"),
    ];
    let first = spawn_app_with(&env).await;
    let second = spawn_app_with(&env).await;
    first.create_user("alice", PASSWORD, true);
    second.create_user("alice", PASSWORD, true);
    for app in [&first, &second, &first] {
        let (status, body, _) = login(app, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    for app in [&second, &first] {
        let (status, body, retry) = login(app, PASSWORD).await;
        throttled(status, &body, retry.as_deref());
    }
    assert_eq!(readyz(&first).await.0, StatusCode::OK);

    let checked = spawn_app_with(&[("REDIS_URL", url.as_str())]).await;
    cache_unreachable(readyz(&checked).await);
    let fragment = format!("{url}#insecure");
    let insecure = spawn_app_with(&[("CACHE_URL", fragment.as_str())]).await;
    assert_eq!(readyz(&insecure).await.0, StatusCode::OK);
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
