//! Entry points for the fuzz targets in `tests/fuzz` (compiled only under `--cfg fuzzing`, which
//! cargo-fuzz sets, and for the unit tests that keep them working). Each asserts the invariants
//! a target checks; a panic is a finding.

use crate::buf::BufPool;
use crate::client::head::{parse_response, BodyKind, Limits as ResponseLimits};
use crate::h1::chunked::Chunked;
use crate::h1::field::section_fields;
use crate::http::head::Framing;
use crate::http::parse::{parse_head, Limits};
use crate::multipart::{self, Multipart, MultipartError};
use crate::server::config::Config;
use crate::server::input::{Advance, Input};

/// Parses `data` as a request head; spans must lie inside the input.
pub fn parse(data: &[u8]) {
    let mut fields = Vec::new();
    if let Ok(Some(h)) = parse_head(data, 0, &Limits::default(), &mut fields) {
        let n = data.len() as u32;
        assert!(h.end <= n);
        for s in [h.method, h.target] {
            assert!(s.0 <= s.1 && s.1 <= h.end);
        }
        for f in &fields {
            assert!(f.name.1 <= f.value.0 && f.value.1 <= h.end);
        }
        assert!(!h.method.of(data).is_empty() && !h.target.of(data).is_empty());
    }
}

/// Decodes `data` as a chunked body fed in pieces whose sizes come from the first bytes.
pub fn chunked(data: &[u8]) {
    let (sizes, body) = data.split_at(data.len().min(8));
    let mut buf = body.to_vec();
    let mut d = Chunked::new(1 << 20);
    let (mut r, mut w, mut end) = (0, 0, 0);
    for s in sizes.iter().cycle().take(buf.len() + 1) {
        end = (end + 1 + *s as usize % 64).min(buf.len());
        match d.decode(&mut buf, &mut r, &mut w, end) {
            Ok(true) => {
                assert!(w <= r && r <= end && d.total() as usize == w);
                return;
            }
            Ok(false) => assert!(w <= r && r <= end),
            Err(e) => {
                assert!(e.status == 400 || e.status == 413 || e.status == 431);
                return;
            }
        }
        if end == buf.len() {
            return;
        }
    }
}

/// Drives one connection's state machine in memory: arbitrary bytes in, in pieces; every
/// framed request is "answered" at once. No request may be framed before it is complete, the
/// framed requests must come out in order, and a rejection ends the connection.
pub fn connection(data: &[u8]) {
    static SHARED: std::sync::OnceLock<(BufPool, Config)> = std::sync::OnceLock::new();
    let (pool, cfg) =
        SHARED.get_or_init(|| (BufPool::new(), Config { max_request_body: 100_000, ..Config::default() }));
    let mut c = Input::new();
    let (split, input) = data.split_at(data.len().min(1));
    let step = 1 + split.first().map_or(4096, |&b| b as usize * 37);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drive(&mut c, input, step, pool, cfg)));
    c.release(pool); // give the buffer back to the shared pool
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

fn drive(c: &mut Input, input: &[u8], step: usize, pool: &BufPool, cfg: &Config) {
    let mut fed = 0;
    let mut framed = 0u64;
    let mut served = 0u64;
    while fed < input.len() {
        let n = c.feed(&input[fed..(fed + step).min(input.len())], pool, cfg);
        fed += n;
        loop {
            match c.advance(pool, cfg, served) {
                Advance::Dispatch => {
                    for r in &c.batch {
                        framed += 1;
                        assert!(r.head.end as usize <= c.len && r.body.1 as usize <= c.len);
                        if let Framing::Length(len) = r.head.framing {
                            if r.rest.is_none() {
                                assert_eq!(r.body.len() as u64, len);
                            }
                        }
                        if r.rest.is_some() {
                            return; // a streamed body: the handler would read it from the socket
                        }
                    }
                    served += c.batch.len() as u64;
                    let closing = c.last || c.error.is_some();
                    c.error = None;
                    c.compact(pool);
                    if closing {
                        return;
                    }
                }
                Advance::Reject(e) => {
                    assert!((400..=505).contains(&e.status));
                    return;
                }
                Advance::Refuse(_) => return,
                Advance::NeedMore => break,
            }
        }
        if n == 0 {
            return; // buffer full and cannot grow: the parser has rejected by now or will
        }
    }
    assert!(framed <= input.len() as u64 / 16 + 1, "more requests than bytes allow");
}

/// Parses `data` as a PROXY protocol header, whole and cut short, and through a connection's
/// input fed in pieces (sized by the first byte) with the protocol on. A complete header must
/// read as "not enough yet" when cut anywhere before its end; input that is refused whole is
/// never accepted cut short; the connection must consume exactly the header, or refuse.
pub fn proxy(data: &[u8]) {
    static SHARED: std::sync::OnceLock<(BufPool, Config)> = std::sync::OnceLock::new();
    let (pool, cfg) = SHARED.get_or_init(|| (BufPool::new(), Config { proxy_protocol: true, ..Config::default() }));
    let (split, data) = data.split_at(data.len().min(1));
    let full = crate::proxy::parse::parse(data);
    let every = (data.len() / 64).max(1);
    match &full {
        Ok(Some((h, n))) => {
            assert!(*n <= data.len());
            assert_eq!(h.source().is_some(), h.destination().is_some());
            let tlv_bytes: usize = h.tlvs().map(|(_, v)| 3 + v.len()).sum();
            assert!(tlv_bytes <= *n);
            for cut in (0..*n).step_by(every).chain([n - 1]) {
                assert_eq!(crate::proxy::parse::parse(&data[..cut]), Ok(None), "cut at {cut} of {n}");
            }
        }
        Ok(None) => {}
        Err(_) => {
            for cut in (0..data.len()).step_by(every) {
                assert!(!matches!(crate::proxy::parse::parse(&data[..cut]), Ok(Some(_))), "accepted cut at {cut}");
            }
        }
    }
    let step = 1 + split.first().map_or(4096, |&b| b as usize % 64);
    let mut c = Input::new();
    c.reset();
    let mut fed = 0;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| loop {
        let n = c.feed(&data[fed..(fed + step).min(data.len())], pool, cfg);
        fed += n;
        let a = c.advance(pool, cfg, 0);
        if let Advance::Refuse(_) = a {
            assert!(full.is_err(), "refused a header parsed whole: {full:?}");
            return;
        }
        if !c.proxy_due {
            let (h, len) = full.clone().expect("accepted input refused whole").expect("accepted too early");
            assert_eq!(c.proxy.as_deref(), Some(&h));
            assert!(c.pos >= len || !c.batch.is_empty());
            return;
        }
        if n == 0 || fed == data.len() {
            assert!(matches!(full, Ok(None)), "{full:?} but the input still waits");
            return;
        }
    }));
    c.release(pool);
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

/// Parses `data` as a `multipart/form-data` body twice, fed in pieces of two sizes: the first
/// byte picks the boundary and the limits, the next two the piece sizes. Both passes must give
/// the same parts (or the same error); the parts' bytes cannot exceed the input's, and no part
/// may be longer than its limit allows.
pub fn multipart(data: &[u8]) {
    let (ctl, body) = data.split_at(data.len().min(3));
    let byte = |i: usize| ctl.get(i).copied().unwrap_or(0) as usize;
    let boundary = ["B", "AaB03x", "----WebKitFormBoundary7MA4YWxkTrZu0gW"][byte(0) % 3];
    let limits = if byte(0) & 4 == 0 {
        multipart::Limits::default()
    } else {
        let l = multipart::Limits::default().max_parts(3).max_part_header_bytes(64).max_field_bytes(16);
        l.max_file_bytes(100).max_total_bytes(1000)
    };
    let first = form(body, boundary, limits, 1 + byte(1) % 16, 1 + byte(2) % 7);
    let second = form(body, boundary, limits, 1 + byte(2) * 37, 4096);
    assert_eq!(first, second, "the answer depends on how the body is split");
    if let Ok(parts) = first {
        assert!(parts.iter().map(|p| p.2.len()).sum::<usize>() <= body.len());
        assert!(parts.len() <= limits.max_parts);
        for (_, filename, data) in &parts {
            let max = if filename.is_some() { limits.max_file_bytes } else { limits.max_field_bytes };
            assert!(data.len() as u64 <= max);
        }
    }
    if let Some(b) = std::str::from_utf8(body).ok().and_then(multipart::boundary) {
        assert!(!b.contains('"'), "a quote in the boundary {b:?}");
    }
}

/// One part as the fuzz target sees it: name, filename, body.
type FormPart = (String, Option<String>, Vec<u8>);

/// Parses `body` read `k` bytes at a time into reads of `out` bytes; errors as (status, message).
fn form(
    body: &[u8],
    boundary: &str,
    limits: multipart::Limits,
    k: usize,
    out: usize,
) -> Result<Vec<FormPart>, (u16, String)> {
    struct Pieces<'a>(&'a [u8], usize);
    impl std::io::Read for Pieces<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(out.len()).min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let answer = |e: &MultipartError| {
        assert!(e.status() == 400 || e.status() == 413, "status {}", e.status());
        (e.status(), e.to_string())
    };
    let mut form = Multipart::new(Pieces(body, k), boundary, limits).map_err(|e| answer(&e))?;
    let mut parts = Vec::new();
    let mut buf = vec![0; out];
    while let Some(mut part) = form.next_part().map_err(|e| answer(&e))? {
        let (name, filename) = (part.name().unwrap_or_default().to_owned(), part.filename().map(str::to_owned));
        let mut data = Vec::new();
        loop {
            match std::io::Read::read(&mut part, &mut buf) {
                Ok(0) => break,
                Ok(n) => data.extend_from_slice(&buf[..n]),
                Err(e) => {
                    let e = e.into_inner().and_then(|e| e.downcast::<MultipartError>().ok());
                    return Err(answer(&e.expect("a part's read error is a MultipartError")));
                }
            }
        }
        parts.push((name, filename, data));
    }
    Ok(parts)
}

/// Parses `data` as a response head, as the client does, then decodes the rest as the body its
/// framing says (a chunked one fed in pieces, as it arrives off a socket). The first byte picks
/// whether the request was HEAD, the head limits and the piece size. A complete head's spans
/// lie inside it and every prefix of it is incomplete, not an error; its framing agrees with
/// its status; a chunked body never yields more than it was given, and the trailer it keeps
/// parses as the field lines the client reads it as.
pub fn response(data: &[u8]) {
    let (ctl, input) = data.split_at(data.len().min(1));
    let ctl = ctl.first().copied().unwrap_or(0) as usize;
    let head_request = ctl & 1 == 1;
    let lim =
        ResponseLimits { max_head: [64, 256, 1024, 64 * 1024][(ctl >> 1) & 3], max_fields: [100, 3][(ctl >> 3) & 1] };
    let mut fields = Vec::new();
    let h = match parse_response(input, &lim, head_request, &mut fields) {
        Ok(Some(h)) => h,
        Ok(None) => {
            assert!(fields.is_empty() && input.len() <= lim.max_head);
            return;
        }
        Err(e) => {
            assert!(fields.is_empty() && (e.status == 400 || e.status == 431), "{e:?}");
            return;
        }
    };
    assert!(h.end <= input.len() && h.end <= lim.max_head && fields.len() <= lim.max_fields);
    assert!((100..1000).contains(&h.status) && h.minor <= 1);
    assert!(h.reason.0 <= h.reason.1 && h.reason.1 as usize <= h.end);
    for f in &fields {
        assert!(f.name.0 < f.name.1 && f.name.1 <= f.value.0 && f.value.0 <= f.value.1 && f.value.1 as usize <= h.end);
    }
    let cut = ctl * 131 % h.end;
    assert_eq!(parse_response(&input[..cut], &lim, head_request, &mut Vec::new()), Ok(None), "a prefix of {cut}");
    assert_eq!(parse_response(&input[..h.end], &lim, head_request, &mut Vec::new()), Ok(Some(h)));
    if head_request || h.status < 200 || h.status == 204 || h.status == 304 {
        assert_eq!(h.body, BodyKind::None);
    }
    match h.body {
        BodyKind::Close => assert!(!h.keep_alive),
        BodyKind::Length(n) => assert!(n > 0),
        BodyKind::Chunked => response_chunked(&input[h.end..], 1 + (ctl >> 4) * 17),
        BodyKind::None => {}
    }
}

/// Decodes a chunked response body as the client does: in the connection's buffer, `step`
/// more bytes at a time, each call's output taken before the next.
fn response_chunked(body: &[u8], step: usize) {
    let mut buf = body.to_vec();
    let mut dec = Chunked::new(u64::MAX).keeping_trailer(Vec::new());
    let (mut start, mut end, mut out) = (0, 0, 0usize);
    loop {
        end = (end + step).min(buf.len());
        let (mut r, mut w) = (start, start);
        match dec.decode(&mut buf, &mut r, &mut w, end) {
            Ok(done) => {
                assert!(start <= w && w <= r && r <= end);
                out += w - start;
                start = r;
                // `total` counts the chunk sizes declared so far, data not yet decoded included
                assert!(out as u64 <= dec.total() && out <= body.len());
                if done {
                    assert_eq!(out as u64, dec.total());
                    let trailer = dec.trailer().expect("kept");
                    let parsed = section_fields(trailer, &mut Vec::new());
                    assert_eq!(
                        parsed.map_err(|e| e.reason),
                        Ok(Some(trailer.len())),
                        "{:?}",
                        String::from_utf8_lossy(trailer)
                    );
                    return;
                }
            }
            Err(e) => {
                assert!(e.status == 400 || e.status == 413 || e.status == 431, "{e:?}");
                return;
            }
        }
        if end == buf.len() {
            return; // truncated: the client reports it when the connection ends
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn entry_points_run() {
        super::parse(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        super::chunked(b"\x01\x02\x03\x04\x05\x06\x07\x085\r\nhello\r\n0\r\n\r\n");
        let mut many = vec![7u8];
        for _ in 0..50 {
            many.extend_from_slice(
                b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            );
            many.extend_from_slice(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi");
        }
        super::connection(&many);
        super::connection(b"\x00GET / HTTP/1.1\r\nHost: a\r\n\r\nGARBAGE\r\n\r\n");
        super::proxy(b"\x00PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
        super::proxy(b"\x05PROXY UNKNOWN\r\n");
        super::proxy(b"\x01PROXY TCP4 1.2.3.4");
        super::proxy(b"\x02GET / HTTP/1.1\r\n\r\n");
        super::proxy(
            b"\x03\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0f\x01\x02\x03\x04\x05\x06\x07\x08\x00\x01\x00\x02\x04\x00\x00",
        );
        super::multipart(b"\x00\x05\x03--B\r\nContent-Disposition: form-data; name=a\r\n\r\nhi\r\n--B--");
        super::multipart(b"\x04\x01\x01--B\r\nContent-Disposition: form-data; name=a\r\n\r\n01234567890123456789");
        super::response(b"\x00HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        super::response(b"\x01HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
        super::response(b"\x00HTTP/1.1 204 No Content\r\n\r\n");
        super::response(b"\x00HTTP/1.0 200 OK\r\n\r\nuntil close");
        super::response(b"\x00HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
        super::response(b"\x00HTTP/2.0 200 OK\r\n\r\n");
        for ctl in [0x00, 0x20, 0xf0] {
            let mut chunked = vec![ctl];
            chunked.extend_from_slice(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n");
            chunked.extend_from_slice(b"0\r\nX-Checksum: abc\r\n\r\n");
            super::response(&chunked);
        }
    }
}
