//! Request bodies that continue on the socket after the buffered part: the streaming reader.
//!
//! Bodies that fit in the largest pooled buffer (64 KiB with the head) are read completely by
//! the poller before the handler runs, so a slow upload never holds a worker. Larger bodies are
//! handed to the handler after the head; [`BodyReader`] then reads the rest from the socket on
//! the worker, blocking with the configured body timeout, decoding chunked framing, enforcing
//! the body limit, and sending `100 Continue` first when the client asked for it.

use super::head::HeadError;
use crate::buf::Buf;
use crate::h1::chunked::Chunked;
use crate::wire::Wire;
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

/// How the rest of a streamed body is framed.
pub(crate) enum Rest {
    /// `left` bytes still to come.
    Length { left: u64 },
    /// Chunked: undecoded bytes are `raw[r..end]`, decoded bytes ready to hand out `raw[o..w]`.
    Chunked { dec: Chunked, raw: Buf, r: usize, w: usize, o: usize, end: usize },
}

/// The part of a request body still on the socket.
pub(crate) struct BodyStream {
    pub(crate) wire: Wire,
    pub(crate) timeout: Duration,
    pub(crate) rest: Rest,
    /// `100 Continue` is owed before the first read (the client asked and has sent nothing).
    pub(crate) send_continue: bool,
    /// Set once the response's head is on the wire: after a final answer no 100 may follow
    /// (RFC 9110 §15.2), so the one owed is never sent.
    pub(crate) head_sent: Arc<AtomicBool>,
    /// A read failed; the connection cannot be reused.
    pub(crate) failed: bool,
    /// A reader (or `Request::body`) has taken the body: it can be read from the socket once.
    pub(crate) taken: bool,
}

/// A chunked body's framing error as a read error: `FileTooLarge` past the body limit (so a
/// handler can answer 413), `InvalidData` for malformed framing.
fn framing_error(e: HeadError) -> io::Error {
    let kind = if e.status == 413 { io::ErrorKind::FileTooLarge } else { io::ErrorKind::InvalidData };
    io::Error::new(kind, e.reason)
}

impl BodyStream {
    /// Whether the whole body has been read.
    pub(crate) fn is_done(&self) -> bool {
        match &self.rest {
            Rest::Length { left } => *left == 0,
            Rest::Chunked { dec, o, w, .. } => dec.is_done() && o == w,
        }
    }

    /// How many more bytes to make room for at once when reading the rest into memory: what
    /// the `Content-Length` says is left, up to 1 MiB (a client may declare more than it sends).
    pub(crate) fn rest_hint(&self) -> usize {
        match &self.rest {
            Rest::Length { left } => (*left).min(1 << 20) as usize,
            Rest::Chunked { .. } => 0,
        }
    }

    fn continue_once(&mut self) -> io::Result<()> {
        if self.send_continue {
            self.send_continue = false;
            if !self.head_sent.load(Relaxed) {
                self.wire.write_all_blocking(b"HTTP/1.1 100 Continue\r\n\r\n", self.timeout)?;
            }
        }
        Ok(())
    }

    pub(crate) fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::Error::other("request body already failed"));
        }
        let r = self.read_inner(out);
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    fn read_inner(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.is_done() {
            return Ok(0);
        }
        self.continue_once()?;
        let (wire, timeout) = (&self.wire, self.timeout);
        match &mut self.rest {
            Rest::Length { left } => {
                let n = (*left).min(out.len() as u64) as usize;
                let got = wire.read_blocking(&mut out[..n], timeout)?;
                if got == 0 {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "client closed mid-body"));
                }
                *left -= got as u64;
                Ok(got)
            }
            Rest::Chunked { dec, raw, r, w, o, end } => loop {
                if o < w {
                    let n = (*w - *o).min(out.len());
                    out[..n].copy_from_slice(&raw[*o..*o + n]);
                    *o += n;
                    return Ok(n);
                }
                if dec.is_done() {
                    return Ok(0);
                }
                // Everything decoded has been handed out: slide the undecoded bytes to the front.
                raw.copy_within(*r..*end, 0);
                *end -= *r;
                (*r, *w, *o) = (0, 0, 0);
                dec.decode(raw, r, w, *end).map_err(framing_error)?;
                if *w > 0 || *r > 0 || dec.is_done() {
                    continue; // data to hand out, or framing consumed: go round again
                }
                if *end == raw.capacity() {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "chunk line too long"));
                }
                let got = wire.read_blocking(&mut raw[*end..], timeout)?;
                if got == 0 {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "client closed mid-body"));
                }
                *end += got;
            },
        }
    }
}

/// Reads a request body: the buffered part first, then (for large bodies) the socket.
///
/// Made by [`Request::body_reader`](crate::Request::body_reader). Reading fails with
/// `InvalidData` on malformed chunked framing, `FileTooLarge` when a chunked body grows past
/// the server's `max_request_body` (answer 413), `TimedOut` when the client stalls longer than
/// the body timeout, and `UnexpectedEof` when it disconnects mid-body; the server then closes
/// the connection after the response. A reader made after the body was taken by an earlier
/// one fails at once (see [`Request::body_reader`](crate::Request::body_reader)).
///
/// ```
/// use shockwave::{Request, Response};
/// use std::io::Read;
/// let shout = |req: &Request, resp: &mut Response| -> std::io::Result<()> {
///     let mut text = String::new();
///     req.body_reader().read_to_string(&mut text)?;
///     resp.write_body(text.to_uppercase());
///     Ok(())
/// };
/// assert_eq!(shockwave::test::request("POST", "/").body("hey").send(&shout).text(), "HEY");
/// ```
pub struct BodyReader<'a> {
    pub(crate) buffered: &'a [u8],
    /// The rest on the socket; `None` when `buffered` is the whole body.
    pub(crate) stream: Option<&'a parking_lot::Mutex<Option<BodyStream>>>,
    /// An earlier reader took the body.
    pub(crate) spent: bool,
}

/// The error of a second reader of a body that is read from the socket once.
pub(crate) fn already_taken() -> io::Error {
    io::Error::other(
        "the request body was already taken by an earlier body_reader(): read it once, \
         or call Request::body() first, which keeps it",
    )
}

impl Read for BodyReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.spent {
            return Err(already_taken());
        }
        if !self.buffered.is_empty() {
            let n = self.buffered.len().min(out.len());
            out[..n].copy_from_slice(&self.buffered[..n]);
            self.buffered = &self.buffered[n..];
            return Ok(n);
        }
        match self.stream.map(|m| m.lock()) {
            Some(mut g) => match g.as_mut() {
                Some(s) => s.read(out),
                None => Ok(0),
            },
            None => Ok(0),
        }
    }
}
