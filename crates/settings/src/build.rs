//! Turning the layered raw values into `Settings`: defaults for what is unset, per-key rules.

use crate::auth_values;
use crate::error::{Origin, SettingsError};
use crate::schema::{
    Key, CACHES, DATABASES, PASSWORDS, REST_AUTH, REST_FRAMEWORK, SERVER, SIMPLE_JWT,
};
use crate::sources::{Entry, Layered};
use crate::validate::{self, KeyOrigins, Rule};
use crate::value;
use crate::{
    Caches, Databases, LogDestination, Passwords, RestAuth, RestFramework, Secret, Server,
    Settings, SimpleJwt, SqliteSynchronous, TrustedProxy,
};

type Result<T> = std::result::Result<T, SettingsError>;

/// Reads the keys of one section (or of the top level) out of the layered values.
struct Section<'a> {
    layered: &'a Layered,
    section: Option<&'static str>,
}

impl Section<'_> {
    fn key(&self, name: &'static str) -> Key {
        Key {
            section: self.section,
            name,
        }
    }

    fn origin(&self, name: &'static str) -> Option<Origin> {
        self.layered.get(self.key(name)).map(|e| e.origin.clone())
    }

    /// Overwrites `slot` (which holds the default) when some layer set `name`.
    fn set<T>(
        &self,
        name: &'static str,
        slot: &mut T,
        convert: impl Fn(&Entry) -> Result<T>,
    ) -> Result<()> {
        self.set_checked(name, slot, convert, |_| Ok(()))
    }

    /// [`Section::set`], then `rule` must accept the new value.
    fn set_checked<T>(
        &self,
        name: &'static str,
        slot: &mut T,
        convert: impl Fn(&Entry) -> Result<T>,
        rule: impl Fn(&T) -> Rule,
    ) -> Result<()> {
        if let Some(entry) = self.layered.get(self.key(name)) {
            let value = convert(entry)?;
            rule(&value).map_err(|reason| value::invalid(entry, reason))?;
            *slot = value;
        }
        Ok(())
    }
}

/// Assembles and validates the settings. `fallback_secret` stands in for an unset SECRET_KEY.
pub(crate) fn settings(layered: &Layered, fallback_secret: Option<Secret>) -> Result<Settings> {
    let top = Section {
        layered,
        section: None,
    };
    let (secret_key, secret_origin) = secret_key(&top, fallback_secret)?;
    let mut debug = false;
    top.set("DEBUG", &mut debug, value::boolean)?;
    let mut auth_password_validators = crate::PasswordValidator::django_defaults();
    top.set(
        "AUTH_PASSWORD_VALIDATORS",
        &mut auth_password_validators,
        crate::password_validators::parse,
    )?;
    let mut csrf_trusted_origins = Vec::new();
    top.set_checked(
        "CSRF_TRUSTED_ORIGINS",
        &mut csrf_trusted_origins,
        value::string_list,
        |origins| validate::csrf_trusted_origins(origins),
    )?;

    let section = |name| Section {
        layered,
        section: Some(name),
    };
    let (simple_jwt, origins) = simple_jwt(&section(SIMPLE_JWT), &secret_key, secret_origin)?;
    let settings = Settings {
        secret_key,
        debug,
        rest_framework: rest_framework(&section(REST_FRAMEWORK))?,
        simple_jwt,
        databases: databases(&section(DATABASES))?,
        server: server(&section(SERVER))?,
        passwords: passwords(&section(PASSWORDS))?,
        caches: caches(&section(CACHES))?,
        brute_force: brute_force(&section(crate::schema::BRUTE_FORCE))?,
        auth_password_validators,
        rest_auth: rest_auth(&section(REST_AUTH))?,
        csrf_trusted_origins,
    };
    validate::signing_keys(&settings, &origins)?;
    Ok(settings)
}

fn secret_key(top: &Section, fallback: Option<Secret>) -> Result<(Secret, Origin)> {
    let mut text = None;
    // An empty SECRET_KEY (e.g. `SECRET_KEY=` in a compose file) counts as unset.
    top.set("SECRET_KEY", &mut text, value::optional_string)?;
    let explicit = text.map(Secret::new).zip(top.origin("SECRET_KEY"));
    explicit
        .or_else(|| fallback.map(|s| (s, Origin::Fallback)))
        .ok_or(SettingsError::MissingSecret)
}

fn rest_framework(s: &Section) -> Result<RestFramework> {
    let mut rf = RestFramework::default();
    s.set(
        "DEFAULT_AUTHENTICATION_CLASSES",
        &mut rf.default_authentication_classes,
        value::choice_list,
    )?;
    s.set(
        "DEFAULT_PERMISSION_CLASSES",
        &mut rf.default_permission_classes,
        value::choice_list,
    )?;
    s.set(
        "DEFAULT_THROTTLE_CLASSES",
        &mut rf.default_throttle_classes,
        value::choice_list,
    )?;
    s.set(
        "DEFAULT_THROTTLE_RATES",
        &mut rf.default_throttle_rates,
        auth_values::throttle_rates,
    )?;
    if let Err(reason) =
        auth_values::throttles_have_rates(&rf.default_throttle_classes, &rf.default_throttle_rates)
    {
        let origin = s
            .origin("DEFAULT_THROTTLE_RATES")
            .or_else(|| s.origin("DEFAULT_THROTTLE_CLASSES"))
            .unwrap_or(Origin::Default);
        return Err(SettingsError::invalid(
            s.key("DEFAULT_THROTTLE_RATES"),
            &origin,
            reason,
        ));
    }
    Ok(rf)
}

fn rest_auth(s: &Section) -> Result<RestAuth> {
    let mut ra = RestAuth::default();
    for (name, slot) in [
        ("JWT_AUTH_COOKIE", &mut ra.jwt_auth_cookie),
        ("JWT_AUTH_REFRESH_COOKIE", &mut ra.jwt_auth_refresh_cookie),
    ] {
        s.set_checked(name, slot, value::optional_string, |cookie| {
            cookie.as_deref().map_or(Ok(()), validate::cookie_name)
        })?;
    }
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
    s.set_checked(
        "JWT_AUTH_REFRESH_COOKIE_PATH",
        &mut ra.jwt_auth_refresh_cookie_path,
        value::string,
        |path| validate::cookie_path(path),
    )?;
    s.set("JWT_AUTH_SECURE", &mut ra.jwt_auth_secure, value::boolean)?;
    s.set(
        "JWT_AUTH_HTTPONLY",
        &mut ra.jwt_auth_httponly,
        value::boolean,
    )?;
    s.set(
        "JWT_AUTH_SAMESITE",
        &mut ra.jwt_auth_samesite,
        value::choice,
    )?;
    s.set_checked(
        "JWT_AUTH_COOKIE_DOMAIN",
        &mut ra.jwt_auth_cookie_domain,
        value::optional_string,
        |domain| domain.as_deref().map_or(Ok(()), validate::cookie_domain),
    )?;
    s.set(
        "JWT_AUTH_COOKIE_USE_CSRF",
        &mut ra.jwt_auth_cookie_use_csrf,
        value::boolean,
    )?;
    s.set(
        "JWT_AUTH_COOKIE_ENFORCE_CSRF_ON_UNAUTHENTICATED",
        &mut ra.jwt_auth_cookie_enforce_csrf_on_unauthenticated,
        value::boolean,
    )?;
    s.set(
        "JWT_AUTH_RETURN_EXPIRATION",
        &mut ra.jwt_auth_return_expiration,
        value::boolean,
    )?;
    Ok(ra)
}

fn brute_force(s: &Section) -> Result<crate::BruteForce> {
    let mut bf = crate::BruteForce::default();
    s.set("ENABLED", &mut bf.enabled, value::boolean)?;
    s.set_checked(
        "FAILURE_FACTOR",
        &mut bf.failure_factor,
        value::unsigned,
        |&n| {
            validate::at_least_one(n).map_err(|e| {
                format!("{e} (to turn brute-force protection off, set ENABLED = false)")
            })
        },
    )?;
    s.set(
        "ADDRESS_FAILURE_FACTOR",
        &mut bf.address_failure_factor,
        value::unsigned,
    )?;
    s.set_checked(
        "WAIT_INCREMENT",
        &mut bf.wait_increment,
        value::duration,
        |d| validate::lockout_duration(*d),
    )?;
    s.set_checked("MAX_WAIT", &mut bf.max_wait, value::duration, |d| {
        validate::lockout_duration(*d)
    })?;
    s.set_checked(
        "FAILURE_RESET_TIME",
        &mut bf.failure_reset_time,
        value::duration,
        |d| validate::lockout_duration(*d),
    )?;
    if bf.max_wait < bf.wait_increment {
        let origin = s
            .origin("MAX_WAIT")
            .or_else(|| s.origin("WAIT_INCREMENT"))
            .unwrap_or(Origin::Default);
        return Err(SettingsError::invalid(
            s.key("MAX_WAIT"),
            &origin,
            format!(
                "the longest lock ({:?}) is shorter than one WAIT_INCREMENT ({:?}): raise MAX_WAIT or lower WAIT_INCREMENT",
                bf.max_wait, bf.wait_increment
            ),
        ));
    }
    Ok(bf)
}

/// The longest `[CACHES] USER_TTL`: past it, "deactivated" would no longer mean "locked out".
const MAX_USER_TTL: std::time::Duration = std::time::Duration::from_secs(60);

fn caches(s: &Section) -> Result<Caches> {
    let mut caches = Caches::default();
    s.set_checked("URL", &mut caches.url, value::string, |url| {
        let scheme = url.split_once("://").map(|(scheme, _)| scheme);
        match scheme {
            Some("locmem" | "redis" | "rediss") => Ok(()),
            _ => Err("must be locmem:// (in-process, the default) or redis://host:6379/0 (shared by every instance)".to_owned()),
        }
    })?;
    s.set("KEY_PREFIX", &mut caches.key_prefix, value::string)?;
    s.set_checked("USER_TTL", &mut caches.user_ttl, value::duration, |ttl| {
        if *ttl <= MAX_USER_TTL {
            Ok(())
        } else {
            Err(format!("must be at most {MAX_USER_TTL:?}: a user deactivated or whose password changed keeps access this long; \"0s\" looks the user up on every request"))
        }
    })?;
    Ok(caches)
}

fn simple_jwt(
    s: &Section,
    secret_key: &Secret,
    secret_origin: Origin,
) -> Result<(SimpleJwt, KeyOrigins)> {
    let mut jwt = SimpleJwt::with_signing_key(secret_key.clone());
    s.set(
        "ACCESS_TOKEN_LIFETIME",
        &mut jwt.access_token_lifetime,
        value::duration,
    )?;
    s.set(
        "REFRESH_TOKEN_LIFETIME",
        &mut jwt.refresh_token_lifetime,
        value::duration,
    )?;
    s.set(
        "ROTATE_REFRESH_TOKENS",
        &mut jwt.rotate_refresh_tokens,
        value::boolean,
    )?;
    s.set(
        "BLACKLIST_AFTER_ROTATION",
        &mut jwt.blacklist_after_rotation,
        value::boolean,
    )?;
    s.set(
        "UPDATE_LAST_LOGIN",
        &mut jwt.update_last_login,
        value::boolean,
    )?;
    s.set("ALGORITHM", &mut jwt.algorithm, value::choice)?;

    // SIGNING_KEY: unset or empty means "use SECRET_KEY", as in simplejwt. For asymmetric
    // algorithms both keys may also be paths of PEM files.
    let may_be_path = !jwt.algorithm.is_hmac();
    let key_text = |e: &Entry| auth_values::key_text(e, may_be_path);
    let mut signing_key = None;
    s.set("SIGNING_KEY", &mut signing_key, key_text)?;
    let signing_origin = signing_key.as_ref().and(s.origin("SIGNING_KEY"));
    if let Some(text) = signing_key {
        jwt.signing_key = Secret::new(text);
    }
    s.set("VERIFYING_KEY", &mut jwt.verifying_key, key_text)?;
    let verifying_origin = jwt.verifying_key.as_ref().and(s.origin("VERIFYING_KEY"));

    s.set("AUDIENCE", &mut jwt.audience, audience)?;
    s.set("ISSUER", &mut jwt.issuer, value::optional_string)?;
    s.set("LEEWAY", &mut jwt.leeway, value::duration)?;
    s.set_checked(
        "AUTH_HEADER_TYPES",
        &mut jwt.auth_header_types,
        value::string_list,
        |types| validate::auth_header_types(types),
    )?;
    s.set_checked(
        "AUTH_HEADER_NAME",
        &mut jwt.auth_header_name,
        value::string,
        |name| validate::auth_header_name(name, &crate::header_from_meta(name)),
    )?;
    s.set("USER_ID_FIELD", &mut jwt.user_id_field, value::choice)?;
    for (name, slot) in [
        ("USER_ID_CLAIM", &mut jwt.user_id_claim),
        ("TOKEN_TYPE_CLAIM", &mut jwt.token_type_claim),
        ("JTI_CLAIM", &mut jwt.jti_claim),
    ] {
        s.set_checked(name, slot, value::string, |claim| {
            validate::not_empty(claim)
        })?;
    }
    s.set(
        "CHECK_USER_IS_ACTIVE",
        &mut jwt.check_user_is_active,
        value::boolean,
    )?;
    s.set_checked(
        "AUTH_TOKEN_CLASSES",
        &mut jwt.auth_token_classes,
        value::choice_list,
        |classes| validate::not_empty_list(classes, "[\"AccessToken\"]"),
    )?;
    s.set(
        "SLIDING_TOKEN_LIFETIME",
        &mut jwt.sliding_token_lifetime,
        value::duration,
    )?;
    s.set(
        "SLIDING_TOKEN_REFRESH_LIFETIME",
        &mut jwt.sliding_token_refresh_lifetime,
        value::duration,
    )?;
    for (name, slot) in [
        (
            "SLIDING_TOKEN_REFRESH_EXP_CLAIM",
            &mut jwt.sliding_token_refresh_exp_claim,
        ),
        ("REVOKE_TOKEN_CLAIM", &mut jwt.revoke_token_claim),
    ] {
        s.set_checked(name, slot, value::string, |claim| {
            validate::not_empty(claim)
        })?;
    }
    s.set(
        "CHECK_REVOKE_TOKEN",
        &mut jwt.check_revoke_token,
        value::boolean,
    )?;
    s.set(
        "TOKEN_USER_CLAIMS",
        &mut jwt.token_user_claims,
        value::choice_list,
    )?;
    if let (Err(reason), Some(origin)) = (
        auth_values::claims_distinct(&jwt),
        s.origin("TOKEN_USER_CLAIMS"),
    ) {
        return Err(SettingsError::invalid(
            s.key("TOKEN_USER_CLAIMS"),
            &origin,
            reason,
        ));
    }
    s.set_checked(
        "JWK_URL",
        &mut jwt.jwk_url,
        |entry| Ok(value::optional_string(entry)?.map(crate::SecretUrl::new)),
        |url| validate::jwk_url(url.as_ref().map(crate::SecretUrl::expose), jwt.algorithm),
    )?;
    s.set("KEY_ID", &mut jwt.key_id, value::optional_string)?;
    s.set(
        "VERIFYING_KEYS",
        &mut jwt.verifying_keys,
        auth_values::verifying_keys,
    )?;
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

    s.set(
        "REFRESH_TOKEN_REUSE_DETECTION",
        &mut jwt.refresh_token_reuse_detection,
        value::boolean,
    )?;
    s.set(
        "REFRESH_TOKEN_REUSE_INTERVAL",
        &mut jwt.refresh_token_reuse_interval,
        value::duration,
    )?;

    let origins = KeyOrigins {
        secret_key: secret_origin,
        signing_key: signing_origin,
        verifying_key: verifying_origin,
        algorithm: s.origin("ALGORITHM").unwrap_or(Origin::Default),
        jwk_url: jwk_url_origin,
    };
    Ok((jwt, origins))
}

/// One or several `aud` values; an empty string or list means none, like simplejwt's `None`.
fn audience(entry: &Entry) -> Result<Option<Vec<String>>> {
    let list: Vec<String> = value::string_list(entry)?
        .into_iter()
        .filter(|a| !a.trim().is_empty())
        .collect();
    Ok(Some(list).filter(|list| !list.is_empty()))
}

fn databases(s: &Section) -> Result<Databases> {
    let mut db = Databases::default();
    s.set_checked("URL", &mut db.url, value::string, |url| {
        validate::not_empty(url)
    })?;
    s.set_checked("POOL_SIZE", &mut db.pool_size, value::unsigned, |&n| {
        validate::at_least_one(n)
    })?;
    s.set("CONNECT_TIMEOUT", &mut db.connect_timeout, value::duration)?;
    s.set_checked(
        "QUERY_TIMEOUT",
        &mut db.query_timeout,
        value::duration,
        |d| validate::query_timeout(*d),
    )?;
    s.set(
        "SQLITE_SYNCHRONOUS",
        &mut db.sqlite_synchronous,
        sqlite_synchronous,
    )?;
    Ok(db)
}

/// `FULL` or `NORMAL`, in any case (as SQLite takes them); `OFF` and `EXTRA` are not offered.
fn sqlite_synchronous(entry: &Entry) -> Result<SqliteSynchronous> {
    let text = value::string(entry)?;
    match text.trim().to_ascii_uppercase().as_str() {
        "FULL" => Ok(SqliteSynchronous::Full),
        "NORMAL" => Ok(SqliteSynchronous::Normal),
        _ => Err(value::invalid(
            entry,
            format!("{text:?} is not FULL or NORMAL (FULL, the default, keeps every answered write through a power loss)"),
        )),
    }
}

fn server(s: &Section) -> Result<Server> {
    let mut server = Server::default();
    s.set_checked("BIND", &mut server.bind, value::string_list, |b| {
        validate::bind(b)
    })?;
    s.set_checked(
        "WORKERS",
        &mut server.workers,
        |e| value::unsigned(e).map(Some),
        |w| w.map_or(Ok(()), validate::at_least_one),
    )?;
    s.set_checked("THREADS", &mut server.threads, value::unsigned, |&n| {
        validate::at_least_one(n)
    })?;
    s.set_checked(
        "MAX_BODY_SIZE",
        &mut server.max_body_size,
        value::unsigned,
        |&n| validate::at_least_one(n),
    )?;
    s.set_checked(
        "LIMIT_REQUEST_LINE",
        &mut server.limit_request_line,
        value::unsigned,
        |&n| validate::at_most(n, Server::MAX_REQUEST_LINE),
    )?;
    s.set_checked(
        "LIMIT_REQUEST_FIELDS",
        &mut server.limit_request_fields,
        value::unsigned,
        |&n| validate::at_most(n, Server::MAX_REQUEST_FIELDS),
    )?;
    s.set(
        "LIMIT_REQUEST_FIELD_SIZE",
        &mut server.limit_request_field_size,
        value::unsigned,
    )?;
    s.set("TIMEOUT", &mut server.timeout, value::duration)?;
    s.set(
        "GRACEFUL_TIMEOUT",
        &mut server.graceful_timeout,
        value::duration,
    )?;
    s.set("KEEP_ALIVE", &mut server.keep_alive, value::duration)?;
    s.set(
        "TRUSTED_PROXIES",
        &mut server.trusted_proxies,
        trusted_proxies,
    )?;
    s.set("ACCESS_LOG", &mut server.access_log, log_destination)?;
    s.set("ERROR_LOG", &mut server.error_log, log_destination)?;
    Ok(server)
}

/// A list of addresses or networks; a string may also hold several separated by commas, as
/// gunicorn's FORWARDED_ALLOW_IPS does (`SERVER__TRUSTED_PROXIES=10.0.0.1,10.0.0.2`).
fn trusted_proxies(entry: &Entry) -> Result<Vec<TrustedProxy>> {
    value::string_list(entry)?
        .iter()
        .flat_map(|item| item.split(','))
        .filter(|item| !item.trim().is_empty())
        .map(|item| TrustedProxy::parse(item).map_err(|reason| value::invalid(entry, reason)))
        .collect()
}

fn log_destination(entry: &Entry) -> Result<LogDestination> {
    value::string(entry).map(|text| LogDestination::parse(&text))
}

fn passwords(s: &Section) -> Result<Passwords> {
    let mut passwords = Passwords::default();
    s.set_checked(
        "BCRYPT_ROUNDS",
        &mut passwords.bcrypt_rounds,
        value::unsigned,
        |&r| validate::bcrypt_rounds(r),
    )?;
    Ok(passwords)
}
