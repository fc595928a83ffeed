//! Request bodies as a handler sees them: `body()` is the whole body or an error, never a
//! silent prefix; a body read from the socket once cannot be read twice by accident; bodies of
//! responses that have none do not grow memory.

mod common;

use common::*;
use shockwave::{Request, Response};
use std::io::{Read, Write};

fn body_of(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// Regression: `body()` returned the first 65,383 bytes of a 100,000-byte body, so
/// `serde_json::from_slice(req.body())` failed with a misleading error.
#[test]
fn body_is_the_whole_body() {
    let s = start_default(|req: &Request, resp: &mut Response| match req.body() {
        Ok(b) => {
            let again = req.body().map(<[u8]>::len).unwrap_or(0);
            resp.set_header("X-Again", again.to_string());
            resp.write_body(b);
        }
        Err(e) => {
            resp.set_status(400);
            resp.write_body(e.to_string().as_bytes());
        }
    });
    let mut c = Client::connect(s.local_addr());
    for n in [0, 10, 65_000, 100_000, 1_000_000] {
        let body = body_of(n);
        c.send(format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {n}\r\n\r\n").as_bytes());
        c.send(&body);
        let r = c.read_response();
        assert_eq!((r.status, r.body.len(), r.header("x-again")), (200, n, Some(n.to_string().as_str())));
        assert!(r.body == body, "{n} bytes, Content-Length");
        c.send(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
        c.send(&chunked(&body));
        let r = c.read_response();
        assert_eq!((r.status, r.body.len()), (200, n));
        assert!(r.body == body, "{n} bytes, chunked");
    }
    s.shutdown();
}

/// Regression: a second `body_reader()` replayed the buffered part and then went on with the
/// socket, handing out a corrupted body. Now a body read from the socket is taken once; every
/// later attempt fails with an error that says so.
#[test]
fn a_streamed_body_is_taken_once_and_a_second_taker_gets_an_error() {
    let s = start_default(|req: &Request, resp: &mut Response| {
        let mut first = [0u8; 10];
        req.body_reader().read_exact(&mut first).unwrap();
        let second = req.body_reader().read(&mut [0u8; 10]);
        let whole = req.body().map(<[u8]>::len);
        let rest = {
            let mut v = Vec::new();
            req.body_reader().read_to_end(&mut v).map(|_| v.len())
        };
        write!(resp, "{:?} | {:?} | {:?}", second.map_err(|e| e.kind()), whole.map_err(|e| e.kind()), rest.is_err())
            .unwrap();
    });
    let mut c = Client::connect(s.local_addr());
    let n = 200_000;
    c.send(format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {n}\r\n\r\n").as_bytes());
    c.send(&body_of(n));
    let r = c.read_response();
    assert_eq!(r.text(), "Err(Other) | Err(Other) | true");
    s.shutdown();
}

/// A body that is all in memory can be read any number of times, each time from the start:
/// a small one, and a large one once `body()` has kept it.
#[test]
fn a_body_in_memory_can_be_read_again() {
    let s = start_default(|req: &Request, resp: &mut Response| {
        if req.path() == "/keep" {
            let _ = req.body().unwrap();
        }
        let mut a = Vec::new();
        let mut b = Vec::new();
        req.body_reader().read_to_end(&mut a).unwrap();
        req.body_reader().read_to_end(&mut b).unwrap();
        assert!(a == b);
        resp.write_body(&a);
    });
    let mut c = Client::connect(s.local_addr());
    for (path, n) in [("/small", 1000), ("/keep", 300_000)] {
        c.send(format!("POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {n}\r\n\r\n").as_bytes());
        c.send(&body_of(n));
        let r = c.read_response();
        assert_eq!((r.status, r.body.len()), (200, n), "{path}");
    }
    s.shutdown();
}

/// Regression: writing into a 204 (or 304) response kept every byte in memory although none
/// is ever sent.
#[test]
fn writing_into_a_response_without_a_body_keeps_nothing() {
    let s = start_default(|req: &Request, resp: &mut Response| {
        resp.set_status(if req.path() == "/304" { 304 } else { 204 });
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..64 {
            resp.write_all(&chunk).unwrap();
        }
        resp.write_body(&chunk);
        let kept = resp.body().len();
        resp.set_header("X-Kept", kept.to_string());
    });
    let mut c = Client::connect(s.local_addr());
    for path in ["/204", "/304"] {
        c.send(&get(path));
        let r = c.read_response();
        assert_eq!((r.header("x-kept"), r.body.len()), (Some("0"), 0), "{path}");
    }
    s.shutdown();
}
