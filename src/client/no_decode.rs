//! Without features `compress` and `brotli`: no `Accept-Encoding` is sent and no body is
//! decoded (`decode.rs` is what the features bring).

use super::error::Error;
use super::head::BodyKind;
use super::request::Headers;
use super::response::Response;

pub(crate) struct Decoding;

pub(crate) fn accept_encoding(_decompress: bool, _headers: &Headers) -> Option<&'static str> {
    None
}

impl Decoding {
    pub(crate) fn start(_asked: bool, _resp: &mut Response, _kind: &BodyKind, _max_body: u64) -> Decoding {
        Decoding
    }

    #[inline]
    pub(crate) fn is_on(&self) -> bool {
        false
    }

    pub(crate) fn copy_to(&mut self, _out: &mut [u8]) -> usize {
        0
    }

    pub(crate) fn drain_into(&mut self, _body: &mut Vec<u8>) {}

    pub(crate) fn is_done(&self) -> bool {
        true
    }

    pub(crate) fn push(&mut self, _input: Option<&[u8]>) -> Result<(), Error> {
        Ok(())
    }
}
