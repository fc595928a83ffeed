//! A parsed request head, stored as byte positions into the connection's buffer, and the
//! field semantics that decide how the message is framed (RFC 9112 §6) and routed.
//!
//! Positions instead of slices let a head and its buffer move together from the poller to a
//! worker without lifetimes. [`Semantics`] folds each field line into the framing decision as
//! the parser meets it, so no field is scanned twice.

use super::method::MethodKind;
use super::uri::{self, TargetForm};
pub(crate) use crate::h1::field::{bad, Field, HeadError, Span};
use crate::h1::tables::TCHAR;

/// How the body of a request is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body.
    None,
    /// `Content-Length`.
    Length(u64),
    /// `Transfer-Encoding: ..., chunked`.
    Chunked,
}

/// A complete, validated request head.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Head {
    /// One past the empty line that ends the head; the body starts here.
    pub end: u32,
    pub method: Span,
    pub kind: MethodKind,
    pub target: Span,
    pub form: TargetForm,
    /// `HTTP/1.minor`.
    pub minor: u8,
    /// Range of this head's fields in the connection's field list.
    pub fields: (u32, u32),
    /// The `Host` value, when present.
    pub host: Option<Span>,
    pub framing: Framing,
    pub flags: u8,
}

impl Default for Head {
    fn default() -> Head {
        Head {
            end: 0,
            method: Span::default(),
            kind: MethodKind::Get,
            target: Span::default(),
            form: TargetForm::Origin,
            minor: 1,
            fields: (0, 0),
            host: None,
            framing: Framing::None,
            flags: 0,
        }
    }
}

impl Head {
    /// `Connection: close` was sent (or HTTP/1.0 without `keep-alive`).
    pub(crate) const CLOSE: u8 = 1;
    /// `Expect: 100-continue` on an HTTP/1.1 request.
    pub(crate) const EXPECT_CONTINUE: u8 = 2;
    /// Transfer codings other than the final `chunked` are applied (the body is passed on coded).
    pub(crate) const TE_CODED: u8 = 4;
    /// HTTP/1.0 request that asked for `Connection: keep-alive`.
    pub(crate) const KEEP_ALIVE_10: u8 = 8;

    #[inline]
    pub(crate) fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }
    /// Whether the connection may serve another request after this one.
    #[inline]
    pub(crate) fn keep_alive(&self) -> bool {
        !self.has(Self::CLOSE)
    }
}

/// What the field lines say about framing and routing, gathered line by line.
#[derive(Default)]
pub(crate) struct Semantics {
    host: Option<Span>,
    hosts: u32,
    content_length: Option<u64>,
    te_present: bool,
    te_elements: u32,
    te_last_chunked: bool,
    te_chunked_seen: bool,
    te_unknown: bool,
    te_coded: bool,
    close: bool,
    keep_alive: bool,
    expect_continue: bool,
    expect_other: bool,
}

#[inline]
fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// Eight bytes of `s` from `i`, with ASCII letters folded to lower case (`| 0x20`). For a token
/// compared with a lower-case literal of letters and `-` this is an exact case-insensitive
/// comparison: only letters change, and no other token byte folds onto a letter or `-`.
#[inline(always)]
fn folded8(s: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&s[i..i + 8]);
    u64::from_le_bytes(w) | 0x2020_2020_2020_2020
}

#[inline(always)]
fn folded4(s: &[u8], i: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&s[i..i + 4]);
    u32::from_le_bytes(w) | 0x2020_2020
}

/// Case-insensitive equality of a token with a lower-case literal of the same length (>= 4),
/// a word at a time (overlapping words cover the tail).
#[inline]
fn eq_fold(name: &[u8], lit: &[u8]) -> bool {
    let n = name.len();
    debug_assert!(n == lit.len() && n >= 4);
    if n < 8 {
        return folded4(name, 0) == folded4(lit, 0) && folded4(name, n - 4) == folded4(lit, n - 4);
    }
    let mut i = 0;
    while i + 8 <= n {
        if folded8(name, i) != folded8(lit, i) {
            return false;
        }
        i += 8;
    }
    i == n || folded8(name, n - 8) == folded8(lit, n - 8)
}

/// `Content_Length`, `Transfer_Encoding`, `Host` and `Connection` spelled with `_`: valid tokens,
/// but CGI-style gateways and some proxies map `_` to `-`, turning them into a second framing
/// field behind us (Http11Probe's normalisation cases; nginx drops such names by default).
fn is_disguised_framing_name(name: &[u8]) -> bool {
    const NAMES: [&[u8]; 4] = [b"host", b"connection", b"content-length", b"transfer-encoding"];
    NAMES.iter().any(|n| {
        n.len() == name.len()
            && n.iter().zip(name).all(|(&a, &b)| a == b.to_ascii_lowercase() || (a == b'-' && b == b'_'))
    })
}

/// The elements of a comma-separated list, trimmed, empty ones skipped (RFC 9110 §5.6.1.2:
/// a recipient MUST accept and ignore a reasonable number of empty list elements).
fn list(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&b| b == b',').map(trim_ows).filter(|e| !e.is_empty())
}

impl Semantics {
    /// Folds in one field line. `name` is a valid token, `value` is already trimmed.
    #[inline(always)]
    pub(crate) fn field(&mut self, name: &[u8], value: &[u8], vspan: Span) -> Result<(), HeadError> {
        match name.len() {
            4 if eq_fold(name, b"host") => {
                self.hosts += 1;
                self.host = Some(vspan);
            }
            6 if eq_fold(name, b"expect") => {
                if value.eq_ignore_ascii_case(b"100-continue") {
                    self.expect_continue = true;
                } else {
                    self.expect_other = true;
                }
            }
            10 if eq_fold(name, b"connection") => {
                for t in list(value) {
                    if t.eq_ignore_ascii_case(b"close") {
                        self.close = true;
                    } else if t.eq_ignore_ascii_case(b"keep-alive") {
                        self.keep_alive = true;
                    }
                }
            }
            14 if eq_fold(name, b"content-length") => self.content_length(value)?,
            17 if eq_fold(name, b"transfer-encoding") => self.transfer_encoding(value)?,
            4 | 10 | 14 | 17 if name.contains(&b'_') && is_disguised_framing_name(name) => {
                return Err(bad("field name disguised as a framing field"));
            }
            _ => {}
        }
        Ok(())
    }

    /// `Content-Length = 1*DIGIT`. A list of identical values, or identical repeated lines, is
    /// accepted as that value (RFC 9110 §8.6 allows it); anything else is invalid (RFC 9112 §6.3
    /// rule 5: "the recipient MUST treat it as an unrecoverable error").
    #[inline(never)]
    fn content_length(&mut self, value: &[u8]) -> Result<(), HeadError> {
        let mut any = false;
        for e in value.split(|&b| b == b',').map(trim_ows) {
            if e.is_empty() || !e.iter().all(u8::is_ascii_digit) {
                return Err(bad("invalid Content-Length"));
            }
            let mut n: u64 = 0;
            for &d in e {
                n = n
                    .checked_mul(10)
                    .and_then(|n| n.checked_add((d - b'0') as u64))
                    .ok_or(bad("Content-Length overflows"))?;
            }
            if self.content_length.is_some_and(|c| c != n) {
                return Err(bad("conflicting Content-Length values"));
            }
            self.content_length = Some(n);
            any = true;
        }
        if any {
            Ok(())
        } else {
            Err(bad("empty Content-Length"))
        }
    }

    /// `Transfer-Encoding = #transfer-coding`, across all its lines in order.
    #[inline(never)]
    fn transfer_encoding(&mut self, value: &[u8]) -> Result<(), HeadError> {
        self.te_present = true;
        for e in list(value) {
            let (coding, params) = match e.iter().position(|&b| b == b';') {
                Some(p) => (trim_ows(&e[..p]), Some(&e[p + 1..])),
                None => (e, None),
            };
            if coding.is_empty() || !coding.iter().all(|&b| TCHAR[b as usize]) {
                return Err(bad("invalid Transfer-Encoding"));
            }
            self.te_elements += 1;
            if coding.eq_ignore_ascii_case(b"chunked") {
                // chunked takes no parameters, and "A sender MUST NOT apply the chunked
                // transfer coding more than once to a message body" (RFC 9112 §6.1).
                if params.is_some() || self.te_chunked_seen {
                    return Err(bad("invalid use of chunked"));
                }
                self.te_chunked_seen = true;
                self.te_last_chunked = true;
                continue;
            }
            self.te_last_chunked = false;
            if let Some(p) = params {
                if p.iter().any(|&b| b < 0x20 && b != b'\t') {
                    return Err(bad("invalid Transfer-Encoding"));
                }
            }
            // IANA transfer coding registry; we pass such bodies on still coded, as hyper and
            // Node do, with the Transfer-Encoding field visible to the handler.
            const KNOWN: [&[u8]; 5] = [b"gzip", b"deflate", b"compress", b"x-gzip", b"x-compress"];
            if KNOWN.iter().any(|k| coding.eq_ignore_ascii_case(k)) {
                self.te_coded = true;
            } else {
                self.te_unknown = true;
            }
        }
        Ok(())
    }

    /// Decides framing, connection persistence and routing once all fields are in.
    pub(crate) fn finish(
        self,
        buf: &[u8],
        minor: u8,
        kind: MethodKind,
        form: TargetForm,
    ) -> Result<(Framing, Option<Span>, u8), HeadError> {
        // RFC 9112 §3.2: "A server MUST respond with a 400 ... to any HTTP/1.1 request message
        // that lacks a Host header field and to any request message that contains more than one
        // Host header field line or a Host header field with an invalid field value."
        if self.hosts > 1 {
            return Err(bad("more than one Host"));
        }
        match self.host {
            None if minor >= 1 => return Err(bad("missing Host")),
            // Empty is a valid Host (`uri-host` may be an empty reg-name), for a target URI
            // without an authority (§3.2). With an absolute-form target the Host field is
            // ignored anyway (§3.2.2), so it may be empty; an origin or asterisk form takes its
            // authority from Host, and an "http" URI with an empty host "MUST" be rejected as
            // invalid (RFC 9110 §4.2.1). See tests/conformance_exceptions.md.
            Some(h) if h.len() == 0 && matches!(form, TargetForm::Absolute { .. }) => {}
            Some(h) if h.len() == 0 => return Err(bad("empty Host: the target URI would have no host")),
            Some(h)
                if !crate::h1::simd::short_host_port(buf, h.0 as usize, h.1 as usize)
                    && !uri::is_host_port(h.of(buf), false) =>
            {
                return Err(bad("invalid Host"))
            }
            _ => {}
        }
        let framing = if self.te_present {
            // RFC 9112 §6.1: TE in an HTTP/1.0 request means "the message framing is faulty";
            // TE together with Content-Length is a smuggling signature; we refuse both.
            if minor == 0 {
                return Err(bad("Transfer-Encoding in an HTTP/1.0 request"));
            }
            if self.content_length.is_some() {
                return Err(bad("both Transfer-Encoding and Content-Length"));
            }
            // RFC 9112 §6.3 rule 4: final coding not chunked → 400 and close.
            if self.te_elements == 0 || !self.te_last_chunked {
                return Err(bad("Transfer-Encoding does not end in chunked"));
            }
            if self.te_unknown {
                return Err(HeadError { status: 501, reason: "unknown transfer coding" });
            }
            Framing::Chunked
        } else {
            match self.content_length {
                Some(0) | None => Framing::None,
                Some(n) => Framing::Length(n),
            }
        };
        if kind == MethodKind::Connect || form == TargetForm::Authority {
            return Err(HeadError { status: 501, reason: "CONNECT is not supported" });
        }
        let mut flags = 0;
        if self.te_coded {
            flags |= Head::TE_CODED;
        }
        if minor >= 1 {
            if self.close {
                flags |= Head::CLOSE;
            }
            // RFC 9110 §10.1.1: an HTTP/1.0 client's Expect is ignored.
            if self.expect_other {
                return Err(HeadError { status: 417, reason: "unsupported expectation" });
            }
            if self.expect_continue && framing != Framing::None {
                flags |= Head::EXPECT_CONTINUE;
            }
        } else if self.keep_alive && !self.close {
            flags |= Head::KEEP_ALIVE_10;
        } else {
            flags |= Head::CLOSE;
        }
        Ok((framing, self.host, flags))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Fields<'a> = &'a [(&'a str, &'a str)];

    fn sem(fields: Fields) -> Result<Framing, HeadError> {
        let mut s = Semantics::default();
        s.field(b"Host", b"h", Span(0, 1))?;
        for (n, v) in fields {
            s.field(n.as_bytes(), trim_ows(v.as_bytes()), Span(0, 0))?;
        }
        s.finish(b"h", 1, MethodKind::Post, TargetForm::Origin).map(|r| r.0)
    }

    #[test]
    fn content_length_rules() {
        let cases: &[(Fields, Option<Framing>)] = &[
            (&[("Content-Length", "5")], Some(Framing::Length(5))),
            (&[("Content-Length", "005")], Some(Framing::Length(5))),
            (&[("Content-Length", "010")], Some(Framing::Length(10))),
            (&[("Content-Length", "0")], Some(Framing::None)),
            (&[("Content-Length", "5, 5")], Some(Framing::Length(5))),
            (&[("Content-Length", "5"), ("content-length", "5")], Some(Framing::Length(5))),
            (&[("Content-Length", "5, 10")], None),
            (&[("Content-Length", "5"), ("Content-Length", "6")], None),
            (&[("Content-Length", "")], None),
            (&[("Content-Length", "+5")], None),
            (&[("Content-Length", "-1")], None),
            (&[("Content-Length", "0x5")], None),
            (&[("Content-Length", "1 0")], None),
            (&[("Content-Length", "5,")], None),
            (&[("Content-Length", "99999999999999999999")], None),
            (&[("Content-Length", "18446744073709551615")], Some(Framing::Length(u64::MAX))),
        ];
        for (fields, want) in cases {
            assert_eq!(sem(fields).ok(), *want, "{fields:?}");
        }
    }

    #[test]
    fn transfer_encoding_rules() {
        let cases: &[(Fields, Result<Framing, u16>)] = &[
            (&[("Transfer-Encoding", "chunked")], Ok(Framing::Chunked)),
            (&[("Transfer-Encoding", "Chunked")], Ok(Framing::Chunked)),
            (&[("Transfer-Encoding", ", chunked")], Ok(Framing::Chunked)),
            (&[("Transfer-Encoding", "chunked,")], Ok(Framing::Chunked)),
            (&[("Transfer-Encoding", "gzip, chunked")], Ok(Framing::Chunked)),
            (&[("Transfer-Encoding", "deflate"), ("Transfer-Encoding", "chunked")], Ok(Framing::Chunked)),
            (&[("Transfer-Encoding", "pigeons, chunked")], Err(501)),
            (&[("Transfer-Encoding", "gzip")], Err(400)),
            (&[("Transfer-Encoding", "chunked, gzip")], Err(400)),
            (&[("Transfer-Encoding", "chunked, chunked")], Err(400)),
            (&[("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")], Err(400)),
            (&[("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "identity")], Err(400)),
            (&[("Transfer-Encoding", "")], Err(400)),
            (&[("Transfer-Encoding", "xchunked")], Err(400)),
            (&[("Transfer-Encoding", "\"chunked\"")], Err(400)),
            (&[("Transfer-Encoding", "chunked;q=1")], Err(400)),
            (&[("Transfer-Encoding", "chunked"), ("Content-Length", "5")], Err(400)),
            (&[("Transfer-Encoding", "identity"), ("Content-Length", "5")], Err(400)),
        ];
        for (fields, want) in cases {
            assert_eq!(sem(fields).map_err(|e| e.status), *want, "{fields:?}");
        }
    }

    #[test]
    fn framing_names_spelled_with_underscores_are_refused() {
        for n in ["Content_Length", "transfer_encoding", "HOST", "Connection"] {
            let mut s = Semantics::default();
            let r = s.field(n.as_bytes(), b"1", Span(0, 0));
            assert_eq!(r.is_err(), n.contains('_'), "{n}");
        }
        let mut s = Semantics::default();
        assert!(s.field(b"X_Custom_Header", b"1", Span(0, 0)).is_ok());
    }

    #[test]
    fn eq_fold_is_case_insensitive_and_exact() {
        for (a, b, eq) in [
            ("Host", "host", true),
            ("HOST", "host", true),
            ("Hosu", "host", false),
            ("Content-Length", "content-length", true),
            ("cONTENT-lENGTH", "content-length", true),
            ("Content_Length", "content-length", false),
            ("Content-Lengtg", "content-length", false),
            ("Transfer-Encoding", "transfer-encoding", true),
            ("Transfer-EncodinG", "transfer-encoding", true),
            ("Transfer-Encodinh", "transfer-encoding", false),
            ("Xransfer-Encoding", "transfer-encoding", false),
            ("Expect", "expect", true),
            ("Accept", "expect", false),
        ] {
            assert_eq!(eq_fold(a.as_bytes(), b.as_bytes()), eq, "{a}");
        }
    }

    #[test]
    fn te_is_refused_in_http10() {
        let mut s = Semantics::default();
        s.field(b"Transfer-Encoding", b"chunked", Span(0, 0)).unwrap();
        assert!(s.finish(b"", 0, MethodKind::Post, TargetForm::Origin).is_err());
    }
}
