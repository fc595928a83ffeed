//! Positions into a message buffer ([`Span`], [`Field`]) and the error a malformed head or
//! framing gives ([`HeadError`]), and the field-line parser every head and trailer section
//! goes through, whichever the role.

use super::simd::{scan_name, scan_value};
use super::tables::TCHAR;

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

/// Where a head's size limit and the error for crossing it come from: the field-line loop
/// stops with `Ok(None)` ("need more bytes") while the head is under `max`, else with `error`.
#[derive(Clone, Copy)]
pub(crate) struct HeadLimit {
    /// Where the head began in the buffer.
    pub start: usize,
    pub max: usize,
    pub error: HeadError,
}

impl HeadLimit {
    /// The head is incomplete at the end of `buf`: wait for more, unless it is too long already.
    #[inline]
    pub(crate) fn partial<T>(&self, buf: &[u8]) -> Result<Option<T>, HeadError> {
        if buf.len() - self.start > self.max {
            Err(self.error)
        } else {
            Ok(None)
        }
    }
}

/// What a role gathers from each field line as the parser meets it (so no field is scanned
/// twice).
pub(crate) trait FieldSink {
    /// One line: name (a valid token), trimmed value, and the value's span.
    fn field(&mut self, name: &[u8], value: &[u8], span: Span) -> Result<(), HeadError>;
}

/// Runs a head parser that appends field lines to `fields`, keeping them only if it returns
/// a complete head: after "need more bytes" or an error the list is as it was, so the next
/// attempt (or the next message) starts clean.
#[inline(always)]
pub(crate) fn complete_or_undo<T>(
    fields: &mut Vec<Field>,
    parse: impl FnOnce(&mut Vec<Field>) -> Result<Option<T>, HeadError>,
) -> Result<Option<T>, HeadError> {
    let f0 = fields.len();
    let r = parse(fields);
    if !matches!(r, Ok(Some(_))) {
        fields.truncate(f0);
    }
    r
}

/// The sink that keeps nothing but the spans `field_lines` pushes.
impl FieldSink for () {
    #[inline(always)]
    fn field(&mut self, _: &[u8], _: &[u8], _: Span) -> Result<(), HeadError> {
        Ok(())
    }
}

/// The spans of a whole field section (lines and the empty line that ends it), such as a
/// chunked body's trailer: `Ok(Some(len))` when `section` is exactly one complete section.
pub(crate) fn section_fields(section: &[u8], fields: &mut Vec<Field>) -> Result<Option<usize>, HeadError> {
    let lim = HeadLimit { start: 0, max: usize::MAX, error: bad("field section too large") };
    field_lines::<false>(section, 0, lim, usize::MAX, fields, &mut ())
}

/// Parses the field lines from `buf[pos..]` through the empty line that ends them (RFC 9112
/// §5), for requests, responses and chunked trailers alike. Each line is pushed to `fields`
/// and handed to `sink`. Returns the position after the
/// empty line, `Ok(None)` when the lines are not complete yet, or the error.
///
/// Strict where leniency has been a smuggling vector: lines end in CRLF (with `BARE_LF`, a
/// lone LF also ends a line, as RFC 9112 §2.2 lets a recipient accept: the client reads
/// responses that way, the server never requests), a CR not followed by LF is an error, no
/// whitespace before the colon or at the start of a line (obs-fold), no CTL in values.
#[inline(always)]
pub(crate) fn field_lines<const BARE_LF: bool>(
    buf: &[u8],
    mut pos: usize,
    lim: HeadLimit,
    max_fields: usize,
    fields: &mut Vec<Field>,
    sink: &mut impl FieldSink,
) -> Result<Option<usize>, HeadError> {
    let len = buf.len();
    let f0 = fields.len();
    loop {
        let Some(&c) = buf.get(pos) else { return lim.partial(buf) };
        if !TCHAR[c as usize] {
            match c {
                b'\r' => match buf.get(pos + 1) {
                    None => return lim.partial(buf),
                    Some(b'\n') => return Ok(Some(pos + 2)),
                    Some(_) => return Err(bad("bare CR")),
                },
                b'\n' if BARE_LF => return Ok(Some(pos + 1)),
                b'\n' => return Err(bad("bare LF")),
                // RFC 9112 §2.2 (whitespace before the first field) and §5.2 (obs-fold): reject.
                b' ' | b'\t' => return Err(bad("line folding or leading whitespace")),
                _ => return Err(bad("invalid field name")),
            }
        }
        let n0 = pos;
        pos = scan_name(buf, pos);
        while pos < len && TCHAR[buf[pos] as usize] {
            pos += 1;
        }
        match buf.get(pos) {
            None => return lim.partial(buf),
            Some(b':') if pos > n0 => {}
            // RFC 9112 §5.1: "A server MUST reject, with a response status code of 400 (Bad
            // Request), any received request message that contains whitespace between a header
            // field name and colon." (and a client cannot know where such a name ends either)
            Some(b' ' | b'\t') => return Err(bad("whitespace before colon")),
            Some(_) => return Err(bad("invalid field name")),
        }
        let name = Span(n0 as u32, pos as u32);
        pos += 1;
        // OWS: usually exactly one SP
        if buf.get(pos) == Some(&b' ') {
            pos += 1;
        }
        while let Some(b' ' | b'\t') = buf.get(pos) {
            pos += 1;
        }
        let v0 = pos;
        loop {
            pos = scan_value(buf, pos);
            match buf.get(pos) {
                None => return lim.partial(buf),
                Some(b'\t') => pos += 1,
                Some(b'\r') => break,
                Some(b'\n') if BARE_LF => break,
                Some(_) => return Err(bad("invalid character in field value")),
            }
        }
        let eol = if BARE_LF && buf[pos] == b'\n' {
            1
        } else {
            match buf.get(pos + 1) {
                None => return lim.partial(buf),
                Some(b'\n') => 2,
                Some(_) => return Err(bad("bare CR")),
            }
        };
        let mut v1 = pos;
        if v1 > v0 && matches!(buf[v1 - 1], b' ' | b'\t') {
            // trailing OWS is rare: trim it
            while v1 > v0 && matches!(buf[v1 - 1], b' ' | b'\t') {
                v1 -= 1;
            }
        }
        pos += eol;
        if fields.len() - f0 >= max_fields {
            return Err(HeadError { status: 431, reason: "too many header fields" });
        }
        let value = Span(v0 as u32, v1 as u32);
        fields.push(Field { name, value });
        sink.field(name.of(buf), value.of(buf), value)?;
    }
}
