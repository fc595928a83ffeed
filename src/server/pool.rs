//! The pool's threads: the ones started with the server, the ones the monitor adds when
//! requests wait with every worker busy, the retired ones reaped, and all joined at shutdown.
//! (When to add or retire a thread is decided in `dispatch.rs`; this module only carries it
//! out.)

use super::monitor;
use super::shared::Shared;
use super::worker::Worker;
use std::cell::Cell;
use std::io;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::thread::Builder;

thread_local! {
    /// On a pool thread or the monitor: the address of its server's `Shared` (else 0), so a
    /// handler that shuts its own server down is not made to wait for itself.
    static SERVER: Cell<usize> = const { Cell::new(0) };
}

/// Whether the calling thread is one of `sh`'s pool threads (or its monitor).
pub(crate) fn on_own_thread(sh: &Arc<Shared>) -> bool {
    SERVER.with(Cell::get) == Arc::as_ptr(sh) as usize
}

/// Starts one more pool thread; `Ok(false)` when the pool is at its maximum.
pub(crate) fn spawn(sh: &Arc<Shared>) -> io::Result<bool> {
    let Some((id, parker)) = sh.dispatch.claim() else { return Ok(false) };
    let w = Worker::new(sh.clone(), id);
    let me = Arc::as_ptr(sh) as usize;
    let started = Builder::new().name(format!("shockwave-{id}")).spawn(move || {
        SERVER.with(|s| s.set(me));
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
        SERVER.with(|s| s.set(Arc::as_ptr(&m) as usize));
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
/// leaves its loop once there is nothing left to do (the end of a drain, `drain.rs`; a
/// shutdown is a drain without the delay). Idempotent, and it never waits.
pub(crate) fn stop(sh: &Shared) {
    sh.draining.store(true, SeqCst);
    super::notify::stopping(&sh.stop_counted);
    sh.shutdown.store(true, SeqCst);
    // the pollers close theirs as they stop accepting: then the port is free
    sh.listening.lock().clear();
    for p in &sh.pollers {
        let _ = p.waker.wake();
    }
    sh.dispatch.stop(); // sleepers look again, and lead the pollers to their end
}

/// Waits for every pool thread and the monitor to end (threads the monitor starts meanwhile
/// are joined too: the list is read until it stays empty). Callers take turns: a second one
/// waits until the first has joined the last thread, so none returns while a thread it could
/// not see (popped by the other) still runs. Never called from a pool thread.
pub(crate) fn join(sh: &Shared) {
    let _turn = sh.joiner.lock();
    loop {
        let Some(h) = sh.threads.lock().pop() else { return };
        let _ = h.join();
    }
}
