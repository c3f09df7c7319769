//! The `server` binary as a black box: a real master with worker processes on a temporary SQLite
//! database, signalled while clients send real requests.
//!
//! No fixed ports (it binds 127.0.0.1:0 and the test reads "Listening at:" from its log), no
//! sleeps to synchronise (the test waits for log lines and responses, each wait bounded), and
//! every load loop stops by itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step is the failure

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use rustix::process::{Pid, Signal};
use serde_json::{json, Value};
use tempfile::TempDir;

const SECRET: &str = "process-test-secret-4f8a2c9e1b7d3f5a0c6e8b2d4f6a8c0e2b4d6f8a";
const PASSWORD: &str = "correct horse battery staple";
/// Every wait in these tests gives up after this long.
const WAIT: Duration = Duration::from_secs(60);

/// Lines a child process printed, shared with the thread that reads them.
#[derive(Clone, Default)]
struct Lines(Arc<(Mutex<Vec<String>>, Condvar)>);

impl Lines {
    fn follow(stream: impl Read + Send + 'static) -> Lines {
        let lines = Lines::default();
        let shared = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let (store, changed) = &*shared.0;
                store.lock().unwrap().push(line);
                changed.notify_all();
            }
        });
        lines
    }

    fn snapshot(&self) -> Vec<String> {
        self.0 .0.lock().unwrap().clone()
    }

    /// Waits until `done` holds for the lines so far; panics after [`WAIT`].
    fn wait_for<T>(&self, what: &str, mut done: impl FnMut(&[String]) -> Option<T>) -> T {
        let deadline = Instant::now() + WAIT;
        let (store, changed) = &*self.0;
        let mut lines = store.lock().unwrap();
        loop {
            if let Some(found) = done(&lines) {
                return found;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {what}; log:\n{}",
                lines.join("\n")
            );
            lines = changed.wait_timeout(lines, left).unwrap().0;
        }
    }

    fn count(&self, needle: &str) -> usize {
        self.snapshot()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }
}

/// Worker pids from "Booting worker with pid: N" lines, in order.
fn booted_pids(lines: &[String]) -> Vec<i32> {
    lines
        .iter()
        .filter_map(|l| l.split("Booting worker with pid: ").nth(1))
        .filter_map(|p| p.trim().parse().ok())
        .collect()
}

struct Server {
    child: Child,
    base: String,
    log: Lines,
    access: Lines,
    dir: TempDir,
}

struct Options<'a> {
    args: &'a [&'a str],
    env: &'a [(&'a str, &'a str)],
    settings: &'a str,
    workers: usize,
    /// Leave the database without its tables (as before the release phase's `migrate`).
    unmigrated: bool,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            args: &[],
            env: &[],
            settings: "",
            workers: 2,
            unmigrated: false,
        }
    }
}

fn db_url(dir: &TempDir) -> String {
    format!("sqlite:///{}", dir.path().join("db.sqlite3").display())
}

/// A migrated database with user `alice` (bcrypt cost 4) and `slow` (a hash of `slow_cost`).
fn prepare_database(dir: &TempDir, slow_cost: Option<u32>) {
    let target = users::db::Target::parse(&db_url(dir)).unwrap();
    let pool = users::db::pool_for(target, 1, Duration::from_secs(10));
    let mut conn = users::db::get(&pool).unwrap();
    users::migrations::run_pending(&mut conn).unwrap();
    let mut add = |username: &str, cost: u32| {
        let hash = users::PasswordHasher::new(cost)
            .unwrap()
            .make_password(PASSWORD)
            .unwrap();
        let new = users::NewUser {
            username,
            email: "",
            password: &hash,
            first_name: "",
            last_name: "",
            is_active: true,
            is_staff: false,
            is_superuser: false,
            date_joined: Utc::now().naive_utc(),
        };
        users::queries::create(&mut conn, &new).unwrap();
    };
    add("alice", 4);
    if let Some(cost) = slow_cost {
        add("slow", cost);
    }
}

impl Server {
    fn start(options: Options) -> Server {
        Self::start_in(tempfile::tempdir().unwrap(), None, options)
    }

    fn start_in(dir: TempDir, slow_cost: Option<u32>, options: Options) -> Server {
        if !options.unmigrated {
            prepare_database(&dir, slow_cost);
        }
        let settings_file = dir.path().join("settings.toml");
        std::fs::write(&settings_file, options.settings).unwrap();
        let workers = options.workers.to_string();
        let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
        command
            .args(["--bind", "127.0.0.1:0", "--workers", &workers])
            .args(options.args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SECRET_KEY", SECRET)
            .env("DATABASE_URL", db_url(&dir))
            .env("SETTINGS_FILE", &settings_file)
            .env("RUST_LOG", "info")
            // Hashes are made at cost 4; a different setting would re-hash on every login.
            .env("PASSWORDS__BCRYPT_ROUNDS", "4")
            .envs(options.env.iter().copied())
            // The temp dir, so no .env or settings.toml of the repository is read.
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("server binary");
        let log = Lines::follow(child.stderr.take().unwrap());
        let access = Lines::follow(child.stdout.take().unwrap());
        let base = log.wait_for("the listening address", |lines| {
            lines
                .iter()
                .find_map(|l| l.split("Listening at: ").nth(1))
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_owned)
        });
        let server = Server {
            child,
            base,
            log,
            access,
            dir,
        };
        server.wait_serving(options.workers);
        server
    }

    fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap()
    }

    fn signal(&self, signal: Signal) {
        signal_pid(self.pid(), signal);
    }

    /// Waits until `n` "is serving" lines in all.
    fn wait_serving(&self, n: usize) {
        self.log.wait_for(&format!("{n} workers serving"), |lines| {
            (lines.iter().filter(|l| l.contains("is serving")).count() >= n).then_some(())
        });
    }

    /// Waits for the master to exit by itself, within [`WAIT`].
    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server did not exit; log:\n{}",
                self.log.snapshot().join("\n")
            );
            // Polling a child's exit: bounded, and nothing else to wait on.
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed test must not leave a master (and its workers, which follow it) running.
        if self.child.try_wait().ok().flatten().is_none() {
            signal_pid(self.pid(), Signal::KILL);
            let _ = self.child.wait();
        }
    }
}

fn signal_pid(pid: i32, signal: Signal) {
    rustix::process::kill_process(Pid::from_raw(pid).unwrap(), signal).unwrap();
}

fn client(keep_alive: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder().timeout(Duration::from_secs(30));
    let builder = if keep_alive {
        builder
    } else {
        builder.pool_max_idle_per_host(0)
    };
    builder.build().unwrap()
}

async fn login(
    client: &reqwest::Client,
    server_url: &str,
    username: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{server_url}/api/token/"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
}

/// One request of the load: when it was sent and how it ended.
#[derive(Debug)]
struct Outcome {
    sent: Instant,
    result: Result<u16, String>,
}

/// Clients looping over login, token refresh-free protected calls and health checks, each on a
/// fresh connection, until stopped or `MAX` requests or [`WAIT`].
struct Load {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<Vec<Outcome>>>,
}

impl Load {
    const MAX: usize = 20_000;

    fn start(base: &str, clients: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = (0..clients)
            .map(|n| {
                let (base, stop) = (base.to_owned(), Arc::clone(&stop));
                tokio::spawn(async move {
                    let client = client(false);
                    let started = Instant::now();
                    let mut outcomes = Vec::new();
                    let mut access: Option<String> = None;
                    while !stop.load(Ordering::Relaxed)
                        && outcomes.len() < Self::MAX
                        && started.elapsed() < WAIT
                    {
                        let sent = Instant::now();
                        let result = match (outcomes.len() + n) % 3 {
                            0 => login(&client, &base, "alice")
                                .await
                                .map(|r| r.status().as_u16()),
                            1 => match &access {
                                Some(token) => client
                                    .get(format!("{base}/api/me/"))
                                    .bearer_auth(token)
                                    .send()
                                    .await
                                    .map(|r| r.status().as_u16()),
                                None => match login(&client, &base, "alice").await {
                                    Ok(res) if res.status() == 200 => {
                                        let body: Value = res.json().await.unwrap_or_default();
                                        access = body["access"].as_str().map(str::to_owned);
                                        Ok(200)
                                    }
                                    other => other.map(|r| r.status().as_u16()),
                                },
                            },
                            _ => client
                                .get(format!("{base}/healthz"))
                                .send()
                                .await
                                .map(|r| r.status().as_u16()),
                        };
                        outcomes.push(Outcome {
                            sent,
                            result: result.map_err(|e| format!("{e:?}")),
                        });
                    }
                    outcomes
                })
            })
            .collect();
        Load { stop, tasks }
    }

    async fn finish(self) -> Vec<Outcome> {
        self.stop.store(true, Ordering::Relaxed);
        let mut all = Vec::new();
        for task in self.tasks {
            all.extend(task.await.unwrap());
        }
        all
    }
}

/// Waits until the load has completed `n` more requests successfully (proof it is flowing).
async fn until_requests_flow(server: &Server, n: usize) {
    let client = client(false);
    for _ in 0..n {
        let res = client.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(res.status(), 200);
    }
}

fn failures(outcomes: &[Outcome]) -> Vec<&Outcome> {
    outcomes.iter().filter(|o| o.result != Ok(200)).collect()
}

/// A login as `slow` written on a raw connection, so the test knows it reached the server's
/// accept queue before anything after it. Returns the stream to read the answer from.
fn send_slow_login(server: &Server) -> std::net::TcpStream {
    let body = json!({"username": "slow", "password": PASSWORD}).to_string();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    write!(
        stream,
        "POST /api/token/ HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream
}

/// The status line of a raw response, or the error that ended the connection.
fn read_status(mut stream: std::net::TcpStream) -> Result<String, String> {
    let mut text = String::new();
    stream
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    text.lines()
        .next()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| "connection closed without a response".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn term_finishes_in_flight_requests_then_exits_zero() {
    let server = Server::start_in(tempfile::tempdir().unwrap(), Some(13), Options::default());
    let load = Load::start(&server.base, 4);
    until_requests_flow(&server, 20).await;

    // The slow login is accepted before the health check that follows it on the same socket.
    let slow = send_slow_login(&server);
    until_requests_flow(&server, 1).await;
    let term_sent = Instant::now();
    server.signal(Signal::TERM);
    let slow = tokio::task::spawn_blocking(move || read_status(slow));

    let status = tokio::task::spawn_blocking(move || {
        let mut server = server;
        (server.wait_exit(), server)
    })
    .await
    .unwrap();
    let (status, server) = status;
    assert_eq!(
        status.code(),
        Some(0),
        "log:\n{}",
        server.log.snapshot().join("\n")
    );
    let slow = slow.await.unwrap();
    assert_eq!(
        slow.as_deref(),
        Ok("HTTP/1.1 200 OK"),
        "the in-flight request was finished"
    );

    let outcomes = load.finish().await;
    let before: Vec<_> = outcomes.iter().filter(|o| o.sent < term_sent).collect();
    // At least one request per load client was on its way before the signal (on a loaded
    // machine that may be all: bcrypt logins are slow there).
    assert!(before.len() >= 4, "load ran: {} requests", before.len());
    let failed_before: Vec<_> = before.iter().filter(|o| o.result != Ok(200)).collect();
    assert!(
        failed_before.is_empty(),
        "requests sent before TERM failed: {failed_before:?}"
    );
    // After TERM new connections are refused, never answered with an error status.
    let bad_status: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o.result, Ok(s) if s != 200))
        .collect();
    assert!(bad_status.is_empty(), "{bad_status:?}");
    // Stopped listening.
    assert!(std::net::TcpStream::connect(("127.0.0.1", server.port())).is_err());
}

/// How one raw connection of [`raw_verifies`] ended.
#[derive(Debug, PartialEq)]
enum Ended {
    /// A whole HTTP answer.
    Answered,
    /// Never connected (refused, or the SYN unanswered): a proxy tries its next server.
    NotConnected,
    /// Connected and sent the request, then the connection died without an answer: lost.
    Lost(String),
}

/// One POST /api/token/verify/ on a fresh raw connection (`Connection: close`).
fn raw_verify(port: u16) -> Ended {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(3)) else {
        return Ended::NotConnected;
    };
    let body = r#"{"token":"x"}"#;
    let request = format!(
        "POST /api/token/verify/ HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if let Err(e) = stream.write_all(request.as_bytes()) {
        return Ended::Lost(format!("write: {e}"));
    }
    let _ = stream.set_read_timeout(Some(WAIT));
    match read_status(stream) {
        Ok(line) if line.starts_with("HTTP/1.1 ") => Ended::Answered,
        Ok(line) => Ended::Lost(line),
        Err(e) => Ended::Lost(e),
    }
}

/// `clients` threads sending [`raw_verify`] back to back until `stop` (or a bound).
fn raw_verifies(
    port: u16,
    clients: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<Vec<Ended>>> {
    (0..clients)
        .map(|_| {
            let stop = Arc::clone(stop);
            std::thread::spawn(move || {
                let started = Instant::now();
                let mut ended = Vec::new();
                while !stop.load(Ordering::Relaxed)
                    && started.elapsed() < WAIT
                    && ended.len() < 50_000
                {
                    ended.push(raw_verify(port));
                }
                ended
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_resets_no_queued_connection() {
    // One worker: every connection the kernel queues waits for it.
    let server = Server::start(Options {
        workers: 1,
        ..Options::default()
    });
    let port = server.port();
    let stop = Arc::new(AtomicBool::new(false));
    let clients = raw_verifies(port, 8, &stop);
    until_requests_flow(&server, 20).await;
    server.signal(Signal::TERM);
    let (status, server) = tokio::task::spawn_blocking(move || {
        let mut server = server;
        (server.wait_exit(), server)
    })
    .await
    .unwrap();
    stop.store(true, Ordering::Relaxed);
    let ended: Vec<Ended> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    assert_eq!(
        status.code(),
        Some(0),
        "log:\n{}",
        server.log.snapshot().join("\n")
    );
    let answered = ended.iter().filter(|e| **e == Ended::Answered).count();
    assert!(answered >= 20, "load ran: {answered} answered");
    // Refused or unanswered connects are fine (nginx moves on); a request sent and then reset is
    // a login or refresh lost.
    let lost: Vec<&Ended> = ended
        .iter()
        .filter(|e| matches!(e, Ended::Lost(_)))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} lost: {:?}",
        lost.len(),
        ended.len(),
        &lost[..lost.len().min(5)]
    );
}

/// How a kept-alive connection that sends requests back to back ended.
#[derive(Debug, PartialEq)]
enum KeptAlive {
    /// An answer said `Connection: close`, after `n` answers in all, and then the server closed.
    ClosedAfterAnswer(usize),
    /// The connection died with a request written and no answer (what nginx does not resend).
    Lost(usize, String),
    /// Still open at the bound.
    StillOpen(usize),
}

/// Writes a POST verify on a kept-alive connection and reads its answer: whether the answer
/// said `Connection: close`, or why there was no answer.
fn kept_alive_verify(
    stream: &mut std::net::TcpStream,
    reader: &mut BufReader<std::net::TcpStream>,
) -> Result<bool, String> {
    let body = r#"{"token":"x"}"#;
    let request = format!(
        "POST /api/token/verify/ HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let (mut length, mut close, mut status) = (0usize, false, String::new());
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) => return Err("closed without an answer".into()),
            Err(e) => return Err(format!("read: {e}")),
            Ok(_) => {}
        }
        let lower = line.trim_end().to_ascii_lowercase();
        if lower.is_empty() {
            break;
        }
        if status.is_empty() {
            status = lower.clone();
        }
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().map_err(|e| format!("{e}"))?;
        }
        if lower == "connection: close" {
            close = true;
        }
    }
    let mut rest = vec![0; length];
    reader
        .read_exact(&mut rest)
        .map_err(|e| format!("body: {e}"))?;
    if !status.starts_with("http/1.1 ") {
        return Err(status);
    }
    Ok(close)
}

/// A kept-alive connection to the server and its reader.
fn kept_alive(port: u16) -> (std::net::TcpStream, BufReader<std::net::TcpStream>) {
    let stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let reader = BufReader::new(stream.try_clone().unwrap());
    (stream, reader)
}

/// Whether the server closed the connection after its `Connection: close` answer.
fn closed_by_server(reader: &mut BufReader<std::net::TcpStream>) -> bool {
    let mut after = Vec::new();
    reader.read_to_end(&mut after).is_ok() && after.is_empty()
}

/// One connection used as nginx's upstream keepalive uses it under load: POST verify, read the
/// answer, again at once, until an answer closes the connection or it breaks (or [`WAIT`]).
/// `answered` counts the answers.
fn kept_alive_verifies(port: u16, answered: Arc<std::sync::atomic::AtomicUsize>) -> KeptAlive {
    let (mut stream, mut reader) = kept_alive(port);
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < WAIT {
        match kept_alive_verify(&mut stream, &mut reader) {
            Err(e) => return KeptAlive::Lost(n, e),
            Ok(close) => {
                n += 1;
                answered.fetch_add(1, Ordering::Relaxed);
                if close {
                    assert!(
                        closed_by_server(&mut reader),
                        "closed after the close answer"
                    );
                    return KeptAlive::ClosedAfterAnswer(n);
                }
            }
        }
    }
    KeptAlive::StillOpen(n)
}

#[test]
fn a_stopping_worker_closes_each_busy_kept_alive_connection_after_an_answer() {
    // nginx keeps connections to the app alive, some busy (a request right after another) and
    // some idle in its pool; it writes a request on either at any moment and never resends a
    // POST it wrote. So a stopping worker must hand each back with `Connection: close` on an
    // answer, and leave an idle one for the client to close (nginx does before KEEP_ALIVE), or
    // to use once more; it must not close one under a request.
    let server = Server::start(Options {
        workers: 1,
        ..Options::default()
    });
    let port = server.port();
    let (mut idle, mut idle_reader) = kept_alive(port);
    assert_eq!(kept_alive_verify(&mut idle, &mut idle_reader), Ok(false));
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let busy: Vec<_> = (0..2)
        .map(|_| {
            let answered = Arc::clone(&answered);
            std::thread::spawn(move || kept_alive_verifies(port, answered))
        })
        .collect();
    let deadline = Instant::now() + WAIT;
    while answered.load(Ordering::Relaxed) < 20 {
        assert!(
            Instant::now() < deadline,
            "the kept-alive clients got answers"
        );
        // Polling a counter, bounded by the deadline.
        std::thread::sleep(Duration::from_millis(10));
    }
    let term_sent = Instant::now();
    server.signal(Signal::TERM);
    let busy: Vec<KeptAlive> = busy.into_iter().map(|c| c.join().unwrap()).collect();
    // The busy ones have ended; the idle one stays open (a second without data or EOF, past
    // the moment actix would close it), for the client to close or to use: once more.
    idle.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let still_open = match idle_reader.fill_buf() {
        Ok(data) => Err(format!("{} bytes or EOF", data.len())),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(e.to_string()),
    };
    idle.set_read_timeout(Some(WAIT)).unwrap();
    let idle_used = kept_alive_verify(&mut idle, &mut idle_reader);
    let mut server = server;
    let status = server.wait_exit();
    let took = term_sent.elapsed();
    let log = server.log.snapshot().join("\n");
    assert_eq!(status.code(), Some(0), "log:\n{log}");
    assert!(
        busy.iter()
            .all(|e| matches!(e, KeptAlive::ClosedAfterAnswer(_))),
        "{busy:?}; log:\n{log}"
    );
    assert_eq!(
        still_open,
        Ok(()),
        "the idle connection stayed open after TERM"
    );
    assert_eq!(idle_used, Ok(true), "the idle connection, used after TERM");
    assert!(closed_by_server(&mut idle_reader));
    // The stop ended with the last connection, well before KEEP_ALIVE (5 s) or the graceful
    // timeout (30 s).
    assert!(took < Duration::from_secs(4), "the stop took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hup_reloads_settings_with_no_failed_request() {
    let server = Server::start(Options {
        settings: "[SIMPLE_JWT]\nACCESS_TOKEN_LIFETIME = \"5m\"\n",
        ..Options::default()
    });
    let first = booted_pids(&server.log.snapshot());
    let load = Load::start(&server.base, 4);
    until_requests_flow(&server, 20).await;

    std::fs::write(
        server.dir.path().join("settings.toml"),
        "[SIMPLE_JWT]\nACCESS_TOKEN_LIFETIME = \"10m\"\n",
    )
    .unwrap();
    server.signal(Signal::HUP);
    server.log.wait_for("the reload", |l| {
        l.iter()
            .any(|l| l.contains("Reload complete"))
            .then_some(())
    });
    for pid in &first {
        server.log.wait_for("old workers to exit", |l| {
            l.iter()
                .any(|l| l.contains(&format!("Worker {pid} exited")))
                .then_some(())
        });
    }
    until_requests_flow(&server, 20).await;

    // A broken settings file is refused and the workers carry on.
    std::fs::write(
        server.dir.path().join("settings.toml"),
        "[SIMPLE_JWT]\nACCESS_TOKEN_LIFETIME = \"soon\"\n",
    )
    .unwrap();
    server.signal(Signal::HUP);
    server.log.wait_for("the refusal", |l| {
        l.iter().any(|l| l.contains("Reload refused")).then_some(())
    });
    until_requests_flow(&server, 20).await;

    let outcomes = load.finish().await;
    assert!(outcomes.len() > 20, "load ran: {} requests", outcomes.len());
    let failed = failures(&outcomes);
    assert!(
        failed.is_empty(),
        "no request may fail during a reload: {failed:?}"
    );

    // The new workers use the new settings.
    let res = login(&client(false), &server.base, "alice").await.unwrap();
    let body: Value = res.json().await.unwrap();
    let claims = decode_claims(body["access"].as_str().unwrap());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );
    let now = booted_pids(&server.log.snapshot());
    assert_eq!(
        now.len(),
        4,
        "two new workers booted, none for the refused reload"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_is_replaced_and_service_continues() {
    let server = Server::start(Options::default());
    let victim = booted_pids(&server.log.snapshot())[0];
    let load = Load::start(&server.base, 4);
    until_requests_flow(&server, 20).await;
    let killed_at = Instant::now();
    signal_pid(victim, Signal::KILL);
    server.log.wait_for("the replacement", |l| {
        (l.iter()
            .any(|l| l.contains(&format!("Worker {victim} died (killed by signal 9)")))
            && booted_pids(l).len() == 3)
            .then_some(())
    });
    server.wait_serving(3);
    let replaced_at = Instant::now();
    until_requests_flow(&server, 20).await;
    let outcomes = load.finish().await;
    // Only requests that were on the killed worker at that moment may fail (as with gunicorn).
    let failed = failures(&outcomes);
    assert!(failed.len() <= 4, "{failed:?}");
    assert!(
        failed
            .iter()
            .all(|o| o.sent < replaced_at && o.sent + Duration::from_secs(30) > killed_at),
        "{failed:?}"
    );
    let after: Vec<_> = outcomes.iter().filter(|o| o.sent > replaced_at).collect();
    assert!(!after.is_empty(), "load went on after the replacement");
    let failed_after: Vec<_> = after.iter().filter(|o| o.result != Ok(200)).collect();
    assert!(failed_after.is_empty(), "{failed_after:?}");
}

/// A worker the test stopped (SIGSTOP): continued at the end whatever happened, so that it can
/// act on the master's death (its PDEATHSIG TERM waits while it is stopped). SIGCONT is harmless
/// if the master has already killed and reaped it.
struct Frozen(i32);

impl Frozen {
    fn stop(pid: i32) -> Frozen {
        signal_pid(pid, Signal::STOP);
        Frozen(pid)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        if let Some(pid) = Pid::from_raw(self.0) {
            let _ = rustix::process::kill_process(pid, Signal::CONT);
        }
    }
}

/// A plain request on a new connection; the status line, or why there was none within `limit`.
fn get_status(port: u16, path: &str, limit: Duration) -> Result<String, String> {
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(limit))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    read_status(stream)
}

#[test]
fn a_frozen_worker_is_killed_and_replaced_within_the_timeout() {
    // gunicorn's --timeout: a worker that misses its heartbeat that long is killed and replaced.
    // A stopped worker still holds its socket, so the kernel queues new connections for it;
    // before the heartbeat, those waited for ever.
    let timeout = Duration::from_secs(2);
    let server = Server::start(Options {
        args: &["--timeout", "2"],
        workers: 1,
        ..Options::default()
    });
    let victim = booted_pids(&server.log.snapshot())[0];
    let _frozen = Frozen::stop(victim);
    let sent = Instant::now();
    let status = get_status(server.port(), "/healthz", timeout * 5);
    let took = sent.elapsed();
    assert_eq!(
        status.as_deref(),
        Ok("HTTP/1.1 200 OK"),
        "log:\n{}",
        server.log.snapshot().join("\n")
    );
    assert!(
        took <= timeout + Duration::from_secs(1),
        "answered after {took:?}; log:\n{}",
        server.log.snapshot().join("\n")
    );
    server.log.wait_for("the timeout and the replacement", |l| {
        (l.iter()
            .any(|l| l.contains(&format!("WORKER TIMEOUT (pid:{victim})")))
            && l.iter()
                .any(|l| l.contains(&format!("Worker {victim} died (killed by signal 9)")))
            && booted_pids(l).len() == 2)
            .then_some(())
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_busy_on_the_blocking_pool_is_not_killed() {
    // Its event loops run while a bcrypt hash outlives the request timeout on the blocking pool,
    // so it beats on (an idle worker too), with several request threads.
    let timeout = Duration::from_secs(1);
    let server = Server::start_in(
        tempfile::tempdir().unwrap(),
        Some(15),
        Options {
            args: &["--timeout", "1", "--threads", "2"],
            workers: 1,
            ..Options::default()
        },
    );
    let slow = send_slow_login(&server);
    let slow = tokio::task::spawn_blocking(move || read_status(slow));
    // Probes for four timeouts: each answered at once by the same worker.
    let client = client(false);
    let started = Instant::now();
    let mut probes = 0;
    while started.elapsed() < timeout * 4 {
        let sent = Instant::now();
        let res = client.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(sent.elapsed() < timeout, "probe took {:?}", sent.elapsed());
        probes += 1;
    }
    assert!(probes > 4, "{probes} probes");
    assert_eq!(
        slow.await.unwrap().as_deref(),
        Ok("HTTP/1.1 503 Service Unavailable")
    );
    let log = server.log.snapshot();
    assert_eq!(booted_pids(&log).len(), 1, "log:\n{}", log.join("\n"));
    assert!(
        !log.iter()
            .any(|l| l.contains("WORKER TIMEOUT") || l.contains("died")),
        "log:\n{}",
        log.join("\n")
    );
}

/// Sockets (listeners and connections) a process holds open.
fn open_sockets(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.filter_map(Result::ok)
                .filter_map(|fd| std::fs::read_link(fd.path()).ok())
                .filter(|target| target.to_string_lossy().starts_with("socket:"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn connections_are_spread_over_the_workers() {
    // Each worker accepts on its own SO_REUSEPORT socket, so the kernel spreads connections by
    // a hash of their addresses. On one shared socket, the worker that wakes first accepted a
    // whole burst (bench/run saw one of two workers hold all 32 connections).
    let server = Server::start(Options::default());
    let workers = booted_pids(&server.log.snapshot());
    assert_eq!(workers.len(), 2);
    let before: Vec<usize> = workers.iter().map(|&pid| open_sockets(pid)).collect();
    // A burst of connections, as a load balancer or wrk opens them, each answered (so accepted
    // by some worker) and held open for the count.
    let _connections = answered_burst(server.port(), 64);
    let held: Vec<usize> = workers
        .iter()
        .zip(&before)
        .map(|(&pid, &base)| open_sockets(pid).saturating_sub(base))
        .collect();
    // At least the 64 (a worker may also have opened a socket of its own meanwhile).
    assert!(held.iter().sum::<usize>() >= 64, "{held:?}");
    // By the hash, fewer than 12 of 64 on one side has a chance of about 1 in 10^7.
    assert!(
        held.iter().all(|&n| n >= 12),
        "connections per worker: {held:?}"
    );
}

/// Listening TCP sockets on `port` in this network namespace (/proc/net/tcp, state 0A).
fn listening_sockets(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let local = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() > 3 && fields[1].ends_with(&local) && fields[3] == "0A"
        })
        .count()
}

/// Opens `n` fresh connections at once, sends a request on each and reads its answer: every one
/// must be answered (a connection queued on a socket no worker accepts on would wait for ever).
/// The connections are returned open (keep-alive).
fn answered_burst(port: u16, n: usize) -> Vec<std::net::TcpStream> {
    let mut connections: Vec<std::net::TcpStream> = (0..n)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect"))
        .collect();
    for stream in &mut connections {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
            .write_all(b"GET /api/token/verify/ HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
    }
    for (i, stream) in connections.iter_mut().enumerate() {
        let mut head = [0u8; 12];
        stream
            .read_exact(&mut head)
            .unwrap_or_else(|e| panic!("connection {i} of {n} not answered: {e}"));
        assert_eq!(&head, b"HTTP/1.1 405");
    }
    connections
}

#[test]
fn ttin_and_ttou_add_and_retire_workers_and_their_sockets() {
    let server = Server::start(Options::default());
    let port = server.port();
    assert_eq!(listening_sockets(port), 2, "a socket per worker");
    server.signal(Signal::TTIN);
    server.wait_serving(3);
    assert_eq!(listening_sockets(port), 3);
    answered_burst(port, 60);
    // TTOU stops the oldest worker; its socket is closed, so no connection is queued for nobody.
    for (left, exited) in [(2, 1), (1, 2)] {
        server.signal(Signal::TTOU);
        server
            .log
            .wait_for(&format!("{exited} worker(s) exited"), |lines| {
                (lines.iter().filter(|l| l.contains("exited (")).count() >= exited).then_some(())
            });
        assert_eq!(listening_sockets(port), left, "after TTOU");
        answered_burst(port, 60);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quit_stops_at_once_without_waiting_for_requests() {
    let mut server = Server::start_in(
        tempfile::tempdir().unwrap(),
        Some(14),
        Options {
            workers: 1,
            ..Options::default()
        },
    );
    let slow = send_slow_login(&server);
    until_requests_flow(&server, 1).await;
    server.signal(Signal::QUIT);
    let status = server.wait_exit();
    assert_eq!(status.code(), Some(0));
    let answer = read_status(slow);
    assert!(
        answer.is_err(),
        "a fast stop drops the in-flight request: {answer:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_request_is_answered_503_at_the_timeout() {
    let server = Server::start_in(
        tempfile::tempdir().unwrap(),
        Some(14),
        Options {
            args: &["--timeout", "0.2"],
            workers: 1,
            ..Options::default()
        },
    );
    let started = Instant::now();
    let res = login(&client(false), &server.base, "slow").await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "service_unavailable");
    assert!(body["detail"].is_string());
    assert!(started.elapsed() < Duration::from_secs(5));
    // The worker is still there for the next request.
    assert_eq!(
        login(&client(false), &server.base, "alice")
            .await
            .unwrap()
            .status(),
        200
    );
    server.access.wait_for("the 503 access line", |l| {
        l.iter()
            .any(|l| l.contains("\"POST /api/token/ HTTP/1.1\" 503"))
            .then_some(())
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lockout_is_logged_without_the_username_as_typed() {
    let server = Server::start(Options {
        workers: 1,
        ..Options::default()
    });
    // What people type into the username box by mistake: their password.
    let typed = "Tr0ub4dor-typed-in-the-username-box";
    let client = client(false);
    for _ in 0..5 {
        let res = client
            .post(server.url("/api/token/"))
            .json(&json!({"username": typed, "password": "wrong"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let line = server.log.wait_for("the lockout warning", |lines| {
        lines
            .iter()
            .find(|l| l.contains("brute force: username"))
            .cloned()
    });
    let shown = line
        .split("brute force: username sha256:")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_default();
    assert!(
        shown.len() == 8 && shown.bytes().all(|b| b.is_ascii_hexdigit()),
        "{line}"
    );
    assert!(line.contains("locked for 60s after 5 failed"), "{line}");
    let log = server.log.snapshot().join("\n");
    assert!(!log.contains("Tr0ub4dor"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwk_url_credentials_never_reach_the_log() {
    use base64::Engine as _;
    // A port nobody listens on (bound, then released): every fetch fails, and is logged.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://svc:s3cr3t@127.0.0.1:{port}/jwks.json?token=s3cr3t");
    let signing = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/keys/rsa.pem");
    let server = Server::start(Options {
        env: &[
            ("SIMPLE_JWT__ALGORITHM", "RS256"),
            ("SIMPLE_JWT__SIGNING_KEY", signing),
            ("SIMPLE_JWT__JWK_URL", &url),
        ],
        workers: 1,
        ..Options::default()
    });
    // A token naming a `kid`, so that the server fetches the issuer's keys; unsigned, as the
    // fetch comes first.
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let token = format!(
        "{}.{}.c2ln",
        b64(json!({"alg": "RS256", "typ": "JWT", "kid": "k1"})),
        b64(json!({"token_type": "access", "user_id": "1", "exp": 4_000_000_000u64}))
    );
    let res = client(false)
        .get(server.url("/api/me/"))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let line = server.log.wait_for("the failed fetch", |lines| {
        lines
            .iter()
            .find(|l| l.contains("fetching the issuer's keys failed"))
            .cloned()
    });
    assert!(
        line.contains(&format!(
            "JWK_URL http://[redacted]@127.0.0.1:{port}/jwks.json?token=[redacted]:"
        )),
        "{line}"
    );
    let log = server.log.snapshot().join("\n");
    assert!(!log.contains("s3cr3t"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_log_names_the_client_only_through_trusted_proxies() {
    let dir = tempfile::tempdir().unwrap();
    let access_file = dir.path().join("access.log");
    let access_arg = access_file.display().to_string();
    let server = Server::start_in(
        dir,
        None,
        Options {
            args: &[
                "--access-log",
                &access_arg,
                "--trusted-proxies",
                "127.0.0.1",
            ],
            workers: 1,
            ..Options::default()
        },
    );
    let client = client(false);
    let secret_header = "Bearer not-a-token-but-must-never-be-logged";
    let send = |xff: &str| {
        client
            .get(server.url("/api/me/?x=1"))
            .header("X-Forwarded-For", xff)
            .header("Authorization", secret_header)
            .header("User-Agent", "process-test")
            .send()
    };
    assert_eq!(send("6.6.6.6, 198.51.100.7").await.unwrap().status(), 401);
    let read = || std::fs::read_to_string(&access_file).unwrap_or_default();
    let deadline = Instant::now() + WAIT;
    while read().lines().count() < 1 {
        assert!(Instant::now() < deadline, "no access line");
        // Polling a file another process appends to: bounded, nothing to wait on instead.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let line = read();
    assert!(line.starts_with("198.51.100.7 - - ["), "{line}");
    assert!(
        line.contains("\"GET /api/me/?x=1 HTTP/1.1\" 401 "),
        "{line}"
    );
    assert!(line.contains("\"-\" \"process-test\" 0."), "{line}");
    assert!(!line.contains("never-be-logged"), "{line}");
    assert!(!server.log.snapshot().join("\n").contains("never-be-logged"));
    assert_eq!(server.access.count("GET"), 0, "the file, not stdout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_headers_from_untrusted_peers_are_ignored() {
    let server = Server::start(Options {
        args: &["--trusted-proxies", "10.0.0.0/8"],
        workers: 1,
        ..Options::default()
    });
    let res = client(false)
        .get(server.url("/healthz"))
        .header("X-Forwarded-For", "198.51.100.7")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let line = server.access.wait_for("an access line", |l| {
        l.iter().find(|l| l.contains("/healthz")).cloned()
    });
    assert!(line.starts_with("127.0.0.1 - - ["), "{line}");
}

/// gunicorn's request-head limits hold in the worker processes, set by flag or by setting, and
/// a refusal is JSON and has its access line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_head_limits_hold_in_the_workers() {
    let server = Server::start(Options {
        args: &[
            "--limit-request-line",
            "200",
            "--limit-request-fields",
            "10",
        ],
        env: &[("SERVER__LIMIT_REQUEST_FIELD_SIZE", "300")],
        workers: 1,
        ..Options::default()
    });
    let client = client(false);
    let get = |query_len: usize, fields: &[(String, String)]| {
        let mut request = client.get(server.url(&format!("/healthz?p={}", "a".repeat(query_len))));
        for (name, value) in fields {
            request = request.header(name, value);
        }
        request.send()
    };
    let answer = |res: reqwest::Response| async move {
        let status = res.status().as_u16();
        (status, res.json::<Value>().await.unwrap_or(Value::Null))
    };
    assert_eq!(get(100, &[]).await.unwrap().status(), 200);
    let (status, body) = answer(get(300, &[]).await.unwrap()).await;
    assert_eq!(
        (status, &body["code"]),
        (414, &json!("request_line_too_large"))
    );
    let pad = |n: usize| vec![("x-pad".to_owned(), "p".repeat(n))];
    assert_eq!(get(0, &pad(250)).await.unwrap().status(), 200);
    let (status, body) = answer(get(0, &pad(400)).await.unwrap()).await;
    assert_eq!(
        (status, &body["code"]),
        (431, &json!("request_header_fields_too_large"))
    );
    let fields = |n: usize| {
        (0..n)
            .map(|i| (format!("x-f{i}"), i.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(get(0, &fields(3)).await.unwrap().status(), 200);
    let (status, body) = answer(get(0, &fields(12)).await.unwrap()).await;
    assert_eq!(status, 431);
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with("Too many request header fields ("),
        "{body}"
    );
    assert!(detail.ends_with(" > 10)."), "{body}");
    server.access.wait_for("the 414's access line", |lines| {
        lines.iter().find(|l| l.contains("\" 414 ")).cloned()
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_on_a_unix_socket_and_removes_it_at_exit() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("app.sock");
    let bind = format!("unix:{}", socket.display());
    let mut server = Server::start_in(
        dir,
        None,
        Options {
            args: &["--bind", &bind],
            workers: 1,
            ..Options::default()
        },
    );
    let mut stream = std::os::unix::net::UnixStream::connect(&socket).unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: app\r\nX-Forwarded-For: 198.51.100.7\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    // A unix-socket peer is the local proxy: its X-Forwarded-For is believed.
    server.access.wait_for("the unix access line", |l| {
        l.iter()
            .any(|l| l.starts_with("198.51.100.7 "))
            .then_some(())
    });
    server.signal(Signal::TERM);
    assert_eq!(server.wait_exit().code(), Some(0));
    assert!(!socket.exists(), "socket file removed");
}

/// One HTTP/1.1 answer read off a connection that stays open: the status line, the headers
/// (names in lower case) and the body (`Content-Length` bytes).
fn read_answer(stream: &mut std::net::TcpStream) -> (String, Vec<(String, String)>, String) {
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (
        status.trim_end().to_owned(),
        headers,
        String::from_utf8(body).unwrap(),
    )
}

#[test]
fn readyz_is_503_on_a_kept_alive_connection_once_the_worker_drains() {
    // A load balancer probing over a connection it keeps open learns that the worker is going
    // away while it still finishes requests (the open connection holds the graceful stop).
    let mut server = Server::start(Options {
        args: &["--keep-alive", "60"],
        workers: 1,
        ..Options::default()
    });
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let probe = "GET /readyz HTTP/1.1\r\nHost: test\r\n\r\n";
    stream.write_all(probe.as_bytes()).unwrap();
    let (status, _, body) = read_answer(&mut stream);
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");

    server.signal(Signal::TERM);
    server.log.wait_for("the worker's graceful stop", |lines| {
        lines
            .iter()
            .any(|l| l.contains("stopping gracefully: no new connections"))
            .then_some(())
    });
    stream.write_all(probe.as_bytes()).unwrap();
    let (status, headers, body) = read_answer(&mut stream);
    assert_eq!(status, "HTTP/1.1 503 Service Unavailable", "{body}");
    assert!(
        headers.contains(&("retry-after".into(), "5".into())),
        "{headers:?}"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({
            "detail": "This worker is shutting down.",
            "code": "service_unavailable",
            "status": "unavailable",
            "worker": "draining",
        })
    );
    drop(stream);
    assert_eq!(server.wait_exit().code(), Some(0));
}

#[test]
fn the_server_says_at_start_that_migrations_are_not_applied() {
    // Once by the master, not once per worker.
    let server = Server::start(Options {
        unmigrated: true,
        ..Options::default()
    });
    server
        .log
        .wait_for("the unapplied migrations' warning", |lines| {
            lines
                .iter()
                .any(|l| {
                    l.contains("database migration(s) not applied (")
                        && l.contains(
                            "logins fail and /readyz answers 503 until `manage migrate` has run",
                        )
                })
                .then_some(())
        });
    assert_eq!(server.log.count("until `manage migrate` has run"), 1);
    assert_eq!(
        get_status(server.port(), "/readyz", WAIT).as_deref(),
        Ok("HTTP/1.1 503 Service Unavailable")
    );
}

#[test]
fn invalid_settings_stop_startup_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["--bind", "127.0.0.1:0"])
        .env_clear()
        .env("SECRET_KEY", SECRET)
        .env("DATABASE_URL", db_url(&dir))
        .env("SERVER__TIMEOUT", "soon")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("SERVER.TIMEOUT from environment variable SERVER__TIMEOUT is invalid"),
        "{stderr}"
    );
}

fn decode_claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// `n` GET /healthz?i=... on kept-alive connections, all answered 200.
async fn send_numbered(server: &Server, n: usize) {
    let client = client(true);
    for i in 0..n {
        let res = client
            .get(server.url(&format!("/healthz?i={i}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
}

/// Each of the `n` numbered requests has exactly one whole line among `lines`.
fn assert_one_line_each(lines: &[String], n: usize) {
    let numbered: Vec<&String> = lines.iter().filter(|l| l.contains("/healthz?i=")).collect();
    assert_eq!(numbered.len(), n, "lines: {numbered:?}");
    for i in 0..n {
        let needle = format!("\"GET /healthz?i={i} HTTP/1.1\" 200 ");
        let found = numbered.iter().filter(|l| l.contains(&needle)).count();
        assert_eq!(found, 1, "request {i}: {found} lines");
    }
    for line in numbered {
        assert!(line.starts_with("127.0.0.1 - - ["), "{line}");
    }
}

// The access log is buffered (written out every 100 ms, not a write per request): a graceful stop
// right after the last answer must still write every line, whole, to the file the workers share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_loses_no_access_line_of_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let access_file = dir.path().join("access.log");
    let access_arg = access_file.display().to_string();
    let mut server = Server::start_in(
        dir,
        None,
        Options {
            args: &["--access-log", &access_arg],
            workers: 2,
            ..Options::default()
        },
    );
    let n = 500;
    send_numbered(&server, n).await;
    server.signal(Signal::TERM);
    let status = server.wait_exit();
    assert_eq!(status.code(), Some(0));
    let text = std::fs::read_to_string(&access_file).unwrap();
    assert!(text.ends_with('\n'));
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    assert_one_line_each(&lines, n);
}

// The same on stdout, the default destination.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_loses_no_access_line_of_stdout() {
    let mut server = Server::start(Options::default());
    let n = 500;
    send_numbered(&server, n).await;
    server.signal(Signal::TERM);
    let status = server.wait_exit();
    assert_eq!(status.code(), Some(0));
    let lines = server.access.wait_for("every access line", |lines| {
        let count = lines.iter().filter(|l| l.contains("/healthz?i=")).count();
        (count >= n).then(|| lines.to_vec())
    });
    assert_one_line_each(&lines, n);
}

// A request answered during the graceful stop, just before the worker exits: its line is written
// too (once the stop has begun each line is written at once, and the buffer at exit), not left
// in the buffer for a timer that no longer runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_answer_of_a_graceful_stop_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let access_file = dir.path().join("access.log");
    let access_arg = access_file.display().to_string();
    let mut server = Server::start_in(
        dir,
        Some(13),
        Options {
            args: &["--access-log", &access_arg],
            workers: 1,
            ..Options::default()
        },
    );
    // The slow login is accepted before the health check that follows it on the same socket.
    let slow = send_slow_login(&server);
    until_requests_flow(&server, 1).await;
    server.signal(Signal::TERM);
    let slow = tokio::task::spawn_blocking(move || read_status(slow))
        .await
        .unwrap();
    assert_eq!(slow.as_deref(), Ok("HTTP/1.1 200 OK"));
    assert_eq!(server.wait_exit().code(), Some(0));
    let text = std::fs::read_to_string(&access_file).unwrap();
    let logins = text
        .lines()
        .filter(|l| l.contains("\"POST /api/token/ HTTP/1.1\" 200 "))
        .count();
    assert_eq!(logins, 1, "{text}");
}
