//! The response-head parser: status-line and field lines (RFC 9112 §4, §5), zero-copy, and
//! how the body that follows is delimited (§6.3).
//!
//! It reads a byte slice and returns a [`ResponseHead`] of positions into it, `Ok(None)` when
//! the head is not complete yet, or a [`HeadError`] naming what is wrong. The field lines go
//! through the same parser as the server's requests (`h1::field::field_lines`), so a response
//! is held to the same rules (no obs-fold, no whitespace before a colon, no CTL in values, no
//! CR without LF) except one: a lone LF ends a line, as RFC 9112 §2.2 allows and curl, Go and
//! browsers accept; and the framing fields through the same [`FramingFields`], so conflicting lengths
//! and bad codings are refused the same way. A lax client is how responses get smuggled.

use crate::h1::field::{bad, complete_or_undo, field_lines, Field, HeadError, HeadLimit, Span};
use crate::h1::framing::FramingFields;

/// How the body of a response is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// No body: HEAD, 1xx, 204, 304, or `Content-Length: 0`.
    None,
    /// `Content-Length`.
    Length(u64),
    /// `Transfer-Encoding: ..., chunked`.
    Chunked,
    /// Neither: the body runs until the server closes the connection.
    Close,
}

/// A complete response head, as positions into the slice it was parsed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ResponseHead {
    /// One past the empty line that ends the head.
    pub end: usize,
    /// `HTTP/1.minor`.
    pub minor: u8,
    pub status: u16,
    pub reason: Span,
    pub body: BodyKind,
    /// The connection can carry another request once this body has been read.
    pub keep_alive: bool,
}

/// Limits the parser enforces.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub max_head: usize,
    pub max_fields: usize,
}

const TOO_LARGE: HeadError = HeadError { status: 431, reason: "response head too large" };

/// Parses the response head at the start of `buf`, appending its field lines to `fields` (left
/// unchanged unless the head is complete). `head_request`: the request was HEAD, so no body
/// follows whatever the fields say.
pub(crate) fn parse_response(
    buf: &[u8],
    lim: &Limits,
    head_request: bool,
    fields: &mut Vec<Field>,
) -> Result<Option<ResponseHead>, HeadError> {
    complete_or_undo(fields, |fields| parse_inner(buf, lim, head_request, fields))
}

fn parse_inner(
    buf: &[u8],
    lim: &Limits,
    head_request: bool,
    fields: &mut Vec<Field>,
) -> Result<Option<ResponseHead>, HeadError> {
    let limit = HeadLimit { start: 0, max: lim.max_head, error: TOO_LARGE };
    // status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF
    const PATTERN: &[u8; 13] = b"HTTP/0.0 000 ";
    let n = buf.len().min(PATTERN.len());
    for (i, (&b, &p)) in buf[..n].iter().zip(PATTERN).enumerate() {
        let ok = if p == b'0' { b.is_ascii_digit() } else { b == p };
        // A status line may end right after the code (no SP, no reason): accepted, as every
        // browser and client does.
        if !(ok || i == 12 && (b == b'\r' || b == b'\n')) {
            return Err(bad(if i < 8 {
                "not an HTTP/1.x response (bad status line)"
            } else if i == 8 || i == 12 {
                "status line: expected a space"
            } else {
                "status line: the status code is not three digits"
            }));
        }
    }
    if n < PATTERN.len() {
        return limit.partial(buf);
    }
    if buf[5] != b'1' {
        return Err(bad("not an HTTP/1.x response (unsupported major version)"));
    }
    let minor = (buf[7] - b'0').min(1);
    let status = (buf[9] - b'0') as u16 * 100 + (buf[10] - b'0') as u16 * 10 + (buf[11] - b'0') as u16;
    if status < 100 {
        return Err(bad("status line: status code below 100"));
    }
    // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
    let r0 = if buf[12] == b' ' { 13 } else { 12 };
    let mut pos = r0;
    loop {
        match buf.get(pos) {
            None => return limit.partial(buf),
            Some(b'\r' | b'\n') => break,
            Some(&b) if b == b'\t' || (b >= 0x20 && b != 0x7f) => pos += 1,
            Some(_) => return Err(bad("status line: invalid character in the reason phrase")),
        }
    }
    let reason = Span(r0 as u32, pos as u32);
    // RFC 9112 §2.2: a recipient MAY take a lone LF as the end of a line (curl, browsers and
    // Go do, and some small servers send nothing else); a CR must be followed by LF.
    match (buf[pos], buf.get(pos + 1)) {
        (b'\n', _) => pos += 1,
        (_, None) => return limit.partial(buf),
        (_, Some(b'\n')) => pos += 2,
        (_, Some(_)) => return Err(bad("status line: a CR not followed by LF")),
    }

    let mut f = FramingFields::default();
    let Some(end) = field_lines::<true>(buf, pos, limit, lim.max_fields, fields, &mut f)? else { return Ok(None) };
    if end > lim.max_head {
        return Err(TOO_LARGE);
    }
    // RFC 9112 §6.3, in its order.
    let body = if head_request || status < 200 || status == 204 || status == 304 {
        BodyKind::None
    } else if f.te_present {
        if minor == 0 {
            return Err(bad("Transfer-Encoding in an HTTP/1.0 response"));
        }
        // Rule 3 lets Transfer-Encoding override Content-Length, but both at once is how
        // responses are smuggled past an intermediary: refused, as for requests.
        if f.content_length.is_some() {
            return Err(bad("both Transfer-Encoding and Content-Length"));
        }
        if f.is_chunked() {
            BodyKind::Chunked
        } else {
            BodyKind::Close
        }
    } else {
        match f.content_length {
            Some(0) => BodyKind::None,
            Some(n) => BodyKind::Length(n),
            None => BodyKind::Close,
        }
    };
    let keep_alive = body != BodyKind::Close && status != 101 && !f.close && (minor >= 1 || f.keep_alive);
    Ok(Some(ResponseHead { end, minor, status, reason, body, keep_alive }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits { max_head: 8192, max_fields: 100 };

    fn parse(s: &str) -> Result<Option<ResponseHead>, &'static str> {
        let mut fields = Vec::new();
        parse_response(s.as_bytes(), &LIM, false, &mut fields).map_err(|e| e.reason)
    }

    fn body(s: &str) -> Result<BodyKind, &'static str> {
        Ok(parse(s)?.expect("complete").body)
    }

    #[test]
    fn a_plain_response() {
        let s = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
        let mut fields = Vec::new();
        let h = parse_response(s.as_bytes(), &LIM, false, &mut fields).unwrap().unwrap();
        assert_eq!((h.status, h.minor, h.body, h.keep_alive), (200, 1, BodyKind::Length(13), true));
        assert_eq!(h.reason.of(s.as_bytes()), b"OK");
        assert_eq!(&s[h.end..], "Hello, World!");
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[1].value.of(s.as_bytes()), b"13");
    }

    #[test]
    fn every_prefix_is_incomplete_not_an_error() {
        let s = "HTTP/1.1 404 Not Found\r\nServer: x\r\nContent-Length: 0\r\n\r\n";
        for i in 0..s.len() {
            assert_eq!(parse(&s[..i]).map(|h| h.is_some()), Ok(false), "{i}");
        }
        assert_eq!(body(s), Ok(BodyKind::None));
    }

    #[test]
    fn status_lines() {
        type Case<'a> = (&'a str, Result<(u16, &'a str), ()>);
        let cases: &[Case] = &[
            ("HTTP/1.1 200 OK\r\n\r\n", Ok((200, "OK"))),
            ("HTTP/1.0 500 Internal Server Error\r\n\r\n", Ok((500, "Internal Server Error"))),
            ("HTTP/1.1 204 \r\n\r\n", Ok((204, ""))),
            ("HTTP/1.1 204\r\n\r\n", Ok((204, ""))),
            ("HTTP/1.1 599 Whatever it\tis \r\n\r\n", Ok((599, "Whatever it\tis "))),
            ("HTTP/1.2 200 OK\r\n\r\n", Ok((200, "OK"))),
            ("HTTP/2.0 200 OK\r\n\r\n", Err(())),
            ("HTTP/1.1 20 OK\r\n\r\n", Err(())),
            ("HTTP/1.1 2000 OK\r\n\r\n", Err(())),
            ("HTTP/1.1 099 Low\r\n\r\n", Err(())),
            ("HTTP/1.1  200 OK\r\n\r\n", Err(())),
            ("http/1.1 200 OK\r\n\r\n", Err(())),
            ("HTTP/1.1 200 OK\n\r\n", Ok((200, "OK"))),
            ("HTTP/1.1 200 OK\n\n", Ok((200, "OK"))),
            ("HTTP/1.1 204\n\n", Ok((204, ""))),
            ("HTTP/1.1 200 OK\rX: y\r\n\r\n", Err(())),
            ("HTTP/1.1 200 O\x00K\r\n\r\n", Err(())),
            ("ICY 200 OK\r\n\r\n", Err(())),
            ("HTTP/1.1 200 OK\r\nX: y\r\n \tfolded\r\n\r\n", Err(())),
            ("HTTP/1.1 200 OK\r\nX : y\r\n\r\n", Err(())),
            ("HTTP/1.1 200 OK\r\nX: y\nZ: w\r\n\r\n", Ok((200, "OK"))),
            ("HTTP/1.1 200 OK\r\nX: y\rZ: w\r\n\r\n", Err(())),
            ("HTTP/1.1 200 OK\nX: y \n\n", Ok((200, "OK"))),
        ];
        for (s, want) in cases {
            let mut fields = Vec::new();
            let got = parse_response(s.as_bytes(), &LIM, false, &mut fields)
                .map(|h| h.map(|h| (h.status, std::str::from_utf8(h.reason.of(s.as_bytes())).unwrap())))
                .map_err(|_| ());
            assert_eq!(got, want.map(Some), "{s:?}");
        }
    }

    #[test]
    fn framing_follows_rfc_9112_section_6_3() {
        let cases: &[(&str, Result<BodyKind, ()>)] = &[
            ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", Ok(BodyKind::Length(5))),
            ("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", Ok(BodyKind::Length(5))),
            ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", Err(())),
            ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", Err(())),
            ("HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n", Err(())),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Ok(BodyKind::Chunked)),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", Ok(BodyKind::Chunked)),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", Ok(BodyKind::Close)),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", Err(())),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", Err(())),
            ("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Err(())),
            ("HTTP/1.1 200 OK\r\n\r\n", Ok(BodyKind::Close)),
            ("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", Ok(BodyKind::None)),
            ("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", Ok(BodyKind::None)),
            ("HTTP/1.1 100 Continue\r\n\r\n", Ok(BodyKind::None)),
        ];
        for (s, want) in cases {
            assert_eq!(body(s).map_err(|_| ()), *want, "{s:?}");
        }
        let mut fields = Vec::new();
        let s = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
        let h = parse_response(s, &LIM, true, &mut fields).unwrap().unwrap();
        assert_eq!(h.body, BodyKind::None, "a response to HEAD has no body");
    }

    #[test]
    fn keep_alive_rules() {
        let ka = |s: &str| parse(s).unwrap().unwrap().keep_alive;
        assert!(ka("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        assert!(!ka("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
        assert!(!ka("HTTP/1.1 200 OK\r\nConnection: x, Close\r\nContent-Length: 0\r\n\r\n"));
        assert!(!ka("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
        assert!(ka("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"));
        assert!(!ka("HTTP/1.1 200 OK\r\n\r\n"), "close-delimited");
        assert!(!ka("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"));
    }

    #[test]
    fn limits() {
        let big = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(9000));
        assert_eq!(parse(&big), Err("response head too large"));
        assert_eq!(parse(&big[..8300]), Err("response head too large"), "over the limit while incomplete");
        let many: String = (0..101).map(|i| format!("X{i}: y\r\n")).collect();
        assert_eq!(parse(&format!("HTTP/1.1 200 OK\r\n{many}\r\n")), Err("too many header fields"));
    }
}
