//! The production server: `server [--bind HOST:PORT]... [--workers N]`, settings from
//! settings.toml and the environment.

use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

/// Serves the JWT API (simplejwt's endpoints) over HTTP.
#[derive(Debug, Parser)]
#[command(name = "server", version, about)]
struct Args {
    /// Address to listen on, HOST:PORT; repeat for several. Default: SERVER.BIND from settings
    /// (127.0.0.1:8000, or 0.0.0.0:$PORT when PORT is set, as on Heroku).
    #[arg(long, short = 'b', value_name = "HOST:PORT")]
    bind: Vec<String>,
    /// Worker threads. Default: SERVER.WORKERS, WEB_CONCURRENCY, else the number of cores.
    #[arg(long, short = 'w', value_name = "N")]
    workers: Option<usize>,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), server::StartupError> {
    let settings = Arc::new(settings::Settings::load()?);
    let binds = if args.bind.is_empty() {
        settings.server.bind.clone()
    } else {
        args.bind
    };
    let workers = args
        .workers
        .or(settings.server.workers)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let listeners = binds
        .iter()
        .map(|addr| {
            TcpListener::bind(addr).map_err(|source| server::StartupError::Bind {
                addr: addr.clone(),
                source,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let state = server::build_state(settings)?;
    log::info!("listening on {} with {workers} workers", binds.join(", "));
    actix_web::rt::System::new().block_on(async move {
        server::serve(listeners, state, workers)?
            .await
            .map_err(Into::into)
    })
}
