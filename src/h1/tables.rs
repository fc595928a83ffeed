//! Byte classes from the RFC 9110 / RFC 9112 / RFC 3986 grammar, as 256-entry tables built by
//! `const fn`, plus the SWAR (8 bytes at a time) scans the parser uses on long runs.
//!
//! Every table answers one question about one byte; the grammar each one encodes is quoted above it.

/// Builds a table at compile time from a predicate over the byte `b`.
macro_rules! table {
    (|$b:ident| $pred:expr) => {{
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            let $b = i as u8;
            t[i] = $pred;
            i += 1;
        }
        t
    }};
}

/// `tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
///  / DIGIT / ALPHA` (RFC 9110 §5.6.2). Methods, field names, codings and chunk-extension names.
pub(crate) static TCHAR: [bool; 256] = table!(|b| {
    matches!(b, b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
        || b.is_ascii_alphanumeric()
});

/// Bytes allowed in a request-target: the visible ASCII range `%x21-7E` except `#`.
///
/// RFC 3986 is narrower (no `"`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}`), but deployed clients
/// send those raw and llhttp, nginx and Go accept them; what matters for safety is that SP, CTLs,
/// DEL and non-ASCII (RFC 9112 §3.2: "a request-target ... MUST NOT contain whitespace") never pass.
/// `#` starts a fragment, which is part of no request-target form (RFC 9112 §3.2: the forms
/// are `origin-form = absolute-path [ "?" query ]`, `absolute-URI`, `authority`, `*`; a
/// client "MUST NOT" send the fragment), so it ends the scan and the parser answers 400.
pub(crate) static TARGET: [bool; 256] = table!(|b| b > 0x20 && b < 0x7f && b != b'#');

/// `field-vchar = VCHAR / obs-text` plus SP and HTAB inside a value (RFC 9110 §5.5).
/// CR, LF, NUL and every other CTL (and DEL) are invalid.
pub(crate) static FIELD_VALUE: [bool; 256] = table!(|b| b == b'\t' || (b >= 0x20 && b != 0x7f));

/// `qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text` (RFC 9110 §5.6.4).
pub(crate) static QDTEXT: [bool; 256] = table!(|b| b == b'\t'
    || b == b' '
    || b == 0x21
    || (b >= 0x23 && b <= 0x5b)
    || (b >= 0x5d && b <= 0x7e)
    || b >= 0x80);

/// `quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )`: the byte after a backslash.
pub(crate) static QUOTED_PAIR: [bool; 256] = table!(|b| b == b'\t' || b == b' ' || (b > 0x20 && b != 0x7f));

/// `reg-name = *( unreserved / pct-encoded / sub-delims )` (RFC 3986 §3.2.2), the characters of a
/// host name in `Host` and in authority-form; `%` is checked for two hex digits separately.
pub(crate) static REG_NAME: [bool; 256] = table!(|b| {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'%'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
        )
});

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Marks (high bit per byte) the bytes of `x` that are `< n`; exact for the lowest marked byte,
/// which is all the scans need (borrows only run upward from a true mark). Valid for `n <= 128`.
#[inline(always)]
const fn less_than(x: u64, n: u8) -> u64 {
    x.wrapping_sub(LO * n as u64) & !x & HI
}

/// Marks the bytes of `x` that equal `b`; exact for the lowest marked byte.
#[inline(always)]
const fn equal_to(x: u64, b: u8) -> u64 {
    less_than(x ^ (LO * b as u64), 1)
}

#[inline(always)]
fn load8(s: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&s[i..i + 8]);
    u64::from_le_bytes(w)
}

/// Index of the first byte at or after `i` that is not a plain field-value byte (a CTL other than
/// HTAB is the usual stop: CR; HTAB also stops the fast scan and is judged by the caller), or
/// `s.len()`. Scans 8 bytes per step.
#[inline]
pub(crate) fn scan_value(s: &[u8], mut i: usize) -> usize {
    while super::simd::fits(s, i, 8) {
        let x = load8(s, i);
        let m = less_than(x, 0x20) | equal_to(x, 0x7f);
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < s.len() && s[i] >= 0x20 && s[i] != 0x7f {
        i += 1;
    }
    i
}

/// Index of the first byte at or after `i` that is not in [`TARGET`] (normally the SP that ends
/// the request-target), or `s.len()`. Scans 8 bytes per step.
#[inline]
pub(crate) fn scan_target(s: &[u8], mut i: usize) -> usize {
    while super::simd::fits(s, i, 8) {
        let x = load8(s, i);
        // bytes <= 0x20, plus bytes >= 0x7f (0x7f itself, and everything with the high bit set),
        // plus '#'
        let m = less_than(x, 0x21) | ((x.wrapping_add(LO) | x) & HI) | equal_to(x, b'#');
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < s.len() && TARGET[s[i] as usize] {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tchar_matches_the_rfc_list() {
        let expect: Vec<u8> =
            (0u8..=255).filter(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b)).collect();
        let got: Vec<u8> = (0u8..=255).filter(|&b| TCHAR[b as usize]).collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn scans_agree_with_tables_at_every_position() {
        for bad in 0u8..=255 {
            for pos in 0..20 {
                let mut v = vec![b'a'; 20];
                v[pos] = bad;
                let want_v = if FIELD_VALUE[bad as usize] && bad != b'\t' { 20 } else { pos };
                assert_eq!(scan_value(&v, 0), want_v, "value byte {bad:#x} at {pos}");
                let want_t = if TARGET[bad as usize] { 20 } else { pos };
                assert_eq!(scan_target(&v, 0), want_t, "target byte {bad:#x} at {pos}");
            }
        }
    }

    #[test]
    fn obs_text_is_a_value_byte_but_not_a_target_byte() {
        assert!(FIELD_VALUE[0xa0] && FIELD_VALUE[0xff]);
        assert!(!TARGET[0xa0] && !TARGET[0x7f] && !TARGET[b' ' as usize] && !TARGET[b'#' as usize]);
        assert!(!FIELD_VALUE[0] && !FIELD_VALUE[b'\r' as usize] && !FIELD_VALUE[0x7f]);
    }
}
