//! hyper 1.x + tokio-rustls (rustls 0.23, `ring` provider), HTTP/1 only, keep-alive on,
//! pipeline_flush(true): the TLS peer of scripts/bench-tls.sh.
//!
//! usage: hyper-tls-hello [ADDR] CERT.pem KEY.pem
//! THREADS=1 -> current_thread runtime; otherwise multi-thread with THREADS workers.
//! TLS 1.2 and 1.3, ALPN `http/1.1`, rustls' defaults otherwise: session tickets
//! (TLS 1.3: 4 tickets per handshake, stateless ticketer) and a 256-entry session-id cache.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut rsp = Response::new(Full::new(Bytes::from_static(shockwave_peers::BODY.as_bytes())));
    rsp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(rsp)
}

fn tls_config(cert: &str, key: &str) -> rustls::ServerConfig {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .unwrap_or_else(|e| panic!("{cert}: {e}"))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{cert}: {e}"));
    let key = PrivateKeyDer::from_pem_file(key).unwrap_or_else(|e| panic!("{key}: {e}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("certificate and key");
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    // rustls' default ticketer is off (NeverProducesTickets) unless one is set.
    cfg.ticketer = rustls::crypto::ring::Ticketer::new().expect("ticketer");
    cfg
}

async fn serve(addr: std::net::SocketAddr, acceptor: TlsAcceptor) {
    let listener = TcpListener::bind(addr).await.expect("bind");
    eprintln!("hyper-tls-hello listening on https://{addr}/");
    let mut builder = http1::Builder::new();
    builder.keep_alive(true).pipeline_flush(true).timer(TokioTimer::new());
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("accept: {e}");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let builder = builder.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(stream).await else { return };
            let _ = builder.serve_connection(TokioIo::new(tls), service_fn(hello)).await;
        });
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // ADDR first when three arguments are given (start_server passes it), else from env.
    let addr: std::net::SocketAddr = if args.len() == 3 {
        args.remove(0)
    } else {
        std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into())
    }
    .parse()
    .expect("bad listen address");
    let [cert, key] = &args[..] else {
        eprintln!("usage: hyper-tls-hello [ADDR] CERT.pem KEY.pem");
        std::process::exit(2)
    };
    let acceptor = TlsAcceptor::from(Arc::new(tls_config(cert, key)));
    let threads = shockwave_peers::threads();
    let rt = if threads == 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()
    }
    .expect("tokio runtime");
    rt.block_on(serve(addr, acceptor));
}
