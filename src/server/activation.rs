//! Listening sockets passed in by whoever started the process, by the protocol of systemd's
//! socket activation (`sd_listen_fds(3)`): descriptors 3, 4, … are listening sockets,
//! `LISTEN_FDS` says how many, `LISTEN_PID` names the process they are for (so a child that
//! inherits the environment does not take them too), `LISTEN_FDNAMES` optionally names them.
//! Shockwave's own exec hand-over (`handover.rs`) passes its sockets to the new binary the same
//! way.
//!
//! The descriptors are taken at most once per process: ownership of a raw descriptor can only
//! be claimed once, so a second server asking finds none. Each is checked to be a listening
//! stream socket before it is used, and marked close-on-exec and non-blocking (systemd passes
//! them without either), so programs the server starts do not inherit them.

use super::listener::Bound;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

/// The first passed descriptor (`SD_LISTEN_FDS_START`).
const FIRST_FD: RawFd = 3;

/// Whether the passed descriptors have been claimed by a server of this process.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The sockets passed to this process, if any (and not already taken): `Ok(None)` when
/// `LISTEN_PID` is not this process or `LISTEN_FDS` is unset; an error when they are set but
/// wrong (a number that does not parse, a descriptor that is not a listening stream socket, a
/// mix of TCP and Unix sockets), naming what is wrong.
pub(crate) fn take() -> io::Result<Option<Bound>> {
    let (Ok(pid), Ok(fds)) = (std::env::var("LISTEN_PID"), std::env::var("LISTEN_FDS")) else { return Ok(None) };
    if pid.trim().parse::<u32>().ok() != Some(std::process::id()) {
        return Ok(None);
    }
    let bad = |why: String| io::Error::new(io::ErrorKind::InvalidInput, format!("LISTEN_FDS={fds}: {why}"));
    let n: RawFd = fds.trim().parse().map_err(|_| bad("not a number of sockets".into()))?;
    if n == 0 {
        return Ok(None);
    }
    if !(1..=1024).contains(&n) {
        return Err(bad("out of range".into()));
    }
    if TAKEN.swap(true, SeqCst) {
        return Ok(None);
    }
    let mut tcp = Vec::new();
    let mut unix = None;
    for fd in FIRST_FD..FIRST_FD + n {
        let family = crate::sys::listening_stream_family(fd).map_err(|e| bad(format!("descriptor {fd}: {e}")))?;
        // SAFETY: descriptor `fd` is open (checked just above) and was passed to this process
        // for it to own (`LISTEN_PID` names it); `TAKEN` makes this the only claim on it.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        crate::sys::set_cloexec_nonblocking(owned.as_raw_fd()).map_err(|e| bad(format!("descriptor {fd}: {e}")))?;
        match family {
            libc::AF_UNIX if unix.is_none() && tcp.is_empty() => {
                unix = Some(std::os::unix::net::UnixListener::from(owned));
            }
            libc::AF_INET | libc::AF_INET6 if unix.is_none() => tcp.push(std::net::TcpListener::from(owned)),
            _ => return Err(bad("a server serves TCP sockets or one Unix socket, not a mix".into())),
        }
    }
    Ok(Some(match unix {
        Some(l) => Bound::Unix(l, None),
        None => Bound::Tcp(tcp),
    }))
}
