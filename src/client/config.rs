//! The client's settings as one plain struct, and the [`Builder`] that fills it.

use super::Client;
use std::time::{Duration, Instant};

/// Every setting of a [`Client`]; built by [`Builder`], fixed once the client exists.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub max_conns_per_host: usize,
    pub max_idle_per_host: usize,
    pub idle_timeout: Duration,
    pub max_requests_per_conn: u32,
    pub pool_timeout: Duration,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub write_timeout: Duration,
    pub timeout: Option<Duration>,
    pub expect_timeout: Duration,
    pub max_redirects: u32,
    pub max_head: usize,
    pub max_fields: usize,
    pub max_body: u64,
    pub dns_ttl: Duration,
    pub user_agent: Option<String>,
    pub decompress: bool,
    #[cfg(feature = "tls")]
    pub tls: super::tls::Roots,
}

/// Per-host connection cap (fasthttp's default is 512; every connection past what the
/// server can answer at once only queues there instead of here).
const MAX_CONNS_PER_HOST: usize = 64;
/// Idle connections kept per host.
const MAX_IDLE_PER_HOST: usize = 16;
/// Below the idle timeouts servers commonly use (nginx 75 s, Shockwave 60 s, Node 5 s is the
/// outlier a retry covers), so a pooled connection is rarely one the server already closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

impl Config {
    /// When a call starting now must end (`None`: no whole-call timeout, or one too long to
    /// matter, such as `Duration::MAX`).
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.timeout.and_then(|t| Instant::now().checked_add(t))
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_conns_per_host: MAX_CONNS_PER_HOST,
            max_idle_per_host: MAX_IDLE_PER_HOST,
            idle_timeout: IDLE_TIMEOUT,
            max_requests_per_conn: u32::MAX,
            pool_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            timeout: None,
            expect_timeout: Duration::from_secs(1),
            max_redirects: 10,
            max_head: 64 * 1024,
            max_fields: 256, // CDN answers carry many Set-Cookie and tracing fields; the byte limit bounds the cost
            max_body: u64::MAX,
            dns_ttl: Duration::from_secs(30),
            user_agent: Some(concat!("shockwave/", env!("CARGO_PKG_VERSION")).to_owned()),
            decompress: true,
            #[cfg(feature = "tls")]
            tls: super::tls::Roots::default(),
        }
    }
}

/// Configures a [`Client`]. Every setting has a default; see each method.
///
/// ```
/// use std::time::Duration;
/// let client = shockwave::Client::builder()
///     .max_conns_per_host(64)
///     .max_idle_per_host(16)
///     .idle_timeout(Duration::from_secs(30))
///     .connect_timeout(Duration::from_secs(2))
///     .read_timeout(Duration::from_secs(5))
///     .write_timeout(Duration::from_secs(5))
///     .timeout(Duration::from_secs(10))
///     .build();
/// # drop(client);
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a Builder does nothing until .build()"]
pub struct Builder {
    cfg: Config,
}

impl Builder {
    /// Most connections open to one host at once (default 64). A request that finds them all
    /// busy waits for one, up to [`pool_timeout`](Self::pool_timeout), instead of failing.
    ///
    /// ```
    /// let client = shockwave::Client::builder().max_conns_per_host(4).build();
    /// # drop(client);
    /// ```
    pub fn max_conns_per_host(mut self, n: usize) -> Builder {
        self.cfg.max_conns_per_host = n.max(1);
        self
    }

    /// Most idle keep-alive connections kept per host (default 16; 0 closes each connection
    /// after its response).
    ///
    /// ```
    /// let client = shockwave::Client::builder().max_idle_per_host(0).build();
    /// # drop(client);
    /// ```
    pub fn max_idle_per_host(mut self, n: usize) -> Builder {
        self.cfg.max_idle_per_host = n;
        self
    }

    /// How long an idle connection stays in the pool (default 30 s).
    ///
    /// ```
    /// let client = shockwave::Client::builder().idle_timeout(std::time::Duration::from_secs(4)).build();
    /// # drop(client);
    /// ```
    pub fn idle_timeout(mut self, t: Duration) -> Builder {
        self.cfg.idle_timeout = t;
        self
    }

    /// Requests sent on one connection before it is closed (default: no limit).
    ///
    /// ```
    /// let client = shockwave::Client::builder().max_requests_per_conn(1000).build();
    /// # drop(client);
    /// ```
    pub fn max_requests_per_conn(mut self, n: u32) -> Builder {
        self.cfg.max_requests_per_conn = n.max(1);
        self
    }

    /// How long a request waits for a connection when the host's are all busy (default
    /// 10 s); then it fails with [`Kind::PoolTimeout`](super::Kind::PoolTimeout).
    ///
    /// ```
    /// let client = shockwave::Client::builder().pool_timeout(std::time::Duration::from_millis(500)).build();
    /// # drop(client);
    /// ```
    pub fn pool_timeout(mut self, t: Duration) -> Builder {
        self.cfg.pool_timeout = t;
        self
    }

    /// Bound on resolving and connecting, across all of a host's addresses (default 10 s).
    ///
    /// ```
    /// let client = shockwave::Client::builder().connect_timeout(std::time::Duration::from_secs(1)).build();
    /// # drop(client);
    /// ```
    pub fn connect_timeout(mut self, t: Duration) -> Builder {
        self.cfg.connect_timeout = t;
        self
    }

    /// Bound on each wait for response bytes (default 30 s).
    ///
    /// ```
    /// let client = shockwave::Client::builder().read_timeout(std::time::Duration::from_secs(5)).build();
    /// # drop(client);
    /// ```
    pub fn read_timeout(mut self, t: Duration) -> Builder {
        self.cfg.read_timeout = t;
        self
    }

    /// Bound on each wait for room to send request bytes (default 30 s).
    ///
    /// ```
    /// let client = shockwave::Client::builder().write_timeout(std::time::Duration::from_secs(5)).build();
    /// # drop(client);
    /// ```
    pub fn write_timeout(mut self, t: Duration) -> Builder {
        self.cfg.write_timeout = t;
        self
    }

    /// Bound on a whole call: waiting for a connection, connecting, sending, and receiving
    /// the response head and the body. Default: none, each step is bounded by its own
    /// timeout. A streamed response keeps the deadline: reading its body past it fails with
    /// a timeout.
    ///
    /// ```
    /// let client = shockwave::Client::builder().timeout(std::time::Duration::from_secs(10)).build();
    /// # drop(client);
    /// ```
    pub fn timeout(mut self, t: Duration) -> Builder {
        self.cfg.timeout = Some(t);
        self
    }

    /// How long a request with `Expect: 100-continue` waits for `100 Continue` before sending
    /// its body anyway (default 1 s).
    ///
    /// ```
    /// let client = shockwave::Client::builder().expect_timeout(std::time::Duration::from_millis(200)).build();
    /// # drop(client);
    /// ```
    pub fn expect_timeout(mut self, t: Duration) -> Builder {
        self.cfg.expect_timeout = t;
        self
    }

    /// Redirects the convenience calls ([`Client::get`], [`Client::send`], …) follow before
    /// failing with [`Kind::Redirect`](super::Kind::Redirect) (default 10; 0: return the 3xx
    /// response as it is). [`Client::send_into`] never follows redirects.
    ///
    /// ```
    /// let client = shockwave::Client::builder().max_redirects(0).build();
    /// # drop(client);
    /// ```
    pub fn max_redirects(mut self, n: u32) -> Builder {
        self.cfg.max_redirects = n;
        self
    }

    /// Longest response head accepted (default 64 KiB), and most field lines in it (default
    /// 256); beyond either the call fails with [`Kind::TooLarge`](super::Kind::TooLarge).
    ///
    /// ```
    /// let client = shockwave::Client::builder().max_response_head(16 * 1024, 50).build();
    /// # drop(client);
    /// ```
    pub fn max_response_head(mut self, bytes: usize, fields: usize) -> Builder {
        self.cfg.max_head = bytes.clamp(64, 1 << 20);
        self.cfg.max_fields = fields.max(1);
        self
    }

    /// Longest response body read (default: no limit). A longer one fails with
    /// [`Kind::TooLarge`](super::Kind::TooLarge) as soon as its length is known.
    ///
    /// ```
    /// let client = shockwave::Client::builder().max_response_body(10 << 20).build();
    /// # drop(client);
    /// ```
    pub fn max_response_body(mut self, bytes: u64) -> Builder {
        self.cfg.max_body = bytes;
        self
    }

    /// How long resolved addresses are reused (default 30 s; zero resolves on every connect).
    ///
    /// ```
    /// let client = shockwave::Client::builder().dns_ttl(std::time::Duration::ZERO).build();
    /// # drop(client);
    /// ```
    pub fn dns_ttl(mut self, t: Duration) -> Builder {
        self.cfg.dns_ttl = t;
        self
    }

    /// The `User-Agent` sent when a request sets none (default `shockwave/VERSION`; `None`
    /// sends none).
    ///
    /// ```
    /// let client = shockwave::Client::builder().user_agent(Some("my-app/1.0")).build();
    /// # drop(client);
    /// ```
    pub fn user_agent(mut self, ua: Option<&str>) -> Builder {
        self.cfg.user_agent = ua.map(str::to_owned);
        self
    }

    /// Whether the client asks for compressed responses and decodes them (default `true`
    /// with feature `compress` or `brotli`; without them nothing is asked for or decoded).
    ///
    /// On, a request that sets no `Accept-Encoding` is sent with `Accept-Encoding: br, gzip,
    /// deflate` (the codings this build has), and a body the server encoded with one of them
    /// is decoded as it is read, streaming. Such a response has no `Content-Encoding` or
    /// `Content-Length` fields any more ([`content_length`](super::Response::content_length)
    /// is then `None`: the length on the wire is not the length read), and
    /// [`max_response_body`](Self::max_response_body) bounds the decoded bytes too, so a
    /// zip bomb fails with [`Kind::TooLarge`](super::Kind::TooLarge). A request that sets its
    /// own `Accept-Encoding` gets the body as sent, encoded.
    ///
    /// ```
    /// let raw_bytes = shockwave::Client::builder().decompress(false).build();
    /// # drop(raw_bytes);
    /// ```
    pub fn decompress(mut self, on: bool) -> Builder {
        self.cfg.decompress = on;
        self
    }

    /// Trusts the root certificate(s) in `cert` for `https://` too (feature `tls`): one or
    /// more PEM `CERTIFICATE` blocks, or one DER certificate. A private CA's servers are then
    /// verified as public ones are; the bundled roots stay trusted unless
    /// [`tls_built_in_roots(false)`](Self::tls_built_in_roots).
    ///
    /// ```
    /// let err = shockwave::Client::builder().add_root_certificate(b"not a certificate").unwrap_err();
    /// assert!(err.is_tls());
    /// # let pem = std::fs::read("ca.pem").unwrap_or_default();
    /// # if !pem.is_empty() {
    /// let client = shockwave::Client::builder().add_root_certificate(&pem)?.build();
    /// # drop(client);
    /// # }
    /// # Ok::<(), shockwave::client::Error>(())
    /// ```
    #[cfg(feature = "tls")]
    pub fn add_root_certificate(mut self, cert: &[u8]) -> Result<Builder, super::Error> {
        self.cfg.tls.add(cert)?;
        Ok(self)
    }

    /// Whether `https://` servers may be verified against the bundled Mozilla roots
    /// (webpki-roots; default `true`, feature `tls`). Off, only the roots added with
    /// [`add_root_certificate`](Self::add_root_certificate) are trusted.
    ///
    /// ```
    /// let private_only = shockwave::Client::builder().tls_built_in_roots(false).build();
    /// # drop(private_only);
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls_built_in_roots(mut self, on: bool) -> Builder {
        self.cfg.tls.bundled = on;
        self
    }

    /// The client, with an empty pool.
    ///
    /// ```
    /// let client = shockwave::Client::builder().build();
    /// # drop(client);
    /// ```
    pub fn build(self) -> Client {
        Client::with_config(self.cfg)
    }
}
