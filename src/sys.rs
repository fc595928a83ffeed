//! The few raw system calls Shockwave makes outside mio, each through `syscall!`.
//!
//! Workers that stream a body (a request body larger than a buffer, or a response written
//! with `Write`) do blocking I/O on a non-blocking socket: try the call, and on `WouldBlock`
//! wait for readiness with `poll(2)` under a deadline.

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

    /// One `send` (never raises SIGPIPE).
    pub(crate) fn write(self, buf: &[u8]) -> io::Result<usize> {
        self.send(buf, libc::MSG_NOSIGNAL)
    }

    /// One `send` of a connection's last bytes, with `MSG_MORE`: the kernel holds a short tail
    /// back so the `FIN` of the close or shutdown that must follow at once leaves in the same
    /// segment (one packet fewer per closed connection for both ends).
    pub(crate) fn write_last(self, buf: &[u8]) -> io::Result<usize> {
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
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "socket timed out"));
            }
            let mut p =
                libc::pollfd { fd: self.0, events: if write { libc::POLLOUT } else { libc::POLLIN }, revents: 0 };
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

    /// Reads at least one byte, waiting up to `timeout` for it; `Ok(0)` at end of stream.
    pub(crate) fn read_blocking(self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait(false, deadline)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return r,
            }
        }
    }

    /// Writes all of `buf`, waiting for room up to `timeout` each time the socket is full.
    pub(crate) fn write_all_blocking(self, mut buf: &[u8], timeout: Duration) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf) {
                Ok(n) => buf = &buf[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait(true, Instant::now() + timeout)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
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
