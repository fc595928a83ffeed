//! Listening sockets: one per poller, bound to the same address with `SO_REUSEPORT` so the
//! kernel spreads new connections evenly across pollers without a shared accept lock. Options
//! set here are inherited by every accepted socket (`TCP_NODELAY`) or shape how connections
//! arrive (`TCP_DEFER_ACCEPT`).

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// Pending connections the kernel queues per listener.
const BACKLOG: i32 = 4096;

/// Binds `n` listeners to `addr` (port 0 picks one free port for all of them); `defer` is the
/// longest the kernel holds a connection that has not sent anything yet.
pub(crate) fn bind(addr: impl ToSocketAddrs, n: usize, defer: Duration) -> io::Result<Vec<std::net::TcpListener>> {
    let mut last_err = None;
    for a in addr.to_socket_addrs()? {
        match bind_all(a, n, defer) {
            Ok(v) => return Ok(v),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to bind")))
}

fn bind_all(mut addr: SocketAddr, n: usize, defer: Duration) -> io::Result<Vec<std::net::TcpListener>> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n.max(1) {
        let l = bind_one(addr, defer)?;
        addr = l.local_addr()?; // the others join the port the first one got
        v.push(l);
    }
    Ok(v)
}

fn bind_one(addr: SocketAddr, defer: Duration) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    s.set_reuse_address(true)?;
    s.set_reuse_port(true)?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.set_nonblocking(true)?;
    // Responses go out in one write per batch; Nagle would only delay a streamed one. Set
    // here, it costs no system call per connection (Linux copies it to accepted sockets).
    s.set_tcp_nodelay(true)?;
    if !defer.is_zero() {
        use std::os::fd::AsRawFd;
        crate::sys::defer_accept(s.as_raw_fd(), defer)?;
    }
    s.bind(&addr.into())?;
    s.listen(BACKLOG)?;
    Ok(s.into())
}
