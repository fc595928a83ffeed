//! Serves a directory: `cargo run --release --example files --features fs -- DIR` answers
//! `http://127.0.0.1:8080/` (or `ADDR`) with DIR's files, like nginx with `root DIR` and
//! `sendfile on`: index.html for directories, `.br`/`.gz` siblings when the client accepts
//! them, ranges and conditional requests. For the benchmarks (`scripts/bench-files.sh`):
//! `SHOCKWAVE_POLLERS` and `SHOCKWAVE_WORKERS` set the thread counts. With
//! `SHOCKWAVE_TLS_CERT` and `SHOCKWAVE_TLS_KEY` (PEM files; built with `--features fs,tls`)
//! it serves HTTPS (the file bodies then go through TLS instead of sendfile).
//! `SHOCKWAVE_ACCESS_LOG=1` prints an access log line (Common Log Format) per request on
//! stdout, as `scripts/browser-test.sh` reads it.
//!
//! ```text
//! cargo run --release --example files --features fs -- ./public
//! curl -i localhost:8080/                       # public/index.html
//! curl -r 0-99 localhost:8080/video.mp4         # 206 Partial Content
//! ```

use shockwave::fs::Dir;
use shockwave::middleware::{wrap, AccessLog};
#[path = "support/bench.rs"]
mod bench;
#[path = "support/https.rs"]
mod https;

fn main() -> std::io::Result<()> {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: files DIR   (serves DIR on ADDR, default 127.0.0.1:8080)");
        std::process::exit(2);
    };
    if !std::path::Path::new(&dir).is_dir() {
        eprintln!("files: {dir} is not a directory");
        std::process::exit(2);
    }
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let (server, scheme) = https::bind(bench::builder(), &addr)?;
    println!("serving {dir} on {scheme}://{}/", server.local_addr());
    let files = Dir::new(&dir).precompressed(true).cache_control("public, max-age=60");
    let handle = if std::env::var("SHOCKWAVE_ACCESS_LOG").is_ok_and(|v| v == "1") {
        // stdout is line-buffered: each line is out as soon as Dir has answered
        server.start_handler(wrap(files, AccessLog::common().to(|line| println!("{line}"))))?
    } else {
        server.start_handler(files)?
    };
    handle.join();
    Ok(())
}
