//! Middleware: logic around a handler (before, after, or instead of it), an access log in the
//! Common or Combined Log Format, and request IDs.
//!
//! A [`Middleware`] gets the request, the response and [`Next`], the rest of the chain; it may
//! run `next` once, not at all (answering itself), and act on the response afterwards.
//! [`wrap`] puts one around any handler; `Router::layer` around a
//! router. Wrapping is a generic type, not a box: a handler that is not wrapped pays nothing.

use crate::{Handler, Request, Response};
use std::time::Instant;

/// Logic around a handler. Implemented for closures through [`from_fn`].
///
/// ```
/// use shockwave::middleware::{Middleware, Next};
/// use shockwave::{Request, Response};
///
/// /// Refuses requests without the right token.
/// struct Auth(&'static str);
///
/// impl Middleware for Auth {
///     fn call(&self, req: &Request, resp: &mut Response, next: Next<'_>) {
///         if req.header("authorization") == Some(self.0) {
///             next.run(req, resp);
///         } else {
///             resp.set_status(401);
///         }
///     }
/// }
///
/// let app = shockwave::middleware::wrap(|_req: &Request, resp: &mut Response| resp.write_body("secret"), Auth("Bearer 42"));
/// assert_eq!(shockwave::test::request("GET", "/").send(&app).status(), 401);
/// let ok = shockwave::test::request("GET", "/").header("Authorization", "Bearer 42").send(&app);
/// assert_eq!(ok.text(), "secret");
/// ```
pub trait Middleware: Send + Sync + 'static {
    /// Handles `req`, running `next` for the wrapped handler (and any middleware inside).
    ///
    /// ```
    /// use shockwave::middleware::{wrap, Middleware, Next};
    /// use shockwave::{Request, Response};
    ///
    /// struct Header(&'static str, &'static str);
    ///
    /// impl Middleware for Header {
    ///     fn call(&self, req: &Request, resp: &mut Response, next: Next<'_>) {
    ///         next.run(req, resp); // the handler first, then:
    ///         resp.set_header(self.0, self.1);
    ///     }
    /// }
    ///
    /// let app = wrap(|_req: &Request, resp: &mut Response| resp.write_body("hi"), Header("X-Frame-Options", "DENY"));
    /// assert_eq!(shockwave::test::request("GET", "/").send(&app).header("x-frame-options"), Some("DENY"));
    /// ```
    fn call(&self, req: &Request, resp: &mut Response, next: Next<'_>);
}

/// The rest of a middleware chain: inner middleware, then the handler.
///
/// ```
/// use shockwave::middleware::{from_fn, wrap};
/// let tag = |name: &'static str| {
///     from_fn(move |req, resp, next| {
///         resp.write_body(format!("{name}>"));
///         next.run(req, resp); // everything inside this middleware
///         resp.write_body(format!("<{name}"));
///     })
/// };
/// let handler = |_req: &shockwave::Request, resp: &mut shockwave::Response| resp.write_body("handler");
/// let app = wrap(wrap(handler, tag("inner")), tag("outer"));
/// assert_eq!(shockwave::test::request("GET", "/").send(&app).text(), "outer>inner>handler<inner<outer");
/// ```
#[derive(Clone, Copy)]
pub struct Next<'a> {
    layers: &'a [std::sync::Arc<dyn Middleware>],
    handler: &'a dyn Handler,
}

impl<'a> Next<'a> {
    pub(crate) fn new(layers: &'a [std::sync::Arc<dyn Middleware>], handler: &'a dyn Handler) -> Next<'a> {
        Next { layers, handler }
    }

    /// Runs the rest of the chain on `req`.
    ///
    /// A middleware that does not run it answers in the handler's place:
    ///
    /// ```
    /// use shockwave::middleware::{from_fn, wrap};
    /// let maintenance = from_fn(|req, resp, next| {
    ///     if req.path().starts_with("/admin") {
    ///         resp.set_status(503); // the handler never runs
    ///     } else {
    ///         next.run(req, resp);
    ///     }
    /// });
    /// let app = wrap(|_req: &shockwave::Request, resp: &mut shockwave::Response| resp.write_body("ok"), maintenance);
    /// assert_eq!(shockwave::test::request("GET", "/admin/users").send(&app).status(), 503);
    /// assert_eq!(shockwave::test::request("GET", "/").send(&app).text(), "ok");
    /// ```
    pub fn run(self, req: &Request, resp: &mut Response) {
        match self.layers.split_last() {
            Some((outer, inner)) => outer.call(req, resp, Next { layers: inner, handler: self.handler }),
            None => self.handler.handle(req, resp),
        }
    }
}

impl std::fmt::Debug for Next<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Next").field("layers", &self.layers.len()).finish()
    }
}

/// A handler wrapped in a middleware: see [`wrap`].
///
/// ```
/// use shockwave::middleware::{wrap, AccessLog, RequestId, Wrapped};
/// let hello = |_req: &shockwave::Request, resp: &mut shockwave::Response| resp.write_body("hello");
/// // RequestId runs first, so the access log's lines carry the request's ID
/// let app: Wrapped<Wrapped<_, AccessLog>, RequestId> = wrap(wrap(hello, AccessLog::common()), RequestId::new());
/// let resp = shockwave::test::request("GET", "/").send(&app);
/// assert_eq!((resp.text(), resp.header("x-request-id").map(str::len)), ("hello", Some(16)));
/// ```
#[derive(Debug)]
pub struct Wrapped<H, M> {
    inner: H,
    middleware: M,
}

/// Wraps `handler` in `middleware`; wrap the result again to stack them (the last one added
/// runs first).
///
/// ```
/// use shockwave::middleware::{from_fn, wrap};
/// let hello = |_req: &shockwave::Request, resp: &mut shockwave::Response| resp.write_body("hello");
/// let app = wrap(hello, from_fn(|req, resp, next| {
///     next.run(req, resp);
///     resp.set_header("X-Frame-Options", "DENY");
/// }));
/// assert_eq!(shockwave::test::request("GET", "/").send(&app).header("x-frame-options"), Some("DENY"));
/// ```
pub fn wrap<H: Handler, M: Middleware>(handler: H, middleware: M) -> Wrapped<H, M> {
    Wrapped { inner: handler, middleware }
}

impl<H: Handler, M: Middleware> Handler for Wrapped<H, M> {
    #[inline]
    fn handle(&self, req: &Request, resp: &mut Response) {
        self.middleware.call(req, resp, Next::new(&[], &self.inner))
    }
}

/// A middleware written as a closure `|req, resp, next| …`: see [`from_fn`].
///
/// A function can return one, its closure type left unnamed:
///
/// ```
/// use shockwave::middleware::{from_fn, wrap, FromFn, Next};
/// use shockwave::{Request, Response};
///
/// fn no_store() -> FromFn<impl Fn(&Request, &mut Response, Next<'_>) + Send + Sync + 'static> {
///     from_fn(|req, resp, next| {
///         next.run(req, resp);
///         resp.set_header("Cache-Control", "no-store");
///     })
/// }
///
/// let app = wrap(|_req: &Request, _resp: &mut Response| {}, no_store());
/// assert_eq!(shockwave::test::request("GET", "/").send(&app).header("cache-control"), Some("no-store"));
/// ```
pub struct FromFn<F>(F);

/// A middleware from a closure, whose argument types are inferred.
///
/// ```
/// use shockwave::middleware::from_fn;
/// let timing = from_fn(|req, resp, next| {
///     let t = std::time::Instant::now();
///     next.run(req, resp);
///     resp.set_header("Server-Timing", format!("app;dur={:.3}", t.elapsed().as_secs_f64() * 1e3));
/// });
/// let app = shockwave::middleware::wrap(|_req: &shockwave::Request, _resp: &mut shockwave::Response| {}, timing);
/// assert!(shockwave::test::request("GET", "/").send(&app).header("server-timing").is_some());
/// ```
pub fn from_fn<F>(f: F) -> FromFn<F>
where
    F: Fn(&Request, &mut Response, Next<'_>) + Send + Sync + 'static,
{
    FromFn(f)
}

impl<F> Middleware for FromFn<F>
where
    F: Fn(&Request, &mut Response, Next<'_>) + Send + Sync + 'static,
{
    #[inline]
    fn call(&self, req: &Request, resp: &mut Response, next: Next<'_>) {
        (self.0)(req, resp, next)
    }
}

impl<F> std::fmt::Debug for FromFn<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FromFn")
    }
}

/// The line formats [`AccessLog`] writes.
///
/// ```
/// use shockwave::middleware::AccessLog;
/// assert!(format!("{:?}", AccessLog::common()).contains("format: Common"));
/// assert!(format!("{:?}", AccessLog::combined()).contains("format: Combined"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogFormat {
    /// NCSA Common Log Format: `host - - [date] "request line" status bytes`.
    Common,
    /// Combined: Common plus `"referer" "user-agent"` (nginx's and Apache's default).
    Combined,
}

type Sink = Box<dyn Fn(&str) + Send + Sync>;

/// An access log: one line per request, after the handler, in the Common or Combined Log
/// Format, with the request's duration appended in microseconds (and its request ID if a
/// [`RequestId`] runs outside it). Lines go to the `log` facade (target `shockwave::access`,
/// level info; nothing is formatted when that level is off), or to a function of yours.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// let lines = Arc::new(Mutex::new(Vec::new()));
/// let sink = lines.clone();
/// let log = shockwave::middleware::AccessLog::common().to(move |line| sink.lock().unwrap().push(line.to_string()));
/// let app = shockwave::middleware::wrap(|_req: &shockwave::Request, resp: &mut shockwave::Response| resp.write_body("hi"), log);
/// shockwave::test::request("GET", "/a?b=1").send(&app);
/// let line = lines.lock().unwrap()[0].clone();
/// assert!(line.starts_with("127.0.0.1 - - ["), "{line}");
/// assert!(line.contains(r#"] "GET /a?b=1 HTTP/1.1" 200 2 "#), "{line}");
/// assert!(line.ends_with("µs"), "{line}");
/// ```
pub struct AccessLog {
    format: LogFormat,
    sink: Option<Sink>,
}

impl AccessLog {
    /// Combined Log Format to the `log` facade.
    ///
    /// ```
    /// use shockwave::middleware::{wrap, AccessLog};
    /// let (lines, log) = std::sync::mpsc::channel();
    /// let access = AccessLog::combined().to(move |line| lines.send(line.to_string()).unwrap());
    /// let app = wrap(|_req: &shockwave::Request, resp: &mut shockwave::Response| resp.write_body("hi"), access);
    /// shockwave::test::request("GET", "/").header("User-Agent", "curl/8.5").send(&app);
    /// let line = log.recv().unwrap();
    /// assert!(line.contains(r#""GET / HTTP/1.1" 200 2 "-" "curl/8.5" "#), "{line}");
    /// ```
    pub fn combined() -> AccessLog {
        AccessLog { format: LogFormat::Combined, sink: None }
    }

    /// Common Log Format to the `log` facade.
    ///
    /// With a logger installed (`env_logger`, `simple_logger` …), each request logs a line at level
    /// info, target `shockwave::access`:
    ///
    /// ```
    /// use shockwave::middleware::{wrap, AccessLog};
    /// let hi = |_req: &shockwave::Request, resp: &mut shockwave::Response| resp.write_body("hi");
    /// let app = wrap(hi, AccessLog::common());
    /// assert_eq!(shockwave::test::request("GET", "/").send(&app).text(), "hi");
    /// // logs: 127.0.0.1 - - [01/Dec/2026:11:50:48 +0000] "GET / HTTP/1.1" 200 2 41µs
    /// ```
    pub fn common() -> AccessLog {
        AccessLog { format: LogFormat::Common, sink: None }
    }

    /// Sends each line to `sink` instead of the `log` facade (a file, a channel, a test).
    ///
    /// ```
    /// use shockwave::middleware::{wrap, AccessLog};
    /// use std::io::Write;
    /// let file = std::sync::Mutex::new(std::io::sink()); // or a std::fs::File
    /// let access = AccessLog::common().to(move |line| {
    ///     let _ = writeln!(file.lock().unwrap(), "{line}");
    /// });
    /// let app = wrap(|_req: &shockwave::Request, _resp: &mut shockwave::Response| {}, access);
    /// shockwave::test::request("GET", "/").send(&app);
    /// ```
    pub fn to(mut self, sink: impl Fn(&str) + Send + Sync + 'static) -> AccessLog {
        self.sink = Some(Box::new(sink));
        self
    }

    fn enabled(&self) -> bool {
        self.sink.is_some() || log::log_enabled!(target: "shockwave::access", log::Level::Info)
    }

    fn line(&self, req: &Request, resp: &Response, micros: u128) -> String {
        use std::fmt::Write;
        // the server's cached `Date: Tue, 01 Dec 2026 11:50:48 GMT\r\n` (formatted once a
        // second), rearranged as "01/Dec/2026:11:50:48 +0000"
        let line = crate::http::date::line();
        let d = String::from_utf8_lossy(&line[6..]);
        let mut s = String::with_capacity(160);
        let _ = write!(
            s,
            "{} - - [{}/{}/{}:{} +0000] \"{} {} {}\" {} ",
            req.remote_addr().ip(),
            &d[5..7],
            &d[8..11],
            &d[12..16],
            &d[17..25],
            req.method(),
            req.target().escape_debug(),
            req.version(),
            resp.status()
        );
        match resp.bytes_sent() {
            0 => s.push('-'),
            n => {
                let _ = write!(s, "{n}");
            }
        }
        if self.format == LogFormat::Combined {
            let h = |n| req.header(n).unwrap_or("-").escape_debug().to_string();
            let _ = write!(s, " \"{}\" \"{}\"", h("referer"), h("user-agent"));
        }
        if let Some(id) = resp.header("x-request-id") {
            let _ = write!(s, " {}", id.escape_debug());
        }
        let _ = write!(s, " {micros}µs");
        s
    }
}

impl Middleware for AccessLog {
    fn call(&self, req: &Request, resp: &mut Response, next: Next<'_>) {
        if !self.enabled() {
            return next.run(req, resp);
        }
        let t = Instant::now();
        next.run(req, resp);
        let line = self.line(req, resp, t.elapsed().as_micros());
        match &self.sink {
            Some(sink) => sink(&line),
            None => log::info!(target: "shockwave::access", "{line}"),
        }
    }
}

impl std::fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLog").field("format", &self.format).field("custom_sink", &self.sink.is_some()).finish()
    }
}

/// Gives every request an ID: the client's (or proxy's) `X-Request-Id` when it sent a
/// usable one (1–128 visible ASCII characters), else a new one, unique within the process
/// and unlikely to repeat across restarts. It is echoed in the response's `X-Request-Id`,
/// where handlers and an [`AccessLog`] inside it can read it
/// ([`Response::header`](crate::Response::header)).
///
/// ```
/// use shockwave::middleware::{wrap, AccessLog, RequestId};
/// let app = wrap(|_req: &shockwave::Request, resp: &mut shockwave::Response| {
///     let id = resp.header("x-request-id").unwrap_or("").to_string();
///     resp.write_body(format!("request {id}"));
/// }, RequestId::new());
/// let given = shockwave::test::request("GET", "/").header("X-Request-Id", "abc-1").send(&app);
/// assert_eq!((given.header("x-request-id"), given.text()), (Some("abc-1"), "request abc-1"));
/// let made = shockwave::test::request("GET", "/").send(&app);
/// assert_eq!(made.header("x-request-id").unwrap().len(), 16);
/// ```
#[derive(Debug)]
pub struct RequestId {
    seed: u64,
    next: std::sync::atomic::AtomicU64,
}

impl RequestId {
    /// A request-ID middleware.
    ///
    /// ```
    /// use shockwave::middleware::{wrap, RequestId};
    /// let app = wrap(|_req: &shockwave::Request, _resp: &mut shockwave::Response| {}, RequestId::new());
    /// let id = || shockwave::test::request("GET", "/").send(&app).header("x-request-id").unwrap().to_string();
    /// assert_ne!(id(), id()); // a new one for each request
    /// ```
    pub fn new() -> RequestId {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let seed = (t.as_nanos() as u64) ^ (u64::from(std::process::id()) << 32);
        RequestId { seed, next: std::sync::atomic::AtomicU64::new(0) }
    }

    fn make(&self) -> [u8; 16] {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // a bijective mix of seed + counter: distinct for every request of this process
        let mut x = self.seed.wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        let mut out = [0u8; 16];
        for (i, b) in out.iter_mut().enumerate() {
            *b = b"0123456789abcdef"[(x >> (60 - 4 * i)) as usize & 15];
        }
        out
    }
}

impl Default for RequestId {
    fn default() -> RequestId {
        RequestId::new()
    }
}

impl Middleware for RequestId {
    fn call(&self, req: &Request, resp: &mut Response, next: Next<'_>) {
        let made;
        let id: &[u8] = match req.header("x-request-id") {
            Some(id) if (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()) => id.as_bytes(),
            _ => {
                made = self.make();
                &made
            }
        };
        resp.set_header("X-Request-Id", id);
        next.run(req, resp);
        if resp.header_bytes("x-request-id").is_none() {
            // the handler's response was replaced (an error): keep the ID on it
            resp.set_header("X-Request-Id", id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_differ() {
        let r = RequestId::new();
        let ids: std::collections::HashSet<[u8; 16]> = (0..10_000).map(|_| r.make()).collect();
        assert_eq!(ids.len(), 10_000);
    }

    #[test]
    fn the_id_survives_an_error_response() {
        let app = wrap(
            |_req: &Request, _resp: &mut Response| -> Result<(), crate::Error> { Err(crate::Error::not_found("no")) },
            RequestId::new(),
        );
        let r = crate::test::request("GET", "/").header("X-Request-Id", "r-1").send(&app);
        assert_eq!((r.status(), r.header("x-request-id")), (404, Some("r-1")));
        let r = crate::test::request("GET", "/").send(&app);
        assert_eq!((r.status(), r.header("x-request-id").map(str::len)), (404, Some(16)));
    }
}
