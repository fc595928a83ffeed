//! Output a connection's socket has not taken yet.
//!
//! Workers write a batch's responses straight from their own buffer; what the socket refuses
//! is kept here, in a pooled buffer, and written by the poller when the socket is writable
//! again. While output is held, no further request is answered on the connection (responses
//! leave in order).
//!
//! A file response's body ([`FileBody`]) follows the held bytes (its head): the worker
//! attaches it and answers nothing more until it is out, so bytes kept while a file is
//! attached always precede it.
//!
//! Over TLS, what the socket refused may also be records sealed in the connection's session
//! (`sealed`): output is pending until those are out too. A file body is copied through the
//! session then (sendfile would bypass it).

use crate::buf::{Buf, BufPool, MAX_POOLED};
use crate::http::file_body::FileBody;
use crate::wire::Wire;
use std::io;

/// Most file body bytes one [`Output::flush`] sends before the connection yields to the
/// others of its poller (a fast reader of a large file would otherwise hold the poller for
/// as long as the download takes). 4 MiB is a few milliseconds of `sendfile` here.
const FILE_TURN: u64 = 4 << 20;

/// What [`Output::flush`] achieved.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flushed {
    /// Everything is out (the buffer is given back).
    All,
    /// The socket is full: wait for `WRITABLE`.
    Blocked,
    /// A file body made progress and has more, but other connections go first.
    Yield,
}

pub(crate) struct Output {
    buf: Buf,
    pos: usize,
    len: usize,
    /// A file body sent after the held bytes.
    file: Option<Box<FileBody>>,
    /// The TLS session holds sealed records the socket has not taken (they go first).
    sealed: bool,
}

impl Output {
    pub(crate) fn new() -> Output {
        Output { buf: Buf::default(), pos: 0, len: 0, file: None, sealed: false }
    }

    /// Whether there is unwritten output.
    pub(crate) fn is_pending(&self) -> bool {
        self.pos < self.len || self.file.is_some() || self.sealed
    }

    /// Notes, after writing to `wire`, whether its TLS session kept sealed records back.
    pub(crate) fn wrote(&mut self, wire: &Wire) {
        self.sealed = wire.holds_output();
    }

    /// Bytes held, not yet written (a file body's included).
    pub(crate) fn pending_len(&self) -> usize {
        self.len - self.pos + self.file.as_ref().map_or(0, |f| f.len() as usize)
    }

    /// Sends `file` after the bytes held now.
    pub(crate) fn attach(&mut self, file: Box<FileBody>) {
        debug_assert!(self.file.is_none(), "one file body at a time");
        self.file = Some(file);
    }

    /// Forgets unwritten output and gives the buffer back.
    pub(crate) fn release(&mut self, pool: &BufPool) {
        self.pos = 0;
        self.len = 0;
        self.sealed = false;
        self.file = None; // closes the file
        if !self.buf.is_empty() {
            pool.release(std::mem::take(&mut self.buf));
        }
    }

    /// Puts bytes after existing unwritten output, trying the socket first when nothing waits
    /// (it usually takes everything).
    pub(crate) fn queue(&mut self, wire: Option<&Wire>, data: &[u8], pool: &BufPool) {
        if let (false, Some(wire)) = (self.is_pending(), wire) {
            if let Ok(n) = wire.write(data) {
                self.wrote(wire);
                return self.keep(&data[n..], pool);
            }
        }
        self.keep(data, pool);
    }

    /// Stores output the socket did not take, in a pooled buffer.
    pub(crate) fn keep(&mut self, data: &[u8], pool: &BufPool) {
        if data.is_empty() {
            return;
        }
        let held = self.len - self.pos;
        if self.buf.capacity() < held + data.len() {
            let mut nb = pool.acquire(held + data.len());
            nb[..held].copy_from_slice(&self.buf[self.pos..self.len]);
            let old = std::mem::replace(&mut self.buf, nb);
            if !old.is_empty() {
                pool.release(old);
            }
        } else if self.pos > 0 {
            self.buf.copy_within(self.pos..self.len, 0);
        }
        self.pos = 0;
        self.len = held;
        self.buf[held..held + data.len()].copy_from_slice(data);
        self.len += data.len();
    }

    /// Writes held output, and a file body after it (at most [`FILE_TURN`] bytes of it).
    pub(crate) fn flush(&mut self, wire: &Wire, pool: &BufPool) -> io::Result<Flushed> {
        // (encrypting and copying costs more of the poller's time than sendfile: shorter turns)
        let turn = if wire.is_tls() { FILE_TURN / 8 } else { FILE_TURN };
        let turn_ends = self.file.as_ref().map_or(0, |f| f.len().saturating_sub(turn));
        loop {
            while self.pos < self.len {
                match wire.write(&self.buf[self.pos..self.len]) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => self.pos += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Flushed::Blocked),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            let Some(f) = self.file.as_mut() else { break };
            f.buffered |= wire.is_tls();
            if f.len() == 0 {
                self.file = None;
            } else if f.len() < turn_ends {
                return Ok(Flushed::Yield);
            } else if f.sendfile_next() {
                match f.sendfile(wire.fd) {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Flushed::Blocked),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    // a file system or socket sendfile cannot read or write: copy instead
                    Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)) => {
                        f.buffered = true
                    }
                    Err(e) => return Err(e),
                }
            } else {
                // the held bytes are all out: refill the buffer from the body
                if self.buf.capacity() < MAX_POOLED {
                    let old = std::mem::replace(&mut self.buf, pool.acquire(MAX_POOLED));
                    if !old.is_empty() {
                        pool.release(old);
                    }
                }
                self.pos = 0;
                self.len = f.read_chunk(&mut self.buf)?;
            }
        }
        match wire.flush() {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.sealed = true;
                return Ok(Flushed::Blocked);
            }
            Err(e) => return Err(e),
        }
        self.release(pool);
        Ok(Flushed::All)
    }
}
