//! Graceful shutdown on Ctrl-C or SIGTERM: `cargo run --example graceful --features signals`.
//! Serves on 127.0.0.1:8080 (or the address given as the first argument); a request for
//! `/sleep/MS` waits MS milliseconds before its answer. Stop the server while one waits: the
//! request is still answered, then the process exits with status 0. A second Ctrl-C exits at
//! once.

use std::time::Duration;

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".into());
    let server = shockwave::Server::builder().bind(&addr)?;
    let addr = server.local_addr();
    let handle = server.start(|req, resp| {
        if let Some(ms) = req.path().strip_prefix("/sleep/").and_then(|ms| ms.parse().ok()) {
            println!("{} {}: sleeping {ms} ms", req.method(), req.path());
            std::thread::sleep(Duration::from_millis(ms));
        }
        resp.set_content_type("text/plain");
        resp.write_body(format!("done: {}\n", req.path()).as_bytes());
    })?;
    handle.shutdown_on_signals()?;
    println!("listening on http://{addr}/");
    handle.join();
    println!("stopped");
    Ok(())
}
