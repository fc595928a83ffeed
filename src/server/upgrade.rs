//! The server's side of a protocol upgrade ([`Request::upgrade`](crate::Request::upgrade)):
//! once the `101` head is written, the connection stops being the server's.
//!
//! The socket leaves without being closed or shut down: it is taken out of its `Conn`,
//! deregistered from its poller (so its events no longer wake the poller, whatever token
//! reuse follows), and accounted for as closed (`connections_open`, the per-IP count, the slot
//! and its buffers go back) before the callback runs on a thread of its own. Nothing here
//! waits for that thread: a drain or shutdown does not know it exists.

use super::conn::Conn;
use super::shared::Shared;
use super::slot::Slot;
use crate::upgrade::{Pending, Upgraded};
use std::os::fd::AsRawFd;
use std::sync::Arc;

/// Hands the connection a worker holds to `up`'s callback. `out` holds the encoded `101` (after
/// any earlier responses of the batch): it is written, blocking up to the write timeout, once
/// the server has let go of the connection, so a client that connects again as soon as it has
/// the `101` finds its place under the connection caps free. `out` is empty afterwards.
pub(crate) fn hand_over(sh: &Shared, slot: &Arc<Slot>, c: &mut Conn, up: Pending, out: &mut Vec<u8>) {
    debug_assert!(!c.output.is_pending(), "the 101 must be the last output");
    let Some(sock) = c.socket.take() else { return out.clear() };
    let p = &sh.pollers[slot.poller];
    let fd = sock.as_raw_fd(); // (a named value: Rust 1.87 does not extend the temporary's life)
    if let Err(e) = p.registry.deregister(&mut mio::unix::SourceFd(&fd)) {
        log::warn!("cannot deregister an upgraded connection from {}: {e}", c.peer);
    }
    // the client's first bytes of the new protocol, read along with the request
    let end = c.input.len.max(up.head_end);
    let buffered = c.input.buf[up.head_end..end].to_vec();
    let peer = c.peer;
    let unix = peer == super::listener::UNIX_PEER;
    #[cfg(feature = "tls")]
    let tls = c.tls.take();
    #[cfg(not(feature = "tls"))]
    let tls = ();
    c.close(&p.pool); // the socket is out already: this only gives the buffers back
    slot.mark_closed();
    sh.connection_closed(slot.clone(), peer.ip());
    #[cfg(feature = "tls")]
    let wire = crate::wire::Wire { fd: crate::sys::Fd(sock.as_raw_fd()), tls: tls.clone() };
    #[cfg(not(feature = "tls"))]
    let wire = crate::wire::Wire::plain(crate::sys::Fd(sock.as_raw_fd()));
    let sent = wire.write_all_blocking(out, sh.cfg.write_timeout);
    out.clear();
    if let Err(e) = sent {
        return log::debug!("the 101 to {peer} failed: {e}"); // dropping `sock` closes it
    }
    let stream = match Upgraded::new(sock, unix, buffered, tls) {
        Ok(s) => s,
        Err(e) => return log::warn!("cannot hand over the upgraded connection from {peer}: {e}"),
    };
    let on_upgrade = up.on_upgrade;
    let spawned = std::thread::Builder::new().name("shockwave-upgraded".into()).spawn(move || on_upgrade(stream));
    if let Err(e) = spawned {
        log::error!("cannot start a thread for the upgraded connection from {peer}: {e}");
    }
}
