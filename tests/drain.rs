//! Draining (`ServerHandle::drain`, `Builder::drain_delay`, `health_path`, `drain_timeout`):
//! the health path turns 503, each connection closes after its next response, new
//! connections are still taken during the delay, idle ones close with a FIN (never a reset),
//! and what the timeout cuts is reported.

mod common;

use common::*;
use shockwave::Server;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

fn builder() -> shockwave::Builder {
    Server::builder().pollers(2).workers(4).health_path("/healthz")
}

#[test]
fn the_health_path_answers_200_then_503_during_a_drain_and_the_handler_never_sees_it() {
    let h = start(builder().drain_delay(Duration::from_secs(600)), |req, resp| resp.write_body(req.path()));
    let mut c = Client::connect(h.local_addr());
    c.send(HEALTH);
    let r = c.read_response();
    assert_eq!((r.status, r.text().as_str(), r.header("connection")), (200, "ok\n", None));
    c.send(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(c.read_response_within(true, Duration::from_secs(10)).unwrap().status, 200);
    c.send(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(c.read_response().text(), "/healthz", "other methods go to the handler");

    let drain = std::thread::spawn({
        let h = h.clone();
        move || h.drain()
    });
    // the drain has begun once the health path says so (a new connection each time: the
    // answer that sees it closes its connection)
    wait_until(|| {
        let mut c = Client::connect(h.local_addr());
        c.send(HEALTH);
        c.read_response().status == 503
    });
    let mut fresh = Client::connect(h.local_addr()); // still accepted during the delay
    fresh.send(HEALTH);
    let r = fresh.read_response();
    assert_eq!((r.status, r.text().as_str(), r.header("connection")), (503, "draining\n", Some("close")));
    assert!(fresh.closed_within(Duration::from_secs(10)));
    // the connection opened before the drain: its next response closes it
    c.send(&get("/after"));
    let r = c.read_response();
    assert_eq!((r.status, r.text().as_str(), r.header("connection")), (200, "/after", Some("close")));
    assert!(c.closed_within(Duration::from_secs(10)));
    h.shutdown(); // ends the delay early
    assert_eq!(drain.join().unwrap().connections_cut, 0);
}

#[test]
fn pipelined_requests_already_sent_are_all_answered_and_the_last_closes() {
    let h = start(builder().drain_delay(Duration::from_secs(600)), |req, resp| resp.write_body(req.path()));
    let d = h.clone();
    let drain = std::thread::spawn(move || d.drain());
    wait_until(|| {
        let mut c = Client::connect(h.local_addr());
        c.send(HEALTH);
        c.read_response().status == 503
    });
    let mut c = Client::connect(h.local_addr());
    c.send(&[get("/1"), get("/2"), get("/3")].concat());
    for (i, path) in ["/1", "/2", "/3"].iter().enumerate() {
        let r = c.read_response();
        assert_eq!(r.text(), *path);
        assert_eq!(r.header("connection"), if i == 2 { Some("close") } else { None }, "{path}");
    }
    assert!(c.closed_within(Duration::from_secs(10)));
    h.shutdown();
    drain.join().unwrap();
}

#[test]
fn after_the_delay_idle_connections_close_with_a_fin_and_new_ones_are_refused() {
    let h = start(builder().drain_delay(Duration::from_millis(200)), |_req, resp| resp.write_body("ok"));
    let addr = h.local_addr();
    let mut idle: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(&get("/")).unwrap();
            s
        })
        .collect();
    for s in &mut idle {
        // read the one response (keep-alive), then leave the connection idle
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK\r\n"));
    }
    let report = h.drain();
    assert_eq!(report.connections_cut, 0);
    for mut s in idle {
        let mut rest = Vec::new();
        // a FIN: end of stream, not ECONNRESET
        assert_eq!(s.read_to_end(&mut rest).map_err(|e| e.kind()), Ok(0), "{rest:?}");
    }
    assert_eq!(TcpStream::connect(addr).map_err(|e| e.kind()).unwrap_err(), ErrorKind::ConnectionRefused);
}

#[test]
fn the_drain_timeout_cuts_a_request_still_arriving_and_reports_it() {
    let h = start(builder().drain_timeout(Duration::from_millis(300)), |_req, resp| resp.write_body("ok"));
    let mut slow = Client::connect(h.local_addr());
    slow.send(b"GET / HTTP/1.1\r\nHost: x\r\n"); // half a head: the request is still arriving
    wait_until(|| h.stats().connections_open == 1);
    let t = std::time::Instant::now();
    let report = h.drain();
    assert_eq!(report.connections_cut, 1);
    assert!(t.elapsed() < Duration::from_secs(10), "the drain ends at its timeout: {:?}", t.elapsed());
    assert!(slow.closed_within(Duration::from_secs(1)));
}

/// A proxy's new connection is accepted before its request arrives when the socket has no
/// `TCP_DEFER_ACCEPT` (one passed in by systemd): stopping then must answer that request, not
/// close the connection under it (nginx turned the close into a 502 for a POST).
#[test]
fn a_connection_whose_first_request_is_on_its_way_is_answered_when_stopping() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let h = Server::builder().pollers(1).workers(2).from_listener(listener).unwrap();
    let h = h.start(|_req, resp| resp.write_body("answered")).unwrap();
    let mut c = Client::connect(addr);
    wait_until(|| h.stats().connections_open == 1);
    let d = h.clone();
    let drain = std::thread::spawn(move || d.drain());
    // stopped accepting: new connections are refused
    wait_until(|| TcpStream::connect(addr).is_err());
    c.send(&get("/"));
    let r = c.read_response();
    assert_eq!((r.status, r.text().as_str(), r.header("connection")), (200, "answered", Some("close")));
    assert_eq!(drain.join().unwrap().connections_cut, 0);
}
