//! The production server, gunicorn's equivalent: `server [--bind ADDRESS]... [--workers N] ...`
//! (`server --help` lists the flags), settings from settings.toml and the environment.
//!
//! Started by a person or a platform it is the master (`server::process`); the master starts
//! the same binary with hidden `--worker-*` flags for each worker process (`server::worker`).

use std::process::ExitCode;

use clap::Parser;

use server::server_cli::Args;

fn main() -> ExitCode {
    let args = Args::parse();
    let result = if args.worker.is_worker() {
        server::worker::run(&args).map_err(|e| e.to_string())
    } else {
        server::process::run(args).map_err(|e| e.to_string())
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // Also when the error log is a file: whoever started the server must see why it stopped.
            eprintln!("server: {message}");
            ExitCode::FAILURE
        }
    }
}
