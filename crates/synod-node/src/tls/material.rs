//! A member's TLS material: the rustls server config (answering peers, client
//! certificates required) and client config (dialing peers), both trusting only
//! the cluster's CA.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use super::error::LoadError;
use super::load::{load_certificates, load_private_key};
use super::provider;
use crate::config::TlsConfig;

/// The DNS subjectAltName that binds node `id` in its certificate.
pub fn node_name(id: u8) -> String {
    format!("node-{id}.synod")
}

/// True if `cert` (already verified against the CA) is valid for node `id`:
/// it carries the DNS subjectAltName `node-<id>.synod`. The check is
/// rustls-webpki's own end-entity name check, not a parse of ours.
pub fn cert_is_for_node(cert: &CertificateDer<'_>, id: u8) -> bool {
    let Ok(name) = ServerName::try_from(node_name(id)) else { return false };
    match webpki::EndEntityCert::try_from(cert) {
        Ok(end_entity) => end_entity.verify_is_valid_for_subject_name(&name).is_ok(),
        Err(_) => false,
    }
}

/// A member's rustls configs. Cheap to clone.
#[derive(Clone)]
pub struct TlsMaterial {
    pub server: Arc<ServerConfig>,
    pub client: Arc<ClientConfig>,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsMaterial { .. }")
    }
}

impl TlsMaterial {
    /// Loads the CA, the node's certificate and key, checks that the
    /// certificate is for `node_id` (so a misplaced file fails at start, not at
    /// every peer's handshake), and builds both configs.
    pub fn load(files: &TlsConfig, node_id: u8) -> Result<Self, LoadError> {
        let ca = load_certificates(&files.ca_cert)?;
        let mut roots = RootCertStore::empty();
        for cert in ca {
            roots.add(cert).map_err(|e| LoadError::BadCa { path: files.ca_cert.clone(), detail: e.to_string() })?;
        }
        let roots = Arc::new(roots);
        let chain = load_certificates(&files.cert)?;
        if !cert_is_for_node(&chain[0], node_id) {
            return Err(LoadError::WrongName { path: files.cert.clone(), name: node_name(node_id) });
        }
        let key = load_private_key(&files.key)?;
        let config_err =
            |detail: String| LoadError::Config { cert: files.cert.clone(), key: files.key.clone(), detail };

        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::clone(&roots), provider())
            .build()
            .map_err(|e| LoadError::BadCa { path: files.ca_cert.clone(), detail: e.to_string() })?;
        let server = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| config_err(e.to_string()))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain.clone(), key.clone_key())
            .map_err(|e| config_err(e.to_string()))?;
        let client = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| config_err(e.to_string()))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| config_err(e.to_string()))?;
        Ok(TlsMaterial { server: Arc::new(server), client: Arc::new(client) })
    }
}
