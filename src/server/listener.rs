//! Listening sockets: one per poller, bound to the same address with `SO_REUSEPORT` so the
//! kernel spreads new connections evenly across pollers without a shared accept lock. Options
//! set here are inherited by every accepted socket (`TCP_NODELAY`) or shape how connections
//! arrive (`TCP_DEFER_ACCEPT`).
//!
//! `SO_REUSEPORT` would also let any other process of the same user bind the same port and
//! silently take a share of the connections. So unless the builder opts in (`reuse_port`), the
//! port is first claimed by a probe socket without it: that bind fails with `AddrInUse` if
//! anything listens there, and a later process probing the same way fails against ours. (A
//! single poller's listener simply goes without `SO_REUSEPORT`.) What the probe cannot stop:
//! Linux lets a process of the same user that sets `SO_REUSEPORT` itself join a group that is
//! already listening; only sharing one socket between the pollers would close that door.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// Pending connections the kernel queues per listener.
const BACKLOG: i32 = 4096;

/// Binds `n` listeners to `addr` (port 0 picks one free port for all of them); `defer` is the
/// longest the kernel holds a connection that has not sent anything yet; `shared`: whether
/// other processes may bind the port too (`SO_REUSEPORT` without the exclusive probe). Errors
/// name the address.
pub(crate) fn bind(
    addr: impl ToSocketAddrs,
    n: usize,
    defer: Duration,
    shared: bool,
) -> io::Result<Vec<std::net::TcpListener>> {
    let mut last_err = None;
    for a in addr.to_socket_addrs()? {
        match bind_all(a, n.max(1), defer, shared) {
            Ok(v) => return Ok(v),
            Err(e) => last_err = Some(io::Error::new(e.kind(), format!("cannot listen on {a}: {e}"))),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to listen on")))
}

fn bind_all(mut addr: SocketAddr, n: usize, defer: Duration, shared: bool) -> io::Result<Vec<std::net::TcpListener>> {
    let reuse_port = shared || n > 1;
    // Claim the port without SO_REUSEPORT first: this fails if anything listens on it (and a
    // later probe fails against our listeners). Port 0 gets its number here. The probe stays
    // bound, not listening, until our listeners are (Linux lets them bind beside it, as all
    // have SO_REUSEADDR and it does not listen).
    let _probe = match reuse_port && !shared {
        true => {
            let probe = socket(addr, false)?;
            probe.bind(&addr.into())?;
            addr = probe.local_addr()?.as_socket().unwrap_or(addr);
            Some(probe)
        }
        false => None,
    };
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let l = bind_one(addr, defer, reuse_port)?;
        addr = l.local_addr()?; // the others join the port the first one got
        v.push(l);
    }
    Ok(v)
}

fn socket(addr: SocketAddr, reuse_port: bool) -> io::Result<socket2::Socket> {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    s.set_reuse_address(true)?; // a restart binds even with connections in TIME_WAIT
    s.set_reuse_port(reuse_port)?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    Ok(s)
}

fn bind_one(addr: SocketAddr, defer: Duration, reuse_port: bool) -> io::Result<std::net::TcpListener> {
    let s = socket(addr, reuse_port)?;
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
