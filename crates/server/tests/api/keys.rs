//! SIMPLE_JWT keys: asymmetric algorithms with PEM text or file paths, and the startup errors
//! for a key of the wrong family.

use std::sync::Arc;

use reqwest::StatusCode;

use crate::helpers::*;

fn pem(name: &str) -> String {
    std::fs::read_to_string(key_path(name)).expect("test key")
}

fn settings_with(extra: &[(&str, String)]) -> settings::Settings {
    let mut env: Vec<(String, String)> = vec![("SECRET_KEY".into(), VECTOR_KEY.into())];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    settings::Settings::from_sources(None, &env).expect("settings")
}

/// The startup error for these settings (building the state is where keys are parsed).
fn startup_error(extra: &[(&str, String)]) -> String {
    let dir = tempfile::tempdir().expect("dir");
    let mut all = extra.to_vec();
    all.push((
        "DATABASE_URL",
        format!("sqlite:///{}", dir.path().join("db.sqlite3").display()),
    ));
    match server::build_state(Arc::new(settings_with(&all))) {
        Ok(_) => panic!("expected a startup error"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn every_asymmetric_family_signs_and_verifies_from_files() {
    for (alg, private, public) in [
        ("RS256", "rsa.pem", "rsa.pub.pem"),
        ("RS512", "rsa.pem", "rsa.pub.pem"),
        ("ES256", "ec256.pem", "ec256.pub.pem"),
        ("EdDSA", "ed25519.pem", "ed25519.pub.pem"),
    ] {
        let app = spawn_app_with(&[
            ("SIMPLE_JWT__ALGORITHM", alg),
            ("SIMPLE_JWT__SIGNING_KEY", &key_path(private)),
            ("SIMPLE_JWT__VERIFYING_KEY", &key_path(public)),
        ])
        .await;
        app.create_user("alice", PASSWORD, true);
        let (_, access) = app.obtain_pair("alice", PASSWORD).await;
        let header = header_of(&access);
        assert_eq!(
            header,
            serde_json::json!({"alg": alg, "typ": "JWT"}),
            "{alg}"
        );
        assert_eq!(app.me(&access).await.status(), StatusCode::OK, "{alg}");
    }
}

#[test]
fn pem_text_works_as_well_as_paths() {
    let dir = tempfile::tempdir().expect("dir");
    let s = settings_with(&[
        ("SIMPLE_JWT__ALGORITHM", "ES256".into()),
        ("SIMPLE_JWT__SIGNING_KEY", pem("ec256.pem")),
        ("SIMPLE_JWT__VERIFYING_KEY", pem("ec256.pub.pem")),
        (
            "DATABASE_URL",
            format!("sqlite:///{}", dir.path().join("db.sqlite3").display()),
        ),
    ]);
    assert!(server::build_state(Arc::new(s)).is_ok());
}

#[test]
fn a_key_of_another_family_is_a_startup_error() {
    for (alg, private, public) in [
        ("RS256", "ec256.pem", "ec256.pub.pem"),
        ("ES256", "rsa.pem", "rsa.pub.pem"),
        ("EdDSA", "rsa.pem", "rsa.pub.pem"),
        ("RS256", "rsa.pem", "ec256.pub.pem"),
    ] {
        let err = startup_error(&[
            ("SIMPLE_JWT__ALGORITHM", alg.into()),
            ("SIMPLE_JWT__SIGNING_KEY", key_path(private)),
            ("SIMPLE_JWT__VERIFYING_KEY", key_path(public)),
        ]);
        assert!(
            err.starts_with("SIMPLE_JWT."),
            "{alg} {private} {public}: {err}"
        );
        assert!(err.contains(alg), "{err}");
        assert!(!err.contains("BEGIN"), "no key material in messages: {err}");
    }
    // A pair that does not belong together.
    let err = startup_error(&[
        ("SIMPLE_JWT__ALGORITHM", "RS256".into()),
        ("SIMPLE_JWT__SIGNING_KEY", key_path("rsa.pem")),
        ("SIMPLE_JWT__VERIFYING_KEY", key_path("rsa_old.pub.pem")),
    ]);
    assert!(err.contains("VERIFYING_KEY"), "{err}");
}
