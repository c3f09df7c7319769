//! REST_FRAMEWORK / SIMPLE_JWT values that are more than scalars: throttle rates (and the rule that
//! every throttle class finds its scope's rate), keys given as PEM text or a file path, rotated
//! verifying keys.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::choices::ThrottleClass;
use crate::rate::Rate;
use crate::validate::Rule;
use crate::value_error::wrong;

/// `DEFAULT_THROTTLE_RATES`: a table of scope = "N/period"; `"None"` or `""` is DRF's `None`
/// (the scope exists but is not throttled). Replaces DRF's default table as a whole, as DRF does.
pub(crate) fn throttle_rates<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Option<Rate>>, D::Error> {
    const EXPECTED: &str =
        "a table of scope = \"requests/period\", e.g. { anon = \"100/day\", login = \"5/min\" }";
    let value = toml::Value::deserialize(d)?;
    let toml::Value::Table(table) = value else {
        return Err(wrong(EXPECTED, &value));
    };
    table
        .into_iter()
        .map(|(scope, rate)| {
            let toml::Value::String(text) = &rate else {
                return Err(wrong(EXPECTED, &rate));
            };
            let rate = match text.trim() {
                "" | "None" | "none" => None,
                text => Some(
                    Rate::parse(text)
                        .map_err(|reason| D::Error::custom(format!("{scope}: {reason}")))?,
                ),
            };
            Ok((scope, rate))
        })
        .collect()
}

/// The scope whose rate each throttle class reads (ScopedRateThrottle: the token obtain views').
pub fn throttle_scope(class: ThrottleClass) -> &'static str {
    match class {
        ThrottleClass::AnonRateThrottle => "anon",
        ThrottleClass::UserRateThrottle => "user",
        ThrottleClass::ScopedRateThrottle => "login",
    }
}

/// Every configured throttle class finds its scope in the rates: DRF's ImproperlyConfigured
/// ("No default throttle rate set for 'x' scope") at startup instead of on the first request.
pub(crate) fn throttles_have_rates(
    classes: &[ThrottleClass],
    rates: &BTreeMap<String, Option<Rate>>,
) -> Rule {
    match classes
        .iter()
        .find(|c| !rates.contains_key(throttle_scope(**c)))
    {
        Some(class) => {
            let scope = throttle_scope(*class);
            Err(format!(
                "no default throttle rate set for '{scope}' scope, which {class} needs: add {scope} = \"N/period\" (e.g. \"5/min\") to DEFAULT_THROTTLE_RATES"
            ))
        }
        None => Ok(()),
    }
}

/// A key as PEM text or, for asymmetric algorithms, the path of a PEM file. PEM in environment
/// variables is often on one line with literal `\n`s (Heroku, CI secrets): those become line
/// breaks. An HMAC secret is never read as a path (a secret that happens to name a file would
/// silently change). The value is never echoed: it may be a secret.
pub(crate) fn key_text(text: String, may_be_path: bool) -> Result<String, String> {
    if is_pem(&text) {
        return Ok(unescape_pem(text));
    }
    if !may_be_path {
        return Ok(text);
    }
    match std::fs::read_to_string(text.trim()) {
        Ok(contents) if is_pem(&contents) => Ok(contents),
        Ok(_) => Err("names a file that holds no PEM key (\"-----BEGIN ...\")".to_owned()),
        Err(e) => Err(format!(
            "is not PEM text (\"-----BEGIN ...\") and the file it names cannot be read ({e})"
        )),
    }
}

fn is_pem(text: &str) -> bool {
    text.trim_start().starts_with("-----BEGIN")
}

fn unescape_pem(text: String) -> String {
    if text.contains('\n') {
        text
    } else {
        text.replace("\\n", "\n")
    }
}

/// One `SIMPLE_JWT.VERIFYING_KEYS` entry: `{ KID = "2024-01", KEY = "<PEM or path>" }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    pub kid: String,
    /// PEM text of a public key (read from the file when a path was given).
    pub key: String,
}

/// `VERIFYING_KEYS = [{ KID = "2024-01", KEY = "<PEM or path>" }, ...]`: earlier public keys.
pub(crate) fn verifying_keys<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<VerifyingKey>, D::Error> {
    const EXPECTED: &str =
        "a list of tables like { KID = \"2024-01\", KEY = \"<PEM public key or path>\" }";
    let value = toml::Value::deserialize(d)?;
    let toml::Value::Array(items) = value else {
        return Err(wrong(EXPECTED, &value));
    };
    let mut keys = Vec::new();
    for item in items {
        let toml::Value::Table(table) = &item else {
            return Err(wrong(EXPECTED, &item));
        };
        if let Some(other) = table.keys().find(|k| *k != "KID" && *k != "KEY") {
            return Err(D::Error::custom(format!(
                "unknown field {other:?}: each entry has exactly KID and KEY"
            )));
        }
        let field = |name: &str| match table.get(name) {
            Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
            _ => Err(D::Error::custom(format!(
                "each entry needs {name} as a non-empty string ({EXPECTED})"
            ))),
        };
        let kid = field("KID")?;
        let key = key_text(field("KEY")?, true).map_err(D::Error::custom)?;
        if key.contains("PRIVATE KEY-----") {
            return Err(D::Error::custom(format!(
                "the KEY of {kid:?} is a private key: give the public key (it is published)"
            )));
        }
        if keys.iter().any(|k: &VerifyingKey| k.kid == kid) {
            return Err(D::Error::custom(format!("KID {kid:?} appears twice")));
        }
        keys.push(VerifyingKey { kid, key });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(_name: &'static str, text: &str) -> crate::de::ValueDe {
        crate::de::toml_value(text)
    }

    #[test]
    fn rates_table() {
        let rates = throttle_rates(file(
            "DEFAULT_THROTTLE_RATES",
            r#"{ anon = "5/min", user = "None" }"#,
        ))
        .expect("rates");
        assert_eq!(rates["anon"].map(|r| r.num_requests), Some(5));
        assert_eq!(rates["user"], None);
        let err = throttle_rates(file("DEFAULT_THROTTLE_RATES", r#"{ anon = "5/week" }"#))
            .expect_err("bad rate")
            .to_string();
        assert!(err.contains("anon: \"5/week\" is not a rate"), "{err}");
        assert!(throttle_rates(file("DEFAULT_THROTTLE_RATES", r#""5/min""#)).is_err());
    }

    #[test]
    fn classes_need_their_scope() {
        let rates =
            throttle_rates(file("DEFAULT_THROTTLE_RATES", r#"{ anon = "5/min" }"#)).expect("rates");
        assert!(throttles_have_rates(&[ThrottleClass::AnonRateThrottle], &rates).is_ok());
        let err = throttles_have_rates(&[ThrottleClass::ScopedRateThrottle], &rates)
            .expect_err("no login rate");
        assert!(err.contains("'login' scope"), "{err}");
    }

    #[test]
    fn verifying_keys_shape() {
        let ok = verifying_keys(file(
            "DEFAULT_THROTTLE_RATES",
            r#"[{ KID = "old", KEY = "-----BEGIN PUBLIC KEY-----\nAA\n-----END PUBLIC KEY-----" }]"#,
        ))
        .expect("keys");
        assert_eq!(ok[0].kid, "old");
        for bad in [
            r#"[{ KID = "old" }]"#,
            r#"[{ KID = "old", KEY = "-----BEGIN PRIVATE KEY-----", X = 1 }]"#,
            r#"[{ KID = "old", KEY = "-----BEGIN PRIVATE KEY-----\nAA\n-----END PRIVATE KEY-----" }]"#,
            r#"[{ KID = "a", KEY = "-----BEGIN PUBLIC KEY-----" }, { KID = "a", KEY = "-----BEGIN PUBLIC KEY-----" }]"#,
            r#"["-----BEGIN PUBLIC KEY-----"]"#,
            r#"[{ KID = "a", KEY = "/nonexistent/key.pem" }]"#,
        ] {
            assert!(verifying_keys(file("X", bad)).is_err(), "{bad}");
        }
    }
}
