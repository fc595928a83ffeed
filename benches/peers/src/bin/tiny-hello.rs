//! tiny_http 0.12: THREADS threads each looping on `server.recv()`.

use std::sync::Arc;

use tiny_http::{Header, Response, Server};

fn main() {
    let addr = shockwave_peers::addr();
    let threads = shockwave_peers::threads();
    let server = Arc::new(Server::http(addr).expect("bind"));
    eprintln!("tiny-hello listening on {addr} with {threads} thread(s)");
    let ctype: Header = "Content-Type: text/plain".parse().expect("header");
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let server = Arc::clone(&server);
            let ctype = ctype.clone();
            std::thread::spawn(move || loop {
                let req = match server.recv() {
                    Ok(r) => r,
                    Err(e) => {
                        eprintln!("recv: {e}");
                        continue;
                    }
                };
                let rsp = Response::from_string(shockwave_peers::BODY)
                    .with_header(ctype.clone());
                let _ = req.respond(rsp);
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
}
