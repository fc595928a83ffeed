//! The one error type of the multipart parser: what went wrong in words a person can act on,
//! the HTTP status a server should answer with, and the reader's own error when there was one.

use std::fmt;
use std::io;

/// Why a `multipart/form-data` body could not be parsed.
///
/// [`status`](MultipartError::status) says how a server should answer: 400 for a malformed
/// body (or a failed read of it), 413 when a [`Limits`](super::Limits) value was exceeded. The
/// message names the problem and, for limits, the setting to raise.
///
/// ```
/// use shockwave::multipart::{Limits, Multipart};
///
/// let body = &b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello"[..];
/// let mut form = Multipart::new(body, "b", Limits::default()).unwrap();
/// let err = form.next_part().unwrap().unwrap().text().unwrap_err();
/// assert_eq!(err.status(), 400);
/// assert_eq!(err.to_string(), "multipart body ended before the closing boundary");
///
/// // As an io::Error (what `Part`'s `Read` impl returns): InvalidData, or FileTooLarge for limits.
/// let io: std::io::Error = err.into();
/// assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
/// ```
pub struct MultipartError {
    kind: Kind,
    msg: String,
    source: Option<io::Error>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// The body breaks RFC 7578 / RFC 2046 (400).
    Malformed,
    /// A [`Limits`](super::Limits) value was exceeded (413).
    Limit,
    /// The underlying reader failed (400: the body could not be read).
    Io,
}

impl MultipartError {
    pub(super) fn malformed(msg: impl Into<String>) -> Self {
        MultipartError { kind: Kind::Malformed, msg: msg.into(), source: None }
    }

    pub(super) fn limit(msg: impl Into<String>) -> Self {
        MultipartError { kind: Kind::Limit, msg: msg.into(), source: None }
    }

    pub(super) fn io(e: io::Error) -> Self {
        MultipartError { kind: Kind::Io, msg: format!("reading the multipart body failed: {e}"), source: Some(e) }
    }

    /// The same kind of error again, for calls after the parser has failed (the reader's
    /// error itself went to the first caller).
    pub(super) fn again(kind: Kind) -> Self {
        MultipartError { kind, msg: "the multipart body already failed to parse".into(), source: None }
    }

    pub(super) fn kind(&self) -> Kind {
        self.kind
    }

    /// The HTTP status to answer with: 413 when a limit was exceeded, else 400.
    ///
    /// ```
    /// use shockwave::multipart::{Limits, Multipart};
    ///
    /// let body = &b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n--b--"[..];
    /// let mut form = Multipart::new(body, "b", Limits::default().max_field_bytes(3)).unwrap();
    /// let err = form.next_part().unwrap().unwrap().text().unwrap_err();
    /// assert_eq!(err.status(), 413);
    /// ```
    pub fn status(&self) -> u16 {
        match self.kind {
            Kind::Limit => 413,
            Kind::Malformed | Kind::Io => 400,
        }
    }
}

impl fmt::Display for MultipartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl fmt::Debug for MultipartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultipartError")
            .field("status", &self.status())
            .field("message", &self.msg)
            .field("source", &self.source)
            .finish()
    }
}

impl std::error::Error for MultipartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

/// `FileTooLarge` for an exceeded limit, `InvalidData` for a malformed body; a failed read
/// gives back the reader's own error unchanged.
impl From<MultipartError> for io::Error {
    fn from(e: MultipartError) -> io::Error {
        let kind = if e.kind == Kind::Limit { io::ErrorKind::FileTooLarge } else { io::ErrorKind::InvalidData };
        match e {
            MultipartError { kind: Kind::Io, source: Some(read_error), .. } => read_error,
            e => io::Error::new(kind, e),
        }
    }
}
