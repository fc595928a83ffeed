//! A request to send: method, URL, header lines (validated and encoded once, when set) and
//! a body of bytes or a reader. Reusable: [`Client::send_into`](super::Client::send_into)
//! takes it by reference, so a loop sends one `Request` again and again without building it.

use super::error::{Error, Kind};
use super::pool::Host;
use super::url::Url;
use crate::h1::framing::eq_fold;
use crate::h1::write::{push_value, valid_name};
use parking_lot::Mutex;
use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::sync::{Arc, OnceLock};

/// A request body: bytes, or a reader streamed as it is sent.
///
/// Bytes and readers of known length go out with `Content-Length`; a reader of unknown
/// length is sent chunked. Made with `From` (byte slices, `Vec<u8>`, strings, a `File`) or
/// [`Body::reader`] / [`Body::sized`] for any other `Read`.
///
/// ```
/// use shockwave::client::Body;
/// let a: Body = b"raw bytes".into();
/// let b: Body = String::from("text").into();
/// let c = Body::reader(std::io::repeat(b'x').take(1 << 20)); // sent chunked
/// let d = Body::sized(std::io::repeat(b'x').take(100), 100); // Content-Length: 100
/// # use std::io::Read; drop((a, b, c, d));
/// ```
pub struct Body<'a>(pub(crate) BodyInner<'a>);

pub(crate) enum BodyInner<'a> {
    Empty,
    Bytes(Cow<'a, [u8]>),
    Reader(Box<dyn Read + Send + 'a>, Option<u64>),
}

impl<'a> Body<'a> {
    /// No body.
    ///
    /// ```
    /// let resp = shockwave::Client::new().post("http://127.0.0.1:1/", shockwave::client::Body::empty());
    /// assert!(resp.is_err()); // nothing listens on port 1
    /// ```
    pub fn empty() -> Body<'static> {
        Body(BodyInner::Empty)
    }

    /// A body read from `r` as it is sent, of unknown length: sent with
    /// `Transfer-Encoding: chunked`. A request with such a body is not retried or
    /// redirected with its body (it cannot be read twice).
    ///
    /// ```
    /// let body = shockwave::client::Body::reader(std::io::Cursor::new(vec![1, 2, 3]));
    /// # drop(body);
    /// ```
    pub fn reader(r: impl Read + Send + 'a) -> Body<'a> {
        Body(BodyInner::Reader(Box::new(r), None))
    }

    /// A body of exactly `len` bytes read from `r`: sent with `Content-Length`. A reader that
    /// ends early or has more fails the request.
    ///
    /// ```
    /// use std::io::Read;
    /// let body = shockwave::client::Body::sized(std::io::repeat(0).take(4096), 4096);
    /// # drop(body);
    /// ```
    pub fn sized(r: impl Read + Send + 'a, len: u64) -> Body<'a> {
        Body(BodyInner::Reader(Box::new(r), Some(len)))
    }
}

impl fmt::Debug for Body<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            BodyInner::Empty => f.write_str("Body::empty()"),
            BodyInner::Bytes(b) => write!(f, "Body({} bytes)", b.len()),
            BodyInner::Reader(_, Some(n)) => write!(f, "Body::sized(.., {n})"),
            BodyInner::Reader(_, None) => f.write_str("Body::reader(..)"),
        }
    }
}

impl<'a> From<&'a [u8]> for Body<'a> {
    fn from(b: &'a [u8]) -> Body<'a> {
        Body(BodyInner::Bytes(Cow::Borrowed(b)))
    }
}
impl<'a, const N: usize> From<&'a [u8; N]> for Body<'a> {
    fn from(b: &'a [u8; N]) -> Body<'a> {
        Body(BodyInner::Bytes(Cow::Borrowed(b)))
    }
}
impl<'a> From<&'a str> for Body<'a> {
    fn from(s: &'a str) -> Body<'a> {
        Body(BodyInner::Bytes(Cow::Borrowed(s.as_bytes())))
    }
}
impl<'a> From<&'a Vec<u8>> for Body<'a> {
    fn from(b: &'a Vec<u8>) -> Body<'a> {
        Body(BodyInner::Bytes(Cow::Borrowed(b)))
    }
}
impl<'a> From<&'a String> for Body<'a> {
    fn from(s: &'a String) -> Body<'a> {
        Body(BodyInner::Bytes(Cow::Borrowed(s.as_bytes())))
    }
}
impl From<Vec<u8>> for Body<'_> {
    fn from(b: Vec<u8>) -> Self {
        Body(BodyInner::Bytes(Cow::Owned(b)))
    }
}
impl From<String> for Body<'_> {
    fn from(s: String) -> Self {
        Body(BodyInner::Bytes(Cow::Owned(s.into_bytes())))
    }
}
impl From<()> for Body<'_> {
    fn from(_: ()) -> Self {
        Body(BodyInner::Empty)
    }
}
impl From<std::fs::File> for Body<'_> {
    /// The file from its current position, with its length as `Content-Length` when the
    /// metadata gives one (a regular file), else chunked.
    fn from(f: std::fs::File) -> Self {
        let len = f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
        Body(BodyInner::Reader(Box::new(f), len))
    }
}

/// A request's body as it is being sent: borrowed bytes, or the reader being drained.
pub(crate) enum Outgoing<'r> {
    Empty,
    Bytes(&'r [u8]),
    Reader(&'r mut (dyn Read + Send), Option<u64>),
}

impl Outgoing<'_> {
    /// Can be sent again (a retry, a 307/308 redirect).
    pub(crate) fn replayable(&self) -> bool {
        !matches!(self, Outgoing::Reader(..))
    }
}

/// What a request says of itself that the encoder must not say again.
pub(crate) const HAS_HOST: u8 = 1;
pub(crate) const HAS_USER_AGENT: u8 = 2;
pub(crate) const HAS_EXPECT_CONTINUE: u8 = 4;
pub(crate) const HAS_CONNECTION_CLOSE: u8 = 8;
pub(crate) const HAS_ACCEPT_ENCODING: u8 = 16;

/// The flag a header of this name may set (`Expect` and `Connection` only with the values
/// that matter), 0 for the others.
fn flag_of(name: &[u8]) -> u8 {
    match name.len() {
        4 if eq_fold(name, b"host") => HAS_HOST,
        10 if eq_fold(name, b"user-agent") => HAS_USER_AGENT,
        6 if eq_fold(name, b"expect") => HAS_EXPECT_CONTINUE,
        10 if eq_fold(name, b"connection") => HAS_CONNECTION_CLOSE,
        15 if eq_fold(name, b"accept-encoding") => HAS_ACCEPT_ENCODING,
        _ => 0,
    }
}

/// Header lines set on a request, encoded once as they are set.
#[derive(Clone, Default)]
pub(crate) struct Headers {
    /// `Name: value\r\n` lines, names as given, values sanitised.
    pub lines: Vec<u8>,
    pub flags: u8,
    /// The first invalid name or refused header, reported when the request is sent.
    pub error: Option<String>,
}

impl Headers {
    fn add(&mut self, name: &str, value: &[u8]) {
        if !valid_name(name) {
            self.error.get_or_insert_with(|| format!("invalid header name {name:?}"));
            return;
        }
        let n = name.as_bytes();
        match n.len() {
            14 if eq_fold(n, b"content-length") => return self.refuse(name),
            17 if eq_fold(n, b"transfer-encoding") => return self.refuse(name),
            _ => {}
        }
        let flag = flag_of(n);
        let says_it = match flag {
            HAS_EXPECT_CONTINUE => value.trim_ascii().eq_ignore_ascii_case(b"100-continue"),
            HAS_CONNECTION_CLOSE => crate::h1::framing::list(value).any(|t| t.eq_ignore_ascii_case(b"close")),
            _ => true,
        };
        if says_it {
            self.flags |= flag;
        }
        self.lines.extend_from_slice(n);
        self.lines.extend_from_slice(b": ");
        push_value(&mut self.lines, value.trim_ascii());
    }

    fn refuse(&mut self, name: &str) {
        self.error.get_or_insert_with(|| format!("{name} is set by the client from the body; do not set it"));
    }

    fn remove(&mut self, name: &str) {
        let mut out = Vec::with_capacity(self.lines.len());
        for line in self.lines.split_inclusive(|&b| b == b'\n') {
            let n = line.split(|&b| b == b':').next().unwrap_or_default();
            if !n.eq_ignore_ascii_case(name.as_bytes()) {
                out.extend_from_slice(line);
            }
        }
        self.lines = out;
        self.flags &= !flag_of(name.as_bytes());
    }

    /// The same headers for a redirect to another host: without the credentials that must
    /// not follow it (`Authorization`, `Cookie`, `Proxy-Authorization`) nor a `Host` set for
    /// the first one.
    pub(crate) fn for_another_host(&self) -> Headers {
        let mut h = self.clone();
        for n in ["authorization", "cookie", "proxy-authorization", "host"] {
            h.remove(n);
        }
        h
    }
}

/// A request: method, URL, headers and body, built once and sent as often as needed.
///
/// ```
/// use shockwave::client::Request;
/// let mut req = Request::post("http://127.0.0.1:8080/users")?
///     .header("Content-Type", "application/json")
///     .header("Authorization", "Bearer 1234");
/// req.set_body(br#"{"id":1}"#.to_vec());
/// assert_eq!(req.method(), "POST");
/// assert_eq!(req.url(), "http://127.0.0.1:8080/users");
/// # Ok::<(), shockwave::client::Error>(())
/// ```
pub struct Request {
    pub(crate) method: Cow<'static, str>,
    pub(crate) url: Url,
    pub(crate) headers: Headers,
    pub(crate) body: RequestBody,
    /// The pool of the URL's host in the first client that sent this request, by client
    /// id: a request sent in a loop skips the pool map (hashing the key cost ~200
    /// instructions, a tenth of a request's).
    pub(crate) host: OnceLock<(u64, Arc<Host>)>,
}

/// A reader and its length, if known.
pub(crate) type BodyReader = (Box<dyn Read + Send>, Option<u64>);

pub(crate) enum RequestBody {
    Empty,
    Bytes(Cow<'static, [u8]>),
    /// A reader can be sent once: taken out on the first send.
    Reader(Mutex<Option<BodyReader>>),
}

macro_rules! method_ctor {
    ($(#[$doc:meta])* $name:ident, $method:literal) => {
        $(#[$doc])*
        pub fn $name(url: &str) -> Result<Request, Error> {
            Request::new($method, url)
        }
    };
}

impl Request {
    /// A request with any method (a token such as `"PROPFIND"`).
    ///
    /// ```
    /// let req = shockwave::client::Request::new("OPTIONS", "http://127.0.0.1:8080/")?;
    /// assert_eq!(req.method(), "OPTIONS");
    /// assert!(shockwave::client::Request::new("BAD METHOD", "http://h/").is_err());
    /// # Ok::<(), shockwave::client::Error>(())
    /// ```
    pub fn new(method: &str, url: &str) -> Result<Request, Error> {
        if !valid_name(method) {
            return Err(Error::new(Kind::Url, format!("invalid method {method:?}")).at(url));
        }
        let method = match method {
            "GET" => Cow::Borrowed("GET"),
            "POST" => Cow::Borrowed("POST"),
            "PUT" => Cow::Borrowed("PUT"),
            "DELETE" => Cow::Borrowed("DELETE"),
            "HEAD" => Cow::Borrowed("HEAD"),
            "PATCH" => Cow::Borrowed("PATCH"),
            m => Cow::Owned(m.to_owned()),
        };
        let url = Url::parse(url).map_err(|e| Error::new(Kind::Url, e.reason).at(url))?;
        Ok(Request { method, url, headers: Headers::default(), body: RequestBody::Empty, host: OnceLock::new() })
    }

    method_ctor!(
        /// A `GET` request.
        ///
        /// ```
        /// let req = shockwave::client::Request::get("http://[::1]:8080/a?b=c")?;
        /// assert_eq!(req.url(), "http://[::1]:8080/a?b=c");
        /// # Ok::<(), shockwave::client::Error>(())
        /// ```
        get, "GET");
    method_ctor!(
        /// A `POST` request (set its body with [`set_body`](Request::set_body)).
        ///
        /// ```
        /// let req = shockwave::client::Request::post("http://127.0.0.1:8080/")?.body("x=1");
        /// # Ok::<(), shockwave::client::Error>(())
        /// ```
        post, "POST");
    method_ctor!(
        /// A `PUT` request.
        ///
        /// ```
        /// let req = shockwave::client::Request::put("http://127.0.0.1:8080/a")?.body(vec![0u8; 16]);
        /// # Ok::<(), shockwave::client::Error>(())
        /// ```
        put, "PUT");
    method_ctor!(
        /// A `PATCH` request.
        ///
        /// ```
        /// let req = shockwave::client::Request::patch("http://127.0.0.1:8080/a")?;
        /// # Ok::<(), shockwave::client::Error>(())
        /// ```
        patch, "PATCH");
    method_ctor!(
        /// A `DELETE` request.
        ///
        /// ```
        /// let req = shockwave::client::Request::delete("http://127.0.0.1:8080/a")?;
        /// # Ok::<(), shockwave::client::Error>(())
        /// ```
        delete, "DELETE");
    method_ctor!(
        /// A `HEAD` request: the response has no body.
        ///
        /// ```
        /// let req = shockwave::client::Request::head("http://127.0.0.1:8080/a")?;
        /// # Ok::<(), shockwave::client::Error>(())
        /// ```
        head, "HEAD");

    /// The method.
    ///
    /// ```
    /// assert_eq!(shockwave::client::Request::delete("http://h/")?.method(), "DELETE");
    /// # Ok::<(), shockwave::client::Error>(())
    /// ```
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The URL as given.
    ///
    /// ```
    /// assert_eq!(shockwave::client::Request::get("http://h/p%20q")?.url(), "http://h/p%20q");
    /// # Ok::<(), shockwave::client::Error>(())
    /// ```
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// Adds a header line (names are validated, values sanitised as for responses: a CR, LF
    /// or other control byte becomes a space). `Host` replaces the one taken from the URL;
    /// `Content-Length` and `Transfer-Encoding` come from the body and are refused. An invalid
    /// name makes the request fail when sent, with a message naming it.
    ///
    /// ```
    /// let req = shockwave::client::Request::get("http://h/")?
    ///     .header("Accept", "application/json")
    ///     .header("X-Trace", "a\r\nInjected: no");
    /// # Ok::<(), shockwave::client::Error>(())
    /// ```
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<[u8]>) -> Request {
        self.add_header(name, value);
        self
    }

    /// Adds a header line, keeping earlier ones of the same name (see [`header`](Self::header)).
    ///
    /// ```
    /// let mut req = shockwave::client::Request::get("http://h/")?;
    /// req.add_header("Accept", "text/html");
    /// req.add_header("Accept", "application/json");
    /// # Ok::<(), shockwave::client::Error>(())
    /// ```
    pub fn add_header(&mut self, name: impl AsRef<str>, value: impl AsRef<[u8]>) -> &mut Request {
        self.headers.add(name.as_ref(), value.as_ref());
        self
    }

    /// Sets a header, replacing every earlier line of that name.
    ///
    /// ```
    /// let mut req = shockwave::client::Request::get("http://h/")?;
    /// req.set_header("Accept", "text/html");
    /// req.set_header("accept", "application/json"); // replaces it
    /// # Ok::<(), shockwave::client::Error>(())
    /// ```
    pub fn set_header(&mut self, name: impl AsRef<str>, value: impl AsRef<[u8]>) -> &mut Request {
        self.headers.remove(name.as_ref());
        self.headers.add(name.as_ref(), value.as_ref());
        self
    }

    /// Sets the body (bytes, a string, a file, or [`Body::reader`]). A reader body is sent
    /// once; sending the request again fails with [`Kind::Body`].
    ///
    /// ```
    /// let mut req = shockwave::client::Request::put("http://h/blob")?;
    /// req.set_body(vec![1, 2, 3]);
    /// req.set_body("replaced");
    /// # Ok::<(), shockwave::client::Error>(())
    /// ```
    pub fn set_body(&mut self, body: impl Into<Body<'static>>) -> &mut Request {
        self.body = match body.into().0 {
            BodyInner::Empty => RequestBody::Empty,
            BodyInner::Bytes(b) => RequestBody::Bytes(b),
            BodyInner::Reader(r, n) => RequestBody::Reader(Mutex::new(Some((r, n)))),
        };
        self
    }

    /// Sets the body, builder style (see [`set_body`](Self::set_body)).
    ///
    /// ```
    /// let req = shockwave::client::Request::post("http://h/")?.body(br#"{"id":1}"#);
    /// # Ok::<(), shockwave::client::Error>(())
    /// ```
    pub fn body(mut self, body: impl Into<Body<'static>>) -> Request {
        self.set_body(body);
        self
    }

    /// Sets the body to `value` as JSON, with `Content-Type: application/json` (feature
    /// `json`). A value that cannot be serialised makes the request fail when sent.
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct User { id: u64, name: &'static str }
    /// let req = shockwave::client::Request::post("http://127.0.0.1:8080/users")?.json(&User { id: 1, name: "Ann" });
    /// # Ok::<(), shockwave::client::Error>(())
    /// ```
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Request {
        match serde_json::to_vec(value) {
            Ok(body) => {
                self.set_header("Content-Type", "application/json");
                self.set_body(body);
            }
            Err(e) => {
                self.headers.error.get_or_insert_with(|| format!("the JSON body cannot be serialised: {e}"));
            }
        }
        self
    }

    /// The request's parts for one send: its body taken out if it is a reader.
    pub(crate) fn with_body<T>(&self, f: impl FnOnce(Outgoing<'_>) -> Result<T, Error>) -> Result<T, Error> {
        match &self.body {
            RequestBody::Empty => f(Outgoing::Empty),
            RequestBody::Bytes(b) => f(Outgoing::Bytes(b)),
            RequestBody::Reader(m) => {
                let Some((mut r, n)) = m.lock().take() else {
                    return Err(
                        Error::new(Kind::Body, "the request's body reader was already sent once").at(self.url())
                    );
                };
                f(Outgoing::Reader(&mut *r, n))
            }
        }
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request").field("method", &self.method).field("url", &self.url.as_str()).finish()
    }
}

/// Whether a method may be sent again after a failure without changing what the server did
/// (RFC 9110 §9.2.2).
pub(crate) fn idempotent(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS" | "TRACE")
}
