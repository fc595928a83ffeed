//! A parsed request head, stored as byte positions into the connection's buffer, and the
//! field semantics that decide how the message is framed (RFC 9112 §6) and routed.
//!
//! Positions instead of slices let a head and its buffer move together from the poller to a
//! worker without lifetimes. [`Semantics`] folds each field line into the framing decision as
//! the parser meets it, so no field is scanned twice.

use super::method::MethodKind;
use super::uri::{self, TargetForm};
pub(crate) use crate::h1::field::{bad, Field, FieldSink, HeadError, Span};
use crate::h1::framing::{eq_fold, FramingFields};

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
    framing: FramingFields,
    expect_continue: bool,
    expect_other: bool,
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

impl FieldSink for Semantics {
    /// Folds in one field line. `name` is a valid token, `value` is already trimmed.
    #[inline(always)]
    fn field(&mut self, name: &[u8], value: &[u8], vspan: Span) -> Result<(), HeadError> {
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
            4 | 10 | 14 | 17 if name.contains(&b'_') && is_disguised_framing_name(name) => {
                return Err(bad("field name disguised as a framing field"));
            }
            _ => self.framing.framing_field(name, value)?,
        }
        Ok(())
    }
}

impl Semantics {
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
        let f = self.framing;
        let framing = if f.te_present {
            // RFC 9112 §6.1: TE in an HTTP/1.0 request means "the message framing is faulty";
            // TE together with Content-Length is a smuggling signature; we refuse both.
            if minor == 0 {
                return Err(bad("Transfer-Encoding in an HTTP/1.0 request"));
            }
            if f.content_length.is_some() {
                return Err(bad("both Transfer-Encoding and Content-Length"));
            }
            // RFC 9112 §6.3 rule 4: final coding not chunked → 400 and close.
            if !f.is_chunked() {
                return Err(bad("Transfer-Encoding does not end in chunked"));
            }
            if f.te_unknown {
                return Err(HeadError { status: 501, reason: "unknown transfer coding" });
            }
            Framing::Chunked
        } else {
            match f.content_length {
                Some(0) | None => Framing::None,
                Some(n) => Framing::Length(n),
            }
        };
        if kind == MethodKind::Connect || form == TargetForm::Authority {
            return Err(HeadError { status: 501, reason: "CONNECT is not supported" });
        }
        let mut flags = 0;
        if f.te_coded {
            flags |= Head::TE_CODED;
        }
        if minor >= 1 {
            if f.close {
                flags |= Head::CLOSE;
            }
            // RFC 9110 §10.1.1: an HTTP/1.0 client's Expect is ignored.
            if self.expect_other {
                return Err(HeadError { status: 417, reason: "unsupported expectation" });
            }
            if self.expect_continue && framing != Framing::None {
                flags |= Head::EXPECT_CONTINUE;
            }
        } else if f.keep_alive && !f.close {
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
    use crate::h1::framing::trim_ows;

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
    fn te_is_refused_in_http10() {
        let mut s = Semantics::default();
        s.field(b"Transfer-Encoding", b"chunked", Span(0, 0)).unwrap();
        assert!(s.finish(b"", 0, MethodKind::Post, TargetForm::Origin).is_err());
    }
}
