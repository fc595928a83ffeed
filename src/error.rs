//! [`Error`]: a failure a handler returns with `?`, carrying the response it becomes.
//!
//! A handler may return `Result<(), E>` for any `E: Into<Error>`; the worker calls
//! [`HandlerResult::respond`](crate::HandlerResult::respond), which turns an `Err` into its
//! status and a short body (plain text, or JSON when the error says so), replacing whatever the
//! handler had put in the response. The extractors' errors (`io::Error` from reading a body,
//! the query, form, JSON and multipart errors) convert with `From`, so `?` works on all of them.
//!
//! What must never happen here: a 5xx built from an internal error shows its detail to the
//! client. Such errors are logged through the `log` facade and answered with the bare reason.

use crate::{Request, Response};
use std::borrow::Cow;
use std::fmt;
use std::io;

/// An error a handler returns; it becomes a response with its status and message.
///
/// ```
/// use shockwave::{Error, Request, Response};
///
/// fn handler(req: &Request, resp: &mut Response) -> Result<(), Error> {
///     let n: u32 = req.query("n").unwrap_or_default().parse().map_err(|_| Error::bad_request("n must be a number"))?;
///     resp.write_body(format!("{}", n * 2));
///     Ok(())
/// }
///
/// let resp = shockwave::test::request("GET", "/?n=x").send(&handler);
/// assert_eq!(resp.status(), 400);
/// assert_eq!(resp.text(), "n must be a number\n");
/// assert_eq!(shockwave::test::request("GET", "/?n=21").send(&handler).text(), "42");
/// ```
pub struct Error {
    status: u16,
    message: Cow<'static, str>,
    json: bool,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// An error answered with `status` (400–599) and `message` as the body.
    ///
    /// # Panics
    /// If `status` is not in `400..=599`.
    ///
    /// ```
    /// let e = shockwave::Error::new(409, "that name is taken");
    /// assert_eq!((e.status(), e.message()), (409, "that name is taken"));
    /// ```
    pub fn new(status: impl crate::IntoStatus, message: impl Into<Cow<'static, str>>) -> Error {
        let status = status.into_status();
        assert!((400..=599).contains(&status), "an error status must be 4xx or 5xx, not {status}");
        Error { status, message: message.into(), json: false, source: None }
    }

    /// `400 Bad Request`.
    ///
    /// ```
    /// assert_eq!(shockwave::Error::bad_request("no name").status(), 400);
    /// ```
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(400, message)
    }

    /// `401 Unauthorized`.
    ///
    /// ```
    /// assert_eq!(shockwave::Error::unauthorized("log in first").status(), 401);
    /// ```
    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(401, message)
    }

    /// `403 Forbidden`.
    ///
    /// ```
    /// assert_eq!(shockwave::Error::forbidden("not yours").status(), 403);
    /// ```
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(403, message)
    }

    /// `404 Not Found`.
    ///
    /// ```
    /// assert_eq!(shockwave::Error::not_found("no such user").status(), 404);
    /// ```
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(404, message)
    }

    /// `413 Content Too Large`.
    ///
    /// ```
    /// assert_eq!(shockwave::Error::payload_too_large("1 MiB at most").status(), 413);
    /// ```
    pub fn payload_too_large(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(413, message)
    }

    /// `415 Unsupported Media Type`.
    ///
    /// ```
    /// assert_eq!(shockwave::Error::unsupported_media_type("send JSON").status(), 415);
    /// ```
    pub fn unsupported_media_type(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(415, message)
    }

    /// `500 Internal Server Error` for a failure whose detail must not reach the client:
    /// `source` is logged when the error is answered, the body is the bare reason phrase.
    ///
    /// ```
    /// let e = shockwave::Error::internal(std::io::Error::other("disk on fire"));
    /// assert_eq!((e.status(), e.message()), (500, "Internal Server Error"));
    /// ```
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
        Error { source: Some(source.into()), ..Error::new(500, "Internal Server Error") }
    }

    /// The same error, answered as `{"error": message}` with `Content-Type: application/json`.
    ///
    /// ```
    /// let resp = shockwave::test::request("GET", "/").send(&|_req: &shockwave::Request, _resp: &mut shockwave::Response| {
    ///     Err::<(), _>(shockwave::Error::not_found("no \"such\" user").json())
    /// });
    /// assert_eq!(resp.header("content-type"), Some("application/json"));
    /// assert_eq!(resp.text(), r#"{"error":"no \"such\" user"}"#);
    /// ```
    pub fn json(mut self) -> Error {
        self.json = true;
        self
    }

    /// Keeps `source` as the cause (logged for 5xx, returned by
    /// [`std::error::Error::source`]).
    ///
    /// ```
    /// use std::error::Error as _;
    /// let e = shockwave::Error::bad_request("bad date").with_source(std::fmt::Error);
    /// assert!(e.source().is_some());
    /// ```
    pub fn with_source(mut self, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
        self.source = Some(source.into());
        self
    }

    /// The status the response gets.
    ///
    /// ```
    /// assert_eq!(shockwave::Error::not_found("no such user").status(), 404);
    /// ```
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The message the body carries.
    ///
    /// ```
    /// assert_eq!(shockwave::Error::bad_request("n must be a number").message(), "n must be a number");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the body is JSON (see [`json`](Self::json)).
    ///
    /// ```
    /// let e = shockwave::Error::forbidden("not yours");
    /// assert!(!e.is_json());
    /// assert!(e.json().is_json());
    /// ```
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Replaces what the handler put in `resp` with this error. If the response head was
    /// already sent (a streamed body), the status can no longer change: the stream is cut
    /// off and the connection closed, so the client sees an incomplete message, not a
    /// truncated success.
    pub(crate) fn write_to(&self, req: &Request, resp: &mut Response) {
        if self.status >= 500 {
            match &self.source {
                Some(s) => log::error!("{} {}: {} ({s})", req.method(), req.target(), self.message),
                None => log::error!("{} {}: {}", req.method(), req.target(), self.message),
            }
        }
        if resp.is_streaming() {
            resp.abort_stream();
            return;
        }
        resp.reset();
        resp.set_status(self.status);
        if let (false, Some(page)) = (self.json, resp.ctx.error_page.clone()) {
            let mut body = Vec::new();
            let ctype = page.render(self.status, &self.message, &mut body);
            resp.set_content_type(ctype);
            resp.set_body(body);
        } else if self.json {
            let mut body = Vec::with_capacity(self.message.len() + 12);
            let ctype = json_page(self.status, &self.message, &mut body);
            resp.set_content_type(ctype);
            resp.set_body(body);
        } else {
            resp.set_content_type("text/plain; charset=utf-8");
            resp.write_body(self.message.as_bytes());
            resp.write_body(b"\n");
        }
    }
}

type PageFn = dyn Fn(u16, &str, &mut Vec<u8>) -> &'static str + Send + Sync;

/// How error responses look: a function from status and message to a body and its
/// `Content-Type` (see [`Builder::error_page`](crate::Builder::error_page)).
#[derive(Clone)]
pub(crate) struct ErrorPage(std::sync::Arc<PageFn>);

impl ErrorPage {
    pub(crate) fn new(f: impl Fn(u16, &str, &mut Vec<u8>) -> &'static str + Send + Sync + 'static) -> ErrorPage {
        ErrorPage(std::sync::Arc::new(f))
    }

    /// `{"error": message}`, the page [`Builder::json_errors`](crate::Builder::json_errors) sets.
    pub(crate) fn json() -> ErrorPage {
        ErrorPage::new(json_page)
    }

    /// Writes the body for `status` and `message` into `out`; returns its `Content-Type`.
    pub(crate) fn render(&self, status: u16, message: &str, out: &mut Vec<u8>) -> &'static str {
        (self.0)(status, message, out)
    }
}

/// `{"error": message}`: the body of [`Error::json`] errors and of [`ErrorPage::json`].
fn json_page(_status: u16, message: &str, out: &mut Vec<u8>) -> &'static str {
    out.extend_from_slice(br#"{"error":"#);
    json_string(out, message);
    out.push(b'}');
    "application/json"
}

impl fmt::Debug for ErrorPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ErrorPage")
    }
}

/// Appends `s` as a JSON string literal (RFC 8259 §7).
pub(crate) fn json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut b = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
    out.push(b'"');
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("status", &self.status).field("message", &self.message);
        if let Some(s) = &self.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.message)?;
        if let Some(s) = &self.source {
            write!(f, ": {s}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// A body that could not be read: 413 over the limit, 408 on a timeout, 400 when the body
/// is malformed or was already taken, else 500 (detail logged, not sent).
impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        let status = match e.kind() {
            io::ErrorKind::FileTooLarge => 413,
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => 408,
            io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof => 400,
            _ => return Error::internal(e),
        };
        Error { source: Some(Box::new(e)), ..Error::new(status, status_reason(status)) }.with_detail()
    }
}

/// Any other error, boxed: answered 500, detail logged.
impl From<Box<dyn std::error::Error + Send + Sync>> for Error {
    fn from(e: Box<dyn std::error::Error + Send + Sync>) -> Error {
        Error::internal(e)
    }
}

impl Error {
    /// For a 4xx caused by `source`, the message says what was wrong (the client's own input).
    fn with_detail(mut self) -> Error {
        if self.status < 500 {
            if let Some(s) = &self.source {
                self.message = format!("{}: {s}", self.message).into();
            }
        }
        self
    }
}

fn status_reason(code: u16) -> &'static str {
    crate::h1::status::reason(code).unwrap_or("Error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        let mut out = Vec::new();
        json_string(&mut out, "a\"b\\c\n\u{1}é");
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\\c\n\u0001é""#);
    }

    #[test]
    fn io_errors_map_to_statuses() {
        let e: Error = io::Error::new(io::ErrorKind::FileTooLarge, "body over 10 bytes").into();
        assert_eq!((e.status(), e.message()), (413, "Content Too Large: body over 10 bytes"));
        let e: Error = io::Error::new(io::ErrorKind::TimedOut, "slow").into();
        assert_eq!(e.status(), 408);
        let e: Error = io::Error::other("secret path /etc/x").into();
        assert_eq!((e.status(), e.message()), (500, "Internal Server Error"));
    }

    #[test]
    #[should_panic(expected = "4xx or 5xx")]
    fn a_success_status_is_not_an_error() {
        let _ = Error::new(200, "fine");
    }
}
