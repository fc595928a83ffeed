//! The pool's threads: the ones started with the server, the ones the monitor adds when
//! requests wait with every worker busy, the retired ones reaped, and all joined at shutdown.
//! (When to add or retire a thread is decided in `dispatch.rs`; this module only carries it
//! out.)

use super::monitor;
use super::shared::Shared;
use super::worker::Worker;
use std::io;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::thread::Builder;

/// Starts one more pool thread; `Ok(false)` when the pool is at its maximum.
pub(crate) fn spawn(sh: &Arc<Shared>) -> io::Result<bool> {
    let Some((id, parker)) = sh.dispatch.claim() else { return Ok(false) };
    let w = Worker::new(sh.clone(), id);
    let started = Builder::new().name(format!("shockwave-{id}")).spawn(move || {
        let _ = crate::sys::batch_scheduling();
        w.run(parker)
    });
    match started {
        Ok(h) => {
            sh.threads.lock().push(h);
            Ok(true)
        }
        Err(e) => {
            // (the id's parker went with the closure: the pool is one thread smaller for good)
            sh.dispatch.unclaim();
            Err(e)
        }
    }
}

/// Starts the monitor thread.
pub(crate) fn spawn_monitor(sh: &Arc<Shared>) -> io::Result<()> {
    let m = sh.clone();
    let h = Builder::new().name("shockwave-monitor".into()).spawn(move || {
        let _ = crate::sys::batch_scheduling();
        monitor::run(m)
    })?;
    sh.threads.lock().push(h);
    Ok(())
}

/// Adds up to `n` threads (the monitor's decision); stops early at the maximum or on failure.
pub(crate) fn grow(sh: &Arc<Shared>, n: usize) {
    for _ in 0..n {
        match spawn(sh) {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                log::warn!("cannot start another worker thread ({} running): {e}", sh.dispatch.live());
                return;
            }
        }
    }
}

/// Joins the threads that have ended (retired workers), so their stacks are freed. In place:
/// the monitor runs this while requests are served, which allocate nothing.
pub(crate) fn reap(sh: &Shared) {
    let mut all = sh.threads.lock();
    let mut i = 0;
    while i < all.len() {
        if all[i].is_finished() {
            let _ = all.swap_remove(i).join(); // it has ended: this does not wait
        } else {
            i += 1;
        }
    }
}

/// Starts a graceful shutdown: no more accepts, idle connections closed, and every thread
/// leaves its loop once there is nothing left to do.
pub(crate) fn stop(sh: &Shared) {
    sh.shutdown.store(true, SeqCst);
    for p in &sh.pollers {
        let _ = p.waker.wake();
    }
    sh.dispatch.stop(); // sleepers look again, and lead the pollers to their end
}

/// Waits for every pool thread and the monitor to end (threads the monitor starts meanwhile
/// are joined too: the list is read until it stays empty).
pub(crate) fn join(sh: &Shared) {
    loop {
        let Some(h) = sh.threads.lock().pop() else { return };
        let _ = h.join();
    }
}
