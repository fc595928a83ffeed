//! The README's main command: `cargo run --release --example hello` serves "Hello, World!" on
//! 127.0.0.1:8080. The address comes from the first argument or `ADDR`; `SHOCKWAVE_POLLERS` and
//! `SHOCKWAVE_WORKERS` override the thread counts (used by the benchmarks).

use shockwave::Server;

fn main() -> std::io::Result<()> {
    let addr =
        std::env::args().nth(1).or_else(|| std::env::var("ADDR").ok()).unwrap_or_else(|| "127.0.0.1:8080".into());
    let mut builder = Server::builder();
    if let Some(n) = env_usize("SHOCKWAVE_POLLERS") {
        builder = builder.pollers(n);
    }
    if let Some(n) = env_usize("SHOCKWAVE_WORKERS") {
        builder = builder.workers(n);
    }
    let server = builder.bind(&addr)?;
    println!("serving Hello, World! on http://{}/", server.local_addr());
    server
        .start(|_req, resp| {
            resp.set_content_type("text/plain");
            resp.write_body(b"Hello, World!");
        })?
        .join();
    Ok(())
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.parse().ok()
}
