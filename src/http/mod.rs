//! HTTP/1.1 message handling: parsing request heads and bodies, encoding responses.

pub(crate) mod body;
pub(crate) mod chunked;
pub(crate) mod date;
pub(crate) mod fmt;
pub(crate) mod head;
pub(crate) mod method;
pub(crate) mod parse;
pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod simd;
pub(crate) mod status;
pub(crate) mod tables;
pub(crate) mod uri;
