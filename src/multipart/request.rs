//! `multipart/form-data` request bodies: [`Request::multipart`] streams one from the socket.

use super::error::Kind;
use super::{boundary, Limits, Multipart, MultipartError};
use crate::{BodyReader, Error, Request};

impl Request {
    /// The body as a streamed `multipart/form-data` form (HTML file uploads), with the default
    /// [`Limits`]. `415` for another `Content-Type`, `400` without a valid boundary. Parts
    /// come one at a time as [`Read`](std::io::Read)ers over the socket: a file is never held
    /// whole in memory (the server's `max_request_body` still bounds the body: raise it for
    /// big uploads).
    ///
    /// ```
    /// use std::io::Read;
    /// let upload = |req: &shockwave::Request, resp: &mut shockwave::Response| -> Result<(), shockwave::Error> {
    ///     let mut form = req.multipart()?;
    ///     while let Some(mut part) = form.next_part()? {
    ///         let name = part.name().unwrap_or("").to_string();
    ///         let n = std::io::copy(&mut part, &mut std::io::sink())?;
    ///         resp.write_body(format!("{name}: {n} bytes\n"));
    ///     }
    ///     Ok(())
    /// };
    /// let body = "--b\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n\r\nhello\r\n--b--\r\n";
    /// let resp = shockwave::test::request("POST", "/upload")
    ///     .header("Content-Type", "multipart/form-data; boundary=b")
    ///     .body(body)
    ///     .send(&upload);
    /// assert_eq!(resp.text(), "doc: 5 bytes\n");
    /// ```
    pub fn multipart(&self) -> Result<Multipart<BodyReader<'_>>, Error> {
        self.multipart_with(Limits::default())
    }

    /// [`multipart`](Self::multipart) with other limits (parts, header, field and file sizes).
    ///
    /// ```
    /// use shockwave::multipart::Limits;
    /// let small = |req: &shockwave::Request, resp: &mut shockwave::Response| -> Result<(), shockwave::Error> {
    ///     let mut form = req.multipart_with(Limits::default().max_field_bytes(4))?;
    ///     while let Some(part) = form.next_part()? {
    ///         resp.write_body(part.text()?);
    ///     }
    ///     Ok(())
    /// };
    /// let body = "--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\ntoo long\r\n--b--\r\n";
    /// let resp = shockwave::test::request("POST", "/").header("Content-Type", "multipart/form-data; boundary=b").body(body).send(&small);
    /// assert_eq!(resp.status(), 413);
    /// ```
    pub fn multipart_with(&self, limits: Limits) -> Result<Multipart<BodyReader<'_>>, Error> {
        if !self.has_media_type("multipart/form-data") {
            return Err(Error::unsupported_media_type("expected Content-Type: multipart/form-data"));
        }
        let ct = self.content_type().unwrap_or("");
        let b = boundary(ct).ok_or_else(|| Error::bad_request("multipart/form-data without a valid boundary"))?;
        Ok(Multipart::new(self.body_reader(), b, limits)?)
    }
}

/// `400` for a malformed body, `413` for a limit, with the parser's message; a failed read of
/// the body keeps its own status (`408` for a timeout, `413` over the body limit).
impl From<MultipartError> for Error {
    fn from(e: MultipartError) -> Error {
        match e.kind() {
            Kind::Limit => Error::new(413, e.to_string()),
            Kind::Malformed => Error::bad_request(e.to_string()),
            Kind::Io => Error::from(std::io::Error::from(e)),
        }
    }
}
