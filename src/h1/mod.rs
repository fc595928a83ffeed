//! Role-neutral HTTP/1.1: what a server and a client both need to read and write messages —
//! byte-class tables and the SIMD scans over them, the field-line parser (`field`), the
//! framing fields (`framing`: Content-Length, Transfer-Encoding, Connection), header names
//! and values made safe to write (`write`), number formatting, status lines and reason
//! phrases, the chunked transfer coding. Nothing here knows which side of a connection it
//! runs on: the server's rules (request-lines, `Host`, `Expect`, the answers it gives on its
//! own) live in `crate::http` and `crate::server`, the client's (status lines, response
//! framing, retries) in `crate::client`.

pub(crate) mod chunked;
pub(crate) mod field;
pub(crate) mod fmt;
pub(crate) mod framing;
pub(crate) mod simd;
pub(crate) mod status;
pub(crate) mod tables;
pub(crate) mod write;
