//! `spawn_app`: the app on 127.0.0.1:0 with its own temporary SQLite database, plus typed helpers.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::web;
use chrono::Utc;
use reqwest::{Response, StatusCode};
use serde_json::Value;
use tempfile::TempDir;

use auth::AuthState;
use users::{NewUser, User};

/// The signing key of testdata/simplejwt_tokens.json, so its tokens are ours too.
pub const VECTOR_KEY: &str = "vector-test-secret-0123456789abcdef0123456789abcdef";
pub const PASSWORD: &str = "correct horse battery staple";
/// For tests that change a user behind the server's back (as `manage` or another worker would)
/// and expect the next request to see it: no per-process user cache (`[CACHES] USER_TTL`).
pub const NO_USER_CACHE: (&str, &str) = ("CACHES__USER_TTL", "0s");

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: web::Data<AuthState>,
    _db: TestDb,
}

/// The PostgreSQL server tests may use: `TEST_POSTGRES_URL`, default the one on these machines.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Which backend the suite runs on: `TEST_DATABASE=postgres` for PostgreSQL, else SQLite.
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

/// A database of the test's own, removed when the test ends: a temp SQLite file, or a fresh
/// PostgreSQL database (so runs never see each other's rows).
pub enum TestDb {
    Sqlite(TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub fn new() -> TestDb {
        if on_postgres() {
            TestDb::postgres(&postgres_admin_url())
        } else {
            TestDb::Sqlite(tempfile::tempdir().expect("temp dir"))
        }
    }

    pub fn postgres(admin_url: &str) -> TestDb {
        use diesel::connection::SimpleConnection;
        let name = format!("test_{}", uuid_like());
        let mut admin = users::db::connect_postgres(admin_url)
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} (set TEST_POSTGRES_URL): {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create database");
        TestDb::Postgres {
            admin_url: admin_url.to_owned(),
            name,
        }
    }

    /// The DATABASE_URL of this database, optionally reached through another host:port.
    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite(dir) => format!("sqlite:///{}", dir.path().join("db.sqlite3").display()),
            TestDb::Postgres { admin_url, name } => with_database(admin_url, name),
        }
    }
}

/// `admin_url` with its database name replaced.
pub fn with_database(admin_url: &str, name: &str) -> String {
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
    format!("{base}/{name}")
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = self {
            use diesel::connection::SimpleConnection;
            if let Ok(mut admin) = users::db::connect_postgres(admin_url) {
                // FORCE: the app's pool may still hold connections.
                let _ = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}

/// The app as the contract server was configured: rotation and blacklist-after-rotation on.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// The contract configuration plus `extra` settings as environment variables (`SECTION__KEY`).
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    spawn_app_on(TestDb::new(), extra).await
}

/// The app on a given database; `DATABASE_URL` in `extra` overrides the database's own URL
/// (to reach it through a proxy, say) while the database stays owned by the app.
pub async fn spawn_app_on(db: TestDb, extra: &[(&str, &str)]) -> TestApp {
    let mut env: Vec<(String, String)> = vec![
        ("SECRET_KEY".into(), VECTOR_KEY.into()),
        ("DATABASE_URL".into(), db.url()),
        ("PASSWORDS__BCRYPT_ROUNDS".into(), "4".into()),
        ("SIMPLE_JWT__ROTATE_REFRESH_TOKENS".into(), "true".into()),
        ("SIMPLE_JWT__BLACKLIST_AFTER_ROTATION".into(), "true".into()),
        (
            "REST_FRAMEWORK__DEFAULT_PERMISSION_CLASSES".into(),
            r#"["rest_framework.permissions.IsAuthenticated"]"#.into(),
        ),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let settings = settings::Settings::from_sources(None, &env).expect("test settings");
    let state = server::build_state(Arc::new(settings)).expect("state");
    {
        let target = users::db::Target::parse(&db.url()).expect("url");
        let direct = users::db::pool_for(target, 1, std::time::Duration::from_secs(10));
        let mut conn = users::db::get(&direct).expect("connection");
        users::migrations::run_pending(&mut conn).expect("migrations");
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    let port = listener.local_addr().expect("local addr").port();
    let server = server::serve(vec![listener], state.clone(), 1).expect("server");
    tokio::spawn(server);
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        state,
        _db: db,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.client
            .post(self.url(path))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get_with_auth(&self, path: &str, authorization: &str) -> Response {
        self.client
            .get(self.url(path))
            .header("Authorization", authorization)
            .send()
            .await
            .expect("request")
    }

    pub async fn me(&self, access: &str) -> Response {
        self.get_with_auth("/api/me/", &format!("Bearer {access}"))
            .await
    }

    /// Creates a user directly in the database with a real hash of `password`.
    pub fn create_user(&self, username: &str, password: &str, active: bool) -> User {
        let encoded = self.state.hasher.make_password(password).expect("hash");
        self.insert_user(username, &encoded, active)
    }

    pub fn insert_user(&self, username: &str, encoded: &str, active: bool) -> User {
        let mut conn = users::db::get(&self.state.pool).expect("connection");
        let new = NewUser {
            username,
            email: &format!("{username}@example.com"),
            password: encoded,
            first_name: "",
            last_name: "",
            is_active: active,
            is_staff: false,
            is_superuser: false,
            date_joined: Utc::now().naive_utc(),
        };
        users::queries::create(&mut conn, &new).expect("create user")
    }

    pub fn user(&self, username: &str) -> Option<User> {
        let mut conn = users::db::get(&self.state.pool).expect("connection");
        users::queries::by_username(&mut conn, username).expect("query")
    }

    pub fn set_active(&self, user: &User, active: bool) {
        let mut conn = users::db::get(&self.state.pool).expect("connection");
        users::queries::set_flag(&mut conn, user.id, users::models::Flag::Active, active)
            .expect("update");
    }

    pub fn delete_user(&self, user: &User) {
        let mut conn = users::db::get(&self.state.pool).expect("connection");
        users::queries::delete(&mut conn, user.id).expect("delete");
    }

    /// Logs in and returns (refresh, access), asserting a 200.
    pub async fn obtain_pair(&self, username: &str, password: &str) -> (String, String) {
        let res = self
            .post_json(
                "/api/token/",
                &serde_json::json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.expect("json");
        (str_field(&body, "refresh"), str_field(&body, "access"))
    }

    /// Signs arbitrary claims with the app's key (for forged and edge-case tokens).
    pub fn sign(&self, claims: Value) -> String {
        let map = claims.as_object().cloned().expect("claims object");
        self.state.backend.encode(&map).expect("sign")
    }
}

pub fn str_field(body: &Value, key: &str) -> String {
    body[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key:?} in {body}"))
        .to_owned()
}

/// Status and JSON body of a response.
pub async fn parts(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    let text = res.text().await.expect("body");
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text:?}"));
    (status, body)
}

/// The claims of a token, unverified (for asserting what we issued).
pub fn claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("payload segment");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64");
    serde_json::from_slice(&bytes).expect("claims json")
}

pub fn now() -> i64 {
    Utc::now().timestamp()
}

/// The path of a test key in tests/api/keys/ (throwaway pairs made for these tests).
pub fn key_path(name: &str) -> String {
    format!("{}/tests/api/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A `WWW-Authenticate` header's value, if any.
pub fn challenge_of(res: &Response) -> Option<String> {
    res.headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `Authorization: Basic base64(username:password)`.
pub fn basic_auth(username: &str, password: &str) -> String {
    use base64::Engine as _;
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    format!("Basic {encoded}")
}

impl TestApp {
    /// GET /api/me/ with an optional Authorization header: status, body, challenge.
    pub async fn me_as(&self, authorization: Option<&str>) -> (StatusCode, Value, Option<String>) {
        let mut req = self.client.get(self.url("/api/me/"));
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        let res = req.send().await.expect("request");
        let challenge = challenge_of(&res);
        let (status, body) = parts(res).await;
        (status, body, challenge)
    }

    /// Sets a user's password directly in the database (as `manage changepassword` does).
    pub fn change_password(&self, user: &User, password: &str) {
        let encoded = self.state.hasher.make_password(password).expect("hash");
        let mut conn = users::db::get(&self.state.pool).expect("connection");
        users::queries::set_password(&mut conn, user.id, &encoded).expect("update");
    }

    pub fn set_staff(&self, user: &User, staff: bool) {
        let mut conn = users::db::get(&self.state.pool).expect("connection");
        users::queries::set_flag(&mut conn, user.id, users::models::Flag::Staff, staff)
            .expect("update");
    }
}

/// The JOSE header of a token, unverified.
pub fn header_of(token: &str) -> Value {
    use base64::Engine as _;
    let header = token.split('.').next().expect("header segment");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .expect("base64");
    serde_json::from_slice(&bytes).expect("header json")
}

/// The value of one exact series in the app's /metrics page.
pub async fn metric(app: &TestApp, key: &str) -> f64 {
    let page = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    page.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in:\n{page}"))
}
