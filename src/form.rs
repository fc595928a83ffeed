//! Query arguments, `application/x-www-form-urlencoded` bodies and the decoded path: the
//! parts of a request that come percent-encoded.
//!
//! Decoding is `form_urlencoded`'s (the WHATWG URL standard's, `+` as a space) and borrows
//! from the request wherever nothing needs decoding: a `Cow::Borrowed` costs no allocation.
//! Typed forms and queries (`serde_urlencoded`) sit behind the `form` feature.

use crate::{Error, Request};
use std::borrow::Cow;

/// The pairs of an urlencoded string, decoded.
fn pairs(s: &[u8]) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    form_urlencoded::parse(s)
}

fn first<'a>(s: &'a [u8], name: &str) -> Option<Cow<'a, str>> {
    pairs(s).find(|(k, _)| k == name).map(|(_, v)| v)
}

/// An `application/x-www-form-urlencoded` body: see [`Request::form`].
///
/// ```
/// use shockwave::{Error, Request, Response};
/// let subscribe = |req: &Request, resp: &mut Response| -> Result<(), Error> {
///     let form = req.form()?; // borrows the body: nothing is copied until a value needs decoding
///     let email = form.get("email").ok_or_else(|| Error::bad_request("email is missing"))?;
///     resp.write_body(format!("subscribed {email}"));
///     Ok(())
/// };
/// let resp = shockwave::test::request("POST", "/subscribe")
///     .header("Content-Type", "application/x-www-form-urlencoded")
///     .body("email=ann%40example.com")
///     .send(&subscribe);
/// assert_eq!(resp.text(), "subscribed ann@example.com");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Form<'a> {
    body: &'a [u8],
}

impl<'a> Form<'a> {
    /// The first value of field `name`, decoded.
    ///
    /// ```
    /// use shockwave::{Error, Request, Response};
    /// let handler = |req: &Request, resp: &mut Response| -> Result<(), Error> {
    ///     let form = req.form()?;
    ///     resp.write_body(format!("{:?} {:?}", form.get("q"), form.get("page")));
    ///     Ok(())
    /// };
    /// let resp = shockwave::test::request("POST", "/")
    ///     .header("Content-Type", "application/x-www-form-urlencoded")
    ///     .body("q=fish+%26+chips&q=ignored")
    ///     .send(&handler);
    /// assert_eq!(resp.text(), r#"Some("fish & chips") None"#);
    /// ```
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        first(self.body, name)
    }

    /// Every value of field `name` (a repeated field, e.g. checkboxes), in order.
    ///
    /// ```
    /// use shockwave::{Error, Request, Response};
    /// let handler = |req: &Request, resp: &mut Response| -> Result<(), Error> {
    ///     let topics: Vec<_> = req.form()?.get_all("topic").collect();
    ///     resp.write_body(topics.join(","));
    ///     Ok(())
    /// };
    /// let resp = shockwave::test::request("POST", "/")
    ///     .header("Content-Type", "application/x-www-form-urlencoded")
    ///     .body("topic=rust&name=ann&topic=http")
    ///     .send(&handler);
    /// assert_eq!(resp.text(), "rust,http");
    /// ```
    pub fn get_all<'n>(&self, name: &'n str) -> impl Iterator<Item = Cow<'a, str>> + 'n
    where
        'a: 'n,
    {
        pairs(self.body).filter(move |(k, _)| k == name).map(|(_, v)| v)
    }

    /// Every `(name, value)` pair, in order.
    ///
    /// ```
    /// use shockwave::{Error, Request, Response};
    /// let handler = |req: &Request, resp: &mut Response| -> Result<(), Error> {
    ///     for (name, value) in req.form()?.pairs() {
    ///         resp.write_body(format!("{name}={value};"));
    ///     }
    ///     Ok(())
    /// };
    /// let resp = shockwave::test::request("POST", "/")
    ///     .header("Content-Type", "application/x-www-form-urlencoded")
    ///     .body("a=1&b=x+y&a=3")
    ///     .send(&handler);
    /// assert_eq!(resp.text(), "a=1;b=x y;a=3;");
    /// ```
    pub fn pairs(&self) -> impl Iterator<Item = (Cow<'a, str>, Cow<'a, str>)> {
        pairs(self.body)
    }
}

impl Request {
    /// The first value of query argument `name`, percent-decoded (`+` as a space); an
    /// argument without `=` has the value `""`.
    ///
    /// ```
    /// let resp = shockwave::test::request("GET", "/search?q=caf%C3%A9+au+lait&verbose").send(
    ///     &|req: &shockwave::Request, resp: &mut shockwave::Response| {
    ///         let q = req.query("q").unwrap_or_default();
    ///         resp.write_body(format!("{q} {:?} {:?}", req.query("verbose"), req.query("page")));
    ///     },
    /// );
    /// assert_eq!(resp.text(), r#"café au lait Some("") None"#);
    /// ```
    pub fn query(&self, name: &str) -> Option<Cow<'_, str>> {
        first(self.query_string()?.as_bytes(), name)
    }

    /// Every value of query argument `name` (`?tag=a&tag=b`), in order, decoded.
    ///
    /// ```
    /// let resp = shockwave::test::request("GET", "/?tag=a&x=1&tag=b%21").send(&|req: &shockwave::Request, resp: &mut shockwave::Response| {
    ///     resp.write_body(req.query_all("tag").collect::<Vec<_>>().join(","));
    /// });
    /// assert_eq!(resp.text(), "a,b!");
    /// ```
    pub fn query_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = Cow<'a, str>> + 'a {
        pairs(self.query_string().unwrap_or("").as_bytes()).filter(move |(k, _)| k == name).map(|(_, v)| v)
    }

    /// Every query argument as `(name, value)`, in order, decoded.
    ///
    /// ```
    /// let resp = shockwave::test::request("GET", "/?a=1&b=2").send(&|req: &shockwave::Request, resp: &mut shockwave::Response| {
    ///     for (k, v) in req.query_pairs() {
    ///         resp.write_body(format!("{k}={v};"));
    ///     }
    /// });
    /// assert_eq!(resp.text(), "a=1;b=2;");
    /// ```
    pub fn query_pairs(&self) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
        pairs(self.query_string().unwrap_or("").as_bytes())
    }

    /// The path, percent-decoded (so `%2F` becomes `/`: route on [`path`](Self::path) or
    /// the router's parameters when that matters). `400` if it does not decode to UTF-8.
    ///
    /// ```
    /// let resp = shockwave::test::request("GET", "/caf%C3%A9/menu").send(&|req: &shockwave::Request, resp: &mut shockwave::Response| -> Result<(), shockwave::Error> {
    ///     resp.write_body(req.decoded_path()?.into_owned());
    ///     Ok(())
    /// });
    /// assert_eq!(resp.text(), "/café/menu");
    /// ```
    pub fn decoded_path(&self) -> Result<Cow<'_, str>, Error> {
        percent_encoding::percent_decode_str(self.path())
            .decode_utf8()
            .map_err(|_| Error::bad_request("the request path is not valid UTF-8 once percent-decoded"))
    }

    /// The body as an `application/x-www-form-urlencoded` form (what an HTML `<form
    /// method=post>` sends). `415` for another `Content-Type`, `413` beyond the server's body
    /// limit, `400` when it cannot be read.
    ///
    /// ```
    /// let resp = shockwave::test::request("POST", "/signup")
    ///     .header("Content-Type", "application/x-www-form-urlencoded")
    ///     .body("name=Ann+Lee&lang=en&lang=fr")
    ///     .send(&|req: &shockwave::Request, resp: &mut shockwave::Response| -> Result<(), shockwave::Error> {
    ///         let form = req.form()?;
    ///         let langs: Vec<_> = form.get_all("lang").collect();
    ///         resp.write_body(format!("{} speaks {}", form.get("name").unwrap_or_default(), langs.join("+")));
    ///         Ok(())
    ///     });
    /// assert_eq!(resp.text(), "Ann Lee speaks en+fr");
    /// ```
    pub fn form(&self) -> Result<Form<'_>, Error> {
        if !self.has_media_type("application/x-www-form-urlencoded") {
            return Err(Error::unsupported_media_type("expected Content-Type: application/x-www-form-urlencoded"));
        }
        Ok(Form { body: self.body()? })
    }

    /// The query string deserialised into `T` (`serde_urlencoded`); `400` naming what did not fit.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Page { n: u32, size: Option<u32> }
    ///
    /// let resp = shockwave::test::request("GET", "/list?n=3").send(&|req: &shockwave::Request, resp: &mut shockwave::Response| -> Result<(), shockwave::Error> {
    ///     let p: Page = req.query_as()?;
    ///     resp.write_body(format!("page {} of size {}", p.n, p.size.unwrap_or(20)));
    ///     Ok(())
    /// });
    /// assert_eq!(resp.text(), "page 3 of size 20");
    /// ```
    #[cfg(feature = "form")]
    pub fn query_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        serde_urlencoded::from_str(self.query_string().unwrap_or(""))
            .map_err(|e| Error::bad_request(format!("bad query: {e}")))
    }

    /// The body as an urlencoded form deserialised into `T` (`serde_urlencoded`); errors as
    /// [`form`](Self::form), and `400` naming what did not fit.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Login { user: String, remember: Option<String> }
    ///
    /// let resp = shockwave::test::request("POST", "/login")
    ///     .header("Content-Type", "application/x-www-form-urlencoded")
    ///     .body("user=ann&remember=on")
    ///     .send(&|req: &shockwave::Request, resp: &mut shockwave::Response| -> Result<(), shockwave::Error> {
    ///         let l: Login = req.form_as()?;
    ///         resp.write_body(format!("{} {}", l.user, l.remember.is_some()));
    ///         Ok(())
    ///     });
    /// assert_eq!(resp.text(), "ann true");
    /// ```
    #[cfg(feature = "form")]
    pub fn form_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        let form = self.form()?;
        serde_urlencoded::from_bytes(form.body).map_err(|e| Error::bad_request(format!("bad form: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use crate::test::request;
    use crate::{Request, Response};

    #[test]
    fn a_form_needs_its_content_type() {
        let h = |req: &Request, resp: &mut Response| -> Result<(), crate::Error> {
            resp.write_body(req.form()?.get("a").unwrap_or_default().into_owned());
            Ok(())
        };
        assert_eq!(request("POST", "/").body("a=1").send(&h).status(), 415);
        let ok = request("POST", "/")
            .header("content-type", "Application/X-WWW-Form-Urlencoded; charset=utf-8")
            .body("a=%31")
            .send(&h);
        assert_eq!(ok.text(), "1");
    }

    #[test]
    fn query_edge_cases() {
        let h = |req: &Request, resp: &mut Response| {
            let v: Vec<String> = req.query_pairs().map(|(k, v)| format!("{k}={v}")).collect();
            resp.write_body(v.join("|"));
        };
        assert_eq!(request("GET", "/?&a=&=b&c=%zz&d=1=2").send(&h).text(), "a=|=b|c=%zz|d=1=2");
        assert_eq!(request("GET", "/").send(&h).text(), "");
    }
}
