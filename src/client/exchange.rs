//! One request and its response head on one connection, and the decisions around it: which
//! connection to use, when a failure may be retried, when the connection can be kept.
//!
//! Retry rule, decided in one place ([`Client::exchange`]): before a request is written on
//! a *pooled* connection, one non-blocking peek checks that the server has not closed it or
//! sent anything unasked (a `408` before its idle close, say, which would otherwise be read
//! as this request's answer); such a connection is replaced, the request provably unsent.
//! The server can still close it between the peek and the request: a request that failed on
//! a pooled connection before any byte of the response arrived is sent once more on a new
//! connection (never another pooled one: a server that restarted closed them all) if its
//! method is idempotent and its body can be sent again. A non-idempotent request (POST,
//! PATCH) is never resent once written, and its error says so. The peek costs one system
//! call per reuse (~2% of a request's client CPU, measured); Go's client spends a goroutine
//! per connection on the same job.

use super::body::BodyState;
use super::conn::{Conn, Deadline, Wait};
use super::decode::Decoding;
use super::error::{Error, Kind};
use super::head::{parse_response, BodyKind, Limits, ResponseHead};
use super::pool::{Checkout, Host};
use super::request::{
    idempotent, Headers, Outgoing, HAS_CONNECTION_CLOSE, HAS_EXPECT_CONTINUE, HAS_HOST, HAS_USER_AGENT,
};
use super::response::{Live, Response};
use super::url::{Scheme, Url};
use super::Client;
use crate::h1::{chunked, fmt};
use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// Request bodies up to this size go out in the same write as the head.
const COALESCE: usize = 16 * 1024;

/// A failed attempt, and whether it failed before any response byte arrived.
struct Failure {
    err: Error,
    nothing_received: bool,
}

impl Client {
    /// `conn` after the TLS handshake for an `https://` URL, else as it is.
    fn secure(&self, conn: Conn, url: &Url, dl: &Deadline) -> Result<Conn, Error> {
        #[cfg(feature = "tls")]
        if url.scheme() == Scheme::Https {
            let mut conn = conn;
            let session = super::tls::session(&self.inner.tls, url.host())?;
            conn.handshake(session, url.host(), dl)?;
            return Ok(conn);
        }
        let _ = (url, dl);
        Ok(conn)
    }

    /// Sends the request and reads the response head into `resp`; returns the connection
    /// with the body still on it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn exchange(
        &self,
        method: &str,
        url: &Url,
        headers: &Headers,
        body: &mut Outgoing<'_>,
        resp: &mut Response,
        at: Option<Instant>,
        cache: Option<&OnceLock<(u64, Arc<Host>)>>,
    ) -> Result<Live, Error> {
        let cfg = &self.inner.cfg;
        if let Some(e) = &headers.error {
            return Err(Error::new(Kind::Header, e.clone()));
        }
        #[cfg(not(feature = "tls"))]
        if url.scheme() == Scheme::Https {
            return Err(Error::new(
                Kind::Url,
                "https:// URLs need TLS, which this build of the client does not have (cargo feature `tls`)",
            ));
        }
        let host = match cache.map(|c| c.get_or_init(|| (self.inner.id, self.inner.pools.host(url.pool_key())))) {
            Some((id, host)) if *id == self.inner.id => host.clone(),
            _ => self.inner.pools.host(url.pool_key()),
        };
        let dl = Deadline { read: cfg.read_timeout, write: cfg.write_timeout, at };
        let mut retried = false;
        loop {
            let until = Instant::now().checked_add(cfg.pool_timeout).map_or(at, |t| Some(at.map_or(t, |at| at.min(t))));
            let (mut conn, reused) = match host.checkout(until, retried) {
                None => {
                    return Err(Error::new(
                        Kind::PoolTimeout,
                        format!(
                            "all {} connections to this host stayed busy for {:?}: raise max_conns_per_host or pool_timeout",
                            cfg.max_conns_per_host, cfg.pool_timeout
                        ),
                    ))
                }
                Some(Checkout::Reused(c)) => (c, true),
                Some(Checkout::Open(slot)) => {
                    // from now, not from before the pool wait: the wait used up part of `at`
                    let left = at.map_or(cfg.connect_timeout, |at| {
                        at.saturating_duration_since(Instant::now()).min(cfg.connect_timeout)
                    });
                    match self.inner.resolver.connect(url.host(), url.port(), left) {
                        Ok(s) => (self.secure(slot.connected(s), url, &dl)?, false),
                        Err(e) => {
                            let kind = if e.kind() == io::ErrorKind::TimedOut { Kind::Timeout } else { Kind::Connect };
                            return Err(Error::io(kind, "", e)); // its message names the host and each address
                        }
                    }
                }
            };
            if reused && conn.is_stale() {
                continue; // closed by the server while idle, or sent something unasked: unused
            }
            match self.round_trip(&mut conn, method, url, headers, body, resp, &dl) {
                Ok((head, body_sent)) => {
                    conn.requests += 1;
                    let keep_alive = head.keep_alive
                        && body_sent
                        && headers.flags & HAS_CONNECTION_CLOSE == 0
                        && conn.requests < cfg.max_requests_per_conn;
                    conn.start += head.end;
                    if let BodyKind::Length(n) = head.body {
                        if n > cfg.max_body {
                            return Err(Error::new(
                                Kind::TooLarge,
                                format!("the response body ({n} bytes) is over the limit of {} bytes", cfg.max_body),
                            ));
                        }
                    }
                    let asked = super::decode::accept_encoding(cfg.decompress, headers).is_some();
                    let decoding = Decoding::start(asked, resp, &head.body, cfg.max_body);
                    let state = BodyState::new(head.body, &mut resp.trailer);
                    return Ok(Live { conn, body: state, keep_alive, dl, max_body: cfg.max_body, read: 0, decoding });
                }
                Err(f) => {
                    drop(conn);
                    // (a retry checks out a new connection, never a reused one: this runs once)
                    if reused && f.nothing_received {
                        if idempotent(method) && body.replayable() {
                            retried = true;
                            continue;
                        }
                        let why = if !idempotent(method) {
                            format!("; {method} is not idempotent, so it was not sent again (the server may have acted on it)")
                        } else {
                            "; its body was streamed from a reader, so it was not sent again".to_owned()
                        };
                        return Err(f.err.with_hint(&why));
                    }
                    return Err(f.err);
                }
            }
        }
    }

    /// Writes the request and reads the response head (skipping interim 1xx responses).
    /// Returns the head and whether the whole body was sent.
    #[allow(clippy::too_many_arguments)]
    fn round_trip(
        &self,
        conn: &mut Conn,
        method: &str,
        url: &Url,
        headers: &Headers,
        body: &mut Outgoing<'_>,
        resp: &mut Response,
        dl: &Deadline,
    ) -> Result<(ResponseHead, bool), Failure> {
        let cfg = &self.inner.cfg;
        let send_fail = |w: Wait| Failure { err: w.into_error("sending the request"), nothing_received: true };
        let ae = super::decode::accept_encoding(cfg.decompress, headers);
        encode_head(&mut conn.out, method, url, headers, body, cfg.user_agent.as_deref(), ae);
        let expect = headers.flags & HAS_EXPECT_CONTINUE != 0 && !matches!(body, Outgoing::Empty | Outgoing::Bytes([]));
        if let (Outgoing::Bytes(b), false) = (&*body, expect) {
            if b.len() <= COALESCE {
                conn.out.extend_from_slice(b);
            }
        }
        conn.send_out(dl).map_err(send_fail)?;
        // any byte of a response (an interim 100 too) means the request reached the server
        let mut received = false;
        let head_only = expect || !matches!(body, Outgoing::Bytes(b) if b.len() <= COALESCE);
        let mut sent = !head_only || matches!(body, Outgoing::Empty);
        if head_only && !matches!(body, Outgoing::Empty) {
            if expect {
                // wait a bounded time for `100 Continue`; a final answer instead means the
                // body is not wanted (and the connection cannot be reused without it)
                let wait = Deadline { read: cfg.expect_timeout, ..*dl };
                let mut first = self.read_head(conn, method, resp, &wait, true, &mut received);
                if matches!(&first, Err(f) if f.err.is_timeout() && conn.has_unread()) {
                    // an answer is arriving: wait for it as for any other
                    first = self.read_head(conn, method, resp, dl, true, &mut received);
                }
                match first {
                    Ok(Some(h)) => return Ok((h, false)),
                    Ok(None) => {}
                    Err(f) if f.err.is_timeout() && !received => {} // no answer yet: send it
                    Err(f) => return Err(f),
                }
            }
            if let Err(f) = send_body(conn, body, dl) {
                // A server that refuses a body (413) answers and closes while it arrives:
                // its answer is worth more than our write error.
                if f.err.kind() == Kind::Io {
                    if let Ok(Some(h)) = self.read_head(conn, method, resp, dl, false, &mut received) {
                        return Ok((h, false));
                    }
                }
                return Err(f);
            }
            sent = true;
        }
        match self.read_head(conn, method, resp, dl, false, &mut received)? {
            Some(h) => Ok((h, sent)),
            None => unreachable!("read_head returns None only when asked to stop at 100"),
        }
    }

    /// Reads a response head into `resp`. With `stop_at_100`, returns `Ok(None)` after a
    /// `100 Continue`; other 1xx responses are skipped. `received` becomes true with the
    /// first byte of any response.
    fn read_head(
        &self,
        conn: &mut Conn,
        method: &str,
        resp: &mut Response,
        dl: &Deadline,
        stop_at_100: bool,
        received: &mut bool,
    ) -> Result<Option<ResponseHead>, Failure> {
        let cfg = &self.inner.cfg;
        let lim = Limits { max_head: cfg.max_head, max_fields: cfg.max_fields };
        *received |= conn.has_unread();
        // bytes already looked at without finding a complete head: a head only completes
        // with a LF, so a fill without one is not parsed again (a server trickling a byte at
        // a time costs one parse per line, not per byte)
        let mut seen = 0;
        loop {
            let unread = conn.unread();
            let parsed = if seen > 0 && memchr::memchr(b'\n', &unread[seen..]).is_none() {
                Ok(None)
            } else {
                resp.fields.clear();
                parse_response(unread, &lim, method == "HEAD", &mut resp.fields)
            };
            match parsed {
                Ok(Some(h)) if (100..200).contains(&h.status) && h.status != 101 => {
                    conn.start += h.end;
                    resp.fields.clear();
                    seen = 0;
                    if h.status == 100 && stop_at_100 {
                        return Ok(None);
                    }
                }
                Ok(Some(h)) => {
                    resp.head.clear();
                    resp.head.extend_from_slice(&conn.unread()[..h.end]);
                    resp.status = h.status;
                    resp.minor = h.minor;
                    resp.reason = h.reason;
                    return Ok(Some(h));
                }
                Ok(None) => {
                    seen = conn.unread().len();
                    match conn.fill(cfg.max_head, dl) {
                        Ok(Some(0)) => {
                            let err = if *received {
                                Error::new(Kind::Io, "the server closed the connection in the middle of the response")
                            } else {
                                Error::new(Kind::Io, "the server closed the connection without answering")
                            };
                            return Err(Failure { err, nothing_received: !*received });
                        }
                        Ok(Some(_)) => *received = true,
                        Ok(None) => {
                            let err = Error::new(
                                Kind::TooLarge,
                                format!("the response head is over the limit of {} bytes", cfg.max_head),
                            );
                            return Err(Failure { err, nothing_received: false });
                        }
                        Err(w) => {
                            let reset = matches!(&w, Wait::Io(e) if e.kind() == io::ErrorKind::ConnectionReset);
                            return Err(Failure {
                                err: w.into_error("waiting for the response"),
                                nothing_received: !*received && reset,
                            });
                        }
                    }
                }
                Err(e) if e.status == 431 => {
                    let err = Error::new(Kind::TooLarge, format!("the response head is too large: {}", e.reason));
                    return Err(Failure { err, nothing_received: false });
                }
                Err(e) => {
                    let err = Error::new(Kind::Protocol, format!("invalid response: {}", e.reason));
                    return Err(Failure { err, nothing_received: false });
                }
            }
        }
    }
}

/// Encodes the request line and header section into `out`.
pub(crate) fn encode_head(
    out: &mut Vec<u8>,
    method: &str,
    url: &Url,
    headers: &Headers,
    body: &Outgoing<'_>,
    ua: Option<&str>,
    accept_encoding: Option<&str>,
) {
    out.clear();
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(url.path_and_query().as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if headers.flags & HAS_HOST == 0 {
        out.extend_from_slice(b"Host: ");
        out.extend_from_slice(url.authority().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let (Some(ua), 0) = (ua, headers.flags & HAS_USER_AGENT) {
        out.extend_from_slice(b"User-Agent: ");
        out.extend_from_slice(ua.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(ae) = accept_encoding {
        out.extend_from_slice(b"Accept-Encoding: ");
        out.extend_from_slice(ae.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(&headers.lines);
    let len = match body {
        Outgoing::Empty => None,
        Outgoing::Bytes(b) => Some(b.len() as u64),
        Outgoing::Reader(_, n) => *n,
    };
    match (body, len) {
        (Outgoing::Reader(_, None), _) => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        // a body-less request says nothing, except for methods that define a body, where
        // RFC 9110 §8.6 asks for a zero length
        (Outgoing::Empty, _) if !matches!(method, "POST" | "PUT" | "PATCH") => {}
        (_, n) => {
            out.extend_from_slice(b"Content-Length: ");
            fmt::push_u64(out, n.unwrap_or(0));
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// Sends the body after the head (a large one, a reader's, or one that waited for 100).
fn send_body(conn: &mut Conn, body: &mut Outgoing<'_>, dl: &Deadline) -> Result<(), Failure> {
    let io_fail = |w: Wait| Failure { err: w.into_error("sending the request body"), nothing_received: false };
    match body {
        Outgoing::Empty => Ok(()),
        Outgoing::Bytes(b) => conn.write_all(b, dl).map_err(io_fail),
        Outgoing::Reader(r, len) => {
            let mut chunk = [0u8; 16 * 1024];
            let mut total = 0u64;
            loop {
                let n = match r.read(&mut chunk) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        let err = Error::io(Kind::Body, "reading the request body failed", e);
                        return Err(Failure { err, nothing_received: false });
                    }
                };
                total += n as u64;
                if len.is_some_and(|len| total > len) {
                    let err = Error::new(
                        Kind::Body,
                        format!("the body reader gave more than the {} bytes declared", len.unwrap_or(0)),
                    );
                    return Err(Failure { err, nothing_received: false });
                }
                if n == 0 {
                    break;
                }
                if len.is_some() {
                    conn.write_all(&chunk[..n], dl).map_err(io_fail)?;
                } else {
                    conn.out.clear();
                    chunked::push_chunk(&mut conn.out, &chunk[..n]);
                    conn.send_out(dl).map_err(io_fail)?;
                }
            }
            match len {
                Some(len) if total != *len => {
                    let err = Error::new(
                        Kind::Body,
                        format!("the body reader ended after {total} of the {len} bytes declared"),
                    );
                    Err(Failure { err, nothing_received: false })
                }
                Some(_) => Ok(()),
                None => conn.write_all(chunked::LAST_CHUNK, dl).map_err(io_fail),
            }
        }
    }
}
