//! Static files over real sockets: content types, index files, 404/405, a table of path
//! traversal attempts sent as raw bytes (and by `curl --path-as-is`), symlinks out of the
//! root, validators and every conditional header with RFC 9110's precedence, ranges (single,
//! suffix, open, multipart parsed back, 416, If-Range), HEAD, precompressed siblings, large
//! files through `sendfile` and through the buffered path, a slow reader under the write
//! timeout, clients that abort (no fd leaks), keep-alive and pipelining after a file, and
//! memory while a 1 GiB file goes to a slow reader. Real clients: curl, Python `requests`,
//! Go's net/http.
#![cfg(all(feature = "fs", feature = "router", feature = "internals"))]

mod common;

use common::{exchange, vm_hwm_kib, Client, Resp};
use shockwave::fs::Dir;
use shockwave::{Router, Server, ServerHandle};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const BIG: usize = 3 << 20;
const SECRET: &str = "TOP-SECRET-OUTSIDE-THE-ROOT";

/// Deterministic bytes, so any misplaced range shows.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8 ^ (i >> 13) as u8).collect()
}

/// A fresh tree: `<base>/root` (served) and `<base>/outside` (must never be reachable).
struct Tree {
    base: PathBuf,
    root: PathBuf,
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

fn tree(name: &str) -> Tree {
    let base = std::env::temp_dir().join(format!("shockwave-fs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let root = base.join("root");
    for d in ["sub", "nodir", "outside"] {
        let p = if d == "outside" { base.join(d) } else { root.join(d) };
        std::fs::create_dir_all(p).unwrap();
    }
    let w = |p: &str, data: &[u8]| std::fs::write(root.join(p), data).unwrap();
    w("index.html", b"<h1>home</h1>");
    w("a.txt", b"hello, file\n");
    w("style.css", b"body{color:red}");
    w("logo.png", b"\x89PNG\r\n\x1a\nfake");
    w("data.json", b"{\"a\":1}");
    w("sub/index.html", b"sub index");
    w("sub/x y.txt", b"spaced");
    w("big.bin", &pattern(BIG));
    w("app.js", b"console.log('plain')");
    w("app.js.br", b"BROTLI-BYTES");
    w("app.js.gz", b"GZIP-BYTES");
    w("empty.txt", b"");
    std::fs::write(base.join("outside/secret.txt"), SECRET).unwrap();
    std::fs::write(base.join("outside/secret.txt.gz"), SECRET).unwrap();
    std::os::unix::fs::symlink(base.join("outside/secret.txt"), root.join("link-out")).unwrap();
    std::os::unix::fs::symlink(base.join("outside"), root.join("dir-out")).unwrap();
    std::os::unix::fs::symlink("a.txt", root.join("link-in")).unwrap();
    // absolute links back inside: refused by openat2's RESOLVE_BENEATH, so these take the
    // canonicalize-and-check path, which allows them
    std::os::unix::fs::symlink(root.join("style.css"), root.join("abs-in.css")).unwrap();
    std::os::unix::fs::symlink(root.join("sub"), root.join("abs-dir")).unwrap();
    // a file inside whose precompressed sibling is a link out of the root
    w("leak.txt", b"inside");
    std::os::unix::fs::symlink(base.join("outside/secret.txt.gz"), root.join("leak.txt.gz")).unwrap();
    Tree { base, root }
}

fn start(dir: Dir, write_timeout: Duration) -> ServerHandle {
    Server::builder()
        .pollers(1)
        .workers(2)
        .write_timeout(write_timeout)
        .bind("127.0.0.1:0")
        .unwrap()
        .start_handler(dir)
        .unwrap()
}

fn serve(t: &Tree) -> ServerHandle {
    start(Dir::new(&t.root).precompressed(true).cache_control("public, max-age=60"), Duration::from_secs(10))
}

fn one(addr: SocketAddr, raw: &str) -> Resp {
    let (mut r, _) = exchange(addr, raw.as_bytes(), 1);
    r.pop().unwrap_or_else(|| panic!("no response to {raw:?}"))
}

fn get_with(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Resp {
    let mut raw = format!("GET {path} HTTP/1.1\r\nHost: t\r\n");
    for (n, v) in headers {
        raw.push_str(&format!("{n}: {v}\r\n"));
    }
    raw.push_str("\r\n");
    one(addr, &raw)
}

#[test]
fn content_types_index_files_404_and_405() {
    let t = tree("basic");
    let s = serve(&t);
    let a = s.local_addr();
    for (path, status, ctype, body) in [
        ("/a.txt", 200, "text/plain; charset=utf-8", &b"hello, file\n"[..]),
        ("/style.css", 200, "text/css; charset=utf-8", b"body{color:red}"),
        ("/logo.png", 200, "image/png", b"\x89PNG\r\n\x1a\nfake"),
        ("/data.json", 200, "application/json", b"{\"a\":1}"),
        ("/", 200, "text/html; charset=utf-8", b"<h1>home</h1>"),
        ("/sub/", 200, "text/html; charset=utf-8", b"sub index"),
        ("/sub/x%20y.txt", 200, "text/plain; charset=utf-8", b"spaced"),
        ("/link-in", 200, "application/octet-stream", b"hello, file\n"), // a link inside: followed
        ("/abs-in.css", 200, "text/css; charset=utf-8", b"body{color:red}"),
        ("/abs-dir/", 200, "text/html; charset=utf-8", b"sub index"),
        ("/abs-dir/x%20y.txt", 200, "text/plain; charset=utf-8", b"spaced"),
        ("/empty.txt", 200, "text/plain; charset=utf-8", b""),
    ] {
        let r = get_with(a, path, &[]);
        assert_eq!((r.status, r.header("content-type"), r.body.as_slice()), (status, Some(ctype), body), "{path}");
        assert_eq!(r.header("accept-ranges"), Some("bytes"), "{path}");
        assert_eq!(r.header("cache-control"), Some("public, max-age=60"), "{path}");
        assert!(r.header("etag").is_some_and(|e| e.starts_with('"')) && r.header("last-modified").is_some());
    }
    let r = get_with(a, "/sub?x=1", &[]);
    assert_eq!((r.status, r.header("location")), (301, Some("/sub/?x=1")));
    assert_eq!(get_with(a, "/abs-dir", &[]).header("location"), Some("/abs-dir/"));
    for path in ["/missing", "/nodir/", "/a.txt/", "/sub/missing.txt"] {
        assert_eq!(get_with(a, path, &[]).status, 404, "{path}");
    }
    for m in ["POST", "PUT", "DELETE", "OPTIONS"] {
        let r = one(a, &format!("{m} /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"));
        assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD")), "{m}");
    }
    // HEAD: the same head, no body, and the connection goes on
    let mut c = Client::connect(a);
    c.send(b"HEAD /big.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    let h = c.read_response_within(true, Duration::from_secs(10)).unwrap();
    let g = get_with(a, "/big.bin", &[]);
    assert_eq!(h.status, 200);
    for name in ["content-length", "content-type", "etag", "last-modified", "accept-ranges"] {
        assert_eq!(h.header(name), g.header(name), "{name}");
    }
    assert_eq!(h.header("content-length"), Some(BIG.to_string().as_str()));
    assert_eq!(c.read_response().text(), "hello, file\n");
    s.shutdown();
}

/// Raw request targets that try to leave the root: none may reach the secret. 404 for every
/// traversal attempt; 400 where the server's own parser refuses the target first (a raw
/// backslash or control byte), or for a malformed `%` escape.
#[test]
fn path_traversal_table_over_raw_sockets() {
    let t = tree("traversal");
    let s = serve(&t);
    let a = s.local_addr();
    let table: &[(&str, &[u16])] = &[
        ("/../outside/secret.txt", &[404]),
        ("/../../../../../../etc/passwd", &[404]),
        ("/sub/../../outside/secret.txt", &[404]),
        ("/%2e%2e/outside/secret.txt", &[404]),
        ("/%2E%2E/%2E%2E/etc/passwd", &[404]),
        ("/.%2e/outside/secret.txt", &[404]),
        ("/..%2foutside%2fsecret.txt", &[404]),
        ("/sub%2f..%2f..%2foutside%2fsecret.txt", &[404]),
        ("/..%5coutside%5csecret.txt", &[404]),
        ("/..\\outside\\secret.txt", &[400, 404]),
        ("/%00../outside/secret.txt", &[404]),
        ("/a.txt%00.png", &[404]),
        ("//etc/passwd", &[404]),
        ("//../outside/secret.txt", &[404]),
        ("/C:/Windows/win.ini", &[404]),
        ("/c:%5cboot.ini", &[404]),
        ("/%252e%252e/outside/secret.txt", &[404]), // decoded once: a name, `%2e%2e`
        ("/link-out", &[404]),                      // a symlink out of the root
        ("/dir-out/secret.txt", &[404]),            // a directory symlink out of it
        ("/leak.txt.gz", &[404]),
        ("/%zz", &[400]),
    ];
    for (target, statuses) in table {
        let mut c = TcpStream::connect(a).unwrap();
        c.write_all(format!("GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
        let mut got = Vec::new();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = c.read_to_end(&mut got);
        let text = String::from_utf8_lossy(&got);
        let status: u16 = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        assert!(statuses.contains(&status), "{target}: {text}");
        assert!(!text.contains(SECRET), "{target} leaked the secret: {text}");
    }
    // a precompressed sibling that links out is not served either
    let r = get_with(a, "/leak.txt", &[("Accept-Encoding", "gzip")]);
    assert_eq!((r.text(), r.header("content-encoding")), ("inside".to_string(), None));
    // and curl, told not to normalise
    if !has("curl") {
        println!("SKIP: curl is not installed");
        return s.shutdown();
    }
    for target in ["/../outside/secret.txt", "/%2e%2e/outside/secret.txt", "/..%2foutside%2fsecret.txt", "/link-out"] {
        let out = Command::new("curl")
            .args(["-s", "--path-as-is", "-o", "-", "-w", "\n%{http_code}", &format!("http://{a}{target}")])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.ends_with("\n404") && !text.contains(SECRET), "curl {target}: {text}");
    }
    s.shutdown();
}

#[test]
fn validators_and_every_conditional_header() {
    let t = tree("conditional");
    let s = serve(&t);
    let a = s.local_addr();
    let first = get_with(a, "/a.txt", &[]);
    let etag = first.header("etag").unwrap().to_string();
    let lm = first.header("last-modified").unwrap().to_string();
    let weak = format!("W/{etag}");
    let old = "Sun, 06 Nov 1994 08:49:37 GMT";
    let future = "Fri, 01 Jan 2100 00:00:00 GMT";
    let table: &[(&[(&str, &str)], u16)] = &[
        (&[("If-None-Match", &etag)], 304),
        (&[("If-None-Match", &weak)], 304), // weak comparison
        (&[("If-None-Match", &format!("\"other\", {etag}"))], 304),
        (&[("If-None-Match", "\"other\"")], 200),
        (&[("If-Modified-Since", &lm)], 304),
        (&[("If-Modified-Since", future)], 304),
        (&[("If-Modified-Since", old)], 200),
        (&[("If-Modified-Since", "garbage")], 200),
        (&[("If-Match", &etag)], 200),
        (&[("If-Match", "*")], 200),
        (&[("If-Match", &weak)], 412), // strong comparison
        (&[("If-Match", "\"other\"")], 412),
        (&[("If-Unmodified-Since", &lm)], 200),
        (&[("If-Unmodified-Since", old)], 412),
        // precedence (RFC 9110 §13.2.2)
        (&[("If-Match", "\"other\""), ("If-None-Match", &etag)], 412),
        (&[("If-Match", &etag), ("If-Unmodified-Since", old)], 200), // If-Match wins
        (&[("If-None-Match", "\"other\""), ("If-Modified-Since", &lm)], 200), // IMS ignored
        (&[("If-None-Match", &etag), ("If-Modified-Since", old)], 304),
        (&[("If-Unmodified-Since", old), ("If-None-Match", &etag)], 412),
    ];
    for (headers, status) in table {
        let r = get_with(a, "/a.txt", headers);
        assert_eq!(r.status, *status, "{headers:?}");
        if r.status == 304 {
            assert!(r.body.is_empty() && r.header("content-length").is_none(), "{headers:?}");
            assert_eq!(
                (r.header("etag"), r.header("cache-control")),
                (Some(etag.as_str()), Some("public, max-age=60"))
            );
        }
    }
    // HEAD revalidates too; another method gets 405 before any precondition
    let r = one(a, &format!("HEAD /a.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: {etag}\r\n\r\n"));
    assert_eq!(r.status, 304);
    // a rewritten file gets a new tag
    std::thread::sleep(Duration::from_millis(20)); // mtime granularity, not synchronisation
    std::fs::write(t.root.join("a.txt"), b"changed!").unwrap();
    let r = get_with(a, "/a.txt", &[("If-None-Match", &etag)]);
    assert_eq!((r.status, r.text().as_str()), (200, "changed!"));
    assert_ne!(r.header("etag"), Some(etag.as_str()));
    s.shutdown();
}

/// The parts of a multipart/byteranges body: `(Content-Range, bytes)`.
fn multipart(r: &Resp) -> Vec<(String, Vec<u8>)> {
    let ct = r.header("content-type").unwrap();
    let boundary = ct.strip_prefix("multipart/byteranges; boundary=").unwrap_or_else(|| panic!("{ct}"));
    let delim = format!("--{boundary}");
    let body = &r.body;
    let find = |from: usize, pat: &[u8]| body[from..].windows(pat.len()).position(|w| w == pat).map(|p| p + from);
    let mut parts = Vec::new();
    let mut at = find(0, delim.as_bytes()).unwrap();
    loop {
        let after = at + delim.len();
        if body[after..].starts_with(b"--") {
            assert_eq!(&body[after..], b"--\r\n", "closing delimiter");
            return parts;
        }
        let head_end = find(after, b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&body[after + 2..head_end]).to_string();
        let range = head.lines().find_map(|l| l.strip_prefix("Content-Range: ")).unwrap().to_string();
        let (a, b) = range.strip_prefix("bytes ").unwrap().split('/').next().unwrap().split_once('-').unwrap();
        let (a, b): (usize, usize) = (a.parse().unwrap(), b.parse().unwrap());
        let data = body[head_end + 4..head_end + 4 + b - a + 1].to_vec();
        let next = head_end + 4 + data.len();
        assert!(body[next..].starts_with(format!("\r\n{delim}").as_bytes()), "part ends with CRLF + delimiter");
        parts.push((range, data));
        at = next + 2;
    }
}

#[test]
fn ranges_single_suffix_open_multipart_416_and_if_range() {
    let t = tree("ranges");
    let s = serve(&t);
    let a = s.local_addr();
    let big = pattern(BIG);
    let n = BIG;
    for (range, first, last) in [
        ("bytes=0-9", 0, 9),
        ("bytes=-500", n - 500, n - 1),
        ("bytes=500-", 500, n - 1),
        ("bytes=1000000-1999999", 1_000_000, 1_999_999),
        ("bytes=100-99999999", 100, n - 1),
    ] {
        let r = get_with(a, "/big.bin", &[("Range", range)]);
        assert_eq!(r.status, 206, "{range}");
        assert_eq!(r.header("content-range"), Some(format!("bytes {first}-{last}/{n}").as_str()), "{range}");
        assert!(r.body == big[first..=last], "{range}: wrong bytes");
    }
    // several ranges: multipart/byteranges, parsed back
    let r = get_with(a, "/big.bin", &[("Range", "bytes=0-99, 2000000-2000009, -10")]);
    assert_eq!(r.status, 206);
    let parts = multipart(&r);
    assert_eq!(parts.len(), 3);
    for ((range, data), (x, y)) in parts.iter().zip([(0, 99), (2_000_000, 2_000_009), (n - 10, n - 1)]) {
        assert_eq!(range, &format!("bytes {x}-{y}/{n}"));
        assert!(data == &big[x..=y], "{range}");
    }
    assert_eq!(r.header("content-length").unwrap().parse::<usize>().unwrap(), r.body.len());
    // overlapping ranges are merged into one
    let r = get_with(a, "/big.bin", &[("Range", "bytes=0-99,50-149")]);
    assert_eq!((r.status, r.header("content-range")), (206, Some(format!("bytes 0-149/{n}").as_str())));
    // too many ranges: the whole file
    let many: Vec<String> = (0..17).map(|i| format!("{}-{}", i * 100, i * 100 + 1)).collect();
    let r = get_with(a, "/big.bin", &[("Range", &format!("bytes={}", many.join(",")))]);
    assert_eq!((r.status, r.body.len()), (200, BIG));
    // unsatisfiable
    let r = get_with(a, "/big.bin", &[("Range", &format!("bytes={n}-"))]);
    assert_eq!((r.status, r.header("content-range")), (416, Some(format!("bytes */{n}").as_str())));
    // If-Range: a matching tag or date gives the part, anything else the whole file
    let whole = get_with(a, "/big.bin", &[]);
    let (etag, lm) = (whole.header("etag").unwrap(), whole.header("last-modified").unwrap());
    for (if_range, status) in [(etag, 206), (lm, 206), ("\"stale\"", 200), ("Sun, 06 Nov 1994 08:49:37 GMT", 200)] {
        let r = get_with(a, "/big.bin", &[("Range", "bytes=10-19"), ("If-Range", if_range)]);
        assert_eq!(r.status, status, "If-Range {if_range}");
        assert_eq!(r.body.len(), if status == 206 { 10 } else { BIG });
    }
    // a small file goes the same way
    let r = get_with(a, "/a.txt", &[("Range", "bytes=0-4,7-")]);
    let parts = multipart(&r);
    assert_eq!(parts.iter().map(|p| p.1.clone()).collect::<Vec<_>>(), [b"hello".to_vec(), b"file\n".to_vec()]);
    // HEAD ignores Range (it is defined for GET)
    let r = one(a, "HEAD /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9\r\n\r\n");
    assert_eq!((r.status, r.header("content-length")), (200, Some(BIG.to_string().as_str())));
    s.shutdown();
}

#[test]
fn precompressed_siblings() {
    let t = tree("precompressed");
    let s = serve(&t);
    let a = s.local_addr();
    for (ae, body, encoding) in [
        (Some("gzip, deflate, br"), "BROTLI-BYTES", Some("br")),
        (Some("gzip"), "GZIP-BYTES", Some("gzip")),
        (Some("br;q=0, gzip;q=0.5"), "GZIP-BYTES", Some("gzip")),
        (Some("identity"), "console.log('plain')", None),
        (None, "console.log('plain')", None),
    ] {
        let headers: Vec<(&str, &str)> = ae.map(|v| ("Accept-Encoding", v)).into_iter().collect();
        let r = get_with(a, "/app.js", &headers);
        assert_eq!((r.text().as_str(), r.header("content-encoding")), (body, encoding), "{ae:?}");
        assert!(r.header("content-type").unwrap().contains("javascript"), "the original's type");
        assert_eq!(r.header("vary"), Some("Accept-Encoding"));
    }
    let plain = get_with(a, "/app.js", &[]);
    let br = get_with(a, "/app.js", &[("Accept-Encoding", "br")]);
    assert_ne!(plain.header("etag"), br.header("etag"), "each representation has its own tag");
    s.shutdown();
}

/// Large files through sendfile and through the buffered path, whole and from an offset, then
/// pipelined requests after them answered in order on the same connection.
#[test]
fn large_files_both_paths_and_pipelining_after_them() {
    let t = tree("large");
    let big = pattern(BIG);
    for buffered in [false, true] {
        let s = start(Dir::new(&t.root).buffered(buffered), Duration::from_secs(10));
        let a = s.local_addr();
        let r = get_with(a, "/big.bin", &[]);
        assert!(r.status == 200 && r.body == big, "buffered {buffered}");
        let r = get_with(a, "/big.bin", &[("Range", "bytes=77777-")]);
        assert!(r.status == 206 && r.body == big[77777..], "buffered {buffered}");
        let mut c = Client::connect(a);
        let mut raw = Vec::new();
        for target in ["/big.bin", "/a.txt", "/big.bin", "/style.css", "/missing", "/a.txt"] {
            raw.extend_from_slice(format!("GET {target} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
        }
        raw.extend_from_slice(b"GET /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=5-14\r\n\r\n");
        c.send(&raw);
        let got: Vec<Resp> = (0..7).map(|_| c.read_response()).collect();
        assert!(got[0].body == big && got[2].body == big, "buffered {buffered}");
        assert_eq!(got[1].text(), "hello, file\n");
        assert_eq!(got[3].text(), "body{color:red}");
        assert_eq!(got[4].status, 404);
        assert_eq!(got[5].text(), "hello, file\n");
        assert!(got[6].status == 206 && got[6].body == big[5..15]);
        // and the connection is still good
        c.send(&common::get("/a.txt"));
        assert_eq!(c.read_response().text(), "hello, file\n");
        s.shutdown();
    }
}

/// The head of a large file response is not a segment of its own: it leaves with the first
/// file bytes (`MSG_MORE`, as nginx's `tcp_nopush`), so a client waiting in `read` for the
/// answer gets head and body together. (Sent alone, a head woke the client for 300 bytes
/// and cost it a third more CPU per 1 MiB response: `scripts/bench-files.sh`.) Each of several
/// keep-alive requests is sent only once the reader is idle, and the first read must reach
/// past the head. With the head sent alone the reader usually wakes for the head only; this
/// catches that most of the time and can never fail when head and body leave together.
#[test]
fn a_file_head_leaves_with_the_first_file_bytes() {
    let t = tree("cork");
    let big = pattern(BIG);
    for buffered in [false, true] {
        let s = start(Dir::new(&t.root).buffered(buffered), Duration::from_secs(10));
        let mut c = TcpStream::connect(s.local_addr()).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = vec![0u8; BIG + 4096];
        for round in 0..8 {
            c.write_all(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
            let first = c.read(&mut buf).unwrap();
            let head = buf[..first].windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
            let head = head.unwrap_or_else(|| panic!("round {round}: no whole head in the first {first} bytes"));
            assert!(first > head, "buffered {buffered}, round {round}: the head ({head} bytes) came alone");
            // the rest of this response, so the next request finds the reader idle
            let mut got = first;
            while got < head + BIG {
                match c.read(&mut buf[got..]) {
                    Ok(0) | Err(_) => panic!("buffered {buffered}: the response ended at {got} bytes"),
                    Ok(n) => got += n,
                }
            }
            assert_eq!(got, head + BIG, "nothing after the body");
            assert!(buf[head..got] == big[..], "buffered {buffered}: the body");
        }
        s.shutdown();
    }
}

/// A reader slower than the write timeout keeps the download alive as long as it takes
/// something; one that stops is cut off by the timeout.
#[test]
fn slow_reader_and_the_write_timeout() {
    let t = tree("slow");
    let f = std::fs::File::create(t.root.join("huge.bin")).unwrap();
    f.set_len(256 << 20).unwrap();
    for buffered in [false, true] {
        let s = start(Dir::new(&t.root).buffered(buffered), Duration::from_millis(600));
        let mut c = TcpStream::connect(s.local_addr()).unwrap();
        c.write_all(b"GET /huge.bin HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0usize;
        // 12 pauses of 200 ms: 2.4 s in all, four times the timeout, each followed by reads
        for _ in 0..12 {
            std::thread::sleep(Duration::from_millis(200)); // a slow client, not synchronisation
            let mut round = 0;
            while round < 512 * 1024 {
                let n = c.read(&mut buf).unwrap();
                assert!(n > 0, "cut off while reading (buffered {buffered})");
                round += n;
            }
            total += round;
        }
        assert!(total >= 12 * 512 * 1024);
        // now stop reading: the server gives up within the timeout (plus a sweep)
        let stalled = Instant::now();
        let deadline = stalled + Duration::from_secs(20);
        // wait until the connection is closed: read nothing for a while, then drain to EOF
        std::thread::sleep(Duration::from_secs(2)); // three write timeouts without reading
        let mut eof = false;
        while Instant::now() < deadline {
            match c.read(&mut buf) {
                Ok(0) | Err(_) => {
                    eof = true;
                    break;
                }
                Ok(n) => total += n,
            }
        }
        assert!(eof && total < 256 << 20, "closed before the end (buffered {buffered}, {total} bytes)");
        s.shutdown();
    }
}

/// Set in the child processes that measure this process alone (file descriptors, memory).
const ALONE: &str = "SHOCKWAVE_FS_TEST_ALONE";

/// Runs test `name` by itself in a child process; `true` when this is that child.
fn alone(name: &str) -> bool {
    if std::env::var_os(ALONE).is_some() {
        return true;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(ALONE, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("1 passed"), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    false
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn clients_that_abort_leave_no_open_files() {
    if !alone("clients_that_abort_leave_no_open_files") {
        return;
    }
    let t = tree("abort");
    for buffered in [false, true] {
        let s = start(Dir::new(&t.root).buffered(buffered), Duration::from_secs(10));
        let a = s.local_addr();
        let _ = get_with(a, "/a.txt", &[]); // let the server open what it keeps open
        common::wait_until(|| s.stats().connections_open == 0);
        let before = open_fds();
        for i in 0..20 {
            let mut c = TcpStream::connect(a).unwrap();
            c.write_all(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
            let mut buf = vec![0u8; 1000 * (i + 1)];
            c.read_exact(&mut buf).unwrap();
            drop(c); // with unread data: the kernel resets the connection
        }
        common::wait_until(|| s.stats().connections_open == 0 && open_fds() == before);
        s.shutdown();
    }
}

/// A 1 GiB (sparse) file to a reader that starts late: the server's memory stays flat (the
/// file is never read into memory; the poller sends it as the socket takes it).
#[test]
fn one_gib_file_to_a_slow_reader_in_constant_memory() {
    if vm_hwm_kib().is_none() {
        println!("SKIP: no VmHWM in /proc/self/status to measure peak memory with");
        return;
    }
    if !alone("one_gib_file_to_a_slow_reader_in_constant_memory") {
        return;
    }
    let t = tree("gib");
    std::fs::File::create(t.root.join("gib.bin")).unwrap().set_len(1 << 30).unwrap();
    for buffered in [false, true] {
        let s = start(Dir::new(&t.root).buffered(buffered), Duration::from_secs(30));
        let _ = get_with(s.local_addr(), "/a.txt", &[]);
        let before = vm_hwm_kib().unwrap();
        let mut c = TcpStream::connect(s.local_addr()).unwrap();
        c.write_all(b"GET /gib.bin HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        std::thread::sleep(Duration::from_millis(300)); // slow to start: the socket fills
        let mut buf = vec![0u8; 64 * 1024];
        c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut got = Vec::new();
        let head_end = loop {
            let n = c.read(&mut buf).unwrap();
            assert!(n > 0);
            got.extend_from_slice(&buf[..n]);
            if let Some(p) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
        };
        assert!(got.starts_with(b"HTTP/1.1 200 OK\r\n"));
        let mut body = (got.len() - head_end) as u64;
        while body < 1 << 30 {
            let n = c.read(&mut buf).unwrap();
            assert!(n > 0, "cut off after {body} bytes");
            body += n as u64;
        }
        assert_eq!(body, 1 << 30);
        let grew = vm_hwm_kib().unwrap().saturating_sub(before);
        assert!(grew < 8 * 1024, "peak RSS grew by {grew} KiB sending 1 GiB (buffered {buffered})");
        s.shutdown();
    }
}

/// Under a router: mounted at a prefix, for every method.
#[test]
fn mounted_under_a_prefix() {
    let t = tree("mounted");
    let app = Router::new()
        .get("/api", |_req, resp| resp.write_body("api"))
        .route_handler("*", "/static/", Dir::new(&t.root))
        .route_handler("*", "/static/{*path}", Dir::new(&t.root));
    let s = Server::builder().pollers(1).workers(2).bind("127.0.0.1:0").unwrap().start_handler(app).unwrap();
    let a = s.local_addr();
    assert_eq!(get_with(a, "/static/a.txt", &[]).text(), "hello, file\n");
    assert_eq!(get_with(a, "/static/", &[]).text(), "<h1>home</h1>");
    assert_eq!(get_with(a, "/static/sub/", &[]).text(), "sub index");
    assert_eq!(get_with(a, "/static/sub", &[]).header("location"), Some("/static/sub/"));
    assert_eq!(get_with(a, "/static/%2e%2e/outside/secret.txt", &[]).status, 404);
    assert_eq!(get_with(a, "/api", &[]).text(), "api");
    let r = one(a, "DELETE /static/a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD")));
    s.shutdown();
}

fn has(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
}

#[test]
fn curl_ranges_if_modified_since_and_compressed() {
    if !has("curl") {
        println!("SKIP: curl is not installed");
        return;
    }
    let t = tree("curl");
    let s = serve(&t);
    let url = |p: &str| format!("http://{}{p}", s.local_addr());
    let curl = |args: &[&str]| {
        let out = Command::new("curl").args(["-s", "--max-time", "20"]).args(args).output().unwrap();
        assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    assert_eq!(curl(&["-r", "0-4", &url("/a.txt")]), b"hello");
    assert_eq!(curl(&["-r", "-5", &url("/a.txt")]), b"file\n");
    let big = pattern(BIG);
    assert!(curl(&[&url("/big.bin")]) == big);
    assert!(curl(&["-r", "1000-", &url("/big.bin")]) == big[1000..]);
    // -z: If-Modified-Since from a date; a date after the file's mtime gives 304 (no body)
    let code =
        |args: &[&str]| String::from_utf8(curl(&[&["-o", "/dev/null", "-w", "%{http_code}"], args].concat())).unwrap();
    assert_eq!(code(&["-z", "Fri, 01 Jan 2100 00:00:00 GMT", &url("/a.txt")]), "304");
    assert_eq!(code(&["-z", "Sun, 06 Nov 1994 08:49:37 GMT", &url("/a.txt")]), "200");
    // --compressed asks for gzip/br (curl decodes; our siblings are not real encodings, so
    // look at the headers instead)
    let head = String::from_utf8(curl(&["--compressed", "-D", "-", "-o", "/dev/null", &url("/app.js")])).unwrap();
    assert!(head.to_ascii_lowercase().contains("content-encoding: br"), "{head}");
    // a real gzip sibling is decoded by curl back to the original
    let plain = b"the same text, compressed ahead of time\n".repeat(50);
    std::fs::write(t.root.join("real.txt"), &plain).unwrap();
    let gz = Command::new("gzip").args(["-9", "-k", "-c"]).arg(t.root.join("real.txt")).output();
    match gz {
        Ok(o) if o.status.success() => {
            std::fs::write(t.root.join("real.txt.gz"), o.stdout).unwrap();
            assert_eq!(curl(&["--compressed", "-H", "Accept-Encoding: gzip", &url("/real.txt")]), plain);
        }
        _ => println!("SKIP: gzip is not installed (the decoded round trip)"),
    }
    s.shutdown();
}

#[test]
fn python_requests_range_and_etag_revalidation() {
    let ok = Command::new("python3").args(["-c", "import requests"]).output().is_ok_and(|o| o.status.success());
    if !ok {
        println!("SKIP: python3 with requests is not installed");
        return;
    }
    let t = tree("python");
    let s = serve(&t);
    let script = r#"
import sys, requests
base = sys.argv[1]
s = requests.Session()
r = s.get(base + "/big.bin", headers={"Range": "bytes=100-199"})
assert r.status_code == 206, r.status_code
assert r.headers["Content-Range"].startswith("bytes 100-199/"), r.headers
assert len(r.content) == 100
whole = s.get(base + "/a.txt")
etag, lm = whole.headers["ETag"], whole.headers["Last-Modified"]
r = s.get(base + "/a.txt", headers={"If-None-Match": etag})
assert r.status_code == 304 and r.content == b"", r.status_code
r = s.get(base + "/a.txt", headers={"If-Modified-Since": lm})
assert r.status_code == 304
r = s.get(base + "/a.txt", headers={"Range": "bytes=0-4", "If-Range": etag})
assert (r.status_code, r.content) == (206, b"hello"), (r.status_code, r.content)
r = s.get(base + "/a.txt", headers={"Range": "bytes=0-4", "If-Range": '"stale"'})
assert (r.status_code, r.content) == (200, b"hello, file\n")
print("ok")
"#;
    let out = Command::new("python3").args(["-c", script, &format!("http://{}", s.local_addr())]).output().unwrap();
    assert!(
        out.status.success() && out.stdout.starts_with(b"ok"),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    s.shutdown();
}

#[test]
fn go_net_http_client_ranges_and_revalidation() {
    let Some(exe) = common::go_build("tests/go/fs/client.go", "go-fs-client") else { return };
    let t = tree("go");
    let s = serve(&t);
    let out = Command::new(&exe).arg(format!("http://{}", s.local_addr())).output().unwrap();
    assert!(
        out.status.success() && out.stdout.starts_with(b"ok"),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    s.shutdown();
}

/// `examples/files.rs` serves the directory it is given, as its doc comment says.
#[test]
fn files_example_serves_its_directory() {
    use std::io::{BufRead, BufReader};
    let t = tree("example");
    let mut child = common::KillOnDrop(
        Command::new(common::example_with("files", &["fs"]))
            .arg(&t.root)
            .env("ADDR", "127.0.0.1:0")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr: SocketAddr = line.split("http://").nth(1).unwrap().trim().trim_end_matches('/').parse().unwrap();
    assert_eq!(get_with(addr, "/", &[]).text(), "<h1>home</h1>");
    let r = get_with(addr, "/big.bin", &[("Range", "bytes=0-99")]);
    assert!(r.status == 206 && r.body == pattern(100));
    assert_eq!(get_with(addr, "/app.js", &[("Accept-Encoding", "br")]).text(), "BROTLI-BYTES");
}

/// One poller, a client reading a 64 GiB (sparse) file as fast as it can: the poller still
/// answers another connection. (Here the reader is slower than `sendfile`, so the socket
/// fills and the poller gets back to its events anyway; the 4 MiB turn a file body yields
/// after, for readers faster than that, does not show on loopback.)
#[test]
fn a_fast_download_does_not_hold_the_poller() {
    let t = tree("fair");
    std::fs::File::create(t.root.join("endless.bin")).unwrap().set_len(64 << 30).unwrap();
    for buffered in [false, true] {
        let s = start(Dir::new(&t.root).buffered(buffered), Duration::from_secs(10));
        let a = s.local_addr();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (stop2, started) = (stop.clone(), std::sync::mpsc::channel());
        let reader = std::thread::spawn(move || {
            let mut c = TcpStream::connect(a).unwrap();
            c.write_all(b"GET /endless.bin HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
            let mut buf = vec![0u8; 256 * 1024];
            let mut total = 0u64;
            while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => total += n as u64,
                }
                if total > 32 << 20 {
                    let _ = started.0.send(());
                }
            }
            total
        });
        started.1.recv_timeout(Duration::from_secs(10)).expect("the download started");
        let mut c = Client::connect(a);
        c.send(&common::get("/a.txt"));
        let r = c.read_response_within(false, Duration::from_secs(10));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let total = reader.join().unwrap();
        assert_eq!(r.map(|r| r.text()).as_deref(), Some("hello, file\n"), "buffered {buffered}");
        assert!(total < 64 << 30);
        s.shutdown();
    }
}

/// `serve_file` inside an ordinary handler, over a socket: the handler's own headers stay,
/// and a handler that streamed a body before calling it keeps that body (no file bytes
/// after it), with the connection still in step.
#[test]
fn serve_file_inside_a_handler() {
    let t = tree("serve-file");
    let root = t.root.clone();
    let s = common::start_default(move |req, resp| {
        if req.path() == "/streamed" {
            resp.write_all(&[b'x'; 40 * 1024]).unwrap(); // past the stream buffer: the head is out
        }
        resp.set_header("Content-Disposition", "attachment");
        let _ = shockwave::fs::serve_file(req, resp, root.join("big.bin"));
    });
    let mut c = Client::connect(s.local_addr());
    c.send(b"GET /file HTTP/1.1\r\nHost: t\r\n\r\nGET /streamed HTTP/1.1\r\nHost: t\r\n\r\nGET /file HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9\r\n\r\n");
    let r = c.read_response();
    assert!(r.status == 200 && r.body == pattern(BIG) && r.header("content-disposition") == Some("attachment"));
    let r = c.read_response();
    assert_eq!((r.status, r.body.len()), (200, 40 * 1024));
    let r = c.read_response();
    assert!(r.status == 206 && r.body == pattern(10));
    s.shutdown();
}
