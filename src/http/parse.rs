//! The request-head parser: request-line and field lines (RFC 9112 §2–§5), zero-copy.
//!
//! It reads a byte slice and returns a [`Head`] of positions into it, `Ok(None)` when the head is
//! not complete yet, or a [`HeadError`] with the status to answer. It never allocates except to
//! grow the caller's reusable field list.
//!
//! Strict where the RFC says MUST and where leniency has been a smuggling vector: lines end in
//! CRLF only (a bare CR or bare LF is an error), no whitespace before a field's colon, no
//! obs-fold, no CTL in values, single SP between the request-line's parts, `HTTP/DIGIT.DIGIT`.
//! Empty lines before the request-line are skipped (RFC 9112 §2.2).

use super::head::{bad, Field, Head, HeadError, Semantics, Span};
use super::method;
use super::uri;
use crate::h1::field::{complete_or_undo, field_lines, HeadLimit};
use crate::h1::simd::scan_target;
use crate::h1::tables::TCHAR;

/// Longest method token we read before calling the request malformed; the longest registered
/// method (`UPDATEREDIRECTREF`) has 17 bytes.
const MAX_METHOD: usize = 32;

/// Limits the parser enforces as it goes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Whole head, request-line to the empty line → 431 beyond it.
    pub max_head: usize,
    /// Request-target → 414 beyond it.
    pub max_target: usize,
    /// Number of field lines → 431 beyond it.
    pub max_fields: usize,
    /// Pass methods outside the known set to the handler instead of answering 501.
    pub allow_unknown_methods: bool,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_head: 32 * 1024, max_target: 16 * 1024, max_fields: 100, allow_unknown_methods: false }
    }
}

const TOO_LARGE: HeadError = HeadError { status: 431, reason: "request header fields too large" };
const URI_TOO_LONG: HeadError = HeadError { status: 414, reason: "request-target too long" };

/// Parses the head that starts at `buf[start..]`, appending its field lines to `fields`.
///
/// Returns `Ok(Some(head))` when complete, `Ok(None)` when more bytes are needed (nothing is
/// appended to `fields` then), or the error to answer.
pub(crate) fn parse_head(
    buf: &[u8],
    start: usize,
    lim: &Limits,
    fields: &mut Vec<Field>,
) -> Result<Option<Head>, HeadError> {
    complete_or_undo(fields, |fields| parse_inner(buf, start, lim, fields))
}

/// Partial: stop here; over the size limit it is an error instead.
macro_rules! partial {
    ($buf:expr, $start:expr, $lim:expr, $err:expr) => {{
        if $buf.len() - $start > $lim.max_head {
            return Err($err);
        }
        return Ok(None);
    }};
}

fn parse_inner(buf: &[u8], start: usize, lim: &Limits, fields: &mut Vec<Field>) -> Result<Option<Head>, HeadError> {
    let len = buf.len();
    // RFC 9112 §2.2: "a server that is expecting to receive and parse a request-line SHOULD
    // ignore at least one empty line (CRLF) received prior to the request-line".
    let mut pos = start;
    loop {
        match buf.get(pos) {
            None => partial!(buf, start, lim, bad("empty lines before the request")),
            Some(b'\r') => match buf.get(pos + 1) {
                None => partial!(buf, start, lim, bad("empty lines before the request")),
                Some(b'\n') => pos += 2,
                Some(_) => return Err(bad("bare CR")),
            },
            Some(b'\n') => pos += 1,
            Some(_) => break,
        }
    }

    // method = token, then exactly one SP
    let m0 = pos;
    while pos < len && TCHAR[buf[pos] as usize] {
        pos += 1;
        if pos - m0 > MAX_METHOD {
            return Err(bad("method too long"));
        }
    }
    match buf.get(pos) {
        None => partial!(buf, start, lim, TOO_LARGE),
        Some(b' ') if pos > m0 => {}
        Some(_) => return Err(bad("invalid method")),
    }
    let method = Span(m0 as u32, pos as u32);
    pos += 1;

    // request-target: visible ASCII up to the next SP
    let t0 = pos;
    pos = scan_target(buf, pos);
    if pos - t0 > lim.max_target {
        return Err(URI_TOO_LONG);
    }
    match buf.get(pos) {
        None => partial!(buf, start, lim, URI_TOO_LONG),
        Some(b' ') if pos > t0 => {}
        Some(b'#') => return Err(bad("fragment in request-target")),
        Some(_) => return Err(bad("invalid request-target")),
    }
    let target = Span(t0 as u32, pos as u32);
    pos += 1;

    // HTTP-version = "HTTP/" DIGIT "." DIGIT, then CRLF
    let v = &buf[pos..len.min(pos + 10)];
    if v != b"HTTP/1.1\r\n" {
        // not the common case: check byte by byte for the right error
        const PATTERN: &[u8; 10] = b"HTTP/0.0\r\n";
        for (i, (&b, &p)) in v.iter().zip(PATTERN).enumerate() {
            let ok = if p == b'0' { b.is_ascii_digit() } else { b == p };
            if !ok {
                return Err(bad(if i < 8 { "invalid HTTP version" } else { "request-line not ended by CRLF" }));
            }
        }
        if v.len() < 10 {
            partial!(buf, start, lim, TOO_LARGE);
        }
        if v[5] != b'1' {
            return Err(HeadError { status: 505, reason: "HTTP version not supported" });
        }
    }
    // RFC 9110 §2.5: a higher minor version is handled as the highest we support.
    let minor = (v[7] - b'0').min(1);
    pos += 10;

    let kind = method::classify(method.of(buf));
    if kind == method::MethodKind::Unknown && !lim.allow_unknown_methods {
        return Err(HeadError { status: 501, reason: "method not implemented" });
    }

    // field lines
    let mut sem = Semantics::default();
    let f0 = fields.len();
    let head_limit = HeadLimit { start, max: lim.max_head, error: TOO_LARGE };
    let Some(pos) = field_lines::<false>(buf, pos, head_limit, lim.max_fields, fields, &mut sem)? else {
        return Ok(None);
    };

    // (the size is checked here rather than per line: growth of the buffer bounds the scan)
    if pos - start > lim.max_head {
        return Err(TOO_LARGE);
    }
    let form = uri::target_form(target.of(buf), kind == method::MethodKind::Connect)
        .ok_or(bad("invalid request-target form"))?;
    if form == uri::TargetForm::Asterisk && kind.forbids_asterisk() {
        return Err(bad("asterisk-form is only for OPTIONS"));
    }
    let (framing, host, flags) = sem.finish(buf, minor, kind, form)?;
    Ok(Some(Head {
        end: pos as u32,
        method,
        kind,
        target,
        form,
        minor,
        fields: (f0 as u32, fields.len() as u32),
        host,
        framing,
        flags,
    }))
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "parse_props.rs"]
mod props;
