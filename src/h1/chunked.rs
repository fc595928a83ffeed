//! The chunked transfer coding (RFC 9112 §7.1): a resumable decoder that works in place.
//!
//! [`Chunked::decode`] consumes framing bytes from `buf[*rpos..end]` and moves chunk data down to
//! `buf[*wpos..]`, so a fully received body ends up contiguous in the same buffer with no copy to
//! another one. It can stop at any byte and resume when more arrives.
//!
//! Strict: chunk-size is `1*HEXDIG` (at most 16 digits), every line ends in CRLF (errata 7633: the
//! bare-LF allowance of §2.2 does not apply to chunk lines), chunk-data is followed by exactly
//! CRLF, extensions follow `*( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )` and
//! are ignored, trailer lines are validated like header fields and then dropped (they never
//! change framing or routing, RFC 9110 §6.5.1).

use super::field::{bad, HeadError};
use super::tables::{FIELD_VALUE, QDTEXT, QUOTED_PAIR, TCHAR};

/// Bytes of chunk extensions allowed on one chunk line ("ought to limit", RFC 9112 §7.1.1).
pub(crate) const MAX_EXTENSION_BYTES: u32 = 4 * 1024;
/// Bytes of trailer section allowed.
pub(crate) const MAX_TRAILER_BYTES: u32 = 16 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Size,
    SizeWs,
    ExtStart,
    ExtName,
    ExtNameWs,
    ExtValStart,
    ExtToken,
    ExtWs,
    ExtQuoted,
    ExtEscape,
    ExtAfterQuote,
    LineLf,
    Data,
    DataCr,
    DataLf,
    TrailerStart,
    TrailerName,
    TrailerValue,
    TrailerLf,
    EndLf,
    Done,
}

/// Decoder state for one chunked body.
#[derive(Clone, Debug)]
pub(crate) struct Chunked {
    state: State,
    size: u64,
    digits: u8,
    ext_bytes: u32,
    trailer_bytes: u32,
    total: u64,
    max_body: u64,
    /// The raw trailer section (field lines and the final CRLF), when asked to keep it.
    trailer: Option<Vec<u8>>,
}

const TOO_LARGE: HeadError = HeadError { status: 413, reason: "request body too large" };

impl Chunked {
    pub(crate) fn new(max_body: u64) -> Chunked {
        Chunked {
            state: State::Size,
            size: 0,
            digits: 0,
            ext_bytes: 0,
            trailer_bytes: 0,
            total: 0,
            max_body,
            trailer: None,
        }
    }

    /// Also keeps the trailer section's bytes (in `buf`, reused), for [`Chunked::trailer`].
    pub(crate) fn keeping_trailer(mut self, mut buf: Vec<u8>) -> Chunked {
        buf.clear();
        self.trailer = Some(buf);
        self
    }

    /// The trailer section as read so far: field lines, each ending in CRLF, then the empty
    /// line once [`is_done`](Self::is_done). Empty unless made with
    /// [`keeping_trailer`](Self::keeping_trailer).
    pub(crate) fn trailer(&mut self) -> Option<&mut Vec<u8>> {
        self.trailer.as_mut()
    }

    /// Whether the last chunk and the trailer section have been read.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decoded body bytes so far.
    #[cfg(any(fuzzing, test))]
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// Decodes `buf[*rpos..end]` in place; data is moved to `*wpos` (which never passes `*rpos`).
    /// Returns `Ok(true)` once the body is complete; `*rpos` then points past its last byte.
    pub(crate) fn decode(
        &mut self,
        buf: &mut [u8],
        rpos: &mut usize,
        wpos: &mut usize,
        end: usize,
    ) -> Result<bool, HeadError> {
        use State::*;
        let mut r = *rpos;
        let result = loop {
            if self.state == Done {
                break Ok(true);
            }
            if r >= end {
                break Ok(false);
            }
            if self.state == Data {
                let n = (self.size.min((end - r) as u64)) as usize;
                if *wpos != r {
                    buf.copy_within(r..r + n, *wpos);
                }
                *wpos += n;
                r += n;
                self.size -= n as u64;
                if self.size == 0 {
                    self.state = DataCr;
                }
                continue;
            }
            let b = buf[r];
            r += 1;
            if let Err(e) = self.step(b) {
                break Err(e);
            }
        };
        *rpos = r;
        result
    }

    fn step(&mut self, b: u8) -> Result<(), HeadError> {
        use State::*;
        let ws = b == b' ' || b == b'\t';
        if matches!(
            self.state,
            ExtStart | ExtName | ExtNameWs | ExtValStart | ExtToken | ExtWs | ExtQuoted | ExtEscape | ExtAfterQuote
        ) {
            self.ext_bytes += 1;
            if self.ext_bytes > MAX_EXTENSION_BYTES {
                return Err(bad("chunk extensions too long"));
            }
        }
        if matches!(self.state, TrailerStart | TrailerName | TrailerValue | TrailerLf | EndLf) {
            self.trailer_bytes += 1;
            if self.trailer_bytes > MAX_TRAILER_BYTES {
                return Err(HeadError { status: 431, reason: "trailer section too large" });
            }
            if let Some(t) = &mut self.trailer {
                t.push(b);
            }
        }
        self.state = match (self.state, b) {
            (Size, _) if b.is_ascii_hexdigit() => {
                if self.digits == 16 {
                    return Err(bad("chunk size overflows"));
                }
                self.digits += 1;
                self.size = self.size << 4 | (b as char).to_digit(16).unwrap_or(0) as u64;
                Size
            }
            (Size, _) if self.digits == 0 => return Err(bad("invalid chunk size")),
            (Size, b'\r') => LineLf,
            (Size | SizeWs, b';') => ExtStart,
            (Size | SizeWs, _) if ws => SizeWs,
            (ExtStart, _) if ws => ExtStart,
            (ExtStart | ExtName, _) if TCHAR[b as usize] => ExtName,
            (ExtName | ExtNameWs, _) if ws => ExtNameWs,
            (ExtName | ExtNameWs, b'=') => ExtValStart,
            (ExtName | ExtNameWs | ExtToken | ExtWs | ExtAfterQuote, b';') => ExtStart,
            (ExtName | ExtToken | ExtAfterQuote, b'\r') => LineLf,
            (ExtValStart, _) if ws => ExtValStart,
            (ExtValStart, b'"') => ExtQuoted,
            (ExtValStart | ExtToken, _) if TCHAR[b as usize] => ExtToken,
            (ExtToken | ExtWs | ExtAfterQuote, _) if ws => ExtWs,
            (ExtQuoted, b'"') => ExtAfterQuote,
            (ExtQuoted, b'\\') => ExtEscape,
            (ExtQuoted, _) if QDTEXT[b as usize] => ExtQuoted,
            (ExtEscape, _) if QUOTED_PAIR[b as usize] => ExtQuoted,
            (LineLf, b'\n') => {
                self.ext_bytes = 0;
                self.digits = 0;
                if self.size == 0 {
                    TrailerStart
                } else {
                    self.total = self.total.checked_add(self.size).ok_or(TOO_LARGE)?;
                    if self.total > self.max_body {
                        return Err(TOO_LARGE);
                    }
                    Data
                }
            }
            (DataCr, b'\r') => DataLf,
            (DataLf, b'\n') => {
                self.size = 0;
                Size
            }
            (TrailerStart, b'\r') => EndLf,
            (TrailerStart | TrailerName, _) if TCHAR[b as usize] => TrailerName,
            (TrailerName, b':') => TrailerValue,
            (TrailerValue, b'\r') => TrailerLf,
            (TrailerValue, _) if FIELD_VALUE[b as usize] => TrailerValue,
            (TrailerLf, b'\n') => TrailerStart,
            (EndLf, b'\n') => Done,
            (Size | SizeWs, _) => return Err(bad("invalid chunk size line")),
            (DataCr | DataLf, _) => return Err(bad("chunk data not followed by CRLF")),
            (LineLf | TrailerLf | EndLf, _) => return Err(bad("chunk line not ended by CRLF")),
            (TrailerStart | TrailerName | TrailerValue, _) => return Err(bad("invalid trailer field")),
            _ => return Err(bad("invalid chunk extension")),
        };
        Ok(())
    }
}

/// Appends `data` as one chunk (RFC 9112 §7.1); empty data appends nothing, as an empty
/// chunk would end the body.
pub(crate) fn push_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if !data.is_empty() {
        super::fmt::push_hex(out, data.len() as u64);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
}

/// The last chunk and an empty trailer section: the end of a chunked body.
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trailer_is_kept_when_asked() {
        let mut b = *b"3\r\nabc\r\n0\r\nX-Sum: 1\r\nY: 2\r\n\r\n";
        let (mut r, mut w) = (0, 0);
        let mut d = Chunked::new(100).keeping_trailer(Vec::new());
        let end = b.len();
        assert_eq!(d.decode(&mut b, &mut r, &mut w, end), Ok(true));
        assert_eq!(&b[..w], b"abc");
        assert_eq!(d.trailer().map(|t| &t[..]), Some(&b"X-Sum: 1\r\nY: 2\r\n\r\n"[..]));
        let mut out = Vec::new();
        push_chunk(&mut out, b"hello");
        push_chunk(&mut out, b"");
        out.extend_from_slice(LAST_CHUNK);
        assert_eq!(out, b"5\r\nhello\r\n0\r\n\r\n");
    }

    /// Decodes `input` fed in pieces of `step` bytes; returns the body or the error status.
    fn run(input: &[u8], step: usize) -> Result<(Vec<u8>, usize), u16> {
        let mut buf = input.to_vec();
        let mut d = Chunked::new(1 << 20);
        let (mut r, mut w) = (0, 0);
        let mut end = 0;
        loop {
            end = (end + step).min(buf.len());
            match d.decode(&mut buf, &mut r, &mut w, end) {
                Ok(true) => return Ok((buf[..w].to_vec(), r)),
                Ok(false) if end == buf.len() => return Err(0),
                Ok(false) => {}
                Err(e) => return Err(e.status),
            }
        }
    }

    #[test]
    fn valid_bodies_decode_the_same_at_any_split() {
        let cases: &[(&str, &str)] = &[
            ("5\r\nhello\r\n0\r\n\r\n", "hello"),
            ("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world"),
            ("A\r\nhelloworld\r\n000\r\n\r\n", "helloworld"),
            ("a\r\n0123456789\r\n0\r\n\r\n", "0123456789"),
            ("5;ext=value\r\nhello\r\n0\r\n\r\n", "hello"),
            ("5 ; a = b ; c\r\nhello\r\n0\r\n\r\n", "hello"),
            ("5;ilovew3=\"I \\\"love\\\"; \\\\extensions\\\\\";somuchlove=x\r\nhello\r\n0\r\n\r\n", "hello"),
            ("5\r\nhello\r\n0\r\nX-Checksum: abc\r\nVary: *\r\n\r\n", "hello"),
            ("0\r\n\r\n", ""),
            ("1e\r\nall your base are belong to us\r\n0\r\n\r\n", "all your base are belong to us"),
        ];
        for (input, body) in cases {
            for step in [1, 2, 3, 7, 1000] {
                let (got, used) = run(input.as_bytes(), step).unwrap_or_else(|e| panic!("{input:?} step {step}: {e}"));
                assert_eq!(std::str::from_utf8(&got).unwrap(), *body, "{input:?} step {step}");
                assert_eq!(used, input.len());
            }
        }
    }

    #[test]
    fn invalid_bodies_are_rejected() {
        let cases: &[(&str, u16)] = &[
            ("FFFFFFFFFFFFFFFF0\r\nhello\r\n0\r\n\r\n", 400),
            ("0x5\r\nhello\r\n0\r\n\r\n", 400),
            ("+5\r\nhello\r\n0\r\n\r\n", 400),
            ("-1\r\nhello\r\n0\r\n\r\n", 400),
            (" 5\r\nhello\r\n0\r\n\r\n", 400),
            ("5 \r\nhello\r\n0\r\n\r\n", 400),
            ("1_0\r\nhello world!!!!!\r\n0\r\n\r\n", 400),
            ("5;\r\nhello\r\n0\r\n\r\n", 400),
            ("5;bad[=x\r\nhello\r\n0\r\n\r\n", 400),
            ("5;\x00ext\r\nhello\r\n0\r\n\r\n", 400),
            ("5;a\rX\r\nhello\r\n0\r\n\r\n", 400),
            ("5;\nhello\r\n0\r\n\r\n", 400),
            ("5\nhello\r\n0\r\n\r\n", 400),
            ("5\rhello\r\n0\r\n\r\n", 400),
            ("5\r\nhello!!\r\n0\r\n\r\n", 400),
            ("5\r\nhello0\r\n\r\n", 400),
            ("5\r\nhello\n0\r\n\r\n", 400),
            ("5\r\nhello\r\n0\r\n\n", 400),
            ("5\r\nhello\r\n0\r\nX: a\n\r\n", 400),
            ("5\r\nhello\r\n0\r\n folded\r\n\r\n", 400),
            ("5\r\nhello\r\n0\r\nBad Name: x\r\n\r\n", 400),
            ("3\r\nfoo\r\n\r\n", 400),
            ("2 erfrferferf\r\naa\r\n0 rrrr\r\n\r\n", 400),
            ("5;ilovew3=\"abc\";somuchlove=\"def; ghi\r\nhello\r\n0\r\n\r\n", 400),
            ("5;a=\"x\"y\r\nhello\r\n0\r\n\r\n", 400),
            ("5;a \r\nhello\r\n0\r\n\r\n", 400),
            ("", 0),
            ("5\r\nhello\r\n", 0),
        ];
        for (input, status) in cases {
            for step in [1, 1000] {
                assert_eq!(run(input.as_bytes(), step).map(|_| ()), Err(*status), "{input:?} step {step}");
            }
        }
    }

    #[test]
    fn body_limit_is_enforced_before_reading_data() {
        let mut buf = b"100001\r\n".to_vec();
        let mut d = Chunked::new(1 << 20);
        let (mut r, mut w) = (0, 0);
        let e = d.decode(&mut buf, &mut r, &mut w, 8).unwrap_err();
        assert_eq!(e.status, 413);
    }

    #[test]
    fn extension_bytes_are_limited() {
        let input = format!("5;e={}\r\nhello\r\n0\r\n\r\n", "a".repeat(MAX_EXTENSION_BYTES as usize));
        assert_eq!(run(input.as_bytes(), 1000).map(|_| ()), Err(400));
    }

    #[test]
    fn trailer_bytes_are_limited() {
        let many: String = (0..MAX_TRAILER_BYTES / 16).map(|i| format!("X-T-{i:05}: abcd\r\n")).collect();
        let input = format!("5\r\nhello\r\n0\r\n{many}\r\n");
        assert_eq!(run(input.as_bytes(), 1000).map(|_| ()), Err(431));
        let few: String = (0..10).map(|i| format!("X-T-{i:05}: abcd\r\n")).collect();
        assert!(run(format!("5\r\nhello\r\n0\r\n{few}\r\n").as_bytes(), 1000).is_ok());
    }

    #[test]
    fn bytes_after_the_body_are_left_alone() {
        let (body, used) = run(b"1\r\nA\r\n0\r\n\r\nGET / HTTP/1.1\r\n", 1000).unwrap();
        assert_eq!((body.as_slice(), used), (&b"A"[..], 11));
    }
}
