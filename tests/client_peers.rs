//! The client against independent servers: Python's `http.server` (HTTP/1.0, one request per
//! connection), nginx (keep-alive with `keepalive_requests`, static files, `return`, and a
//! chunked SSI page) started by the test on a free 127.0.0.1 port with a generated config,
//! and Go's net/http server (chunked with trailers, `Expect: 100-continue`, 307); with feature
//! `compress`, nginx's `gzip on` and a Python server sending gzip and deflate bodies, decoded
//! by the client.
//! `scripts/test.sh` installs python3 and nginx; a test whose server is missing says
//! "SKIP: …" and returns.

mod common;

use common::{have, KillOnDrop};
use shockwave::{Client, Version};
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Bound on a server's start and on waiting for its log.
const T: Duration = Duration::from_secs(10);

/// A new directory of its own (tests run in parallel in one process).
fn temp_dir(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("shockwave-client-peers-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Deterministic bytes that are not a short cycle.
fn data(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// The first line `child` prints, within `T`.
fn first_line(child: &mut std::process::Child) -> Option<String> {
    let out = child.stdout.take()?;
    let (tx, rx) = crossbeam::channel::bounded(1);
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(out).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(T).ok().filter(|l| !l.is_empty())
}

/// `python3 -m http.server` on port 0 serving `dir`; the port from its first line.
fn python_http_server(dir: &Path) -> Option<(KillOnDrop, SocketAddr)> {
    let dir = dir.to_str().unwrap();
    let child = Command::new("python3")
        .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", dir])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut child = KillOnDrop(child);
    // "Serving HTTP on 127.0.0.1 port 43297 (http://127.0.0.1:43297/) ..."
    let line = first_line(&mut child.0)?;
    let port: u16 = line.split("port ").nth(1)?.split(' ').next()?.parse().ok()?;
    Some((child, SocketAddr::from(([127, 0, 0, 1], port))))
}

#[test]
fn python_http_server_files_over_http_1_0() {
    if !have("python3", "--version") {
        println!("SKIP: python3 not installed (scripts/test.sh installs it)");
        return;
    }
    let dir = temp_dir("python");
    let five = data(5 << 20);
    std::fs::write(dir.join("five.bin"), &five).unwrap();
    std::fs::write(dir.join("hello.txt"), "Hello from Python\n").unwrap();
    let (_server, addr) = python_http_server(&dir).expect("python3 -m http.server did not start");
    let url = |p: &str| format!("http://{addr}{p}");
    let client = Client::new();

    let resp = client.get(&url("/five.bin")).unwrap();
    assert_eq!((resp.status(), resp.version()), (200, Version::Http10));
    assert_eq!(resp.content_length(), Some(5 << 20));
    assert!(resp.bytes().unwrap() == five, "the 5 MB file came back different");
    // HTTP/1.0 without keep-alive: every request on a new connection
    assert_eq!(client.get(&url("/hello.txt")).unwrap().text().unwrap(), "Hello from Python\n");
    assert_eq!(client.connections_opened(&url("/")), 2);
    assert_eq!(client.idle_connections(&url("/")), 0);

    let listing = client.get(&url("/")).unwrap().text().unwrap();
    assert!(listing.contains("five.bin") && listing.contains("hello.txt"), "{listing}");
    let resp = client.head(&url("/five.bin")).unwrap();
    assert_eq!((resp.status(), resp.content_length()), (200, Some(5 << 20)));
    assert_eq!(resp.bytes().unwrap(), b"");
    assert_eq!(client.get(&url("/missing")).unwrap().status(), 404);
    assert_eq!(client.get(&url("/sub")).unwrap().status(), 404);
    // a directory without its slash is redirected (301) to it
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/index.html"), "<p>sub</p>").unwrap();
    let resp = client.get(&url("/sub")).unwrap();
    assert_eq!((resp.status(), resp.url()), (200, url("/sub/").as_str()));
    assert_eq!(resp.text().unwrap(), "<p>sub</p>");
    assert_eq!(client.connections_opened(&url("/")), 8);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Python's `http.server` answering with no Content-Length at all: the body ends when the
/// connection does (the handler is the standard library's; only the length is left out).
#[test]
fn python_close_delimited_body() {
    if !have("python3", "--version") {
        println!("SKIP: python3 not installed (scripts/test.sh installs it)");
        return;
    }
    let script = r#"
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        for i in range(20000):
            self.wfile.write(b"line %d\n" % i)
    def log_message(self, *args):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;
    let child = Command::new("python3").args(["-c", script]).stdout(Stdio::piped()).spawn().unwrap();
    let mut child = KillOnDrop(child);
    let port: u16 = first_line(&mut child.0).expect("the Python server did not start").trim().parse().unwrap();
    let client = Client::new();
    let url = format!("http://127.0.0.1:{port}/lines");
    let want: String = (0..20000).map(|i| format!("line {i}\n")).collect();
    for _ in 0..2 {
        let resp = client.get(&url).unwrap();
        assert_eq!(
            (resp.version(), resp.content_length(), resp.header("transfer-encoding")),
            (Version::Http10, None, None)
        );
        assert!(resp.text().unwrap() == want);
    }
    assert_eq!(client.connections_opened(&url), 2);
}

/// An nginx started on a free loopback port with a generated config; stopped when dropped.
struct Nginx {
    _child: KillOnDrop,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn nginx_binary() -> Option<PathBuf> {
    let find = || {
        ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .or_else(|| have("nginx", "-v").then(|| PathBuf::from("nginx")))
    };
    if let Some(p) = find() {
        return Some(p);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-deps.sh");
    let path = format!("{}:/usr/sbin:/sbin", std::env::var("PATH").unwrap_or_default());
    let _ = Command::new(script).arg("nginx:nginx-light").env("PATH", path).status();
    find()
}

fn nginx_conf(dir: &Path, port: u16) -> String {
    let d = dir.display();
    let (main, temps) = (common::nginx_main(dir), common::nginx_temp_paths(dir));
    format!(
        r#"{main}
http {{
    log_format conn '$connection $connection_requests $request_method $uri $status';
    access_log {d}/access.log conn;
    {temps}
    keepalive_requests 3;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {d}/www;
        location = /ret {{ return 200 "hello from nginx\n"; }}
        location /ssi/ {{ ssi on; default_type text/html; }}
        location /gz/ {{ gzip on; gzip_types *; gzip_min_length 1; gzip_comp_level 6; gzip_vary on; }}
    }}
}}
"#
    )
}

/// Starts nginx serving `files` (path, contents) from its root, on a free port (a port taken
/// between choosing and binding it is tried again, three times).
fn nginx(files: &[(&str, &[u8])]) -> Option<Nginx> {
    let bin = nginx_binary()?;
    let dir = temp_dir("nginx");
    for (path, contents) in files {
        let p = dir.join("www").join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents).unwrap();
    }
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        std::fs::write(dir.join("nginx.conf"), nginx_conf(&dir, port)).unwrap();
        if let Some(child) = common::run_nginx(&bin, &dir, port, T) {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            return Some(Nginx { _child: child, addr, dir });
        }
    }
    let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
    panic!("nginx did not start: {log}");
}

/// The access log's lines, once there are `n` of them (nginx writes each after its response).
fn access_log(n: usize, dir: &Path) -> Vec<String> {
    let deadline = Instant::now() + T;
    loop {
        let text = std::fs::read_to_string(dir.join("access.log")).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        if lines.len() >= n {
            return lines;
        }
        assert!(Instant::now() < deadline, "nginx logged {} of {n} requests: {lines:?}", lines.len());
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn nginx_static_files_head_404_ssi_and_keep_alive() {
    let big = data(3 << 20);
    let page = b"before <!--# echo var=\"uri\" --> after\n";
    let Some(ngx) = nginx(&[("big.bin", &big), ("small.txt", b"small\n"), ("ssi/page.html", page)]) else {
        println!("SKIP: nginx not installed (scripts/install-deps.sh nginx:nginx-light could not install it)");
        return;
    };
    let url = |p: &str| format!("http://{}{p}", ngx.addr);
    let client = Client::new();

    // connection 1: three requests, the third answered with Connection: close
    let resp = client.get(&url("/big.bin")).unwrap();
    assert_eq!((resp.status(), resp.version(), resp.content_length()), (200, Version::Http11, Some(3 << 20)));
    assert!(resp.header("server").is_some_and(|s| s.starts_with("nginx")));
    assert!(resp.bytes().unwrap() == big, "the 3 MB file came back different");
    let resp = client.head(&url("/big.bin")).unwrap();
    assert_eq!((resp.status(), resp.content_length()), (200, Some(3 << 20)));
    assert_eq!(resp.bytes().unwrap(), b"");
    let resp = client.get(&url("/missing")).unwrap();
    assert_eq!(resp.status(), 404);
    assert!(resp.text().unwrap().contains("404 Not Found"));
    // connection 2
    assert_eq!(client.get(&url("/ret")).unwrap().text().unwrap(), "hello from nginx\n");
    let resp = client.get(&url("/ssi/page.html")).unwrap();
    assert_eq!((resp.header("transfer-encoding"), resp.content_length()), (Some("chunked"), None));
    assert_eq!(resp.text().unwrap(), "before /ssi/page.html after\n");
    assert_eq!(client.get(&url("/small.txt")).unwrap().text().unwrap(), "small\n");
    // connection 3
    let resp = client.get(&url("/small.txt")).unwrap();
    assert_eq!(resp.text().unwrap(), "small\n");
    assert_eq!(client.connections_opened(&url("/")), 3);

    // nginx's view: `$connection $connection_requests $method $uri $status`
    let log = access_log(7, &ngx.dir);
    let fields: Vec<Vec<&str>> = log.iter().map(|l| l.split(' ').collect()).collect();
    let requests: Vec<&str> = fields.iter().map(|f| f[1]).collect();
    assert_eq!(requests, ["1", "2", "3", "1", "2", "3", "1"], "{log:?}");
    let conns: Vec<&str> = fields.iter().map(|f| f[0]).collect();
    assert!(conns[0..3].iter().all(|c| *c == conns[0]), "{log:?}");
    assert!(conns[3..6].iter().all(|c| *c == conns[3]), "{log:?}");
    assert!(conns[0] != conns[3] && conns[3] != conns[6], "{log:?}");
    let statuses: Vec<&str> = fields.iter().map(|f| f[4]).collect();
    assert_eq!(statuses, ["200", "200", "404", "200", "200", "200", "200"], "{log:?}");
    assert_eq!(fields[1][2], "HEAD", "{log:?}");
}

#[test]
fn nginx_many_threads_share_the_pool() {
    let Some(ngx) = nginx(&[("small.txt", b"small\n")]) else {
        println!("SKIP: nginx not installed (scripts/install-deps.sh nginx:nginx-light could not install it)");
        return;
    };
    let client = Client::builder().max_conns_per_host(4).build();
    let url = format!("http://{}/small.txt", ngx.addr);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (c, u) = (client.clone(), url.clone());
            std::thread::spawn(move || {
                for _ in 0..150 {
                    assert_eq!(c.get(&u).unwrap().text().unwrap(), "small\n");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // keepalive_requests 3: nginx closes each connection after its third request; those
    // still pooled at the end (at most one per thread) served fewer
    let opened = client.connections_opened(&url);
    assert!((200..=204).contains(&opened), "{opened} connections for 600 requests");
    let log = access_log(600, &ngx.dir);
    assert!(log.iter().all(|l| l.ends_with(" 200")), "{log:?}");
}

/// Go's net/http server (`tests/go/server/server.go`, built into `target/`), started by the
/// test; `None` (after saying why) without Go. Built first and run directly, so the process
/// the test kills is the server itself (`go run` would leave its child running).
fn go_server() -> Option<(KillOnDrop, SocketAddr)> {
    let exe = common::go_build("tests/go/server/server.go", "go-interop-server")?;
    let mut child = Command::new(&exe).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("go server said {line:?}"));
    Some((KillOnDrop(child), addr.parse().unwrap()))
}

/// Against Go's net/http server: chunked bodies with a trailer, `Expect: 100-continue`
/// answered by a real server, a 307 that keeps method and body, keep-alive reuse.
#[test]
fn go_net_http_server_chunked_trailers_expect_and_redirects() {
    let Some((_go, addr)) = go_server() else { return };
    let client = Client::new();
    let base = format!("http://{addr}");

    let mut resp = client.get(&format!("{base}/chunked")).unwrap();
    assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
    assert_eq!(resp.read_body().unwrap(), b"one two three");
    assert_eq!(resp.trailer("x-sum"), Some("13"));
    drop(resp);

    let body = vec![7u8; 1 << 20];
    let req = shockwave::client::Request::post(&format!("{base}/count"))
        .unwrap()
        .header("Expect", "100-continue")
        .body(body.clone());
    assert_eq!(client.send(&req).unwrap().text().unwrap(), r#"POST 1048576 bytes expect="100-continue""#);
    let sized = shockwave::client::Body::sized(std::io::Cursor::new(body.clone()), body.len() as u64);
    assert_eq!(client.put(&format!("{base}/count"), sized).unwrap().text().unwrap(), r#"PUT 1048576 bytes expect="""#);
    let streamed = shockwave::client::Body::reader(std::io::Cursor::new(body));
    assert_eq!(
        client.post(&format!("{base}/count"), streamed).unwrap().text().unwrap(),
        r#"POST 1048576 bytes expect="""#
    );

    let resp = client.post(&format!("{base}/redirect"), "twelve bytes").unwrap();
    assert_eq!(resp.url(), format!("{base}/count"));
    assert_eq!(resp.text().unwrap(), r#"POST 12 bytes expect="""#);

    let first = client.get(&format!("{base}/conn")).unwrap().text().unwrap();
    for _ in 0..5 {
        assert_eq!(client.get(&format!("{base}/conn")).unwrap().text().unwrap(), first, "one kept-alive connection");
    }
    let mut resp = shockwave::client::Response::default();
    let hello = shockwave::client::Request::get(&format!("{base}/hello")).unwrap();
    for _ in 0..100 {
        client.send_into(&hello, &mut resp).unwrap();
        assert_eq!((resp.status(), resp.body()), (200, &b"hello"[..]));
    }
}

/// Feature `compress`: nginx's `gzip on` (chunked gzip of a static file), decoded by the
/// client as it reads; with the caller's own Accept-Encoding the gzip comes back as sent.
#[cfg(feature = "compress")]
#[test]
fn nginx_gzip_is_decoded_by_the_client() {
    let text: Vec<u8> =
        (0..40_000).flat_map(|i| format!("line {i} of a text file nginx gzips\n").into_bytes()).collect();
    let Some(ngx) = nginx(&[("gz/big.txt", &text), ("gz/small.txt", b"small\n")]) else {
        println!("SKIP: nginx not installed (scripts/install-deps.sh nginx:nginx-light could not install it)");
        return;
    };
    let url = format!("http://{}/gz/big.txt", ngx.addr);
    let client = Client::new();
    for _ in 0..3 {
        let resp = client.get(&url).unwrap();
        assert_eq!(resp.header("vary"), Some("Accept-Encoding"));
        assert_eq!((resp.header("content-encoding"), resp.content_length()), (None, None));
        assert!(resp.bytes().unwrap() == text, "the decoded file differs");
    }
    assert_eq!(client.get(&format!("http://{}/gz/small.txt", ngx.addr)).unwrap().text().unwrap(), "small\n");
    let req = shockwave::client::Request::get(&url).unwrap().header("Accept-Encoding", "gzip");
    let resp = client.send(&req).unwrap();
    assert_eq!((resp.header("content-encoding"), resp.header("transfer-encoding")), (Some("gzip"), Some("chunked")));
    let raw = resp.bytes().unwrap();
    assert!(raw.len() < text.len() / 4, "{} bytes", raw.len());
    assert_eq!(client.connections_opened(&url), 2, "keep-alive across decoded bodies (keepalive_requests 3)");
}

/// Feature `compress`: a Python server sending gzip (with a length, and close-delimited over
/// HTTP/1.0 in many writes) and zlib `deflate`; a truncated gzip body is an error.
#[cfg(feature = "compress")]
#[test]
fn python_gzip_and_deflate_bodies_are_decoded() {
    if !have("python3", "--version") {
        println!("SKIP: python3 not installed (scripts/test.sh installs it)");
        return;
    }
    let script = r#"
import gzip, zlib, http.server, sys
BODY = b"".join(b"python line %d\n" % i for i in range(50000))
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path == "/gzip":
            z, ce = gzip.compress(BODY), "gzip"
        elif self.path == "/deflate":
            z, ce = zlib.compress(BODY), "deflate"
        elif self.path == "/stream":
            z, ce = gzip.compress(BODY), "gzip"
        else:
            z, ce = gzip.compress(BODY)[:-100], "gzip"
        self.send_response(200)
        self.send_header("Content-Encoding", ce)
        if self.path == "/stream":
            self.end_headers()
            for i in range(0, len(z), 1000):
                self.wfile.write(z[i:i + 1000])
                self.wfile.flush()
            return
        self.send_header("Content-Length", str(len(z)))
        self.end_headers()
        self.wfile.write(z)
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;
    let child = Command::new("python3").args(["-u", "-c", script]).stdout(Stdio::piped()).spawn().unwrap();
    let mut child = KillOnDrop(child);
    let port: u16 = first_line(&mut child.0).expect("the python server's port").trim().parse().unwrap();
    let want: Vec<u8> = (0..50000).flat_map(|i| format!("python line {i}\n").into_bytes()).collect();
    let client = Client::new();
    let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
    for path in ["/gzip", "/deflate"] {
        let resp = client.get(&url(path)).unwrap();
        assert_eq!(resp.content_length(), None, "{path}");
        assert!(resp.bytes().unwrap() == want, "{path}");
    }
    let err = client.get(&url("/truncated")).unwrap().bytes().unwrap_err();
    assert!(err.to_string().contains("decoding the response body"), "{err}");
    let mut resp = client.get(&url("/stream")).unwrap();
    let mut n = 0;
    let mut buf = [0u8; 1000];
    loop {
        match std::io::Read::read(&mut resp, &mut buf).unwrap() {
            0 => break,
            k => n += k,
        }
    }
    assert_eq!(n, want.len());
}
