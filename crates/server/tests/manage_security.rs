//! Black-box tests of `manage` for issue 7: AUTH_PASSWORD_VALIDATORS wherever a password is set
//! from a script, and `manage check [--deploy]`. Each test runs the binary in its own directory
//! with a clean environment.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step is the failure

use std::io::Write;
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

#[path = "support/tls_redis.rs"]
mod tls_redis;

const SECRET: &str = "Qm9vdHN0cmFwLXNlY3JldC1mb3ItdGVzdHMtMDEyMzQ1Njc4OWFiY2RlZg-x";

struct Project {
    dir: TempDir,
}

impl Project {
    fn migrated() -> Self {
        let project = Project {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(project.dir.path().join("settings.toml"), "").unwrap();
        let out = project.run(&["migrate"], None, &[]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        project
    }

    fn run(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_manage"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env(
                "DATABASE_URL",
                format!("sqlite:///{}", self.dir.path().join("db.sqlite3").display()),
            )
            .env("SECRET_KEY", SECRET)
            .env("PASSWORDS__BCRYPT_ROUNDS", "4")
            .env("SETTINGS_FILE", self.dir.path().join("settings.toml"))
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut pipe = child.stdin.take().unwrap();
        // A command refused before it reads its input has closed the pipe: not a failure here.
        if let Err(e) = pipe.write_all(stdin.unwrap_or_default().as_bytes()) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
        drop(pipe);
        child.wait_with_output().unwrap()
    }

    /// The one-line error of a command that must fail.
    fn refused(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> String {
        let out = self.run(args, stdin, env);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&out.stdout)
        );
        text(&out.stderr)
    }

    fn succeeds(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> String {
        let out = self.run(args, stdin, env);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    }

    fn exists(&self, username: &str) -> bool {
        self.run(&["showuser", username], None, &[])
            .status
            .success()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn createuser_refuses_weak_passwords_from_stdin() {
    let p = Project::migrated();
    let args = [
        "createuser",
        "alice",
        "--email",
        "alice@example.com",
        "--password-stdin",
    ];
    let err = p.refused(&args, Some("password\n"), &[]);
    assert_eq!(err, "Error: This password is too common.\n");
    let err = p.refused(&args, Some("1234\n"), &[]);
    assert_eq!(
        err,
        "Error: This password is too short. It must contain at least 8 characters. \
         This password is too common. This password is entirely numeric.\n"
    );
    let err = p.refused(&args, Some("xalice12\n"), &[]);
    assert_eq!(err, "Error: The password is too similar to the username.\n");
    assert!(!p.exists("alice"), "nothing created");
    p.succeeds(&args, Some("correct horse battery staple\n"), &[]);
    assert!(p.exists("alice"));
}

#[test]
fn validators_follow_the_setting() {
    let p = Project::migrated();
    let off = [("AUTH_PASSWORD_VALIDATORS", "[]")];
    p.succeeds(
        &["createuser", "bob", "--password-stdin"],
        Some("123\n"),
        &off,
    );
    let longer = [(
        "AUTH_PASSWORD_VALIDATORS",
        r#"[{ NAME = "django.contrib.auth.password_validation.MinimumLengthValidator", OPTIONS = { min_length = 12 } }]"#,
    )];
    let err = p.refused(
        &["createuser", "carol", "--password-stdin"],
        Some("elevenchars\n"),
        &longer,
    );
    assert_eq!(
        err,
        "Error: This password is too short. It must contain at least 12 characters.\n"
    );
    let bad = [("AUTH_PASSWORD_VALIDATORS", r#"[{ NAME = "Nope" }]"#)];
    let err = p.refused(
        &["createuser", "dave", "--password-stdin"],
        Some("x\n"),
        &bad,
    );
    assert!(err.contains("unknown validator \"Nope\""), "{err}");
}

#[test]
fn changepassword_compares_with_the_stored_user() {
    let p = Project::migrated();
    p.succeeds(
        &[
            "createuser",
            "carol",
            "--email",
            "carol.danvers@example.com",
            "--password-stdin",
        ],
        Some("first good passphrase\n"),
        &[],
    );
    let args = ["changepassword", "carol", "--password-stdin"];
    let err = p.refused(&args, Some("danvers!!\n"), &[]);
    assert_eq!(
        err,
        "Error: The password is too similar to the email address.\n"
    );
    let err = p.refused(&args, Some("12345678\n"), &[]);
    assert_eq!(
        err,
        "Error: This password is too common. This password is entirely numeric.\n"
    );
    let out = p.succeeds(&args, Some("second good passphrase\n"), &[]);
    assert_eq!(out, "Password changed successfully for user 'carol'\n");
}

#[test]
fn createsuperuser_noinput_refuses_a_weak_environment_password() {
    let p = Project::migrated();
    let args = [
        "createsuperuser",
        "--noinput",
        "--username",
        "admin",
        "--email",
        "admin@example.com",
    ];
    let err = p.refused(&args, None, &[("DJANGO_SUPERUSER_PASSWORD", "admin123")]);
    assert!(
        err.contains("The password is too similar to the username."),
        "{err}"
    );
    assert!(err.contains("This password is too common."), "{err}");
    assert!(!p.exists("admin"));
    p.succeeds(
        &args,
        None,
        &[("DJANGO_SUPERUSER_PASSWORD", "Adm1n pass phrase")],
    );
}

#[test]
fn check_reports_like_django() {
    let p = Project::migrated();
    assert_eq!(
        p.succeeds(&["check"], None, &[]),
        "System check identified no issues (0 silenced).\n"
    );
    // Warnings alone do not fail the command (Django's default --fail-level ERROR)...
    let out = p.succeeds(&["check", "--deploy"], None, &[]);
    assert!(out.starts_with("System check identified some issues:\n\nWARNINGS:\n?: (jwt.W006) DATABASES.URL is a SQLite file"), "{out}");
    assert!(
        out.ends_with("\nSystem check identified 3 issues (0 silenced).\n"),
        "{out}"
    );
    assert!(
        out.contains("(jwt.W009) PASSWORDS.BCRYPT_ROUNDS is 4"),
        "{out}"
    );
    assert!(
        out.contains("(jwt.W015) CACHES.URL keeps the brute-force counters in each worker"),
        "{out}"
    );
    // ...unless asked to.
    let out = p.run(&["check", "--deploy", "--fail-level", "WARNING"], None, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("Error: SystemCheckError: 3 of the issues"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_deploy_refuses_development_settings() {
    let p = Project::migrated();
    let dev = [
        ("DEBUG", "true"),
        (
            "SECRET_KEY",
            "django-insecure-0123456789abcdefghijklmnopqrstuvwxyz0123456789",
        ),
        ("SIMPLE_JWT__ROTATE_REFRESH_TOKENS", "true"),
        ("SIMPLE_JWT__ACCESS_TOKEN_LIFETIME", "1d"),
        ("AUTH_PASSWORD_VALIDATORS", "[]"),
    ];
    // Without --deploy only the token settings are judged, and they only warn.
    let out = p.succeeds(&["check"], None, &dev);
    assert!(
        out.contains("(jwt.W001)") && out.contains("(jwt.W002)"),
        "{out}"
    );
    let out = p.run(&["check", "--deploy"], None, &dev);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(
        report.contains("\nERRORS:\n?: (jwt.E001) SECRET_KEY (which signs the tokens"),
        "{report}"
    );
    assert!(report.contains("?: (jwt.E004) DEBUG is true"), "{report}");
    assert!(
        report.contains("(jwt.W008) AUTH_PASSWORD_VALIDATORS is empty"),
        "{report}"
    );
    assert!(
        !report.contains("django-insecure-0123"),
        "never echo the key: {report}"
    );
    // Outside DEBUG the settings themselves refuse that key, as the server does.
    let mut prod = dev.to_vec();
    prod[0] = ("DEBUG", "false");
    let err = p.refused(&["check", "--deploy"], None, &prod);
    assert!(
        err.contains("placeholder or well-known insecure value"),
        "{err}"
    );
}

#[test]
fn check_deploy_looks_at_the_database_and_the_cache() {
    // Never migrated: every login would fail. An error, and the file is not created by the check.
    let p = Project {
        dir: tempfile::tempdir().unwrap(),
    };
    std::fs::write(p.dir.path().join("settings.toml"), "").unwrap();
    let out = p.run(&["check", "--deploy"], None, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("?: (jwt.E006) The database has "),
        "{stdout}"
    );
    assert!(
        !p.dir.path().join("db.sqlite3").exists(),
        "the check created the database"
    );
    // Migrated, with a Redis that does not answer (a closed port): a warning naming CACHES.URL.
    let p = Project::migrated();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let url = format!("redis://:hunter2@127.0.0.1:{port}/0");
    let out = p.succeeds(&["check", "--deploy"], None, &[("CACHE_URL", url.as_str())]);
    assert!(!out.contains("jwt.E006"), "{out}");
    assert!(
        out.contains("?: (jwt.W023) CACHES.URL names a Redis that does not answer"),
        "{out}"
    );
    assert!(!out.contains("hunter2"), "{out}");
    // The same with the real Redis: nothing to say about it.
    let out = p.succeeds(
        &["check", "--deploy"],
        None,
        &[("CACHE_URL", "redis://127.0.0.1:6379/0")],
    );
    assert!(!out.contains("jwt.W023"), "{out}");
}

#[test]
fn redis_url_or_a_warning_for_throttles_counted_in_each_process() {
    let p = Project::migrated();
    let throttled = [
        (
            "REST_FRAMEWORK__DEFAULT_THROTTLE_CLASSES",
            r#"["ScopedRateThrottle"]"#,
        ),
        (
            "REST_FRAMEWORK__DEFAULT_THROTTLE_RATES",
            r#"{ login = "5/min" }"#,
        ),
    ];
    let out = p.succeeds(&["check", "--deploy"], None, &throttled);
    assert!(
        out.contains("?: (jwt.W024) CACHES.URL keeps the throttle counters in each worker process"),
        "{out}"
    );
    assert!(out.contains("(jwt.W015)"), "{out}");
    // Heroku Redis' REDIS_URL (the machine's Redis here) is the cache: nothing to say.
    let heroku = [
        throttled[0],
        throttled[1],
        ("REDIS_URL", "redis://127.0.0.1:6379/0"),
    ];
    let out = p.succeeds(&["check", "--deploy"], None, &heroku);
    for id in ["jwt.W015", "jwt.W023", "jwt.W024"] {
        assert!(!out.contains(id), "{id}: {out}");
    }
}

#[test]
fn redis_check_deploy_reaches_redis_over_tls_as_heroku_gives_it() {
    let redis = tls_redis::TlsRedis::start();
    let url = format!("rediss://127.0.0.1:{}", redis.port);
    let p = Project::migrated();
    // A self-signed certificate is refused unless TLS_VERIFY is off, as for Heroku Redis.
    let out = p.succeeds(&["check", "--deploy"], None, &[("REDIS_URL", url.as_str())]);
    assert!(
        out.contains("?: (jwt.W023) CACHES.URL names a Redis that does not answer"),
        "{out}"
    );
    let heroku = [("REDIS_URL", url.as_str()), ("CACHES__TLS_VERIFY", "false")];
    let out = p.succeeds(&["check", "--deploy"], None, &heroku);
    assert!(!out.contains("jwt.W023"), "{out}");
    // Checked against the system's CA store, which SSL_CERT_FILE replaces: a private CA works.
    let ca = redis.ca_certificate();
    let private_ca = [
        ("REDIS_URL", url.as_str()),
        ("SSL_CERT_FILE", ca.to_str().unwrap()),
    ];
    let out = p.succeeds(&["check", "--deploy"], None, &private_ca);
    assert!(!out.contains("jwt.W023"), "{out}");
}
