//! HTTP/1.1 protocol upgrades (RFC 9110 §7.8): a handler answers `101 Switching Protocols`
//! and takes the connection over as a blocking [`Upgraded`] stream.
//!
//! This module owns the checks a request must pass to be upgraded ([`Request::upgrade`]) and
//! the stream type. The server's side of the hand-over (writing the `101`, forgetting the
//! connection) is `server/upgrade.rs`. The invariant: once the callback has the stream, the
//! server no longer knows the connection: it is not polled, not timed out, not counted in
//! [`Stats::connections_open`](crate::Stats::connections_open), `max_connections` or the
//! per-IP cap, and a drain or shutdown neither waits for it nor closes it.

use crate::http::head::Framing;
use crate::http::method::MethodKind;
use crate::{Request, Response};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// What a handler asked for with [`Request::upgrade`]: carried by the response to the worker.
pub(crate) struct Pending {
    /// One past the request head in the connection's buffer: what follows is the new protocol's.
    pub head_end: usize,
    pub on_upgrade: Box<dyn FnOnce(Upgraded) + Send>,
}

/// A connection taken over after `101 Switching Protocols`: a blocking stream that first
/// yields the bytes the client sent after the request head (and the server had already read),
/// then reads the socket.
///
/// It is a TCP or a Unix stream socket in blocking mode, with no timeouts: set your own with
/// [`set_read_timeout`](Self::set_read_timeout). Dropping it closes the connection. Over TLS
/// (a `Builder::bind_tls` listener, feature `tls`) it reads and writes through the
/// connection's TLS session, with the same blocking behaviour; the raw descriptor
/// ([`AsRawFd`]) is then the encrypted socket, not to be read or written directly. This is
/// what protocol crates over blocking streams expect, such as tungstenite's
/// `WebSocket<S: Read + Write>`.
///
/// ```no_run
/// use std::io::{Read, Write};
/// fn echo(mut s: shockwave::upgrade::Upgraded) -> std::io::Result<()> {
///     s.set_read_timeout(Some(std::time::Duration::from_secs(60)))?;
///     let mut buf = [0u8; 4096];
///     loop {
///         let n = s.read(&mut buf)?;
///         if n == 0 {
///             return Ok(());
///         }
///         s.write_all(&buf[..n])?;
///     }
/// }
/// # let _ = echo;
/// ```
pub struct Upgraded {
    buffered: Vec<u8>,
    pos: usize,
    socket: Socket,
}

enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
    /// A non-blocking socket under a TLS session; blocking waits are ours (`Wire`), so a clone
    /// writing while another thread waits to read never waits for the session's lock.
    #[cfg(feature = "tls")]
    Tls(TcpStream, std::sync::Arc<crate::tls::session::Session>, std::sync::Arc<TlsTimeouts>),
}

/// The read and write timeouts of a TLS stream (in nanoseconds, 0: none), shared by clones as
/// a socket's own are.
#[cfg(feature = "tls")]
#[derive(Default)]
struct TlsTimeouts {
    read: std::sync::atomic::AtomicU64,
    write: std::sync::atomic::AtomicU64,
}

#[cfg(feature = "tls")]
impl TlsTimeouts {
    fn set(slot: &std::sync::atomic::AtomicU64, t: Option<Duration>) -> io::Result<()> {
        if t == Some(Duration::ZERO) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "cannot set a 0 duration timeout"));
        }
        let ns = t.map_or(0, |t| t.as_nanos().min(u64::MAX as u128) as u64);
        slot.store(ns, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// The wait for a blocking call: the timeout, or a year for none.
    fn get(slot: &std::sync::atomic::AtomicU64) -> Duration {
        match slot.load(std::sync::atomic::Ordering::Relaxed) {
            0 => Duration::from_secs(365 * 86400),
            ns => Duration::from_nanos(ns),
        }
    }
}

/// A TLS stream's blocking call, with std's error for a timeout (`WouldBlock`, as a socket's
/// `SO_RCVTIMEO` gives).
#[cfg(feature = "tls")]
fn tls_io<T>(
    s: &TcpStream,
    tls: &std::sync::Arc<crate::tls::session::Session>,
    op: impl FnOnce(&crate::wire::Wire) -> io::Result<T>,
) -> io::Result<T> {
    let wire = crate::wire::Wire { fd: crate::sys::Fd(s.as_raw_fd()), tls: Some(tls.clone()) };
    op(&wire).map_err(|e| if e.kind() == io::ErrorKind::TimedOut { io::ErrorKind::WouldBlock.into() } else { e })
}

impl Upgraded {
    /// Takes over `fd` (a connected stream socket; `unix` when it is a Unix one), in blocking
    /// mode, with `buffered` as the first bytes to read.
    pub(crate) fn new(
        fd: OwnedFd,
        unix: bool,
        buffered: Vec<u8>,
        #[cfg_attr(not(feature = "tls"), expect(unused_variables, reason = "no TLS without the feature"))]
        tls: crate::server::listener::Session,
    ) -> io::Result<Upgraded> {
        #[cfg(feature = "tls")]
        if let Some(tls) = tls {
            return Ok(Upgraded {
                buffered,
                pos: 0,
                socket: Socket::Tls(TcpStream::from(fd), tls, Default::default()),
            });
        }
        let socket = if unix {
            let s = UnixStream::from(fd);
            s.set_nonblocking(false)?;
            Socket::Unix(s)
        } else {
            let s = TcpStream::from(fd);
            s.set_nonblocking(false)?;
            Socket::Tcp(s)
        };
        Ok(Upgraded { buffered, pos: 0, socket })
    }

    /// How long a read may block (`None`: forever, the default).
    ///
    /// ```no_run
    /// # fn f(s: shockwave::upgrade::Upgraded) -> std::io::Result<()> {
    /// s.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    /// # Ok(()) }
    /// ```
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match &self.socket {
            Socket::Tcp(s) => s.set_read_timeout(t),
            Socket::Unix(s) => s.set_read_timeout(t),
            #[cfg(feature = "tls")]
            Socket::Tls(_, _, times) => TlsTimeouts::set(&times.read, t),
        }
    }

    /// How long a write may block (`None`: forever, the default).
    ///
    /// ```no_run
    /// # fn f(s: shockwave::upgrade::Upgraded) -> std::io::Result<()> {
    /// s.set_write_timeout(Some(std::time::Duration::from_secs(10)))?;
    /// # Ok(()) }
    /// ```
    pub fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match &self.socket {
            Socket::Tcp(s) => s.set_write_timeout(t),
            Socket::Unix(s) => s.set_write_timeout(t),
            #[cfg(feature = "tls")]
            Socket::Tls(_, _, times) => TlsTimeouts::set(&times.write, t),
        }
    }

    /// Shuts down the read side, the write side or both, waking a thread blocked on the other
    /// half (an owner that wants to stop a connection from another thread can keep a
    /// [`try_clone`](Self::try_clone) for this).
    ///
    /// ```no_run
    /// # fn f(s: shockwave::upgrade::Upgraded) -> std::io::Result<()> {
    /// s.shutdown(std::net::Shutdown::Both)?;
    /// # Ok(()) }
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match &self.socket {
            Socket::Tcp(s) => s.shutdown(how),
            Socket::Unix(s) => s.shutdown(how),
            #[cfg(feature = "tls")]
            Socket::Tls(s, tls, _) => {
                if how != Shutdown::Read {
                    tls.close_notify(crate::sys::Fd(s.as_raw_fd()));
                }
                s.shutdown(how)
            }
        }
    }

    /// Another handle on the same socket, for writing from one thread while another reads.
    /// The bytes already read stay with `self`: the clone reads only from the socket.
    ///
    /// ```no_run
    /// # fn f(s: shockwave::upgrade::Upgraded) -> std::io::Result<()> {
    /// let writer = s.try_clone()?;
    /// # let _ = writer; Ok(()) }
    /// ```
    pub fn try_clone(&self) -> io::Result<Upgraded> {
        let socket = match &self.socket {
            Socket::Tcp(s) => Socket::Tcp(s.try_clone()?),
            Socket::Unix(s) => Socket::Unix(s.try_clone()?),
            #[cfg(feature = "tls")]
            Socket::Tls(s, tls, times) => Socket::Tls(s.try_clone()?, tls.clone(), times.clone()),
        };
        Ok(Upgraded { buffered: Vec::new(), pos: 0, socket })
    }

    /// The bytes the client sent after the request head that have not been read yet (they
    /// come first from [`Read::read`]).
    ///
    /// ```no_run
    /// # fn f(s: shockwave::upgrade::Upgraded) {
    /// println!("{} bytes arrived with the handshake", s.buffered().len());
    /// # }
    /// ```
    pub fn buffered(&self) -> &[u8] {
        &self.buffered[self.pos..]
    }
}

impl Read for Upgraded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.buffered.len() {
            let n = buf.len().min(self.buffered.len() - self.pos);
            buf[..n].copy_from_slice(&self.buffered[self.pos..self.pos + n]);
            self.pos += n;
            if self.pos == self.buffered.len() {
                self.buffered = Vec::new();
                self.pos = 0;
            }
            return Ok(n);
        }
        match &mut self.socket {
            Socket::Tcp(s) => s.read(buf),
            Socket::Unix(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Socket::Tls(s, tls, times) => tls_io(s, tls, |w| w.read_blocking(buf, TlsTimeouts::get(&times.read))),
        }
    }
}

impl Write for Upgraded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.socket {
            Socket::Tcp(s) => s.write(buf),
            Socket::Unix(s) => s.write(buf),
            // what the session took (sealed, perhaps not sent yet: `flush` waits for that);
            // a timeout only when it took nothing, as a socket's write reports
            #[cfg(feature = "tls")]
            Socket::Tls(s, tls, times) => {
                tls_io(s, tls, |w| w.write_some_blocking(buf, TlsTimeouts::get(&times.write)))
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &self.socket {
            #[cfg(feature = "tls")]
            Socket::Tls(s, tls, times) => tls_io(s, tls, |w| w.flush_blocking(TlsTimeouts::get(&times.write))),
            _ => Ok(()), // nothing is buffered on the way out
        }
    }
}

/// The last handle on a TLS stream tells the client nothing more follows (`close_notify`),
/// if the socket takes it, before the socket closes.
impl Drop for Upgraded {
    fn drop(&mut self) {
        #[cfg(feature = "tls")]
        if let Socket::Tls(s, tls, _) = &self.socket {
            if std::sync::Arc::strong_count(tls) == 1 {
                let wire = crate::wire::Wire { fd: crate::sys::Fd(s.as_raw_fd()), tls: Some(tls.clone()) };
                let _ = wire.flush();
                wire.close_notify();
            }
        }
    }
}

impl AsFd for Upgraded {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.socket {
            Socket::Tcp(s) => s.as_fd(),
            Socket::Unix(s) => s.as_fd(),
            #[cfg(feature = "tls")]
            Socket::Tls(s, ..) => s.as_fd(),
        }
    }
}

impl AsRawFd for Upgraded {
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

impl std::fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upgraded").field("fd", &self.as_raw_fd()).field("buffered", &self.buffered().len()).finish()
    }
}

/// Whether the comma-separated token lists in the request's `name` fields hold `token`
/// (ASCII case-insensitive).
pub(crate) fn has_token(req: &Request, name: &str, token: &str) -> bool {
    req.header_all(name)
        .flat_map(|v| v.split(|&b| b == b','))
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

/// Refuses an upgrade: `status` with `why` as a plain-text body; the connection closes after.
pub(crate) fn refuse(resp: &mut Response, status: u16, why: &str) -> io::Error {
    resp.set_status(status);
    resp.set_content_type("text/plain; charset=utf-8");
    resp.set_body(format!("{why}\n"));
    resp.close();
    io::Error::new(io::ErrorKind::InvalidInput, why.to_string())
}

impl Request {
    /// Switches this connection to `protocol`: answers `101 Switching Protocols` with
    /// `Upgrade: <protocol>` and `Connection: Upgrade` (and any headers already set on `resp`),
    /// then calls `on_upgrade` with the connection as a blocking [`Upgraded`] stream, on a new
    /// thread of its own, once the handler has returned and the `101` is written.
    ///
    /// Only an HTTP/1.1 `GET` without a body whose `Connection` lists `upgrade` and whose
    /// `Upgrade` lists `protocol` can be upgraded. Otherwise this returns an error and sets
    /// `resp` to the answer: `426 Upgrade Required` (naming `protocol`) when the client did not
    /// offer it, else `400 Bad Request`, each with the reason as the body. Bytes the client sent
    /// after the request head belong to the new protocol: the stream yields them first.
    ///
    /// From then on the connection is not the server's: no timeouts apply (set your own), it
    /// is not counted in [`Stats::connections_open`](crate::Stats::connections_open),
    /// `max_connections` or `max_connections_per_ip` (bound upgraded connections yourself if
    /// you need to), and a drain or shutdown does not wait for it or close it.
    /// [`websocket::upgrade`](crate::websocket::upgrade) does the WebSocket handshake on top.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// let server = shockwave::Server::builder().bind("127.0.0.1:0")?;
    /// let addr = server.local_addr();
    /// let handle = server.start(|req: &shockwave::Request, resp: &mut shockwave::Response| {
    ///     // an error has set `resp` to the 400/426 answer
    ///     let _ = req.upgrade(resp, "echo", |mut stream| {
    ///         let mut buf = [0u8; 1024];
    ///         while let Ok(n @ 1..) = stream.read(&mut buf) {
    ///             if stream.write_all(&buf[..n]).is_err() {
    ///                 break;
    ///             }
    ///         }
    ///     });
    /// })?;
    /// let mut c = std::net::TcpStream::connect(addr)?;
    /// // bytes right after the head belong to the new protocol
    /// c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\nping")?;
    /// let mut got = Vec::new();
    /// let mut b = [0u8; 1];
    /// while !got.ends_with(b"\r\n\r\nping") {
    ///     c.read_exact(&mut b)?;
    ///     got.push(b[0]);
    /// }
    /// assert!(got.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    /// handle.shutdown(); // the upgraded connection is not the server's: it stays open
    /// c.write_all(b"pong")?;
    /// let mut echo = [0u8; 4];
    /// c.read_exact(&mut echo)?;
    /// assert_eq!(&echo, b"pong");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn upgrade(
        &self,
        resp: &mut Response,
        protocol: &str,
        on_upgrade: impl FnOnce(Upgraded) + Send + 'static,
    ) -> io::Result<()> {
        let h = &self.head;
        if h.kind != MethodKind::Get {
            return Err(refuse(resp, 400, "only a GET request can be upgraded"));
        }
        if h.minor < 1 {
            return Err(refuse(resp, 400, "an HTTP/1.0 request cannot be upgraded"));
        }
        if !matches!(h.framing, Framing::None | Framing::Length(0)) {
            return Err(refuse(resp, 400, "a request with a body cannot be upgraded"));
        }
        if !has_token(self, "upgrade", protocol) {
            let e = refuse(resp, 426, &format!("this resource needs Upgrade: {protocol}"));
            resp.set_header("Upgrade", protocol);
            return Err(e);
        }
        if !has_token(self, "connection", "upgrade") {
            return Err(refuse(resp, 400, "an upgrade needs Connection: upgrade"));
        }
        if resp.is_streaming() {
            return Err(io::Error::other("the response has already been sent: too late to upgrade"));
        }
        if self.wire.is_none() {
            return Err(io::Error::other("this request has no connection to upgrade"));
        }
        resp.set_header("Upgrade", protocol);
        resp.switch_protocols(Pending { head_end: h.end as usize, on_upgrade: Box::new(on_upgrade) });
        Ok(())
    }
}
