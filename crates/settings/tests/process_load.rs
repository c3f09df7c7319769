//! `Settings::load` against the real process: `.env`, `SETTINGS_FILE`, `./settings.toml`.
//!
//! This binary holds exactly one test because it changes the working directory and environment,
//! which are process-wide; every other test uses the pure `from_sources`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step is the failure

use std::fs;

use settings::{Secret, Settings, SettingsError};

const SECRET: &str = "DotEnvSecret-5b7d9f1a3c5e7092b4d6f8a0c2e4f6a8b0d2f4a6c8";

fn clear_settings_env() {
    let sections = [
        "REST_FRAMEWORK__",
        "SIMPLE_JWT__",
        "DATABASES__",
        "SERVER__",
        "PASSWORDS__",
    ];
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str().map(str::to_owned) else {
            continue;
        };
        let plain = [
            "SECRET_KEY",
            "DEBUG",
            "DATABASE_URL",
            "PORT",
            "WEB_CONCURRENCY",
            "SETTINGS_FILE",
        ];
        if plain.contains(&name.as_str()) || sections.iter().any(|s| name.starts_with(s)) {
            std::env::remove_var(&name);
        }
    }
}

#[test]
fn load_reads_dotenv_then_file_then_environment() {
    clear_settings_env();
    let dir = tempfile::tempdir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();

    // No .env, no settings.toml, no SECRET_KEY: only the secret is missing.
    assert!(matches!(
        Settings::load(),
        Err(SettingsError::MissingSecret)
    ));
    // ...which the development fallback fills in.
    let fallback = Secret::new(SECRET.to_owned());
    let s = Settings::load_with_fallback_secret(Some(fallback.clone())).unwrap();
    assert_eq!(s.secret_key, fallback);

    // .env provides SECRET_KEY and a section key; ./settings.toml is picked up by default.
    fs::write(
        ".env",
        format!("SECRET_KEY={SECRET}\nSIMPLE_JWT__LEEWAY=7\nDEBUG=false\n"),
    )
    .unwrap();
    fs::write(
        "settings.toml",
        "[SIMPLE_JWT]\nLEEWAY = 3\nISSUER = \"file\"\n",
    )
    .unwrap();
    // Already-set variables win over .env.
    std::env::set_var("DEBUG", "true");
    let s = Settings::load().unwrap();
    assert_eq!(s.secret_key.expose(), SECRET);
    assert_eq!(s.simple_jwt.leeway.as_secs(), 7, ".env beats the file");
    assert_eq!(s.simple_jwt.issuer.as_deref(), Some("file"));
    assert!(s.debug, "the environment beats .env");

    // SETTINGS_FILE chooses another file, named in messages as given.
    fs::write("other.toml", "[SIMPLE_JWT]\nISSUER = [1]\n").unwrap();
    std::env::set_var("SETTINGS_FILE", "other.toml");
    let err = Settings::load().unwrap_err().to_string();
    assert!(
        err.starts_with("SIMPLE_JWT.ISSUER in other.toml must be a string"),
        "{err}"
    );

    // ...and must exist.
    std::env::set_var("SETTINGS_FILE", "missing.toml");
    let err = Settings::load().unwrap_err();
    assert!(matches!(err, SettingsError::FileNotFound { .. }), "{err}");
    assert!(err.to_string().contains("missing.toml"), "{err}");

    std::env::remove_var("SETTINGS_FILE");
    std::env::set_current_dir(std::env::temp_dir()).unwrap();
}
