//! Black-box tests of the `manage` binary: each test runs it against its own SQLite database in a
//! temporary directory, with a clean environment (no repo settings.toml or .env can leak in).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step is the failure

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rand::distr::{Alphanumeric, SampleString};
use serde_json::Value;
use tempfile::TempDir;
use users::db::Target;
use users::{DbConnection, PasswordHasher, User};

/// A project directory: a database file, an empty settings file, and the variables to run in.
struct Project {
    dir: TempDir,
    secret_key: String,
}

impl Project {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("settings.toml"), "").unwrap();
        Project {
            dir,
            secret_key: Alphanumeric.sample_string(&mut rand::rng(), 50),
        }
    }

    /// A project whose database is already migrated.
    fn migrated() -> Self {
        let project = Self::new();
        project.ok(&["migrate"]);
        project
    }

    fn db_path(&self) -> PathBuf {
        self.dir.path().join("db.sqlite3")
    }

    /// `manage ARGS` with only the variables this test chooses (env_clear: nothing leaks in).
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_manage"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env(
                "DATABASE_URL",
                format!("sqlite:///{}", self.db_path().display()),
            )
            .env("SECRET_KEY", &self.secret_key)
            .env("PASSWORDS__BCRYPT_ROUNDS", "4")
            .env("SETTINGS_FILE", self.dir.path().join("settings.toml"))
            .stdin(Stdio::null());
        cmd
    }

    fn run_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
        let mut cmd = self.command(args);
        cmd.envs(env.iter().copied());
        let Some(input) = stdin else {
            return cmd.output().unwrap();
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let written = child.stdin.take().unwrap().write_all(input.as_bytes());
        // A command that refuses early (an unknown user) exits before reading its input; the
        // write then finds the pipe closed, which is no failure of the command.
        if let Err(e) = written {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
        child.wait_with_output().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, None, &[])
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        succeeded(args, self.run(args))
    }

    /// Runs a command that must fail with exit code 1; returns its stderr.
    fn fails(&self, args: &[&str]) -> String {
        failed(args, self.run(args))
    }

    fn user_json(&self, username: &str) -> Value {
        serde_json::from_str(&self.ok(&["showuser", username, "--json"])).unwrap()
    }

    /// Opens the database directly, through the users crate.
    fn connect(&self) -> users::db::PooledConnection {
        let pool = users::db::pool_for(Target::Sqlite(self.db_path()), 1, Duration::from_secs(5));
        users::db::get(&pool).unwrap()
    }

    fn stored_user(&self, username: &str) -> Option<User> {
        users::queries::by_username(&mut self.connect(), username).unwrap()
    }

    fn password_is(&self, username: &str, raw: &str) -> bool {
        let user = self.stored_user(username).unwrap();
        PasswordHasher::new(4)
            .unwrap()
            .check_password(raw, Some(&user.password))
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn succeeded(args: &[&str], out: Output) -> String {
    assert!(
        out.status.success(),
        "manage {args:?} failed: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn failed(args: &[&str], out: Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "manage {args:?} should fail with 1\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("Error: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    stderr
}

#[test]
fn help_lists_every_command() {
    let project = Project::new();
    let help = project.ok(&["--help"]);
    for name in [
        "migrate",
        "showmigrations",
        "createsuperuser",
        "createuser",
        "changepassword",
        "changeuser",
        "dbshell",
        "listusers",
        "showuser",
        "activate",
        "deactivate",
        "grant",
        "revoke",
        "deleteuser",
        "flushexpiredtokens",
        "runserver",
        "generatesecretkey",
    ] {
        assert!(help.contains(&format!("\n  {name} ")), "{name} in {help}");
        project.ok(&[name, "--help"]);
    }
}

#[test]
fn migrate_is_safe_to_run_twice() {
    let project = Project::new();
    let first = project.ok(&["migrate"]);
    assert!(
        first.starts_with(
            "Operations to perform:\n  Apply all migrations: auth, token_blacklist\nRunning migrations:\n"
        ),
        "{first}"
    );
    assert!(first.contains("_create_auth_user... OK\n"), "{first}");
    assert!(first.contains("_create_token_blacklist... OK\n"), "{first}");
    let second = project.ok(&["migrate", "--noinput"]);
    assert!(
        second.ends_with("Running migrations:\n  No migrations to apply.\n"),
        "{second}"
    );
    let listed = project.ok(&["showmigrations"]);
    assert!(listed.contains(" [X] "), "{listed}");
    assert!(!listed.contains(" [ ] "), "{listed}");
}

#[test]
fn commands_refuse_an_unmigrated_database() {
    let project = Project::new();
    let listed = project.ok(&["showmigrations"]);
    assert!(
        listed.contains(" [ ] ") && !listed.contains(" [X] "),
        "{listed}"
    );
    let err = project.fails(&["listusers"]);
    assert!(
        err.contains("unapplied migration(s). Run './manage migrate'"),
        "{err}"
    );
    project.fails(&["createuser", "alice"]);
}

#[test]
fn unreachable_database_is_one_line() {
    let project = Project::new();
    let mut cmd = project.command(&["migrate"]);
    cmd.env("DATABASE_URL", "sqlite:////nonexistent-dir/sub/db.sqlite3");
    let err = failed(&["migrate"], cmd.output().unwrap());
    assert!(
        err.contains("cannot connect to the SQLite database"),
        "{err}"
    );
}

#[test]
fn settings_option_names_the_settings_file() {
    let project = Project::new();
    let err = project.fails(&["migrate", "--settings", "missing.toml"]);
    assert!(
        err.contains("SETTINGS_FILE") && err.contains("missing.toml"),
        "{err}"
    );
    std::fs::write(
        project.dir.path().join("other.toml"),
        "[SIMPLE_JWT]\nLEEWAY = \"soon\"\n",
    )
    .unwrap();
    let err = project.fails(&["--settings", "other.toml", "migrate"]);
    assert!(err.contains("LEEWAY"), "{err}");
}

#[test]
fn database_commands_need_no_secret_key() {
    let project = Project::new();
    let mut cmd = project.command(&["migrate"]);
    cmd.env_remove("SECRET_KEY");
    succeeded(&["migrate"], cmd.output().unwrap());
}

#[test]
fn createuser_without_password_and_duplicates() {
    let project = Project::migrated();
    let out = project.ok(&["createuser", "alice", "--email", "alice@example.com"]);
    assert!(out.contains("User 'alice' created"), "{out}");
    assert!(out.contains("no usable password"), "{out}");
    let alice = project.user_json("alice");
    assert_eq!(alice["email"], "alice@example.com");
    assert_eq!(alice["is_active"], true);
    assert_eq!(alice["is_staff"], false);
    assert_eq!(alice["is_superuser"], false);
    assert_eq!(alice["has_usable_password"], false);
    assert_eq!(alice["password_algorithm"], Value::Null);

    let err = project.fails(&["createuser", "alice"]);
    assert_eq!(err, "Error: That username is already taken.\n");
    let err = project.fails(&["createuser", "bad name"]);
    assert!(err.contains("Enter a valid username."), "{err}");
    let err = project.fails(&["createuser", "carol", "--email", "not-an-email"]);
    assert!(err.contains("Enter a valid email address."), "{err}");
    let all: Value = serde_json::from_str(&project.ok(&["listusers", "--json"])).unwrap();
    assert_eq!(
        all.as_array().map(Vec::len),
        Some(1),
        "nothing half-written: {all}"
    );
}

#[test]
fn createuser_flags() {
    let project = Project::migrated();
    project.ok(&["createuser", "dora", "--inactive", "--staff", "--superuser"]);
    let dora = project.user_json("dora");
    assert_eq!(dora["is_active"], false);
    assert_eq!(dora["is_staff"], true);
    assert_eq!(dora["is_superuser"], true);
}

#[test]
fn createuser_password_stdin_is_hashed_and_verifies() {
    let project = Project::migrated();
    let args = ["createuser", "bob", "--password-stdin"];
    // Only the line ending is stripped: surrounding spaces are part of the password.
    succeeded(
        &args,
        project.run_with(&args, Some(" s3cret pw \r\nsecond line\n"), &[]),
    );
    let bob = project.user_json("bob");
    assert_eq!(bob["has_usable_password"], true);
    assert_eq!(bob["password_algorithm"], "bcrypt_sha256");
    assert!(project.password_is("bob", " s3cret pw "));
    assert!(!project.password_is("bob", "s3cret pw"));

    let args = ["createuser", "eve", "--password-stdin"];
    let err = failed(&args, project.run_with(&args, Some("\n"), &[]));
    assert!(err.contains("Blank passwords aren't allowed."), "{err}");
    assert!(project.stored_user("eve").is_none());
}

#[test]
fn createsuperuser_noinput() {
    let project = Project::migrated();
    let args = [
        "createsuperuser",
        "--noinput",
        "--username",
        "admin",
        "--email",
        "admin@example.com",
    ];
    let out = project.run_with(&args, None, &[("DJANGO_SUPERUSER_PASSWORD", "Adm1n pass")]);
    assert_eq!(succeeded(&args, out), "Superuser created successfully.\n");
    let admin = project.user_json("admin");
    assert_eq!(admin["is_staff"], true);
    assert_eq!(admin["is_superuser"], true);
    assert_eq!(admin["is_active"], true);
    assert_eq!(admin["password_algorithm"], "bcrypt_sha256");
    assert!(project.password_is("admin", "Adm1n pass"));

    // Django's behaviour: without DJANGO_SUPERUSER_PASSWORD the password is unusable.
    let out = project.ok(&[
        "createsuperuser",
        "--no-input",
        "--username",
        "root",
        "--email",
        "",
    ]);
    assert!(
        out.starts_with("Superuser created successfully.\n"),
        "{out}"
    );
    assert_eq!(project.user_json("root")["has_usable_password"], false);

    // Username and email from DJANGO_SUPERUSER_*.
    let args = ["createsuperuser", "--noinput"];
    let env = [
        ("DJANGO_SUPERUSER_USERNAME", "ops"),
        ("DJANGO_SUPERUSER_EMAIL", "ops@example.com"),
    ];
    succeeded(&args, project.run_with(&args, None, &env));
    assert_eq!(project.user_json("ops")["email"], "ops@example.com");

    let err = project.fails(&["createsuperuser", "--noinput", "--email", "x@example.com"]);
    assert_eq!(err, "Error: You must use --username with --noinput.\n");
    let err = project.fails(&["createsuperuser", "--noinput", "--username", "new"]);
    assert_eq!(err, "Error: You must use --email with --noinput.\n");
    let err = project.fails(&[
        "createsuperuser",
        "--noinput",
        "--username",
        "admin",
        "--email",
        "",
    ]);
    assert_eq!(err, "Error: That username is already taken.\n");
    // Interactive mode needs a terminal: an error, not a prompt waiting forever.
    let err = project.fails(&["createsuperuser"]);
    assert!(err.contains("not a terminal"), "{err}");
}

#[test]
fn changepassword_from_stdin() {
    let project = Project::migrated();
    project.ok(&["createuser", "alice"]);
    let args = ["changepassword", "alice", "--password-stdin"];
    let out = succeeded(&args, project.run_with(&args, Some("n3w password\n"), &[]));
    assert_eq!(out, "Password changed successfully for user 'alice'\n");
    assert!(project.password_is("alice", "n3w password"));
    assert_eq!(
        project.user_json("alice")["password_algorithm"],
        "bcrypt_sha256"
    );

    let err = project.fails(&["changepassword", "alice"]);
    assert!(err.contains("--password-stdin"), "{err}");
    let args = ["changepassword", "ghost", "--password-stdin"];
    let err = failed(&args, project.run_with(&args, Some("pw\n"), &[]));
    assert_eq!(err, "Error: user 'ghost' does not exist.\n");
}

#[test]
fn changepassword_ends_every_session() {
    let project = Project::migrated();
    project.ok(&["createuser", "alice"]);
    let alice = project.stored_user("alice").expect("alice");
    let now = auth::tokens::now();
    {
        let mut conn = project.connect();
        for jti in ["session-one", "session-two"] {
            let t = auth::store::blacklist::Outstanding {
                jti,
                raw: jti,
                user_id: Some(alice.id),
                created_at: now,
                expires_at: now + 3600,
            };
            auth::store::blacklist::outstand(&mut conn, &t).expect("outstand");
        }
    }
    let args = ["changepassword", "alice", "--password-stdin"];
    succeeded(&args, project.run_with(&args, Some("n3w password\n"), &[]));
    let mut conn = project.connect();
    for jti in ["session-one", "session-two"] {
        assert!(
            auth::store::blacklist::is_blacklisted(&mut conn, jti).expect("query"),
            "{jti}"
        );
    }
}

#[test]
fn listusers_table_and_json_never_show_hashes() {
    let project = Project::migrated();
    assert_eq!(project.ok(&["listusers"]), "No users.\n");
    assert_eq!(project.ok(&["listusers", "--json"]).trim(), "[]");
    let args = [
        "createuser",
        "bob",
        "--email",
        "bob@example.com",
        "--staff",
        "--password-stdin",
    ];
    succeeded(
        &args,
        project.run_with(&args, Some("a long enough pw\n"), &[]),
    );
    project.ok(&["createuser", "alice"]);
    let hash = project.stored_user("bob").unwrap().password;
    let unusable = project.stored_user("alice").unwrap().password;

    let table = project.ok(&["listusers"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    for column in [
        "id",
        "username",
        "email",
        "active",
        "staff",
        "superuser",
        "last_login",
        "date_joined",
    ] {
        assert!(
            lines[0].split_whitespace().any(|c| c == column),
            "{column} in {table}"
        );
    }
    assert!(
        lines[1].starts_with("1   bob       bob@example.com  yes     yes    no         never"),
        "{table}"
    );
    assert!(lines[2].starts_with("2   alice"), "{table}");

    let json = project.ok(&["listusers", "--json"]);
    let all: Value = serde_json::from_str(&json).unwrap();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["username"], "bob");
    assert_eq!(all[0]["is_staff"], true);
    assert_eq!(all[0]["last_login"], Value::Null);
    assert!(all[0]["date_joined"].as_str().unwrap().ends_with('Z'));
    assert!(all[0].get("password").is_none());

    let shown = project.ok(&["showuser", "bob"]);
    assert!(shown.contains("password:    bcrypt_sha256\n"), "{shown}");
    assert!(project
        .ok(&["showuser", "alice"])
        .contains("password:    unusable"));
    for output in [
        table,
        json,
        shown,
        project.ok(&["showuser", "bob", "--json"]),
    ] {
        assert!(
            !output.contains(&hash) && !output.contains("$2b$"),
            "{output}"
        );
        assert!(!output.contains(&unusable), "{output}");
    }
}

#[test]
fn activate_deactivate_grant_revoke() {
    let project = Project::migrated();
    project.ok(&["createuser", "alice"]);

    assert_eq!(
        project.ok(&["deactivate", "alice"]),
        "User 'alice' deactivated.\n"
    );
    assert_eq!(project.user_json("alice")["is_active"], false);
    assert_eq!(
        project.ok(&["deactivate", "alice"]),
        "User 'alice' is already inactive.\n"
    );
    assert_eq!(
        project.ok(&["activate", "alice"]),
        "User 'alice' activated.\n"
    );
    assert_eq!(project.user_json("alice")["is_active"], true);

    let out = project.ok(&["grant", "alice", "--staff"]);
    assert_eq!(out, "Granted staff status to user 'alice'.\n");
    let alice = project.user_json("alice");
    assert_eq!(
        (alice["is_staff"].clone(), alice["is_superuser"].clone()),
        (Value::Bool(true), Value::Bool(false))
    );
    let out = project.ok(&["grant", "alice", "--staff", "--superuser"]);
    assert_eq!(
        out,
        "User 'alice' already has staff status.\nGranted superuser status to user 'alice'.\n"
    );
    assert_eq!(project.user_json("alice")["is_superuser"], true);

    let out = project.ok(&["revoke", "alice", "--superuser"]);
    assert_eq!(out, "Revoked superuser status from user 'alice'.\n");
    let alice = project.user_json("alice");
    assert_eq!(
        (alice["is_staff"].clone(), alice["is_superuser"].clone()),
        (Value::Bool(true), Value::Bool(false))
    );
    project.ok(&["revoke", "alice", "--staff", "--superuser"]);
    assert_eq!(project.user_json("alice")["is_staff"], false);

    // A status is required.
    assert_eq!(project.run(&["grant", "alice"]).status.code(), Some(2));
}

#[test]
fn deleteuser_needs_confirmation() {
    let project = Project::migrated();
    project.ok(&["createuser", "alice"]);
    let err = project.fails(&["deleteuser", "alice"]);
    assert!(err.contains("--yes"), "{err}");
    assert!(project.stored_user("alice").is_some());
    assert_eq!(
        project.ok(&["deleteuser", "alice", "--yes"]),
        "Deleted user 'alice'.\n"
    );
    assert!(project.stored_user("alice").is_none());
    assert_eq!(
        project.fails(&["deleteuser", "alice", "--yes"]),
        "Error: user 'alice' does not exist.\n"
    );
}

#[test]
fn unknown_users_are_errors() {
    let project = Project::migrated();
    for args in [
        &["showuser", "ghost"][..],
        &["showuser", "ghost", "--json"],
        &["activate", "ghost"],
        &["deactivate", "ghost"],
        &["grant", "ghost", "--staff"],
        &["revoke", "ghost", "--superuser"],
        &["deleteuser", "ghost"],
        &["deleteuser", "ghost", "--yes"],
    ] {
        assert_eq!(
            project.fails(args),
            "Error: user 'ghost' does not exist.\n",
            "{args:?}"
        );
    }
}

#[test]
fn flushexpiredtokens_deletes_only_expired_rows() {
    use auth::store::blacklist::{blacklist, is_blacklisted, outstand, Outstanding};

    let project = Project::migrated();
    project.ok(&["createuser", "alice"]);
    let now = auth::tokens::now();
    let token = |jti: &'static str, expires_at: i64| Outstanding {
        jti,
        raw: jti,
        user_id: Some(1),
        created_at: now - 7200,
        expires_at,
    };
    {
        let mut conn = project.connect();
        let conn: &mut DbConnection = &mut conn;
        outstand(conn, &token("expired", now - 3600)).unwrap();
        blacklist(conn, &token("expired-blacklisted", now - 60), now - 120).unwrap();
        blacklist(conn, &token("live-blacklisted", now + 3600), now).unwrap();
        outstand(conn, &token("live", now + 3600)).unwrap();
    }
    assert_eq!(
        project.ok(&["flushexpiredtokens"]),
        "Deleted 2 expired token(s).\n"
    );
    assert_eq!(
        project.ok(&["flushexpiredtokens"]),
        "Deleted 0 expired token(s).\n"
    );
    let mut conn = project.connect();
    assert!(is_blacklisted(&mut conn, "live-blacklisted").unwrap());
    assert!(!is_blacklisted(&mut conn, "expired-blacklisted").unwrap());
}

#[test]
fn generatesecretkey_prints_a_usable_key() {
    const ALPHABET: &str = "abcdefghijklmnopqrstuvwxyz0123456789-_=+";
    // No settings or database needed.
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_manage"))
            .args(args)
            .current_dir(dir.path())
            .env_clear()
            .output()
            .unwrap();
        (out.status.code(), text(&out.stdout))
    };
    let (code, first) = run(&["generatesecretkey"]);
    assert_eq!(code, Some(0));
    let key = first.strip_suffix('\n').unwrap();
    assert_eq!(key.len(), 64, "{key}");
    assert!(key.chars().all(|c| ALPHABET.contains(c)), "{key}");
    assert_ne!(run(&["generatesecretkey"]).1, first);
    let (code, short) = run(&["generatesecretkey", "--length", "50"]);
    assert_eq!((code, short.trim_end().len()), (Some(0), 50));
    assert_eq!(run(&["generatesecretkey", "--length", "10"]).0, Some(2));
}

/// Starts `runserver` on a free port, waits for its banner, and asks it for /healthz.
#[test]
fn runserver_serves_with_an_ephemeral_key() {
    let project = Project::migrated();
    let stderr_path = project.dir.path().join("runserver.stderr");
    let mut child = project
        .command(&["runserver", "127.0.0.1:0"])
        .env_remove("SECRET_KEY")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("Starting development server at http://") {
                let _ = tx.send(rest.trim_end_matches('/').to_owned());
            } else if let Some(rest) = line.strip_prefix("API docs at http://") {
                let _ = tx.send(rest.to_owned());
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(60));
    let docs = rx.recv_timeout(Duration::from_secs(60));
    let response = addr.as_ref().ok().map(|addr| get(addr, "/healthz"));
    let root = addr.as_ref().ok().map(|addr| get(addr, "/"));
    let _ = child.kill();
    let _ = child.wait();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let response = response.unwrap_or_else(|| panic!("no banner; stderr: {stderr}"));
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    // The banner and the bare address both lead to the docs.
    let addr = addr.unwrap_or_default();
    assert_eq!(docs.ok(), Some(format!("{addr}/api/docs/")));
    let root = root.unwrap_or_default();
    assert!(
        root.starts_with("HTTP/1.1 200") && root.contains("\"/api/docs/\""),
        "{root}"
    );
    assert!(stderr.contains("SECRET_KEY is not set"), "{stderr}");
}

fn get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

#[test]
fn runserver_rejects_bad_addresses() {
    let project = Project::new();
    let out = project.run(&["runserver", "not a port"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is not a valid port number or address:port pair"));
}

/// Unix permission bits of a file.
fn mode_of(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn file_arguments_are_relative_to_the_callers_directory() {
    let project = Project::migrated();
    project.ok(&["createuser", "alice"]);
    let caller = tempfile::tempdir().unwrap();
    let env = [("MANAGE_CALLER_DIR", caller.path().to_str().unwrap())];
    let args = ["dumpdata", "-o", "backup.json"];
    succeeded(&args, project.run_with(&args, None, &env));
    assert!(caller.path().join("backup.json").is_file());
    assert!(!project.dir.path().join("backup.json").exists());

    std::fs::rename(
        caller.path().join("backup.json"),
        caller.path().join("users.json"),
    )
    .unwrap();
    let args = ["loaddata", "users.json"];
    let out = succeeded(&args, project.run_with(&args, None, &env));
    // Read from the caller's directory (the dump drops sub-millisecond digits: 1 updated).
    assert!(
        out.starts_with(&format!(
            "Installed 1 user(s) from {}: ",
            caller.path().join("users.json").display()
        )),
        "{out}"
    );
}

#[test]
fn dumpdata_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let project = Project::migrated();
    project.ok(&["createuser", "alice"]);
    let fresh = project.dir.path().join("fresh.json");
    project.ok(&["dumpdata", "-o", fresh.to_str().unwrap()]);
    assert_eq!(mode_of(&fresh), 0o600);
    // An existing world-readable file is tightened, not just overwritten.
    let existing = project.dir.path().join("existing.json");
    std::fs::write(&existing, "old").unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o644)).unwrap();
    project.ok(&["dumpdata", "-o", existing.to_str().unwrap()]);
    assert_eq!(mode_of(&existing), 0o600);
    assert!(std::fs::read_to_string(&existing)
        .unwrap()
        .contains("\"alice\""));
}

/// The `./manage` wrapper, copied into a project of its own, with a stand-in `cargo` on PATH that
/// logs its arguments and "builds" by linking target/release/* to the real binary.
struct Wrapper {
    root: TempDir,
    bin: TempDir,
}

impl Wrapper {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let script = root.path().join("manage");
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../manage"),
            &script,
        )
        .unwrap();
        std::fs::write(root.path().join("settings.toml"), "").unwrap();
        let bin = tempfile::tempdir().unwrap();
        let cargo = bin.path().join("cargo");
        std::fs::write(
            &cargo,
            "#!/bin/sh\n\
             echo \"$*\" >> \"$CARGO_LOG\"\n\
             mkdir -p target/release\n\
             ln -sf \"$REAL_MANAGE\" target/release/manage\n\
             ln -sf \"$REAL_MANAGE\" target/release/server\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
        Wrapper { root, bin }
    }

    fn cargo_log(&self) -> String {
        std::fs::read_to_string(self.root.path().join("cargo.log")).unwrap_or_default()
    }

    /// `./manage ARGS` from `caller`; returns (stdout, stderr) of a successful run.
    fn run(&self, caller: &std::path::Path, args: &[&str]) -> (String, String) {
        let path = format!("{}:/usr/bin:/bin", self.bin.path().display());
        let out = Command::new(self.root.path().join("manage"))
            .args(args)
            .current_dir(caller)
            .env_clear()
            .env("PATH", path)
            .env("CARGO_LOG", self.root.path().join("cargo.log"))
            .env("REAL_MANAGE", env!("CARGO_BIN_EXE_manage"))
            .env("DATABASE_URL", "sqlite:///db.sqlite3")
            .env("PASSWORDS__BCRYPT_ROUNDS", "4")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stdout = succeeded(args, out.clone());
        (stdout, text(&out.stderr))
    }
}

#[test]
fn wrapper_builds_both_binaries_once_says_so_and_keeps_the_callers_paths() {
    let wrapper = Wrapper::new();
    let caller = tempfile::tempdir().unwrap();
    let (_, stderr) = wrapper.run(caller.path(), &["migrate"]);
    assert!(
        stderr.contains("Building the release binaries") && stderr.contains("a few minutes"),
        "{stderr}"
    );
    assert_eq!(
        wrapper.cargo_log(),
        "build --quiet --release -p server --bins\n"
    );
    // The project's relative sqlite:/// path is the repository's, not the caller's.
    assert!(wrapper.root.path().join("db.sqlite3").is_file());

    let (_, stderr) = wrapper.run(caller.path(), &["dumpdata", "-o", "backup.json"]);
    assert!(!stderr.contains("Building"), "{stderr}");
    assert!(wrapper
        .cargo_log()
        .ends_with("\nbuild --quiet --release -p server --bin manage\n"));
    let dump = caller.path().join("backup.json");
    assert_eq!(std::fs::read_to_string(&dump).unwrap().trim(), "[]");
    assert_eq!(mode_of(&dump), 0o600);
}

/// Right after the quick start there is no SECRET_KEY (runserver makes one up): check reports
/// it among the other issues instead of stopping at it, as Django's does.
#[test]
fn check_without_secret_key_reports_it_among_the_rest() {
    let project = Project::new();
    let args = ["check"];
    let mut cmd = project.command(&args);
    cmd.env_remove("SECRET_KEY").env("SIMPLE_JWT__LEEWAY", "5m");
    let out = succeeded(&args, cmd.output().unwrap());
    assert!(out.contains("?: (jwt.W016) SECRET_KEY is not set"), "{out}");
    assert!(out.contains("?: (jwt.W003) SIMPLE_JWT.LEEWAY"), "{out}");
    assert!(
        out.ends_with("System check identified 2 issues (0 silenced).\n"),
        "{out}"
    );

    let args = ["check", "--deploy"];
    let mut cmd = project.command(&args);
    cmd.env_remove("SECRET_KEY");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("?: (jwt.E005) SECRET_KEY is not set"),
        "{stdout}"
    );
    // The rest is still checked: the SQLite database is one of the deploy warnings.
    assert!(stdout.contains("WARNINGS:"), "{stdout}");
    assert!(text(&out.stderr).starts_with("Error: SystemCheckError"));
}

/// Records two outstanding refresh tokens of `username`, as two logins would.
fn start_sessions(project: &Project, username: &str) -> [String; 2] {
    let user = project.stored_user(username).expect("user");
    let now = auth::tokens::now();
    let jtis = [format!("{username}-one"), format!("{username}-two")];
    let mut conn = project.connect();
    for jti in &jtis {
        let t = auth::store::blacklist::Outstanding {
            jti,
            raw: jti,
            user_id: Some(user.id),
            created_at: now,
            expires_at: now + 3600,
        };
        auth::store::blacklist::outstand(&mut conn, &t).expect("outstand");
    }
    jtis
}

fn sessions_ended(project: &Project, jtis: &[String]) -> bool {
    let mut conn = project.connect();
    jtis.iter()
        .all(|jti| auth::store::blacklist::is_blacklisted(&mut conn, jti).expect("query"))
}

#[test]
fn createuser_takes_first_and_last_names() {
    let project = Project::migrated();
    project.ok(&[
        "createuser",
        "alice",
        "--first-name",
        "Alice",
        "--last-name",
        "Liddell",
    ]);
    let alice = project.user_json("alice");
    assert_eq!(
        (alice["first_name"].as_str(), alice["last_name"].as_str()),
        (Some("Alice"), Some("Liddell"))
    );
    let long = "x".repeat(151);
    let err = project.fails(&["createuser", "bob", "--last-name", &long]);
    assert!(err.contains("150"), "{err}");
}

#[test]
fn changeuser_changes_what_djangos_admin_does() {
    let project = Project::migrated();
    project.ok(&["createuser", "alice", "--first-name", "Alice"]);
    project.ok(&["createuser", "bob"]);
    let out = project.ok(&[
        "changeuser",
        "alice",
        "--email",
        "alice@example.com",
        "--first-name",
        "",
        "--last-name",
        "Liddell",
    ]);
    assert_eq!(out, "Changed user 'alice': first_name, last_name, email.\n");
    let alice = project.user_json("alice");
    assert_eq!(alice["email"], "alice@example.com");
    assert_eq!(alice["first_name"], "");
    assert_eq!(alice["last_name"], "Liddell");

    let out = project.ok(&["changeuser", "alice", "--email", "alice@example.com"]);
    assert!(out.contains("nothing changed"), "{out}");
    // At least one change is required (a usage error, as clap reports them).
    assert_eq!(project.run(&["changeuser", "alice"]).status.code(), Some(2));
    assert_eq!(
        project.fails(&["changeuser", "alice", "--username", "bob"]),
        "Error: That username is already taken.\n"
    );
    assert_eq!(
        project.fails(&["changeuser", "ghost", "--email", "g@example.com"]),
        "Error: user 'ghost' does not exist.\n"
    );
    let err = project.fails(&["changeuser", "alice", "--email", "not-an-email"]);
    assert!(err.contains("Enter a valid email address."), "{err}");
    let err = project.fails(&["changeuser", "alice", "--username", "bad name"]);
    assert!(err.contains("Enter a valid username."), "{err}");
    assert_eq!(project.user_json("alice")["email"], "alice@example.com");
}

#[test]
fn changeuser_status_or_rename_ends_the_sessions() {
    let project = Project::migrated();
    project.ok(&["createuser", "alice"]);
    let sessions = start_sessions(&project, "alice");
    project.ok(&["changeuser", "alice", "--email", "alice@example.com"]);
    assert!(
        !sessions_ended(&project, &sessions),
        "an email is no reason"
    );

    let out = project.ok(&[
        "changeuser",
        "alice",
        "--is-staff",
        "true",
        "--is-superuser",
        "yes",
    ]);
    assert_eq!(
        out,
        "Changed user 'alice': is_staff, is_superuser.\nEnded the user's sessions: they must log in again.\n"
    );
    assert!(sessions_ended(&project, &sessions));
    let alice = project.user_json("alice");
    assert_eq!(
        (alice["is_staff"].as_bool(), alice["is_superuser"].as_bool()),
        (Some(true), Some(true))
    );

    let sessions = start_sessions(&project, "alice");
    let out = project.ok(&[
        "changeuser",
        "alice",
        "--username",
        "alicia",
        "--is-active",
        "false",
    ]);
    assert!(
        out.starts_with("Changed user 'alice' (now 'alicia'): username, is_active.\n"),
        "{out}"
    );
    assert!(sessions_ended(&project, &sessions));
    assert!(project.stored_user("alice").is_none());
    assert!(!project.stored_user("alicia").expect("renamed").is_active);
}

#[test]
fn changepassword_without_username_is_the_os_users() {
    let project = Project::migrated();
    project.ok(&["createuser", "alice"]);
    let args = ["changepassword", "--password-stdin"];
    let out = project.run_with(&args, Some("n3w password\n"), &[("USER", "alice")]);
    assert_eq!(
        succeeded(&args, out),
        "Password changed successfully for user 'alice'\n"
    );
    assert!(project.password_is("alice", "n3w password"));
    // LOGNAME comes first, as in Python's getpass.getuser().
    let out = project.run_with(
        &args,
        Some("pw\n"),
        &[("LOGNAME", "ghost"), ("USER", "alice")],
    );
    assert_eq!(failed(&args, out), "Error: user 'ghost' does not exist.\n");
}

/// A directory holding a stand-in database client that prints its arguments.
fn fake_client(name: &str) -> TempDir {
    use std::os::unix::fs::PermissionsExt;
    let bin = tempfile::tempdir().unwrap();
    let path = bin.path().join(name);
    std::fs::write(&path, format!("#!/bin/sh\necho {name} \"$@\"\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn dbshell_runs_the_databases_client() {
    let project = Project::new();
    let bin = fake_client("sqlite3");
    let path = format!("{}:/usr/bin:/bin", bin.path().display());
    let args = ["dbshell", "--", "-readonly"];
    let out = project.run_with(&args, None, &[("PATH", &path)]);
    assert_eq!(
        succeeded(&args, out),
        format!("sqlite3 {} -readonly\n", project.db_path().display())
    );
    // No client: Django's message, naming the program.
    let empty = tempfile::tempdir().unwrap();
    let out = project.run_with(
        &["dbshell"],
        None,
        &[("PATH", empty.path().to_str().unwrap())],
    );
    assert_eq!(
        failed(&["dbshell"], out),
        "Error: You appear not to have the 'sqlite3' program installed or on your path.\n"
    );
}

#[test]
fn dbshell_runs_psql_for_postgres() {
    let project = Project::new();
    let bin = fake_client("psql");
    let path = format!("{}:/usr/bin:/bin", bin.path().display());
    let url = "postgres://app@db.invalid:5432/app";
    let out = project.run_with(
        &["dbshell"],
        None,
        &[("PATH", &path), ("DATABASE_URL", url)],
    );
    assert_eq!(succeeded(&["dbshell"], out), format!("psql {url}\n"));
}
