//! One server-side TLS session over a connection's non-blocking socket: the record loop that
//! the connection's reads and writes go through (`crate::wire::Wire`).
//!
//! Whoever owns the connection (its poller, or the worker answering it, or a handler's body
//! reader or response stream on that worker) calls [`Session::read`] and [`Session::write`]
//! as it would `recv` and `send`: they never block, and report `WouldBlock` when the socket
//! has nothing or takes nothing. The session is behind a mutex only so that a body reader
//! and a streamed response of the same request may both hold it; it is never contended on
//! the request path.
//!
//! Invariants:
//! - A read returns decrypted bytes the session holds before reading the socket, and reads the
//!   socket until it would block (edge-triggered readiness: the poller is told nothing more
//!   about bytes already in the kernel's buffer) or plaintext is ready.
//! - Handshake messages, alerts and key-update answers are written as soon as they are made;
//!   sealed records the socket did not take stay in the session ([`Session::wants_write`]),
//!   and the connection's output counts as pending until they are out.
//! - Plain HTTP sent to a TLS port is answered with a plain `400` saying so (as nginx does),
//!   not with a TLS alert the client cannot show.
//! - With the PROXY protocol on, the header comes before TLS, in the clear (HAProxy's
//!   `send-proxy`, nginx's `proxy_protocol on`): reads pass it through raw, exactly its bytes
//!   (found by peeking), for the connection's own PROXY parser, and TLS starts after it.

use crate::sys::Fd;
use parking_lot::Mutex;
use std::io::{self, Read, Write};

/// Plaintext accepted for sealing before a write reports the socket full: bounds the
/// ciphertext a session holds for a client that reads slowly.
const SEALED_MAX: usize = 64 * 1024;

pub(crate) struct Session {
    inner: Mutex<Inner>,
}

struct Inner {
    tls: rustls::ServerConnection,
    /// Nothing has been read yet: the first byte tells TLS from plain HTTP.
    fresh: bool,
    proxy: Proxy,
}

/// Where a connection is in the PROXY header that precedes its TLS.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Proxy {
    /// No header (or it has passed).
    Off,
    /// A header is due: not all of it has arrived yet.
    Expected,
    /// This many bytes of it are still to pass through.
    Left(usize),
}

/// The socket as rustls's record reader and writer: one `recv` or `send` per call.
struct Sock(Fd);

impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.0.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn broken(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("TLS: {e}"))
}

impl Session {
    /// `proxy`: the connection begins with a PROXY protocol header, before TLS.
    pub(crate) fn new(mut tls: rustls::ServerConnection, proxy: bool) -> Session {
        tls.set_buffer_limit(Some(SEALED_MAX));
        let proxy = if proxy { Proxy::Expected } else { Proxy::Off };
        Session { inner: Mutex::new(Inner { tls, fresh: true, proxy }) }
    }

    /// Decrypted bytes into `out`; `Ok(0)` at the end of the stream (with or without the
    /// client's `close_notify`), `WouldBlock` when nothing is there yet (the handshake in
    /// progress included), `InvalidData` when the client broke the protocol (the alert is
    /// sent).
    pub(crate) fn read(&self, fd: Fd, out: &mut [u8]) -> io::Result<usize> {
        let mut s = self.inner.lock();
        if s.proxy != Proxy::Off {
            return s.read_proxy(fd, out);
        }
        if s.fresh {
            s.fresh = !refuse_plain_http(fd)?;
        }
        let tls = &mut s.tls;
        loop {
            flush(tls, fd)?; // a handshake or key-update message the socket had no room for
            match tls.reader().read(out) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            match tls.read_tls(&mut Sock(fd)) {
                Ok(_) => {} // 0: the end of the stream, which the reader reports next
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            if let Err(e) = tls.process_new_packets() {
                let _ = flush(tls, fd); // the alert (after what precedes it), if the socket takes it
                return Err(broken(e));
            }
            flush(tls, fd)?;
        }
    }

    /// Seals as much of `data` as the session takes and sends what the socket takes; the
    /// count of `data` accepted, `WouldBlock` when none was (the socket is full).
    pub(crate) fn write(&self, fd: Fd, data: &[u8]) -> io::Result<usize> {
        let mut s = self.inner.lock();
        let tls = &mut s.tls;
        flush(tls, fd)?;
        let n = tls.writer().write(data)?;
        flush(tls, fd)?;
        if n == 0 && !data.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    }

    /// Sends the sealed records the session holds; `WouldBlock` if some are left.
    pub(crate) fn flush(&self, fd: Fd) -> io::Result<()> {
        let mut s = self.inner.lock();
        flush(&mut s.tls, fd)?;
        match s.tls.wants_write() {
            true => Err(io::ErrorKind::WouldBlock.into()),
            false => Ok(()),
        }
    }

    /// Whether sealed records wait for the socket.
    pub(crate) fn wants_write(&self) -> bool {
        self.inner.lock().tls.wants_write()
    }

    /// Whether the handshake is not finished yet.
    pub(crate) fn is_handshaking(&self) -> bool {
        self.inner.lock().tls.is_handshaking()
    }

    /// The name the client asked for (SNI).
    pub(crate) fn server_name(&self) -> Option<String> {
        self.inner.lock().tls.server_name().map(str::to_owned)
    }

    /// Sends `close_notify`, if the socket takes it (before the write side is shut); not
    /// inside a handshake, which the close itself ends.
    pub(crate) fn close_notify(&self, fd: Fd) {
        let mut s = self.inner.lock();
        if s.tls.is_handshaking() {
            return;
        }
        s.tls.send_close_notify();
        let _ = flush(&mut s.tls, fd);
    }
}

impl Inner {
    /// The PROXY header's bytes, raw: once all of it is there (peeked), exactly its length,
    /// so the first TLS record stays on the socket. What cannot become a header passes
    /// through as it is, for the connection's parser to refuse.
    fn read_proxy(&mut self, fd: Fd, out: &mut [u8]) -> io::Result<usize> {
        if self.proxy == Proxy::Expected {
            let mut peek = [0u8; 16 + crate::proxy::parse::V2_MAX_PAYLOAD];
            let n = fd.peek(&mut peek)?;
            if n == 0 {
                return Ok(0);
            }
            self.proxy = match crate::proxy::parse::parse(&peek[..n]) {
                Ok(Some((_, len))) => Proxy::Left(len),
                Ok(None) if n < peek.len() => return Err(io::ErrorKind::WouldBlock.into()),
                _ => Proxy::Left(n),
            };
        }
        let Proxy::Left(left) = self.proxy else { return Ok(0) };
        let take = left.min(out.len());
        let got = fd.read(&mut out[..take])?;
        self.proxy = if got >= left { Proxy::Off } else { Proxy::Left(left - got) };
        Ok(got)
    }
}

/// Writes sealed records until the socket is full (that is not an error here: they stay).
fn flush(tls: &mut rustls::ServerConnection, fd: Fd) -> io::Result<()> {
    while tls.wants_write() {
        match tls.write_tls(&mut Sock(fd)) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The answer to plain HTTP on a TLS port.
const PLAIN_HTTP: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Length: 53\r\nConnection: close\r\n\r\nThis port speaks HTTPS: use an https:// URL for it.\r\n";

/// Looks at the connection's first byte, once it is there (`Ok(false)` before): a TLS
/// handshake record starts with 22, a plain HTTP request with a method's capital letter.
/// Plain HTTP is answered (after reading what it sent, so the close does not reset the answer
/// away) and refused with an error.
fn refuse_plain_http(fd: Fd) -> io::Result<bool> {
    let mut first = [0u8; 1];
    match fd.peek(&mut first) {
        Ok(1) if first[0].is_ascii_uppercase() => {}
        Ok(1) => return Ok(true),
        _ => return Ok(false),
    }
    let mut scratch = [0u8; 4096];
    for _ in 0..16 {
        match fd.read(&mut scratch) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
    let _ = fd.write(PLAIN_HTTP);
    fd.shutdown_write();
    Err(io::Error::new(io::ErrorKind::InvalidData, "plain HTTP sent to a TLS port"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_plain_http_answer_has_its_length_right() {
        let text = std::str::from_utf8(super::PLAIN_HTTP).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}", body.len())), "{text}");
    }
}
