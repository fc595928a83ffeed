//! Running handlers without sockets, for unit tests: build a request, hand it to any
//! [`Handler`] (a closure, a `Router`, a middleware stack) and inspect the
//! response it produced.
//!
//! The request goes through the server's own parser, so what a handler sees is what it would
//! see from a client (a malformed request gets the server's own 400, a `HEAD` request's
//! answer has no body), and the response is encoded by the server's encoder, then read back.
//!
//! ```
//! let hello = |req: &shockwave::Request, resp: &mut shockwave::Response| {
//!     resp.set_content_type("text/plain");
//!     resp.write_body(format!("hello {}", req.query("name").unwrap_or_default()));
//! };
//! let resp = shockwave::test::request("GET", "/?name=J%C3%BCrgen").send(&hello);
//! assert_eq!(resp.status(), 200);
//! assert_eq!(resp.header("content-type"), Some("text/plain"));
//! assert_eq!(resp.text(), "hello Jürgen");
//! ```

use crate::buf::Buf;
use crate::http::head::{HeadError, Span};
use crate::http::parse::{parse_head, Limits};
use crate::http::response::{encode_error, Ctx};
use crate::{Handler, Request, Response};
use std::net::SocketAddr;

/// A request under construction for a test: see [`request`].
///
/// It is `Clone`, so one request can be sent to several handlers:
///
/// ```
/// use shockwave::{Request, Response};
/// let req = shockwave::test::request("GET", "/").header("Accept", "application/json");
/// let v1 = |_req: &Request, resp: &mut Response| resp.write_body("v1");
/// let v2 = |req: &Request, resp: &mut Response| resp.write_body(req.header("accept").unwrap_or(""));
/// assert_eq!(req.clone().send(&v1).text(), "v1");
/// assert_eq!(req.send(&v2).text(), "application/json");
/// ```
#[derive(Clone, Debug)]
pub struct TestRequest {
    method: String,
    target: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    remote: SocketAddr,
    trust: Option<std::sync::Arc<[crate::Network]>>,
}

/// Starts a test request: `method` and `target` as a client would send them
/// (`"/path?query"`). A `Host: localhost` header is added unless one is set, and a body
/// gets its `Content-Length`.
///
/// ```
/// let resp = shockwave::test::request("POST", "/echo")
///     .header("Content-Type", "text/plain")
///     .body("ping")
///     .send(&|req: &shockwave::Request, resp: &mut shockwave::Response| -> Result<(), shockwave::Error> {
///         resp.write_body(req.body()?);
///         Ok(())
///     });
/// assert_eq!(resp.text(), "ping");
/// ```
pub fn request(method: &str, target: &str) -> TestRequest {
    TestRequest {
        method: method.to_string(),
        target: target.to_string(),
        headers: Vec::new(),
        body: Vec::new(),
        remote: SocketAddr::from(([127, 0, 0, 1], 40000)),
        trust: None,
    }
}

impl TestRequest {
    /// Adds a header line (repeat it for several values).
    ///
    /// ```
    /// let resp = shockwave::test::request("GET", "/")
    ///     .header("Accept", "text/html")
    ///     .send(&|req: &shockwave::Request, resp: &mut shockwave::Response| {
    ///         resp.write_body(req.header("accept").unwrap_or(""));
    ///     });
    /// assert_eq!(resp.text(), "text/html");
    /// ```
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> TestRequest {
        self.headers.push((name.to_string(), value.as_ref().to_vec()));
        self
    }

    /// Sets the body (sent with `Content-Length`).
    ///
    /// ```
    /// let resp = shockwave::test::request("PUT", "/").body(vec![0u8; 100_000]).send(
    ///     &|req: &shockwave::Request, resp: &mut shockwave::Response| -> std::io::Result<()> {
    ///         resp.write_body(req.body()?.len().to_string());
    ///         Ok(())
    ///     },
    /// );
    /// assert_eq!(resp.text(), "100000");
    /// ```
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> TestRequest {
        self.body = body.into();
        self
    }

    /// Sets the client address the handler sees (default `127.0.0.1:40000`).
    ///
    /// ```
    /// let resp = shockwave::test::request("GET", "/")
    ///     .remote_addr("10.0.0.7:5000".parse().unwrap())
    ///     .send(&|req: &shockwave::Request, resp: &mut shockwave::Response| {
    ///         resp.write_body(req.remote_addr().ip().to_string());
    ///     });
    /// assert_eq!(resp.text(), "10.0.0.7");
    /// ```
    pub fn remote_addr(mut self, addr: SocketAddr) -> TestRequest {
        self.remote = addr;
        self
    }

    /// Believes forwarding headers from peers in `networks`, as
    /// [`Builder::trust_forwarded_from`](crate::Builder::trust_forwarded_from) does (default:
    /// nobody's).
    ///
    /// ```
    /// let resp = shockwave::test::request("GET", "/")
    ///     .trust_forwarded_from(["127.0.0.1".parse().unwrap()])
    ///     .header("X-Forwarded-For", "203.0.113.7")
    ///     .send(&|req: &shockwave::Request, resp: &mut shockwave::Response| {
    ///         resp.write_body(req.client_ip().to_string());
    ///     });
    /// assert_eq!(resp.text(), "203.0.113.7");
    /// ```
    pub fn trust_forwarded_from(mut self, networks: impl IntoIterator<Item = crate::Network>) -> TestRequest {
        self.trust = Some(networks.into_iter().collect());
        self
    }

    /// The request as it goes on the wire.
    fn encode(&self) -> Vec<u8> {
        let mut raw = Vec::with_capacity(128 + self.body.len());
        raw.extend_from_slice(format!("{} {} HTTP/1.1\r\n", self.method, self.target).as_bytes());
        if !self.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            raw.extend_from_slice(b"Host: localhost\r\n");
        }
        for (n, v) in &self.headers {
            raw.extend_from_slice(n.as_bytes());
            raw.extend_from_slice(b": ");
            raw.extend_from_slice(v);
            raw.extend_from_slice(b"\r\n");
        }
        let declared = self.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-length"));
        if !self.body.is_empty() && !declared {
            raw.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        raw.extend_from_slice(b"\r\n");
        raw.extend_from_slice(&self.body);
        raw
    }

    /// Runs `handler` on the request and returns what it answered. A request the server
    /// would refuse before any handler runs (a malformed head, an unknown method) gets the
    /// server's own error response, and the handler is not called. A panic in the handler
    /// is not caught: the test fails with it.
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let handler = |_req: &Request, resp: &mut Response| resp.write_body("ok");
    /// assert_eq!(shockwave::test::request("GET", "/").send(&handler).text(), "ok");
    /// let refused = shockwave::test::request("GET", "/page#top").send(&handler); // a client never sends a fragment
    /// assert_eq!((refused.status(), refused.text()), (400, "Bad Request: fragment in request-target\n"));
    /// ```
    pub fn send<H: Handler + ?Sized>(self, handler: &H) -> TestResponse {
        let raw = self.encode();
        let (mut req, mut resp) = match prepare(&raw, self.remote) {
            Ok(pair) => pair,
            Err(e) => {
                let mut out = Vec::new();
                encode_error(&mut out, e.status, e.reason, None, None, self.method == "HEAD");
                return TestResponse::parse(out);
            }
        };
        req.trust = self.trust;
        handler.handle(&req, &mut resp);
        resp.finish();
        if let Some(mut file) = resp.take_file() {
            // what the connection's output would send after the head
            if let Err(e) = file.read_all_into(&mut resp.out) {
                panic!("reading the response's file body failed: {e}");
            }
        }
        TestResponse::parse(std::mem::take(&mut resp.out))
    }
}

/// The request the server would hand a handler for `raw` (a whole request with a
/// `Content-Length` body, if any), and a response set up to answer it.
pub(crate) fn prepare(raw: &[u8], remote: SocketAddr) -> Result<(Request, Response), HeadError> {
    let mut fields = Vec::new();
    let head = match parse_head(raw, 0, &Limits::default(), &mut fields)? {
        Some(head) => head,
        None => panic!("test request head is incomplete: {:?}", String::from_utf8_lossy(raw)),
    };
    let mut buf = Buf::alloc(raw.len());
    buf.copy_from_slice(raw);
    let mut req = Request::empty();
    req.buf = buf;
    req.fields = fields;
    req.body = Span(head.end, raw.len() as u32);
    req.head = head;
    req.remote = remote;
    req.peer = remote;
    let mut resp = Response::with_capacity();
    resp.set_ctx(Ctx {
        head: head.kind == crate::http::method::MethodKind::Head,
        minor: head.minor,
        keep_alive: head.keep_alive(),
        ..Ctx::default()
    });
    Ok((req, resp))
}

/// A response produced by [`TestRequest::send`], read back from its encoding.
///
/// ```
/// use shockwave::{Request, Response};
/// let resp = shockwave::test::request("GET", "/").send(&|_req: &Request, resp: &mut Response| resp.set_status(204));
/// assert_eq!((resp.status(), resp.body()), (204, &b""[..]));
/// assert!(resp.header("date").is_some()); // the server's own headers are there too
/// println!("{resp:?}"); // status, headers and body, for a failing test's message
/// ```
#[derive(Clone, Debug)]
pub struct TestResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl TestResponse {
    fn parse(raw: Vec<u8>) -> TestResponse {
        let text = String::from_utf8_lossy(&raw);
        let end = text.find("\r\n\r\n").expect("the encoder always ends the head") + 4;
        let mut lines = text[..end - 4].split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line.get(9..12).and_then(|s| s.parse().ok()).expect("a status line");
        let headers =
            lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.to_string(), v.trim().to_string())).collect();
        let head_len = text[..end].len();
        // (the head is ASCII, so its length in the lossy text is its length in bytes)
        TestResponse { status, headers, body: raw[head_len..].to_vec() }
    }

    /// The status code.
    ///
    /// ```
    /// use shockwave::{Error, Request, Response};
    /// let handler = |_req: &Request, _resp: &mut Response| -> Result<(), Error> { Err(Error::not_found("gone")) };
    /// assert_eq!(shockwave::test::request("GET", "/").send(&handler).status(), 404);
    /// ```
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The first value of header `name` (case-insensitive), including those the server adds
    /// (`Content-Length`, `Date`, `Connection`).
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let handler = |_req: &Request, resp: &mut Response| resp.set_content_type("text/plain");
    /// let resp = shockwave::test::request("GET", "/").send(&handler);
    /// assert_eq!(resp.header("Content-Type"), Some("text/plain"));
    /// assert_eq!(resp.header("content-length"), Some("0"));
    /// assert_eq!(resp.header("x-missing"), None);
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Every value of header `name`, in order.
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let handler = |_req: &Request, resp: &mut Response| {
    ///     resp.add_header("Set-Cookie", "a=1");
    ///     resp.add_header("Set-Cookie", "b=2");
    /// };
    /// let resp = shockwave::test::request("GET", "/").send(&handler);
    /// assert_eq!(resp.header_all("set-cookie").collect::<Vec<_>>(), ["a=1", "b=2"]);
    /// ```
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// All header lines, in order.
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let handler = |_req: &Request, resp: &mut Response| resp.set_header("X-Id", "7");
    /// let resp = shockwave::test::request("GET", "/").send(&handler);
    /// let names: Vec<&str> = resp.headers().map(|(name, _)| name).collect();
    /// assert_eq!(names, ["Date", "X-Id", "Content-Length"]); // (no `Server` line in tests)
    /// ```
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The body.
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let handler = |_req: &Request, resp: &mut Response| resp.write_body([0xff, 0x00]);
    /// assert_eq!(shockwave::test::request("GET", "/").send(&handler).body(), [0xff, 0x00]);
    /// ```
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as text.
    ///
    /// # Panics
    /// If the body is not UTF-8.
    ///
    /// ```
    /// use shockwave::{Request, Response};
    /// let handler = |_req: &Request, resp: &mut Response| resp.write_body("grüße");
    /// assert_eq!(shockwave::test::request("GET", "/").send(&handler).text(), "grüße");
    /// ```
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("response body is not UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_request_gets_the_length_and_no_body() {
        let resp = request("HEAD", "/").send(&|_req: &Request, resp: &mut Response| resp.write_body("abc"));
        assert_eq!((resp.status(), resp.header("content-length"), resp.body()), (200, Some("3"), &b""[..]));
    }

    #[test]
    fn a_request_the_parser_refuses_never_reaches_the_handler() {
        let resp = request("GET", "/a#frag").send(&|_req: &Request, _resp: &mut Response| -> () { panic!("called") });
        assert_eq!(resp.status(), 400);
        let resp = request("BREW", "/").send(&|_req: &Request, _resp: &mut Response| -> () { panic!("called") });
        assert_eq!(resp.status(), 501);
    }
}
