//! Request bodies and routing: DRF's parser errors, our size cap, JSON 404s, never HTML or 500.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn body_must_be_a_json_object() {
    let app = spawn_app().await;
    let cases = [
        ("[]", "Invalid data. Expected a dictionary, but got list."),
        (
            "\"alice\"",
            "Invalid data. Expected a dictionary, but got str.",
        ),
        ("42", "Invalid data. Expected a dictionary, but got int."),
        ("4.2", "Invalid data. Expected a dictionary, but got float."),
        ("true", "Invalid data. Expected a dictionary, but got bool."),
        ("null", "No data provided"),
    ];
    for path in [
        "/api/token/",
        "/api/token/refresh/",
        "/api/token/verify/",
        "/api/token/blacklist/",
    ] {
        for (body, msg) in cases {
            let (status, got) = parts(app.post_raw(path, "application/json", body).await).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}");
            assert_eq!(got, json!({ "non_field_errors": [msg] }), "{path} {body}");
        }
    }
}

#[tokio::test]
async fn malformed_json_is_a_parse_error() {
    let app = spawn_app().await;
    for body in [
        "{",
        "{\"username\": }",
        "nul",
        "{'a': 1}",
        "NaN",
        "{\"a\":1}x",
        "\u{fffd}",
    ] {
        let (status, got) =
            parts(app.post_raw("/api/token/", "application/json", body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let detail = got["detail"].as_str().unwrap_or_default();
        assert!(detail.starts_with("JSON parse error - "), "{body}: {got}");
        assert_eq!(
            got.as_object().map(|m| m.len()),
            Some(1),
            "only detail: {got}"
        );
    }
    let (status, got) = parts(
        app.post_raw("/api/token/", "application/json", vec![0xff, 0xfe, b'{'])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(got["detail"]
        .as_str()
        .is_some_and(|d| d.starts_with("JSON parse error - ")));
}

#[tokio::test]
async fn deeply_nested_json_is_a_400_not_a_crash() {
    let app = spawn_app().await;
    let depth = 100_000;
    let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let (status, got) = parts(app.post_raw("/api/token/", "application/json", body).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        got["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("JSON parse error - ")),
        "{got}"
    );
    let body = format!(
        "{{\"username\":{}1{},\"password\":\"x\"}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let (status, _) = parts(app.post_raw("/api/token/", "application/json", body).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The server is still there.
    let res = app.post_json("/api/token/", &json!({})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unsupported_media_type_names_the_type() {
    let app = spawn_app().await;
    let (status, got) = parts(
        app.post_raw("/api/token/", "text/plain", "username=a")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        got,
        json!({"detail": "Unsupported media type \"text/plain\" in request."})
    );
    let (status, got) = parts(
        app.post_raw("/api/token/", "application/xml; charset=utf-8", "<a/>")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        got,
        json!({"detail": "Unsupported media type \"application/xml; charset=utf-8\" in request."})
    );
}

/// DRF parses only a body: an empty one means no fields whatever the Content-Type says, or
/// when there is none. A body without a Content-Type is DRF's media type `""`: 415.
#[tokio::test]
async fn empty_body_means_no_fields_and_a_body_needs_a_content_type() {
    let app = spawn_app().await;
    let both =
        json!({"username": ["This field is required."], "password": ["This field is required."]});
    let (status, got) = parts(app.post_raw("/api/token/", "application/json", "").await).await;
    assert_eq!((status, got), (StatusCode::BAD_REQUEST, both.clone()));
    let untyped = |body: &'static str| app.client.post(app.url("/api/token/")).body(body).send();
    let (status, got) = parts(untyped("").await.expect("request")).await;
    assert_eq!((status, got), (StatusCode::BAD_REQUEST, both));
    for body in ["username=alice&password=x", r#"{"username": "alice"}"#] {
        let (status, got) = parts(untyped(body).await.expect("request")).await;
        assert_eq!(
            (status, got),
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                json!({"detail": "Unsupported media type \"\" in request."})
            ),
            "{body}"
        );
    }
}

#[tokio::test]
async fn json_with_charset_is_json() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let body = json!({"username": "alice", "password": PASSWORD}).to_string();
    let res = app
        .post_raw("/api/token/", "application/json; charset=utf-8", body)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn oversized_bodies_are_413_json_and_never_hashed() {
    let app = spawn_app_with(&[("SERVER__MAX_BODY_SIZE", "1024")]).await;
    let big = "x".repeat(4096);
    let body = json!({"username": "alice", "password": big}).to_string();
    let (status, got) = parts(app.post_raw("/api/token/", "application/json", body).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(got["code"], "request_too_large");
    assert!(
        got["detail"].as_str().is_some_and(|d| d.contains("1024")),
        "{got}"
    );
    // Streamed without a length: refused as it arrives.
    let stream =
        futures_util::stream::iter((0..64).map(|_| Ok::<_, std::io::Error>(vec![b' '; 512])));
    let res = app
        .client
        .post(app.url("/api/token/"))
        .header("Content-Type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// A body streamed in pieces (chunked, no length) is read whole before it is parsed.
#[tokio::test]
async fn a_body_in_many_chunks_is_read_whole() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD, true);
    let body = json!({"username": "alice", "password": PASSWORD}).to_string();
    let pieces: Vec<Vec<u8>> = body.as_bytes().chunks(7).map(<[u8]>::to_vec).collect();
    assert!(pieces.len() > 3);
    let stream = futures_util::stream::iter(pieces.into_iter().map(Ok::<_, std::io::Error>));
    let res = app
        .client
        .post(app.url("/api/token/"))
        .header("Content-Type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect("request");
    let (status, got) = parts(res).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert!(got["access"].is_string(), "{got}");
}

#[tokio::test]
async fn unknown_paths_and_missing_slashes_are_json_404s() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/nope",
        "/api/token",
        "/api/me",
        "/api/token/refresh",
        "/admin/",
    ] {
        let res = app
            .client
            .post(app.url(path))
            .json(&json!({}))
            .send()
            .await
            .expect("request");
        let (status, got) = parts(res).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(got, json!({"detail": "Not found."}), "{path}");
    }
}

#[tokio::test]
async fn responses_carry_djangos_security_headers() {
    let app = spawn_app().await;
    let res = app.post_json("/api/token/", &json!({})).await;
    let h = res.headers();
    assert_eq!(
        h.get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
    assert_eq!(
        h.get("x-frame-options").and_then(|v| v.to_str().ok()),
        Some("DENY")
    );
    assert_eq!(
        h.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
}

/// Fuzz regressions (fuzz/regressions/request_body/): a multipart boundary under 4 bytes made
/// actix-multipart panic (the worker died, the connection dropped) and a truncated multipart body
/// left the request waiting forever. Both are now DRF's 400 parse error, and the server still
/// answers afterwards.
#[tokio::test]
async fn malformed_multipart_is_a_400_not_a_panic_or_a_hang() {
    let app = spawn_app().await;
    let cases: [(&str, &[u8]); 3] = [
        ("multipart/form-data; boundary=XyZ", b"\r\rXyZ\r\n--\n"),
        ("multipart/form-data; boundary=a", b"--\n--a\r\n"),
        (
            "multipart/form-data; boundary=XyZw",
            b"--XyZw\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n",
        ),
    ];
    for (content_type, body) in cases {
        let answer = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            app.post_raw("/api/token/", content_type, body.to_vec()),
        )
        .await
        .unwrap_or_else(|_| panic!("{content_type}: no answer in 10 s"));
        let (status, got) = parts(answer).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{content_type}: {got}");
        let detail = got["detail"].as_str().unwrap_or_default();
        assert!(
            detail.starts_with("Multipart form parse error - "),
            "{content_type}: {got}"
        );
    }
    let (status, got) = parts(
        app.post_raw(
            "/api/token/",
            "multipart/form-data; boundary=XyZw",
            "--XyZw\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n--XyZw--\r\n",
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(got, json!({"password": ["This field is required."]}));
}
