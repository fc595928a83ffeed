//! The blocking client (`shockwave::Client`) against Shockwave's own server and against raw
//! `TcpListener` threads that misbehave in ways a real server will not: pooling and its limits,
//! the retry rule, every body framing, streaming both ways, redirects, every timeout, and
//! malformed responses, which must end in an `Err` of the right kind, never a panic or a hang.
//!
//! Nothing here waits by sleeping: a test that needs the kernel to have seen something (the
//! server's FIN on a pooled connection, bytes in its receive queue) looks for it in
//! /proc/net/tcp, within `common::wait_until`'s bound. Raw servers bound every read by `T`.

mod common;

use common::{start, vm_hwm_kib, wait_until};
use crossbeam::channel::{bounded, Receiver, Sender};
use shockwave::client::{Body, Kind, Request, Response};
use shockwave::{Client, Server, ServerHandle};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Bound on every wait in a raw server, and the client timeout where a test only guards
/// against a hang.
const T: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Raw servers

/// One accepted connection of a raw server.
struct Peer {
    s: TcpStream,
    buf: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The value of header `name` in a raw head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

impl Peer {
    fn new(s: TcpStream) -> Peer {
        s.set_read_timeout(Some(T)).unwrap();
        s.set_write_timeout(Some(T)).unwrap();
        s.set_nodelay(true).unwrap();
        Peer { s, buf: Vec::new() }
    }

    fn fill(&mut self) -> bool {
        let mut tmp = [0u8; 65536];
        match self.s.read(&mut tmp) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&tmp[..n]);
                true
            }
        }
    }

    /// The next request head, keeping what follows it; `None` at end of stream.
    fn head(&mut self) -> Option<String> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                let h: Vec<u8> = self.buf.drain(..i + 4).collect();
                return Some(String::from_utf8_lossy(&h).into_owned());
            }
            if !self.fill() {
                return None;
            }
        }
    }

    fn body(&mut self, n: usize) -> Option<Vec<u8>> {
        while self.buf.len() < n {
            if !self.fill() {
                return None;
            }
        }
        Some(self.buf.drain(..n).collect())
    }

    /// The next request, its body read by `Content-Length`.
    fn request(&mut self) -> Option<(String, Vec<u8>)> {
        let h = self.head()?;
        let n = header(&h, "content-length").map_or(0, |v| v.parse().unwrap());
        let b = self.body(n)?;
        Some((h, b))
    }

    fn send(&mut self, b: impl AsRef<[u8]>) -> bool {
        self.s.write_all(b.as_ref()).is_ok()
    }

    /// Reads until the client closes (or `T` passes): the bytes that came after the last
    /// request read.
    fn until_eof(&mut self) -> usize {
        let mut n = std::mem::take(&mut self.buf).len();
        let mut tmp = [0u8; 65536];
        loop {
            match self.s.read(&mut tmp) {
                Ok(0) | Err(_) => return n,
                Ok(k) => n += k,
            }
        }
    }

    /// The client's end of this connection.
    fn client_port(&self) -> u16 {
        self.s.peer_addr().unwrap().port()
    }
}

/// A raw server: each accepted connection runs `script(index, peer)` on its own thread.
struct Raw {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Raw {
    fn start(script: impl Fn(usize, Peer) + Send + Sync + 'static) -> Raw {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let script = Arc::new(script);
        let (a, st) = (accepted.clone(), stop.clone());
        let thread = thread::spawn(move || {
            for s in l.incoming() {
                if st.load(SeqCst) {
                    return;
                }
                let Ok(s) = s else { continue };
                let i = a.fetch_add(1, SeqCst);
                let script = script.clone();
                thread::spawn(move || script(i, Peer::new(s)));
            }
        });
        Raw { addr, accepted, stop, thread: Some(thread) }
    }

    /// Answers every request on every connection with `resp`, keeping connections open.
    fn answering(resp: impl AsRef<[u8]> + Send + Sync + 'static) -> Raw {
        Raw::start(move |_, mut p| {
            while p.request().is_some() {
                if !p.send(resp.as_ref()) {
                    return;
                }
            }
        })
    }

    /// Reads one request per connection, writes `resp` and closes.
    fn once_then_close(resp: impl AsRef<[u8]> + Send + Sync + 'static) -> Raw {
        Raw::start(move |_, mut p| {
            if p.request().is_some() {
                p.send(resp.as_ref());
            }
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn accepted(&self) -> usize {
        self.accepted.load(SeqCst)
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        self.stop.store(true, SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The state (`st` in /proc/net/tcp: 1 established, 8 close-wait …) and receive-queue bytes of
/// the loopback socket from port `local` to port `remote`.
fn tcp_socket(local: u16, remote: u16) -> Option<(u8, u64)> {
    let text = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let port = |s: &str| u16::from_str_radix(s.rsplit(':').next()?, 16).ok();
    text.lines().skip(1).find_map(|line| {
        let c: Vec<&str> = line.split_whitespace().collect();
        if c.len() < 5 || port(c[1]) != Some(local) || port(c[2]) != Some(remote) {
            return None;
        }
        let st = u8::from_str_radix(c[3], 16).ok()?;
        let rx = u64::from_str_radix(c[4].split(':').nth(1)?, 16).ok()?;
        Some((st, rx))
    })
}

const CLOSE_WAIT: u8 = 8;

/// Waits until the client's socket `local` to the raw server has received the server's FIN.
fn wait_close_wait(local: u16, server: &Raw) {
    wait_until(|| tcp_socket(local, server.addr.port()).is_some_and(|(st, _)| st == CLOSE_WAIT));
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

// ---------------------------------------------------------------------------------------------
// Shockwave's server

fn server() -> ServerHandle {
    start(Server::builder().pollers(2).workers(4).max_request_body(u64::MAX), app)
}

fn app(req: &shockwave::Request, resp: &mut shockwave::Response) {
    let path = req.path().to_owned();
    let redirect = |resp: &mut shockwave::Response, code: u16, to: &str| {
        resp.set_status(code);
        resp.set_header("Location", to);
        resp.write_body(format!("see {to}"));
    };
    match path.as_str() {
        "/port" => resp.write_body(req.remote_addr().port().to_string()),
        "/big" => resp.write_body(pattern(1 << 20)),
        "/lines" => {
            for i in 0..5000 {
                writeln!(resp, "line {i}").unwrap();
            }
        }
        "/count" => {
            let mut n = 0u64;
            let mut sum = 0u64;
            let mut r = req.body_reader();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match r.read(&mut buf) {
                    Ok(0) => break,
                    Ok(k) => {
                        n += k as u64;
                        sum = buf[..k].iter().fold(sum, |s, &b| s.wrapping_add(b as u64));
                    }
                    Err(e) => return resp.write_body(format!("error {e}")),
                }
            }
            resp.write_body(format!("{n} {sum} chunked={} cl={:?}", req.is_chunked(), req.content_length()));
        }
        "/headers" => {
            let mut out = String::new();
            for (n, v) in req.headers() {
                out.push_str(&format!("{}: {}\n", n.to_ascii_lowercase(), String::from_utf8_lossy(v)));
            }
            resp.write_body(out);
        }
        "/loop" => redirect(resp, 302, "/loop"),
        "/dir/a" => redirect(resp, 302, "b?x=1"),
        p if p.starts_with("/chain/") => {
            let n: usize = p[7..].parse().unwrap();
            let codes = [301, 302, 303, 307, 308];
            match codes.get(n) {
                Some(&c) => redirect(resp, c, &format!("/chain/{}", n + 1)),
                None => resp.write_body(format!("{} {} end", req.method(), p)),
            }
        }
        p if p.starts_with("/r/") => {
            let code: u16 = p[3..].parse().unwrap();
            let to = req.query_string().and_then(|q| q.strip_prefix("to=")).unwrap_or("/echo").to_owned();
            redirect(resp, code, &to);
        }
        _ => {
            let mut body = Vec::new();
            req.body_reader().read_to_end(&mut body).unwrap();
            resp.write_body(format!("{} {} {} cl={:?}", req.method(), req.target(), body.len(), req.content_length()));
        }
    }
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

fn url(s: &ServerHandle, path: &str) -> String {
    format!("http://{}{path}", s.local_addr())
}

// ---------------------------------------------------------------------------------------------
// The pool

#[test]
fn sequential_gets_share_one_connection() {
    let s = server();
    let client = Client::new();
    let ports: Vec<String> = (0..10).map(|_| client.get(&url(&s, "/port")).unwrap().text().unwrap()).collect();
    assert!(ports.iter().all(|p| *p == ports[0]), "{ports:?}");
    assert_eq!(client.connections_opened(&url(&s, "/")), 1);
    assert_eq!(client.idle_connections(&url(&s, "/")), 1);
    assert_eq!(s.stats().connections_accepted, 1);
    s.shutdown();
}

#[test]
fn max_idle_zero_opens_one_connection_per_request() {
    let s = server();
    let client = Client::builder().max_idle_per_host(0).build();
    let mut ports: Vec<String> = (0..5).map(|_| client.get(&url(&s, "/port")).unwrap().text().unwrap()).collect();
    ports.dedup();
    assert_eq!(ports.len(), 5, "{ports:?}");
    assert_eq!(client.connections_opened(&url(&s, "/")), 5);
    assert_eq!(client.idle_connections(&url(&s, "/")), 0);
    assert_eq!(s.stats().connections_accepted, 5);
    s.shutdown();
}

#[test]
fn max_requests_per_conn_opens_a_new_one_after_three() {
    let s = server();
    let client = Client::builder().max_requests_per_conn(3).build();
    let ports: Vec<String> = (0..7).map(|_| client.get(&url(&s, "/port")).unwrap().text().unwrap()).collect();
    let mut groups = ports.clone();
    groups.dedup();
    assert_eq!(groups.len(), 3, "{ports:?}");
    assert!(ports[0] == ports[2] && ports[3] == ports[5] && ports[2] != ports[3], "{ports:?}");
    assert_eq!(client.connections_opened(&url(&s, "/")), 3);
    assert_eq!(s.stats().connections_accepted, 3);
    s.shutdown();
}

/// Starts `client.get(u)` on another thread; its outcome (status and body, or the error's kind)
/// comes on the channel.
fn get_in_background(client: &Client, u: String) -> Receiver<Result<(u16, String), Kind>> {
    let (tx, rx) = bounded(1);
    let c = client.clone();
    thread::spawn(move || {
        let r = c.get(&u).and_then(|r| {
            let status = r.status();
            Ok((status, r.text()?))
        });
        let _ = tx.send(r.map_err(|e| e.kind()));
    });
    rx
}

#[test]
fn a_request_waits_for_the_only_connection() {
    let s = server();
    let client = Client::builder().max_conns_per_host(1).build();
    // read: the waiting request gets the same connection
    let mut held = client.get(&url(&s, "/big")).unwrap();
    let waiting = get_in_background(&client, url(&s, "/port"));
    assert!(waiting.try_recv().is_err(), "a second connection was opened past max_conns_per_host(1)");
    let mut body = Vec::new();
    held.read_to_end(&mut body).unwrap();
    assert_eq!(body, pattern(1 << 20));
    let (status, _) = waiting.recv_timeout(T).expect("the waiting request never ran").unwrap();
    assert_eq!(status, 200);
    assert_eq!(client.connections_opened(&url(&s, "/")), 1);
    drop(held);

    // dropped with most of its body unread: its connection closes, the waiting one opens anew
    let held = client.get(&url(&s, "/big")).unwrap();
    let waiting = get_in_background(&client, url(&s, "/port"));
    assert!(waiting.try_recv().is_err());
    drop(held);
    let (status, _) = waiting.recv_timeout(T).expect("the waiting request never ran").unwrap();
    assert_eq!(status, 200);
    assert_eq!(client.connections_opened(&url(&s, "/")), 2);
    assert_eq!(s.stats().connections_accepted, 2);
    s.shutdown();
}

#[test]
fn pool_timeout_while_the_only_connection_is_held() {
    let s = server();
    let client = Client::builder().max_conns_per_host(1).pool_timeout(Duration::from_millis(100)).build();
    let held = client.get(&url(&s, "/big")).unwrap();
    let err = client.get(&url(&s, "/port")).unwrap_err();
    assert!(err.is_pool_timeout(), "{err:?}");
    assert!(err.to_string().contains("max_conns_per_host"), "{err}");
    drop(held);
    assert_eq!(client.get(&url(&s, "/port")).unwrap().status(), 200);
    s.shutdown();
}

// ---------------------------------------------------------------------------------------------
// A pooled connection the server closed, and the retry rule

/// A raw server whose first connection answers one request with keep-alive and then, once
/// told to, closes (reporting the client's port first); later connections answer everything.
/// `first_then`: what the first connection does after its first answer.
fn closing_server(first_then: impl Fn(&mut Peer) + Send + Sync + 'static) -> (Raw, Sender<()>, Receiver<u16>) {
    let (go_tx, go_rx) = bounded::<()>(1);
    let (port_tx, port_rx) = bounded::<u16>(1);
    let raw = Raw::start(move |i, mut p| {
        if i == 0 {
            p.request().unwrap();
            port_tx.send(p.client_port()).unwrap();
            p.send(OK);
            if go_rx.recv_timeout(T).is_ok() {
                first_then(&mut p);
            }
            return; // closed
        }
        while let Some((h, b)) = p.request() {
            let body = format!("{} {}", h.split(' ').next().unwrap(), b.len());
            p.send(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len()));
        }
    });
    (raw, go_tx, port_rx)
}

#[test]
fn get_on_a_pooled_connection_the_server_closed_is_retried() {
    let (raw, go, port) = closing_server(|_| {});
    let client = Client::new();
    assert_eq!(client.get(&raw.url("/")).unwrap().text().unwrap(), "ok");
    assert_eq!(client.idle_connections(&raw.url("/")), 1);
    go.send(()).unwrap();
    wait_close_wait(port.recv().unwrap(), &raw);
    assert_eq!(client.get(&raw.url("/")).unwrap().text().unwrap(), "GET 0");
    assert_eq!(client.connections_opened(&raw.url("/")), 2);
    assert_eq!(raw.accepted(), 2);
}

/// The server closes after reading the request (the race the peek before reuse cannot
/// close): an idempotent GET is sent once more, on a new connection.
#[test]
fn get_the_server_read_and_dropped_is_retried_on_a_new_connection() {
    let (raw, go, _port) = closing_server(|p| {
        p.request(); // reads the GET, then closes without answering
    });
    let client = Client::new();
    assert_eq!(client.get(&raw.url("/")).unwrap().text().unwrap(), "ok");
    go.send(()).unwrap();
    assert_eq!(client.get(&raw.url("/")).unwrap().text().unwrap(), "GET 0");
    assert_eq!(raw.accepted(), 2);
    assert_eq!(client.connections_opened(&raw.url("/")), 2);
}

#[test]
fn post_the_server_read_and_dropped_is_not_resent() {
    let (raw, go, _port) = closing_server(|p| {
        p.request(); // reads the POST, then closes without answering
    });
    let client = Client::new();
    assert_eq!(client.get(&raw.url("/")).unwrap().text().unwrap(), "ok");
    go.send(()).unwrap();
    let err = client.post(&raw.url("/"), "payload").unwrap_err();
    assert_eq!(err.kind(), Kind::Io, "{err:?}");
    assert!(err.to_string().contains("not sent again"), "{err}");
    assert_eq!(raw.accepted(), 1, "the POST went out again on a new connection");
    assert_eq!(client.connections_opened(&raw.url("/")), 1);
}

#[test]
fn post_on_a_pooled_connection_closed_before_sending_goes_on_a_new_one() {
    let (raw, go, port) = closing_server(|_| {});
    let client = Client::new();
    assert_eq!(client.get(&raw.url("/")).unwrap().text().unwrap(), "ok");
    go.send(()).unwrap();
    wait_close_wait(port.recv().unwrap(), &raw);
    assert_eq!(client.post(&raw.url("/"), "payload").unwrap().text().unwrap(), "POST 7");
    assert_eq!(raw.accepted(), 2);
}

// ---------------------------------------------------------------------------------------------
// Body framing

#[test]
fn chunked_response_with_trailers() {
    let raw = Raw::answering(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n\
          5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\nX-Other: 2\r\n\r\n",
    );
    let client = Client::new();
    for _ in 0..2 {
        let mut resp = client.get(&raw.url("/")).unwrap();
        assert_eq!(resp.trailer("x-checksum"), None, "not read yet");
        let mut body = String::new();
        resp.read_to_string(&mut body).unwrap();
        assert_eq!(body, "hello, world");
        assert_eq!(resp.trailer("x-checksum"), Some("abc"));
        assert_eq!(resp.trailer("X-Other"), Some("2"));
    }
    let mut resp = Response::default();
    client.send_into(&Request::get(&raw.url("/")).unwrap(), &mut resp).unwrap();
    assert_eq!((resp.body(), resp.trailer("x-checksum")), (&b"hello, world"[..], Some("abc")));
    let mut resp = client.get(&raw.url("/")).unwrap();
    assert_eq!(resp.read_body().unwrap(), b"hello, world");
    assert_eq!(resp.trailer("x-checksum"), Some("abc"));
    drop(resp);
    assert_eq!(client.connections_opened(&raw.url("/")), 1, "a chunked body keeps the connection");
    assert_eq!(raw.accepted(), 1);
}

#[test]
fn close_delimited_bodies() {
    for head in ["HTTP/1.0 200 OK\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"] {
        let body = pattern(100_000);
        let mut resp = head.as_bytes().to_vec();
        resp.extend_from_slice(&body);
        let raw = Raw::once_then_close(resp);
        let client = Client::new();
        for _ in 0..2 {
            let r = client.get(&raw.url("/")).unwrap();
            assert_eq!(r.content_length(), None);
            assert_eq!(r.bytes().unwrap(), body, "{head:?}");
        }
        assert_eq!(client.connections_opened(&raw.url("/")), 2, "{head:?}: a close-delimited body ends its connection");
        assert_eq!(raw.accepted(), 2);
    }
}

#[test]
fn head_reads_no_body_even_with_content_length() {
    let s = server();
    let client = Client::new();
    let resp = client.head(&url(&s, "/big")).unwrap();
    assert_eq!(resp.content_length(), Some(1 << 20));
    assert_eq!(resp.bytes().unwrap(), b"");
    assert_eq!(client.idle_connections(&url(&s, "/")), 1);
    assert_eq!(client.get(&url(&s, "/x")).unwrap().text().unwrap(), "GET /x 0 cl=None");
    assert_eq!(client.connections_opened(&url(&s, "/")), 1);
    s.shutdown();
}

#[test]
fn no_content_and_not_modified_have_no_body() {
    let answers: [&[u8]; 3] = [
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\nETag: \"x\"\r\n\r\n",
        OK,
    ];
    let raw = Raw::start(move |_, mut p| {
        for a in answers {
            if p.request().is_none() || !p.send(a) {
                return;
            }
        }
    });
    let client = Client::new();
    let r = client.get(&raw.url("/")).unwrap();
    assert_eq!((r.status(), r.bytes().unwrap()), (204, vec![]));
    let r = client.get(&raw.url("/")).unwrap();
    assert_eq!((r.status(), r.header("etag"), r.content_length()), (304, Some("\"x\""), Some(50)));
    assert_eq!(r.bytes().unwrap(), b"");
    assert_eq!(client.get(&raw.url("/")).unwrap().text().unwrap(), "ok");
    assert_eq!(raw.accepted(), 1);
}

#[test]
fn interim_responses_are_skipped() {
    let raw = Raw::answering(
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n\
          HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n\
          HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
    let client = Client::new();
    for _ in 0..2 {
        let r = client.get(&raw.url("/")).unwrap();
        assert_eq!((r.status(), r.header("link")), (200, None));
        assert_eq!(r.text().unwrap(), "ok");
    }
    let mut resp = Response::default();
    client.send_into(&Request::get(&raw.url("/")).unwrap(), &mut resp).unwrap();
    assert_eq!((resp.status(), resp.body()), (200, &b"ok"[..]));
    assert_eq!(raw.accepted(), 1);
}

#[test]
fn expect_continue_sends_the_body_after_100() {
    let (tx, rx) = bounded(1);
    let raw = Raw::start(move |_, mut p| {
        let h = p.head().unwrap();
        // no body before the 100 (a client that sent it at once would usually be caught)
        let early = p.buf.len();
        p.send("HTTP/1.1 100 Continue\r\n\r\n");
        let n: usize = header(&h, "content-length").unwrap().parse().unwrap();
        let body = p.body(n).unwrap();
        p.send(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{}", n.to_string().len(), n));
        tx.send((header(&h, "expect").map(str::to_owned), early, body)).unwrap();
    });
    let client = Client::builder().expect_timeout(T).build();
    let body = pattern(100_000);
    let req = Request::put(&raw.url("/up")).unwrap().header("Expect", "100-continue").body(body.clone());
    assert_eq!(client.send(&req).unwrap().text().unwrap(), "100000");
    let (expect, early, got) = rx.recv_timeout(T).unwrap();
    assert_eq!((expect.as_deref(), early), (Some("100-continue"), 0));
    assert!(got == body);
}

#[test]
fn expect_continue_refused_without_100_sends_no_body() {
    for answer in ["417 Expectation Failed", "413 Content Too Large"] {
        let (tx, rx) = bounded(1);
        let raw = Raw::start(move |_, mut p| {
            p.head().unwrap();
            p.send(format!("HTTP/1.1 {answer}\r\nContent-Length: 4\r\n\r\nnope"));
            tx.send(p.until_eof()).unwrap();
        });
        let client = Client::builder().expect_timeout(T).build();
        let req = Request::post(&raw.url("/up")).unwrap().header("Expect", "100-continue").body(pattern(50_000));
        let resp = client.send(&req).unwrap();
        assert_eq!(resp.status(), answer[..3].parse::<u16>().unwrap());
        assert_eq!(resp.text().unwrap(), "nope");
        // the connection is not kept (its request was never completed): the server sees the
        // close, and no body byte before it
        assert_eq!(rx.recv_timeout(T).unwrap(), 0, "{answer}: the body was sent");
        assert_eq!(client.idle_connections(&raw.url("/")), 0);
    }
}

#[test]
fn expect_continue_ignored_by_the_server_sends_the_body_after_the_wait() {
    let raw = Raw::start(|_, mut p| {
        while let Some((_, b)) = p.request() {
            p.send(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{}", b.len().to_string().len(), b.len()));
        }
    });
    let client = Client::builder().expect_timeout(Duration::from_millis(50)).build();
    let req = Request::post(&raw.url("/")).unwrap().header("Expect", "100-continue").body("12345");
    assert_eq!(client.send(&req).unwrap().text().unwrap(), "5");
    // but not past the whole call's timeout
    let silent = Raw::start(|_, mut p| {
        p.until_eof();
    });
    let client = Client::builder().expect_timeout(T).timeout(Duration::from_millis(200)).build();
    let req = Request::post(&silent.url("/")).unwrap().header("Expect", "100-continue").body("12345");
    let err = client.send(&req).unwrap_err();
    assert!(err.is_timeout() && err.to_string().contains("the request's timeout passed"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Streaming

#[test]
fn streamed_uploads_of_50_mb() {
    let s = server();
    let client = Client::new();
    const N: u64 = 50 << 20;
    let sum = N * b'x' as u64;
    let r = client.post(&url(&s, "/count"), Body::reader(io::repeat(b'x').take(N))).unwrap();
    assert_eq!(r.text().unwrap(), format!("{N} {sum} chunked=true cl=None"));
    let r = client.put(&url(&s, "/count"), Body::sized(io::repeat(b'x').take(N), N)).unwrap();
    assert_eq!(r.text().unwrap(), format!("{N} {sum} chunked=false cl=Some({N})"));
    assert_eq!(client.connections_opened(&url(&s, "/")), 1);
    s.shutdown();
}

#[test]
fn a_body_reader_of_the_wrong_length_fails() {
    let s = server();
    let client = Client::new();
    let err = client.post(&url(&s, "/count"), Body::sized(io::repeat(b'x').take(10), 20)).unwrap_err();
    assert_eq!(err.kind(), Kind::Body, "{err}");
    let err = client.post(&url(&s, "/count"), Body::sized(io::repeat(b'x').take(30), 20)).unwrap_err();
    assert_eq!(err.kind(), Kind::Body, "{err}");
    assert_eq!(client.get(&url(&s, "/x")).unwrap().status(), 200);
    s.shutdown();
}

#[test]
fn response_bodies_read_through_small_buffers() {
    let s = server();
    let client = Client::new();
    let lines: String = (0..5000).map(|i| format!("line {i}\n")).collect();
    for size in [1, 7, 100, 4095, 4096, 65536] {
        for (path, want) in [("/lines", lines.as_bytes().to_vec()), ("/big", pattern(1 << 20))] {
            let mut resp = client.get(&url(&s, path)).unwrap();
            let mut got = Vec::new();
            let mut buf = vec![0u8; size];
            loop {
                let n = resp.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                assert!(got.len() <= want.len());
            }
            assert!(got == want, "{path} read {size} bytes at a time");
        }
    }
    assert_eq!(client.connections_opened(&url(&s, "/")), 1);
    s.shutdown();
}

/// Set in the child process that runs the 1 GiB download alone (peak RSS is per process, and
/// the other tests in this binary allocate as they run).
const ALONE: &str = "SHOCKWAVE_CLIENT_TEST_ALONE";

#[test]
fn one_gib_download_in_constant_memory() {
    if vm_hwm_kib().is_none() {
        println!("SKIP: no VmHWM in /proc/self/status to measure peak memory with");
        return;
    }
    if std::env::var_os(ALONE).is_none() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "one_gib_download_in_constant_memory", "--nocapture", "--test-threads=1"])
            .env(ALONE, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    const CHUNK: usize = 64 * 1024;
    const COUNT: usize = 16_384;
    let raw = Raw::start(|_, mut p| {
        p.request().unwrap();
        p.send(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", CHUNK * COUNT));
        let chunk = pattern(CHUNK);
        for _ in 0..COUNT {
            if !p.send(&chunk) {
                return;
            }
        }
        p.request(); // the next request, or the client's close
    });
    let client = Client::new();
    let before = vm_hwm_kib().unwrap();
    let mut resp = client.get(&raw.url("/1g")).unwrap();
    assert_eq!(resp.content_length(), Some(1 << 30));
    let n = io::copy(&mut resp, &mut io::sink()).unwrap();
    assert_eq!(n, 1 << 30);
    drop(resp);
    let grew = vm_hwm_kib().unwrap().saturating_sub(before);
    assert!(grew < 64 * 1024, "peak RSS grew by {grew} KiB reading 1 GiB");
    assert_eq!(client.idle_connections(&raw.url("/")), 1, "read to the end, so pooled");
}

#[test]
fn dropping_a_response_early() {
    const BIG: usize = 64 << 20;
    let raw = Raw::start(|_, mut p| {
        while let Some((h, _)) = p.request() {
            if h.starts_with("GET /big ") {
                p.send(format!("HTTP/1.1 200 OK\r\nContent-Length: {BIG}\r\n\r\n"));
                let chunk = pattern(64 * 1024);
                for _ in 0..BIG / chunk.len() {
                    if !p.send(&chunk) {
                        return; // the client closed
                    }
                }
            } else {
                p.send(format!("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}", "z".repeat(100)));
            }
        }
    });
    let client = Client::new();
    // the rest of a small body came with the head: the connection is kept
    let r = client.get(&raw.url("/small")).unwrap();
    drop(r);
    assert_eq!(client.idle_connections(&raw.url("/")), 1);
    assert_eq!(client.get(&raw.url("/small")).unwrap().bytes().unwrap().len(), 100);
    assert_eq!(raw.accepted(), 1);
    // most of a big body still to come: closed, without waiting for it
    let mut r = client.get(&raw.url("/big")).unwrap();
    let mut first = [0u8; 1000];
    r.read_exact(&mut first).unwrap();
    drop(r);
    assert_eq!(client.idle_connections(&raw.url("/")), 0);
    assert_eq!(client.get(&raw.url("/small")).unwrap().bytes().unwrap().len(), 100);
    assert_eq!(raw.accepted(), 2);
    assert_eq!(client.connections_opened(&raw.url("/")), 2);
}

// ---------------------------------------------------------------------------------------------
// Redirects

#[test]
fn redirect_chain_of_every_code() {
    let s = server();
    let client = Client::new();
    let r = client.get(&url(&s, "/chain/0")).unwrap();
    assert_eq!(r.url(), url(&s, "/chain/5"));
    assert_eq!(r.text().unwrap(), "GET /chain/5 end");
    assert_eq!(client.connections_opened(&url(&s, "/")), 1, "the redirects' bodies were read, the connection kept");
    s.shutdown();
}

#[test]
fn see_other_and_post_moved_turn_into_get_without_body() {
    let s = server();
    let client = Client::new();
    for code in [301, 302, 303] {
        let r = client.post(&url(&s, &format!("/r/{code}?to=/echo")), "abc").unwrap();
        assert_eq!(r.text().unwrap(), "GET /echo 0 cl=None", "{code}");
    }
    // a HEAD stays a HEAD
    let r = client.head(&url(&s, "/r/303?to=/echo")).unwrap();
    assert_eq!((r.status(), r.url()), (200, url(&s, "/echo").as_str()));
    s.shutdown();
}

#[test]
fn temporary_and_permanent_redirects_keep_post_and_body() {
    let s = server();
    let client = Client::new();
    for code in [307, 308] {
        let r = client.post(&url(&s, &format!("/r/{code}?to=/echo")), "abc").unwrap();
        assert_eq!(r.text().unwrap(), "POST /echo 3 cl=Some(3)", "{code}");
        let r = client.put(&url(&s, &format!("/r/{code}?to=/echo")), "abcd").unwrap();
        assert_eq!(r.text().unwrap(), "PUT /echo 4 cl=Some(4)", "{code}");
    }
    // a streamed body cannot be sent twice: the 307 is the answer
    let r = client.post(&url(&s, "/r/307?to=/echo"), Body::reader(&b"abc"[..])).unwrap();
    assert_eq!(r.status(), 307);
    s.shutdown();
}

#[test]
fn relative_location() {
    let s = server();
    let r = Client::new().get(&url(&s, "/dir/a")).unwrap();
    assert_eq!(r.url(), url(&s, "/dir/b?x=1"));
    assert_eq!(r.text().unwrap(), "GET /dir/b?x=1 0 cl=None");
    s.shutdown();
}

#[test]
fn redirect_loop_is_an_error_naming_the_limit() {
    let s = server();
    let err = Client::new().get(&url(&s, "/loop")).unwrap_err();
    assert!(err.is_redirect(), "{err:?}");
    assert!(err.to_string().contains("more than 10 redirects"), "{err}");
    let err = Client::builder().max_redirects(3).build().get(&url(&s, "/loop")).unwrap_err();
    assert!(err.is_redirect() && err.to_string().contains("more than 3 redirects"), "{err}");
    s.shutdown();
}

#[test]
fn max_redirects_zero_returns_the_redirect() {
    let s = server();
    let r = Client::builder().max_redirects(0).build().get(&url(&s, "/r/301?to=/echo")).unwrap();
    assert_eq!((r.status(), r.header("location")), (301, Some("/echo")));
    assert_eq!(r.text().unwrap(), "see /echo");
    s.shutdown();
}

#[test]
fn credentials_follow_redirects_only_on_the_same_host() {
    let a = server();
    let b = server();
    let client = Client::new();
    let send = |to: String| {
        let req = Request::get(&url(&a, &format!("/r/302?to={to}")))
            .unwrap()
            .header("Authorization", "Bearer secret")
            .header("Cookie", "id=1")
            .header("X-Other", "kept");
        client.send(&req).unwrap().text().unwrap()
    };
    let same = send("/headers".into());
    assert!(same.contains("authorization: Bearer secret") && same.contains("cookie: id=1"), "{same}");
    let other = send(url(&b, "/headers"));
    assert!(!other.contains("authorization") && !other.contains("cookie"), "{other}");
    assert!(other.contains("x-other: kept"), "{other}");
    a.shutdown();
    b.shutdown();
}

#[test]
fn send_into_never_follows() {
    let s = server();
    let client = Client::new();
    let mut resp = Response::default();
    client.send_into(&Request::get(&url(&s, "/r/301?to=/echo")).unwrap(), &mut resp).unwrap();
    assert_eq!((resp.status(), resp.body()), (301, &b"see /echo"[..]));
    client.send_into(&Request::get(&url(&s, "/x")).unwrap(), &mut resp).unwrap();
    assert_eq!((resp.status(), resp.body()), (200, &b"GET /x 0 cl=None"[..]));
    s.shutdown();
}

// ---------------------------------------------------------------------------------------------
// Timeouts

#[test]
fn read_timeout_when_the_server_never_answers() {
    let raw = Raw::start(|i, mut p| {
        if i == 0 {
            p.head();
            p.until_eof(); // never answers
        } else {
            while p.request().is_some() && p.send(OK) {}
        }
    });
    let client = Client::builder().read_timeout(Duration::from_secs(1)).build();
    let err = client.get(&raw.url("/")).unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_eq!(client.get(&raw.url("/")).unwrap().text().unwrap(), "ok");
    assert_eq!(client.connections_opened(&raw.url("/")), 2);
}

#[test]
fn a_connection_that_timed_out_mid_body_is_not_reused() {
    let raw = Raw::start(|_, mut p| {
        while let Some((h, _)) = p.request() {
            if h.starts_with("GET /stall ") {
                p.send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345");
            } else {
                p.send(OK);
            }
        }
    });
    let client = Client::builder().read_timeout(Duration::from_secs(1)).build();
    assert_eq!(client.get(&raw.url("/")).unwrap().text().unwrap(), "ok");
    // streamed
    let mut r = client.get(&raw.url("/stall")).unwrap();
    let mut body = Vec::new();
    let err = r.read_to_end(&mut body).unwrap_err();
    assert_eq!((err.kind(), &body[..]), (io::ErrorKind::TimedOut, &b"12345"[..]));
    drop(r);
    assert_eq!(client.get(&raw.url("/")).unwrap().text().unwrap(), "ok");
    assert_eq!(raw.accepted(), 2);
    // read whole
    let mut resp = Response::default();
    let err = client.send_into(&Request::get(&raw.url("/stall")).unwrap(), &mut resp).unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(client.get(&raw.url("/")).unwrap().text().unwrap(), "ok");
    assert_eq!(raw.accepted(), 3);
    assert_eq!(client.connections_opened(&raw.url("/")), 3);
}

/// A server that reads nothing of the request until told to stop, or until `T` passes, and
/// then answers 413: a client still waiting for an answer after its write timed out (the
/// wait stretching the write timeout by a read timeout) takes that answer instead of failing.
#[test]
fn write_timeout_when_the_server_never_reads() {
    let (txs, rxs): (Vec<Sender<()>>, Vec<Receiver<()>>) = (0..2).map(|_| bounded(1)).unzip();
    let raw = Raw::start(move |i, mut p| {
        if rxs[i].recv_timeout(T).is_err() {
            p.send("HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    let client = Client::builder().write_timeout(Duration::from_millis(200)).read_timeout(T * 2).build();
    let body = vec![b'x'; 64 << 20];
    let err = client.post(&raw.url("/"), &body).unwrap_err();
    txs[0].send(()).unwrap();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("sending the request body timed out"), "{err}");
    let err = client.put(&raw.url("/"), Body::sized(io::repeat(b'x').take(64 << 20), 64 << 20)).unwrap_err();
    txs[1].send(()).unwrap();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(raw.accepted(), 2);
}

/// Sends a response head and then its body one byte per 50 ms (the server's pace; the test
/// asserts nothing about time), at most `n` bytes.
fn trickling_server(n: usize) -> Raw {
    Raw::start(move |_, mut p| {
        p.request();
        p.send(format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n"));
        for _ in 0..n {
            thread::sleep(Duration::from_millis(50));
            if !p.send(b"x") {
                return;
            }
        }
    })
}

#[test]
fn whole_call_timeout_with_a_steady_trickle() {
    let raw = trickling_server(200);
    let client = Client::builder().read_timeout(T).timeout(Duration::from_millis(300)).build();
    let mut resp = Response::default();
    let err = client.send_into(&Request::get(&raw.url("/")).unwrap(), &mut resp).unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

#[test]
fn whole_call_timeout_while_the_head_trickles() {
    let raw = Raw::start(|_, mut p| {
        p.request();
        for b in b"HTTP/1.1 200 OK\r\nX-Slow: ".iter().chain([b'a'; 200].iter()) {
            thread::sleep(Duration::from_millis(50));
            if !p.send([*b]) {
                return;
            }
        }
    });
    let client = Client::builder().read_timeout(T).timeout(Duration::from_millis(300)).build();
    let err = client.get(&raw.url("/")).unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

#[test]
fn connect_timeout_on_a_full_accept_queue() {
    use socket2::{Domain, Socket, Type};
    // A listener nobody accepts from, with the smallest queue: once it is full, Linux drops
    // further SYNs, so a connect gets no answer (see the same trick in src/client/connect.rs).
    let full = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    full.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into()).unwrap();
    full.listen(0).unwrap();
    let addr = full.local_addr().unwrap().as_socket().unwrap();
    let mut queued = Vec::new();
    loop {
        assert!(queued.len() < 64, "the accept queue never filled");
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => queued.push(s),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => break,
            Err(e) => {
                println!("SKIP: cannot fill an accept queue here: {e}");
                return;
            }
        }
    }
    let client = Client::builder().connect_timeout(Duration::from_millis(200)).build();
    let err = client.get(&format!("http://{addr}/")).unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("timed out"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Malformed responses

/// RFC 9112 §2.2 lets a recipient take a lone LF as a line end; small servers that write
/// `\n` only are read (as curl and Go read them), with the connection kept.
#[test]
fn responses_with_bare_lf_line_ends_are_read() {
    let raw = Raw::answering(b"HTTP/1.1 200 OK\nContent-Type: text/plain \nContent-Length: 2\n\nok");
    let client = Client::new();
    for _ in 0..3 {
        let resp = client.get(&raw.url("/")).unwrap();
        assert_eq!((resp.status(), resp.reason(), resp.header("content-type")), (200, "OK", Some("text/plain")));
        assert_eq!(resp.text().unwrap(), "ok");
    }
    assert_eq!(raw.accepted(), 1);
}

#[test]
fn malformed_responses_are_errors_of_the_right_kind() {
    let big_head = format!("HTTP/1.1 200 OK\r\nX-Big: {}\r\nContent-Length: 0\r\n\r\n", "a".repeat(2000));
    let many_fields: String = (0..30).map(|i| format!("X-{i}: y\r\n")).collect();
    let many_fields = format!("HTTP/1.1 200 OK\r\n{many_fields}Content-Length: 0\r\n\r\n");
    let cases: Vec<(&str, Vec<u8>, Kind)> = vec![
        ("empty answer", b"".to_vec(), Kind::Io),
        ("bad status line", b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n".to_vec(), Kind::Protocol),
        ("HTTP/2.0", b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec(), Kind::Protocol),
        ("not HTTP", b"SSH-2.0-OpenSSH_9.2\r\n".to_vec(), Kind::Protocol),
        ("bare CR", b"HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n".to_vec(), Kind::Protocol),
        ("bare CR in a field", b"HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n".to_vec(), Kind::Protocol),
        ("truncated head", b"HTTP/1.1 200 OK\r\nContent-Le".to_vec(), Kind::Io),
        (
            "bad chunk size",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n".to_vec(),
            Kind::Protocol,
        ),
        (
            "chunk size overflow",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nhello\r\n0\r\n\r\n".to_vec(),
            Kind::Protocol,
        ),
        (
            "chunk without CRLF",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n".to_vec(),
            Kind::Protocol,
        ),
        (
            "conflicting Content-Length",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!".to_vec(),
            Kind::Protocol,
        ),
        ("negative Content-Length", b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n".to_vec(), Kind::Protocol),
        (
            "Content-Length and Transfer-Encoding",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                .to_vec(),
            Kind::Protocol,
        ),
        (
            "chunked in HTTP/1.0",
            b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(),
            Kind::Protocol,
        ),
        ("obs-fold", b"HTTP/1.1 200 OK\r\nX-A: a\r\n folded\r\nContent-Length: 0\r\n\r\n".to_vec(), Kind::Protocol),
        ("space before colon", b"HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n".to_vec(), Kind::Protocol),
        ("head over max_response_head", big_head.into_bytes(), Kind::TooLarge),
        ("fields over max_response_head", many_fields.into_bytes(), Kind::TooLarge),
        (
            "Content-Length over max_response_body",
            format!("HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n{}", "b".repeat(2000)).into_bytes(),
            Kind::TooLarge,
        ),
        (
            "chunked body over max_response_body",
            [&b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"[..], &common::chunked(&[b'c'; 2000])].concat(),
            Kind::TooLarge,
        ),
        (
            "close-delimited body over max_response_body",
            format!("HTTP/1.1 200 OK\r\n\r\n{}", "d".repeat(2000)).into_bytes(),
            Kind::TooLarge,
        ),
        ("truncated body", b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789".to_vec(), Kind::Io),
        (
            "truncated chunked body",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n0123456789".to_vec(),
            Kind::Io,
        ),
        (
            "chunked body without its last chunk",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n".to_vec(),
            Kind::Io,
        ),
    ];
    let client = Client::builder()
        .max_response_head(1024, 20)
        .max_response_body(1000)
        .read_timeout(Duration::from_secs(5)) // a hang fails as a Timeout, not the kind wanted
        .build();
    for (name, answer, kind) in cases {
        let raw = Raw::once_then_close(answer);
        // read whole
        let mut resp = Response::default();
        let err = client.send_into(&Request::get(&raw.url("/")).unwrap(), &mut resp).unwrap_err();
        assert_eq!(err.kind(), kind, "{name}: {err}");
        // streamed: the head's errors come from the call, the body's from reading it
        let got = client.get(&raw.url("/")).and_then(|r| r.bytes());
        let err = got.expect_err(name);
        assert_eq!(err.kind(), kind, "{name}: {err}");
        let mut r = match client.get(&raw.url("/")) {
            Ok(r) => r,
            Err(e) => {
                assert_eq!(e.kind(), kind, "{name}: {e}");
                continue;
            }
        };
        let mut sink = Vec::new();
        let e = r.read_to_end(&mut sink).expect_err(name);
        let e = e.into_inner().and_then(|e| e.downcast::<shockwave::client::Error>().ok()).expect(name);
        assert_eq!(e.kind(), kind, "{name}: {e}");
    }
}

#[test]
fn garbage_after_a_response() {
    // in the same packet: the first response is fine, its connection is not pooled
    let raw = Raw::answering(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokGARBAGE");
    let client = Client::new();
    assert_eq!(client.get(&raw.url("/")).unwrap().text().unwrap(), "ok");
    assert_eq!(client.idle_connections(&raw.url("/")), 0);
    assert_eq!(client.get(&raw.url("/")).unwrap().text().unwrap(), "ok");
    assert_eq!(raw.accepted(), 2);

    // after the connection was pooled: the client peeks before reusing it, sees the bytes
    // nobody asked for, and sends the request on a new connection instead
    for method in ["GET", "POST"] {
        let (raw, go, port) = closing_server(|p| {
            p.send("GARBAGE\r\n\r\n");
            p.until_eof();
        });
        let client = Client::new();
        assert_eq!(client.get(&raw.url("/")).unwrap().text().unwrap(), "ok");
        go.send(()).unwrap();
        let port = port.recv_timeout(T).unwrap();
        wait_until(|| tcp_socket(port, raw.addr.port()).is_some_and(|(_, rx)| rx > 0));
        let req = Request::new(method, &raw.url("/")).unwrap();
        let text = client.send(&req).unwrap_or_else(|e| panic!("{method}: {e}")).text().unwrap();
        assert_eq!(text, format!("{method} 0"));
    }
}

// ---------------------------------------------------------------------------------------------
// Many threads, one client

#[test]
fn sixteen_threads_share_one_client() {
    let s = server();
    let client = Client::builder().max_conns_per_host(8).build();
    let u = url(&s, "/port");
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let (c, u) = (client.clone(), u.clone());
            thread::spawn(move || {
                let req = Request::get(&u).unwrap();
                let mut resp = Response::default();
                for i in 0..500 {
                    if i % 2 == 0 {
                        c.send_into(&req, &mut resp).unwrap();
                        assert_eq!(resp.status(), 200);
                    } else {
                        assert_eq!(c.get(&u).unwrap().status(), 200);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let opened = client.connections_opened(&u);
    assert!((1..=8).contains(&opened), "{opened} connections opened");
    assert_eq!(s.stats().connections_accepted, opened);
    assert_eq!(s.stats().requests, 16 * 500);
    s.shutdown();
}

// ---------------------------------------------------------------------------------------------
// URLs and headers

#[test]
fn url_and_header_errors() {
    let client = Client::new();
    let err = client.get("http://user:pw@127.0.0.1:1/").unwrap_err();
    assert!(err.is_url(), "{err:?}");
    let err = client.get("https://127.0.0.1:1/").unwrap_err();
    if cfg!(feature = "tls") {
        assert!(err.is_connect(), "with TLS, https:// is only refused by the closed port: {err}");
    } else {
        assert!(err.is_url() && err.to_string().contains("feature `tls`"), "{err}");
    }
    let s = server();
    let req = Request::get(&url(&s, "/headers")).unwrap().header("Bad Name", "v");
    let err = client.send(&req).unwrap_err();
    assert_eq!(err.kind(), Kind::Header, "{err:?}");
    assert!(err.to_string().contains("Bad Name"), "{err}");
    let req = Request::post(&url(&s, "/headers")).unwrap().header("Content-Length", "5");
    assert_eq!(client.send(&req).unwrap_err().kind(), Kind::Header);
    assert_eq!(s.stats().requests, 0, "an invalid request was sent");
    s.shutdown();
}

#[test]
fn control_characters_in_header_values_are_sanitised() {
    let s = server();
    let req = Request::get(&url(&s, "/headers")).unwrap().header("X-Trace", "a\r\nInjected: yes\0\x7f");
    let got = Client::new().send(&req).unwrap().text().unwrap();
    assert!(!got.lines().any(|l| l.starts_with("injected")), "{got}");
    let trace = got.lines().find_map(|l| l.strip_prefix("x-trace: ")).expect(&got);
    assert!(trace.starts_with('a') && trace.contains("Injected: yes"), "{trace:?}");
    assert!(!trace.bytes().any(|b| b < 0x20 || b == 0x7f), "{trace:?}");
    s.shutdown();
}

// ---------------------------------------------------------------------------------------------
// The client's end

/// A raw server answering one request per connection with keep-alive, then reporting whether
/// the client closed the connection (`true`) or left it open for `T`.
fn reporting_close() -> (Raw, Receiver<bool>) {
    let (tx, rx) = bounded(4);
    let raw = Raw::start(move |_, mut p| {
        p.request().unwrap();
        p.send(OK);
        let mut b = [0u8; 1];
        let _ = tx.send(matches!(p.s.read(&mut b), Ok(0)));
    });
    (raw, rx)
}

#[test]
fn dropping_the_client_closes_its_idle_connections() {
    let (raw, closed) = reporting_close();
    let client = Client::new();
    assert_eq!(client.get(&raw.url("/")).unwrap().text().unwrap(), "ok");
    assert_eq!(client.idle_connections(&raw.url("/")), 1);
    drop(client);
    assert!(closed.recv().unwrap(), "the pooled connection outlived its client");
}

#[test]
fn a_response_read_after_its_client_was_dropped_closes_its_connection() {
    let (raw, closed) = reporting_close();
    let resp = Client::new().get(&raw.url("/")).unwrap(); // the client is gone after this line
    assert_eq!(resp.text().unwrap(), "ok");
    assert!(closed.recv().unwrap(), "the connection was pooled in a pool nobody can reach");
}

// ---------------------------------------------------------------------------------------------
// Regressions found in review: reused responses, odd settings, redirects

/// A `Response` reused after a failed `send_into` has no head left to point into.
#[test]
fn a_reused_response_after_a_failed_send_into_is_empty_not_stale() {
    let raw = Raw::start(|i, mut p| {
        if p.request().is_some() {
            p.send(if i == 0 {
                &b"HTTP/1.1 200 A fairly long reason phrase\r\nX: y\r\nContent-Length: 0\r\n\r\n"[..]
            } else {
                b"garbage\r\n\r\n"
            });
        }
    });
    let client = Client::builder().max_idle_per_host(0).build();
    let req = Request::get(&raw.url("/")).unwrap();
    let mut resp = Response::default();
    client.send_into(&req, &mut resp).unwrap();
    assert_eq!((resp.reason(), resp.header("x")), ("A fairly long reason phrase", Some("y")));
    assert!(client.send_into(&req, &mut resp).unwrap_err().is_protocol());
    assert_eq!((resp.status(), resp.reason(), resp.header("x"), resp.headers().count()), (0, "", None, 0));
    let _ = format!("{resp:?}");
}

/// A body reader that fails after the server's `100 Continue` leaves no interim fields.
#[test]
fn a_failing_body_after_100_continue_leaves_no_interim_fields() {
    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("disk gone"))
        }
    }
    let raw = Raw::start(|_, mut p| {
        if p.head().is_some() {
            p.send("HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n");
            p.until_eof();
        }
    });
    let req = Request::put(&raw.url("/")).unwrap().header("Expect", "100-continue").body(Body::reader(Failing));
    let mut resp = Response::default();
    let err = Client::new().send_into(&req, &mut resp).unwrap_err();
    assert_eq!(err.kind(), Kind::Body, "{err}");
    assert_eq!((resp.header("x-interim"), resp.headers().count()), (None, 0));
    let _ = format!("{resp:?}");
}

/// `read` into an empty buffer is not the end of the body.
#[test]
fn an_empty_read_is_not_the_end_of_the_body() {
    let raw = Raw::answering(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789");
    let mut resp = Client::new().get(&raw.url("/")).unwrap();
    assert_eq!(resp.read(&mut []).unwrap(), 0);
    let mut body = String::new();
    resp.read_to_string(&mut body).unwrap();
    assert_eq!(body, "0123456789");
}

/// Zero and `Duration::MAX` are settings a person may write; neither panics nor hangs.
#[test]
fn zero_and_max_durations_are_usable_settings() {
    let raw = Raw::answering(OK);
    let forever = Client::builder()
        .timeout(Duration::MAX)
        .pool_timeout(Duration::MAX)
        .dns_ttl(Duration::MAX)
        .idle_timeout(Duration::MAX)
        .build();
    assert_eq!(forever.get(&raw.url("/")).unwrap().text().unwrap(), "ok");
    let port = raw.addr.port();
    assert_eq!(forever.get(&format!("http://localhost:{port}/")).unwrap().text().unwrap(), "ok");

    // expect_timeout(0): the body goes at once instead of waiting for a 100 (or forever)
    let s = server();
    let client = Client::builder().expect_timeout(Duration::ZERO).read_timeout(Duration::from_secs(5)).build();
    for _ in 0..2 {
        let req = Request::post(&url(&s, "/count")).unwrap().header("Expect", "100-continue").body(vec![1u8; 100]);
        assert_eq!(client.send(&req).unwrap().text().unwrap(), "100 100 chunked=false cl=Some(100)");
    }
}

/// A `Host` set on the request is for the first host: a redirect elsewhere sends its own.
#[test]
fn a_set_host_header_does_not_follow_a_redirect_to_another_host() {
    let (tx, rx) = bounded::<String>(1);
    let second = Raw::start(move |_, mut p| {
        if let Some((head, _)) = p.request() {
            let _ = tx.send(head);
            p.send(OK);
        }
    });
    let to = second.url("/next");
    let first = Raw::start(move |_, mut p| {
        while p.request().is_some() {
            p.send(format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n"));
        }
    });
    let req = Request::get(&first.url("/")).unwrap().header("Host", "api.first.example");
    assert_eq!(Client::new().send(&req).unwrap().text().unwrap(), "ok");
    let head = rx.recv_timeout(T).unwrap();
    assert!(!head.contains("api.first.example"), "{head}");
    assert!(head.contains(&format!("Host: 127.0.0.1:{}", second.addr.port())), "{head}");
}

/// JSON both ways (feature `json`): `Request::json` sets the body and its type,
/// `Response::json` reads the body into a type, a body that is not that type is an error.
#[cfg(feature = "json")]
#[test]
fn json_in_and_out() {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct User {
        id: u64,
        name: String,
    }
    let s = Server::builder()
        .bind("127.0.0.1:0")
        .unwrap()
        .start(|req: &shockwave::Request, resp: &mut shockwave::Response| {
            assert_eq!(req.header("content-type"), Some("application/json"));
            resp.set_content_type("application/json");
            resp.write_body(req.body().unwrap_or_default());
        })
        .unwrap();
    let u = format!("http://{}/users", s.local_addr());
    let ann = User { id: 1, name: "Ann".into() };
    let client = Client::new();
    let back: User = client.send(&Request::post(&u).unwrap().json(&ann)).unwrap().json().unwrap();
    assert_eq!(back, ann);
    let err = client.send(&Request::post(&u).unwrap().json(&[1, 2])).unwrap().json::<User>().unwrap_err();
    assert_eq!(err.kind(), Kind::Body, "{err}");
    assert!(err.to_string().contains("JSON"), "{err}");
}
