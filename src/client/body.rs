//! Reading a response body off its connection, by its framing: a length, chunks (decoded in
//! the connection's buffer, in place), or everything until the server closes.
//!
//! [`BodyState::fill`] and [`BodyState::consume`] are a `BufRead` over the connection: the
//! caller sees body bytes where they lie in the read buffer and copies them once, to the
//! user's buffer or the response's.

use super::conn::{Conn, Deadline, Wait};
use super::head::BodyKind;
use crate::h1::chunked::Chunked;

pub(crate) enum BodyState {
    Length(u64),
    /// Decoded data not yet consumed is `buf[d0..d1]`, with `d1 <= conn.start` (the decoder
    /// moves data down over the framing it has read).
    Chunked {
        dec: Chunked,
        d0: usize,
        d1: usize,
    },
    Close,
    Done,
}

/// How reading the body failed.
pub(crate) enum BodyError {
    Wait(Wait),
    /// The connection ended before the body did.
    Truncated,
    /// Bad chunked framing.
    Framing(&'static str),
}

impl From<Wait> for BodyError {
    fn from(w: Wait) -> BodyError {
        BodyError::Wait(w)
    }
}

impl BodyState {
    /// The state for a body of `kind`; a chunked one keeps its trailer in `trailer`'s
    /// allocation (taken, to be given back by [`take_decoder`](Self::take_decoder)).
    pub(crate) fn new(kind: BodyKind, trailer: &mut Vec<u8>) -> BodyState {
        match kind {
            BodyKind::None | BodyKind::Length(0) => BodyState::Done,
            BodyKind::Length(n) => BodyState::Length(n),
            BodyKind::Chunked => BodyState::Chunked {
                dec: Chunked::new(u64::MAX).keeping_trailer(std::mem::take(trailer)),
                d0: 0,
                d1: 0,
            },
            BodyKind::Close => BodyState::Close,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        match self {
            BodyState::Done => true,
            BodyState::Chunked { dec, d0, d1 } => dec.is_done() && d0 == d1,
            _ => false,
        }
    }

    /// The next body bytes, in the connection's buffer (as `(start, end)`); empty at the end.
    /// `wait: false` only uses what can be read without waiting (`Wait::Timeout` if more is
    /// needed).
    pub(crate) fn fill(&mut self, conn: &mut Conn, dl: &Deadline, wait: bool) -> Result<(usize, usize), BodyError> {
        loop {
            match self {
                BodyState::Done => return Ok((0, 0)),
                BodyState::Length(left) => {
                    if conn.has_unread() {
                        let n = (conn.end - conn.start).min(*left as usize);
                        return Ok((conn.start, conn.start + n));
                    }
                    if read(conn, dl, wait)? == 0 {
                        return Err(BodyError::Truncated);
                    }
                }
                BodyState::Close => {
                    if conn.has_unread() {
                        return Ok((conn.start, conn.end));
                    }
                    if read(conn, dl, wait)? == 0 {
                        *self = BodyState::Done;
                    }
                }
                BodyState::Chunked { dec, d0, d1 } => {
                    if *d0 < *d1 {
                        return Ok((*d0, *d1));
                    }
                    if dec.is_done() {
                        return Ok((0, 0)); // kept, with its trailer, until take_decoder
                    }
                    if !conn.has_unread() && read(conn, dl, wait)? == 0 {
                        return Err(BodyError::Truncated);
                    }
                    let (mut r, mut w) = (conn.start, conn.start);
                    let end = conn.end;
                    let done =
                        dec.decode(conn.buf_mut(), &mut r, &mut w, end).map_err(|e| BodyError::Framing(e.reason))?;
                    // the decoded bytes are [start, w); the framing after them is consumed
                    *d0 = conn.start;
                    *d1 = w;
                    conn.start = r;
                    if !done && *d0 == *d1 && conn.start == conn.end {
                        // framing only: compact so the next read has the whole buffer
                        conn.start = 0;
                        conn.end = 0;
                    }
                }
            }
        }
    }

    /// Marks `n` bytes of what [`fill`](Self::fill) returned as read.
    pub(crate) fn consume(&mut self, conn: &mut Conn, n: usize) {
        match self {
            BodyState::Length(left) => {
                conn.start += n;
                *left -= n as u64;
                if *left == 0 {
                    *self = BodyState::Done;
                }
            }
            BodyState::Close => conn.start += n,
            BodyState::Chunked { d0, .. } => *d0 += n,
            BodyState::Done => {}
        }
    }

    /// The rest of a length-delimited body can be read straight into the caller's buffer
    /// (nothing buffered): how many bytes of `want`.
    pub(crate) fn direct(&self, conn: &Conn, want: usize) -> Option<usize> {
        match self {
            BodyState::Length(left) if !conn.has_unread() => Some(want.min(*left as usize)),
            BodyState::Close if !conn.has_unread() => Some(want),
            _ => None,
        }
    }

    /// After a direct read of `n` bytes.
    pub(crate) fn advance_direct(&mut self, n: usize) -> Result<(), BodyError> {
        match self {
            BodyState::Length(left) => {
                if n == 0 {
                    return Err(BodyError::Truncated);
                }
                *left -= n as u64;
                if *left == 0 {
                    *self = BodyState::Done;
                }
            }
            BodyState::Close if n == 0 => *self = BodyState::Done,
            _ => {}
        }
        Ok(())
    }

    /// The decoder, to read its trailer once the body is done.
    pub(crate) fn take_decoder(&mut self) -> Option<Chunked> {
        match std::mem::replace(self, BodyState::Done) {
            BodyState::Chunked { dec, .. } => Some(dec),
            other => {
                *self = other;
                None
            }
        }
    }
}

fn read(conn: &mut Conn, dl: &Deadline, wait: bool) -> Result<usize, Wait> {
    // A body is read through the buffer at whatever size it has; it never grows for one.
    let max = 0;
    if wait {
        Ok(conn.fill(max, dl)?.unwrap_or(0))
    } else {
        match conn.fill_now(max) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Err(Wait::Timeout(std::time::Duration::ZERO)),
            Err(e) => Err(Wait::Io(e)),
        }
    }
}
