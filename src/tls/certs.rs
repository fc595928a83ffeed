//! Certificates a TLS listener presents: loading a PEM chain and key (with errors that say
//! what is wrong), and choosing one for a handshake by the name the client asked for.

use parking_lot::RwLock;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One certificate chain with its key, and the files it came from (to be read again).
#[derive(Clone, Debug)]
pub(crate) struct Pair {
    key: Arc<CertifiedKey>,
    files: Option<(PathBuf, PathBuf)>,
}

fn invalid(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, why)
}

impl Pair {
    /// Parses a PEM chain and key; `from` names the files in errors.
    pub(crate) fn from_pem(chain: &[u8], key: &[u8], from: Option<(&Path, &Path)>) -> io::Result<Pair> {
        let (cert_name, key_name) = match from {
            Some((c, k)) => (format!(" in {}", c.display()), format!(" in {}", k.display())),
            None => (String::new(), String::new()),
        };
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain)
            .collect::<Result<_, _>>()
            .map_err(|e| invalid(format!("bad PEM certificate{cert_name}: {e}")))?;
        if chain.is_empty() {
            return Err(invalid(format!("no CERTIFICATE block{cert_name}")));
        }
        let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| match e {
            rustls::pki_types::pem::Error::NoItemsFound => invalid(format!(
                "no private key{key_name} (expected a PEM PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block)"
            )),
            e => invalid(format!("bad PEM private key{key_name}: {e}")),
        })?;
        let provider = rustls::crypto::ring::default_provider();
        let certified = CertifiedKey::from_der(chain, key, &provider).map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => {
                invalid(format!("the private key{key_name} does not belong to the certificate{cert_name}"))
            }
            e => invalid(format!("cannot use the certificate{cert_name} with its key{key_name}: {e}")),
        })?;
        let files = from.map(|(c, k)| (c.to_path_buf(), k.to_path_buf()));
        Ok(Pair { key: Arc::new(certified), files })
    }

    pub(crate) fn from_files(chain: &Path, key: &Path) -> io::Result<Pair> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| io::Error::new(e.kind(), format!("cannot read {}: {e}", p.display())))
        };
        Pair::from_pem(&read(chain)?, &read(key)?, Some((chain, key)))
    }

    /// Whether the leaf certificate is valid for `name` (a DNS name the client sent).
    fn serves(&self, name: &ServerName<'_>) -> bool {
        let Some(leaf) = self.key.cert.first() else { return false };
        webpki::EndEntityCert::try_from(leaf).is_ok_and(|c| c.verify_is_valid_for_subject_name(name).is_ok())
    }
}

/// The certificates of a configuration, the first one the default.
#[derive(Debug)]
pub(crate) struct Certs {
    pairs: Vec<Pair>,
}

impl Certs {
    pub(crate) fn new(pairs: Vec<Pair>) -> Certs {
        Certs { pairs }
    }

    pub(crate) fn len(&self) -> usize {
        self.pairs.len()
    }

    pub(crate) fn pairs(&self) -> &[Pair] {
        &self.pairs
    }

    /// The same certificates, those from files read again.
    pub(crate) fn reloaded(&self) -> io::Result<Certs> {
        let pairs = self
            .pairs
            .iter()
            .map(|p| match &p.files {
                Some((c, k)) => Pair::from_files(c, k),
                None => Ok(p.clone()),
            })
            .collect::<io::Result<_>>()?;
        Ok(Certs { pairs })
    }

    /// The certificate for a client asking for `sni`: the first valid for it, else the first.
    fn choose(&self, sni: Option<&str>) -> Option<Arc<CertifiedKey>> {
        let first = self.pairs.first()?;
        if self.pairs.len() > 1 {
            if let Some(name) = sni.and_then(|n| ServerName::try_from(n).ok()) {
                if let Some(p) = self.pairs.iter().find(|p| p.serves(&name)) {
                    return Some(p.key.clone());
                }
            }
        }
        Some(first.key.clone())
    }
}

/// rustls's view of the certificates: whatever they are at the time of each handshake.
#[derive(Debug)]
pub(crate) struct Resolver(pub(crate) Arc<RwLock<Arc<Certs>>>);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let certs = self.0.read().clone();
        certs.choose(hello.server_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made(names: &[&str]) -> (String, String) {
        let c = rcgen::generate_simple_self_signed(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        (c.cert.pem(), c.signing_key.serialize_pem())
    }

    #[test]
    fn sni_picks_the_certificate_for_the_name_else_the_first() {
        let (a, ak) = made(&["a.example"]);
        let (b, bk) = made(&["*.b.example"]);
        let pa = Pair::from_pem(a.as_bytes(), ak.as_bytes(), None).unwrap();
        let pb = Pair::from_pem(b.as_bytes(), bk.as_bytes(), None).unwrap();
        let certs = Certs::new(vec![pa.clone(), pb.clone()]);
        let is = |got: Option<Arc<CertifiedKey>>, want: &Pair| Arc::ptr_eq(&got.unwrap(), &want.key);
        assert!(is(certs.choose(Some("a.example")), &pa));
        assert!(is(certs.choose(Some("www.b.example")), &pb));
        assert!(is(certs.choose(Some("b.example")), &pa), "a wildcard covers one label only");
        assert!(is(certs.choose(Some("other.example")), &pa));
        assert!(is(certs.choose(None), &pa));
    }

    #[test]
    fn bad_pem_is_refused_with_the_reason() {
        let (a, ak) = made(&["a.example"]);
        let (_, other_key) = made(&["a.example"]);
        let err = |c: &str, k: &str| Pair::from_pem(c.as_bytes(), k.as_bytes(), None).unwrap_err().to_string();
        assert!(err("", &ak).contains("no CERTIFICATE block"));
        assert!(err(&a, "").contains("no private key"));
        assert!(err(&a, &other_key).contains("does not belong to the certificate"), "{}", err(&a, &other_key));
        let e = Pair::from_files(Path::new("/nonexistent/cert.pem"), Path::new("/nonexistent/key.pem")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/cert.pem"), "{e}");
    }
}
