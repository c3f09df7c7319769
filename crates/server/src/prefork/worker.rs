//! A worker process: serves the app on the sockets its master handed down, tells the master when
//! it is serving, beats while its event loops run (`crate::prefork::heartbeat`), and stops on the
//! master's signals (TERM/INT graceful, QUIT at once).

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{BorrowedFd, FromRawFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use tokio::signal::unix::{signal, SignalKind};

use crate::app::startup::{ServeOptions, StartupError};
use crate::middleware::access_log::AccessLog;
use crate::prefork::cli::{Args, Config};
use crate::prefork::heartbeat::Heartbeat;
use crate::prefork::listener::Listener;

/// After pausing the acceptor, connections it already took are still on their way to the
/// request threads; actix's graceful stop would drop those, so they get this long to arrive.
const SETTLE: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Config(#[from] crate::prefork::cli::ConfigError),
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("cannot open the access log: {0}")]
    AccessLog(io::Error),
    #[error("cannot open the error log: {0}")]
    ErrorLog(io::Error),
    #[error("bad ready descriptor {0}")]
    ReadyFd(RawFd),
    #[error(transparent)]
    Heartbeat(#[from] crate::prefork::heartbeat::HeartbeatError),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Runs until the master stops this worker; `Ok` is a clean exit (status 0).
pub fn run(args: &Args) -> Result<(), WorkerError> {
    // A worker outliving its master would hold the sockets forever: die with it, gracefully.
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM))
        .map_err(io::Error::from)?;
    let parent = rustix::process::getppid().map(|p| p.as_raw_pid());
    if args.worker.master_pid.is_some() && parent != args.worker.master_pid {
        // The master died before the line above took effect.
        return Ok(());
    }
    let config = Config::load(args)?;
    crate::prefork::error_log::init(&config.settings.server.error_log)
        .map_err(WorkerError::ErrorLog)?;
    let listeners = args
        .worker
        .listen
        .iter()
        .map(|spec| Listener::from_inherited(spec))
        .collect::<Result<Vec<_>, _>>()
        .map_err(StartupError::from)?;
    let ready = args.worker.ready_fd.map(ready_pipe).transpose()?;
    let heartbeat = match (args.worker.heartbeat_fd, args.worker.heartbeat_interval) {
        (Some(fd), Some(every)) if !every.is_zero() => Some(Heartbeat::from_inherited(fd, every)?),
        _ => None,
    };
    let access_log =
        AccessLog::open(&config.settings.server.access_log).map_err(WorkerError::AccessLog)?;
    let options = ServeOptions {
        threads: config.settings.server.threads,
        access_log,
        handle_signals: false,
        heartbeat: heartbeat.clone(),
    };
    // How long a stopping worker waits for its kept-alive connections to be closed by the client
    // (`crate::prefork::drain`): at most KEEP_ALIVE, after which they would have been idle long enough
    // to close anyway, and never past the graceful timeout.
    let idle_limit = config
        .settings
        .server
        .keep_alive
        .min(config.settings.server.graceful_timeout);
    let state = crate::build_state(Arc::new(config.settings))?;
    actix_web::rt::System::new().block_on(async move {
        let server = crate::app::startup::serve_with(listeners, state, options)?;
        let handle = server.handle();
        let signals = Signals::install()?;
        actix_web::rt::spawn(signals.watch(handle, idle_limit));
        if let Some(heartbeat) = heartbeat {
            // On this, the main loop, which also handles the master's signals.
            actix_web::rt::spawn(heartbeat.run());
        }
        if let Some(mut pipe) = ready {
            // One short write is atomic on a pipe, so workers booting together do not mix lines.
            pipe.write_all(format!("ready {}\n", std::process::id()).as_bytes())?;
        }
        server.await?;
        log::info!("worker exiting");
        Ok(())
    })
}

/// The write end of the master's readiness pipe, checked to be open before it is owned.
fn ready_pipe(fd: RawFd) -> Result<File, WorkerError> {
    if fd < 3 {
        return Err(WorkerError::ReadyFd(fd));
    }
    // SAFETY: borrowed only for this fcntl, which fails cleanly when fd is not open.
    rustix::io::fcntl_getfd(unsafe { BorrowedFd::borrow_raw(fd) })
        .map_err(|_| WorkerError::ReadyFd(fd))?;
    // SAFETY: the master passed this inherited descriptor for this purpose only; nothing else in
    // this process refers to it.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// The signals a worker acts on. Installed before the worker reports ready, so the master's
/// first TERM cannot find it with default dispositions (which would kill it mid-request).
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    quit: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            quit: signal(SignalKind::quit())?,
            // Reloading is the master's job; a stray HUP must not kill a worker.
            hup: signal(SignalKind::hangup())?,
        })
    }

    async fn watch(mut self, handle: ServerHandle, idle_limit: Duration) {
        let mut draining = false;
        loop {
            tokio::select! {
                _ = self.term.recv() => {}
                _ = self.int.recv() => {}
                _ = self.quit.recv() => {
                    log::info!("SIGQUIT: stopping at once");
                    if draining {
                        // actix finishes one stop before it takes the next: leave now.
                        std::process::exit(0);
                    }
                    handle.stop(false).await;
                    return;
                }
                _ = self.hup.recv() => {
                    log::info!("ignoring SIGHUP: the master reloads (send it HUP instead)");
                    continue;
                }
            }
            if draining {
                continue;
            }
            draining = true;
            // Answers from now on close their connection and /readyz says 503 (see `crate::prefork::drain`).
            crate::prefork::drain::begin();
            log::info!("stopping gracefully: no new connections, finishing the open ones");
            // Stop accepting first (the listening socket stays open in the master and the other
            // workers, who take the new connections), let the accepted ones reach the request
            // threads, let the clients close the kept-alive connections (each busy one after
            // its next answer, an idle one when the proxy's idle timeout comes), then stop:
            // actix closes what is idle and waits for in-flight requests up to the graceful
            // timeout. Signals are still watched meanwhile (a QUIT stops at once).
            handle.pause().await;
            let handle = handle.clone();
            actix_web::rt::spawn(async move {
                actix_web::rt::time::sleep(SETTLE).await;
                crate::prefork::drain::until_closed(idle_limit).await;
                handle.stop(true).await
            });
        }
    }
}
