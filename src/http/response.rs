//! [`Response`]: what the handler fills in, and its encoding onto the wire.
//!
//! A worker owns one `Response` and reuses it for every request it serves, so its vectors keep
//! their capacity and steady-state requests allocate nothing. Encoded output of all requests of
//! a pipelined batch accumulates in `out` and leaves in one `write`.
//!
//! Framing is the server's job: `Content-Length` is computed (a handler may declare one for a
//! streamed or HEAD response), `Transfer-Encoding` set by a handler is ignored, `Connection`
//! reflects the server's keep-alive decision, `Date` and `Server` are added unless the handler
//! set them.

use super::date;
use super::file_body::{FileBody, INLINE_MAX};
use crate::error::ErrorPage;
use crate::h1::write::{push_value, valid_name};
use crate::h1::{chunked, fmt, status};
use crate::wire::Wire;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

// the compression hooks (features `compress`, `brotli`), or no-ops
#[cfg(any(feature = "compress", feature = "brotli"))]
mod coding;
#[cfg(not(any(feature = "compress", feature = "brotli")))]
#[path = "response/no_coding.rs"]
mod coding;

/// Bytes a `Write`-streamed body may buffer before a chunk goes out.
pub(crate) const STREAM_BUFFER: usize = 32 * 1024;

/// What the encoder needs to know about the request being answered; set by the worker.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub wire: Option<Wire>,
    pub head: bool,
    pub minor: u8,
    pub keep_alive: bool,
    /// Echo `Connection: keep-alive` (HTTP/1.0 client that asked for it).
    pub keep_alive_10: bool,
    pub server: Option<Arc<[u8]>>,
    pub write_timeout: Duration,
    /// Set when a streamed head goes out (shared with the request's body stream, which must
    /// then not send `100 Continue`).
    pub head_sent: Arc<AtomicBool>,
    /// How error bodies look, when the server was given an error page.
    pub error_page: Option<ErrorPage>,
}

impl Default for Ctx {
    fn default() -> Ctx {
        Ctx {
            wire: None,
            head: false,
            minor: 1,
            keep_alive: true,
            keep_alive_10: false,
            server: None,
            write_timeout: Duration::from_secs(30),
            head_sent: Arc::default(),
            error_page: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stream {
    /// Not streaming: the body is sent with the head when the handler returns.
    Off,
    Chunked,
    Length {
        left: u64,
    },
    /// HTTP/1.0 without a declared length: the body ends when the connection closes.
    UntilClose,
    /// Streaming failed (client gone, timeout, too many bytes); the connection must close.
    Failed,
}

const HAS_DATE: u8 = 1;
const HAS_SERVER: u8 = 2;
const CLOSE: u8 = 4;
/// `ctype_line` holds this response's first `Content-Type`.
const HAS_CTYPE: u8 = 8;

const CTYPE_PREFIX: &[u8] = b"Content-Type: ";

/// An invalid header name was given to [`Response::try_set_header`] or
/// [`Response::try_add_header`].
///
/// ```
/// let err = shockwave::Response::default().try_add_header("X Name", "1").unwrap_err();
/// assert_eq!(err.0, "X Name");
/// assert_eq!(err.to_string(), r#"invalid header name "X Name": a header name must be a non-empty RFC 9110 token"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidHeaderName(pub String);

impl std::fmt::Display for InvalidHeaderName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid header name {:?}: a header name must be a non-empty RFC 9110 token", self.0)
    }
}

impl std::error::Error for InvalidHeaderName {}

/// A status code for [`Response::set_status`]: a `u16` (a plain number literal infers as
/// one), or `http::StatusCode` with feature `http`.
///
/// ```
/// use shockwave::IntoStatus;
/// fn answer(resp: &mut shockwave::Response, code: impl IntoStatus, why: &str) {
///     resp.set_status(code);
///     resp.write_body(why);
/// }
/// let mut resp = shockwave::Response::default();
/// answer(&mut resp, 404, "no such page");
/// assert_eq!(resp.status(), 404);
/// ```
pub trait IntoStatus {
    /// The numeric code.
    ///
    /// ```
    /// use shockwave::IntoStatus;
    /// assert_eq!(503u16.into_status(), 503);
    /// ```
    fn into_status(self) -> u16;
}

impl IntoStatus for u16 {
    #[inline]
    fn into_status(self) -> u16 {
        self
    }
}

#[cfg(feature = "http")]
impl IntoStatus for http::StatusCode {
    #[inline]
    fn into_status(self) -> u16 {
        self.as_u16()
    }
}

/// An HTTP response under construction.
///
/// ```
/// fn handler(_req: &shockwave::Request, resp: &mut shockwave::Response) {
///     resp.set_status(201);
///     resp.set_content_type("application/json");
///     resp.set_header("Cache-Control", "no-store");
///     resp.write_body(br#"{"ok":true}"#);
/// }
/// # let _ = handler;
/// ```
///
/// Writing through [`std::io::Write`] streams: once more than 32 KiB are pending, or on
/// `flush`, the head goes out with `Transfer-Encoding: chunked` (or the declared
/// `Content-Length`) and data follows as it is written. A body that stays small is sent with a
/// `Content-Length` when the handler returns, exactly as with [`write_body`](Self::write_body).
///
/// ```
/// use std::io::Write;
/// fn handler(_req: &shockwave::Request, resp: &mut shockwave::Response) {
///     for i in 0..1000 {
///         if writeln!(resp, "line {i}").is_err() {
///             return; // client went away
///         }
///     }
/// }
/// # let _ = handler;
/// ```
pub struct Response {
    status: u16,
    reason: Option<std::borrow::Cow<'static, str>>,
    /// Encoded `Name: value\r\n` lines.
    headers: Vec<u8>,
    /// `(line start, name end)` of each line in `headers`.
    lines: Vec<(u32, u32)>,
    body: Vec<u8>,
    /// A file sent as the body instead of `body` (`fs`).
    file: Option<Box<FileBody>>,
    declared_len: Option<u64>,
    head_bytes: u64,
    /// Body bytes already streamed out.
    streamed: u64,
    flags: u8,
    stream: Stream,
    pub(crate) out: Vec<u8>,
    pub(crate) ctx: Ctx,
    /// `HTTP/1.1 200 OK\r\n` and the `Server` line, for the common case in one copy.
    ok_prefix: Vec<u8>,
    /// The line `Content-Type: <value>\r\n` of the last type set, kept across responses and
    /// sent when `HAS_CTYPE` is set. Content-Type is on nearly every response, so it has its
    /// own slot (as in fasthttp's header): setting it replaces without scanning the other
    /// lines, and a handler that sets the same type every time only compares the bytes.
    ctype_line: Vec<u8>,
    /// Compression of this response, and the encoder state kept for the next.
    coding: coding::Slot,
    /// A `101` answer: the connection is handed to this after the head (`upgrade.rs`).
    pub(crate) upgrade: Option<Box<crate::upgrade::Pending>>,
}

impl Default for Response {
    fn default() -> Response {
        Response::new()
    }
}

impl Response {
    pub(crate) fn new() -> Response {
        Response {
            status: 200,
            reason: None,
            headers: Vec::new(),
            lines: Vec::new(),
            body: Vec::new(),
            file: None,
            declared_len: None,
            head_bytes: 0,
            streamed: 0,
            flags: 0,
            stream: Stream::Off,
            out: Vec::new(),
            ctx: Ctx::default(),
            ok_prefix: Vec::new(),
            ctype_line: Vec::new(),
            coding: coding::Slot::default(),
            upgrade: None,
        }
    }

    /// Sets the per-worker context (server line, timeouts) and precomputes what depends on it.
    pub(crate) fn set_ctx(&mut self, ctx: Ctx) {
        self.ok_prefix.clear();
        self.ok_prefix.extend_from_slice(status::line(200).unwrap_or_default());
        if let Some(s) = &ctx.server {
            self.ok_prefix.extend_from_slice(s);
        }
        self.ctx = ctx;
    }

    /// A response whose buffers start at working size, so a worker's first requests do not
    /// allocate either.
    pub(crate) fn with_capacity() -> Response {
        let mut r = Response::new();
        r.headers.reserve(1024);
        r.ctype_line.reserve(128);
        r.lines.reserve(16);
        r.body.reserve(4096);
        r.out.reserve(32 * 1024);
        r
    }

    /// Gives back memory a large response made these buffers grow to, so a worker that once
    /// built a 100 MB body does not keep 100 MB forever (small responses never trigger this, so
    /// steady-state requests still allocate nothing).
    pub(crate) fn trim_capacity(&mut self) {
        const KEEP: usize = 256 * 1024;
        for v in [&mut self.body, &mut self.out, &mut self.headers] {
            if v.capacity() > KEEP {
                // replace rather than shrink in place: the big block goes back whole, which
                // fragments the allocator's heap less than splitting it
                *v = Vec::with_capacity(KEEP / 8);
            }
        }
    }

    /// Clears everything the handler set, keeping capacity (and `out`, which may hold earlier
    /// responses of the batch).
    pub(crate) fn reset(&mut self) {
        self.status = 200;
        self.reason = None;
        self.headers.clear();
        self.lines.clear();
        self.body.clear();
        self.file = None;
        self.declared_len = None;
        self.head_bytes = 0;
        self.streamed = 0;
        self.flags = 0;
        self.stream = Stream::Off;
        self.coding.reset();
        self.upgrade = None;
    }

    /// Makes this a `101 Switching Protocols` answer that hands the connection to `pending`
    /// (checked by [`Request::upgrade`](crate::Request::upgrade)).
    pub(crate) fn switch_protocols(&mut self, pending: crate::upgrade::Pending) {
        self.status = 101;
        self.reason = None;
        self.body.clear();
        self.upgrade = Some(Box::new(pending));
    }

    /// Makes `file` the body, replacing bytes written so far. The worker sends it after the
    /// head without holding the handler (`file_body.rs`).
    #[cfg_attr(not(feature = "fs"), allow(dead_code))]
    pub(crate) fn set_file(&mut self, file: FileBody) {
        self.body.clear();
        self.head_bytes = 0;
        self.file = Some(Box::new(file));
    }

    /// The file body left to send after the head [`finish`](Self::finish) encoded.
    pub(crate) fn take_file(&mut self) -> Option<Box<FileBody>> {
        self.file.take()
    }

    /// Whether a file body waits to be sent after the encoded head.
    pub(crate) fn has_file(&self) -> bool {
        self.file.is_some()
    }

    /// Body bytes of this response: streamed so far plus pending (0 for a `HEAD` request's
    /// answer, a 204 or a 304), as an access log reports them.
    ///
    /// ```
    /// use shockwave::middleware::{from_fn, wrap};
    /// let app = wrap(
    ///     |_req: &shockwave::Request, resp: &mut shockwave::Response| resp.write_body("hello"),
    ///     from_fn(|req, resp, next| {
    ///         next.run(req, resp);
    ///         assert_eq!(resp.bytes_sent(), if req.is_head() { 0 } else { 5 });
    ///     }),
    /// );
    /// shockwave::test::request("GET", "/").send(&app);
    /// shockwave::test::request("HEAD", "/").send(&app);
    /// ```
    pub fn bytes_sent(&self) -> u64 {
        let file = match &self.file {
            Some(f) if !self.ctx.head && self.body_allowed() => f.len(),
            _ => 0,
        };
        self.streamed + self.body.len() as u64 + file
    }

    /// The status code (200 unless set).
    ///
    /// ```
    /// let mut resp = shockwave::Response::default();
    /// assert_eq!(resp.status(), 200);
    /// resp.set_status(404);
    /// assert_eq!(resp.status(), 404);
    /// ```
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Sets the status code, with its registered reason phrase: a number, or an
    /// `http::StatusCode` with feature `http`.
    ///
    /// # Panics
    /// If `code` is not in `200..=999` (informational 1xx responses are the server's business).
    ///
    /// ```
    /// let mut resp = shockwave::Response::default();
    /// resp.set_status(201);
    /// assert_eq!(resp.status(), 201);
    /// ```
    pub fn set_status(&mut self, code: impl IntoStatus) {
        let code = code.into_status();
        assert!((200..=999).contains(&code), "invalid final status code {code}");
        self.status = code;
        self.reason = None;
    }

    /// Sets the status code with a custom reason phrase (a `&'static str` or a `String`).
    ///
    /// # Panics
    /// If `code` is not in `200..=999`, or `reason` holds a control character.
    ///
    /// ```
    /// let resp = shockwave::test::request("GET", "/").send(&|_req: &shockwave::Request, resp: &mut shockwave::Response| {
    ///     resp.set_status_reason(299, format!("Fine {}", 42));
    /// });
    /// assert_eq!(resp.status(), 299);
    /// ```
    pub fn set_status_reason(&mut self, code: impl IntoStatus, reason: impl Into<std::borrow::Cow<'static, str>>) {
        let reason = reason.into();
        assert!(reason.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f)), "invalid reason phrase {reason:?}");
        self.set_status(code);
        self.reason = Some(reason);
    }

    /// Sets header `name` to `value`, replacing any earlier values of that name.
    ///
    /// Bytes a field value may not carry (CR, LF, NUL and other control characters except
    /// HTAB) are replaced by spaces, so handler data can never split the response (RFC 9112
    /// §9.4 response splitting). `Content-Length` declares the length of a streamed or `HEAD`
    /// body; `Transfer-Encoding` is ignored (the server frames the body); `Connection: close`
    /// closes the connection after this response.
    ///
    /// # Panics
    /// If `name` is not a valid header name (use [`try_set_header`](Self::try_set_header) for
    /// names that come from data).
    ///
    /// ```
    /// let mut resp = shockwave::Response::default();
    /// resp.set_header("Cache-Control", "no-cache");
    /// resp.set_header("cache-control", "max-age=60"); // replaces it: names are case-insensitive
    /// assert_eq!(resp.header("Cache-Control"), Some("max-age=60"));
    /// resp.set_header("X-Note", "one line\r\nInjected: header");
    /// assert_eq!(resp.header("x-note"), Some("one line  Injected: header"));
    /// ```
    pub fn set_header(&mut self, name: impl AsRef<str>, value: impl AsRef<[u8]>) {
        if let Err(e) = self.try_set_header(name.as_ref(), value) {
            panic!("{e}");
        }
    }

    /// Appends a value for header `name`, keeping earlier ones (e.g. several `Set-Cookie`).
    /// Values are sanitised as in [`set_header`](Self::set_header).
    ///
    /// # Panics
    /// If `name` is not a valid header name.
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let handler = |_req: &Request, resp: &mut Response| {
    ///     resp.add_header("Vary", "Accept");
    ///     resp.add_header("Vary", "Accept-Encoding");
    /// };
    /// let resp = shockwave::test::request("GET", "/").send(&handler);
    /// assert_eq!(resp.header_all("vary").collect::<Vec<_>>(), ["Accept", "Accept-Encoding"]);
    /// ```
    pub fn add_header(&mut self, name: impl AsRef<str>, value: impl AsRef<[u8]>) {
        if let Err(e) = self.try_add_header(name.as_ref(), value) {
            panic!("{e}");
        }
    }

    /// [`set_header`](Self::set_header) that reports an invalid name instead of panicking.
    ///
    /// ```
    /// let mut resp = shockwave::Response::default();
    /// for (name, value) in [("X-Region", "eu"), ("bad name", "x")] {
    ///     if let Err(e) = resp.try_set_header(name, value) {
    ///         eprintln!("skipping a configured header: {e}");
    ///     }
    /// }
    /// assert_eq!((resp.header("x-region"), resp.header("bad name")), (Some("eu"), None));
    /// ```
    pub fn try_set_header(&mut self, name: impl AsRef<str>, value: impl AsRef<[u8]>) -> Result<(), InvalidHeaderName> {
        let name = name.as_ref();
        if !valid_name(name) {
            return Err(InvalidHeaderName(name.to_string()));
        }
        self.remove_header(name);
        self.push_header(name, value.as_ref());
        Ok(())
    }

    /// [`add_header`](Self::add_header) that reports an invalid name instead of panicking.
    ///
    /// ```
    /// let mut resp = shockwave::Response::default();
    /// assert!(resp.try_add_header("Link", "</style.css>; rel=preload").is_ok());
    /// assert!(resp.try_add_header("Link:", "</app.js>").is_err()); // ':' is not a token character
    /// assert_eq!(resp.header("link"), Some("</style.css>; rel=preload"));
    /// ```
    pub fn try_add_header(&mut self, name: impl AsRef<str>, value: impl AsRef<[u8]>) -> Result<(), InvalidHeaderName> {
        let name = name.as_ref();
        if !valid_name(name) {
            return Err(InvalidHeaderName(name.to_string()));
        }
        self.push_header(name, value.as_ref());
        Ok(())
    }

    /// Sets `Content-Type`, replacing any earlier value (sanitised as in
    /// [`set_header`](Self::set_header)).
    ///
    /// ```
    /// let mut resp = shockwave::Response::default();
    /// resp.set_content_type("text/html; charset=utf-8");
    /// assert_eq!(resp.header("content-type"), Some("text/html; charset=utf-8"));
    /// ```
    pub fn set_content_type(&mut self, value: &str) {
        if !self.lines.is_empty() {
            self.remove_header("content-type"); // a second Content-Type added as a plain line
        }
        self.set_ctype(value.as_bytes());
    }

    /// Puts `value` in the Content-Type slot.
    fn set_ctype(&mut self, value: &[u8]) {
        let value = value.trim_ascii();
        let line = &self.ctype_line;
        let kept =
            line.len() == CTYPE_PREFIX.len() + value.len() + 2 && line[CTYPE_PREFIX.len()..line.len() - 2] == *value;
        if !kept {
            self.ctype_line.clear();
            self.ctype_line.extend_from_slice(CTYPE_PREFIX);
            push_value(&mut self.ctype_line, value);
        }
        self.flags |= HAS_CTYPE;
    }

    /// The first value of header `name`, as set by the handler, if it is valid UTF-8 (as
    /// [`Request::header`](crate::Request::header)).
    ///
    /// ```
    /// let mut resp = shockwave::Response::default();
    /// resp.set_header("X-Id", "7");
    /// assert_eq!(resp.header("x-id"), Some("7"));
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_bytes(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The first value of header `name` as bytes.
    ///
    /// ```
    /// let mut resp = shockwave::Response::default();
    /// resp.set_header("X-Raw", b"\xff".as_slice());
    /// assert_eq!(resp.header_bytes("x-raw"), Some(&b"\xff"[..]));
    /// ```
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        if self.flags & HAS_CTYPE != 0 && name.eq_ignore_ascii_case("content-type") {
            let l = &self.ctype_line;
            return Some(&l[CTYPE_PREFIX.len()..l.len() - 2]);
        }
        self.lines.iter().enumerate().find_map(|(i, &(s, ne))| {
            let line = &self.headers[s as usize..self.line_end(i)];
            let n = &self.headers[s as usize..ne as usize];
            n.eq_ignore_ascii_case(name.as_bytes()).then(|| &line[n.len() + 2..line.len() - 2])
        })
    }

    fn line_end(&self, i: usize) -> usize {
        self.lines.get(i + 1).map_or(self.headers.len(), |l| l.0 as usize)
    }

    /// Removes every value of header `name`.
    ///
    /// ```
    /// let mut resp = shockwave::Response::default();
    /// resp.add_header("Set-Cookie", "a=1");
    /// resp.add_header("Set-Cookie", "b=2");
    /// resp.remove_header("set-cookie");
    /// assert_eq!(resp.header("set-cookie"), None);
    /// ```
    pub fn remove_header(&mut self, name: &str) {
        if self.lines.is_empty() && self.flags & (HAS_DATE | HAS_SERVER | HAS_CTYPE) == 0 && self.declared_len.is_none()
        {
            return;
        }
        match name.len() {
            4 if name.eq_ignore_ascii_case("date") => self.flags &= !HAS_DATE,
            6 if name.eq_ignore_ascii_case("server") => self.flags &= !HAS_SERVER,
            12 if name.eq_ignore_ascii_case("content-type") => self.flags &= !HAS_CTYPE,
            14 if name.eq_ignore_ascii_case("content-length") => self.declared_len = None,
            _ => {}
        }
        let mut i = 0;
        while i < self.lines.len() {
            let (s, ne) = self.lines[i];
            if self.headers[s as usize..ne as usize].eq_ignore_ascii_case(name.as_bytes()) {
                let e = self.line_end(i);
                let cut = (e - s as usize) as u32;
                self.headers.drain(s as usize..e);
                self.lines.remove(i);
                for l in &mut self.lines[i..] {
                    l.0 -= cut;
                    l.1 -= cut;
                }
            } else {
                i += 1;
            }
        }
    }

    fn push_header(&mut self, name: &str, value: &[u8]) {
        // Framing and connection management belong to the server.
        match name.len() {
            4 if name.eq_ignore_ascii_case("date") => self.flags |= HAS_DATE,
            6 if name.eq_ignore_ascii_case("server") => self.flags |= HAS_SERVER,
            10 if name.eq_ignore_ascii_case("connection") => {
                if value.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close")) {
                    self.flags |= CLOSE;
                }
                return;
            }
            14 if name.eq_ignore_ascii_case("content-length") => {
                match std::str::from_utf8(value).ok().and_then(|v| v.trim().parse::<u64>().ok()) {
                    Some(n) => self.declared_len = Some(n),
                    None => log::warn!(
                        "ignoring invalid Content-Length {:?} set by handler",
                        String::from_utf8_lossy(value)
                    ),
                }
                return;
            }
            17 if name.eq_ignore_ascii_case("transfer-encoding") => return,
            12 if self.flags & HAS_CTYPE == 0 && name.eq_ignore_ascii_case("content-type") => {
                // the first Content-Type goes to its slot (a second one, from add_header,
                // becomes an ordinary line)
                self.set_ctype(value);
                return;
            }
            _ => {}
        }
        let value = value.trim_ascii();
        self.headers.reserve(name.len() + value.len() + 4);
        let s = self.headers.len() as u32;
        self.headers.extend_from_slice(name.as_bytes());
        self.lines.push((s, self.headers.len() as u32));
        self.headers.extend_from_slice(b": ");
        push_value(&mut self.headers, value);
    }

    /// Appends bytes to the body. The body is sent when the handler returns. For a `HEAD`
    /// request only the length is kept (for `Content-Length`), and while the status is 204 or
    /// 304, which have no body, the bytes are dropped: neither grows memory.
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let handler = |_req: &Request, resp: &mut Response| {
    ///     resp.write_body("Hello, ");
    ///     resp.write_body(String::from("World"));
    ///     resp.write_body(b"!");
    /// };
    /// let get = shockwave::test::request("GET", "/").send(&handler);
    /// assert_eq!((get.text(), get.header("content-length")), ("Hello, World!", Some("13")));
    /// let head = shockwave::test::request("HEAD", "/").send(&handler);
    /// assert_eq!((head.text(), head.header("content-length")), ("", Some("13")));
    /// ```
    pub fn write_body(&mut self, data: impl AsRef<[u8]>) {
        let data = data.as_ref();
        if self.ctx.head {
            self.head_bytes += data.len() as u64;
        } else if self.body_allowed() {
            self.body.extend_from_slice(data);
        }
    }

    /// The body buffer, when written bytes are kept (not for a `HEAD` request's answer or
    /// a 204/304), for encoders that write into it directly.
    #[cfg(feature = "json")]
    pub(crate) fn body_buffer(&mut self) -> Option<&mut Vec<u8>> {
        (!self.ctx.head && self.body_allowed()).then_some(&mut self.body)
    }

    /// Replaces the body.
    ///
    /// ```
    /// let mut resp = shockwave::Response::default();
    /// resp.write_body("draft");
    /// resp.set_body("final");
    /// assert_eq!(resp.body(), b"final");
    /// ```
    pub fn set_body(&mut self, data: impl AsRef<[u8]>) {
        self.body.clear();
        self.head_bytes = 0;
        self.write_body(data.as_ref());
    }

    /// The body written so far and not yet sent.
    ///
    /// ```
    /// use shockwave::middleware::{from_fn, wrap};
    /// let app = wrap(
    ///     |_req: &shockwave::Request, resp: &mut shockwave::Response| resp.set_status(404),
    ///     from_fn(|req, resp, next| {
    ///         next.run(req, resp);
    ///         if resp.status() == 404 && resp.body().is_empty() {
    ///             resp.write_body("nothing here"); // a default page for bare 404s
    ///         }
    ///     }),
    /// );
    /// assert_eq!(shockwave::test::request("GET", "/").send(&app).text(), "nothing here");
    /// ```
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Closes the connection after this response (sends `Connection: close`).
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let handler = |_req: &Request, resp: &mut Response| {
    ///     resp.close(); // say, to move a client to another instance
    ///     resp.write_body("bye");
    /// };
    /// let resp = shockwave::test::request("GET", "/").send(&handler);
    /// assert_eq!((resp.text(), resp.header("connection")), ("bye", Some("close")));
    /// ```
    pub fn close(&mut self) {
        self.flags |= CLOSE;
    }

    /// Whether the connection will close after this response, as far as the handler decided.
    pub(crate) fn wants_close(&self) -> bool {
        self.flags & CLOSE != 0 || self.stream == Stream::UntilClose || self.stream == Stream::Failed
    }

    /// Cuts off a streamed body after an error: nothing more is sent and the connection
    /// closes, so the client sees an incomplete message.
    pub(crate) fn abort_stream(&mut self) {
        self.stream = Stream::Failed;
        self.body.clear();
    }

    /// Whether the head has already been sent (a panic can then no longer become a 500).
    pub(crate) fn is_streaming(&self) -> bool {
        self.stream != Stream::Off
    }

    /// Whether streaming left the message unfinished (the connection must close).
    pub(crate) fn stream_failed(&self) -> bool {
        self.stream == Stream::Failed || matches!(self.stream, Stream::Length { left } if left > 0)
    }

    fn body_allowed(&self) -> bool {
        !(self.status == 204 || self.status == 304 || self.status == 101)
    }

    /// Encodes the head into `out`; `length` is `Some` for a length-delimited body.
    fn encode_head(&mut self, length: Option<u64>) {
        let (body_allowed, close) = (self.body_allowed(), !self.ctx.keep_alive || self.wants_close());
        let out = &mut self.out;
        if self.status == 200 && self.reason.is_none() && self.flags & HAS_SERVER == 0 {
            out.extend_from_slice(&self.ok_prefix);
        } else {
            status::write_line(out, self.status, self.reason.as_deref());
            if self.flags & HAS_SERVER == 0 {
                if let Some(s) = &self.ctx.server {
                    out.extend_from_slice(s);
                }
            }
        }
        if self.flags & HAS_DATE == 0 {
            out.extend_from_slice(&date::line());
        }
        if self.flags & HAS_CTYPE != 0 {
            out.extend_from_slice(&self.ctype_line);
        }
        out.extend_from_slice(&self.headers);
        if body_allowed {
            match length {
                Some(n) => {
                    out.extend_from_slice(b"Content-Length: ");
                    fmt::push_u64(out, n);
                    out.extend_from_slice(b"\r\n");
                }
                None if self.ctx.minor >= 1 && !self.ctx.head => {
                    out.extend_from_slice(b"Transfer-Encoding: chunked\r\n")
                }
                None => {}
            }
        }
        if self.upgrade.is_some() {
            out.extend_from_slice(b"Connection: Upgrade\r\n"); // the connection is not ours to close
        } else if close {
            out.extend_from_slice(b"Connection: close\r\n");
        } else if self.ctx.keep_alive_10 {
            out.extend_from_slice(b"Connection: keep-alive\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }

    /// Encodes the complete response into `out` once the handler has returned.
    pub(crate) fn finish(&mut self) {
        if self.stream != Stream::Off {
            self.file = None; // the handler streamed a body after all: that is the body
        }
        match self.stream {
            Stream::Off if self.file.is_some() => self.finish_file(),
            Stream::Off => {
                self.coding_buffered();
                let len = if self.ctx.head {
                    self.declared_len.unwrap_or(self.head_bytes)
                } else {
                    if self.declared_len.is_some_and(|d| d != self.body.len() as u64) {
                        log::warn!(
                            "handler declared Content-Length {:?} but wrote {} bytes; sending the bytes written",
                            self.declared_len,
                            self.body.len()
                        );
                    }
                    self.body.len() as u64
                };
                self.encode_head(Some(len).filter(|_| !self.coding_unframed()));
                if self.body_allowed() && !self.ctx.head {
                    self.out.extend_from_slice(&self.body);
                }
            }
            Stream::Chunked => {
                self.coding_end_stream();
                self.chunk_into_out();
                self.out.extend_from_slice(chunked::LAST_CHUNK);
            }
            Stream::Length { .. } | Stream::UntilClose => {
                self.coding_end_stream();
                let _ = self.push_stream_data();
                let body = std::mem::take(&mut self.body);
                self.out.extend_from_slice(&body);
                self.body = body;
                self.body.clear();
            }
            Stream::Failed => {}
        }
    }

    /// [`finish`](Self::finish) for a file body: a small one is read into `body` and sent as
    /// bytes; a larger one stays in `file` for the worker, after a head with its length. A
    /// file that cannot be read becomes a `500` (nothing has been sent yet).
    fn finish_file(&mut self) {
        let Some(mut f) = self.file.take() else { return };
        let len = f.len();
        if self.ctx.head || !self.body_allowed() {
            self.encode_head(Some(len));
        } else if len <= INLINE_MAX {
            self.body.clear();
            match f.read_all_into(&mut self.body) {
                Ok(()) => {
                    self.encode_head(Some(len));
                    self.out.extend_from_slice(&self.body);
                }
                Err(e) => {
                    log::error!("reading a file body failed: {e}");
                    let head = self.ctx.head;
                    let server = self.ctx.server.clone();
                    encode_error(&mut self.out, 500, "", server.as_deref(), self.ctx.error_page.as_ref(), head);
                    self.flags |= CLOSE;
                }
            }
        } else {
            self.encode_head(Some(len));
            self.file = Some(f);
        }
    }

    /// Moves the pending body into `out` as one chunk.
    fn chunk_into_out(&mut self) {
        chunked::push_chunk(&mut self.out, &self.body);
        self.body.clear();
    }

    /// Checks pending bytes of a length-declared stream against what is left.
    fn push_stream_data(&mut self) -> io::Result<()> {
        if let Stream::Length { left } = &mut self.stream {
            let n = self.body.len() as u64;
            if n > *left {
                self.stream = Stream::Failed;
                self.body.clear();
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "body longer than the declared Content-Length",
                ));
            }
            *left -= n;
        }
        Ok(())
    }

    /// Sends the head (first time) and everything pending (`flush`: all a compressing
    /// encoder holds too); blocks up to the write timeout.
    fn send_pending(&mut self, flush: bool) -> io::Result<()> {
        let Some(wire) = self.ctx.wire.clone() else { return Ok(()) };
        if self.ctx.head || !self.body_allowed() {
            return Ok(());
        }
        if self.stream == Stream::Off {
            self.coding_start_stream();
            self.stream = match (self.declared_len, self.ctx.minor) {
                (Some(n), _) => Stream::Length { left: n },
                (None, 0) => Stream::UntilClose,
                (None, _) => Stream::Chunked,
            };
            let len = self.declared_len;
            self.encode_head(len);
            self.ctx.head_sent.store(true, Relaxed);
        }
        self.coding_stream(flush);
        self.streamed += self.body.len() as u64;
        match self.stream {
            Stream::Chunked => self.chunk_into_out(),
            Stream::Failed => return Err(io::Error::new(io::ErrorKind::BrokenPipe, "response stream failed")),
            _ => {
                self.push_stream_data()?;
                let body = std::mem::take(&mut self.body);
                self.out.extend_from_slice(&body);
                self.body = body;
                self.body.clear();
            }
        }
        let r = wire.write_all_blocking(&self.out, self.ctx.write_timeout);
        self.out.clear();
        if r.is_err() {
            self.stream = Stream::Failed;
        }
        r
    }
}

/// Encodes a response the server sends on its own (an error status, `503`, `408`): a short
/// body and `Connection: close`, since the framing can no longer be trusted. The body is
/// plain text (`Reason: detail`), or what the server's error page makes of it. The answer to a
/// `HEAD` request (`head`) carries the same fields and no body (RFC 9110 §9.3.2).
pub(crate) fn encode_error(
    out: &mut Vec<u8>,
    code: u16,
    detail: &str,
    server: Option<&[u8]>,
    page: Option<&ErrorPage>,
    head: bool,
) {
    status::write_line(out, code, None);
    if let Some(s) = server {
        out.extend_from_slice(s);
    }
    out.extend_from_slice(&date::line());
    let phrase = status::reason(code).unwrap_or("Error");
    if let Some(page) = page {
        let message = if detail.is_empty() { phrase.to_string() } else { format!("{phrase}: {detail}") };
        let mut body = Vec::new();
        let ctype = page.render(code, &message, &mut body);
        out.extend_from_slice(b"Content-Type: ");
        push_value(out, ctype.as_bytes());
        out.extend_from_slice(b"Content-Length: ");
        fmt::push_u64(out, body.len() as u64);
        out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
        if !head {
            out.extend_from_slice(&body);
        }
        return;
    }
    out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: ");
    let body_len = phrase.len() + if detail.is_empty() { 0 } else { 2 + detail.len() } + 1;
    fmt::push_u64(out, body_len as u64);
    out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    if head {
        return;
    }
    out.extend_from_slice(phrase.as_bytes());
    if !detail.is_empty() {
        out.extend_from_slice(b": ");
        out.extend_from_slice(detail.as_bytes());
    }
    out.push(b'\n');
}

/// Writes through [`Response::write_body`] (no streaming), for encoders that take a writer.
#[cfg(feature = "json")]
pub(crate) struct BodyWriter<'a>(pub &'a mut Response);

#[cfg(feature = "json")]
impl io::Write for BodyWriter<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.write_body(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl io::Write for Response {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.stream == Stream::Failed {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "response stream failed"));
        }
        self.write_body(data);
        if self.body.len() >= STREAM_BUFFER {
            self.send_pending(false)?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_pending(true)
    }
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &String::from_utf8_lossy(&self.headers))
            .field("body_len", &self.body.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(f: impl FnOnce(&mut Response), ctx: Ctx) -> String {
        let mut r = Response::new();
        r.set_ctx(ctx);
        f(&mut r);
        r.finish();
        let s = String::from_utf8(r.out).unwrap();
        // blank out the date
        match s.find("Date: ") {
            Some(i) if s.get(i + 35..i + 37) == Some("\r\n") => format!("{}Date: X{}", &s[..i], &s[i + 35..]),
            _ => s,
        }
    }

    #[test]
    fn hello() {
        let s = encoded(
            |r| {
                r.set_content_type("text/plain");
                r.write_body(b"Hello, World!");
            },
            Ctx { server: Some(Arc::from(&b"Server: shockwave\r\n"[..])), ..Ctx::default() },
        );
        assert_eq!(
            s,
            "HTTP/1.1 200 OK\r\nServer: shockwave\r\nDate: X\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!"
        );
    }

    #[test]
    fn head_gets_length_but_no_body() {
        let s = encoded(|r| r.write_body(b"abc"), Ctx { head: true, ..Ctx::default() });
        assert!(s.ends_with("Content-Length: 3\r\n\r\n"), "{s}");
    }

    #[test]
    fn no_length_or_body_on_204_and_304() {
        for code in [204, 304] {
            let s = encoded(
                |r| {
                    r.set_status(code);
                    r.write_body(b"x")
                },
                Ctx::default(),
            );
            assert!(!s.contains("Content-Length") && s.ends_with("\r\n\r\n"), "{s}");
        }
    }

    #[test]
    fn header_values_cannot_split_the_response() {
        let s = encoded(|r| r.set_header("X-A", "a\r\nSet-Cookie: evil\0"), Ctx::default());
        assert!(s.contains("X-A: a  Set-Cookie: evil\r\nContent-Length"), "{s}");
        let mut r = Response::new();
        assert!(r.try_set_header("Bad Name", "x").is_err());
        assert!(r.try_set_header("X:Y", "x").is_err());
    }

    /// The header lines of a response built by `f` (between the Date line and Content-Length).
    fn lines_of(f: impl FnOnce(&mut Response)) -> String {
        let s = encoded(f, Ctx::default());
        let start = s.find("Date: X\r\n").unwrap() + 9;
        let end = s.find("Content-Length: ").unwrap();
        s[start..end].to_string()
    }

    #[test]
    fn content_type_is_set_replaced_read_and_removed_like_any_header() {
        let one = |f: fn(&mut Response)| lines_of(f);
        assert_eq!(one(|r| r.set_content_type("a")), "Content-Type: a\r\n");
        assert_eq!(
            one(|r| {
                r.set_content_type("a");
                r.set_content_type("b/c");
            }),
            "Content-Type: b/c\r\n"
        );
        assert_eq!(
            one(|r| {
                r.add_header("X", "1");
                r.set_header("content-type", "a");
                r.set_content_type("b");
                r.add_header("Y", "2");
            }),
            "Content-Type: b\r\nX: 1\r\nY: 2\r\n"
        );
        // add_header keeps both; the first is read back; remove_header drops both
        let mut r = Response::new();
        r.add_header("Content-Type", "a");
        r.add_header("content-type", "b");
        assert_eq!(r.header("CONTENT-TYPE"), Some("a"));
        assert_eq!(String::from_utf8_lossy(&r.headers), "content-type: b\r\n");
        r.remove_header("Content-Type");
        assert_eq!(r.header("content-type"), None);
        assert_eq!(one(|r| r.set_header("Content-Type", "  x  ")), "Content-Type: x\r\n");
        // control bytes are sanitised, also when the same value is set again
        for _ in 0..2 {
            assert_eq!(one(|r| r.set_content_type("a\r\nX-Evil: 1")), "Content-Type: a  X-Evil: 1\r\n");
        }
        // the slot does not outlive the response it was set on
        let mut r = Response::new();
        r.set_content_type("a");
        r.reset();
        assert_eq!(r.header("content-type"), None);
        r.finish();
        assert!(!String::from_utf8_lossy(&r.out).contains("Content-Type"));
    }

    #[test]
    fn set_header_replaces_and_add_header_appends() {
        let mut r = Response::new();
        r.add_header("Set-Cookie", "a=1");
        r.add_header("X", "1");
        r.add_header("set-cookie", "b=2");
        r.set_header("x", "2");
        assert_eq!(String::from_utf8_lossy(&r.headers), "Set-Cookie: a=1\r\nset-cookie: b=2\r\nx: 2\r\n");
        assert_eq!(r.header("SET-COOKIE"), Some("a=1"));
        r.remove_header("set-cookie");
        assert_eq!(String::from_utf8_lossy(&r.headers), "x: 2\r\n");
    }

    #[test]
    fn connection_and_framing_headers_are_the_servers() {
        let s = encoded(
            |r| {
                r.set_header("Transfer-Encoding", "chunked");
                r.set_header("Connection", "close");
                r.write_body(b"ab");
            },
            Ctx::default(),
        );
        assert!(s.contains("Content-Length: 2\r\nConnection: close\r\n\r\nab") && !s.contains("chunked"), "{s}");
        let s = encoded(|_| {}, Ctx { minor: 0, keep_alive_10: true, ..Ctx::default() });
        assert!(s.contains("Connection: keep-alive\r\n"), "{s}");
        let s = encoded(|_| {}, Ctx { keep_alive: false, ..Ctx::default() });
        assert!(s.contains("Connection: close\r\n"), "{s}");
    }

    #[test]
    fn handler_date_and_server_win() {
        let s = encoded(
            |r| {
                r.set_header("Date", "yesterday");
                r.set_header("Server", "mine");
            },
            Ctx { server: Some(Arc::from(&b"Server: shockwave\r\n"[..])), ..Ctx::default() },
        );
        assert_eq!(s, "HTTP/1.1 200 OK\r\nDate: yesterday\r\nServer: mine\r\nContent-Length: 0\r\n\r\n");
    }

    #[test]
    fn custom_status_codes() {
        let s = encoded(|r| r.set_status(299), Ctx::default());
        assert!(s.starts_with("HTTP/1.1 299 \r\n"));
        let s = encoded(|r| r.set_status_reason(200, "Fine"), Ctx::default());
        assert!(s.starts_with("HTTP/1.1 200 Fine\r\n"));
    }
}
