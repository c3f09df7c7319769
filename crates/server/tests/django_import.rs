//! Moving a Django project's users over, black-box: `manage loaddata` / `dumpdata` run as a
//! binary against a fresh SQLite or PostgreSQL database, then the app is started in-process and
//! each imported user logs in with their original password.
//!
//! The fixture is `testdata/django_dumpdata_auth_user.json`, written by Django 5.2.
//! PostgreSQL tests use `TEST_POSTGRES_URL` (default: the local server, user postgres).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step is the failure

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use serde_json::{json, Value};
use tempfile::TempDir;
use users::db::Target;
use users::User;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/");
const SECRET_KEY: &str = "django-import-test-secret-0123456789abcdef0123456789";

fn fixture_path() -> PathBuf {
    PathBuf::from(format!("{VECTORS}django_dumpdata_auth_user.json"))
}

fn fixture() -> Value {
    read_json(&fixture_path())
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// A database of the test's own: a SQLite file in a temp dir, or a fresh PostgreSQL database
/// dropped at the end. The temp dir also holds the settings file and the test's JSON files.
struct Project {
    dir: TempDir,
    postgres: Option<(String, String)>,
}

impl Project {
    fn sqlite() -> Self {
        let project = Project {
            dir: tempfile::tempdir().unwrap(),
            postgres: None,
        };
        project.init()
    }

    fn postgres() -> Self {
        let admin_url = std::env::var("TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!(
            "django_import_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        let mut admin = users::db::connect_postgres(&admin_url)
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} (set TEST_POSTGRES_URL): {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap();
        let project = Project {
            dir: tempfile::tempdir().unwrap(),
            postgres: Some((admin_url, name)),
        };
        project.init()
    }

    fn init(self) -> Self {
        std::fs::write(self.dir.path().join("settings.toml"), "").unwrap();
        self.ok(&["migrate"]);
        self
    }

    fn database_url(&self) -> String {
        match &self.postgres {
            None => format!("sqlite:///{}", self.dir.path().join("db.sqlite3").display()),
            Some((admin_url, name)) => {
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(b, _)| b);
                format!("{base}/{name}")
            }
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write_json(&self, name: &str, value: &Value) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
        path
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_manage"))
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("DATABASE_URL", self.database_url())
            .env("PASSWORDS__BCRYPT_ROUNDS", "4")
            .env("SETTINGS_FILE", self.path("settings.toml"))
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "manage {args:?}: {:?}\nstdout: {}\nstderr: {}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Runs a command that must fail with one line on stderr; returns that line.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "manage {args:?}: {stderr}");
        assert!(stderr.starts_with("Error: "), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        stderr
    }

    fn loaddata(&self, path: &Path) -> String {
        self.ok(&["loaddata", &path.to_string_lossy()])
    }

    fn rows(&self) -> Vec<User> {
        let target = Target::parse(&self.database_url()).unwrap();
        let pool = users::db::pool_for(target, 1, Duration::from_secs(5));
        users::queries::all(&mut users::db::get(&pool).unwrap()).unwrap()
    }

    fn row(&self, username: &str) -> User {
        self.rows()
            .into_iter()
            .find(|u| u.username == username)
            .unwrap_or_else(|| panic!("no user {username}"))
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.postgres {
            if let Ok(mut admin) = users::db::connect_postgres(admin_url) {
                let _ = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The app on 127.0.0.1:0 over the project's database; returns its base URL.
fn spawn_app(project: &Project) -> String {
    let env: Vec<(String, String)> = vec![
        ("SECRET_KEY".into(), SECRET_KEY.into()),
        ("DATABASE_URL".into(), project.database_url()),
        ("PASSWORDS__BCRYPT_ROUNDS".into(), "4".into()),
    ];
    let settings = settings::Settings::from_sources(None, &env).expect("settings");
    let state = server::build_state(Arc::new(settings)).expect("state");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(server::serve(vec![listener], state, 1).expect("server"));
    format!("http://127.0.0.1:{port}")
}

async fn login(base: &str, username: &str, password: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(format!("{base}/api/token/"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("request")
        .status()
}

/// Each fixture user as the database must hold it after loaddata: ids, flags, names, dates and
/// the hash exactly as Django wrote them.
fn assert_rows_match_fixture(project: &Project) {
    let rows = project.rows();
    let records = fixture();
    let records = records.as_array().unwrap();
    assert_eq!(rows.len(), records.len());
    for (row, record) in rows.iter().zip(records) {
        let fields = &record["fields"];
        assert_eq!(i64::from(row.id), record["pk"].as_i64().unwrap());
        assert_eq!(row.username, fields["username"].as_str().unwrap());
        assert_eq!(row.password, fields["password"].as_str().unwrap());
        assert_eq!(row.email, fields["email"].as_str().unwrap());
        assert_eq!(row.first_name, fields["first_name"].as_str().unwrap());
        assert_eq!(row.last_name, fields["last_name"].as_str().unwrap());
        assert_eq!(row.is_active, fields["is_active"].as_bool().unwrap());
        assert_eq!(row.is_staff, fields["is_staff"].as_bool().unwrap());
        assert_eq!(row.is_superuser, fields["is_superuser"].as_bool().unwrap());
        assert_eq!(row.last_login, None);
        assert_eq!(
            row.date_joined.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            fields["date_joined"].as_str().unwrap()
        );
    }
}

async fn fixture_users_log_in_with_their_django_passwords(project: Project) {
    let out = project.loaddata(&fixture_path());
    assert!(
        out.contains("Installed 5 user(s) from ")
            && out.contains(": 5 created, 0 updated, 0 unchanged."),
        "{out}"
    );
    assert_rows_match_fixture(&project);

    let base = spawn_app(&project);
    let passwords = read_json(&PathBuf::from(format!(
        "{VECTORS}django_dumpdata_auth_user.passwords.json"
    )));
    let hasher = users::PasswordHasher::new(4).unwrap();
    for (username, password) in passwords.as_object().unwrap() {
        let before = project.row(username);
        match password.as_str() {
            None => {
                // The unusable `!...` hash: nothing logs in, not even the hash itself (an empty
                // password is DRF's 400 "may not be blank", so it is not tried).
                for attempt in ["x", before.password.as_str(), &before.password[1..]] {
                    assert_eq!(login(&base, username, attempt).await, 401, "{username}");
                }
                assert_eq!(project.row(username).password, before.password);
            }
            Some(password) if !before.is_active => {
                assert_eq!(login(&base, username, password).await, 401, "{username}");
            }
            Some(password) => {
                assert_eq!(login(&base, username, "wrong").await, 401, "{username}");
                assert_eq!(login(&base, username, password).await, 200, "{username}");
                let after = project.row(username);
                assert!(
                    after.password.starts_with("bcrypt_sha256$$2b$04$"),
                    "{username} was not upgraded: {}",
                    after.password
                );
                assert!(hasher.check_password(password, Some(&after.password)));
                // And again, now with the upgraded hash, which stays as it is.
                assert_eq!(login(&base, username, password).await, 200, "{username}");
                assert_eq!(project.row(username).password, after.password);
            }
        }
    }
    // alice, admin and carol were upgraded from pbkdf2_sha256, argon2 and pbkdf2_sha1.
    let upgraded = project
        .rows()
        .iter()
        .filter(|u| u.password.starts_with("bcrypt_sha256$$2b$04$"))
        .count();
    assert_eq!(upgraded, 3);
}

#[tokio::test]
async fn sqlite_fixture_users_log_in_with_their_django_passwords() {
    fixture_users_log_in_with_their_django_passwords(Project::sqlite()).await;
}

#[tokio::test]
async fn postgres_fixture_users_log_in_with_their_django_passwords() {
    fixture_users_log_in_with_their_django_passwords(Project::postgres()).await;
}

fn loading_twice_changes_nothing(project: Project) {
    project.loaddata(&fixture_path());
    let first = project.rows();
    let out = project.loaddata(&fixture_path());
    assert!(
        out.contains(": 0 created, 0 updated, 5 unchanged."),
        "{out}"
    );
    assert_eq!(project.rows(), first);

    // One changed field is one update; other models are skipped and said so.
    let mut changed = fixture();
    changed[3]["fields"]["email"] = json!("carol@new.example.com");
    changed
        .as_array_mut()
        .unwrap()
        .push(json!({"model": "auth.group", "pk": 1, "fields": {"name": "editors"}}));
    changed[0]["fields"]["groups"] = json!([1]);
    let out = project.loaddata(&project.write_json("changed.json", &changed));
    assert!(
        out.contains(": 0 created, 1 updated, 4 unchanged."),
        "{out}"
    );
    assert!(
        out.contains("Skipped 1 record(s) of other models: auth.group (1)."),
        "{out}"
    );
    assert!(
        out.contains("1 user(s) had groups or user permissions"),
        "{out}"
    );
    assert_eq!(project.row("carol").email, "carol@new.example.com");
}

#[test]
fn sqlite_loading_twice_changes_nothing() {
    loading_twice_changes_nothing(Project::sqlite());
}

#[test]
fn postgres_loading_twice_changes_nothing() {
    loading_twice_changes_nothing(Project::postgres());
}

fn broken_files_name_the_record_and_change_nothing(project: Project) {
    project.loaddata(&fixture_path());
    let before = project.rows();
    let alice_changed = |mut file: Value| {
        // A valid change ahead of the broken record: it must be rolled back too.
        file[0]["fields"]["email"] = json!("changed@example.com");
        file
    };

    let mut bad_date = alice_changed(fixture());
    bad_date[2]["fields"]["date_joined"] = json!("2026-02-30T10:00:00Z");
    let mut no_username = alice_changed(fixture());
    no_username[1]["fields"]
        .as_object_mut()
        .unwrap()
        .remove("username");
    let mut duplicate = alice_changed(fixture());
    let mut copy = duplicate[3].clone();
    copy["pk"] = json!(9);
    duplicate.as_array_mut().unwrap().push(copy);
    // Only in the database: "carol" is user 4 there, and this file gives the name to pk 9.
    let taken_in_database = alice_changed(json!([{
        "model": "auth.user",
        "pk": 9,
        "fields": {
            "password": "!x", "username": "carol", "date_joined": "2026-11-28T19:13:00Z"
        }
    }]));

    let cases = [
        (
            bad_date,
            "record 3 (pk 3, username \"admin\"), field \"date_joined\": \
             \"2026-02-30T10:00:00Z\" is not an ISO 8601 date and time",
        ),
        (
            no_username,
            "record 2 (pk 2), field \"username\": is missing",
        ),
        (
            duplicate,
            "record 6 (pk 9, username \"carol\"), field \"username\": repeats the username of \
             record 4",
        ),
        (
            taken_in_database,
            "record 1 (pk 9, username \"carol\"), field \"username\": is already the username \
             of another user in the database (id 4)",
        ),
    ];
    for (i, (file, expected)) in cases.into_iter().enumerate() {
        let path = project.write_json(&format!("broken{i}.json"), &file);
        let error = project.fails(&["loaddata", &path.to_string_lossy()]);
        assert!(error.contains(expected), "{error}\nexpected: {expected}");
        assert!(error.trim_end().ends_with("Nothing was loaded."), "{error}");
        assert_eq!(project.rows(), before, "case {i} changed the database");
    }

    // Not JSON, not a list, not there.
    std::fs::write(project.path("garbage.json"), "[{").unwrap();
    for (name, expected) in [
        ("garbage.json", "not valid JSON"),
        ("missing.json", "missing.json: "),
    ] {
        let error = project.fails(&["loaddata", &project.path(name).to_string_lossy()]);
        assert!(error.contains(expected), "{error}");
    }
    assert_eq!(project.rows(), before);
}

#[test]
fn sqlite_broken_files_name_the_record_and_change_nothing() {
    broken_files_name_the_record_and_change_nothing(Project::sqlite());
}

#[test]
fn postgres_broken_files_name_the_record_and_change_nothing() {
    broken_files_name_the_record_and_change_nothing(Project::postgres());
}

#[test]
fn a_hash_over_the_cost_cap_is_refused_naming_the_user_and_the_cap() {
    let project = Project::sqlite();
    let mut file = fixture();
    // bob's real hash at cost 12, respelled at bcrypt's maximum: ~36 hours per check.
    let bob = file[1]["fields"]["password"].as_str().unwrap().to_owned();
    file[1]["fields"]["password"] = json!(bob.replacen("$$2b$12$", "$$2b$31$", 1));
    let path = project.write_json("costly.json", &file);
    let error = project.fails(&["loaddata", &path.to_string_lossy()]);
    let expected = "record 2 (pk 2, username \"bob\"), field \"password\": its bcrypt_sha256 \
                    cost 31 is above this server's cap of cost 16";
    assert!(error.contains(expected), "{error}\nexpected: {expected}");
    assert!(error.trim_end().ends_with("Nothing was loaded."), "{error}");
    assert!(project.rows().is_empty());
    // At the cap, the same file loads.
    file[1]["fields"]["password"] = json!(bob.replacen("$$2b$12$", "$$2b$16$", 1));
    let out = project.loaddata(&project.write_json("at_cap.json", &file));
    assert!(out.contains("5 created"), "{out}");
}

/// The fixture as our dumpdata must write it: Django's exact layout, minus the memberships.
fn fixture_without_memberships() -> String {
    let text = std::fs::read_to_string(fixture_path()).unwrap();
    let without = text.replace(",\n  \"groups\": [],\n  \"user_permissions\": []\n", "\n");
    assert_ne!(without, text);
    without
}

fn dumpdata_round_trips(project: Project, fresh: Project) {
    project.loaddata(&fixture_path());
    let dumped = project.path("dump.json");
    project.ok(&[
        "dumpdata",
        "auth.user",
        "--indent",
        "1",
        "-o",
        &dumped.to_string_lossy(),
    ]);
    assert_eq!(
        std::fs::read_to_string(&dumped).unwrap(),
        fixture_without_memberships()
    );
    // To stdout, unindented: the same records.
    let stdout = project.ok(&["dumpdata"]);
    assert!(
        stdout.starts_with("[{\"model\": \"auth.user\", \"pk\": 1, "),
        "{stdout}"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap(),
        read_json(&dumped)
    );
    assert_eq!(project.ok(&["dumpdata", "auth"]), stdout);
    let error = project.fails(&["dumpdata", "token_blacklist"]);
    assert!(error.contains("Unknown model: token_blacklist"), "{error}");

    let out = fresh.loaddata(&dumped);
    assert!(
        out.contains(": 5 created, 0 updated, 0 unchanged."),
        "{out}"
    );
    assert_eq!(fresh.rows(), project.rows());
    assert_rows_match_fixture(&fresh);
}

#[test]
fn sqlite_dumpdata_round_trips() {
    dumpdata_round_trips(Project::sqlite(), Project::sqlite());
}

#[test]
fn postgres_dumpdata_round_trips() {
    dumpdata_round_trips(Project::postgres(), Project::postgres());
}

/// After explicit ids, new users continue past the largest, and an id once used (by a user since
/// deleted) is never handed out again: its old tokens must not name someone new.
fn ids_continue_after_imported_ones(project: Project) {
    project.loaddata(&fixture_path());
    project.ok(&["createuser", "newcomer"]);
    assert_eq!(project.row("newcomer").id, 6);
    project.ok(&["deleteuser", "newcomer", "--yes"]);
    project.ok(&["deleteuser", "nopass", "--yes"]);
    // Recreates user 5, which moves the sequence again, but not back below 6.
    let out = project.loaddata(&fixture_path());
    assert!(
        out.contains(": 1 created, 0 updated, 4 unchanged."),
        "{out}"
    );
    project.ok(&["createuser", "later"]);
    assert_eq!(project.row("later").id, 7);
}

#[test]
fn sqlite_ids_continue_after_imported_ones() {
    ids_continue_after_imported_ones(Project::sqlite());
}

#[test]
fn postgres_ids_continue_after_imported_ones() {
    ids_continue_after_imported_ones(Project::postgres());
}

#[test]
fn loaddata_reads_stdin_and_skips_unknown_fields_on_request() {
    let project = Project::sqlite();
    let mut extra = fixture();
    extra[0]["fields"]["phone"] = json!("+44 20 7946 0000");
    let path = project.write_json("extra.json", &extra);
    let error = project.fails(&["loaddata", &path.to_string_lossy()]);
    assert!(
        error.contains("record 1 (pk 1, username \"alice\"), field \"phone\": is not a field"),
        "{error}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_manage"))
        .args(["loaddata", "-", "--ignorenonexistent"])
        .current_dir(project.dir.path())
        .env_clear()
        .env("DATABASE_URL", project.database_url())
        .env("SETTINGS_FILE", project.path("settings.toml"))
        .stdin(std::fs::File::open(&path).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Installed 5 user(s) from -: 5 created"));
    assert_eq!(
        text(&out.stderr),
        "",
        "no progress bar when stderr is not a terminal"
    );
}

async fn refresh_status(base: &str, refresh: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(format!("{base}/api/token/refresh/"))
        .json(&json!({ "refresh": refresh }))
        .send()
        .await
        .expect("request")
        .status()
}

/// A file whose pk 1 and 2 are other people than the database's alice and bob: refused, both
/// named, unless --replace-users; then alice's tokens (which name id 1) stop working rather than
/// authenticate as mallory.
async fn replacing_a_user_needs_the_flag_and_ends_their_sessions(project: Project) {
    project.loaddata(&fixture_path());
    let base = spawn_app(&project);
    let pair: Value = reqwest::Client::new()
        .post(format!("{base}/api/token/"))
        .json(&json!({"username": "alice", "password": "correct horse battery staple"}))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let refresh = pair["refresh"]
        .as_str()
        .expect("a refresh token")
        .to_owned();

    let mut takeover = fixture();
    takeover[0]["fields"]["username"] = json!("mallory");
    takeover[1]["fields"]["username"] = json!("robert");
    let path = project.write_json("takeover.json", &takeover);
    let path = path.to_str().expect("utf-8 path");
    let err = project.fails(&["loaddata", path]);
    for part in [
        "2 record(s) would replace a user of the same pk with another username",
        r#"pk 1: "alice" by "mallory""#,
        r#"pk 2: "bob" by "robert""#,
        "Nothing was loaded.",
        "--replace-users",
    ] {
        assert!(err.contains(part), "{part} in {err}");
    }
    assert_eq!(project.row("alice").id, 1);
    assert_eq!(project.row("bob").id, 2);
    assert_eq!(refresh_status(&base, &refresh).await, 200);

    let out = project.ok(&["loaddata", "--replace-users", path]);
    assert!(
        out.contains(": 0 created, 2 updated, 3 unchanged."),
        "{out}"
    );
    assert!(
        out.contains(
            r#"Replaced user "alice" (pk 1) by "mallory"; the sessions of "alice" were ended."#
        ),
        "{out}"
    );
    assert_eq!(project.row("mallory").id, 1);
    assert_eq!(refresh_status(&base, &refresh).await, 401);
}

#[tokio::test]
async fn sqlite_replacing_a_user_needs_the_flag_and_ends_their_sessions() {
    replacing_a_user_needs_the_flag_and_ends_their_sessions(Project::sqlite()).await;
}

#[tokio::test]
async fn postgres_replacing_a_user_needs_the_flag_and_ends_their_sessions() {
    replacing_a_user_needs_the_flag_and_ends_their_sessions(Project::postgres()).await;
}
