//! The conformance target: any method and path → `200`, `Content-Type: application/json`, body
//! `{"method": …, "target": …, "version": …, "headers": [[name, value], …], "body": "…",
//! "remote": "IP:PORT"}` where header values and the body carry each byte as one latin-1
//! character, and `remote` is `Request::remote_addr`. If reading the body
//! fails → `400` (`413` past the body limit) and the connection closes. Address: first argument, else `ADDR`, else
//! 127.0.0.1:8080. Deployed, it takes its socket from systemd, drains on SIGTERM and hands over
//! on SIGUSR2, as `examples/hello` does (`examples/support/deploy.rs`).
//! `SHOCKWAVE_PROXY_PROTOCOL=1`: connections must begin with a PROXY v1/v2 header.

use shockwave::{Request, Response, Server};
use std::io::Read;

#[path = "support/deploy.rs"]
mod deploy;

fn main() -> std::io::Result<()> {
    let addr =
        std::env::args().nth(1).or_else(|| std::env::var("ADDR").ok()).unwrap_or_else(|| "127.0.0.1:8080".into());
    let server = deploy::bind(deploy::configure(Server::builder()), &addr)?;
    println!("echo server on http://{}/", server.local_addr());
    deploy::run(server.start(echo)?)
}

fn echo(req: &Request, resp: &mut Response) {
    let mut body = Vec::new();
    if let Err(e) = req.body_reader().read_to_end(&mut body) {
        resp.set_status(if e.kind() == std::io::ErrorKind::FileTooLarge { 413 } else { 400 });
        resp.close();
        resp.set_content_type("text/plain");
        resp.write_body(format!("cannot read the request body: {e}\n").as_bytes());
        return;
    }
    let mut out = String::with_capacity(256 + body.len());
    out.push_str("{\"method\": ");
    json_str(&mut out, req.method().as_bytes());
    out.push_str(", \"target\": ");
    json_str(&mut out, req.target().as_bytes());
    out.push_str(", \"version\": ");
    json_str(&mut out, req.version().as_str().as_bytes());
    out.push_str(", \"headers\": [");
    for (i, (name, value)) in req.headers().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('[');
        json_str(&mut out, name.as_bytes());
        out.push_str(", ");
        json_str(&mut out, value);
        out.push(']');
    }
    out.push_str("], \"body\": ");
    json_str(&mut out, &body);
    out.push_str(", \"remote\": ");
    json_str(&mut out, req.remote_addr().to_string().as_bytes());
    out.push_str("}\n");
    resp.set_content_type("application/json");
    resp.write_body(out.as_bytes());
}

/// A JSON string holding each byte as the latin-1 character of the same value.
fn json_str(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\u{:04x}", b)),
        }
    }
    out.push('"');
}
