//! Removing a content coding: a push decoder ([`Inflater`]: compressed bytes in, decoded
//! bytes out, never more than a limit) shared by request bodies ([`DecodedReader`],
//! `Request::decoded_body`) and the client's responses.
//!
//! gzip and deflate input is fed in slices of `STEP` (512) bytes and the output checked
//! against the limit after each, so a zip bomb costs at most the limit plus what one slice
//! can expand to (deflate's ratio is at most ~1032:1, so ~0.5 MiB); brotli, whose ratio has no
//! such bound, is driven through its stream API `BROTLI_OUT` (64 KiB) of output at a time.
//! Never the bomb's full size.

use super::Coding;
use std::io::{self, Read};

/// Compressed bytes fed to a decoder between two checks of the output size.
#[cfg(feature = "compress")]
const STEP: usize = 512;

enum Dec {
    #[cfg(feature = "compress")]
    Gzip(flate2::write::MultiGzDecoder<Vec<u8>>),
    #[cfg(feature = "compress")]
    Zlib(flate2::write::ZlibDecoder<Vec<u8>>),
    /// `deflate` as some servers send it: raw, without zlib's wrapper.
    #[cfg(feature = "compress")]
    Raw(flate2::write::DeflateDecoder<Vec<u8>>),
    /// `deflate` before its first two bytes have shown which: those bytes, and an output
    /// that stays empty.
    #[cfg(feature = "compress")]
    Sniff(Vec<u8>, Vec<u8>),
    /// Driven through its stream API, whose output is bounded per call (the writer wrapper
    /// would expand a whole bomb from one small write).
    #[cfg(feature = "brotli")]
    Brotli { state: Box<BrotliState>, out: Vec<u8>, done: bool },
}

#[cfg(feature = "brotli")]
type BrotliState =
    brotli::BrotliState<brotli::enc::StandardAlloc, brotli::enc::StandardAlloc, brotli::enc::StandardAlloc>;

/// Decoded bytes brotli may write per call.
#[cfg(feature = "brotli")]
const BROTLI_OUT: usize = 64 * 1024;

/// A push decoder for one body.
pub(crate) struct Inflater {
    dec: Dec,
    coding: Coding,
    limit: u64,
    /// Decoded bytes produced so far.
    total: u64,
    /// Decoded bytes of `out()` already taken by the caller.
    taken: usize,
}

impl Inflater {
    /// A decoder for `coding` (which must be available) whose output may not exceed `limit`.
    pub(crate) fn new(coding: Coding, limit: u64) -> Inflater {
        let dec = match coding {
            #[cfg(feature = "compress")]
            Coding::Gzip => Dec::Gzip(flate2::write::MultiGzDecoder::new(Vec::new())),
            #[cfg(feature = "compress")]
            Coding::Deflate => Dec::Sniff(Vec::new(), Vec::new()),
            #[cfg(feature = "brotli")]
            Coding::Brotli => {
                let a = brotli::enc::StandardAlloc::default;
                Dec::Brotli { state: Box::new(BrotliState::new(a(), a(), a())), out: Vec::new(), done: false }
            }
            #[allow(unreachable_patterns)]
            _ => unreachable!("{coding:?} is decoded only when its feature is on"),
        };
        Inflater { dec, coding, limit, total: 0, taken: 0 }
    }

    fn out(&mut self) -> &mut Vec<u8> {
        match &mut self.dec {
            #[cfg(feature = "compress")]
            Dec::Gzip(d) => d.get_mut(),
            #[cfg(feature = "compress")]
            Dec::Zlib(d) => d.get_mut(),
            #[cfg(feature = "compress")]
            Dec::Raw(d) => d.get_mut(),
            #[cfg(feature = "compress")]
            Dec::Sniff(_, out) => out,
            #[cfg(feature = "brotli")]
            Dec::Brotli { out, .. } => out,
        }
    }

    fn malformed(&self, e: io::Error) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, format!("malformed {} body: {e}", self.coding.name()))
    }

    fn too_large(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("the decoded ({}) body is over the limit of {} bytes", self.coding.name(), self.limit),
        )
    }

    /// Feeds compressed bytes; the decoded ones are then in [`pending`](Self::pending).
    pub(crate) fn push(&mut self, #[allow(unused_mut)] mut input: &[u8]) -> io::Result<()> {
        #[cfg(feature = "compress")]
        if let Dec::Sniff(head, _) = &mut self.dec {
            let n = (2 - head.len()).min(input.len());
            head.extend_from_slice(&input[..n]);
            input = &input[n..];
            if head.len() < 2 {
                return Ok(());
            }
            let head = std::mem::take(head);
            // zlib: CM = 8 in the low nibble and the 16-bit header a multiple of 31 (RFC 1950)
            let zlib = head[0] & 0x0f == 8 && (u16::from(head[0]) << 8 | u16::from(head[1])) % 31 == 0;
            self.dec = if zlib {
                Dec::Zlib(flate2::write::ZlibDecoder::new(Vec::new()))
            } else {
                Dec::Raw(flate2::write::DeflateDecoder::new(Vec::new()))
            };
            self.push(&head)?;
        }
        #[cfg(feature = "brotli")]
        #[allow(irrefutable_let_patterns)]
        if let Dec::Brotli { .. } = self.dec {
            return self.brotli(input);
        }
        #[cfg(feature = "compress")]
        self.flate(input)?;
        Ok(())
    }

    /// Runs flate2's writer over `input`, `STEP` bytes at a time.
    #[cfg(feature = "compress")]
    fn flate(&mut self, mut input: &[u8]) -> io::Result<()> {
        use std::io::Write;
        while !input.is_empty() {
            let n = input.len().min(STEP);
            let before = self.out().len();
            let r = match &mut self.dec {
                Dec::Gzip(d) => d.write_all(&input[..n]),
                Dec::Zlib(d) => d.write_all(&input[..n]),
                Dec::Raw(d) => d.write_all(&input[..n]),
                _ => Ok(()),
            };
            r.map_err(|e| self.malformed(e))?;
            self.grew(before)?;
            input = &input[n..];
        }
        Ok(())
    }

    /// Runs brotli over `input`, `BROTLI_OUT` decoded bytes at a time.
    #[cfg(feature = "brotli")]
    fn brotli(&mut self, input: &[u8]) -> io::Result<()> {
        use brotli::BrotliResult;
        let (mut avail_in, mut in_off) = (input.len(), 0);
        loop {
            #[allow(irrefutable_let_patterns)]
            let Dec::Brotli { state, out, done } = &mut self.dec
            else {
                unreachable!()
            };
            if *done {
                return Ok(()); // (bytes after the end of the stream are ignored, as browsers do)
            }
            let start = out.len();
            out.resize(start + BROTLI_OUT, 0);
            let (mut avail_out, mut out_off, mut total) = (BROTLI_OUT, 0, 0);
            let r = brotli::BrotliDecompressStream(
                &mut avail_in,
                &mut in_off,
                input,
                &mut avail_out,
                &mut out_off,
                &mut out[start..],
                &mut total,
                state,
            );
            out.truncate(start + out_off);
            let result = match r {
                BrotliResult::ResultSuccess => {
                    *done = true;
                    Ok(())
                }
                BrotliResult::NeedsMoreInput => Ok(()),
                BrotliResult::NeedsMoreOutput => Err(true),
                BrotliResult::ResultFailure => Err(false),
            };
            self.grew(start)?;
            match result {
                Ok(()) => return Ok(()),
                Err(true) => {}
                Err(false) => return Err(self.malformed(io::Error::other("invalid brotli stream"))),
            }
        }
    }

    fn grew(&mut self, before: usize) -> io::Result<()> {
        let after = self.out().len();
        self.total += (after - before) as u64;
        if self.total > self.limit {
            return Err(self.too_large());
        }
        Ok(())
    }

    /// The end of the input: checks the stream ended properly (a truncated body is an error).
    pub(crate) fn finish(&mut self) -> io::Result<()> {
        let before = self.out().len();
        let r = match &mut self.dec {
            #[cfg(feature = "compress")]
            Dec::Gzip(d) => d.try_finish(),
            #[cfg(feature = "compress")]
            Dec::Zlib(d) => d.try_finish(),
            #[cfg(feature = "compress")]
            Dec::Raw(d) => d.try_finish(),
            #[cfg(feature = "compress")]
            Dec::Sniff(head, _) if head.is_empty() => return Ok(()), // an empty body
            #[cfg(feature = "compress")]
            Dec::Sniff(..) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "stream ends in its header")),
            #[cfg(feature = "brotli")]
            Dec::Brotli { done: true, .. } => Ok(()),
            #[cfg(feature = "brotli")]
            Dec::Brotli { .. } => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "stream ends early")),
        };
        r.map_err(|e| self.malformed(e))?;
        self.grew(before)
    }

    /// Decoded bytes not yet taken.
    pub(crate) fn pending(&mut self) -> &[u8] {
        let t = self.taken;
        &self.out()[t..]
    }

    /// Marks `n` bytes of [`pending`](Self::pending) as taken.
    pub(crate) fn take(&mut self, n: usize) {
        self.taken += n;
        if self.taken == self.out().len() {
            self.taken = 0;
            self.out().clear();
        }
    }

    /// Copies decoded bytes to `buf`: how many.
    pub(crate) fn copy_to(&mut self, buf: &mut [u8]) -> usize {
        let p = self.pending();
        let n = p.len().min(buf.len());
        buf[..n].copy_from_slice(&p[..n]);
        self.take(n);
        n
    }
}

/// The coding named by a `Content-Encoding` of one coding, `Ok(None)` for none (or
/// `identity`), `Err` with a message for anything this build cannot decode.
pub(crate) fn coding_of(value: Option<&[u8]>) -> Result<Option<Coding>, String> {
    let Some(value) = value else { return Ok(None) };
    let mut codings = crate::h1::framing::list(value).filter(|t| !t.eq_ignore_ascii_case(b"identity"));
    let Some(first) = codings.next() else { return Ok(None) };
    let unsupported = || {
        format!(
            "Content-Encoding {:?} is not supported; this server decodes: {}",
            String::from_utf8_lossy(value),
            Coding::available_list()
        )
    };
    if codings.next().is_some() {
        return Err(unsupported());
    }
    Coding::from_name(first).map(Some).ok_or_else(unsupported)
}

/// `Err` (the 415's message) when the request's body is in a coding this build cannot decode.
pub(crate) fn check_request(req: &crate::Request) -> Result<(), String> {
    let mut all = req.header_all("content-encoding");
    match (all.next(), all.next()) {
        (None, _) => Ok(()),
        (Some(v), None) => coding_of(Some(v)).map(|_| ()),
        (Some(_), Some(_)) => coding_of(Some(b"gzip, gzip")).map(|_| ()),
    }
}

/// A request body with its `Content-Encoding` removed: a [`Read`] that fails with
/// [`io::ErrorKind::InvalidData`] on a malformed body and [`io::ErrorKind::FileTooLarge`] past
/// its limit (which `?` in a handler answers 400 and 413). From
/// [`Request::decoded_reader`](crate::Request::decoded_reader).
///
/// ```
/// use std::io::Read;
/// let handler = |req: &shockwave::Request, resp: &mut shockwave::Response| -> Result<(), shockwave::Error> {
///     let mut text = String::new();
///     req.decoded_reader(1 << 20)?.read_to_string(&mut text)?;
///     resp.write_body(format!("{} bytes", text.len()));
///     Ok(())
/// };
/// let resp = shockwave::test::request("POST", "/").body("plain").send(&handler);
/// assert_eq!(resp.text(), "5 bytes");
/// ```
pub struct DecodedReader<'a> {
    body: crate::BodyReader<'a>,
    /// `None`: identity, counted against `limit` here.
    inflater: Option<Inflater>,
    limit: u64,
    read: u64,
    done: bool,
}

impl Read for DecodedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let Some(inf) = &mut self.inflater else {
            let n = self.body.read(buf)?;
            self.read += n as u64;
            if self.read > self.limit {
                return Err(io::Error::new(
                    io::ErrorKind::FileTooLarge,
                    format!("the body is over the limit of {} bytes", self.limit),
                ));
            }
            return Ok(n);
        };
        let mut chunk = [0u8; 4096];
        loop {
            let n = inf.copy_to(buf);
            if n > 0 || self.done {
                return Ok(n);
            }
            match self.body.read(&mut chunk)? {
                0 => {
                    self.done = true;
                    inf.finish()?;
                }
                k => inf.push(&chunk[..k])?,
            }
        }
    }
}

impl std::fmt::Debug for DecodedReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedReader")
            .field("coding", &self.inflater.as_ref().map(|i| i.coding))
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl crate::Request {
    /// A reader over the body with its `Content-Encoding` (gzip, deflate, br, as this build
    /// has them) removed, yielding at most `limit` decoded bytes (an error past that: the
    /// defence against zip bombs). A body without a coding is read as it is, under the same
    /// limit. `Err` (`415`, saying which codings are supported) for a coding this build
    /// cannot decode, or several stacked; [`Compress::decode_requests`](super::Compress::decode_requests)
    /// answers those before the handler, with the `Accept-Encoding` field RFC 9110 §15.5.16
    /// asks for.
    ///
    /// ```
    /// use std::io::Read;
    /// let handler = |req: &shockwave::Request, _resp: &mut shockwave::Response| -> Result<(), shockwave::Error> {
    ///     let mut sink = Vec::new();
    ///     req.decoded_reader(1024)?.read_to_end(&mut sink)?;
    ///     Ok(())
    /// };
    /// let big = shockwave::test::request("POST", "/").body(vec![b'x'; 2000]).send(&handler);
    /// assert_eq!(big.status(), 413);
    /// let odd = shockwave::test::request("POST", "/").header("Content-Encoding", "compress").body("x").send(&handler);
    /// assert_eq!(odd.status(), 415);
    /// ```
    pub fn decoded_reader(&self, limit: u64) -> Result<DecodedReader<'_>, crate::Error> {
        let mut all = self.header_all("content-encoding");
        let coding = match (all.next(), all.next()) {
            (v, None) => coding_of(v),
            _ => coding_of(Some(b"gzip, gzip")),
        }
        .map_err(crate::Error::unsupported_media_type)?;
        Ok(DecodedReader {
            body: self.body_reader(),
            inflater: coding.map(|c| Inflater::new(c, limit)),
            limit,
            read: 0,
            done: false,
        })
    }

    /// The whole body, decoded as [`decoded_reader`](Self::decoded_reader) does: at most
    /// `limit` bytes (else `413`), `400` for a malformed body, `415` for an unsupported
    /// coding.
    ///
    /// ```
    /// let handler = |req: &shockwave::Request, resp: &mut shockwave::Response| -> Result<(), shockwave::Error> {
    ///     let body = req.decoded_body(10 << 20)?;
    ///     resp.write_body(format!("{} bytes", body.len()));
    ///     Ok(())
    /// };
    /// # #[cfg(feature = "compress")] {
    /// let bad = shockwave::test::request("POST", "/").header("Content-Encoding", "gzip").body("not gzip").send(&handler);
    /// assert_eq!(bad.status(), 400);
    /// # }
    /// ```
    pub fn decoded_body(&self, limit: u64) -> Result<Vec<u8>, crate::Error> {
        let mut out = Vec::new();
        self.decoded_reader(limit)?.read_to_end(&mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(c: Coding, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut e = super::super::encode::Encoder::new(c, 6, 4, None, None);
        e.encode(data, &mut out, super::super::encode::Flush::Finish);
        out
    }

    fn available() -> impl Iterator<Item = Coding> {
        Coding::ALL.into_iter().filter(|c| c.is_available())
    }

    #[test]
    fn round_trips_byte_by_byte_and_whole() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8 ^ (i / 1000) as u8).collect();
        for c in available() {
            let z = encode(c, &data);
            for step in [1, 7, z.len()] {
                let mut inf = Inflater::new(c, u64::MAX);
                let mut got = Vec::new();
                for piece in z.chunks(step) {
                    inf.push(piece).unwrap();
                    got.extend_from_slice(inf.pending());
                    let n = inf.pending().len();
                    inf.take(n);
                }
                inf.finish().unwrap();
                got.extend_from_slice(inf.pending());
                assert!(got == data, "{c:?} step {step}");
            }
        }
    }

    #[test]
    fn limit_truncation_and_garbage() {
        for c in available() {
            let z = encode(c, &vec![0u8; 10_000_000]);
            let mut inf = Inflater::new(c, 1 << 20);
            let e = inf.push(&z).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::FileTooLarge, "{c:?}: {e}");
            // at most one step's expansion past the limit
            assert!(inf.total < (1 << 20) + 2 * 1024 * 1024, "{c:?}: {}", inf.total);

            let z = encode(c, b"hello hello hello");
            let mut inf = Inflater::new(c, u64::MAX);
            let r = inf.push(&z[..z.len() - 3]).and_then(|()| inf.finish());
            assert_eq!(r.unwrap_err().kind(), io::ErrorKind::InvalidData, "{c:?} truncated");

            let mut inf = Inflater::new(c, u64::MAX);
            let r = inf.push(b"\xff\xfe garbage that is no compressed stream").and_then(|()| inf.finish());
            assert_eq!(r.unwrap_err().kind(), io::ErrorKind::InvalidData, "{c:?} garbage");
        }
    }

    #[cfg(feature = "compress")]
    #[test]
    fn raw_deflate_is_read_as_deflate_too() {
        use std::io::Write;
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b"raw deflate, as IIS once sent it").unwrap();
        let z = e.finish().unwrap();
        let mut inf = Inflater::new(Coding::Deflate, u64::MAX);
        inf.push(&z).unwrap();
        inf.finish().unwrap();
        assert_eq!(inf.pending(), b"raw deflate, as IIS once sent it");
    }

    #[test]
    fn content_encoding_values() {
        assert_eq!(coding_of(None), Ok(None));
        assert_eq!(coding_of(Some(b"identity")), Ok(None));
        assert!(coding_of(Some(b"zstd")).unwrap_err().contains("not supported"));
        assert!(coding_of(Some(b"gzip, br")).is_err());
        if cfg!(feature = "compress") {
            assert_eq!(coding_of(Some(b" GZIP ")), Ok(Some(Coding::Gzip)));
            assert_eq!(coding_of(Some(b"x-gzip")), Ok(Some(Coding::Gzip)));
        }
    }
}
