//! Shutdown's cost, alone in its own test binary: the process CPU it measures is then the
//! server's and this test's only, not that of other tests running in parallel.

mod common;

use common::*;
use shockwave::{Request, Response, Server};
use std::time::Duration;

fn process_cpu() -> Duration {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we pass.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    Duration::new(u.ru_utime.tv_sec as u64, u.ru_utime.tv_usec as u32 * 1000)
        + Duration::new(u.ru_stime.tv_sec as u64, u.ru_stime.tv_usec as u32 * 1000)
}

/// Regression: while a graceful shutdown waits for a slow request, idle pool threads must sleep
/// rather than spin (they once polled for the pollers' end without pausing). The bound is a
/// resource count, like the allocation test's: a second of waiting costs well under 300 ms of
/// CPU unless something spins.
#[test]
fn shutdown_waits_without_spinning() {
    let (entered_tx, entered) = std::sync::mpsc::channel::<()>();
    let entered_tx = std::sync::Mutex::new(entered_tx);
    let s = start(Server::builder().pollers(2).workers(8), move |_req: &Request, resp: &mut Response| {
        entered_tx.lock().unwrap().send(()).unwrap();
        std::thread::sleep(Duration::from_secs(1)); // the slow request shutdown waits for
        resp.write_body(b"late");
    });
    let mut c = Client::connect(s.local_addr());
    c.send(&get("/"));
    entered.recv().unwrap();
    let before = process_cpu();
    s.shutdown(); // returns once the slow request has been answered
    let used = process_cpu() - before;
    assert_eq!(c.read_response().text(), "late");
    println!("CPU during a ~1 s shutdown wait: {used:?}");
    assert!(used < Duration::from_millis(300), "threads spun during shutdown: {used:?} of CPU");
}
