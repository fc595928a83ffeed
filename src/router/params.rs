//! Path parameters of the matched route, kept with the [`Request`] that carries them.
//!
//! The router sets them once per request (a `OnceLock`, so `&Request` can hand out `&str`
//! borrows for the rest of the handler), as spans into the request's own buffer: no copy and
//! no allocation for the usual few parameters. A value with `%`-escapes is decoded into one
//! string owned by the parameters; only that allocates. Names are the route's, interned for
//! the life of the process (each distinct name is leaked once, so building routers in a loop
//! does not grow memory).

use crate::http::head::Span;
use crate::Request;
use parking_lot::Mutex;
use std::collections::HashSet;

/// Parameters kept inline before spilling to the heap.
const INLINE: usize = 6;

#[derive(Clone, Copy, Debug, Default)]
struct Item {
    value: Span,
    /// `value` lies in `Params::decoded` rather than in the request buffer.
    decoded: bool,
}

/// The parameters of one matched route: the `i`-th value is that of `names[i]`.
#[derive(Debug)]
pub(crate) struct Params {
    pub route: &'static str,
    names: &'static [&'static str],
    n: u8,
    inline: [Item; INLINE],
    spill: Vec<Item>,
    decoded: String,
}

impl Params {
    /// Collects the values of `matched` (borrowed from a path that is a slice of `buf`, in the
    /// order of `names`, as matchit yields them), decoding `%`-escapes. `Err` with the name of
    /// a value that does not decode to UTF-8.
    pub(crate) fn new<'a>(
        route: &'static str,
        names: &'static [&'static str],
        matched: impl Iterator<Item = (&'a str, &'a str)>,
        buf: &[u8],
    ) -> Result<Params, &'static str> {
        let mut p =
            Params { route, names, n: 0, inline: [Item::default(); INLINE], spill: Vec::new(), decoded: String::new() };
        let base = buf.as_ptr() as usize;
        for (i, (_key, value)) in matched.enumerate() {
            debug_assert_eq!(Some(&_key), names.get(i), "matchit yields parameters in pattern order");
            let addr = value.as_ptr() as usize;
            let in_buf = addr >= base && addr + value.len() <= base + buf.len();
            let item = if !in_buf || memchr::memchr(b'%', value.as_bytes()).is_some() {
                let d = percent_encoding::percent_decode_str(value)
                    .decode_utf8()
                    .map_err(|_| names.get(i).copied().unwrap_or("?"))?;
                let s = p.decoded.len() as u32;
                p.decoded.push_str(&d);
                Item { value: Span(s, p.decoded.len() as u32), decoded: true }
            } else {
                // `value` is a slice of `buf`: its place there, from the addresses
                let s = (addr - base) as u32;
                Item { value: Span(s, s + value.len() as u32), decoded: false }
            };
            match p.inline.get_mut(i) {
                Some(slot) => *slot = item,
                None => p.spill.push(item),
            }
            p.n = p.n.saturating_add(1);
        }
        Ok(p)
    }

    /// `(name, item)` pairs, in order.
    fn items(&self) -> impl Iterator<Item = (&'static str, &Item)> {
        let n = usize::from(self.n).min(INLINE);
        self.names.iter().copied().zip(self.inline[..n].iter().chain(self.spill.iter()))
    }

    fn value<'a>(&'a self, it: &Item, buf: &'a [u8]) -> &'a str {
        if it.decoded {
            // checked as UTF-8 when decoded, at char boundaries
            self.decoded.get(it.value.0 as usize..it.value.1 as usize).unwrap_or("")
        } else {
            crate::http::request::ascii(it.value.of(buf)) // request targets are ASCII
        }
    }
}

/// The process-wide copy of a route's parameter names (each distinct list leaked once).
pub(crate) fn intern_names(names: &[&str]) -> &'static [&'static str] {
    static LISTS: Mutex<Option<HashSet<&'static [&'static str]>>> = Mutex::new(None);
    let names: Vec<&'static str> = names.iter().map(|n| intern(n)).collect();
    let mut g = LISTS.lock();
    let set = g.get_or_insert_with(HashSet::new);
    if let Some(l) = set.get(names.as_slice()) {
        return l;
    }
    let l: &'static [&'static str] = Box::leak(names.into_boxed_slice());
    set.insert(l);
    l
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
        p.items().find(|(n, _)| *n == name).map(|(_, it)| p.value(it, &self.buf))
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
        p.into_iter().flat_map(move |p| p.items().map(move |(n, it)| (n, p.value(it, &self.buf))))
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
