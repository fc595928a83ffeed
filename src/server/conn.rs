//! One connection's state: its socket, read buffer, the requests framed but not yet answered,
//! output the socket has not taken yet, and its deadline.
//!
//! A `Conn` is manipulated by whichever thread owns its [`Slot`](super::slot::Slot): the poller
//! reads and frames requests ([`Conn::fill`], [`Conn::advance`]), a worker answers the framed
//! batch, and either of them writes. All pipelined requests found in one read are framed into
//! one batch so a worker answers them in order with a single `write`.
//!
//! Invariants:
//! - `rbuf[rpos..rlen]` holds received bytes not yet part of an answered request; when the
//!   connection is idle with nothing buffered, `rbuf` is empty (given back to the pool).
//! - A body is decoded in place only for the first unanswered request (`batch` empty), so byte
//!   positions of a pending body never move: compaction happens only between batches.
//! - `wbuf[wpos..wlen]` is output the socket refused; nothing more is read until it is written.

use super::clock::Tick;
use super::config::{Config, LINGER_BYTES, LINGER_TIMEOUT};
use crate::buf::{Buf, BufPool, CLASS_SIZES, MAX_POOLED};
use crate::http::body::Rest;
use crate::http::chunked::Chunked;
use crate::http::head::{Field, Framing, Head, HeadError, Span};
use crate::http::parse::parse_head;
use mio::net::TcpStream;
use mio::Token;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};

/// Most requests framed into one batch (bounds the work one dispatch carries).
pub(crate) const MAX_BATCH: usize = 64;
/// First read buffer size: fits typical heads and 16 pipelined TechEmpower-style requests.
const FIRST_READ: usize = CLASS_SIZES[2];

/// A request ready for the handler.
pub(crate) struct Ready {
    pub head: Head,
    /// Decoded body bytes in the read buffer.
    pub body: Span,
    /// The rest of the body, still on the socket (boxed: rare, and it would double the size of
    /// every framed request).
    pub rest: Option<Box<Rest>>,
}

/// The first request not yet complete.
enum Pending {
    /// Nothing buffered, or a partial head; `scanned` is where the search for a new line
    /// resumes (the head is only re-parsed when a new LF arrives).
    Head { scanned: usize },
    /// Head parsed, waiting for `Content-Length` bytes up to `end`.
    Length { head: Head, end: usize },
    /// Head parsed, decoding chunks in place.
    Chunked { head: Head, dec: Chunked, r: usize, w: usize },
}

/// Where a poller-owned connection is, for its deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Idle,
    Head,
    Body,
    Writing,
    Linger,
    /// Owned by a worker (no deadline).
    Busy,
    Closed,
}

/// Outcome of [`Conn::advance`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Advance {
    /// `batch` holds requests to answer.
    Dispatch,
    /// Nothing to answer yet.
    NeedMore,
    /// The first unanswered request is bad: answer with this and close.
    Reject(HeadError),
}

/// Outcome of [`Conn::fill`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fill {
    /// New bytes arrived (or the buffer is full).
    Data,
    /// Nothing to read now.
    Empty,
    /// The peer closed its side (or reset).
    Eof,
}

pub(crate) struct Conn {
    pub socket: Option<TcpStream>,
    pub token: Token,
    pub peer: SocketAddr,
    pub rbuf: Buf,
    pub rpos: usize,
    pub rlen: usize,
    pub fields: Vec<Field>,
    pub batch: Vec<Ready>,
    pending: Pending,
    /// A bad request found after the batch: answered once the batch has been.
    pub error: Option<HeadError>,
    pub wbuf: Buf,
    pub wpos: usize,
    pub wlen: usize,
    /// Requests answered on this connection.
    pub served: u64,
    /// Close once the output is written.
    pub close_after: bool,
    /// The last read found the kernel buffer empty.
    pub drained: bool,
    /// A readable event arrived while output was blocked.
    pub readable: bool,
    pub phase: Phase,
    pub deadline: Option<Tick>,
    linger_bytes: usize,
    /// A `100 Continue` was sent for the pending request.
    continue_sent: bool,
}

impl Conn {
    pub(crate) fn new() -> Conn {
        Conn {
            socket: None,
            token: Token(0),
            peer: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            rbuf: Buf::default(),
            rpos: 0,
            rlen: 0,
            fields: Vec::new(),
            batch: Vec::new(),
            pending: Pending::Head { scanned: 0 },
            error: None,
            wbuf: Buf::default(),
            wpos: 0,
            wlen: 0,
            served: 0,
            close_after: false,
            drained: true,
            readable: false,
            phase: Phase::Closed,
            deadline: None,
            linger_bytes: 0,
            continue_sent: false,
        }
    }

    /// Resets for a new socket (recycled connections keep their vectors' capacity).
    pub(crate) fn open(&mut self, socket: TcpStream, peer: SocketAddr, token: Token) {
        self.socket = Some(socket);
        self.peer = peer;
        self.token = token;
        self.rpos = 0;
        self.rlen = 0;
        self.fields.clear();
        self.batch.clear();
        self.pending = Pending::Head { scanned: 0 };
        self.error = None;
        self.wpos = 0;
        self.wlen = 0;
        self.served = 0;
        self.close_after = false;
        self.drained = false;
        self.readable = false;
        self.phase = Phase::Busy;
        self.deadline = None;
        self.linger_bytes = 0;
        self.continue_sent = false;
    }

    /// Closes the socket and returns the buffers.
    pub(crate) fn close(&mut self, pool: &BufPool) {
        self.socket = None;
        if !self.rbuf.is_empty() {
            pool.release(std::mem::take(&mut self.rbuf));
        }
        if !self.wbuf.is_empty() {
            pool.release(std::mem::take(&mut self.wbuf));
        }
        self.batch.clear();
        self.phase = Phase::Closed;
        self.deadline = None;
    }

    pub(crate) fn is_open(&self) -> bool {
        self.socket.is_some()
    }

    pub(crate) fn fd(&self) -> Option<crate::sys::Fd> {
        use std::os::fd::AsRawFd;
        self.socket.as_ref().map(|s| crate::sys::Fd(s.as_raw_fd()))
    }

    /// Whether there is unwritten output.
    pub(crate) fn has_output(&self) -> bool {
        self.wpos < self.wlen
    }

    /// Reads what the socket has, growing the buffer as the pending request needs.
    pub(crate) fn fill(&mut self, pool: &BufPool, cfg: &Config) -> Fill {
        let mut got = false;
        loop {
            if self.rbuf.is_empty() {
                self.rbuf = pool.acquire(FIRST_READ);
            }
            if self.rlen == self.rbuf.capacity() && !self.grow(pool, cfg) {
                return Fill::Data; // full: frame what we have first
            }
            let Some(fd) = self.fd() else { return Fill::Eof };
            let space = self.rbuf.capacity() - self.rlen;
            match fd.read(&mut self.rbuf[self.rlen..]) {
                Ok(0) => return Fill::Eof,
                Ok(n) => {
                    self.rlen += n;
                    got = true;
                    if n < space {
                        // A short read emptied the kernel buffer; the next arrival raises a new
                        // edge, so no extra read just to see WouldBlock.
                        self.drained = true;
                        return Fill::Data;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.drained = true;
                    if self.rlen == 0 && self.rpos == 0 {
                        pool.release(std::mem::take(&mut self.rbuf));
                    }
                    return if got { Fill::Data } else { Fill::Empty };
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Fill::Eof,
            }
        }
    }

    /// Appends `data` as if read from the socket (the in-memory drive used by the fuzz harness
    /// and unit tests). Returns how many bytes fitted.
    #[cfg(any(fuzzing, test))]
    pub(crate) fn feed(&mut self, data: &[u8], pool: &BufPool, cfg: &Config) -> usize {
        if self.rbuf.is_empty() {
            self.rbuf = pool.acquire(FIRST_READ);
        }
        if self.rlen == self.rbuf.capacity() && !self.grow(pool, cfg) {
            return 0;
        }
        let n = data.len().min(self.rbuf.capacity() - self.rlen);
        self.rbuf[self.rlen..self.rlen + n].copy_from_slice(&data[..n]);
        self.rlen += n;
        n
    }

    /// Moves the buffer's contents to a larger one if the pending request may need it.
    fn grow(&mut self, pool: &BufPool, cfg: &Config) -> bool {
        if !self.batch.is_empty() {
            return false; // positions of framed requests must not move
        }
        let cap = self.rbuf.capacity();
        let want = match &self.pending {
            Pending::Length { end, .. } => *end,
            // a head may take up to max_head bytes (+ a little so the parser sees the limit)
            Pending::Head { .. } => cap.saturating_mul(4).min(cfg.limits.max_head + 1024),
            Pending::Chunked { .. } => cap.saturating_mul(4).min(MAX_POOLED),
        };
        if want <= cap {
            return false;
        }
        let mut nb = pool.acquire(want);
        // Copy from 0, not rpos: a pending body's positions stay valid.
        nb[..self.rlen].copy_from_slice(&self.rbuf[..self.rlen]);
        pool.release(std::mem::replace(&mut self.rbuf, nb));
        true
    }

    /// Frames as many complete requests as the buffer holds into `batch`.
    pub(crate) fn advance(&mut self, pool: &BufPool, cfg: &Config) -> Advance {
        loop {
            if self.batch.len() >= MAX_BATCH || self.error.is_some() || self.close_after {
                break;
            }
            if let Some(max) = cfg.max_requests_per_conn {
                if self.served + self.batch.len() as u64 >= max {
                    break;
                }
            }
            match std::mem::replace(&mut self.pending, Pending::Head { scanned: 0 }) {
                Pending::Head { scanned } => {
                    if self.rpos == self.rlen {
                        break;
                    }
                    // Only re-parse a partial head when a new line has arrived.
                    let from = scanned.max(self.rpos);
                    if scanned > self.rpos
                        && memchr::memchr(b'\n', &self.rbuf[from..self.rlen]).is_none()
                        && self.rlen - self.rpos <= cfg.limits.max_head
                    {
                        self.pending = Pending::Head { scanned: self.rlen };
                        break;
                    }
                    let f0 = self.fields.len();
                    match parse_head(&self.rbuf[..self.rlen], self.rpos, &cfg.limits, &mut self.fields) {
                        Err(e) => return self.reject(e),
                        Ok(None) => {
                            self.pending = Pending::Head { scanned: self.rlen };
                            break;
                        }
                        Ok(Some(head)) => {
                            if !self.frame(head, f0, pool, cfg) {
                                break;
                            }
                        }
                    }
                }
                Pending::Length { head, end } => {
                    if self.rlen < end {
                        self.pending = Pending::Length { head, end };
                        break;
                    }
                    self.push(head, Span(head.end, end as u32), None, end);
                }
                Pending::Chunked { head, mut dec, mut r, mut w } => {
                    match dec.decode(&mut self.rbuf, &mut r, &mut w, self.rlen) {
                        Err(e) => return self.reject(e),
                        Ok(true) => self.push(head, Span(head.end, w as u32), None, r),
                        Ok(false) if self.rlen == self.rbuf.capacity() && self.rbuf.capacity() >= MAX_POOLED => {
                            // Larger than we buffer: the handler streams the rest.
                            let mut raw = pool.acquire(MAX_POOLED);
                            let n = self.rlen - r;
                            raw[..n].copy_from_slice(&self.rbuf[r..self.rlen]);
                            let rest = Rest::Chunked { dec, raw, r: 0, w: 0, o: 0, end: n };
                            self.push(head, Span(head.end, w as u32), Some(rest), self.rlen);
                            break;
                        }
                        Ok(false) => {
                            self.pending = Pending::Chunked { head, dec, r, w };
                            break;
                        }
                    }
                }
            }
        }
        if !self.batch.is_empty() {
            Advance::Dispatch
        } else {
            match self.error.take() {
                Some(e) => Advance::Reject(e),
                None => Advance::NeedMore,
            }
        }
    }

    /// Frames the body of a freshly parsed head. Returns `false` to stop framing for now.
    fn frame(&mut self, head: Head, f0: usize, pool: &BufPool, cfg: &Config) -> bool {
        let end = head.end as usize;
        match head.framing {
            Framing::None => {
                self.push(head, Span(head.end, head.end), None, end);
                true
            }
            Framing::Length(n) if n > cfg.max_request_body => {
                self.fields.truncate(f0);
                self.error = Some(HeadError { status: 413, reason: "request body too large" });
                false
            }
            _ if !self.batch.is_empty() => {
                // A body is decoded in place only for the first unanswered request; this one
                // is framed again after the batch has been answered.
                self.fields.truncate(f0);
                self.pending = Pending::Head { scanned: 0 };
                false
            }
            Framing::Length(n) => {
                let total = end - self.rpos + n as usize;
                if total > MAX_POOLED {
                    let have = (self.rlen - end).min(n as usize);
                    let rest = Rest::Length { left: n - have as u64 };
                    self.push(head, Span(head.end, (end + have) as u32), Some(rest), end + have);
                    return false;
                }
                self.pending = Pending::Length { head, end: end + n as usize };
                self.maybe_continue(&head, end, pool);
                true
            }
            Framing::Chunked => {
                self.pending = Pending::Chunked { head, dec: Chunked::new(cfg.max_request_body), r: end, w: end };
                self.maybe_continue(&head, end, pool);
                true
            }
        }
    }

    /// Sends `100 Continue` for the pending request if the client waits for it.
    fn maybe_continue(&mut self, head: &Head, body_start: usize, pool: &BufPool) {
        if head.has(Head::EXPECT_CONTINUE) && self.rlen == body_start && !self.continue_sent {
            self.continue_sent = true;
            self.queue_output(b"HTTP/1.1 100 Continue\r\n\r\n", pool);
        }
    }

    fn push(&mut self, head: Head, body: Span, rest: Option<Rest>, next: usize) {
        let rest = rest.map(Box::new);
        self.rpos = next;
        self.continue_sent = false;
        if !head.keep_alive() {
            // Nothing after a request that closes the connection is read (RFC 9112 §9.6).
            self.close_after = true;
        }
        self.batch.push(Ready { head, body, rest });
    }

    fn reject(&mut self, e: HeadError) -> Advance {
        if self.batch.is_empty() {
            Advance::Reject(e)
        } else {
            self.error = Some(e);
            Advance::Dispatch
        }
    }

    /// After a batch has been answered: slides unanswered bytes to the front of the buffer, or
    /// gives the buffer back when nothing is left.
    pub(crate) fn compact(&mut self, pool: &BufPool) {
        self.batch.clear();
        self.fields.clear();
        if !matches!(self.pending, Pending::Head { .. }) {
            return; // a pending body keeps its positions (it started at rpos == 0)
        }
        self.pending = Pending::Head { scanned: 0 };
        if self.rpos == self.rlen {
            self.rpos = 0;
            self.rlen = 0;
            if !self.rbuf.is_empty() {
                pool.release(std::mem::take(&mut self.rbuf));
            }
        } else if self.rpos > 0 {
            self.rbuf.copy_within(self.rpos..self.rlen, 0);
            self.rlen -= self.rpos;
            self.rpos = 0;
        }
    }

    /// Makes `data` the only unanswered input (bytes a streamed body read past its end).
    pub(crate) fn replace_input(&mut self, data: &[u8], pool: &BufPool) {
        if self.rbuf.capacity() < data.len() {
            let old = std::mem::replace(&mut self.rbuf, pool.acquire(data.len()));
            if !old.is_empty() {
                pool.release(old);
            }
        }
        self.rbuf[..data.len()].copy_from_slice(data);
        self.rpos = 0;
        self.rlen = data.len();
        self.pending = Pending::Head { scanned: 0 };
    }

    /// Puts bytes after existing unwritten output (used for `100 Continue` and error answers).
    pub(crate) fn queue_output(&mut self, data: &[u8], pool: &BufPool) {
        if self.wpos == self.wlen {
            // Try the socket first: most of the time it takes everything.
            if let Some(fd) = self.fd() {
                if let Ok(n) = fd.write(data) {
                    return self.keep_output(&data[n..], pool);
                }
            }
        }
        self.keep_output(data, pool);
    }

    /// Stores output the socket did not take, in a pooled buffer.
    pub(crate) fn keep_output(&mut self, data: &[u8], pool: &BufPool) {
        if data.is_empty() {
            return;
        }
        let held = self.wlen - self.wpos;
        if self.wbuf.capacity() < held + data.len() {
            let mut nb = pool.acquire(held + data.len());
            nb[..held].copy_from_slice(&self.wbuf[self.wpos..self.wlen]);
            let old = std::mem::replace(&mut self.wbuf, nb);
            if !old.is_empty() {
                pool.release(old);
            }
        } else if self.wpos > 0 {
            self.wbuf.copy_within(self.wpos..self.wlen, 0);
        }
        self.wpos = 0;
        self.wlen = held;
        self.wbuf[held..held + data.len()].copy_from_slice(data);
        self.wlen += data.len();
    }

    /// Writes buffered output. `Ok(true)` when all of it is out.
    pub(crate) fn flush(&mut self, pool: &BufPool) -> io::Result<bool> {
        while self.wpos < self.wlen {
            let Some(fd) = self.fd() else { return Err(io::ErrorKind::NotConnected.into()) };
            match fd.write(&self.wbuf[self.wpos..self.wlen]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.wpos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.wpos = 0;
        self.wlen = 0;
        if !self.wbuf.is_empty() {
            pool.release(std::mem::take(&mut self.wbuf));
        }
        Ok(true)
    }

    /// Starts a lingering close: stop sending, keep reading (and discarding) for a while so the
    /// client gets our last response rather than a reset caused by unread input.
    pub(crate) fn start_linger(&mut self, now: Tick) {
        if let Some(fd) = self.fd() {
            fd.shutdown_write();
        }
        self.phase = Phase::Linger;
        self.deadline = Some(now + LINGER_TIMEOUT);
        self.rpos = 0;
        self.rlen = 0;
    }

    /// Discards input of a lingering connection. `true` when it can be closed.
    pub(crate) fn linger_read(&mut self) -> bool {
        let mut scratch = [0u8; 4096];
        let Some(fd) = self.fd() else { return true };
        loop {
            match fd.read(&mut scratch) {
                Ok(0) => return true,
                Ok(n) => {
                    self.linger_bytes += n;
                    if self.linger_bytes > LINGER_BYTES {
                        return true;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
        }
    }

    /// Whether closing now could leave unread input (which makes the kernel send a reset).
    pub(crate) fn may_have_input(&self) -> bool {
        self.rpos < self.rlen || !self.drained || self.readable
    }

    /// Sets the phase and deadline of a connection about to be owned by the poller.
    pub(crate) fn settle(&mut self, now: Tick, cfg: &Config) {
        let phase = if self.has_output() {
            Phase::Writing
        } else {
            match self.pending {
                Pending::Length { .. } | Pending::Chunked { .. } => Phase::Body,
                Pending::Head { .. } if self.rpos < self.rlen => Phase::Head,
                Pending::Head { .. } => Phase::Idle,
            }
        };
        if phase != self.phase || self.deadline.is_none() {
            self.phase = phase;
            self.deadline = Some(
                now + match phase {
                    Phase::Head => cfg.read_header_timeout,
                    Phase::Body => cfg.body_timeout,
                    Phase::Writing => cfg.write_timeout,
                    _ => cfg.idle_timeout,
                },
            );
        }
    }
}
