//! Shared by the examples the benchmarks run (`hello`, `routed`, `json`, `files`, `compress`,
//! `tls`) and `benches/micro.rs`: the address and thread-count conventions of
//! `examples/hello`, and the 50 routes the routing benchmarks use.
#![allow(dead_code)]

/// The listen address (first argument, else `ADDR`, else 127.0.0.1:8080) and [`builder`].
pub fn addr_and_builder() -> (String, shockwave::Builder) {
    let addr =
        std::env::args().nth(1).or_else(|| std::env::var("ADDR").ok()).unwrap_or_else(|| "127.0.0.1:8080".into());
    (addr, builder())
}

/// A builder with `SHOCKWAVE_POLLERS` / `SHOCKWAVE_WORKERS` applied, as `examples/hello` reads
/// them (a fixed pool of that many workers).
pub fn builder() -> shockwave::Builder {
    let mut builder = shockwave::Server::builder();
    if let Some(n) = env_usize("SHOCKWAVE_POLLERS") {
        builder = builder.pollers(n);
    }
    if let Some(n) = env_usize("SHOCKWAVE_WORKERS") {
        builder = builder.workers(n);
    }
    builder
}

/// An environment variable as a count; `None` when unset or not a number.
pub fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.parse().ok()
}

/// 50 routes, a REST API's worth: `/`, resources with ids, nested resources, a catch-all.
pub fn routes() -> Vec<String> {
    let mut v = vec!["/".to_string()];
    for r in ["users", "orders", "items", "carts", "teams", "repos", "files"] {
        v.push(format!("/api/{r}"));
        v.push(format!("/api/{r}/{{id}}"));
        v.push(format!("/api/{r}/{{id}}/history"));
        v.push(format!("/api/{r}/{{id}}/owner"));
        v.push(format!("/v2/{r}/{{id}}"));
        v.push(format!("/v2/{r}/{{id}}/tags/{{tag}}"));
        v.push(format!("/admin/{r}"));
    }
    v.truncate(49);
    v.push("/static/{*path}".to_string());
    v
}
