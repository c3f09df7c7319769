//! The access log: one gunicorn-style line per request, written to stdout, a file, or the `log`
//! crate. Never headers (an Authorization header must not reach a log) and never bodies.
//!
//! ```text
//! 198.51.100.7 - - [28/Nov/2025:19:56:01 +0000] "POST /api/token/ HTTP/1.1" 200 483 "-" "curl/7.88.1" 0.251302
//! ```
//! Fields: client (see [`crate::middleware::proxy`]), two unused identity fields, time, request line, status,
//! response body bytes, referer, user agent, duration in seconds (gunicorn's `%(L)s`).

use std::cell::RefCell;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::Version;

use settings::LogDestination;

use crate::middleware::proxy::push_addr;

/// Where access lines go.
#[derive(Debug)]
pub enum AccessLog {
    Off,
    /// Through the `log` crate at info level, target `access` (the test harness and runserver).
    Log,
    /// Standard output or a file opened for appending, through a buffer (see [`Buffer`]).
    Buffered(Arc<Buffer>),
}

/// How often buffered lines are written out.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Written out at once past this size, whatever the timer.
const FLUSH_AT: usize = 32 * 1024;
/// The most written in one `write`: a pipe (stdout under a supervisor) keeps writes of at most
/// PIPE_BUF bytes whole, so worker processes sharing it do not interleave within a line.
const CHUNK: usize = 4096;

/// Lines not yet written, shared by the process's request threads: a `write` per request was
/// the largest cost of the middleware stack (a system call on every request). A thread writes
/// the buffer out every [`FLUSH_EVERY`]; once the graceful stop has begun
/// (`crate::prefork::drain::begin` calls [`flush_all`]) what was pending is written out and then
/// each line at once: a clean stop loses no line, however soon after it the process exits. A fast stop (QUIT)
/// or a crash can lose the last [`FLUSH_EVERY`] of lines.
#[derive(Debug)]
pub struct Buffer {
    sink: Sink,
    pending: Mutex<Vec<u8>>,
}

#[derive(Debug)]
enum Sink {
    Stdout,
    File(File),
}

impl Buffer {
    fn new(sink: Sink) -> Arc<Buffer> {
        let buffer = Arc::new(Buffer {
            sink,
            pending: Mutex::new(Vec::with_capacity(FLUSH_AT + 4096)),
        });
        let weak = Arc::downgrade(&buffer);
        registry().push(weak.clone());
        // Without the thread, lines still go out when the buffer fills and at the stop.
        let _ = std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || flush_periodically(&weak));
        buffer
    }

    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        // A panic while holding the lock leaves whole lines behind: keep using them.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, line: &str) {
        let mut pending = self.lock();
        pending.extend_from_slice(line.as_bytes());
        pending.push(b'\n');
        if pending.len() >= FLUSH_AT || WRITE_THROUGH.load(Ordering::Relaxed) {
            self.write_out(&mut pending);
        }
    }

    /// Writes out every pending line.
    pub fn flush(&self) {
        let mut pending = self.lock();
        self.write_out(&mut pending);
    }

    fn write_out(&self, pending: &mut Vec<u8>) {
        let mut rest = pending.as_slice();
        while !rest.is_empty() {
            let take = chunk_len(rest);
            let (chunk, tail) = rest.split_at(take);
            // A log that cannot be written (disk full, closed pipe) must not fail requests.
            let _ = match &self.sink {
                Sink::Stdout => io::stdout().lock().write_all(chunk),
                Sink::File(file) => (&*file).write_all(chunk),
            };
            rest = tail;
        }
        pending.clear();
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Every buffer of this process, for [`flush_all`].
fn registry() -> MutexGuard<'static, Vec<Weak<Buffer>>> {
    static BUFFERS: Mutex<Vec<Weak<Buffer>>> = Mutex::new(Vec::new());
    let mut buffers = BUFFERS.lock().unwrap_or_else(PoisonError::into_inner);
    buffers.retain(|b| b.strong_count() > 0);
    buffers
}

/// Set by [`flush_all`]: from then on each line is written at once.
static WRITE_THROUGH: AtomicBool = AtomicBool::new(false);

/// Writes out every buffered line of the process, and from then on each line at once. Called
/// when the graceful stop begins (`crate::prefork::drain::begin`): so the lines of a clean stop
/// are all written whenever the process then exits, whatever the timer.
pub fn flush_all() {
    WRITE_THROUGH.store(true, Ordering::Relaxed);
    let buffers: Vec<Arc<Buffer>> = registry().iter().filter_map(Weak::upgrade).collect();
    for buffer in buffers {
        buffer.flush();
    }
}

/// How much of `pending` to write at once: whole lines, at most [`CHUNK`] bytes unless its first
/// line alone is longer.
fn chunk_len(pending: &[u8]) -> usize {
    if pending.len() <= CHUNK {
        return pending.len();
    }
    match pending[..CHUNK].iter().rposition(|&b| b == b'\n') {
        Some(end) => end + 1,
        None => pending
            .iter()
            .position(|&b| b == b'\n')
            .map_or(pending.len(), |end| end + 1),
    }
}

fn flush_periodically(buffer: &Weak<Buffer>) {
    loop {
        std::thread::sleep(FLUSH_EVERY);
        match buffer.upgrade() {
            Some(buffer) => buffer.flush(),
            None => return,
        }
    }
}

impl AccessLog {
    pub fn open(destination: &LogDestination) -> io::Result<AccessLog> {
        Ok(match destination {
            LogDestination::Off => AccessLog::Off,
            LogDestination::Std => AccessLog::Buffered(Buffer::new(Sink::Stdout)),
            LogDestination::File(path) => AccessLog::Buffered(Buffer::new(Sink::File(
                OpenOptions::new().create(true).append(true).open(path)?,
            ))),
        })
    }

    pub fn is_off(&self) -> bool {
        matches!(self, AccessLog::Off)
    }

    /// Writes one entry's line; into the buffer through a per-thread line, not a new string.
    pub fn record(&self, entry: &Entry<'_>) {
        match self {
            AccessLog::Off => {}
            AccessLog::Log => log::info!(target: "access", "{}", entry.format()),
            AccessLog::Buffered(buffer) => LINE.with_borrow_mut(|line| {
                line.clear();
                entry.write_to(line);
                buffer.push(line);
            }),
        }
    }
}

thread_local! {
    /// The line being written, reused: one allocation per thread rather than per request.
    static LINE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The fields of one line, gathered from the request and response.
pub struct Entry<'a> {
    /// The client (see [`crate::middleware::proxy`]); `None` prints `-`.
    pub client: Option<IpAddr>,
    pub time: SystemTime,
    pub method: &'a str,
    /// The request target as sent: path and query.
    pub target: &'a str,
    pub version: Version,
    pub status: u16,
    pub size: Option<u64>,
    pub referer: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub duration: Duration,
    /// The request's X-Request-ID (kept from the client or generated), to match log lines.
    pub request_id: Option<&'a str>,
}

impl Entry<'_> {
    /// The line.
    pub fn format(&self) -> String {
        let mut line = String::with_capacity(192);
        self.write_to(&mut line);
        line
    }

    /// Appends the line, built piece by piece: this runs on every request (it was a tenth of
    /// the CPU of a verify request in bench/run's profile when it used `format!` and per-field
    /// strings). Escaping is byte by byte, so the request line's pieces escaped one after the
    /// other print as the whole line escaped at once.
    pub fn write_to(&self, line: &mut String) {
        push_addr(line, self.client);
        line.push_str(" - - [");
        push_time(line, self.time);
        line.push_str("] \"");
        push_escaped(line, self.method);
        line.push(' ');
        push_escaped(line, self.target);
        line.push(' ');
        push_version(line, self.version);
        line.push_str("\" ");
        push_decimal(line, u128::from(self.status), 1);
        line.push(' ');
        match self.size {
            Some(n) => push_decimal(line, u128::from(n), 1),
            None => line.push('-'),
        }
        line.push_str(" \"");
        push_escaped(line, self.referer.unwrap_or("-"));
        line.push_str("\" \"");
        push_escaped(line, self.user_agent.unwrap_or("-"));
        // Seconds with six decimals, in integers (`{:.6}` of an f64 took the float formatter).
        let micros = self.duration.as_micros();
        line.push_str("\" ");
        push_decimal(line, micros / 1_000_000, 1);
        line.push('.');
        push_decimal(line, micros % 1_000_000, 6);
        line.push(' ');
        push_escaped(line, self.request_id.unwrap_or("-"));
    }
}

/// `HTTP/1.1` and the like (`format!` with `Debug` of the version cost more than the rest of the
/// line).
fn push_version(line: &mut String, version: Version) {
    match version {
        Version::HTTP_09 => line.push_str("HTTP/0.9"),
        Version::HTTP_10 => line.push_str("HTTP/1.0"),
        Version::HTTP_11 => line.push_str("HTTP/1.1"),
        Version::HTTP_2 => line.push_str("HTTP/2.0"),
        Version::HTTP_3 => line.push_str("HTTP/3.0"),
        _ => {
            let _ = write!(line, "{version:?}");
        }
    }
}

/// `n` in decimal, zero-padded to at least `width` digits, without `fmt` (a few of these per line
/// cost more through `write!` than the rest of it).
fn push_decimal(out: &mut String, mut n: u128, width: usize) {
    let mut digits = [0u8; 39];
    let mut start = digits.len();
    while n > 0 || digits.len() - start < width {
        start -= 1;
        digits[start] = b'0' + u8::try_from(n % 10).unwrap_or(0);
        n /= 10;
    }
    for &digit in &digits[start..] {
        out.push(char::from(digit));
    }
}

thread_local! {
    /// The last second formatted on this thread and its text: many lines share a second.
    static TIME_TEXT: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
}

/// `28/Nov/2025:19:56:01 +0000`, formatted at most once a second per thread: within a second
/// the time costs one clock read (`SystemTime::now`), not chrono's local-time conversion.
fn push_time(out: &mut String, time: SystemTime) {
    let Some(second) = time
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok())
    else {
        let _ = write!(
            out,
            "{}",
            chrono::DateTime::<chrono::Local>::from(time).format(TIME_FORMAT)
        );
        return;
    };
    TIME_TEXT.with_borrow_mut(|(cached, text)| {
        if *cached != second {
            *cached = second;
            text.clear();
            let local = chrono::DateTime::<chrono::Local>::from(time);
            let _ = write!(text, "{}", local.format(TIME_FORMAT));
        }
        out.push_str(text);
    });
}

const TIME_FORMAT: &str = "%d/%b/%Y:%H:%M:%S %z";

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

/// A request header's value when it is text.
pub fn header(headers: &HeaderMap, name: HeaderName) -> Option<HeaderValue> {
    headers.get(name).filter(|v| v.to_str().is_ok()).cloned()
}

/// The value of [`header`] as text.
pub fn text(value: Option<&HeaderValue>) -> Option<&str> {
    value.and_then(|v| v.to_str().ok())
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
            client: Some("198.51.100.7".parse().unwrap()),
            time: SystemTime::from(time),
            method: "POST",
            target: "/api/token/",
            version: Version::HTTP_11,
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
    fn decimals_as_fmt_prints_them() {
        for (n, width, text) in [
            (0, 1, "0"),
            (7, 1, "7"),
            (200, 1, "200"),
            (42, 6, "000042"),
            (1_234_567, 6, "1234567"),
            (u128::from(u64::MAX), 1, "18446744073709551615"),
        ] {
            let mut out = String::new();
            push_decimal(&mut out, n, width);
            assert_eq!(out, text);
        }
    }

    #[test]
    fn buffered_lines_are_written_in_whole_lines_of_at_most_a_chunk() {
        let short = b"a\nb\n";
        assert_eq!(chunk_len(short), short.len());
        let line = [b'x'; 1000];
        let mut many = Vec::new();
        for _ in 0..10 {
            many.extend_from_slice(&line);
            many.push(b'\n');
        }
        assert_eq!(chunk_len(&many), 4 * 1001);
        let mut long = vec![b'y'; CHUNK + 10];
        long.push(b'\n');
        long.extend_from_slice(b"z\n");
        assert_eq!(chunk_len(&long), CHUNK + 11);
    }

    #[test]
    fn the_request_line_escaped_in_pieces_is_the_line_escaped_whole() {
        let target = "/a\"b?c=\\\n\u{e9}";
        let mut whole = String::new();
        push_escaped(&mut whole, &format!("GET {target} HTTP/1.1"));
        let entry = Entry {
            client: None,
            time: SystemTime::UNIX_EPOCH,
            method: "GET",
            target,
            version: Version::HTTP_11,
            status: 200,
            size: None,
            referer: None,
            user_agent: None,
            duration: Duration::ZERO,
            request_id: None,
        };
        let line = entry.format();
        assert!(
            line.contains(&format!("] \"{whole}\" 200 - \"-\" \"-\" 0.000000 -")),
            "{line}"
        );
        assert!(line.starts_with("- - - ["), "{line}");
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
        push_time(&mut a, SystemTime::from(first));
        push_time(&mut b, SystemTime::from(next));
        push_time(&mut again, SystemTime::from(first));
        assert_ne!(a, b);
        assert_eq!(a, again);
        assert_eq!(a, first.format("%d/%b/%Y:%H:%M:%S %z").to_string());
    }
}
