//! HTTP compression (features `compress` for gzip and deflate, `brotli` for br): the
//! [`Compress`] middleware, which compresses responses the client accepts compressed and can
//! check request bodies' `Content-Encoding`; [`Request::decoded_body`](crate::Request::decoded_body)
//! and [`decoded_reader`](crate::Request::decoded_reader), which decode request bodies with a
//! size limit; and the codings' names ([`Coding`]).
//!
//! The middleware only decides, from the request, which coding the client accepts; the
//! response is compressed when it is encoded, after the handler and every middleware have
//! run, so the place of `Compress` in a chain does not matter and other middleware see the
//! body uncompressed. A streamed response (written through `io::Write`) is compressed as it
//! goes, and `flush()` flushes the encoder, so events and long polls arrive promptly.
//!
//! ```
//! use shockwave::compress::Compress;
//! use shockwave::middleware::wrap;
//! let page = |_req: &shockwave::Request, resp: &mut shockwave::Response| {
//!     resp.set_content_type("text/html");
//!     resp.write_body("<p>hello</p>".repeat(200));
//! };
//! let app = wrap(page, Compress::new());
//! let resp = shockwave::test::request("GET", "/").header("Accept-Encoding", "gzip").send(&app);
//! # #[cfg(feature = "compress")]
//! assert_eq!(resp.header("content-encoding"), Some("gzip"));
//! assert_eq!(resp.header("vary"), Some("Accept-Encoding"));
//! ```
//!
//! # Implementation notes
//! Negotiation (`accept.rs`) and the type predicate (`types.rs`) are pure functions; the
//! response side lives beside `Response` (`src/http/response/coding.rs`), which owns the hooks
//! into encoding; the encoders are in `encode.rs`, the decoders in `decode.rs` (shared with
//! the client's `src/client/decode.rs`).

mod accept;
pub(crate) mod decode;
pub(crate) mod encode;
mod types;

pub use decode::DecodedReader;
pub use types::is_compressible;

use crate::middleware::{Middleware, Next};
use crate::{Request, Response};
use std::sync::Arc;

/// A content coding (RFC 9110 §8.4.1) Shockwave can apply and remove.
///
/// ```
/// use shockwave::compress::Coding;
/// assert_eq!(Coding::Gzip.name(), "gzip");
/// assert_eq!(Coding::Brotli.name(), "br");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Coding {
    /// `gzip` (RFC 1952), feature `compress`.
    Gzip = 0,
    /// `deflate`: zlib-wrapped deflate (RFC 1950), feature `compress`.
    Deflate = 1,
    /// `br`: Brotli (RFC 7932), feature `brotli`.
    Brotli = 2,
}

impl Coding {
    pub(crate) const ALL: [Coding; 3] = [Coding::Gzip, Coding::Deflate, Coding::Brotli];

    /// The coding's name in `Content-Encoding` and `Accept-Encoding`.
    ///
    /// ```
    /// assert_eq!(shockwave::compress::Coding::Deflate.name(), "deflate");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Brotli => "br",
        }
    }

    /// Whether this build can encode and decode it (its cargo feature is on).
    ///
    /// ```
    /// use shockwave::compress::Coding;
    /// assert_eq!(Coding::Gzip.is_available(), cfg!(feature = "compress"));
    /// assert_eq!(Coding::Brotli.is_available(), cfg!(feature = "brotli"));
    /// ```
    pub fn is_available(self) -> bool {
        match self {
            Coding::Gzip | Coding::Deflate => cfg!(feature = "compress"),
            Coding::Brotli => cfg!(feature = "brotli"),
        }
    }

    /// Its name as a `Content-Encoding` value (case-insensitive; `x-gzip` is gzip, RFC 9110
    /// §8.4.1.3).
    pub(crate) fn matches(self, name: &[u8]) -> bool {
        name.eq_ignore_ascii_case(self.name().as_bytes())
            || (self == Coding::Gzip && name.eq_ignore_ascii_case(b"x-gzip"))
    }

    /// The available coding named `name`.
    pub(crate) fn from_name(name: &[u8]) -> Option<Coding> {
        Coding::ALL.into_iter().find(|c| c.is_available() && c.matches(name))
    }

    /// The available codings, comma-separated, for an `Accept-Encoding` answer.
    pub(crate) fn available_list() -> &'static str {
        match (cfg!(feature = "brotli"), cfg!(feature = "compress")) {
            (true, true) => "br, gzip, deflate",
            (true, false) => "br",
            _ => "gzip, deflate",
        }
    }
}

/// gzip's and deflate's default level: zlib's own default, Apache's and Go's. On a 100 KB
/// JSON answer (`scripts/bench-compress.sh`) it took ~0.8 ms of CPU for 13.3 KB on the wire,
/// level 1 ~0.27 ms for 21.0 KB; nginx defaults to 1, worth it on CPU-bound servers.
pub const DEFAULT_LEVEL: u32 = 6;
/// brotli's default quality for dynamic content, where ratios flatten and costs climb: on the
/// same answer quality 4 gave 6.8 KB (half of gzip 6's bytes) for ~2.4 ms of CPU, 3 gave
/// 7.6 KB for ~1.8 ms, 5 gave 6.1 KB for ~5.8 ms; 11 (the crate's default) is for files
/// compressed once. The brotli crate builds ~1.4 MB of encoder state per response, a fixed
/// cost gzip (whose state is reused) does not pay: a CPU-bound server may rather
/// [`prefer`](Compress::prefer) gzip.
pub const DEFAULT_BROTLI_QUALITY: u32 = 4;
/// Bodies smaller than this are sent as they are (nginx's `gzip_min_length` is 20, but
/// under ~1 KiB the gzip framing and CPU buy nearly nothing; tower-http uses 32 B, Akamai
/// and Cloudflare ~1 KiB).
pub const DEFAULT_MIN_SIZE: u64 = 1024;

type Predicate = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// The settings of a [`Compress`], shared by every response it plans.
#[derive(Clone)]
pub(crate) struct Settings {
    /// Offered codings, most preferred first.
    pub order: Vec<Coding>,
    pub level: u32,
    pub quality: u32,
    pub min_size: u64,
    pub types: Predicate,
    pub decode_requests: bool,
}

/// Compression middleware: responses are compressed with the best coding the request's
/// `Accept-Encoding` allows (br, then gzip, then deflate by default, of those this build has),
/// when the body is worth it:
///
/// - its Content-Type is compressible ([`is_compressible`], or [`content_types`](Self::content_types));
/// - it is at least [`min_size`](Self::min_size) bytes (1 KiB by default; a streamed body of
///   unknown length always qualifies);
/// - the status has a body and is not `206`, there is no `Content-Range`, the handler has not
///   set `Content-Encoding` itself, and `Cache-Control` does not say `no-transform`.
///
/// A compressed response gets `Content-Encoding`, a `Content-Length` for the compressed bytes
/// (or chunked framing when streamed), and a strong `ETag` made weak (`W/"…"`, as nginx does:
/// the bytes are no longer the handler's). Every response whose encoding depended on
/// `Accept-Encoding` says `Vary: Accept-Encoding` (added to a `Vary` the handler set, never
/// twice), also when this client got it uncompressed. A `HEAD` request gets the headers
/// the `GET` would (without a `Content-Length`, which would cost compressing the body). A
/// client that accepts none of our codings, even one refusing `identity`, gets the body
/// uncompressed (not a 406), as nginx and Apache do.
///
/// ```
/// use shockwave::compress::{Coding, Compress};
/// use shockwave::middleware::wrap;
/// let compress = Compress::new().level(4).min_size(256).prefer(&[Coding::Gzip, Coding::Brotli]);
/// let app = wrap(|_req: &shockwave::Request, resp: &mut shockwave::Response| {
///     resp.set_content_type("application/json");
///     resp.write_body(format!("[{}0]", "0,".repeat(500)));
/// }, compress);
/// let resp = shockwave::test::request("GET", "/").header("Accept-Encoding", "br, gzip").send(&app);
/// # #[cfg(feature = "compress")]
/// assert_eq!(resp.header("content-encoding"), Some("gzip")); // our preference breaks the tie
/// ```
///
/// With a router (feature `router`), as a layer around every route:
///
/// ```
/// # #[cfg(feature = "router")] {
/// let app = shockwave::Router::new()
///     .get("/", |_req, resp| {
///         resp.set_content_type("text/html");
///         resp.write_body("<li>item</li>".repeat(100));
///     })
///     .layer(shockwave::compress::Compress::new());
/// let resp = shockwave::test::request("GET", "/").header("Accept-Encoding", "gzip, br").send(&app);
/// assert!(resp.header("content-encoding").is_some());
/// # }
/// ```
#[derive(Clone)]
pub struct Compress {
    s: Arc<Settings>,
}

impl Default for Compress {
    fn default() -> Compress {
        Compress::new()
    }
}

impl Compress {
    /// The defaults: every available coding (br > gzip > deflate), gzip level
    /// [`DEFAULT_LEVEL`], brotli quality [`DEFAULT_BROTLI_QUALITY`], [`DEFAULT_MIN_SIZE`],
    /// [`is_compressible`] types, request bodies not checked.
    ///
    /// ```
    /// let app = shockwave::middleware::wrap(|_req: &shockwave::Request, _resp: &mut shockwave::Response| {}, shockwave::compress::Compress::new());
    /// # let _ = app;
    /// ```
    pub fn new() -> Compress {
        Compress {
            s: Arc::new(Settings {
                order: [Coding::Brotli, Coding::Gzip, Coding::Deflate]
                    .into_iter()
                    .filter(|c| c.is_available())
                    .collect(),
                level: DEFAULT_LEVEL,
                quality: DEFAULT_BROTLI_QUALITY,
                min_size: DEFAULT_MIN_SIZE,
                types: Arc::new(is_compressible),
                decode_requests: false,
            }),
        }
    }

    fn with(mut self, f: impl FnOnce(&mut Settings)) -> Compress {
        f(Arc::make_mut(&mut self.s));
        self
    }

    /// gzip's and deflate's level, 1 (fastest) to 9 (smallest); 0 stores uncompressed.
    ///
    /// ```
    /// let fast = shockwave::compress::Compress::new().level(1);
    /// # let _ = fast;
    /// ```
    pub fn level(self, level: u32) -> Compress {
        self.with(|s| s.level = level.min(9))
    }

    /// brotli's quality, 0 to 11.
    ///
    /// ```
    /// let smaller = shockwave::compress::Compress::new().br_quality(6);
    /// # let _ = smaller;
    /// ```
    pub fn br_quality(self, quality: u32) -> Compress {
        self.with(|s| s.quality = quality.min(11))
    }

    /// The smallest body compressed, in bytes.
    ///
    /// ```
    /// let all = shockwave::compress::Compress::new().min_size(0);
    /// # let _ = all;
    /// ```
    pub fn min_size(self, bytes: u64) -> Compress {
        self.with(|s| s.min_size = bytes)
    }

    /// Offers brotli (`true`, when the feature is on) or not.
    ///
    /// ```
    /// let gzip_only = shockwave::compress::Compress::new().br(false);
    /// # let _ = gzip_only;
    /// ```
    pub fn br(self, on: bool) -> Compress {
        self.toggle(Coding::Brotli, on)
    }

    /// Offers gzip (`true`, when the feature is on) or not.
    ///
    /// ```
    /// let br_only = shockwave::compress::Compress::new().gzip(false).deflate(false);
    /// # let _ = br_only;
    /// ```
    pub fn gzip(self, on: bool) -> Compress {
        self.toggle(Coding::Gzip, on)
    }

    /// Offers deflate (`true`, when the feature is on) or not.
    ///
    /// ```
    /// let no_deflate = shockwave::compress::Compress::new().deflate(false);
    /// # let _ = no_deflate;
    /// ```
    pub fn deflate(self, on: bool) -> Compress {
        self.toggle(Coding::Deflate, on)
    }

    fn toggle(self, c: Coding, on: bool) -> Compress {
        self.with(|s| {
            s.order.retain(|&o| o != c);
            if on && c.is_available() {
                let at = Coding::ALL_PREFERRED.iter().position(|&p| p == c).unwrap_or(0);
                let i = s.order.iter().position(|o| Coding::ALL_PREFERRED.iter().position(|p| p == o) > Some(at));
                s.order.insert(i.unwrap_or(s.order.len()), c);
            }
        })
    }

    /// The codings offered and their order of preference, for ties in the client's
    /// q-values; codings this build lacks are left out.
    ///
    /// ```
    /// use shockwave::compress::{Coding, Compress};
    /// let gzip_first = Compress::new().prefer(&[Coding::Gzip, Coding::Brotli]);
    /// # let _ = gzip_first;
    /// ```
    pub fn prefer(self, order: &[Coding]) -> Compress {
        self.with(|s| {
            s.order.clear();
            for &c in order {
                if c.is_available() && !s.order.contains(&c) {
                    s.order.push(c);
                }
            }
        })
    }

    /// Which Content-Types are compressed (the media type as the handler set it, with any
    /// parameters), instead of [`is_compressible`].
    ///
    /// ```
    /// use shockwave::compress::{is_compressible, Compress};
    /// let c = Compress::new().content_types(|t| t.starts_with("application/x-ndjson") || is_compressible(t));
    /// # let _ = c;
    /// ```
    pub fn content_types(self, f: impl Fn(&str) -> bool + Send + Sync + 'static) -> Compress {
        self.with(|s| s.types = Arc::new(f))
    }

    /// Refuses request bodies in a coding this build cannot decode: `415 Unsupported Media
    /// Type` with an `Accept-Encoding` saying which it can (RFC 9110 §15.5.16), before the
    /// handler runs. The handler then reads bodies with
    /// [`Request::decoded_body`](crate::Request::decoded_body) or
    /// [`decoded_reader`](crate::Request::decoded_reader), which bound the decoded size.
    ///
    /// ```
    /// use shockwave::compress::Compress;
    /// let app = shockwave::middleware::wrap(|_req: &shockwave::Request, _resp: &mut shockwave::Response| {}, Compress::new().decode_requests(true));
    /// let resp = shockwave::test::request("POST", "/").header("Content-Encoding", "zstd").body("x").send(&app);
    /// assert_eq!(resp.status(), 415);
    /// assert!(resp.header("accept-encoding").is_some());
    /// ```
    pub fn decode_requests(self, on: bool) -> Compress {
        self.with(|s| s.decode_requests = on)
    }
}

impl Coding {
    /// The default order of preference.
    const ALL_PREFERRED: [Coding; 3] = [Coding::Brotli, Coding::Gzip, Coding::Deflate];
}

impl std::fmt::Debug for Compress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compress")
            .field("order", &self.s.order)
            .field("level", &self.s.level)
            .field("br_quality", &self.s.quality)
            .field("min_size", &self.s.min_size)
            .field("decode_requests", &self.s.decode_requests)
            .finish_non_exhaustive()
    }
}

/// What one response is to do, decided from its request before the handler runs.
#[derive(Clone)]
pub(crate) struct Plan {
    /// What the client accepts best (`None`: identity).
    pub coding: Option<Coding>,
    pub s: Arc<Settings>,
}

impl Middleware for Compress {
    fn call(&self, req: &Request, resp: &mut Response, next: Next<'_>) {
        if self.s.decode_requests {
            if let Err(e) = decode::check_request(req) {
                resp.set_status(415);
                resp.set_header("Accept-Encoding", Coding::available_list());
                resp.set_content_type("text/plain; charset=utf-8");
                resp.write_body(e);
                return;
            }
        }
        let coding = accept::Accepted::parse(req.header_all("accept-encoding")).choose(&self.s.order);
        resp.plan_coding(Plan { coding, s: self.s.clone() });
        next.run(req, resp);
    }
}

/// What to do with one response once its status and headers are known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Leave it alone: encoding did not depend on `Accept-Encoding`.
    Skip,
    /// Send it as it is, but say it varies by `Accept-Encoding`.
    VaryOnly,
    /// Compress with this coding.
    Compress(Coding),
}

/// The response's view for [`decide`]: header lookup, status, and the body size if known.
pub(crate) fn decide<'h>(
    plan: &Plan,
    status: u16,
    header: impl Fn(&str) -> Option<&'h [u8]>,
    size: Option<u64>,
) -> Decision {
    let ctype = header("content-type").and_then(|v| std::str::from_utf8(v).ok());
    let compressible = ctype.is_some_and(|t| (plan.s.types)(t));
    if status == 304 {
        // a 304 stands for the 200 it revalidates, which varied (RFC 9110 §15.4.5)
        return if ctype.is_none() || compressible { Decision::VaryOnly } else { Decision::Skip };
    }
    let listed = |name: &str, token: &[u8]| {
        header(name).is_some_and(|v| crate::h1::framing::list(v).any(|t| t.eq_ignore_ascii_case(token)))
    };
    let skip = status < 200
        || status == 204
        || status == 206
        || header("content-encoding").is_some()
        || header("content-range").is_some()
        || listed("cache-control", b"no-transform")
        || !compressible
        || size.is_some_and(|n| n < plan.s.min_size);
    match (skip, plan.coding) {
        (true, _) => Decision::Skip,
        (false, None) => Decision::VaryOnly,
        (false, Some(c)) => Decision::Compress(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(coding: Option<Coding>) -> Plan {
        Plan { coding, s: Compress::new().s.clone() }
    }

    #[test]
    fn decision_table() {
        let gz = Some(Coding::Gzip);
        let json: &[(&str, &[u8])] = &[("content-type", b"application/json")];
        // status, headers, body size, what the client accepts best, the decision
        type Case<'a> = (u16, &'a [(&'a str, &'a [u8])], Option<u64>, Option<Coding>, Decision);
        let cases: &[Case] = &[
            (200, json, Some(5000), gz, Decision::Compress(Coding::Gzip)),
            (200, json, None, gz, Decision::Compress(Coding::Gzip)),
            (200, json, Some(5000), None, Decision::VaryOnly),
            (200, json, Some(10), gz, Decision::Skip),
            (200, &[("content-type", b"image/png")], Some(5000), gz, Decision::Skip),
            (200, &[], Some(5000), gz, Decision::Skip),
            (206, json, Some(5000), gz, Decision::Skip),
            (204, json, Some(5000), gz, Decision::Skip),
            (304, &[], None, gz, Decision::VaryOnly),
            (304, &[("content-type", b"image/png")], None, gz, Decision::Skip),
            (
                200,
                &[("content-type", b"text/html"), ("content-range", b"bytes 0-9/100")],
                Some(5000),
                gz,
                Decision::Skip,
            ),
            (200, &[("content-type", b"text/html"), ("content-encoding", b"gzip")], Some(5000), gz, Decision::Skip),
            (
                200,
                &[("content-type", b"text/html"), ("cache-control", b"public, No-Transform")],
                Some(5000),
                gz,
                Decision::Skip,
            ),
            (
                200,
                &[("content-type", b"text/html"), ("cache-control", b"no-cache")],
                Some(5000),
                gz,
                Decision::Compress(Coding::Gzip),
            ),
            (404, json, Some(5000), gz, Decision::Compress(Coding::Gzip)),
        ];
        for (status, headers, size, coding, want) in cases {
            let h = |n: &str| headers.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
            assert_eq!(decide(&plan(*coding), *status, h, *size), *want, "{status} {headers:?} {size:?} {coding:?}");
        }
    }

    #[test]
    fn toggles_keep_the_preference_order() {
        let c = Compress::new().br(false).gzip(false).deflate(true).gzip(true).br(true);
        assert_eq!(c.s.order, Compress::new().s.order);
        assert!(Compress::new().gzip(false).s.order.iter().all(|&c| c != Coding::Gzip));
    }
}
