//! A connection's byte stream as the server's reading and writing code sees it: its socket,
//! or a TLS session over its socket (feature `tls`). One type, so the poller's reads and
//! writes, a worker's responses, a body reader and a streamed response are written once for
//! both.
//!
//! Every call is non-blocking except those named `_blocking`, which wait for readiness with
//! `poll(2)` under a deadline (the socket itself is always non-blocking). Under TLS, bytes a
//! write reports as taken may still be sealed in the session rather than in the kernel:
//! [`Wire::holds_output`] says so, and the connection's output stays pending until they are
//! out (`server/output.rs`).
//!
//! Like [`Fd`], a `Wire` is only held while its connection is: the server clears every copy
//! before the connection moves on.

use crate::sys::Fd;
use std::io;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub(crate) struct Wire {
    pub(crate) fd: Fd,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<std::sync::Arc<crate::tls::session::Session>>,
}

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wire").field("fd", &self.fd.0).field("tls", &self.is_tls()).finish()
    }
}

impl Wire {
    /// A plain socket.
    pub(crate) fn plain(fd: Fd) -> Wire {
        Wire {
            fd,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    pub(crate) fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        if self.tls.is_some() {
            return true;
        }
        false
    }

    /// One read; `WouldBlock` when nothing is there. Under TLS a short read does not mean the
    /// socket is empty (see `tls::session`).
    pub(crate) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(s) = &self.tls {
            return s.read(self.fd, buf);
        }
        self.fd.read(buf)
    }

    /// One write; `WouldBlock` when nothing was taken.
    pub(crate) fn write(&self, buf: &[u8]) -> io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(s) = &self.tls {
            return s.write(self.fd, buf);
        }
        self.fd.write(buf)
    }

    /// A write that more output follows at once: a connection's last, or a file response's
    /// head ([`Fd::write_more`] on a plain socket).
    pub(crate) fn write_more(&self, buf: &[u8]) -> io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(s) = &self.tls {
            return s.write(self.fd, buf);
        }
        self.fd.write_more(buf)
    }

    /// Whether bytes a write took are still sealed in the TLS session, not yet in the kernel.
    pub(crate) fn holds_output(&self) -> bool {
        #[cfg(feature = "tls")]
        if let Some(s) = &self.tls {
            return s.wants_write();
        }
        false
    }

    /// Sends what the TLS session holds; `WouldBlock` if some is left.
    pub(crate) fn flush(&self) -> io::Result<()> {
        #[cfg(feature = "tls")]
        if let Some(s) = &self.tls {
            return s.flush(self.fd);
        }
        Ok(())
    }

    /// Whether the TLS handshake is still going on (never on a plain socket).
    pub(crate) fn is_handshaking(&self) -> bool {
        #[cfg(feature = "tls")]
        if let Some(s) = &self.tls {
            return s.is_handshaking();
        }
        false
    }

    /// Tells a TLS client that nothing more follows (`close_notify`), before the close or
    /// the shutdown of the write side; nothing on a plain socket.
    pub(crate) fn close_notify(&self) {
        #[cfg(feature = "tls")]
        if let Some(s) = &self.tls {
            s.close_notify(self.fd);
        }
    }

    /// Reads at least one byte, waiting up to `timeout` for it; `Ok(0)` at end of stream.
    pub(crate) fn read_blocking(&self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait_io(false, deadline)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return r,
            }
        }
    }

    /// Writes all of `buf` onto the wire (through the session, if any), waiting for room up
    /// to `timeout` each time the socket is full.
    pub(crate) fn write_all_blocking(&self, mut buf: &[u8], timeout: Duration) -> io::Result<()> {
        while !buf.is_empty() {
            let n = self.write_some_blocking(buf, timeout)?;
            buf = &buf[n..];
        }
        self.flush_blocking(timeout)
    }

    /// Writes some of `buf` (how much, in the count), waiting up to `timeout` for the socket
    /// to take anything: a blocking socket's `write`. Under TLS the bytes may still be sealed
    /// in the session: [`flush_blocking`](Self::flush_blocking) sends them.
    pub(crate) fn write_some_blocking(&self, buf: &[u8], timeout: Duration) -> io::Result<usize> {
        loop {
            match self.write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait_io(true, Instant::now() + timeout)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return r,
            }
        }
    }

    /// Sends what the TLS session holds, waiting for room up to `timeout` at a time.
    pub(crate) fn flush_blocking(&self, timeout: Duration) -> io::Result<()> {
        while self.holds_output() {
            match self.flush() {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait_io(true, Instant::now() + timeout)?,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Waits for the socket. A TLS read that would block may have left a handshake or
    /// key-update message to write: it waits for either direction then.
    fn wait_io(&self, write: bool, deadline: Instant) -> io::Result<()> {
        #[cfg(feature = "tls")]
        if !write && self.holds_output() {
            return self.fd.wait_any(deadline);
        }
        self.fd.wait(write, deadline)
    }

    /// Whether the peer has closed its side or reset the connection ([`Fd::peer_gone`]).
    pub(crate) fn peer_gone(&self, timeout: Duration) -> bool {
        self.fd.peer_gone(timeout)
    }
}
