//! One connection: its socket, its [`Input`] and [`Output`], and where it is in its life.
//!
//! A `Conn` is manipulated by whichever thread owns its [`Slot`](super::slot::Slot). Both
//! owners move it forward with the same step, [`Conn::progress`]: write held output, end the
//! connection if it is ending (`close.rs`), else read and frame requests. The poller hands a
//! connection with framed requests to the pool; a worker answers them and calls `progress`
//! again for the next batch. The phase and deadline tell the poller's sweep which timeout
//! applies while the poller owns it.

use super::clock::Tick;
use super::config::Config;
use super::input::{Advance, Fill, Input, Waiting};
use super::output::{Flushed, Output};
use super::shared::Shared;
use crate::buf::BufPool;
use crate::http::response::encode_error;
use crate::wire::Wire;
use mio::Token;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// Where a poller-owned connection is, for its deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Between requests: the idle timeout.
    Idle,
    /// Part of a head has arrived: the header timeout.
    Head,
    /// A buffered body is arriving: the body timeout.
    Body,
    /// Dropping the rest of a body its handler did not read: the body timeout.
    Skip,
    /// Output waits for the client to take it: the write timeout.
    Writing,
    /// Closing: the write side is shut and input is read and dropped (`close.rs`).
    Linger,
    /// Owned by a worker (no deadline).
    Busy,
    Closed,
}

/// What a connection needs after [`Conn::progress`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Framed requests wait in `input.batch`: run their handlers.
    Answer,
    /// Nothing to do until the socket is ready again (the phase and deadline are set).
    Wait,
    /// More to read now, but others go first: drive it again on the poller's next turn.
    Again,
    /// Close it now (the caller accounts for the closed connection).
    Close,
}

pub(crate) const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

pub(crate) struct Conn {
    /// A TCP or a Unix stream socket: the server's I/O is the same system calls on either.
    pub socket: Option<OwnedFd>,
    /// The TLS session over the socket (a TLS listener's connection).
    #[cfg(feature = "tls")]
    pub tls: Option<std::sync::Arc<crate::tls::session::Session>>,
    pub token: Token,
    /// `0.0.0.0:0` over a Unix socket (`listener::UNIX_PEER`).
    pub peer: SocketAddr,
    pub input: Input,
    pub output: Output,
    /// Requests answered on this connection.
    pub served: u64,
    /// No further request is answered: once the output is written, the connection ends.
    pub close_after: bool,
    pub phase: Phase,
    pub deadline: Option<Tick>,
    /// While lingering: how long input may pause, and when lingering stops regardless.
    pub(super) linger: Option<(Duration, Tick)>,
}

impl Conn {
    pub(crate) fn new() -> Conn {
        Conn {
            socket: None,
            #[cfg(feature = "tls")]
            tls: None,
            token: Token(0),
            peer: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            input: Input::new(),
            output: Output::new(),
            served: 0,
            close_after: false,
            phase: Phase::Closed,
            deadline: None,
            linger: None,
        }
    }

    /// Resets for a new socket (recycled connections keep their vectors' capacity).
    pub(crate) fn open(
        &mut self,
        socket: impl Into<OwnedFd>,
        peer: SocketAddr,
        token: Token,
        #[cfg_attr(not(feature = "tls"), expect(unused_variables, reason = "no TLS without the feature"))]
        tls: super::listener::Session,
    ) {
        self.socket = Some(socket.into());
        #[cfg(feature = "tls")]
        {
            self.tls = tls;
        }
        self.peer = peer;
        self.token = token;
        self.input.reset();
        self.served = 0;
        self.close_after = false;
        self.phase = Phase::Busy;
        self.deadline = None;
        self.linger = None;
    }

    /// Closes the socket now and returns the buffers. Only for a connection that has ended
    /// (see `close.rs`) or failed; the owner accounts for it through `Shared::close`.
    pub(crate) fn close(&mut self, pool: &BufPool) {
        #[cfg(feature = "tls")]
        {
            self.tls = None;
        }
        self.socket = None;
        self.input.release(pool);
        self.output.release(pool);
        self.phase = Phase::Closed;
        self.deadline = None;
        self.linger = None;
    }

    pub(crate) fn is_open(&self) -> bool {
        self.socket.is_some()
    }

    pub(crate) fn fd(&self) -> Option<crate::sys::Fd> {
        self.socket.as_ref().map(|s| crate::sys::Fd(s.as_raw_fd()))
    }

    /// The connection's byte stream: the socket, or the TLS session over it.
    pub(crate) fn wire(&self) -> Option<Wire> {
        let fd = self.fd()?;
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return Some(Wire { fd, tls: Some(tls.clone()) });
        }
        Some(Wire::plain(fd))
    }

    /// Takes the connection as far as it goes without running a handler: writes held output,
    /// ends it if it is ending, else reads and frames requests (answering malformed ones and
    /// sending `100 Continue` itself). `scratch` is an empty buffer for encoding an error.
    pub(crate) fn progress(&mut self, sh: &Shared, pool: &BufPool, now: Tick, scratch: &mut Vec<u8>) -> Next {
        let cfg = &sh.cfg;
        let Some(wire) = self.wire() else { return Next::Close };
        loop {
            if self.output.is_pending() {
                let held = self.output.pending_len();
                match self.output.flush(&wire, pool) {
                    Err(_) => return Next::Close,
                    Ok(Flushed::Yield) => {
                        // a file body took its turn: the poller drives it again next turn
                        self.phase = Phase::Writing;
                        self.deadline = Some(now + cfg.write_timeout);
                        return Next::Again;
                    }
                    Ok(Flushed::Blocked) => {
                        // the write timeout runs while the client takes nothing: from when the
                        // output first waited, or from its last progress (not from any event)
                        if self.phase != Phase::Writing || self.output.pending_len() < held {
                            self.phase = Phase::Writing;
                            self.deadline = Some(now + cfg.write_timeout);
                        }
                        if self.close_after && self.drop_input(now) == super::close::Drain::More {
                            // nothing more is answered: keep reading so a peer still sending
                            // is not blocked on us while we wait for it to read
                            return Next::Again;
                        }
                        return Next::Wait;
                    }
                    Ok(Flushed::All) => {}
                }
            }
            if self.close_after {
                return self.finish(now, pool);
            }
            if self.input.proxy_due && cfg.proxy_protocol {
                if let Some(from) = &cfg.proxy_from {
                    if !crate::network::any_contains(from, self.peer.ip()) {
                        return self.refuse("the peer is not in proxy_protocol_from", sh, now, pool);
                    }
                }
            }
            let mut read = false;
            if !self.input.drained && !self.input.eof {
                read = self.input.fill(&wire, pool, cfg) == Fill::Data;
                self.output.wrote(&wire); // a TLS handshake's answer may wait for room
            }
            let advance = self.input.advance(pool, cfg, self.served);
            if self.input.continue_due {
                self.input.continue_due = false;
                self.output.queue(Some(&wire), CONTINUE, pool);
            }
            match advance {
                Advance::Dispatch => return Next::Answer,
                // The client closed: an incomplete request is dropped without a response
                // (RFC 9112 §8: it is not complete; never pass it on as one).
                Advance::NeedMore if self.input.eof && self.input.proxy_due && self.input.pos < self.input.len => {
                    return self.refuse("the peer closed inside the PROXY header", sh, now, pool);
                }
                Advance::NeedMore if self.input.eof => return Next::Close,
                // the read filled the buffer and stopped short of the socket's end: nothing
                // will announce the rest (a skip emptied the buffer, or a request continues)
                Advance::NeedMore if read && !self.input.drained => {}
                Advance::NeedMore if self.output.is_pending() => {}
                Advance::NeedMore => {
                    self.settle(now, cfg);
                    return Next::Wait;
                }
                Advance::Refuse(why) => return self.refuse(why, sh, now, pool),
                Advance::Reject(e) => {
                    sh.counters.rejected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    self.reject(e.status, e.reason, sh, pool, scratch);
                }
            }
        }
    }

    /// Queues the server's own error answer (for the request the server would answer next)
    /// and ends the connection after it. Before its PROXY header or inside its TLS handshake
    /// (a header timeout) the peer cannot be answered in HTTP: it is closed without an answer.
    pub(crate) fn reject(&mut self, status: u16, reason: &str, sh: &Shared, pool: &BufPool, scratch: &mut Vec<u8>) {
        let cfg = &sh.cfg;
        if self.input.proxy_due && cfg.proxy_protocol {
            log::debug!("closing the connection from {}: {reason} (no PROXY header yet)", self.peer);
            self.close_after = true;
            return;
        }
        if self.wire().is_some_and(|w| w.is_handshaking()) {
            log::debug!("closing the connection from {}: {reason} (in its TLS handshake)", self.peer);
            self.close_after = true;
            return;
        }
        scratch.clear();
        encode_error(
            scratch,
            status,
            reason,
            cfg.server_line.as_deref(),
            cfg.error_page.as_ref(),
            self.input.answering_head(),
        );
        self.output.queue(self.wire().as_ref(), scratch, pool);
        scratch.clear();
        // a framed request refused (503) may have the rest of its body still coming
        self.input.unread |= self.input.batch.iter().any(|r| r.rest.is_some());
        self.input.batch.clear();
        self.close_after = true;
    }

    /// Ends a connection that broke the PROXY protocol without an answer (it may not speak
    /// HTTP, and nothing it sent can be trusted), counted as rejected.
    fn refuse(&mut self, why: &str, sh: &Shared, now: Tick, pool: &BufPool) -> Next {
        sh.counters.rejected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        log::debug!("closing the connection from {}: {why}", self.peer);
        self.input.proxy_due = false;
        self.close_after = true;
        self.finish(now, pool)
    }

    /// Sets the phase and deadline of a connection waiting for input.
    fn settle(&mut self, now: Tick, cfg: &Config) {
        let phase = match self.input.waiting_for() {
            Waiting::Body => Phase::Body,
            Waiting::Skip => Phase::Skip,
            Waiting::Head => Phase::Head,
            // a TLS handshake is bounded like the head it comes before
            Waiting::Nothing if self.wire().is_some_and(|w| w.is_handshaking()) => Phase::Head,
            Waiting::Nothing => Phase::Idle,
        };
        if phase != self.phase || self.deadline.is_none() {
            self.phase = phase;
            self.deadline = Some(
                now + match phase {
                    Phase::Head => cfg.read_header_timeout,
                    Phase::Body | Phase::Skip => cfg.body_timeout,
                    _ => cfg.idle_timeout,
                },
            );
        }
    }
}
