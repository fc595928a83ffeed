//! Listening sockets: one per poller, bound to the same address with `SO_REUSEPORT` so the
//! kernel spreads new connections evenly across pollers without a shared accept lock. Options
//! set here are inherited by every accepted socket (`TCP_NODELAY`) or shape how connections
//! arrive (`TCP_DEFER_ACCEPT`).
//!
//! A Unix domain socket has no `SO_REUSEPORT`: there is one listening socket, and every poller
//! waits on it (a duplicate of its descriptor each), registered with `EPOLLEXCLUSIVE` so a new
//! connection wakes one waiting poller rather than all of them; whichever accepts it serves it.
//! An idle server's connections go to the first poller that waits, and spread as pollers get
//! busy (80 connections from 8 client threads at once: 37 and 43 on two pollers). Its
//! socket file belongs to the server: a stale one (nobody listening) is replaced at bind, a
//! live one refuses the bind, and it is removed when the last listener closes (see
//! [`SocketFile`]).
//!
//! `SO_REUSEPORT` would also let any other process of the same user bind the same port and
//! silently take a share of the connections. So unless the builder opts in (`reuse_port`), the
//! port is first claimed by a probe socket without it: that bind fails with `AddrInUse` if
//! anything listens there, and a later process probing the same way fails against ours. (A
//! single poller's listener simply goes without `SO_REUSEPORT`.) What the probe cannot stop:
//! Linux lets a process of the same user that sets `SO_REUSEPORT` itself join a group that is
//! already listening; only sharing one socket between the pollers would close that door.
//!
//! A server that opts in binds one socket for all its pollers and steers the port's new
//! connections to it (`sys::steer_reuseport_to`): it is the new instance of a restart, and the
//! old one must get nothing more in its queue, which closing would reset. Sockets passed in by
//! systemd or an exec hand-over (`activation.rs`) are shared the same way when there are fewer
//! than pollers.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
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
    if shared {
        // one socket in the port's group per process, for the newest to be steered to
        let l = bind_one(addr, defer, true)?;
        crate::sys::steer_reuseport_to(l.as_raw_fd(), 1)?;
        return Ok(vec![l]);
    }
    let reuse_port = n > 1;
    // Claim the port without SO_REUSEPORT first: this fails if anything listens on it (and a
    // later probe fails against our listeners). Port 0 gets its number here. The probe stays
    // bound, not listening, until our listeners are (Linux lets them bind beside it, as all
    // have SO_REUSEADDR and it does not listen).
    let _probe = match reuse_port {
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
        crate::sys::defer_accept(s.as_raw_fd(), defer)?;
    }
    s.bind(&addr.into())?;
    s.listen(BACKLOG)?;
    Ok(s.into())
}

/// The peer address a connection over a Unix domain socket reports: it has no IP address.
pub(crate) const UNIX_PEER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);

/// What a listener's connections speak: plain HTTP, or HTTPS with this configuration.
#[derive(Clone, Debug, Default)]
pub(crate) struct Security {
    #[cfg(feature = "tls")]
    pub tls: Option<crate::tls::TlsConfig>,
}

/// A new connection's TLS session, if its listener has one (nothing without feature `tls`).
#[cfg(feature = "tls")]
pub(crate) type Session = Option<Arc<crate::tls::session::Session>>;
#[cfg(not(feature = "tls"))]
pub(crate) type Session = ();

impl Security {
    /// A new connection's session; `proxy`: it begins with a PROXY header, before TLS.
    #[cfg_attr(not(feature = "tls"), expect(unused_variables, reason = "no TLS without the feature"))]
    pub(crate) fn session(&self, proxy: bool) -> io::Result<Session> {
        #[cfg(feature = "tls")]
        return match &self.tls {
            Some(t) => Ok(Some(Arc::new(crate::tls::session::Session::new(t.session()?, proxy)))),
            None => Ok(None),
        };
        #[cfg(not(feature = "tls"))]
        Ok(())
    }
}

/// What [`crate::Builder`] bound (or inherited), not yet handed to the pollers.
#[derive(Debug)]
pub(crate) enum Bound {
    /// One listener per poller, or fewer: pollers then share them (see [`Bound::split`]).
    Tcp(Vec<std::net::TcpListener>),
    /// One listener for all pollers, and the file it owns (none for a socket passed in by
    /// systemd, whose file is systemd's).
    Unix(std::os::unix::net::UnixListener, Option<Arc<SocketFile>>),
}

impl Bound {
    /// The socket file a Unix server bound.
    pub(crate) fn socket_file(&self) -> Option<Arc<SocketFile>> {
        match self {
            Bound::Tcp(_) => None,
            Bound::Unix(_, file) => file.clone(),
        }
    }

    /// The socket file of a Unix server.
    pub(crate) fn unix_path(&self) -> Option<&Path> {
        match self {
            Bound::Tcp(_) => None,
            Bound::Unix(_, file) => file.as_deref().map(SocketFile::path),
        }
    }

    /// A duplicate of each socket's descriptor, for a hand-over to another process.
    pub(crate) fn duplicates(&self) -> io::Result<Vec<OwnedFd>> {
        match self {
            Bound::Tcp(v) => v.iter().map(|l| l.try_clone().map(OwnedFd::from)).collect(),
            Bound::Unix(l, _) => Ok(vec![l.try_clone()?.into()]),
        }
    }

    /// How many listening sockets there are: a server runs at least that many pollers, so
    /// every socket has one waiting on it.
    pub(crate) fn len(&self) -> usize {
        match self {
            Bound::Tcp(v) => v.len(),
            Bound::Unix(..) => 1,
        }
    }

    /// The listener for each of `pollers` pollers (at least [`len`](Self::len)): a TCP server
    /// that bound one per poller gives each its own; fewer sockets (one with
    /// `reuse_port`, or those passed in by systemd) are shared, poller `i` waiting on socket
    /// `i % len` through a duplicate of its descriptor, registered exclusively.
    pub(crate) fn split(self, pollers: usize) -> io::Result<Vec<Listener>> {
        match self {
            Bound::Tcp(v) => {
                let shared = v.len() < pollers;
                let mut out = Vec::with_capacity(pollers.max(v.len()));
                for i in 0..pollers.max(v.len()) {
                    let l = v[i % v.len()].try_clone()?;
                    out.push(Listener::Tcp(mio::net::TcpListener::from_std(l), shared));
                }
                Ok(out)
            }
            Bound::Unix(l, file) => {
                let mut v = Vec::with_capacity(pollers.max(1));
                for _ in 1..pollers.max(1) {
                    v.push(Listener::Unix(mio::net::UnixListener::from_std(l.try_clone()?), file.clone()));
                }
                v.push(Listener::Unix(mio::net::UnixListener::from_std(l), file));
                Ok(v)
            }
        }
    }
}

/// A poller's listening socket.
pub(crate) enum Listener {
    /// A TCP socket, and whether other pollers wait on it too (then registered exclusively).
    Tcp(mio::net::TcpListener, bool),
    /// The server's one Unix socket (this poller's duplicate of its descriptor) and its file.
    Unix(
        mio::net::UnixListener,
        #[expect(dead_code, reason = "held for its drop: the last listener on the socket removes the file")]
        Option<Arc<SocketFile>>,
    ),
}

impl Listener {
    /// One accepted connection, non-blocking, and its peer ([`UNIX_PEER`] over a Unix socket).
    pub(crate) fn accept(&self) -> io::Result<(OwnedFd, SocketAddr)> {
        match self {
            Listener::Tcp(l, _) => l.accept().map(|(s, peer)| (s.into(), peer)),
            Listener::Unix(l, _) => l.accept().map(|(s, _)| (s.into(), UNIX_PEER)),
        }
    }

    /// Registers for new connections under `token` (edge-triggered, as mio registers).
    pub(crate) fn register(&mut self, poll: &mio::Poll, token: mio::Token) -> io::Result<()> {
        match self {
            Listener::Tcp(l, false) => poll.registry().register(l, token, mio::Interest::READABLE),
            // Pollers that wait on the same socket do so exclusively, so a new connection wakes
            // one of them instead of all
            Listener::Tcp(l, true) => crate::sys::epoll_add_exclusive(poll.as_raw_fd(), l.as_raw_fd(), token.0 as u64),
            Listener::Unix(l, _) => crate::sys::epoll_add_exclusive(poll.as_raw_fd(), l.as_raw_fd(), token.0 as u64),
        }
    }

    /// Undoes [`register`](Self::register) (needed before dropping a Unix listener: the other
    /// pollers' duplicates keep the socket open, and with it this poller's registration).
    pub(crate) fn deregister(&mut self, poll: &mio::Poll) -> io::Result<()> {
        match self {
            Listener::Tcp(l, false) => poll.registry().deregister(l),
            Listener::Tcp(l, true) => poll.registry().deregister(&mut mio::unix::SourceFd(&l.as_raw_fd())),
            Listener::Unix(l, _) => poll.registry().deregister(&mut mio::unix::SourceFd(&l.as_raw_fd())),
        }
    }
}

/// The file a Unix socket is bound to. Dropped with the last listener on it (or a server that
/// never started), it removes the file, unless another socket has since been bound at that
/// path (a newer server that found ours no longer listening).
#[derive(Debug)]
pub(crate) struct SocketFile {
    path: PathBuf,
    /// The file's device and inode when we bound it.
    id: (u64, u64),
    /// Another process serves the socket now (an exec hand-over): leave the file.
    kept: std::sync::atomic::AtomicBool,
}

impl SocketFile {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Leaves the file in place when the last listener closes.
    pub(crate) fn keep(&self) {
        self.kept.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if !self.kept.load(std::sync::atomic::Ordering::SeqCst)
            && std::fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.id)
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Binds a Unix stream socket at `path`. A socket file left by a server that is gone (nothing
/// accepts on it) is replaced; one that something listens on is refused with `AddrInUse`, and a
/// file of another kind with `AlreadyExists` (it is never removed). Errors name the path.
pub(crate) fn bind_unix(path: &Path) -> io::Result<(std::os::unix::net::UnixListener, Arc<SocketFile>)> {
    let named = |e: io::Error| io::Error::new(e.kind(), format!("cannot listen on {}: {e}", path.display()));
    if let Ok(m) = std::fs::symlink_metadata(path) {
        if !m.file_type().is_socket() {
            return Err(named(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "a file that is not a socket is in the way",
            )));
        }
        match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => return Err(named(io::Error::new(io::ErrorKind::AddrInUse, "another server is listening"))),
            // nobody accepts: a server that ended without removing its file
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => match std::fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(named(e)),
                _ => {}
            },
            Err(e) => return Err(named(e)),
        }
    }
    let bind = || -> io::Result<std::os::unix::net::UnixListener> {
        let s = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)?;
        s.set_nonblocking(true)?;
        s.bind(&socket2::SockAddr::unix(path)?)?;
        s.listen(BACKLOG)?;
        Ok(std::os::unix::net::UnixListener::from(OwnedFd::from(s)))
    };
    let l = bind().map_err(named)?;
    let m = std::fs::symlink_metadata(path).map_err(named)?;
    Ok((l, Arc::new(SocketFile { path: path.to_path_buf(), id: (m.dev(), m.ino()), kept: Default::default() })))
}
