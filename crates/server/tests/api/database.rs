//! The database under pressure and faults: racing writers, a small pool, PostgreSQL going away
//! and coming back.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::*;

#[tokio::test]
async fn concurrent_creation_of_one_username_gives_one_user_and_one_clear_error() {
    let app = spawn_app().await;
    let hash = app.state.hasher.make_password(PASSWORD).expect("hash");
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let pool = app.state.pool.clone();
            let hash = hash.clone();
            std::thread::spawn(move || {
                let mut conn = users::db::get(&pool).expect("connection");
                let new = users::NewUser {
                    username: "twin",
                    email: "",
                    password: &hash,
                    first_name: "",
                    last_name: "",
                    is_active: true,
                    is_staff: false,
                    is_superuser: false,
                    date_joined: chrono::Utc::now().naive_utc(),
                };
                users::queries::create(&mut conn, &new).map(|u| u.id)
            })
        })
        .collect();
    let results: Vec<_> = workers
        .into_iter()
        .map(|w| w.join().expect("thread"))
        .collect();
    let created = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(created, 1, "{results:?}");
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            matches!(r, users::queries::UserError::UsernameTaken),
            "{r:?}"
        );
        assert_eq!(r.to_string(), "a user with that username already exists");
    }
}

#[tokio::test]
async fn concurrent_logins_wait_for_a_small_pool_instead_of_failing() {
    let app = spawn_app_with(&[
        ("DATABASES__POOL_SIZE", "2"),
        ("DATABASES__CONNECT_TIMEOUT", "30s"),
    ])
    .await;
    // Forty users (one user's logins at once are capped by the brute-force guard's
    // FAILURE_FACTOR, which is not what this is about).
    let bodies: Vec<_> = (0..40)
        .map(|i| {
            let username = format!("user{i}");
            app.create_user(&username, PASSWORD, true);
            json!({"username": username, "password": PASSWORD})
        })
        .collect();
    let logins = bodies.iter().map(|body| app.post_json("/api/token/", body));
    for res in futures_util::future::join_all(logins).await {
        assert_eq!(res.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn health_endpoints() {
    let app = spawn_app().await;
    let (status, body) = parts(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (status, body) = parts(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"status": "ok", "database": "ok"}))
    );
}

#[tokio::test]
async fn not_ready_while_a_migration_is_not_applied() {
    let app = spawn_app().await;
    let ready = || async {
        parts(
            app.client
                .get(app.url("/readyz"))
                .send()
                .await
                .expect("request"),
        )
        .await
    };
    assert_eq!(ready().await.0, StatusCode::OK);
    // The newest migration unrecorded, as on a database an older binary migrated.
    let newest = {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            version: String,
        }
        let mut pooled = users::db::get(&app.state.pool).expect("connection");
        let conn: &mut users::DbConnection = &mut pooled;
        let rows: Vec<Row> = diesel::sql_query(
            "SELECT version FROM __diesel_schema_migrations ORDER BY version DESC",
        )
        .load(conn)
        .expect("versions");
        let newest = rows.into_iter().next().expect("a migration").version;
        diesel::sql_query(format!(
            "DELETE FROM __diesel_schema_migrations WHERE version = '{newest}'"
        ))
        .execute(conn)
        .expect("delete");
        newest
    };
    let (status, body) = ready().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "service_unavailable");
    assert_eq!(body["database"], "migrations not applied");
    {
        use diesel::prelude::*;
        let mut pooled = users::db::get(&app.state.pool).expect("connection");
        let conn: &mut users::DbConnection = &mut pooled;
        diesel::sql_query(format!(
            "INSERT INTO __diesel_schema_migrations (version) VALUES ('{newest}')"
        ))
        .execute(conn)
        .expect("insert");
    }
    assert_eq!(ready().await.0, StatusCode::OK);
}

/// A TCP proxy in front of PostgreSQL that can cut every connection and refuse new ones, to
/// play a database that goes away and comes back without stopping the real server; or black-hole
/// them, to play a peer that goes silent (a dead host, a NAT that dropped its state).
struct Proxy {
    port: u16,
    mode: Arc<AtomicU8>,
    generation: Arc<tokio::sync::watch::Sender<u64>>,
    /// Client sockets of black-holed connections: open, never read, never answered.
    silent: Arc<std::sync::Mutex<Vec<TcpStream>>>,
}

const FORWARD: u8 = 0;
const REFUSE: u8 = 1;
const BLACK_HOLE: u8 = 2;

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let mode = Arc::new(AtomicU8::new(FORWARD));
        let (tx, _) = tokio::sync::watch::channel(0u64);
        let generation = Arc::new(tx);
        let silent = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (mode2, gen2, silent2) = (mode.clone(), generation.clone(), silent.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                match mode2.load(Ordering::SeqCst) {
                    // Dropped: the client sees the connection closed at once.
                    REFUSE => continue,
                    BLACK_HOLE => {
                        silent2.lock().expect("lock").push(client);
                        continue;
                    }
                    _ => {}
                }
                let target = target.clone();
                let mut cut = gen2.subscribe();
                let (mode, silent) = (mode2.clone(), silent2.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {
                            if mode.load(Ordering::SeqCst) == BLACK_HOLE {
                                // Stops forwarding and keeps the client's socket open; the
                                // server's side closes (its session ends).
                                silent.lock().expect("lock").push(client);
                            }
                        }
                    }
                });
            }
        });
        Proxy {
            port,
            mode,
            generation,
            silent,
        }
    }

    fn down(&self) {
        self.mode.store(REFUSE, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Established connections stop forwarding with their sockets left open, and new ones are
    /// accepted and never answered.
    fn black_hole(&self) {
        self.mode.store(BLACK_HOLE, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    /// New connections are forwarded again (black-holed ones stay silent, as behind a NAT that
    /// lost their state).
    fn up(&self) {
        self.mode.store(FORWARD, Ordering::SeqCst);
    }

    fn silent_connections(&self) -> usize {
        self.silent.lock().expect("lock").len()
    }
}

/// A fresh PostgreSQL database, a [`Proxy`] in front of it, and the database's URL through the
/// proxy.
async fn behind_proxy() -> (TestDb, Proxy, String) {
    let db = TestDb::postgres(&postgres_admin_url());
    let direct = db.url();
    let host_port = direct
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("127.0.0.1:5432")
        .to_owned();
    let proxy = Proxy::start(host_port.clone()).await;
    let via_proxy = direct.replace(&host_port, &format!("127.0.0.1:{}", proxy.port));
    (db, proxy, via_proxy)
}

// Multi-threaded: the proxy must keep running while the test thread blocks on the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_is_a_503_stateless_checks_survive_and_service_resumes() {
    let (db, proxy, via_proxy) = behind_proxy().await;
    let app = spawn_app_on(
        db,
        &[
            ("DATABASE_URL", via_proxy.as_str()),
            ("DATABASES__CONNECT_TIMEOUT", "1s"),
        ],
    )
    .await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, access) = app.obtain_pair("alice", PASSWORD).await;

    proxy.down();
    let started = Instant::now();
    let login = json!({"username": "alice", "password": PASSWORD});
    let (status, body) = parts(app.post_json("/api/token/", &login).await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        body,
        json!({"detail": "Service temporarily unavailable, try again later.", "code": "service_unavailable"})
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered within the pool timeout"
    );
    let (status, _) = parts(
        app.post_json("/api/token/refresh/", &json!({"refresh": refresh}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _) = parts(app.me(&access).await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _) = parts(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // Stateless checks need no database.
    let (status, _) = parts(
        app.post_json("/api/token/verify/", &json!({"token": access}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = parts(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    proxy.up();
    let (status, body) = parts(app.post_json("/api/token/", &login).await).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "service resumes with no restart: {body}"
    );
    let (status, _) = parts(
        app.post_json("/api/token/refresh/", &json!({"refresh": refresh}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// The bound under test: `[DATABASES] QUERY_TIMEOUT` and the libpq connect timeout (2 s is
/// libpq's least), small to keep the test short.
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

// Multi-threaded: the proxy must keep running while the server's threads block on the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_that_go_silent_are_503_for_at_most_the_bound_then_replaced() {
    let (db, proxy, via_proxy) = behind_proxy().await;
    // One pooled connection: when it is stuck, nothing else can serve (as when every
    // connection of a busy pool went silent at once).
    let app = spawn_app_on(
        db,
        &[
            ("DATABASE_URL", via_proxy.as_str()),
            ("DATABASES__POOL_SIZE", "1"),
            ("DATABASES__CONNECT_TIMEOUT", "2s"),
            ("DATABASES__QUERY_TIMEOUT", "2s"),
            ("SERVER__TIMEOUT", "30s"),
        ],
    )
    .await;
    app.create_user("alice", PASSWORD, true);
    let login = json!({"username": "alice", "password": PASSWORD});
    // Every request is bounded, so that a regression fails instead of hanging.
    let attempt = || async {
        let sent = tokio::time::timeout(
            Duration::from_secs(60),
            app.post_json("/api/token/", &login),
        );
        parts(sent.await.expect("an answer within a minute")).await
    };
    let (status, body) = attempt().await;
    assert_eq!(status, StatusCode::OK, "{body}");

    proxy.black_hole();
    // The pooled connection is silent now: the request is a 503 once the query's deadline
    // passes, not after SERVER.TIMEOUT, and not never.
    let started = Instant::now();
    let (status, body) = attempt().await;
    let waited = started.elapsed();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "service_unavailable");
    let bound = QUERY_TIMEOUT + CONNECT_TIMEOUT + Duration::from_secs(5);
    assert!(waited < bound, "503 after {waited:?}, bound {bound:?}");
    assert!(
        proxy.silent_connections() >= 1,
        "a connection was black-holed"
    );

    // The database is reachable again for new connections; the silent ones never answer. The
    // stuck connection was dropped, so a new one serves within the bound, with no restart.
    proxy.up();
    let resumed = Instant::now();
    let mut answers = Vec::new();
    while resumed.elapsed() < bound {
        let (status, _) = attempt().await;
        answers.push(status);
        if status == StatusCode::OK {
            break;
        }
    }
    assert_eq!(
        answers.last(),
        Some(&StatusCode::OK),
        "no recovery within {bound:?} of the database coming back: {answers:?}"
    );
    assert!(
        answers
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{answers:?}"
    );
}

/// `SHOW statement_timeout` on a connection of the app's pool.
fn statement_timeout(app: &TestApp) -> String {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        statement_timeout: String,
    }
    let mut pooled = users::db::get(&app.state.pool).expect("connection");
    let conn: &mut users::DbConnection = &mut pooled;
    diesel::sql_query("SHOW statement_timeout")
        .get_result::<Row>(conn)
        .expect("show")
        .statement_timeout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_statement_timeout_is_query_timeout_unless_the_url_sets_options() {
    let admin = postgres_admin_url();
    let app = spawn_app_on(
        TestDb::postgres(&admin),
        &[("DATABASES__QUERY_TIMEOUT", "3s")],
    )
    .await;
    assert_eq!(statement_timeout(&app), "3s");

    let db = TestDb::postgres(&admin);
    let own = format!("{}?options=-c%20statement_timeout%3D7000", db.url());
    let app = spawn_app_on(db, &[("DATABASE_URL", own.as_str())]).await;
    assert_eq!(statement_timeout(&app), "7s", "the URL's own options win");
}

/// Holds SQLite's write lock from another process (Python's sqlite3) until its stdin closes.
const HOLD_LOCK: &str = r#"
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"#;

/// Starts [`HOLD_LOCK`] on the database at `path` and waits until it holds the lock.
fn hold_lock(path: &std::path::Path) -> std::process::Child {
    use std::io::BufRead;
    let mut holder = std::process::Command::new("python3")
        .arg("-c")
        .arg(HOLD_LOCK)
        .arg(path)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    std::io::BufReader::new(holder.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    assert_eq!(line.trim(), "locked");
    holder
}

#[tokio::test]
async fn a_database_locked_by_another_process_answers_503_with_retry_after() {
    if on_postgres() {
        return; // SQLite's file lock; PostgreSQL's lock timeouts map the same way.
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.sqlite3");
    let app = spawn_app_on(TestDb::Sqlite(dir), &[]).await;
    app.create_user("alice", PASSWORD, true);
    let (refresh, _) = app.obtain_pair("alice", PASSWORD).await;
    let mut holder = hold_lock(&path);
    // Both wait out the busy timeout, then answer 503 + Retry-After instead of 500.
    let login = json!({"username": "alice", "password": PASSWORD});
    let presented = json!({ "refresh": refresh });
    let (login, refreshed) = tokio::join!(
        app.post_json("/api/token/", &login),
        app.post_json("/api/token/refresh/", &presented),
    );
    for res in [login, refreshed] {
        assert_eq!(
            res.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("5")
        );
        let (status, body) = parts(res).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["code"], "service_unavailable");
    }
    drop(holder.stdin.take());
    assert!(holder.wait().expect("wait").success());
    // The lock gone, the same requests succeed: nothing was half-written.
    app.obtain_pair("alice", PASSWORD).await;
    let res = app
        .post_json("/api/token/refresh/", &json!({ "refresh": refresh }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// Writers wait in line for SQLite's lock (`users::writer`): the line must not add up their
/// waits. A refresh on each pooled connection (POOL_SIZE, 10), behind a lock that outlasts the
/// busy timeout (10 s), all answer 503 within about that timeout, not one after another. (More
/// than the blocking threads, POOL_SIZE + cores, wait for a thread first: 40 take until TIMEOUT.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshes_behind_a_held_lock_answer_503_together_within_the_busy_timeout() {
    if on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.sqlite3");
    let app = Arc::new(spawn_app_on(TestDb::Sqlite(dir), &[]).await);
    app.create_user("alice", PASSWORD, true);
    let (refresh, _) = app.obtain_pair("alice", PASSWORD).await;
    let mut holder = hold_lock(&path);
    let started = Instant::now();
    let mut refreshes = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let app = app.clone();
        let presented = json!({ "refresh": refresh });
        refreshes.spawn(async move { app.post_json("/api/token/refresh/", &presented).await });
    }
    while let Some(res) = refreshes.join_next().await {
        let res = res.expect("request task");
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(res.headers().contains_key("retry-after"));
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(15),
        "the last refresh answered after {elapsed:?}: waits added up"
    );
    drop(holder.stdin.take());
    assert!(holder.wait().expect("wait").success());
    let res = app
        .post_json("/api/token/refresh/", &json!({ "refresh": refresh }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}
