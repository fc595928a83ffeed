//! Tiny helpers shared by the peer binaries (address and thread count).

use std::net::SocketAddr;

/// Listen address: first CLI argument, else `ADDR`, else 127.0.0.1:8080.
pub fn addr() -> SocketAddr {
    let s = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("ADDR").ok())
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    s.parse()
        .unwrap_or_else(|e| panic!("bad listen address {s:?}: {e}"))
}

/// Thread count from env `THREADS` (default 1, minimum 1).
pub fn threads() -> usize {
    std::env::var("THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(1)
}

pub const BODY: &str = "Hello, World!";
