//! Time limits on PostgreSQL connections: the libpq parameters that bound them, and the
//! client-side deadline that breaks a connection whose peer went silent.
//!
//! libpq waits for an answer without a time limit. The server's `statement_timeout` cannot end
//! the wait when the network path is gone (its answer never arrives), and the kernel's TCP
//! keepalive and `tcp_user_timeout` only see a peer that stops acknowledging: not a proxy or a
//! middlebox that acknowledges and forwards nothing. So a pool's connections also have a
//! [`Watchdog`] thread: a connection still busy `QUERY_TIMEOUT` + [`GRACE`] after its use began
//! has its socket shut down, the wait in libpq ends with a connection error, and the pool drops
//! the connection (`ManagedConnection::mark_broken`) and opens a new one.

use std::collections::HashSet;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

/// How long after `QUERY_TIMEOUT` the watchdog steps in: the server's own `statement_timeout`
/// answers first when it can (a clear "canceling statement" error, the connection kept).
pub const GRACE: Duration = Duration::from_secs(1);

/// The libpq parameters that bound a pooled connection, added to `url` unless it sets them
/// itself (a parameter in DATABASE_URL always wins; `options` in the URL replaces ours whole):
/// `connect_timeout` (whole seconds, libpq's least is 2), TCP keepalives that find a dead peer of
/// an idle connection within about twice `query_timeout`, `tcp_user_timeout` (data unacknowledged
/// that long fails the connection) and the server's `statement_timeout`.
pub fn bounded_url(url: &str, connect_timeout: Duration, query_timeout: Duration) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, query),
        None => (url, ""),
    };
    let present: HashSet<&str> = query
        .split('&')
        .filter_map(|pair| pair.split('=').next())
        .filter(|key| !key.is_empty())
        .collect();
    let query_ms = query_timeout.as_millis();
    let query_secs = query_timeout.as_secs().max(1);
    let defaults = [
        (
            "connect_timeout",
            connect_timeout.as_secs().max(2).to_string(),
        ),
        ("keepalives", "1".to_owned()),
        ("keepalives_idle", query_secs.to_string()),
        ("keepalives_interval", (query_secs / 4).max(1).to_string()),
        ("keepalives_count", "4".to_owned()),
        ("tcp_user_timeout", query_ms.to_string()),
        // `-c statement_timeout=N`, percent-encoded as a URI query value.
        ("options", format!("-c%20statement_timeout%3D{query_ms}")),
    ];
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(str::to_owned)
        .collect();
    pairs.extend(
        defaults
            .into_iter()
            .filter(|(key, _)| !present.contains(key))
            .map(|(key, value)| format!("{key}={value}")),
    );
    format!("{base}?{}", pairs.join("&"))
}

/// The port a `postgres://` URL connects to (libpq's default 5432), when the URL names one host.
fn url_port(url: &str) -> Option<u16> {
    let parsed = url::Url::parse(url).ok()?;
    let from_query = parsed
        .query_pairs()
        .find(|(key, _)| key == "port")
        .and_then(|(_, value)| value.parse().ok());
    from_query.or(parsed.port()).or(Some(5432))
}

/// One connection as the watchdog sees it: its socket, and since when it has been in use.
#[derive(Debug)]
pub struct Slot {
    /// `None` once the connection is being closed: its descriptor may then belong to another
    /// socket, which must never be shut down.
    fd: Mutex<Option<RawFd>>,
    /// Milliseconds since the watchdog's epoch when the current use began, plus one; 0 when idle.
    busy_since: AtomicU64,
    epoch: Instant,
}

impl Slot {
    /// Marks the connection in use until the returned guard is dropped.
    pub fn arm(self: &Arc<Self>) -> Armed {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        self.busy_since.store(now + 1, Ordering::SeqCst);
        Armed(Arc::clone(self))
    }

    /// Forgets the descriptor: call it before the connection closes its socket.
    pub fn release(&self) {
        *lock(&self.fd) = None;
    }

    fn overdue(&self, limit: Duration) -> bool {
        match self.busy_since.load(Ordering::SeqCst) {
            0 => false,
            since => {
                let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
                now.saturating_sub(since - 1) > u64::try_from(limit.as_millis()).unwrap_or(0)
            }
        }
    }

    /// Shuts the socket down (not closed: libpq still owns the descriptor), so that libpq's
    /// wait ends with an error. Under the lock `release` takes, so the descriptor is still this
    /// connection's.
    fn break_off(&self) -> bool {
        let fd = lock(&self.fd);
        let Some(fd) = *fd else {
            return false;
        };
        // SAFETY: `fd` is open: the connection that owns it calls `release` (and waits for this
        // lock) before closing it.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&fd);
        socket.shutdown(std::net::Shutdown::Both).is_ok()
    }
}

/// A connection in use; dropping it marks the use over.
#[must_use]
pub struct Armed(Arc<Slot>);

impl Drop for Armed {
    fn drop(&mut self) {
        self.0.busy_since.store(0, Ordering::SeqCst);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The connections of one pool and the thread that watches them. Dropping it stops the thread at
/// its next look.
#[derive(Debug)]
pub struct Watchdog {
    slots: Arc<Mutex<Vec<Weak<Slot>>>>,
    epoch: Instant,
    port: Option<u16>,
    _stop: mpsc::Sender<()>,
}

/// Serialises opening connections in this process, so that the socket a connection opened can be
/// told from others: the descriptors table is the process's.
static OPENING: Mutex<()> = Mutex::new(());

impl Watchdog {
    /// Starts watching for the pool on `url`; `None` when the thread cannot start (connections
    /// are then bounded by the libpq parameters alone).
    pub fn start(url: &str, query_timeout: Duration) -> Option<Watchdog> {
        let limit = query_timeout + GRACE;
        let slots: Arc<Mutex<Vec<Weak<Slot>>>> = Arc::default();
        let (stop, stopped) = mpsc::channel();
        let watched = Arc::clone(&slots);
        // The tick: how late past its limit a stuck connection may be broken off.
        let tick = (query_timeout / 10).clamp(Duration::from_millis(50), Duration::from_secs(1));
        let spawned = std::thread::Builder::new()
            .name("pg-deadline".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(tick) {
                    watch(&watched, limit);
                }
            });
        match spawned {
            Ok(_) => Some(Watchdog {
                slots,
                epoch: Instant::now(),
                port: url_port(url),
                _stop: stop,
            }),
            Err(e) => {
                log::warn!("cannot start the PostgreSQL deadline thread ({e}); queries are bounded by TCP timeouts only");
                None
            }
        }
    }

    /// Opens a connection with `open` and finds the socket it opened; `None` for the slot when
    /// the socket cannot be told apart (not Linux, another socket to the same port opened at the
    /// same time): that connection is then bounded by the libpq parameters alone.
    pub fn open<C, E>(
        &self,
        open: impl FnOnce() -> Result<C, E>,
    ) -> Result<(C, Option<Arc<Slot>>), E> {
        let _one_at_a_time = lock(&OPENING);
        let before = socket_inodes();
        let conn = open()?;
        let fd = before.and_then(|before| new_socket(&before, self.port));
        let Some(fd) = fd else {
            log::debug!(
                "no client-side deadline for a PostgreSQL connection: its socket was not found"
            );
            return Ok((conn, None));
        };
        let slot = Arc::new(Slot {
            fd: Mutex::new(Some(fd)),
            busy_since: AtomicU64::new(0),
            epoch: self.epoch,
        });
        lock(&self.slots).push(Arc::downgrade(&slot));
        Ok((conn, Some(slot)))
    }
}

/// One look: breaks off the connections in use for longer than `limit`, forgets closed ones.
fn watch(slots: &Mutex<Vec<Weak<Slot>>>, limit: Duration) {
    let live: Vec<Arc<Slot>> = {
        let mut slots = lock(slots);
        slots.retain(|slot| slot.strong_count() > 0);
        slots.iter().filter_map(Weak::upgrade).collect()
    };
    for slot in live.iter().filter(|slot| slot.overdue(limit)) {
        if slot.break_off() {
            log::warn!("a PostgreSQL connection did not answer within {limit:?}: broken off");
            // Once: the connection is now failing its query.
            slot.busy_since.store(0, Ordering::SeqCst);
        }
    }
}

/// The inodes of this process's sockets (`None` where /proc/self/fd cannot tell).
fn socket_inodes() -> Option<HashSet<u64>> {
    Some(sockets()?.into_iter().map(|(_, inode)| inode).collect())
}

fn sockets() -> Option<Vec<(RawFd, u64)>> {
    let entries = std::fs::read_dir("/proc/self/fd").ok()?;
    Some(
        entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let fd: RawFd = entry.file_name().to_str()?.parse().ok()?;
                let target = std::fs::read_link(entry.path()).ok()?;
                let inode = target
                    .to_str()?
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .parse()
                    .ok()?;
                Some((fd, inode))
            })
            .collect(),
    )
}

/// The one TCP socket opened since `before` (to `port`, when several were).
fn new_socket(before: &HashSet<u64>, port: Option<u16>) -> Option<RawFd> {
    let fresh: Vec<(RawFd, u16)> = sockets()?
        .into_iter()
        .filter(|(_, inode)| !before.contains(inode))
        .filter_map(|(fd, _)| {
            // SAFETY: listed as open just now; only read, and a descriptor closed meanwhile
            // makes the call fail, not misbehave.
            let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
            let socket = socket2::SockRef::from(&borrowed);
            let peer = socket.peer_addr().ok()?.as_socket()?;
            Some((fd, peer.port()))
        })
        .collect();
    match fresh.as_slice() {
        [(fd, _)] => Some(*fd),
        _ => {
            let mut to_port = fresh.iter().filter(|(_, p)| Some(*p) == port);
            match (to_port.next(), to_port.next()) {
                (Some((fd, _)), None) => Some(*fd),
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: Duration = Duration::from_secs(10);
    const C: Duration = Duration::from_secs(5);

    #[test]
    fn bounds_are_added_to_a_url_without_them() {
        assert_eq!(
            bounded_url("postgres://u:p@h:5432/db", C, Q),
            "postgres://u:p@h:5432/db?connect_timeout=5&keepalives=1&keepalives_idle=10\
             &keepalives_interval=2&keepalives_count=4&tcp_user_timeout=10000\
             &options=-c%20statement_timeout%3D10000"
        );
    }

    #[test]
    fn parameters_in_the_url_win() {
        let url = bounded_url(
            "postgres://h/db?sslmode=require&tcp_user_timeout=0&options=-c%20search_path%3Dx",
            Duration::from_secs(1),
            Q,
        );
        assert_eq!(
            url,
            "postgres://h/db?sslmode=require&tcp_user_timeout=0&options=-c%20search_path%3Dx\
             &connect_timeout=2&keepalives=1&keepalives_idle=10&keepalives_interval=2\
             &keepalives_count=4"
        );
    }

    #[test]
    fn the_port_comes_from_the_url_or_is_libpqs_default() {
        assert_eq!(url_port("postgres://h:6543/db"), Some(6543));
        assert_eq!(url_port("postgres://h/db"), Some(5432));
        assert_eq!(url_port("postgres://h/db?port=7000"), Some(7000));
    }

    /// A TCP connection to a peer that accepts and never answers, as the watchdog sees it.
    fn silent_peer() -> (std::net::TcpListener, std::net::TcpStream, Arc<Slot>) {
        use std::os::fd::AsRawFd;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let before = socket_inodes().unwrap();
        let stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        assert_eq!(
            new_socket(&before, Some(port)),
            Some(stream.as_raw_fd()),
            "the socket just opened is found"
        );
        let slot = Arc::new(Slot {
            fd: Mutex::new(Some(stream.as_raw_fd())),
            busy_since: AtomicU64::new(0),
            epoch: Instant::now() - Duration::from_secs(60),
        });
        (listener, stream, slot)
    }

    #[test]
    fn a_connection_in_use_past_the_limit_is_shut_down_and_an_idle_one_is_not() {
        use std::io::Read;
        let (_listener, mut stream, slot) = silent_peer();
        let slots = Mutex::new(vec![Arc::downgrade(&slot)]);
        watch(&slots, Duration::from_secs(1));
        stream.set_nonblocking(true).unwrap();
        let idle = stream.read(&mut [0u8; 1]).map_err(|e| e.kind());
        assert_eq!(
            idle,
            Err(std::io::ErrorKind::WouldBlock),
            "idle: left alone"
        );
        stream.set_nonblocking(false).unwrap();

        let armed = slot.arm();
        slot.busy_since.store(1, Ordering::SeqCst); // in use since a minute ago
        watch(&slots, Duration::from_secs(1));
        // Shut down: the read that would wait for ever ends at once.
        assert_eq!(stream.read(&mut [0u8; 1]).unwrap(), 0);
        drop((armed, slot));
        watch(&slots, Duration::from_secs(1));
        assert!(lock(&slots).is_empty(), "closed connections are forgotten");
    }

    #[test]
    fn a_slot_is_overdue_only_while_armed_past_the_limit() {
        let slot = Arc::new(Slot {
            fd: Mutex::new(None),
            busy_since: AtomicU64::new(0),
            epoch: Instant::now() - Duration::from_secs(60),
        });
        assert!(!slot.overdue(Duration::ZERO), "idle");
        let armed = slot.arm();
        // Armed just now: within any limit of a second.
        assert!(!slot.overdue(Duration::from_secs(1)));
        slot.busy_since.store(1, Ordering::SeqCst); // armed at the epoch, a minute ago
        assert!(slot.overdue(Duration::from_secs(1)));
        drop(armed);
        assert!(!slot.overdue(Duration::ZERO), "disarmed");
        assert!(!slot.break_off(), "a released slot is never shut down");
    }
}
