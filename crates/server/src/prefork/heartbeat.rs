//! Worker liveness, gunicorn's heartbeat: a worker proves that its event loops run by bumping a
//! counter in a file its master made for it; the master kills a worker whose counter has not
//! moved for `TIMEOUT` (gunicorn's `--timeout`) and starts a replacement.
//!
//! A frozen worker (SIGSTOP, a loop stuck in a system call or a busy loop) still holds its
//! listening socket, so the kernel keeps queueing connections for it that nobody answers; only
//! its replacement, which takes over the socket, serves them.
//!
//! - The counter is bumped from the worker's main event loop, and only while every request
//!   thread's own loop has ticked within two beat intervals: a beat from a thread that runs
//!   while the loops are stuck would prove nothing. So a stuck request thread stops the beats
//!   after `TIMEOUT / 2`, and the master kills the worker `TIMEOUT` later.
//! - Work on the blocking pool (bcrypt, database calls) does not hold a loop: a worker whose
//!   requests wait there beats on, and the request timeout answers those requests.
//! - The file is an anonymous memfd (memory only, as gunicorn advises for `--worker-tmp-dir`, so
//!   a slow disk cannot delay a beat). The master times the silence with its own monotonic
//!   clock, noting when it last saw the counter change: no clock is shared, and a jump of the
//!   wall clock kills nobody.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, RawFd};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum HeartbeatError {
    #[error("bad heartbeat descriptor {0}")]
    Fd(RawFd),
    #[error("cannot create the heartbeat file: {0}")]
    Create(io::Error),
}

/// How often a worker beats for a given `TIMEOUT`: four beats per timeout, so one late beat on a
/// loaded machine does not look like a dead worker.
pub fn interval(timeout: Duration) -> Duration {
    timeout / 4
}

/// The master's side: one per worker.
#[derive(Debug)]
pub struct Pulse {
    file: File,
    last: u64,
    changed: Instant,
}

impl Pulse {
    pub fn new() -> Result<Pulse, HeartbeatError> {
        let fd = rustix::fs::memfd_create("server-heartbeat", rustix::fs::MemfdFlags::CLOEXEC)
            .map_err(|e| HeartbeatError::Create(e.into()))?;
        let file = File::from(fd);
        file.set_len(8).map_err(HeartbeatError::Create)?;
        Ok(Pulse {
            file,
            last: 0,
            changed: Instant::now(),
        })
    }

    /// The descriptor the worker inherits.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }

    /// Starts timing from `now` (when the worker reports ready: booting has its own limit).
    pub fn restart(&mut self, now: Instant) {
        self.changed = now;
    }

    /// How long the counter has not moved, as of `now`. Called every master tick, so the
    /// silence is overstated by at most a tick.
    pub fn silent_for(&mut self, now: Instant) -> io::Result<Duration> {
        let mut bytes = [0u8; 8];
        self.file.read_exact_at(&mut bytes, 0)?;
        let count = u64::from_ne_bytes(bytes);
        if count != self.last {
            self.last = count;
            self.changed = now;
        }
        Ok(now.saturating_duration_since(self.changed))
    }
}

/// The worker's side.
#[derive(Debug)]
pub struct Heartbeat {
    file: File,
    every: Duration,
    epoch: Instant,
    /// The last tick of each request thread's loop, in milliseconds since `epoch`. Each is held
    /// by the task that ticks it, so a loop that ends (its thread stopped) drops out.
    loops: Mutex<Vec<Weak<AtomicU64>>>,
}

impl Heartbeat {
    /// The inherited heartbeat file, checked to be open before it is owned; beats every `every`.
    pub fn from_inherited(fd: RawFd, every: Duration) -> Result<Arc<Heartbeat>, HeartbeatError> {
        if fd < 3 {
            return Err(HeartbeatError::Fd(fd));
        }
        // SAFETY: borrowed only for this fcntl, which fails cleanly when fd is not open.
        rustix::io::fcntl_getfd(unsafe { BorrowedFd::borrow_raw(fd) })
            .map_err(|_| HeartbeatError::Fd(fd))?;
        // SAFETY: the master passed this inherited descriptor for this purpose only; nothing else
        // in this process refers to it.
        let file = unsafe { File::from_raw_fd(fd) };
        Ok(Arc::new(Heartbeat {
            file,
            every,
            epoch: Instant::now(),
            loops: Mutex::new(Vec::new()),
        }))
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Watches the event loop this is called on (a request thread's): from now on the worker
    /// beats only while this loop ticks too. Needs an actix/tokio local runtime.
    pub fn watch_this_loop(self: &Arc<Self>) {
        let tick = Arc::new(AtomicU64::new(self.millis()));
        self.loops
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::downgrade(&tick));
        let this = Arc::clone(self);
        actix_web::rt::spawn(async move {
            loop {
                tick.store(this.millis(), Ordering::Relaxed);
                actix_web::rt::time::sleep(this.every).await;
            }
        });
    }

    /// The longest any watched loop has gone without a tick, if longer than two beat intervals.
    fn stuck_loop(&self) -> Option<Duration> {
        let now = self.millis();
        let mut loops = self.loops.lock().unwrap_or_else(PoisonError::into_inner);
        loops.retain(|tick| tick.strong_count() > 0);
        let oldest = loops
            .iter()
            .filter_map(Weak::upgrade)
            .map(|tick| now.saturating_sub(tick.load(Ordering::Relaxed)))
            .max()?;
        let late = Duration::from_millis(oldest);
        (late > self.every * 2).then_some(late)
    }

    /// Beats once if every watched loop is alive; returns how long a stuck one has not ticked.
    pub fn beat(&self, count: u64) -> io::Result<Option<Duration>> {
        if let Some(late) = self.stuck_loop() {
            return Ok(Some(late));
        }
        self.file.write_all_at(&count.to_ne_bytes(), 0)?;
        Ok(None)
    }

    /// Beats every interval until the process exits. Run it on the main event loop.
    pub async fn run(self: Arc<Self>) {
        let mut count: u64 = 0;
        let mut stuck = false;
        loop {
            count = count.wrapping_add(1);
            match self.beat(count) {
                Ok(None) => stuck = false,
                Ok(Some(late)) => {
                    if !stuck {
                        log::error!(
                            "a request thread's event loop has not run for {late:?}: no \
                             heartbeat, the master will replace this worker"
                        );
                    }
                    stuck = true;
                }
                Err(e) => log::warn!("cannot write the heartbeat: {e}"),
            }
            actix_web::rt::time::sleep(self.every).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, IntoRawFd};

    /// A master's pulse and a worker's heartbeat on one file, the worker's clock started 1 s ago.
    fn pair(every: Duration) -> (Pulse, Arc<Heartbeat>) {
        let pulse = Pulse::new().unwrap();
        let copy = pulse.file.try_clone().unwrap().into_raw_fd();
        assert_ne!(copy, pulse.fd().as_raw_fd());
        let heart = Heartbeat::from_inherited(copy, every).unwrap();
        let mut heart = Arc::into_inner(heart).unwrap();
        heart.epoch = Instant::now().checked_sub(Duration::from_secs(1)).unwrap();
        (pulse, Arc::new(heart))
    }

    #[test]
    fn the_master_sees_beats_and_times_silence_with_its_own_clock() {
        let (mut pulse, heart) = pair(Duration::from_secs(1));
        let t0 = Instant::now();
        pulse.restart(t0);
        assert_eq!(pulse.silent_for(t0).unwrap(), Duration::ZERO);
        let later = t0 + Duration::from_secs(5);
        assert_eq!(pulse.silent_for(later).unwrap(), Duration::from_secs(5));
        assert_eq!(heart.beat(1).unwrap(), None);
        assert_eq!(pulse.silent_for(later).unwrap(), Duration::ZERO);
        let after = later + Duration::from_secs(3);
        assert_eq!(pulse.silent_for(after).unwrap(), Duration::from_secs(3));
    }

    #[test]
    fn a_stuck_request_loop_stops_the_beats() {
        let (mut pulse, heart) = pair(Duration::from_millis(10));
        let tick = Arc::new(AtomicU64::new(heart.millis()));
        heart.loops.lock().unwrap().push(Arc::downgrade(&tick));
        assert_eq!(heart.beat(1).unwrap(), None);
        let t0 = Instant::now();
        assert_eq!(pulse.silent_for(t0).unwrap(), Duration::ZERO);
        // The loop last ticked 50 ms ago, past two 10 ms intervals: no beat.
        let stale = heart.millis().saturating_sub(50);
        tick.store(stale, Ordering::Relaxed);
        let late = heart.beat(2).unwrap();
        assert!(
            late.is_some_and(|l| l >= Duration::from_millis(50)),
            "{late:?}"
        );
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(pulse.silent_for(t1).unwrap(), Duration::from_secs(1));
        // A loop that has ended (its thread stopped) no longer counts.
        drop(tick);
        assert_eq!(heart.beat(3).unwrap(), None);
        assert_eq!(pulse.silent_for(t1).unwrap(), Duration::ZERO);
    }
}
