//! Shared by `examples/files` and `examples/websocket`: with `SHOCKWAVE_TLS_CERT` and
//! `SHOCKWAVE_TLS_KEY` set (PEM files), the example serves HTTPS (and `wss://`) on its address
//! instead of plain HTTP. Needs the example built with `--features tls`.
#![allow(dead_code)]

use shockwave::{Builder, Server};
use std::io;

/// `addr` bound with `builder`, over TLS when the two variables name a certificate and key;
/// and the URL scheme it serves (`"http"` or `"https"`).
pub fn bind(builder: Builder, addr: &str) -> io::Result<(Server, &'static str)> {
    match (std::env::var_os("SHOCKWAVE_TLS_CERT"), std::env::var_os("SHOCKWAVE_TLS_KEY")) {
        (None, None) => Ok((builder.bind(addr)?, "http")),
        #[cfg(feature = "tls")]
        (Some(cert), Some(key)) => {
            let tls = shockwave::tls::TlsConfig::from_pem_files(cert, key)?;
            Ok((builder.bind_tls(addr, tls)?, "https"))
        }
        #[cfg(not(feature = "tls"))]
        (Some(_), Some(_)) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "SHOCKWAVE_TLS_CERT and SHOCKWAVE_TLS_KEY need the example built with --features tls",
        )),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "set both SHOCKWAVE_TLS_CERT and SHOCKWAVE_TLS_KEY, or neither",
        )),
    }
}
