//! `Range: bytes=…` (RFC 9110 §14.1.2) as a pure function of the header value and the
//! representation's length, and the layout of a `multipart/byteranges` body (§14.6).
//!
//! Limits against abuse: more than [`MAX_RANGES`] ranges, or a syntactically invalid header,
//! and the header is ignored (the whole representation is sent with 200, as §14.2 allows);
//! ranges that overlap or touch are coalesced into one (sorted), so no byte is sent twice and
//! a multipart body is never larger than the file plus its part heads. Ranges that do not
//! overlap keep the order they were asked in.

/// Most ranges one request may ask for before its `Range` header is ignored.
pub(crate) const MAX_RANGES: usize = 16;

/// What a `Range` header asks of a representation of a given length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ranges {
    /// Send it whole (no usable `Range`).
    Whole,
    /// 416 Range Not Satisfiable.
    Unsatisfiable,
    /// These inclusive `(first, last)` byte ranges, at least one.
    Parts(Vec<(u64, u64)>),
}

/// Reads `value` for a representation of `len` bytes.
pub(crate) fn parse(value: &[u8], len: u64) -> Ranges {
    let value = value.trim_ascii();
    let Some(eq) = value.iter().position(|&b| b == b'=') else { return Ranges::Whole };
    if !value[..eq].trim_ascii().eq_ignore_ascii_case(b"bytes") {
        return Ranges::Whole; // another range unit: ignored (§14.2)
    }
    let mut out = Vec::new();
    let mut count = 0;
    for spec in value[eq + 1..].split(|&b| b == b',') {
        let spec = spec.trim_ascii();
        if spec.is_empty() {
            continue; // the list rule allows empty elements (§5.6.1)
        }
        count += 1;
        if count > MAX_RANGES {
            return Ranges::Whole;
        }
        let Some(dash) = spec.iter().position(|&b| b == b'-') else { return Ranges::Whole };
        let (a, b) = (&spec[..dash], &spec[dash + 1..]);
        let range = match (number(a), number(b)) {
            (None, Some(n)) if a.is_empty() => (n > 0 && len > 0).then(|| (len.saturating_sub(n), len - 1)),
            (Some(first), None) if b.is_empty() => (first < len).then(|| (first, len - 1)),
            (Some(first), Some(last)) if last >= first => (first < len).then(|| (first, last.min(len - 1))),
            _ => return Ranges::Whole, // invalid: the whole header is ignored
        };
        out.extend(range);
    }
    if count == 0 {
        return Ranges::Whole;
    }
    if out.is_empty() {
        return Ranges::Unsatisfiable;
    }
    Ranges::Parts(coalesce(out))
}

/// Digits only (no sign, no spaces), as a `u64`.
fn number(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Merges ranges that overlap or touch (sorting them); leaves disjoint ones in request order.
fn coalesce(mut r: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    let mut sorted = r.clone();
    sorted.sort_unstable();
    if sorted.windows(2).all(|w| w[1].0 > w[0].1.saturating_add(1)) {
        return r;
    }
    r.clear();
    for (a, b) in sorted {
        match r.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => r.push((a, b)),
        }
    }
    r
}

/// The head of part `i` of a multipart/byteranges body (`\r\n` before every part but the
/// first) and the closing delimiter.
pub(crate) fn part_head(boundary: &str, ctype: &str, (a, b): (u64, u64), len: u64, first: bool) -> Vec<u8> {
    let crlf = if first { "" } else { "\r\n" };
    format!("{crlf}--{boundary}\r\nContent-Type: {ctype}\r\nContent-Range: bytes {a}-{b}/{len}\r\n\r\n").into_bytes()
}

/// The delimiter that ends a multipart/byteranges body.
pub(crate) fn closing(boundary: &str) -> Vec<u8> {
    format!("\r\n--{boundary}--\r\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::Ranges::*;
    use super::*;

    #[test]
    fn range_headers_against_a_1000_byte_file() {
        let table: &[(&str, Ranges)] = &[
            ("bytes=0-99", Parts(vec![(0, 99)])),
            ("bytes=500-", Parts(vec![(500, 999)])),
            ("bytes=-500", Parts(vec![(500, 999)])),
            ("bytes=-5000", Parts(vec![(0, 999)])),
            ("bytes=990-5000", Parts(vec![(990, 999)])),
            ("BYTES = 1-1", Parts(vec![(1, 1)])),
            ("bytes=0-0, -1", Parts(vec![(0, 0), (999, 999)])),
            ("bytes=900-909,0-9", Parts(vec![(900, 909), (0, 9)])), // disjoint: request order
            ("bytes=0-9,5-19,20-29", Parts(vec![(0, 29)])),         // overlapping and touching
            ("bytes=50-59,0-9,5-7", Parts(vec![(0, 9), (50, 59)])),
            ("bytes=0-9,,", Parts(vec![(0, 9)])),
            ("bytes=1000-", Unsatisfiable),
            ("bytes=1000-2000, 5000-", Unsatisfiable),
            ("bytes=-0", Unsatisfiable),
            ("bytes=1000-, 0-0", Parts(vec![(0, 0)])), // the satisfiable ones are served
            ("bytes=9-0", Whole),                      // invalid: ignored
            ("bytes=a-b", Whole),
            ("bytes=1", Whole),
            ("bytes=+1-2", Whole),
            ("bytes=", Whole),
            ("items=0-1", Whole),
            ("0-1", Whole),
            (
                "bytes=0-1,2-3,4-5,6-7,8-9,10-11,12-13,14-15,16-17,18-19,20-21,22-23,24-25,26-27,28-29,30-31,32-33",
                Whole,
            ),
            ("bytes=18446744073709551615-", Unsatisfiable),
            ("bytes=0-18446744073709551616", Whole), // beyond u64: not a number
        ];
        for (value, want) in table {
            assert_eq!(parse(value.as_bytes(), 1000), *want, "{value}");
        }
        assert_eq!(parse(b"bytes=0-", 0), Unsatisfiable, "nothing to send of an empty file");
        assert_eq!(parse(b"bytes=-1", 0), Unsatisfiable);
    }

    #[test]
    fn sixteen_ranges_are_allowed() {
        let v: Vec<String> = (0..16).map(|i| format!("{}-{}", i * 10, i * 10 + 1)).collect();
        let Parts(p) = parse(format!("bytes={}", v.join(",")).as_bytes(), 1000) else { panic!() };
        assert_eq!(p.len(), 16);
    }
}
