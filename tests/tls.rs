//! The server over TLS (feature `tls`), with certificates made here (tests/common/certs.rs):
//! rustls clients for TLS 1.2 and 1.3 (keep-alive, pipelining, ALPN, SNI, large bodies both
//! ways, a file, close_notify on every close path), certificate reloads, plain and TLS
//! listeners in one server, a stalled handshake (bounded, holding nobody up), plain HTTP and
//! garbage on the TLS port, a WebSocket over TLS; then curl, Python's `ssl` (session
//! resumption for 1.2 and 1.3) and OpenSSL's `s_client` as independent clients. A test whose
//! tool is missing says "SKIP: …" and returns.
#![cfg(feature = "tls")]

mod common;
use common::certs::{localhost, Ca, Leaf};
use common::{have, parse_response, Resp};
use rustls::pki_types::ServerName;
use shockwave::tls::TlsConfig;
use shockwave::{Builder, Request, Response, Server, ServerHandle};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bound on any one wait a test expects to end.
const T: Duration = Duration::from_secs(10);

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

fn tls_of(leaf: &Leaf) -> TlsConfig {
    TlsConfig::from_pem(&leaf.cert_pem, &leaf.key_pem).unwrap()
}

fn serve(
    builder: Builder,
    tls: TlsConfig,
    handler: impl Fn(&Request, &mut Response) + Send + Sync + 'static,
) -> ServerHandle {
    builder.bind_tls("127.0.0.1:0", tls).unwrap().start(handler).unwrap()
}

fn light() -> Builder {
    Server::builder().pollers(2).workers(4)
}

/// A rustls client configuration trusting `cas`, for `versions`, offering `alpn`.
fn client_cfg(
    cas: &[&Ca],
    versions: &[&'static rustls::SupportedProtocolVersion],
    alpn: &[&str],
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in cas {
        roots.add(ca.der()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    Arc::new(cfg)
}

fn both() -> [&'static rustls::SupportedProtocolVersion; 2] {
    [&rustls::version::TLS13, &rustls::version::TLS12]
}

/// A TLS connection to `addr` as `name`, handshake done.
fn connect(addr: SocketAddr, cfg: &Arc<rustls::ClientConfig>, name: &str) -> std::io::Result<Tls> {
    let sock = TcpStream::connect(addr)?;
    sock.set_read_timeout(Some(T))?;
    sock.set_write_timeout(Some(T))?;
    let conn = rustls::ClientConnection::new(cfg.clone(), ServerName::try_from(name.to_owned()).unwrap())
        .map_err(std::io::Error::other)?;
    let mut s = rustls::StreamOwned::new(conn, sock);
    while s.conn.is_handshaking() {
        s.conn.complete_io(&mut s.sock)?;
    }
    Ok(s)
}

/// Reads one response (`head`: it answers a HEAD request).
fn read_response(s: &mut Tls, buf: &mut Vec<u8>, head: bool) -> Resp {
    let mut chunk = [0u8; 16384];
    loop {
        if let Some((r, used)) = parse_response(buf, head, false) {
            buf.drain(..used);
            return r;
        }
        let n = s.read(&mut chunk).expect("a response");
        assert!(n > 0, "the connection ended inside a response: {:?}", String::from_utf8_lossy(buf));
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn get(s: &mut Tls, path: &str) -> Resp {
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes()).unwrap();
    read_response(s, &mut Vec::new(), false)
}

/// After the last response: the server's close_notify, then the end (rustls reports a close
/// without close_notify as `UnexpectedEof`).
fn assert_clean_close(s: &mut Tls) {
    let mut rest = Vec::new();
    match s.read_to_end(&mut rest) {
        Ok(_) => assert!(rest.is_empty(), "nothing after the last response: {:?}", String::from_utf8_lossy(&rest)),
        Err(e) => panic!("the server closed without close_notify: {e}"),
    }
}

fn echo_handler(req: &Request, resp: &mut Response) {
    let body = req.body().unwrap_or_default().to_vec();
    let sni = req.tls_server_name().unwrap_or_default();
    resp.set_header("X-Tls", if req.is_tls() { "yes" } else { "no" });
    resp.set_header("X-Sni", sni);
    resp.set_header("X-Path", req.path());
    resp.write_body(body);
}

#[test]
fn keep_alive_and_pipelining_over_tls_1_3_and_1_2_with_alpn() {
    let ca = Ca::new();
    let server = serve(light(), tls_of(&localhost(&ca)), echo_handler);
    let addr = server.local_addr();
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let cfg = client_cfg(&[&ca], &[version], &["h2", "http/1.1"]);
        let mut s = connect(addr, &cfg, "localhost").unwrap();
        assert_eq!(s.conn.protocol_version(), Some(version.version));
        assert_eq!(s.conn.alpn_protocol(), Some(&b"http/1.1"[..]), "the server picks http/1.1 over h2");
        for i in 0..20 {
            let r = get(&mut s, &format!("/r{i}"));
            assert_eq!(r.status, 200);
            assert_eq!(r.header("x-path"), Some(format!("/r{i}").as_str()));
            assert_eq!(r.header("x-tls"), Some("yes"));
            assert_eq!(r.header("x-sni"), Some("localhost"));
        }
        // ten pipelined requests in one write, answered in order
        let mut burst = Vec::new();
        for i in 0..10 {
            burst.extend_from_slice(
                format!("POST /p{i} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{i:02}").as_bytes(),
            );
        }
        s.write_all(&burst).unwrap();
        let mut buf = Vec::new();
        for i in 0..10 {
            let r = read_response(&mut s, &mut buf, false);
            assert_eq!(
                (r.header("x-path").unwrap(), r.body.as_slice()),
                (format!("/p{i}").as_str(), format!("{i:02}").as_bytes())
            );
        }
    }
    // a client that wants h2 only is refused in the handshake, not served something else
    let h2 = client_cfg(&[&ca], &both(), &["h2"]);
    let e = connect(addr, &h2, "localhost").unwrap_err();
    assert!(e.to_string().contains("NoApplicationProtocol"), "{e}");
    // no ALPN at all is fine
    let none = client_cfg(&[&ca], &both(), &[]);
    assert_eq!(get(&mut connect(addr, &none, "localhost").unwrap(), "/x").status, 200);
    server.shutdown();
}

#[test]
fn large_bodies_both_ways_and_a_file() {
    let ca = Ca::new();
    let dir = std::env::temp_dir().join(format!("shockwave-tls-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(dir.join("big.bin"), &file).unwrap();
    let path = dir.join("big.bin");
    let server = serve(light().max_request_body(16 << 20), tls_of(&localhost(&ca)), move |req, resp| {
        match req.path() {
            // read through BodyReader (larger than a buffer: the rest streams from the session)
            "/sum" => {
                let mut r = req.body_reader();
                let (mut n, mut sum) = (0u64, 0u64);
                let mut b = [0u8; 8192];
                loop {
                    match r.read(&mut b) {
                        Ok(0) => break,
                        Ok(k) => {
                            n += k as u64;
                            sum = b[..k].iter().fold(sum, |s, &x| s.wrapping_mul(31).wrapping_add(u64::from(x)));
                        }
                        Err(e) => {
                            resp.set_status(400);
                            return resp.write_body(e.to_string());
                        }
                    }
                }
                resp.write_body(format!("{n} {sum}"));
            }
            "/stream" => {
                for i in 0..200u32 {
                    resp.write_all(&vec![(i % 256) as u8; 10_000]).unwrap();
                }
            }
            "/buffered" => resp.write_body(vec![7u8; 5 << 20]),
            _ => {
                #[cfg(feature = "fs")]
                let _ = shockwave::fs::serve_file(req, resp, &path);
                #[cfg(not(feature = "fs"))]
                let _ = &path;
            }
        }
    });
    let cfg = client_cfg(&[&ca], &both(), &["http/1.1"]);
    let mut s = connect(server.local_addr(), &cfg, "localhost").unwrap();
    let upload: Vec<u8> = (0..2_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let want = upload.iter().fold(0u64, |s, &x| s.wrapping_mul(31).wrapping_add(u64::from(x)));
    s.write_all(format!("POST /sum HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", upload.len()).as_bytes())
        .unwrap();
    s.write_all(&upload).unwrap();
    assert_eq!(read_response(&mut s, &mut Vec::new(), false).text(), format!("{} {want}", upload.len()));
    let r = get(&mut s, "/stream");
    assert_eq!(r.body.len(), 2_000_000);
    assert!(r.body.chunks(10_000).enumerate().all(|(i, c)| c.iter().all(|&b| b == (i % 256) as u8)));
    assert_eq!(get(&mut s, "/buffered").body, vec![7u8; 5 << 20]);
    if cfg!(feature = "fs") {
        // a file goes through the session (no sendfile under TLS), ranges too
        assert_eq!(get(&mut s, "/file").body, file);
        s.write_all(b"GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=1000000-1000099\r\n\r\n").unwrap();
        let r = read_response(&mut s, &mut Vec::new(), false);
        assert_eq!((r.status, r.body.as_slice()), (206, &file[1_000_000..1_000_100]));
    }
    assert_eq!(get(&mut s, "/sum").text(), "0 0", "the connection is still in step");
    server.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_close_path_sends_close_notify() {
    let ca = Ca::new();
    let builder = light().idle_timeout(Duration::from_millis(300)).max_request_body(1000);
    let server = serve(builder, tls_of(&localhost(&ca)), echo_handler);
    let addr = server.local_addr();
    let cfg = client_cfg(&[&ca], &both(), &["http/1.1"]);

    // Connection: close
    let mut s = connect(addr, &cfg, "localhost").unwrap();
    s.write_all(b"GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let r = read_response(&mut s, &mut Vec::new(), false);
    assert_eq!((r.status, r.header("connection")), (200, Some("close")));
    assert_clean_close(&mut s);

    // the idle timeout
    let mut s = connect(addr, &cfg, "localhost").unwrap();
    assert_eq!(get(&mut s, "/a").status, 200);
    assert_clean_close(&mut s);

    // a body over the limit: 413, then the close
    let mut s = connect(addr, &cfg, "localhost").unwrap();
    s.write_all(b"POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n").unwrap();
    s.write_all(&[b'x'; 5000]).unwrap();
    let r = read_response(&mut s, &mut Vec::new(), false);
    assert_eq!(r.status, 413);
    assert_clean_close(&mut s);

    // a malformed request: 400, then the close
    let mut s = connect(addr, &cfg, "localhost").unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut s, &mut Vec::new(), false).status, 400);
    assert_clean_close(&mut s);

    // shutdown with an idle connection open
    let mut s = connect(addr, &cfg, "localhost").unwrap();
    assert_eq!(get(&mut s, "/a").status, 200);
    server.shutdown();
    assert_clean_close(&mut s);
}

#[test]
fn a_stalled_handshake_is_bounded_and_holds_nobody_up() {
    let ca = Ca::new();
    // one poller and one worker: anything a stalled handshake held would stop the others
    // (no TCP_DEFER_ACCEPT: the silent ones are accepted at once too)
    let builder = Server::builder()
        .pollers(1)
        .workers(1)
        .read_header_timeout(Duration::from_millis(300))
        .defer_accept(Duration::ZERO);
    let server = serve(builder, tls_of(&localhost(&ca)), echo_handler);
    let addr = server.local_addr();
    let cfg = client_cfg(&[&ca], &both(), &["http/1.1"]);
    // 30 connections: silent ones, and ones that stop inside their ClientHello
    let mut stalled = Vec::new();
    for i in 0..30 {
        let mut t = TcpStream::connect(addr).unwrap();
        if i % 2 == 1 {
            t.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]).unwrap();
        }
        stalled.push(t);
    }
    for i in 0..5 {
        let mut s = connect(addr, &cfg, "localhost").unwrap();
        assert_eq!(get(&mut s, &format!("/{i}")).status, 200);
    }
    // each stalled one is closed by the header timeout (without an HTTP answer)
    let start = Instant::now();
    for mut t in stalled {
        t.set_read_timeout(Some(T)).unwrap();
        let mut b = Vec::new();
        let _ = t.read_to_end(&mut b);
        assert!(!b.starts_with(b"HTTP/"), "no HTTP answer to a handshake: {:?}", String::from_utf8_lossy(&b));
    }
    assert!(start.elapsed() < T, "the stalled handshakes were closed");
    assert!(server.stats().timeouts >= 30, "{:?}", server.stats().timeouts);
    server.shutdown();
}

#[test]
fn plain_http_and_garbage_on_the_tls_port() {
    let ca = Ca::new();
    let server = serve(light(), tls_of(&localhost(&ca)), echo_handler);
    let addr = server.local_addr();
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(T)).unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut answer = String::new();
    c.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{answer}");
    assert!(answer.contains("https://"), "{answer}");

    // a TLS record header followed by nonsense: closed (after an alert), nothing else
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(T)).unwrap();
    let mut junk = vec![0x16, 0x03, 0x01, 0x00, 0x40];
    junk.extend((0..64u8).map(|i| i.wrapping_mul(37)));
    c.write_all(&junk).unwrap();
    let mut got = Vec::new();
    let _ = c.read_to_end(&mut got);
    assert!(got.is_empty() || got[0] == 0x15, "an alert record or nothing: {got:?}");

    // and the server goes on
    let cfg = client_cfg(&[&ca], &both(), &["http/1.1"]);
    assert_eq!(get(&mut connect(addr, &cfg, "localhost").unwrap(), "/").status, 200);
    server.shutdown();
}

#[test]
fn sni_chooses_the_certificate_and_reloads_replace_them() {
    let (ca_a, ca_b) = (Ca::new(), Ca::new());
    let a = ca_a.leaf(&["a.test"], false);
    let b = ca_b.leaf(&["*.b.test"], false);
    let dir = std::env::temp_dir().join(format!("shockwave-tls-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("a.pem"), dir.join("a.key"));
    std::fs::write(&cert, &a.cert_pem).unwrap();
    std::fs::write(&key, &a.key_pem).unwrap();
    let tls = TlsConfig::from_pem_files(&cert, &key).unwrap().add_pem(&b.cert_pem, &b.key_pem).unwrap();
    let server = serve(light(), tls.clone(), echo_handler);
    let addr = server.local_addr();
    // a new client configuration each time: a resumed session would show the first certificate
    let fresh = || client_cfg(&[&ca_a, &ca_b], &both(), &["http/1.1"]);
    let leaf_of = |name: &str| connect(addr, &fresh(), name).unwrap().conn.peer_certificates().unwrap()[0].clone();

    let mut on_a = connect(addr, &fresh(), "a.test").unwrap();
    assert_eq!(on_a.conn.peer_certificates().unwrap()[0], a.der);
    assert_eq!(leaf_of("www.b.test"), b.der);
    assert_eq!(get(&mut on_a, "/").header("x-sni"), Some("a.test"));

    // renewed on disk: reload() presents the new one from the next handshake on
    let a2 = ca_a.leaf(&["a.test"], false);
    std::fs::write(&cert, &a2.cert_pem).unwrap();
    std::fs::write(&key, &a2.key_pem).unwrap();
    tls.reload().unwrap();
    assert_eq!(leaf_of("a.test"), a2.der);
    assert_eq!(get(&mut on_a, "/still").status, 200, "a connection made before keeps working");
    assert_eq!(leaf_of("x.b.test"), b.der, "the one from text stays");

    // a bad file: reload fails naming it, and the certificates in use stay
    std::fs::write(&key, "not a key").unwrap();
    let e = tls.reload().unwrap_err();
    assert!(e.to_string().contains("a.key"), "{e}");
    assert_eq!(leaf_of("a.test"), a2.der);

    // replace_certificates: another configuration's set
    let c = ca_b.leaf(&["a.test"], false);
    tls.replace_certificates(&tls_of(&c));
    assert_eq!(leaf_of("a.test"), c.der);
    server.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_proxy_header_before_tls() {
    let ca = Ca::new();
    let builder = light().proxy_protocol(true);
    let server = serve(builder, tls_of(&localhost(&ca)), |req, resp| resp.write_body(req.remote_addr().to_string()));
    let cfg = client_cfg(&[&ca], &both(), &["http/1.1"]);
    let mut v2 = b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c".to_vec();
    v2.extend([198, 51, 100, 9, 192, 0, 2, 1, 0x1f, 0x90, 0x01, 0xbb]); // 198.51.100.9:8080 -> :443
    let headers: [(&[u8], &str); 2] =
        [(b"PROXY TCP4 203.0.113.7 192.0.2.1 4000 443\r\n", "203.0.113.7:4000"), (&v2, "198.51.100.9:8080")];
    for (header, client) in headers {
        for bytewise in [false, true] {
            let mut sock = TcpStream::connect(server.local_addr()).unwrap();
            sock.set_nodelay(true).unwrap();
            if bytewise {
                for b in header {
                    sock.write_all(&[*b]).unwrap();
                }
            } else {
                sock.write_all(header).unwrap();
            }
            sock.set_read_timeout(Some(T)).unwrap();
            let conn = rustls::ClientConnection::new(cfg.clone(), ServerName::try_from("localhost").unwrap()).unwrap();
            let mut s = rustls::StreamOwned::new(conn, sock);
            assert_eq!(get(&mut s, "/").text(), client, "bytewise: {bytewise}");
            assert_eq!(get(&mut s, "/").text(), client, "keep-alive keeps it");
        }
    }
    // without the header the connection is refused, not served
    let e = connect(server.local_addr(), &cfg, "localhost").map(|mut s| get(&mut s, "/").status);
    assert!(e.is_err(), "{e:?}");
    server.shutdown();
}

#[test]
fn plain_and_tls_listeners_in_one_server() {
    let ca = Ca::new();
    let handle = Server::builder()
        .pollers(2)
        .workers(2)
        .bind("127.0.0.1:0")
        .unwrap()
        .bind_tls("127.0.0.1:0", tls_of(&localhost(&ca)))
        .unwrap()
        .start(echo_handler)
        .unwrap();
    let [plain, https] = handle.local_addrs()[..] else { panic!("two addresses: {:?}", handle.local_addrs()) };
    let mut c = common::Client::connect(plain);
    for _ in 0..3 {
        c.send(b"GET /p HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(c.read_response().header("x-tls"), Some("no"));
    }
    let cfg = client_cfg(&[&ca], &both(), &["http/1.1"]);
    let mut s = connect(https, &cfg, "localhost").unwrap();
    for _ in 0..3 {
        assert_eq!(get(&mut s, "/s").header("x-tls"), Some("yes"));
    }
    handle.shutdown();
}

#[test]
fn a_websocket_over_tls() {
    let ca = Ca::new();
    let server = serve(light(), tls_of(&localhost(&ca)), |req, resp| {
        let _ = shockwave::websocket::upgrade(req, resp, |stream| {
            let mut ws = tungstenite::WebSocket::from_raw_socket(stream, tungstenite::protocol::Role::Server, None);
            while let Ok(m) = ws.read() {
                if (m.is_text() || m.is_binary()) && ws.send(m).is_err() {
                    break;
                }
            }
        });
    });
    let cfg = client_cfg(&[&ca], &both(), &["http/1.1"]);
    let s = connect(server.local_addr(), &cfg, "localhost").unwrap();
    let (mut ws, _) =
        tungstenite::client::client(format!("wss://localhost:{}/", server.local_addr().port()), s).unwrap();
    for i in 0..50 {
        ws.send(tungstenite::Message::text(format!("hello {i}"))).unwrap();
        assert_eq!(ws.read().unwrap().into_text().unwrap().as_str(), format!("hello {i}"));
    }
    let big: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
    ws.send(tungstenite::Message::binary(big.clone())).unwrap();
    assert_eq!(ws.read().unwrap().into_data().to_vec(), big);
    ws.close(None).unwrap();
    server.shutdown();
}

#[test]
fn an_upgraded_tls_stream_writes_like_a_socket_with_a_timeout() {
    let ca = Ca::new();
    let (report, results) = std::sync::mpsc::channel();
    let (go, wait_go) = std::sync::mpsc::channel::<()>();
    let (report, wait_go) = (std::sync::Mutex::new(report), std::sync::Mutex::new(Some(wait_go)));
    let server = serve(light(), tls_of(&localhost(&ca)), move |req, resp| {
        let report = report.lock().unwrap().clone();
        let wait_go = wait_go.lock().unwrap().take();
        let _ = req.upgrade(resp, "raw", move |mut up| {
            up.set_write_timeout(Some(Duration::from_millis(200))).unwrap();
            // the client reads nothing yet: writes take what fits (as a socket's would) until
            // one times out, taking nothing …
            let chunk = vec![b'q'; 1 << 20];
            let (mut took, mut last) = (0, Ok(0));
            for _ in 0..256 {
                last = up.write(&chunk).map_err(|e| e.kind());
                match last {
                    Ok(n) => took += n,
                    Err(_) => break,
                }
            }
            // … and a flush of what was taken times out too
            let flushed = up.flush().map_err(|e| e.kind());
            report.send((took, last, flushed)).unwrap();
            wait_go.unwrap().recv().unwrap();
            up.set_write_timeout(None).unwrap();
            up.flush().unwrap(); // the client reads now: everything taken goes out
        });
    });
    let cfg = client_cfg(&[&ca], &both(), &["http/1.1"]);
    let mut s = connect(server.local_addr(), &cfg, "localhost").unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: raw\r\n\r\n").unwrap();
    let (n, last, flushed) = results.recv_timeout(T).unwrap();
    assert_eq!(last, Err(std::io::ErrorKind::WouldBlock), "a write that takes nothing times out ({n} taken before)");
    assert!(n > 0, "{n}");
    assert_eq!(flushed, Err(std::io::ErrorKind::WouldBlock), "a flush that cannot finish times out");
    go.send(()).unwrap();
    let head = read_response(&mut s, &mut Vec::new(), true);
    assert_eq!(head.status, 101);
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).expect("the stream's drop sends close_notify");
    assert_eq!(rest.len(), n, "exactly what the write reported, once");
    server.shutdown();
}

#[test]
fn idle_tls_connections_hold_no_thread() {
    let ca = Ca::new();
    let builder = Server::builder().pollers(1).workers(2);
    let server = serve(builder, tls_of(&localhost(&ca)), echo_handler);
    let cfg = client_cfg(&[&ca], &both(), &["http/1.1"]);
    let mut open = Vec::new();
    for i in 0..200 {
        let mut s = connect(server.local_addr(), &cfg, "localhost").unwrap();
        assert_eq!(get(&mut s, &format!("/{i}")).status, 200);
        open.push(s);
    }
    let st = server.stats();
    assert_eq!(st.connections_open, 200);
    assert!(st.workers <= 2, "two workers serve 200 idle TLS connections: {}", st.workers);
    // and every one of them is still usable
    for s in open.iter_mut().step_by(20) {
        assert_eq!(get(s, "/again").status, 200);
    }
    server.shutdown();
}

// --- independent clients ---

/// A server for the outside tools, with the CA's certificate written to a file.
fn for_tools(name: &str) -> (ServerHandle, std::path::PathBuf, Ca) {
    let ca = Ca::new();
    let dir = std::env::temp_dir().join(format!("shockwave-tls-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    let server = serve(light().max_request_body(8 << 20), tls_of(&localhost(&ca)), |req, resp| {
        if req.method() == "POST" {
            let n = req.body().map(|b| b.len()).unwrap_or(0);
            return resp.write_body(format!("got {n}"));
        }
        resp.write_body("Hello over TLS");
    });
    (server, dir, ca)
}

#[test]
fn curl_over_tls_1_2_and_1_3() {
    if !have("curl", "--version") {
        return println!("SKIP: curl not installed (scripts/test.sh installs it)");
    }
    let (server, dir, _ca) = for_tools("curl");
    let url = format!("https://127.0.0.1:{}/", server.local_addr().port());
    let ca = dir.join("ca.pem");
    std::fs::write(dir.join("up.bin"), vec![b'u'; 3 << 20]).unwrap();
    for versions in [["--tlsv1.2", "--tls-max", "1.2"], ["--tlsv1.3", "--tls-max", "1.3"]] {
        // three URLs on one connection (curl reuses it), then a 3 MiB upload
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "20", "--cacert", ca.to_str().unwrap()])
            .args(versions)
            .args(["-w", " %{http_code} %{http_version} %{num_connects} %{ssl_verify_result}\n"])
            .args([&url, &url, &url])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{versions:?}: {text} {}", String::from_utf8_lossy(&out.stderr));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines, ["Hello over TLS 200 1.1 1 0", "Hello over TLS 200 1.1 0 0", "Hello over TLS 200 1.1 0 0"]);
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "20", "--cacert", ca.to_str().unwrap()])
            .args(versions)
            .args(["--data-binary", &format!("@{}", dir.join("up.bin").display()), &url])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("got {}", 3 << 20), "{versions:?}");
    }
    server.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn python_ssl_resumes_sessions_with_tls_1_2_and_1_3() {
    if !have("python3", "--version") {
        return println!("SKIP: python3 not installed (scripts/test.sh installs it)");
    }
    let (server, dir, _ca) = for_tools("python");
    let script = r#"
import http.client, socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ctx.maximum_version = v
    session, results = None, []
    for i in range(3):
        conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=10)
        if session is None:
            conn.connect()
        else:
            raw = socket.create_connection(("127.0.0.1", port), timeout=10)
            conn.sock = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
        conn.request("GET", "/")
        r = conn.getresponse()
        body = r.read().decode()
        results.append((r.status, body, conn.sock.version(), conn.sock.session_reused))
        session = conn.sock.session
        conn.close()
    print(repr(results))
"#;
    let out = Command::new("python3")
        .args(["-c", script, &server.local_addr().port().to_string(), dir.join("ca.pem").to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text} {}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "[(200, 'Hello over TLS', 'TLSv1.2', False), (200, 'Hello over TLS', 'TLSv1.2', True), (200, 'Hello over TLS', 'TLSv1.2', True)]",
            "[(200, 'Hello over TLS', 'TLSv1.3', False), (200, 'Hello over TLS', 'TLSv1.3', True), (200, 'Hello over TLS', 'TLSv1.3', True)]",
        ]
    );
    server.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn openssl_s_client_sees_the_chain_alpn_and_a_resumed_session() {
    if !have("openssl", "version") {
        return println!("SKIP: openssl not installed");
    }
    let (server, dir, _ca) = for_tools("openssl");
    let connect = format!("127.0.0.1:{}", server.local_addr().port());
    let ca = dir.join("ca.pem");
    let out = Command::new("openssl")
        .args(["s_client", "-connect", &connect, "-CAfile", ca.to_str().unwrap(), "-alpn", "h2,http/1.1"])
        .args(["-servername", "localhost", "-tls1_2", "-reconnect"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
    assert!(text.contains("ALPN protocol: http/1.1"), "{text}");
    assert_eq!(text.matches("Reused, TLSv1.2").count(), 5, "s_client -reconnect resumes five times: {text}");
    server.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_slow_reader_of_a_large_tls_response_does_not_stall_others() {
    let ca = Ca::new();
    let server =
        serve(Server::builder().pollers(1).workers(1).write_timeout(T), tls_of(&localhost(&ca)), |req, resp| match req
            .path()
        {
            // (under 256 KiB: a worker leaves what the socket refuses to the poller)
            "/big" => resp.write_body(vec![b'b'; 250_000]),
            _ => resp.write_body("small"),
        });
    let cfg = client_cfg(&[&ca], &both(), &["http/1.1"]);
    let mut slow = connect(server.local_addr(), &cfg, "localhost").unwrap();
    slow.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    // the slow client reads nothing yet; others are served meanwhile
    for _ in 0..5 {
        let mut s = connect(server.local_addr(), &cfg, "localhost").unwrap();
        assert_eq!(get(&mut s, "/").text(), "small");
    }
    let r = read_response(&mut slow, &mut Vec::new(), false);
    assert_eq!(r.body.len(), 250_000);
    assert_eq!(get(&mut slow, "/").text(), "small");
    server.shutdown();
}
