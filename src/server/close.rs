//! The one close path: every way a connection ends (idle timeout, `Connection: close`, an error
//! answer, a body over the limit or left unread, `max_requests_per_conn`, shutdown) goes
//! through [`Conn::finish`].
//!
//! Closing a TCP socket while unread bytes sit in its receive queue, or receiving bytes after
//! it is closed, makes Linux answer with a reset, and a reset destroys whatever the client has
//! not read yet: typically our last response. Behind nginx that was a 502 for every handler
//! that answered an upload without reading it. So a connection ends in this order:
//! 1. no further request is answered (`close_after`); output still owed is written, and while
//!    it waits for the client, input is read and dropped so a client still sending is never
//!    blocked on us;
//! 2. if the client has closed its side, or said it sends nothing more and all it sent has been
//!    read, the socket is closed at once: nothing can arrive to cause a reset;
//! 3. otherwise the write side is shut (the FIN follows the last response) and input is read
//!    and dropped until the client closes, until it has been quiet for the linger gap, or until
//!    the linger time is up; then the socket is closed.
//!
//! Only a failed socket and an expired write timeout close at once, in `Shared::close`.

use super::clock::Tick;
use super::conn::{Conn, Next, Phase};
use crate::buf::BufPool;
use std::io;
use std::time::Duration;

/// How long a closing connection keeps reading and dropping input.
#[derive(Clone, Copy, Debug)]
struct Linger {
    /// Close once nothing has arrived for this long.
    gap: Duration,
    /// Close after this long in any case.
    total: Duration,
}

/// A request body may still be on its way: a proxy writes the whole request before it reads
/// the answer. As long as nginx's own lingering close (`lingering_timeout` 5 s,
/// `lingering_time` 30 s).
const BODY_LINGER: Linger = Linger { gap: Duration::from_secs(5), total: Duration::from_secs(30) };
/// Nothing is known to be in flight: only a request that crossed our FIN (one round trip) can
/// still arrive before the client sees the FIN and closes.
const BRIEF_LINGER: Linger = Linger { gap: Duration::from_secs(1), total: Duration::from_secs(2) };
/// Most input one call drops before letting other connections go first.
const DROP_PER_CALL: usize = 1 << 20;

/// What [`Conn::drop_input`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Drain {
    /// The peer has closed (or the socket failed): nothing more can arrive.
    Closed,
    /// Nothing more to read now.
    Quiet,
    /// The per-call budget ran out with more to read.
    More,
}

impl Conn {
    /// Ends a connection whose `close_after` is set and whose output is written: closes it now
    /// if nothing can arrive to reset it, else shuts the write side and lingers.
    pub(crate) fn finish(&mut self, now: Tick, pool: &BufPool) -> Next {
        debug_assert!(self.close_after && !self.output.is_pending());
        if self.phase != Phase::Linger {
            if let Some(wire) = self.wire() {
                wire.close_notify();
            }
            if self.input.client_done() {
                return Next::Close;
            }
            if let Some(fd) = self.fd() {
                fd.shutdown_write();
            }
            let l = if self.input.body_in_flight() { BODY_LINGER } else { BRIEF_LINGER };
            self.linger = Some((l.gap, now + l.total));
            self.phase = Phase::Linger;
            self.deadline = Some(now + l.gap);
            self.input.release(pool); // what is buffered will never be answered
        }
        match self.drop_input(now) {
            Drain::Closed => Next::Close,
            Drain::Quiet => Next::Wait,
            Drain::More => Next::Again,
        }
    }

    /// Reads and drops what the peer sent, up to [`DROP_PER_CALL`] bytes. While lingering,
    /// arriving bytes push the deadline out by the gap (never past the linger time).
    pub(crate) fn drop_input(&mut self, now: Tick) -> Drain {
        let Some(fd) = self.fd() else { return Drain::Closed };
        let mut scratch = [0u8; 16 * 1024];
        let mut got = 0;
        let drain = loop {
            match fd.read(&mut scratch) {
                Ok(0) => break Drain::Closed,
                Ok(n) => {
                    got += n;
                    if got >= DROP_PER_CALL {
                        break Drain::More;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Drain::Quiet,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break Drain::Closed,
            }
        };
        if drain == Drain::Closed {
            self.input.eof = true;
        }
        if let (true, Some((gap, until))) = (got > 0, self.linger) {
            self.deadline = Some((now + gap).min(until));
        }
        drain
    }

    /// The sweep found a lingering connection past its deadline: a last look, then close
    /// unless input arrived meanwhile (and the linger time is not up).
    pub(crate) fn linger_expired(&mut self, now: Tick) -> Next {
        match self.drop_input(now) {
            Drain::Closed => Next::Close,
            _ if self.deadline.is_none_or(|d| now >= d) => Next::Close,
            Drain::Quiet => Next::Wait,
            Drain::More => Next::Again,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buf::BufPool;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    /// A server-side connection over a real loopback socket, and its client.
    fn pair() -> (Conn, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (srv, peer) = l.accept().unwrap();
        srv.set_nonblocking(true).unwrap();
        let mut c = Conn::new();
        c.open(mio::net::TcpStream::from_std(srv), peer, mio::Token(1), Default::default());
        client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        (c, client)
    }

    fn at(secs: u64) -> Tick {
        Tick::default() + Duration::from_secs(secs)
    }

    /// Waits (up to 5 s) until the server's socket has something to read.
    fn readable(c: &Conn) {
        c.fd().unwrap().wait(false, std::time::Instant::now() + Duration::from_secs(5)).unwrap();
    }

    /// Reads to the end of the stream; a reset is an error.
    fn eof(client: &mut TcpStream) -> std::io::Result<Vec<u8>> {
        let mut v = Vec::new();
        client.read_to_end(&mut v).map(|_| v)
    }

    /// The idle-timeout race: a request sits unread in the kernel's buffer when the server
    /// decides to close. Closing outright would reset; the close path shuts the write side and
    /// reads it instead, and closes only once the client has.
    #[test]
    fn unread_input_lingers_instead_of_resetting() {
        let pool = BufPool::new();
        let (mut c, mut client) = pair();
        client.write_all(b"GET /late HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        c.close_after = true;
        // (the request may or may not have reached the server's buffer yet: either way)
        assert_eq!(c.finish(at(0), &pool), Next::Wait);
        assert_eq!(c.phase, Phase::Linger);
        let mut b = [0u8; 1];
        assert_eq!(client.read(&mut b).unwrap(), 0, "a FIN, not a reset");
        client.shutdown(std::net::Shutdown::Write).unwrap();
        readable(&c);
        assert_eq!(c.finish(at(0), &pool), Next::Close, "the client's FIN ends it");
        c.close(&pool);
        assert_eq!(eof(&mut client).unwrap(), b"");
    }

    #[test]
    fn a_client_that_said_close_and_was_read_to_the_end_is_closed_at_once() {
        let pool = BufPool::new();
        let (mut c, _client) = pair();
        c.close_after = true;
        c.input.last = true;
        c.input.drained = true;
        assert_eq!(c.finish(at(0), &pool), Next::Close);
        // ... but not while part of its body may still be on the socket
        let (mut c, _client) = pair();
        c.close_after = true;
        (c.input.last, c.input.drained, c.input.unread) = (true, true, true);
        assert_eq!(c.finish(at(0), &pool), Next::Wait);
        assert_eq!(c.phase, Phase::Linger);
    }

    #[test]
    fn a_peer_that_closed_is_closed_at_once() {
        let pool = BufPool::new();
        let (mut c, _client) = pair();
        c.close_after = true;
        c.input.eof = true;
        assert_eq!(c.finish(at(0), &pool), Next::Close);
    }

    #[test]
    fn lingering_stops_after_a_quiet_gap_or_at_the_linger_time() {
        let pool = BufPool::new();
        // nothing known in flight: a brief linger, and a quiet gap ends it
        let (mut c, _client) = pair();
        c.close_after = true;
        c.input.drained = true;
        assert_eq!(c.finish(at(0), &pool), Next::Wait);
        assert_eq!(c.deadline, Some(at(0) + BRIEF_LINGER.gap));
        assert_eq!(c.linger_expired(at(1)), Next::Close);
        // a body may be in flight: a long linger; input pushes the deadline out, up to the end
        let (mut c, mut client) = pair();
        c.close_after = true;
        c.input.unread = true;
        assert_eq!(c.finish(at(0), &pool), Next::Wait);
        assert_eq!(c.deadline, Some(at(5)));
        for t in [5, 10, 15, 20, 25] {
            client.write_all(b"more body").unwrap();
            readable(&c); // as an event would say, at time t
            assert_eq!(c.drop_input(at(t)), Drain::Quiet);
            assert_eq!(c.deadline, Some(at(t + 5).min(at(30))), "at {t} s");
        }
        client.write_all(b"still more").unwrap();
        assert_eq!(c.linger_expired(at(30)), Next::Close, "the linger time is up");
    }
}
