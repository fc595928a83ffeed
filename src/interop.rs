//! The `http` crate's types (feature `http`): status codes, methods and header names in the
//! setters, and conversions to and from `http::Request` and `http::Response`, so code written
//! against them (for hyper, astra, touche) ports with its handlers unchanged.
//!
//! The conversions copy (the `http` types own their parts); the server's own types stay the
//! zero-copy path.

use crate::{Error, Handler, Request, Response};

impl Request {
    /// This request as an `http::Request` owning a copy of its head and whole body (read
    /// now, with [`body`](Self::body)'s errors).
    ///
    /// ```
    /// let resp = shockwave::test::request("POST", "/a?b=1").header("X-Id", "7").body("hi").send(
    ///     &|req: &shockwave::Request, resp: &mut shockwave::Response| -> Result<(), shockwave::Error> {
    ///         let r: http::Request<Vec<u8>> = req.to_http()?;
    ///         assert_eq!((r.method(), r.uri().query(), r.headers()["x-id"].to_str().unwrap()), (&http::Method::POST, Some("b=1"), "7"));
    ///         resp.write_body(r.into_body());
    ///         Ok(())
    ///     },
    /// );
    /// assert_eq!(resp.text(), "hi");
    /// ```
    pub fn to_http(&self) -> Result<http::Request<Vec<u8>>, Error> {
        let mut b = http::Request::builder().method(self.method()).uri(self.target()).version(match self.version() {
            crate::Version::Http10 => http::Version::HTTP_10,
            crate::Version::Http11 => http::Version::HTTP_11,
        });
        for (name, value) in self.headers() {
            b = b.header(name, value);
        }
        b.body(self.body()?.to_vec()).map_err(|e| Error::bad_request(format!("cannot convert the request: {e}")))
    }

    /// The method as an `http::Method`.
    ///
    /// ```
    /// let resp = shockwave::test::request("DELETE", "/").send(&|req: &shockwave::Request, resp: &mut shockwave::Response| {
    ///     resp.write_body((req.http_method() == http::Method::DELETE).to_string());
    /// });
    /// assert_eq!(resp.text(), "true");
    /// ```
    pub fn http_method(&self) -> http::Method {
        // the parser admits only tokens, which is what Method accepts
        http::Method::from_bytes(self.method().as_bytes()).unwrap_or(http::Method::GET)
    }
}

impl Response {
    /// Answers with `response`: its status, headers and body (framing and connection
    /// headers stay the server's, as with [`set_header`](Self::set_header)).
    ///
    /// ```
    /// let resp = shockwave::test::request("GET", "/").send(&|_req: &shockwave::Request, resp: &mut shockwave::Response| {
    ///     let r = http::Response::builder().status(http::StatusCode::CREATED).header("Location", "/users/1").body("made").unwrap();
    ///     resp.send_http(r);
    /// });
    /// assert_eq!((resp.status(), resp.header("location"), resp.text()), (201, Some("/users/1"), "made"));
    /// ```
    pub fn send_http<B: AsRef<[u8]>>(&mut self, response: http::Response<B>) {
        let (parts, body) = response.into_parts();
        if parts.status.as_u16() >= 200 {
            self.set_status(parts.status);
        }
        for (name, value) in &parts.headers {
            self.add_header(name, value);
        }
        self.set_body(body);
    }
}

/// A [`Handler`] from a function written against the `http` types, as hyper's `service_fn`
/// or astra take: it gets the request with its whole body and returns the response.
///
/// ```
/// fn hello(req: http::Request<Vec<u8>>) -> http::Response<String> {
///     http::Response::new(format!("{} bytes to {}", req.body().len(), req.uri().path()))
/// }
/// let app = shockwave::from_http(hello);
/// let resp = shockwave::test::request("PUT", "/x").body("abc").send(&app);
/// assert_eq!(resp.text(), "3 bytes to /x");
/// ```
pub fn from_http<F, B>(f: F) -> FromHttp<F>
where
    F: Fn(http::Request<Vec<u8>>) -> http::Response<B> + Send + Sync + 'static,
    B: AsRef<[u8]>,
{
    FromHttp(f)
}

/// A handler written against the `http` types: see [`from_http`].
///
/// It is a [`Handler`] like any other: wrap it in middleware, mount it in a router, serve it.
///
/// ```
/// use shockwave::middleware::{wrap, RequestId};
/// let legacy: shockwave::FromHttp<_> = shockwave::from_http(|_req: http::Request<Vec<u8>>| {
///     http::Response::builder().status(http::StatusCode::ACCEPTED).body("queued").unwrap()
/// });
/// let app = wrap(legacy, RequestId::new());
/// let resp = shockwave::test::request("POST", "/jobs").send(&app);
/// assert_eq!((resp.status(), resp.text()), (202, "queued"));
/// assert!(resp.header("x-request-id").is_some());
/// ```
pub struct FromHttp<F>(F);

impl<F, B> Handler for FromHttp<F>
where
    F: Fn(http::Request<Vec<u8>>) -> http::Response<B> + Send + Sync + 'static,
    B: AsRef<[u8]>,
{
    fn handle(&self, req: &Request, resp: &mut Response) {
        match req.to_http() {
            Ok(r) => resp.send_http((self.0)(r)),
            Err(e) => e.write_to(req, resp),
        }
    }
}

impl<F> std::fmt::Debug for FromHttp<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FromHttp")
    }
}

#[cfg(test)]
mod tests {
    use crate::test::request;
    use crate::{Router, Server};

    #[test]
    fn http_types_in_setters_and_router() {
        let app = Router::new().route(http::Method::PATCH.as_str(), "/x", |_req, resp| {
            resp.set_status(http::StatusCode::ACCEPTED);
            resp.set_header(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-cache"));
        });
        let r = request("PATCH", "/x").send(&app);
        assert_eq!((r.status(), r.header("cache-control")), (202, Some("no-cache")));
        let e = crate::Error::new(http::StatusCode::CONFLICT, "taken");
        assert_eq!(e.status(), 409);
        let _ = Server::builder();
    }
}
