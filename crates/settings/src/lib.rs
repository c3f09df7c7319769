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
//! Each section below is declared with `section!`, one entry per key, its name spelled once:
//!
//! ```text
//! /// `SQLITE_SYNCHRONOUS`, default `NORMAL`: what it does, in a sentence.
//! sqlite_synchronous: String = "NORMAL".to_owned(),
//!     "SQLITE_SYNCHRONOUS", check |s| validate::not_empty(s);
//! ```
//!
//! That entry is the public field, its built-in default, the key (in the file `[DATABASES]
//! SQLITE_SYNCHRONOUS = ...`, in the environment `DATABASES__SQLITE_SYNCHRONOUS=...`, in the
//! "valid keys" lists and the "did you mean" hints) and an optional rule (`validate::*`: a
//! reason that the message shows after the key and where its value came from). Place it where
//! the key should appear in the "valid keys" list. The conversion follows the field's type, as
//! serde's `Deserialize` would: `value::FromEntry` is implemented for `bool`, `String`,
//! `Option<String>` (empty = unset), `Vec<String>` (one string = a list of one), `u32`, `usize`,
//! `Duration` (seconds or "5m"), every choice enum and `Vec` of it (declared with `choices!` in
//! `choices.rs`), and the few composite values; a new kind of value is one `from_entry!` line.
//!
//! What takes more than that entry: a platform environment alias (`DATABASE_URL`, `REDIS_URL`,
//! ...) is one more arm in `sources::classify`; a key whose value must never be echoed in
//! messages, one more arm in `Key::is_sensitive`; a rule across several keys, a few lines in
//! `build.rs`; a top-level key (outside any section), `schema::TOP_LEVEL` and `build.rs`.

mod auth_values;
mod build;
mod choices;
mod duration;
mod error;
mod load;
mod password_validators;
mod rate;
mod schema;
mod secret;
mod section;
mod serving;
mod sources;
mod validate;
mod value;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

pub use auth_values::throttle_scope;
pub use choices::{
    Algorithm, AuthenticationClass, PermissionClass, SameSite, ThrottleClass, TokenClass,
    UnknownChoice, UserClaim, UserIdField,
};
pub use error::{Origin, SettingsError};
pub use password_validators::{PasswordValidator, UserAttribute};
pub use rate::Rate;
pub use secret::{redact_url, Secret, SecretUrl};
pub use serving::{LogDestination, TrustedProxy};

use section::section;

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

section! {
    /// `[REST_AUTH]`: dj-rest-auth's `JWT_AUTH_*` settings, which put the tokens in cookies. Off
    /// unless a cookie is named. Defaults are dj-rest-auth's except where noted (safer ones).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RestAuth in "REST_AUTH" {
        /// `JWT_AUTH_COOKIE`: the access token's cookie, default none (no access cookie).
        jwt_auth_cookie: Option<String> = None, "JWT_AUTH_COOKIE", check build::cookie_name;
        /// `JWT_AUTH_REFRESH_COOKIE`: the refresh token's cookie, default none (no refresh cookie).
        jwt_auth_refresh_cookie: Option<String> = None,
            "JWT_AUTH_REFRESH_COOKIE", check build::cookie_name;
        /// `JWT_AUTH_REFRESH_COOKIE_PATH`, default `/api/token/` (dj-rest-auth: `/`): the refresh
        /// cookie goes to the token views (refresh, logout) and nowhere else.
        jwt_auth_refresh_cookie_path: String = "/api/token/".to_owned(),
            "JWT_AUTH_REFRESH_COOKIE_PATH", check |path| validate::cookie_path(path);
        /// `JWT_AUTH_SECURE`, default true (dj-rest-auth: false): cookies only over HTTPS.
        jwt_auth_secure: bool = true, "JWT_AUTH_SECURE";
        /// `JWT_AUTH_HTTPONLY`, default true: scripts cannot read the token cookies, and the refresh
        /// token is left out of response bodies when it travels in its cookie.
        jwt_auth_httponly: bool = true, "JWT_AUTH_HTTPONLY";
        /// `JWT_AUTH_SAMESITE`, default `Lax`.
        jwt_auth_samesite: SameSite = SameSite::Lax, "JWT_AUTH_SAMESITE";
        /// `JWT_AUTH_COOKIE_DOMAIN`, default none (the cookies belong to the host that set them).
        jwt_auth_cookie_domain: Option<String> = None,
            "JWT_AUTH_COOKIE_DOMAIN",
            check |domain| domain.as_deref().map_or(Ok(()), validate::cookie_domain);
        /// `JWT_AUTH_COOKIE_USE_CSRF`, default true (dj-rest-auth: false): a request authenticated by
        /// a cookie must pass Django's CSRF check on unsafe methods.
        jwt_auth_cookie_use_csrf: bool = true, "JWT_AUTH_COOKIE_USE_CSRF";
        /// `JWT_AUTH_COOKIE_ENFORCE_CSRF_ON_UNAUTHENTICATED`, default false: CSRF checks even on
        /// unsafe requests without any token cookie.
        jwt_auth_cookie_enforce_csrf_on_unauthenticated: bool = false,
            "JWT_AUTH_COOKIE_ENFORCE_CSRF_ON_UNAUTHENTICATED";
        /// `JWT_AUTH_RETURN_EXPIRATION`, default false: login and refresh answers also carry
        /// `access_expiration` / `refresh_expiration`.
        jwt_auth_return_expiration: bool = false, "JWT_AUTH_RETURN_EXPIRATION";
    }
}

impl RestAuth {
    /// Whether tokens travel in cookies at all (either cookie is named).
    pub fn uses_cookies(&self) -> bool {
        self.jwt_auth_cookie.is_some() || self.jwt_auth_refresh_cookie.is_some()
    }
}

section! {
    /// `[REST_FRAMEWORK]`: the subset of DRF's settings this server honours.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RestFramework in "REST_FRAMEWORK" {
        /// `DEFAULT_AUTHENTICATION_CLASSES`, default `[JWTAuthentication]` (what simplejwt's docs install).
        default_authentication_classes: Vec<AuthenticationClass> =
            vec![AuthenticationClass::JwtAuthentication],
            "DEFAULT_AUTHENTICATION_CLASSES";
        /// `DEFAULT_PERMISSION_CLASSES`, default `[AllowAny]` (DRF's own default).
        default_permission_classes: Vec<PermissionClass> = vec![PermissionClass::AllowAny],
            "DEFAULT_PERMISSION_CLASSES";
        /// `DEFAULT_THROTTLE_CLASSES`, default none (DRF's default).
        default_throttle_classes: Vec<ThrottleClass> = Vec::new(), "DEFAULT_THROTTLE_CLASSES";
        /// `DEFAULT_THROTTLE_RATES`: scope (`anon`, `user`, `login`) to rate; `None` is DRF's `None`
        /// (that scope is not throttled). Every configured class must find its scope here.
        /// Default: DRF's, the scopes exist, unthrottled.
        default_throttle_rates: BTreeMap<String, Option<Rate>> =
            [("anon".to_owned(), None), ("user".to_owned(), None)].into_iter().collect(),
            "DEFAULT_THROTTLE_RATES";
    }
}

section! {
    /// `[SIMPLE_JWT]`: djangorestframework-simplejwt's settings, same names and defaults.
    #[derive(Debug, Clone, PartialEq)]
    pub struct SimpleJwt in "SIMPLE_JWT" {
        /// `ACCESS_TOKEN_LIFETIME`, default 5 minutes.
        access_token_lifetime: Duration = Duration::from_secs(5 * 60), "ACCESS_TOKEN_LIFETIME";
        /// `REFRESH_TOKEN_LIFETIME`, default 1 day.
        refresh_token_lifetime: Duration = Duration::from_secs(24 * 60 * 60),
            "REFRESH_TOKEN_LIFETIME";
        /// `ROTATE_REFRESH_TOKENS`, default false.
        rotate_refresh_tokens: bool = false, "ROTATE_REFRESH_TOKENS";
        /// `BLACKLIST_AFTER_ROTATION`, default false.
        blacklist_after_rotation: bool = false, "BLACKLIST_AFTER_ROTATION";
        /// `UPDATE_LAST_LOGIN`, default false.
        update_last_login: bool = false, "UPDATE_LAST_LOGIN";
        /// `ALGORITHM`, default HS256.
        algorithm: Algorithm = Algorithm::HS256, "ALGORITHM";
        /// `SIGNING_KEY`, default `SECRET_KEY`. A PEM private key for non-HMAC algorithms.
        signing_key: Secret = Secret::new(String::new()), "SIGNING_KEY", by hand;
        /// `VERIFYING_KEY`: PEM public key, required for non-HMAC algorithms. Default none.
        verifying_key: Option<String> = None, "VERIFYING_KEY", by hand;
        /// `AUDIENCE`: one or several `aud` values. Default none.
        audience: Option<Vec<String>> = None, "AUDIENCE";
        /// `ISSUER`: the `iss` claim. Default none.
        issuer: Option<String> = None, "ISSUER";
        /// `JWK_URL`: verify tokens against this JWKS (another issuer's) instead of VERIFYING_KEY.
        jwk_url: Option<SecretUrl> = None, "JWK_URL", by hand;
        /// `LEEWAY`: clock skew tolerated when checking `exp`/`nbf`. Default 0.
        leeway: Duration = Duration::ZERO, "LEEWAY";
        /// `AUTH_HEADER_TYPES`, default `["Bearer"]`; never empty.
        auth_header_types: Vec<String> = vec!["Bearer".to_owned()],
            "AUTH_HEADER_TYPES", check |types| validate::auth_header_types(types);
        /// `AUTH_HEADER_NAME`, default `HTTP_AUTHORIZATION` (Django `request.META` spelling).
        auth_header_name: String = "HTTP_AUTHORIZATION".to_owned(),
            "AUTH_HEADER_NAME",
            check |name| validate::auth_header_name(name, &header_from_meta(name));
        /// `USER_ID_FIELD`, default `id`.
        user_id_field: UserIdField = UserIdField::Id, "USER_ID_FIELD";
        /// `USER_ID_CLAIM`, default `user_id`.
        user_id_claim: String = "user_id".to_owned(),
            "USER_ID_CLAIM", check |claim| validate::not_empty(claim);
        /// `AUTH_TOKEN_CLASSES`: token kinds that authenticate requests, default `[AccessToken]`.
        auth_token_classes: Vec<TokenClass> = vec![TokenClass::AccessToken],
            "AUTH_TOKEN_CLASSES",
            check |classes| validate::not_empty_list(classes, "[\"AccessToken\"]");
        /// `TOKEN_TYPE_CLAIM`, default `token_type`.
        token_type_claim: String = "token_type".to_owned(),
            "TOKEN_TYPE_CLAIM", check |claim| validate::not_empty(claim);
        /// `JTI_CLAIM`, default `jti`.
        jti_claim: String = "jti".to_owned(), "JTI_CLAIM", check |claim| validate::not_empty(claim);
        /// `SLIDING_TOKEN_REFRESH_EXP_CLAIM`, default `refresh_exp`.
        sliding_token_refresh_exp_claim: String = "refresh_exp".to_owned(),
            "SLIDING_TOKEN_REFRESH_EXP_CLAIM", check |claim| validate::not_empty(claim);
        /// `SLIDING_TOKEN_LIFETIME`, default 5 minutes.
        sliding_token_lifetime: Duration = Duration::from_secs(5 * 60), "SLIDING_TOKEN_LIFETIME";
        /// `SLIDING_TOKEN_REFRESH_LIFETIME`, default 1 day.
        sliding_token_refresh_lifetime: Duration = Duration::from_secs(24 * 60 * 60),
            "SLIDING_TOKEN_REFRESH_LIFETIME";
        /// `CHECK_REVOKE_TOKEN`, default false: tokens carry a hash of the password hash and die
        /// when the password changes.
        check_revoke_token: bool = false, "CHECK_REVOKE_TOKEN";
        /// `REVOKE_TOKEN_CLAIM`, default `hash_password`.
        revoke_token_claim: String = "hash_password".to_owned(),
            "REVOKE_TOKEN_CLAIM", check |claim| validate::not_empty(claim);
        /// `CHECK_USER_IS_ACTIVE`, default true.
        check_user_is_active: bool = true, "CHECK_USER_IS_ACTIVE";
        // Ours from here on (no simplejwt equivalent): see docs/auth-settings.md.
        /// `TOKEN_USER_CLAIMS` (ours): user fields copied into every token, default none.
        token_user_claims: Vec<UserClaim> = Vec::new(), "TOKEN_USER_CLAIMS";
        /// `KEY_ID` (ours): the `kid` of the signing key; when set, tokens carry it in their header.
        key_id: Option<String> = None, "KEY_ID";
        /// `VERIFYING_KEYS` (ours): earlier public keys still accepted and published, for rotation.
        verifying_keys: Vec<VerifyingKey> = Vec::new(), "VERIFYING_KEYS";
        /// `REFRESH_TOKEN_REUSE_DETECTION` (ours), default true: presenting a refresh token that was
        /// already rotated revokes every refresh token of its login (RFC 9700 §4.14). Takes effect
        /// only with ROTATE_REFRESH_TOKENS and BLACKLIST_AFTER_ROTATION: see `detects_refresh_reuse`.
        refresh_token_reuse_detection: bool = true, "REFRESH_TOKEN_REUSE_DETECTION";
        /// `REFRESH_TOKEN_REUSE_INTERVAL` (ours), default 10 s (GoTrue's REFRESH_TOKEN_REUSE_INTERVAL):
        /// a reuse this soon after the rotation is refused without revoking the login, so a client's
        /// honest double-submit (or a race of its own tabs) does not log it out.
        refresh_token_reuse_interval: Duration = Duration::from_secs(10),
            "REFRESH_TOKEN_REUSE_INTERVAL";
    }
}

/// One `SIMPLE_JWT.VERIFYING_KEYS` entry: `{ KID = "2024-01", KEY = "<PEM or path>" }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    pub kid: String,
    /// PEM text of a public key (read from the file when a path was given).
    pub key: String,
}

impl SimpleJwt {
    /// simplejwt's defaults, signing with `signing_key` (simplejwt defaults it to `SECRET_KEY`).
    pub fn with_signing_key(signing_key: Secret) -> Self {
        Self {
            signing_key,
            ..Self::defaults()
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
        header_from_meta(&self.auth_header_name)
    }
}

/// Django `request.META` key to HTTP header name: strip `HTTP_`, `_` -> `-`, lower case.
fn header_from_meta(name: &str) -> String {
    let name = name.trim();
    let name = name.strip_prefix("HTTP_").unwrap_or(name);
    name.replace('_', "-").to_ascii_lowercase()
}

section! {
    /// `[DATABASES]`: one database, given as a URL (dj-database-url style) instead of Django's dict.
    #[derive(Clone, PartialEq, Eq)]
    pub struct Databases in "DATABASES" {
        /// `URL`, default `sqlite:///db.sqlite3`; the `DATABASE_URL` environment variable overrides it.
        url: String = "sqlite:///db.sqlite3".to_owned(),
            "URL", check |url| validate::not_empty(url);
        /// `POOL_SIZE`, default 10, at least 1.
        pool_size: u32 = 10, "POOL_SIZE", check |&n| validate::at_least_one(n);
        /// `CONNECT_TIMEOUT`, default 5 seconds.
        connect_timeout: Duration = Duration::from_secs(5), "CONNECT_TIMEOUT";
        /// `QUERY_TIMEOUT`, default 10 seconds: PostgreSQL only, the longest a request's queries may
        /// take before the connection is given up (see `users::deadline`).
        query_timeout: Duration = Duration::from_secs(10),
            "QUERY_TIMEOUT", check |d| validate::query_timeout(*d);
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
            .finish()
    }
}

section! {
    /// `[SERVER]`: how the HTTP server listens, its worker processes, timeouts and logs. Names and
    /// defaults follow gunicorn's where it has the same setting.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Server in "SERVER" {
        /// `BIND`: `host:port` or `unix:/path.sock` addresses, default `["127.0.0.1:8000"]`;
        /// `PORT=N` means `["0.0.0.0:N"]`.
        bind: Vec<String> = vec!["127.0.0.1:8000".to_owned()], "BIND", check |b| validate::bind(b);
        /// `WORKERS`: worker processes, default none (one per core); `WEB_CONCURRENCY` also sets it.
        workers: Option<usize> = None,
            "WORKERS", check |w| w.map_or(Ok(()), validate::at_least_one);
        /// `THREADS`: request-handling threads in each worker process, default 1.
        threads: usize = 1, "THREADS", check |&n| validate::at_least_one(n);
        /// `MAX_BODY_SIZE` in bytes, default 2.5 MiB (Django's `DATA_UPLOAD_MAX_MEMORY_SIZE`).
        max_body_size: usize = 2_621_440, "MAX_BODY_SIZE", check |&n| validate::at_least_one(n);
        /// `LIMIT_REQUEST_LINE`: the longest request line (`GET /path?query HTTP/1.1`) in bytes,
        /// default 4094; longer ones get 414. 0 = no limit; at most 8190 (gunicorn's).
        limit_request_line: usize = 4094,
            "LIMIT_REQUEST_LINE", check |&n| validate::at_most(n, Server::MAX_REQUEST_LINE);
        /// `LIMIT_REQUEST_FIELDS`: the most header fields a request may have, default 100; more get
        /// 431. 0 = gunicorn's maximum, 32768.
        limit_request_fields: usize = 100,
            "LIMIT_REQUEST_FIELDS", check |&n| validate::at_most(n, Server::MAX_REQUEST_FIELDS);
        /// `LIMIT_REQUEST_FIELD_SIZE`: the longest header field (`Name: value` and its CRLF) in
        /// bytes, default 8190; longer ones get 431. 0 = no limit.
        limit_request_field_size: usize = 8190, "LIMIT_REQUEST_FIELD_SIZE";
        /// `TIMEOUT`: a request running longer is answered 503 and abandoned, a worker process sending
        /// no heartbeat that long is killed and replaced; default 30 s, 0 = none.
        timeout: Duration = Duration::from_secs(30), "TIMEOUT";
        /// `GRACEFUL_TIMEOUT`: how long a stopping worker may finish its requests, default 30 s.
        graceful_timeout: Duration = Duration::from_secs(30), "GRACEFUL_TIMEOUT";
        /// `KEEP_ALIVE`: how long an idle client connection stays open, default 5 s, 0 = close.
        keep_alive: Duration = Duration::from_secs(5), "KEEP_ALIVE";
        /// `TRUSTED_PROXIES`: peers whose X-Forwarded-For / X-Forwarded-Proto are believed; default
        /// `["127.0.0.1", "::1"]` (gunicorn's). Unix-socket peers are always trusted.
        trusted_proxies: Vec<TrustedProxy> = serving::default_trusted_proxies(), "TRUSTED_PROXIES";
        /// `ACCESS_LOG`: `"-"` (stdout, the default), a file path, or `""` for none.
        access_log: LogDestination = LogDestination::Std, "ACCESS_LOG";
        /// `ERROR_LOG`: `"-"` (stderr, the default), a file path, or `""` for none.
        error_log: LogDestination = LogDestination::Std, "ERROR_LOG";
    }
}

impl Server {
    /// gunicorn's largest `limit_request_line` (`MAX_REQUEST_LINE`).
    pub const MAX_REQUEST_LINE: usize = 8190;
    /// gunicorn's largest `limit_request_fields` (`MAX_HEADERS`), and what 0 means.
    pub const MAX_REQUEST_FIELDS: usize = 32768;
}

section! {
    /// `[PASSWORDS]`: password hashing cost.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Passwords in "PASSWORDS" {
        /// `BCRYPT_ROUNDS`: bcrypt cost, default 12 (Django's `BCryptSHA256PasswordHasher`), 4..=16.
        bcrypt_rounds: u32 = 12, "BCRYPT_ROUNDS", check |&r| validate::bcrypt_rounds(r);
    }
}

section! {
    /// `[CACHES]`: where throttle counters live (Django's `CACHES["default"]`, given as a URL).
    #[derive(Clone, PartialEq, Eq)]
    pub struct Caches in "CACHES" {
        /// `URL`, default `locmem://` (in-process); `redis://host:6379/0` shares counters between
        /// instances. The `CACHE_URL` environment variable overrides it, and `REDIS_URL` (Heroku
        /// Redis') does when neither `CACHE_URL` nor `CACHES__URL` is set.
        url: String = "locmem://".to_owned(), "URL", check |url| build::cache_url(url);
        /// `KEY_PREFIX`, default empty: prepended to every cache key (Django's `KEY_PREFIX`).
        key_prefix: String = String::new(), "KEY_PREFIX";
        /// `USER_TTL`, default 1 second, at most a minute: how long a worker process may reuse a user
        /// row it loaded to authenticate a token (JWTAuthentication's `get_user`), so a burst of
        /// requests costs one lookup. A deactivation, password change or deletion made elsewhere
        /// takes effect within this time. Zero looks the user up on every request, as DRF does.
        user_ttl: Duration = Duration::from_secs(1), "USER_TTL", check build::user_ttl;
        /// `TLS_VERIFY`, default true: check a `rediss://` server's certificate. Heroku Redis serves
        /// a self-signed one, so it needs `false` (the connection is still encrypted).
        tls_verify: bool = true, "TLS_VERIFY";
    }
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

section! {
    /// `[BRUTE_FORCE]`: failed-login counters per username and per client address, with Keycloak's
    /// brute-force detection settings (its names in our spelling) and its defaults where it has them.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct BruteForce in "BRUTE_FORCE" {
        /// `ENABLED`, default true (Keycloak: `bruteForceProtected`, off by default there).
        enabled: bool = true, "ENABLED";
        /// `FAILURE_FACTOR`, default 5 (Keycloak's `failureFactor`, 30 there): failures of one
        /// username before it is locked; at least 1.
        failure_factor: u32 = 5, "FAILURE_FACTOR", check build::failure_factor;
        /// `ADDRESS_FAILURE_FACTOR`, default 50 (ours): failures from one client address, whatever
        /// the usernames, before the address is locked; 0 turns the per-address counter off.
        address_failure_factor: u32 = 50, "ADDRESS_FAILURE_FACTOR";
        /// `WAIT_INCREMENT`, default 1 minute (Keycloak's `waitIncrementSeconds`): the lock after a
        /// failure is this times failures / factor, so it grows with every further factor failures.
        wait_increment: Duration = Duration::from_secs(60),
            "WAIT_INCREMENT", check |d| validate::lockout_duration(*d);
        /// `MAX_WAIT`, default 15 minutes (Keycloak's `maxFailureWaitSeconds`): the longest lock.
        max_wait: Duration = Duration::from_secs(15 * 60),
            "MAX_WAIT", check |d| validate::lockout_duration(*d);
        /// `FAILURE_RESET_TIME`, default 12 hours (Keycloak's `maxDeltaTimeSeconds`): counters start
        /// again from zero this long after the last counted attempt.
        failure_reset_time: Duration = Duration::from_secs(12 * 60 * 60),
            "FAILURE_RESET_TIME", check |d| validate::lockout_duration(*d);
    }
}

/// The sections that have built-in defaults of their own (SIMPLE_JWT's signing key is SECRET_KEY).
macro_rules! default_from_defaults {
    ($($name:ident),*) => {
        $(impl Default for $name {
            fn default() -> Self {
                Self::defaults()
            }
        })*
    };
}
default_from_defaults!(
    RestAuth,
    RestFramework,
    Databases,
    Server,
    Passwords,
    Caches,
    BruteForce
);
