//! The client over `https://` (feature `tls`), against certificates made here with rcgen (a
//! CA and leaves; nothing private is committed): a rustls server in this test (keep-alive
//! reuse, TLS 1.2 and 1.3, an idle close, redirects between http and https), Python's
//! `http.server` wrapped in `ssl`, and nginx with `ssl_protocols TLSv1.2` and `TLSv1.3`.
//! Failures: an unknown CA, the bundled roots alone, a certificate for another name, an
//! expired one, plain HTTP on the https port, and a server that never answers the handshake.
//! A test whose server is missing says "SKIP: …" and returns.
mod common;
use common::certs::{localhost, Ca, Leaf};
use common::{have, KillOnDrop};
use shockwave::Client;
use std::cell::Cell;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bound on a server's start and on any one call expected to fail fast.
const T: Duration = Duration::from_secs(10);

// --- allocations counted on the measuring thread only (servers run on other threads) ---

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);
thread_local! { static COUNT: Cell<bool> = const { Cell::new(false) }; }

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        if COUNT.try_with(Cell::get).unwrap_or(false) {
            ALLOCS.fetch_add(1, SeqCst);
        }
        // SAFETY: same contract as our caller's.
        unsafe { std::alloc::System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: std::alloc::Layout) {
        // SAFETY: `p` came from `System.alloc` with layout `l`.
        unsafe { std::alloc::System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: std::alloc::Layout, n: usize) -> *mut u8 {
        if COUNT.try_with(Cell::get).unwrap_or(false) {
            ALLOCS.fetch_add(1, SeqCst);
        }
        // SAFETY: same contract as our caller's.
        unsafe { std::alloc::System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// --- certificates (tests/common/certs.rs) ---

/// A client trusting `ca` (besides the bundled roots).
fn client_for(ca: &Ca) -> Client {
    Client::builder().add_root_certificate(ca.pem().as_bytes()).unwrap().read_timeout(T).build()
}

// --- a rustls server ---

/// What the test server answers to a path: (status line and extra fields, body, then close).
type Route = dyn Fn(&str) -> (String, String, bool) + Send + Sync;

struct TlsServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

/// A rustls server on a free port: each connection on its own thread, answering requests
/// (no bodies) with `route` until the client closes or `route` says close (then with a
/// `close_notify`).
fn tls_server(leaf: &Leaf, versions: &[&'static rustls::SupportedProtocolVersion], route: Arc<Route>) -> TlsServer {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der.clone()], leaf.key.clone_key())
        .unwrap();
    let cfg = Arc::new(cfg);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(s) = s else { continue };
            count.fetch_add(1, SeqCst);
            let (cfg, route) = (cfg.clone(), route.clone());
            std::thread::spawn(move || serve(s, cfg, &*route));
        }
    });
    TlsServer { addr, accepted }
}

fn serve(s: TcpStream, cfg: Arc<rustls::ServerConfig>, route: &Route) {
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut tls = rustls::StreamOwned::new(rustls::ServerConnection::new(cfg).unwrap(), s);
    let mut head = Vec::new();
    let mut b = [0u8; 4096];
    loop {
        let end = loop {
            if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match tls.read(&mut b) {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&b[..n]),
            }
        };
        let text = String::from_utf8_lossy(&head[..end]).into_owned();
        head.drain(..end);
        let path = text.split(' ').nth(1).unwrap_or("/").to_owned();
        let (status, body, close) = route(&path);
        let out = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        if tls.write_all(out.as_bytes()).and_then(|_| tls.flush()).is_err() {
            return;
        }
        if close {
            tls.conn.send_close_notify();
            let _ = tls.flush();
            return;
        }
    }
}

fn echo_route() -> Arc<Route> {
    Arc::new(|p: &str| ("200 OK".to_owned(), format!("path {p}"), p == "/bye"))
}

const BOTH: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

#[test]
fn rustls_server_keep_alive_tls13_and_tls12_by_name_and_ip() {
    let ca = Ca::new();
    let leaf = localhost(&ca);
    for versions in [&[&rustls::version::TLS13][..], &[&rustls::version::TLS12][..]] {
        let srv = tls_server(&leaf, versions, echo_route());
        for host in ["localhost", "127.0.0.1"] {
            let client = client_for(&ca);
            let url = |p: &str| format!("https://{host}:{}{p}", srv.addr.port());
            for i in 0..3 {
                let resp = client.get(&url(&format!("/r{i}"))).unwrap();
                assert_eq!(resp.status(), 200);
                assert_eq!(resp.text().unwrap(), format!("path /r{i}"));
            }
            // one connection for three requests: TLS 1.3's session tickets, which arrive
            // after the first answer, do not make the pooled connection look stale
            assert_eq!(client.connections_opened(&url("/")), 1, "{host} {versions:?}");
            assert_eq!(client.idle_connections(&url("/")), 1);
        }
        assert_eq!(srv.accepted.load(SeqCst), 2, "one TCP connection per client");
    }
}

#[test]
fn server_close_notify_while_idle_means_a_new_connection() {
    let ca = Ca::new();
    let srv = tls_server(&localhost(&ca), BOTH, echo_route());
    let client = client_for(&ca);
    let url = |p: &str| format!("https://localhost:{}{p}", srv.addr.port());
    assert_eq!(client.get(&url("/bye")).unwrap().text().unwrap(), "path /bye");
    for _ in 0..2 {
        assert_eq!(client.get(&url("/next")).unwrap().text().unwrap(), "path /next");
    }
    assert_eq!(client.connections_opened(&url("/")), 2);
    assert_eq!(srv.accepted.load(SeqCst), 2);
}

#[test]
fn a_der_root_and_bundled_roots_off() {
    let ca = Ca::new();
    let srv = tls_server(&localhost(&ca), BOTH, echo_route());
    let url = format!("https://localhost:{}/x", srv.addr.port());
    let der = ca.der().to_vec();
    let client = Client::builder().tls_built_in_roots(false).add_root_certificate(&der).unwrap().build();
    assert_eq!(client.get(&url).unwrap().text().unwrap(), "path /x");
    // neither bundled nor added roots: nothing is trusted
    let e = Client::builder().tls_built_in_roots(false).build().get(&url).unwrap_err();
    assert!(e.is_tls(), "{e}");
}

#[test]
fn bad_root_certificates_are_refused_clearly() {
    for bad in [&b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"[..], b"\x30\x03abc", b""] {
        let e = Client::builder().add_root_certificate(bad).unwrap_err();
        assert!(e.is_tls() && e.to_string().contains("root certificate"), "{e}");
    }
}

#[test]
fn bundled_roots_refuse_the_test_ca_and_unknown_issuer_is_clear() {
    let ca = Ca::new();
    let srv = tls_server(&localhost(&ca), BOTH, echo_route());
    let url = format!("https://localhost:{}/", srv.addr.port());
    for client in [Client::new(), client_for(&Ca::new())] {
        let e = client.get(&url).unwrap_err();
        let msg = e.to_string();
        assert!(e.is_tls(), "{msg}");
        assert!(msg.contains("TLS handshake with localhost failed") && msg.contains("UnknownIssuer"), "{msg}");
        assert!(msg.contains("add_root_certificate"), "{msg}");
    }
}

#[test]
fn certificate_for_another_name_is_refused() {
    let ca = Ca::new();
    let srv = tls_server(&ca.leaf(&["other.example"], false), BOTH, echo_route());
    let client = client_for(&ca);
    for host in ["localhost", "127.0.0.1"] {
        let e = client.get(&format!("https://{host}:{}/", srv.addr.port())).unwrap_err();
        let msg = e.to_string();
        assert!(e.is_tls(), "{msg}");
        assert!(msg.contains(&format!("with {host} failed")) && msg.contains("not valid for name"), "{msg}");
    }
}

#[test]
fn expired_certificate_is_refused() {
    let ca = Ca::new();
    let srv = tls_server(&ca.leaf(&["localhost"], true), BOTH, echo_route());
    let e = client_for(&ca).get(&format!("https://localhost:{}/", srv.addr.port())).unwrap_err();
    assert!(e.is_tls() && e.to_string().contains("expired"), "{e}");
}

#[test]
fn plain_http_on_the_https_port_is_a_clear_error() {
    let server = common::start_default(|_, resp| resp.write_body("plain"));
    let url = format!("https://127.0.0.1:{}/", server.local_addr().port());
    let started = Instant::now();
    let e = Client::builder().read_timeout(T).build().get(&url).unwrap_err();
    let msg = e.to_string();
    assert!(e.is_tls(), "{msg}");
    assert!(msg.contains("plain HTTP"), "{msg}");
    assert!(started.elapsed() < T, "answered by the server, not by a timeout: {msg}");
    server.shutdown();
}

#[test]
fn a_stalled_handshake_ends_with_the_read_timeout_or_the_call_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://localhost:{}/", listener.local_addr().unwrap().port());
    let held = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            keep.lock().push(s); // accepted, never answered
        }
    });
    let t = Duration::from_millis(300);
    for client in [Client::builder().read_timeout(t).build(), Client::builder().timeout(t).build()] {
        let started = Instant::now();
        let e = client.get(&url).unwrap_err();
        assert!(e.is_timeout(), "{e}");
        assert!(e.to_string().contains("TLS handshake with localhost"), "{e}");
        assert!(started.elapsed() >= t && started.elapsed() < T, "{:?}", started.elapsed());
    }
}

#[test]
fn redirects_between_http_and_https() {
    let ca = Ca::new();
    let plain = common::start_default(|req, resp| {
        if let Some(port) = req.path().strip_prefix("/go/") {
            resp.set_status(302);
            resp.set_header("Location", format!("https://localhost:{port}/secure"));
            return;
        }
        let auth = req.header("authorization").unwrap_or("none");
        resp.write_body(format!("plain {} auth={auth}", req.path()));
    });
    let plain_addr = plain.local_addr();
    let back = format!("http://{plain_addr}/landed");
    let route: Arc<Route> = Arc::new(move |p: &str| match p {
        "/to-http" => (format!("302 Found\r\nLocation: {back}"), String::new(), false),
        p => ("200 OK".to_owned(), format!("tls {p}"), false),
    });
    let srv = tls_server(&localhost(&ca), BOTH, route);
    let client = client_for(&ca);
    // http -> https
    let resp = client.get(&format!("http://{plain_addr}/go/{}", srv.addr.port())).unwrap();
    assert_eq!(resp.url(), format!("https://localhost:{}/secure", srv.addr.port()));
    assert_eq!(resp.text().unwrap(), "tls /secure");
    // https -> http: the credentials stay behind (another scheme is another origin)
    let req = shockwave::client::Request::get(&format!("https://localhost:{}/to-http", srv.addr.port()))
        .unwrap()
        .header("Authorization", "Bearer secret");
    let resp = client.send(&req).unwrap();
    assert_eq!(resp.url(), format!("http://{plain_addr}/landed"));
    assert_eq!(resp.text().unwrap(), "plain /landed auth=none");
    plain.shutdown();
}

/// Allocations per request on the reuse path over TLS, client side (printed, not asserted:
/// rustls allocates per record it seals).
#[test]
fn allocations_per_request_over_tls() {
    let ca = Ca::new();
    let srv = tls_server(&localhost(&ca), BOTH, echo_route());
    let client = client_for(&ca);
    let req = shockwave::client::Request::get(&format!("https://localhost:{}/a", srv.addr.port())).unwrap();
    let mut resp = shockwave::client::Response::default();
    for _ in 0..200 {
        client.send_into(&req, &mut resp).unwrap();
    }
    let n = 1000;
    let a0 = ALLOCS.load(SeqCst);
    COUNT.with(|c| c.set(true));
    for _ in 0..n {
        client.send_into(&req, &mut resp).unwrap();
    }
    COUNT.with(|c| c.set(false));
    let a = ALLOCS.load(SeqCst) - a0;
    assert_eq!((resp.status(), resp.body()), (200, &b"path /a"[..]));
    assert_eq!(client.connections_opened(&format!("https://localhost:{}/", srv.addr.port())), 1);
    println!("client over TLS: {a} allocations in {n} requests ({:.2} per request)", a as f64 / n as f64);
}

// --- independent servers: Python's ssl, nginx ---

fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, SeqCst);
    let d = std::env::temp_dir().join(format!("shockwave-client-tls-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `leaf`'s certificate and key as `cert.pem` and `key.pem` in `dir`.
fn write_leaf(dir: &Path, leaf: &Leaf) {
    std::fs::write(dir.join("cert.pem"), &leaf.cert_pem).unwrap();
    std::fs::write(dir.join("key.pem"), &leaf.key_pem).unwrap();
}

#[test]
fn python_http_server_over_ssl() {
    if !have("python3", "--version") {
        println!("SKIP: python3 not installed (scripts/test.sh installs it)");
        return;
    }
    let ca = Ca::new();
    let dir = temp_dir("python");
    write_leaf(&dir, &localhost(&ca));
    std::fs::create_dir(dir.join("www")).unwrap();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(dir.join("www/big.bin"), &big).unwrap();
    let script = r#"
import functools, http.server, ssl, sys
d = sys.argv[1]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(d + "/cert.pem", d + "/key.pem")
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=d + "/www")
s = http.server.HTTPServer(("127.0.0.1", 0), h)
s.socket = ctx.wrap_socket(s.socket, server_side=True)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;
    let child = Command::new("python3")
        .args(["-c", script, dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port: u16 = line.trim().parse().expect("the Python server did not start");
    let client = client_for(&ca);
    for _ in 0..2 {
        let resp = client.get(&format!("https://localhost:{port}/big.bin")).unwrap();
        assert_eq!((resp.status(), resp.content_length()), (200, Some(big.len() as u64)));
        assert!(resp.bytes().unwrap() == big, "the file came back different");
    }
    assert_eq!(client.get(&format!("https://127.0.0.1:{port}/missing")).unwrap().status(), 404);
    let _ = std::fs::remove_dir_all(&dir);
}

fn nginx_with_ssl() -> Option<PathBuf> {
    let bin = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())?;
    let v = Command::new(&bin).arg("-V").output().ok()?;
    String::from_utf8_lossy(&v.stderr).contains("--with-http_ssl_module").then_some(bin)
}

/// nginx on a free port with `ssl_protocols {protocol}`; logs `$connection $ssl_protocol`.
fn nginx_tls(bin: &Path, dir: &Path, protocol: &str) -> (KillOnDrop, u16) {
    let d = dir.display();
    let (main, temps) = (common::nginx_main(dir), common::nginx_temp_paths(dir));
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let conf = format!(
            r#"{main}
http {{
    log_format tls '$connection $ssl_protocol $uri $status';
    access_log {d}/access.log tls;
    {temps}
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {d}/cert.pem;
        ssl_certificate_key {d}/key.pem;
        ssl_protocols {protocol};
        root {d}/www;
        location = /ret {{ return 200 "hello over {protocol}\n"; }}
    }}
}}
"#
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        if let Some(child) = common::run_nginx(bin, dir, port, T) {
            return (child, port);
        }
    }
    panic!("nginx did not start: {}", std::fs::read_to_string(dir.join("error.log")).unwrap_or_default());
}

#[test]
fn nginx_tls12_and_tls13_keep_alive() {
    let Some(bin) = nginx_with_ssl() else {
        println!("SKIP: nginx with --with-http_ssl_module not installed (Debian's nginx-light has it)");
        return;
    };
    let ca = Ca::new();
    for protocol in ["TLSv1.2", "TLSv1.3"] {
        let dir = temp_dir("nginx");
        write_leaf(&dir, &localhost(&ca));
        std::fs::create_dir(dir.join("www")).unwrap();
        std::fs::write(dir.join("www/file.txt"), "a file over TLS\n").unwrap();
        let (_nginx, port) = nginx_tls(&bin, &dir, protocol);
        let client = client_for(&ca);
        let url = |p: &str| format!("https://localhost:{port}{p}");
        assert_eq!(client.get(&url("/ret")).unwrap().text().unwrap(), format!("hello over {protocol}\n"));
        assert_eq!(client.get(&url("/file.txt")).unwrap().text().unwrap(), "a file over TLS\n");
        assert_eq!(client.get(&url("/none")).unwrap().status(), 404);
        assert_eq!(client.connections_opened(&url("/")), 1);
        // nginx's view: one connection, the protocol asked for
        let deadline = Instant::now() + T;
        let lines = loop {
            let text = std::fs::read_to_string(dir.join("access.log")).unwrap_or_default();
            let lines: Vec<String> = text.lines().map(str::to_owned).collect();
            if lines.len() >= 3 || Instant::now() > deadline {
                break lines;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(lines.len(), 3, "{lines:?}");
        let conn = lines[0].split(' ').next().unwrap();
        for l in &lines {
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!((f[0], f[1]), (conn, protocol), "{lines:?}");
        }
        drop(_nginx);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// `examples/get.rs` built with `tls` fetches an https:// URL, trusting the CA in `CA=`; without
/// it the bundled roots refuse the test CA with the handshake's reason.
#[test]
fn get_example_over_https() {
    let ca = Ca::new();
    let srv = tls_server(&localhost(&ca), BOTH, echo_route());
    let dir = temp_dir("get");
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    let url = format!("https://localhost:{}/example", srv.addr.port());
    let get = common::example_with("get", &["tls"]);
    let out = Command::new(&get).arg(&url).env("CA", dir.join("ca.pem")).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("HTTP/1.1 200 OK") && stdout.ends_with("path /example"), "{stdout}");
    let out = Command::new(&get).arg(&url).env_remove("CA").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("UnknownIssuer"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
