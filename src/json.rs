//! JSON bodies (feature `json`, serde_json): [`Request::json`] reads one, [`Response::json`]
//! writes one.
//!
//! Writing serialises straight into the response's reused body buffer, so answering JSON
//! allocates nothing the value itself does not. Reading checks the media type first (`415`),
//! reads the body within the server's limit (`413`) and reports serde's position of a bad
//! body (`400`); those errors answer as JSON.

use crate::{Error, Request, Response};

impl Request {
    /// The body deserialised from JSON. `415` unless the `Content-Type` is
    /// `application/json` (or a `+json` type such as `application/merge-patch+json`), `413`
    /// beyond the server's body limit, `400` with serde's message (line and column) for a
    /// body that does not parse or fit `T`. The errors answer as JSON.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct User { name: String }
    ///
    /// let create = |req: &shockwave::Request, resp: &mut shockwave::Response| -> Result<(), shockwave::Error> {
    ///     let u: User = req.json()?;
    ///     resp.set_status(201);
    ///     resp.write_body(format!("created {}", u.name));
    ///     Ok(())
    /// };
    /// let ok = shockwave::test::request("POST", "/users").header("Content-Type", "application/json").body(r#"{"name":"ann"}"#).send(&create);
    /// assert_eq!((ok.status(), ok.text()), (201, "created ann"));
    /// let bad = shockwave::test::request("POST", "/users").header("Content-Type", "application/json").body("{").send(&create);
    /// assert_eq!(bad.status(), 400);
    /// assert!(bad.text().starts_with(r#"{"error":"invalid JSON body: EOF while parsing"#));
    /// let plain = shockwave::test::request("POST", "/users").body(r#"{"name":"ann"}"#).send(&create);
    /// assert_eq!(plain.status(), 415);
    /// ```
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        let is_json = self.media_type().is_some_and(|t| {
            t.eq_ignore_ascii_case("application/json")
                || t.len() > 5 && t.is_char_boundary(t.len() - 5) && t[t.len() - 5..].eq_ignore_ascii_case("+json")
        });
        if !is_json {
            return Err(Error::unsupported_media_type("expected Content-Type: application/json").json());
        }
        let body = self.body().map_err(|e| Error::from(e).json())?;
        serde_json::from_slice(body).map_err(|e| Error::bad_request(format!("invalid JSON body: {e}")).json())
    }
}

impl Response {
    /// Sets the body to `value` as JSON and `Content-Type: application/json`. Fails only if
    /// `value` cannot be serialised (a map with non-string keys, a failing `Serialize`):
    /// `500`, detail logged.
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct Message { message: &'static str }
    ///
    /// let hello = |_req: &shockwave::Request, resp: &mut shockwave::Response| resp.json(&Message { message: "Hello, World!" });
    /// let resp = shockwave::test::request("GET", "/json").send(&hello);
    /// assert_eq!(resp.header("content-type"), Some("application/json"));
    /// assert_eq!(resp.text(), r#"{"message":"Hello, World!"}"#);
    /// ```
    pub fn json<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.set_content_type("application/json");
        self.set_body(b"");
        let r = match self.body_buffer() {
            Some(body) => serde_json::to_writer(body, value),
            // a HEAD request or a 204/304: only the length counts (or nothing)
            None => serde_json::to_writer(&mut crate::http::response::BodyWriter(self), value),
        };
        r.map_err(Error::internal)
    }
}

#[cfg(test)]
mod tests {
    use crate::test::request;
    use crate::{Request, Response};

    #[test]
    fn a_json_head_response_has_the_length_and_no_body() {
        let h = |_req: &Request, resp: &mut Response| resp.json(&[1, 2, 3]);
        let r = request("HEAD", "/").send(&h);
        assert_eq!((r.header("content-length"), r.body()), (Some("7"), &b""[..]));
        assert_eq!(request("GET", "/").send(&h).text(), "[1,2,3]");
    }

    #[test]
    fn json_suffix_types_are_accepted_and_others_refused() {
        let h = |req: &Request, resp: &mut Response| -> Result<(), crate::Error> {
            let v: Vec<u8> = req.json()?;
            resp.write_body(v.len().to_string());
            Ok(())
        };
        for (ct, want) in [
            ("application/merge-patch+json", 200),
            ("Application/JSON; charset=utf-8", 200),
            ("text/json", 415),
            ("x+jsonp", 415),
        ] {
            let r = request("POST", "/").header("content-type", ct).body("[1,2]").send(&h);
            assert_eq!(r.status(), want, "{ct}");
        }
        let r = request("POST", "/").header("content-type", "application/json").body(r#"["a"]"#).send(&h);
        assert_eq!((r.status(), r.header("content-type")), (400, Some("application/json")));
    }
}
