//! A handler learns that its client has gone (closed or reset) while it runs.

mod common;

use common::{start, Client};
use shockwave::Server;
use std::io::Write;
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Starts a server whose handler reports (started, then whether and how fast it saw the
/// client go) on channels.
fn server(wait: bool) -> (shockwave::ServerHandle, mpsc::Receiver<()>, mpsc::Receiver<Option<Duration>>) {
    let (started_tx, started) = mpsc::channel();
    let (seen_tx, seen) = mpsc::channel();
    let (started_tx, seen_tx) = (parking_lot::Mutex::new(started_tx), parking_lot::Mutex::new(seen_tx));
    let s = start(Server::builder().pollers(1).workers(2), move |req, resp| {
        if req.path() == "/quick" {
            let gone = req.is_cancelled();
            return resp.write_body(if gone { "gone" } else { "here" });
        }
        let _ = started_tx.lock().send(());
        let t = Instant::now();
        let limit = Duration::from_secs(20);
        let seen = loop {
            let gone = if wait { req.wait_cancelled(limit) } else { req.is_cancelled() };
            if gone {
                break Some(t.elapsed());
            }
            if t.elapsed() > limit {
                break None;
            }
            std::thread::yield_now();
        };
        let _ = seen_tx.lock().send(seen);
        resp.write_body("late");
    });
    (s, started, seen)
}

#[test]
fn a_client_that_closes_is_seen_by_polling_and_by_waiting() {
    for wait in [false, true] {
        let (s, started, seen) = server(wait);
        let mut c = TcpStream::connect(s.local_addr()).unwrap();
        c.write_all(b"GET /long HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        started.recv_timeout(Duration::from_secs(10)).expect("handler started");
        drop(c);
        let got = seen.recv_timeout(Duration::from_secs(30)).expect("handler finished");
        assert!(got.is_some(), "wait={wait}: the handler never saw the client go");
        s.shutdown();
    }
}

#[test]
fn a_client_that_resets_is_seen() {
    let (s, started, seen) = server(true);
    let c = socket2::Socket::from(TcpStream::connect(s.local_addr()).unwrap());
    c.set_linger(Some(Duration::ZERO)).unwrap(); // close sends RST
    let mut c = TcpStream::from(c);
    c.write_all(b"GET /long HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    started.recv_timeout(Duration::from_secs(10)).expect("handler started");
    drop(c);
    assert!(seen.recv_timeout(Duration::from_secs(30)).expect("handler finished").is_some());
    s.shutdown();
}

#[test]
fn a_waiting_client_is_not_cancelled() {
    let (s, _started, _seen) = server(false);
    let mut c = Client::connect(s.local_addr());
    for _ in 0..3 {
        c.send(b"GET /quick HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(c.read_response().text(), "here");
    }
    s.shutdown();
}

#[test]
fn curl_giving_up_is_seen_by_the_handler() {
    let (s, started, seen) = server(true);
    let url = format!("http://{}/long", s.local_addr());
    let out = std::process::Command::new("curl")
        .args(["-s", "-m", "1", &url])
        .output()
        .expect("curl (scripts/test.sh installs it)");
    assert!(!out.status.success(), "curl should have timed out");
    started.recv_timeout(Duration::from_secs(10)).expect("handler started");
    assert!(seen.recv_timeout(Duration::from_secs(30)).expect("handler finished").is_some());
    s.shutdown();
}
