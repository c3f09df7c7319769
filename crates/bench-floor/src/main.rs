//! `bench-floor`: the baselines `bench/run` compares the server against.
//!
//! - `bench-floor HOST:PORT [--workers N]` serves one route, `/floor/`, answering `{}` as JSON to
//!   any method after reading the request body: the fastest an actix-web app can answer the
//!   benchmark's requests, with no settings, middleware, token or database work.
//! - `bench-floor --hash-time COST [--samples N]` checks a password against a bcrypt hash of that
//!   cost N times on one thread and prints the median seconds of one check: what one login costs
//!   the server's CPU at least (the same `bcrypt` crate, one Cargo.lock). With `--threads T`,
//!   T threads check at once and it prints the median time of one check then: on cores that
//!   share a physical core or a power budget, T checks at once each take longer than one alone.

use std::process::ExitCode;
use std::time::Instant;

use actix_web::http::header::ContentType;
use actix_web::{web, App, HttpResponse, HttpServer};

const USAGE: &str =
    "usage: bench-floor HOST:PORT [--workers N]\n       bench-floor --hash-time COST [--samples N] [--threads T]";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Mode {
    Serve {
        bind: String,
        workers: usize,
    },
    HashTime {
        cost: u32,
        samples: usize,
        threads: usize,
    },
}

fn parse_number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value
        .parse()
        .map_err(|_| format!("{flag}: not a number: {value:?}"))
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Mode, String> {
    let mut args = args.into_iter();
    let mut bind = None;
    let mut workers = None;
    let mut cost = None;
    let mut samples = 5;
    let mut threads = 1;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--workers" => workers = Some(parse_number("--workers", args.next())?),
            "--hash-time" => cost = Some(parse_number("--hash-time", args.next())?),
            "--samples" => samples = parse_number("--samples", args.next())?,
            "--threads" => threads = parse_number("--threads", args.next())?,
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            _ if bind.is_none() => bind = Some(arg),
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    match (bind, cost) {
        (None, Some(cost)) => Ok(Mode::HashTime {
            cost,
            samples: samples.max(1),
            threads: threads.max(1),
        }),
        (Some(bind), None) => Ok(Mode::Serve {
            bind,
            workers: workers.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            }),
        }),
        _ => Err("give either HOST:PORT or --hash-time COST".into()),
    }
}

/// The floor: the body is read (as the real views must), then a constant JSON object.
async fn floor(_body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(serde_json::json!({}).to_string())
}

fn serve(bind: &str, workers: usize) -> std::io::Result<()> {
    actix_web::rt::System::new().block_on(
        HttpServer::new(|| App::new().route("/floor/", web::to(floor)))
            .workers(workers.max(1))
            .bind(bind)?
            .run(),
    )
}

/// Median seconds of one bcrypt check at `cost` while `threads` threads check at once. The
/// password is 64 characters, the length of the hex SHA-256 that Django's bcrypt_sha256 (and the
/// server) feeds bcrypt.
fn hash_time(cost: u32, samples: usize, threads: usize) -> Result<f64, String> {
    let password = "0123456789abcdef".repeat(4);
    let hash = bcrypt::hash(&password, cost).map_err(|e| format!("bcrypt: {e}"))?;
    let mut times = std::thread::scope(|scope| {
        let running: Vec<_> = (0..threads.max(1))
            .map(|_| scope.spawn(|| check_times(&password, &hash, samples)))
            .collect();
        running
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| Err("bcrypt: a thread panicked".into()))
            })
            .collect::<Result<Vec<_>, String>>()
    })?
    .concat();
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// The seconds of each of `samples` checks of `password` against `hash`, one after another.
fn check_times(password: &str, hash: &str, samples: usize) -> Result<Vec<f64>, String> {
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let start = Instant::now();
        let ok = bcrypt::verify(password, hash).map_err(|e| format!("bcrypt: {e}"))?;
        times.push(start.elapsed().as_secs_f64());
        if !ok {
            return Err("bcrypt: a fresh hash did not verify".into());
        }
    }
    Ok(times)
}

fn main() -> ExitCode {
    let mode = match parse_args(std::env::args().skip(1)) {
        Ok(mode) => mode,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("bench-floor: {message}");
            }
            eprintln!("{USAGE}");
            return if message.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let result = match mode {
        Mode::Serve { bind, workers } => serve(&bind, workers).map_err(|e| format!("{bind}: {e}")),
        Mode::HashTime {
            cost,
            samples,
            threads,
        } => hash_time(cost, samples, threads).map(|secs| println!("{secs:.6}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-floor: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Mode, String> {
        parse_args(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn serve_mode_reads_bind_and_workers() {
        assert_eq!(
            parse(&["127.0.0.1:9000", "--workers", "3"]),
            Ok(Mode::Serve {
                bind: "127.0.0.1:9000".into(),
                workers: 3
            })
        );
    }

    #[test]
    fn hash_time_mode_reads_cost_and_samples() {
        assert_eq!(
            parse(&["--hash-time", "4", "--samples", "2"]),
            Ok(Mode::HashTime {
                cost: 4,
                samples: 2,
                threads: 1
            })
        );
        assert_eq!(
            parse(&["--hash-time", "4", "--threads", "2"]),
            Ok(Mode::HashTime {
                cost: 4,
                samples: 5,
                threads: 2
            })
        );
    }

    #[test]
    fn bad_command_lines_are_refused() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["--hash-time"]).is_err());
        assert!(parse(&["--hash-time", "x"]).is_err());
        assert!(parse(&["a:1", "b:2"]).is_err());
        assert!(parse(&["a:1", "--hash-time", "4"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
    }

    #[test]
    fn hash_time_is_positive() {
        let secs = hash_time(4, 1, 1).expect("bcrypt at cost 4");
        assert!(secs > 0.0);
        let secs = hash_time(4, 2, 2).expect("bcrypt at cost 4 on two threads");
        assert!(secs > 0.0);
    }
}
