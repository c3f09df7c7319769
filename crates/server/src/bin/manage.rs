//! `manage`: the Django `manage.py` equivalent. The commands live in `server::manage`.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use server::manage::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(cli.log_filter()))
        .init();
    let mut stdout = io::stdout();
    match manage::run(cli, &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        // `manage listusers | head`: the reader has what it wanted.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            let _ = stdout.flush();
            // Nothing more can be done if stderr is gone too.
            let _ = writeln!(io::stderr(), "{}", e.report());
            ExitCode::FAILURE
        }
    }
}
