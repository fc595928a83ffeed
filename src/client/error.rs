//! The client's one error type: a [`Kind`] to branch on, the URL it happened to, and a
//! message that says what went wrong and, where there is one, what to do about it.

use std::fmt;
use std::io;

/// What kind of failure an [`Error`] is. New kinds may be added.
///
/// ```
/// use shockwave::client::Kind;
/// match shockwave::Client::new().get("http://127.0.0.1:1/") {
///     Err(e) if e.kind() == Kind::Connect => eprintln!("nothing listens there: {e}"),
///     Err(e) if e.kind() == Kind::Timeout => eprintln!("too slow: {e}"),
///     Err(e) => eprintln!("{e}"),
///     Ok(resp) => println!("{}", resp.status()),
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// The URL (or a redirect's `Location`) could not be used: bad syntax, unsupported
    /// scheme, credentials in it.
    Url,
    /// A header name or value set on the request is invalid.
    Header,
    /// The host could not be resolved or no address accepted the connection.
    Connect,
    /// A connect, read or write timeout, or the whole-request timeout, expired.
    Timeout,
    /// Every connection to the host was busy for longer than the pool timeout.
    PoolTimeout,
    /// The connection failed or the server closed it before the response was complete.
    Io,
    /// The server's response broke HTTP/1.1 (a bad status line, conflicting lengths, a bad
    /// chunk size, …).
    Protocol,
    /// The response head or body is larger than the configured limit.
    TooLarge,
    /// More redirects than allowed, or a redirect that could not be followed.
    Redirect,
    /// Reading the request body from its reader failed.
    Body,
    /// TLS failed (feature `tls`): the handshake (an untrusted or expired certificate, one
    /// for another name, a server that does not speak TLS) or the session later on.
    Tls,
}

/// A failed request: its [`Kind`], the URL, and what happened.
///
/// ```
/// let client = shockwave::Client::new();
/// let err = client.get("ftp://example.com/").unwrap_err();
/// assert!(err.is_url());
/// assert_eq!(err.url(), Some("ftp://example.com/"));
/// println!("{err}"); // names the URL and says why
/// ```
pub struct Error {
    kind: Kind,
    msg: String,
    url: Option<String>,
    source: Option<io::Error>,
}

impl Error {
    pub(crate) fn new(kind: Kind, msg: impl Into<String>) -> Error {
        Error { kind, msg: msg.into(), url: None, source: None }
    }

    /// An I/O failure of the given kind, keeping the `io::Error` as the source.
    pub(crate) fn io(kind: Kind, msg: impl Into<String>, e: io::Error) -> Error {
        Error { kind, msg: msg.into(), url: None, source: Some(e) }
    }

    /// Appends an explanation to the message.
    pub(crate) fn with_hint(mut self, hint: &str) -> Error {
        self.msg.push_str(hint);
        self
    }

    /// Names the URL the error happened to (the first one named is kept).
    pub(crate) fn at(mut self, url: &str) -> Error {
        if self.url.is_none() {
            self.url = Some(url.to_owned());
        }
        self
    }

    /// What kind of failure this is.
    ///
    /// ```
    /// use shockwave::client::Kind;
    /// let err = shockwave::Client::new().get("http://user:pw@example.com/").unwrap_err();
    /// assert_eq!(err.kind(), Kind::Url);
    /// ```
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The URL of the request that failed (after redirects, the one that failed).
    ///
    /// ```
    /// let err = shockwave::Client::new().get("http://[::1/").unwrap_err();
    /// assert_eq!(err.url(), Some("http://[::1/"));
    /// ```
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// A connect or read/write timeout, or the whole-request timeout.
    ///
    /// ```
    /// let err = shockwave::Client::new().get("nope").unwrap_err();
    /// assert!(!err.is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        self.kind == Kind::Timeout
    }

    /// The connection could not be made (resolution or connect failed).
    ///
    /// ```
    /// // nothing listens on port 1
    /// let err = shockwave::Client::new().get("http://127.0.0.1:1/").unwrap_err();
    /// assert!(err.is_connect());
    /// ```
    pub fn is_connect(&self) -> bool {
        self.kind == Kind::Connect
    }

    /// The response broke HTTP/1.1.
    ///
    /// ```
    /// # let err = shockwave::Client::new().get("nope").unwrap_err();
    /// assert!(!err.is_protocol());
    /// ```
    pub fn is_protocol(&self) -> bool {
        self.kind == Kind::Protocol
    }

    /// The response head or body went over a configured limit.
    ///
    /// ```
    /// # let err = shockwave::Client::new().get("nope").unwrap_err();
    /// assert!(!err.is_too_large());
    /// ```
    pub fn is_too_large(&self) -> bool {
        self.kind == Kind::TooLarge
    }

    /// Too many redirects, or one that could not be followed.
    ///
    /// ```
    /// # let err = shockwave::Client::new().get("nope").unwrap_err();
    /// assert!(!err.is_redirect());
    /// ```
    pub fn is_redirect(&self) -> bool {
        self.kind == Kind::Redirect
    }

    /// Every connection to the host stayed busy for longer than the pool timeout.
    ///
    /// ```
    /// # let err = shockwave::Client::new().get("nope").unwrap_err();
    /// assert!(!err.is_pool_timeout());
    /// ```
    pub fn is_pool_timeout(&self) -> bool {
        self.kind == Kind::PoolTimeout
    }

    /// The URL could not be used.
    ///
    /// ```
    /// let err = shockwave::Client::new().get("example.com").unwrap_err();
    /// assert!(err.is_url());
    /// ```
    pub fn is_url(&self) -> bool {
        self.kind == Kind::Url
    }

    /// Whether TLS failed ([`Kind::Tls`]).
    ///
    /// ```
    /// let err = shockwave::Client::new().get("ftp://example.com/").unwrap_err();
    /// assert!(!err.is_tls());
    /// ```
    pub fn is_tls(&self) -> bool {
        self.kind == Kind::Tls
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(url) = &self.url {
            write!(f, "{url}: ")?;
        }
        match (&self.source, self.msg.is_empty()) {
            (Some(e), true) => write!(f, "{e}"),
            (Some(e), false) => write!(f, "{}: {e}", self.msg),
            (None, _) => f.write_str(&self.msg),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("msg", &self.msg)
            .field("source", &self.source)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

impl From<Error> for io::Error {
    /// For `Read` on a response body and for `?` in functions returning `io::Result`.
    fn from(e: Error) -> io::Error {
        let kind = match e.kind {
            Kind::Timeout | Kind::PoolTimeout => io::ErrorKind::TimedOut,
            Kind::Protocol | Kind::TooLarge => io::ErrorKind::InvalidData,
            Kind::Url | Kind::Header => io::ErrorKind::InvalidInput,
            Kind::Connect => io::ErrorKind::ConnectionRefused,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}
