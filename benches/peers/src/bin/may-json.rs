//! TechEmpower "json" test on may_minihttp, as TechEmpower's may-minihttp entry does it:
//! `GET /json` serialises a fresh `{"message":"Hello, World!"}` per request straight into
//! the response body buffer (serde_json here, where the entry uses yarte's serialiser), with
//! `Content-Type: application/json`; may_minihttp adds Server, Date and Content-Length.
//! Any other path: 404. Workers and pinning as in may-hello.

use std::io;

use bytes::BufMut;
use may_minihttp::{HttpServer, HttpService, Request, Response};
use serde::Serialize;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

#[derive(Clone)]
struct Json;

impl HttpService for Json {
    fn call(&mut self, req: Request, rsp: &mut Response) -> io::Result<()> {
        match req.path() {
            "/json" => {
                rsp.header("Content-Type: application/json");
                let msg = Message { message: "Hello, World!" };
                serde_json::to_writer(rsp.body_mut().writer(), &msg)?;
            }
            _ => {
                rsp.status_code(404, "Not Found");
            }
        }
        Ok(())
    }
}

fn main() {
    let addr = shockwave_peers::addr();
    let threads = shockwave_peers::threads();
    may::config().set_workers(threads);
    may::config().set_worker_pin(false);
    eprintln!("may-json listening on {addr} with {threads} worker(s)");
    let server = HttpServer(Json).start(addr).expect("start may_minihttp");
    server.wait();
}
