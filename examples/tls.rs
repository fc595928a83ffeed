//! HTTPS: `cargo run --release --example tls --features tls -- [CERT.pem KEY.pem]` answers
//! `Hello, World!` on https://127.0.0.1:8443/ (or `ADDR`). Without a certificate it makes a
//! self-signed one for `localhost` and `127.0.0.1` at start and prints its SHA-256
//! fingerprint (and its key's, the form Chromium's `--ignore-certificate-errors-spki-list`
//! takes). `SHOCKWAVE_POLLERS` and `SHOCKWAVE_WORKERS` set the thread counts (for the
//! benchmarks); `SHOCKWAVE_HTTP_ADDR` also serves plain HTTP on a second address, from the
//! same server.
//!
//! ```text
//! cargo run --release --example tls --features tls
//! curl -k https://127.0.0.1:8443/               # -k: the certificate is self-signed
//! ```

use rcgen::PublicKeyData;
use rustls::pki_types::{pem::PemObject, CertificateDer};
use sha2::{Digest, Sha256};
use shockwave::tls::TlsConfig;

#[path = "support/bench.rs"]
mod bench;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tls = match &args[..] {
        [cert, key] => {
            let tls = TlsConfig::from_pem_files(cert, key)?;
            // (the file has loaded, so it has a certificate)
            if let Ok(der) = CertificateDer::from_pem_file(cert) {
                println!("certificate SHA-256 fingerprint: {}", colon_hex(&Sha256::digest(der)));
            }
            tls
        }
        [] => {
            let names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
            let made = rcgen::generate_simple_self_signed(names).map_err(std::io::Error::other)?;
            println!("self-signed certificate for localhost, 127.0.0.1 and ::1 (made now, kept in memory)");
            println!("certificate SHA-256 fingerprint: {}", colon_hex(&Sha256::digest(made.cert.der())));
            let spki = Sha256::digest(made.signing_key.subject_public_key_info());
            println!("public key SHA-256 (base64, for --ignore-certificate-errors-spki-list): {}", base64(&spki));
            TlsConfig::from_pem(made.cert.pem(), made.signing_key.serialize_pem())?
        }
        _ => {
            eprintln!("usage: tls [CERT.pem KEY.pem]   (serves HTTPS on ADDR, default 127.0.0.1:8443)");
            std::process::exit(2);
        }
    };
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8443".into());
    let mut server = bench::builder().bind_tls(&addr, tls)?;
    if let Ok(plain) = std::env::var("SHOCKWAVE_HTTP_ADDR") {
        server = server.bind(plain)?;
    }
    println!("serving Hello, World! on https://{}/ (pid {})", server.local_addr(), std::process::id());
    if let Some(plain) = server.local_addrs().get(1) {
        println!("and on http://{plain}/");
    }
    let handle = server.start(|_req, resp| {
        resp.set_content_type("text/plain");
        resp.write_body(b"Hello, World!");
    })?;
    handle.join();
    Ok(())
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { B64[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}
