//! The WebSocket opening handshake (RFC 6455 §4.2) on top of [`Request::upgrade`]: checks the
//! client's handshake, answers `101` with `Sec-WebSocket-Accept`, and hands the connection
//! over. The protocol itself (frames, ping, close) is not here: run a WebSocket crate over
//! blocking streams (tungstenite's `WebSocket::from_raw_socket`) on the [`Upgraded`] stream.
//!
//! SHA-1 and base64 are written out here (FIPS 180-4 §6.1, RFC 4648 §4): the handshake hashes
//! 60 bytes once per connection, which does not justify two dependencies.

use crate::upgrade::{has_token, refuse, Upgraded};
use crate::{Request, Response};
use std::io;

/// The GUID RFC 6455 §1.3 appends to the client's key.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`: base64 of the SHA-1 of
/// the key and the protocol's GUID (RFC 6455 §4.2.2).
///
/// ```
/// // the example of RFC 6455 §1.3
/// assert_eq!(shockwave::websocket::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &str) -> String {
    let mut input = Vec::with_capacity(key.len() + GUID.len());
    input.extend_from_slice(key.trim().as_bytes());
    input.extend_from_slice(GUID.as_bytes());
    base64(&sha1(&input))
}

/// Accepts a WebSocket handshake and hands the connection to `on_open` on a thread of its own
/// (see [`Request::upgrade`], which this builds on: the same rules for who owns the
/// connection afterwards). A bad handshake sets `resp` to the answer and returns the reason:
/// `426 Upgrade Required` with `Sec-WebSocket-Version: 13` for another protocol version or a
/// request without `Upgrade: websocket`, `400 Bad Request` for a missing or malformed
/// `Sec-WebSocket-Key` or any other fault.
///
/// Subprotocols and extensions are not negotiated: set `Sec-WebSocket-Protocol` on `resp`
/// before calling this to pick one of those the client offered.
///
/// ```no_run
/// use std::io::{Read, Write};
/// shockwave::serve("127.0.0.1:8080", |req: &shockwave::Request, resp: &mut shockwave::Response| {
///     if req.path() != "/ws" {
///         return resp.write_body("hello\n");
///     }
///     let _ = shockwave::websocket::upgrade(req, resp, |mut stream| {
///         // WebSocket frames now: hand `stream` to a WebSocket crate
///         let _ = stream.write_all(b"\x81\x02hi"); // a text frame "hi"
///     });
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn upgrade(req: &Request, resp: &mut Response, on_open: impl FnOnce(Upgraded) + Send + 'static) -> io::Result<()> {
    if !has_token(req, "upgrade", "websocket") || req.header("sec-websocket-version").map(str::trim) != Some("13") {
        let e = refuse(resp, 426, "this resource needs a WebSocket (Upgrade: websocket, Sec-WebSocket-Version: 13)");
        resp.set_header("Sec-WebSocket-Version", "13");
        resp.set_header("Upgrade", "websocket");
        return Err(e);
    }
    // RFC 6455 §4.1: the key is 16 random bytes in base64, so 24 characters ending in "=="
    let key = match req.header("sec-websocket-key").map(str::trim) {
        Some(k) if is_key(k) => k,
        Some(_) => return Err(refuse(resp, 400, "Sec-WebSocket-Key is not 16 bytes in base64")),
        None => return Err(refuse(resp, 400, "the WebSocket handshake needs Sec-WebSocket-Key")),
    };
    let accept = accept_key(key);
    req.upgrade(resp, "websocket", on_open)?;
    resp.set_header("Sec-WebSocket-Accept", accept);
    Ok(())
}

/// A base64 encoding of 16 bytes: 22 alphabet characters and `==`.
fn is_key(k: &str) -> bool {
    let b = k.as_bytes();
    b.len() == 24 && b.ends_with(b"==") && b[..22].iter().all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
}

/// SHA-1 (FIPS 180-4 §6.1.2).
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (t, word) in block.chunks_exact(4).enumerate() {
            w[t] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for t in 16..80 {
            w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (t, &wt) in w.iter().enumerate() {
            let (f, k) = match t {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let tmp = a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(wt);
            (e, d, c, b, a) = (d, c, b.rotate_left(30), a, tmp);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (o, x) in out.chunks_exact_mut(4).zip(h) {
        o.copy_from_slice(&x.to_be_bytes());
    }
    out
}

/// Base64 with padding (RFC 4648 §4).
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn sha1_matches_the_fips_180_examples() {
        assert_eq!(hex(&sha1(b"abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(hex(&sha1(&vec![b'a'; 1_000_000])), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    }

    #[test]
    fn base64_matches_rfc_4648_section_10() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
    }

    #[test]
    fn accept_key_matches_rfc_6455_section_1_3() {
        assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn keys_must_be_16_bytes_of_base64() {
        assert!(is_key("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_key("dGhlIHNhbXBsZSBub25jZQ"));
        assert!(!is_key("dGhlIHNhbXBsZSBub25jZQ=x"));
        assert!(!is_key("dGhlIHNhbXBsZSBub25j*Q=="));
    }
}
