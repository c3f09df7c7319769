//! Listening sockets: `BIND` entries parsed, bound (TCP or unix socket), and handed from the master
//! to its worker processes by descriptor number.

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use socket2::{Domain, SockAddr, Socket, Type};

/// gunicorn's default backlog: connections wait here while workers are replaced or reloaded.
const BACKLOG: i32 = 2048;

/// Who may connect to a unix socket: the owner and its group (put nginx in that group).
const UNIX_SOCKET_MODE: u32 = 0o660;

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: io::Error },
    #[error("cannot listen on {addr}: it resolves to no address")]
    Unresolved { addr: String },
    #[error("cannot listen on unix:{}: another server is listening there", .0.display())]
    InUse(PathBuf),
    #[error("bad inherited socket {spec:?}: {reason}")]
    Inherited { spec: String, reason: String },
}

/// One `BIND` entry: `HOST:PORT` or `unix:/path.sock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindAddr {
    Tcp(String),
    Unix(PathBuf),
}

impl BindAddr {
    pub fn parse(text: &str) -> BindAddr {
        match text.strip_prefix("unix:") {
            Some(path) => BindAddr::Unix(PathBuf::from(path)),
            None => BindAddr::Tcp(text.to_owned()),
        }
    }
}

impl fmt::Display for BindAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BindAddr::Tcp(addr) => f.write_str(addr),
            BindAddr::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// A bound, listening socket.
#[derive(Debug)]
pub enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl Listener {
    /// Binds `addr` with SO_REUSEADDR and a deep backlog. A stale unix socket file (nobody
    /// listening) is replaced; a live one is an error. A TCP socket also has SO_REUSEPORT, so
    /// that [`Listener::shard`] can bind more sockets on its port; a port some other socket
    /// holds (another server, even one with SO_REUSEPORT too) is still an error.
    pub fn bind(addr: &BindAddr) -> Result<Listener, ListenError> {
        let bind_err = |source| ListenError::Bind {
            addr: addr.to_string(),
            source,
        };
        match addr {
            BindAddr::Tcp(text) => {
                let mut last = None;
                for candidate in text.to_socket_addrs().map_err(bind_err)? {
                    match probe_tcp(candidate).and_then(bind_tcp) {
                        Ok(listener) => return Ok(Listener::Tcp(listener)),
                        Err(e) => last = Some(e),
                    }
                }
                Err(last.map_or_else(|| ListenError::Unresolved { addr: text.clone() }, bind_err))
            }
            BindAddr::Unix(path) => {
                remove_stale_socket(path)?;
                bind_unix(path).map(Listener::Unix).map_err(bind_err)
            }
        }
    }

    /// Another listening socket on this TCP socket's address and port (SO_REUSEPORT): the
    /// kernel spreads new connections over the sockets of a port by a hash of each connection's
    /// addresses, so that worker processes each accepting on their own socket get about equal
    /// shares. On one shared socket, whichever worker wakes first takes every connection of a
    /// burst (it accepts until the queue is empty), and keep-alive keeps them there: bench/run saw
    /// one of two workers serve all 32 connections, at half the throughput. Unix sockets cannot
    /// be sharded: `None`.
    pub fn shard(&self) -> Option<io::Result<Listener>> {
        match self {
            Listener::Tcp(l) => Some(l.local_addr().and_then(bind_tcp).map(Listener::Tcp)),
            Listener::Unix(_) => None,
        }
    }

    /// Where clients reach it: `http://127.0.0.1:8000` or `unix:/run/app.sock` (the real port
    /// when port 0 was asked for).
    pub fn describe(&self) -> String {
        match self {
            Listener::Tcp(l) => l
                .local_addr()
                .map_or_else(|e| format!("tcp ({e})"), |a| format!("http://{a}")),
            Listener::Unix(l) => match l
                .local_addr()
                .ok()
                .and_then(|a| a.as_pathname().map(Path::to_owned))
            {
                Some(path) => format!("unix:{}", path.display()),
                None => "unix:(unnamed)".to_owned(),
            },
        }
    }

    /// The socket file of a unix listener, for removal when the server stops.
    pub fn unix_path(&self) -> Option<PathBuf> {
        match self {
            Listener::Tcp(_) => None,
            Listener::Unix(l) => l
                .local_addr()
                .ok()
                .and_then(|a| a.as_pathname().map(Path::to_owned)),
        }
    }

    /// How a worker process finds this socket among its inherited descriptors: `tcp:3`, `unix:4`.
    pub fn inherit_spec(&self) -> String {
        match self {
            Listener::Tcp(l) => format!("tcp:{}", l.as_raw_fd()),
            Listener::Unix(l) => format!("unix:{}", l.as_raw_fd()),
        }
    }

    /// Takes over a descriptor the master passed down (see [`Listener::inherit_spec`]).
    ///
    /// Only for worker start-up: each spec must name a listening socket this process inherited
    /// and nothing else in the process owns.
    pub fn from_inherited(spec: &str) -> Result<Listener, ListenError> {
        let bad = |reason: &str| ListenError::Inherited {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        let (kind, fd) = spec
            .split_once(':')
            .ok_or_else(|| bad("expected KIND:FD"))?;
        let fd: RawFd = fd.parse().map_err(|_| bad("not a descriptor number"))?;
        if !matches!(kind, "tcp" | "unix") {
            return Err(bad("kind must be tcp or unix"));
        }
        // Refuse stdio and closed descriptors before taking ownership (closing a descriptor that
        // is not open is an I/O-safety violation).
        if fd < 3 {
            return Err(bad("descriptors 0-2 are stdio"));
        }
        // SAFETY: only borrowed for this one fcntl call, which fails cleanly if fd is not open.
        rustix::io::fcntl_getfd(unsafe { BorrowedFd::borrow_raw(fd) })
            .map_err(|_| bad("not an open descriptor"))?;
        // SAFETY: the master opened this descriptor, cleared its close-on-exec flag for this
        // child only, and named it once on the command line; nothing else here refers to it.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        let socket = Socket::from(owned);
        if !socket.is_listener().map_err(|e| bad(&e.to_string()))? {
            return Err(bad("not a listening socket"));
        }
        // Workers never exec, but keep the descriptor from leaking into anything they might run.
        rustix::io::fcntl_setfd(&socket, rustix::io::FdFlags::CLOEXEC)
            .map_err(|e| bad(&e.to_string()))?;
        Ok(if kind == "unix" {
            Listener::Unix(socket.into())
        } else {
            Listener::Tcp(socket.into())
        })
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Listener::Tcp(l) => l.as_fd(),
            Listener::Unix(l) => l.as_fd(),
        }
    }
}

/// Checks that nothing holds `addr` (a socket without SO_REUSEPORT cannot bind a port that any
/// socket holds) and returns it with the port resolved, for `bind_tcp` to bind with SO_REUSEPORT:
/// a second server started on a port in use fails, as it would without SO_REUSEPORT, instead of
/// joining the first one's sockets.
fn probe_tcp(addr: SocketAddr) -> io::Result<SocketAddr> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket
        .local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::other("not an internet address"))
}

/// A listening socket on `addr` with SO_REUSEPORT (see [`Listener::shard`]).
fn bind_tcp(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    // A restarted server can bind while old connections linger in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    if addr.is_ipv6() {
        // `[::]:8000` means IPv6 only, so `0.0.0.0:8000` can be bound beside it.
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

fn bind_unix(path: &Path) -> io::Result<UnixListener> {
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    socket.bind(&SockAddr::unix(path)?)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(UNIX_SOCKET_MODE))?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// A socket file left by a server that died is removed; one a live server answers on is not.
fn remove_stale_socket(path: &Path) -> Result<(), ListenError> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !meta.file_type().is_socket() {
        return Err(ListenError::Bind {
            addr: format!("unix:{}", path.display()),
            source: io::Error::new(
                io::ErrorKind::AlreadyExists,
                "a file that is not a socket is in the way",
            ),
        });
    }
    if UnixStream::connect(path).is_ok() {
        return Err(ListenError::InUse(path.to_owned()));
    }
    std::fs::remove_file(path).map_err(|source| ListenError::Bind {
        addr: format!("unix:{}", path.display()),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_forms() {
        assert_eq!(
            BindAddr::parse("127.0.0.1:8000"),
            BindAddr::Tcp("127.0.0.1:8000".into())
        );
        assert_eq!(
            BindAddr::parse("unix:/run/a.sock"),
            BindAddr::Unix("/run/a.sock".into())
        );
        assert_eq!(
            BindAddr::parse("unix:/run/a.sock").to_string(),
            "unix:/run/a.sock"
        );
    }

    #[test]
    fn binds_tcp_port_zero_and_unix_sockets() {
        let tcp = Listener::bind(&BindAddr::parse("127.0.0.1:0")).unwrap();
        assert!(
            tcp.describe().starts_with("http://127.0.0.1:"),
            "{}",
            tcp.describe()
        );
        assert!(tcp.inherit_spec().starts_with("tcp:"));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.sock");
        let addr = BindAddr::Unix(path.clone());
        let unix = Listener::bind(&addr).unwrap();
        assert_eq!(unix.unix_path(), Some(path.clone()));
        assert!(
            matches!(Listener::bind(&addr), Err(ListenError::InUse(_))),
            "live socket kept"
        );
        drop(unix);
        // The file is left behind, as after a crash: the next bind replaces it.
        assert!(Listener::bind(&addr).is_ok());
    }

    #[test]
    fn shards_share_a_port_that_no_one_else_can_bind() {
        let first = Listener::bind(&BindAddr::parse("127.0.0.1:0")).unwrap();
        let shard = first.shard().expect("a TCP listener shards").unwrap();
        assert_eq!(shard.describe(), first.describe());
        // Another server on the same port still fails, SO_REUSEPORT or not.
        let port = first.describe().rsplit(':').next().unwrap().to_owned();
        let again = Listener::bind(&BindAddr::parse(&format!("127.0.0.1:{port}")));
        assert!(matches!(again, Err(ListenError::Bind { .. })), "{again:?}");
        // Both sockets accept: connections spread over them.
        let (Listener::Tcp(a), Listener::Tcp(b)) = (&first, &shard) else {
            panic!("TCP listeners");
        };
        a.set_nonblocking(true).unwrap();
        b.set_nonblocking(true).unwrap();
        let clients: Vec<_> = (0..32)
            .map(|_| std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap())
            .collect();
        let accepted = |l: &TcpListener| std::iter::from_fn(|| l.accept().ok()).count();
        let (on_a, on_b) = (accepted(a), accepted(b));
        assert_eq!(on_a + on_b, clients.len());
        assert!(on_a > 0 && on_b > 0, "{on_a} + {on_b}");

        let dir = tempfile::tempdir().unwrap();
        let unix = Listener::bind(&BindAddr::Unix(dir.path().join("s.sock"))).unwrap();
        assert!(unix.shard().is_none());
    }

    #[test]
    fn inherited_specs_are_checked() {
        for bad in ["3", "tcp:x", "tcp:1", "udp:99", "tcp:987"] {
            assert!(Listener::from_inherited(bad).is_err(), "{bad}");
        }
    }
}
