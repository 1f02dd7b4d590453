//! The optional TLS of the client HTTP API (`[http_tls]`).
//!
//! Wiring (startup.rs is outside this module): when `NodeConfig::http_tls` is
//! set, accept each TCP connection, run `acceptor.accept(stream)` under the
//! connection's header timeout, and hand the resulting `TlsStream` to hyper
//! instead of the `TcpStream`.

use std::sync::Arc;

use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

use super::error::LoadError;
use super::load::{load_certificates, load_private_key};
use super::provider;
use crate::config::HttpTlsConfig;

/// Builds the HTTP API's TLS acceptor: the server certificate and key, and,
/// with `client_ca`, client certificates required and verified against it.
/// ALPN offers `h2` and `http/1.1`.
pub fn http_acceptor(files: &HttpTlsConfig) -> Result<TlsAcceptor, LoadError> {
    let chain = load_certificates(&files.cert)?;
    let key = load_private_key(&files.key)?;
    let config_err = |detail: String| LoadError::Config { cert: files.cert.clone(), key: files.key.clone(), detail };
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| config_err(e.to_string()))?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca_path) => {
            let mut roots = RootCertStore::empty();
            for cert in load_certificates(ca_path)? {
                roots.add(cert).map_err(|e| LoadError::BadCa { path: ca_path.clone(), detail: e.to_string() })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(|e| LoadError::BadCa { path: ca_path.clone(), detail: e.to_string() })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| config_err(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
