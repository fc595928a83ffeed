//! `cargo run --example get -- URL`: fetches URL with Shockwave's client and prints the
//! status line, the headers and the body, like `curl -i` (redirects are followed; the body
//! is streamed to stdout, not buffered).
//!
//! `METHOD=POST BODY='{"id":1}' cargo run --example get -- http://127.0.0.1:8080/users`
//! sends a body; `BODY=@file` sends a file. `https://` URLs need the client's TLS:
//! `cargo run --features tls --example get -- https://example.com/`, and `CA=ca.pem` trusts
//! a private CA too.

use std::io::Write;

fn main() {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: get URL   (env METHOD, BODY, BODY=@file, CA=ca.pem with --features tls)");
        std::process::exit(2);
    };
    if let Err(e) = run(&url) {
        eprintln!("get: {e}");
        std::process::exit(1);
    }
}

fn run(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let method = std::env::var("METHOD").unwrap_or_else(|_| "GET".into());
    let mut req = shockwave::client::Request::new(&method, url)?;
    match std::env::var("BODY") {
        Ok(b) if b.starts_with('@') => drop(req.set_body(std::fs::File::open(&b[1..])?)),
        Ok(b) => drop(req.set_body(b)),
        Err(_) => {}
    }
    #[allow(unused_mut)]
    let mut client = shockwave::Client::builder();
    #[cfg(feature = "tls")]
    if let Ok(ca) = std::env::var("CA") {
        client = client.add_root_certificate(&std::fs::read(ca)?)?;
    }
    let client = client.build();
    let mut resp = client.send(&req)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} {} {}", resp.version(), resp.status(), resp.reason())?;
    for (name, value) in resp.headers() {
        writeln!(out, "{name}: {}", String::from_utf8_lossy(value))?;
    }
    writeln!(out)?;
    std::io::copy(&mut resp, &mut out)?;
    out.flush()?;
    Ok(())
}
