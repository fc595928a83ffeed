//! The worker pool sizes itself to blocking handlers: it grows while requests wait with every
//! worker busy, up to its maximum, and shrinks back to its minimum when idle.

mod common;

use common::*;
use shockwave::{Request, Response, Server};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Counts handlers inside at once; they leave only when the test opens the gate.
#[derive(Default)]
struct Gate {
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl Gate {
    fn enter_and_wait(&self) {
        let mut s = self.state.lock().unwrap();
        s.0 += 1;
        self.changed.notify_all();
        while !s.1 {
            s = self.changed.wait(s).unwrap();
        }
    }
    /// Waits (up to 10 s) until `n` handlers are inside at once.
    fn wait_for(&self, n: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut s = self.state.lock().unwrap();
        while s.0 < n && Instant::now() < deadline {
            s = self.changed.wait_timeout(s, deadline - Instant::now()).unwrap().0;
        }
        s.0
    }
    fn open(&self) {
        self.state.lock().unwrap().1 = true;
        self.changed.notify_all();
    }
}

/// Regression: with a fixed pool of 16 workers, 16 handlers blocked at once held up every
/// other request (a 50 ms handler under 200 connections served 314 req/s).
#[test]
fn blocking_handlers_grow_the_pool_and_idle_workers_retire() {
    let gate = Arc::new(Gate::default());
    let g = gate.clone();
    let s = start(
        Server::builder().pollers(1).min_workers(2).max_workers(16).worker_idle_timeout(Duration::from_millis(300)),
        move |_req: &Request, resp: &mut Response| {
            g.enter_and_wait();
            resp.write_body(b"done");
        },
    );
    assert_eq!(s.stats().workers, 2);
    let n = 12;
    let mut clients: Vec<Client> = (0..n).map(|_| Client::connect(s.local_addr())).collect();
    for c in &mut clients {
        c.send(&get("/"));
    }
    assert_eq!(gate.wait_for(n), n, "all {n} blocking handlers run at once: the pool grew from 2");
    assert!(s.stats().workers >= n as u64);
    gate.open();
    for c in &mut clients {
        assert_eq!(c.read_response().text(), "done");
    }
    // idle workers beyond the minimum retire (a bounded wait for it, no timing asserted)
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.stats().workers > 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(s.stats().workers, 2, "back to the minimum");
    // and it grows again
    let gate2 = gate.clone();
    *gate2.state.lock().unwrap() = (0, false);
    for c in &mut clients {
        c.send(&get("/"));
    }
    assert_eq!(gate.wait_for(n), n);
    gate.open();
    for c in &mut clients {
        assert_eq!(c.read_response().text(), "done");
    }
    s.shutdown();
}

/// At the maximum the pool grows no further: requests wait in the queue, and past it are
/// answered 503 at once.
#[test]
fn at_the_maximum_requests_queue_then_get_503() {
    let gate = Arc::new(Gate::default());
    let g = gate.clone();
    let s = start(
        Server::builder().pollers(1).min_workers(1).max_workers(3).queue_capacity(2),
        move |_req: &Request, resp: &mut Response| {
            g.enter_and_wait();
            resp.write_body(b"done");
        },
    );
    let mut busy = Vec::new();
    for k in 1..=3 {
        let mut c = Client::connect(s.local_addr());
        c.send(&get("/"));
        busy.push(c);
        assert_eq!(gate.wait_for(k), k, "the pool grows to its maximum of 3: {:?}", s.stats());
    }
    // three more: two wait in the queue, one is refused at once (which one is the server's
    // order of events); each is read on its own thread
    let (tx, rx) = std::sync::mpsc::channel();
    for _ in 0..3 {
        let mut c = Client::connect(s.local_addr());
        let tx = tx.clone();
        std::thread::spawn(move || {
            c.send(&get("/"));
            let _ = tx.send(c.read_response_within(false, Duration::from_secs(20)).map(|r| r.status));
        });
    }
    let first = rx.recv_timeout(Duration::from_secs(10)).expect("an answer while every handler is blocked");
    assert_eq!(first, Some(503));
    assert_eq!(s.stats().workers, 3, "no more workers than the maximum");
    gate.open();
    for c in &mut busy {
        assert_eq!(c.read_response().text(), "done");
    }
    for _ in 0..2 {
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), Some(200), "the queued two are answered");
    }
    s.shutdown();
}
