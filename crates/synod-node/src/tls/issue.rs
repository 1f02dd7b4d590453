//! Creating a cluster CA and issuing member certificates (rcgen, ECDSA P-256
//! keys), and the files they live in.
//!
//! Files: a CA directory holds `ca.pem` (the CA certificate, public: every
//! member needs it) and `ca.key` (the CA's key: keep it off the members).
//! A node directory holds `node-<id>.pem` and `node-<id>.key`. Keys are
//! written with mode 0600 and never overwritten.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use time::{Duration, OffsetDateTime};

use super::error::IssueError;
use super::material::node_name;
use crate::config::TlsConfig;

pub const CA_CERT_FILE: &str = "ca.pem";
pub const CA_KEY_FILE: &str = "ca.key";
/// Default validity of a member certificate: a year, so that rotation is a
/// routine (docs/DEPLOY.md).
pub const VALIDITY_DAYS_DEFAULT: u32 = 365;
/// Default validity of a CA: ten years.
pub const CA_VALIDITY_DAYS_DEFAULT: u32 = 3_650;
/// Longest validity accepted, CA or member.
pub const VALIDITY_DAYS_MAX: u32 = 36_500;
/// Certificates start being valid this long before they are issued, so that a
/// member whose clock is a little behind the issuer's still accepts them.
const BACKDATE: Duration = Duration::hours(1);

/// A certificate and its key, PEM-encoded.
#[derive(Clone, Debug)]
pub struct IssuedCertificate {
    pub cert_pem: String,
    pub key_pem: String,
}

/// A cluster CA that can issue member certificates.
pub struct CertificateAuthority {
    /// The CA certificate as rcgen needs it to sign (subject and key id).
    signer: rcgen::Certificate,
    key: KeyPair,
    /// The CA certificate as it is distributed.
    cert_pem: String,
}

fn validity(days: u32) -> Result<(OffsetDateTime, OffsetDateTime), IssueError> {
    if days == 0 || days > VALIDITY_DAYS_MAX {
        return Err(IssueError::Validity { days, max: VALIDITY_DAYS_MAX });
    }
    let now = OffsetDateTime::now_utc();
    Ok((now - BACKDATE, now + Duration::days(i64::from(days))))
}

fn random_serial() -> SerialNumber {
    // Positive and 16 bytes: unique enough that two issuances never collide.
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] &= 0x7f;
    SerialNumber::from(bytes.to_vec())
}

impl CertificateAuthority {
    /// A new CA, valid for `validity_days`.
    pub fn generate(validity_days: u32) -> Result<Self, IssueError> {
        let (not_before, not_after) = validity(validity_days)?;
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "Synod cluster CA");
        params.distinguished_name = name;
        // A CA that signs member certificates only, never another CA.
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = not_before;
        params.not_after = not_after;
        params.serial_number = Some(random_serial());
        let signer = params.self_signed(&key)?;
        let cert_pem = signer.pem();
        Ok(CertificateAuthority { signer, key, cert_pem })
    }

    /// The CA in directory `dir` (`ca.pem`, `ca.key`).
    pub fn load(dir: &Path) -> Result<Self, IssueError> {
        let (cert_path, key_path) = (dir.join(CA_CERT_FILE), dir.join(CA_KEY_FILE));
        let cert_pem = read(&cert_path)?;
        let key_pem = read(&key_path)?;
        let key = KeyPair::from_pem(&key_pem).map_err(|source| IssueError::BadCa {
            path: key_path.clone(),
            what: "key",
            source,
        })?;
        let params = CertificateParams::from_ca_cert_pem(&cert_pem).map_err(|source| IssueError::BadCa {
            path: cert_path.clone(),
            what: "certificate",
            source,
        })?;
        // Re-signed in memory only to give rcgen the issuer's name and key id;
        // members trust `ca.pem` as written, which is what `cert_pem` keeps.
        let signer =
            params.self_signed(&key).map_err(|source| IssueError::BadCa { path: key_path, what: "key", source })?;
        Ok(CertificateAuthority { signer, key, cert_pem })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Writes `ca.pem` and `ca.key` (mode 0600) into `dir`, creating it;
    /// refuses to overwrite either.
    pub fn write(&self, dir: &Path) -> Result<(), IssueError> {
        create_dir(dir)?;
        write_new(&dir.join(CA_CERT_FILE), self.cert_pem.as_bytes(), 0o644)?;
        write_new(&dir.join(CA_KEY_FILE), self.key.serialize_pem().as_bytes(), 0o600)
    }

    /// A certificate for node `id`: DNS subjectAltName `node-<id>.synod`, usable
    /// as a TLS server and client certificate, valid for `validity_days`.
    pub fn issue_node(&self, id: u8, validity_days: u32) -> Result<IssuedCertificate, IssueError> {
        let usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        self.issue_leaf(vec![node_name(id)], node_name(id), usages, validity_days)
    }

    /// A leaf certificate signed by this CA for `names` (subjectAltNames;
    /// an IP address becomes an IP SAN), with common name `common_name`,
    /// the extended key usages `usages`, a fresh key and a random serial.
    fn issue_leaf(
        &self,
        names: Vec<String>,
        common_name: String,
        usages: Vec<ExtendedKeyUsagePurpose>,
        validity_days: u32,
    ) -> Result<IssuedCertificate, IssueError> {
        let (not_before, not_after) = validity(validity_days)?;
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(names)?;
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, common_name);
        params.distinguished_name = name;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = usages;
        params.use_authority_key_identifier_extension = true;
        params.not_before = not_before;
        params.not_after = not_after;
        params.serial_number = Some(random_serial());
        let cert = params.signed_by(&key, &self.signer, &self.key)?;
        Ok(IssuedCertificate { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }
}

impl CertificateAuthority {
    /// A server certificate for the client HTTP API (`[http_tls]`): the
    /// subjectAltNames are the host names or IP addresses clients dial
    /// (an entry that parses as an IP address becomes an IP SAN).
    pub fn issue_server(&self, names: &[String], validity_days: u32) -> Result<IssuedCertificate, IssueError> {
        let common_name = names.first().cloned().unwrap_or_default();
        self.issue_leaf(names.to_vec(), common_name, vec![ExtendedKeyUsagePurpose::ServerAuth], validity_days)
    }
}

impl IssuedCertificate {
    /// The files of node `id` in `dir`: `node-<id>.pem`, `node-<id>.key`.
    pub fn paths(dir: &Path, id: u8) -> (PathBuf, PathBuf) {
        (dir.join(format!("node-{id}.pem")), dir.join(format!("node-{id}.key")))
    }

    /// Writes the certificate and its key (mode 0600) as node `id`'s files in
    /// `dir`, creating it; refuses to overwrite either.
    pub fn write(&self, dir: &Path, id: u8) -> Result<(PathBuf, PathBuf), IssueError> {
        let (cert, key) = Self::paths(dir, id);
        self.write_pair(&cert, &key)?;
        Ok((cert, key))
    }

    /// Writes the certificate to `cert` and its key to `key` (mode 0600),
    /// creating their directories; refuses to overwrite either.
    pub fn write_pair(&self, cert: &Path, key: &Path) -> Result<(), IssueError> {
        for dir in [cert.parent(), key.parent()].into_iter().flatten() {
            create_dir(dir)?;
        }
        write_new(cert, self.cert_pem.as_bytes(), 0o644)?;
        write_new(key, self.key_pem.as_bytes(), 0o600)?;
        Ok(())
    }
}

/// A throwaway CA and one certificate per node in `dir`, for `synod dev` and
/// tests: what is already there (from an earlier run) is reused, what is
/// missing is created. Returns each node's `[tls]` settings.
pub fn ensure_cluster_certs(dir: &Path, ids: &[u8]) -> Result<BTreeMap<u8, TlsConfig>, IssueError> {
    let ca = if dir.join(CA_CERT_FILE).exists() {
        CertificateAuthority::load(dir)?
    } else {
        let ca = CertificateAuthority::generate(CA_VALIDITY_DAYS_DEFAULT)?;
        ca.write(dir)?;
        ca
    };
    let mut configs = BTreeMap::new();
    for &id in ids {
        let (cert, key) = IssuedCertificate::paths(dir, id);
        if !(cert.exists() && key.exists()) {
            let _ = std::fs::remove_file(&cert);
            let _ = std::fs::remove_file(&key);
            ca.issue_node(id, VALIDITY_DAYS_DEFAULT)?.write(dir, id)?;
        }
        configs.insert(id, TlsConfig { ca_cert: dir.join(CA_CERT_FILE), cert, key });
    }
    Ok(configs)
}

fn read(path: &Path) -> Result<String, IssueError> {
    std::fs::read_to_string(path).map_err(|source| IssueError::Read { path: path.into(), source })
}

fn create_dir(dir: &Path) -> Result<(), IssueError> {
    std::fs::create_dir_all(dir).map_err(|source| IssueError::Write { path: dir.into(), source })
}

/// Creates `path` with `mode` (on Unix) and writes `bytes`; an existing file is an error.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), IssueError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => IssueError::Exists { path: path.into() },
        _ => IssueError::Write { path: path.into(), source },
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|source| IssueError::Write { path: path.into(), source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::{cert_is_for_node, load_certificates, TlsMaterial};

    #[test]
    fn issued_certificates_bind_the_node_id_and_load_as_material() {
        let dir = tempfile::tempdir().unwrap();
        let configs = ensure_cluster_certs(dir.path(), &[1, 2]).unwrap();
        let cert = &load_certificates(&configs[&2].cert).unwrap()[0];
        assert!(cert_is_for_node(cert, 2));
        assert!(!cert_is_for_node(cert, 1));
        assert!(!cert_is_for_node(cert, 12), "node-12.synod is not node-2.synod");
        TlsMaterial::load(&configs[&1], 1).unwrap();
        let wrong = TlsMaterial::load(&configs[&1], 2).unwrap_err();
        assert!(wrong.to_string().contains("node-2.synod"), "{wrong}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&configs[&1].key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let mode = std::fs::metadata(dir.path().join(CA_KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_second_run_reuses_the_ca_and_issues_only_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        ensure_cluster_certs(dir.path(), &[1]).unwrap();
        let ca_before = std::fs::read(dir.path().join(CA_CERT_FILE)).unwrap();
        let node_before = std::fs::read(dir.path().join("node-1.pem")).unwrap();
        let configs = ensure_cluster_certs(dir.path(), &[1, 2]).unwrap();
        assert_eq!(std::fs::read(dir.path().join(CA_CERT_FILE)).unwrap(), ca_before);
        assert_eq!(std::fs::read(dir.path().join("node-1.pem")).unwrap(), node_before);
        // Node 2 comes from the reloaded CA (that peers accept it is tested in tests/transport.rs).
        TlsMaterial::load(&configs[&2], 2).unwrap();
    }

    #[test]
    fn validity_is_bounded_and_files_are_never_overwritten() {
        assert!(matches!(CertificateAuthority::generate(0), Err(IssueError::Validity { days: 0, .. })));
        let ca = CertificateAuthority::generate(1).unwrap();
        assert!(matches!(ca.issue_node(1, VALIDITY_DAYS_MAX + 1), Err(IssueError::Validity { .. })));
        let dir = tempfile::tempdir().unwrap();
        ca.write(dir.path()).unwrap();
        assert!(matches!(ca.write(dir.path()), Err(IssueError::Exists { .. })));
    }
}
