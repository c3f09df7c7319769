//! The master process (gunicorn's arbiter): binds the sockets, keeps the worker processes
//! running, and turns signals into graceful stops, fast stops, reloads and scaling.
//!
//! - TERM, INT: graceful stop. The TCP sockets stop letting new connections in, the workers
//!   accept what is queued (`crate::prefork::drain`), then stop accepting and finish their requests within
//!   GRACEFUL_TIMEOUT (then they are killed); the master exits 0. A second TERM/INT: fast stop.
//! - QUIT: fast stop: workers drop their connections and exit.
//! - HUP: settings are loaded again; if valid, a new generation of workers starts on the same
//!   sockets (new ones bound if BIND changed); once all of it is serving, the old workers stop
//!   gracefully. The sockets never close, so no connection is refused. If the new settings are
//!   invalid or a new worker fails to boot, the old workers carry on.
//! - TTIN / TTOU: one worker more / less.
//! - Each TCP address is bound once per worker slot (SO_REUSEPORT, see `Listener::shard`): the
//!   n workers of a generation accept on shards 0..n, so the kernel spreads connections evenly
//!   over them. A replacement or a reloaded worker takes over its slot's shard (its queue is
//!   kept); a shard no worker will accept on again is closed. Unix sockets are shared by all.
//! - A worker that dies is replaced. A worker that cannot boot (bad settings, say) at start-up
//!   stops the master, as in gunicorn, rather than being restarted in a loop.
//! - A worker whose heartbeat stops for TIMEOUT (frozen: SIGSTOP, an event loop stuck) is
//!   killed ("WORKER TIMEOUT", as gunicorn logs it) and so replaced; see `crate::prefork::heartbeat`.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::net::unix::pipe;
use tokio::signal::unix::{signal, SignalKind};

use crate::prefork::cli::{self, Args, Config, ConfigError};
use crate::prefork::heartbeat::{HeartbeatError, Pulse};
use crate::prefork::listener::{BindAddr, ListenError, Listener};

/// How long a new worker may take to report ready before it is killed.
const BOOT_TIMEOUT: Duration = Duration::from_secs(60);
/// Extra time past GRACEFUL_TIMEOUT for a worker to exit by itself before it is killed.
const EXIT_MARGIN: Duration = Duration::from_secs(5);
/// How long a fast stop waits before killing.
const FAST_STOP: Duration = Duration::from_secs(5);
/// Consecutive boot failures of replacement workers before the master gives up.
const MAX_BOOT_FAILURES: u32 = 5;
/// How long a graceful stop waits for the workers to accept the connections already queued.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);
/// How often deadlines, heartbeats and child exits are checked when no signal arrives: a frozen
/// worker is killed at most this long after its TIMEOUT (twice: the last beat is seen a tick
/// late at worst), so its queued connections wait little past TIMEOUT.
const TICK: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum MasterError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Listen(#[from] ListenError),
    #[error("cannot open the error log: {0}")]
    ErrorLog(io::Error),
    #[error("cannot start a worker process: {0}")]
    Spawn(io::Error),
    #[error("worker failed to boot: {0}")]
    WorkerBoot(String),
    #[error(transparent)]
    Heartbeat(#[from] HeartbeatError),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Runs the master until it is stopped; `Ok` means a clean stop (exit status 0).
pub fn run(args: Args) -> Result<(), MasterError> {
    let config = Config::load(&args)?;
    crate::prefork::error_log::init(&config.settings.server.error_log)
        .map_err(MasterError::ErrorLog)?;
    log::info!("Starting server {}", env!("CARGO_PKG_VERSION"));
    warn_unapplied_migrations(config.settings.databases.clone());
    let mut master = Master::start(config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(master.supervise(&args));
    master.remove_socket_files();
    result
}

/// Logs once, at start, that the database lacks migrations, as `runserver` prints it: the
/// workers start anyway, answering logins with errors and `/readyz` with 503 until `manage
/// migrate` has run. On a thread of its own, so an unreachable database delays nothing (the
/// check then gives up after `CONNECT_TIMEOUT`, and says so).
fn warn_unapplied_migrations(databases: settings::Databases) {
    let unapplied = move || -> Result<Vec<String>, users::DbError> {
        let target = users::db::Target::parse(&databases.url)?;
        if let users::db::Target::Sqlite(path) = &target {
            if path.as_os_str() != ":memory:" && !path.exists() {
                // Not created by a check: every migration is missing.
                let memory = users::db::Target::Sqlite(":memory:".into());
                let mut conn = users::db::ConnectionManager::new(memory)
                    .establish()
                    .map_err(|e| users::DbError::Unavailable(e.to_string()))?;
                return users::migrations::unapplied(&mut conn);
            }
        }
        let pool = users::db::build_pool(&settings::Databases {
            pool_size: 1,
            ..databases
        })?;
        let mut conn = users::db::get(&pool)?;
        users::migrations::unapplied(&mut conn)
    };
    let spawned = std::thread::Builder::new()
        .name("migrations-check".into())
        .spawn(move || match unapplied() {
            Ok(names) if names.is_empty() => {}
            Ok(names) => log::warn!(
                "{} database migration(s) not applied ({}): logins fail and /readyz answers 503 \
                 until `manage migrate` has run",
                names.len(),
                names.join(", ")
            ),
            Err(e) => log::warn!("cannot check for unapplied migrations: {e}"),
        });
    if let Err(e) = spawned {
        log::warn!("cannot check for unapplied migrations: {e}");
    }
}

/// One set of workers started from one loading of the settings.
#[derive(Debug, Clone)]
struct Generation {
    id: u64,
    binds: Vec<BindAddr>,
    workers: usize,
    graceful_timeout: Duration,
    /// A worker silent this long is killed (TIMEOUT); zero: never.
    timeout: Duration,
}

impl Generation {
    fn from_config(id: u64, config: &Config) -> Generation {
        Generation {
            id,
            binds: config
                .settings
                .server
                .bind
                .iter()
                .map(|b| BindAddr::parse(b))
                .collect(),
            workers: config.workers,
            graceful_timeout: config.settings.server.graceful_timeout,
            timeout: config.settings.server.timeout,
        }
    }
}

struct Worker {
    child: Child,
    generation: u64,
    /// Which shard of each TCP address it accepts on.
    shard: usize,
    started: Instant,
    ready: bool,
    /// The master asked it to stop: its exit is expected.
    stopping: bool,
    /// Its heartbeat, and how long it may be silent (zero: no limit).
    pulse: Pulse,
    timeout: Duration,
    /// Killed for a missed heartbeat (so killed once, and logged once).
    timed_out: bool,
}

impl Worker {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn signal(&mut self, signal: Signal) {
        let Some(pid) = i32::try_from(self.pid()).ok().and_then(Pid::from_raw) else {
            return;
        };
        // It cannot have been reaped (only `reap` waits, and removes it): the pid is still ours.
        if let Err(e) = rustix::process::kill_process(pid, signal) {
            log::warn!("cannot signal worker {}: {e}", self.pid());
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopMode {
    Graceful,
    Fast,
}

struct Stopping {
    mode: StopMode,
    kill_at: Instant,
    /// A graceful stop first lets the workers accept what the kernel has queued (see
    /// `crate::prefork::drain`) until the queues are empty or this time; the workers are told to stop then.
    draining_until: Option<Instant>,
}

struct Reload {
    generation: Generation,
    give_up_at: Instant,
}

/// One `BIND` address and its sockets: for TCP one per worker slot (`None` once closed), for a
/// unix socket just one.
struct Bound {
    addr: BindAddr,
    shards: Vec<Option<Listener>>,
}

impl Bound {
    fn first(&self) -> Option<&Listener> {
        self.shards.iter().flatten().next()
    }

    /// The socket of shard `index`, bound now if it is not open (a unix socket: the one socket).
    fn shard(&mut self, index: usize) -> Result<&Listener, ListenError> {
        let index = if matches!(self.addr, BindAddr::Unix(_)) {
            0
        } else {
            index
        };
        if !self.shards.get(index).is_some_and(Option::is_some) {
            let bound = self
                .first()
                .and_then(Listener::shard)
                .unwrap_or_else(|| Err(io::Error::other("no open socket on this address")));
            let listener = bound.map_err(|source| ListenError::Bind {
                addr: self.addr.to_string(),
                source,
            })?;
            if self.shards.len() <= index {
                self.shards.resize_with(index + 1, || None);
            }
            self.shards[index] = Some(listener);
        }
        self.shards[index]
            .as_ref()
            .ok_or_else(|| ListenError::Unresolved {
                addr: self.addr.to_string(),
            })
    }

    /// Closes the TCP shards that no worker in `needed` accepts on: the kernel would queue
    /// connections there for nobody. One stays open whatever happens, so the port stays ours.
    fn close_unneeded(&mut self, needed: &[usize]) {
        if matches!(self.addr, BindAddr::Unix(_)) {
            return;
        }
        for index in 0..self.shards.len() {
            if needed.contains(&index) || self.shards[index].is_none() {
                continue;
            }
            if self.shards.iter().flatten().count() <= 1 {
                break;
            }
            self.shards[index] = None;
        }
    }
}

struct Master {
    exe: PathBuf,
    /// The master's own arguments, passed on to every worker.
    base_args: Vec<OsString>,
    sockets: Vec<Bound>,
    /// Unix socket files bound during this run, removed at exit.
    socket_files: Vec<PathBuf>,
    current: Generation,
    reload: Option<Reload>,
    stopping: Option<Stopping>,
    workers: Vec<Worker>,
    next_generation: u64,
    ready_write: OwnedFd,
    ready_read: Option<OwnedFd>,
    boot_failures: u32,
    /// Some worker of the current generation reached ready since the start or the last reload.
    booted: bool,
}

impl Master {
    fn start(config: Config) -> Result<Master, MasterError> {
        let current = Generation::from_config(1, &config);
        // Workers write `ready PID` here; close-on-exec except in workers (see `spawn`).
        let (read, write) =
            rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(io::Error::from)?;
        let mut master = Master {
            exe: std::env::current_exe()?,
            base_args: std::env::args_os().skip(1).collect(),
            sockets: Vec::new(),
            socket_files: Vec::new(),
            current: current.clone(),
            reload: None,
            stopping: None,
            workers: Vec::new(),
            next_generation: 2,
            ready_write: write,
            ready_read: Some(read),
            boot_failures: 0,
            booted: false,
        };
        master.bind_missing(&current.binds)?;
        for listener in master.sockets.iter().filter_map(Bound::first) {
            log::info!(
                "Listening at: {} ({})",
                listener.describe(),
                std::process::id()
            );
        }
        log::info!("Using {} worker processes", current.workers);
        Ok(master)
    }

    async fn supervise(&mut self, args: &Args) -> Result<(), MasterError> {
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let mut quit = signal(SignalKind::quit())?;
        let mut hup = signal(SignalKind::hangup())?;
        let mut child = signal(SignalKind::child())?;
        let mut ttin = signal(SignalKind::from_raw(Signal::TTIN.as_raw()))?;
        let mut ttou = signal(SignalKind::from_raw(Signal::TTOU.as_raw()))?;
        let mut ready = self.ready_lines()?;
        let mut tick = tokio::time::interval(TICK);
        let generation = self.current.clone();
        for _ in 0..generation.workers {
            self.spawn(&generation)?;
        }
        loop {
            tokio::select! {
                _ = term.recv() => self.stop(StopMode::Graceful, "SIGTERM"),
                _ = int.recv() => self.stop(StopMode::Graceful, "SIGINT"),
                _ = quit.recv() => self.stop(StopMode::Fast, "SIGQUIT"),
                _ = hup.recv() => self.begin_reload(args),
                _ = ttin.recv() => self.scale(1),
                _ = ttou.recv() => self.scale(-1),
                _ = child.recv() => {}
                line = ready.next_line() => match line {
                    Ok(Some(line)) => self.on_ready(&line),
                    Ok(None) => return Err(MasterError::Io(io::Error::other("readiness pipe closed"))),
                    Err(e) => log::warn!("readiness pipe: {e}"),
                },
                _ = tick.tick() => {}
            }
            self.reap()?;
            self.check_deadlines();
            if self.stopping.is_some() {
                if self.workers.is_empty() {
                    log::info!("Shutting down: all workers have exited");
                    return Ok(());
                }
            } else {
                self.reconcile()?;
            }
        }
    }

    fn ready_lines(&mut self) -> io::Result<Lines<BufReader<pipe::Receiver>>> {
        let read = self
            .ready_read
            .take()
            .ok_or_else(|| io::Error::other("readiness pipe already taken"))?;
        let receiver = pipe::Receiver::from_owned_fd(read)?;
        Ok(BufReader::new(receiver).lines())
    }

    /// Binds the addresses of `binds` that no socket serves yet.
    fn bind_missing(&mut self, binds: &[BindAddr]) -> Result<(), ListenError> {
        for addr in binds {
            if self.sockets.iter().any(|b| b.addr == *addr) {
                continue;
            }
            let listener = Listener::bind(addr)?;
            if let Some(path) = listener.unix_path() {
                self.socket_files.push(path);
            }
            self.sockets.push(Bound {
                addr: addr.clone(),
                shards: vec![Some(listener)],
            });
        }
        Ok(())
    }

    /// Closes the sockets no live generation uses (their workers hold their own copies).
    fn close_unused_sockets(&mut self) {
        let pending = self
            .reload
            .as_ref()
            .map(|r| r.generation.binds.clone())
            .unwrap_or_default();
        let current = self.current.binds.clone();
        self.sockets.retain(|bound| {
            let keep = current.contains(&bound.addr) || pending.contains(&bound.addr);
            if let (false, Some(listener)) = (keep, bound.first()) {
                log::info!("No longer listening at {}", listener.describe());
                if let Some(path) = listener.unix_path() {
                    let _ = std::fs::remove_file(path);
                }
            }
            keep
        });
        self.close_unneeded_shards();
    }

    /// Closes the shards no running (not stopping) worker accepts on.
    fn close_unneeded_shards(&mut self) {
        let needed: Vec<usize> = self
            .workers
            .iter()
            .filter(|w| !w.stopping)
            .map(|w| w.shard)
            .collect();
        for bound in &mut self.sockets {
            bound.close_unneeded(&needed);
        }
    }

    fn remove_socket_files(&self) {
        for path in &self.socket_files {
            // Already gone (removed when retired, or by someone else) is fine.
            let _ = std::fs::remove_file(path);
        }
    }

    /// Starts one worker of `generation`: this binary with the master's arguments plus the
    /// inherited sockets and readiness pipe.
    fn spawn(&mut self, generation: &Generation) -> Result<(), MasterError> {
        // The first slot no running worker of its generation holds: a replacement takes the
        // dead worker's, and a new generation lines up with the old one's shards.
        let shard = (0..)
            .find(|index| {
                !self
                    .workers
                    .iter()
                    .any(|w| w.generation == generation.id && !w.stopping && w.shard == *index)
            })
            .unwrap_or(0);
        let mut listeners: Vec<&Listener> = Vec::new();
        for bound in &mut self.sockets {
            if generation.binds.contains(&bound.addr) {
                bound.shard(shard)?;
            }
        }
        for addr in &generation.binds {
            if let Some(bound) = self.sockets.iter().find(|b| b.addr == *addr) {
                let index = if matches!(addr, BindAddr::Unix(_)) {
                    0
                } else {
                    shard
                };
                if let Some(Some(listener)) = bound.shards.get(index) {
                    listeners.push(listener);
                }
            }
        }
        let pulse = Pulse::new()?;
        let mut command = Command::new(&self.exe);
        command.args(&self.base_args);
        let mut inherit: Vec<RawFd> = vec![self.ready_write.as_raw_fd()];
        if !generation.timeout.is_zero() {
            inherit.push(pulse.fd().as_raw_fd());
            command
                .arg(cli::WORKER_HEARTBEAT_FD)
                .arg(pulse.fd().as_raw_fd().to_string())
                .arg(cli::WORKER_HEARTBEAT_INTERVAL)
                .arg(format!(
                    "{}",
                    crate::prefork::heartbeat::interval(generation.timeout).as_secs_f64()
                ));
        }
        for listener in &listeners {
            command.arg(cli::WORKER_LISTEN).arg(listener.inherit_spec());
            inherit.push(listener.as_fd().as_raw_fd());
        }
        command
            .arg(cli::WORKER_READY_FD)
            .arg(self.ready_write.as_raw_fd().to_string())
            .arg(cli::WORKER_MASTER_PID)
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            // Its own process group: a terminal's Ctrl-C reaches only the master, which then
            // stops the workers in order instead of all at once.
            .process_group(0);
        // SAFETY: runs in the forked child before exec. It only makes fcntl system calls
        // (async-signal-safe) on descriptors this process holds open until `spawn` returns, and
        // allocates nothing. Clearing close-on-exec there, not here, keeps these descriptors out
        // of every other child (a retired socket must not live on in a newer worker).
        unsafe {
            command.pre_exec(move || {
                for &fd in &inherit {
                    rustix::io::fcntl_setfd(
                        BorrowedFd::borrow_raw(fd),
                        rustix::io::FdFlags::empty(),
                    )?;
                }
                Ok(())
            });
        }
        let child = command.spawn().map_err(MasterError::Spawn)?;
        log::info!("Booting worker with pid: {}", child.id());
        self.workers.push(Worker {
            child,
            generation: generation.id,
            shard,
            started: Instant::now(),
            ready: false,
            stopping: false,
            pulse,
            timeout: generation.timeout,
            timed_out: false,
        });
        Ok(())
    }

    fn on_ready(&mut self, line: &str) {
        let Some(pid) = line
            .strip_prefix("ready ")
            .and_then(|p| p.trim().parse::<u32>().ok())
        else {
            log::warn!("unexpected line on the readiness pipe: {line:?}");
            return;
        };
        let Some(worker) = self.workers.iter_mut().find(|w| w.pid() == pid) else {
            return;
        };
        worker.ready = true;
        worker.pulse.restart(Instant::now());
        let generation = worker.generation;
        log::info!("Worker {pid} is serving");
        if generation == self.current.id {
            self.booted = true;
            self.boot_failures = 0;
        }
        self.finish_reload_if_ready();
    }

    /// Collects every worker that has exited and says why.
    fn reap(&mut self) -> Result<(), MasterError> {
        let mut index = 0;
        while index < self.workers.len() {
            let status = match self.workers[index].child.try_wait() {
                Ok(Some(status)) => status,
                Ok(None) => {
                    index += 1;
                    continue;
                }
                Err(e) => {
                    log::warn!("cannot wait for worker {}: {e}", self.workers[index].pid());
                    index += 1;
                    continue;
                }
            };
            let worker = self.workers.swap_remove(index);
            self.on_exit(&worker, status)?;
        }
        Ok(())
    }

    fn on_exit(&mut self, worker: &Worker, status: ExitStatus) -> Result<(), MasterError> {
        let pid = worker.pid();
        let how = describe(status);
        if worker.stopping || self.stopping.is_some() {
            log::info!("Worker {pid} exited ({how})");
            return Ok(());
        }
        if worker.ready {
            log::error!("Worker {pid} died ({how}); starting a replacement");
            return Ok(());
        }
        // It never served: its settings or sockets are wrong, and a new one would fare no better.
        if self
            .reload
            .as_ref()
            .is_some_and(|r| r.generation.id == worker.generation)
        {
            self.abort_reload(&format!("new worker {pid} failed to boot ({how})"));
            return Ok(());
        }
        log::error!("Worker {pid} failed to boot ({how})");
        self.boot_failures += 1;
        if !self.booted || self.boot_failures >= MAX_BOOT_FAILURES {
            self.stop(StopMode::Fast, "worker boot failure");
            return Err(MasterError::WorkerBoot(format!(
                "worker {pid} {how} before serving (its error is logged above)"
            )));
        }
        Ok(())
    }

    /// Keeps the current generation at its size: replaces dead workers, trims extra ones.
    fn reconcile(&mut self) -> Result<(), MasterError> {
        let id = self.current.id;
        let live = self
            .workers
            .iter()
            .filter(|w| w.generation == id && !w.stopping)
            .count();
        if live < self.current.workers {
            let generation = self.current.clone();
            for _ in live..generation.workers {
                self.spawn(&generation)?;
            }
        } else if live > self.current.workers {
            // gunicorn's TTOU stops the oldest.
            let extra = live - self.current.workers;
            let mut olds: Vec<&mut Worker> = self
                .workers
                .iter_mut()
                .filter(|w| w.generation == id && !w.stopping)
                .collect();
            olds.sort_by_key(|w| w.started);
            for worker in olds.into_iter().take(extra) {
                worker.stopping = true;
                worker.signal(Signal::TERM);
            }
        }
        self.close_unneeded_shards();
        Ok(())
    }

    fn scale(&mut self, delta: i64) {
        if self.stopping.is_some() {
            return;
        }
        let wanted = if delta > 0 {
            self.current.workers.saturating_add(1)
        } else {
            self.current.workers.saturating_sub(1).max(1)
        };
        log::info!("Number of workers: {} -> {wanted}", self.current.workers);
        self.current.workers = wanted;
    }

    fn stop(&mut self, mode: StopMode, why: &str) {
        let mode = match (&self.stopping, mode) {
            // A second TERM/INT while draining: stop now (a user pressing Ctrl-C twice).
            (Some(s), StopMode::Graceful) if s.mode == StopMode::Graceful => StopMode::Fast,
            (Some(s), StopMode::Graceful) => s.mode,
            (_, mode) => mode,
        };
        if self.stopping.as_ref().is_some_and(|s| s.mode == mode) {
            return;
        }
        self.reload = None;
        match mode {
            StopMode::Graceful => {
                let wait = self.current.graceful_timeout;
                log::info!("{why}: stopping gracefully (up to {wait:?})");
                if self.stop_new_connections() {
                    // The workers keep accepting until the queues are empty: `check_deadlines`.
                    self.stopping = Some(Stopping {
                        mode,
                        kill_at: Instant::now() + DRAIN_LIMIT + wait + EXIT_MARGIN,
                        draining_until: Some(Instant::now() + DRAIN_LIMIT),
                    });
                } else {
                    self.stop_workers(mode, Signal::TERM, Instant::now() + wait + EXIT_MARGIN);
                }
            }
            StopMode::Fast => {
                log::info!("{why}: stopping now");
                self.stop_workers(mode, Signal::QUIT, Instant::now() + FAST_STOP);
            }
        }
    }

    /// Filters every TCP socket so that no new connection is queued (`crate::prefork::drain`); false if
    /// a socket could not be filtered (then queued connections may be reset, as before).
    fn stop_new_connections(&self) -> bool {
        let mut all = true;
        for listener in self.sockets.iter().flat_map(|b| b.shards.iter().flatten()) {
            if let Err(e) = crate::prefork::drain::stop_new_connections(listener) {
                log::warn!(
                    "cannot stop new connections on {}: {e}",
                    listener.describe()
                );
                all = false;
            }
        }
        all
    }

    /// Connections queued on the sockets and not accepted yet (an unreadable queue counts as
    /// empty: the drain then ends at once instead of waiting out its limit).
    fn queued_connections(&self) -> u32 {
        self.sockets
            .iter()
            .flat_map(|b| b.shards.iter().flatten())
            .map(|listener| crate::prefork::drain::queued(listener).unwrap_or(0))
            .sum()
    }

    fn stop_workers(&mut self, mode: StopMode, signal: Signal, kill_at: Instant) {
        self.stopping = Some(Stopping {
            mode,
            kill_at,
            draining_until: None,
        });
        for worker in &mut self.workers {
            worker.stopping = true;
            worker.signal(signal);
        }
        // No new connections: the workers close their copies as they stop.
        self.sockets.clear();
    }

    fn begin_reload(&mut self, args: &Args) {
        if self.stopping.is_some() {
            return;
        }
        if self.reload.is_some() {
            log::warn!("SIGHUP: a reload is already in progress; ignored");
            return;
        }
        log::info!("SIGHUP: reloading settings");
        let config = match Config::load(args) {
            Ok(config) => config,
            Err(e) => {
                log::error!("Reload refused, the running workers carry on: {e}");
                return;
            }
        };
        let generation = Generation::from_config(self.next_generation, &config);
        self.next_generation += 1;
        if let Err(e) = self.bind_missing(&generation.binds) {
            log::error!("Reload refused, the running workers carry on: {e}");
            self.close_unused_sockets();
            return;
        }
        self.reload = Some(Reload {
            generation: generation.clone(),
            give_up_at: Instant::now() + BOOT_TIMEOUT,
        });
        for _ in 0..generation.workers {
            if let Err(e) = self.spawn(&generation) {
                self.abort_reload(&e.to_string());
                return;
            }
        }
    }

    /// When every worker of the new generation serves, the old ones stop gracefully.
    fn finish_reload_if_ready(&mut self) {
        let Some(reload) = &self.reload else { return };
        let id = reload.generation.id;
        let ready = self
            .workers
            .iter()
            .filter(|w| w.generation == id && w.ready)
            .count();
        if ready < reload.generation.workers {
            return;
        }
        let Some(reload) = self.reload.take() else {
            return;
        };
        self.current = reload.generation;
        self.booted = true;
        self.boot_failures = 0;
        for worker in self
            .workers
            .iter_mut()
            .filter(|w| w.generation != id && !w.stopping)
        {
            worker.stopping = true;
            worker.signal(Signal::TERM);
        }
        self.close_unused_sockets();
        log::info!(
            "Reload complete: {} new workers serving, the old ones are finishing",
            ready
        );
    }

    fn abort_reload(&mut self, why: &str) {
        let Some(reload) = self.reload.take() else {
            return;
        };
        log::error!("Reload failed, the running workers carry on: {why}");
        for worker in self
            .workers
            .iter_mut()
            .filter(|w| w.generation == reload.generation.id)
        {
            worker.stopping = true;
            worker.signal(Signal::TERM);
        }
        self.close_unused_sockets();
    }

    fn check_deadlines(&mut self) {
        let now = Instant::now();
        if let Some(until) = self.stopping.as_ref().and_then(|s| s.draining_until) {
            let queued = self.queued_connections();
            if queued == 0 || now >= until {
                if queued > 0 {
                    log::warn!(
                        "{queued} connection(s) still queued after {DRAIN_LIMIT:?}; closing"
                    );
                }
                let wait = self.current.graceful_timeout;
                self.stop_workers(StopMode::Graceful, Signal::TERM, now + wait + EXIT_MARGIN);
            }
            return;
        }
        if let Some(stopping) = &self.stopping {
            if now >= stopping.kill_at {
                for worker in &mut self.workers {
                    log::warn!("Worker {} did not stop in time; killing it", worker.pid());
                    worker.signal(Signal::KILL);
                }
            }
            return;
        }
        if self.reload.as_ref().is_some_and(|r| now >= r.give_up_at) {
            self.abort_reload("new workers did not report ready in time");
        }
        for worker in &mut self.workers {
            if !worker.ready
                && !worker.stopping
                && now.duration_since(worker.started) > BOOT_TIMEOUT
            {
                log::error!(
                    "Worker {} did not boot within {BOOT_TIMEOUT:?}; killing it",
                    worker.pid()
                );
                worker.signal(Signal::KILL);
            }
        }
        self.check_heartbeats(now);
    }

    /// gunicorn's `murder_workers`: a serving worker (stopping ones too: a frozen one would never
    /// finish) whose heartbeat is older than its TIMEOUT is killed; `reap` and `reconcile` then
    /// replace it, and the replacement takes over its socket and the connections queued there.
    fn check_heartbeats(&mut self, now: Instant) {
        for worker in &mut self.workers {
            if !worker.ready || worker.timed_out || worker.timeout.is_zero() {
                continue;
            }
            let silent = match worker.pulse.silent_for(now) {
                Ok(silent) => silent,
                Err(e) => {
                    log::warn!("cannot read the heartbeat of worker {}: {e}", worker.pid());
                    continue;
                }
            };
            if silent > worker.timeout {
                log::error!(
                    "WORKER TIMEOUT (pid:{}): no heartbeat for {silent:.1?}; killing it",
                    worker.pid()
                );
                worker.timed_out = true;
                worker.signal(Signal::KILL);
            }
        }
    }
}

/// "exit status 0", "killed by signal 9".
fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => status.to_string(),
    }
}
