//! Shared by the benchmark examples (`routed`, `json`) and `benches/micro.rs`: the address and
//! thread-count conventions of `examples/hello`, and the 50 routes the routing benchmarks use.
#![allow(dead_code)]

/// The listen address (first argument, else `ADDR`, else 127.0.0.1:8080) and a builder with
/// `SHOCKWAVE_POLLERS` / `SHOCKWAVE_WORKERS` applied, as `examples/hello` reads them.
pub fn addr_and_builder() -> (String, shockwave::Builder) {
    let addr =
        std::env::args().nth(1).or_else(|| std::env::var("ADDR").ok()).unwrap_or_else(|| "127.0.0.1:8080".into());
    let env = |name: &str| std::env::var(name).ok()?.parse::<usize>().ok();
    let mut builder = shockwave::Server::builder();
    if let Some(n) = env("SHOCKWAVE_POLLERS") {
        builder = builder.pollers(n);
    }
    if let Some(n) = env("SHOCKWAVE_WORKERS") {
        builder = builder.workers(n);
    }
    (addr, builder)
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
