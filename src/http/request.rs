//! [`Request`]: a read-only view of one parsed request, backed by the connection's buffer.

use super::body::{BodyReader, BodyStream};
use super::head::{Field, Framing, Head, Span};
use super::uri::TargetForm;
use crate::buf::Buf;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};

/// The HTTP version of a request.
///
/// ```
/// use shockwave::{Request, Response, Version};
/// let handler = |req: &Request, resp: &mut Response| match req.version() {
///     Version::Http10 => resp.write_body("1.0: the connection closes unless kept alive"),
///     _ => resp.write_body("1.1 or later"),
/// };
/// assert_eq!(shockwave::test::request("GET", "/").send(&handler).text(), "1.1 or later");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Version {
    /// `HTTP/1.0`
    Http10,
    /// `HTTP/1.1` (and `HTTP/1.x` for x > 1, which RFC 9110 §2.5 says to treat as 1.1)
    Http11,
}

impl Version {
    /// `"HTTP/1.0"` or `"HTTP/1.1"`.
    ///
    /// ```
    /// assert_eq!(shockwave::Version::Http10.as_str(), "HTTP/1.0");
    /// assert_eq!(shockwave::Version::Http11.to_string(), "HTTP/1.1"); // Display writes the same
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An HTTP request, as the handler sees it.
///
/// Everything borrows from the connection's read buffer: no field is copied or allocated.
/// Header names compare case-insensitively; values are returned exactly as received, with
/// surrounding whitespace removed.
///
/// ```
/// fn handler(req: &shockwave::Request, resp: &mut shockwave::Response) {
///     let who = req.query("name").unwrap_or("world".into());
///     let agent = req.header("user-agent").unwrap_or("?");
///     resp.write_body(format!("hello {who} from {agent} at {}", req.path()).as_bytes());
/// }
/// # let _ = handler;
/// ```
pub struct Request {
    pub(crate) buf: Buf,
    pub(crate) fields: Vec<Field>,
    pub(crate) head: Head,
    pub(crate) body: Span,
    /// The client: the socket's peer, or the source a PROXY protocol header gave.
    pub(crate) remote: SocketAddr,
    /// The socket's peer.
    pub(crate) peer: SocketAddr,
    /// The connection's PROXY protocol header, if the server requires one.
    pub(crate) proxy: Option<std::sync::Arc<crate::ProxyHeader>>,
    /// Peers whose forwarding headers are believed (`Builder::trust_forwarded_from`).
    pub(crate) trust: Option<std::sync::Arc<[crate::Network]>>,
    /// The connection's socket while a handler runs (none in `shockwave::test`).
    pub(crate) wire: Option<crate::wire::Wire>,
    pub(crate) stream: parking_lot::Mutex<Option<BodyStream>>,
    /// A streamed body read whole by [`Request::body`].
    pub(crate) full: std::sync::OnceLock<Vec<u8>>,
    /// Path parameters of the matched route, set by the router.
    #[cfg(feature = "router")]
    pub(crate) params: std::sync::OnceLock<crate::router::Params>,
}

#[inline]
pub(crate) fn ascii(b: &[u8]) -> &str {
    // Method, target and field names were validated as ASCII by the parser, so this is never
    // "" in practice. `is_ascii` is a word-at-a-time scan: for the short strings here it costs
    // a third of `from_utf8`'s general check (the router calls this on every request).
    if b.is_ascii() {
        // SAFETY: every byte is ASCII (just checked), and ASCII is valid UTF-8.
        unsafe { std::str::from_utf8_unchecked(b) }
    } else {
        ""
    }
}

impl Request {
    pub(crate) fn empty() -> Request {
        Request {
            buf: Buf::default(),
            fields: Vec::new(),
            head: Head::default(),
            body: Span::default(),
            remote: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            peer: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            proxy: None,
            trust: None,
            wire: None,
            stream: parking_lot::Mutex::new(None),
            full: std::sync::OnceLock::new(),
            #[cfg(feature = "router")]
            params: std::sync::OnceLock::new(),
        }
    }

    #[inline]
    fn span(&self, s: Span) -> &[u8] {
        s.of(&self.buf)
    }

    /// The method token, e.g. `"GET"` (case-sensitive, RFC 9110 §9.1).
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let echo = |req: &Request, resp: &mut Response| resp.write_body(req.method());
    /// assert_eq!(shockwave::test::request("DELETE", "/items/3").send(&echo).text(), "DELETE");
    /// ```
    pub fn method(&self) -> &str {
        ascii(self.span(self.head.method))
    }

    /// Whether this is a `HEAD` request (its response is sent without a body).
    ///
    /// A handler may skip building a body nobody receives, declaring its length instead:
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let report = |req: &Request, resp: &mut Response| {
    ///     if req.is_head() {
    ///         resp.set_header("Content-Length", "100000");
    ///     } else {
    ///         resp.write_body(vec![b'x'; 100_000]); // (expensive, say)
    ///     }
    /// };
    /// let head = shockwave::test::request("HEAD", "/report").send(&report);
    /// assert_eq!((head.header("content-length"), head.body().len()), (Some("100000"), 0));
    /// ```
    pub fn is_head(&self) -> bool {
        self.head.kind == super::method::MethodKind::Head
    }

    /// The request-target exactly as sent: `/path?query`, `http://host/path`, or `*`.
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let echo = |req: &Request, resp: &mut Response| resp.write_body(req.target());
    /// assert_eq!(shockwave::test::request("GET", "/a%20b?c=1").send(&echo).text(), "/a%20b?c=1");
    /// assert_eq!(shockwave::test::request("OPTIONS", "*").send(&echo).text(), "*");
    /// ```
    pub fn target(&self) -> &str {
        ascii(self.span(self.head.target))
    }

    /// The path of the target, without the query (`/` when an absolute-form target has an
    /// empty path, `*` for the asterisk-form). Not percent-decoded. (A target with a fragment
    /// is refused with 400 before any handler runs.)
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let echo = |req: &Request, resp: &mut Response| resp.write_body(req.path());
    /// let path = |target| shockwave::test::request("GET", target).send(&echo).text().to_string();
    /// assert_eq!(path("/a%20b?c=1"), "/a%20b");
    /// assert_eq!(path("http://example.com?q"), "/");
    /// ```
    pub fn path(&self) -> &str {
        let t = self.target();
        let p = match self.head.form {
            TargetForm::Absolute { authority_end, .. } => &t[authority_end as usize..],
            _ => t,
        };
        let p = &p[..memchr::memchr(b'?', p.as_bytes()).unwrap_or(p.len())];
        if p.is_empty() {
            "/"
        } else {
            p
        }
    }

    /// The query string after `?`, if there is one, as sent (not percent-decoded; see
    /// [`query`](Self::query) for decoded arguments).
    ///
    /// ```
    /// let resp = shockwave::test::request("GET", "/find?q=a%20b&n=2").send(&|req: &shockwave::Request, resp: &mut shockwave::Response| {
    ///     resp.write_body(req.query_string().unwrap_or(""));
    /// });
    /// assert_eq!(resp.text(), "q=a%20b&n=2");
    /// ```
    pub fn query_string(&self) -> Option<&str> {
        let t = self.target();
        Some(&t[memchr::memchr(b'?', t.as_bytes())? + 1..])
    }

    /// The HTTP version.
    ///
    /// ```
    /// use shockwave::{Request, Response, Version};
    /// let handler = |req: &Request, resp: &mut Response| {
    ///     resp.write_body(if req.version() == Version::Http10 { "an old client" } else { "HTTP/1.1" });
    /// };
    /// assert_eq!(shockwave::test::request("GET", "/").send(&handler).text(), "HTTP/1.1");
    /// ```
    pub fn version(&self) -> Version {
        if self.head.minor == 0 {
            Version::Http10
        } else {
            Version::Http11
        }
    }

    /// The host the request is for: the authority of an absolute-form target (RFC 9112 §3.2.2
    /// says it wins over `Host`), else the `Host` field. `None` only for HTTP/1.0 without `Host`.
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let echo = |req: &Request, resp: &mut Response| resp.write_body(req.host().unwrap_or("-"));
    /// let plain = shockwave::test::request("GET", "/").header("Host", "example.com:8080").send(&echo);
    /// assert_eq!(plain.text(), "example.com:8080");
    /// let proxied = shockwave::test::request("GET", "http://other.org/x").header("Host", "example.com").send(&echo);
    /// assert_eq!(proxied.text(), "other.org");
    /// ```
    pub fn host(&self) -> Option<&str> {
        if let TargetForm::Absolute { authority_start, authority_end } = self.head.form {
            return Some(&self.target()[authority_start as usize..authority_end as usize]);
        }
        self.head.host.map(|h| ascii(self.span(h)))
    }

    fn fields(&self) -> &[Field] {
        &self.fields[self.head.fields.0 as usize..self.head.fields.1 as usize]
    }

    /// The first value of header `name` as bytes (values may hold non-UTF-8 `obs-text`).
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let handler = |req: &Request, resp: &mut Response| {
    ///     assert_eq!(req.header("x-name"), None); // not UTF-8
    ///     resp.write_body(req.header_bytes("x-name").unwrap_or_default());
    /// };
    /// let resp = shockwave::test::request("GET", "/").header("X-Name", b"caf\xe9").send(&handler);
    /// assert_eq!(resp.body(), b"caf\xe9");
    /// ```
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        let f = self.fields().iter().find(|f| f.name.of(&self.buf).eq_ignore_ascii_case(name.as_bytes()))?;
        Some(f.value.of(&self.buf))
    }

    /// The first value of header `name`, if it is present and valid UTF-8 (use
    /// [`header_bytes`](Self::header_bytes) for values that may carry other bytes).
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let handler = |req: &Request, resp: &mut Response| {
    ///     resp.write_body(req.header("accept-language").unwrap_or("en"));
    /// };
    /// let resp = shockwave::test::request("GET", "/").header("Accept-Language", "fr-CH").send(&handler);
    /// assert_eq!(resp.text(), "fr-CH");
    /// assert_eq!(shockwave::test::request("GET", "/").send(&handler).text(), "en");
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_bytes(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every value of header `name`, in the order received (repeated fields stay separate).
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let handler = |req: &Request, resp: &mut Response| {
    ///     let hops: Vec<_> = req.header_all("x-forwarded-for").map(String::from_utf8_lossy).collect();
    ///     resp.write_body(hops.join(" | "));
    /// };
    /// let resp = shockwave::test::request("GET", "/")
    ///     .header("X-Forwarded-For", "10.0.0.1, 10.0.0.2")
    ///     .header("X-Forwarded-For", "10.0.0.3")
    ///     .send(&handler);
    /// assert_eq!(resp.text(), "10.0.0.1, 10.0.0.2 | 10.0.0.3");
    /// ```
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields()
            .iter()
            .filter(move |f| f.name.of(&self.buf).eq_ignore_ascii_case(name.as_bytes()))
            .map(move |f| f.value.of(&self.buf))
    }

    /// All header fields in the order received, as `(name, value)`.
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let handler = |req: &Request, resp: &mut Response| {
    ///     for (name, value) in req.headers() {
    ///         resp.write_body(format!("{name}={};", String::from_utf8_lossy(value)));
    ///     }
    /// };
    /// let resp = shockwave::test::request("GET", "/").header("Accept", "*/*").send(&handler);
    /// assert_eq!(resp.text(), "Host=localhost;Accept=*/*;"); // (the test client adds the Host)
    /// ```
    pub fn headers(&self) -> impl ExactSizeIterator<Item = (&str, &[u8])> + '_ {
        self.fields().iter().map(move |f| (ascii(f.name.of(&self.buf)), f.value.of(&self.buf)))
    }

    /// The `Content-Type` header, if present.
    ///
    /// ```
    /// let resp = shockwave::test::request("POST", "/").header("Content-Type", "text/csv").body("a,b").send(
    ///     &|req: &shockwave::Request, resp: &mut shockwave::Response| resp.write_body(req.content_type().unwrap_or("none")),
    /// );
    /// assert_eq!(resp.text(), "text/csv");
    /// ```
    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    /// Whether the `Content-Type`'s media type (before any `;` parameters) is `mime`,
    /// compared case-insensitively (RFC 9110 §8.3.1).
    pub(crate) fn has_media_type(&self, mime: &str) -> bool {
        self.media_type().is_some_and(|t| t.eq_ignore_ascii_case(mime))
    }

    /// The `Content-Type`'s media type without parameters, trimmed.
    pub(crate) fn media_type(&self) -> Option<&str> {
        let ct = self.content_type()?;
        Some(ct.split(';').next().unwrap_or("").trim())
    }

    /// The declared `Content-Length`, if the body is length-delimited.
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let handler = |req: &Request, resp: &mut Response| resp.write_body(format!("{:?}", req.content_length()));
    /// assert_eq!(shockwave::test::request("PUT", "/").body("abc").send(&handler).text(), "Some(3)");
    /// assert_eq!(shockwave::test::request("GET", "/").send(&handler).text(), "None");
    /// ```
    pub fn content_length(&self) -> Option<u64> {
        match self.head.framing {
            Framing::Length(n) => Some(n),
            _ => None,
        }
    }

    /// Whether the body uses the chunked transfer coding.
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let handler = |req: &Request, resp: &mut Response| resp.write_body(req.is_chunked().to_string());
    /// assert_eq!(shockwave::test::request("POST", "/").body("abc").send(&handler).text(), "false");
    /// let chunked = shockwave::test::request("POST", "/").header("Transfer-Encoding", "chunked");
    /// assert_eq!(chunked.send(&handler).text(), "true");
    /// ```
    pub fn is_chunked(&self) -> bool {
        self.head.framing == Framing::Chunked
    }

    /// Whether the client allows the connection to be reused after this request.
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let handler = |req: &Request, resp: &mut Response| resp.write_body(req.keep_alive().to_string());
    /// assert_eq!(shockwave::test::request("GET", "/").send(&handler).text(), "true");
    /// let last = shockwave::test::request("GET", "/").header("Connection", "close").send(&handler);
    /// assert_eq!((last.text(), last.header("connection")), ("false", Some("close")));
    /// ```
    pub fn keep_alive(&self) -> bool {
        self.head.keep_alive()
    }

    /// The whole body, de-chunked, up to the server's `max_request_body`.
    ///
    /// A body that fits in the server's largest buffer (64 KiB with the head) was read before
    /// the handler ran and is returned as it lies in that buffer, with no copy. A larger one
    /// is read from the socket now, into memory kept with the request; use
    /// [`body_reader`](Self::body_reader) to stream it instead. Errors are those of
    /// [`BodyReader`] (`FileTooLarge` for a chunked body past the limit: answer 413), or that
    /// the body was already taken by `body_reader`. Calling it again returns the same bytes.
    ///
    /// ```
    /// fn handler(req: &shockwave::Request, resp: &mut shockwave::Response) {
    ///     match req.body() {
    ///         Ok(body) => resp.write_body(format!("{} bytes", body.len()).as_bytes()),
    ///         Err(e) => {
    ///             resp.set_status(400);
    ///             resp.write_body(e.to_string().as_bytes());
    ///         }
    ///     }
    /// }
    /// # let _ = handler;
    /// ```
    pub fn body(&self) -> io::Result<&[u8]> {
        if let Some(full) = self.full.get() {
            return Ok(full);
        }
        let mut g = self.stream.lock();
        let Some(s) = g.as_mut() else { return Ok(self.buffered()) };
        if s.taken {
            return Err(super::body::already_taken());
        }
        s.taken = true;
        let mut all = Vec::with_capacity(self.buffered().len() + s.rest_hint());
        all.extend_from_slice(self.buffered());
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match s.read(&mut chunk)? {
                0 => break,
                n => all.extend_from_slice(&chunk[..n]),
            }
        }
        drop(g);
        Ok(self.full.get_or_init(|| all))
    }

    /// The body bytes read before the handler ran: the whole body when it fit in the
    /// server's buffer, else its beginning.
    fn buffered(&self) -> &[u8] {
        self.span(self.body)
    }

    /// A reader over the whole body: the buffered part, then (for large bodies) the rest from
    /// the socket, which can be read once. So for a body larger than the buffered part only
    /// the first reader gets it; a later one fails with an error (never a silent part of the
    /// body). A body that is all in memory (small, or kept by [`body`](Self::body)) can be
    /// read by any number of readers, each from the start.
    ///
    /// ```
    /// use std::io::Read;
    /// fn upload(req: &shockwave::Request, resp: &mut shockwave::Response) {
    ///     let mut n = 0u64;
    ///     let mut chunk = [0u8; 8192];
    ///     let mut body = req.body_reader();
    ///     loop {
    ///         match body.read(&mut chunk) {
    ///             Ok(0) => break,
    ///             Ok(k) => n += k as u64,
    ///             Err(e) => {
    ///                 resp.set_status(400);
    ///                 resp.write_body(e.to_string().as_bytes());
    ///                 return;
    ///             }
    ///         }
    ///     }
    ///     resp.write_body(format!("{n} bytes").as_bytes());
    /// }
    /// # let _ = upload;
    /// ```
    pub fn body_reader(&self) -> BodyReader<'_> {
        if let Some(full) = self.full.get() {
            return BodyReader { buffered: full, stream: None, spent: false };
        }
        let mut g = self.stream.lock();
        match g.as_mut() {
            None => BodyReader { buffered: self.buffered(), stream: None, spent: false },
            Some(s) if s.taken => BodyReader { buffered: &[], stream: None, spent: true },
            Some(s) => {
                s.taken = true;
                BodyReader { buffered: self.buffered(), stream: Some(&self.stream), spent: false }
            }
        }
    }

    /// The client's address: the socket's peer, or with
    /// [`Builder::proxy_protocol`](crate::Builder::proxy_protocol) the client's address from
    /// the connection's PROXY header (when it names one). The unspecified address `0.0.0.0:0`
    /// for a client connected over a Unix domain socket
    /// ([`Builder::bind_unix`](crate::Builder::bind_unix)), which has none. Behind an HTTP
    /// reverse proxy, [`client_ip`](Self::client_ip) reads its forwarding headers.
    ///
    /// ```
    /// let resp = shockwave::test::request("GET", "/").send(&|req: &shockwave::Request, resp: &mut shockwave::Response| {
    ///     resp.write_body(req.remote_addr().ip().to_string());
    /// });
    /// assert_eq!(resp.text(), "127.0.0.1");
    /// ```
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote
    }

    /// The socket's peer, always: with the PROXY protocol, the load balancer's address where
    /// [`remote_addr`](Self::remote_addr) is the client's. Otherwise the same as
    /// `remote_addr`.
    ///
    /// ```
    /// let resp = shockwave::test::request("GET", "/").send(&|req: &shockwave::Request, resp: &mut shockwave::Response| {
    ///     resp.write_body(req.peer_addr().to_string());
    /// });
    /// assert_eq!(resp.text(), "127.0.0.1:40000");
    /// ```
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The PROXY protocol header the connection began with, when the server requires one
    /// ([`Builder::proxy_protocol`](crate::Builder::proxy_protocol)); the same for every
    /// request of the connection.
    ///
    /// ```
    /// fn handler(req: &shockwave::Request, resp: &mut shockwave::Response) {
    ///     match req.proxy().and_then(|p| p.authority()) {
    ///         Some(sni) => resp.write_body(format!("TLS for {sni}, ended by the load balancer")),
    ///         None => resp.write_body("no SNI"),
    ///     }
    /// }
    /// assert_eq!(shockwave::test::request("GET", "/").send(&handler).text(), "no SNI");
    /// ```
    pub fn proxy(&self) -> Option<&crate::ProxyHeader> {
        self.proxy.as_deref()
    }

    /// Whether the client has gone: it closed the connection or reset it while the handler
    /// runs, so nobody will read the answer. A long handler (a report, a slow query, a long
    /// poll) can check it between steps and stop early. One `poll(2)` per call, no waiting.
    ///
    /// A client that half-closes after sending its request (`shutdown(SHUT_WR)`, as
    /// `nc -N` does) looks gone too, as it does to Go's `Request.Context()`. Always `false`
    /// in [`shockwave::test`](crate::test).
    ///
    /// ```
    /// fn report(req: &shockwave::Request, resp: &mut shockwave::Response) {
    ///     for step in 0..100 {
    ///         if req.is_cancelled() {
    ///             return; // the client left: stop working for nobody
    ///         }
    ///         resp.write_body(format!("step {step}\n"));
    ///     }
    /// }
    /// assert!(shockwave::test::request("GET", "/").send(&report).text().ends_with("step 99\n"));
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.wire.as_ref().is_some_and(|w| w.peer_gone(std::time::Duration::ZERO))
    }

    /// Waits up to `timeout` for the client to go (see [`is_cancelled`](Self::is_cancelled));
    /// `true` if it went. A handler that waits for something else in steps (a long poll, a
    /// queue) can use it as its sleep; one that only waits returns as soon as the client leaves.
    /// Without a connection ([`shockwave::test`](crate::test)) it returns `false` at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// fn long_poll(req: &shockwave::Request, resp: &mut shockwave::Response) {
    ///     for _ in 0..30 {
    ///         if req.wait_cancelled(Duration::from_secs(1)) {
    ///             return;
    ///         }
    ///         // ... check for news, answer when there is some
    ///     }
    ///     resp.set_status(204);
    /// }
    /// assert_eq!(shockwave::test::request("GET", "/").send(&long_poll).status(), 204);
    /// ```
    pub fn wait_cancelled(&self, timeout: std::time::Duration) -> bool {
        self.wire.as_ref().is_some_and(|w| w.peer_gone(timeout))
    }

    /// Whether the request came over TLS (a listener bound with
    /// `Builder::bind_tls`, feature `tls`). Behind a proxy that ends TLS itself, see
    /// [`forwarded_proto`](Self::forwarded_proto).
    ///
    /// ```
    /// assert!(!shockwave::test::request("GET", "/").send(&|req: &shockwave::Request, _: &mut shockwave::Response| {
    ///     assert!(!req.is_tls());
    /// }).text().contains("error"));
    /// ```
    pub fn is_tls(&self) -> bool {
        self.wire.as_ref().is_some_and(crate::wire::Wire::is_tls)
    }

    /// The server name the client asked for in its TLS handshake (SNI), lower-cased; `None`
    /// over plain HTTP or when the client sent none (as for an IP address).
    ///
    /// ```no_run
    /// fn handler(req: &shockwave::Request, resp: &mut shockwave::Response) {
    ///     resp.write_body(req.tls_server_name().unwrap_or_else(|| "no SNI".into()));
    /// }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls_server_name(&self) -> Option<String> {
        self.wire.as_ref()?.tls.as_ref()?.server_name()
    }
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method())
            .field("target", &self.target())
            .field("version", &self.version())
            .field("headers", &self.headers().map(|(n, v)| (n, String::from_utf8_lossy(v))).collect::<Vec<_>>())
            .field("buffered_body_len", &self.buffered().len())
            .finish()
    }
}
