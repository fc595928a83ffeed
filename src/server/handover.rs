//! Exec hand-over (nginx's binary upgrade): the running process starts its own program again,
//! from the same path, with its listening sockets passed by the socket-activation protocol
//! (`activation.rs`), waits until the new process says it serves, then drains. The sockets are
//! never closed, so no connection is refused or reset: until the old process stops accepting,
//! both take connections from the same queue.
//!
//! The new process says it is ready with a `READY=1` datagram (`notify.rs`) to a socket the old
//! one creates for the purpose and names in its environment. Under systemd, the old process
//! then tells the manager the service's main process is the new one (`MAINPID=`).

use super::notify;
use super::shared::Shared;
use std::ffi::CString;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the wait for the new process looks whether it has exited.
const POLL: Duration = Duration::from_millis(50);

/// Variables of ours that must not reach the new process as they are.
const REPLACED: [&str; 4] = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", notify::HANDOVER_SOCKET];

/// Starts the new process and waits up to `timeout` for it to be ready; returns its pid. The
/// caller then drains `sh`. On failure (the program cannot be found, exits, or is not ready in
/// time, in which case it is sent SIGTERM), the old process goes on serving.
pub(crate) fn hand_over(sh: &Arc<Shared>, timeout: Duration) -> io::Result<u32> {
    // duplicates: the server may stop accepting (and close its own) while this waits
    let sockets = {
        let listening = sh.listening.lock();
        if listening.is_empty() || sh.is_draining() {
            return Err(io::Error::other("the server is stopping: there are no sockets to hand over"));
        }
        listening.iter().map(|f| f.try_clone()).collect::<io::Result<Vec<_>>>()?
    };
    let fds: Vec<i32> = sockets.iter().map(AsRawFd::as_raw_fd).collect();
    let pid = start_and_wait(&fds, timeout)?;
    notify::manager(&format!("MAINPID={pid}"));
    Ok(pid)
}

fn start_and_wait(fds: &[i32], timeout: Duration) -> io::Result<u32> {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let name = format!("@shockwave-handover-{}-{}", std::process::id(), SEQ.fetch_add(1, Relaxed));
    let socket = UnixDatagram::bind_addr(&notify::address(&name)?)?;
    let exe = program()?;
    let cstr = |b: &[u8]| CString::new(b).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte"));
    let path = cstr(exe.as_os_str().as_bytes())?;
    let argv = std::env::args_os().map(|a| cstr(a.as_bytes())).collect::<io::Result<Vec<_>>>()?;
    let mut env = Vec::new();
    for (k, v) in std::env::vars_os() {
        if !REPLACED.iter().any(|r| k.as_bytes() == r.as_bytes()) {
            env.push(cstr(&[k.as_bytes(), b"=", v.as_bytes()].concat())?);
        }
    }
    env.push(cstr(format!("LISTEN_FDS={}", fds.len()).as_bytes())?);
    env.push(cstr(format!("{}={name}", notify::HANDOVER_SOCKET).as_bytes())?);
    let pid = crate::sys::spawn_with_listeners(&path, &argv, &env, fds)?;
    log::info!("handing the listening sockets over to {} (pid {pid})", exe.display());
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 256];
    loop {
        socket.set_read_timeout(Some(POLL))?;
        match socket.recv(&mut buf) {
            Ok(n) if buf[..n].split(|&b| b == b'\n').any(|l| l == b"READY=1") => return Ok(pid as u32),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(e) => return Err(e),
        }
        if let Some(status) = crate::sys::child_exited(pid) {
            return Err(io::Error::other(format!(
                "the new process ({}, pid {pid}) exited before it was ready: {}",
                exe.display(),
                describe(status)
            )));
        }
        if Instant::now() >= deadline {
            // SAFETY: signalling our own child, not yet reaped (so its pid is still its own).
            unsafe { libc::kill(pid, libc::SIGTERM) };
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the new process (pid {pid}) was not ready within {timeout:?}; it was sent SIGTERM"),
            ));
        }
    }
}

/// The program to start: this one's path, which after a deploy holds the new binary (the
/// kernel's link names the old file, marked deleted, once it has been replaced).
fn program() -> io::Result<std::path::PathBuf> {
    let exe = std::env::current_exe()?;
    let s = exe.as_os_str().as_bytes();
    Ok(match s.strip_suffix(b" (deleted)") {
        Some(p) => std::path::PathBuf::from(std::ffi::OsStr::from_bytes(p)),
        None => exe,
    })
}

fn describe(status: i32) -> String {
    if libc::WIFEXITED(status) {
        format!("exit status {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        format!("killed by signal {}", libc::WTERMSIG(status))
    } else {
        format!("status {status}")
    }
}
