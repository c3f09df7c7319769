//! `AUTH_PASSWORD_VALIDATORS` through the whole loader: default, file (Django's list-of-dicts as
//! TOML arrays of tables), environment, and the environment overriding the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step is the failure

use settings::{PasswordValidator, Settings, UserAttribute};

const SECRET: &str = "LeakCanary-7f3a9c2e1b8d4f6a0c5e7b9d2f4a6c8e0b1d3f5a7c9e";

fn load(file: Option<&str>, extra: &[(&str, &str)]) -> Result<Settings, String> {
    let mut env = vec![("SECRET_KEY".to_owned(), SECRET.to_owned())];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Settings::from_sources(file.map(|text| (text, "settings.toml")), &env)
        .map_err(|e| e.to_string())
}

#[test]
fn default_is_djangos_startproject_four() {
    let settings = load(None, &[]).unwrap();
    assert_eq!(
        settings.auth_password_validators,
        PasswordValidator::django_defaults()
    );
    let names: Vec<&str> = settings
        .auth_password_validators
        .iter()
        .map(PasswordValidator::class_name)
        .collect();
    assert_eq!(
        names,
        [
            "UserAttributeSimilarityValidator",
            "MinimumLengthValidator",
            "CommonPasswordValidator",
            "NumericPasswordValidator"
        ]
    );
}

const FILE: &str = r#"
[[AUTH_PASSWORD_VALIDATORS]]
NAME = "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
OPTIONS = { user_attributes = ["username", "email"], max_similarity = 0.5 }

[[AUTH_PASSWORD_VALIDATORS]]
NAME = "django.contrib.auth.password_validation.MinimumLengthValidator"
OPTIONS = { min_length = 12 }
"#;

#[test]
fn from_the_file_as_arrays_of_tables() {
    let settings = load(Some(FILE), &[]).unwrap();
    assert_eq!(
        settings.auth_password_validators,
        [
            PasswordValidator::UserAttributeSimilarity {
                user_attributes: vec![UserAttribute::Username, UserAttribute::Email],
                max_similarity: 0.5
            },
            PasswordValidator::MinimumLength { min_length: 12 },
        ]
    );
}

#[test]
fn from_the_environment_over_the_file() {
    let settings = load(
        Some(FILE),
        &[(
            "AUTH_PASSWORD_VALIDATORS",
            r#"[{ NAME = "NumericPasswordValidator" }]"#,
        )],
    )
    .unwrap();
    assert_eq!(
        settings.auth_password_validators,
        [PasswordValidator::NumericPassword]
    );
    let off = load(None, &[("AUTH_PASSWORD_VALIDATORS", "[]")]).unwrap();
    assert!(off.auth_password_validators.is_empty());
}

#[test]
fn mistakes_name_the_setting_and_where_it_came_from() {
    let err = load(
        Some("[[AUTH_PASSWORD_VALIDATORS]]\nNAME = \"MinimumLengthValidator\"\nOPTIONS = { min_length = \"ten\" }\n"),
        &[],
    )
    .unwrap_err();
    assert_eq!(
        err,
        "AUTH_PASSWORD_VALIDATORS in settings.toml is invalid: entry 1: min_length must be a whole number"
    );
    let err = load(
        None,
        &[("AUTH_PASSWORD_VALIDATORS", "MinimumLengthValidator")],
    )
    .unwrap_err();
    assert!(
        err.starts_with("AUTH_PASSWORD_VALIDATORS from environment variable AUTH_PASSWORD_VALIDATORS must be a list of tables"),
        "{err}"
    );
}
