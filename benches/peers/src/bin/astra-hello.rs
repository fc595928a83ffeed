//! astra (blocking server over hyper; one pool thread per live connection).
//!
//! astra's pool holds a thread for the whole life of a connection, so its
//! `max_workers` caps concurrent connections, not CPU parallelism. THREADS is
//! therefore not used as the cap (THREADS=1 would serve one connection at a
//! time); the cap comes from env ASTRA_MAX_WORKERS (default 1024) so that all
//! benchmark connections are served. CPU placement is done with taskset.

use astra::{Body, ResponseBuilder, Server};

fn main() {
    let addr = shockwave_peers::addr();
    let max_workers = std::env::var("ASTRA_MAX_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024usize);
    eprintln!("astra-hello listening on {addr} (max_workers {max_workers})");
    Server::bind(addr)
        .http1_only()
        .http1_keep_alive(true)
        .http1_pipeline_flush(true)
        .max_workers(max_workers)
        .serve(|_req, _info| {
            ResponseBuilder::new()
                .header("Content-Type", "text/plain")
                // astra's Body hides its length from hyper; without this the
                // answer would be chunked instead of Content-Length: 13.
                .header("Content-Length", "13")
                .body(Body::new(shockwave_peers::BODY))
                .expect("response")
        })
        .expect("astra serve");
}
