//! The server's side of HTTP/1.1: parsing request heads and bodies, the handler's `Request`
//! and `Response`, encoding responses (on the role-neutral pieces in `crate::h1`).

pub(crate) mod body;
pub(crate) mod date;
pub(crate) mod file_body;
pub(crate) mod head;
pub(crate) mod method;
pub(crate) mod parse;
pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod uri;
