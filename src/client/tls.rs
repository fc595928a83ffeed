//! TLS for `https://` URLs (feature `tls`): the trusted roots a [`Builder`](super::Builder)
//! collects, the one rustls configuration a client builds from them, and the rustls session
//! a connection drives over its blocking socket.
//!
//! # Invariants
//! - Every connection verifies the server's certificate chain against the roots and the
//!   URL's host: a name against DNS SANs, an IP literal against IP SANs. SNI is sent for
//!   names (never for IP literals, as RFC 6066 §3 says), ALPN offers only `http/1.1`.
//! - TLS 1.3 and 1.2 only, on rustls's `ring` provider named explicitly, so a process that
//!   also installs another provider as rustls's default does not change or break this one.
//! - The handshake runs under the same read, write and whole-call bounds as the exchange
//!   (see [`Conn::handshake`](super::conn::Conn::handshake)); its failures are
//!   [`Kind::Tls`](super::Kind::Tls) naming the host and rustls's reason.

use super::error::{Error, Kind};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};
use std::sync::Arc;

/// The roots a client trusts: Mozilla's bundled set (webpki-roots) unless turned off, and
/// those added with [`Builder::add_root_certificate`](super::Builder::add_root_certificate).
#[derive(Clone, Debug)]
pub(crate) struct Roots {
    pub bundled: bool,
    pub extra: RootCertStore,
}

impl Default for Roots {
    fn default() -> Roots {
        Roots { bundled: true, extra: RootCertStore::empty() }
    }
}

impl Roots {
    /// Adds the certificates in `cert`: one or more PEM `CERTIFICATE` blocks, or one DER
    /// certificate.
    pub(crate) fn add(&mut self, cert: &[u8]) -> Result<(), Error> {
        let bad = |why: String| Error::new(Kind::Tls, format!("cannot use this root certificate: {why}"));
        if cert.trim_ascii_start().starts_with(b"-----BEGIN") {
            let mut n = 0;
            for der in CertificateDer::pem_slice_iter(cert) {
                let der = der.map_err(|e| bad(format!("bad PEM: {e}")))?;
                self.extra.add(der).map_err(|e| bad(e.to_string()))?;
                n += 1;
            }
            if n == 0 {
                return Err(bad("the PEM text has no CERTIFICATE block".to_owned()));
            }
            Ok(())
        } else {
            self.extra.add(CertificateDer::from(cert.to_vec())).map_err(|e| bad(format!("not a DER certificate: {e}")))
        }
    }

    /// The client's rustls configuration.
    pub(crate) fn config(&self) -> Arc<ClientConfig> {
        let mut roots = self.extra.clone();
        if self.bundled {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .expect("ring supports TLS 1.2 and 1.3")
            .with_root_certificates(roots)
            .with_no_client_auth();
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(cfg)
    }
}

/// A new client session for `host` (a name, or an IP literal without brackets).
pub(crate) fn session(cfg: &Arc<ClientConfig>, host: &str) -> Result<ClientConnection, Error> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| Error::new(Kind::Tls, format!("{host:?} cannot be a TLS server name: {e}")))?;
    ClientConnection::new(cfg.clone(), name)
        .map_err(|e| Error::new(Kind::Tls, format!("cannot start TLS with {host}: {e}")))
}

/// The message of a failed handshake with `host`, with a hint where the reason suggests one.
pub(crate) fn handshake_error(host: &str, e: &rustls::Error) -> Error {
    let hint = match e {
        rustls::Error::InvalidMessage(_) => " (does the server speak TLS on this port, or plain HTTP?)",
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer) => {
            " (a private CA? add it with Builder::add_root_certificate)"
        }
        _ => "",
    };
    Error::new(Kind::Tls, format!("the TLS handshake with {host} failed: {e}{hint}"))
}
