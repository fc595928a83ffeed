//! A blocking HTTP/1.1 client with keep-alive connection pools per host, on the same HTTP/1.1
//! core as the server (`crate::h1`: field-line parser, framing rules, chunked coding, header
//! sanitising, buffer free lists).
//!
//! ```no_run
//! let client = shockwave::Client::new();
//! let body = client.get("http://127.0.0.1:8080/users/1")?.text()?;
//! let resp = client.post("http://127.0.0.1:8080/users", br#"{"id":1}"#)?;
//! assert_eq!(resp.status(), 201);
//! # Ok::<(), shockwave::client::Error>(())
//! ```
//!
//! - [`Client`] is cheap to clone and `Send + Sync`: clones share one pool. Make one per
//!   process (or per set of settings) and use it from every thread.
//! - [`Client::get`], [`Client::post`], [`Client::send`] … return a [`Response`] whose body
//!   is still on the connection: read it as a [`std::io::Read`] (streamed), or with
//!   [`Response::text`] / [`Response::bytes`]. They follow redirects.
//! - [`Client::send_into`] is the fast path: a reused [`Request`] and [`Response`], the body
//!   read into the response's buffer, no heap allocation per call once warm, no redirects.
//! - Timeouts for connecting, each read and each write (and optionally the whole call) are
//!   always on; a failed or timed-out connection is never pooled again.
//! - A request that fails on a pooled connection the server had closed is retried once on
//!   a new one when that is safe (see [`Kind::Io`] and the retry rule in the docs of
//!   [`Client::send`]).
//! - `https://` needs cargo feature `tls` (rustls): TLS 1.3 and 1.2, the certificate always
//!   verified against the URL's host (an IP literal against the certificate's IP
//!   addresses), Mozilla's roots bundled; private CAs with
//!   `Builder::add_root_certificate`. Without the feature an `https://` URL is a
//!   [`Kind::Url`] error saying so.

mod body;
mod config;
mod conn;
mod connect;
#[cfg(any(feature = "compress", feature = "brotli"))]
mod decode;
#[cfg(not(any(feature = "compress", feature = "brotli")))]
#[path = "no_decode.rs"]
mod decode;
mod error;
pub(crate) mod exchange;
pub(crate) mod head;
mod pool;
pub(crate) mod request;
mod response;
#[cfg(feature = "tls")]
mod tls;
pub(crate) mod url;

pub use config::Builder;
pub use error::{Error, Kind};
pub use request::{Body, Request};
pub use response::Response;

use config::Config;
use connect::Resolver;
use pool::{Host, Pools};
use request::{BodyInner, Headers, Outgoing};
use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use url::Url;

/// A blocking HTTP/1.1 client with a keep-alive pool per host.
///
/// ```no_run
/// use std::io::Read;
/// let client = shockwave::Client::new();
/// let mut resp = client.get("http://127.0.0.1:8080/")?;
/// println!("{} {}", resp.status(), resp.reason());
/// let mut body = String::new();
/// resp.read_to_string(&mut body)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    /// Unique per client (not an address, which a later client could reuse).
    id: u64,
    cfg: Config,
    pools: Pools,
    resolver: Resolver,
    /// Built once from `cfg`'s roots: rustls's configuration is shared by its connections.
    #[cfg(feature = "tls")]
    tls: Arc<rustls::ClientConfig>,
}

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("config", &self.inner.cfg).finish_non_exhaustive()
    }
}

macro_rules! bodiless {
    ($(#[$doc:meta])* $name:ident, $method:literal) => {
        $(#[$doc])*
        pub fn $name(&self, url: &str) -> Result<Response, Error> {
            self.call($method, url, Body::empty())
        }
    };
}

macro_rules! with_body {
    ($(#[$doc:meta])* $name:ident, $method:literal) => {
        $(#[$doc])*
        pub fn $name<'b>(&self, url: &str, body: impl Into<Body<'b>>) -> Result<Response, Error> {
            self.call($method, url, body.into())
        }
    };
}

impl Client {
    /// A client with the default settings (see [`Builder`]).
    ///
    /// ```
    /// let client = shockwave::Client::new();
    /// let other = client.clone(); // shares the pool
    /// # drop((client, other));
    /// ```
    pub fn new() -> Client {
        Client::with_config(Config::default())
    }

    /// Configures a client.
    ///
    /// ```
    /// let client = shockwave::Client::builder().max_conns_per_host(8).build();
    /// # drop(client);
    /// ```
    pub fn builder() -> Builder {
        Builder::default()
    }

    pub(crate) fn with_config(mut cfg: Config) -> Client {
        if let Some(ua) = &cfg.user_agent {
            if ua.bytes().any(|b| b < 0x20 || b == 0x7f) {
                log::warn!("shockwave client: ignoring a User-Agent with control characters: {ua:?}");
                cfg.user_agent = None;
            }
        }
        let pools = Pools::new(cfg.max_conns_per_host, cfg.max_idle_per_host, cfg.idle_timeout);
        let resolver = Resolver::new(cfg.dns_ttl);
        static IDS: AtomicU64 = AtomicU64::new(0);
        let id = IDS.fetch_add(1, Relaxed);
        #[cfg(feature = "tls")]
        let tls = cfg.tls.config();
        Client {
            inner: Arc::new(Inner {
                id,
                cfg,
                pools,
                resolver,
                #[cfg(feature = "tls")]
                tls,
            }),
        }
    }

    bodiless!(
        /// `GET url`, following redirects; the body is left on the connection to be read.
        ///
        /// ```no_run
        /// let text = shockwave::Client::new().get("http://127.0.0.1:8080/users/1")?.text()?;
        /// # Ok::<(), shockwave::client::Error>(())
        /// ```
        get, "GET");
    bodiless!(
        /// `HEAD url`: the status and headers only.
        ///
        /// ```no_run
        /// let resp = shockwave::Client::new().head("http://127.0.0.1:8080/big.iso")?;
        /// println!("{:?}", resp.content_length());
        /// # Ok::<(), shockwave::client::Error>(())
        /// ```
        head, "HEAD");
    bodiless!(
        /// `DELETE url`.
        ///
        /// ```no_run
        /// let resp = shockwave::Client::new().delete("http://127.0.0.1:8080/users/1")?;
        /// # Ok::<(), shockwave::client::Error>(())
        /// ```
        delete, "DELETE");
    with_body!(
        /// `POST url` with a body: bytes, a string, a `File`, or any reader through
        /// [`Body::reader`].
        ///
        /// ```no_run
        /// let client = shockwave::Client::new();
        /// let resp = client.post("http://127.0.0.1:8080/users", br#"{"id":1}"#)?;
        /// let resp = client.post("http://127.0.0.1:8080/upload", std::fs::File::open("big.iso")?)?;
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        post, "POST");
    with_body!(
        /// `PUT url` with a body.
        ///
        /// ```no_run
        /// let resp = shockwave::Client::new().put("http://127.0.0.1:8080/users/1", "name=Ann")?;
        /// # Ok::<(), shockwave::client::Error>(())
        /// ```
        put, "PUT");
    with_body!(
        /// `PATCH url` with a body.
        ///
        /// ```no_run
        /// let resp = shockwave::Client::new().patch("http://127.0.0.1:8080/users/1", "name=Bo")?;
        /// # Ok::<(), shockwave::client::Error>(())
        /// ```
        patch, "PATCH");

    fn call(&self, method: &str, url: &str, body: Body<'_>) -> Result<Response, Error> {
        let u = Url::parse(url).map_err(|e| Error::new(Kind::Url, e.reason).at(url))?;
        let headers = Headers::default();
        match body.0 {
            BodyInner::Empty => self.follow(method, &u, &headers, Outgoing::Empty, None),
            BodyInner::Bytes(b) => self.follow(method, &u, &headers, Outgoing::Bytes(&b), None),
            BodyInner::Reader(mut r, n) => self.follow(method, &u, &headers, Outgoing::Reader(&mut *r, n), None),
        }
    }

    /// Sends `req` and returns the response with its body still on the connection,
    /// following redirects (up to [`Builder::max_redirects`]: 303, and 301/302 after a POST,
    /// become a GET without body; 307/308 resend the body if it is bytes; `Authorization`,
    /// `Cookie` and `Proxy-Authorization` are dropped when the host changes).
    ///
    /// A request that fails on a pooled connection before any response byte arrived (the
    /// server had closed it) is sent again once on a new connection if its method is
    /// idempotent (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) and its body is bytes; a POST or
    /// PATCH is never sent twice, and its error says so.
    ///
    /// ```no_run
    /// let req = shockwave::client::Request::get("http://127.0.0.1:8080/")?.header("Accept", "text/plain");
    /// let resp = shockwave::Client::new().send(&req)?;
    /// # Ok::<(), shockwave::client::Error>(())
    /// ```
    pub fn send(&self, req: &Request) -> Result<Response, Error> {
        req.with_body(|body| self.follow(&req.method, &req.url, &req.headers, body, Some(&req.host)))
    }

    /// The fast path: sends `req` and reads the whole response, body included, into `resp`,
    /// reusing its buffers. No redirects are followed. In a loop with the same `req` and
    /// `resp` it makes no heap allocation once the pool and buffers are warm.
    ///
    /// ```no_run
    /// let client = shockwave::Client::new();
    /// let req = shockwave::client::Request::get("http://127.0.0.1:8080/")?;
    /// let mut resp = shockwave::client::Response::default();
    /// for _ in 0..1000 {
    ///     client.send_into(&req, &mut resp)?;
    ///     assert_eq!(resp.status(), 200);
    ///     let _body: &[u8] = resp.body();
    /// }
    /// # Ok::<(), shockwave::client::Error>(())
    /// ```
    pub fn send_into(&self, req: &Request, resp: &mut Response) -> Result<(), Error> {
        resp.reset();
        let at = self.inner.cfg.deadline();
        let r = req.with_body(|mut body| {
            let mut live = self
                .exchange(&req.method, &req.url, &req.headers, &mut body, resp, at, Some(&req.host))
                .inspect_err(|_| resp.clear_head())?; // no spans into a head never filled
            live.read_to_end(&mut resp.body, &mut resp.trailer)?;
            resp.parse_trailer();
            live.finish();
            Ok(())
        });
        resp.url.clear();
        resp.url.push_str(req.url());
        r.map_err(|e| e.at(req.url()))
    }

    fn follow(
        &self,
        method: &str,
        url: &Url,
        headers: &Headers,
        mut body: Outgoing<'_>,
        mut cache: Option<&OnceLock<(u64, Arc<Host>)>>,
    ) -> Result<Response, Error> {
        let cfg = &self.inner.cfg;
        let at = cfg.deadline();
        let mut resp = Response::default();
        let mut method = Cow::Borrowed(method);
        let mut url = Cow::Borrowed(url);
        let mut headers = Cow::Borrowed(headers);
        let mut hops = 0;
        loop {
            let live = self
                .exchange(&method, &url, &headers, &mut body, &mut resp, at, cache.take())
                .map_err(|e| e.at(url.as_str()))?;
            resp.url.clear();
            resp.url.push_str(url.as_str());
            resp.live = Some(live);
            let status = resp.status;
            if !matches!(status, 301 | 302 | 303 | 307 | 308) || cfg.max_redirects == 0 {
                return Ok(resp);
            }
            let Some(location) = resp.header("location") else { return Ok(resp) };
            if hops >= cfg.max_redirects {
                return Err(Error::new(
                    Kind::Redirect,
                    format!(
                        "more than {} redirects (a redirect loop?); the last one pointed to {location:?}",
                        cfg.max_redirects
                    ),
                )
                .at(url.as_str()));
            }
            let next = url.join(location).map_err(|e| {
                Error::new(Kind::Redirect, format!("cannot follow the redirect to {location:?}: {}", e.reason))
                    .at(url.as_str())
            })?;
            let to_get = status == 303 || (matches!(status, 301 | 302) && method == "POST");
            if to_get {
                if method != "HEAD" {
                    method = Cow::Borrowed("GET");
                }
                body = Outgoing::Empty;
            } else if !body.replayable() {
                return Ok(resp); // a streamed body cannot be sent again: the 307/308 is the answer
            }
            if next.pool_key() != url.pool_key() {
                headers = Cow::Owned(headers.for_another_host());
            }
            resp.reset(); // the redirect's own body: kept on the connection if already here
            url = Cow::Owned(next);
            hops += 1;
        }
    }

    /// Connections this client has opened to the host of `url` so far (counts reuse: with
    /// keep-alive it stays at one for sequential requests).
    ///
    /// ```
    /// let client = shockwave::Client::new();
    /// assert_eq!(client.connections_opened("http://127.0.0.1:8080/"), 0);
    /// ```
    pub fn connections_opened(&self, url: &str) -> u64 {
        Url::parse(url).map_or(0, |u| self.inner.pools.opened(u.pool_key()))
    }

    /// Idle connections pooled for the host of `url`.
    ///
    /// ```
    /// assert_eq!(shockwave::Client::new().idle_connections("http://127.0.0.1:8080/"), 0);
    /// ```
    pub fn idle_connections(&self, url: &str) -> usize {
        Url::parse(url).map_or(0, |u| self.inner.pools.idle(u.pool_key()))
    }
}

#[cfg(test)]
mod tests {
    /// `Client` is shared between threads; requests and responses move between them.
    #[test]
    fn the_public_types_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_sync::<super::Client>();
        send_sync::<super::Request>();
        send::<super::Response>();
        send_sync::<super::Error>();
        send::<super::Body<'static>>();
    }
}
