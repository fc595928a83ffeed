//! Serving HTTPS (feature `tls`): [`TlsConfig`], the certificates a TLS listener presents, and
//! the rustls server configuration built around them.
//!
//! A server gets TLS listeners with [`Builder::bind_tls`](crate::Builder::bind_tls) and
//! [`Server::bind_tls`](crate::Server::bind_tls) (beside plain ones in the same server). The
//! handshake and every record after it run on the connection's own non-blocking socket, by the
//! poller and the workers exactly as plain HTTP does (`session.rs`): a slow or stalled
//! handshake holds no thread and is bounded by the header timeout; an idle TLS connection holds
//! no thread either.
//!
//! # What a `TlsConfig` sets up
//! - TLS 1.3 and 1.2, on rustls's `ring` provider named explicitly (a process that installs
//!   another default provider changes nothing here).
//! - ALPN offers `http/1.1` only: a client that offers ALPN without it (`h2` alone) is refused
//!   with the `no_application_protocol` alert; one that offers no ALPN is served.
//! - Session resumption: stateless tickets (TLS 1.3 and 1.2, keys rotated every 6 hours by
//!   rustls's ticketer) and a cache of 4096 TLS 1.2 session IDs, shared by every connection of
//!   the configuration.
//! - Several certificates: the one for the name the client asks for (SNI), matched against
//!   each certificate's DNS names (`*.example.com` wildcards included); the first one added
//!   when none matches or the client sends no name (IP addresses, old clients).
//! - Reloading: [`reload`](TlsConfig::reload) reads the files again and
//!   [`replace_certificates`](TlsConfig::replace_certificates) installs other certificates;
//!   new handshakes use them at once, connections already up keep theirs, tickets and the
//!   session cache stay valid.

mod certs;
pub(crate) mod session;

use certs::{Certs, Pair};
use parking_lot::RwLock;
use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

/// Certificates and keys for TLS listeners, cheap to clone: clones share the certificates, so
/// one kept by the application reloads those the server uses.
///
/// ```no_run
/// use shockwave::tls::TlsConfig;
///
/// let tls = TlsConfig::from_pem_files("/etc/ssl/example.com.pem", "/etc/ssl/example.com.key")?
///     .add_pem_files("/etc/ssl/example.org.pem", "/etc/ssl/example.org.key")?; // SNI
/// let handle = shockwave::Server::builder()
///     .bind("0.0.0.0:80")?
///     .bind_tls("0.0.0.0:443", tls.clone())?
///     .start(|req, resp| resp.write_body(if req.is_tls() { "secure" } else { "plain" }))?;
/// // later, after the certificates were renewed on disk:
/// tls.reload()?;
/// # handle.shutdown();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    certs: Arc<RwLock<Arc<Certs>>>,
    server: Arc<rustls::ServerConfig>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let certs = self.certs.read().clone();
        f.debug_struct("TlsConfig").field("certificates", &certs.len()).finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// A configuration presenting the certificate chain in `cert_chain` (PEM: the leaf
    /// certificate first, then the intermediates) with the private key in `key` (PEM: PKCS#8,
    /// PKCS#1 RSA or SEC1 EC).
    ///
    /// Fails with `InvalidInput` naming what is wrong: no certificate, no key, a key rustls
    /// cannot use, a key that does not belong to the certificate.
    ///
    /// ```
    /// use shockwave::tls::TlsConfig;
    /// let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// let tls = TlsConfig::from_pem(made.cert.pem(), made.signing_key.serialize_pem())?;
    ///
    /// let wrong = TlsConfig::from_pem(made.cert.pem(), "not a key").unwrap_err();
    /// assert!(wrong.to_string().contains("no private key"), "{wrong}");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_pem(cert_chain: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> io::Result<TlsConfig> {
        let pair = Pair::from_pem(cert_chain.as_ref(), key.as_ref(), None)?;
        TlsConfig::with(Certs::new(vec![pair]))
    }

    /// [`from_pem`](Self::from_pem) with the PEM text read from two files (they may be the
    /// same file, holding both). [`reload`](Self::reload) reads them again. Errors name the
    /// file.
    ///
    /// ```no_run
    /// let tls = shockwave::tls::TlsConfig::from_pem_files("cert.pem", "key.pem")?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_pem_files(cert_chain: impl AsRef<Path>, key: impl AsRef<Path>) -> io::Result<TlsConfig> {
        let pair = Pair::from_files(cert_chain.as_ref(), key.as_ref())?;
        TlsConfig::with(Certs::new(vec![pair]))
    }

    /// Adds another certificate chain and key (PEM), presented to clients that ask for one of
    /// its DNS names (SNI). The first certificate stays the default. This makes a new
    /// configuration: clones of the old one (and servers using it) keep their certificates.
    ///
    /// ```
    /// use shockwave::tls::TlsConfig;
    /// let a = rcgen::generate_simple_self_signed(vec!["a.example".to_string()]).unwrap();
    /// let b = rcgen::generate_simple_self_signed(vec!["b.example".to_string()]).unwrap();
    /// let base = TlsConfig::from_pem(a.cert.pem(), a.signing_key.serialize_pem())?;
    /// let both = base.clone().add_pem(b.cert.pem(), b.signing_key.serialize_pem())?;
    /// assert_eq!(format!("{both:?}"), "TlsConfig { certificates: 2, .. }");
    /// assert_eq!(format!("{base:?}"), "TlsConfig { certificates: 1, .. }");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn add_pem(self, cert_chain: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> io::Result<TlsConfig> {
        let pair = Pair::from_pem(cert_chain.as_ref(), key.as_ref(), None)?;
        self.push(pair)
    }

    /// [`add_pem`](Self::add_pem) from two files, which [`reload`](Self::reload) reads again.
    ///
    /// ```no_run
    /// let tls = shockwave::tls::TlsConfig::from_pem_files("a.pem", "a.key")?.add_pem_files("b.pem", "b.key")?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn add_pem_files(self, cert_chain: impl AsRef<Path>, key: impl AsRef<Path>) -> io::Result<TlsConfig> {
        let pair = Pair::from_files(cert_chain.as_ref(), key.as_ref())?;
        self.push(pair)
    }

    /// Reads every certificate and key that came from files again (those given as text stay)
    /// and presents them from the next handshake on. Nothing changes if any of them fails to
    /// load: the error names the file, and the certificates in use stay.
    ///
    /// ```no_run
    /// let tls = shockwave::tls::TlsConfig::from_pem_files("cert.pem", "key.pem")?;
    /// // … the certificate is renewed on disk …
    /// tls.reload()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reload(&self) -> io::Result<()> {
        // (one writer at a time, handshakes still reading the old set meanwhile)
        let now = self.certs.upgradable_read();
        let fresh = now.reloaded()?;
        *parking_lot::RwLockUpgradableReadGuard::upgrade(now) = Arc::new(fresh);
        Ok(())
    }

    /// Presents `other`'s certificates from the next handshake on, instead of this
    /// configuration's (its other settings, tickets and session cache stay this one's).
    ///
    /// ```
    /// use shockwave::tls::TlsConfig;
    /// let old = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// let new = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// let tls = TlsConfig::from_pem(old.cert.pem(), old.signing_key.serialize_pem())?;
    /// tls.replace_certificates(&TlsConfig::from_pem(new.cert.pem(), new.signing_key.serialize_pem())?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn replace_certificates(&self, other: &TlsConfig) {
        let theirs = other.certs.read().clone();
        *self.certs.write() = theirs;
    }

    fn push(self, pair: Pair) -> io::Result<TlsConfig> {
        let mut list = self.certs.read().pairs().to_vec();
        list.push(pair);
        TlsConfig::with(Certs::new(list))
    }

    fn with(certs: Certs) -> io::Result<TlsConfig> {
        let certs = Arc::new(RwLock::new(Arc::new(certs)));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut server = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| io::Error::other(format!("cannot set up TLS: {e}")))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(certs::Resolver(certs.clone())));
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        server.ticketer = rustls::crypto::ring::Ticketer::new()
            .map_err(|e| io::Error::other(format!("cannot set up TLS session tickets: {e}")))?;
        server.session_storage = rustls::server::ServerSessionMemoryCache::new(4096);
        Ok(TlsConfig { certs, server: Arc::new(server) })
    }

    /// A session for a new connection.
    pub(crate) fn session(&self) -> io::Result<rustls::ServerConnection> {
        rustls::ServerConnection::new(self.server.clone())
            .map_err(|e| io::Error::other(format!("cannot start a TLS session: {e}")))
    }
}
