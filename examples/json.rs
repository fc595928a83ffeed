//! The TechEmpower "json" and "plaintext" tests through the [`Router`]: `GET /json` answers
//! `{"message":"Hello, World!"}` serialised per request with `resp.json` (their rules: no
//! cached bytes; `Server`, `Date`, `Content-Type` and `Content-Length` headers), `GET
//! /plaintext` answers "Hello, World!". Needs feature `json`:
//! `cargo run --release --example json --features json`. Same address argument and
//! `SHOCKWAVE_POLLERS` / `SHOCKWAVE_WORKERS` variables as `examples/hello`; measured by
//! `scripts/bench-json.sh`.

use shockwave::{Router, Server};

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

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
    let app = Router::new().get("/json", |_req, resp| resp.json(&Message { message: "Hello, World!" })).get(
        "/plaintext",
        |_req, resp| {
            resp.set_content_type("text/plain");
            resp.write_body("Hello, World!");
        },
    );
    let server = builder.bind(&addr)?;
    println!("serving /json and /plaintext on http://{}/", server.local_addr());
    server.start_handler(app)?.join();
    Ok(())
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.parse().ok()
}
