//! Transparent response decoding (features `compress` / `brotli`): the `Accept-Encoding` the
//! client sends, and the decoder a response body is read through when the server used one
//! of those codings. Streaming: compressed bytes are decoded as they are read, never
//! buffered whole, and the decoded size is held to `max_response_body`.
//!
//! Only responses to requests whose `Accept-Encoding` the client wrote are decoded: a
//! request that sets its own gets the body as sent (as reqwest does). A decoded response
//! loses its `Content-Encoding` and `Content-Length` fields, which describe the bytes on the
//! wire, not the ones the caller reads. (`no_decode.rs` is this module without the features.)

use super::error::{Error, Kind};
use super::head::BodyKind;
use super::request::{Headers, HAS_ACCEPT_ENCODING};
use super::response::Response;
use crate::compress::decode::{coding_of, Inflater};
use crate::compress::Coding;

/// A body's decoder, when it has one, and whether its input has ended.
pub(crate) struct Decoding(Option<(Box<Inflater>, bool)>);

/// The value the client sends, when `decompress` is on and the request sets none.
pub(crate) fn accept_encoding(decompress: bool, headers: &Headers) -> Option<&'static str> {
    (decompress && headers.flags & HAS_ACCEPT_ENCODING == 0).then(Coding::available_list)
}

impl Decoding {
    /// The decoder for `resp`'s body (of framing `kind`), when the client asked for codings
    /// (`asked`) and the server used one; the coding's fields are then removed.
    pub(crate) fn start(asked: bool, resp: &mut Response, kind: &BodyKind, max_body: u64) -> Decoding {
        if !asked || matches!(kind, BodyKind::None | BodyKind::Length(0)) {
            return Decoding(None);
        }
        let Ok(Some(coding)) = coding_of(resp.header_bytes("content-encoding")) else { return Decoding(None) };
        let head = &resp.head;
        resp.fields.retain(|f| {
            let n = f.name.of(head);
            !n.eq_ignore_ascii_case(b"content-encoding") && !n.eq_ignore_ascii_case(b"content-length")
        });
        Decoding(Some((Box::new(Inflater::new(coding, max_body)), false)))
    }

    pub(crate) fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// Copies decoded bytes to `out`: how many (0 when none are pending).
    pub(crate) fn copy_to(&mut self, out: &mut [u8]) -> usize {
        self.0.as_mut().map_or(0, |(inf, _)| inf.copy_to(out))
    }

    /// Moves decoded bytes to the end of `body`.
    pub(crate) fn drain_into(&mut self, body: &mut Vec<u8>) {
        if let Some((inf, _)) = &mut self.0 {
            body.extend_from_slice(inf.pending());
            let n = inf.pending().len();
            inf.take(n);
        }
    }

    /// Whether the compressed input has ended (everything decoded is then pending).
    pub(crate) fn is_done(&self) -> bool {
        self.0.as_ref().is_none_or(|(_, done)| *done)
    }

    /// Feeds compressed body bytes; `None` at the end of the body.
    pub(crate) fn push(&mut self, input: Option<&[u8]>) -> Result<(), Error> {
        let Some((inf, done)) = &mut self.0 else { return Ok(()) };
        let r = match input {
            Some(b) => inf.push(b),
            None => {
                *done = true;
                inf.finish()
            }
        };
        r.map_err(|e| {
            let kind = if e.kind() == std::io::ErrorKind::FileTooLarge { Kind::TooLarge } else { Kind::Protocol };
            Error::new(kind, format!("decoding the response body: {e}"))
        })
    }
}
