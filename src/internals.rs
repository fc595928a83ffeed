//! Thin wrappers over crate-private pieces for the benchmarks in `benches/`. Not a stable API.

use crate::buf::BufPool;
use crate::http::head::Field;
use crate::http::parse::{parse_head, Limits};
use crate::http::response::Ctx;
use crate::Response;
use std::sync::Arc;

/// The request-head parser with a reusable field list.
#[derive(Default)]
pub struct HeadParser {
    fields: Vec<Field>,
    limits: Limits,
}

impl HeadParser {
    /// Parses a head at RFC 9112 strictness: `Ok(Some(len))`, `Ok(None)` if partial, or the
    /// status of the error.
    pub fn parse(&mut self, buf: &[u8]) -> Result<Option<usize>, u16> {
        self.fields.clear();
        match parse_head(buf, 0, &self.limits, &mut self.fields) {
            Ok(Some(h)) => Ok(Some(h.end as usize)),
            Ok(None) => Ok(None),
            Err(e) => Err(e.status),
        }
    }
}

/// A reusable response, as a worker holds one.
pub struct Encoder {
    resp: Response,
}

impl Default for Encoder {
    fn default() -> Encoder {
        let mut resp = Response::with_capacity();
        resp.set_ctx(Ctx { server: Some(Arc::from(&b"Server: shockwave\r\n"[..])), ..Ctx::default() });
        Encoder { resp }
    }
}

impl Encoder {
    /// Encodes the plaintext "Hello, World!" response (status line, Server, Date, Content-Type,
    /// Content-Length, 13-byte body); returns its length.
    pub fn hello(&mut self) -> usize {
        let r = &mut self.resp;
        r.reset();
        r.set_content_type("text/plain");
        r.write_body(b"Hello, World!");
        r.finish();
        let n = r.out.len();
        r.out.clear();
        n
    }
}

/// One poller's tiered buffer free lists.
pub struct Pool(BufPool);

impl Default for Pool {
    fn default() -> Pool {
        let p = BufPool::new();
        p.warm_up(64);
        Pool(p)
    }
}

impl Pool {
    /// Takes a buffer of at least `n` bytes and gives it back.
    pub fn cycle(&self, n: usize) -> usize {
        let b = self.0.acquire(n);
        let cap = b.capacity();
        self.0.release(b);
        cap
    }
}

/// A parsed request and a worker's response, to run a handler over and over without sockets
/// (the router benchmark).
pub struct Fixture {
    req: crate::Request,
    resp: Response,
}

impl Fixture {
    /// Parses `raw` (a whole request).
    ///
    /// # Panics
    /// If `raw` is not a valid request.
    pub fn new(raw: &[u8]) -> Fixture {
        let remote = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
        let (req, resp) = crate::test::prepare(raw, remote).unwrap_or_else(|e| panic!("bad request: {}", e.reason));
        Fixture { req, resp }
    }

    /// Runs `handler` as a worker does (route parameters cleared, response reset, encoded);
    /// returns the status.
    pub fn run(&mut self, handler: &dyn crate::Handler) -> u16 {
        #[cfg(feature = "router")]
        drop(self.req.params.take());
        self.resp.reset();
        handler.handle(&self.req, &mut self.resp);
        self.resp.finish();
        self.resp.out.clear();
        self.resp.status()
    }
}

/// The client's response-head parser with a reusable field list.
#[derive(Default)]
pub struct ResponseParser {
    fields: Vec<Field>,
}

impl ResponseParser {
    /// Parses a response head: `Ok(Some(head length))`, `Ok(None)` if partial, or the reason.
    pub fn parse(&mut self, buf: &[u8]) -> Result<Option<usize>, &'static str> {
        use crate::client::head::{parse_response, Limits};
        self.fields.clear();
        let lim = Limits { max_head: 64 * 1024, max_fields: 100 };
        match parse_response(buf, &lim, false, &mut self.fields) {
            Ok(Some(h)) => Ok(Some(h.end)),
            Ok(None) => Ok(None),
            Err(e) => Err(e.reason),
        }
    }
}

/// The client's request encoder with a reused output buffer.
pub struct RequestEncoder {
    req: crate::client::Request,
    out: Vec<u8>,
}

impl RequestEncoder {
    /// Encodes requests for `url` with the given extra headers.
    pub fn new(url: &str, headers: &[(&str, &str)]) -> RequestEncoder {
        let mut req = crate::client::Request::get(url).expect("valid URL");
        for (n, v) in headers {
            req.add_header(n, v);
        }
        RequestEncoder { req, out: Vec::new() }
    }

    /// Encodes the request head as the client sends it (with a `User-Agent`); returns its length.
    pub fn encode(&mut self) -> usize {
        use crate::client::request::Outgoing;
        let r = &self.req;
        crate::client::exchange::encode_head(
            &mut self.out,
            &r.method,
            &r.url,
            &r.headers,
            &Outgoing::Empty,
            Some("shockwave/0.1.0"),
            None,
        );
        self.out.len()
    }
}
