//! The signing-key policy, over the assembled settings: an HMAC secret long enough and no
//! placeholder (DEBUG only warns), or for the other algorithms a PEM private key and the public key
//! (or a JWK_URL) that verifies it.

use crate::choices::Algorithm;
use crate::error::{Origin, SettingsError};
use crate::secret::Secret;
use crate::validate::is_placeholder;
use crate::Settings;

/// Where the keys that the signing policy talks about came from.
#[derive(Debug, Clone)]
pub(crate) struct KeyOrigins {
    pub secret_key: Origin,
    /// `None` when SIGNING_KEY was not set and defaults to SECRET_KEY.
    pub signing_key: Option<Origin>,
    pub verifying_key: Option<Origin>,
    pub algorithm: Origin,
    /// Set when JWK_URL replaces VERIFYING_KEY.
    pub jwk_url: Option<Origin>,
}

/// HMAC: the signing key must be long enough and not a placeholder (DEBUG downgrades this to a
/// warning). Other algorithms: an explicit PEM private key and a PEM public key.
pub(crate) fn signing_keys(settings: &Settings, origins: &KeyOrigins) -> Result<(), SettingsError> {
    let jwt = &settings.simple_jwt;
    if jwt.algorithm.is_hmac() {
        if jwt.verifying_key.is_some() {
            log::warn!(
                "SIMPLE_JWT.VERIFYING_KEY is ignored: {} verifies with the signing key",
                jwt.algorithm
            );
        }
        return match hmac_key_problem(&jwt.signing_key, jwt.algorithm, origins) {
            Some(problem) if settings.debug => {
                log::warn!("{problem} (continuing because DEBUG is true)");
                Ok(())
            }
            Some(problem) => Err(problem),
            None => Ok(()),
        };
    }
    asymmetric_keys(settings, origins)
}

fn hmac_key_problem(
    key: &Secret,
    algorithm: Algorithm,
    origins: &KeyOrigins,
) -> Option<SettingsError> {
    let (name, origin) = match &origins.signing_key {
        Some(origin) => ("SIMPLE_JWT.SIGNING_KEY".to_owned(), origin.clone()),
        None => (
            "SECRET_KEY (the signing key, as SIMPLE_JWT.SIGNING_KEY is not set)".to_owned(),
            origins.secret_key.clone(),
        ),
    };
    if is_placeholder(key.expose()) {
        return Some(SettingsError::InsecureSecret { key: name, origin });
    }
    let min_len = algorithm.min_hmac_key_len();
    (key.expose().len() < min_len).then_some(SettingsError::WeakSecret {
        key: name,
        origin,
        algorithm,
        min_len,
    })
}

fn asymmetric_keys(settings: &Settings, origins: &KeyOrigins) -> Result<(), SettingsError> {
    let jwt = &settings.simple_jwt;
    let required = |key, fix| SettingsError::KeyRequired {
        key,
        algorithm: jwt.algorithm,
        origin: origins.algorithm.clone(),
        fix,
    };
    let Some(signing_origin) = &origins.signing_key else {
        return Err(required(
            "SIGNING_KEY",
            "set it to a PEM private key, as PEM text or the path of a PEM file (SECRET_KEY can only sign HS256/HS384/HS512 tokens)",
        ));
    };
    if !is_pem(jwt.signing_key.expose(), true) {
        return Err(SettingsError::invalid(
            "SIMPLE_JWT.SIGNING_KEY",
            signing_origin,
            format!(
                "must be a PEM private key (\"-----BEGIN ... PRIVATE KEY-----\") for {}",
                jwt.algorithm
            ),
        ));
    }
    if origins.jwk_url.is_some() && jwt.verifying_key.is_none() {
        // Tokens are verified with the keys JWK_URL publishes.
        return Ok(());
    }
    let (Some(verifying_key), Some(verifying_origin)) =
        (&jwt.verifying_key, &origins.verifying_key)
    else {
        return Err(required(
            "VERIFYING_KEY",
            "set it to the PEM public key matching SIGNING_KEY (PEM text or a file path), or set JWK_URL",
        ));
    };
    if !is_pem(verifying_key, false) {
        return Err(SettingsError::invalid(
            "SIMPLE_JWT.VERIFYING_KEY",
            verifying_origin,
            "must be a PEM public key (\"-----BEGIN PUBLIC KEY-----\"), never the private key",
        ));
    }
    Ok(())
}

/// A PEM block of the right kind: a public key given as the private one, or the reverse, is a
/// configuration mistake (and a private key in VERIFYING_KEY risks being published).
fn is_pem(text: &str, private: bool) -> bool {
    let text = text.trim();
    text.starts_with("-----BEGIN ") && text.contains("PRIVATE KEY-----") == private
}
