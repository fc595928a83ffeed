//! The blocking HTTP/1.1 client.

pub(crate) mod url;
