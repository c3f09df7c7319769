//! dj-rest-auth's cookie transport (`[REST_AUTH]`): token cookies set on obtain and refresh,
//! JWTCookieAuthentication with Django's CSRF check, refresh and logout from the cookie, and
//! `manage check --deploy` on insecure cookie settings.

use std::collections::BTreeMap;

use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

const ACCESS: &str = "access-token";
const REFRESH: &str = "refresh-token";

/// One `Set-Cookie` header: name, value and attributes (names lower-cased; flags map to "").
#[derive(Debug, Clone)]
struct SetCookie {
    name: String,
    value: String,
    attrs: BTreeMap<String, String>,
}

impl SetCookie {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).map(String::as_str)
    }

    fn has(&self, flag: &str) -> bool {
        self.attrs.contains_key(flag)
    }
}

fn set_cookies(res: &Response) -> Vec<SetCookie> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| {
            let text = v.to_str().expect("ascii Set-Cookie");
            let mut parts = text.split(';').map(str::trim);
            let (name, value) = parts
                .next()
                .and_then(|p| p.split_once('='))
                .expect("name=value");
            let attrs = parts
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (k.to_ascii_lowercase(), v.to_owned()),
                    None => (p.to_ascii_lowercase(), String::new()),
                })
                .collect();
            SetCookie {
                name: name.to_owned(),
                value: value.to_owned(),
                attrs,
            }
        })
        .collect()
}

fn find<'a>(cookies: &'a [SetCookie], name: &str) -> &'a SetCookie {
    cookies
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no Set-Cookie {name} in {cookies:?}"))
}

/// The cookie transport on, and JWTCookieAuthentication the authentication class.
async fn cookie_app(extra: &[(&str, &str)]) -> TestApp {
    let mut settings = vec![
        ("REST_AUTH__JWT_AUTH_COOKIE", ACCESS),
        ("REST_AUTH__JWT_AUTH_REFRESH_COOKIE", REFRESH),
        (
            "REST_FRAMEWORK__DEFAULT_AUTHENTICATION_CLASSES",
            r#"["dj_rest_auth.jwt_auth.JWTCookieAuthentication"]"#,
        ),
    ];
    settings.extend_from_slice(extra);
    let app = spawn_app_with(&settings).await;
    app.create_user("alice", PASSWORD, true);
    app
}

/// What a browser holds after logging in: the three cookies' values.
struct Browser {
    access: String,
    refresh: String,
    csrf: String,
}

async fn login(app: &TestApp) -> (Browser, Value) {
    let res = app
        .post_json(
            "/api/token/",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookies = set_cookies(&res);
    let body: Value = res.json().await.expect("json");
    let browser = Browser {
        access: find(&cookies, ACCESS).value.clone(),
        refresh: find(&cookies, REFRESH).value.clone(),
        csrf: find(&cookies, "csrftoken").value.clone(),
    };
    (browser, body)
}

fn post(app: &TestApp, path: &str) -> RequestBuilder {
    app.client.post(app.url(path))
}

#[tokio::test]
async fn cookies_are_off_by_default() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let res = app
        .post_json(
            "/api/token/",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert!(set_cookies(&res).is_empty());
    let body: Value = res.json().await.unwrap();
    let refresh = str_field(&body, "refresh");
    assert!(!refresh.is_empty(), "the body keeps the refresh token");
    let res = app
        .post_json("/api/token/refresh/", &json!({"refresh": refresh}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(set_cookies(&res).is_empty());
    // A cookie means nothing to JWTAuthentication.
    let (_, access) = app.obtain_pair("alice", PASSWORD).await;
    let res = app
        .client
        .get(app.url("/api/me/"))
        .header("Cookie", format!("{ACCESS}={access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn obtain_sets_httponly_secure_cookies_scoped_to_their_paths() {
    let app = cookie_app(&[]).await;
    let res = app
        .post_json(
            "/api/token/",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookies = set_cookies(&res);
    assert_eq!(cookies.len(), 3, "{cookies:?}");
    let body: Value = res.json().await.unwrap();

    let access = find(&cookies, ACCESS);
    assert_eq!(access.value, str_field(&body, "access"));
    assert_eq!(claims(&access.value)["token_type"], "access");
    assert_eq!(access.attr("path"), Some("/"));
    assert_eq!(access.attr("max-age"), Some("300"));
    assert!(access.attr("expires").is_some_and(|e| e.ends_with(" GMT")));
    assert!(access.has("secure") && access.has("httponly"));
    assert_eq!(access.attr("samesite"), Some("Lax"));
    assert_eq!(access.attr("domain"), None);

    let refresh = find(&cookies, REFRESH);
    assert_eq!(claims(&refresh.value)["token_type"], "refresh");
    assert_eq!(refresh.attr("path"), Some("/api/token/"));
    assert_eq!(refresh.attr("max-age"), Some("86400"));
    assert!(refresh.has("secure") && refresh.has("httponly"));
    // dj-rest-auth's LoginView: an HttpOnly refresh token is not handed to scripts.
    assert_eq!(body["refresh"], "");

    let csrf = find(&cookies, "csrftoken");
    assert_eq!(csrf.value.len(), 32);
    assert!(csrf.value.chars().all(|c| c.is_ascii_alphanumeric()));
    assert!(!csrf.has("httponly"), "scripts must read the CSRF cookie");
    assert!(csrf.has("secure"));
    assert_eq!(csrf.attr("path"), Some("/"));

    // Every login rotates the CSRF secret, as Django's login does.
    let (second, _) = login(&app).await;
    assert_ne!(second.csrf, csrf.value);
}

#[tokio::test]
async fn another_origin_cannot_log_the_browser_in() {
    let app = cookie_app(&[("CSRF_TRUSTED_ORIGINS", r#"["https://app.example.com"]"#)]).await;
    let login_from = |origin: &str| {
        post(&app, "/api/token/")
            .header("Origin", origin)
            .form(&[("username", "alice"), ("password", PASSWORD)])
            .send()
    };
    let res = login_from("https://evil.example").await.unwrap();
    assert!(set_cookies(&res).is_empty());
    assert_eq!(
        parts(res).await,
        (
            StatusCode::FORBIDDEN,
            csrf_failed(
                "Origin checking failed - https://evil.example does not match any trusted origins."
            )
        )
    );
    for origin in [app.address.as_str(), "https://app.example.com"] {
        let res = login_from(origin).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{origin}");
        assert_eq!(set_cookies(&res).len(), 3);
    }
    // Without cookies there is nothing to plant: simplejwt's view, any origin.
    let plain = spawn_app().await;
    plain.create_user("alice", PASSWORD, true);
    let res = plain
        .client
        .post(plain.url("/api/token/"))
        .header("Origin", "https://evil.example")
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// Login CSRF through refresh and logout CSRF: with cookies on, every view that sets or clears
/// the token cookies refuses another site's page as login does, whichever way the token comes
/// (a form body needs no cookie), and nothing is set, cleared or blacklisted.
#[tokio::test]
async fn another_origin_cannot_refresh_or_log_the_browser_out() {
    let app = cookie_app(&[("CSRF_TRUSTED_ORIGINS", r#"["https://app.example.com"]"#)]).await;
    let (browser, _) = login(&app).await;
    let bearer = format!("Bearer {}", browser.access);
    let foreign = |path: &str| post(&app, path).header("Origin", "https://evil.example");
    let cases = [
        foreign("/api/token/refresh/").form(&[("refresh", &browser.refresh)]),
        foreign("/api/token/logout/").form(&[("refresh", &browser.refresh)]),
        foreign("/api/token/logout-all/").header("Authorization", &bearer),
        foreign("/api/users/me/password/")
            .header("Authorization", &bearer)
            .json(&json!({"old_password": PASSWORD, "new_password": "an0ther-Passw0rd-2026"})),
    ];
    let refused = csrf_failed(
        "Origin checking failed - https://evil.example does not match any trusted origins.",
    );
    for request in cases {
        let res = request.send().await.unwrap();
        let url = res.url().path().to_owned();
        assert!(set_cookies(&res).is_empty(), "{url}");
        assert_eq!(
            parts(res).await,
            (StatusCode::FORBIDDEN, refused.clone()),
            "{url}"
        );
    }
    // Over HTTPS (as the trusted proxy says) without an Origin, a foreign Referer is refused.
    let (status, body) = parts(
        post(&app, "/api/token/refresh/")
            .header("X-Forwarded-Proto", "https")
            .header("Referer", "https://evil.example/page")
            .form(&[("refresh", &browser.refresh)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            csrf_failed("Referer checking failed - https://evil.example/page does not match any trusted origins.")
        )
    );
    // Nothing happened: the refresh token still refreshes, from this site or a trusted one.
    let mut refresh = browser.refresh.clone();
    for origin in [app.address.as_str(), "https://app.example.com"] {
        let res = post(&app, "/api/token/refresh/")
            .header("Origin", origin)
            .form(&[("refresh", &refresh)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{origin}");
        refresh = find(&set_cookies(&res), REFRESH).value.clone();
    }
    let res = post(&app, "/api/token/logout/")
        .header("Origin", app.address.as_str())
        .form(&[("refresh", &refresh)])
        .send()
        .await
        .unwrap();
    assert_eq!(set_cookies(&res).len(), 2);
    assert_eq!(res.status(), StatusCode::OK);
    let res = post(&app, "/api/token/logout-all/")
        .header("Origin", app.address.as_str())
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Without cookies nothing is set or cleared: simplejwt's views answer any origin.
    let plain = spawn_app().await;
    plain.create_user("alice", PASSWORD, true);
    let (refresh, access) = plain.obtain_pair("alice", PASSWORD).await;
    let foreign = |path: &str| {
        plain
            .client
            .post(plain.url(path))
            .header("Origin", "https://evil.example")
    };
    let res = foreign("/api/token/refresh/")
        .form(&[("refresh", &refresh)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = foreign("/api/token/logout-all/")
        .header("Authorization", format!("Bearer {access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn cookie_attributes_follow_the_settings() {
    let app = cookie_app(&[
        ("REST_AUTH__JWT_AUTH_SECURE", "false"),
        ("REST_AUTH__JWT_AUTH_HTTPONLY", "false"),
        ("REST_AUTH__JWT_AUTH_SAMESITE", "Strict"),
        ("REST_AUTH__JWT_AUTH_COOKIE_DOMAIN", "example.com"),
        (
            "REST_AUTH__JWT_AUTH_REFRESH_COOKIE_PATH",
            "/api/token/refresh/",
        ),
        ("SIMPLE_JWT__ACCESS_TOKEN_LIFETIME", "10m"),
    ])
    .await;
    let res = app
        .post_json(
            "/api/token/",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    let cookies = set_cookies(&res);
    let body: Value = res.json().await.unwrap();
    for cookie in &cookies {
        assert!(
            !cookie.has("secure") && !cookie.has("httponly"),
            "{cookie:?}"
        );
        assert_eq!(cookie.attr("samesite"), Some("Strict"));
        assert_eq!(cookie.attr("domain"), Some("example.com"));
    }
    assert_eq!(find(&cookies, ACCESS).attr("max-age"), Some("600"));
    assert_eq!(
        find(&cookies, REFRESH).attr("path"),
        Some("/api/token/refresh/")
    );
    assert_eq!(
        body["refresh"].as_str(),
        Some(find(&cookies, REFRESH).value.as_str()),
        "readable cookies: the body keeps the refresh token"
    );
}

#[tokio::test]
async fn the_access_cookie_authenticates() {
    let app = cookie_app(&[]).await;
    let (browser, _) = login(&app).await;
    let me = |cookie: String| {
        app.client
            .get(app.url("/api/me/"))
            .header("Cookie", cookie)
            .send()
    };
    let (status, body) = parts(me(format!("{ACCESS}={}", browser.access)).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["username"], "alice");
    // Safe methods need no CSRF token.
    let (status, _) = parts(
        me(format!("theme=dark; {ACCESS}={}; lang=en", browser.access))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = parts(me(format!("{ACCESS}=not-a-token")).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "token_not_valid");
    // The refresh token is no access token, in a cookie or not.
    let (status, _) = parts(me(format!("{ACCESS}={}", browser.refresh)).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body, _) = app.me_as(None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"detail": "Authentication credentials were not provided."})
    );
    // The header still works, and wins over the cookie.
    let (status, body) = parts(
        app.client
            .get(app.url("/api/me/"))
            .header("Authorization", format!("Bearer {}", browser.access))
            .header("Cookie", format!("{ACCESS}=not-a-token"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, &body["username"]),
        (StatusCode::OK, &json!("alice"))
    );
}

fn csrf_failed(reason: &str) -> Value {
    json!({"detail": format!("CSRF Failed: {reason}"), "code": "permission_denied"})
}

#[tokio::test]
async fn unsafe_cookie_requests_need_the_csrf_token() {
    let app = cookie_app(&[]).await;
    let (browser, _) = login(&app).await;
    let logout_all = || post(&app, "/api/token/logout-all/");
    let access_only = format!("{ACCESS}={}", browser.access);
    let with_csrf = format!("{access_only}; csrftoken={}", browser.csrf);

    let cases = [
        (
            logout_all().header("Cookie", &access_only),
            "CSRF cookie not set.",
        ),
        (
            logout_all().header("Cookie", &with_csrf),
            "CSRF token missing.",
        ),
        (
            logout_all()
                .header("Cookie", &with_csrf)
                .header("X-CSRFToken", "A".repeat(32)),
            "CSRF token from the 'X-Csrftoken' HTTP header incorrect.",
        ),
        (
            logout_all()
                .header("Cookie", &with_csrf)
                .header("X-CSRFToken", "short"),
            "CSRF token from the 'X-Csrftoken' HTTP header has incorrect length.",
        ),
        (
            logout_all()
                .header("Cookie", &with_csrf)
                .header("X-CSRFToken", &browser.csrf)
                .header("Origin", "https://evil.example"),
            "Origin checking failed - https://evil.example does not match any trusted origins.",
        ),
    ];
    for (request, reason) in cases {
        let (status, body) = parts(request.send().await.unwrap()).await;
        assert_eq!((status, body), (StatusCode::FORBIDDEN, csrf_failed(reason)));
    }
    // Nothing happened: the session is alive.
    let (status, _) = parts(
        post(&app, "/api/token/refresh/")
            .json(&json!({"refresh": browser.refresh}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let own_origin = app.address.clone();
    let res = logout_all()
        .header("Cookie", &with_csrf)
        .header("X-CSRFToken", &browser.csrf)
        .header("Origin", own_origin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cleared = set_cookies(&res);
    for name in [ACCESS, REFRESH] {
        assert_eq!(find(&cleared, name).value, "");
        assert_eq!(find(&cleared, name).attr("max-age"), Some("0"));
    }
}

/// A password change ends every session, the browser's own included: its token cookies are
/// expired in the same answer (as logout-all does). A refused change leaves them alone.
#[tokio::test]
async fn a_password_change_clears_the_token_cookies() {
    let app = cookie_app(&[]).await;
    let (browser, _) = login(&app).await;
    let change = |old: &str| {
        post(&app, "/api/users/me/password/")
            .header("Authorization", format!("Bearer {}", browser.access))
            .json(&json!({"old_password": old, "new_password": "an0ther-Passw0rd-2026"}))
    };
    let refused = change("not-the-password").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(set_cookies(&refused).is_empty());
    let res = change(PASSWORD).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cleared = set_cookies(&res);
    for name in [ACCESS, REFRESH] {
        assert_eq!(find(&cleared, name).value, "");
        assert_eq!(find(&cleared, name).attr("max-age"), Some("0"));
    }
}

#[tokio::test]
async fn header_authentication_needs_no_csrf() {
    let app = cookie_app(&[]).await;
    let (browser, _) = login(&app).await;
    let (status, body) = parts(
        post(&app, "/api/token/logout-all/")
            .header("Authorization", format!("Bearer {}", browser.access))
            // A cookie alongside changes nothing: the header authenticates.
            .header("Cookie", format!("{ACCESS}={}", browser.access))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
}

#[tokio::test]
async fn csrf_can_be_required_of_unauthenticated_requests_or_not_at_all() {
    let strict = cookie_app(&[(
        "REST_AUTH__JWT_AUTH_COOKIE_ENFORCE_CSRF_ON_UNAUTHENTICATED",
        "true",
    )])
    .await;
    let (status, body) = parts(
        post(&strict, "/api/token/logout-all/")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::FORBIDDEN, csrf_failed("CSRF cookie not set."))
    );

    let lax = cookie_app(&[("REST_AUTH__JWT_AUTH_COOKIE_USE_CSRF", "false")]).await;
    let res = lax
        .post_json(
            "/api/token/",
            &json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    let cookies = set_cookies(&res);
    assert!(cookies.iter().all(|c| c.name != "csrftoken"), "{cookies:?}");
    let access = find(&cookies, ACCESS).value.clone();
    let (status, _) = parts(
        post(&lax, "/api/token/logout-all/")
            .header("Cookie", format!("{ACCESS}={access}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn refresh_reads_the_cookie_with_csrf() {
    let app = cookie_app(&[]).await;
    let (browser, _) = login(&app).await;
    let refresh_cookie = format!("{REFRESH}={}; csrftoken={}", browser.refresh, browser.csrf);

    let (status, body) = parts(
        post(&app, "/api/token/refresh/")
            .header("Cookie", &refresh_cookie)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::FORBIDDEN, csrf_failed("CSRF token missing."))
    );

    let res = post(&app, "/api/token/refresh/")
        .header("Cookie", &refresh_cookie)
        .header("X-CSRFToken", &browser.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookies = set_cookies(&res);
    let body: Value = res.json().await.unwrap();
    let access = find(&cookies, ACCESS);
    assert_eq!(access.value, str_field(&body, "access"));
    assert_eq!(access.attr("max-age"), Some("300"));
    let rotated = find(&cookies, REFRESH);
    assert_ne!(rotated.value, browser.refresh);
    assert_eq!(rotated.attr("path"), Some("/api/token/"));
    assert!(rotated.has("httponly"));
    assert!(body.get("refresh").is_none(), "{body}");
    assert!(
        cookies.iter().all(|c| c.name != "csrftoken"),
        "the browser's CSRF cookie stays"
    );

    // The rotated-away cookie is refused; the new one works.
    let again = |refresh: &str| {
        post(&app, "/api/token/refresh/")
            .header(
                "Cookie",
                format!("{REFRESH}={refresh}; csrftoken={}", browser.csrf),
            )
            .header("X-CSRFToken", &browser.csrf)
            .send()
    };
    let (status, body) = parts(again(&rotated.value).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = parts(again(&browser.refresh).await.unwrap()).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
        )
    );

    // A body token takes precedence and needs no CSRF token (it is not ambient).
    let (fresh, _) = login(&app).await;
    let (status, _) = parts(
        post(&app, "/api/token/refresh/")
            .header("Cookie", format!("{REFRESH}=garbage"))
            .json(&json!({"refresh": fresh.refresh}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // No body and no cookie: dj-rest-auth's answer.
    let (status, body) = parts(post(&app, "/api/token/refresh/").send().await.unwrap()).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"detail": "No valid refresh token found.", "code": "token_not_valid"})
        )
    );
}

#[tokio::test]
async fn logout_blacklists_the_refresh_cookie_and_clears_both() {
    let app = cookie_app(&[]).await;
    let (browser, _) = login(&app).await;
    let cookie = format!(
        "{ACCESS}={}; {REFRESH}={}; csrftoken={}",
        browser.access, browser.refresh, browser.csrf
    );

    // Without the CSRF token nothing happens, and nothing is cleared.
    let res = post(&app, "/api/token/logout/")
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(set_cookies(&res).is_empty());
    assert_eq!(
        parts(res).await,
        (StatusCode::FORBIDDEN, csrf_failed("CSRF token missing."))
    );

    let res = post(&app, "/api/token/logout/")
        .header("Cookie", &cookie)
        .header("X-CSRFToken", &browser.csrf)
        .send()
        .await
        .unwrap();
    let cleared = set_cookies(&res);
    assert_eq!(
        parts(res).await,
        (
            StatusCode::OK,
            json!({"detail": "Successfully logged out."})
        )
    );
    let access = find(&cleared, ACCESS);
    assert_eq!(
        (access.value.as_str(), access.attr("path")),
        ("", Some("/"))
    );
    let refresh = find(&cleared, REFRESH);
    assert_eq!(
        (refresh.value.as_str(), refresh.attr("path")),
        ("", Some("/api/token/"))
    );
    for cookie in [access, refresh] {
        assert_eq!(cookie.attr("max-age"), Some("0"));
        assert_eq!(
            cookie.attr("expires"),
            Some("Thu, 01 Jan 1970 00:00:00 GMT")
        );
        assert!(cookie.has("secure") && cookie.has("httponly"));
    }

    // The old refresh cookie no longer refreshes.
    let (status, body) = parts(
        post(&app, "/api/token/refresh/")
            .header("Cookie", &cookie)
            .header("X-CSRFToken", &browser.csrf)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
        )
    );

    // Logging out again: refused, but the cookies are cleared all the same.
    let res = post(&app, "/api/token/logout/")
        .header("Cookie", &cookie)
        .header("X-CSRFToken", &browser.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(set_cookies(&res).len(), 2);
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Without cookies, the body's refresh token; without either, dj-rest-auth's 401.
    let (other, _) = login(&app).await;
    let (status, _) = parts(
        app.post_json("/api/token/logout/", &json!({"refresh": other.refresh}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = parts(post(&app, "/api/token/logout/").send().await.unwrap()).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Refresh token was not included in request data.", "code": "token_not_valid"})
        )
    );
}

#[tokio::test]
async fn expirations_are_returned_when_asked() {
    let app = cookie_app(&[("REST_AUTH__JWT_AUTH_RETURN_EXPIRATION", "true")]).await;
    let (_, body) = login(&app).await;
    let at = |field: &str| {
        chrono::DateTime::parse_from_rfc3339(&str_field(&body, field))
            .unwrap_or_else(|e| panic!("{field}: {e}"))
            .timestamp()
    };
    assert!(
        (at("access_expiration") - (now() + 300)).abs() <= 5,
        "{body}"
    );
    assert!(
        (at("refresh_expiration") - (now() + 86_400)).abs() <= 5,
        "{body}"
    );
}

#[test]
fn bad_cookie_settings_stop_startup() {
    let load = |pairs: &[(&str, &str)]| {
        let mut env = vec![("SECRET_KEY".to_owned(), VECTOR_KEY.to_owned())];
        env.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        settings::Settings::from_sources(None, &env)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let err = load(&[
        ("REST_AUTH__JWT_AUTH_COOKIE", "jwt"),
        ("REST_AUTH__JWT_AUTH_REFRESH_COOKIE", "jwt"),
    ])
    .unwrap_err();
    assert!(
        err.contains("give the two cookies different names"),
        "{err}"
    );
    let err = load(&[("REST_AUTH__JWT_AUTH_COOKIE", "my cookie")]).unwrap_err();
    assert!(err.starts_with("REST_AUTH.JWT_AUTH_COOKIE from environment variable REST_AUTH__JWT_AUTH_COOKIE is invalid"), "{err}");
    let err = load(&[("REST_AUTH__JWT_AUTH_SAMESITE", "lax")]).unwrap_err();
    assert!(err.contains("Lax, Strict, None"), "{err}");
    let err = load(&[("CSRF_TRUSTED_ORIGINS", r#"["app.example.com"]"#)]).unwrap_err();
    assert!(err.contains("https://app.example.com"), "{err}");
}

#[test]
fn check_deploy_warns_about_insecure_cookies() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("settings.toml"), "").unwrap();
    let check = |env: &[(&str, &str)]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_manage"))
            .args(["check", "--deploy"])
            .current_dir(dir.path())
            .env_clear()
            .env(
                "SECRET_KEY",
                "Qm9vdHN0cmFwLXNlY3JldC1mb3ItdGVzdHMtMDEyMzQ1Njc4OWFiY2RlZg-x",
            )
            .env("SETTINGS_FILE", dir.path().join("settings.toml"))
            .env("DATABASE_URL", "postgres://app@localhost/app")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let out = check(&[("REST_AUTH__JWT_AUTH_COOKIE", ACCESS)]);
    assert!(!out.contains("REST_AUTH"), "{out}");
    let out = check(&[
        ("REST_AUTH__JWT_AUTH_COOKIE", ACCESS),
        ("REST_AUTH__JWT_AUTH_SECURE", "false"),
        ("REST_AUTH__JWT_AUTH_SAMESITE", "None"),
    ]);
    assert!(
        out.contains("?: (jwt.W010) REST_AUTH.JWT_AUTH_SECURE is false"),
        "{out}"
    );
    assert!(
        out.contains(
            "?: (jwt.W011) REST_AUTH.JWT_AUTH_SAMESITE is \"None\" without JWT_AUTH_SECURE"
        ),
        "{out}"
    );
}
