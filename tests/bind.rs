//! Binding: the port is the server's alone unless sharing is asked for, and errors say which
//! address failed.

mod common;

use common::*;
use shockwave::Server;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

fn in_use(addr: SocketAddr, e: std::io::Error) {
    assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse, "{e}");
    assert!(e.to_string().contains(&addr.to_string()), "the error names the address: {e}");
}

/// Regression: every listener used SO_REUSEPORT, so a second server bound the same port
/// without error and silently took half the connections.
#[test]
fn a_port_in_use_is_refused_with_an_error_naming_it() {
    for pollers in [1, 2] {
        let first = Server::builder().pollers(pollers).bind("127.0.0.1:0").unwrap();
        for second in [1, 2, 4] {
            in_use(first.local_addr(), Server::builder().pollers(second).bind(first.local_addr()).unwrap_err());
        }
        // the port is free again once the first server is gone
        let addr = first.local_addr();
        let h = first.start(|_req, resp| resp.write_body(b"x")).unwrap();
        h.shutdown();
        Server::builder().pollers(pollers).bind(addr).expect("free again");
    }
}

/// Other programs' listeners, with and without SO_REUSEPORT, hold the port too.
#[test]
fn another_programs_listener_holds_the_port() {
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    in_use(plain.local_addr().unwrap(), Server::builder().bind(plain.local_addr().unwrap()).unwrap_err());
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.set_reuse_port(true).unwrap();
    s.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into()).unwrap();
    s.listen(16).unwrap();
    let addr = s.local_addr().unwrap().as_socket().unwrap();
    in_use(addr, Server::builder().pollers(2).bind(addr).unwrap_err());
}

/// Sharing a port takes both sides' consent (the restart-without-downtime case).
#[test]
fn reuse_port_shares_the_port_when_both_opt_in() {
    let first = Server::builder().pollers(2).reuse_port(true).bind("127.0.0.1:0").unwrap();
    let second = Server::builder().pollers(2).reuse_port(true).bind(first.local_addr()).expect("both opted in");
    assert_eq!(first.local_addr(), second.local_addr());
    in_use(first.local_addr(), Server::builder().bind(first.local_addr()).unwrap_err());
}

/// The report's case as users meet it: a second process started on the same port exits with
/// the error instead of serving half the traffic.
#[test]
fn a_second_process_on_the_same_port_exits_with_the_error() {
    let hello = example("hello");
    let first = Command::new(&hello).arg("127.0.0.1:0").stdout(Stdio::piped()).spawn().unwrap();
    let mut first = KillOnDrop(first);
    let mut line = String::new();
    BufReader::new(first.0.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    let addr = address_in(&line).to_string();
    let second = Command::new(&hello).arg(&addr).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let out = wait_exit(second, std::time::Duration::from_secs(10));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the second server must not start: {err}");
    assert!(err.contains(&format!("cannot listen on {addr}")) && err.contains("in use"), "{err}");
}

/// The reuseport trap: closing a listener resets the connections in its accept queue. The
/// newest server bound with `reuse_port` steers every new connection to itself, so the old one
/// can stop with nothing queued: connections opened all through its shutdown are all answered.
#[test]
fn the_newest_reuse_port_server_takes_every_new_connection() {
    let old = Server::builder().pollers(2).reuse_port(true).bind("127.0.0.1:0").unwrap();
    let addr = old.local_addr();
    let old = old.start(|_req, resp| resp.write_body("old")).unwrap();
    let new = Server::builder().pollers(2).reuse_port(true).bind(addr).unwrap();
    let new = new.start(|_req, resp| resp.write_body("new")).unwrap();
    let answers = move |n: usize| {
        (0..n)
            .map(|_| {
                let mut c = common::Client::connect(addr);
                c.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                c.read_response().text()
            })
            .collect::<Vec<_>>()
    };
    assert!(answers(200).iter().all(|a| a == "new"), "every connection goes to the newest server");
    // the old server stops while connections keep coming: none is reset
    let client = std::thread::spawn(move || answers(500));
    old.shutdown();
    assert!(client.join().unwrap().iter().all(|a| a == "new"));
    new.shutdown();
}
