//! Server behaviour over real loopback sockets: raw bytes in, raw bytes out.

mod common;

use common::*;
use shockwave::{Request, Response, Server};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

fn hello(_req: &Request, resp: &mut Response) {
    resp.set_content_type("text/plain");
    resp.write_body(b"Hello, World!");
}

/// Echoes the path and the whole body (read through `body_reader`).
fn echo(req: &Request, resp: &mut Response) {
    let mut body = Vec::new();
    if let Err(e) = req.body_reader().read_to_end(&mut body) {
        resp.set_status(400);
        resp.close();
        resp.write_body(e.to_string().as_bytes());
        return;
    }
    resp.set_header("X-Path", req.path());
    resp.set_header("X-Body-Len", body.len().to_string());
    resp.write_body(&body);
}

#[test]
fn hello_has_length_date_and_server() {
    let s = start_default(hello);
    let mut c = Client::connect(s.local_addr());
    c.send(&get("/"));
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("13"));
    assert_eq!(r.header("server"), Some("shockwave"));
    assert_eq!(r.header("date").map(str::len), Some(29));
    assert_eq!(r.body, b"Hello, World!");
    s.shutdown();
}

#[test]
fn keep_alive_reuses_one_connection() {
    let s = start_default(hello);
    let mut c = Client::connect(s.local_addr());
    for _ in 0..5 {
        c.send(&get("/"));
        assert_eq!(c.read_response().status, 200);
    }
    assert!(!c.closed_within(Duration::from_millis(100)));
    assert_eq!(s.stats().connections_accepted, 1);
    assert_eq!(s.stats().requests, 5);
    s.shutdown();
}

#[test]
fn sixteen_pipelined_requests_are_answered_in_order() {
    let s = start_default(echo);
    let mut c = Client::connect(s.local_addr());
    let mut all = Vec::new();
    for i in 0..16 {
        all.extend_from_slice(&get(&format!("/{i}")));
    }
    c.send(&all);
    for i in 0..16 {
        let r = c.read_response();
        assert_eq!(r.header("x-path"), Some(format!("/{i}").as_str()));
    }
    s.shutdown();
}

#[test]
fn pipelined_requests_with_bodies_stay_in_order() {
    let s = start_default(echo);
    let mut c = Client::connect(s.local_addr());
    let mut all = Vec::new();
    for i in 0..10 {
        let body = "x".repeat(i * 100);
        if i % 2 == 0 {
            all.extend_from_slice(
                format!("POST /{i} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{body}", body.len()).as_bytes(),
            );
        } else {
            all.extend_from_slice(
                format!(
                    "POST /{i} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
        }
    }
    c.send(&all);
    for i in 0..10 {
        let r = c.read_response();
        assert_eq!(r.header("x-path"), Some(format!("/{i}").as_str()));
        assert_eq!(r.body.len(), i * 100);
    }
    s.shutdown();
}

#[test]
fn chunked_body_split_across_many_small_writes() {
    let s = start_default(echo);
    let mut c = Client::connect(s.local_addr());
    let raw = b"POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n";
    for piece in raw.chunks(3) {
        c.send(piece);
        std::thread::sleep(Duration::from_millis(2));
    }
    let r = c.read_response();
    assert_eq!((r.status, r.text().as_str()), (200, "hello world"));
    c.send(&get("/after"));
    assert_eq!(c.read_response().header("x-path"), Some("/after"));
    s.shutdown();
}

#[test]
fn streaming_response_is_chunked_and_small_writes_get_a_length() {
    let s = start_default(|req: &Request, resp: &mut Response| {
        let n: usize = req.query_string().unwrap_or("0").parse().unwrap();
        for i in 0..n {
            writeln!(resp, "{:04}:{}", i, "y".repeat(1000)).unwrap();
        }
        if req.path() == "/flush" {
            resp.flush().unwrap();
        }
    });
    let mut c = Client::connect(s.local_addr());
    c.send(&get("/big?200"));
    let r = c.read_response();
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.body.len(), 200 * 1006);
    assert!(r.text().lines().enumerate().all(|(i, l)| l.starts_with(&format!("{i:04}:"))));
    c.send(&get("/small?3"));
    let r = c.read_response();
    assert_eq!((r.header("content-length"), r.body.len()), (Some("3018"), 3018));
    c.send(&get("/flush?1"));
    let r = c.read_response();
    assert_eq!((r.header("transfer-encoding"), r.body.len()), (Some("chunked"), 1006));
    s.shutdown();
}

#[test]
fn expect_100_continue_is_answered_before_the_body() {
    let s = start_default(echo);
    let mut c = Client::connect(s.local_addr());
    c.send(b"POST /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    assert_eq!(c.read_response().status, 100);
    c.send(b"hello");
    let r = c.read_response();
    assert_eq!((r.status, r.text().as_str()), (200, "hello"));
    // a client that sends the body anyway gets no 100
    c.send(b"POST /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi");
    assert_eq!(c.read_response().status, 200);
    // a large (streamed) body: 100 comes when the handler starts reading
    let n = 200_000;
    c.send(format!("POST /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: {n}\r\n\r\n").as_bytes());
    assert_eq!(c.read_response().status, 100);
    c.send(&vec![b'z'; n]);
    let r = c.read_response();
    assert_eq!((r.status, r.body.len()), (200, n));
    // HTTP/1.0 never gets a 100
    c.send(b"POST /e HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok");
    assert_eq!(c.read_response().status, 200);
    s.shutdown();
}

#[test]
fn head_gets_the_length_without_a_body() {
    let s = start_default(hello);
    let mut c = Client::connect(s.local_addr());
    c.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.read_response_within(true, Duration::from_secs(5)).unwrap();
    assert_eq!((r.status, r.header("content-length")), (200, Some("13")));
    c.send(&get("/"));
    let r = c.read_response();
    assert_eq!(r.body, b"Hello, World!", "no stray body bytes after the HEAD response");
    s.shutdown();
}

#[test]
fn http10_closes_unless_keep_alive_is_asked() {
    let s = start_default(hello);
    let (rs, closed) = exchange(s.local_addr(), b"GET / HTTP/1.0\r\n\r\n", 1);
    assert_eq!(rs[0].status, 200);
    assert!(closed);
    let mut c = Client::connect(s.local_addr());
    c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let r = c.read_response();
    assert_eq!(r.header("connection"), Some("keep-alive"));
    c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(c.read_response().status, 200);
    assert!(!c.closed_within(Duration::from_millis(100)));
    s.shutdown();
}

#[test]
fn connection_close_is_honoured_and_later_bytes_ignored() {
    let s = start_default(echo);
    let (rs, closed) = exchange(
        s.local_addr(),
        b"GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n",
        2,
    );
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].header("connection"), Some("close"));
    assert!(closed);
    s.shutdown();
}

#[test]
fn the_server_answers_its_own_errors() {
    let s = start(Server::builder().pollers(1).workers(2).max_request_body(1000).max_headers(20), echo);
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(20_000));
    let big_head = format!("GET / HTTP/1.1\r\nHost: t\r\nX: {}\r\n\r\n", "b".repeat(40_000));
    let many: String = (0..30).map(|i| format!("X-{i}: v\r\n")).collect();
    let many = format!("GET / HTTP/1.1\r\nHost: t\r\n{many}\r\n");
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("malformed", b"GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n".to_vec(), 400),
        ("no host", b"GET / HTTP/1.1\r\n\r\n".to_vec(), 400),
        ("header section too large", big_head.into_bytes(), 431),
        ("too many headers", many.into_bytes(), 431),
        ("target too long", long_target.into_bytes(), 414),
        ("body too large", b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n".to_vec(), 413),
        (
            "chunked body too large",
            format!(
                "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n{}\r\n0\r\n\r\n",
                "c".repeat(1001)
            )
            .into_bytes(),
            413,
        ),
        ("unknown coding", b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: pigeons, chunked\r\n\r\n".to_vec(), 501),
        ("unknown method", b"BREW /pot HTTP/1.1\r\nHost: t\r\n\r\n".to_vec(), 501),
        ("http/2.0", b"GET / HTTP/2.0\r\nHost: t\r\n\r\n".to_vec(), 505),
        ("unknown expectation", b"GET / HTTP/1.1\r\nHost: t\r\nExpect: tea\r\n\r\n".to_vec(), 417),
        (
            "te and cl",
            b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n".to_vec(),
            400,
        ),
        ("bad chunk size", b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(), 400),
    ];
    for (what, raw, status) in cases {
        let (rs, closed) = exchange(s.local_addr(), &raw, 1);
        assert_eq!(rs.first().map(|r| r.status), Some(status), "{what}");
        assert_eq!(rs[0].header("connection"), Some("close"), "{what}");
        assert!(closed, "{what}: connection must close after a framing error");
    }
    assert!(s.stats().rejected_invalid >= 13);
    s.shutdown();
}

#[test]
fn a_good_request_before_a_bad_one_is_still_answered() {
    let s = start_default(echo);
    let (rs, closed) = exchange(
        s.local_addr(),
        b"GET /ok HTTP/1.1\r\nHost: t\r\n\r\nGET /bad HTTP/1.1\r\nHost: t\r\nX : y\r\n\r\n",
        3,
    );
    assert_eq!(rs.iter().map(|r| r.status).collect::<Vec<_>>(), vec![200, 400]);
    assert!(closed);
    s.shutdown();
}

#[test]
fn timeouts_answer_408_and_close() {
    let s = start(
        Server::builder()
            .pollers(1)
            .workers(2)
            .read_header_timeout(Duration::from_millis(300))
            .body_timeout(Duration::from_millis(300))
            .idle_timeout(Duration::from_millis(300)),
        echo,
    );
    let a = s.local_addr();
    let (rs, closed) = exchange(a, b"GET / HTTP/1.1\r\nHost: t\r\n", 1);
    assert_eq!((rs.first().map(|r| r.status), closed), (Some(408), true), "partial head");
    let (rs, closed) = exchange(a, b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc", 1);
    assert_eq!((rs.first().map(|r| r.status), closed), (Some(408), true), "partial body");
    // an idle keep-alive connection is closed silently
    let mut c = Client::connect(a);
    c.send(&get("/"));
    assert_eq!(c.read_response().status, 200);
    assert!(c.closed_within(Duration::from_secs(3)));
    assert!(c.pending().is_empty());
    assert!(s.stats().timeouts >= 2);
    s.shutdown();
}

#[test]
fn a_silent_connection_waits_in_the_kernel_until_it_speaks() {
    let quick = Duration::from_millis(300);
    let s = start(Server::builder().pollers(1).workers(2).read_header_timeout(quick).idle_timeout(quick), hello);
    let mut c = Client::connect(s.local_addr());
    std::thread::sleep(quick);
    assert_eq!(s.stats().connections_accepted, 0, "held until its first bytes");
    c.send(&get("/"));
    assert_eq!(c.read_response().status, 200);
    assert_eq!(s.stats().connections_accepted, 1);
    // One that never speaks is handed over after the deferral (1 s) and then timed out.
    let mut silent = Client::connect(s.local_addr());
    assert!(silent.closed_within(Duration::from_secs(5)));
    assert_eq!(s.stats().connections_accepted, 2);
    s.shutdown();

    let s = start(Server::builder().pollers(1).workers(2).defer_accept(Duration::ZERO), hello);
    let _c = Client::connect(s.local_addr());
    for _ in 0..200 {
        if s.stats().connections_accepted == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(s.stats().connections_accepted, 1, "accepted at once without deferral");
    s.shutdown();
}

#[test]
fn a_panicking_handler_gets_500_and_the_server_keeps_serving() {
    let s = start_default(|req: &Request, resp: &mut Response| {
        if req.path() == "/panic" {
            panic!("boom");
        }
        resp.write_body(b"fine");
    });
    let (rs, closed) = exchange(s.local_addr(), &get("/panic"), 1);
    assert_eq!((rs[0].status, closed), (500, true));
    let (rs, _) = exchange(s.local_addr(), &get("/"), 1);
    assert_eq!((rs[0].status, rs[0].text().as_str()), (200, "fine"));
    assert_eq!(s.stats().handler_panics, 1);
    s.shutdown();
}

#[test]
fn a_blocked_handler_does_not_stall_other_connections() {
    let (entered_tx, entered) = std::sync::mpsc::channel::<()>();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (entered_tx, released) = (Mutex::new(entered_tx), Mutex::new(released));
    let s = start(Server::builder().pollers(1).workers(4), move |req: &Request, resp: &mut Response| {
        if req.path() == "/slow" {
            entered_tx.lock().unwrap().send(()).unwrap();
            released.lock().unwrap().recv().unwrap();
        }
        resp.write_body(b"ok");
    });
    let mut slow = Client::connect(s.local_addr());
    slow.send(&get("/slow"));
    entered.recv().unwrap();
    let mut others: Vec<Client> = (0..50).map(|_| Client::connect(s.local_addr())).collect();
    for c in &mut others {
        c.send(&get("/"));
    }
    // all 50 are answered while the slow handler is still blocked
    for c in &mut others {
        assert_eq!(c.read_response().status, 200);
    }
    release.send(()).unwrap();
    assert_eq!(slow.read_response().status, 200);
    s.shutdown();
}

#[test]
fn a_full_queue_answers_503_at_once() {
    let gate = Arc::new(Barrier::new(2));
    let entered = Arc::new(AtomicUsize::new(0));
    let (g, e) = (gate.clone(), entered.clone());
    let s =
        start(Server::builder().pollers(1).workers(1).queue_capacity(1), move |req: &Request, resp: &mut Response| {
            if req.path() == "/block" {
                e.fetch_add(1, SeqCst);
                g.wait();
            }
            resp.write_body(b"ok");
        });
    let mut busy = Client::connect(s.local_addr());
    busy.send(&get("/block"));
    wait_until(|| entered.load(SeqCst) == 1);
    let mut queued = Client::connect(s.local_addr());
    queued.send(&get("/"));
    wait_until(|| s.stats().queued == 1);
    let (rs, closed) = exchange(s.local_addr(), &get("/"), 1);
    assert_eq!((rs[0].status, closed), (503, true));
    gate.wait();
    assert_eq!(busy.read_response().status, 200);
    assert_eq!(queued.read_response().status, 200);
    assert_eq!(s.stats().rejected_overload, 1);
    s.shutdown();
}

#[test]
fn a_thousand_concurrent_keep_alive_connections_are_all_answered() {
    raise_fd_limit();
    let s = start_default(echo);
    let mut cs: Vec<Client> = (0..1000).map(|_| Client::connect(s.local_addr())).collect();
    for round in 0..2 {
        for (i, c) in cs.iter_mut().enumerate() {
            c.send(&get(&format!("/{round}/{i}")));
        }
        for (i, c) in cs.iter_mut().enumerate() {
            assert_eq!(c.read_response().header("x-path"), Some(format!("/{round}/{i}").as_str()));
        }
    }
    assert_eq!(s.stats().connections_accepted, 1000);
    s.shutdown();
}

#[test]
fn graceful_shutdown_completes_requests_in_flight() {
    let entered = Arc::new(AtomicUsize::new(0));
    let e = entered.clone();
    let cell = Arc::new(Mutex::new(None));
    let a = cell.clone();
    let s = start(Server::builder().pollers(2).workers(16), move |_req: &Request, resp: &mut Response| {
        e.fetch_add(1, SeqCst);
        // hold the request until the shutdown has begun (the listeners are closed then)
        let addr = a.lock().unwrap().unwrap();
        wait_until(|| std::net::TcpStream::connect(addr).is_err());
        resp.write_body(b"done");
    });
    let addr = s.local_addr();
    *cell.lock().unwrap() = Some(addr);
    let clients: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                c.send(&get("/"));
                c.read_response()
            })
        })
        .collect();
    let mut idle = Client::connect(addr);
    idle.send(&get("/"));
    wait_until(|| entered.load(SeqCst) == 9);
    s.shutdown();
    for c in clients {
        let r = c.join().unwrap();
        assert_eq!((r.status, r.text().as_str(), r.header("connection")), (200, "done", Some("close")));
    }
    assert_eq!(idle.read_response().status, 200);
}

#[test]
fn idle_connections_are_closed_by_shutdown() {
    let s = start_default(hello);
    let mut c = Client::connect(s.local_addr());
    c.send(&get("/"));
    c.read_response();
    s.shutdown();
    assert!(c.closed_within(Duration::from_secs(1)));
}

#[test]
fn max_requests_per_conn_closes_after_the_last_one() {
    let s = start(Server::builder().pollers(1).workers(2).max_requests_per_conn(3), hello);
    let mut c = Client::connect(s.local_addr());
    let mut all = Vec::new();
    for _ in 0..5 {
        all.extend_from_slice(&get("/"));
    }
    c.send(&all);
    for i in 0..3 {
        let r = c.read_response();
        assert_eq!(r.header("connection"), if i == 2 { Some("close") } else { None });
    }
    assert!(c.closed_within(Duration::from_secs(1)));
    s.shutdown();
}

#[test]
fn large_bodies_stream_through_body_reader() {
    let s = start_default(echo);
    let mut c = Client::connect(s.local_addr());
    let body: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    c.send(format!("POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes());
    c.send(&body);
    let r = c.read_response();
    assert_eq!(r.body, body);
    // chunked, in 1000-byte chunks, then another request on the same connection
    let mut raw = b"POST /big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for part in body[..300_000].chunks(1000) {
        raw.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        raw.extend_from_slice(part);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    raw.extend_from_slice(&get("/next"));
    c.send(&raw);
    let r = c.read_response();
    assert_eq!(r.body, &body[..300_000]);
    assert_eq!(c.read_response().header("x-path"), Some("/next"));
    s.shutdown();
}

#[test]
fn an_unread_large_body_closes_the_connection() {
    let s = start_default(hello);
    let mut c = Client::connect(s.local_addr());
    c.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 500000\r\n\r\n");
    let _ = c.try_send(&vec![b'q'; 100_000]);
    let r = c.read_response();
    assert_eq!((r.status, r.header("connection")), (200, Some("close")));
    s.shutdown();
}

#[test]
fn a_failing_body_read_gives_the_handler_an_error() {
    let seen = Arc::new(Mutex::new(String::new()));
    let s2 = seen.clone();
    let s = start(
        Server::builder().pollers(1).workers(2).body_timeout(Duration::from_millis(200)),
        move |req: &Request, resp: &mut Response| {
            let mut v = Vec::new();
            if let Err(e) = req.body_reader().read_to_end(&mut v) {
                *s2.lock().unwrap() = e.kind().to_string();
                resp.set_status(400);
            }
        },
    );
    // 100 KB declared, 70 KB sent: streamed, then the client stalls
    let mut c = Client::connect(s.local_addr());
    c.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n");
    c.send(&vec![b'a'; 70_000]);
    let r = c.read_response();
    assert_eq!(r.status, 400);
    assert!(c.closed_within(Duration::from_secs(3)));
    assert_eq!(seen.lock().unwrap().as_str(), "timed out");
    s.shutdown();
}

#[test]
fn handler_headers_cannot_inject() {
    let s = start_default(|req: &Request, resp: &mut Response| {
        resp.set_header("X-Echo", req.query_string().unwrap_or("").replace("%0D%0A", "\r\n"));
    });
    let (rs, _) = exchange(s.local_addr(), &get("/?a%0D%0ASet-Cookie:%20x=1"), 1);
    assert_eq!(rs[0].header("set-cookie"), None);
    assert_eq!(rs[0].header("x-echo"), Some("a  Set-Cookie:%20x=1"));
    s.shutdown();
}

#[test]
fn request_accessors() {
    let s = start_default(|req: &Request, resp: &mut Response| {
        let all: Vec<String> = req.header_all("x-rep").map(|v| String::from_utf8_lossy(v).into_owned()).collect();
        let text = format!(
            "{} {} {:?} {} {} {:?} {:?} {}",
            req.method(),
            req.path(),
            req.query_string(),
            req.version(),
            req.host().unwrap_or("-"),
            req.header("X-REP"),
            all,
            req.remote_addr().ip()
        );
        resp.write_body(text.as_bytes());
    });
    let (rs, _) =
        exchange(s.local_addr(), b"GET /p/q?x=1 HTTP/1.1\r\nHost: example.org:80\r\nX-Rep: a\r\nx-rep: b\r\n\r\n", 1);
    assert_eq!(rs[0].text(), "GET /p/q Some(\"x=1\") HTTP/1.1 example.org:80 Some(\"a\") [\"a\", \"b\"] 127.0.0.1");
    let (rs, _) = exchange(s.local_addr(), b"GET http://other.example/z HTTP/1.1\r\nHost: ignored\r\n\r\n", 1);
    assert!(rs[0].text().starts_with("GET /z None HTTP/1.1 other.example "), "{}", rs[0].text());
    s.shutdown();
}

/// Regression (found by the soak): a response that could not be written because its client
/// reset the connection must never be sent on the next connection the worker serves.
#[test]
fn a_failed_write_never_leaks_into_the_next_connection() {
    let s = start(Server::builder().pollers(1).workers(1), |req: &Request, resp: &mut Response| {
        let mut body = Vec::new();
        if let Err(e) = req.body_reader().read_to_end(&mut body) {
            resp.set_status(400);
            resp.write_body(format!("LEAK {e}").as_bytes());
            return;
        }
        resp.write_body(b"mine");
    });
    for _ in 0..20 {
        // a large (streamed) upload whose client resets mid-body
        let a = std::net::TcpStream::connect(s.local_addr()).unwrap();
        (&a).write_all(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 500000\r\n\r\n").unwrap();
        (&a).write_all(&[b'x'; 100_000]).unwrap();
        let linger = libc::linger { l_onoff: 1, l_linger: 0 };
        // SAFETY: setsockopt with a valid linger struct on an open socket.
        unsafe {
            use std::os::fd::AsRawFd;
            libc::setsockopt(
                a.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
        drop(a); // RST
        let mut b = Client::connect(s.local_addr());
        b.send(&get("/"));
        let r = b.read_response();
        assert_eq!((r.status, r.text().as_str()), (200, "mine"));
        assert!(b.read_response_within(false, Duration::from_millis(50)).is_none(), "no stray response");
    }
    s.shutdown();
}
