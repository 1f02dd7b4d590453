//! Certificates and TLS configurations.
//!
//! Every member of a Multi-Paxos cluster holds a key and a certificate issued
//! by the cluster's own certificate authority (CA). The certificate binds the
//! member's node id as one DNS subjectAltName, `node-<id>.synod` (the id in
//! decimal, no leading zeros: node 3 is `node-3.synod`). Peer connections use
//! mutual TLS against that CA only (no system roots): the connector checks the
//! acceptor's certificate for the name of the node it dialed, the acceptor
//! requires a client certificate chaining to the CA and checks it for the name
//! of the node id the Synod handshake claims (`transport/`).
//!
//! - `issue.rs`: CA creation and node certificate issuance (rcgen), the files
//!   `synod certs` and `synod dev` write.
//! - `load.rs`: PEM loading with errors that name the file.
//! - `material.rs`: the rustls client and server configs of a member.
//! - `http.rs`: the optional TLS acceptor of the client HTTP API.
//!
//! Revocation: none. There is no CRL or OCSP check; a leaked member key is
//! revoked only by replacing the CA (docs/DEPLOY.md, "Certificates").

mod error;
mod http;
mod issue;
mod load;
mod material;

pub use error::{IssueError, LoadError};
pub use http::http_acceptor;
pub use issue::{
    ensure_cluster_certs, CertificateAuthority, IssuedCertificate, CA_CERT_FILE, CA_KEY_FILE, VALIDITY_DAYS_DEFAULT,
};
pub use load::{load_certificates, load_private_key};
pub use material::{cert_is_for_node, node_name, TlsMaterial};

/// The rustls crypto provider every config of this crate uses: ring, so that no
/// C/C++ crypto library is built.
pub fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}
