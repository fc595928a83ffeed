//! Positions into a message buffer ([`Span`], [`Field`]) and the error a malformed head or
//! framing gives ([`HeadError`]): shared by every parser of a message, whichever its role.

/// A half-open byte range `[0, 1)` in the connection buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span(pub u32, pub u32);

impl Span {
    #[inline]
    pub(crate) fn of(self, buf: &[u8]) -> &[u8] {
        &buf[self.0 as usize..self.1 as usize]
    }
    #[inline]
    pub(crate) fn len(self) -> usize {
        (self.1 - self.0) as usize
    }
}

/// One field line: name and value (value trimmed of surrounding whitespace).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Field {
    pub name: Span,
    pub value: Span,
}

/// Why a message head (or chunked framing) was refused, with the status a server answers it
/// with (a client reports it as a protocol error). Every such error ends the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeadError {
    pub status: u16,
    pub reason: &'static str,
}

pub(crate) const fn bad(reason: &'static str) -> HeadError {
    HeadError { status: 400, reason }
}
