//! The README's main command: `cargo run --release --example hello` serves "Hello, World!" on
//! 127.0.0.1:8080. The address comes from the first argument or `ADDR`. For the benchmarks:
//! `SHOCKWAVE_POLLERS` and `SHOCKWAVE_WORKERS` (a fixed pool) override the thread counts, and
//! `SHOCKWAVE_SLEEP_MS` makes requests to paths under `/sleep` wait that long before the
//! answer, as a handler waiting on a database would (`scripts/bench-blocking.sh`). Deployed
//! (`examples/deploy/`), it takes its socket from systemd, drains on SIGTERM and hands over on
//! SIGUSR2: see `examples/support/deploy.rs`. `SHOCKWAVE_PROXY_PROTOCOL=1`: every connection
//! must begin with a PROXY v1/v2 header.

#[path = "support/bench.rs"]
mod bench;
#[path = "support/deploy.rs"]
mod deploy;

fn main() -> std::io::Result<()> {
    let (addr, builder) = bench::addr_and_builder();
    let sleep = std::time::Duration::from_millis(bench::env_usize("SHOCKWAVE_SLEEP_MS").unwrap_or(0) as u64);
    let server = deploy::bind(deploy::configure(builder), &addr)?;
    println!("serving Hello, World! on http://{}/ (pid {})", server.local_addr(), std::process::id());
    let handle = server.start(move |req, resp| {
        if !sleep.is_zero() && req.path().starts_with("/sleep") {
            std::thread::sleep(sleep);
        }
        resp.set_content_type("text/plain");
        resp.write_body(b"Hello, World!");
    })?;
    deploy::run(handle)
}
