//! Graceful shutdown on SIGINT and SIGTERM, and exec hand-over on SIGUSR2 (cargo feature
//! `signals`).
//!
//! One thread per process, started by the first [`watch`], waits on `signal-hook`'s self-pipe
//! (the signal handler itself only writes a byte to it, which is async-signal-safe) and acts
//! for every server registered with it. On the first signal, every registered server still
//! running begins a drain (one already draining, after a hand-over or `drain()`, goes on); on a
//! later one with no server left to drain, or on any once the servers have ended, the signal's
//! default action is carried out instead and the process terminates at once. So the first
//! Ctrl-C drains, a second one exits, and after the servers are gone Ctrl-C works as it would
//! without them. The list holds `Weak`s: watching a server does not keep it alive, nor
//! stop the last [`ServerHandle`](crate::ServerHandle)'s drop from shutting it down.
//!
//! SIGUSR2 has a thread of its own, started by the first [`watch_hand_over`]: it hands the
//! watched server's sockets to a new process (`handover.rs`) and drains it, as nginx does on the
//! same signal. Until then SIGUSR2 keeps its default action.
//!
//! Never undone: `signal-hook` cannot restore a signal's original disposition, which is why
//! the thread emulates it once no server is left to shut down.

use super::shared::Shared;
use signal_hook::consts::{SIGINT, SIGTERM};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// Whether a signal has begun this process's stop (the next one ends it at once).
static SIGNALLED: AtomicBool = AtomicBool::new(false);

/// The servers the signal thread acts for; `None` until the thread is started.
static WATCHED: Mutex<Option<Vec<Weak<Shared>>>> = Mutex::new(None);

/// Has SIGINT and SIGTERM shut `sh` down gracefully (idempotent).
pub(crate) fn watch(sh: &Arc<Shared>) -> io::Result<()> {
    let mut watched = WATCHED.lock().unwrap_or_else(PoisonError::into_inner);
    if watched.is_none() {
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        std::thread::Builder::new().name("shockwave-signals".into()).spawn(move || {
            for sig in signals.forever() {
                on_signal(sig);
            }
        })?;
    }
    let list = watched.get_or_insert_with(Vec::new);
    list.retain(|w| w.strong_count() > 0);
    if !list.iter().any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(sh))) {
        list.push(Arc::downgrade(sh));
    }
    Ok(())
}

fn on_signal(sig: i32) {
    // servers still serving (or stopping), and those of them not yet stopping
    let alive: Vec<Arc<Shared>> = {
        let mut watched = WATCHED.lock().unwrap_or_else(PoisonError::into_inner);
        let list = watched.get_or_insert_with(Vec::new);
        list.retain(|w| w.strong_count() > 0);
        list.iter().filter_map(Weak::upgrade).filter(|s| !s.all_done()).collect()
    };
    let running: Vec<&Arc<Shared>> = alive.iter().filter(|s| !s.is_draining()).collect();
    let name = signal_hook::low_level::signal_name(sig).unwrap_or("signal");
    let first = !SIGNALLED.swap(true, SeqCst);
    if alive.is_empty() || (running.is_empty() && !first) {
        log::warn!("{name} while no server is left to shut down gracefully: exiting at once");
        let _ = signal_hook::low_level::emulate_default_handler(sig);
        std::process::exit(128 + sig); // (only if the default action did not end the process)
    }
    if running.is_empty() {
        // the drain was begun otherwise (a hand-over, `drain()`): this is the first signal
        log::info!("{name}: the servers are draining already (another ends the process at once)");
        return;
    }
    log::info!("{name}: shutting down gracefully (another ends the process at once)");
    for s in running {
        super::drain::begin(s);
    }
}

/// How long the new process of a hand-over on SIGUSR2 has to be ready.
const HAND_OVER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The server SIGUSR2 hands over; `None` until the thread is started.
static HANDED_OVER: Mutex<Option<Weak<Shared>>> = Mutex::new(None);

/// Has SIGUSR2 hand `sh`'s sockets over to a new process and drain it (the last server watched
/// this way is the one handed over: a hand-over starts one process for one server).
pub(crate) fn watch_hand_over(sh: &Arc<Shared>) -> io::Result<()> {
    let mut watched = HANDED_OVER.lock().unwrap_or_else(PoisonError::into_inner);
    if watched.is_none() {
        let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGUSR2])?;
        std::thread::Builder::new().name("shockwave-sigusr2".into()).spawn(move || {
            for _ in signals.forever() {
                let sh = HANDED_OVER.lock().unwrap_or_else(PoisonError::into_inner).as_ref().and_then(Weak::upgrade);
                let Some(sh) = sh else {
                    log::warn!("SIGUSR2: no server is left to hand over");
                    continue;
                };
                log::info!("SIGUSR2: handing the listening sockets over to a new process");
                match super::handover::hand_over(&sh, HAND_OVER_TIMEOUT) {
                    Ok(pid) => {
                        log::info!("SIGUSR2: pid {pid} serves now; draining");
                        super::drain::begin(&sh);
                    }
                    Err(e) => log::error!("SIGUSR2: hand-over failed, still serving: {e}"),
                }
            }
        })?;
    }
    *watched = Some(Arc::downgrade(sh));
    Ok(())
}
