//! HTTP compression over real sockets (features `compress`, and `brotli` where marked):
//! `Compress` responses decoded by independent decoders (flate2's and brotli's read side)
//! and by real clients (curl `--compressed`, Python `requests`, Go net/http); the header
//! rules (Vary, ETag, Content-Length, threshold, already encoded, no-transform, 206, HEAD,
//! 304); streamed responses flushed promptly; request bodies decoded with a limit (curl
//! uploading gzip, a zip bomb, malformed and unsupported codings). A test whose tool is
//! missing says "SKIP: …" and returns.

mod common;

use common::{have, Client as Raw, Resp};
use shockwave::compress::Compress;
use shockwave::middleware::wrap;
use shockwave::{Handler, Request, Response, Server, ServerHandle};
use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

/// A JSON-ish body of `n` bytes that compresses well but not absurdly.
fn json(n: usize) -> Vec<u8> {
    let mut s = String::from("[");
    let mut i = 0u64;
    while s.len() < n - 40 {
        s.push_str(&format!("{{\"id\":{i},\"name\":\"user{}\"}},", i * 7919 % 1000));
        i += 1;
    }
    s.push_str("{\"end\":true}]");
    while s.len() < n {
        s.push(' ');
    }
    s.into_bytes()
}

fn app(req: &Request, resp: &mut Response) {
    let body = json(100_000);
    match req.path() {
        "/json" => {
            resp.set_content_type("application/json");
            resp.set_header("ETag", "\"v1\"");
            resp.write_body(&body);
        }
        "/vary" => {
            resp.set_content_type("text/html");
            resp.set_header("Vary", "Cookie");
            resp.write_body(&body);
        }
        "/vary-ae" => {
            resp.set_content_type("text/html");
            resp.set_header("Vary", "accept-encoding");
            resp.write_body(&body);
        }
        "/small" => {
            resp.set_content_type("text/plain");
            resp.write_body("short");
        }
        "/png" => {
            resp.set_content_type("image/png");
            resp.write_body(&body);
        }
        "/encoded" => {
            resp.set_content_type("text/plain");
            resp.set_header("Content-Encoding", "gzip");
            resp.write_body(b"\x1f\x8b pretend");
        }
        "/no-transform" => {
            resp.set_content_type("text/plain");
            resp.set_header("Cache-Control", "public, no-transform");
            resp.write_body(&body);
        }
        "/partial" => {
            resp.set_status(206);
            resp.set_content_type("text/plain");
            resp.set_header("Content-Range", "bytes 0-1999/100000");
            resp.write_body(&body[..2000]);
        }
        "/304" => {
            resp.set_status(304);
            resp.set_header("ETag", "\"v1\"");
        }
        "/stream" => {
            resp.set_content_type("text/plain");
            for i in 0..2000 {
                if writeln!(resp, "line {i} of a streamed response, compressed on the fly").is_err() {
                    return;
                }
            }
        }
        "/upload" => match req.decoded_body(1 << 20) {
            Ok(b) => {
                resp.write_body(format!("{} bytes, sum {}", b.len(), b.iter().map(|&x| u64::from(x)).sum::<u64>()))
            }
            Err(e) => {
                resp.set_status(e.status());
                resp.write_body(e.to_string());
            }
        },
        _ => resp.set_status(404),
    }
}

fn start(handler: impl Handler) -> ServerHandle {
    Server::builder().pollers(1).workers(2).bind("127.0.0.1:0").unwrap().start_handler(handler).unwrap()
}

fn server() -> ServerHandle {
    start(wrap(app, Compress::new()))
}

fn get(s: &ServerHandle, method: &str, path: &str, ae: Option<&str>) -> Resp {
    let mut c = Raw::connect(s.local_addr());
    let ae = ae.map(|v| format!("Accept-Encoding: {v}\r\n")).unwrap_or_default();
    c.send(format!("{method} {path} HTTP/1.1\r\nHost: t\r\n{ae}\r\n").as_bytes());
    c.read_response_within(method == "HEAD", Duration::from_secs(10)).expect("a response")
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b).read_to_end(&mut out).expect("valid gzip");
    out
}

#[test]
fn buffered_gzip_and_deflate_decode_and_fix_up_headers() {
    let s = server();
    let r = get(&s, "GET", "/json", Some("gzip"));
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(r.header("vary"), Some("Accept-Encoding"));
    assert_eq!(r.header("etag"), Some("W/\"v1\""), "a strong ETag is made weak");
    assert_eq!(r.header("content-length"), Some(r.body.len().to_string().as_str()));
    assert!(r.body.len() < 40_000, "{} bytes", r.body.len());
    assert_eq!(gunzip(&r.body), json(100_000));

    let r = get(&s, "GET", "/json", Some("deflate"));
    assert_eq!(r.header("content-encoding"), Some("deflate"));
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(&r.body[..]).read_to_end(&mut out).unwrap();
    assert_eq!(out, json(100_000));

    // q-values: gzip refused, deflate acceptable
    let r = get(&s, "GET", "/json", Some("gzip;q=0, deflate;q=0.5"));
    assert_eq!(r.header("content-encoding"), Some("deflate"));
    s.shutdown();
}

#[cfg(feature = "brotli")]
#[test]
fn buffered_brotli_is_preferred_and_decodes() {
    let s = server();
    let r = get(&s, "GET", "/json", Some("gzip, deflate, br"));
    assert_eq!(r.header("content-encoding"), Some("br"));
    let mut out = Vec::new();
    brotli::Decompressor::new(&r.body[..], 4096).read_to_end(&mut out).unwrap();
    assert_eq!(out, json(100_000));
    s.shutdown();
}

#[test]
fn identity_when_not_accepted_still_varies() {
    let s = server();
    for ae in [None, Some("identity"), Some("gzip;q=0, br;q=0, deflate;q=0"), Some("*;q=0"), Some("zstd")] {
        let r = get(&s, "GET", "/json", ae);
        assert_eq!(r.header("content-encoding"), None, "{ae:?}");
        assert_eq!(r.header("vary"), Some("Accept-Encoding"), "{ae:?}");
        assert_eq!(r.header("etag"), Some("\"v1\""), "{ae:?}");
        assert_eq!(r.body, json(100_000));
    }
    s.shutdown();
}

#[test]
fn vary_is_appended_never_duplicated() {
    let s = server();
    let r = get(&s, "GET", "/vary", Some("gzip"));
    assert_eq!(r.header("vary"), Some("Cookie, Accept-Encoding"));
    let r = get(&s, "GET", "/vary-ae", Some("gzip"));
    assert_eq!(r.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("vary")).count(), 1);
    assert_eq!(r.header("vary"), Some("accept-encoding"));
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    s.shutdown();
}

#[test]
fn left_alone_small_incompressible_encoded_no_transform_partial() {
    let s = server();
    for path in ["/small", "/png", "/encoded", "/no-transform", "/partial"] {
        let plain = get(&s, "GET", path, None);
        let r = get(&s, "GET", path, Some("gzip, br"));
        assert_eq!(r.status, plain.status, "{path}");
        assert_eq!(r.body, plain.body, "{path}");
        assert_eq!(r.header("vary"), None, "{path}");
        let ce = if path == "/encoded" { Some("gzip") } else { None };
        assert_eq!(r.header("content-encoding"), ce, "{path}");
    }
    s.shutdown();
}

#[test]
fn head_gets_the_get_headers_without_a_length_and_304_varies() {
    let s = server();
    let r = get(&s, "HEAD", "/json", Some("gzip"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(r.header("vary"), Some("Accept-Encoding"));
    assert_eq!(r.header("etag"), Some("W/\"v1\""));
    assert_eq!((r.header("content-length"), r.header("transfer-encoding")), (None, None));
    // the connection is still in step: a GET after the HEAD on it
    let mut c = Raw::connect(s.local_addr());
    c.send(b"HEAD /json HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\nGET /small HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(c.read_response_within(true, Duration::from_secs(10)).unwrap().body.is_empty());
    assert_eq!(c.read_response().text(), "short");

    let r = get(&s, "HEAD", "/json", None);
    assert_eq!((r.header("content-encoding"), r.header("content-length")), (None, Some("100000")));
    let r = get(&s, "GET", "/304", Some("gzip"));
    assert_eq!((r.status, r.header("vary"), r.header("content-encoding")), (304, Some("Accept-Encoding"), None));
    s.shutdown();
}

#[test]
fn streamed_response_is_compressed_chunk_by_chunk() {
    let s = server();
    let r = get(&s, "GET", "/stream", Some("gzip"));
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    let want: String = (0..2000).map(|i| format!("line {i} of a streamed response, compressed on the fly\n")).collect();
    assert_eq!(String::from_utf8(gunzip(&r.body)).unwrap(), want);
    s.shutdown();
}

/// Events written with a flush in between arrive decodable before the next is written: the
/// handler waits for the test to have decoded the first.
#[test]
fn flush_flushes_the_encoder_for_server_sent_events() {
    let (tx, rx) = crossbeam::channel::bounded::<()>(1);
    let events = move |_req: &Request, resp: &mut Response| {
        resp.set_content_type("text/event-stream");
        let _ = resp.write_all(b"data: first\n\n");
        let _ = resp.flush();
        let _ = rx.recv_timeout(Duration::from_secs(10));
        let _ = resp.write_all(b"data: second\n\n");
    };
    let s = start(wrap(events, Compress::new().gzip(true).br(false)));
    let mut c = Raw::connect(s.local_addr());
    c.send(b"GET /events HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n");
    let mut dec = flate2::write::GzDecoder::new(Vec::new());
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    c.stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    // de-chunk by hand what has arrived until "first" decodes
    let mut body_at = None;
    let mut fed = 0;
    while !String::from_utf8_lossy(dec.get_ref()).contains("data: first") {
        assert!(
            std::time::Instant::now() < deadline,
            "the first event never decoded: {:?}",
            String::from_utf8_lossy(&raw)
        );
        let n = c.stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed early");
        raw.extend_from_slice(&buf[..n]);
        if body_at.is_none() {
            body_at = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
            fed = body_at.unwrap_or(0);
        }
        while let Some(at) = body_at.filter(|_| fed < raw.len()) {
            let _ = at;
            let Some(le) = raw[fed..].windows(2).position(|w| w == b"\r\n") else { break };
            let size = usize::from_str_radix(std::str::from_utf8(&raw[fed..fed + le]).unwrap(), 16).unwrap();
            if raw.len() < fed + le + 2 + size + 2 {
                break;
            }
            dec.write_all(&raw[fed + le + 2..fed + le + 2 + size]).unwrap();
            dec.flush().unwrap();
            fed += le + 2 + size + 2;
        }
    }
    assert!(!String::from_utf8_lossy(dec.get_ref()).contains("second"));
    tx.send(()).unwrap();
    s.shutdown();
}

#[test]
fn request_bodies_decoded_with_a_limit() {
    let s = start(wrap(app, Compress::new().decode_requests(true)));
    let post = |headers: &str, body: &[u8]| {
        let mut c = Raw::connect(s.local_addr());
        c.send(
            format!("POST /upload HTTP/1.1\r\nHost: t\r\n{headers}Content-Length: {}\r\n\r\n", body.len()).as_bytes(),
        );
        let _ = c.try_send(body);
        c.read_response_within(false, Duration::from_secs(20)).expect("a response")
    };
    let data = json(300_000);
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&data).unwrap();
    let z = z.finish().unwrap();
    let want = format!("{} bytes, sum {}", data.len(), data.iter().map(|&x| u64::from(x)).sum::<u64>());
    assert_eq!(post("Content-Encoding: gzip\r\n", &z).text(), want);
    assert_eq!(post("", &data).text(), want);

    // a zip bomb: 100 MB of zeros in ~100 KB, against a 1 MiB limit
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..100 {
        bomb.write_all(&zeros).unwrap();
    }
    let bomb = bomb.finish().unwrap();
    let r = post("Content-Encoding: gzip\r\n", &bomb);
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.text().contains("over the limit of 1048576 bytes"), "{}", r.text());

    let r = post("Content-Encoding: gzip\r\n", b"this is not gzip at all");
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("malformed gzip body"), "{}", r.text());

    let r = post("Content-Encoding: zstd\r\n", b"(zstd)");
    assert_eq!(r.status, 415, "{}", r.text());
    assert!(r.header("accept-encoding").unwrap().contains("gzip"));
    let r = post("Content-Encoding: gzip, gzip\r\n", &z);
    assert_eq!(r.status, 415, "{}", r.text());
    s.shutdown();
}

/// `curl` with `args`: (headers, body).
fn curl(args: &[&str]) -> (String, Vec<u8>) {
    let out = Command::new("curl").args(["-sS", "--max-time", "20", "-D", "/dev/stderr"]).args(args).output().unwrap();
    assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8_lossy(&out.stderr).to_ascii_lowercase(), out.stdout)
}

#[test]
fn curl_compressed_decodes_gzip_and_brotli() {
    if !have("curl", "--version") {
        println!("SKIP: curl not installed");
        return;
    }
    let s = server();
    let base = format!("http://{}", s.local_addr());
    let want = json(100_000);
    let stream_want: String =
        (0..2000).map(|i| format!("line {i} of a streamed response, compressed on the fly\n")).collect();
    let (h, body) = curl(&["--compressed", "-H", "Accept-Encoding: gzip", &format!("{base}/json")]);
    assert!(h.contains("content-encoding: gzip"), "{h}");
    assert_eq!(body, want);
    let (h, body) = curl(&["--compressed", "-H", "Accept-Encoding: gzip", &format!("{base}/stream")]);
    assert!(h.contains("content-encoding: gzip") && h.contains("chunked"), "{h}");
    assert_eq!(String::from_utf8(body).unwrap(), stream_want);
    let curl_br = String::from_utf8_lossy(&Command::new("curl").arg("-V").output().unwrap().stdout).contains("brotli");
    if cfg!(feature = "brotli") && curl_br {
        let (h, body) = curl(&["--compressed", &format!("{base}/json")]);
        assert!(h.contains("content-encoding: br"), "{h}");
        assert_eq!(body, want);
        let (h, body) = curl(&["--compressed", &format!("{base}/stream")]);
        assert!(h.contains("content-encoding: br"), "{h}");
        assert_eq!(String::from_utf8(body).unwrap(), stream_want);
    } else {
        println!("SKIP: brotli with curl (feature brotli off, or this curl lacks brotli)");
    }
    // a gzip upload from a file
    let dir = std::env::temp_dir().join(format!("shockwave-compress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("body.gz");
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&want).unwrap();
    std::fs::write(&file, z.finish().unwrap()).unwrap();
    let (_, body) = curl(&[
        "--data-binary",
        &format!("@{}", file.display()),
        "-H",
        "Content-Encoding: gzip",
        "-H",
        "Content-Type: application/json",
        &format!("{base}/upload"),
    ]);
    let sum: u64 = want.iter().map(|&x| u64::from(x)).sum();
    assert_eq!(String::from_utf8_lossy(&body), format!("{} bytes, sum {sum}", want.len()));
    let _ = std::fs::remove_dir_all(&dir);
    s.shutdown();
}

#[test]
fn python_requests_decodes() {
    if Command::new("python3").args(["-c", "import requests"]).output().map_or(true, |o| !o.status.success()) {
        println!("SKIP: python3 with requests not installed (scripts/test.sh installs it)");
        return;
    }
    let s = server();
    let script = r#"
import sys, requests
base = sys.argv[1]
r = requests.get(base + "/json")  # sends Accept-Encoding: gzip, deflate (and br with brotli installed)
enc = r.headers.get("content-encoding")
assert enc in ("gzip", "br"), r.headers
assert r.headers["vary"] == "Accept-Encoding", r.headers
assert len(r.content) == 100000 and r.content.endswith(b'{"end":true}]' + b' ' * (100000 - len(r.content.rstrip()))), len(r.content)
r = requests.get(base + "/json", headers={"Accept-Encoding": "deflate"})
assert r.headers["content-encoding"] == "deflate" and len(r.content) == 100000, r.headers
r = requests.get(base + "/stream", headers={"Accept-Encoding": "gzip"}, stream=True)
lines = [l for l in r.iter_lines()]
assert r.headers["content-encoding"] == "gzip" and len(lines) == 2000 and lines[1999] == b"line 1999 of a streamed response, compressed on the fly", lines[-1:]
print("ok", enc)
"#;
    let out = Command::new("python3").args(["-c", script, &format!("http://{}", s.local_addr())]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok"), "{}", String::from_utf8_lossy(&out.stderr));
    println!("python requests: {}", String::from_utf8_lossy(&out.stdout).trim());
    s.shutdown();
}

#[test]
fn go_net_http_client_decodes_gzip_transparently() {
    let s = server();
    let Some(out) = common::go_run("tests/go/compress/client.go", &[&format!("http://{}", s.local_addr())]) else {
        return;
    };
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok", "{}", String::from_utf8_lossy(&out.stderr));
    s.shutdown();
}

// ---- the client's transparent decoding, against the Shockwave server ----

#[test]
fn client_decodes_buffered_streamed_and_send_into() {
    let s = server();
    let base = format!("http://{}", s.local_addr());
    let client = shockwave::Client::new();
    let resp = client.get(&format!("{base}/json")).unwrap();
    assert_eq!(resp.header("vary"), Some("Accept-Encoding"));
    assert_eq!((resp.header("content-encoding"), resp.content_length()), (None, None), "coding fields removed");
    assert!(resp.bytes().unwrap() == json(100_000));

    let mut resp = client.get(&format!("{base}/stream")).unwrap();
    let mut text = String::new();
    resp.read_to_string(&mut text).unwrap();
    assert_eq!(text.lines().count(), 2000);
    assert_eq!(text.lines().nth(1999), Some("line 1999 of a streamed response, compressed on the fly"));

    let mut into = shockwave::client::Response::default();
    let req = shockwave::client::Request::get(&format!("{base}/json")).unwrap();
    for _ in 0..3 {
        client.send_into(&req, &mut into).unwrap();
        assert!(into.body() == json(100_000));
    }
    // HEAD: nothing to decode, the connection stays in step
    let head = client.head(&format!("{base}/json")).unwrap();
    assert_eq!(head.status(), 200);
    drop(head);
    assert!(client.get(&format!("{base}/json")).unwrap().bytes().unwrap() == json(100_000));
    s.shutdown();
}

#[test]
fn client_leaves_the_body_alone_when_asked_or_opted_out() {
    let s = server();
    let url = format!("http://{}/json", s.local_addr());
    // the caller's own Accept-Encoding: the body as sent
    let req = shockwave::client::Request::get(&url).unwrap().header("Accept-Encoding", "gzip");
    let resp = shockwave::Client::new().send(&req).unwrap();
    assert_eq!(resp.header("content-encoding"), Some("gzip"));
    let len = resp.content_length();
    let raw = resp.bytes().unwrap();
    assert_eq!(len, Some(raw.len() as u64));
    assert!(gunzip(&raw) == json(100_000));
    // decompress(false): nothing asked for, identity back
    let resp = shockwave::Client::builder().decompress(false).build().get(&url).unwrap();
    assert_eq!((resp.header("content-encoding"), resp.content_length()), (None, Some(100_000)));
    s.shutdown();
}

#[test]
fn client_decoded_size_is_limited_by_max_response_body() {
    let zeros = |_req: &Request, resp: &mut Response| {
        resp.set_content_type("text/plain");
        resp.write_body(vec![b'0'; 20 << 20]);
    };
    let s = start(wrap(zeros, Compress::new().level(1)));
    let client = shockwave::Client::builder().max_response_body(1 << 20).build();
    let err = client.get(&format!("http://{}/", s.local_addr())).unwrap().bytes().unwrap_err();
    assert_eq!(err.kind(), shockwave::client::Kind::TooLarge, "{err}");
    assert!(err.to_string().contains("over the limit of 1048576 bytes"), "{err}");
    s.shutdown();
}

/// A large compressed stream is read as it arrives: the handler writes its second half only
/// after the client has read (decoded) the first.
#[test]
fn client_streams_a_large_compressed_response() {
    let (tx, rx) = crossbeam::channel::bounded::<()>(1);
    let big = move |_req: &Request, resp: &mut Response| {
        resp.set_content_type("text/plain");
        let line = [b'x'; 1023];
        for half in 0..2 {
            for _ in 0..16 * 1024 {
                // 16 MiB per half
                if resp.write_all(&line).and_then(|()| resp.write_all(b"\n")).is_err() {
                    return;
                }
            }
            let _ = resp.flush();
            if half == 0 {
                let _ = rx.recv_timeout(Duration::from_secs(20));
            }
        }
    };
    let s = start(wrap(big, Compress::new().level(1)));
    let mut resp = shockwave::Client::new().get(&format!("http://{}/", s.local_addr())).unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    let mut signalled = false;
    loop {
        let n = resp.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        assert!(buf[..n].iter().all(|&b| b == b'x' || b == b'\n'));
        total += n as u64;
        if !signalled && total >= 16 << 20 {
            signalled = true;
            tx.send(()).unwrap();
        }
    }
    assert_eq!(total, 32 << 20);
    s.shutdown();
}
