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

mod build;
mod choices;
mod duration;
mod error;
mod load;
mod schema;
mod secret;
mod sources;
mod validate;
mod value;

use std::fmt;
use std::time::Duration;

pub use choices::{Algorithm, AuthenticationClass, PermissionClass, UnknownChoice, UserIdField};
pub use error::{Origin, SettingsError};
pub use secret::Secret;

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
}

/// `[REST_FRAMEWORK]`: the subset of DRF's settings this server honours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestFramework {
    /// `DEFAULT_AUTHENTICATION_CLASSES`, default `[JWTAuthentication]` (what simplejwt's docs install).
    pub default_authentication_classes: Vec<AuthenticationClass>,
    /// `DEFAULT_PERMISSION_CLASSES`, default `[AllowAny]` (DRF's own default).
    pub default_permission_classes: Vec<PermissionClass>,
}

impl Default for RestFramework {
    fn default() -> Self {
        Self {
            default_authentication_classes: vec![AuthenticationClass::JwtAuthentication],
            default_permission_classes: vec![PermissionClass::AllowAny],
        }
    }
}

/// `[SIMPLE_JWT]`: djangorestframework-simplejwt's settings, same names and defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleJwt {
    /// `ACCESS_TOKEN_LIFETIME`, default 5 minutes.
    pub access_token_lifetime: Duration,
    /// `REFRESH_TOKEN_LIFETIME`, default 1 day.
    pub refresh_token_lifetime: Duration,
    /// `ROTATE_REFRESH_TOKENS`, default false.
    pub rotate_refresh_tokens: bool,
    /// `BLACKLIST_AFTER_ROTATION`, default false.
    pub blacklist_after_rotation: bool,
    /// `UPDATE_LAST_LOGIN`, default false.
    pub update_last_login: bool,
    /// `ALGORITHM`, default HS256.
    pub algorithm: Algorithm,
    /// `SIGNING_KEY`, default `SECRET_KEY`. A PEM private key for non-HMAC algorithms.
    pub signing_key: Secret,
    /// `VERIFYING_KEY`: PEM public key, required for non-HMAC algorithms. Default none.
    pub verifying_key: Option<String>,
    /// `AUDIENCE`: one or several `aud` values. Default none.
    pub audience: Option<Vec<String>>,
    /// `ISSUER`: the `iss` claim. Default none.
    pub issuer: Option<String>,
    /// `LEEWAY`: clock skew tolerated when checking `exp`/`nbf`. Default 0.
    pub leeway: Duration,
    /// `AUTH_HEADER_TYPES`, default `["Bearer"]`; never empty.
    pub auth_header_types: Vec<String>,
    /// `AUTH_HEADER_NAME`, default `HTTP_AUTHORIZATION` (Django `request.META` spelling).
    pub auth_header_name: String,
    /// `USER_ID_FIELD`, default `id`.
    pub user_id_field: UserIdField,
    /// `USER_ID_CLAIM`, default `user_id`.
    pub user_id_claim: String,
    /// `TOKEN_TYPE_CLAIM`, default `token_type`.
    pub token_type_claim: String,
    /// `JTI_CLAIM`, default `jti`.
    pub jti_claim: String,
    /// `CHECK_USER_IS_ACTIVE`, default true.
    pub check_user_is_active: bool,
}

impl SimpleJwt {
    /// simplejwt's defaults, signing with `signing_key` (simplejwt defaults it to `SECRET_KEY`).
    pub fn with_signing_key(signing_key: Secret) -> Self {
        Self {
            access_token_lifetime: Duration::from_secs(5 * 60),
            refresh_token_lifetime: Duration::from_secs(24 * 60 * 60),
            rotate_refresh_tokens: false,
            blacklist_after_rotation: false,
            update_last_login: false,
            algorithm: Algorithm::HS256,
            signing_key,
            verifying_key: None,
            audience: None,
            issuer: None,
            leeway: Duration::ZERO,
            auth_header_types: vec!["Bearer".to_owned()],
            auth_header_name: "HTTP_AUTHORIZATION".to_owned(),
            user_id_field: UserIdField::Id,
            user_id_claim: "user_id".to_owned(),
            token_type_claim: "token_type".to_owned(),
            jti_claim: "jti".to_owned(),
            check_user_is_active: true,
        }
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

/// `[DATABASES]`: one database, given as a URL (dj-database-url style) instead of Django's dict.
#[derive(Clone, PartialEq, Eq)]
pub struct Databases {
    /// `URL`, default `sqlite:///db.sqlite3`; the `DATABASE_URL` environment variable overrides it.
    pub url: String,
    /// `POOL_SIZE`, default 10, at least 1.
    pub pool_size: u32,
    /// `CONNECT_TIMEOUT`, default 5 seconds.
    pub connect_timeout: Duration,
}

impl Default for Databases {
    fn default() -> Self {
        Self {
            url: "sqlite:///db.sqlite3".to_owned(),
            pool_size: 10,
            connect_timeout: Duration::from_secs(5),
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
            .finish()
    }
}

/// `[SERVER]`: how the HTTP server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// `BIND`: `host:port` addresses, default `["127.0.0.1:8000"]`; `PORT=N` means `["0.0.0.0:N"]`.
    pub bind: Vec<String>,
    /// `WORKERS`: worker threads, default none (one per core); `WEB_CONCURRENCY` also sets it.
    pub workers: Option<usize>,
    /// `MAX_BODY_SIZE` in bytes, default 2.5 MiB (Django's `DATA_UPLOAD_MAX_MEMORY_SIZE`).
    pub max_body_size: usize,
}

impl Default for Server {
    fn default() -> Self {
        Self {
            bind: vec!["127.0.0.1:8000".to_owned()],
            workers: None,
            max_body_size: 2_621_440,
        }
    }
}

/// `[PASSWORDS]`: password hashing cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passwords {
    /// `BCRYPT_ROUNDS`: bcrypt cost, default 12 (Django's `BCryptSHA256PasswordHasher`), 4..=31.
    pub bcrypt_rounds: u32,
}

impl Default for Passwords {
    fn default() -> Self {
        Self { bcrypt_rounds: 12 }
    }
}
