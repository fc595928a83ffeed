//! A response: status, headers and trailers as positions into its own copy of the head, and
//! a body that is either read already (into a buffer the response keeps and reuses) or still
//! on its connection, read through [`std::io::Read`].
//!
//! The connection goes back to its pool when the body has been read to the end; a response
//! dropped before that gives its connection back only if the rest of the body is already
//! there (no waiting in `drop`), and closes it otherwise.

use super::body::{BodyError, BodyState};
use super::conn::{Conn, Deadline};
use super::decode::Decoding;
use super::error::{Error, Kind};
use crate::h1::field::{section_fields, Field, Span};
use crate::Version;
use std::io::{self, Read};

/// A body still on its connection.
pub(crate) struct Live {
    pub conn: Conn,
    pub body: BodyState,
    pub keep_alive: bool,
    pub dl: Deadline,
    pub max_body: u64,
    pub read: u64,
    /// The content coding being removed, if any (`Builder::decompress`).
    pub decoding: Decoding,
}

/// An HTTP response: status, headers, and a body to read.
///
/// From [`Client::get`](super::Client::get) and the other calls that return one, the body is
/// still on the connection: read it with [`Read`] (streamed, never buffered whole),
/// [`text`](Response::text) or [`bytes`](Response::bytes). Filled by
/// [`Client::send_into`](super::Client::send_into), the body is read already: see
/// [`body`](Response::body). A default `Response` is empty and meant to be filled again and
/// again.
///
/// ```no_run
/// let client = shockwave::Client::new();
/// let mut resp = client.get("http://127.0.0.1:8080/big.iso")?;
/// assert_eq!(resp.status(), 200);
/// println!("{:?}", resp.header("content-type"));
/// let mut file = std::fs::File::create("big.iso")?;
/// std::io::copy(&mut resp, &mut file)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Default)]
pub struct Response {
    pub(crate) status: u16,
    pub(crate) minor: u8,
    /// The head as received (status line and fields).
    pub(crate) head: Vec<u8>,
    pub(crate) reason: Span,
    pub(crate) fields: Vec<Field>,
    /// The trailer section of a chunked body, once read.
    pub(crate) trailer: Vec<u8>,
    pub(crate) trailer_fields: Vec<Field>,
    pub(crate) body: Vec<u8>,
    /// Bytes of `body` already returned by `read`.
    pub(crate) pos: usize,
    pub(crate) url: String,
    pub(crate) live: Option<Live>,
}

fn find<'a>(fields: &'a [Field], buf: &'a [u8], name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
    fields.iter().filter(move |f| f.name.of(buf).eq_ignore_ascii_case(name.as_bytes())).map(move |f| f.value.of(buf))
}

fn first<'a>(fields: &'a [Field], buf: &'a [u8], name: &str) -> Option<&'a [u8]> {
    fields.iter().find(|f| f.name.of(buf).eq_ignore_ascii_case(name.as_bytes())).map(|f| f.value.of(buf))
}

impl Response {
    /// Clears everything from an earlier exchange, keeping the allocations.
    pub(crate) fn reset(&mut self) {
        if let Some(live) = self.live.take() {
            live.finish_or_close();
        }
        self.clear_head();
        self.trailer.clear();
        self.trailer_fields.clear();
        self.body.clear();
        self.pos = 0;
    }

    /// Forgets the head (an exchange that failed leaves no spans into an emptied buffer).
    pub(crate) fn clear_head(&mut self) {
        self.status = 0;
        self.minor = 0;
        self.reason = Span::default();
        self.head.clear();
        self.fields.clear();
    }

    /// The status code.
    ///
    /// ```
    /// assert_eq!(shockwave::client::Response::default().status(), 0); // nothing received yet
    /// ```
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase as sent (may be empty).
    ///
    /// ```
    /// assert_eq!(shockwave::client::Response::default().reason(), "");
    /// ```
    pub fn reason(&self) -> &str {
        std::str::from_utf8(self.reason.of(&self.head)).unwrap_or("")
    }

    /// The HTTP version of the response.
    ///
    /// ```
    /// assert_eq!(shockwave::client::Response::default().version(), shockwave::Version::Http10);
    /// ```
    pub fn version(&self) -> Version {
        if self.minor >= 1 {
            Version::Http11
        } else {
            Version::Http10
        }
    }

    /// The URL this response came from (after redirects, the last one).
    ///
    /// ```
    /// assert_eq!(shockwave::client::Response::default().url(), "");
    /// ```
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The first value of header `name` (case-insensitive), if present and valid UTF-8.
    ///
    /// ```
    /// assert_eq!(shockwave::client::Response::default().header("content-type"), None);
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_bytes(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The first value of header `name` as bytes.
    ///
    /// ```
    /// assert_eq!(shockwave::client::Response::default().header_bytes("server"), None);
    /// ```
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        first(&self.fields, &self.head, name)
    }

    /// Every value of header `name`, in order (e.g. each `Set-Cookie`).
    ///
    /// ```
    /// assert_eq!(shockwave::client::Response::default().header_all("set-cookie").count(), 0);
    /// ```
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        find(&self.fields, &self.head, name)
    }

    /// Every header line as (name, value), in order.
    ///
    /// ```
    /// assert_eq!(shockwave::client::Response::default().headers().count(), 0);
    /// ```
    pub fn headers(&self) -> impl ExactSizeIterator<Item = (&str, &[u8])> + '_ {
        // names are tokens: ASCII
        self.fields.iter().map(|f| (std::str::from_utf8(f.name.of(&self.head)).unwrap_or(""), f.value.of(&self.head)))
    }

    /// `Content-Length`, if the response declared one.
    ///
    /// ```
    /// assert_eq!(shockwave::client::Response::default().content_length(), None);
    /// ```
    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length")?.split(',').next()?.trim().parse().ok()
    }

    /// A trailer field of a chunked body, once the body has been read to the end.
    ///
    /// ```
    /// assert_eq!(shockwave::client::Response::default().trailer("x-checksum"), None);
    /// ```
    pub fn trailer(&self, name: &str) -> Option<&str> {
        first(&self.trailer_fields, &self.trailer, name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The body read so far into the response: all of it after
    /// [`Client::send_into`](super::Client::send_into); for a streamed response, nothing
    /// until [`read_body`](Self::read_body).
    ///
    /// ```
    /// assert!(shockwave::client::Response::default().body().is_empty());
    /// ```
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Reads the rest of the body into the response and returns all of it.
    ///
    /// ```
    /// let mut resp = shockwave::client::Response::default();
    /// assert_eq!(resp.read_body()?, b"");
    /// # Ok::<(), shockwave::client::Error>(())
    /// ```
    pub fn read_body(&mut self) -> Result<&[u8], Error> {
        if let Some(mut live) = self.live.take() {
            let r = live.read_to_end(&mut self.body, &mut self.trailer);
            match r {
                Ok(()) => {
                    self.parse_trailer();
                    live.finish();
                }
                Err(e) => return Err(e.at(&self.url)),
            }
        }
        Ok(&self.body[self.pos..])
    }

    /// The whole body as text (invalid UTF-8 is replaced with U+FFFD, as a browser shows it).
    ///
    /// ```no_run
    /// let text = shockwave::Client::new().get("http://127.0.0.1:8080/")?.text()?;
    /// # Ok::<(), shockwave::client::Error>(())
    /// ```
    pub fn text(mut self) -> Result<String, Error> {
        self.read_body()?;
        let body = std::mem::take(&mut self.body).split_off(self.pos);
        Ok(String::from_utf8(body).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    /// The whole body as bytes.
    ///
    /// ```no_run
    /// let png = shockwave::Client::new().get("http://127.0.0.1:8080/logo.png")?.bytes()?;
    /// # Ok::<(), shockwave::client::Error>(())
    /// ```
    pub fn bytes(mut self) -> Result<Vec<u8>, Error> {
        self.read_body()?;
        let mut body = std::mem::take(&mut self.body);
        Ok(body.split_off(self.pos))
    }

    /// The whole body parsed as JSON (feature `json`).
    ///
    /// ```no_run
    /// #[derive(serde::Deserialize)]
    /// struct User { id: u64 }
    /// let user: User = shockwave::Client::new().get("http://127.0.0.1:8080/users/1")?.json()?;
    /// # Ok::<(), shockwave::client::Error>(())
    /// ```
    #[cfg(feature = "json")]
    pub fn json<T: serde::de::DeserializeOwned>(mut self) -> Result<T, Error> {
        self.read_body()?;
        serde_json::from_slice(&self.body[self.pos..]).map_err(|e| {
            Error::new(Kind::Body, format!("the response body is not the JSON expected: {e}")).at(&self.url)
        })
    }

    /// Splits the kept trailer section into fields.
    pub(crate) fn parse_trailer(&mut self) {
        self.trailer_fields.clear();
        if !self.trailer.is_empty() {
            let _ = section_fields(&self.trailer, &mut self.trailer_fields);
        }
    }
}

impl Read for Response {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0); // not the end of the body
        }
        if self.pos < self.body.len() {
            let n = (self.body.len() - self.pos).min(out.len());
            out[..n].copy_from_slice(&self.body[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        let Some(live) = &mut self.live else { return Ok(0) };
        match live.read(out, &mut self.trailer) {
            Ok(0) => {
                let live = self.live.take().expect("live");
                self.parse_trailer();
                live.finish();
                Ok(0)
            }
            Ok(n) => Ok(n),
            Err(e) => {
                self.live = None; // the connection is closed with it
                Err(e.at(&self.url).into())
            }
        }
    }
}

impl Drop for Response {
    fn drop(&mut self) {
        if let Some(live) = self.live.take() {
            live.finish_or_close();
        }
    }
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("url", &self.url)
            .field("headers", &self.headers().map(|(n, v)| (n, String::from_utf8_lossy(v))).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Turns a failed body read into the client's error.
pub(crate) fn body_error(e: BodyError, read: u64) -> Error {
    match e {
        BodyError::Wait(w) => w.into_error(&format!("reading the body after {read} bytes")),
        BodyError::Truncated => {
            Error::new(Kind::Io, format!("the server closed the connection after {read} bytes, before the body ended"))
        }
        BodyError::Framing(why) => Error::new(Kind::Protocol, format!("bad chunked body: {why}")),
    }
}

impl Live {
    fn count(&mut self, n: usize) -> Result<(), Error> {
        self.read += n as u64;
        if self.read > self.max_body {
            return Err(Error::new(
                Kind::TooLarge,
                format!("the response body is over the limit of {} bytes", self.max_body),
            ));
        }
        Ok(())
    }

    /// One read of body bytes into `out`; 0 at the end (then the trailer is in `trailer`).
    /// `out` is not empty (`Response::read` answers an empty one itself).
    pub(crate) fn read(&mut self, out: &mut [u8], trailer: &mut Vec<u8>) -> Result<usize, Error> {
        if self.decoding.is_on() {
            return self.read_decoded(out, trailer);
        }
        if let Some(want) = self.body.direct(&self.conn, out.len()) {
            if want >= 4096 {
                let n =
                    self.conn.read_direct(&mut out[..want], &self.dl).map_err(|w| body_error(w.into(), self.read))?;
                self.body.advance_direct(n).map_err(|e| body_error(e, self.read))?;
                self.count(n)?;
                return Ok(n);
            }
        }
        let (s, e) = self.body.fill(&mut self.conn, &self.dl, true).map_err(|e| body_error(e, self.read))?;
        let n = (e - s).min(out.len());
        if n == 0 {
            self.take_trailer(trailer);
            return Ok(0);
        }
        out[..n].copy_from_slice(&self.conn.buf_mut()[s..s + n]);
        self.body.consume(&mut self.conn, n);
        self.count(n)?;
        Ok(n)
    }

    /// [`read`](Self::read) through the decoder: compressed bytes are fed to it until it has
    /// decoded some, or the body ends.
    fn read_decoded(&mut self, out: &mut [u8], trailer: &mut Vec<u8>) -> Result<usize, Error> {
        loop {
            let n = self.decoding.copy_to(out);
            if n > 0 || self.decoding.is_done() {
                return Ok(n);
            }
            self.feed_decoder(trailer)?;
        }
    }

    /// Reads the next compressed bytes into the decoder (the end of the body ends it).
    fn feed_decoder(&mut self, trailer: &mut Vec<u8>) -> Result<(), Error> {
        let (s, e) = self.body.fill(&mut self.conn, &self.dl, true).map_err(|e| body_error(e, self.read))?;
        if s == e {
            self.take_trailer(trailer);
            return self.decoding.push(None);
        }
        self.decoding.push(Some(&self.conn.buf_mut()[s..e]))?;
        self.body.consume(&mut self.conn, e - s);
        self.count(e - s)
    }

    fn take_trailer(&mut self, trailer: &mut Vec<u8>) {
        if let Some(mut dec) = self.body.take_decoder() {
            if let Some(t) = dec.trailer() {
                std::mem::swap(trailer, t);
            }
        }
    }

    /// Reads the rest of the body onto the end of `body`.
    pub(crate) fn read_to_end(&mut self, body: &mut Vec<u8>, trailer: &mut Vec<u8>) -> Result<(), Error> {
        if self.decoding.is_on() {
            loop {
                self.decoding.drain_into(body);
                if self.decoding.is_done() {
                    return Ok(());
                }
                self.feed_decoder(trailer)?;
            }
        }
        if let BodyState::Length(left) = self.body {
            // (a length over max_body was refused with the head, in `exchange`)
            // what the server claims, up to 1 MiB: a lying Content-Length costs no more
            body.reserve(left.min(1 << 20) as usize);
        }
        loop {
            let (s, e) = self.body.fill(&mut self.conn, &self.dl, true).map_err(|e| body_error(e, self.read))?;
            if s == e {
                self.take_trailer(trailer);
                return Ok(());
            }
            body.extend_from_slice(&self.conn.buf_mut()[s..e]);
            self.body.consume(&mut self.conn, e - s);
            self.count(e - s)?;
        }
    }

    /// The body has been read to the end: the connection goes back to the pool if it can
    /// carry another request.
    pub(crate) fn finish(self) {
        if self.keep_alive && self.body.is_done() {
            let host = self.conn.host.clone();
            host.checkin(self.conn);
        } // else the connection is dropped: closed
    }

    /// Dropped early: keep the connection only if the rest of the body is already here.
    pub(crate) fn finish_or_close(mut self) {
        if self.keep_alive {
            let mut budget = 64 * 1024;
            while budget > 0 {
                match self.body.fill(&mut self.conn, &self.dl, false) {
                    Ok((s, e)) if s == e => break,
                    Ok((s, e)) => {
                        let n = (e - s).min(budget);
                        self.body.consume(&mut self.conn, n);
                        budget -= n;
                    }
                    Err(_) => {
                        self.keep_alive = false;
                        break;
                    }
                }
            }
        }
        self.finish();
    }
}
