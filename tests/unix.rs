//! HTTP over a Unix domain socket (`Builder::bind_unix`): raw bytes over
//! `std::os::unix::net::UnixStream`, curl's `--unix-socket`, and the socket file's life (a live
//! one refused, a stale one replaced, removed at shutdown).

mod common;

use common::{get, parse_response, Resp};
use shockwave::{Request, Response, Server, ServerHandle};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A socket path of this test's own (removed first if a crashed run left it).
fn path(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("shockwave-{}-{name}.sock", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

fn app(req: &Request, resp: &mut Response) {
    resp.set_content_type("text/plain");
    resp.write_body(format!("{} {} from {}", req.method(), req.path(), req.remote_addr()).as_bytes());
}

fn start(path: &PathBuf, pollers: usize) -> ServerHandle {
    Server::builder().pollers(pollers).workers(4).bind_unix(path).expect("bind_unix").start(app).expect("start")
}

/// A raw client over a Unix socket.
struct Client {
    stream: UnixStream,
    buf: Vec<u8>,
    closed: bool,
}

impl Client {
    fn connect(path: &PathBuf) -> Client {
        Client { stream: UnixStream::connect(path).expect("connect"), buf: Vec::new(), closed: false }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// Reads until a whole response is there (or the server closes), for up to 10 s.
    fn read_response(&mut self) -> Resp {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some((r, used)) = parse_response(&self.buf, false, self.closed) {
                self.buf.drain(..used);
                return r;
            }
            assert!(!self.closed, "the server closed before a whole response: {:?}", self.buf);
            self.fill(deadline);
            assert!(Instant::now() < deadline, "no response within 10 s");
        }
    }

    fn fill(&mut self, deadline: Instant) {
        let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        self.stream.set_read_timeout(Some(left)).unwrap();
        let mut tmp = [0u8; 16384];
        match self.stream.read(&mut tmp) {
            Ok(0) => self.closed = true,
            Ok(n) => self.buf.extend_from_slice(&tmp[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => self.closed = true,
        }
    }

    /// Whether the server closes the connection within 5 s (nothing else arriving first).
    fn closed_within_5s(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.closed && Instant::now() < deadline {
            self.fill(deadline);
        }
        self.closed && self.buf.is_empty()
    }
}

#[test]
fn keep_alive_pipelining_and_connection_close_over_a_unix_socket() {
    let p = path("keepalive");
    let s = start(&p, 2);
    assert_eq!(s.unix_path(), Some(p.as_path()));
    assert!(s.local_addr().ip().is_unspecified() && s.local_addr().port() == 0, "{}", s.local_addr());
    let mut c = Client::connect(&p);
    c.send(&get("/one"));
    let r = c.read_response();
    assert_eq!((r.status, r.text().as_str()), (200, "GET /one from 0.0.0.0:0"), "a Unix peer has no address");
    assert_eq!(r.header("connection"), None, "keep-alive by default");
    // pipelined, on the same connection
    c.send(&[get("/two"), get("/three")].concat());
    assert_eq!(c.read_response().text(), "GET /two from 0.0.0.0:0");
    assert_eq!(c.read_response().text(), "GET /three from 0.0.0.0:0");
    c.send(b"GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let r = c.read_response();
    assert_eq!((r.text().as_str(), r.header("connection")), ("GET /last from 0.0.0.0:0", Some("close")));
    assert!(c.closed_within_5s(), "closed after Connection: close");
    s.shutdown();
}

/// Every poller waits on the one socket; whichever wakes serves the connection. Many
/// connections at once, each with several requests, all get their answers.
#[test]
fn connections_from_many_clients_at_once_are_all_served() {
    let p = path("many");
    let s = start(&p, 2);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let p = p.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    let mut c = Client::connect(&p);
                    for k in 0..3 {
                        c.send(&get(&format!("/{t}/{i}/{k}")));
                        assert_eq!(c.read_response().text(), format!("GET /{t}/{i}/{k} from 0.0.0.0:0"));
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(s.stats().connections_accepted, 80);
    s.shutdown();
}

/// A per-IP cap has nothing to count for a Unix peer: it is not applied.
#[test]
fn the_per_ip_cap_does_not_apply_to_unix_peers() {
    let p = path("perip");
    let s =
        Server::builder().pollers(1).workers(2).max_connections_per_ip(1).bind_unix(&p).unwrap().start(app).unwrap();
    let mut a = Client::connect(&p);
    let mut b = Client::connect(&p);
    a.send(&get("/a"));
    b.send(&get("/b"));
    assert_eq!(a.read_response().status, 200);
    assert_eq!(b.read_response().status, 200);
    s.shutdown();
}

#[test]
fn a_second_server_on_a_live_path_is_refused_with_addr_in_use() {
    let p = path("live");
    let s = start(&p, 1);
    for pollers in [1, 2] {
        let e = Server::builder().pollers(pollers).bind_unix(&p).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse, "{e}");
        let text = e.to_string();
        assert!(text.contains(&p.display().to_string()) && text.contains("another server is listening"), "{text}");
    }
    // the first server is untouched: its file is still there and it still answers
    let mut c = Client::connect(&p);
    c.send(&get("/still"));
    assert_eq!(c.read_response().status, 200);
    // another program's listener counts too
    drop(c);
    s.shutdown();
    let other = std::os::unix::net::UnixListener::bind(&p).unwrap();
    let e = Server::builder().bind_unix(&p).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse, "{e}");
    drop(other);
    let _ = std::fs::remove_file(&p);
}

/// A server that died leaves its socket file; the next one replaces it.
#[test]
fn a_stale_socket_file_is_replaced() {
    let p = path("stale");
    drop(std::os::unix::net::UnixListener::bind(&p).unwrap()); // the file stays, nobody listens
    assert!(p.exists());
    let s = start(&p, 2);
    let mut c = Client::connect(&p);
    c.send(&get("/fresh"));
    assert_eq!(c.read_response().text(), "GET /fresh from 0.0.0.0:0");
    s.shutdown();
}

/// Only a socket file is ever removed: anything else in the way is an error, and stays.
#[test]
fn a_file_that_is_not_a_socket_is_left_alone() {
    let p = path("regular");
    std::fs::write(&p, b"precious").unwrap();
    let e = Server::builder().bind_unix(&p).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists, "{e}");
    assert!(e.to_string().contains(&p.display().to_string()), "{e}");
    assert_eq!(std::fs::read(&p).unwrap(), b"precious");
    std::fs::remove_file(&p).unwrap();
}

#[test]
fn the_socket_file_is_removed_on_shutdown() {
    let p = path("removed");
    let s = start(&p, 2);
    let mut idle = Client::connect(&p);
    idle.send(&get("/"));
    assert_eq!(idle.read_response().status, 200);
    s.shutdown();
    assert!(!p.exists(), "the socket file is gone after shutdown");
    assert!(idle.closed_within_5s(), "shutdown closed the idle keep-alive connection");
    // a server that never started removes its file too
    let unstarted = Server::builder().bind_unix(&p).unwrap();
    assert_eq!(unstarted.unix_path(), Some(p.as_path()));
    assert!(p.exists());
    drop(unstarted);
    assert!(!p.exists(), "dropping an unstarted server removes its file");
    // and the path is free for the next server
    start(&p, 1).shutdown();
    assert!(!p.exists());
}

/// A server that stopped must not remove the file of the one that replaced it.
#[test]
fn shutdown_leaves_a_newer_servers_file_alone() {
    let p = path("newer");
    let old = Server::builder().bind_unix(&p).unwrap();
    std::fs::remove_file(&p).unwrap(); // as an operator might, to start a new server
    let new = start(&p, 1);
    drop(old);
    assert!(p.exists(), "the new server's file stays");
    let mut c = Client::connect(&p);
    c.send(&get("/new"));
    assert_eq!(c.read_response().status, 200);
    new.shutdown();
    assert!(!p.exists());
}

#[test]
fn curl_over_a_unix_socket() {
    if !std::process::Command::new("curl").arg("--version").output().is_ok_and(|o| o.status.success()) {
        println!("skipped: curl not found");
        return;
    }
    let p = path("curl");
    let s = start(&p, 2);
    let sock = p.to_str().unwrap();
    let out = std::process::Command::new("curl")
        .args(["-s", "-i", "--unix-socket", sock, "http://localhost/hello", "http://localhost/again"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("\r\n\r\nGET /hello from 0.0.0.0:0HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\nGET /again from 0.0.0.0:0"), "{text}");
    let out = std::process::Command::new("curl")
        .args(["-s", "--unix-socket", sock, "--data-binary", "body", "http://localhost/post"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "POST /post from 0.0.0.0:0");
    s.shutdown();
}
