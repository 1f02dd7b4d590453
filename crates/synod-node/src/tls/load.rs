//! Reading PEM certificates and keys, with errors that name the file.

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::error::LoadError;

/// Largest PEM file read: a certificate chain or key is a few KiB.
pub const PEM_FILE_BYTES_MAX: u64 = 1024 * 1024;

fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    let read_err = |source| LoadError::Read { path: path.into(), source };
    let len = std::fs::metadata(path).map_err(read_err)?.len();
    if len > PEM_FILE_BYTES_MAX {
        let source = std::io::Error::other(format!("{len} bytes, more than {PEM_FILE_BYTES_MAX}"));
        return Err(LoadError::Read { path: path.into(), source });
    }
    std::fs::read(path).map_err(read_err)
}

/// Every certificate in a PEM file, in order (at least one).
pub fn load_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, LoadError> {
    let bytes = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| LoadError::BadCertificate { path: path.into(), detail: e.to_string() })?;
    if certs.is_empty() {
        return Err(LoadError::NoCertificate { path: path.into() });
    }
    Ok(certs)
}

/// The first private key in a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn load_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, LoadError> {
    let bytes = read(path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| LoadError::BadKey { path: path.into(), detail: e.to_string() })
}
