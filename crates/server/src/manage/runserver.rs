//! `runserver [ADDRPORT]`: the development server. Unlike the `server` binary it makes up an
//! ephemeral SECRET_KEY when none is configured, and only warns about pending migrations.

use std::fmt;
use std::io::Write;
use std::net::TcpListener;
use std::str::FromStr;
use std::sync::Arc;

use settings::{Secret, Settings};

use super::error::CommandError;
use super::generatesecretkey::random_secret_key;
use super::setup;

/// Django's default address.
const DEFAULT_HOST: &str = "127.0.0.1";
const DEFAULT_PORT: u16 = 8000;
/// Enough for one developer's requests; password hashing runs on actix's blocking pool anyway.
const WORKERS: usize = 2;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Optional port number, or ipaddr:port [default: 127.0.0.1:8000]. Port 0 picks a free port.
    #[arg(value_name = "ADDRPORT")]
    addrport: Option<AddrPort>,
    /// Accepted for compatibility with Django: this server never reloads.
    #[arg(long)]
    noreload: bool,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    let Args {
        addrport,
        noreload: _,
    } = args;
    let addrport = addrport.unwrap_or_default();
    let settings = load_settings()?;
    warn_unapplied_migrations(&settings, out)?;

    let listener =
        TcpListener::bind(addrport.to_string()).map_err(|source| crate::StartupError::Bind {
            addr: addrport.to_string(),
            source,
        })?;
    // The real port when 0 was asked for; the host as typed (e.g. "localhost").
    let port = listener.local_addr()?.port();
    let state = crate::build_state(Arc::new(settings))?;

    let now = chrono::Local::now().format("%B %d, %Y - %X");
    writeln!(
        out,
        "{now}\nStarting development server at http://{host}:{port}/\nAPI docs at \
         http://{host}:{port}/api/docs/\nQuit the server with CONTROL-C.\n",
        host = addrport.host
    )?;
    writeln!(
        out,
        "WARNING: This is a development server. Do not use it in a production setting. Use the \
         'server' binary instead."
    )?;
    out.flush()?;

    actix_web::rt::System::new().block_on(async move {
        crate::serve(vec![listener], state, WORKERS)?.await?;
        Ok::<(), CommandError>(())
    })
}

/// The settings, with a random SECRET_KEY for this run when none is configured.
fn load_settings() -> Result<Settings, CommandError> {
    let ephemeral = Secret::new(random_secret_key());
    let settings = Settings::load_with_fallback_secret(Some(ephemeral.clone()))?;
    if settings.secret_key == ephemeral {
        eprintln!(
            "Warning: SECRET_KEY is not set, so this run uses a random key: tokens issued now \
             will not survive a restart. Set SECRET_KEY (e.g. in .env; './manage \
             generatesecretkey' prints one) to keep them."
        );
    }
    Ok(settings)
}

/// Django's notice; the server starts anyway (and answers 503 while the database is down).
fn warn_unapplied_migrations(settings: &Settings, out: &mut dyn Write) -> Result<(), CommandError> {
    let pending =
        setup::connect(settings).and_then(|mut conn| Ok(users::migrations::pending(&mut conn)?));
    match pending {
        Ok(names) if names.is_empty() => {}
        Ok(names) => writeln!(out, "{}\n", setup::unapplied_message(names.len()))?,
        Err(e) => eprintln!("Warning: cannot check for unapplied migrations: {e}"),
    }
    Ok(())
}

/// Django's `addrport`: `PORT`, `HOST:PORT`, `IPV4:PORT` or `[IPV6]:PORT`; host `0` means 0.0.0.0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrPort {
    /// As it goes in a URL: IPv6 addresses keep their brackets.
    host: String,
    port: u16,
}

impl Default for AddrPort {
    fn default() -> Self {
        AddrPort {
            host: DEFAULT_HOST.to_owned(),
            port: DEFAULT_PORT,
        }
    }
}

impl fmt::Display for AddrPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

impl FromStr for AddrPort {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || format!("\"{s}\" is not a valid port number or address:port pair.");
        let (host, port) = match s.rsplit_once(':') {
            None => (DEFAULT_HOST.to_owned(), s),
            Some((host, port)) => {
                let valid = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
                    Some(v6) => {
                        !v6.is_empty() && v6.chars().all(|c| c.is_ascii_hexdigit() || c == ':')
                    }
                    None => is_hostname(host),
                };
                if !valid {
                    return Err(invalid());
                }
                let host = if host == "0" { "0.0.0.0" } else { host };
                (host.to_owned(), port)
            }
        };
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let port = port
            .parse::<u16>()
            .map_err(|_| format!("\"{port}\" is not a valid port number."))?;
        Ok(AddrPort { host, port })
    }
}

/// An IPv4 address or a host name: dot-separated labels of ASCII letters, digits and hyphens.
fn is_hostname(host: &str) -> bool {
    !host.is_empty()
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<(String, u16), String> {
        s.parse::<AddrPort>().map(|a| (a.host, a.port))
    }

    #[test]
    fn addrport_forms() {
        assert_eq!(parse("8080"), Ok(("127.0.0.1".into(), 8080)));
        assert_eq!(parse("0.0.0.0:8000"), Ok(("0.0.0.0".into(), 8000)));
        assert_eq!(parse("0:8000"), Ok(("0.0.0.0".into(), 8000)));
        assert_eq!(parse("localhost:9000"), Ok(("localhost".into(), 9000)));
        assert_eq!(parse("[::1]:8000"), Ok(("[::1]".into(), 8000)));
        assert_eq!(parse("127.0.0.1:0"), Ok(("127.0.0.1".into(), 0)));
        assert_eq!(AddrPort::default().to_string(), "127.0.0.1:8000");
        assert_eq!(
            "[::1]:80".parse::<AddrPort>().map(|a| a.to_string()),
            Ok("[::1]:80".into())
        );
    }

    #[test]
    fn addrport_errors() {
        for bad in [
            "",
            "abc",
            ":8000",
            "host:",
            "host:port",
            "::1:8000",
            "[]:80",
            "a b:80",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse("70000"),
            Err("\"70000\" is not a valid port number.".into())
        );
    }
}
