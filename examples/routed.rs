//! `examples/hello` through a [`Router`] of 50 routes (a REST API's worth: static paths and
//! `{param}` segments, several methods): `GET /` answers "Hello, World!" exactly as hello
//! does, so `scripts/bench-ab.sh target/release/examples/hello target/release/examples/routed`
//! measures what routing costs per request (other paths answer hello through the fallback). Same address argument and `SHOCKWAVE_POLLERS` /
//! `SHOCKWAVE_WORKERS` variables as hello.

#[path = "support/bench.rs"]
mod bench;

use shockwave::Router;

fn main() -> std::io::Result<()> {
    let (addr, builder) = bench::addr_and_builder();
    let mut app = Router::new().get("/", |_req, resp| {
        resp.set_content_type("text/plain");
        resp.write_body(b"Hello, World!");
    });
    for path in bench::routes().into_iter().skip(1) {
        app = app.get(&path, |req, resp| resp.write_body(req.path()));
    }
    // other paths answer hello too, as every benchmark peer does (the benchmark asks for `/`)
    app = app.fallback(|_req, resp| {
        resp.set_content_type("text/plain");
        resp.write_body(b"Hello, World!");
    });
    let server = builder.bind(&addr)?;
    println!("serving Hello, World! through a 50-route router on http://{}/", server.local_addr());
    server.start_handler(app)?.join();
    Ok(())
}
