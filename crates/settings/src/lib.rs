//! The typed settings (Django / DRF / simplejwt names and defaults) and the crate's public surface.
//!
//! Settings come from three layers, each overriding the one before:
//! built-in defaults < `settings.toml` (or `$SETTINGS_FILE`) < environment.
//! See [`Settings::load`] for the process entry point and [`Settings::from_sources`] for the pure one.
//!
//! ```toml
//! SECRET_KEY = "..."          # usually from the environment instead
//! DEBUG = false
//!
//! [REST_FRAMEWORK]
//! DEFAULT_PERMISSION_CLASSES = ["rest_framework.permissions.IsAuthenticated"]
//!
//! [SIMPLE_JWT]
//! ACCESS_TOKEN_LIFETIME = "5m"
//! REFRESH_TOKEN_LIFETIME = "1d"
//! ```
//!
//! # Adding a setting: one edit
//!
//! Each section is a `#[derive(Deserialize, SmartDefault)]` struct (serde's `rename_all =
//! "SCREAMING_SNAKE_CASE"`, `deny_unknown_fields`, `default`); a key is one field, its name spelled
//! once, its default next to it:
//!
//! ```text
//! /// `QUERY_TIMEOUT`, default 10 seconds: what it does, in a sentence.
//! #[serde(deserialize_with = "validate::query_timeout")]   // only if it has a rule
//! #[default(Duration::from_secs(10))]                   // only if not the type's Default
//! pub query_timeout: Duration,
//! ```
//!
//! The field is the key: in the file `[DATABASES] QUERY_TIMEOUT = ...`, in the environment
//! `DATABASES__QUERY_TIMEOUT=...`, in the "valid keys" lists and the "did you mean" hints (the
//! key lists are the field names serde's derive gives, recovered by `schema::keys`). Place it where
//! the key should appear in the "valid keys" list. The value is read by the field type's
//! `Deserialize` over `de::ValueDe`, which reads environment text as that type asks and words the
//! messages (key, where its value came from, what was expected): `bool`, `String`, `Option<_>`
//! (empty = unset), `Vec<_>` (one string = a list of one), `u32`, `usize`, `Duration` (seconds or
//! "5m") and the choice enums (`choices.rs`) need nothing more; a composite value is a
//! `deserialize_with` function. A rule is named once, in the field's attribute: a `validate::*`
//! function (declared with `rules!`: the reason that the message shows after the key and where
//! its value came from), which reads the field's type and then checks its value.
//!
//! What takes more than that: a platform environment alias (`DATABASE_URL`, `REDIS_URL`, ...) is
//! one more arm in `sources::classify`; a key whose value must never be echoed in messages, one
//! more arm in `Key::is_sensitive`; a rule across several keys, a few lines in `build.rs`; a
//! top-level key (outside any section), a field of `TopLevel` (in this file); a section, its name
//! in `key.rs`, its struct and its field of `Settings` here, and a line each in `schema::sections`
//! and `build::settings`.

mod auth_values;
mod build;
mod choices;
mod de;
mod duration;
mod error;
mod key;
mod load;
mod password_validators;
mod rate;
mod raw;
mod schema;
mod secret;
mod serving;
mod signing;
mod sources;
mod validate;
mod value_error;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use smart_default::SmartDefault;

pub use auth_values::{throttle_scope, VerifyingKey};
pub use choices::{
    Algorithm, AuthenticationClass, PermissionClass, SameSite, ThrottleClass, TokenClass,
    UnknownChoice, UserClaim, UserIdField,
};
pub use error::{Origin, SettingsError};
pub use password_validators::{PasswordValidator, UserAttribute};
pub use rate::Rate;
pub use secret::{redact_url, Secret, SecretUrl};
pub use serving::{LogDestination, TrustedProxy};

/// True for a secret that is no secret: a Django "django-insecure-" key, a dictionary word, a
/// placeholder such as "change-me", or fewer than 5 distinct characters. For `manage check`.
pub fn is_insecure_secret(secret: &Secret) -> bool {
    validate::is_placeholder(secret.expose())
}

/// Parses a duration as the settings do: seconds (`"30"`, `"1.5"`) or text (`"5m"`, `"1h 30m"`).
/// For command-line flags that mirror duration settings.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    duration::parse(text)
}

/// Every setting, after defaults, file and environment have been merged and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `SECRET_KEY`: required; also the JWT signing key unless `SIMPLE_JWT.SIGNING_KEY` is set.
    pub secret_key: Secret,
    /// `DEBUG`: relaxes the weak-secret check to a warning.
    pub debug: bool,
    /// `[REST_FRAMEWORK]`
    pub rest_framework: RestFramework,
    /// `[SIMPLE_JWT]`
    pub simple_jwt: SimpleJwt,
    /// `[DATABASES]`
    pub databases: Databases,
    /// `[SERVER]`
    pub server: Server,
    /// `[PASSWORDS]`
    pub passwords: Passwords,
    /// `[CACHES]`
    pub caches: Caches,
    /// `[BRUTE_FORCE]`
    pub brute_force: BruteForce,
    /// `AUTH_PASSWORD_VALIDATORS`, default the four of Django's `startproject` template.
    pub auth_password_validators: Vec<PasswordValidator>,
    /// `[REST_AUTH]`: dj-rest-auth's JWT cookie settings.
    pub rest_auth: RestAuth,
    /// `CSRF_TRUSTED_ORIGINS` (Django's): origins besides the request's own host that may make
    /// cookie-authenticated unsafe requests, e.g. `https://app.example.com`, `https://*.example.com`.
    pub csrf_trusted_origins: Vec<String>,
}

/// The keys outside any section.
#[derive(Deserialize, SmartDefault)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields, default)]
pub(crate) struct TopLevel {
    /// Read first, by hand: an unset SECRET_KEY is reported before any other top-level problem.
    #[serde(deserialize_with = "by_hand")]
    secret_key: Option<String>,
    debug: bool,
    #[serde(deserialize_with = "password_validators::parse")]
    #[default(PasswordValidator::django_defaults())]
    auth_password_validators: Vec<PasswordValidator>,
    #[serde(deserialize_with = "validate::csrf_trusted_origins")]
    csrf_trusted_origins: Vec<String>,
}

/// `deserialize_with` for a field that `build.rs` reads itself (its key is still a known key).
fn by_hand<'de, D: Deserializer<'de>, T>(_: D) -> Result<T, D::Error> {
    Err(serde::de::Error::custom("read in build.rs"))
}

/// `[REST_AUTH]`: dj-rest-auth's `JWT_AUTH_*` settings, which put the tokens in cookies. Off
/// unless a cookie is named. Defaults are dj-rest-auth's except where noted (safer ones).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, SmartDefault)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields, default)]
pub struct RestAuth {
    /// `JWT_AUTH_COOKIE`: the access token's cookie, default none (no access cookie).
    #[serde(deserialize_with = "validate::cookie")]
    pub jwt_auth_cookie: Option<String>,
    /// `JWT_AUTH_REFRESH_COOKIE`: the refresh token's cookie, default none (no refresh cookie).
    #[serde(deserialize_with = "validate::cookie")]
    pub jwt_auth_refresh_cookie: Option<String>,
    /// `JWT_AUTH_REFRESH_COOKIE_PATH`, default `/api/token/` (dj-rest-auth: `/`): the refresh
    /// cookie goes to the token views (refresh, logout) and nowhere else.
    #[serde(deserialize_with = "validate::cookie_path")]
    #[default("/api/token/".to_owned())]
    pub jwt_auth_refresh_cookie_path: String,
    /// `JWT_AUTH_SECURE`, default true (dj-rest-auth: false): cookies only over HTTPS.
    #[default(true)]
    pub jwt_auth_secure: bool,
    /// `JWT_AUTH_HTTPONLY`, default true: scripts cannot read the token cookies, and the refresh
    /// token is left out of response bodies when it travels in its cookie.
    #[default(true)]
    pub jwt_auth_httponly: bool,
    /// `JWT_AUTH_SAMESITE`, default `Lax`.
    #[default(SameSite::Lax)]
    pub jwt_auth_samesite: SameSite,
    /// `JWT_AUTH_COOKIE_DOMAIN`, default none (the cookies belong to the host that set them).
    #[serde(deserialize_with = "validate::cookie_domain")]
    pub jwt_auth_cookie_domain: Option<String>,
    /// `JWT_AUTH_COOKIE_USE_CSRF`, default true (dj-rest-auth: false): a request authenticated by
    /// a cookie must pass Django's CSRF check on unsafe methods.
    #[default(true)]
    pub jwt_auth_cookie_use_csrf: bool,
    /// `JWT_AUTH_COOKIE_ENFORCE_CSRF_ON_UNAUTHENTICATED`, default false: CSRF checks even on
    /// unsafe requests without any token cookie.
    pub jwt_auth_cookie_enforce_csrf_on_unauthenticated: bool,
    /// `JWT_AUTH_RETURN_EXPIRATION`, default false: login and refresh answers also carry
    /// `access_expiration` / `refresh_expiration`.
    pub jwt_auth_return_expiration: bool,
}

impl RestAuth {
    /// Whether tokens travel in cookies at all (either cookie is named).
    pub fn uses_cookies(&self) -> bool {
        self.jwt_auth_cookie.is_some() || self.jwt_auth_refresh_cookie.is_some()
    }
}

/// `[REST_FRAMEWORK]`: the subset of DRF's settings this server honours.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, SmartDefault)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields, default)]
pub struct RestFramework {
    /// `DEFAULT_AUTHENTICATION_CLASSES`, default `[JWTAuthentication]` (what simplejwt's docs install).
    #[default(_code = r#"vec![AuthenticationClass::JwtAuthentication]"#)]
    pub default_authentication_classes: Vec<AuthenticationClass>,
    /// `DEFAULT_PERMISSION_CLASSES`, default `[AllowAny]` (DRF's own default).
    #[default(_code = r#"vec![PermissionClass::AllowAny]"#)]
    pub default_permission_classes: Vec<PermissionClass>,
    /// `DEFAULT_THROTTLE_CLASSES`, default none (DRF's default).
    pub default_throttle_classes: Vec<ThrottleClass>,
    /// `DEFAULT_THROTTLE_RATES`: scope (`anon`, `user`, `login`) to rate; `None` is DRF's `None`
    /// (that scope is not throttled). Every configured class must find its scope here.
    /// Default: DRF's, the scopes exist, unthrottled.
    #[serde(deserialize_with = "auth_values::throttle_rates")]
    #[default([("anon".to_owned(), None), ("user".to_owned(), None)].into_iter().collect())]
    pub default_throttle_rates: BTreeMap<String, Option<Rate>>,
}

/// `[SIMPLE_JWT]`: djangorestframework-simplejwt's settings, same names and defaults. Its
/// `Default` signs with an empty key: build it with [`SimpleJwt::with_signing_key`].
#[derive(Debug, Clone, PartialEq, Deserialize, SmartDefault)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields, default)]
pub struct SimpleJwt {
    /// `ACCESS_TOKEN_LIFETIME`, default 5 minutes.
    #[default(Duration::from_secs(5 * 60))]
    pub access_token_lifetime: Duration,
    /// `REFRESH_TOKEN_LIFETIME`, default 1 day.
    #[default(Duration::from_secs(24 * 60 * 60))]
    pub refresh_token_lifetime: Duration,
    /// `ROTATE_REFRESH_TOKENS`, default false.
    pub rotate_refresh_tokens: bool,
    /// `BLACKLIST_AFTER_ROTATION`, default false.
    pub blacklist_after_rotation: bool,
    /// `UPDATE_LAST_LOGIN`, default false.
    pub update_last_login: bool,
    /// `ALGORITHM`, default HS256.
    #[default(Algorithm::HS256)]
    pub algorithm: Algorithm,
    /// `SIGNING_KEY`, default `SECRET_KEY`. A PEM private key for non-HMAC algorithms.
    #[serde(deserialize_with = "by_hand")]
    #[default(Secret::new(String::new()))]
    pub signing_key: Secret,
    /// `VERIFYING_KEY`: PEM public key, required for non-HMAC algorithms. Default none.
    #[serde(deserialize_with = "by_hand")]
    pub verifying_key: Option<String>,
    /// `AUDIENCE`: one or several `aud` values. Default none.
    #[serde(deserialize_with = "audience")]
    pub audience: Option<Vec<String>>,
    /// `ISSUER`: the `iss` claim. Default none.
    pub issuer: Option<String>,
    /// `JWK_URL`: verify tokens against this JWKS (another issuer's) instead of VERIFYING_KEY.
    #[serde(deserialize_with = "by_hand")]
    pub jwk_url: Option<SecretUrl>,
    /// `LEEWAY`: clock skew tolerated when checking `exp`/`nbf`. Default 0.
    pub leeway: Duration,
    /// `AUTH_HEADER_TYPES`, default `["Bearer"]`; never empty.
    #[serde(deserialize_with = "validate::auth_header_types")]
    #[default(_code = r#"vec!["Bearer".to_owned()]"#)]
    pub auth_header_types: Vec<String>,
    /// `AUTH_HEADER_NAME`, default `HTTP_AUTHORIZATION` (Django `request.META` spelling).
    #[serde(deserialize_with = "validate::auth_header_name")]
    #[default("HTTP_AUTHORIZATION".to_owned())]
    pub auth_header_name: String,
    /// `USER_ID_FIELD`, default `id`.
    #[default(UserIdField::Id)]
    pub user_id_field: UserIdField,
    /// `USER_ID_CLAIM`, default `user_id`.
    #[serde(deserialize_with = "validate::not_empty")]
    #[default("user_id".to_owned())]
    pub user_id_claim: String,
    /// `AUTH_TOKEN_CLASSES`: token kinds that authenticate requests, default `[AccessToken]`.
    #[serde(deserialize_with = "validate::auth_token_classes")]
    #[default(_code = r#"vec![TokenClass::AccessToken]"#)]
    pub auth_token_classes: Vec<TokenClass>,
    /// `TOKEN_TYPE_CLAIM`, default `token_type`.
    #[serde(deserialize_with = "validate::not_empty")]
    #[default("token_type".to_owned())]
    pub token_type_claim: String,
    /// `JTI_CLAIM`, default `jti`.
    #[serde(deserialize_with = "validate::not_empty")]
    #[default("jti".to_owned())]
    pub jti_claim: String,
    /// `SLIDING_TOKEN_REFRESH_EXP_CLAIM`, default `refresh_exp`.
    #[serde(deserialize_with = "validate::not_empty")]
    #[default("refresh_exp".to_owned())]
    pub sliding_token_refresh_exp_claim: String,
    /// `SLIDING_TOKEN_LIFETIME`, default 5 minutes.
    #[default(Duration::from_secs(5 * 60))]
    pub sliding_token_lifetime: Duration,
    /// `SLIDING_TOKEN_REFRESH_LIFETIME`, default 1 day.
    #[default(Duration::from_secs(24 * 60 * 60))]
    pub sliding_token_refresh_lifetime: Duration,
    /// `CHECK_REVOKE_TOKEN`, default false: tokens carry a hash of the password hash and die
    /// when the password changes.
    pub check_revoke_token: bool,
    /// `REVOKE_TOKEN_CLAIM`, default `hash_password`.
    #[serde(deserialize_with = "validate::not_empty")]
    #[default("hash_password".to_owned())]
    pub revoke_token_claim: String,
    /// `CHECK_USER_IS_ACTIVE`, default true.
    #[default(true)]
    pub check_user_is_active: bool,
    // Ours from here on (no simplejwt equivalent): see docs/auth-settings.md.
    /// `TOKEN_USER_CLAIMS` (ours): user fields copied into every token, default none.
    pub token_user_claims: Vec<UserClaim>,
    /// `KEY_ID` (ours): the `kid` of the signing key; when set, tokens carry it in their header.
    pub key_id: Option<String>,
    /// `VERIFYING_KEYS` (ours): earlier public keys still accepted and published, for rotation.
    #[serde(deserialize_with = "auth_values::verifying_keys")]
    pub verifying_keys: Vec<VerifyingKey>,
    /// `REFRESH_TOKEN_REUSE_DETECTION` (ours), default true: presenting a refresh token that was
    /// already rotated revokes every refresh token of its login (RFC 9700 §4.14). Takes effect
    /// only with ROTATE_REFRESH_TOKENS and BLACKLIST_AFTER_ROTATION: see `detects_refresh_reuse`.
    #[default(true)]
    pub refresh_token_reuse_detection: bool,
    /// `REFRESH_TOKEN_REUSE_INTERVAL` (ours), default 10 s (GoTrue's REFRESH_TOKEN_REUSE_INTERVAL):
    /// a reuse this soon after the rotation is refused without revoking the login, so a client's
    /// honest double-submit (or a race of its own tabs) does not log it out.
    #[default(Duration::from_secs(10))]
    pub refresh_token_reuse_interval: Duration,
}

impl SimpleJwt {
    /// simplejwt's defaults, signing with `signing_key` (simplejwt defaults it to `SECRET_KEY`).
    pub fn with_signing_key(signing_key: Secret) -> Self {
        Self {
            signing_key,
            ..Self::default()
        }
    }

    /// Whether a reused refresh token revokes its family: only rotation that blacklists leaves
    /// a record of which tokens were already used.
    pub fn detects_refresh_reuse(&self) -> bool {
        self.refresh_token_reuse_detection
            && self.rotate_refresh_tokens
            && self.blacklist_after_rotation
    }

    /// The HTTP header to read, from Django's `META` spelling:
    /// `HTTP_AUTHORIZATION` -> `authorization`, `HTTP_X_AUTH` -> `x-auth`.
    pub fn auth_header(&self) -> String {
        validate::header_from_meta(&self.auth_header_name)
    }
}

/// `AUDIENCE`: one or several `aud` values; an empty string or list means none, like
/// simplejwt's `None`.
fn audience<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let list: Vec<String> = Vec::<String>::deserialize(d)?
        .into_iter()
        .filter(|a| !a.trim().is_empty())
        .collect();
    Ok(Some(list).filter(|list| !list.is_empty()))
}

/// `[DATABASES]`: one database, given as a URL (dj-database-url style) instead of Django's dict.
#[derive(Clone, PartialEq, Eq, Deserialize, SmartDefault)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields, default)]
pub struct Databases {
    /// `URL`, default `sqlite:///db.sqlite3`; the `DATABASE_URL` environment variable overrides it.
    #[serde(deserialize_with = "validate::not_empty")]
    #[default("sqlite:///db.sqlite3".to_owned())]
    pub url: String,
    /// `POOL_SIZE`, default 10, at least 1.
    #[serde(deserialize_with = "validate::at_least_one")]
    #[default(10)]
    pub pool_size: u32,
    /// `CONNECT_TIMEOUT`, default 5 seconds.
    #[default(Duration::from_secs(5))]
    pub connect_timeout: Duration,
    /// `QUERY_TIMEOUT`, default 10 seconds: PostgreSQL only, the longest a request's queries may
    /// take before the connection is given up (see `users::deadline`).
    #[serde(deserialize_with = "validate::query_timeout")]
    #[default(Duration::from_secs(10))]
    pub query_timeout: Duration,
    /// `SQLITE_SYNCHRONOUS`, default `FULL`: SQLite only, its `PRAGMA synchronous`.
    #[default(SqliteSynchronous::Full)]
    pub sqlite_synchronous: SqliteSynchronous,
}

/// `DATABASES.SQLITE_SYNCHRONOUS`: when SQLite syncs its write-ahead log to the disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SqliteSynchronous {
    /// At every commit: an answered rotation or logout survives a power loss (SQLite's default).
    #[default]
    Full,
    /// At checkpoints only: a power loss (not a crash of the process) can undo the last commits.
    Normal,
}

impl SqliteSynchronous {
    /// The pragma's value, as SQLite spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SqliteSynchronous::Full => "FULL",
            SqliteSynchronous::Normal => "NORMAL",
        }
    }
}

/// `FULL` or `NORMAL`, in any case (as SQLite takes them); `OFF` and `EXTRA` are not offered.
impl<'de> Deserialize<'de> for SqliteSynchronous {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match text.trim().to_ascii_uppercase().as_str() {
            "FULL" => Ok(SqliteSynchronous::Full),
            "NORMAL" => Ok(SqliteSynchronous::Normal),
            _ => Err(serde::de::Error::custom(format!("{text:?} is not FULL or NORMAL (FULL, the default, keeps every answered write through a power loss)"))),
        }
    }
}

// Hand-written so that `{:?}` of the settings never prints a database password.
impl fmt::Debug for Databases {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Databases")
            .field("url", &secret::redact_url_password(&self.url))
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("query_timeout", &self.query_timeout)
            .field("sqlite_synchronous", &self.sqlite_synchronous)
            .finish()
    }
}

/// `[SERVER]`: how the HTTP server listens, its worker processes, timeouts and logs. Names and
/// defaults follow gunicorn's where it has the same setting.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, SmartDefault)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields, default)]
pub struct Server {
    /// `BIND`: `host:port` or `unix:/path.sock` addresses, default `["127.0.0.1:8000"]`;
    /// `PORT=N` means `["0.0.0.0:N"]`.
    #[serde(deserialize_with = "validate::bind")]
    #[default(_code = r#"vec!["127.0.0.1:8000".to_owned()]"#)]
    pub bind: Vec<String>,
    /// `WORKERS`: worker processes, default none (one per core); `WEB_CONCURRENCY` also sets it.
    #[serde(deserialize_with = "workers")]
    pub workers: Option<usize>,
    /// `THREADS`: request-handling threads in each worker process, default 1.
    #[serde(deserialize_with = "validate::at_least_one")]
    #[default(1)]
    pub threads: usize,
    /// `MAX_BODY_SIZE` in bytes, default 2.5 MiB (Django's `DATA_UPLOAD_MAX_MEMORY_SIZE`).
    #[serde(deserialize_with = "validate::at_least_one")]
    #[default(2_621_440)]
    pub max_body_size: usize,
    /// `LIMIT_REQUEST_LINE`: the longest request line (`GET /path?query HTTP/1.1`) in bytes,
    /// default 4094; longer ones get 414. 0 = no limit; at most 8190 (gunicorn's).
    #[serde(deserialize_with = "validate::limit_request_line")]
    #[default(4094)]
    pub limit_request_line: usize,
    /// `LIMIT_REQUEST_FIELDS`: the most header fields a request may have, default 100; more get
    /// 431. 0 = gunicorn's maximum, 32768.
    #[serde(deserialize_with = "validate::limit_request_fields")]
    #[default(100)]
    pub limit_request_fields: usize,
    /// `LIMIT_REQUEST_FIELD_SIZE`: the longest header field (`Name: value` and its CRLF) in
    /// bytes, default 8190; longer ones get 431. 0 = no limit.
    #[default(8190)]
    pub limit_request_field_size: usize,
    /// `TIMEOUT`: a request running longer is answered 503 and abandoned, a worker process sending
    /// no heartbeat that long is killed and replaced; default 30 s, 0 = none.
    #[default(Duration::from_secs(30))]
    pub timeout: Duration,
    /// `GRACEFUL_TIMEOUT`: how long a stopping worker may finish its requests, default 30 s.
    #[default(Duration::from_secs(30))]
    pub graceful_timeout: Duration,
    /// `KEEP_ALIVE`: how long an idle client connection stays open, default 5 s, 0 = close.
    #[default(Duration::from_secs(5))]
    pub keep_alive: Duration,
    /// `TRUSTED_PROXIES`: peers whose X-Forwarded-For / X-Forwarded-Proto are believed; default
    /// `["127.0.0.1", "::1"]` (gunicorn's). Unix-socket peers are always trusted.
    #[serde(deserialize_with = "serving::trusted_proxies")]
    #[default(serving::default_trusted_proxies())]
    pub trusted_proxies: Vec<TrustedProxy>,
    /// `ACCESS_LOG`: `"-"` (stdout, the default), a file path, or `""` for none.
    #[default(LogDestination::Std)]
    pub access_log: LogDestination,
    /// `ERROR_LOG`: `"-"` (stderr, the default), a file path, or `""` for none.
    #[default(LogDestination::Std)]
    pub error_log: LogDestination,
}

impl Server {
    /// gunicorn's largest `limit_request_line` (`MAX_REQUEST_LINE`).
    pub const MAX_REQUEST_LINE: usize = validate::MAX_REQUEST_LINE;
    /// gunicorn's largest `limit_request_fields` (`MAX_HEADERS`), and what 0 means.
    pub const MAX_REQUEST_FIELDS: usize = validate::MAX_REQUEST_FIELDS;
}

/// `WORKERS`: at least 1 (an empty value is not a number here, unlike other optional keys).
fn workers<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    let n = usize::deserialize(d)?;
    validate::positive(&n).map_err(serde::de::Error::custom)?;
    Ok(Some(n))
}

/// `[PASSWORDS]`: password hashing cost.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, SmartDefault)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields, default)]
pub struct Passwords {
    /// `BCRYPT_ROUNDS`: bcrypt cost, default 12 (Django's `BCryptSHA256PasswordHasher`), 4..=16.
    #[serde(deserialize_with = "validate::bcrypt_rounds")]
    #[default(12)]
    pub bcrypt_rounds: u32,
}

/// `[CACHES]`: where throttle counters live (Django's `CACHES["default"]`, given as a URL).
#[derive(Clone, PartialEq, Eq, Deserialize, SmartDefault)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields, default)]
pub struct Caches {
    /// `URL`, default `locmem://` (in-process); `redis://host:6379/0` shares counters between
    /// instances. The `CACHE_URL` environment variable overrides it, and `REDIS_URL` (Heroku
    /// Redis') does when neither `CACHE_URL` nor `CACHES__URL` is set.
    #[serde(deserialize_with = "validate::cache_url")]
    #[default("locmem://".to_owned())]
    pub url: String,
    /// `KEY_PREFIX`, default empty: prepended to every cache key (Django's `KEY_PREFIX`).
    pub key_prefix: String,
    /// `USER_TTL`, default 1 second, at most a minute: how long a worker process may reuse a user
    /// row it loaded to authenticate a token (JWTAuthentication's `get_user`), so a burst of
    /// requests costs one lookup. A deactivation, password change or deletion made elsewhere
    /// takes effect within this time. Zero looks the user up on every request, as DRF does.
    #[serde(deserialize_with = "validate::user_ttl")]
    #[default(Duration::from_secs(1))]
    pub user_ttl: Duration,
    /// `TLS_VERIFY`, default true: check a `rediss://` server's certificate. Heroku Redis serves
    /// a self-signed one, so it needs `false` (the connection is still encrypted).
    #[default(true)]
    pub tls_verify: bool,
}

// Hand-written so that `{:?}` of the settings never prints a Redis password.
impl fmt::Debug for Caches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caches")
            .field("url", &secret::redact_url_password(&self.url))
            .field("key_prefix", &self.key_prefix)
            .field("user_ttl", &self.user_ttl)
            .field("tls_verify", &self.tls_verify)
            .finish()
    }
}

/// `[BRUTE_FORCE]`: failed-login counters per username and per client address, with Keycloak's
/// brute-force detection settings (its names in our spelling) and its defaults where it has them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, SmartDefault)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields, default)]
pub struct BruteForce {
    /// `ENABLED`, default true (Keycloak: `bruteForceProtected`, off by default there).
    #[default(true)]
    pub enabled: bool,
    /// `FAILURE_FACTOR`, default 5 (Keycloak's `failureFactor`, 30 there): failures of one
    /// username before it is locked; at least 1.
    #[serde(deserialize_with = "validate::failure_factor")]
    #[default(5)]
    pub failure_factor: u32,
    /// `ADDRESS_FAILURE_FACTOR`, default 50 (ours): failures from one client address, whatever
    /// the usernames, before the address is locked; 0 turns the per-address counter off.
    #[default(50)]
    pub address_failure_factor: u32,
    /// `WAIT_INCREMENT`, default 1 minute (Keycloak's `waitIncrementSeconds`): the lock after a
    /// failure is this times failures / factor, so it grows with every further factor failures.
    #[serde(deserialize_with = "validate::lockout_duration")]
    #[default(Duration::from_secs(60))]
    pub wait_increment: Duration,
    /// `MAX_WAIT`, default 15 minutes (Keycloak's `maxFailureWaitSeconds`): the longest lock.
    #[serde(deserialize_with = "validate::lockout_duration")]
    #[default(Duration::from_secs(15 * 60))]
    pub max_wait: Duration,
    /// `FAILURE_RESET_TIME`, default 12 hours (Keycloak's `maxDeltaTimeSeconds`): counters start
    /// again from zero this long after the last counted attempt.
    #[serde(deserialize_with = "validate::lockout_duration")]
    #[default(Duration::from_secs(12 * 60 * 60))]
    pub failure_reset_time: Duration,
}
