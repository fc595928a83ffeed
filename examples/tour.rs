//! The README's "API in 20 lines", kept compiling: `cargo run --example tour`.

use shockwave::Server;
use std::time::Duration;

fn main() -> std::io::Result<()> {
    let handle = Server::builder()
        .max_workers(512) // handlers may block: the pool grows to this
        .read_header_timeout(Duration::from_secs(5))
        .max_request_body(1 << 20)
        .bind("127.0.0.1:8080")? // AddrInUse if anything else holds the port
        .start(|req, resp| {
            let body = match req.body() {
                // the whole body, or why not
                Ok(body) => body,
                Err(_) => return resp.set_status(400), // bad chunking, timeout, disconnect
            };
            resp.set_content_type("text/plain");
            resp.write_body(format!("{} {} got {} bytes", req.method(), req.path(), body.len()).as_bytes());
        })?;
    println!("{}: {:?}", handle.local_addr(), handle.stats());
    handle.join(); // or handle.shutdown(): graceful, lets requests in flight finish
    Ok(())
}
