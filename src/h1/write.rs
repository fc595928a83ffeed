//! Writing field lines safely: which names are valid and how a value is sanitised, the
//! same for the server's responses and the client's requests (RFC 9110 §5.5: a CR, LF or
//! NUL in a value is how a message is split or a header injected).

/// Whether `v` holds a control byte (a CTL, HTAB included, or DEL): eight bytes at a time,
/// as header values set by handlers are short and the parser's vector scan wants the long
/// buffer of a request.
pub(crate) fn has_ctl(v: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = v.chunks_exact(8);
    for w in &mut words {
        let x = u64::from_le_bytes(w.try_into().unwrap_or_default());
        // "some byte < 0x20" and "some byte == 0x7f" (as some byte of x ^ 0x7f.. is zero):
        // exact as yes/no answers, which is all that is asked
        let y = x ^ (ONES * 0x7f);
        if (x.wrapping_sub(ONES * 0x20) & !x | y.wrapping_sub(ONES) & !y) & HIGH != 0 {
            return true;
        }
    }
    words.remainder().iter().any(|&b| b < 0x20 || b == 0x7f)
}

/// Appends a trimmed field value and its CRLF. A CTL (or HTAB) in it becomes a space, so
/// data from a handler or a caller can never split the message.
pub(crate) fn push_value(out: &mut Vec<u8>, value: &[u8]) {
    let v0 = out.len();
    out.extend_from_slice(value);
    if has_ctl(value) {
        for b in &mut out[v0..] {
            if *b < 0x20 && *b != b'\t' || *b == 0x7f {
                *b = b' ';
            }
        }
        while out.len() > v0 && matches!(out.last(), Some(b' ' | b'\t')) {
            out.pop();
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// `token` (RFC 9110 §5.6.2).
pub(crate) fn valid_name(n: &str) -> bool {
    !n.is_empty() && n.bytes().all(|b| crate::h1::tables::TCHAR[b as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_ctl_matches_the_field_value_table() {
        for len in [1, 7, 8, 9, 16, 23] {
            for pos in 0..len {
                for b in 0..=255u8 {
                    let mut v = vec![b'a'; len];
                    v[pos] = b;
                    let want = !super::super::tables::FIELD_VALUE[b as usize] || b == b'\t';
                    assert_eq!(has_ctl(&v), want, "byte {b:#x} at {pos} of {len}");
                }
            }
        }
        assert!(!has_ctl(b"") && !has_ctl("text/plain; charset=ü".as_bytes()));
    }
}
