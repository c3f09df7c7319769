//! `check [--deploy]`: Django's system check framework applied to this server's settings —
//! consistency checks always, production-safety checks with `--deploy` — in Django's output
//! format, failing (exit 1) when an issue reaches `--fail-level` (default ERROR).
//!
//! Ids are ours (`jwt.E001`, `jwt.W001`, ...), in the style of Django's `security.W009`. The
//! server itself still refuses a known-insecure signing key outside DEBUG (settings validation);
//! this command is for the rest, which is unsafe but not always wrong.

use std::fmt;
use std::io::Write;
use std::time::Duration;

use settings::{Secret, Settings, SimpleJwt};

use super::error::CommandError;
use super::generatesecretkey::random_secret_key;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also check the settings that matter in production (secrets, DEBUG, database, passwords).
    #[arg(long)]
    deploy: bool,
    /// The level at which issues make the command fail.
    #[arg(long, value_enum, default_value_t = Level::Error, ignore_case = true)]
    fail_level: Level,
}

/// Django's message levels, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum Level {
    Debug,
    Info,
    Warning,
    Error,
    Critical,
}

impl Level {
    /// The heading Django groups issues of this level under.
    fn heading(self) -> &'static str {
        match self {
            Level::Debug => "DEBUGS",
            Level::Info => "INFOS",
            Level::Warning => "WARNINGS",
            Level::Error => "ERRORS",
            Level::Critical => "CRITICALS",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
        })
    }
}

/// One finding, as Django's `CheckMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub level: Level,
    pub id: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

/// Django's `str(CheckMessage)`; there is no model object, so it starts with `?:` like Django's
/// settings checks.
impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "?: ({}) {}", self.id, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n\tHINT: {hint}")?;
        }
        Ok(())
    }
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    // As in development: without SECRET_KEY the rest is checked with a random stand-in (as
    // runserver signs with one), and the missing key is one of the issues, not a stop. The
    // stand-in is random, so no check on the key itself can pass or fail because of it.
    let stand_in = Secret::new(random_secret_key());
    let settings = Settings::load_with_fallback_secret(Some(stand_in.clone()))?;
    let mut found = issues(&settings, args.deploy, pgsslmode().as_deref());
    if settings.secret_key == stand_in {
        found.push(missing_secret_key(args.deploy));
    }
    if args.deploy {
        found.extend(services(&settings));
    }
    write!(out, "{}", render(&found))?;
    let serious = found.iter().filter(|i| i.level >= args.fail_level).count();
    if serious > 0 {
        return Err(CommandError::msg(format!(
            "SystemCheckError: {serious} of the issues above are at level {} or higher.",
            args.fail_level
        )));
    }
    Ok(())
}

/// With `--deploy`, what the settings alone cannot tell: the database answers and has every
/// migration this binary embeds (else every login fails), and a Redis cache answers (else every
/// instance counts throttles and lockouts on its own). Run in the release phase after `migrate`.
fn services(settings: &Settings) -> Vec<Issue> {
    let mut found = Vec::new();
    match migrations_state(settings) {
        Ok(0) => {}
        Ok(n) => found.push(issue(
            Level::Error,
            "jwt.E006",
            format!("The database has {n} unapplied migration(s): the server would answer logins with errors and /readyz with 503."),
            "Run './manage migrate' (the Procfile's release phase does).",
        )),
        Err(e) => found.push(issue(
            Level::Warning,
            "jwt.W022",
            format!("The database could not be checked: {e}"),
            "Check DATABASE_URL (DATABASES.URL) and that the database accepts connections from here.",
        )),
    }
    if let Some(e) = redis_unreachable(&settings.caches) {
        found.push(issue(
            Level::Warning,
            "jwt.W023",
            format!("CACHES.URL names a Redis that does not answer ({e}): until it does, each instance counts throttles and brute-force lockouts on its own."),
            "Check CACHES.URL (CACHE_URL) and that Redis accepts connections from here.",
        ));
    }
    found
}

/// How many embedded migrations the configured database lacks. A SQLite file that does not
/// exist lacks them all (and is not created by a check).
fn migrations_state(settings: &Settings) -> Result<usize, CommandError> {
    let target = users::db::Target::parse(&settings.databases.url)?;
    if let users::db::Target::Sqlite(path) = &target {
        if path.as_os_str() != ":memory:" && !path.exists() {
            let mut memory =
                users::db::ConnectionManager::new(users::db::Target::Sqlite(":memory:".into()))
                    .establish()
                    .map_err(|e| CommandError::msg(e.to_string()))?;
            return Ok(users::migrations::unapplied(&mut memory)?.len());
        }
    }
    let mut conn = super::setup::connect(settings)?;
    Ok(users::migrations::unapplied(&mut conn)?.len())
}

/// Why a `redis://` cache does not answer a PING within 2 s; `None` for one that does, or for
/// an in-process cache.
fn redis_unreachable(caches: &settings::Caches) -> Option<String> {
    let url = caches.url.as_str();
    let client = auth::limits::redis_cache::client(caches)?;
    let ping = || -> redis::RedisResult<()> {
        let client = client?;
        let mut conn = client.get_connection_with_timeout(Duration::from_secs(2))?;
        redis::cmd("PING").query::<String>(&mut conn)?;
        Ok(())
    };
    // The error text may quote the URL: show it with its credentials redacted.
    ping()
        .err()
        .map(|e| e.to_string().replace(url, &settings::redact_url(url)))
}

/// libpq's PGSSLMODE, which applies when the URL names no sslmode.
fn pgsslmode() -> Option<String> {
    std::env::var("PGSSLMODE").ok()
}

/// Django's report: "System check identified some issues:", the issues grouped by level (most
/// serious first, sorted within a group), and the count.
pub fn render(issues: &[Issue]) -> String {
    let mut text = String::new();
    if !issues.is_empty() {
        text.push_str("System check identified some issues:\n");
    }
    for level in [
        Level::Critical,
        Level::Error,
        Level::Warning,
        Level::Info,
        Level::Debug,
    ] {
        let mut group: Vec<String> = issues
            .iter()
            .filter(|i| i.level == level)
            .map(Issue::to_string)
            .collect();
        if group.is_empty() {
            continue;
        }
        group.sort();
        text.push_str(&format!("\n{}:\n{}\n", level.heading(), group.join("\n")));
    }
    if !issues.is_empty() {
        text.push('\n');
    }
    let count = match issues.len() {
        0 => "no issues".to_owned(),
        1 => "1 issue".to_owned(),
        n => format!("{n} issues"),
    };
    text.push_str(&format!("System check identified {count} (0 silenced).\n"));
    text
}

/// Every check on `settings`; the deploy ones only with `deploy`. `pgsslmode` is the PGSSLMODE
/// environment variable (passed in so that tests need not set it).
pub fn issues(settings: &Settings, deploy: bool, pgsslmode: Option<&str>) -> Vec<Issue> {
    let mut found = token_lifetimes(&settings.simple_jwt);
    if deploy {
        found.extend(secrets(settings));
        found.extend(database(&settings.databases.url, pgsslmode));
        found.extend(passwords(settings));
        found.extend(cookies(&settings.rest_auth));
        found.extend(brute_force(settings));
        found.extend(throttles(settings));
        found.extend(trusted_proxies(&settings.server.trusted_proxies));
        found.extend(jwk_url(&settings.simple_jwt));
    }
    found
}

/// No SECRET_KEY: fine for runserver (a random key per run), fatal for the `server` binary.
fn missing_secret_key(deploy: bool) -> Issue {
    let hint = "Add SECRET_KEY=<random string of 50+ characters> to .env or the environment; './manage generatesecretkey' prints one.";
    if deploy {
        issue(
            Level::Error,
            "jwt.E005",
            "SECRET_KEY is not set: the server refuses to start without it.".into(),
            hint,
        )
    } else {
        issue(
            Level::Warning,
            "jwt.W016",
            "SECRET_KEY is not set: runserver signs with a random key for each run, so tokens do not survive a restart, and the server binary refuses to start.".into(),
            hint,
        )
    }
}

fn issue(level: Level, id: &'static str, message: String, hint: &str) -> Issue {
    Issue {
        level,
        id,
        message,
        hint: Some(hint.to_owned()).filter(|h| !h.is_empty()),
    }
}

const ONE_HOUR: Duration = Duration::from_secs(60 * 60);
const ONE_MINUTE: Duration = Duration::from_secs(60);

/// How long a stolen token stays useful.
fn token_lifetimes(jwt: &SimpleJwt) -> Vec<Issue> {
    let mut found = Vec::new();
    if jwt.rotate_refresh_tokens && !jwt.blacklist_after_rotation {
        found.push(issue(
            Level::Warning,
            "jwt.W001",
            "SIMPLE_JWT.ROTATE_REFRESH_TOKENS is on but BLACKLIST_AFTER_ROTATION is off: a refresh token stays usable after it has been rotated, so a stolen one keeps working alongside the new one until it expires.".into(),
            "Set SIMPLE_JWT.BLACKLIST_AFTER_ROTATION = true.",
        ));
    }
    if jwt.access_token_lifetime > ONE_HOUR {
        found.push(issue(
            Level::Warning,
            "jwt.W002",
            format!(
                "SIMPLE_JWT.ACCESS_TOKEN_LIFETIME is {}: access tokens cannot be revoked before they expire (blacklisting ends refresh tokens only), so a stolen one works that long.",
                human(jwt.access_token_lifetime)
            ),
            "Keep it at an hour or less (simplejwt's default is 5 minutes); clients refresh.",
        ));
    }
    if jwt.leeway > ONE_MINUTE {
        found.push(issue(
            Level::Warning,
            "jwt.W003",
            format!(
                "SIMPLE_JWT.LEEWAY is {}: every token is accepted that long after it expires (and before its nbf/iat).",
                human(jwt.leeway)
            ),
            "LEEWAY only needs to cover clock skew between servers: a few seconds, at most a minute.",
        ));
    }
    found
}

/// The keys that sign tokens, and DEBUG, which relaxes the server's own key checks.
fn secrets(settings: &Settings) -> Vec<Issue> {
    let jwt = &settings.simple_jwt;
    let mut found = Vec::new();
    if settings.debug {
        found.push(issue(
            Level::Error,
            "jwt.E004",
            "DEBUG is true: the server then starts with a placeholder or too-short signing key, only warning about it.".into(),
            "Never run with DEBUG in production: unset it or set DEBUG = false.",
        ));
    }
    let hmac_key_is_secret_key = jwt.algorithm.is_hmac() && jwt.signing_key == settings.secret_key;
    if jwt.algorithm.is_hmac() {
        let which = if hmac_key_is_secret_key {
            "SECRET_KEY (which signs the tokens, as SIMPLE_JWT.SIGNING_KEY is not set)"
        } else {
            "SIMPLE_JWT.SIGNING_KEY"
        };
        let key = jwt.signing_key.expose();
        let generate = "Generate one with './manage generatesecretkey' (50 random characters).";
        if settings::is_insecure_secret(&jwt.signing_key) {
            found.push(issue(
                Level::Error,
                "jwt.E001",
                format!(
                    "{which} is a placeholder or well-known value: anyone can sign tokens with it."
                ),
                generate,
            ));
        } else if key.len() < jwt.algorithm.min_hmac_key_len() {
            found.push(issue(
                Level::Error,
                "jwt.E002",
                format!(
                    "{which} has {} bytes, fewer than the {} of a {} hash: it can be brute-forced from any token.",
                    key.len(),
                    jwt.algorithm.min_hmac_key_len(),
                    jwt.algorithm
                ),
                generate,
            ));
        }
        if key.trim_start().starts_with("-----BEGIN") {
            found.push(issue(
                Level::Error,
                "jwt.E003",
                format!("{which} is a PEM key, used as an {} secret: if it is (or matches) a published public key, anyone can sign tokens with it (HS/RS key confusion).", jwt.algorithm),
                "Use a random secret for HS256/HS384/HS512, or set ALGORITHM to RS256/ES256/EdDSA to sign with the private key.",
            ));
        }
        if jwt.verifying_key.is_some() {
            found.push(issue(
                Level::Warning,
                "jwt.W005",
                format!("SIMPLE_JWT.VERIFYING_KEY is set but {} tokens are verified with the signing secret, never with it.", jwt.algorithm),
                "Remove VERIFYING_KEY, or use an asymmetric ALGORITHM if others must verify tokens.",
            ));
        }
    }
    let secret = settings.secret_key.expose();
    let distinct = secret
        .chars()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    // Django's security.W009, for a SECRET_KEY that the checks above have not judged already.
    if !hmac_key_is_secret_key
        && (secret.chars().count() < 50
            || distinct < 5
            || settings::is_insecure_secret(&settings.secret_key))
    {
        found.push(issue(
            Level::Warning,
            "jwt.W004",
            "SECRET_KEY has fewer than 50 characters, fewer than 5 distinct characters, or is a placeholder.".into(),
            "Generate one with './manage generatesecretkey'.",
        ));
    }
    found
}

/// Where the users and the token blacklist live.
fn database(url: &str, pgsslmode: Option<&str>) -> Vec<Issue> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Vec::new();
    };
    if scheme == "sqlite" {
        return vec![issue(
            Level::Warning,
            "jwt.W006",
            "DATABASES.URL is a SQLite file: one machine only, and several server instances cannot share it.".into(),
            "Use PostgreSQL in production (DATABASE_URL=postgres://...).",
        )];
    }
    let encrypted = |mode: &str| matches!(mode, "require" | "verify-ca" | "verify-full");
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
    };
    let authority = before_query.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = param("host").unwrap_or(match host_port.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => host,
        _ => host_port,
    });
    // Unix sockets and the loopback interface never leave the machine.
    let local = host.is_empty()
        || host.starts_with('/')
        || host.starts_with("%2F")
        || host.starts_with("%2f")
        || matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1");
    let mode = param("sslmode").or(pgsslmode).unwrap_or("prefer");
    if local || encrypted(mode) {
        return Vec::new();
    }
    vec![issue(
        Level::Warning,
        "jwt.W007",
        format!("DATABASES.URL connects to PostgreSQL with sslmode={mode}: password hashes and token records may cross the network unencrypted, and a man in the middle is not detected."),
        "Add ?sslmode=verify-full (or at least sslmode=require) to DATABASE_URL, or set PGSSLMODE.",
    )]
}

/// How new passwords are judged and stored.
fn passwords(settings: &Settings) -> Vec<Issue> {
    let mut found = Vec::new();
    if settings.auth_password_validators.is_empty() {
        found.push(issue(
            Level::Warning,
            "jwt.W008",
            "AUTH_PASSWORD_VALIDATORS is empty: any password is accepted, including \"password\" and \"123\".".into(),
            "Remove the setting to get Django's four validators, or list the ones you want.",
        ));
    }
    if settings.passwords.bcrypt_rounds < 10 {
        found.push(issue(
            Level::Warning,
            "jwt.W009",
            format!(
                "PASSWORDS.BCRYPT_ROUNDS is {}: each guess at a stolen password hash is cheap.",
                settings.passwords.bcrypt_rounds
            ),
            "Use Django's 12 (the default) or more; low costs are for tests.",
        ));
    }
    found
}

/// `[BRUTE_FORCE]`: password guessing is limited only while the lockout is on, and only as
/// well as its counters are shared.
fn brute_force(settings: &Settings) -> Vec<Issue> {
    if !settings.brute_force.enabled {
        return vec![issue(
            Level::Warning,
            "jwt.W014",
            "BRUTE_FORCE.ENABLED is false: failed logins are never locked out, so passwords can be guessed as fast as bcrypt allows.".into(),
            "Remove the setting (the lockout is on by default).",
        )];
    }
    let several_processes = settings.server.workers.is_none_or(|n| n > 1);
    if several_processes && !settings.caches.url.starts_with("redis") {
        return vec![issue(
            Level::Warning,
            "jwt.W015",
            "CACHES.URL keeps the brute-force counters in each worker process: with several workers, a guesser gets FAILURE_FACTOR tries per worker.".into(),
            "Set CACHES.URL (or CACHE_URL) to a redis:// URL shared by every worker and instance, or run WORKERS = 1.",
        )];
    }
    Vec::new()
}

/// DEFAULT_THROTTLE_CLASSES limit only as well as their counters are shared (`jwt.W015` is the
/// same for the brute-force lockout).
fn throttles(settings: &Settings) -> Vec<Issue> {
    let rf = &settings.rest_framework;
    let throttled = !rf.default_throttle_classes.is_empty()
        && rf.default_throttle_rates.values().any(Option::is_some);
    let several_processes = settings.server.workers.is_none_or(|n| n > 1);
    if throttled && several_processes && !settings.caches.url.starts_with("redis") {
        return vec![issue(
            Level::Warning,
            "jwt.W024",
            "CACHES.URL keeps the throttle counters in each worker process: with several workers, each lets the whole rate through (a login rate of 5/min lets 5 per worker through).".into(),
            "Set CACHES.URL (or CACHE_URL; REDIS_URL is read too) to a redis:// or rediss:// URL shared by every worker and instance, or run WORKERS = 1.",
        )];
    }
    Vec::new()
}

/// `SERVER.TRUSTED_PROXIES`: an entry matching every address lets any peer that reaches the
/// server name the client (the lockouts and throttles count by that address).
fn trusted_proxies(trusted: &[settings::TrustedProxy]) -> Vec<Issue> {
    let Some(all) = trusted
        .iter()
        .find(|t| crate::middleware::proxy::matches_everything(t))
    else {
        return Vec::new();
    };
    let all = match all {
        settings::TrustedProxy::Any => "*".to_owned(),
        net => net.to_string(),
    };
    vec![issue(
        Level::Warning,
        "jwt.W020",
        format!("SERVER.TRUSTED_PROXIES contains {all:?}: every peer may set the client address (X-Forwarded-For) and scheme (X-Forwarded-Proto); only the right-most X-Forwarded-For hop is believed, so a client that reaches the server directly picks its own address for the lockouts and throttles."),
        "List the proxies' addresses or networks instead (e.g. \"10.0.0.0/8\"), and let nothing else reach the server.",
    )]
}

/// `JWK_URL`: the issuer's keys sign tokens for every application it serves, so without AUDIENCE
/// (and ISSUER) this server accepts tokens minted for the others. The URL itself is not shown:
/// it may carry credentials.
fn jwk_url(jwt: &SimpleJwt) -> Vec<Issue> {
    if jwt.jwk_url.is_none() {
        return Vec::new();
    }
    let missing: Vec<&str> = [
        ("AUDIENCE", jwt.audience.is_none()),
        ("ISSUER", jwt.issuer.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, unset)| unset.then_some(name))
    .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    vec![issue(
        Level::Warning,
        "jwt.W021",
        format!(
            "SIMPLE_JWT.JWK_URL is set without {}: any token signed with the issuer's keys is accepted, including tokens it issued for other applications or another tenant.",
            missing.join(" or ")
        ),
        "Set SIMPLE_JWT.AUDIENCE to this API's identifier and SIMPLE_JWT.ISSUER to the issuer's `iss` value.",
    )]
}

/// The token cookies of `[REST_AUTH]` (nothing to say while no cookie is named).
fn cookies(ra: &settings::RestAuth) -> Vec<Issue> {
    let mut found = Vec::new();
    if !ra.uses_cookies() {
        return found;
    }
    if !ra.jwt_auth_secure {
        found.push(issue(
            Level::Warning,
            "jwt.W010",
            "REST_AUTH.JWT_AUTH_SECURE is false: browsers also send the token cookies over plain HTTP, where anyone on the network can read them.".into(),
            "Set REST_AUTH.JWT_AUTH_SECURE = true (the default) and serve the site over HTTPS only.",
        ));
    }
    if ra.jwt_auth_samesite == settings::SameSite::None {
        let hint = if ra.jwt_auth_secure {
            "Use \"Lax\" (the default) unless another site must send these cookies."
        } else {
            "Browsers refuse SameSite=None cookies without Secure: set REST_AUTH.JWT_AUTH_SECURE = true, or use \"Lax\"."
        };
        found.push(issue(
            Level::Warning,
            "jwt.W011",
            format!(
                "REST_AUTH.JWT_AUTH_SAMESITE is \"None\"{}: every other site can make the browser send the token cookies, so only the CSRF check stands between them and the API.",
                if ra.jwt_auth_secure { "" } else { " without JWT_AUTH_SECURE" }
            ),
            hint,
        ));
    }
    if !ra.jwt_auth_cookie_use_csrf {
        found.push(issue(
            Level::Warning,
            "jwt.W012",
            "REST_AUTH.JWT_AUTH_COOKIE_USE_CSRF is false: requests authenticated by a cookie are not checked for CSRF, so SameSite alone protects them.".into(),
            "Set REST_AUTH.JWT_AUTH_COOKIE_USE_CSRF = true (the default).",
        ));
    }
    if !ra.jwt_auth_httponly {
        found.push(issue(
            Level::Warning,
            "jwt.W013",
            "REST_AUTH.JWT_AUTH_HTTPONLY is false: scripts can read the token cookies, so one XSS flaw hands the tokens out.".into(),
            "Set REST_AUTH.JWT_AUTH_HTTPONLY = true (the default).",
        ));
    }
    found
}

/// "2h", "90s": durations as an operator writes them.
fn human(d: Duration) -> String {
    humantime_like(d.as_secs())
}

fn humantime_like(secs: u64) -> String {
    match secs {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "x7#k2!pQ9@vL4$mN8&wR1*zT6^yU3(bH5)cJ0-eF_gA+dS=qW-Z";

    fn load(pairs: &[(&str, &str)]) -> Settings {
        let mut env = vec![
            ("SECRET_KEY".to_owned(), GOOD.to_owned()),
            (
                "DATABASE_URL".to_owned(),
                "postgres://app:pw@db.internal/app?sslmode=verify-full".to_owned(),
            ),
            (
                "CACHES__URL".to_owned(),
                "redis://cache.internal:6379/0".to_owned(),
            ),
        ];
        env.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Settings::from_sources(None, &env).unwrap()
    }

    fn ids(settings: &Settings, deploy: bool) -> Vec<&'static str> {
        let mut ids: Vec<_> = issues(settings, deploy, None)
            .iter()
            .map(|i| i.id)
            .collect();
        ids.sort_unstable();
        ids
    }

    #[test]
    fn a_production_configuration_is_clean() {
        assert_eq!(ids(&load(&[]), true), Vec::<&str>::new());
        assert_eq!(
            render(&[]),
            "System check identified no issues (0 silenced).\n"
        );
    }

    #[test]
    fn token_settings() {
        let s = load(&[
            ("SIMPLE_JWT__ROTATE_REFRESH_TOKENS", "true"),
            ("SIMPLE_JWT__ACCESS_TOKEN_LIFETIME", "2h"),
            ("SIMPLE_JWT__LEEWAY", "5m"),
        ]);
        assert_eq!(ids(&s, false), ["jwt.W001", "jwt.W002", "jwt.W003"]);
        let ok = load(&[
            ("SIMPLE_JWT__ACCESS_TOKEN_LIFETIME", "1h"),
            ("SIMPLE_JWT__LEEWAY", "60"),
        ]);
        assert_eq!(
            ids(&ok, false),
            Vec::<&str>::new(),
            "boundaries are allowed"
        );
    }

    #[test]
    fn secrets_only_with_deploy() {
        let s = load(&[
            ("DEBUG", "true"),
            (
                "SECRET_KEY",
                "change-me-please-change-me-please-change-me-please",
            ),
        ]);
        assert_eq!(ids(&s, false), Vec::<&str>::new());
        assert_eq!(ids(&s, true), ["jwt.E001", "jwt.E004"]);
        let short = load(&[
            ("DEBUG", "true"),
            ("SECRET_KEY", "abcdefghijklmnopqrstuvwxyz"),
        ]);
        assert_eq!(ids(&short, true), ["jwt.E002", "jwt.E004"]);
        let pem = format!("-----BEGIN PUBLIC KEY-----\n{GOOD}\n-----END PUBLIC KEY-----");
        let confused = load(&[("SIMPLE_JWT__SIGNING_KEY", &pem)]);
        assert_eq!(ids(&confused, true), ["jwt.E003"]);
        // A separate signing key leaves SECRET_KEY to Django's own rule.
        let weak_secret = load(&[
            ("DEBUG", "false"),
            ("SECRET_KEY", "short-but-random-Qx9"),
            ("SIMPLE_JWT__SIGNING_KEY", GOOD),
        ]);
        assert_eq!(ids(&weak_secret, true), ["jwt.W004"]);
    }

    #[test]
    fn databases() {
        let at = |url: &str, mode: Option<&str>| {
            database(url, mode).iter().map(|i| i.id).collect::<Vec<_>>()
        };
        assert_eq!(at("sqlite:///db.sqlite3", None), ["jwt.W006"]);
        assert_eq!(
            at("postgres://u:p@db.example.com:5432/app", None),
            ["jwt.W007"]
        );
        assert_eq!(
            at("postgres://u:p@db.example.com/app?sslmode=disable", None),
            ["jwt.W007"]
        );
        assert_eq!(
            at("postgres://u:p@db.example.com/app?sslmode=require", None),
            Vec::<&str>::new()
        );
        assert_eq!(
            at("postgres://u:p@db.example.com/app", Some("verify-full")),
            Vec::<&str>::new()
        );
        assert_eq!(
            at(
                "postgres://u:p@db.example.com/app?sslmode=prefer",
                Some("require")
            ),
            ["jwt.W007"],
            "the URL wins"
        );
        for local in [
            "postgres://u:p@localhost/app",
            "postgres://u:p@127.0.0.1:5432/app",
            "postgresql://u@[::1]:5432/app",
            "postgres:///app?host=/var/run/postgresql",
            "postgres://%2Fvar%2Frun%2Fpostgresql/app",
        ] {
            assert_eq!(at(local, None), Vec::<&str>::new(), "{local}");
        }
    }

    #[test]
    fn brute_force_lockout() {
        assert_eq!(
            ids(&load(&[("BRUTE_FORCE__ENABLED", "false")]), true),
            ["jwt.W014"]
        );
        let local = &[("CACHES__URL", "locmem://")];
        assert_eq!(ids(&load(local), true), ["jwt.W015"]);
        let one_worker = &[("CACHES__URL", "locmem://"), ("SERVER__WORKERS", "1")];
        assert_eq!(ids(&load(one_worker), true), Vec::<&str>::new());
        assert_eq!(ids(&load(local), false), Vec::<&str>::new(), "deploy only");
    }

    #[test]
    fn throttles_counted_per_process() {
        const CLASSES: &str = "REST_FRAMEWORK__DEFAULT_THROTTLE_CLASSES";
        const RATES: &str = "REST_FRAMEWORK__DEFAULT_THROTTLE_RATES";
        let throttled = [
            (CLASSES, r#"["ScopedRateThrottle"]"#),
            (RATES, r#"{ login = "5/min" }"#),
            ("BRUTE_FORCE__ENABLED", "false"),
        ];
        let local = [
            throttled[0],
            throttled[1],
            throttled[2],
            ("CACHES__URL", "locmem://"),
        ];
        assert_eq!(ids(&load(&local), true), ["jwt.W014", "jwt.W024"]);
        let text = render(&issues(&load(&local), true, None));
        assert!(text.contains("REDIS_URL is read too"), "{text}");
        // Shared counters, one process, or no rate: nothing to say.
        assert_eq!(ids(&load(&throttled), true), ["jwt.W014"]);
        let one = [
            local[0],
            local[1],
            local[2],
            local[3],
            ("SERVER__WORKERS", "1"),
        ];
        assert_eq!(ids(&load(&one), true), ["jwt.W014"]);
        let no_rate = [
            local[0],
            (RATES, r#"{ login = "None" }"#),
            local[2],
            local[3],
        ];
        assert_eq!(ids(&load(&no_rate), true), ["jwt.W014"]);
    }

    #[test]
    fn any_trusted_proxy() {
        for all in ["*", "10.0.0.1,*", "0.0.0.0/0", "::/0"] {
            let s = load(&[("SERVER__TRUSTED_PROXIES", all)]);
            assert_eq!(ids(&s, true), ["jwt.W020"], "{all}");
            assert_eq!(ids(&s, false), Vec::<&str>::new(), "deploy only");
        }
        let named = load(&[("SERVER__TRUSTED_PROXIES", "10.0.0.0/8,::1")]);
        assert_eq!(ids(&named, true), Vec::<&str>::new());
        let text = render(&issues(
            &load(&[("SERVER__TRUSTED_PROXIES", "*")]),
            true,
            None,
        ));
        assert!(text.contains("TRUSTED_PROXIES contains \"*\""), "{text}");
    }

    #[test]
    fn jwk_url_without_audience_or_issuer() {
        let signing = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/keys/rsa.pem");
        let jwks = [
            ("SIMPLE_JWT__ALGORITHM", "RS256"),
            ("SIMPLE_JWT__SIGNING_KEY", signing),
            (
                "SIMPLE_JWT__JWK_URL",
                "https://svc:s3cr3t@issuer.example/.well-known/jwks.json",
            ),
        ];
        let bare = load(&jwks);
        assert_eq!(ids(&bare, true), ["jwt.W021"]);
        assert_eq!(ids(&bare, false), Vec::<&str>::new(), "deploy only");
        let text = render(&issues(&bare, true, None));
        assert!(text.contains("without AUDIENCE or ISSUER"), "{text}");
        assert!(!text.contains("s3cr3t"), "{text}");
        let audience_only = load(&[jwks[0], jwks[1], jwks[2], ("SIMPLE_JWT__AUDIENCE", "api")]);
        let text = render(&issues(&audience_only, true, None));
        assert!(text.contains("set without ISSUER:"), "{text}");
        let both = load(&[
            jwks[0],
            jwks[1],
            jwks[2],
            ("SIMPLE_JWT__AUDIENCE", "api"),
            ("SIMPLE_JWT__ISSUER", "https://issuer.example/"),
        ]);
        assert_eq!(ids(&both, true), Vec::<&str>::new());
    }

    #[test]
    fn passwords_policy() {
        let s = load(&[
            ("AUTH_PASSWORD_VALIDATORS", "[]"),
            ("PASSWORDS__BCRYPT_ROUNDS", "4"),
        ]);
        assert_eq!(ids(&s, true), ["jwt.W008", "jwt.W009"]);
    }

    #[test]
    fn cookies_only_when_named() {
        let off = load(&[
            ("REST_AUTH__JWT_AUTH_SECURE", "false"),
            ("REST_AUTH__JWT_AUTH_SAMESITE", "None"),
        ]);
        assert_eq!(ids(&off, true), Vec::<&str>::new(), "no cookie is set");
        let on = [("REST_AUTH__JWT_AUTH_COOKIE", "access")];
        assert_eq!(ids(&load(&on), true), Vec::<&str>::new());
        let insecure = load(&[
            on[0],
            ("REST_AUTH__JWT_AUTH_SECURE", "false"),
            ("REST_AUTH__JWT_AUTH_SAMESITE", "None"),
        ]);
        assert_eq!(ids(&insecure, false), Vec::<&str>::new());
        assert_eq!(ids(&insecure, true), ["jwt.W010", "jwt.W011"]);
        let text = render(&issues(&insecure, true, None));
        assert!(text.contains("\"None\" without JWT_AUTH_SECURE"), "{text}");
        let lax = load(&[
            ("REST_AUTH__JWT_AUTH_REFRESH_COOKIE", "refresh"),
            ("REST_AUTH__JWT_AUTH_SAMESITE", "None"),
            ("REST_AUTH__JWT_AUTH_COOKIE_USE_CSRF", "false"),
            ("REST_AUTH__JWT_AUTH_HTTPONLY", "false"),
        ]);
        assert_eq!(ids(&lax, true), ["jwt.W011", "jwt.W012", "jwt.W013"]);
    }

    #[test]
    fn djangos_format() {
        let issues = [
            issue(Level::Warning, "jwt.W002", "second".into(), ""),
            issue(Level::Error, "jwt.E001", "bad".into(), "fix it"),
            issue(Level::Warning, "jwt.W001", "first".into(), ""),
        ];
        assert_eq!(
            render(&issues),
            "System check identified some issues:\n\
             \n\
             ERRORS:\n\
             ?: (jwt.E001) bad\n\
             \tHINT: fix it\n\
             \n\
             WARNINGS:\n\
             ?: (jwt.W001) first\n\
             ?: (jwt.W002) second\n\
             \n\
             System check identified 3 issues (0 silenced).\n"
        );
        assert_eq!(
            render(&issues[..1]).lines().last(),
            Some("System check identified 1 issue (0 silenced).")
        );
    }

    #[test]
    fn a_missing_secret_key_is_a_warning_in_development_and_an_error_for_deploy() {
        let dev = missing_secret_key(false);
        assert_eq!((dev.level, dev.id), (Level::Warning, "jwt.W016"));
        assert!(dev.message.starts_with("SECRET_KEY is not set"));
        let deploy = missing_secret_key(true);
        assert_eq!((deploy.level, deploy.id), (Level::Error, "jwt.E005"));
    }
}
