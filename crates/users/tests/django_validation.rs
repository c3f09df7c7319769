//! Our validators against Django's own: tests/data/django_password_validation.json records what
//! Django 5.2's validators answered for each (configuration, user, password); we must agree,
//! message for message and in order.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step is the failure

use serde_json::Value;
use settings::{PasswordValidator, UserAttribute};
use users::validators::{PasswordValidators, UserAttributes};

fn config(name: &str) -> Vec<PasswordValidator> {
    let similarity = |user_attributes: &[UserAttribute], max_similarity| {
        PasswordValidator::UserAttributeSimilarity {
            user_attributes: user_attributes.to_vec(),
            max_similarity,
        }
    };
    match name {
        "default" => PasswordValidator::django_defaults(),
        "min_length_1" => vec![PasswordValidator::MinimumLength { min_length: 1 }],
        "min_length_12" => vec![PasswordValidator::MinimumLength { min_length: 12 }],
        "first_name_0.3" => vec![similarity(&[UserAttribute::FirstName], 0.3)],
        "first_name_1" => vec![similarity(&[UserAttribute::FirstName], 1.0)],
        "similarity_0.5" => vec![similarity(&UserAttribute::ALL, 0.5)],
        other => panic!("unknown configuration {other} in the vectors: add it here"),
    }
}

#[test]
fn every_django_vector_agrees() {
    let text = include_str!("data/django_password_validation.json");
    let file: Value = serde_json::from_str(text).unwrap();
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() > 1000, "{}", cases.len());
    let mut disagreements = Vec::new();
    // Built once per configuration: building reads the 20,000-password list.
    let mut built = std::collections::HashMap::new();
    for case in cases {
        let name = case["config"].as_str().unwrap();
        let validators = built
            .entry(name)
            .or_insert_with(|| PasswordValidators::from_settings(&config(name)).unwrap());
        let user = &file["users"][case["user"].as_str().unwrap()];
        let field = |name: &str| user[name].as_str().unwrap_or_default();
        let attributes = UserAttributes {
            username: field("username"),
            first_name: field("first_name"),
            last_name: field("last_name"),
            email: field("email"),
        };
        let password = case["password"].as_str().unwrap();
        let ours: Vec<String> =
            match validators.validate(password, (!user.is_null()).then_some(&attributes)) {
                Ok(()) => Vec::new(),
                Err(rejected) => rejected.messages().into_iter().map(str::to_owned).collect(),
            };
        let django: Vec<String> = serde_json::from_value(case["messages"].clone()).unwrap();
        if ours != django {
            disagreements.push(format!("{case}\n  ours: {ours:?}"));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} disagree:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
}

/// The examples in Django's own test suite (auth_tests.test_validators) and documentation.
#[test]
fn djangos_documented_examples() {
    let user = UserAttributes {
        username: "testclient",
        first_name: "Test",
        last_name: "Client",
        email: "testclient@example.com",
    };
    let only = |v: PasswordValidator| PasswordValidators::from_settings(&[v]).unwrap();
    let similarity = |attrs: &[UserAttribute], max| {
        only(PasswordValidator::UserAttributeSimilarity {
            user_attributes: attrs.to_vec(),
            max_similarity: max,
        })
    };
    let all = similarity(&UserAttribute::ALL, 0.7);
    let messages = |v: &PasswordValidators, pw: &str| {
        v.validate(pw, Some(&user))
            .err()
            .map(|e| e.messages().join(" "))
    };
    assert_eq!(all.validate("testclient", None), Ok(()));
    assert_eq!(
        messages(&all, "testclient").as_deref(),
        Some("The password is too similar to the username.")
    );
    assert_eq!(
        messages(&all, "example.com").as_deref(),
        Some("The password is too similar to the email address.")
    );
    assert_eq!(
        messages(&similarity(&[UserAttribute::FirstName], 0.3), "testclient").as_deref(),
        Some("The password is too similar to the first name.")
    );
    // max_similarity=1 still refuses the attribute itself...
    assert_eq!(
        messages(&similarity(&[UserAttribute::FirstName], 1.0), "test").as_deref(),
        Some("The password is too similar to the first name.")
    );
    // ...but nothing less.
    assert_eq!(
        messages(&similarity(&[UserAttribute::FirstName], 1.0), "testclient"),
        None
    );
    assert_eq!(
        messages(&similarity(&[UserAttribute::FirstName], 0.7), "testclient"),
        None
    );

    let length = only(PasswordValidator::MinimumLength { min_length: 8 });
    assert_eq!(
        messages(&length, "1234567").as_deref(),
        Some("This password is too short. It must contain at least 8 characters.")
    );
    assert_eq!(messages(&length, "12345678"), None);
    let common = only(PasswordValidator::CommonPassword {
        password_list_path: None,
    });
    assert_eq!(
        messages(&common, "godzilla").as_deref(),
        Some("This password is too common.")
    );
    assert_eq!(messages(&common, "a-safe-password"), None);
    let numeric = only(PasswordValidator::NumericPassword);
    assert_eq!(
        messages(&numeric, "42424242").as_deref(),
        Some("This password is entirely numeric.")
    );
    assert_eq!(messages(&numeric, "a-safe-password"), None);
}
