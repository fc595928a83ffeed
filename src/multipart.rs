//! Streaming `multipart/form-data` (RFC 7578 over RFC 2046 §5.1): a body read from any
//! [`Read`], one [`Part`] at a time, each part itself a [`Read`].
//!
//! The parser owns one fixed buffer and never holds more than that of a part's body: a file
//! of any size streams through it. It must never hand out a byte of a delimiter as part data,
//! never read past what [`Limits::max_total_bytes`] allows, and never accept a body that
//! another reading of the RFCs could split differently (duplicate or folded headers,
//! a delimiter followed by anything but padding and CRLF or `--`).
//!
//! ```
//! use shockwave::multipart::{boundary, Limits, Multipart};
//! use std::io::Read;
//!
//! let content_type = "multipart/form-data; boundary=XyZ";
//! let body = &b"--XyZ\r\n\
//!     Content-Disposition: form-data; name=\"title\"\r\n\r\n\
//!     Holiday\r\n\
//!     --XyZ\r\n\
//!     Content-Disposition: form-data; name=\"photo\"; filename=\"beach.jpg\"\r\n\
//!     Content-Type: image/jpeg\r\n\r\n\
//!     \xff\xd8\xff\xe0 ...\r\n\
//!     --XyZ--\r\n"[..];
//!
//! let mut form = Multipart::new(body, boundary(content_type).unwrap(), Limits::default())?;
//! while let Some(mut part) = form.next_part()? {
//!     if part.filename().is_some() {
//!         let mut file = Vec::new(); // in a server: a File, written as the bytes arrive
//!         std::io::copy(&mut part, &mut file)?;
//!         assert_eq!(file, b"\xff\xd8\xff\xe0 ...");
//!     } else {
//!         assert_eq!(part.name(), Some("title"));
//!         assert_eq!(part.text()?, "Holiday");
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Implementation notes
//! The body is scanned with `memmem` for the delimiter `CRLF "--" boundary`, as if the stream
//! began with a CRLF, so that the first delimiter (which may open the body) is found by the
//! same search; likewise a part whose body begins with `"--" boundary` is empty, the empty line
//! after its headers ending in the delimiter's CRLF. A part's bytes are handed out once they
//! are certainly data: those before the first match in the buffer, or, with no match, all but
//! a tail that could begin a delimiter (at most its length minus one). Every match is a
//! delimiter: RFC 2046 §5.1.1 forbids the delimiter inside a part and says a match at the start
//! of a line suffices, so what follows it must be transport padding and CRLF, or `--` (the
//! close), or the body is rejected. Nothing after the close is read: the epilogue, like the
//! preamble, is ignored.
//!
//! The buffer is `BUF_SIZE` (8 KiB) plus the delimiter and two bytes of look-ahead; a part's header
//! block is gathered into a separate allocation bounded by [`Limits::max_part_header_bytes`]
//! and reused from part to part.

mod error;
mod headers;
mod limits;
mod part;
#[cfg(test)]
mod props;
mod request;
#[cfg(test)]
mod tests;

pub use error::MultipartError;
pub use headers::boundary;
pub use limits::Limits;
pub use part::Part;

use error::Kind;
use headers::Head;
use memchr::memmem::Finder;
use std::fmt;
use std::io::{self, Read};

/// Body bytes the buffer holds besides a delimiter and two bytes of look-ahead: about the most
/// one read from the underlying reader asks for, and one [`Part`] read hands out. 8 KiB, the
/// size of `std::io::copy`'s buffer.
const BUF_SIZE: usize = 8 * 1024;

/// The answer to a boundary followed by anything but padding and CRLF, or `--`.
const AFTER_BOUNDARY: &str =
    "unexpected bytes after a boundary: only spaces, tabs and CRLF may follow it (or `--` after the last)";

/// Where the parser is in the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Before the first delimiter: skipping the preamble.
    Preamble,
    /// `buf[start..]` begins with a delimiter's `"--" boundary` (its CRLF consumed); what
    /// follows is not yet known.
    Delimiter,
    /// In a part's body, its headers parsed.
    Body,
    /// The closing delimiter was seen.
    Done,
    /// An error ended the body; every later call fails alike.
    Failed(Kind),
}

/// A `multipart/form-data` body being parsed: call [`next_part`](Multipart::next_part) until it
/// gives `None`.
///
/// ```
/// use shockwave::multipart::{Limits, Multipart};
///
/// let body = &b"--b\r\nContent-Disposition: form-data; name=\"q\"\r\n\r\nrust\r\n--b--"[..];
/// let mut form = Multipart::new(body, "b", Limits::default())?;
/// let part = form.next_part()?.unwrap();
/// assert_eq!(part.name(), Some("q"));
/// assert_eq!(part.text()?, "rust");
/// assert!(form.next_part()?.is_none());
/// # Ok::<(), shockwave::multipart::MultipartError>(())
/// ```
pub struct Multipart<R: Read> {
    reader: R,
    limits: Limits,
    /// `CRLF "--" boundary`.
    delim: Box<[u8]>,
    finder: Finder<'static>,
    /// Fixed size: `BUF_SIZE + delim.len() + 2`. The unread bytes are `buf[start..end]`.
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// In [`State::Body`], `buf[start..clear]` are known to be the part's data (searched, no
    /// delimiter begins there), so small reads do not search the same bytes again.
    clear: usize,
    /// Bytes read from `reader`.
    total: u64,
    /// Parts begun.
    parts: usize,
    /// Body bytes of the current part handed out or skipped.
    part_bytes: u64,
    /// Nothing of the current part's body has been looked at yet.
    fresh: bool,
    state: State,
    head: Head,
}

impl<R: Read> Multipart<R> {
    /// A parser of `body`, whose parts are separated by `boundary` (the parameter of the
    /// request's `Content-Type`; see [`boundary`]). Nothing is read yet.
    ///
    /// Fails (400) unless the boundary is 1 to 70 of the characters RFC 2046 §5.1.1 allows.
    ///
    /// ```
    /// use shockwave::multipart::{Limits, Multipart};
    ///
    /// assert!(Multipart::new(&b""[..], "----WebKitFormBoundary7MA4YWxk", Limits::default()).is_ok());
    /// let err = Multipart::new(&b""[..], "no\"quotes", Limits::default()).unwrap_err();
    /// assert_eq!(err.status(), 400);
    /// ```
    pub fn new(body: R, boundary: &str, limits: Limits) -> Result<Self, MultipartError> {
        headers::check_boundary(boundary)?;
        let delim: Box<[u8]> = [b"\r\n--", boundary.as_bytes()].concat().into();
        let mut buf = vec![0; BUF_SIZE + delim.len() + 2].into_boxed_slice();
        buf[..2].copy_from_slice(b"\r\n"); // the CRLF the first delimiter may lack
        Ok(Multipart {
            reader: body,
            limits,
            finder: Finder::new(&delim).into_owned(),
            delim,
            buf,
            start: 0,
            end: 2,
            clear: 0,
            total: 0,
            parts: 0,
            part_bytes: 0,
            fresh: false,
            state: State::Preamble,
            head: Head::default(),
        })
    }

    /// The next part, after skipping what is left of the previous one; `None` after the
    /// closing delimiter.
    ///
    /// Fails with 400 on a malformed body (including one that ends before the closing
    /// delimiter) or a failed read, 413 past a limit (the skipped rest of a part counts
    /// against its limit too); after an error every call fails.
    ///
    /// ```
    /// use shockwave::multipart::{Limits, Multipart};
    ///
    /// let body = &b"preamble\r\n--b\r\nContent-Disposition: form-data; name=a\r\n\r\nskipped\r\n\
    ///     --b  \r\nContent-Disposition: form-data; name=b\r\n\r\nread\r\n--b--epilogue"[..];
    /// let mut form = Multipart::new(body, "b", Limits::default())?;
    /// form.next_part()?; // "a", never read
    /// assert_eq!(form.next_part()?.unwrap().text()?, "read");
    /// assert!(form.next_part()?.is_none());
    /// # Ok::<(), shockwave::multipart::MultipartError>(())
    /// ```
    pub fn next_part(&mut self) -> Result<Option<Part<'_, R>>, MultipartError> {
        match self.advance() {
            Ok(true) => Ok(Some(Part { mp: self })),
            Ok(false) => Ok(None),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Records that `e` ended the body, and passes it on.
    fn fail(&mut self, e: MultipartError) -> MultipartError {
        if !matches!(self.state, State::Failed(_)) {
            self.state = State::Failed(e.kind());
        }
        e
    }

    /// Moves to the next part's body: `true` there, `false` at the close.
    fn advance(&mut self) -> Result<bool, MultipartError> {
        loop {
            match self.state {
                State::Failed(kind) => return Err(MultipartError::again(kind)),
                State::Done => return Ok(false),
                State::Body => while !self.chunk(usize::MAX)?.is_empty() {},
                State::Preamble => self.skip_preamble()?,
                State::Delimiter => return self.open_part(),
            }
        }
    }

    fn skip_preamble(&mut self) -> Result<(), MultipartError> {
        loop {
            let avail = &self.buf[self.start..self.end];
            if let Some(p) = self.finder.find(avail) {
                self.start += p + 2;
                self.state = State::Delimiter;
                return Ok(());
            }
            self.start = self.end - self.partial_delimiter(avail);
            self.fill_or_fail()?;
        }
    }

    /// At a delimiter: the close, or the next part's headers.
    fn open_part(&mut self) -> Result<bool, MultipartError> {
        let dlen = self.delim.len() - 2;
        while self.end - self.start < dlen + 2 {
            self.fill_or_fail()?;
        }
        if &self.buf[self.start + dlen..self.start + dlen + 2] == b"--" {
            self.state = State::Done;
            return Ok(false);
        }
        if self.parts >= self.limits.max_parts {
            return Err(MultipartError::limit(format!(
                "the multipart body has more than max_parts ({}) parts",
                self.limits.max_parts
            )));
        }
        self.parts += 1;
        self.start += dlen;
        self.skip_padding()?;
        let block = self.read_head()?;
        if self.finder.find(&block).is_some() {
            return Err(MultipartError::malformed("a part's headers run into the next boundary"));
        }
        self.head.parse(block)?;
        self.part_bytes = 0;
        self.fresh = true;
        self.clear = self.start;
        self.state = State::Body;
        Ok(true)
    }

    /// `transport-padding := *LWSP-char` (RFC 2046 §5.1.1), which must end in CRLF; left at the
    /// CR. Padding counts against `max_part_header_bytes`.
    fn skip_padding(&mut self) -> Result<(), MultipartError> {
        let mut pad = 0;
        loop {
            while self.end - self.start < 2 {
                self.fill_or_fail()?;
            }
            match &self.buf[self.start..self.start + 2] {
                b"\r\n" => return Ok(()),
                [b' ' | b'\t', _] if pad < self.limits.max_part_header_bytes => {
                    self.start += 1;
                    pad += 1;
                }
                [b' ' | b'\t', _] => return Err(self.head_limit()),
                _ => return Err(MultipartError::malformed(AFTER_BOUNDARY)),
            }
        }
    }

    fn head_limit(&self) -> MultipartError {
        MultipartError::limit(format!(
            "a part's headers are larger than max_part_header_bytes ({} bytes)",
            self.limits.max_part_header_bytes
        ))
    }

    /// Gathers the header block: from after the boundary to the first CRLF CRLF, the boundary
    /// line's own CRLF included (so an empty block is found by the same search).
    fn read_head(&mut self) -> Result<Vec<u8>, MultipartError> {
        let max = self.limits.max_part_header_bytes.saturating_add(2);
        let mut block = self.head.take_buffer();
        loop {
            let take = (self.end - self.start).min(max - block.len());
            let from = block.len().saturating_sub(3);
            block.extend_from_slice(&self.buf[self.start..self.start + take]);
            self.start += take;
            if let Some(q) = memchr::memmem::find(&block[from..], b"\r\n\r\n") {
                let len = from + q + 4;
                self.start -= block.len() - len; // what came after the block, back to the buffer
                block.truncate(len);
                return Ok(block);
            }
            if block.len() >= max {
                return Err(self.head_limit());
            }
            self.fill_or_fail()?;
        }
    }

    /// How many bytes at the end of `avail` could begin a delimiter: the longest suffix that is
    /// a prefix of it. Only a CR can begin one (a boundary has none), so only CRs are tried.
    fn partial_delimiter(&self, avail: &[u8]) -> usize {
        let from = avail.len().saturating_sub(self.delim.len() - 1);
        memchr::memchr_iter(b'\r', &avail[from..])
            .map(|i| avail.len() - from - i)
            .find(|&n| self.delim.starts_with(&avail[avail.len() - n..]))
            .unwrap_or(0)
    }

    /// The next bytes of the current part's body, at most `max`, consumed: empty at the part's
    /// end (or outside a part). Enforces the part's limit.
    fn chunk(&mut self, max: usize) -> Result<&[u8], MultipartError> {
        match self.next_run().and_then(|n| self.consume(n.min(max))) {
            Ok((at, n)) => Ok(&self.buf[at..at + n]),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// How many bytes from `start` are certainly the part's data; 0 at its end.
    fn next_run(&mut self) -> Result<usize, MultipartError> {
        match self.state {
            State::Body => {}
            State::Failed(kind) => return Err(MultipartError::again(kind)),
            _ => return Ok(0),
        }
        // `MIME-part-headers [CRLF *OCTET]` (RFC 2046 §5.1.1): the empty line's CRLF may be the
        // next delimiter's, so a body that begins with `"--" boundary` is empty.
        while self.fresh {
            let dash = &self.delim[2..];
            let avail = &self.buf[self.start..self.end];
            if avail.starts_with(dash) {
                self.fresh = false;
                self.state = State::Delimiter;
                return Ok(0);
            }
            if avail.len() >= dash.len() || !dash.starts_with(avail) {
                self.fresh = false;
            } else {
                self.fill_or_fail()?;
            }
        }
        loop {
            if self.clear > self.start {
                return Ok(self.clear - self.start);
            }
            let avail = &self.buf[self.start..self.end];
            match self.finder.find(avail) {
                Some(0) => {
                    self.start += 2;
                    self.state = State::Delimiter;
                    return Ok(0);
                }
                Some(p) => self.clear = self.start + p,
                None => self.clear = self.end - self.partial_delimiter(avail),
            }
            if self.clear == self.start {
                self.fill_or_fail()?;
            }
        }
    }

    /// Takes `n` bytes of the part's body at `start`; fails if that makes the part too large.
    fn consume(&mut self, n: usize) -> Result<(usize, usize), MultipartError> {
        self.part_bytes += n as u64;
        let l = &self.limits;
        match &self.head.filename {
            Some(f) if self.part_bytes > l.max_file_bytes => Err(MultipartError::limit(format!(
                "the file {f:?} of form field {:?} is larger than max_file_bytes ({} bytes)",
                self.head.name, l.max_file_bytes
            ))),
            None if self.part_bytes > l.max_field_bytes => Err(MultipartError::limit(format!(
                "the form field {:?} is larger than max_field_bytes ({} bytes)",
                self.head.name, l.max_field_bytes
            ))),
            _ => {
                self.start += n;
                Ok((self.start - n, n))
            }
        }
    }

    /// [`fill`](Self::fill), failing if the body has ended.
    fn fill_or_fail(&mut self) -> Result<(), MultipartError> {
        match self.fill()? {
            true => Ok(()),
            false if self.state == State::Preamble => Err(MultipartError::malformed(
                "multipart body ended before the closing boundary, with no boundary line at all \
                 (is it the boundary of the request's Content-Type?)",
            )),
            false => Err(MultipartError::malformed("multipart body ended before the closing boundary")),
        }
    }

    /// Reads more of the body after the unread bytes, moved to the front first; `false` at its
    /// end. Callers keep fewer than `delim.len() + 2` unread bytes, so there is room for at
    /// least `BUF_SIZE`.
    fn fill(&mut self) -> Result<bool, MultipartError> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.clear = self.clear.max(self.start) - self.start;
            self.end -= self.start;
            self.start = 0;
        }
        let left = self.limits.max_total_bytes - self.total;
        if left == 0 {
            return Err(MultipartError::limit(format!(
                "the multipart body is larger than max_total_bytes ({} bytes)",
                self.limits.max_total_bytes
            )));
        }
        let n = (self.buf.len() - self.end).min(usize::try_from(left).unwrap_or(usize::MAX));
        debug_assert!(n > 0, "no room in the multipart buffer");
        loop {
            match self.reader.read(&mut self.buf[self.end..self.end + n]) {
                Ok(0) => return Ok(false),
                Ok(k) => {
                    assert!(k <= n, "Read::read returned more bytes than asked for");
                    self.end += k;
                    self.total += k as u64;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(MultipartError::io(e)),
            }
        }
    }

    /// The fixed buffer's size, for the test that a large file streams in bounded memory.
    #[cfg(test)]
    fn buffer_len(&self) -> usize {
        self.buf.len()
    }
}

impl<R: Read> fmt::Debug for Multipart<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multipart")
            .field("state", &self.state)
            .field("parts", &self.parts)
            .field("bytes_read", &self.total)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}
