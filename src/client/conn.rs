//! One connection to a server: its socket (blocking, with kernel timeouts), its read buffer
//! from the client's free lists, and the buffer its requests are encoded into.
//!
//! Timeouts are `SO_RCVTIMEO` / `SO_SNDTIMEO`, so a read is one `recv` whether or not the
//! answer is there yet (a poll before each read would double the system calls of a fast
//! local exchange). A whole-call deadline lowers them when it is closer than the per-read
//! bound; the value set is rounded down to 100 ms so a loop of fast calls does not reset the
//! option on every read, and a wait cut short by the rounding simply waits again.
//!
//! Over TLS (feature `tls`) the same waits move the rustls session's records: a read takes
//! decrypted bytes from the session and, when it has none, one `recv` of records into it;
//! a write hands bytes to the session and sends its records. The staleness peek still looks
//! at the TCP socket; when something is there it is read into the session, and only
//! handshake messages (TLS 1.3 session tickets arrive after the first answer) leave the
//! connection usable: application data, a `close_notify` or the end of the stream make it
//! stale.

use super::error::{Error, Kind};
use super::pool::Host;
use crate::buf::{Buf, BufPool};
use crate::sys::Fd;
use std::io;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Initial read buffer: a typical response head with room for a small body.
const READ_BUF: usize = 4 * 1024;

/// The bounds on one wait: the per-operation timeout and the whole call's deadline.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    pub read: Duration,
    pub write: Duration,
    pub at: Option<Instant>,
}

/// Why a wait ended without data.
#[derive(Debug)]
pub(crate) enum Wait {
    /// The per-read (or per-write) timeout passed.
    Timeout(Duration),
    /// The whole call's deadline passed.
    Deadline,
    Io(io::Error),
    /// The TLS session failed (a bad record, an alert from the server).
    #[cfg(feature = "tls")]
    Tls(rustls::Error),
}

impl Wait {
    /// The client's error for a wait that ended while doing `what` ("sending the request").
    pub(crate) fn into_error(self, what: &str) -> Error {
        match self {
            Wait::Timeout(t) => Error::new(Kind::Timeout, format!("{what} timed out after {t:?}")),
            Wait::Deadline => Error::new(Kind::Timeout, format!("the request's timeout passed while {what}")),
            Wait::Io(e) => Error::io(Kind::Io, format!("{what} failed"), e),
            #[cfg(feature = "tls")]
            Wait::Tls(e) => Error::new(Kind::Tls, format!("{what} failed: TLS: {e}")),
        }
    }
}

impl From<io::Error> for Wait {
    fn from(e: io::Error) -> Wait {
        Wait::Io(e)
    }
}

impl Deadline {
    /// The socket timeout for the next wait, and whether it is the per-operation bound
    /// (else the deadline's, rounded down).
    fn next(&self, per_op: Duration) -> Result<(Duration, bool), Wait> {
        // a zero timeout would mean "block forever" to the kernel (and std refuses it)
        let per_op = per_op.max(Duration::from_millis(1));
        let Some(at) = self.at else { return Ok((per_op, true)) };
        let left = at.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Wait::Deadline);
        }
        if left >= per_op {
            return Ok((per_op, true));
        }
        let step = Duration::from_millis(100);
        let t = if left > step { Duration::from_millis(left.as_millis() as u64 / 100 * 100) } else { left };
        Ok((t.max(Duration::from_millis(1)), false))
    }
}

/// A connection counts towards its host's cap from the moment it is made until it is
/// dropped, wherever that happens (pool, response, error path): `Drop` does the accounting.
pub(crate) struct Conn {
    pub host: Arc<Host>,
    stream: TcpStream,
    buf: Buf,
    /// Unread bytes are `buf[start..end]`.
    pub start: usize,
    pub end: usize,
    /// The request being sent, encoded.
    pub out: Vec<u8>,
    /// Requests sent on this connection.
    pub requests: u32,
    /// When it went back to the pool.
    pub idle_since: Instant,
    /// The socket's `SO_RCVTIMEO` / `SO_SNDTIMEO` as last set (`None`: never set).
    rcv: Option<Duration>,
    snd: Option<Duration>,
    /// The TLS session of an `https://` connection.
    #[cfg(feature = "tls")]
    tls: Option<Box<rustls::ClientConnection>>,
}

impl Conn {
    /// A new connection of `host`, which has counted it already (see `Host::checkout`).
    pub(crate) fn new(stream: TcpStream, host: Arc<Host>) -> Conn {
        Conn {
            buf: host.bufs.acquire(READ_BUF),
            host,
            stream,
            start: 0,
            end: 0,
            out: Vec::new(),
            requests: 0,
            idle_since: Instant::now(),
            rcv: None,
            snd: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Runs the TLS handshake of `session` on this new connection within `dl`; `host` names
    /// the server in errors.
    #[cfg(feature = "tls")]
    pub(crate) fn handshake(
        &mut self,
        session: rustls::ClientConnection,
        host: &str,
        dl: &Deadline,
    ) -> Result<(), Error> {
        let tls = self.tls.insert(Box::new(session));
        let mut sock = Sock { stream: &self.stream, rcv: &mut self.rcv, snd: &mut self.snd, dl, err: None };
        let what = || format!("the TLS handshake with {host}");
        while tls.is_handshaking() {
            let r = if tls.wants_write() { tls.write_tls(&mut sock) } else { tls.read_tls(&mut sock) };
            match r {
                Ok(0) if !tls.wants_write() => {
                    return Err(Error::new(Kind::Tls, format!("{} failed: the server closed the connection", what())))
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(match sock.err.take().unwrap_or(Wait::Io(e)) {
                        w @ (Wait::Timeout(_) | Wait::Deadline) => w.into_error(&what()),
                        Wait::Io(e) => Error::io(Kind::Tls, format!("{} failed", what()), e),
                        Wait::Tls(e) => super::tls::handshake_error(host, &e),
                    })
                }
            }
            if let Err(e) = tls.process_new_packets() {
                let _ = tls.write_tls(&mut sock); // the alert saying why, if the socket takes it
                return Err(super::tls::handshake_error(host, &e));
            }
        }
        flush_tls(tls, &mut sock).map_err(|w| w.into_error(&what()))
    }

    /// The unread bytes.
    #[inline]
    pub(crate) fn unread(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// The buffer, for decoding in place.
    pub(crate) fn buf_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    /// Makes room after the unread bytes: moves them to the front, or, when they fill the
    /// buffer, moves them to a larger one up to `max` bytes. Returns false when the buffer is
    /// full and `max` reached.
    fn make_room(&mut self, max: usize) -> bool {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.end < self.buf.capacity() {
            return true;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            return true;
        }
        if self.buf.capacity() >= max {
            return false;
        }
        let bufs: &BufPool = &self.host.bufs;
        let mut bigger = bufs.acquire((self.buf.capacity() * 4).min(max));
        bigger[..self.end].copy_from_slice(&self.buf[..self.end]);
        bufs.release(std::mem::replace(&mut self.buf, bigger));
        true
    }

    /// Reads once more after the unread bytes, waiting within `dl`; `Ok(0)` at end of stream,
    /// `Ok(None)` when the buffer is full at `max` bytes.
    pub(crate) fn fill(&mut self, max: usize, dl: &Deadline) -> Result<Option<usize>, Wait> {
        if !self.make_room(max) {
            return Ok(None);
        }
        let end = self.end;
        let n = self.recv(end, None, dl)?;
        self.end += n;
        Ok(Some(n))
    }

    /// Reads into `out` directly (a large body read past the buffer); the buffer must be
    /// empty. `Ok(0)` at end of stream.
    pub(crate) fn read_direct(&mut self, out: &mut [u8], dl: &Deadline) -> Result<usize, Wait> {
        debug_assert_eq!(self.start, self.end);
        self.recv(0, Some(out), dl)
    }

    /// One read, into `out` or else into the buffer from `at`, waiting within `dl`.
    fn recv(&mut self, at: usize, out: Option<&mut [u8]>, dl: &Deadline) -> Result<usize, Wait> {
        let out = match out {
            Some(out) => out,
            None => &mut self.buf[at..],
        };
        #[cfg(feature = "tls")]
        if let Some(tls) = &mut self.tls {
            let mut sock = Sock { stream: &self.stream, rcv: &mut self.rcv, snd: &mut self.snd, dl, err: None };
            return tls_read(tls, &mut sock, out, true);
        }
        recv(&self.stream, &mut self.rcv, out, dl)
    }

    /// Writes all of `data` within `dl`.
    pub(crate) fn write_all(&mut self, mut data: &[u8], dl: &Deadline) -> Result<(), Wait> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &mut self.tls {
            let mut sock = Sock { stream: &self.stream, rcv: &mut self.rcv, snd: &mut self.snd, dl, err: None };
            while !data.is_empty() {
                let n = io::Write::write(&mut tls.writer(), data)?;
                data = &data[n..];
                flush_tls(tls, &mut sock)?;
            }
            return Ok(());
        }
        while !data.is_empty() {
            let n = send(&self.stream, &mut self.snd, data, dl)?;
            data = &data[n..];
        }
        Ok(())
    }

    /// Writes the encoded request in `out`.
    pub(crate) fn send_out(&mut self, dl: &Deadline) -> Result<(), Wait> {
        let out = std::mem::take(&mut self.out);
        let r = self.write_all(&out, dl);
        self.out = out;
        r
    }

    /// Whether a pooled connection is unusable: the server closed or reset it, or sent bytes
    /// nobody asked for. One non-blocking peek.
    pub(crate) fn is_stale(&mut self) -> bool {
        let mut b = [0u8; 1];
        // SAFETY: `b` is a valid writable byte; the fd is open for as long as `self`.
        let r = unsafe {
            libc::recv(self.stream.as_raw_fd(), b.as_mut_ptr().cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT)
        };
        let quiet = r == -1 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock;
        #[cfg(feature = "tls")]
        if !quiet && r > 0 && self.tls.is_some() {
            // records arrived while idle: stale unless they were only handshake messages
            let mut b = [0u8; 1];
            return !matches!(self.fill_tls_now(&mut b), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
        }
        !quiet
    }

    /// Whether any bytes are unread (a pooled connection must have none).
    pub(crate) fn has_unread(&self) -> bool {
        self.start != self.end
    }

    /// Reads what is there without waiting (to finish a body already received); `Ok(0)` at
    /// end of stream, `WouldBlock` when nothing is there.
    pub(crate) fn fill_now(&mut self, max: usize) -> io::Result<usize> {
        if !self.make_room(max) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let end = self.end;
        #[cfg(feature = "tls")]
        if self.tls.is_some() {
            let mut out = std::mem::take(&mut self.buf);
            let r = self.fill_tls_now(&mut out[end..]);
            self.buf = out;
            let n = r?;
            self.end += n;
            return Ok(n);
        }
        // SAFETY: the region after `end` is valid and writable for its length; the fd is open.
        let n = syscall!(unsafe {
            libc::recv(
                self.stream.as_raw_fd(),
                self.buf[end..].as_mut_ptr().cast(),
                self.buf.len() - end,
                libc::MSG_DONTWAIT,
            )
        })?;
        self.end += n as usize;
        Ok(n as usize)
    }

    /// [`fill_now`](Self::fill_now) over TLS: decrypted bytes into `out` without waiting.
    #[cfg(feature = "tls")]
    fn fill_tls_now(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let tls = self.tls.as_mut().expect("a TLS connection");
        let dl = Deadline { read: Duration::ZERO, write: Duration::ZERO, at: None };
        let mut sock = Sock { stream: &self.stream, rcv: &mut self.rcv, snd: &mut self.snd, dl: &dl, err: None };
        tls_read(tls, &mut sock, out, false).map_err(|w| match w {
            Wait::Io(e) => e,
            Wait::Tls(e) => io::Error::new(io::ErrorKind::InvalidData, e),
            _ => io::ErrorKind::WouldBlock.into(),
        })
    }
}

/// One `write` of `data`, waiting within `dl`; `snd` is the socket's `SO_SNDTIMEO` as last
/// set, updated when the wait needs another.
fn send(stream: &TcpStream, snd: &mut Option<Duration>, data: &[u8], dl: &Deadline) -> Result<usize, Wait> {
    waiting(stream, snd, dl.write, dl, TcpStream::set_write_timeout, |fd| fd.write(data))
}

/// The socket as rustls's record reader and writer: each call one [`recv`] or [`send`]
/// within the deadline; a wait that ends without data is kept in `err` (rustls only passes
/// on an `io::Error`). A zero read timeout means "do not wait" (`MSG_DONTWAIT`).
#[cfg(feature = "tls")]
struct Sock<'a> {
    stream: &'a TcpStream,
    rcv: &'a mut Option<Duration>,
    snd: &'a mut Option<Duration>,
    dl: &'a Deadline,
    err: Option<Wait>,
}

#[cfg(feature = "tls")]
impl Sock<'_> {
    fn keep(&mut self, w: Wait) -> io::Error {
        let e = match &w {
            Wait::Io(e) => io::Error::new(e.kind(), e.to_string()),
            _ => io::ErrorKind::TimedOut.into(),
        };
        self.err = Some(w);
        e
    }

    /// The wait `e` stands for.
    fn take(&mut self, e: io::Error) -> Wait {
        self.err.take().unwrap_or(Wait::Io(e))
    }
}

#[cfg(feature = "tls")]
impl io::Read for Sock<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.dl.read.is_zero() {
            // SAFETY: `out` is valid and writable for its length; the fd is open.
            let n = syscall!(unsafe {
                libc::recv(self.stream.as_raw_fd(), out.as_mut_ptr().cast(), out.len(), libc::MSG_DONTWAIT)
            })?;
            return Ok(n as usize);
        }
        recv(self.stream, self.rcv, out, self.dl).map_err(|w| self.keep(w))
    }
}

#[cfg(feature = "tls")]
impl io::Write for Sock<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        send(self.stream, self.snd, data, self.dl).map_err(|w| self.keep(w))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Sends every record the session has ready.
#[cfg(feature = "tls")]
fn flush_tls(tls: &mut rustls::ClientConnection, sock: &mut Sock<'_>) -> Result<(), Wait> {
    while tls.wants_write() {
        if let Err(e) = tls.write_tls(sock) {
            return Err(sock.take(e));
        }
    }
    Ok(())
}

/// Decrypted bytes into `out`: what the session holds, else records read from the socket
/// (waiting within the socket's deadline when `wait`, else only what is there). `Ok(0)` at
/// the end of the stream, with or without the server's `close_notify` (the body's framing
/// tells a cut answer).
#[cfg(feature = "tls")]
fn tls_read(
    tls: &mut rustls::ClientConnection,
    sock: &mut Sock<'_>,
    out: &mut [u8],
    wait: bool,
) -> Result<usize, Wait> {
    loop {
        match io::Read::read(&mut tls.reader(), out) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
            Err(e) => return Err(Wait::Io(e)),
        }
        match tls.read_tls(sock) {
            Ok(_) => {} // 0: the end of the stream, which the session's reader now reports
            Err(e) if !wait && e.kind() == io::ErrorKind::WouldBlock => return Err(Wait::Io(e)),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(sock.take(e)),
        }
        if let Err(e) = tls.process_new_packets() {
            let _ = tls.write_tls(sock);
            return Err(Wait::Tls(e));
        }
        flush_tls(tls, sock)?; // a key update's answer
    }
}

/// One `recv` into `out`, waiting within `dl`; `rcv` is the socket's `SO_RCVTIMEO` as last
/// set, updated when the wait needs another.
fn recv(stream: &TcpStream, rcv: &mut Option<Duration>, out: &mut [u8], dl: &Deadline) -> Result<usize, Wait> {
    waiting(stream, rcv, dl.read, dl, TcpStream::set_read_timeout, |fd| fd.read(out))
}

/// One `op` on the socket, with its kernel timeout (`slot`, set through `set`) lowered to
/// what is left of `dl` when that is less than `per_op`.
fn waiting(
    stream: &TcpStream,
    slot: &mut Option<Duration>,
    per_op: Duration,
    dl: &Deadline,
    set: fn(&TcpStream, Option<Duration>) -> io::Result<()>,
    mut op: impl FnMut(Fd) -> io::Result<usize>,
) -> Result<usize, Wait> {
    loop {
        let (t, per_op) = dl.next(per_op)?;
        if Some(t) != *slot {
            set(stream, Some(t))?;
            *slot = Some(t);
        }
        match op(Fd(stream.as_raw_fd())) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && per_op => return Err(Wait::Timeout(t)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {} // the rounded deadline: look again
            Err(e) => return Err(Wait::Io(e)),
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.host.bufs.release(std::mem::take(&mut self.buf));
        self.host.closed();
    }
}
