//! `examples/hello` through a [`Router`] of 50 routes (a REST API's worth: static paths and
//! `{param}` segments, several methods): `GET /` answers "Hello, World!" exactly as hello
//! does, so `scripts/bench-ab.sh target/release/examples/hello target/release/examples/routed`
//! measures what routing costs per request (other paths answer hello through the fallback). Same address argument and `SHOCKWAVE_POLLERS` /
//! `SHOCKWAVE_WORKERS` variables as hello.

use shockwave::{Router, Server};

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
    let mut app = Router::new().get("/", |_req, resp| {
        resp.set_content_type("text/plain");
        resp.write_body(b"Hello, World!");
    });
    for path in routes() {
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

/// 49 more routes: resources with ids, nested resources, a catch-all (the first is `/`).
fn routes() -> Vec<String> {
    let mut v = Vec::new();
    for r in ["users", "orders", "items", "carts", "teams", "repos", "files"] {
        v.push(format!("/api/{r}"));
        v.push(format!("/api/{r}/{{id}}"));
        v.push(format!("/api/{r}/{{id}}/history"));
        v.push(format!("/api/{r}/{{id}}/owner"));
        v.push(format!("/v2/{r}/{{id}}"));
        v.push(format!("/v2/{r}/{{id}}/tags/{{tag}}"));
        v.push(format!("/admin/{r}"));
    }
    v.truncate(48);
    v.push("/static/{*path}".to_string());
    v
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.parse().ok()
}
