//! Compressed responses: `cargo run --release --example compress --features compress`
//! serves a 100 KB JSON document on 127.0.0.1:8080/json (gzip, deflate, and br with feature
//! `brotli`), a streamed page on `/stream`, and decodes gzip uploads on `POST /upload`.
//! The address comes from the first argument or `ADDR`; `GZIP_LEVEL` sets gzip's level
//! (default 6) and `BR_QUALITY` brotli's (default 4), `SHOCKWAVE_WORKERS` / `SHOCKWAVE_POLLERS` the thread counts
//! (`scripts/bench-compress.sh`). `--dump FILE` writes the JSON document to FILE and exits.
//!
//! ```text
//! curl --compressed -i http://127.0.0.1:8080/json
//! gzip -c data.json | curl --data-binary @- -H 'Content-Encoding: gzip' http://127.0.0.1:8080/upload
//! ```

use shockwave::compress::Compress;
use shockwave::middleware::wrap;
use shockwave::{Request, Response};
use std::io::Write;

#[path = "support/bench.rs"]
mod bench;

/// About 100 KB of JSON: an array of user records.
fn document() -> Vec<u8> {
    let mut s = String::from("[");
    for i in 0..1160 {
        s.push_str(&format!(
            r#"{{"id":{i},"name":"user {i}","email":"user{i}@example.com","active":{},"score":{}}},"#,
            i % 3 == 0,
            i * 7919 % 1000
        ));
    }
    s.pop();
    s.push(']');
    s.into_bytes()
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if first.as_deref() == Some("--dump") {
        let path = args.next().expect("--dump FILE");
        return std::fs::write(path, document());
    }
    let addr = first.or_else(|| std::env::var("ADDR").ok()).unwrap_or_else(|| "127.0.0.1:8080".into());
    let level = bench::env_usize("GZIP_LEVEL").unwrap_or(6) as u32;
    let quality = bench::env_usize("BR_QUALITY").unwrap_or(4) as u32;
    let builder = bench::builder();
    let doc = document();
    let app = move |req: &Request, resp: &mut Response| -> Result<(), shockwave::Error> {
        match (req.method(), req.path()) {
            ("GET", "/json") => {
                resp.set_content_type("application/json");
                resp.write_body(&doc);
            }
            ("GET", "/stream") => {
                resp.set_content_type("text/plain; charset=utf-8");
                for i in 0..1000 {
                    writeln!(resp, "line {i}")?;
                }
            }
            ("POST", "/upload") => {
                let body = req.decoded_body(16 << 20)?; // 413 past 16 MiB decoded, 400 if malformed
                resp.write_body(format!("{} bytes decoded\n", body.len()));
            }
            _ => resp.set_status(404),
        }
        Ok(())
    };
    let server = builder.bind(&addr)?;
    println!("serving compressed JSON on http://{}/json (gzip level {level})", server.local_addr());
    let handle =
        server.start_handler(wrap(app, Compress::new().level(level).br_quality(quality).decode_requests(true)))?;
    handle.join();
    Ok(())
}
