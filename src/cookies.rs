//! Cookies (feature `cookies`, the `cookie` crate, re-exported as [`crate::cookie`]): read the
//! request's `Cookie` header, add `Set-Cookie` lines to a response; signed and private
//! (encrypted) cookies with feature `cookies-secure`.
//!
//! Reading borrows the cookies from the request (no allocation); every attribute of
//! `Set-Cookie` (`Path`, `Domain`, `Max-Age`, `Expires`, `Secure`, `HttpOnly`, `SameSite`,
//! `Partitioned`) is the `cookie` crate's builder.

use crate::{Request, Response};
use cookie::Cookie;

impl Request {
    /// The cookie `name` from the `Cookie` header(s), if sent (the first, if sent twice).
    ///
    /// ```
    /// let resp = shockwave::test::request("GET", "/")
    ///     .header("Cookie", "theme=dark; session=abc123")
    ///     .send(&|req: &shockwave::Request, resp: &mut shockwave::Response| {
    ///         let session = req.cookie("session").map(|c| c.value().to_string());
    ///         resp.write_body(session.unwrap_or_default());
    ///     });
    /// assert_eq!(resp.text(), "abc123");
    /// ```
    pub fn cookie(&self, name: &str) -> Option<Cookie<'_>> {
        self.cookies().find(|c| c.name() == name)
    }

    /// Every cookie the request carries, in order; malformed pairs are skipped.
    ///
    /// ```
    /// let resp = shockwave::test::request("GET", "/").header("Cookie", "a=1; b=2").send(
    ///     &|req: &shockwave::Request, resp: &mut shockwave::Response| {
    ///         resp.write_body(req.cookies().map(|c| c.name().to_string()).collect::<Vec<_>>().join(","));
    ///     },
    /// );
    /// assert_eq!(resp.text(), "a,b");
    /// ```
    pub fn cookies(&self) -> impl Iterator<Item = Cookie<'_>> {
        self.header_all("cookie")
            .filter_map(|v| std::str::from_utf8(v).ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
    }

    /// The signed cookie `name`, if present and its signature verifies with `key` (feature
    /// `cookies-secure`): a client can read but not forge it.
    ///
    /// ```
    /// use shockwave::cookie::{Cookie, Key};
    /// let set = shockwave::test::request("GET", "/").send(&|_req: &shockwave::Request, resp: &mut shockwave::Response| {
    ///     resp.add_signed_cookie(&Key::from(&[7; 64]), Cookie::new("user", "ann"));
    /// });
    /// let sent = set.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
    /// let check = |cookie: &str| shockwave::test::request("GET", "/").header("Cookie", cookie).send(
    ///     &|req: &shockwave::Request, resp: &mut shockwave::Response| {
    ///         let user = req.signed_cookie(&Key::from(&[7; 64]), "user");
    ///         resp.write_body(user.map(|c| c.value().to_string()).unwrap_or("forged".into()));
    ///     },
    /// ).text().to_string();
    /// assert_eq!(check(&sent), "ann");
    /// assert_eq!(check("user=admin"), "forged");
    /// ```
    #[cfg(feature = "cookies-secure")]
    pub fn signed_cookie(&self, key: &cookie::Key, name: &str) -> Option<Cookie<'static>> {
        let c = self.cookie(name)?.into_owned();
        cookie::CookieJar::new().signed(key).verify(c)
    }

    /// The private cookie `name`, decrypted and authenticated with `key` (feature
    /// `cookies-secure`): a client can neither read nor forge it.
    ///
    /// ```
    /// use shockwave::cookie::{Cookie, Key};
    /// let key = Key::from(&[9; 64]);
    /// let mut resp = shockwave::Response::default();
    /// resp.add_private_cookie(&key, Cookie::new("cart", "3 items"));
    /// let sent = resp.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
    /// assert!(!sent.contains("3 items"));
    /// let got = shockwave::test::request("GET", "/").header("Cookie", sent).send(&|req: &shockwave::Request, resp: &mut shockwave::Response| {
    ///     resp.write_body(req.private_cookie(&Key::from(&[9; 64]), "cart").unwrap().value().to_string());
    /// });
    /// assert_eq!(got.text(), "3 items");
    /// ```
    #[cfg(feature = "cookies-secure")]
    pub fn private_cookie(&self, key: &cookie::Key, name: &str) -> Option<Cookie<'static>> {
        let c = self.cookie(name)?.into_owned();
        cookie::CookieJar::new().private(key).decrypt(c)
    }
}

impl Response {
    /// Adds a `Set-Cookie` line for `cookie`, with all its attributes.
    ///
    /// ```
    /// use shockwave::cookie::{Cookie, SameSite};
    /// let mut resp = shockwave::Response::default();
    /// resp.add_cookie(&Cookie::build(("session", "abc")).path("/").http_only(true).secure(true).same_site(SameSite::Lax).build());
    /// assert_eq!(resp.header("set-cookie"), Some("session=abc; HttpOnly; SameSite=Lax; Secure; Path=/"));
    /// ```
    pub fn add_cookie(&mut self, cookie: &Cookie<'_>) {
        self.add_header("Set-Cookie", cookie.to_string());
    }

    /// Tells the client to delete cookie `name` (an empty value that expired long ago);
    /// `path` must be the one the cookie was set with (`"/"` usually).
    ///
    /// ```
    /// let mut resp = shockwave::Response::default();
    /// resp.remove_cookie("session", "/");
    /// let line = resp.header("set-cookie").unwrap();
    /// assert!(line.starts_with("session=; Path=/; Max-Age=0; Expires="), "{line}");
    /// ```
    pub fn remove_cookie(&mut self, name: &str, path: &str) {
        let mut c = Cookie::build((name.to_string(), "")).path(path.to_string()).build();
        c.make_removal();
        self.add_cookie(&c);
    }

    /// Adds a signed cookie (feature `cookies-secure`): the value stays readable, a
    /// signature computed with `key` makes it tamper-evident. See [`Request::signed_cookie`].
    ///
    /// ```
    /// use shockwave::cookie::{Cookie, Key};
    /// let key = Key::generate(); // keep one key for the app's life: what it signed verifies with it
    /// let mut resp = shockwave::Response::default();
    /// resp.add_signed_cookie(&key, Cookie::build(("user", "ann")).path("/").build());
    /// let line = resp.header("set-cookie").unwrap();
    /// assert!(line.starts_with("user=") && line.ends_with("ann; Path=/"), "{line}"); // signature, then the value
    /// ```
    #[cfg(feature = "cookies-secure")]
    pub fn add_signed_cookie(&mut self, key: &cookie::Key, cookie: Cookie<'static>) {
        let mut jar = cookie::CookieJar::new();
        jar.signed_mut(key).add(cookie);
        self.add_cookies(&jar);
    }

    /// Adds a private cookie (feature `cookies-secure`): encrypted and authenticated with
    /// `key`. See [`Request::private_cookie`].
    ///
    /// ```
    /// use shockwave::cookie::{Cookie, Key};
    /// let key = Key::generate();
    /// let mut resp = shockwave::Response::default();
    /// resp.add_private_cookie(&key, Cookie::build(("cart", "3 items")).path("/").build());
    /// let line = resp.header("set-cookie").unwrap();
    /// assert!(line.starts_with("cart=") && !line.contains("3 items"), "{line}");
    /// ```
    #[cfg(feature = "cookies-secure")]
    pub fn add_private_cookie(&mut self, key: &cookie::Key, cookie: Cookie<'static>) {
        let mut jar = cookie::CookieJar::new();
        jar.private_mut(key).add(cookie);
        self.add_cookies(&jar);
    }

    /// A `Set-Cookie` line for each cookie `jar` added.
    #[cfg(feature = "cookies-secure")]
    fn add_cookies(&mut self, jar: &cookie::CookieJar) {
        for c in jar.delta() {
            self.add_cookie(c);
        }
    }
}
