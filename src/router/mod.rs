//! [`Router`]: method + path routing on `matchit`'s radix tree, itself a [`Handler`].
//!
//! Routes are compiled once into one tree (nested routers are flattened into it with their
//! prefix), each path leading to an endpoint that holds a handler per method and its
//! precomputed `Allow` value. A lookup borrows the parameters from the request's path and
//! allocates nothing; what the router answers itself (404, 405 with `Allow`, `OPTIONS`) is
//! decided from the endpoint, never by trying other routes.
//!
//! Invariants: one endpoint per path pattern; one handler per (path, method); a conflict is a
//! programming error found when the router is built (a panic naming both routes), never at
//! request time.

mod params;

pub(crate) use params::Params;

use crate::http::method::MethodKind;
use crate::middleware::{Middleware, Next};
use crate::{Error, Handler, HandlerResult, Request, Response};
use std::collections::HashMap;
use std::sync::Arc;

/// Methods with a slot of their own in an endpoint, in the order `Allow` lists them.
const METHODS: [&str; 8] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"];

fn slot(kind: MethodKind) -> Option<usize> {
    Some(match kind {
        MethodKind::Get => 0,
        MethodKind::Head => 1,
        MethodKind::Post => 2,
        MethodKind::Put => 3,
        MethodKind::Delete => 4,
        MethodKind::Patch => 5,
        MethodKind::Options => 6,
        MethodKind::Trace => 7,
        _ => return None,
    })
}

type BoxHandler = Box<dyn Handler>;

/// The handlers of one path pattern.
struct Endpoint {
    /// The full pattern, interned (what [`Request::route`] returns).
    pattern: &'static str,
    /// Its parameter names, interned.
    names: &'static [&'static str],
    methods: [Option<BoxHandler>; METHODS.len()],
    /// Extension methods (`PROPFIND`, `PURGE` …), by name.
    other: Vec<(String, BoxHandler)>,
    /// Every method not routed otherwise.
    any: Option<BoxHandler>,
    /// A nested router's fallback mounted here: answers as a fallback (no 405).
    fallback: bool,
    /// `Allow` value: the methods routed here, `HEAD` with `GET`, and `OPTIONS`.
    allow: String,
}

impl Endpoint {
    fn new(pattern: &str) -> Endpoint {
        Endpoint {
            pattern: params::intern(pattern),
            names: params::intern_names(&param_names(pattern).collect::<Vec<_>>()),
            methods: Default::default(),
            other: Vec::new(),
            any: None,
            fallback: false,
            allow: String::new(),
        }
    }

    fn set_allow(&mut self) {
        let mut m: Vec<&str> = Vec::new();
        for (i, name) in METHODS.iter().enumerate() {
            let routed = self.methods[i].is_some()
                || (*name == "HEAD" && self.methods[0].is_some())
                || (*name == "OPTIONS" && self.any.is_none());
            if routed || self.any.is_some() {
                m.push(name);
            }
        }
        m.extend(self.other.iter().map(|(n, _)| n.as_str()));
        self.allow = m.join(", ");
    }

    /// The handler for `req`'s method: its own, `GET`'s for `HEAD`, or the catch-all.
    fn handler(&self, req: &Request) -> Option<&dyn Handler> {
        let own = match slot(req.head.kind) {
            Some(i) => self.methods[i].as_deref(),
            None => self.other.iter().find(|(n, _)| n == req.method()).map(|(_, h)| &**h),
        };
        own.or_else(|| if req.is_head() { self.methods[0].as_deref() } else { None }).or(self.any.as_deref())
    }
}

/// The `{name}` and `{*name}` parameters of a route pattern (`{{` and `}}` are literal braces).
fn param_names(pattern: &str) -> impl Iterator<Item = &str> {
    let b = pattern.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() {
            if b[i] == b'{' && b.get(i + 1) == Some(&b'{') {
                i += 2;
                continue;
            }
            if b[i] == b'{' {
                let end = i + pattern[i..].find('}')?;
                let name = pattern[i + 1..end].trim_start_matches('*');
                i = end + 1;
                return Some(name);
            }
            i += 1;
        }
        None
    })
}

/// Routes requests by method and path to handlers; a `Router` is itself a [`Handler`].
///
/// Paths are [`matchit`](https://docs.rs/matchit) patterns: static segments, `{name}` for one
/// segment, `{*rest}` for the rest of the path; parameters come percent-decoded from
/// [`Request::param`]. The router answers itself:
/// - `404 Not Found` when no path matches (or the [`fallback`](Self::fallback) handler);
/// - `405 Method Not Allowed` with `Allow` when the path matches but not the method;
/// - `HEAD` with the `GET` route (the server drops the body), `OPTIONS` with `204` and
///   `Allow` unless routed.
///
/// Handlers are closures like those given to [`serve`](crate::serve), returning `()` or a
/// `Result` whose error becomes the response. Serve a router with
/// [`serve_handler`](crate::serve_handler) or [`Server::start_handler`](crate::Server::start_handler).
///
/// ```
/// use shockwave::{Error, Router};
///
/// let users = Router::new()
///     .get("/{id}", |req, resp| -> Result<(), Error> {
///         let id: u64 = req.param("id").unwrap_or("").parse().map_err(|_| Error::bad_request("id must be a number"))?;
///         resp.write_body(format!("user {id}"));
///         Ok(())
///     })
///     .delete("/{id}", |_req, resp| resp.set_status(204));
/// let app = Router::new().get("/", |_req, resp| resp.write_body("home")).nest("/users", users);
///
/// let get = |target| shockwave::test::request("GET", target).send(&app);
/// assert_eq!(get("/users/7").text(), "user 7");
/// assert_eq!(get("/users/x").status(), 400);
/// assert_eq!(get("/nope").status(), 404);
/// let put = shockwave::test::request("PUT", "/users/7").send(&app);
/// assert_eq!((put.status(), put.header("allow")), (405, Some("GET, HEAD, DELETE, OPTIONS")));
/// ```
#[derive(Default)]
pub struct Router {
    routes: Routes,
    /// Middleware around the whole router, innermost first (the last added runs first).
    layers: Vec<Arc<dyn Middleware>>,
}

/// The routing table: what a router does inside its middleware.
#[derive(Default)]
struct Routes {
    tree: matchit::Router<usize>,
    endpoints: Vec<Endpoint>,
    /// Pattern → endpoint, to add methods to a path and to flatten nested routers.
    paths: HashMap<String, usize>,
    fallback: Option<BoxHandler>,
}

macro_rules! method_routes {
    ($($(#[$doc:meta])* $name:ident $method:literal;)*) => {
        $(
            $(#[$doc])*
            pub fn $name<F, R>(self, path: &str, handler: F) -> Router
            where
                F: Fn(&Request, &mut Response) -> R + Send + Sync + 'static,
                R: HandlerResult,
            {
                self.route($method, path, handler)
            }
        )*
    };
}

impl Router {
    /// An empty router: every request gets `404`.
    ///
    /// ```
    /// let app = shockwave::Router::new();
    /// assert_eq!(shockwave::test::request("GET", "/").send(&app).status(), 404);
    /// ```
    pub fn new() -> Router {
        Router::default()
    }

    method_routes! {
        /// Routes `GET` (and `HEAD`, unless routed itself) requests for `path` to `handler`.
        ///
        /// ```
        /// let app = shockwave::Router::new().get("/hello/{name}", |req, resp| {
        ///     resp.write_body(format!("hello {}", req.param("name").unwrap_or("")));
        /// });
        /// assert_eq!(shockwave::test::request("GET", "/hello/ann").send(&app).text(), "hello ann");
        /// let head = shockwave::test::request("HEAD", "/hello/ann").send(&app);
        /// assert_eq!((head.header("content-length"), head.text()), (Some("9"), ""));
        /// ```
        get "GET";
        /// Routes `POST` requests for `path` to `handler`.
        ///
        /// ```
        /// let app = shockwave::Router::new().post("/notes", |req, resp| -> std::io::Result<()> {
        ///     let note = req.body()?;
        ///     resp.set_status(201);
        ///     resp.write_body(format!("saved {} bytes", note.len()));
        ///     Ok(())
        /// });
        /// let resp = shockwave::test::request("POST", "/notes").body("buy milk").send(&app);
        /// assert_eq!((resp.status(), resp.text()), (201, "saved 8 bytes"));
        /// ```
        post "POST";
        /// Routes `PUT` requests for `path` to `handler`.
        ///
        /// ```
        /// let app = shockwave::Router::new().put("/files/{*path}", |req, resp| {
        ///     resp.write_body(format!("stored {}", req.param("path").unwrap_or("")));
        /// });
        /// let resp = shockwave::test::request("PUT", "/files/docs/a.txt").body("text").send(&app);
        /// assert_eq!(resp.text(), "stored docs/a.txt");
        /// ```
        put "PUT";
        /// Routes `DELETE` requests for `path` to `handler`.
        ///
        /// ```
        /// let app = shockwave::Router::new().delete("/users/{id}", |_req, resp| resp.set_status(204));
        /// assert_eq!(shockwave::test::request("DELETE", "/users/7").send(&app).status(), 204);
        /// assert_eq!(shockwave::test::request("GET", "/users/7").send(&app).status(), 405);
        /// ```
        delete "DELETE";
        /// Routes `PATCH` requests for `path` to `handler`.
        ///
        /// ```
        /// let app = shockwave::Router::new().patch("/users/{id}", |req, resp| {
        ///     resp.write_body(format!("updated user {}", req.param("id").unwrap_or("")));
        /// });
        /// assert_eq!(shockwave::test::request("PATCH", "/users/7").send(&app).text(), "updated user 7");
        /// ```
        patch "PATCH";
        /// Routes `HEAD` requests for `path` to `handler` (instead of the `GET` route).
        ///
        /// ```
        /// let app = shockwave::Router::new()
        ///     .get("/big", |_req, resp| resp.write_body(vec![b'x'; 1 << 20]))
        ///     .head("/big", |_req, resp| resp.set_header("Content-Length", "1048576")); // no body built
        /// let head = shockwave::test::request("HEAD", "/big").send(&app);
        /// assert_eq!((head.status(), head.header("content-length")), (200, Some("1048576")));
        /// ```
        head "HEAD";
        /// Routes `OPTIONS` requests for `path` to `handler` (instead of the automatic `204`).
        ///
        /// ```
        /// let app = shockwave::Router::new()
        ///     .get("/api", |_req, resp| resp.write_body("{}"))
        ///     .options("/api", |_req, resp| {
        ///         resp.set_status(204);
        ///         resp.set_header("Access-Control-Allow-Methods", "GET");
        ///         resp.set_header("Access-Control-Max-Age", "600");
        ///     });
        /// let preflight = shockwave::test::request("OPTIONS", "/api").send(&app);
        /// assert_eq!(preflight.header("access-control-max-age"), Some("600"));
        /// ```
        options "OPTIONS";
    }

    /// Routes requests with any method not routed otherwise for `path` to `handler`.
    ///
    /// ```
    /// let app = shockwave::Router::new().any("/echo", |req, resp| resp.write_body(req.method().to_string()));
    /// assert_eq!(shockwave::test::request("PATCH", "/echo").send(&app).text(), "PATCH");
    /// ```
    pub fn any<F, R>(self, path: &str, handler: F) -> Router
    where
        F: Fn(&Request, &mut Response) -> R + Send + Sync + 'static,
        R: HandlerResult,
    {
        self.route("*", path, handler)
    }

    /// Routes `method` (any token, e.g. `"PROPFIND"`; `"*"` for every method) for `path` to
    /// `handler`. The server answers methods outside the IANA registry with `501` before any
    /// router sees them, unless built with
    /// [`allow_unknown_methods`](crate::Builder::allow_unknown_methods).
    ///
    /// # Panics
    /// If `path` is not a valid pattern, conflicts with another route (matchit's rules), or
    /// already has a handler for `method`.
    ///
    /// ```
    /// let app = shockwave::Router::new().route("PURGE", "/cache/{key}", |req, resp| {
    ///     resp.write_body(format!("purged {}", req.param("key").unwrap_or("")));
    /// });
    /// assert_eq!(shockwave::test::request("PURGE", "/cache/a").send(&app).text(), "purged a");
    /// ```
    pub fn route<F, R>(self, method: &str, path: &str, handler: F) -> Router
    where
        F: Fn(&Request, &mut Response) -> R + Send + Sync + 'static,
        R: HandlerResult,
    {
        self.route_handler(method, path, handler)
    }

    /// [`route`](Self::route) for a type that implements [`Handler`] (a struct with state,
    /// a wrapped handler, a boxed one).
    ///
    /// ```
    /// struct Version(&'static str);
    /// impl shockwave::Handler for Version {
    ///     fn handle(&self, _req: &shockwave::Request, resp: &mut shockwave::Response) {
    ///         resp.write_body(self.0);
    ///     }
    /// }
    /// let app = shockwave::Router::new().route_handler("GET", "/version", Version("1.2.3"));
    /// assert_eq!(shockwave::test::request("GET", "/version").send(&app).text(), "1.2.3");
    /// ```
    pub fn route_handler(mut self, method: &str, path: &str, handler: impl Handler) -> Router {
        self.routes.add(method, path, Box::new(handler));
        self
    }

    /// Mounts `router`'s routes under `prefix` (`"/api"`: its `/users` becomes `/api/users`,
    /// its `/` becomes `/api`), with its own middleware around them. Its fallback, if it has
    /// one, answers every unmatched path under the prefix. The routes are copied into this
    /// router's tree: a lookup costs the same however deep the nesting.
    ///
    /// # Panics
    /// If `prefix` does not start with `/`, ends with `/`, or a route conflicts.
    ///
    /// ```
    /// use shockwave::Router;
    /// let v1 = Router::new()
    ///     .get("/", |_req, resp| resp.write_body("v1 root"))
    ///     .get("/ping", |_req, resp| resp.write_body("pong"))
    ///     .fallback(|_req, resp| { resp.set_status(404); resp.write_body("no such v1 call") });
    /// let app = Router::new().nest("/api/v1", v1);
    /// let get = |t| shockwave::test::request("GET", t).send(&app).text().to_string();
    /// assert_eq!((get("/api/v1"), get("/api/v1/ping"), get("/api/v1/x/y")), ("v1 root".into(), "pong".into(), "no such v1 call".into()));
    /// ```
    pub fn nest(mut self, prefix: &str, router: Router) -> Router {
        self.routes.nest(prefix, router);
        self
    }

    /// Handles requests no route matches, instead of the default `404 Not Found`.
    ///
    /// ```
    /// let app = shockwave::Router::new().fallback(|req, resp| {
    ///     resp.set_status(404);
    ///     resp.write_body(format!("nothing at {}", req.path()));
    /// });
    /// let resp = shockwave::test::request("GET", "/gone").send(&app);
    /// assert_eq!((resp.status(), resp.text()), (404, "nothing at /gone"));
    /// ```
    pub fn fallback<F, R>(mut self, handler: F) -> Router
    where
        F: Fn(&Request, &mut Response) -> R + Send + Sync + 'static,
        R: HandlerResult,
    {
        self.routes.fallback = Some(Box::new(handler));
        self
    }

    /// Runs `middleware` around every request this router handles (its routes, fallback,
    /// 404 and 405 answers; routes added later too). The last layer added runs first.
    ///
    /// ```
    /// use shockwave::middleware::{from_fn, RequestId};
    /// let app = shockwave::Router::new()
    ///     .get("/", |_req, resp| resp.write_body("home"))
    ///     .layer(from_fn(|req, resp, next| {
    ///         next.run(req, resp);
    ///         resp.set_header("Cache-Control", "no-store");
    ///     }))
    ///     .layer(RequestId::new());
    /// let missing = shockwave::test::request("GET", "/nope").send(&app);
    /// assert_eq!((missing.status(), missing.header("cache-control")), (404, Some("no-store")));
    /// assert!(missing.header("x-request-id").is_some());
    /// ```
    pub fn layer(mut self, middleware: impl Middleware) -> Router {
        self.layers.push(Arc::new(middleware));
        self
    }
}

impl Routes {
    fn endpoint(&mut self, path: &str) -> &mut Endpoint {
        let i = match self.paths.get(path) {
            Some(&i) => i,
            None => {
                let i = self.endpoints.len();
                if let Err(e) = self.tree.insert(path, i) {
                    panic!("cannot add route {path:?}: {e}");
                }
                self.endpoints.push(Endpoint::new(path));
                self.paths.insert(path.to_string(), i);
                i
            }
        };
        &mut self.endpoints[i]
    }

    fn add(&mut self, method: &str, path: &str, handler: BoxHandler) {
        assert!(path.starts_with('/'), "route {path:?} must start with '/'");
        let e = self.endpoint(path);
        assert!(!e.fallback, "route {method} {path:?} conflicts with a nested router's fallback");
        let taken = match (method, METHODS.iter().position(|m| *m == method)) {
            ("*", _) => e.any.replace(handler).is_some(),
            (_, Some(i)) => e.methods[i].replace(handler).is_some(),
            (m, None) => {
                assert!(
                    !m.is_empty() && m.bytes().all(|b| crate::h1::tables::TCHAR[b as usize]),
                    "invalid method {m:?}"
                );
                let had = e.other.iter().any(|(n, _)| n == m);
                e.other.push((m.to_string(), handler));
                had
            }
        };
        assert!(!taken, "route {method} {path:?} is registered twice");
        e.set_allow();
    }

    fn nest(&mut self, prefix: &str, router: Router) {
        assert!(
            prefix.starts_with('/') && !prefix.ends_with('/'),
            "nest prefix {prefix:?} must start with '/' and not end with one"
        );
        let layers: Arc<[Arc<dyn Middleware>]> = router.layers.into();
        let wrap = |h: BoxHandler| -> BoxHandler {
            match layers.is_empty() {
                true => h,
                false => Box::new(Layered { layers: layers.clone(), inner: h }),
            }
        };
        let Routes { endpoints, paths, fallback, .. } = router.routes;
        let mut endpoints: Vec<Option<Endpoint>> = endpoints.into_iter().map(Some).collect();
        let mut paths: Vec<(String, usize)> = paths.into_iter().collect();
        paths.sort_by_key(|p| p.1);
        for (path, i) in paths {
            let mut inner = endpoints[i].take().expect("each endpoint has one path");
            inner.methods = inner.methods.map(|m| m.map(wrap));
            inner.any = inner.any.map(wrap);
            inner.other = inner.other.into_iter().map(|(n, h)| (n, wrap(h))).collect();
            let full = if path == "/" { prefix.to_string() } else { format!("{prefix}{path}") };
            let e = self.endpoint(&full);
            assert!(
                e.methods.iter().all(Option::is_none) && e.any.is_none(),
                "nested route {full:?} is already routed"
            );
            let (pattern, names) = (e.pattern, e.names);
            *e = Endpoint { pattern, names, ..inner };
        }
        if let Some(f) = fallback {
            let f: Arc<dyn Handler> = Arc::from(wrap(f));
            for path in [prefix.to_string(), format!("{prefix}/"), format!("{prefix}/{{*__rest}}")] {
                if self.paths.contains_key(&path) {
                    continue;
                }
                let e = self.endpoint(&path);
                e.any = Some(Box::new(Shared(f.clone())));
                e.fallback = true;
            }
        }
    }

    fn not_found(&self, req: &Request, resp: &mut Response) {
        match &self.fallback {
            Some(f) => f.handle(req, resp),
            None => Error::not_found(format!("no route for {}", req.path())).write_to(req, resp),
        }
    }
}

/// A handler mounted at several paths (a nested router's fallback).
struct Shared(Arc<dyn Handler>);

impl Handler for Shared {
    fn handle(&self, req: &Request, resp: &mut Response) {
        self.0.handle(req, resp)
    }
}

/// A nested router's handler inside that router's middleware.
struct Layered {
    layers: Arc<[Arc<dyn Middleware>]>,
    inner: BoxHandler,
}

impl Handler for Layered {
    fn handle(&self, req: &Request, resp: &mut Response) {
        Next::new(&self.layers, &*self.inner).run(req, resp)
    }
}

impl Handler for Router {
    #[inline]
    fn handle(&self, req: &Request, resp: &mut Response) {
        match self.layers.is_empty() {
            true => self.routes.handle(req, resp),
            false => Next::new(&self.layers, &self.routes).run(req, resp),
        }
    }
}

impl Handler for Routes {
    fn handle(&self, req: &Request, resp: &mut Response) {
        if req.head.form == crate::http::uri::TargetForm::Asterisk {
            // server-wide OPTIONS (RFC 9110 §9.3.7)
            resp.set_status(204);
            resp.set_header("Allow", "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS");
            return;
        }
        let Ok(m) = self.tree.at(req.path()) else { return self.not_found(req, resp) };
        let e = &self.endpoints[*m.value];
        if req.params.get().is_none() {
            match Params::new(e.pattern, e.names, m.params.iter(), &req.buf) {
                Ok(p) => {
                    let _ = req.params.set(p);
                }
                Err(name) => {
                    let msg = format!("path parameter {name} is not valid UTF-8 once decoded");
                    return Error::bad_request(msg).write_to(req, resp);
                }
            }
        }
        match e.handler(req) {
            Some(h) => h.handle(req, resp),
            None if req.head.kind == MethodKind::Options => {
                resp.set_status(204);
                resp.set_header("Allow", &e.allow);
            }
            None => {
                Error::new(405, format!("{} is not allowed here; allowed: {}", req.method(), e.allow))
                    .write_to(req, resp);
                resp.set_header("Allow", &e.allow);
            }
        }
    }
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.routes;
        let mut routes: Vec<(&str, &str)> = r.endpoints.iter().map(|e| (e.pattern, e.allow.as_str())).collect();
        routes.sort();
        f.debug_struct("Router")
            .field("routes", &routes)
            .field("fallback", &r.fallback.is_some())
            .field("layers", &self.layers.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test::request;

    fn ok(text: &'static str) -> impl Fn(&Request, &mut Response) {
        move |_req, resp| resp.write_body(text)
    }

    #[test]
    fn param_names_are_read_from_patterns() {
        let names: Vec<&str> = param_names("/a/{id}/x-{name}.png/{{lit}}/{*rest}").collect();
        assert_eq!(names, ["id", "name", "rest"]);
    }

    #[test]
    fn methods_head_options_and_405() {
        let app = Router::new().get("/u/{id}", ok("get")).post("/u/{id}", ok("post"));
        assert_eq!(request("GET", "/u/1").send(&app).text(), "get");
        assert_eq!(request("POST", "/u/1").send(&app).text(), "post");
        let head = request("HEAD", "/u/1").send(&app);
        assert_eq!((head.status(), head.header("content-length"), head.body()), (200, Some("3"), &b""[..]));
        let opt = request("OPTIONS", "/u/1").send(&app);
        assert_eq!((opt.status(), opt.header("allow")), (204, Some("GET, HEAD, POST, OPTIONS")));
        let del = request("DELETE", "/u/1").send(&app);
        assert_eq!((del.status(), del.header("allow")), (405, Some("GET, HEAD, POST, OPTIONS")));
        let star = request("OPTIONS", "*").send(&app);
        assert_eq!(star.status(), 204);
        assert_eq!(request("GET", "/u").send(&app).status(), 404);
    }

    #[test]
    fn params_are_percent_decoded_and_bad_utf8_is_a_400() {
        let app = Router::new().get("/u/{id}", |req: &Request, resp: &mut Response| {
            resp.write_body(req.param("id").unwrap_or("-"));
        });
        assert_eq!(request("GET", "/u/%31").send(&app).text(), "1");
        assert_eq!(request("GET", "/u/caf%C3%A9").send(&app).text(), "café");
        assert_eq!(request("GET", "/u/%FF").send(&app).status(), 400);
        assert_eq!(request("GET", "http://example.com/u/9").send(&app).text(), "9");
    }

    #[test]
    fn many_params_spill_past_the_inline_slots() {
        let app = Router::new().get("/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}", |req: &Request, resp: &mut Response| {
            let v: Vec<&str> = req.params().map(|(_, v)| v).collect();
            resp.write_body(v.join(","));
        });
        assert_eq!(request("GET", "/1/2/3/4/5/6/7/8").send(&app).text(), "1,2,3,4,5,6,7,8");
    }

    #[test]
    fn nested_routers_keep_their_routes_params_and_fallback() {
        let inner = Router::new()
            .get("/", ok("inner root"))
            .get("/items/{id}", |req: &Request, resp: &mut Response| {
                resp.write_body(format!("{} {}", req.route().unwrap(), req.param("id").unwrap()))
            })
            .fallback(ok("inner fallback"));
        let app = Router::new().get("/", ok("root")).nest("/api", inner).fallback(ok("outer fallback"));
        assert_eq!(request("GET", "/").send(&app).text(), "root");
        assert_eq!(request("GET", "/api").send(&app).text(), "inner root");
        assert_eq!(request("GET", "/api/items/3").send(&app).text(), "/api/items/{id} 3");
        assert_eq!(request("GET", "/api/zzz").send(&app).text(), "inner fallback");
        assert_eq!(request("POST", "/api/zzz").send(&app).text(), "inner fallback");
        assert_eq!(request("GET", "/elsewhere").send(&app).text(), "outer fallback");
    }

    #[test]
    fn a_nested_routers_layers_wrap_only_its_own_routes() {
        let tag = |v: &'static str| {
            crate::middleware::from_fn(move |req, resp, next| {
                next.run(req, resp);
                resp.add_header("X-Layer", v);
            })
        };
        let inner = Router::new().get("/x", ok("x")).fallback(ok("inner fallback")).layer(tag("inner"));
        let app = Router::new().get("/y", ok("y")).nest("/in", inner).layer(tag("outer"));
        let layers = |t| request("GET", t).send(&app).header_all("x-layer").map(str::to_string).collect::<Vec<_>>();
        assert_eq!(layers("/in/x"), ["inner", "outer"]);
        assert_eq!(layers("/in/nope"), ["inner", "outer"]);
        assert_eq!(layers("/y"), ["outer"]);
        assert_eq!(layers("/missing"), ["outer"]);
    }

    #[test]
    #[should_panic(expected = "registered twice")]
    fn a_route_registered_twice_is_refused_at_build_time() {
        let _ = Router::new().get("/a", ok("1")).get("/a", ok("2"));
    }

    #[test]
    #[should_panic(expected = "cannot add route")]
    fn conflicting_patterns_are_refused_at_build_time() {
        let _ = Router::new().get("/a/{x}", ok("1")).get("/a/{y}", ok("2"));
    }

    #[test]
    fn result_handlers_become_error_responses() {
        let app = Router::new().get("/{n}", |req: &Request, resp: &mut Response| -> Result<(), Error> {
            let n: u8 = req.param("n").unwrap_or("").parse().map_err(|_| Error::bad_request("n must be 0-255"))?;
            resp.write_body(n.to_string());
            Ok(())
        });
        let r = request("GET", "/300").send(&app);
        assert_eq!((r.status(), r.text()), (400, "n must be 0-255\n"));
    }
}
