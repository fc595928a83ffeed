//! The field lines that decide how a message is framed and whether its connection persists
//! (`Content-Length`, `Transfer-Encoding`, `Connection`: RFC 9112 §6, §9.3), read the same
//! way for requests and responses, and the token helpers they are read with.
//!
//! [`FramingFields`] only gathers what the lines say; the decision is the role's, because it
//! differs: a request without a length has no body, a response without one is delimited by
//! the close; the server refuses a request it cannot frame with a status, the client reports
//! a protocol error.

use super::field::{bad, FieldSink, HeadError, Span};
use super::tables::TCHAR;

/// Strips optional whitespace (SP / HTAB) from both ends.
#[inline]
pub(crate) fn trim_ows(mut v: &[u8]) -> &[u8] {
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
pub(crate) fn eq_fold(name: &[u8], lit: &[u8]) -> bool {
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

/// The elements of a comma-separated list, trimmed, empty ones skipped (RFC 9110 §5.6.1.2:
/// a recipient MUST accept and ignore a reasonable number of empty list elements).
pub(crate) fn list(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&b| b == b',').map(trim_ows).filter(|e| !e.is_empty())
}

/// What a message's framing fields said, line by line.
#[derive(Default)]
pub(crate) struct FramingFields {
    pub content_length: Option<u64>,
    /// A `Transfer-Encoding` line was present.
    pub te_present: bool,
    pub te_elements: u32,
    /// The last coding so far is `chunked`.
    pub te_last_chunked: bool,
    te_chunked_seen: bool,
    /// A coding outside the registry was named.
    pub te_unknown: bool,
    /// A registered coding other than `chunked` was applied (the body stays coded).
    pub te_coded: bool,
    /// `Connection: close`.
    pub close: bool,
    /// `Connection: keep-alive`.
    pub keep_alive: bool,
}

/// A response's fields only matter for their framing: the client parses them into this.
impl FieldSink for FramingFields {
    #[inline(always)]
    fn field(&mut self, name: &[u8], value: &[u8], _: Span) -> Result<(), HeadError> {
        self.framing_field(name, value)
    }
}

impl FramingFields {
    /// Folds in one field line if it is a framing field. `name` is a valid token, `value` is
    /// already trimmed.
    #[inline(always)]
    pub(crate) fn framing_field(&mut self, name: &[u8], value: &[u8]) -> Result<(), HeadError> {
        match name.len() {
            10 if eq_fold(name, b"connection") => self.connection(value),
            14 if eq_fold(name, b"content-length") => self.content_length(value)?,
            17 if eq_fold(name, b"transfer-encoding") => self.transfer_encoding(value)?,
            _ => {}
        }
        Ok(())
    }

    fn connection(&mut self, value: &[u8]) {
        for t in list(value) {
            if t.eq_ignore_ascii_case(b"close") {
                self.close = true;
            } else if t.eq_ignore_ascii_case(b"keep-alive") {
                self.keep_alive = true;
            }
        }
    }

    /// `Content-Length = 1*DIGIT`. A list of identical values, or identical repeated lines, is
    /// accepted as that value (RFC 9110 §8.6 allows it); anything else is invalid (RFC 9112 §6.3
    /// rule 5: "the recipient MUST treat it as an unrecoverable error").
    #[inline(never)]
    fn content_length(&mut self, value: &[u8]) -> Result<(), HeadError> {
        // the common case, one value of at most 19 digits (cannot overflow): no list to split
        if !value.is_empty() && value.len() <= 19 && value.iter().all(u8::is_ascii_digit) {
            let n = value.iter().fold(0u64, |n, &d| n * 10 + (d - b'0') as u64);
            if self.content_length.is_some_and(|c| c != n) {
                return Err(bad("conflicting Content-Length values"));
            }
            self.content_length = Some(n);
            return Ok(());
        }
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
            // IANA transfer coding registry; such bodies are passed on still coded, as hyper
            // and Node do, with the Transfer-Encoding field visible.
            const KNOWN: [&[u8]; 5] = [b"gzip", b"deflate", b"compress", b"x-gzip", b"x-compress"];
            if KNOWN.iter().any(|k| coding.eq_ignore_ascii_case(k)) {
                self.te_coded = true;
            } else {
                self.te_unknown = true;
            }
        }
        Ok(())
    }

    /// `Transfer-Encoding` ends in `chunked` (what both roles need before reading chunks).
    pub(crate) fn is_chunked(&self) -> bool {
        self.te_elements > 0 && self.te_last_chunked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
