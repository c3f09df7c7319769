//! Describe and observe: the OpenAPI document, the self-contained docs page, /metrics, request ids.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, str_field, PASSWORD};

/// Every route of the token views, with the methods the document must list.
const ROUTES: [(&str, &str); 10] = [
    ("/api/token/", "post"),
    ("/api/token/refresh/", "post"),
    ("/api/token/verify/", "post"),
    ("/api/token/blacklist/", "post"),
    ("/api/token/sliding/", "post"),
    ("/api/token/sliding/refresh/", "post"),
    ("/api/token/jwks/", "get"),
    ("/api/token/logout-all/", "post"),
    ("/api/users/me/password/", "post"),
    ("/api/me/", "get"),
];

async fn get(app: &crate::helpers::TestApp, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).send().await.expect("request")
}

fn content_type(res: &reqwest::Response) -> String {
    res.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn schema_is_openapi_3_listing_every_route_and_error_shape() {
    let app = spawn_app().await;
    let res = get(&app, "/api/schema/").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(content_type(&res).starts_with("application/json"));
    let doc: Value = res.json().await.expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for (path, method) in ROUTES {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} missing");
        for status in ["413", "414", "415", "429", "431", "500", "503"] {
            assert!(
                op["responses"][status].is_object(),
                "{method} {path} lacks {status}"
            );
        }
        if method == "post" && path != "/api/token/logout-all/" {
            assert!(
                op["requestBody"]["content"]["application/json"].is_object(),
                "{path} has no JSON body"
            );
        }
    }
    let schemas = &doc["components"]["schemas"];
    for name in [
        "FieldErrors",
        "ErrorDetail",
        "TokenNotValid",
        "Pair",
        "Refreshed",
        "Slid",
    ] {
        assert!(schemas[name].is_object(), "schema {name} missing");
    }
    // The protected views say how to authenticate.
    assert!(doc["paths"]["/api/me/"]["get"]["security"].is_array());
    assert_eq!(
        doc["components"]["securitySchemes"]["jwt"]["scheme"],
        "bearer"
    );
}

/// The `src`/`href` values of an HTML page.
fn references(html: &str) -> Vec<String> {
    let mut refs = Vec::new();
    for attr in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(at) = rest.find(attr) {
            rest = &rest[at + attr.len()..];
            if let Some(end) = rest.find('"') {
                refs.push(rest[..end].to_owned());
            }
        }
    }
    refs
}

#[tokio::test]
async fn docs_page_loads_only_our_own_assets() {
    let app = spawn_app().await;
    let res = get(&app, "/api/docs/").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(content_type(&res).starts_with("text/html"));
    let csp = res
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = res.text().await.expect("body");
    assert!(!html.contains("http://") && !html.contains("https://"));
    let refs = references(&html);
    assert_eq!(refs.len(), 3, "{refs:?}");
    for r in refs {
        assert!(r.starts_with("/api/docs/assets/"), "{r}");
        let asset = get(&app, &r).await;
        assert_eq!(asset.status(), StatusCode::OK, "{r}");
        let expected = if r.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(content_type(&asset).starts_with(expected), "{r}");
        assert!(!asset.bytes().await.expect("body").is_empty());
    }
    // The page's own script points Swagger UI at our schema.
    let init = get(&app, "/api/docs/assets/init.js").await;
    assert!(init
        .text()
        .await
        .expect("body")
        .contains("\"/api/schema/\""));
}

/// The value of one exact series (`name{labels}`) in a Prometheus text page.
fn series(page: &str, key: &str) -> Option<f64> {
    page.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_logins_refreshes_blacklist_hits_and_requests_per_route() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, _) = app.obtain_pair("alice", PASSWORD).await;
    let wrong = app
        .post_json(
            "/api/token/",
            &json!({"username": "alice", "password": "nope"}),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let rotated = app
        .post_json("/api/token/refresh/", &json!({"refresh": refresh}))
        .await;
    assert_eq!(rotated.status(), StatusCode::OK);
    // The rotated-away token again: blacklisted.
    let again = app
        .post_json("/api/token/refresh/", &json!({"refresh": refresh}))
        .await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        get(&app, "/no/such/path/42").await.status(),
        StatusCode::NOT_FOUND
    );

    let res = get(&app, "/metrics").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(content_type(&res).starts_with("text/plain; version=0.0.4"));
    let page = res.text().await.expect("body");
    let expect = |key: &str, value: f64| {
        assert_eq!(series(&page, key), Some(value), "{key} in:\n{page}");
    };
    expect(r#"auth_logins_total{result="succeeded"}"#, 1.0);
    expect(r#"auth_logins_total{result="failed"}"#, 1.0);
    expect(r#"auth_token_refreshes_total{kind="refresh"}"#, 1.0);
    expect("auth_blacklist_hits_total", 1.0);
    expect(
        r#"http_requests_total{method="POST",route="/api/token/",status="200"}"#,
        1.0,
    );
    expect(
        r#"http_requests_total{method="POST",route="/api/token/",status="401"}"#,
        1.0,
    );
    expect(
        r#"http_requests_total{method="POST",route="/api/token/refresh/",status="401"}"#,
        1.0,
    );
    expect(
        r#"http_request_duration_seconds_count{method="POST",route="/api/token/",status="200"}"#,
        1.0,
    );
    // Arbitrary paths share one series: a scanner cannot mint new ones.
    expect(
        r#"http_requests_total{method="GET",route="unmatched",status="404"}"#,
        1.0,
    );
    assert!(!page.contains("/no/such/path"));
    assert!(series(&page, "db_pool_connections").is_some_and(|n| n >= 1.0));
    assert!(series(&page, "db_pool_idle_connections").is_some());
    assert!(series(&page, "db_pool_max_size").is_some_and(|n| n >= 1.0));
}

async fn request_id_of(app: &crate::helpers::TestApp, sent: Option<&str>) -> String {
    let mut req = app.client.get(app.url("/api/me/"));
    if let Some(id) = sent {
        req = req.header("X-Request-ID", id);
    }
    let res = req.send().await.expect("request");
    // An error answer (401 here) carries it too.
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    res.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("x-request-id on the response")
}

fn is_uuid(id: &str) -> bool {
    id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

#[tokio::test]
async fn request_id_is_echoed_generated_or_replaced() {
    let app = spawn_app().await;
    assert_eq!(
        request_id_of(&app, Some("abc-123_x.y")).await,
        "abc-123_x.y"
    );
    let long_ok = "a".repeat(200);
    assert_eq!(request_id_of(&app, Some(&long_ok)).await, long_ok);
    let generated = request_id_of(&app, None).await;
    assert!(is_uuid(&generated), "{generated}");
    assert_ne!(generated, request_id_of(&app, None).await);
    for bad in ["has space", "quote\"d", "semi;colon", &"a".repeat(201)] {
        let id = request_id_of(&app, Some(bad)).await;
        assert!(is_uuid(&id), "{bad:?} gave {id}");
    }
    // A successful answer too.
    let (_, access) = {
        app.create_user("bob", PASSWORD, true);
        app.obtain_pair("bob", PASSWORD).await
    };
    let res = app
        .client
        .get(app.url("/api/me/"))
        .header("Authorization", format!("Bearer {access}"))
        .header("X-Request-ID", "trace-7")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-request-id"], "trace-7");
    let body: Value = res.json().await.expect("json");
    assert_eq!(str_field(&body, "username"), "bob");
}

/// DRF's API root lists the endpoints; ours does as JSON, so the bare address leads to the docs.
#[tokio::test]
async fn root_links_to_the_docs_and_the_token_endpoints() {
    let app = spawn_app().await;
    let res = get(&app, "/").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(content_type(&res).starts_with("application/json"));
    let links: Value = res.json().await.expect("json");
    assert_eq!(links["docs"], "/api/docs/");
    assert_eq!(links["token_obtain_pair"], "/api/token/");
    assert_eq!(links["token_refresh"], "/api/token/refresh/");
    for (_, path) in links.as_object().expect("object") {
        let path = path.as_str().expect("a path");
        // Each link exists (a token view answers GET with 405, /api/me/ with 401).
        assert_ne!(
            get(&app, path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}
