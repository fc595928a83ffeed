//! Exec hand-over (nginx's binary upgrade): the running process starts its own program again,
//! from the same path, with its listening sockets passed by the socket-activation protocol
//! (`activation.rs`), waits until the new process says it serves, then drains. The sockets are
//! never closed, so no connection is refused or reset: until the old process stops accepting,
//! both take connections from the same queue.
//!
//! The new process says it is ready with a `READY=1` datagram (`notify.rs`) on one end of a
//! socket pair, passed to it after the listening sockets and named by [`notify::HANDOVER_FD`]:
//! nobody else can send on it (an abstract socket name could be guessed and forged by any
//! local user). Under systemd, the old process then tells the manager the service's main
//! process is the new one (`MAINPID=`), and says nothing more to it: its `STOPPING=1` would
//! stop the service.
//!
//! Needs a parent that adopts the new process when the old one exits: systemd (through
//! `MAINPID=`), or any child subreaper. As PID 1 of a container the old process's exit would
//! kill the new one, so the hand-over is refused there.

use super::notify;
use super::shared::Shared;
use std::ffi::CString;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixDatagram;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the wait for the new process looks whether it has exited.
const POLL: Duration = Duration::from_millis(50);

/// Variables of ours that must not reach the new process as they are.
const REPLACED: [&str; 4] = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", notify::HANDOVER_FD];

/// How long a new process that was not ready, and was sent SIGTERM, may take to exit before it
/// is left unreaped.
const REAP: Duration = Duration::from_secs(2);

/// Starts the new process and waits up to `timeout` for it to be ready; returns its pid. The
/// caller then drains `sh`. On failure (the program cannot be found, exits, or is not ready in
/// time, in which case it is sent SIGTERM), the old process goes on serving.
pub(crate) fn hand_over(sh: &Arc<Shared>, timeout: Duration) -> io::Result<u32> {
    if std::process::id() == 1 {
        return Err(io::Error::other(
            "this process is PID 1 (a container without an init): its exit would kill the new process; run it under an init such as tini, or restart the container instead",
        ));
    }
    // duplicates: the server may stop accepting (and close its own) while this waits
    let sockets = {
        let listening = sh.listening.lock();
        if listening.is_empty() || sh.is_draining() {
            return Err(io::Error::other("the server is stopping: there are no sockets to hand over"));
        }
        listening.iter().map(|f| f.try_clone()).collect::<io::Result<Vec<_>>>()?
    };
    let mut fds: Vec<i32> = sockets.iter().map(AsRawFd::as_raw_fd).collect();
    let (ours, theirs) = UnixDatagram::pair()?;
    fds.push(theirs.as_raw_fd());
    let pid = start_and_wait(&fds, &ours, timeout)?;
    drop(theirs);
    if let Some(file) = sh.socket_file.as_ref().and_then(std::sync::Weak::upgrade) {
        file.keep(); // the new process listens on it now
    }
    notify::handed_over(pid);
    Ok(pid)
}

/// Starts the program with `fds` (the listening sockets, then the readiness socket) and waits
/// for `READY=1` on `ready`.
fn start_and_wait(fds: &[i32], ready: &UnixDatagram, timeout: Duration) -> io::Result<u32> {
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
    let listeners = fds.len() - 1;
    env.push(cstr(format!("LISTEN_FDS={listeners}").as_bytes())?);
    env.push(cstr(format!("{}={}", notify::HANDOVER_FD, 3 + listeners).as_bytes())?);
    let pid = crate::sys::spawn_with_listeners(&path, &argv, &env, fds)?;
    log::info!("handing the listening sockets over to {} (pid {pid})", exe.display());
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 256];
    ready.set_read_timeout(Some(POLL))?;
    loop {
        match ready.recv(&mut buf) {
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
            let given_up = Instant::now() + REAP;
            while crate::sys::child_exited(pid).is_none() && Instant::now() < given_up {
                std::thread::sleep(POLL);
            }
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the new process (pid {pid}) was not ready within {timeout:?}; it was sent SIGTERM"),
            ));
        }
    }
}

/// The program to start: the path this one was started by (`argv[0]` when it names a file, as
/// nginx does: a `current -> releases/v2` symlink switched by a deploy is followed again), else
/// this process's own file, which after a deploy that replaced it holds the new binary (the
/// kernel's link then names the old file, marked deleted). A relative `argv[0]` is taken from
/// the current directory.
fn program() -> io::Result<std::path::PathBuf> {
    if let Some(arg0) = std::env::args_os().next().map(std::path::PathBuf::from) {
        if arg0.as_os_str().as_bytes().contains(&b'/') {
            return Ok(if arg0.is_absolute() { arg0 } else { std::env::current_dir()?.join(arg0) });
        }
    }
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
