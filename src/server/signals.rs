//! Graceful shutdown on SIGINT and SIGTERM (cargo feature `signals`).
//!
//! One thread per process, started by the first [`watch`], waits on `signal-hook`'s self-pipe
//! (the signal handler itself only writes a byte to it, which is async-signal-safe) and acts
//! for every server registered with it. On a signal, every registered server still running
//! begins a graceful shutdown; when none is (they are draining already, or have ended), the
//! signal's default action is carried out instead and the process terminates at once. So the
//! first Ctrl-C drains, a second one exits, and after the servers are gone Ctrl-C works as it
//! would without them. The list holds `Weak`s: watching a server does not keep it alive, nor
//! stop the last [`ServerHandle`](crate::ServerHandle)'s drop from shutting it down.
//!
//! Never undone: `signal-hook` cannot restore a signal's original disposition, which is why
//! the thread emulates it once no server is left to shut down.

use super::pool;
use super::shared::Shared;
use signal_hook::consts::{SIGINT, SIGTERM};
use std::io;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, PoisonError, Weak};

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
    let running: Vec<Arc<Shared>> = {
        let mut watched = WATCHED.lock().unwrap_or_else(PoisonError::into_inner);
        let list = watched.get_or_insert_with(Vec::new);
        list.retain(|w| w.strong_count() > 0);
        list.iter().filter_map(Weak::upgrade).filter(|s| !s.shutdown.load(Relaxed)).collect()
    };
    let name = signal_hook::low_level::signal_name(sig).unwrap_or("signal");
    if running.is_empty() {
        log::warn!("{name} while no server is left to shut down gracefully: exiting at once");
        let _ = signal_hook::low_level::emulate_default_handler(sig);
        std::process::exit(128 + sig); // (only if the default action did not end the process)
    }
    log::info!("{name}: shutting down gracefully (another ends the process at once)");
    for s in &running {
        pool::stop(s);
    }
}
