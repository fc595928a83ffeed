//! The few raw system calls Shockwave makes outside mio, each through `syscall!`.
//!
//! Workers that stream a body (a request body larger than a buffer, or a response written
//! with `Write`) do blocking I/O on a non-blocking socket: try the call, and on `WouldBlock`
//! wait for readiness with `poll(2)` under a deadline ([`Fd::wait`], used by
//! `crate::wire::Wire`).

use std::io;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

/// Turns the `-1` a libc call returns on failure into the thread's `errno` as an `io::Error`.
/// The call itself is written, in its own `unsafe` block with its `SAFETY:` comment, at the
/// call site: `syscall!(unsafe { libc::shutdown(fd, libc::SHUT_WR) })`.
macro_rules! syscall {
    ($call:expr) => {{
        let res = $call;
        if res == -1 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(res)
        }
    }};
}

// `recv` and `send` go through `syscall(2)` directly: libc's wrappers are thread-cancellation
// points, about 60 instructions per call (a few percent of a request's user time) for a
// feature nothing here uses.
const NO_ADDR: *mut libc::sockaddr = std::ptr::null_mut();
const NO_LEN: *mut libc::socklen_t = std::ptr::null_mut();

/// A socket a worker may read or write while it owns the connection.
///
/// It is only a file descriptor number: the connection that owns the socket outlives every
/// `Fd` made from it, because requests and responses only hold one while the worker holds the
/// connection, and clear it before giving the connection back.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fd(pub RawFd);

impl Fd {
    /// One `recv`; `WouldBlock` when nothing is there.
    pub(crate) fn read(self, buf: &mut [u8]) -> io::Result<usize> {
        syscall!(
            // SAFETY: `buf` is a valid writable region of `buf.len()` bytes; the fd is open (type
            // docs); recvfrom with no address takes null address pointers.
            unsafe { libc::syscall(libc::SYS_recvfrom, self.0, buf.as_mut_ptr(), buf.len(), 0, NO_ADDR, NO_LEN) }
        )
        .map(|n| n as usize)
    }

    /// Looks at what the socket has without taking it (`MSG_PEEK`); `WouldBlock` when empty.
    #[cfg(feature = "tls")]
    pub(crate) fn peek(self, buf: &mut [u8]) -> io::Result<usize> {
        syscall!(
            // SAFETY: as in `read`; MSG_PEEK leaves the bytes in the socket.
            unsafe {
                libc::syscall(libc::SYS_recvfrom, self.0, buf.as_mut_ptr(), buf.len(), libc::MSG_PEEK, NO_ADDR, NO_LEN)
            }
        )
        .map(|n| n as usize)
    }

    /// One `send` (never raises SIGPIPE).
    pub(crate) fn write(self, buf: &[u8]) -> io::Result<usize> {
        self.send(buf, libc::MSG_NOSIGNAL)
    }

    /// One `sendmsg` of several buffers in order (never raises SIGPIPE): the TLS session's
    /// sealed records in one call.
    #[cfg(feature = "tls")]
    pub(crate) fn write_vectored(self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        // SAFETY: a zeroed msghdr is a valid empty one (no address, no control data).
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        // IoSlice is guaranteed ABI-compatible with iovec on Unix; the kernel only reads them
        msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
        msg.msg_iovlen = bufs.len().min(1024);
        syscall!(
            // SAFETY: `msg` points at `msg_iovlen` valid iovecs borrowed for the call; the fd is
            // open (type docs).
            unsafe { libc::sendmsg(self.0, &msg, libc::MSG_NOSIGNAL) }
        )
        .map(|n| n as usize)
    }

    /// One `send` with `MSG_MORE`, for bytes that more output follows at once: the kernel holds
    /// a short tail back so what comes next leaves in the same segment. Used for a
    /// connection's last bytes (the `FIN` of the close or shutdown that follows: one packet
    /// fewer per closed connection for both ends) and for the head of a file response (the
    /// `sendfile` that follows: head and file leave together, as nginx's `tcp_nopush` does).
    pub(crate) fn write_more(self, buf: &[u8]) -> io::Result<usize> {
        self.send(buf, libc::MSG_NOSIGNAL | libc::MSG_MORE)
    }

    fn send(self, buf: &[u8], flags: libc::c_int) -> io::Result<usize> {
        syscall!(
            // SAFETY: `buf` is a valid readable region of `buf.len()` bytes; the fd is open (type
            // docs); sendto with no address takes a null address and a zero length.
            unsafe { libc::syscall(libc::SYS_sendto, self.0, buf.as_ptr(), buf.len(), flags, NO_ADDR, 0) }
        )
        .map(|n| n as usize)
    }

    /// One `sendfile(2)` of up to `count` bytes of `file` from `*offset` to the socket, which
    /// advances `*offset` by what was sent (the file's own position is left alone).
    /// `WouldBlock` when the socket is full.
    pub(crate) fn sendfile(self, file: RawFd, offset: &mut u64, count: usize) -> io::Result<usize> {
        let mut off = i64::try_from(*offset).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let n = syscall!(
            // SAFETY: `off` is a live off_t the kernel updates; both descriptors are open (the
            // socket by the type docs, `file` by the caller's borrow of its `File`).
            unsafe { libc::sendfile(self.0, file, &mut off, count) }
        )? as usize;
        *offset = off as u64;
        Ok(n)
    }

    /// Waits until the socket is readable (`write == false`) or writable, or `deadline` passes.
    pub(crate) fn wait(self, write: bool, deadline: Instant) -> io::Result<()> {
        self.wait_for(if write { libc::POLLOUT } else { libc::POLLIN }, deadline)
    }

    /// Waits until the socket is readable or writable, or `deadline` passes.
    #[cfg(feature = "tls")]
    pub(crate) fn wait_any(self, deadline: Instant) -> io::Result<()> {
        self.wait_for(libc::POLLIN | libc::POLLOUT, deadline)
    }

    fn wait_for(self, events: libc::c_short, deadline: Instant) -> io::Result<()> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "socket timed out"));
            }
            let mut p = libc::pollfd { fd: self.0, events, revents: 0 };
            let ms = left.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
            // SAFETY: `p` is one valid pollfd and we pass a count of 1.
            match syscall!(unsafe { libc::poll(&mut p, 1, ms) }) {
                Ok(0) => continue,
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether the peer has closed its side or reset the connection, waiting up to `timeout`
    /// for it to happen (zero: just look). Data still unread does not hide it: this asks for
    /// `POLLRDHUP`, not readability.
    pub(crate) fn peer_gone(self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let mut p = libc::pollfd { fd: self.0, events: libc::POLLRDHUP, revents: 0 };
            let left = deadline.saturating_duration_since(Instant::now());
            let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
            // SAFETY: `p` is one valid pollfd and we pass a count of 1.
            match syscall!(unsafe { libc::poll(&mut p, 1, ms) }) {
                Ok(0) if left.is_zero() => return false,
                Ok(0) => continue,
                Ok(_) => return p.revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) != 0,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return true, // the descriptor is no longer usable
            }
        }
    }

    /// Stops sending (FIN) while still reading: the first step of a lingering close.
    pub(crate) fn shutdown_write(self) {
        // SAFETY: plain call on an open fd; failure (already closed by the peer) is harmless.
        let _ = syscall!(unsafe { libc::shutdown(self.0, libc::SHUT_WR) });
    }
}

/// Opens `rel` (a relative path) below directory `dir` for reading, in one `openat2(2)` with
/// `RESOLVE_BENEATH`: the kernel refuses (`EXDEV`) any resolution that would leave `dir`, by
/// `..` or by a symlink, including an absolute symlink even when it points back inside, and
/// `/proc` magic links (`ELOOP`). No window between a check and the open. `ENOSYS` before
/// Linux 5.6. `O_NONBLOCK`, so a FIFO cannot block the caller.
#[cfg(feature = "fs")]
pub(crate) fn open_beneath(dir: RawFd, rel: &std::path::Path) -> io::Result<std::fs::File> {
    use std::os::fd::FromRawFd;
    use std::os::unix::ffi::OsStrExt;
    let rel = if rel.as_os_str().is_empty() { std::path::Path::new(".") } else { rel };
    let c =
        std::ffi::CString::new(rel.as_os_str().as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: open_how is plain integers, for which all zeroes is valid (and what the kernel
    // wants in fields this code does not set).
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    let fd = syscall!(
        // SAFETY: `c` is a NUL-terminated path and `how` a valid open_how, both live for the
        // call, whose size we pass; a bad `dir` fails with EBADF.
        unsafe { libc::syscall(libc::SYS_openat2, dir, c.as_ptr(), &how, std::mem::size_of::<libc::open_how>()) }
    )?;
    // SAFETY: the kernel just returned this descriptor: it is open and owned by nobody else.
    Ok(unsafe { std::fs::File::from_raw_fd(fd as RawFd) })
}

/// Lets the kernel keep a new connection on listener `fd` until its first bytes arrive, for at
/// most `wait` (rounded up to whole seconds), before `accept` returns it.
pub(crate) fn defer_accept(fd: RawFd, wait: Duration) -> io::Result<()> {
    let secs = wait.as_secs().saturating_add(u64::from(wait.subsec_nanos() > 0)).min(i32::MAX as u64) as libc::c_int;
    let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    let opt = (&secs as *const libc::c_int).cast();
    // SAFETY: `opt` points to a live c_int and `len` is its size.
    syscall!(unsafe { libc::setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_DEFER_ACCEPT, opt, len) }).map(drop)
}

/// Marks the calling thread `SCHED_BATCH`: when it wakes it does not preempt the thread
/// running on its CPU, so a poller woken by new data lets the worker finish its batch (and
/// vice versa), and hand-offs happen when a thread blocks instead of at every wake-up.
pub(crate) fn batch_scheduling() -> io::Result<()> {
    let p = libc::sched_param { sched_priority: 0 };
    // SAFETY: `p` is a valid sched_param; pid 0 means the calling thread.
    syscall!(unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &p) }).map(drop)
}

/// Adds listening socket `fd` to epoll instance `epfd` for readability, edge-triggered as mio
/// registers, with `EPOLLEXCLUSIVE`: when several epoll instances wait on the same socket, a
/// new connection wakes one (or a few) of them rather than all. mio has no such interest, but
/// reads `data` back as the event's token, as for its own registrations.
pub(crate) fn epoll_add_exclusive(epfd: RawFd, fd: RawFd, data: u64) -> io::Result<()> {
    let mut ev = libc::epoll_event { events: (libc::EPOLLIN | libc::EPOLLET | libc::EPOLLEXCLUSIVE) as u32, u64: data };
    // SAFETY: `ev` is a valid epoll_event for the call to read; bad descriptors fail with EBADF.
    syscall!(unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, fd, &mut ev) }).map(drop)
}

/// Steers new connections to the `index`-th socket of the `SO_REUSEPORT` group listener `fd`
/// belongs to (sockets are numbered in the order they started listening), with a one-instruction
/// classic BPF program (`SO_ATTACH_REUSEPORT_CBPF`, no privilege needed). The program is the
/// group's: attached by the newest member, it sends everything to it. When fewer than `index + 1`
/// sockets are left, the kernel ignores the program and hashes as usual.
pub(crate) fn steer_reuseport_to(fd: RawFd, index: u32) -> io::Result<()> {
    // BPF_RET | BPF_K: return the constant `k`
    let mut prog = [libc::sock_filter { code: (libc::BPF_RET | libc::BPF_K) as u16, jt: 0, jf: 0, k: index }];
    let fprog = libc::sock_fprog { len: 1, filter: prog.as_mut_ptr() };
    let len = std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t;
    let opt = (&fprog as *const libc::sock_fprog).cast();
    // SAFETY: `opt` points to a live sock_fprog of `len` bytes whose filter array (one
    // instruction, `len: 1`) outlives the call; the kernel copies the program.
    syscall!(unsafe { libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_ATTACH_REUSEPORT_CBPF, opt, len) }).map(drop)
}

/// An integer socket option of `fd` at `SOL_SOCKET`.
fn socket_option(fd: RawFd, name: libc::c_int) -> io::Result<libc::c_int> {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `v` and `len` are live and `len` is `v`'s size; a bad descriptor fails with EBADF.
    syscall!(unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, name, (&mut v as *mut libc::c_int).cast(), &mut len) })?;
    Ok(v)
}

/// The type of socket `fd` is (`SOCK_STREAM`, `SOCK_DGRAM`, …); `ENOTSOCK` if it is none.
pub(crate) fn socket_type(fd: RawFd) -> io::Result<libc::c_int> {
    socket_option(fd, libc::SO_TYPE)
}

/// The address family of `fd` if it is a listening stream socket, else an error saying what it
/// is instead.
pub(crate) fn listening_stream_family(fd: RawFd) -> io::Result<libc::c_int> {
    let not = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("not {what}"));
    match socket_type(fd) {
        Err(e) if e.raw_os_error() == Some(libc::ENOTSOCK) => return Err(not("a socket")),
        Err(e) => return Err(e),
        Ok(t) if t != libc::SOCK_STREAM => return Err(not("a stream socket")),
        Ok(_) => {}
    }
    if socket_option(fd, libc::SO_ACCEPTCONN)? == 0 {
        return Err(not("a listening socket"));
    }
    socket_option(fd, libc::SO_DOMAIN)
}

/// Marks `fd` close-on-exec and non-blocking.
pub(crate) fn set_cloexec_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl with these commands only reads and sets flags of the descriptor.
    unsafe {
        syscall!(libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC))?;
        let flags = syscall!(libc::fcntl(fd, libc::F_GETFL))?;
        syscall!(libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK))?;
    }
    Ok(())
}

/// Starts program `path` with arguments `argv` and environment `env` in a child process whose
/// descriptors 3, 4, … are `fds` (without close-on-exec; every other descriptor of ours that
/// has close-on-exec is closed by the exec), with no signal blocked and SIGPIPE at its default
/// action, and whose environment also has
/// `LISTEN_PID=<the child's pid>`, which only the child can know: the socket activation protocol
/// (`server/activation.rs`). Returns the child's pid; if the exec fails, the child exits with
/// status 127.
///
/// `std::process::Command` cannot do this: the environment is fixed before the fork. Between
/// fork and exec the child only calls async-signal-safe functions (`getpid`, `dup2`,
/// `sigprocmask`, `signal`, `execve`, `_exit`) and writes into memory prepared before the
/// fork. The child inherits the calling thread's scheduling policy (`SCHED_BATCH` on a pool
/// thread) until it sets its own.
pub(crate) fn spawn_with_listeners(
    path: &std::ffi::CStr,
    argv: &[std::ffi::CString],
    env: &[std::ffi::CString],
    fds: &[RawFd],
) -> io::Result<libc::pid_t> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let n = fds.len() as RawFd;
    // Copies above 3 + n, so moving them into place cannot overwrite one not yet moved.
    let mut staged = Vec::with_capacity(fds.len());
    for &fd in fds {
        // SAFETY: F_DUPFD_CLOEXEC only duplicates `fd` (a bad one fails with EBADF).
        let copy = syscall!(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3 + n) })?;
        // SAFETY: `copy` is a descriptor just created for us alone.
        staged.push(unsafe { OwnedFd::from_raw_fd(copy) });
    }
    // "LISTEN_PID=" and room for any pid, completed by the child
    const PREFIX: &[u8] = b"LISTEN_PID=";
    let mut pid_var = [0u8; PREFIX.len() + 21];
    pid_var[..PREFIX.len()].copy_from_slice(PREFIX);
    // one pointer for both the child's write and execve's read
    let pid_ptr = pid_var.as_mut_ptr();
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|v| v.as_ptr()).collect();
    envp.push(pid_ptr.cast_const().cast());
    envp.push(std::ptr::null());
    let mut args: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    args.push(std::ptr::null());
    let staged_fds: Vec<RawFd> = staged.iter().map(std::os::fd::AsRawFd::as_raw_fd).collect();
    // The new program starts with no signal blocked and SIGPIPE at its default (as
    // `Command` gives it): the mask survives execve, and a thread that blocks SIGTERM to
    // wait for it would leave the new process deaf to it.
    // SAFETY: sigemptyset initialises the set it is given.
    let empty = unsafe {
        let mut set = std::mem::zeroed::<libc::sigset_t>();
        libc::sigemptyset(&mut set);
        set
    };
    // SAFETY: the child branch only calls async-signal-safe functions and writes to `pid_var`,
    // its own copy of a buffer that outlives the fork; every pointer passed to execve points to
    // a NUL-terminated string or array kept alive above.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => unsafe {
            let mut pid = libc::getpid() as u64;
            let mut digits = [0u8; 20];
            let mut len = 0;
            loop {
                digits[len] = b'0' + (pid % 10) as u8;
                len += 1;
                pid /= 10;
                if pid == 0 {
                    break;
                }
            }
            for i in 0..len {
                *pid_ptr.add(PREFIX.len() + i) = digits[len - 1 - i];
            }
            *pid_ptr.add(PREFIX.len() + len) = 0;
            libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            for (i, &fd) in staged_fds.iter().enumerate() {
                if libc::dup2(fd, 3 + i as RawFd) < 0 {
                    libc::_exit(127);
                }
            }
            libc::execve(path.as_ptr(), args.as_ptr(), envp.as_ptr());
            libc::_exit(127)
        },
        child => Ok(child),
    }
}

/// Whether process `pid`, a child of ours, has exited (reaping it), and its status.
pub(crate) fn child_exited(pid: libc::pid_t) -> Option<libc::c_int> {
    let mut status = 0;
    // SAFETY: `status` is live; WNOHANG makes the call return at once.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    (r == pid).then_some(status)
}
