//! Readiness notifications to a service manager, by the protocol of systemd's `sd_notify(3)`: a
//! datagram such as `READY=1` sent to the Unix socket named in `NOTIFY_SOCKET` (a path, or an
//! abstract name written with a leading `@`). The same message tells a process that handed its
//! sockets over (`handover.rs`) that its successor serves, on the socket pair end whose
//! descriptor [`HANDOVER_FD`] names.
//!
//! What is said is the process's, not one server's: `READY=1` once (the first `join`, or
//! `ServerHandle::notify_ready`), `STOPPING=1` when the last running server of the process
//! begins to stop, and nothing more from a process that has handed over (the manager follows
//! the new one: its `STOPPING=1` would stop the service). `MAINPID=` comes only with a
//! hand-over: from the old process naming the new one, and from the new one with its
//! `READY=1`.
//!
//! Nothing here fails a server: without the variables nothing is sent, and a failed send is
//! logged (the manager may be gone) and otherwise ignored.

use std::os::fd::FromRawFd;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

/// The variable naming the descriptor on which a new process says it is ready to the process
/// that handed it the sockets.
pub(crate) const HANDOVER_FD: &str = "SHOCKWAVE_HANDOVER_FD";

/// Whether this process has said it is ready.
static READY: AtomicBool = AtomicBool::new(false);
/// This process has handed its sockets over: the manager hears from the new one now.
static HANDED_OVER: AtomicBool = AtomicBool::new(false);
/// Servers of this process started and not yet stopping.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// The address `name` stands for: a path, or an abstract name after `@`.
fn address(name: &str) -> std::io::Result<SocketAddr> {
    match name.strip_prefix('@') {
        Some(abstract_name) => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(abstract_name)
        }
        None => SocketAddr::from_pathname(name),
    }
}

/// Tells the service manager `state`, if there is one and this process has not handed over.
pub(crate) fn manager(state: &str) {
    if HANDED_OVER.load(SeqCst) {
        return;
    }
    let Ok(name) = std::env::var("NOTIFY_SOCKET") else { return };
    let sent = address(&name).and_then(|a| UnixDatagram::unbound()?.send_to_addr(state.as_bytes(), &a));
    if let Err(e) = sent {
        log::debug!("cannot send {state:?} to NOTIFY_SOCKET={name}: {e}");
    }
}

/// A server has started.
pub(crate) fn started() {
    RUNNING.fetch_add(1, SeqCst);
}

/// A server begins to stop (`counted`: the server's own flag, so it is counted once): the last
/// one tells the manager `STOPPING=1`.
pub(crate) fn stopping(counted: &AtomicBool) {
    if !counted.swap(true, SeqCst) && RUNNING.fetch_sub(1, SeqCst) == 1 {
        manager("STOPPING=1");
    }
}

/// The sockets went to process `pid`: the manager is told it is the main process now, and
/// hears nothing more from this one.
pub(crate) fn handed_over(pid: u32) {
    manager(&format!("MAINPID={pid}"));
    HANDED_OVER.store(true, SeqCst);
}

/// Tells the service manager, and a process that handed its sockets over, that this process
/// serves: once.
pub(crate) fn ready() {
    if READY.swap(true, SeqCst) {
        return;
    }
    let Some(fd) = std::env::var(HANDOVER_FD).ok().and_then(|v| v.parse::<i32>().ok()) else {
        return manager("READY=1");
    };
    manager(&format!("READY=1\nMAINPID={}", std::process::id()));
    if crate::sys::socket_type(fd).ok() != Some(libc::SOCK_DGRAM) {
        log::warn!(
            "{HANDOVER_FD}={fd} is not a datagram socket: the process that started this one is not told it is ready"
        );
        return;
    }
    // SAFETY: the descriptor was passed to this process for this message alone (the process
    // that started it named it, and checked above to be a socket); `READY` makes this the one
    // claim on it, and dropping the socket closes it.
    let socket = unsafe { UnixDatagram::from_raw_fd(fd) };
    if let Err(e) = socket.send(b"READY=1") {
        log::warn!("cannot tell the process that handed over its sockets that this one is ready: {e}");
    }
}
