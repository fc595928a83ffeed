//! The blocking HTTP/1.1 client.

// used by the client, landing next
#[allow(dead_code)]
pub(crate) mod connect;
// used by the client, landing next
#[allow(dead_code)]
pub(crate) mod url;
