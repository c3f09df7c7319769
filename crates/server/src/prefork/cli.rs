//! The `server` command line (gunicorn's flags) and the configuration it resolves to: settings
//! from settings.toml and the environment, then each flag given overriding its `[SERVER]` key.

use std::time::Duration;

use clap::Parser;

use settings::{LogDestination, Settings, TrustedProxy};

/// Serves the JWT API (simplejwt's endpoints) over HTTP with a master process and worker
/// processes, like gunicorn. Every flag overrides the `[SERVER]` setting of the same name.
///
/// Signals to the master: TERM or INT stop gracefully (a second one stops at once), QUIT stops at
/// once, HUP reloads settings.toml and replaces the workers without dropping a request, TTIN and
/// TTOU add or remove a worker.
#[derive(Debug, Clone, Parser)]
#[command(name = "server", version, about, long_about)]
pub struct Args {
    /// Address to listen on: HOST:PORT or unix:/path.sock; repeat for several. Default:
    /// SERVER.BIND (127.0.0.1:8000, or 0.0.0.0:$PORT when PORT is set, as on Heroku).
    #[arg(long, short = 'b', value_name = "ADDRESS")]
    pub bind: Vec<String>,
    /// Worker processes. Default: SERVER.WORKERS, WEB_CONCURRENCY, else the number of cores.
    #[arg(long, short = 'w', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: Option<u16>,
    /// Request-handling threads in each worker process [SERVER.THREADS, default 1].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// A request running longer is answered 503 and abandoned, and a worker sending no heartbeat
    /// that long is killed and replaced; 0 = no limit [SERVER.TIMEOUT, default 30s].
    #[arg(long, short = 't', value_name = "DURATION", value_parser = settings::parse_duration)]
    pub timeout: Option<Duration>,
    /// How long stopping workers may finish their requests [SERVER.GRACEFUL_TIMEOUT, default 30s].
    #[arg(long, value_name = "DURATION", value_parser = settings::parse_duration)]
    pub graceful_timeout: Option<Duration>,
    /// How long an idle connection stays open; 0 = close after each response
    /// [SERVER.KEEP_ALIVE, default 5s].
    #[arg(long, value_name = "DURATION", value_parser = settings::parse_duration)]
    pub keep_alive: Option<Duration>,
    /// Largest request body in bytes; larger ones get 413 [SERVER.MAX_BODY_SIZE, default 2621440].
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_body_size: Option<u64>,
    /// Longest request line in bytes, larger ones get 414; 0 = no limit
    /// [SERVER.LIMIT_REQUEST_LINE, default 4094, at most 8190].
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u16).range(0..=8190))]
    pub limit_request_line: Option<u16>,
    /// Most header fields in a request, more get 431; 0 = 32768
    /// [SERVER.LIMIT_REQUEST_FIELDS, default 100, at most 32768].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(0..=32768))]
    pub limit_request_fields: Option<u16>,
    /// Longest header field in bytes, larger ones get 431; 0 = no limit
    /// [SERVER.LIMIT_REQUEST_FIELD_SIZE, default 8190].
    #[arg(
        long = "limit-request-field_size",
        alias = "limit-request-field-size",
        value_name = "BYTES"
    )]
    pub limit_request_field_size: Option<u32>,
    /// Access log: a file, `-` for stdout, or an empty string for none [SERVER.ACCESS_LOG, default -].
    #[arg(long, value_name = "FILE")]
    pub access_log: Option<String>,
    /// Error log: a file, `-` for stderr, or an empty string for none [SERVER.ERROR_LOG, default -].
    #[arg(long, value_name = "FILE")]
    pub error_log: Option<String>,
    /// Proxies whose X-Forwarded-For/-Proto are believed, comma-separated addresses or networks,
    /// `*` for any (gunicorn's --forwarded-allow-ips) [SERVER.TRUSTED_PROXIES, default 127.0.0.1,::1].
    #[arg(long, value_name = "LIST", value_parser = parse_proxies, alias = "forwarded-allow-ips")]
    pub trusted_proxies: Option<ProxyList>,
    #[command(flatten)]
    pub worker: WorkerArgs,
}

/// How the master tells a worker process what it inherited. Not for people: hidden from --help.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WorkerArgs {
    /// Run as a worker serving these inherited sockets (`tcp:FD` or `unix:FD`).
    #[arg(long = "worker-listen", hide = true, value_name = "SPEC")]
    pub listen: Vec<String>,
    /// Descriptor of the pipe to write `ready PID` into once serving.
    #[arg(long = "worker-ready-fd", hide = true, value_name = "FD")]
    pub ready_fd: Option<i32>,
    /// The master's pid: a worker whose parent is already gone exits instead of serving.
    #[arg(long = "worker-master-pid", hide = true, value_name = "PID")]
    pub master_pid: Option<i32>,
    /// Descriptor of the file to beat in (see `crate::prefork::heartbeat`); none: no heartbeat.
    #[arg(long = "worker-heartbeat-fd", hide = true, value_name = "FD")]
    pub heartbeat_fd: Option<i32>,
    /// How often to beat: the master's choice, so that it matches the timeout it enforces even
    /// when the settings file changed after the master read it.
    #[arg(
        long = "worker-heartbeat-interval",
        hide = true,
        value_name = "DURATION",
        value_parser = settings::parse_duration
    )]
    pub heartbeat_interval: Option<Duration>,
}

impl WorkerArgs {
    pub fn is_worker(&self) -> bool {
        !self.listen.is_empty()
    }
}

/// The flag names the master adds when starting a worker; the rest of its command line is the
/// master's own.
pub const WORKER_LISTEN: &str = "--worker-listen";
pub const WORKER_READY_FD: &str = "--worker-ready-fd";
pub const WORKER_MASTER_PID: &str = "--worker-master-pid";
pub const WORKER_HEARTBEAT_FD: &str = "--worker-heartbeat-fd";
pub const WORKER_HEARTBEAT_INTERVAL: &str = "--worker-heartbeat-interval";

/// `--trusted-proxies` as one comma-separated value (a newtype, so clap takes it whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyList(pub Vec<TrustedProxy>);

fn parse_proxies(text: &str) -> Result<ProxyList, String> {
    text.split(',')
        .filter(|item| !item.trim().is_empty())
        .map(TrustedProxy::parse)
        .collect::<Result<_, _>>()
        .map(ProxyList)
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    #[error("--max-body-size {0} is too large for this machine")]
    BodySize(u64),
}

/// Everything a master or worker process runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Settings with the command line's overrides applied to `server`.
    pub settings: Settings,
    /// Worker processes to run.
    pub workers: usize,
}

impl Config {
    /// Settings (`.env`, settings.toml or SETTINGS_FILE, environment), then the flags.
    pub fn load(args: &Args) -> Result<Config, ConfigError> {
        let mut settings = Settings::load()?;
        args.apply(&mut settings.server)?;
        let workers = settings
            .server
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        Ok(Config { settings, workers })
    }
}

impl Args {
    /// Overrides each `[SERVER]` key whose flag was given.
    pub fn apply(&self, server: &mut settings::Server) -> Result<(), ConfigError> {
        if !self.bind.is_empty() {
            server.bind = self.bind.clone();
        }
        if let Some(n) = self.workers {
            server.workers = Some(usize::from(n));
        }
        if let Some(n) = self.threads {
            server.threads = usize::from(n);
        }
        if let Some(limit) = self.timeout {
            server.timeout = limit;
        }
        if let Some(limit) = self.graceful_timeout {
            server.graceful_timeout = limit;
        }
        if let Some(idle) = self.keep_alive {
            server.keep_alive = idle;
        }
        if let Some(bytes) = self.max_body_size {
            server.max_body_size =
                usize::try_from(bytes).map_err(|_| ConfigError::BodySize(bytes))?;
        }
        if let Some(n) = self.limit_request_line {
            server.limit_request_line = usize::from(n);
        }
        if let Some(n) = self.limit_request_fields {
            server.limit_request_fields = usize::from(n);
        }
        if let Some(n) = self.limit_request_field_size {
            server.limit_request_field_size = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(dest) = &self.access_log {
            server.access_log = LogDestination::parse(dest);
        }
        if let Some(dest) = &self.error_log {
            server.error_log = LogDestination::parse(dest);
        }
        if let Some(ProxyList(proxies)) = &self.trusted_proxies {
            server.trusted_proxies = proxies.clone();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Args::command().debug_assert();
    }

    #[test]
    fn flags_override_settings() {
        let args = Args::parse_from([
            "server",
            "--bind",
            "127.0.0.1:0",
            "-b",
            "unix:/tmp/a.sock",
            "-w",
            "3",
            "--timeout",
            "1.5",
            "--graceful-timeout",
            "10s",
            "--keep-alive",
            "0",
            "--max-body-size",
            "100",
            "--limit-request-line",
            "0",
            "--limit-request-fields",
            "20",
            "--limit-request-field_size",
            "16384",
            "--access-log",
            "",
            "--error-log",
            "/tmp/err.log",
            "--forwarded-allow-ips",
            "10.0.0.0/8,::1",
        ]);
        let mut server = settings::Server::default();
        args.apply(&mut server).unwrap();
        assert_eq!(server.bind, ["127.0.0.1:0", "unix:/tmp/a.sock"]);
        assert_eq!(server.workers, Some(3));
        assert_eq!(server.timeout, Duration::from_millis(1500));
        assert_eq!(server.graceful_timeout, Duration::from_secs(10));
        assert_eq!(server.keep_alive, Duration::ZERO);
        assert_eq!(server.max_body_size, 100);
        assert_eq!(server.limit_request_line, 0);
        assert_eq!(server.limit_request_fields, 20);
        assert_eq!(server.limit_request_field_size, 16384);
        assert_eq!(server.access_log, LogDestination::Off);
        assert_eq!(
            server.error_log,
            LogDestination::File("/tmp/err.log".into())
        );
        assert_eq!(server.trusted_proxies.len(), 2);
        assert!(!args.worker.is_worker());
    }

    #[test]
    fn unset_flags_keep_settings() {
        let mut server = settings::Server::default();
        Args::parse_from(["server"]).apply(&mut server).unwrap();
        assert_eq!(server, settings::Server::default());
    }

    #[test]
    fn bad_flags_are_rejected() {
        for bad in [
            &["server", "--workers", "0"][..],
            &["server", "--timeout", "soon"],
            &["server", "--trusted-proxies", "localhost"],
        ] {
            assert!(Args::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }
}
