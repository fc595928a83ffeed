//! Shockwave: a fast, hardened HTTP/1.1 server for synchronous Rust.
#![allow(dead_code)]

pub(crate) mod buf;
pub(crate) mod http;
#[macro_use]
pub(crate) mod sys;
