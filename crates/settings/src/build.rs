//! Turning the layered values into `Settings`: each section's struct (see `de.rs`), then the keys
//! whose reading depends on others and the rules across several keys.

use serde::Deserialize;

use crate::auth_values;
use crate::de::{self, Section};
use crate::error::{Origin, SettingsError};
use crate::key::{
    BRUTE_FORCE, CACHES, DATABASES, PASSWORDS, REST_AUTH, REST_FRAMEWORK, SERVER, SIMPLE_JWT,
};
use crate::signing::{self, KeyOrigins};
use crate::sources::Layered;
use crate::validate::{self, Rule};
use crate::{
    BruteForce, RestAuth, RestFramework, Secret, SecretUrl, Settings, SimpleJwt, TopLevel,
};

type Result<T> = std::result::Result<T, SettingsError>;

/// Assembles and validates the settings. `fallback_secret` stands in for an unset SECRET_KEY.
pub(crate) fn settings(layered: &Layered, fallback_secret: Option<Secret>) -> Result<Settings> {
    let top = Section {
        layered,
        section: None,
    };
    let (secret_key, secret_origin) = secret_key(&top, fallback_secret)?;
    let TopLevel {
        secret_key: _,
        debug,
        auth_password_validators,
        csrf_trusted_origins,
    } = top.read(&["SECRET_KEY"])?;

    let section = |name| Section {
        layered,
        section: Some(name),
    };
    let (simple_jwt, origins) = simple_jwt(&section(SIMPLE_JWT), &secret_key, secret_origin)?;
    let settings = Settings {
        secret_key,
        debug,
        rest_framework: read(&section(REST_FRAMEWORK), throttle_rates)?,
        simple_jwt,
        databases: read(&section(DATABASES), |_, _| Ok(()))?,
        server: read(&section(SERVER), |_, _| Ok(()))?,
        passwords: read(&section(PASSWORDS), |_, _| Ok(()))?,
        caches: read(&section(CACHES), |_, _| Ok(()))?,
        brute_force: read(&section(BRUTE_FORCE), lock_lengths)?,
        auth_password_validators,
        rest_auth: read(&section(REST_AUTH), cookies_differ)?,
        csrf_trusted_origins,
    };
    signing::signing_keys(&settings, &origins)?;
    Ok(settings)
}

/// A section's struct, then `rule` across its keys.
fn read<T: serde::de::DeserializeOwned>(
    s: &Section,
    rule: impl Fn(&T, &Section) -> Result<()>,
) -> Result<T> {
    let section = s.read(&[])?;
    rule(&section, s)?;
    Ok(section)
}

/// A key read by hand: its text (an empty string is unset), then `convert`, whose reason the
/// message shows after the key and where its value came from. `None` when no layer set it.
fn by_hand<T>(
    s: &Section,
    name: &'static str,
    convert: impl FnOnce(Option<String>) -> std::result::Result<T, String>,
) -> Result<Option<T>> {
    let Some(entry) = s.entry(name) else {
        return Ok(None);
    };
    let text = de::convert(entry, Option::<String>::deserialize)?;
    convert(text)
        .map(Some)
        .map_err(|reason| SettingsError::invalid(entry.key, &entry.origin, reason))
}

fn secret_key(top: &Section, fallback: Option<Secret>) -> Result<(Secret, Origin)> {
    // An empty SECRET_KEY (e.g. `SECRET_KEY=` in a compose file) counts as unset.
    let text = by_hand(top, "SECRET_KEY", Ok)?.flatten();
    let explicit = text.map(Secret::new).zip(top.origin("SECRET_KEY"));
    explicit
        .or_else(|| fallback.map(|s| (s, Origin::Fallback)))
        .ok_or(SettingsError::MissingSecret)
}

fn throttle_rates(rf: &RestFramework, s: &Section) -> Result<()> {
    auth_values::throttles_have_rates(&rf.default_throttle_classes, &rf.default_throttle_rates)
        .map_err(|reason| {
            s.invalid(
                "DEFAULT_THROTTLE_RATES",
                &["DEFAULT_THROTTLE_RATES", "DEFAULT_THROTTLE_CLASSES"],
                reason,
            )
        })
}

fn cookies_differ(ra: &RestAuth, s: &Section) -> Result<()> {
    if let (Some(access), Some(refresh), Some(origin)) = (
        &ra.jwt_auth_cookie,
        &ra.jwt_auth_refresh_cookie,
        s.origin("JWT_AUTH_REFRESH_COOKIE"),
    ) {
        if access == refresh {
            return Err(SettingsError::invalid(
                s.key("JWT_AUTH_REFRESH_COOKIE"),
                &origin,
                format!("is {refresh:?}, the name of JWT_AUTH_COOKIE too: give the two cookies different names, e.g. \"refresh-token\""),
            ));
        }
    }
    Ok(())
}

fn lock_lengths(bf: &BruteForce, s: &Section) -> Result<()> {
    if bf.max_wait < bf.wait_increment {
        return Err(s.invalid(
            "MAX_WAIT",
            &["MAX_WAIT", "WAIT_INCREMENT"],
            format!(
                "the longest lock ({:?}) is shorter than one WAIT_INCREMENT ({:?}): raise MAX_WAIT or lower WAIT_INCREMENT",
                bf.max_wait, bf.wait_increment
            ),
        ));
    }
    Ok(())
}

/// Claims that several settings name must not collide: a user field copied into the token must
/// not overwrite the type, id, expiry or revocation claims.
fn claims_distinct(jwt: &SimpleJwt) -> Rule {
    let reserved = [
        ("TOKEN_TYPE_CLAIM", jwt.token_type_claim.as_str()),
        ("JTI_CLAIM", jwt.jti_claim.as_str()),
        ("USER_ID_CLAIM", jwt.user_id_claim.as_str()),
        ("REVOKE_TOKEN_CLAIM", jwt.revoke_token_claim.as_str()),
        (
            "SLIDING_TOKEN_REFRESH_EXP_CLAIM",
            jwt.sliding_token_refresh_exp_claim.as_str(),
        ),
        ("a registered claim", "exp"),
        ("a registered claim", "iat"),
        ("a registered claim", "aud"),
        ("a registered claim", "iss"),
    ];
    for claim in &jwt.token_user_claims {
        if let Some((setting, _)) = reserved.iter().find(|(_, name)| *name == claim.as_str()) {
            return Err(format!(
                "{:?} is also the name of {setting}: a user field cannot replace it",
                claim.as_str()
            ));
        }
    }
    Ok(())
}

fn simple_jwt(
    s: &Section,
    secret_key: &Secret,
    secret_origin: Origin,
) -> Result<(SimpleJwt, KeyOrigins)> {
    let mut jwt: SimpleJwt = s.read(&["SIGNING_KEY", "VERIFYING_KEY", "JWK_URL"])?;
    jwt.signing_key = secret_key.clone();

    // SIGNING_KEY: unset or empty means "use SECRET_KEY", as in simplejwt. For asymmetric
    // algorithms both keys may also be paths of PEM files.
    let may_be_path = !jwt.algorithm.is_hmac();
    let key_text = |text: Option<String>| {
        text.map(|text| auth_values::key_text(text, may_be_path))
            .transpose()
    };
    let signing_key = by_hand(s, "SIGNING_KEY", key_text)?.flatten();
    let signing_origin = signing_key.as_ref().and(s.origin("SIGNING_KEY"));
    if let Some(text) = signing_key {
        jwt.signing_key = Secret::new(text);
    }
    jwt.verifying_key = by_hand(s, "VERIFYING_KEY", key_text)?.flatten();
    let verifying_origin = jwt.verifying_key.as_ref().and(s.origin("VERIFYING_KEY"));

    if let (Err(reason), Some(origin)) = (claims_distinct(&jwt), s.origin("TOKEN_USER_CLAIMS")) {
        return Err(SettingsError::invalid(
            s.key("TOKEN_USER_CLAIMS"),
            &origin,
            reason,
        ));
    }
    let algorithm = jwt.algorithm;
    jwt.jwk_url = by_hand(s, "JWK_URL", |url| {
        validate::jwk_url(url.as_deref(), algorithm).map(|()| url.map(SecretUrl::new))
    })?
    .flatten();
    let jwk_url_origin = jwt.jwk_url.as_ref().and(s.origin("JWK_URL"));
    if let (false, Some(origin)) = (jwt.verifying_keys.is_empty(), s.origin("VERIFYING_KEYS")) {
        if jwt.algorithm.is_hmac() {
            return Err(SettingsError::invalid(
                s.key("VERIFYING_KEYS"),
                &origin,
                format!("{} tokens are verified with the signing secret: VERIFYING_KEYS only holds public keys of RS*/ES*/EdDSA algorithms", jwt.algorithm),
            ));
        }
        if jwt.key_id.is_none() {
            return Err(SettingsError::invalid(
                s.key("VERIFYING_KEYS"),
                &origin,
                "set KEY_ID too: with several keys, tokens must say (in their `kid` header) which one signed them",
            ));
        }
    }

    let origins = KeyOrigins {
        secret_key: secret_origin,
        signing_key: signing_origin,
        verifying_key: verifying_origin,
        algorithm: s.origin("ALGORITHM").unwrap_or(Origin::Default),
        jwk_url: jwk_url_origin,
    };
    Ok((jwt, origins))
}
