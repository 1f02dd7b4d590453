//! The errors of loading TLS files and of issuing certificates.

use std::path::PathBuf;

/// Why a certificate, a key or a TLS configuration could not be loaded. Each
/// variant names the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} holds no PEM certificate")]
    NoCertificate { path: PathBuf },
    #[error("{path} is not a PEM certificate file: {detail}")]
    BadCertificate { path: PathBuf, detail: String },
    #[error("{path} holds no usable PEM private key: {detail}")]
    BadKey { path: PathBuf, detail: String },
    #[error("{path}: the CA certificate is not usable as a trust anchor: {detail}")]
    BadCa { path: PathBuf, detail: String },
    #[error("{path}: the certificate is not valid for {name} (the node id must be bound as a DNS subjectAltName)")]
    WrongName { path: PathBuf, name: String },
    #[error("cannot build the TLS configuration from {cert} and {key}: {detail}")]
    Config { cert: PathBuf, key: PathBuf, detail: String },
}

/// Why a CA or a node certificate could not be created or written.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path} already exists; refusing to overwrite it")]
    Exists { path: PathBuf },
    #[error("{path} is not a usable CA {what}: {source}")]
    BadCa { path: PathBuf, what: &'static str, source: rcgen::Error },
    #[error("validity of {days} days: need 1..={max}")]
    Validity { days: u32, max: u32 },
}
