//! One connection to a server: its socket (blocking, with kernel timeouts), its read buffer
//! from the client's free lists, and the buffer its requests are encoded into.
//!
//! Timeouts are `SO_RCVTIMEO` / `SO_SNDTIMEO`, so a read is one `recv` whether or not the
//! answer is there yet (a poll before each read would double the system calls of a fast
//! local exchange). A whole-call deadline lowers them when it is closer than the per-read
//! bound; the value set is rounded down to 100 ms so a loop of fast calls does not reset the
//! option on every read, and a wait cut short by the rounding simply waits again.

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
}

impl Wait {
    /// The client's error for a wait that ended while doing `what` ("sending the request").
    pub(crate) fn into_error(self, what: &str) -> Error {
        match self {
            Wait::Timeout(t) => Error::new(Kind::Timeout, format!("{what} timed out after {t:?}")),
            Wait::Deadline => Error::new(Kind::Timeout, format!("the request's timeout passed while {what}")),
            Wait::Io(e) => Error::io(Kind::Io, format!("{what} failed"), e),
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
        }
    }

    fn fd(&self) -> Fd {
        Fd(self.stream.as_raw_fd())
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
        let n = recv(&self.stream, &mut self.rcv, &mut self.buf[self.end..], dl)?;
        self.end += n;
        Ok(Some(n))
    }

    /// Reads into `out` directly (a large body read past the buffer); the buffer must be
    /// empty. `Ok(0)` at end of stream.
    pub(crate) fn read_direct(&mut self, out: &mut [u8], dl: &Deadline) -> Result<usize, Wait> {
        debug_assert_eq!(self.start, self.end);
        recv(&self.stream, &mut self.rcv, out, dl)
    }

    /// Writes all of `data` within `dl`.
    pub(crate) fn write_all(&mut self, mut data: &[u8], dl: &Deadline) -> Result<(), Wait> {
        while !data.is_empty() {
            let (t, per_op) = dl.next(dl.write)?;
            if Some(t) != self.snd {
                self.stream.set_write_timeout(Some(t))?;
                self.snd = Some(t);
            }
            match self.fd().write(data) {
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && per_op => return Err(Wait::Timeout(t)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(Wait::Io(e)),
            }
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
    pub(crate) fn is_stale(&self) -> bool {
        let mut b = [0u8; 1];
        // SAFETY: `b` is a valid writable byte; the fd is open for as long as `self`.
        let r = unsafe {
            libc::recv(self.stream.as_raw_fd(), b.as_mut_ptr().cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT)
        };
        !(r == -1 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock)
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
}

/// One `recv` into `out`, waiting within `dl`; `rcv` is the socket's `SO_RCVTIMEO` as last
/// set, updated when the wait needs another.
fn recv(stream: &TcpStream, rcv: &mut Option<Duration>, out: &mut [u8], dl: &Deadline) -> Result<usize, Wait> {
    loop {
        let (t, per_op) = dl.next(dl.read)?;
        if Some(t) != *rcv {
            stream.set_read_timeout(Some(t))?;
            *rcv = Some(t);
        }
        match Fd(stream.as_raw_fd()).read(out) {
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
