//! The error log (gunicorn's `--error-logfile`): everything logged through the `log` crate, one
//! line each, `[time] [pid] [LEVEL] target: message`, to stderr, a file, or nowhere.
//!
//! The pid tells the master's lines from each worker's when they share a file or a terminal.
//! RUST_LOG filters as usual (default `info`).

use std::fs::OpenOptions;
use std::io::{self, Write};

use settings::LogDestination;

/// Installs the process-wide logger. Once per process: a worker started by a reload opens the
/// destination afresh, the master keeps the one it started with.
pub fn init(destination: &LogDestination) -> io::Result<()> {
    // RUST_LOG: log filter (env_logger syntax), e.g. `info`, `warn,server=debug`. By default
    // actix's start-up chatter is left out: the master already says what starts and listens.
    let mut builder = env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("info,actix_server=warn"),
    );
    let pid = std::process::id();
    builder.format(move |buf, record| {
        writeln!(
            buf,
            "[{}] [{pid}] [{}] {}: {}",
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S %z"),
            record.level(),
            record.target(),
            record.args()
        )
    });
    match destination {
        LogDestination::Off => {
            builder.target(env_logger::Target::Pipe(Box::new(io::sink())));
        }
        LogDestination::Std => {
            builder.target(env_logger::Target::Stderr);
        }
        LogDestination::File(path) => {
            let file = OpenOptions::new().create(true).append(true).open(path)?;
            builder.target(env_logger::Target::Pipe(Box::new(file)));
        }
    }
    // A second call (tests that start several servers in one process) keeps the first logger.
    let _ = builder.try_init();
    Ok(())
}
