//! Closing a listening TCP socket without resetting the connections queued on it.
//!
//! The kernel completes handshakes on its own and queues the connections until a process accepts
//! them; closing the socket resets every connection still queued. A proxy in front (nginx) has
//! usually sent its request on such a connection already, and never retries a POST that was
//! sent: every queued login or refresh would be lost on each graceful stop.
//!
//! So a graceful stop first [`stop_new_connections`]: a socket filter that drops every packet
//! that reaches the listening socket, SYNs included (a packet of an accepted connection goes to
//! that connection's own socket, not the listener). The client's SYN goes unanswered and is
//! sent again a second later, when the socket is closed and the answer is a refusal: a proxy then
//! tries its next server, as for any refused connection. Meanwhile the workers accept what is
//! queued ([`queued`] says when nothing is), and only then are they told to stop.
//!
//! A worker told to stop then [`begin`]s draining: every answer from then on says
//! `Connection: close` (`crate::middleware::headers::finish`), so a proxy that keeps connections alive to us
//! (nginx's upstream `keepalive`) drops each one after its answer instead of writing its next
//! request on it; and the worker waits ([`until_closed`]) for its [`Open`] connections to close,
//! up to KEEP_ALIVE, before actix stops (which closes the idle ones at once). An idle kept-alive
//! connection is thus closed by the proxy, whose upstream keepalive_timeout is the shorter
//! (nginx/upstream.conf: 4 s against our 5 s), never by us while it may be writing a request on
//! it: nginx does not resend a POST it wrote, so each such race lost a login or a refresh on
//! every rolling restart (`process.rs`
//! `a_stopping_worker_closes_each_busy_kept_alive_connection_after_an_answer`, `deploy/test-fleet`).

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use socket2::{SockFilter, SockRef};

use crate::prefork::listener::Listener;

/// This process is stopping: answers close their connection (see the module's documentation).
static DRAINING: AtomicBool = AtomicBool::new(false);

/// From now on, every answer of this process closes its connection, and /readyz answers 503.
pub fn begin() {
    DRAINING.store(true, Ordering::Relaxed);
    // From now on access lines are written at once; write out those still buffered.
    crate::middleware::access_log::flush_all();
}

/// Whether this process is stopping (answers close their connection).
pub fn draining() -> bool {
    DRAINING.load(Ordering::Relaxed)
}

/// Connections of this process that are open (see [`Open`]).
static OPEN: AtomicUsize = AtomicUsize::new(0);

/// One open connection, counted while it lives: made for each new connection and kept in its
/// extensions (`HttpServer::on_connect`), which are dropped when the connection closes.
#[derive(Debug)]
pub struct Open(());

impl Open {
    pub fn counted() -> Open {
        OPEN.fetch_add(1, Ordering::Relaxed);
        Open(())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Waits until no connection of this process is open, or `limit` has passed.
pub async fn until_closed(limit: Duration) {
    let until = Instant::now() + limit;
    while OPEN.load(Ordering::Relaxed) > 0 && Instant::now() < until {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Classic BPF `ret #0`: keep no byte of the packet, that is, drop it.
const DROP_EVERYTHING: [SockFilter; 1] = [SockFilter::new(0x06, 0, 0, 0)];

/// Makes a TCP listening socket drop new connection attempts (the connections already queued
/// stay, to be accepted). Unix sockets cannot filter: nothing is done to them.
pub fn stop_new_connections(listener: &Listener) -> io::Result<()> {
    match listener {
        Listener::Tcp(tcp) => SockRef::from(tcp).attach_filter(&DROP_EVERYTHING),
        Listener::Unix(_) => Ok(()),
    }
}

/// Connections the kernel has queued on a listening TCP socket that no process has accepted yet
/// (Linux reports the accept queue's length as `tcpi_unacked` of a listening socket); 0 for a
/// unix socket.
pub fn queued(listener: &Listener) -> io::Result<u32> {
    let Listener::Tcp(tcp) = listener else {
        return Ok(0);
    };
    let fd = tcp.as_fd().as_raw_fd();
    let mut info = std::mem::MaybeUninit::<libc::tcp_info>::zeroed();
    let mut len = libc::socklen_t::try_from(std::mem::size_of::<libc::tcp_info>())
        .map_err(io::Error::other)?;
    // SAFETY: `fd` is a valid socket for the borrow of `tcp`; `info` has room for `len` bytes,
    // and the kernel writes at most `len` of them (and sets `len` to how many it wrote).
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: zero-initialised, then written by the kernel: every field is a plain integer.
    let info = unsafe { info.assume_init() };
    Ok(info.tcpi_unacked)
}

#[cfg(test)]
mod tests {
    use std::net::TcpStream;
    use std::time::Duration;

    use super::*;
    use crate::prefork::listener::BindAddr;

    #[test]
    fn a_filtered_socket_keeps_its_queue_and_lets_no_one_new_in() {
        let listener = Listener::bind(&BindAddr::parse("127.0.0.1:0")).expect("bind");
        let Listener::Tcp(tcp) = &listener else {
            panic!("a TCP listener");
        };
        let addr = tcp.local_addr().expect("addr");
        let first = TcpStream::connect(addr).expect("connect");
        assert_eq!(queued(&listener).expect("queued"), 1);
        stop_new_connections(&listener).expect("filter");
        // A new SYN is dropped: the connect does not complete (bounded by its timeout).
        assert!(TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_err());
        assert_eq!(queued(&listener).expect("queued"), 1);
        // The queued one is still there to be served.
        let (mut served, _) = tcp.accept().expect("accept");
        assert_eq!(queued(&listener).expect("queued"), 0);
        use std::io::{Read, Write};
        served.write_all(b"ok").expect("write");
        let mut client = first;
        let mut buf = [0u8; 2];
        client.read_exact(&mut buf).expect("read");
        assert_eq!(&buf, b"ok");
    }
}
