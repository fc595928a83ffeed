//! may_minihttp with may's worker count set to THREADS.
//! may pins its workers to cores by default; that is switched off so the
//! benchmark's `taskset` placement is what decides where threads run.

use std::io;

use may_minihttp::{HttpServer, HttpService, Request, Response};

#[derive(Clone)]
struct Hello;

impl HttpService for Hello {
    fn call(&mut self, _req: Request, rsp: &mut Response) -> io::Result<()> {
        rsp.header("Content-Type: text/plain")
            .body(shockwave_peers::BODY);
        Ok(())
    }
}

fn main() {
    let addr = shockwave_peers::addr();
    let threads = shockwave_peers::threads();
    may::config().set_workers(threads);
    may::config().set_worker_pin(false);
    eprintln!("may-hello listening on {addr} with {threads} worker(s)");
    let server = HttpServer(Hello).start(addr).expect("start may_minihttp");
    server.wait();
}
