//! Readiness notifications to a service manager, by the protocol of systemd's `sd_notify(3)`: a
//! datagram such as `READY=1` sent to the Unix socket named in `NOTIFY_SOCKET` (a path, or an
//! abstract name written with a leading `@`). The same protocol tells a process that handed its
//! sockets over (`handover.rs`) that its successor is ready; that socket is named in
//! [`HANDOVER_SOCKET`].
//!
//! Nothing here fails a server: without the variable nothing is sent, and a failed send is
//! logged (the manager may be gone) and otherwise ignored.

use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

/// The variable naming the socket of the process a hand-over replaces.
pub(crate) const HANDOVER_SOCKET: &str = "SHOCKWAVE_HANDOVER_SOCKET";

/// Whether this process has said it is ready (once).
static READY: AtomicBool = AtomicBool::new(false);

/// The address `name` stands for: a path, or an abstract name after `@`.
pub(crate) fn address(name: &str) -> std::io::Result<SocketAddr> {
    match name.strip_prefix('@') {
        Some(abstract_name) => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(abstract_name)
        }
        None => SocketAddr::from_pathname(name),
    }
}

/// Sends `state` to the socket the variable `var` names, if it is set.
fn send_to(var: &str, state: &str) {
    let Ok(name) = std::env::var(var) else { return };
    let sent = address(&name).and_then(|a| UnixDatagram::unbound()?.send_to_addr(state.as_bytes(), &a));
    if let Err(e) = sent {
        log::debug!("cannot send {state:?} to {var}={name}: {e}");
    }
}

/// Tells the service manager (`state`, e.g. `STOPPING=1`).
pub(crate) fn manager(state: &str) {
    send_to("NOTIFY_SOCKET", state);
}

/// Tells the service manager and a process handing its sockets over that this process serves:
/// once, when it first waits for a server (`ServerHandle::join`).
pub(crate) fn ready() {
    if READY.swap(true, SeqCst) {
        return;
    }
    manager(&format!("READY=1\nMAINPID={}", std::process::id()));
    send_to(HANDOVER_SOCKET, "READY=1");
}
