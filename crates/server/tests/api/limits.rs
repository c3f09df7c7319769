//! gunicorn's request-head limits (`[SERVER] LIMIT_REQUEST_LINE`, `LIMIT_REQUEST_FIELDS`,
//! `LIMIT_REQUEST_FIELD_SIZE`), over raw HTTP/1.1 so that every byte of the head is the test's:
//! a request at each limit is served, one byte or field over is refused in our JSON shape.

use std::io::{Read, Write};

use serde_json::{json, Value};

use crate::helpers::*;

/// Sends `head` (request line and header lines, without the blank line) on a new connection;
/// the status code and the JSON body (`Null` when the body is not JSON).
async fn send(app: &TestApp, head: &str) -> (u16, Value) {
    send_raw(app, &format!("{head}\r\n\r\n")).await
}

/// Sends a whole request as it stands, on the blocking pool (the test's runtime keeps driving
/// the server meanwhile).
async fn send_raw(app: &TestApp, request: &str) -> (u16, Value) {
    let address = app.address.trim_start_matches("http://").to_owned();
    let request = request.to_owned();
    tokio::task::spawn_blocking(move || exchange(&address, &request))
        .await
        .expect("exchange")
}

fn exchange(address: &str, request: &str) -> (u16, Value) {
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = Vec::new();
    // Every head below says `Connection: close`: the server ends the answer by closing.
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let code = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP response: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (code, body)
}

/// A GET of /api/me/ with its request line exactly `length` bytes long (a query pads it).
fn line_of(length: usize) -> String {
    let fixed = "GET /api/me/?p= HTTP/1.1".len();
    format!("GET /api/me/?p={} HTTP/1.1", "a".repeat(length - fixed))
}

const BASE: &str = "Host: localhost\r\nConnection: close";

#[tokio::test]
async fn a_request_line_over_4094_bytes_is_414() {
    let app = spawn_app().await;
    // At the limit the request reaches the view (no token: 401).
    let (code, _) = send(&app, &format!("{}\r\n{BASE}", line_of(4094))).await;
    assert_eq!(code, 401);
    let (code, body) = send(&app, &format!("{}\r\n{BASE}", line_of(4095))).await;
    assert_eq!(
        (code, body),
        (
            414,
            json!({"detail": "Request line is too large (4095 > 4094).", "code": "request_line_too_large"})
        )
    );
    // 0 is no limit (actix itself refuses targets over 64 KiB).
    let unlimited = spawn_app_with(&[("SERVER__LIMIT_REQUEST_LINE", "0")]).await;
    let (code, _) = send(&unlimited, &format!("{}\r\n{BASE}", line_of(20_000))).await;
    assert_eq!(code, 401);
}

/// `Authorization: Bearer <value>` with the whole field (and its CRLF) `length` bytes long.
fn authorization_of(length: usize) -> String {
    let fixed = "Authorization: Bearer \r\n".len();
    format!("Authorization: Bearer {}", "a".repeat(length - fixed))
}

#[tokio::test]
async fn a_header_field_over_8190_bytes_is_431() {
    let app = spawn_app().await;
    let me = |field: String| {
        let head = format!("GET /api/me/ HTTP/1.1\r\n{BASE}\r\n{field}");
        let app = &app;
        async move { send(app, &head).await }
    };
    // At the limit the token is read, and refused as a token.
    let (code, body) = me(authorization_of(8190)).await;
    assert_eq!(code, 401);
    assert_eq!(body["code"], "token_not_valid", "{body}");
    let (code, body) = me(authorization_of(8191)).await;
    assert_eq!(
        (code, body),
        (
            431,
            json!({
                "detail": "Request header field \"authorization\" is too large (8191 > 8190).",
                "code": "request_header_fields_too_large"
            })
        )
    );
    // The sizes the issue measured (9 KB, 64 KB) never reach authentication either.
    for length in [9 * 1024, 64 * 1024] {
        let (code, body) = me(authorization_of(length)).await;
        assert_eq!(code, 431, "{length}");
        assert_eq!(body["code"], "request_header_fields_too_large", "{length}");
    }
    // A body is not read either: a login with an oversized header is refused as it stands.
    let body = json!({"username": "alice", "password": PASSWORD}).to_string();
    let (code, _) = send_raw(
        &app,
        &format!(
            "POST /api/token/ HTTP/1.1\r\n{BASE}\r\nX-Pad: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            "p".repeat(9000),
            body.len()
        ),
    )
    .await;
    assert_eq!(code, 431);
    let unlimited = spawn_app_with(&[("SERVER__LIMIT_REQUEST_FIELD_SIZE", "0")]).await;
    let (code, _) = send(
        &unlimited,
        &format!(
            "GET /api/me/ HTTP/1.1\r\n{BASE}\r\n{}",
            authorization_of(9000)
        ),
    )
    .await;
    assert_eq!(code, 401);
}

/// `n` header fields in all: Host, Connection and `n - 2` padding fields.
fn with_fields(n: usize) -> String {
    let mut head = format!("GET /api/me/ HTTP/1.1\r\n{BASE}");
    for i in 0..n - 2 {
        head.push_str(&format!("\r\nX-Field-{i}: {i}"));
    }
    head
}

#[tokio::test]
async fn more_header_fields_than_the_limit_is_431() {
    let app = spawn_app_with(&[("SERVER__LIMIT_REQUEST_FIELDS", "40")]).await;
    assert_eq!(send(&app, &with_fields(40)).await.0, 401);
    let (code, body) = send(&app, &with_fields(41)).await;
    assert_eq!(
        (code, body),
        (
            431,
            json!({
                "detail": "Too many request header fields (41 > 40).",
                "code": "request_header_fields_too_large"
            })
        )
    );
    // gunicorn's default, 100: actix-web's own parser stops at 96 fields (an empty 431).
    let default = spawn_app().await;
    assert_eq!(send(&default, &with_fields(96)).await.0, 401);
    assert_eq!(send(&default, &with_fields(101)).await.0, 431);
}

#[tokio::test]
async fn a_body_stalled_past_the_timeout_is_408_not_503() {
    let app = spawn_app_with(&[("SERVER__TIMEOUT", "1s")]).await;
    // 100 bytes announced, 11 sent, then nothing: the client's stall, not the server's fault.
    let (code, body) = send_raw(
        &app,
        "POST /api/token/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"username\"",
    )
    .await;
    assert_eq!(code, 408, "{body}");
    assert_eq!(
        body,
        json!({"detail": "The request body was not received in time.", "code": "request_timeout"})
    );
}

/// Reads one response on `stream`: its head (status line and headers, lower-cased) and a body
/// of its Content-Length. Each read waits at most 5 s: a server that waits for a body it never
/// asked for fails the test instead of hanging it.
fn read_response(stream: &mut std::net::TcpStream) -> (String, Vec<u8>) {
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    let mut bytes = Vec::new();
    let mut byte = [0u8; 1];
    while !bytes.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => bytes.push(byte[0]),
            other => panic!(
                "no complete response head ({other:?}): {:?}",
                String::from_utf8_lossy(&bytes)
            ),
        }
    }
    let head = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |n| n.trim().parse().expect("content-length"));
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("body");
    (head, body)
}

fn expect_head(length: usize) -> String {
    format!(
        "POST /api/token/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\nExpect: 100-continue\r\n\r\n"
    )
}

/// `Expect: 100-continue` with a Content-Length over MAX_BODY_SIZE: the 413 comes in place of
/// `100 Continue`, before any of the body is sent, with the body and headers of any other 413.
#[tokio::test]
async fn expect_100_continue_over_the_body_limit_is_413_without_the_body() {
    let app = spawn_app_with(&[("SERVER__MAX_BODY_SIZE", "1024")]).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let (head, body) = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).expect("connect");
        stream
            .write_all(expect_head(1025).as_bytes())
            .expect("write");
        read_response(&mut stream)
    })
    .await
    .expect("exchange");
    assert!(head.starts_with("http/1.1 413 "), "{head}");
    assert!(
        head.contains("\r\nx-content-type-options: nosniff\r\n"),
        "{head}"
    );
    assert!(head.contains("\r\nx-request-id: "), "{head}");
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(
        body,
        json!({"detail": "Request body is too large (the limit is 1024 bytes).", "code": "request_too_large"})
    );
}

/// A body within the limit still gets `100 Continue`, then is read and served.
#[tokio::test]
async fn expect_100_continue_within_the_body_limit_continues_and_is_served() {
    let app = spawn_app_with(&[("SERVER__MAX_BODY_SIZE", "1024")]).await;
    app.create_user("alice", PASSWORD, true);
    let address = app.address.trim_start_matches("http://").to_owned();
    let (interim, (head, body)) = tokio::task::spawn_blocking(move || {
        let login = json!({"username": "alice", "password": PASSWORD}).to_string();
        let mut stream = std::net::TcpStream::connect(address).expect("connect");
        stream
            .write_all(expect_head(login.len()).as_bytes())
            .expect("write");
        let interim = read_response(&mut stream).0;
        stream.write_all(login.as_bytes()).expect("write body");
        (interim, read_response(&mut stream))
    })
    .await
    .expect("exchange");
    assert_eq!(interim, "http/1.1 100 continue\r\n\r\n");
    assert!(head.starts_with("http/1.1 200 "), "{head}");
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert!(
        body["access"].is_string() && body["refresh"].is_string(),
        "{body}"
    );
}
