//! Text grammars of `multipart/form-data`: the `boundary` parameter of the request's
//! `Content-Type`, the boundary itself (RFC 2046 §5.1.1), and each part's header block with its
//! `Content-Disposition` (RFC 7578 §4.2, RFC 6266 parameters, RFC 5987 `filename*`).
//!
//! Pure functions over bytes already in memory: the streaming parser hands over one complete
//! header block, bounded by `max_part_header_bytes`. Anything ambiguous (a parameter or a
//! `Content-Disposition` given twice, a folded line) is rejected rather than guessed at, so
//! that no other parser in front of the handler can read the same part differently.

use super::MultipartError;
use crate::h1::tables::{FIELD_VALUE, QDTEXT, QUOTED_PAIR, TCHAR};
use std::borrow::Cow;
use std::ops::Range;

/// `bchars := bcharsnospace / " "`, `bcharsnospace := DIGIT / ALPHA / "'" / "(" / ")" / "+" /
/// "_" / "," / "-" / "." / "/" / ":" / "=" / "?"` (RFC 2046 §5.1.1).
fn is_bchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b)
}

/// `boundary := 0*69<bchars> bcharsnospace` (RFC 2046 §5.1.1): 1 to 70 characters, no space
/// at the end.
pub(super) fn check_boundary(b: &str) -> Result<(), MultipartError> {
    if b.is_empty() || b.len() > 70 {
        return Err(MultipartError::malformed(format!(
            "the multipart boundary must be 1 to 70 characters long (RFC 2046 §5.1.1), not {}",
            b.len()
        )));
    }
    if let Some(c) = b.chars().find(|&c| !c.is_ascii() || !is_bchar(c as u8)) {
        return Err(MultipartError::malformed(format!(
            "the multipart boundary contains {c:?}, which RFC 2046 §5.1.1 does not allow"
        )));
    }
    if b.ends_with(' ') {
        return Err(MultipartError::malformed("the multipart boundary must not end with a space (RFC 2046 §5.1.1)"));
    }
    Ok(())
}

/// The boundary of a `multipart/form-data` `Content-Type` value, e.g. `abc` in
/// `multipart/form-data; boundary="abc"`.
///
/// The media type and the parameter name are matched case-insensitively; the value may be a
/// token or a quoted string. `None` when the type is not `multipart/form-data`, when there is no
/// `boundary` (or two), or when the parameters cannot be parsed. The boundary is not checked
/// here: [`Multipart::new`](super::Multipart::new) does that. A quoted value that uses
/// backslash escapes gives `None` too: no character a boundary may hold needs one.
///
/// ```
/// use shockwave::multipart::boundary;
///
/// assert_eq!(boundary("multipart/form-data; boundary=----x1"), Some("----x1"));
/// assert_eq!(boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b\""), Some("a b"));
/// assert_eq!(boundary("multipart/mixed; boundary=x"), None);
/// assert_eq!(boundary("multipart/form-data"), None);
/// ```
pub fn boundary(content_type: &str) -> Option<&str> {
    let mut c = Cursor::new(content_type);
    c.skip_ows();
    let ty = c.token()?;
    c.eat(b'/').then_some(())?;
    let sub = c.token()?;
    if !ty.eq_ignore_ascii_case("multipart") || !sub.eq_ignore_ascii_case("form-data") {
        return None;
    }
    let mut found = None;
    while let Some((name, value)) = c.param().ok()? {
        if name.eq_ignore_ascii_case("boundary") {
            if found.is_some() {
                return None;
            }
            found = Some(value);
        }
    }
    match found? {
        Value::Token(v) | Value::Quoted(Cow::Borrowed(v)) => Some(v),
        Value::Quoted(Cow::Owned(_)) => None,
    }
}

/// A parameter's value: `token / quoted-string`, the latter with its escapes undone.
enum Value<'a> {
    Token(&'a str),
    Quoted(Cow<'a, str>),
}

impl<'a> Value<'a> {
    fn into_cow(self) -> Cow<'a, str> {
        match self {
            Value::Token(t) => Cow::Borrowed(t),
            Value::Quoted(q) => q,
        }
    }
}

/// A position in a header value, for the `;`-separated parameter grammars.
struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor { s, i: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.i += hit as usize;
        hit
    }

    /// `OWS = *( SP / HTAB )`
    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    /// `token = 1*tchar`
    fn token(&mut self) -> Option<&'a str> {
        let start = self.i;
        while self.peek().is_some_and(|b| TCHAR[b as usize]) {
            self.i += 1;
        }
        (self.i > start).then(|| &self.s[start..self.i])
    }

    /// `quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE`, after the opening quote.
    /// Borrowed when there is no escape to undo.
    fn quoted(&mut self) -> Option<Cow<'a, str>> {
        let bytes = self.s.as_bytes();
        let mut owned: Option<String> = None;
        let mut seg = self.i;
        loop {
            match *bytes.get(self.i)? {
                b'"' => {
                    let tail = &self.s[seg..self.i];
                    self.i += 1;
                    return Some(match owned {
                        Some(mut o) => {
                            o.push_str(tail);
                            Cow::Owned(o)
                        }
                        None => Cow::Borrowed(tail),
                    });
                }
                // The escaped byte starts the next segment: a backslash is ASCII, so the byte
                // after it begins a character.
                b'\\' if QUOTED_PAIR[*bytes.get(self.i + 1)? as usize] => {
                    owned.get_or_insert_with(String::new).push_str(&self.s[seg..self.i]);
                    seg = self.i + 1;
                    self.i += 2;
                }
                b if QDTEXT[b as usize] => self.i += 1,
                _ => return None,
            }
        }
    }

    /// `*( OWS ";" OWS parameter )`, one at a time: `Ok(None)` at the end of the value, `Err` on
    /// anything that is not `name=value` (a trailing `;` is tolerated). `parameter = token "="
    /// ( token / quoted-string )`, with OWS allowed around the `=` as RFC 6266 implies.
    fn param(&mut self) -> Result<Option<(&'a str, Value<'a>)>, ()> {
        self.skip_ows();
        if self.peek().is_none() {
            return Ok(None);
        }
        if !self.eat(b';') {
            return Err(());
        }
        self.skip_ows();
        if self.peek().is_none() {
            return Ok(None);
        }
        let name = self.token().ok_or(())?;
        self.skip_ows();
        if !self.eat(b'=') {
            return Err(());
        }
        self.skip_ows();
        let value = if self.eat(b'"') { Value::Quoted(self.quoted().ok_or(())?) } else { self.bare()? };
        Ok(Some((name, value)))
    }

    /// An unquoted value: a token, or (leniently, for boundaries such as `=_Part_1` that
    /// clients send unquoted) any run of visible characters up to `;` or whitespace.
    fn bare(&mut self) -> Result<Value<'a>, ()> {
        let start = self.i;
        while self.peek().is_some_and(|b| b > b' ' && b != b';' && b != b'"' && b != 0x7f) {
            self.i += 1;
        }
        if self.i == start {
            return Err(());
        }
        Ok(Value::Token(&self.s[start..self.i]))
    }
}

/// One part's header block, parsed, kept between parts so its allocations are reused.
#[derive(Default)]
pub(super) struct Head {
    /// The block as received: `CRLF *( field CRLF ) CRLF`, from the end of the boundary line.
    raw: String,
    /// `(name, value)` of each field, as byte ranges of `raw`.
    fields: Vec<(Range<usize>, Range<usize>)>,
    /// `name` of the `Content-Disposition`, escapes undone.
    pub(super) name: String,
    /// `filename*` (decoded) if given, else `filename`.
    pub(super) filename: Option<String>,
    /// The value of `Content-Type`, as a range of `raw`.
    content_type: Option<Range<usize>>,
}

fn bad(msg: &str) -> MultipartError {
    MultipartError::malformed(msg)
}

impl Head {
    /// The raw block's buffer, emptied, to read the next block into.
    pub(super) fn take_buffer(&mut self) -> Vec<u8> {
        let mut v = std::mem::take(&mut self.raw).into_bytes();
        v.clear();
        v
    }

    /// Parses `block`, which begins with the boundary line's CRLF and ends with the first
    /// CRLF CRLF in it (the reader made sure).
    pub(super) fn parse(&mut self, block: Vec<u8>) -> Result<(), MultipartError> {
        self.fields.clear();
        self.name.clear();
        self.filename = None;
        self.content_type = None;
        if block.contains(&0) {
            return Err(bad("a part's headers contain a NUL byte"));
        }
        if !block.starts_with(b"\r\n") {
            return Err(bad("a part's headers do not follow the boundary line"));
        }
        let mut at = 2;
        let end = block.len() - 2; // the empty line's CRLF
        while at < end {
            let line_end = at + memchr::memmem::find(&block[at..end], b"\r\n").unwrap_or(end - at);
            let line = &block[at..line_end];
            if matches!(line.first(), Some(b' ' | b'\t')) {
                return Err(bad(
                    "a part header line starts with whitespace: folded headers (obs-fold) are not accepted",
                ));
            }
            let colon = line.iter().position(|&b| b == b':').ok_or_else(|| bad("a part header line has no `:`"))?;
            if colon == 0 || !line[..colon].iter().all(|&b| TCHAR[b as usize]) {
                return Err(bad("a part header has an invalid name (a token is required before the `:`)"));
            }
            let (mut vs, mut ve) = (colon + 1, line.len());
            while vs < ve && matches!(line[vs], b' ' | b'\t') {
                vs += 1;
            }
            while ve > vs && matches!(line[ve - 1], b' ' | b'\t') {
                ve -= 1;
            }
            if !line[vs..ve].iter().all(|&b| FIELD_VALUE[b as usize]) {
                return Err(bad("a part header value contains a control character (a bare CR or LF, or another CTL)"));
            }
            self.fields.push((at..at + colon, at + vs..at + ve));
            at = line_end + 2;
        }
        self.raw = String::from_utf8(block).map_err(|_| bad("a part's headers are not valid UTF-8"))?;

        let mut disposition = None;
        for (name, value) in &self.fields {
            let name = &self.raw[name.clone()];
            if name.eq_ignore_ascii_case("content-disposition") {
                if disposition.replace(value.clone()).is_some() {
                    return Err(bad("a part has two Content-Disposition headers"));
                }
            } else if name.eq_ignore_ascii_case("content-type") && self.content_type.replace(value.clone()).is_some() {
                return Err(bad("a part has two Content-Type headers"));
            }
        }
        let disposition = disposition.ok_or_else(|| {
            bad("a part has no Content-Disposition header (RFC 7578 §4.2 requires `form-data; name=\"...\"`)")
        })?;
        let (name, filename) = parse_disposition(&self.raw[disposition])?;
        self.name.push_str(&name);
        self.filename = filename;
        Ok(())
    }

    pub(super) fn content_type(&self) -> Option<&str> {
        self.content_type.clone().map(|r| &self.raw[r])
    }

    pub(super) fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(n, v)| (&self.raw[n.clone()], &self.raw[v.clone()]))
    }
}

/// `form-data *( ";" disp-parm )` (RFC 7578 §4.2, RFC 6266 §4.1): the field name and the file
/// name, `filename*` (RFC 5987) preferred over `filename`. Other parameters are ignored.
fn parse_disposition(v: &str) -> Result<(Cow<'_, str>, Option<String>), MultipartError> {
    let mut c = Cursor::new(v);
    let ty = c.token().unwrap_or("");
    if !ty.eq_ignore_ascii_case("form-data") {
        return Err(MultipartError::malformed(format!(
            "a part's Content-Disposition is {ty:?}, not \"form-data\" (RFC 7578 §4.2)"
        )));
    }
    let (mut name, mut filename, mut filename_ext) = (None, None, None);
    while let Some((param, value)) =
        c.param().map_err(|()| bad("a part's Content-Disposition parameters are not `; name=value` pairs"))?
    {
        let slot = if param.eq_ignore_ascii_case("name") {
            &mut name
        } else if param.eq_ignore_ascii_case("filename") {
            &mut filename
        } else if param.eq_ignore_ascii_case("filename*") {
            &mut filename_ext
        } else {
            continue;
        };
        if slot.replace(value.into_cow()).is_some() {
            return Err(MultipartError::malformed(format!(
                "a part's Content-Disposition gives `{}` twice",
                param.to_ascii_lowercase()
            )));
        }
    }
    let name = name.ok_or_else(|| bad("a part's Content-Disposition has no `name` (RFC 7578 §4.2 requires one)"))?;
    let ext = match filename_ext {
        Some(e) => decode_ext_value(&e)?,
        None => None,
    };
    Ok((name, ext.or(filename.map(Cow::into_owned))))
}

/// `ext-value = charset "'" [ language ] "'" value-chars` (RFC 5987 §3.2), percent-decoded.
/// UTF-8 and ISO-8859-1 are understood; another charset gives `None` (so `filename` is used).
fn decode_ext_value(v: &str) -> Result<Option<String>, MultipartError> {
    let malformed = || bad("a part's `filename*` is not `UTF-8''percent-encoded-name` (RFC 5987)");
    let mut it = v.splitn(3, '\'');
    let (charset, _language, value) = match (it.next(), it.next(), it.next()) {
        (Some(c), Some(l), Some(v)) => (c, l, v),
        _ => return Err(malformed()),
    };
    let mut bytes = Vec::with_capacity(value.len());
    let mut i = 0;
    let b = value.as_bytes();
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit)).ok_or_else(malformed)?;
            bytes.push(hex.iter().fold(0, |n, &d| n * 16 + (d as char).to_digit(16).unwrap_or(0) as u8));
            i += 3;
        } else {
            bytes.push(b[i]);
            i += 1;
        }
    }
    if bytes.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Err(bad("a part's `filename*` decodes to a control character"));
    }
    if charset.eq_ignore_ascii_case("utf-8") {
        String::from_utf8(bytes).map(Some).map_err(|_| bad("a part's `filename*` is not valid UTF-8"))
    } else if charset.eq_ignore_ascii_case("iso-8859-1") {
        Ok(Some(bytes.iter().map(|&b| b as char).collect()))
    } else {
        Ok(None)
    }
}
