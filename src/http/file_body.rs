#![cfg_attr(not(feature = "fs"), allow(dead_code))]
//! A response body that is regions of an open file, with literal bytes between them (the part
//! heads of a `multipart/byteranges` answer): what a response carries instead of body bytes
//! when it sends a file.
//!
//! It is never read whole into memory. A body of at most [`INLINE_MAX`] bytes is copied into
//! the response's own buffer when the handler returns (one `write` for head and body, as for
//! any small response). A larger one goes to the connection's output (`server/output.rs`)
//! after the head, and the poller sends it on `WRITABLE` like any other held output, so no
//! worker waits for a slow client: file regions with `sendfile(2)`, or, in buffered mode,
//! through one pooled buffer at a time (read, then write; the path a socket `sendfile` cannot
//! write to, such as TLS, takes).
//!
//! Invariant: `left` is the sum of what the parts still hold; a part is removed once sent.

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;

/// Bodies up to this size are copied into the response buffer rather than sent from the file.
pub(crate) const INLINE_MAX: u64 = 32 * 1024;

/// Most bytes one `sendfile` call is asked for (the socket takes what its buffer holds).
const SENDFILE_MAX: u64 = 1 << 30;

/// One piece of a file body.
#[derive(Debug)]
pub(crate) enum Part {
    /// Literal bytes (a part head of a multipart answer); `sent` of them are out.
    Bytes { data: Vec<u8>, sent: usize },
    /// `len` bytes of the file from `offset`.
    Range { offset: u64, len: u64 },
}

/// An open file and the pieces of it (and bytes) that make up a response body.
#[derive(Debug)]
pub(crate) struct FileBody {
    file: File,
    parts: VecDeque<Part>,
    left: u64,
    /// Send through a buffer (read + write) instead of `sendfile`.
    pub buffered: bool,
}

impl FileBody {
    pub(crate) fn new(file: File, parts: Vec<Part>, buffered: bool) -> FileBody {
        let left = parts
            .iter()
            .map(|p| match p {
                Part::Bytes { data, sent } => (data.len() - sent) as u64,
                Part::Range { len, .. } => *len,
            })
            .sum();
        FileBody { file, parts: parts.into(), left, buffered }
    }

    /// Body bytes not yet sent.
    pub(crate) fn len(&self) -> u64 {
        self.left
    }

    /// Whether the next bytes to send are a file region `sendfile` should send.
    pub(crate) fn sendfile_next(&self) -> bool {
        !self.buffered && matches!(self.parts.front(), Some(Part::Range { .. }))
    }

    /// One `sendfile` of the next region to socket `fd`. A file that ended early (it shrank
    /// since its length was announced) is an error: the response cannot be completed.
    pub(crate) fn sendfile(&mut self, fd: crate::sys::Fd) -> io::Result<usize> {
        let Some(Part::Range { offset, len }) = self.parts.front_mut() else { return Ok(0) };
        let n = fd.sendfile(self.file.as_raw_fd(), offset, (*len).min(SENDFILE_MAX) as usize)?;
        if n == 0 {
            return Err(shrank());
        }
        self.advance(n);
        Ok(n)
    }

    /// Copies the next bytes of the body into `dst`; `Ok(0)` only when the body is done.
    pub(crate) fn read_chunk(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        let n = match self.parts.front_mut() {
            None => return Ok(0),
            Some(Part::Bytes { data, sent }) => {
                let n = (data.len() - *sent).min(dst.len());
                dst[..n].copy_from_slice(&data[*sent..*sent + n]);
                *sent += n;
                n
            }
            Some(Part::Range { offset, len }) => {
                let want = (*len).min(dst.len() as u64) as usize;
                let n = loop {
                    match self.file.read_at(&mut dst[..want], *offset) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        r => break r?,
                    }
                };
                if n == 0 && want > 0 {
                    return Err(shrank());
                }
                *offset += n as u64;
                *len -= n as u64;
                n
            }
        };
        self.advance_counted(n);
        Ok(n)
    }

    /// Copies the whole (small) body to the end of `out`.
    pub(crate) fn read_all_into(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        let start = out.len();
        out.resize(start + self.left as usize, 0);
        let mut at = start;
        while at < out.len() {
            match self.read_chunk(&mut out[at..]) {
                Ok(0) => break,
                Ok(n) => at += n,
                Err(e) => {
                    out.truncate(start);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Accounts for `n` bytes of the front region sent by `sendfile` (which moved `offset`).
    fn advance(&mut self, n: usize) {
        if let Some(Part::Range { len, .. }) = self.parts.front_mut() {
            *len -= n as u64;
        }
        self.advance_counted(n);
    }

    /// Lowers `left` by `n` and drops the front part once it is empty.
    fn advance_counted(&mut self, n: usize) {
        self.left -= n as u64;
        let done = match self.parts.front() {
            Some(Part::Bytes { data, sent }) => *sent == data.len(),
            Some(Part::Range { len, .. }) => *len == 0,
            None => false,
        };
        if done {
            self.parts.pop_front();
        }
    }
}

fn shrank() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "the file ended before its announced length (it shrank)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(data: &[u8]) -> File {
        let path = std::env::temp_dir().join(format!("shockwave-file-body-{}-{}", std::process::id(), data.len()));
        std::fs::File::create(&path).unwrap().write_all(data).unwrap();
        let f = File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        f
    }

    #[test]
    fn parts_are_read_in_order_in_small_chunks() {
        let f = file_with(b"0123456789");
        let parts = vec![
            Part::Bytes { data: b"<a>".to_vec(), sent: 0 },
            Part::Range { offset: 2, len: 3 },
            Part::Bytes { data: b"<b>".to_vec(), sent: 0 },
            Part::Range { offset: 8, len: 2 },
        ];
        let mut b = FileBody::new(f, parts, true);
        assert_eq!(b.len(), 11);
        let mut out = Vec::new();
        let mut chunk = [0u8; 2];
        loop {
            let n = b.read_chunk(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&chunk[..n]);
        }
        assert_eq!((out.as_slice(), b.len()), (&b"<a>234<b>89"[..], 0));
    }

    #[test]
    fn a_file_shorter_than_announced_is_an_error() {
        let mut b = FileBody::new(file_with(b"abc"), vec![Part::Range { offset: 0, len: 10 }], true);
        let mut out = Vec::new();
        let e = b.read_all_into(&mut out).unwrap_err();
        assert_eq!((e.kind(), out.len()), (io::ErrorKind::UnexpectedEof, 0));
    }
}
