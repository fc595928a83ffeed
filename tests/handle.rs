//! `ServerHandle` is shared: cloned, sent to other threads, used from inside a handler; any
//! clone stops the server, `join` waits wherever it is called, and the last drop stops it.

mod common;

use common::*;
use shockwave::{Request, Response, Server, ServerHandle};
use std::net::{SocketAddr, TcpStream};
use std::sync::{mpsc, Arc, OnceLock};
use std::time::Duration;

/// Runs `f` on its own thread and fails the test if it has not returned within `limit` (a
/// hang here is the bug under test).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(f()).unwrap());
    rx.recv_timeout(limit).unwrap_or_else(|_| panic!("did not return within {limit:?}"))
}

fn hello(_req: &Request, resp: &mut Response) {
    resp.write_body(b"hello");
}

fn answers(addr: SocketAddr) -> bool {
    let (r, _) = exchange(addr, &get("/"), 1);
    r.first().is_some_and(|r| r.status == 200)
}

#[test]
fn server_handle_is_clone_send_and_sync() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<ServerHandle>();
}

/// The admin-thread case: `join` waits in the main thread; another thread's `shutdown` ends it.
#[test]
fn shutdown_from_another_thread_ends_join_in_this_one() {
    let s = start_default(hello);
    let addr = s.local_addr();
    let stopper = s.clone();
    let other = std::thread::spawn(move || {
        assert!(answers(addr));
        stopper.shutdown(); // waits for the end too
        assert!(TcpStream::connect(addr).is_err(), "stopped when shutdown returns");
    });
    within(Duration::from_secs(30), move || s.join());
    other.join().unwrap();
}

/// A handler that stops its own server must not wait for itself: its answer goes out, and
/// `join` elsewhere returns.
#[test]
fn shutdown_from_inside_a_handler_does_not_deadlock() {
    let me: Arc<OnceLock<ServerHandle>> = Arc::new(OnceLock::new());
    let mine = me.clone();
    let s = start_default(move |req: &Request, resp: &mut Response| {
        if req.path() == "/stop" {
            mine.get().expect("handle set before the first request").shutdown();
            resp.write_body(b"stopping");
        } else {
            resp.write_body(b"hello");
        }
    });
    me.set(s.clone()).unwrap();
    let addr = s.local_addr();
    let (r, closed) = within(Duration::from_secs(30), move || exchange(addr, &get("/stop"), 1));
    assert_eq!(r.len(), 1, "the stopping handler's own answer arrives");
    assert_eq!((r[0].text().as_str(), r[0].header("connection")), ("stopping", Some("close")));
    assert!(closed);
    within(Duration::from_secs(30), move || s.join());
    assert!(TcpStream::connect(addr).is_err());
}

/// `join` from a handler would wait for itself forever: it panics instead, which the server
/// answers with a 500 and survives.
#[test]
fn join_from_inside_a_handler_panics_instead_of_hanging() {
    let me: Arc<OnceLock<ServerHandle>> = Arc::new(OnceLock::new());
    let mine = me.clone();
    let s = start_default(move |_req: &Request, _resp: &mut Response| mine.get().unwrap().join());
    me.set(s.clone()).unwrap();
    let addr = s.local_addr();
    let (r, _) = within(Duration::from_secs(30), move || exchange(addr, &get("/"), 1));
    assert_eq!(r[0].status, 500);
    assert_eq!(s.stats().handler_panics, 1);
    s.shutdown();
}

#[test]
fn clones_control_one_server_and_the_last_drop_stops_it() {
    let s = start_default(hello);
    let addr = s.local_addr();
    let clone = s.clone();
    assert_eq!(clone.local_addr(), addr);
    drop(s);
    assert!(answers(addr), "a clone still holds the server");
    let mut idle = Client::connect(addr);
    idle.send(&get("/"));
    assert_eq!(idle.read_response().status, 200);
    drop(clone); // the last handle: a graceful shutdown begins, without waiting
    assert!(idle.closed_within(Duration::from_secs(10)), "the idle connection is closed");
    wait_until(|| TcpStream::connect(addr).is_err());
}

#[test]
fn shutdown_twice_and_from_two_threads_at_once() {
    let s = start_default(hello);
    let addr = s.local_addr();
    let (a, b) = (s.clone(), s.clone());
    let ta = std::thread::spawn(move || a.shutdown());
    let tb = std::thread::spawn(move || b.join());
    within(Duration::from_secs(30), move || {
        s.shutdown();
        s.shutdown(); // already stopped: returns at once
        s.join();
    });
    ta.join().unwrap();
    tb.join().unwrap();
    assert!(TcpStream::connect(addr).is_err());
}

/// A slow request in flight when `shutdown` is called from another thread is answered, and
/// both that `shutdown` and a `join` elsewhere return only after it.
#[test]
fn every_waiter_returns_after_the_request_in_flight_is_answered() {
    let (entered_tx, entered) = mpsc::channel::<()>();
    let entered_tx = std::sync::Mutex::new(entered_tx);
    let (release_tx, release) = mpsc::channel::<()>();
    let release = std::sync::Mutex::new(release);
    let s = start(Server::builder().pollers(1).workers(2), move |_req: &Request, resp: &mut Response| {
        entered_tx.lock().unwrap().send(()).unwrap();
        release.lock().unwrap().recv_timeout(Duration::from_secs(20)).unwrap();
        resp.write_body(b"late");
    });
    let mut c = Client::connect(s.local_addr());
    c.send(&get("/"));
    entered.recv_timeout(Duration::from_secs(10)).unwrap();
    let (done_tx, done) = mpsc::channel::<&str>();
    let (a, b) = (s.clone(), s.clone());
    let tx = done_tx.clone();
    std::thread::spawn(move || {
        a.shutdown();
        tx.send("shutdown").unwrap();
    });
    std::thread::spawn(move || {
        b.join();
        done_tx.send("join").unwrap();
    });
    // neither returns while the handler is held (a bounded look: nothing may arrive)
    assert!(done.recv_timeout(Duration::from_millis(200)).is_err(), "returned before the request was answered");
    release_tx.send(()).unwrap();
    assert_eq!(c.read_response().text(), "late");
    let mut got =
        [done.recv_timeout(Duration::from_secs(30)).unwrap(), done.recv_timeout(Duration::from_secs(30)).unwrap()];
    got.sort();
    assert_eq!(got, ["join", "shutdown"]);
}
