//! The TechEmpower "json" and "plaintext" tests through the [`Router`]: `GET /json` answers
//! `{"message":"Hello, World!"}` serialised per request with `resp.json` (their rules: no
//! cached bytes; `Server`, `Date`, `Content-Type` and `Content-Length` headers), `GET
//! /plaintext` answers "Hello, World!". Needs feature `json`:
//! `cargo run --release --example json --features json`. Same address argument and
//! `SHOCKWAVE_POLLERS` / `SHOCKWAVE_WORKERS` variables as `examples/hello`; measured by
//! `scripts/bench-json.sh`.

#[path = "support/bench.rs"]
mod bench;

use shockwave::Router;

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

fn main() -> std::io::Result<()> {
    let (addr, builder) = bench::addr_and_builder();
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
