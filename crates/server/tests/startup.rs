//! Startup errors of the `server` binary: each names the key and the fix, and exits non-zero
//! before listening.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step is the failure

use std::process::Command;

const KEY: &str = "startup-test-secret-0123456789abcdef0123456789abcdef";

/// Runs `server` in an empty directory with only `env` (plus PATH) and returns (exit code, stderr).
fn start(env: &[(&str, &str)], settings_toml: Option<&str>) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    if let Some(text) = settings_toml {
        std::fs::write(dir.path().join("settings.toml"), text).expect("write settings.toml");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_server"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        // Port 0: should a case wrongly start, it must not collide with anything.
        .args(["--bind", "127.0.0.1:0"])
        .output()
        .expect("run server");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_refused(env: &[(&str, &str)], file: Option<&str>, needles: &[&str]) {
    let (code, stderr) = start(env, file);
    assert_eq!(code, Some(1), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} not in: {stderr}");
    }
}

#[test]
fn a_missing_secret_says_how_to_make_one() {
    assert_refused(&[], None, &["SECRET_KEY is not set", "generatesecretkey"]);
}

#[test]
fn a_weak_secret_is_refused_without_being_printed() {
    let (code, stderr) = start(&[("SECRET_KEY", "tooshort-tooshort")], None);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("SECRET_KEY") && stderr.contains("32"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("tooshort-tooshort"),
        "secret leaked: {stderr}"
    );
    assert_refused(
        &[(
            "SECRET_KEY",
            "django-insecure-0123456789abcdef0123456789abcdef",
        )],
        None,
        &["insecure"],
    );
}

#[test]
fn unknown_keys_are_named_with_their_source() {
    assert_refused(
        &[
            ("SECRET_KEY", KEY),
            ("SIMPLE_JWT__ACCESS_TOKEN_LIFETIMEX", "5m"),
        ],
        None,
        &[
            "SIMPLE_JWT.ACCESS_TOKEN_LIFETIMEX",
            "SIMPLE_JWT__ACCESS_TOKEN_LIFETIMEX",
            "ACCESS_TOKEN_LIFETIME",
        ],
    );
    assert_refused(
        &[("SECRET_KEY", KEY)],
        Some("[SIMPLEJWT]\nLEEWAY = 1\n"),
        &["SIMPLEJWT", "settings.toml"],
    );
}

#[test]
fn wrong_types_and_values_are_named() {
    assert_refused(
        &[("SECRET_KEY", KEY)],
        Some("[SIMPLE_JWT]\nROTATE_REFRESH_TOKENS = \"yes please\"\n"),
        &[
            "SIMPLE_JWT.ROTATE_REFRESH_TOKENS",
            "settings.toml",
            "boolean",
        ],
    );
    assert_refused(
        &[("SECRET_KEY", KEY), ("SIMPLE_JWT__ALGORITHM", "HS999")],
        None,
        &["HS999", "HS256"],
    );
    assert_refused(
        &[
            ("SECRET_KEY", KEY),
            (
                "REST_FRAMEWORK__DEFAULT_AUTHENTICATION_CLASSES",
                r#"["SessionAuthentication"]"#,
            ),
        ],
        None,
        &["SessionAuthentication", "JWTAuthentication"],
    );
    assert_refused(
        &[
            ("SECRET_KEY", KEY),
            ("SIMPLE_JWT__ACCESS_TOKEN_LIFETIME", "soon"),
        ],
        None,
        &["ACCESS_TOKEN_LIFETIME"],
    );
}

#[test]
fn an_unsupported_database_url_is_refused_without_its_password() {
    let (code, stderr) = start(
        &[
            ("SECRET_KEY", KEY),
            ("DATABASE_URL", "mysql://root:hunter2@localhost/db"),
        ],
        None,
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("DATABASE_URL") && !stderr.contains("hunter2"),
        "{stderr}"
    );
}

#[test]
fn an_asymmetric_algorithm_needs_its_keys() {
    assert_refused(
        &[("SECRET_KEY", KEY), ("SIMPLE_JWT__ALGORITHM", "RS256")],
        None,
        &["SIGNING_KEY", "RS256"],
    );
}
