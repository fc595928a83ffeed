//! Shared by `examples/hello` and `examples/echo`: how they run as deployed services behind a
//! load balancer (see `examples/deploy/README.md`).
//! - The listening socket comes from systemd socket activation or an exec hand-over when one
//!   is passed (`LISTEN_FDS`), else the address is bound.
//! - SIGTERM (or Ctrl-C) drains: requests in flight and pipelined ones are answered, each
//!   connection gets `Connection: close` on its next response, then the process exits 0.
//!   SIGUSR2 hands the socket over to a new process started from the same path, then drains.
//! - `SHOCKWAVE_DRAIN_DELAY_MS`: how long a drain keeps accepting (the health path answering
//!   503) before it stops; `SHOCKWAVE_HEALTH_PATH` (e.g. `/healthz`): the server's own health
//!   answer; `SHOCKWAVE_REUSE_PORT=1`: bind with `SO_REUSEPORT`, taking the port's new
//!   connections from an older instance; `SHOCKWAVE_PROXY_PROTOCOL=1`: every connection must
//!   begin with a PROXY v1/v2 header (HAProxy `send-proxy-v2`), whose client address the
//!   handlers see as `remote_addr()`.
#![allow(dead_code)]

use shockwave::{Builder, Server, ServerHandle};
use std::time::Duration;

/// `builder` with the deployment settings from the environment.
pub fn configure(mut builder: Builder) -> Builder {
    if let Some(ms) = std::env::var("SHOCKWAVE_DRAIN_DELAY_MS").ok().and_then(|v| v.parse().ok()) {
        builder = builder.drain_delay(Duration::from_millis(ms));
    }
    if let Ok(path) = std::env::var("SHOCKWAVE_HEALTH_PATH") {
        builder = builder.health_path(path);
    }
    if std::env::var("SHOCKWAVE_REUSE_PORT").is_ok_and(|v| v == "1") {
        builder = builder.reuse_port(true);
    }
    if std::env::var("SHOCKWAVE_PROXY_PROTOCOL").is_ok_and(|v| v == "1") {
        builder = builder.proxy_protocol(true);
    }
    builder
}

/// The passed-in socket if there is one, else `addr` bound.
pub fn bind(builder: Builder, addr: &str) -> std::io::Result<Server> {
    builder.bind_or_inherit(addr)
}

/// Serves until a signal ends the server: SIGTERM drains, SIGUSR2 hands over and drains. A
/// server that cannot watch signals (no descriptor left for signal-hook's pipe, say) still
/// serves, and says so.
/// (Built without the default feature `signals`, it only serves.)
pub fn run(handle: ServerHandle) -> std::io::Result<()> {
    #[cfg(feature = "signals")]
    if let Err(e) = handle.shutdown_on_signals().and_then(|()| handle.hand_over_on_sigusr2()) {
        eprintln!("cannot watch signals ({e}): SIGTERM and SIGUSR2 keep their default actions");
    }
    handle.join();
    Ok(())
}
