//! The production server, gunicorn's equivalent: `server [--bind ADDRESS]... [--workers N] ...`
//! (`server --help` lists the flags), settings from settings.toml and the environment.
//!
//! Started by a person or a platform it is the master (`server::prefork::master`); the master starts
//! the same binary with hidden `--worker-*` flags for each worker process (`server::prefork::worker`).

use std::process::ExitCode;

use clap::Parser;

use server::prefork::cli::Args;

fn main() -> ExitCode {
    let args = Args::parse();
    let result = if args.worker.is_worker() {
        server::prefork::worker::run(&args).map_err(|e| e.to_string())
    } else {
        server::prefork::master::run(args).map_err(|e| e.to_string())
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
