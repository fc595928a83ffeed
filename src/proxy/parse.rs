//! The PROXY protocol parser, versions 1 (text) and 2 (binary), after HAProxy's specification
//! (`doc/proxy-protocol.txt`). Incremental in the httparse way: given the bytes received so
//! far, [`parse`] says "not enough yet" (`Ok(None)`), "here is the header and its length", or
//! why the input can never become a header. It never reads past the header: what follows is
//! the first HTTP request, left where it is.
//!
//! Our own rather than the `ppp` crate: the protocol is two small fixed formats, the server
//! needs its own limits and an owned, once-per-connection copy anyway, and `ppp` re-parses v1
//! after every failed v2 attempt and brings `thiserror` 1 along. Fuzzed by the `proxy` target.

use super::ProxyHeader;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The v2 signature: `\r\n\r\n\0\r\nQUIT\n`.
pub(crate) const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\x00\r\nQUIT\n";
/// What a v1 header starts with.
const V1_PREFIX: &[u8] = b"PROXY ";
/// The longest v1 header, CRLF included (the specification's worst case, TCP6 with full
/// addresses and ports).
pub(crate) const V1_MAX: usize = 107;
/// The most address and TLV bytes accepted after the 16 fixed bytes of a v2 header. The
/// largest header HAProxy or AWS sends holds two IPv6 addresses, a 128-byte unique id, an
/// SNI and a few SSL fields, well under 1 KiB; 4 KiB leaves room and bounds what a
/// misbehaving peer makes the server buffer before it is refused.
pub(crate) const V2_MAX_PAYLOAD: usize = 4096;

/// The fixed part of a v2 header: signature, version/command, family/protocol, length.
const V2_FIXED: usize = 16;

/// Parses a PROXY header at the start of `b`: `Ok(Some((header, length)))` once complete,
/// `Ok(None)` while `b` is a prefix of one, `Err(why)` when it can never be one.
pub(crate) fn parse(b: &[u8]) -> Result<Option<(ProxyHeader, usize)>, &'static str> {
    match b.first() {
        None => Ok(None),
        Some(b'P') => v1(b),
        Some(b'\r') => v2(b),
        Some(_) => Err("the connection did not start with a PROXY protocol header"),
    }
}

/// `PROXY TCP4 192.0.2.1 192.0.2.2 56324 443\r\n`, `PROXY TCP6 …`, or `PROXY UNKNOWN…\r\n`.
fn v1(b: &[u8]) -> Result<Option<(ProxyHeader, usize)>, &'static str> {
    let n = b.len().min(V1_PREFIX.len());
    if b[..n] != V1_PREFIX[..n] {
        return Err("the connection did not start with a PROXY protocol header");
    }
    let window = &b[..b.len().min(V1_MAX)];
    let Some(lf) = memchr::memchr(b'\n', window) else {
        if b.len() >= V1_MAX {
            return Err("PROXY v1 header longer than 107 bytes");
        }
        let printable = |(i, &c): (usize, &u8)| (0x20..0x7f).contains(&c) || (c == b'\r' && i + 1 == window.len());
        return if window.iter().enumerate().all(printable) {
            Ok(None)
        } else {
            Err("PROXY v1 header with a byte that is not printable ASCII")
        };
    };
    if lf < 1 || b[lf - 1] != b'\r' {
        return Err("PROXY v1 header line not ended by CRLF");
    }
    let line = &b[V1_PREFIX.len().min(lf - 1)..lf - 1];
    if !line.iter().all(|c| (0x20..0x7f).contains(c)) {
        return Err("PROXY v1 header with a byte that is not printable ASCII");
    }
    let line = std::str::from_utf8(line).map_err(|_| "PROXY v1 header with a byte that is not printable ASCII")?;
    let mut words = line.split(' ');
    let (source, destination) = match words.next() {
        // "the receiver must ignore anything presented before the CRLF is found"
        Some("UNKNOWN") => (None, None),
        Some(proto @ ("TCP4" | "TCP6")) => {
            let mut next = || words.next().ok_or("PROXY v1 header with too few fields");
            let (sa, da, sp, dp) = (next()?, next()?, next()?, next()?);
            if words.next().is_some() {
                return Err("PROXY v1 header with too many fields");
            }
            let ip = |s: &str| -> Result<IpAddr, &'static str> {
                match proto {
                    "TCP4" => s.parse::<Ipv4Addr>().map(IpAddr::V4).map_err(|_| "PROXY v1 TCP4 address is not IPv4"),
                    _ => s.parse::<Ipv6Addr>().map(IpAddr::V6).map_err(|_| "PROXY v1 TCP6 address is not IPv6"),
                }
            };
            let (sa, da, sp, dp) = (ip(sa)?, ip(da)?, port(sp)?, port(dp)?);
            (Some(SocketAddr::new(sa, sp)), Some(SocketAddr::new(da, dp)))
        }
        _ => return Err("PROXY v1 header with a protocol other than TCP4, TCP6 or UNKNOWN"),
    };
    let header = ProxyHeader { version: 1, source, destination, tlvs: Box::default() };
    Ok(Some((header, lf + 1)))
}

/// A v1 port: 1 to 5 decimal digits, at most 65535.
fn port(s: &str) -> Result<u16, &'static str> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err("PROXY v1 port is not a decimal number");
    }
    s.parse().map_err(|_| "PROXY v1 port is larger than 65535")
}

/// The binary header: 16 fixed bytes, then `length` bytes of addresses and TLVs.
fn v2(b: &[u8]) -> Result<Option<(ProxyHeader, usize)>, &'static str> {
    let n = b.len().min(V2_SIGNATURE.len());
    if b[..n] != V2_SIGNATURE[..n] {
        return Err("the connection did not start with a PROXY protocol header");
    }
    if b.len() < V2_FIXED {
        return Ok(None);
    }
    if b[12] >> 4 != 2 {
        return Err("PROXY v2 header with a version other than 2");
    }
    let local = match b[12] & 0x0f {
        0 => true,
        1 => false,
        _ => return Err("PROXY v2 header with a command other than LOCAL or PROXY"),
    };
    let (family, proto) = (b[13] >> 4, b[13] & 0x0f);
    if family > 3 || proto > 2 {
        return Err("PROXY v2 header with an unknown address family or protocol");
    }
    let len = usize::from(u16::from_be_bytes([b[14], b[15]]));
    if len > V2_MAX_PAYLOAD {
        return Err("PROXY v2 header longer than 4 KiB");
    }
    let Some(payload) = b.get(V2_FIXED..V2_FIXED + len) else { return Ok(None) };
    let total = V2_FIXED + len;
    if local {
        // "the receiver must accept this connection as valid and must use the real connection
        // endpoints and discard the protocol block including the family"
        return Ok(Some((ProxyHeader { version: 2, source: None, destination: None, tlvs: Box::default() }, total)));
    }
    // AF_INET: 4 + 4 address bytes, 2 + 2 port bytes; AF_INET6: 16 + 16 + 2 + 2;
    // AF_UNIX: 108 + 108; AF_UNSPEC: none (the addresses are unknown).
    let addr_len = [0, 12, 36, 216][usize::from(family)];
    if len < addr_len {
        return Err("PROXY v2 header too short for its address family");
    }
    let a = &payload[..addr_len];
    let (source, destination) = match family {
        1 => {
            let ip = |i: usize| IpAddr::V4(Ipv4Addr::new(a[i], a[i + 1], a[i + 2], a[i + 3]));
            let port = |i: usize| u16::from_be_bytes([a[i], a[i + 1]]);
            (Some(SocketAddr::new(ip(0), port(8))), Some(SocketAddr::new(ip(4), port(10))))
        }
        2 => {
            let ip = |i: usize| {
                let mut o = [0u8; 16];
                o.copy_from_slice(&a[i..i + 16]);
                IpAddr::V6(Ipv6Addr::from(o))
            };
            let port = |i: usize| u16::from_be_bytes([a[i], a[i + 1]]);
            (Some(SocketAddr::new(ip(0), port(32))), Some(SocketAddr::new(ip(16), port(34))))
        }
        _ => (None, None),
    };
    let tlvs = &payload[addr_len..];
    check_tlvs(tlvs)?;
    Ok(Some((ProxyHeader { version: 2, source, destination, tlvs: tlvs.into() }, total)))
}

/// The type and value length of the TLV at the start of `b`, if its 3-byte head is there.
pub(crate) fn tlv_head(b: &[u8]) -> Option<(u8, usize)> {
    match b {
        [kind, hi, lo, ..] => Some((*kind, usize::from(u16::from_be_bytes([*hi, *lo])))),
        _ => None,
    }
}

/// Every TLV's value must end inside `b`, and the last exactly at its end.
fn check_tlvs(mut b: &[u8]) -> Result<(), &'static str> {
    while !b.is_empty() {
        let (_, len) = tlv_head(b).ok_or("PROXY v2 header with a truncated TLV")?;
        b = b.get(3 + len..).ok_or("PROXY v2 header with a TLV longer than the header")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2_header(cmd: u8, fam: u8, body: &[u8]) -> Vec<u8> {
        let mut h = V2_SIGNATURE.to_vec();
        h.extend_from_slice(&[0x20 | cmd, fam]);
        h.extend_from_slice(&(body.len() as u16).to_be_bytes());
        h.extend_from_slice(body);
        h
    }

    fn addr(s: &str) -> Option<SocketAddr> {
        Some(s.parse().unwrap())
    }

    /// Every valid header, complete, with HTTP bytes after it: parsed with the right length;
    /// and each of its proper prefixes: "not enough yet".
    #[test]
    fn valid_headers_and_all_their_prefixes() {
        let v4 = [203, 0, 113, 7, 192, 0, 2, 1, 0xa0, 0x28, 0x01, 0xbb];
        let mut v6 = Vec::new();
        v6.extend_from_slice(&"2001:db8::7".parse::<Ipv6Addr>().unwrap().octets());
        v6.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        v6.extend_from_slice(&[0xa0, 0x28, 0x01, 0xbb]);
        let mut v4_tlv = v4.to_vec();
        v4_tlv.extend_from_slice(b"\x01\x00\x02h2\x04\x00\x00\x05\x00\x03abc");
        type Case = (Vec<u8>, u8, Option<SocketAddr>, Option<SocketAddr>); // header, version, source, destination
        let cases: Vec<Case> = vec![
            (
                b"PROXY TCP4 203.0.113.7 192.0.2.1 41000 443\r\n".to_vec(),
                1,
                addr("203.0.113.7:41000"),
                addr("192.0.2.1:443"),
            ),
            (
                b"PROXY TCP6 2001:db8::7 2001:db8::1 41000 443\r\n".to_vec(),
                1,
                addr("[2001:db8::7]:41000"),
                addr("[2001:db8::1]:443"),
            ),
            (b"PROXY TCP6 ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n".to_vec(), 0, None, None),
            (b"PROXY UNKNOWN\r\n".to_vec(), 1, None, None),
            (b"PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n".to_vec(), 1, None, None),
            (v2_header(1, 0x11, &v4), 2, addr("203.0.113.7:41000"), addr("192.0.2.1:443")),
            (v2_header(1, 0x21, &v6), 2, addr("[2001:db8::7]:41000"), addr("[2001:db8::1]:443")),
            (v2_header(0, 0x00, b""), 2, None, None),
            (v2_header(0, 0x11, &v4), 2, None, None), // LOCAL: addresses ignored
            (v2_header(1, 0x00, b""), 2, None, None), // PROXY, AF_UNSPEC
            (v2_header(1, 0x31, &[0u8; 216]), 2, None, None), // AF_UNIX
            (v2_header(1, 0x11, &v4_tlv), 2, addr("203.0.113.7:41000"), addr("192.0.2.1:443")),
        ];
        for (n, (h, version, src, dst)) in cases.into_iter().enumerate() {
            if version == 0 {
                assert!(parse(&h).is_err(), "case {n}: not addresses");
                continue;
            }
            let mut with_request = h.clone();
            with_request.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
            let (p, len) = parse(&with_request).unwrap().unwrap_or_else(|| panic!("case {n}"));
            assert_eq!((p.version, p.source, p.destination, len), (version, src, dst, h.len()), "case {n}");
            for cut in 0..h.len() {
                assert_eq!(parse(&h[..cut]), Ok(None), "case {n} cut at {cut}");
            }
        }
    }

    #[test]
    fn tlvs_are_kept_and_read_by_type() {
        let mut body = vec![127, 0, 0, 1, 127, 0, 0, 1, 0, 1, 0, 2];
        body.extend_from_slice(
            b"\x03\x00\x04\x01\x02\x03\x04\x01\x00\x08http/1.1\x02\x00\x0bexample.com\x05\x00\x02id",
        );
        let (p, _) = parse(&v2_header(1, 0x11, &body)).unwrap().unwrap();
        assert_eq!(p.alpn(), Some(&b"http/1.1"[..]));
        assert_eq!(p.authority(), Some("example.com"));
        assert_eq!(p.unique_id(), Some(&b"id"[..]));
        assert_eq!(p.tlv(0x03), Some(&[1, 2, 3, 4][..]), "CRC32C kept, not checked");
        assert_eq!(p.tlv(0x20), None);
        assert_eq!(p.tlvs().map(|(k, _)| k).collect::<Vec<_>>(), [3, 1, 2, 5]);
    }

    #[test]
    fn input_that_can_never_be_a_header_is_refused_with_a_reason() {
        let long = format!("PROXY UNKNOWN {}\r\n", "x".repeat(100));
        let v4 = [127, 0, 0, 1, 127, 0, 0, 1, 0, 1, 0, 2];
        let mut bad_tlv = v4.to_vec();
        bad_tlv.extend_from_slice(b"\x01\x00\x09h2");
        let mut short_tlv = v4.to_vec();
        short_tlv.extend_from_slice(b"\x01\x00");
        let mut huge = V2_SIGNATURE.to_vec();
        huge.extend_from_slice(&[0x21, 0x11, 0x10, 0x01]);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"GET / HTTP/1.1\r\n".to_vec(), "the connection did not start with a PROXY protocol header"),
            (b"PROXX".to_vec(), "the connection did not start with a PROXY protocol header"),
            (b"\r\n\r\n\x00\r\nQUIX".to_vec(), "the connection did not start with a PROXY protocol header"),
            (b"\r\nGET".to_vec(), "the connection did not start with a PROXY protocol header"),
            (long.into_bytes(), "PROXY v1 header longer than 107 bytes"),
            (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n".to_vec(), "PROXY v1 header line not ended by CRLF"),
            (b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n".to_vec(), "PROXY v1 header with too few fields"),
            (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n".to_vec(), "PROXY v1 header with too many fields"),
            (b"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n".to_vec(), "PROXY v1 header with too many fields"),
            (b"PROXY TCP4 ::1 ::1 1 2\r\n".to_vec(), "PROXY v1 TCP4 address is not IPv4"),
            (b"PROXY TCP6 1.2.3.4 ::1 1 2\r\n".to_vec(), "PROXY v1 TCP6 address is not IPv6"),
            (b"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n".to_vec(), "PROXY v1 port is larger than 65535"),
            (b"PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n".to_vec(), "PROXY v1 port is not a decimal number"),
            (
                b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n".to_vec(),
                "PROXY v1 header with a protocol other than TCP4, TCP6 or UNKNOWN",
            ),
            (b"PROXY \r\n".to_vec(), "PROXY v1 header with a protocol other than TCP4, TCP6 or UNKNOWN"),
            (b"PROXY TCP4 \x01".to_vec(), "PROXY v1 header with a byte that is not printable ASCII"),
            (b"PROXY UNKNOWN \xff\r\n".to_vec(), "PROXY v1 header with a byte that is not printable ASCII"),
            (v2_header(2, 0x11, &v4), "PROXY v2 header with a command other than LOCAL or PROXY"),
            ([&V2_SIGNATURE[..], b"\x11\x11\x00\x00"].concat(), "PROXY v2 header with a version other than 2"),
            (v2_header(1, 0x41, &v4), "PROXY v2 header with an unknown address family or protocol"),
            (v2_header(1, 0x13, &v4), "PROXY v2 header with an unknown address family or protocol"),
            (v2_header(1, 0x21, &v4), "PROXY v2 header too short for its address family"),
            (v2_header(1, 0x11, &bad_tlv), "PROXY v2 header with a TLV longer than the header"),
            (v2_header(1, 0x11, &short_tlv), "PROXY v2 header with a truncated TLV"),
            (huge, "PROXY v2 header longer than 4 KiB"),
        ];
        for (h, why) in cases {
            assert_eq!(parse(&h), Err(why), "{:?}", String::from_utf8_lossy(&h));
        }
    }
}
