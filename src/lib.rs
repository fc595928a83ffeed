//! Shockwave: a fast, hardened HTTP/1.1 server for synchronous Rust.
#![allow(dead_code)]

pub(crate) mod buf;
#[cfg(any(fuzzing, test))]
#[doc(hidden)]
pub mod fuzz;
mod handler;
pub(crate) mod http;
pub(crate) mod server;
#[macro_use]
pub(crate) mod sys;

pub use buf::ClassStats;
pub use handler::Handler;
pub use http::body::BodyReader;
pub use http::request::{Request, Version};
pub use http::response::{InvalidHeaderName, Response};
pub use server::{serve, Builder, Server, ServerHandle, Stats};
