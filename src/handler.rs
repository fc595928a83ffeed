//! The [`Handler`] trait: what the server calls for each request, and [`HandlerResult`]: what a
//! handler closure may return (`()` or a `Result` whose error becomes a response).

use crate::{Error, Request, Response};

/// Answers requests. Implemented for every `Fn(&Request, &mut Response) -> R` closure or
/// function that is `Send + Sync + 'static`, where `R` is `()` or `Result<(), E>`
/// ([`HandlerResult`]), and by `Router` (feature `router`); implement it for a type that carries
/// state, and serve it with [`serve_handler`](crate::serve_handler) or
/// [`Server::start_handler`](crate::Server::start_handler) ([`serve`](crate::serve) and
/// [`Server::start`](crate::Server::start) take closures, whose argument types they can then
/// infer).
///
/// Handlers run on the worker pool and may block (a database call, a sleep): that occupies
/// one worker, never a poller, so other connections keep being read and answered. A panic is
/// caught: the request gets `500 Internal Server Error`, the connection is closed, the panic
/// is logged through the `log` facade, and the server carries on.
///
/// ```
/// struct Greeter { greeting: String }
///
/// impl shockwave::Handler for Greeter {
///     fn handle(&self, _req: &shockwave::Request, resp: &mut shockwave::Response) {
///         resp.write_body(self.greeting.as_bytes());
///     }
/// }
///
/// let resp = shockwave::test::request("GET", "/").send(&Greeter { greeting: "hi".into() });
/// assert_eq!(resp.text(), "hi");
/// ```
pub trait Handler: Send + Sync + 'static {
    /// Fills in `resp` for `req`.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// struct Hits(AtomicU64); // state shared by every worker thread
    ///
    /// impl shockwave::Handler for Hits {
    ///     fn handle(&self, _req: &shockwave::Request, resp: &mut shockwave::Response) {
    ///         let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
    ///         resp.write_body(format!("visit {n}"));
    ///     }
    /// }
    ///
    /// let hits = Hits(AtomicU64::new(0));
    /// shockwave::test::request("GET", "/").send(&hits);
    /// assert_eq!(shockwave::test::request("GET", "/").send(&hits).text(), "visit 2");
    /// ```
    fn handle(&self, req: &Request, resp: &mut Response);
}

impl<F, R> Handler for F
where
    F: Fn(&Request, &mut Response) -> R + Send + Sync + 'static,
    R: HandlerResult,
{
    #[inline]
    fn handle(&self, req: &Request, resp: &mut Response) {
        self(req, resp).respond(req, resp)
    }
}

/// What a handler closure returns: `()`, or `Result<(), E>` with `E: Into<`[`Error`]`>`, so
/// handlers can use `?`. An `Err` replaces the response with the error's status and body.
///
/// ```
/// use shockwave::{Error, Request, Response};
///
/// fn find(req: &Request, resp: &mut Response) -> Result<(), Error> {
///     let name = req.query("name").ok_or_else(|| Error::bad_request("?name= is missing"))?;
///     resp.write_body(format!("hello {name}"));
///     Ok(())
/// }
///
/// assert_eq!(shockwave::test::request("GET", "/?name=ann").send(&find).text(), "hello ann");
/// let missing = shockwave::test::request("GET", "/").send(&find);
/// assert_eq!((missing.status(), missing.text()), (400, "?name= is missing\n"));
/// ```
pub trait HandlerResult {
    /// Finishes `resp` from this result.
    ///
    /// A [`Handler`] written as a type can keep `?` in a method of its own and finish with it:
    ///
    /// ```
    /// use shockwave::{Error, Handler, HandlerResult, Request, Response};
    /// struct Api;
    ///
    /// impl Api {
    ///     fn run(&self, req: &Request, resp: &mut Response) -> Result<(), Error> {
    ///         let id = req.query("id").ok_or_else(|| Error::bad_request("?id= is missing"))?;
    ///         resp.write_body(format!("item {id}"));
    ///         Ok(())
    ///     }
    /// }
    ///
    /// impl Handler for Api {
    ///     fn handle(&self, req: &Request, resp: &mut Response) {
    ///         self.run(req, resp).respond(req, resp); // an Err replaces the response
    ///     }
    /// }
    ///
    /// assert_eq!(shockwave::test::request("GET", "/?id=7").send(&Api).text(), "item 7");
    /// assert_eq!(shockwave::test::request("GET", "/").send(&Api).status(), 400);
    /// ```
    fn respond(self, req: &Request, resp: &mut Response);
}

impl HandlerResult for () {
    #[inline]
    fn respond(self, _req: &Request, _resp: &mut Response) {}
}

impl<E: Into<Error>> HandlerResult for Result<(), E> {
    #[inline]
    fn respond(self, req: &Request, resp: &mut Response) {
        if let Err(e) = self {
            e.into().write_to(req, resp)
        }
    }
}
