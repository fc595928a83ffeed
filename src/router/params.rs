//! Path parameters of the matched route, kept with the [`Request`] that carries them.
//!
//! The router sets them once per request (a `OnceLock`, so `&Request` can hand out `&str`
//! borrows for the rest of the handler), as spans into the request's own buffer: no copy and
//! no allocation for the usual few parameters. A value with `%`-escapes is decoded into one
//! string owned by the parameters; only that allocates. Names are the route's, interned for
//! the life of the process (each distinct name is leaked once, so building routers in a loop
//! does not grow memory).

use crate::http::head::Span;
use crate::{Error, Request};
use parking_lot::Mutex;
use std::collections::HashSet;

/// Parameters kept inline before spilling to the heap.
const INLINE: usize = 6;

#[derive(Clone, Copy, Debug)]
struct Item {
    name: &'static str,
    value: Span,
    /// `value` lies in `Params::decoded` rather than in the request buffer.
    decoded: bool,
}

const EMPTY: Item = Item { name: "", value: Span(0, 0), decoded: false };

/// The parameters of one matched route.
#[derive(Debug)]
pub(crate) struct Params {
    pub route: &'static str,
    n: usize,
    inline: [Item; INLINE],
    spill: Vec<Item>,
    decoded: String,
}

impl Params {
    /// Collects `matched` (values borrowed from `path`, a slice of `buf`), decoding `%`-escapes.
    pub(crate) fn new<'a>(
        route: &'static str,
        names: &[&'static str],
        matched: impl Iterator<Item = (&'a str, &'a str)>,
        buf: &[u8],
    ) -> Result<Params, Error> {
        let mut p = Params { route, n: 0, inline: [EMPTY; INLINE], spill: Vec::new(), decoded: String::new() };
        let base = buf.as_ptr() as usize;
        for (key, value) in matched {
            let name = names.iter().copied().find(|n| *n == key).unwrap_or_else(|| intern(key));
            let addr = value.as_ptr() as usize;
            let in_buf = addr >= base && addr + value.len() <= base + buf.len();
            let item = if value.contains('%') || !in_buf {
                let d = percent_encoding::percent_decode_str(value).decode_utf8().map_err(|_| {
                    Error::bad_request(format!("path parameter {name} is not valid UTF-8 once decoded"))
                })?;
                let s = p.decoded.len() as u32;
                p.decoded.push_str(&d);
                Item { name, value: Span(s, p.decoded.len() as u32), decoded: true }
            } else {
                // `value` is a slice of `buf`: its place there, from the addresses
                let s = (addr - base) as u32;
                Item { name, value: Span(s, s + value.len() as u32), decoded: false }
            };
            if p.n < INLINE {
                p.inline[p.n] = item;
            } else {
                p.spill.push(item);
            }
            p.n += 1;
        }
        Ok(p)
    }

    fn items(&self) -> impl Iterator<Item = &Item> {
        self.inline[..self.n.min(INLINE)].iter().chain(self.spill.iter())
    }

    fn value<'a>(&'a self, it: &Item, buf: &'a [u8]) -> &'a str {
        let bytes = if it.decoded { it.value.of(self.decoded.as_bytes()) } else { it.value.of(buf) };
        // request targets are ASCII; decoded values were checked as UTF-8
        std::str::from_utf8(bytes).unwrap_or("")
    }
}

/// The process-wide copy of a parameter name or route pattern.
pub(crate) fn intern(s: &str) -> &'static str {
    static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut g = NAMES.lock();
    let set = g.get_or_insert_with(HashSet::new);
    if let Some(n) = set.get(s) {
        return n;
    }
    let n: &'static str = Box::leak(s.to_string().into_boxed_str());
    set.insert(n);
    n
}

impl Request {
    /// The value of path parameter `name` of the matched [`Router`](crate::Router) route
    /// (`{name}` or `{*name}`), percent-decoded; `None` outside a router or for a name the
    /// route does not have.
    ///
    /// ```
    /// let app = shockwave::Router::new().get("/files/{dir}/{*path}", |req, resp| {
    ///     resp.write_body(format!("{} | {}", req.param("dir").unwrap(), req.param("path").unwrap()));
    /// });
    /// let resp = shockwave::test::request("GET", "/files/my%20docs/a/b.txt").send(&app);
    /// assert_eq!(resp.text(), "my docs | a/b.txt");
    /// ```
    pub fn param(&self, name: &str) -> Option<&str> {
        let p = self.params.get()?;
        p.items().find(|it| it.name == name).map(|it| p.value(it, &self.buf))
    }

    /// Every path parameter of the matched route, in order, as `(name, decoded value)`.
    ///
    /// ```
    /// let app = shockwave::Router::new().get("/{a}/{b}", |req, resp| {
    ///     for (name, value) in req.params() {
    ///         resp.write_body(format!("{name}={value};"));
    ///     }
    /// });
    /// assert_eq!(shockwave::test::request("GET", "/x/y").send(&app).text(), "a=x;b=y;");
    /// ```
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        let p = self.params.get();
        p.into_iter().flat_map(move |p| p.items().map(move |it| (it.name, p.value(it, &self.buf))))
    }

    /// The pattern of the route that matched, e.g. `"/users/{id}"` (with the prefix of a
    /// [`nest`](crate::Router::nest)ed router), for logs and metrics that should not split on
    /// every id; `None` outside a router or when no route matched.
    ///
    /// ```
    /// let app = shockwave::Router::new().get("/users/{id}", |req, resp| {
    ///     resp.write_body(req.route().unwrap_or("?"));
    /// });
    /// assert_eq!(shockwave::test::request("GET", "/users/7").send(&app).text(), "/users/{id}");
    /// ```
    pub fn route(&self) -> Option<&'static str> {
        self.params.get().map(|p| p.route)
    }
}
