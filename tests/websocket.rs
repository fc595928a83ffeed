//! Protocol upgrades and WebSocket over real sockets: the handshake by raw bytes (the accept key
//! of RFC 6455 §1.3, the 400/426 refusals), bytes sent with the handshake, tungstenite's
//! client against `examples/websocket.rs`'s handler (text, binary, ping, close), many upgraded
//! connections at once with normal HTTP beside them and the open-connection count back at 0,
//! a shutdown that does not wait for upgraded connections, a Unix socket, and independent
//! clients: Python's `websockets` and Go's `golang.org/x/net/websocket` against the example.

mod common;

#[path = "../examples/websocket.rs"]
#[allow(dead_code)]
mod example;

use common::{start_default, wait_until, Client, KillOnDrop};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::Duration;
use tungstenite::Message;

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn handshake(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {KEY}\r\n{extra}\r\n"
    )
}

/// A masked client frame (RFC 6455 §5.2) of `opcode` with a payload under 126 bytes.
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x12, 0x34, 0x56, 0x78];
    let mut f = vec![0x80 | opcode, 0x80 | payload.len() as u8];
    f.extend_from_slice(&mask);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    f
}

/// Reads the response head (up to the empty line) byte by byte, leaving what follows.
fn read_head(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut b).unwrap(), 1, "the connection closed inside the head: {head:?}");
        head.push(b[0]);
    }
    String::from_utf8(head).unwrap()
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

fn ws_client(addr: SocketAddr) -> tungstenite::WebSocket<TcpStream> {
    let (ws, resp) = tungstenite::client(format!("ws://{addr}/chat"), connect(addr)).expect("handshake");
    assert_eq!(resp.status(), 101);
    ws
}

/// Sends `msg` and expects it back.
fn echoes(ws: &mut tungstenite::WebSocket<TcpStream>, msg: Message) {
    ws.send(msg.clone()).unwrap();
    assert_eq!(ws.read().unwrap(), msg);
}

#[test]
fn the_handshake_answers_101_with_the_accept_key_and_keeps_bytes_sent_along() {
    let s = start_default(example::handler);
    let mut c = connect(s.local_addr());
    // a text frame in the same write as the handshake belongs to the WebSocket
    let mut raw = handshake("/any/path?x=1", "").into_bytes();
    raw.extend(frame(1, b"early"));
    c.write_all(&raw).unwrap();
    let head = read_head(&mut c);
    assert!(head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"), "{head}");
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains("\r\nupgrade: websocket\r\n") && lower.contains("\r\nconnection: upgrade\r\n"), "{head}");
    assert!(head.contains(&format!("\r\nSec-WebSocket-Accept: {ACCEPT}\r\n")), "{head}");
    assert!(!lower.contains("content-length") && !lower.contains("transfer-encoding"), "{head}");
    let mut echo = [0u8; 7];
    c.read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"\x81\x05early", "the server's echo frame (unmasked)");
    c.write_all(&frame(2, b"\x00\x01\xff")).unwrap();
    let mut echo = [0u8; 5];
    c.read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"\x82\x03\x00\x01\xff");
}

#[test]
fn bad_handshakes_are_refused_with_400_or_426() {
    let s = start_default(example::handler);
    let no_key =
        "GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let bad_key = handshake("/", "").replace(KEY, "c2hvcnQ=");
    let old_version = handshake("/", "").replace("Version: 13", "Version: 8");
    let no_upgrade = "GET / HTTP/1.1\r\nHost: t\r\n\r\n".to_string();
    let no_connection = handshake("/", "").replace("keep-alive, Upgrade", "keep-alive");
    let post = handshake("/", "Content-Length: 5\r\n").replace("GET", "POST") + "hello";
    let chunked = handshake("/", "Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n";
    let http10 = handshake("/", "").replace("HTTP/1.1", "HTTP/1.0");
    for (raw, status, says) in [
        (no_key.to_string(), 400, "Sec-WebSocket-Key"),
        (bad_key, 400, "Sec-WebSocket-Key"),
        (old_version, 426, "Sec-WebSocket-Version: 13"),
        (no_upgrade, 426, "Upgrade: websocket"),
        (no_connection, 400, "Connection: upgrade"),
        (post, 400, "GET"),
        (chunked, 400, "body"),
        (http10, 400, "HTTP/1.0"),
    ] {
        let (resps, _) = common::exchange(s.local_addr(), raw.as_bytes(), 1);
        let r = &resps[0];
        assert_eq!(r.status, status, "{raw}: {}", r.text());
        assert!(r.text().contains(says), "{raw}: {}", r.text());
        if status == 426 {
            assert_eq!(r.header("sec-websocket-version"), Some("13"));
        }
    }
}

#[test]
fn earlier_pipelined_requests_are_answered_before_the_101() {
    let s = start_default(|req: &shockwave::Request, resp: &mut shockwave::Response| match req.path() {
        "/ws" => example::handler(req, resp),
        p => resp.write_body(format!("plain {p}")),
    });
    let mut c = connect(s.local_addr());
    let mut raw = b"GET /one HTTP/1.1\r\nHost: t\r\n\r\n".to_vec();
    raw.extend(handshake("/ws", "").into_bytes());
    raw.extend(frame(1, b"after"));
    c.write_all(&raw).unwrap();
    let first = read_head(&mut c);
    assert!(first.starts_with("HTTP/1.1 200 OK"), "{first}");
    let mut body = [0u8; 10];
    c.read_exact(&mut body).unwrap();
    assert_eq!(&body, b"plain /one");
    assert!(read_head(&mut c).starts_with("HTTP/1.1 101 "));
    let mut echo = [0u8; 7];
    c.read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"\x81\x05after");
}

#[test]
fn tungstenite_exchanges_text_binary_ping_and_close() {
    let s = start_default(example::handler);
    let mut ws = ws_client(s.local_addr());
    echoes(&mut ws, Message::text("hello, websocket"));
    echoes(&mut ws, Message::text("ü€𝄞".repeat(1000))); // a 16-bit length, multi-byte text
    echoes(&mut ws, Message::binary((0..=255u8).cycle().take(70_000).collect::<Vec<_>>())); // 64-bit length
    ws.send(Message::Ping(b"are you there".to_vec().into())).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Pong(b"are you there".to_vec().into()));
    echoes(&mut ws, Message::text("after the ping"));
    ws.close(None).unwrap();
    loop {
        match ws.read() {
            Ok(Message::Close(_)) => {}
            Ok(m) => panic!("unexpected {m:?} after close"),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("the close handshake failed: {e}"),
        }
    }
    // the server's thread closed the socket after the close handshake
    let mut rest = Vec::new();
    assert_eq!(ws.get_mut().read_to_end(&mut rest).unwrap(), 0);
    wait_until(|| s.stats().connections_open == 0);
}

#[test]
fn fifty_upgraded_connections_at_once_leave_http_working_and_are_not_counted() {
    const N: usize = 50;
    let s = start_default(|req: &shockwave::Request, resp: &mut shockwave::Response| match req.path() {
        "/ws" => example::handler(req, resp),
        _ => resp.write_body("plain"),
    });
    let addr = s.local_addr();
    let mut socks: Vec<_> =
        (0..N).map(|_| tungstenite::client(format!("ws://{addr}/ws"), connect(addr)).expect("handshake").0).collect();
    // upgraded connections are the server's no longer
    wait_until(|| s.stats().connections_open == 0);
    for round in 0..3 {
        for (i, ws) in socks.iter_mut().enumerate() {
            ws.send(Message::text(format!("{i}/{round}"))).unwrap();
        }
        let (resps, _) = common::exchange(addr, &common::get("/plain"), 1);
        assert_eq!(resps[0].text(), "plain", "HTTP beside {N} WebSockets");
        for (i, ws) in socks.iter_mut().enumerate() {
            assert_eq!(ws.read().unwrap(), Message::text(format!("{i}/{round}")));
        }
    }
    // and the same from threads of their own
    let threads: Vec<_> = socks
        .into_iter()
        .enumerate()
        .map(|(i, mut ws)| {
            std::thread::spawn(move || {
                for k in 0..10 {
                    echoes(&mut ws, Message::binary(format!("{i}:{k}").into_bytes()));
                }
                ws.close(None).unwrap();
                while ws.read().is_ok() {}
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut c = Client::connect(addr);
    c.send(&common::get("/after"));
    assert_eq!(c.read_response().text(), "plain");
    drop(c);
    wait_until(|| s.stats().connections_open == 0);
}

#[test]
fn upgraded_connections_give_back_their_place_under_the_connection_caps() {
    // one connection per client address, two in all: each upgrade frees its place
    let s = common::start(
        shockwave::Server::builder().workers(2).max_connections(2).max_connections_per_ip(1),
        example::handler,
    );
    let mut socks: Vec<_> = (0..5).map(|_| ws_client(s.local_addr())).collect();
    let (resps, _) = common::exchange(s.local_addr(), &common::get("/"), 1);
    assert_eq!(resps[0].status, 426, "plain HTTP still gets in");
    for ws in &mut socks {
        echoes(ws, Message::text("capped"));
    }
    wait_until(|| s.stats().connections_open == 0);
}

#[test]
fn a_shutdown_does_not_wait_for_upgraded_connections() {
    let s = start_default(example::handler);
    let mut socks: Vec<_> = (0..5).map(|_| ws_client(s.local_addr())).collect();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        s.shutdown();
        s.join();
        let _ = done.send(());
    });
    finished.recv_timeout(Duration::from_secs(20)).expect("the shutdown finished with WebSockets open");
    // the connections are theirs to end: they still echo
    for ws in &mut socks {
        echoes(ws, Message::text("still here"));
        ws.close(None).unwrap();
    }
}

#[test]
fn a_unix_socket_server_hands_over_a_unix_stream() {
    use std::os::unix::net::UnixStream;
    let path = std::env::temp_dir().join(format!("shockwave-ws-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let s = shockwave::Server::builder().workers(2).bind_unix(&path).unwrap().start(example::handler).unwrap();
    let mut c = UnixStream::connect(&path).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut raw = handshake("/", "").into_bytes();
    raw.extend(frame(1, b"unix"));
    c.write_all(&raw).unwrap();
    let mut got = Vec::new();
    let mut b = [0u8; 1];
    while !got.ends_with(b"\x81\x04unix") {
        assert_eq!(c.read(&mut b).unwrap(), 1, "closed early: {got:?}");
        got.push(b[0]);
    }
    assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 101 "));
    s.shutdown();
    s.join();
}

/// Starts `examples/websocket.rs` on a free port.
fn run_example() -> (KillOnDrop, SocketAddr) {
    let (child, lines) =
        common::spawn_lines(std::process::Command::new(common::example("websocket")).arg("127.0.0.1:0"));
    let line = lines.recv_timeout(Duration::from_secs(60)).expect("the example prints its address");
    (child, common::address_in(&line))
}

#[test]
fn python_websockets_client_talks_to_the_example() {
    let has = std::process::Command::new("python3").args(["-c", "import websockets"]).output();
    if !has.is_ok_and(|o| o.status.success()) {
        println!("SKIP: Python's websockets is not installed (scripts/test.sh installs it)");
        return;
    }
    let (_server, addr) = run_example();
    let script = r#"
import sys
from websockets.sync.client import connect
with connect(sys.argv[1], open_timeout=10, close_timeout=10) as ws:
    ws.send("hello from python")
    assert ws.recv(timeout=10) == "hello from python"
    ws.send(bytes(range(256)) * 300)
    assert ws.recv(timeout=10) == bytes(range(256)) * 300
    ws.ping(b"p").wait(timeout=10)
print("ok")
"#;
    let out = std::process::Command::new("python3").args(["-c", script, &format!("ws://{addr}/py")]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
}

#[test]
fn go_websocket_client_talks_to_the_example() {
    // golang.org/x/net/websocket from Debian's golang-golang-x-net-dev, in GOPATH mode
    if !std::path::Path::new("/usr/share/gocode/src/golang.org/x/net/websocket").exists() {
        println!("SKIP: golang.org/x/net/websocket is not installed (Debian's golang-golang-x-net-dev)");
        return;
    }
    if !std::process::Command::new("go").arg("version").output().is_ok_and(|o| o.status.success()) {
        println!("SKIP: go is not installed (scripts/test.sh installs golang-go)");
        return;
    }
    let (_server, addr) = run_example();
    let dir = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new("go")
        .args(["run", "tests/go/websocket.go", &format!("ws://{addr}/go")])
        .current_dir(dir)
        .env("GO111MODULE", "off")
        .env("GOPATH", "/usr/share/gocode")
        .env("GOCACHE", format!("{dir}/target/go-cache"))
        .env("GOFLAGS", "")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
}
