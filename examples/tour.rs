//! The README's API tour, kept compiling: `cargo run --example tour --features json`.

use shockwave::middleware::AccessLog;
use shockwave::{Error, Router, Server};
use std::time::Duration;

#[derive(serde::Deserialize, serde::Serialize)]
struct User {
    id: u64,
    name: String,
}

fn main() -> std::io::Result<()> {
    let api = Router::new()
        .get("/users/{id}", |req, resp| -> Result<(), Error> {
            let id: u64 =
                req.param("id").unwrap_or("").parse().map_err(|_| Error::bad_request("id must be a number"))?;
            let verbose = req.query("verbose").is_some(); // percent-decoded
            resp.json(&User { id, name: format!("user {id} {verbose}") })
        })
        .post("/users", |req, resp| -> Result<(), Error> {
            let user: User = req.json()?; // 415, 413 or 400 become the response
            resp.set_status(201);
            resp.json(&user)
        })
        .get("/report", |req, resp| {
            // handlers may block (the pool grows) and can tell when their client has left
            if !req.wait_cancelled(Duration::from_secs(2)) {
                resp.write_body("done after 2 s");
            }
        });
    let app = Router::new().nest("/api", api).layer(AccessLog::combined()); // to the `log` facade
    let handle = Server::builder()
        .max_workers(512)
        .read_header_timeout(Duration::from_secs(5))
        .max_request_body(1 << 20)
        .json_errors() // the server's own 400/413/431/503 … as JSON too
        .bind("127.0.0.1:8080")? // AddrInUse if anything else holds the port
        .start_handler(app)?;
    println!("{}: {:?}", handle.local_addr(), handle.stats());
    handle.join(); // or handle.shutdown() from any thread: graceful
    Ok(())
}
