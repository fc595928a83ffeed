//! `ServerHandle::shutdown_on_signals` in a real process: `examples/graceful` (built here with
//! the `signals` feature, whatever this test's own build has) gets SIGTERM while a slow request
//! is in flight.

mod common;

use common::*;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// The example started on a free port; its address and its stdout, line by line.
fn graceful() -> (KillOnDrop, SocketAddr, Receiver<String>) {
    let exe = example_with("graceful", &["signals"]);
    let (child, lines) = spawn_lines(Command::new(exe).arg("127.0.0.1:0"));
    let first = line(&lines);
    let addr = first.trim_start_matches("listening on http://").trim_end_matches('/').parse().expect(&first);
    (child, addr, lines)
}

fn line(lines: &Receiver<String>) -> String {
    lines.recv_timeout(Duration::from_secs(30)).expect("the example printed nothing")
}

fn sigterm(child: &KillOnDrop) {
    // SAFETY: plain kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.0.id() as libc::pid_t, libc::SIGTERM) }, 0);
}

/// The example is serving the slow request: its handler has printed that it started.
fn send_slow(addr: SocketAddr, ms: u64, lines: &Receiver<String>) -> Client {
    let mut c = Client::connect(addr);
    c.send(&get(&format!("/sleep/{ms}")));
    assert_eq!(line(lines), format!("GET /sleep/{ms}: sleeping {ms} ms"));
    c
}

#[test]
fn sigterm_drains_the_request_in_flight_then_exits_0() {
    let (mut child, addr, lines) = graceful();
    let mut c = send_slow(addr, 1000, &lines);
    sigterm(&child);
    let r = c.read_response_within(false, Duration::from_secs(10)).expect("the request in flight is answered");
    assert_eq!((r.status, r.text().as_str()), (200, "done: /sleep/1000\n"));
    assert_eq!(r.header("connection"), Some("close"));
    let answered = Instant::now();
    let status = child.exit_within(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "a graceful exit: {status:?}");
    assert!(answered.elapsed() < Duration::from_secs(5), "exited promptly after the last answer");
    assert_eq!(line(&lines), "stopped", "main returned from join()");
}

/// A second signal while the server drains ends the process at once, by the signal.
#[test]
fn a_second_sigterm_while_draining_exits_at_once() {
    let (mut child, addr, lines) = graceful();
    let _slow = send_slow(addr, 60_000, &lines);
    sigterm(&child);
    // the first one has been handled once the listener is closed
    wait_until(|| TcpStream::connect(addr).is_err());
    sigterm(&child);
    let status = child.exit_within(Duration::from_secs(5));
    assert_eq!(status.signal(), Some(libc::SIGTERM), "terminated by the signal: {status:?}");
}
