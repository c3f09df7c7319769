//! Loading through `Settings::from_sources`: layering, parsing, and every error's message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step is the failure

use std::time::Duration;

use settings::{
    Algorithm, AuthenticationClass, LogDestination, PermissionClass, Secret, Settings,
    SettingsError, TrustedProxy, UserIdField,
};

/// A valid HS256 key that is easy to spot if it ever leaks into a message.
const SECRET: &str = "LeakCanary-7f3a9c2e1b8d4f6a0c5e7b9d2f4a6c8e0b1d3f5a7c9e";
const SIGNING: &str = "SigningCanary-0a1b2c3d4e5f60718293a4b5c6d7e8f9fedcba98";

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load(file: Option<&str>, pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    Settings::from_sources(file.map(|text| (text, "settings.toml")), &env(pairs))
}

/// Loads with SECRET_KEY in the environment plus `pairs`.
fn load_ok(file: Option<&str>, pairs: &[(&str, &str)]) -> Settings {
    let mut all = vec![("SECRET_KEY", SECRET)];
    all.extend_from_slice(pairs);
    match load(file, &all) {
        Ok(settings) => settings,
        Err(e) => panic!("expected settings, got error: {e}"),
    }
}

/// The message of the expected error, after checking it quotes no secret.
fn error(file: Option<&str>, pairs: &[(&str, &str)]) -> String {
    let err = match load(file, pairs) {
        Ok(settings) => panic!("expected an error, got {settings:?}"),
        Err(e) => e,
    };
    let (display, debug) = (err.to_string(), format!("{err:?}"));
    for secret in [SECRET, SIGNING] {
        assert!(!display.contains(secret), "secret in message: {display}");
        assert!(!debug.contains(secret), "secret in Debug: {debug}");
    }
    display
}

fn error_with_secret(file: Option<&str>, pairs: &[(&str, &str)]) -> String {
    let mut all = vec![("SECRET_KEY", SECRET)];
    all.extend_from_slice(pairs);
    error(file, &all)
}

#[test]
fn defaults_match_simplejwt_and_drf() {
    let s = load_ok(None, &[]);
    assert_eq!(s.secret_key.expose(), SECRET);
    assert!(!s.debug);
    assert_eq!(
        s.rest_framework.default_authentication_classes,
        [AuthenticationClass::JwtAuthentication]
    );
    assert_eq!(
        s.rest_framework.default_permission_classes,
        [PermissionClass::AllowAny]
    );

    let jwt = &s.simple_jwt;
    assert_eq!(jwt.access_token_lifetime, Duration::from_secs(300));
    assert_eq!(jwt.refresh_token_lifetime, Duration::from_secs(86_400));
    assert!(!jwt.rotate_refresh_tokens);
    assert!(!jwt.blacklist_after_rotation);
    assert!(!jwt.update_last_login);
    assert_eq!(jwt.algorithm, Algorithm::HS256);
    assert_eq!(
        jwt.signing_key, s.secret_key,
        "SIGNING_KEY defaults to SECRET_KEY"
    );
    assert_eq!(jwt.verifying_key, None);
    assert_eq!(jwt.audience, None);
    assert_eq!(jwt.issuer, None);
    assert_eq!(jwt.leeway, Duration::ZERO);
    assert_eq!(jwt.auth_header_types, ["Bearer"]);
    assert_eq!(jwt.auth_header_name, "HTTP_AUTHORIZATION");
    assert_eq!(jwt.auth_header(), "authorization");
    assert_eq!(jwt.user_id_field, UserIdField::Id);
    assert_eq!(jwt.user_id_claim, "user_id");
    assert_eq!(jwt.token_type_claim, "token_type");
    assert_eq!(jwt.jti_claim, "jti");
    assert!(jwt.check_user_is_active);

    assert_eq!(s.databases.url, "sqlite:///db.sqlite3");
    assert_eq!(s.databases.pool_size, 10);
    assert_eq!(s.databases.connect_timeout, Duration::from_secs(5));
    assert_eq!(s.databases.query_timeout, Duration::from_secs(10));
    assert_eq!(s.server.bind, ["127.0.0.1:8000"]);
    assert_eq!(s.server.workers, None);
    assert_eq!(s.server.max_body_size, 2_621_440);
    // gunicorn's --limit-request-line, --limit-request-fields, --limit-request-field_size.
    assert_eq!(s.server.limit_request_line, 4094);
    assert_eq!(s.server.limit_request_fields, 100);
    assert_eq!(s.server.limit_request_field_size, 8190);
    assert_eq!(s.server.threads, 1);
    assert_eq!(s.server.timeout, Duration::from_secs(30));
    assert_eq!(s.server.graceful_timeout, Duration::from_secs(30));
    assert_eq!(s.server.keep_alive, Duration::from_secs(5));
    let trusted: Vec<String> = s
        .server
        .trusted_proxies
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(
        trusted,
        ["127.0.0.1/32", "::1/128"],
        "gunicorn's forwarded_allow_ips"
    );
    assert_eq!(s.server.access_log, LogDestination::Std);
    assert_eq!(s.server.error_log, LogDestination::Std);
    assert_eq!(s.passwords.bcrypt_rounds, 12);
}

/// Sets every key, so a key listed in the schema but never read would show up here.
const FULL_FILE: &str = r#"
DEBUG = true
SECRET_KEY = "file-secret-is-overridden-by-env-0123456789abcdefghijkl"

[REST_FRAMEWORK]
DEFAULT_AUTHENTICATION_CLASSES = ["rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication"]
DEFAULT_PERMISSION_CLASSES = ["rest_framework.permissions.IsAuthenticated", "IsAdminUser"]

[SIMPLE_JWT]
ACCESS_TOKEN_LIFETIME = "15m"
REFRESH_TOKEN_LIFETIME = "7d"
ROTATE_REFRESH_TOKENS = true
BLACKLIST_AFTER_ROTATION = true
UPDATE_LAST_LOGIN = true
ALGORITHM = "HS512"
SIGNING_KEY = "file-signing-key-0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"
VERIFYING_KEY = ""
AUDIENCE = ["web", "mobile"]
ISSUER = "https://auth.example.com"
LEEWAY = 30
AUTH_HEADER_TYPES = ["Bearer", "JWT"]
AUTH_HEADER_NAME = "HTTP_X_AUTH"
USER_ID_FIELD = "username"
USER_ID_CLAIM = "uid"
TOKEN_TYPE_CLAIM = "typ"
JTI_CLAIM = "token_id"
CHECK_USER_IS_ACTIVE = false

[DATABASES]
URL = "postgres://app:dbpass@db:5432/app"
POOL_SIZE = 20
CONNECT_TIMEOUT = 2.5
QUERY_TIMEOUT = "30s"

[SERVER]
BIND = ["0.0.0.0:8080", "[::]:8080", "unix:/run/app/app.sock"]
WORKERS = 4
THREADS = 2
MAX_BODY_SIZE = 1048576
LIMIT_REQUEST_LINE = 0
LIMIT_REQUEST_FIELDS = 32768
LIMIT_REQUEST_FIELD_SIZE = 65536
TIMEOUT = "1m"
GRACEFUL_TIMEOUT = 10
KEEP_ALIVE = 0
TRUSTED_PROXIES = ["10.0.0.0/8", "::1"]
ACCESS_LOG = "/var/log/app/access.log"
ERROR_LOG = ""

[PASSWORDS]
BCRYPT_ROUNDS = 4
"#;

#[test]
fn file_overrides_every_default() {
    let s = load_ok(Some(FULL_FILE), &[]);
    assert!(s.debug);
    assert_eq!(s.secret_key.expose(), SECRET, "env beats file");
    assert_eq!(
        s.rest_framework.default_authentication_classes,
        [AuthenticationClass::JwtStatelessUserAuthentication]
    );
    assert_eq!(
        s.rest_framework.default_permission_classes,
        [
            PermissionClass::IsAuthenticated,
            PermissionClass::IsAdminUser
        ]
    );
    let jwt = &s.simple_jwt;
    assert_eq!(jwt.access_token_lifetime, Duration::from_secs(15 * 60));
    assert_eq!(jwt.refresh_token_lifetime, Duration::from_secs(7 * 86_400));
    assert!(jwt.rotate_refresh_tokens);
    assert!(jwt.blacklist_after_rotation);
    assert!(jwt.update_last_login);
    assert_eq!(jwt.algorithm, Algorithm::HS512);
    assert!(jwt.signing_key.expose().starts_with("file-signing-key-"));
    assert_eq!(jwt.verifying_key, None, "empty VERIFYING_KEY means none");
    assert_eq!(jwt.audience, Some(vec!["web".into(), "mobile".into()]));
    assert_eq!(jwt.issuer.as_deref(), Some("https://auth.example.com"));
    assert_eq!(jwt.leeway, Duration::from_secs(30));
    assert_eq!(jwt.auth_header_types, ["Bearer", "JWT"]);
    assert_eq!(jwt.auth_header(), "x-auth");
    assert_eq!(jwt.user_id_field, UserIdField::Username);
    assert_eq!(jwt.user_id_claim, "uid");
    assert_eq!(jwt.token_type_claim, "typ");
    assert_eq!(jwt.jti_claim, "token_id");
    assert!(!jwt.check_user_is_active);
    assert_eq!(s.databases.url, "postgres://app:dbpass@db:5432/app");
    assert_eq!(s.databases.pool_size, 20);
    assert_eq!(s.databases.connect_timeout, Duration::from_millis(2_500));
    assert_eq!(s.databases.query_timeout, Duration::from_secs(30));
    assert_eq!(
        s.server.bind,
        ["0.0.0.0:8080", "[::]:8080", "unix:/run/app/app.sock"]
    );
    assert_eq!(s.server.workers, Some(4));
    assert_eq!(s.server.threads, 2);
    assert_eq!(s.server.max_body_size, 1_048_576);
    assert_eq!(s.server.limit_request_line, 0);
    assert_eq!(s.server.limit_request_fields, 32768);
    assert_eq!(s.server.limit_request_field_size, 65536);
    assert_eq!(s.server.timeout, Duration::from_secs(60));
    assert_eq!(s.server.graceful_timeout, Duration::from_secs(10));
    assert_eq!(s.server.keep_alive, Duration::ZERO);
    assert_eq!(
        s.server.trusted_proxies,
        [
            TrustedProxy::parse("10.0.0.0/8").unwrap(),
            TrustedProxy::parse("::1").unwrap()
        ]
    );
    assert_eq!(
        s.server.access_log,
        LogDestination::File("/var/log/app/access.log".into())
    );
    assert_eq!(s.server.error_log, LogDestination::Off);
    assert_eq!(s.passwords.bcrypt_rounds, 4);
}

#[test]
fn secret_key_may_come_from_the_file() {
    let file = format!("SECRET_KEY = \"{SECRET}\"\n");
    let s = load(Some(&file), &[]).unwrap();
    assert_eq!(s.secret_key.expose(), SECRET);
}

#[test]
fn env_overrides_file() {
    let file = "[SIMPLE_JWT]\nACCESS_TOKEN_LIFETIME = \"15m\"\nROTATE_REFRESH_TOKENS = false\n";
    let s = load_ok(
        Some(file),
        &[
            ("SIMPLE_JWT__ACCESS_TOKEN_LIFETIME", "10m"),
            ("SIMPLE_JWT__ROTATE_REFRESH_TOKENS", "true"),
        ],
    );
    assert_eq!(s.simple_jwt.access_token_lifetime, Duration::from_secs(600));
    assert!(s.simple_jwt.rotate_refresh_tokens);
}

#[test]
fn section_env_values_parse_like_toml() {
    let s = load_ok(
        None,
        &[
            ("DEBUG", "True"),
            ("SIMPLE_JWT__BLACKLIST_AFTER_ROTATION", "true"),
            ("SIMPLE_JWT__CHECK_USER_IS_ACTIVE", "false"),
            ("SIMPLE_JWT__REFRESH_TOKEN_LIFETIME", "1h 30m"),
            ("SIMPLE_JWT__LEEWAY", "1.5"),
            ("SIMPLE_JWT__ACCESS_TOKEN_LIFETIME", "120"),
            ("SIMPLE_JWT__AUTH_HEADER_TYPES", "JWT"),
            ("SIMPLE_JWT__AUDIENCE", r#"["a", "b"]"#),
            ("SIMPLE_JWT__ISSUER", "0123"),
            (
                "REST_FRAMEWORK__DEFAULT_PERMISSION_CLASSES",
                r#"["IsAuthenticated"]"#,
            ),
            (
                "REST_FRAMEWORK__DEFAULT_AUTHENTICATION_CLASSES",
                "JWTStatelessUserAuthentication",
            ),
            ("DATABASES__POOL_SIZE", "3"),
            ("PASSWORDS__BCRYPT_ROUNDS", "10"),
            ("PATH", "/usr/bin"),
            ("HOME", "/root"),
            ("SOME_TOOL__SETTING", "ignored"),
        ],
    );
    assert!(s.debug);
    assert!(s.simple_jwt.blacklist_after_rotation);
    assert!(!s.simple_jwt.check_user_is_active);
    assert_eq!(
        s.simple_jwt.refresh_token_lifetime,
        Duration::from_secs(5_400)
    );
    assert_eq!(s.simple_jwt.leeway, Duration::from_millis(1_500));
    assert_eq!(s.simple_jwt.access_token_lifetime, Duration::from_secs(120));
    assert_eq!(s.simple_jwt.auth_header_types, ["JWT"]);
    assert_eq!(s.simple_jwt.audience, Some(vec!["a".into(), "b".into()]));
    assert_eq!(
        s.simple_jwt.issuer.as_deref(),
        Some("0123"),
        "strings stay verbatim"
    );
    assert_eq!(
        s.rest_framework.default_permission_classes,
        [PermissionClass::IsAuthenticated]
    );
    assert_eq!(
        s.rest_framework.default_authentication_classes,
        [AuthenticationClass::JwtStatelessUserAuthentication]
    );
    assert_eq!(s.databases.pool_size, 3);
    assert_eq!(s.passwords.bcrypt_rounds, 10);
}

#[test]
fn platform_variables() {
    let s = load_ok(
        Some("[SERVER]\nBIND = [\"127.0.0.1:9000\"]\nWORKERS = 2\n[DATABASES]\nURL = \"sqlite:///file.db\"\n"),
        &[
            ("DATABASE_URL", "postgres://u:p@host/db"),
            ("PORT", "5000"),
            ("WEB_CONCURRENCY", "3"),
        ],
    );
    assert_eq!(s.databases.url, "postgres://u:p@host/db");
    assert_eq!(s.server.bind, ["0.0.0.0:5000"]);
    assert_eq!(s.server.workers, Some(3));

    // The explicit SECTION__KEY spelling wins over the platform shortcut, whatever the order.
    let s = load_ok(
        None,
        &[
            ("DATABASES__URL", "sqlite:///explicit.db"),
            ("DATABASE_URL", "postgres://u:p@host/db"),
            ("SERVER__BIND", "127.0.0.1:7000"),
            ("PORT", "5000"),
            ("SERVER__WORKERS", "8"),
            ("WEB_CONCURRENCY", "3"),
        ],
    );
    assert_eq!(s.databases.url, "sqlite:///explicit.db");
    assert_eq!(s.server.bind, ["127.0.0.1:7000"]);
    assert_eq!(s.server.workers, Some(8));

    // gunicorn-style comma-separated proxies, durations and "-" from the environment.
    let s = load_ok(
        None,
        &[
            ("SERVER__TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16"),
            ("SERVER__TIMEOUT", "45s"),
            ("SERVER__ACCESS_LOG", "-"),
        ],
    );
    let trusted: Vec<String> = s
        .server
        .trusted_proxies
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(trusted, ["10.0.0.1/32", "192.168.0.0/16"]);
    assert_eq!(s.server.timeout, Duration::from_secs(45));
    assert_eq!(s.server.access_log, LogDestination::Std);
    let s = load_ok(None, &[("SERVER__TRUSTED_PROXIES", r#"["*"]"#)]);
    assert_eq!(s.server.trusted_proxies, [TrustedProxy::Any]);

    let err = error_with_secret(None, &[("PORT", "http")]);
    assert_eq!(err, "SERVER.BIND from environment variable PORT is invalid: PORT must be a port number from 1 to 65535, got \"http\"");
    let err = error_with_secret(None, &[("WEB_CONCURRENCY", "0")]);
    assert!(err.starts_with("SERVER.WORKERS from environment variable WEB_CONCURRENCY is invalid: must be at least 1"), "{err}");
}

#[test]
fn durations_in_the_file() {
    for (text, want) in [
        ("\"5m\"", 300_000),
        ("\"1d\"", 86_400_000),
        ("\"30s\"", 30_000),
        ("300", 300_000),
        ("1.5", 1_500),
        ("\"90\"", 90_000),
    ] {
        let file = format!("[SIMPLE_JWT]\nLEEWAY = {text}\n");
        let s = load_ok(Some(&file), &[]);
        assert_eq!(s.simple_jwt.leeway, Duration::from_millis(want), "{text}");
    }

    let err = error_with_secret(
        Some("[SIMPLE_JWT]\nACCESS_TOKEN_LIFETIME = \"five minutes\"\n"),
        &[],
    );
    assert!(err.starts_with("SIMPLE_JWT.ACCESS_TOKEN_LIFETIME in settings.toml is invalid: \"five minutes\" is not a duration"), "{err}");
    assert!(
        err.contains("\"5m\""),
        "the message shows valid forms: {err}"
    );

    let err = error_with_secret(Some("[DATABASES]\nCONNECT_TIMEOUT = -1\n"), &[]);
    assert!(
        err.contains("DATABASES.CONNECT_TIMEOUT in settings.toml is invalid: must not be negative"),
        "{err}"
    );

    let err = error_with_secret(None, &[("DATABASES__QUERY_TIMEOUT", "500ms")]);
    assert!(
        err.contains("DATABASES.QUERY_TIMEOUT") && err.contains("must be at least 1 second"),
        "{err}"
    );

    let err = error_with_secret(None, &[("SIMPLE_JWT__LEEWAY", "[1]")]);
    assert!(
        err.starts_with(
            "SIMPLE_JWT.LEEWAY from environment variable SIMPLE_JWT__LEEWAY must be a duration"
        ),
        "{err}"
    );
}

#[test]
fn unknown_keys_are_named_with_their_source() {
    let err = error_with_secret(Some("[SIMPLE_JWT]\nACCESS_TOKEN_LIFETIMEX = \"5m\"\n"), &[]);
    assert!(err.starts_with("unknown setting SIMPLE_JWT.ACCESS_TOKEN_LIFETIMEX in settings.toml (did you mean ACCESS_TOKEN_LIFETIME?); valid keys in [SIMPLE_JWT] are: ACCESS_TOKEN_LIFETIME, REFRESH_TOKEN_LIFETIME,"), "{err}");

    let err = error_with_secret(None, &[("SIMPLE_JWT__ROTATE_REFRESH_TOKEN", "true")]);
    assert!(err.starts_with("unknown setting SIMPLE_JWT.ROTATE_REFRESH_TOKEN from environment variable SIMPLE_JWT__ROTATE_REFRESH_TOKEN (did you mean ROTATE_REFRESH_TOKENS?)"), "{err}");

    let err = error_with_secret(None, &[("simple_jwt__leeway", "5")]);
    assert!(
        err.contains("rename the variable to SIMPLE_JWT__LEEWAY"),
        "{err}"
    );

    let err = error_with_secret(Some("[SIMPLEJWT]\nLEEWAY = 5\n"), &[]);
    assert!(err.starts_with("unknown setting section [SIMPLEJWT] in settings.toml (did you mean SIMPLE_JWT?); valid keys at the top level are: SECRET_KEY, DEBUG, AUTH_PASSWORD_VALIDATORS, CSRF_TRUSTED_ORIGINS, [REST_FRAMEWORK], [SIMPLE_JWT]"), "{err}");

    let err = error_with_secret(Some("ALLOWED_HOSTS = [\"*\"]\n"), &[]);
    assert!(
        err.starts_with(
            "unknown setting ALLOWED_HOSTS in settings.toml; valid keys at the top level are"
        ),
        "{err}"
    );

    let err = error_with_secret(Some("debug = true\n"), &[]);
    assert!(err.contains("did you mean DEBUG?"), "{err}");

    let err = error_with_secret(Some("DATABASE_URL = \"sqlite:///x\"\n"), &[]);
    assert!(err.contains("set URL in [DATABASES]"), "{err}");

    let err = error_with_secret(Some("[SIMPLE_JWT]\nJSON_ENCODER = \"x\"\n"), &[]);
    assert!(err.contains("does not support"), "{err}");

    // Settings simplejwt removed say what replaced them.
    for (removed, instead) in [
        ("AUTH_HEADER_TYPE", "use AUTH_HEADER_TYPES"),
        ("AUTH_TOKEN_CLASS", "use AUTH_TOKEN_CLASSES"),
        ("SECRET_KEY", "use SIGNING_KEY"),
        ("TOKEN_BACKEND_CLASS", "use ALGORITHM, SIGNING_KEY"),
    ] {
        let err = error_with_secret(Some(&format!("[SIMPLE_JWT]\n{removed} = \"x\"\n")), &[]);
        assert!(
            err.contains(&format!("the '{removed}' setting has been removed from djangorestframework-simplejwt: {instead}")),
            "{err}"
        );
        let var = format!("SIMPLE_JWT__{removed}");
        let err = error_with_secret(None, &[(var.as_str(), "x")]);
        assert!(err.contains("has been removed"), "{err}");
    }

    // A typo is reported even though the environment sets other keys of the section.
    let err = error_with_secret(
        Some("[SERVER]\nBINDS = []\n"),
        &[("SERVER__BIND", "0.0.0.0:1")],
    );
    assert!(err.contains("SERVER.BINDS"), "{err}");
}

#[test]
fn wrong_types_name_the_key() {
    let err = error_with_secret(
        Some("[SIMPLE_JWT]\nROTATE_REFRESH_TOKENS = \"yes please\"\n"),
        &[],
    );
    assert_eq!(err, "SIMPLE_JWT.ROTATE_REFRESH_TOKENS in settings.toml must be a boolean (true or false), found the string \"yes please\"");

    let err = error_with_secret(None, &[("SIMPLE_JWT__ROTATE_REFRESH_TOKENS", "yes please")]);
    assert_eq!(err, "SIMPLE_JWT.ROTATE_REFRESH_TOKENS from environment variable SIMPLE_JWT__ROTATE_REFRESH_TOKENS must be a boolean (true or false), found the string \"yes please\"");

    let err = error_with_secret(Some("[SIMPLE_JWT]\nISSUER = [\"a\", \"b\"]\n"), &[]);
    assert_eq!(
        err,
        "SIMPLE_JWT.ISSUER in settings.toml must be a string, found a list"
    );

    let err = error_with_secret(Some("[DATABASES]\nPOOL_SIZE = \"ten\"\n"), &[]);
    assert_eq!(
        err,
        "DATABASES.POOL_SIZE in settings.toml must be a whole number, found the string \"ten\""
    );

    let err = error_with_secret(
        Some("[SIMPLE_JWT]\nAUTH_HEADER_TYPES = [\"Bearer\", 1]\n"),
        &[],
    );
    assert_eq!(err, "SIMPLE_JWT.AUTH_HEADER_TYPES in settings.toml must be a string or a list of strings, found the integer 1");

    let err = error_with_secret(Some("SIMPLE_JWT = 5\n"), &[]);
    assert!(
        err.starts_with("SIMPLE_JWT in settings.toml must be a table"),
        "{err}"
    );

    let err = error(Some("SECRET_KEY = 123456789\n"), &[]);
    assert_eq!(
        err,
        "SECRET_KEY in settings.toml must be a string, found an integer"
    );
}

#[test]
fn toml_syntax_errors_name_the_file_and_position() {
    let err = error_with_secret(Some("[SIMPLE_JWT]\nLEEWAY = = 5\n"), &[]);
    assert!(
        err.starts_with("settings.toml is not valid TOML (line 2, column"),
        "{err}"
    );
}

#[test]
fn missing_secret() {
    let expected = "SECRET_KEY is not set: add SECRET_KEY=<random string of 50+ characters> to .env or the environment (`./manage generatesecretkey` prints one)";
    assert_eq!(error(None, &[]), expected);
    assert_eq!(error(None, &[("SECRET_KEY", "")]), expected);
    assert!(matches!(load(None, &[]), Err(SettingsError::MissingSecret)));
}

#[test]
fn fallback_secret_only_when_unset() {
    let fallback = Secret::new(SIGNING.to_owned());
    let s = Settings::from_sources_with_fallback_secret(None, &[], Some(fallback.clone())).unwrap();
    assert_eq!(s.secret_key, fallback);
    assert_eq!(s.simple_jwt.signing_key, fallback);

    let s = Settings::from_sources_with_fallback_secret(
        None,
        &env(&[("SECRET_KEY", SECRET)]),
        Some(fallback),
    )
    .unwrap();
    assert_eq!(s.secret_key.expose(), SECRET);
}

#[test]
fn weak_and_insecure_secrets() {
    let short = "Sh0rt-but-random-Q7x";
    let err = error(None, &[("SECRET_KEY", short)]);
    assert_eq!(err, "SECRET_KEY (the signing key, as SIMPLE_JWT.SIGNING_KEY is not set) from environment variable SECRET_KEY is too short to sign HS256 tokens: it needs at least 32 bytes; use a random string of 50+ characters (`./manage generatesecretkey` prints one), or set DEBUG=true to only warn during development");
    assert!(!err.contains(short));

    // HS512 needs 64 bytes: SECRET (55 bytes) is not enough.
    let err = error_with_secret(None, &[("SIMPLE_JWT__ALGORITHM", "HS512")]);
    assert!(
        err.contains("too short to sign HS512 tokens: it needs at least 64 bytes"),
        "{err}"
    );

    let err = error_with_secret(None, &[("SIMPLE_JWT__SIGNING_KEY", "tiny-Key-9")]);
    assert!(
        err.starts_with(
            "SIMPLE_JWT.SIGNING_KEY from environment variable SIMPLE_JWT__SIGNING_KEY is too short"
        ),
        "{err}"
    );

    let django = "django-insecure-#x!3k@9v2$q8w7e6r5t4y3u2i1o0p9a8s7d6f5g4h3j2k1l0z";
    let err = error(Some(&format!("SECRET_KEY = \"{django}\"\n")), &[]);
    assert!(err.starts_with("SECRET_KEY (the signing key, as SIMPLE_JWT.SIGNING_KEY is not set) in settings.toml is a placeholder or well-known insecure value"), "{err}");
    assert!(!err.contains("#x!3k"), "{err}");

    // ("secret" itself is caught too, but the message mentions `generatesecretkey`.)
    for placeholder in [
        "changeme",
        "please-change-me-0123456789-abcdefghijklmnopqrstuvwxyz",
        "password",
    ] {
        let err = error(None, &[("SECRET_KEY", placeholder)]);
        assert!(
            err.contains("placeholder or well-known insecure value"),
            "{err}"
        );
        assert!(!err.contains(placeholder), "{err}");
    }
}

#[test]
fn debug_relaxes_weak_secrets_to_a_warning() {
    let s = load(None, &[("SECRET_KEY", "changeme"), ("DEBUG", "true")]).unwrap();
    assert_eq!(s.secret_key.expose(), "changeme");
    assert!(load(Some("DEBUG = true\n"), &[("SECRET_KEY", "short")]).is_ok());
    // DEBUG does not excuse a missing one.
    assert!(matches!(
        load(None, &[("DEBUG", "true")]),
        Err(SettingsError::MissingSecret)
    ));
}

const PRIVATE_PEM: &str =
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIB\n-----END PRIVATE KEY-----\n";
const PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n";

#[test]
fn asymmetric_algorithms_need_a_pem_key_pair() {
    let err = error_with_secret(None, &[("SIMPLE_JWT__ALGORITHM", "RS256")]);
    assert_eq!(err, "SIMPLE_JWT.SIGNING_KEY is required when SIMPLE_JWT.ALGORITHM is RS256 (from environment variable SIMPLE_JWT__ALGORITHM): set it to a PEM private key, as PEM text or the path of a PEM file (SECRET_KEY can only sign HS256/HS384/HS512 tokens)");

    let err = error_with_secret(
        None,
        &[
            ("SIMPLE_JWT__ALGORITHM", "EdDSA"),
            ("SIMPLE_JWT__SIGNING_KEY", PRIVATE_PEM),
        ],
    );
    assert!(
        err.starts_with("SIMPLE_JWT.VERIFYING_KEY is required when SIMPLE_JWT.ALGORITHM is EdDSA"),
        "{err}"
    );

    let err = error_with_secret(
        None,
        &[
            ("SIMPLE_JWT__ALGORITHM", "ES256"),
            ("SIMPLE_JWT__SIGNING_KEY", SIGNING),
            ("SIMPLE_JWT__VERIFYING_KEY", PUBLIC_PEM),
        ],
    );
    // Not PEM: for asymmetric algorithms that is a file path, and this one names no file.
    assert!(err.starts_with("SIMPLE_JWT.SIGNING_KEY from environment variable SIMPLE_JWT__SIGNING_KEY is invalid: is not PEM text (\"-----BEGIN ...\") and the file it names cannot be read"), "{err}");
    assert!(!err.contains(SIGNING), "{err}");

    let err = error_with_secret(
        None,
        &[
            ("SIMPLE_JWT__ALGORITHM", "RS256"),
            ("SIMPLE_JWT__SIGNING_KEY", PRIVATE_PEM),
            ("SIMPLE_JWT__VERIFYING_KEY", PRIVATE_PEM),
        ],
    );
    assert!(err.contains("VERIFYING_KEY from environment variable SIMPLE_JWT__VERIFYING_KEY is invalid: must be a PEM public key"), "{err}");

    // One-line PEM with literal \n, as platforms store multi-line secrets.
    let one_line = PRIVATE_PEM.replace('\n', "\\n");
    let s = load_ok(
        None,
        &[
            ("SIMPLE_JWT__ALGORITHM", "EdDSA"),
            ("SIMPLE_JWT__SIGNING_KEY", &one_line),
            ("SIMPLE_JWT__VERIFYING_KEY", PUBLIC_PEM),
        ],
    );
    assert_eq!(s.simple_jwt.algorithm, Algorithm::EdDSA);
    assert_eq!(s.simple_jwt.signing_key.expose(), PRIVATE_PEM);
    assert_eq!(s.simple_jwt.verifying_key.as_deref(), Some(PUBLIC_PEM));

    // The file can hold them as TOML multi-line strings; SECRET_KEY may then be short.
    let file = format!(
        "[SIMPLE_JWT]\nALGORITHM = \"RS256\"\nSIGNING_KEY = \"\"\"\n{PRIVATE_PEM}\"\"\"\nVERIFYING_KEY = \"\"\"\n{PUBLIC_PEM}\"\"\"\n"
    );
    let s = load(Some(&file), &[("SECRET_KEY", "short")]).unwrap();
    assert_eq!(s.simple_jwt.algorithm, Algorithm::RS256);
}

#[test]
fn invalid_values() {
    let cases: &[(&str, &str)] = &[
        ("[DATABASES]\nPOOL_SIZE = 0\n", "DATABASES.POOL_SIZE in settings.toml is invalid: must be at least 1, got 0"),
        ("[SERVER]\nBIND = []\n", "SERVER.BIND in settings.toml is invalid: must list at least one address"),
        ("[SERVER]\nBIND = [\"8000\"]\n", "SERVER.BIND in settings.toml is invalid: \"8000\" is not a host:port address"),
        ("[SERVER]\nMAX_BODY_SIZE = 0\n", "SERVER.MAX_BODY_SIZE in settings.toml is invalid: must be at least 1"),
        ("[SERVER]\nLIMIT_REQUEST_LINE = 8191\n", "SERVER.LIMIT_REQUEST_LINE in settings.toml is invalid: must be at most 8190, got 8191"),
        ("[SERVER]\nLIMIT_REQUEST_FIELDS = 32769\n", "SERVER.LIMIT_REQUEST_FIELDS in settings.toml is invalid: must be at most 32768, got 32769"),
        ("[SERVER]\nLIMIT_REQUEST_FIELD_SIZE = -1\n", "SERVER.LIMIT_REQUEST_FIELD_SIZE in settings.toml is invalid: must not be negative, got -1"),
        ("[SERVER]\nBIND = [\"unix:\"]\n", "SERVER.BIND in settings.toml is invalid: \"unix:\" names no socket path"),
        ("[SERVER]\nTHREADS = 0\n", "SERVER.THREADS in settings.toml is invalid: must be at least 1"),
        ("[SERVER]\nTIMEOUT = \"soon\"\n", "SERVER.TIMEOUT in settings.toml is invalid: \"soon\" is not a duration"),
        ("[SERVER]\nTRUSTED_PROXIES = [\"localhost\"]\n", "SERVER.TRUSTED_PROXIES in settings.toml is invalid: \"localhost\" is not an IP address or network"),
        ("[SERVER]\nTRUSTED_PROXIES = \"10.0.0.0/40\"\n", "SERVER.TRUSTED_PROXIES in settings.toml is invalid: \"10.0.0.0/40\" has an invalid prefix length"),
        ("[SERVER]\nACCESS_LOG = false\n", "SERVER.ACCESS_LOG in settings.toml must be a string, found the boolean false"),
        ("[SIMPLE_JWT]\nAUTH_HEADER_TYPES = []\n", "SIMPLE_JWT.AUTH_HEADER_TYPES in settings.toml is invalid: must list at least one header type"),
        ("[SIMPLE_JWT]\nUSER_ID_CLAIM = \"\"\n", "SIMPLE_JWT.USER_ID_CLAIM in settings.toml is invalid: must not be empty"),
        ("[SIMPLE_JWT]\nUSER_ID_FIELD = \"email\"\n", "SIMPLE_JWT.USER_ID_FIELD in settings.toml is invalid: \"email\" is not a valid user id field; valid values are: id, username"),
        ("[PASSWORDS]\nBCRYPT_ROUNDS = 3\n", "PASSWORDS.BCRYPT_ROUNDS in settings.toml is invalid: must be from 4 to 16, got 3"),
        ("[PASSWORDS]\nBCRYPT_ROUNDS = 17\n", "PASSWORDS.BCRYPT_ROUNDS in settings.toml is invalid: must be from 4 to 16, got 17"),
        ("[PASSWORDS]\nBCRYPT_ROUNDS = -1\n", "PASSWORDS.BCRYPT_ROUNDS in settings.toml is invalid: must not be negative, got -1"),
        ("[SIMPLE_JWT]\nALGORITHM = \"HS999\"\n", "SIMPLE_JWT.ALGORITHM in settings.toml is invalid: \"HS999\" is not a valid algorithm; valid values are: HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, EdDSA"),
        ("[REST_FRAMEWORK]\nDEFAULT_AUTHENTICATION_CLASSES = [\"rest_framework.authentication.SessionAuthentication\"]\n", "REST_FRAMEWORK.DEFAULT_AUTHENTICATION_CLASSES in settings.toml is invalid: \"rest_framework.authentication.SessionAuthentication\" is not a valid authentication class; valid values are: JWTAuthentication, JWTStatelessUserAuthentication"),
        ("[REST_FRAMEWORK]\nDEFAULT_PERMISSION_CLASSES = [\"IsOwner\"]\n", "REST_FRAMEWORK.DEFAULT_PERMISSION_CLASSES in settings.toml is invalid: \"IsOwner\" is not a valid permission class; valid values are: AllowAny, IsAuthenticated, IsAdminUser, IsAuthenticatedOrReadOnly"),
    ];
    for (file, want) in cases {
        let err = error_with_secret(Some(file), &[]);
        assert!(err.starts_with(want), "\n got: {err}\nwant: {want}");
    }
}

#[test]
fn class_names_short_and_dotted_in_the_file() {
    let file = r#"
[REST_FRAMEWORK]
DEFAULT_AUTHENTICATION_CLASSES = ["JWTAuthentication", "rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication"]
DEFAULT_PERMISSION_CLASSES = ["rest_framework.permissions.IsAuthenticatedOrReadOnly", "AllowAny"]
"#;
    let s = load_ok(Some(file), &[]);
    assert_eq!(
        s.rest_framework.default_authentication_classes,
        [
            AuthenticationClass::JwtAuthentication,
            AuthenticationClass::JwtStatelessUserAuthentication
        ]
    );
    assert_eq!(
        s.rest_framework.default_permission_classes,
        [
            PermissionClass::IsAuthenticatedOrReadOnly,
            PermissionClass::AllowAny
        ]
    );
}

#[test]
fn audience_forms() {
    let s = load_ok(Some("[SIMPLE_JWT]\nAUDIENCE = \"api\"\n"), &[]);
    assert_eq!(s.simple_jwt.audience, Some(vec!["api".to_owned()]));
    let s = load_ok(Some("[SIMPLE_JWT]\nAUDIENCE = []\n"), &[]);
    assert_eq!(s.simple_jwt.audience, None);
    let s = load_ok(None, &[("SIMPLE_JWT__AUDIENCE", "api")]);
    assert_eq!(s.simple_jwt.audience, Some(vec!["api".to_owned()]));
}

#[test]
fn debug_output_hides_secrets_and_database_password() {
    let s = load_ok(
        None,
        &[
            ("SIMPLE_JWT__SIGNING_KEY", SIGNING),
            ("DATABASE_URL", "postgres://app:Hunter2Password@db/app"),
        ],
    );
    let debug = format!("{s:?}");
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(!debug.contains(SIGNING), "{debug}");
    assert!(!debug.contains("Hunter2Password"), "{debug}");
    assert!(
        debug.contains("postgres://app:[redacted]@db/app"),
        "{debug}"
    );
    assert_eq!(format!("{:?}", s.secret_key), "[redacted]");
    assert_eq!(s.secret_key.to_string(), "[redacted]");
}

#[test]
fn errors_never_contain_secrets() {
    // Every failing load below carries SECRET and SIGNING somewhere; `error` checks both the
    // Display and Debug forms of the error for them.
    let sensitive_wrong_types: &[&str] = &[
        "[SIMPLE_JWT]\nSIGNING_KEY = [\"SigningCanary-0a1b2c3d4e5f60718293a4b5c6d7e8f9fedcba98\"]\n",
        "[DATABASES]\nURL = [\"LeakCanary-7f3a9c2e1b8d4f6a0c5e7b9d2f4a6c8e0b1d3f5a7c9e\"]\n",
        "SECRET_KEY = \"LeakCanary-7f3a9c2e1b8d4f6a0c5e7b9d2f4a6c8e0b1d3f5a7c9e\nbroken\"\n",
        "SECRET_KEY = LeakCanary-7f3a9c2e1b8d4f6a0c5e7b9d2f4a6c8e0b1d3f5a7c9e\n",
    ];
    for file in sensitive_wrong_types {
        error(Some(file), &[]);
    }
    error(
        None,
        &[
            ("SECRET_KEY", SECRET),
            ("SIMPLE_JWT__SIGNING_KEY", &SIGNING[..20]),
        ],
    );
    error(
        None,
        &[
            ("SECRET_KEY", SECRET),
            ("SIMPLE_JWT__ALGORITHM", "RS256"),
            ("SIMPLE_JWT__SIGNING_KEY", SIGNING),
        ],
    );
    error(
        None,
        &[("SECRET_KEY", SECRET), ("SIMPLE_JWT__ALGORITHM", "HS512")],
    );
    error(
        None,
        &[("SECRET_KEY", SECRET), ("SIMPLE_JWT__BOGUS", SIGNING)],
    );
}

#[test]
fn issue5_keys_have_simplejwt_and_drf_defaults() {
    use settings::{TokenClass, UserClaim};
    let s = load_ok(None, &[]);
    let jwt = &s.simple_jwt;
    assert_eq!(jwt.auth_token_classes, [TokenClass::AccessToken]);
    assert_eq!(jwt.sliding_token_lifetime, Duration::from_secs(300));
    assert_eq!(
        jwt.sliding_token_refresh_lifetime,
        Duration::from_secs(86_400)
    );
    assert_eq!(jwt.sliding_token_refresh_exp_claim, "refresh_exp");
    assert!(!jwt.check_revoke_token);
    assert_eq!(jwt.revoke_token_claim, "hash_password");
    assert!(jwt.token_user_claims.is_empty());
    assert_eq!(jwt.jwk_url, None);
    assert_eq!(jwt.key_id, None);
    assert!(s.rest_framework.default_throttle_classes.is_empty());
    assert_eq!(s.caches.url, "locmem://");

    let s = load_ok(
        Some(
            "[SIMPLE_JWT]\nAUTH_TOKEN_CLASSES = [\"rest_framework_simplejwt.tokens.AccessToken\", \"SlidingToken\"]\nTOKEN_USER_CLAIMS = [\"username\", \"is_staff\"]\nCHECK_REVOKE_TOKEN = true\n[REST_FRAMEWORK]\nDEFAULT_THROTTLE_CLASSES = [\"rest_framework.throttling.AnonRateThrottle\"]\nDEFAULT_THROTTLE_RATES = { anon = \"5/min\" }\n",
        ),
        &[("CACHE_URL", "locmem://"), ("CACHES__KEY_PREFIX", "app1:")],
    );
    assert_eq!(
        s.simple_jwt.auth_token_classes,
        [TokenClass::AccessToken, TokenClass::SlidingToken]
    );
    assert_eq!(
        s.simple_jwt.token_user_claims,
        [UserClaim::Username, UserClaim::IsStaff]
    );
    assert!(s.simple_jwt.check_revoke_token);
    assert_eq!(
        s.rest_framework.default_throttle_rates["anon"].map(|r| r.num_requests),
        Some(5)
    );
    assert_eq!(s.caches.key_prefix, "app1:");
    let s = load_ok(None, &[("CACHE_URL", "redis://:pw@127.0.0.1:6379/0")]);
    assert_eq!(s.caches.url, "redis://:pw@127.0.0.1:6379/0");
    assert!(
        !format!("{s:?}").contains(":pw@"),
        "Redis password in Debug output"
    );
    let err = error_with_secret(None, &[("CACHE_URL", "memcached://:pw@127.0.0.1:11211")]);
    assert!(
        err.contains(
            "CACHES.URL from environment variable CACHE_URL is invalid: must be locmem://"
        ),
        "{err}"
    );
    assert!(!err.contains(":pw@"), "cache password in a message: {err}");
}

#[test]
fn user_ttl_defaults_to_a_second_and_is_bounded() {
    use std::time::Duration;
    assert_eq!(load_ok(None, &[]).caches.user_ttl, Duration::from_secs(1));
    let s = load_ok(None, &[("CACHES__USER_TTL", "0s")]);
    assert_eq!(s.caches.user_ttl, Duration::ZERO);
    let s = load_ok(Some("[CACHES]\nUSER_TTL = \"60s\"\n"), &[]);
    assert_eq!(s.caches.user_ttl, Duration::from_secs(60));
    let err = error_with_secret(None, &[("CACHES__USER_TTL", "61s")]);
    assert!(
        err.contains("CACHES.USER_TTL") && err.contains("must be at most 60s"),
        "{err}"
    );
    let err = error_with_secret(None, &[("CACHES__USER_TTL", "soon")]);
    assert!(err.contains("CACHES.USER_TTL"), "{err}");
}

#[test]
fn issue5_keys_are_checked() {
    let cases: &[(&str, &str)] = &[
        ("[SIMPLE_JWT]\nTOKEN_USER_CLAIMS = [\"password\"]\n", "\"password\" is not a valid user field"),
        ("[SIMPLE_JWT]\nUSER_ID_CLAIM = \"email\"\nTOKEN_USER_CLAIMS = [\"email\"]\n", "\"email\" is also the name of USER_ID_CLAIM"),
        ("[SIMPLE_JWT]\nAUTH_TOKEN_CLASSES = []\n", "must list at least one"),
        ("[SIMPLE_JWT]\nAUTH_TOKEN_CLASSES = [\"RefreshToken\"]\n", "\"RefreshToken\" is not a valid token class; valid values are: AccessToken, SlidingToken"),
        ("[SIMPLE_JWT]\nJWK_URL = \"https://issuer.example/jwks\"\n", "HS256 tokens are verified with the shared secret"),
        ("[SIMPLE_JWT]\nVERIFYING_KEYS = [{ KID = \"a\", KEY = \"-----BEGIN PUBLIC KEY-----\" }]\n", "VERIFYING_KEYS only holds public keys"),
        ("[REST_FRAMEWORK]\nDEFAULT_THROTTLE_CLASSES = [\"ScopedRateThrottle\"]\n", "no default throttle rate set for 'login' scope"),
        ("[REST_FRAMEWORK]\nDEFAULT_THROTTLE_CLASSES = [\"rest_framework.throttling.FooThrottle\"]\n", "is not a valid throttle class; valid values are: AnonRateThrottle, UserRateThrottle, ScopedRateThrottle"),
        ("[REST_FRAMEWORK]\nDEFAULT_THROTTLE_RATES = { anon = \"5/fortnight\" }\n", "anon: \"5/fortnight\" is not a rate"),
        ("[CACHES]\nURL = \"memcached://x\"\n", "CACHES.URL in settings.toml is invalid: must be locmem://"),
    ];
    for (file, want) in cases {
        let err = error_with_secret(Some(file), &[]);
        assert!(err.contains(want), "\n got: {err}\nwant: {want}");
    }
}

#[test]
fn asymmetric_keys_may_be_file_paths() {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("private.pem");
    let public = dir.path().join("public.pem");
    std::fs::write(&private, PRIVATE_PEM).unwrap();
    std::fs::write(&public, PUBLIC_PEM).unwrap();
    let s = load_ok(
        None,
        &[
            ("SIMPLE_JWT__ALGORITHM", "EdDSA"),
            ("SIMPLE_JWT__SIGNING_KEY", private.to_str().unwrap()),
            ("SIMPLE_JWT__VERIFYING_KEY", public.to_str().unwrap()),
        ],
    );
    assert_eq!(s.simple_jwt.signing_key.expose(), PRIVATE_PEM);
    assert_eq!(s.simple_jwt.verifying_key.as_deref(), Some(PUBLIC_PEM));
    // A file that holds no PEM is refused.
    let err = error_with_secret(
        None,
        &[
            ("SIMPLE_JWT__ALGORITHM", "EdDSA"),
            ("SIMPLE_JWT__SIGNING_KEY", dir.path().to_str().unwrap()),
        ],
    );
    assert!(err.contains("SIMPLE_JWT.SIGNING_KEY"), "{err}");
    // HMAC secrets are never read as paths.
    let s = load_ok(
        None,
        &[
            ("SIMPLE_JWT__SIGNING_KEY", private.to_str().unwrap()),
            ("DEBUG", "true"),
        ],
    );
    assert_ne!(s.simple_jwt.signing_key.expose(), PRIVATE_PEM);
}

#[test]
fn refresh_token_reuse_settings() {
    let s = load_ok(None, &[]);
    assert!(s.simple_jwt.refresh_token_reuse_detection);
    assert_eq!(
        s.simple_jwt.refresh_token_reuse_interval,
        Duration::from_secs(10)
    );
    assert!(
        !s.simple_jwt.detects_refresh_reuse(),
        "simplejwt's defaults do not rotate, so there is nothing to detect"
    );
    let rotating = [
        ("SIMPLE_JWT__ROTATE_REFRESH_TOKENS", "true"),
        ("SIMPLE_JWT__BLACKLIST_AFTER_ROTATION", "true"),
    ];
    assert!(load_ok(None, &rotating).simple_jwt.detects_refresh_reuse());
    let mut off = rotating.to_vec();
    off.push(("SIMPLE_JWT__REFRESH_TOKEN_REUSE_DETECTION", "false"));
    off.push(("SIMPLE_JWT__REFRESH_TOKEN_REUSE_INTERVAL", "0s"));
    let s = load_ok(None, &off);
    assert!(!s.simple_jwt.detects_refresh_reuse());
    assert_eq!(s.simple_jwt.refresh_token_reuse_interval, Duration::ZERO);
    let err = error_with_secret(
        None,
        &[("SIMPLE_JWT__REFRESH_TOKEN_REUSE_INTERVAL", "soon")],
    );
    assert!(
        err.contains("SIMPLE_JWT.REFRESH_TOKEN_REUSE_INTERVAL"),
        "{err}"
    );
}

#[test]
fn brute_force_defaults_overrides_and_errors() {
    let bf = load_ok(None, &[]).brute_force;
    assert!(bf.enabled);
    assert_eq!((bf.failure_factor, bf.address_failure_factor), (5, 50));
    assert_eq!(bf.wait_increment, Duration::from_secs(60));
    assert_eq!(bf.max_wait, Duration::from_secs(900));
    assert_eq!(bf.failure_reset_time, Duration::from_secs(12 * 3600));

    let bf = load_ok(
        Some("[BRUTE_FORCE]\nFAILURE_FACTOR = 10\nWAIT_INCREMENT = \"30s\"\nMAX_WAIT = \"1h\"\n"),
        &[
            ("BRUTE_FORCE__ENABLED", "false"),
            ("BRUTE_FORCE__ADDRESS_FAILURE_FACTOR", "0"),
            ("BRUTE_FORCE__FAILURE_RESET_TIME", "1d"),
        ],
    )
    .brute_force;
    assert!(!bf.enabled);
    assert_eq!((bf.failure_factor, bf.address_failure_factor), (10, 0));
    assert_eq!(bf.wait_increment, Duration::from_secs(30));
    assert_eq!(bf.max_wait, Duration::from_secs(3600));
    assert_eq!(bf.failure_reset_time, Duration::from_secs(86_400));

    let err = error_with_secret(None, &[("BRUTE_FORCE__FAILURE_FACTOR", "0")]);
    assert!(
        err.contains("BRUTE_FORCE.FAILURE_FACTOR") && err.contains("ENABLED = false"),
        "{err}"
    );
    let err = error_with_secret(None, &[("BRUTE_FORCE__WAIT_INCREMENT", "0")]);
    assert!(
        err.contains("BRUTE_FORCE.WAIT_INCREMENT") && err.contains("at least 1 second"),
        "{err}"
    );
    let err = error_with_secret(Some("[BRUTE_FORCE]\nMAX_WAIT = \"30s\"\n"), &[]);
    assert!(
        err.contains("BRUTE_FORCE.MAX_WAIT") && err.contains("raise MAX_WAIT"),
        "{err}"
    );
    let err = error_with_secret(None, &[("BRUTE_FORCE__LOCKOUT", "1")]);
    assert!(err.contains("BRUTE_FORCE"), "{err}");
}
