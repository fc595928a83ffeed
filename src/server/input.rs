//! A connection's input: the read buffer and the framing state machine that cuts complete
//! requests out of it (RFC 9112 §6), in order, pipelined ones included.
//!
//! [`Input::fill`] reads what the socket has into a pooled buffer; [`Input::advance`] frames as
//! many complete requests as the buffer holds into `batch`, for a worker to answer in order
//! with one `write`. Bodies up to the largest buffer are read (and de-chunked in place) before
//! the handler runs; larger ones leave the rest on the socket for the handler's `BodyReader`,
//! and what the handler leaves unread is skipped here afterwards (up to [`DISCARD_MAX`]) so the
//! connection can serve the next request.
//!
//! Invariants:
//! - `buf[pos..len]` holds received bytes not yet part of an answered request; when the
//!   connection is idle with nothing buffered, `buf` is empty (given back to the pool).
//! - A body is decoded in place only for the first unanswered request (`batch` empty), so byte
//!   positions of a pending body never move: compaction happens only between batches.
//! - Nothing after a request that closes the connection is framed (`last`), nor after a framing
//!   error: those bytes are never interpreted as requests (RFC 9112 §9.6, §11.2).
//! - With the PROXY protocol on, no request is framed before the PROXY header has been
//!   consumed (`proxy_due`); the bytes after it in the same read stay in the buffer.

use super::config::Config;
use crate::buf::{Buf, BufPool, CLASS_SIZES, MAX_POOLED};
use crate::h1::chunked::Chunked;
use crate::http::body::{BodyStream, Rest};
use crate::http::head::{Field, Framing, Head, HeadError, Span};
use crate::http::method::MethodKind;
use crate::http::parse::parse_head;
use crate::proxy::{parse as proxy, ProxyHeader};
use crate::wire::Wire;
use std::io;
use std::sync::Arc;

/// Most requests framed into one batch (bounds the work one dispatch carries).
pub(crate) const MAX_BATCH: usize = 64;
/// First read buffer size: fits typical heads and 16 pipelined TechEmpower-style requests.
const FIRST_READ: usize = CLASS_SIZES[2];
/// Most of a body the handler left unread that is read and dropped to keep the connection
/// (Go's net/http reads 256 KiB too); beyond it the connection closes after the response.
pub(crate) const DISCARD_MAX: u64 = 256 * 1024;

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
    /// Dropping the `left` bytes of a body its handler did not read.
    Skip { left: u64 },
}

/// What [`Input::advance`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Advance {
    /// `batch` holds requests to answer.
    Dispatch,
    /// Nothing to answer yet.
    NeedMore,
    /// The first unanswered request is bad: answer with this and close.
    Reject(HeadError),
    /// The connection did not begin with a valid PROXY header: close it without an answer.
    Refuse(&'static str),
}

/// What [`Input::fill`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fill {
    /// New bytes arrived.
    Data,
    /// The buffer is full and cannot grow now: frame what it holds first.
    Full,
    /// Nothing to read now.
    Empty,
    /// The peer closed its side (or reset).
    Eof,
}

/// What becomes of a streamed body when its handler returns ([`plan`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unread {
    /// It was read to the end.
    None,
    /// The rest is skipped before the next request; the connection stays open.
    Skipped,
    /// The connection closes after the answer.
    Close,
}

pub(crate) struct Input {
    pub buf: Buf,
    pub pos: usize,
    pub len: usize,
    pub fields: Vec<Field>,
    pub batch: Vec<Ready>,
    pending: Pending,
    /// A bad request found after the batch: answered once the batch has been.
    pub error: Option<HeadError>,
    /// The last read found the kernel's buffer empty, and no event has said otherwise since.
    pub drained: bool,
    /// A request that closes the connection has been framed; nothing after it is read as a
    /// request.
    pub last: bool,
    /// The peer has closed its side: nothing more will arrive.
    pub eof: bool,
    /// Part of a body nobody read may still be on the socket (the connection is closing).
    pub unread: bool,
    /// `100 Continue` was sent for the pending request.
    continue_sent: bool,
    /// `100 Continue` is owed now for the pending request (sent by the connection).
    pub continue_due: bool,
    /// The PROXY header may still be due: set for each new socket, cleared by the first
    /// [`advance`](Self::advance) when the server does not use the PROXY protocol.
    pub proxy_due: bool,
    /// The connection's PROXY header, once consumed (shared with its requests).
    pub proxy: Option<Arc<ProxyHeader>>,
}

impl Input {
    pub(crate) fn new() -> Input {
        Input {
            buf: Buf::default(),
            pos: 0,
            len: 0,
            fields: Vec::new(),
            batch: Vec::new(),
            pending: Pending::Head { scanned: 0 },
            error: None,
            drained: true,
            last: false,
            eof: false,
            unread: false,
            continue_sent: false,
            continue_due: false,
            proxy_due: false,
            proxy: None,
        }
    }

    /// Starts over for a new socket (vectors keep their capacity).
    pub(crate) fn reset(&mut self) {
        self.pos = 0;
        self.len = 0;
        self.fields.clear();
        self.batch.clear();
        self.pending = Pending::Head { scanned: 0 };
        self.error = None;
        self.drained = false;
        self.last = false;
        self.eof = false;
        self.unread = false;
        self.continue_sent = false;
        self.continue_due = false;
        self.proxy_due = true;
        self.proxy = None;
    }

    /// Gives the buffer back and forgets everything buffered.
    pub(crate) fn release(&mut self, pool: &BufPool) {
        if !self.buf.is_empty() {
            pool.release(std::mem::take(&mut self.buf));
        }
        self.pos = 0;
        self.len = 0;
        self.batch.clear();
    }

    /// Whether a head or body is under way (for the connection's deadline).
    pub(crate) fn waiting_for(&self) -> Waiting {
        match self.pending {
            Pending::Length { .. } | Pending::Chunked { .. } => Waiting::Body,
            Pending::Skip { .. } => Waiting::Skip,
            Pending::Head { .. } if self.pos < self.len || self.proxy_due => Waiting::Head,
            Pending::Head { .. } => Waiting::Nothing,
        }
    }

    /// Whether everything the client sent has been read and it said it will send no more:
    /// closing now cannot meet unread input (which would make the kernel send a reset).
    pub(crate) fn client_done(&self) -> bool {
        self.eof
            || (self.last
                && !self.unread
                && self.drained
                && self.pos == self.len
                && matches!(self.pending, Pending::Head { .. }))
    }

    /// Whether part of a request body may still be on its way: one nobody read, one over the
    /// limit, or one being received or skipped when the connection ends.
    pub(crate) fn body_in_flight(&self) -> bool {
        self.unread || !matches!(self.pending, Pending::Head { .. })
    }

    /// Whether the request the server would answer next is a `HEAD` (its answer has no body):
    /// the first framed one, else the one starting at `pos`, judged by its first bytes.
    pub(crate) fn answering_head(&self) -> bool {
        if let Some(r) = self.batch.first() {
            return r.head.kind == MethodKind::Head;
        }
        let rest = self.buf.get(self.pos..self.len).unwrap_or_default();
        let start = rest.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(rest.len());
        rest[start..].starts_with(b"HEAD ")
    }

    /// Reads what the socket has, growing the buffer as the pending request needs.
    pub(crate) fn fill(&mut self, wire: &Wire, pool: &BufPool, cfg: &Config) -> Fill {
        let mut got = false;
        loop {
            if self.buf.is_empty() {
                self.buf = pool.acquire(FIRST_READ);
            }
            if self.len == self.buf.capacity() && !self.grow(pool, cfg) {
                return if got { Fill::Data } else { Fill::Full };
            }
            let space = self.buf.capacity() - self.len;
            match wire.read(&mut self.buf[self.len..]) {
                Ok(0) => {
                    self.eof = true;
                    return Fill::Eof;
                }
                Ok(n) => {
                    self.len += n;
                    got = true;
                    if n < space && !wire.is_tls() {
                        // A short read emptied the kernel buffer; the next arrival raises a new
                        // edge, so no extra read just to see WouldBlock. (A TLS session reads
                        // the socket a record at a time: only WouldBlock tells.)
                        self.drained = true;
                        return Fill::Data;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.drained = true;
                    if self.len == 0 && self.pos == 0 {
                        pool.release(std::mem::take(&mut self.buf));
                    }
                    return if got { Fill::Data } else { Fill::Empty };
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.eof = true;
                    return Fill::Eof;
                }
            }
        }
    }

    /// Appends `data` as if read from the socket (the in-memory drive used by the fuzz harness
    /// and unit tests). Returns how many bytes fitted.
    #[cfg(any(fuzzing, test))]
    pub(crate) fn feed(&mut self, data: &[u8], pool: &BufPool, cfg: &Config) -> usize {
        if self.buf.is_empty() {
            self.buf = pool.acquire(FIRST_READ);
        }
        if self.len == self.buf.capacity() && !self.grow(pool, cfg) {
            return 0;
        }
        let n = data.len().min(self.buf.capacity() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&data[..n]);
        self.len += n;
        n
    }

    /// Moves the buffer's contents to a larger one if the pending request may need it.
    fn grow(&mut self, pool: &BufPool, cfg: &Config) -> bool {
        if !self.batch.is_empty() {
            return false; // positions of framed requests must not move
        }
        let cap = self.buf.capacity();
        let want = match &self.pending {
            Pending::Length { end, .. } => *end,
            // a head may take up to max_head bytes (+ a little so the parser sees the limit),
            // a PROXY header up to its own limit
            Pending::Head { .. } if self.proxy_due => cap.saturating_mul(4).min(proxy::V2_MAX_PAYLOAD + 1024),
            Pending::Head { .. } => cap.saturating_mul(4).min(cfg.limits.max_head + 1024),
            Pending::Chunked { .. } | Pending::Skip { .. } => cap.saturating_mul(4).min(MAX_POOLED),
        };
        if want <= cap {
            return false;
        }
        let mut nb = pool.acquire(want);
        // Copy from 0, not pos: a pending body's positions stay valid.
        nb[..self.len].copy_from_slice(&self.buf[..self.len]);
        pool.release(std::mem::replace(&mut self.buf, nb));
        true
    }

    /// Frames as many complete requests as the buffer holds into `batch`; `served` requests
    /// have been answered on the connection before.
    pub(crate) fn advance(&mut self, pool: &BufPool, cfg: &Config, served: u64) -> Advance {
        if self.proxy_due {
            if let Some(a) = self.read_proxy(cfg) {
                return a;
            }
        }
        loop {
            if self.batch.len() >= MAX_BATCH || self.error.is_some() || self.last {
                break;
            }
            if cfg.max_requests_per_conn.is_some_and(|max| served + self.batch.len() as u64 >= max) {
                break;
            }
            // The common case, a head, reads the state in place: moving the whole enum out
            // (a body's state holds a head and a decoder) cost ~10 instructions a request.
            if let Pending::Head { scanned } = self.pending {
                self.pending = Pending::Head { scanned: 0 };
                if self.pos == self.len {
                    break;
                }
                // Only re-parse a partial head when a new line has arrived.
                let from = scanned.max(self.pos);
                if scanned > self.pos
                    && memchr::memchr(b'\n', &self.buf[from..self.len]).is_none()
                    && self.len - self.pos <= cfg.limits.max_head
                {
                    self.pending = Pending::Head { scanned: self.len };
                    break;
                }
                let f0 = self.fields.len();
                match parse_head(&self.buf[..self.len], self.pos, &cfg.limits, &mut self.fields) {
                    Err(e) => return self.reject(e),
                    Ok(None) => {
                        self.pending = Pending::Head { scanned: self.len };
                        break;
                    }
                    Ok(Some(head)) => {
                        if !self.frame(head, f0, cfg) {
                            break;
                        }
                    }
                }
                continue;
            }
            match std::mem::replace(&mut self.pending, Pending::Head { scanned: 0 }) {
                Pending::Head { .. } => {} // handled above
                Pending::Length { head, end } => {
                    if self.len < end {
                        self.pending = Pending::Length { head, end };
                        break;
                    }
                    self.push(head, Span(head.end, end as u32), None, end);
                }
                Pending::Chunked { head, mut dec, mut r, mut w } => {
                    match dec.decode(&mut self.buf, &mut r, &mut w, self.len) {
                        Err(e) => {
                            self.unread = true; // the rest of the body may follow
                            return self.reject(e);
                        }
                        Ok(true) => self.push(head, Span(head.end, w as u32), None, r),
                        Ok(false) if self.len == self.buf.capacity() && self.buf.capacity() >= MAX_POOLED => {
                            // Larger than we buffer: the handler streams the rest.
                            let mut raw = pool.acquire(MAX_POOLED);
                            let n = self.len - r;
                            raw[..n].copy_from_slice(&self.buf[r..self.len]);
                            let rest = Rest::Chunked { dec, raw, r: 0, w: 0, o: 0, end: n };
                            self.push(head, Span(head.end, w as u32), Some(rest), self.len);
                            break;
                        }
                        Ok(false) => {
                            self.pending = Pending::Chunked { head, dec, r, w };
                            break;
                        }
                    }
                }
                Pending::Skip { left } => {
                    if !self.skip(left) {
                        break;
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

    /// Consumes the PROXY header the connection must begin with: `None` once it has (or when
    /// the server does not use the protocol), else what to do meanwhile.
    fn read_proxy(&mut self, cfg: &Config) -> Option<Advance> {
        if !cfg.proxy_protocol {
            self.proxy_due = false;
            return None;
        }
        if self.pos == self.len {
            return Some(Advance::NeedMore);
        }
        match proxy::parse(&self.buf[self.pos..self.len]) {
            Ok(None) => Some(Advance::NeedMore),
            Err(why) => Some(Advance::Refuse(why)),
            Ok(Some((header, n))) => {
                self.pos += n;
                self.proxy = Some(Arc::new(header));
                self.proxy_due = false;
                None
            }
        }
    }

    /// Drops what the buffer holds of the `left` bytes of a skipped body; `true` once the body
    /// is behind us (the next request starts at `pos`).
    fn skip(&mut self, left: u64) -> bool {
        let n = left.min((self.len - self.pos) as u64);
        self.pos += n as usize;
        // nothing framed depends on positions while skipping: start the buffer over
        if self.pos == self.len {
            self.pos = 0;
            self.len = 0;
        } else {
            self.buf.copy_within(self.pos..self.len, 0);
            self.len -= self.pos;
            self.pos = 0;
        }
        if n < left {
            self.pending = Pending::Skip { left: left - n };
        }
        n == left
    }

    /// Frames the body of a freshly parsed head. Returns `false` to stop framing for now.
    fn frame(&mut self, head: Head, f0: usize, cfg: &Config) -> bool {
        let end = head.end as usize;
        match head.framing {
            Framing::None => {
                self.push(head, Span(head.end, head.end), None, end);
                true
            }
            Framing::Length(n) if n > cfg.max_request_body => {
                self.fields.truncate(f0);
                self.unread = true; // its body may follow anyway: linger long enough to take it
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
                // (in u64: a limit near u64::MAX lets n be anything a Content-Length can say)
                let total = ((end - self.pos) as u64).saturating_add(n);
                if total > MAX_POOLED as u64 {
                    let have = (self.len - end).min(n as usize);
                    let rest = Rest::Length { left: n - have as u64 };
                    self.push(head, Span(head.end, (end + have) as u32), Some(rest), end + have);
                    return false;
                }
                self.pending = Pending::Length { head, end: end + n as usize };
                self.note_continue(&head, end);
                true
            }
            Framing::Chunked => {
                self.pending = Pending::Chunked { head, dec: Chunked::new(cfg.max_request_body), r: end, w: end };
                self.note_continue(&head, end);
                true
            }
        }
    }

    /// Owes `100 Continue` for the pending request if the client waits for it.
    fn note_continue(&mut self, head: &Head, body_start: usize) {
        if head.has(Head::EXPECT_CONTINUE) && self.len == body_start && !self.continue_sent {
            self.continue_sent = true;
            self.continue_due = true;
        }
    }

    fn push(&mut self, head: Head, body: Span, rest: Option<Rest>, next: usize) {
        let rest = rest.map(Box::new);
        self.pos = next;
        self.continue_sent = false;
        if !head.keep_alive() {
            // Nothing after a request that closes the connection is read (RFC 9112 §9.6); the
            // requests before it are still answered.
            self.last = true;
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
        match self.pending {
            Pending::Head { .. } => self.pending = Pending::Head { scanned: 0 },
            Pending::Skip { .. } => {}
            // a pending body keeps its positions (it started at pos == 0)
            Pending::Length { .. } | Pending::Chunked { .. } => return,
        }
        if self.pos == self.len {
            self.pos = 0;
            self.len = 0;
            if !self.buf.is_empty() {
                pool.release(std::mem::take(&mut self.buf));
            }
        } else if self.pos > 0 {
            self.buf.copy_within(self.pos..self.len, 0);
            self.len -= self.pos;
            self.pos = 0;
        }
    }

    /// Makes `data` the only unanswered input (bytes a streamed body read past its end).
    pub(crate) fn replace_input(&mut self, data: &[u8], pool: &BufPool) {
        if self.buf.capacity() < data.len() {
            let old = std::mem::replace(&mut self.buf, pool.acquire(data.len()));
            if !old.is_empty() {
                pool.release(old);
            }
        }
        self.buf[..data.len()].copy_from_slice(data);
        self.pos = 0;
        self.len = data.len();
        self.pending = Pending::Head { scanned: 0 };
    }

    /// Carries out [`plan`] for a streamed body once its handler has returned (and the
    /// buffers are back): bytes the body read past its end (the next request) become the
    /// input; a rest to skip is read by [`advance`](Self::advance) before the next request.
    pub(crate) fn after_body(&mut self, s: BodyStream, unread: Unread, pool: &BufPool) {
        match (s.rest, unread) {
            (Rest::Length { left }, Unread::Skipped) => self.pending = Pending::Skip { left },
            (Rest::Chunked { raw, r, end, .. }, Unread::None) => {
                if r < end {
                    self.replace_input(&raw[r..end], pool);
                }
                pool.release(raw);
            }
            (Rest::Chunked { raw, .. }, _) => pool.release(raw),
            (Rest::Length { .. }, _) => {}
        }
        self.unread |= unread == Unread::Close;
    }
}

/// Decides what becomes of the rest of a streamed body when its handler returns
/// (`keep_alive`: whether the connection would otherwise stay open). A `Content-Length` rest
/// of at most [`DISCARD_MAX`] is skipped so the connection can serve the next request. More,
/// a chunked rest (its length is unknown: the answer could not honestly promise to keep the
/// connection), a broken body, or a client that was never sent the `100 Continue` it asked for
/// (it may never send the body, so waiting to skip it could hang, as Go's net/http also
/// reasons) close it after the answer.
pub(crate) fn plan(s: &BodyStream, keep_alive: bool) -> Unread {
    match &s.rest {
        _ if s.failed => Unread::Close,
        Rest::Length { left: 0 } => Unread::None,
        Rest::Chunked { dec, .. } if dec.is_done() => Unread::None,
        _ if s.send_continue || !keep_alive => Unread::Close,
        Rest::Length { left } if *left <= DISCARD_MAX => Unread::Skipped,
        Rest::Length { .. } | Rest::Chunked { .. } => Unread::Close,
    }
}

/// What a connection owned by the poller is waiting for, as far as input goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Waiting {
    Nothing,
    Head,
    Body,
    Skip,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config::default()
    }

    /// Feeds `raw` and frames it: the targets framed and what `advance` said.
    fn frame_all(i: &mut Input, raw: &[u8], pool: &BufPool) -> (Vec<String>, Advance) {
        assert_eq!(i.feed(raw, pool, &cfg()), raw.len());
        let a = i.advance(pool, &cfg(), 0);
        let targets = i.batch.iter().map(|r| String::from_utf8_lossy(r.head.target.of(&i.buf)).into_owned()).collect();
        (targets, a)
    }

    #[test]
    fn requests_before_a_closing_one_are_framed_and_nothing_after_it() {
        let pool = BufPool::new();
        let mut i = Input::new();
        let raw = b"GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\nGET /3 HTTP/1.1\r\nHost: t\r\n\r\n";
        let (t, a) = frame_all(&mut i, raw, &pool);
        assert_eq!((t, a), (vec!["/1".to_string(), "/2".to_string()], Advance::Dispatch));
        assert!(i.last && i.batch[0].head.keep_alive() && !i.batch[1].head.keep_alive());
        i.compact(&pool);
        assert_eq!(i.advance(&pool, &cfg(), 2), Advance::NeedMore, "/3 is never framed");
    }

    #[test]
    fn a_skipped_rest_is_dropped_to_the_byte_and_the_next_request_framed() {
        let pool = BufPool::new();
        let mut i = Input::new();
        i.pending = Pending::Skip { left: 10 };
        let (t, a) = frame_all(&mut i, b"0123456", &pool);
        assert_eq!((t.len(), a, i.waiting_for()), (0, Advance::NeedMore, Waiting::Skip));
        assert!(i.body_in_flight(), "a close now lingers long enough for the rest");
        let (t, a) = frame_all(&mut i, b"789GET /next HTTP/1.1\r\nHost: t\r\n\r\n", &pool);
        assert_eq!((t, a), (vec!["/next".to_string()], Advance::Dispatch));
        assert!(!i.body_in_flight());
    }

    /// Regression (review): with no body limit, `end - pos + n` wrapped for a Content-Length
    /// near u64::MAX, and body bytes were framed as a second request.
    #[test]
    fn a_huge_content_length_never_makes_body_bytes_a_request() {
        let pool = BufPool::new();
        let cfg = Config { max_request_body: u64::MAX, ..Config::default() };
        let mut i = Input::new();
        let raw = b"POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 18446744073709551615\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
        i.feed(raw, &pool, &cfg);
        assert_eq!(i.advance(&pool, &cfg, 0), Advance::Dispatch);
        assert_eq!(i.batch.len(), 1);
        assert!(i.batch[0].rest.is_some(), "the body streams from the socket");
        assert_eq!(i.batch[0].body.of(&i.buf), b"GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n", "as body bytes");
    }

    fn stream(rest: Rest, send_continue: bool) -> BodyStream {
        BodyStream {
            wire: Wire::plain(crate::sys::Fd(-1)),
            timeout: std::time::Duration::from_secs(1),
            rest,
            send_continue,
            head_sent: Default::default(),
            failed: false,
            taken: false,
        }
    }

    #[test]
    fn only_small_length_rests_are_skipped() {
        let pool = BufPool::new();
        let chunked = |done: bool| {
            let mut dec = Chunked::new(1 << 20);
            if done {
                let mut b = *b"0\r\n\r\n";
                let (mut r, mut w) = (0, 0);
                assert_eq!(dec.decode(&mut b, &mut r, &mut w, 5), Ok(true));
            }
            Rest::Chunked { dec, raw: pool.acquire(16), r: 0, w: 0, o: 0, end: 0 }
        };
        let cases = [
            (stream(Rest::Length { left: 0 }, false), true, Unread::None),
            (stream(Rest::Length { left: DISCARD_MAX }, false), true, Unread::Skipped),
            (stream(Rest::Length { left: DISCARD_MAX + 1 }, false), true, Unread::Close),
            (stream(Rest::Length { left: 5 }, false), false, Unread::Close),
            (stream(Rest::Length { left: 5 }, true), true, Unread::Close),
            (stream(chunked(true), false), true, Unread::None),
            (stream(chunked(false), false), true, Unread::Close),
        ];
        for (n, (s, keep_alive, want)) in cases.into_iter().enumerate() {
            assert_eq!(plan(&s, keep_alive), want, "case {n}");
        }
        let mut failed = stream(Rest::Length { left: 5 }, false);
        failed.failed = true;
        assert_eq!(plan(&failed, true), Unread::Close);
    }

    #[test]
    fn the_request_to_answer_next_is_judged_head_or_not() {
        let pool = BufPool::new();
        let mut i = Input::new();
        i.feed(b"\r\nHEAD / HTTP/1.1\r\nHost: t\r\n", &pool, &cfg());
        assert!(i.answering_head());
        let mut i = Input::new();
        i.feed(b"HEADX / HTTP/1.1\r\n", &pool, &cfg());
        assert!(!i.answering_head());
        let mut i = Input::new();
        let (_, a) = frame_all(&mut i, b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\n", &pool);
        assert_eq!(a, Advance::Dispatch);
        assert!(i.answering_head(), "the first framed request decides");
    }
}
