//! The access log: one gunicorn-style line per request, written to stdout, a file, or the `log`
//! crate. Never headers (an Authorization header must not reach a log) and never bodies.
//!
//! ```text
//! 198.51.100.7 - - [28/Nov/2025:19:56:01 +0000] "POST /api/token/ HTTP/1.1" 200 483 "-" "curl/7.88.1" 0.251302
//! ```
//! Fields: client (see [`crate::proxy`]), two unused identity fields, time, request line, status,
//! response body bytes, referer, user agent, duration in seconds (gunicorn's `%(L)s`).

use std::cell::RefCell;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, REFERER, USER_AGENT};
use actix_web::middleware::Next;
use actix_web::HttpMessage;

use settings::LogDestination;

use crate::proxy::ClientInfo;

/// Where access lines go.
#[derive(Debug)]
pub enum AccessLog {
    Off,
    /// Through the `log` crate at info level, target `access` (the test harness and runserver).
    Log,
    Stdout,
    /// Opened for appending; each line is one `write` call, so worker processes sharing the file
    /// do not interleave within a line.
    File(File),
}

impl AccessLog {
    pub fn open(destination: &LogDestination) -> io::Result<AccessLog> {
        Ok(match destination {
            LogDestination::Off => AccessLog::Off,
            LogDestination::Std => AccessLog::Stdout,
            LogDestination::File(path) => {
                AccessLog::File(OpenOptions::new().create(true).append(true).open(path)?)
            }
        })
    }

    pub fn is_off(&self) -> bool {
        matches!(self, AccessLog::Off)
    }

    fn write_line(&self, mut line: String) {
        // A log that cannot be written (disk full, closed pipe) must not fail the request.
        let _ = match self {
            AccessLog::Off => Ok(()),
            AccessLog::Log => {
                log::info!(target: "access", "{line}");
                Ok(())
            }
            AccessLog::Stdout => {
                line.push('\n');
                io::stdout().lock().write_all(line.as_bytes())
            }
            AccessLog::File(file) => {
                line.push('\n');
                (&*file).write_all(line.as_bytes())
            }
        };
    }
}

/// The fields of one line, gathered from the request and response.
pub struct Entry<'a> {
    pub client: &'a str,
    pub time: chrono::DateTime<chrono::Local>,
    pub request_line: &'a str,
    pub status: u16,
    pub size: Option<u64>,
    pub referer: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub duration: Duration,
    /// The request's X-Request-ID (kept from the client or generated), to match log lines.
    pub request_id: Option<&'a str>,
}

impl Entry<'_> {
    /// The line, built in one buffer: this runs on every request (it was a tenth of the CPU of
    /// a verify request in bench/run's profile when it used `format!` and per-field strings).
    pub fn format(&self) -> String {
        let mut line = String::with_capacity(192);
        push_escaped(&mut line, self.client);
        line.push_str(" - - [");
        push_time(&mut line, &self.time);
        line.push_str("] \"");
        push_escaped(&mut line, self.request_line);
        let _ = write!(line, "\" {} ", self.status);
        match self.size {
            Some(n) => {
                let _ = write!(line, "{n}");
            }
            None => line.push('-'),
        }
        line.push_str(" \"");
        push_escaped(&mut line, self.referer.unwrap_or("-"));
        line.push_str("\" \"");
        push_escaped(&mut line, self.user_agent.unwrap_or("-"));
        let _ = write!(line, "\" {:.6} ", self.duration.as_secs_f64());
        push_escaped(&mut line, self.request_id.unwrap_or("-"));
        line
    }
}

thread_local! {
    /// The last second formatted on this thread and its text: many lines share a second.
    static TIME_TEXT: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
}

/// `28/Nov/2025:19:56:01 +0000`, formatted at most once a second per thread.
fn push_time(out: &mut String, time: &chrono::DateTime<chrono::Local>) {
    TIME_TEXT.with_borrow_mut(|(second, text)| {
        if *second != time.timestamp() {
            *second = time.timestamp();
            text.clear();
            let _ = write!(text, "{}", time.format("%d/%b/%Y:%H:%M:%S %z"));
        }
        out.push_str(text);
    });
}

/// Appends `text` with quotes, backslashes and control or non-ASCII bytes escaped, so a client
/// cannot forge lines.
fn push_escaped(out: &mut String, text: &str) {
    if text
        .bytes()
        .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')
    {
        out.push_str(text);
        return;
    }
    for byte in text.bytes() {
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(byte)),
            _ => {
                let _ = write!(out, "\\x{byte:02x}");
            }
        }
    }
}

fn header(headers: &HeaderMap, name: actix_web::http::header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Middleware: times the request and writes its line once the response is ready.
pub async fn middleware(
    log: Arc<AccessLog>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if log.is_off() {
        return next.call(req).await;
    }
    let started = Instant::now();
    let time = chrono::Local::now();
    let client = req
        .extensions()
        .get::<ClientInfo>()
        .map_or_else(|| peer_text(&req), ClientInfo::addr_text);
    let request_line = match req.uri().path_and_query() {
        Some(pq) => format!("{} {} {:?}", req.method(), pq, req.version()),
        None => format!("{} {} {:?}", req.method(), req.path(), req.version()),
    };
    let request_id = req
        .extensions()
        .get::<crate::request_id::RequestId>()
        .map(|r| r.0.clone());
    let referer = header(req.headers(), REFERER).map(str::to_owned);
    let user_agent = header(req.headers(), USER_AGENT).map(str::to_owned);
    let result = next.call(req).await;
    let (status, size) = match &result {
        Ok(res) => (
            res.status().as_u16(),
            match res.response().body().size() {
                BodySize::Sized(n) => Some(n),
                BodySize::None | BodySize::Stream => None,
            },
        ),
        Err(e) => (e.as_response_error().status_code().as_u16(), None),
    };
    let entry = Entry {
        client: &client,
        time,
        request_line: &request_line,
        status,
        size,
        referer: referer.as_deref(),
        user_agent: user_agent.as_deref(),
        duration: started.elapsed(),
        request_id: request_id.as_deref(),
    };
    log.write_line(entry.format());
    result
}

fn peer_text(req: &ServiceRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "-".to_owned(), |a| a.ip().to_canonical().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn gunicorn_like_line() {
        let time = chrono::Local
            .with_ymd_and_hms(2025, 11, 28, 19, 56, 1)
            .unwrap();
        let entry = Entry {
            client: "198.51.100.7",
            time,
            request_line: "POST /api/token/ HTTP/1.1",
            status: 200,
            size: Some(483),
            referer: None,
            user_agent: Some("curl/7.88.1"),
            duration: Duration::from_micros(251_302),
            request_id: Some("req-42"),
        };
        let line = entry.format();
        let offset = time.format("%z").to_string();
        assert_eq!(
            line,
            format!("198.51.100.7 - - [28/Nov/2025:19:56:01 {offset}] \"POST /api/token/ HTTP/1.1\" 200 483 \"-\" \"curl/7.88.1\" 0.251302 req-42")
        );
    }

    #[test]
    fn clients_cannot_inject_lines_or_quotes() {
        let mut out = String::from("kept ");
        push_escaped(&mut out, "a\"b\\c\nd\u{e9}");
        assert_eq!(out, "kept a\\\"b\\\\c\\x0ad\\xc3\\xa9");
    }

    #[test]
    fn a_cached_second_is_not_reused_for_the_next() {
        let first = chrono::Local.timestamp_opt(1_764_359_761, 0).unwrap();
        let next = chrono::Local.timestamp_opt(1_764_359_762, 0).unwrap();
        let (mut a, mut b, mut again) = (String::new(), String::new(), String::new());
        push_time(&mut a, &first);
        push_time(&mut b, &next);
        push_time(&mut again, &first);
        assert_ne!(a, b);
        assert_eq!(a, again);
        assert_eq!(a, first.format("%d/%b/%Y:%H:%M:%S %z").to_string());
    }
}
