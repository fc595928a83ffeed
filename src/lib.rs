//! Shockwave: a fast, hardened HTTP/1.1 server for synchronous Rust, on Linux.
//!
//! Handlers are plain blocking closures; the server runs them on an elastic pool of plain
//! threads that also lead one `mio` poller per CPU, with zero heap allocations per request in
//! steady state.
//!
//! ```no_run
//! fn main() -> std::io::Result<()> {
//!     shockwave::serve("127.0.0.1:8080", |_req, resp| {
//!         resp.set_content_type("text/plain");
//!         resp.write_body(b"Hello, World!");
//!     })
//! }
//! ```
//!
//! - [`serve`] runs a handler until the process ends; [`Server::builder`] configures limits and
//!   timeouts and returns a [`ServerHandle`] with [`stats`](ServerHandle::stats) and a graceful
//!   [`shutdown`](ServerHandle::shutdown) callable from any thread;
//!   [`Builder::bind_unix`] serves over a Unix domain socket instead of TCP.
//! - Cargo feature `fs`: `fs::Dir` and `fs::File` serve static files (ranges, conditional
//!   requests, `sendfile` without holding a worker).
//! - Cargo feature `signals`: [`ServerHandle`]`::shutdown_on_signals`, a graceful shutdown on
//!   SIGINT/SIGTERM.
//! - Cargo features `compress` (gzip, deflate) and `brotli` (br): the `compress::Compress`
//!   middleware, request-body decoding, and a client that asks for and decodes compressed
//!   responses.
//! - [`Request`] is a zero-copy view of one request (method, target, headers, the whole body
//!   with [`Request::body`], or a streaming [`BodyReader`]); [`Response`] collects status,
//!   headers and body, and streams when written through [`std::io::Write`].
//! - Behind a load balancer: [`Builder::proxy_protocol`] reads the PROXY protocol (v1/v2) header
//!   each connection begins with ([`Request::proxy`], [`Request::peer_addr`]), and
//!   [`Builder::trust_forwarded_from`] believes `Forwarded` / `X-Forwarded-*` from the
//!   [`Network`]s named ([`Request::client_ip`]).
//! - Malformed requests, oversized ones, slow clients and overload are answered by the server
//!   itself (400, 413, 414, 431, 501, 505, 408, 503) and never reach the handler; a panicking
//!   handler yields a 500 and the server carries on.
#![deny(missing_docs)]

// recvfrom/sendto through syscall(2), MSG_MORE, TCP_DEFER_ACCEPT and SCHED_BATCH are Linux's.
#[cfg(not(target_os = "linux"))]
compile_error!("Shockwave runs on Linux: it uses Linux-only socket options and system calls (see src/sys.rs)");

// first: its `syscall!` macro is used by the modules below
#[macro_use]
pub(crate) mod sys;

pub(crate) mod buf;
pub mod client;
#[cfg(any(feature = "compress", feature = "brotli"))]
pub mod compress;
#[cfg(feature = "cookies")]
mod cookies;
mod error;
mod form;
mod forwarded;
#[cfg(feature = "fs")]
pub mod fs;
#[cfg(any(fuzzing, test))]
#[doc(hidden)]
pub mod fuzz;
pub(crate) mod h1;
mod handler;
pub(crate) mod http;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals;
#[cfg(feature = "http")]
mod interop;
#[cfg(feature = "json")]
mod json;
pub mod middleware;
pub mod multipart;
mod network;
mod proxy;
#[cfg(feature = "router")]
mod router;
pub(crate) mod server;
pub mod test;
#[cfg(feature = "tls")]
pub mod tls;
pub mod upgrade;
pub mod websocket;
pub(crate) mod wire;

pub use buf::ClassStats;
pub use client::Client;
#[cfg(feature = "cookies")]
#[doc(no_inline)]
pub use cookie;
pub use error::Error;
pub use form::Form;
pub use handler::{Handler, HandlerResult};
pub use http::body::BodyReader;
pub use http::request::{Request, Version};
pub use http::response::{IntoStatus, InvalidHeaderName, Response};
#[cfg(feature = "http")]
pub use interop::{from_http, FromHttp};
pub use network::{Network, NetworkParseError};
pub use proxy::ProxyHeader;
#[cfg(feature = "router")]
pub use router::Router;
pub use server::{drain::DrainReport, serve, serve_handler, Builder, Server, ServerHandle, Stats};
