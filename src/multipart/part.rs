//! One part of a body: its headers, and its data as a [`Read`] that the parser feeds.

use super::{Multipart, MultipartError};
use std::fmt;
use std::io::{self, Read};

/// One part of the body: its headers, and its body through [`Read`] (streamed; whatever is
/// left unread is skipped by the next [`Multipart::next_part`]).
///
/// ```
/// use shockwave::multipart::{Limits, Multipart};
/// use std::io::Read;
///
/// let body = &b"--b\r\ncontent-disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n\
///     Content-Type: text/plain\r\n\r\nline 1\r\nline 2\r\n--b--"[..];
/// let mut form = Multipart::new(body, "b", Limits::default())?;
/// let mut part = form.next_part()?.unwrap();
/// assert_eq!(part.filename(), Some("a.txt"));
/// let mut data = String::new();
/// part.read_to_string(&mut data)?;
/// assert_eq!(data, "line 1\r\nline 2");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Part<'a, R: Read> {
    pub(super) mp: &'a mut Multipart<R>,
}

impl<R: Read> Part<'_, R> {
    /// The form field's name, from `Content-Disposition: form-data; name="..."`, escapes
    /// undone. Always `Some`: a part without a name is rejected (RFC 7578 §4.2).
    ///
    /// ```
    /// use shockwave::multipart::{Limits, Multipart};
    ///
    /// let body = &b"--b\r\nContent-Disposition: form-data; name=\"say \\\"hi\\\"\"\r\n\r\n\r\n--b--"[..];
    /// let mut form = Multipart::new(body, "b", Limits::default())?;
    /// assert_eq!(form.next_part()?.unwrap().name(), Some("say \"hi\""));
    /// # Ok::<(), shockwave::multipart::MultipartError>(())
    /// ```
    pub fn name(&self) -> Option<&str> {
        Some(&self.mp.head.name)
    }

    /// The file name the client gave, `filename*` (RFC 5987, percent-decoded) preferred over
    /// `filename`; `None` for a plain field. Untrusted: never use it as a path as it is.
    ///
    /// ```
    /// use shockwave::multipart::{Limits, Multipart};
    ///
    /// let body = &b"--b\r\nContent-Disposition: form-data; name=f; filename=\"x.txt\"; \
    ///     filename*=UTF-8''%E2%82%AC%20rates.txt\r\n\r\n\r\n--b--"[..];
    /// let mut form = Multipart::new(body, "b", Limits::default())?;
    /// assert_eq!(form.next_part()?.unwrap().filename(), Some("€ rates.txt"));
    /// # Ok::<(), shockwave::multipart::MultipartError>(())
    /// ```
    pub fn filename(&self) -> Option<&str> {
        self.mp.head.filename.as_deref()
    }

    /// The part's `Content-Type`, if it has one (RFC 7578 §4.4: a part without one is
    /// `text/plain`).
    ///
    /// ```
    /// use shockwave::multipart::{Limits, Multipart};
    ///
    /// let body = &b"--b\r\nContent-Disposition: form-data; name=f; filename=a.png\r\n\
    ///     Content-Type:  image/png \r\n\r\n\r\n--b--"[..];
    /// let mut form = Multipart::new(body, "b", Limits::default())?;
    /// assert_eq!(form.next_part()?.unwrap().content_type(), Some("image/png"));
    /// # Ok::<(), shockwave::multipart::MultipartError>(())
    /// ```
    pub fn content_type(&self) -> Option<&str> {
        self.mp.head.content_type()
    }

    /// Every header of the part as `(name, value)`, in order, names as sent and values without
    /// surrounding whitespace.
    ///
    /// ```
    /// use shockwave::multipart::{Limits, Multipart};
    ///
    /// let body = &b"--b\r\nContent-Disposition: form-data; name=a\r\nX-Note: hi\r\n\r\n\r\n--b--"[..];
    /// let mut form = Multipart::new(body, "b", Limits::default())?;
    /// let part = form.next_part()?.unwrap();
    /// let headers: Vec<_> = part.headers().collect();
    /// assert_eq!(headers, [("Content-Disposition", "form-data; name=a"), ("X-Note", "hi")]);
    /// # Ok::<(), shockwave::multipart::MultipartError>(())
    /// ```
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.mp.head.fields()
    }

    /// The rest of the part's body as a string: for small fields. Fails with 413 past
    /// [`Limits::max_field_bytes`](super::Limits::max_field_bytes) (for a file part too), with 400 if it is not UTF-8.
    ///
    /// ```
    /// use shockwave::multipart::{Limits, Multipart};
    ///
    /// let body = &b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nh\xc3\xa9\r\n--b--"[..];
    /// let mut form = Multipart::new(body, "b", Limits::default())?;
    /// assert_eq!(form.next_part()?.unwrap().text()?, "hé");
    /// # Ok::<(), shockwave::multipart::MultipartError>(())
    /// ```
    pub fn text(self) -> Result<String, MultipartError> {
        let limit = self.mp.limits.max_field_bytes;
        let mut text = Vec::new();
        loop {
            let chunk = self.mp.chunk(usize::MAX)?;
            if chunk.is_empty() {
                break;
            }
            if (text.len() + chunk.len()) as u64 > limit {
                return Err(MultipartError::limit(format!(
                    "the form field {:?} is larger than max_field_bytes ({limit} bytes) to read as text",
                    self.mp.head.name
                )));
            }
            text.extend_from_slice(chunk);
        }
        String::from_utf8(text).map_err(|_| {
            MultipartError::malformed(format!("the form field {:?} is not valid UTF-8", self.mp.head.name))
        })
    }
}

impl<R: Read> Read for Part<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let chunk = self.mp.chunk(out.len())?;
        out[..chunk.len()].copy_from_slice(chunk);
        Ok(chunk.len())
    }
}

impl<R: Read> fmt::Debug for Part<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part")
            .field("name", &self.mp.head.name)
            .field("filename", &self.mp.head.filename)
            .field("content_type", &self.content_type())
            .finish()
    }
}
