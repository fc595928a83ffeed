//! The [`Handler`] trait: what the server calls for each request.

use crate::{Request, Response};

/// Answers requests. Implemented for every `Fn(&Request, &mut Response) + Send + Sync + 'static`;
/// implement it for a type that carries state, and serve it with
/// [`serve_handler`](crate::serve_handler) or [`Server::start_handler`](crate::Server::start_handler)
/// ([`serve`](crate::serve) and [`Server::start`](crate::Server::start) take closures, whose
/// argument types they can then infer).
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
/// # let _ = Greeter { greeting: "hi".into() };
/// ```
pub trait Handler: Send + Sync + 'static {
    /// Fills in `resp` for `req`.
    fn handle(&self, req: &Request, resp: &mut Response);
}

impl<F> Handler for F
where
    F: Fn(&Request, &mut Response) + Send + Sync + 'static,
{
    #[inline]
    fn handle(&self, req: &Request, resp: &mut Response) {
        self(req, resp)
    }
}
