//! `synod node --check-config FILE`: the checks a node makes before it opens
//! its data directory, run without starting it, so an operator can validate
//! a config (its genesis, peer list and certificates) before a restart, while
//! the node it belongs to may still be running. Nothing is opened for
//! writing, no port is bound, the data directory is only looked at.
//!
//! Every problem is reported, not only the first, each naming the file or
//! field to fix.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{ServerName, UnixTime};
use rustls::RootCertStore;

use crate::config::{ConsensusKind, NodeConfig, TlsConfig};
use crate::node::read_genesis;
use crate::tls::{load_certificates, node_name, TlsMaterial};

/// What a config check found: facts worth showing, and problems (empty: the
/// config would start).
#[derive(Debug, Default)]
pub struct Preflight {
    pub facts: Vec<String>,
    pub problems: Vec<String>,
}

impl Preflight {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the config at `path`: syntax and field rules, the genesis, the
/// role and peer list, the TLS files of the peer port and the HTTP API, and
/// the data directory.
pub fn check(path: &Path) -> Preflight {
    let mut out = Preflight::default();
    let config = match NodeConfig::load(path) {
        Ok(c) => c,
        Err(e) => {
            out.problems.push(format!("{}: {e}", path.display()));
            return out;
        }
    };
    check_genesis(&config, &mut out);
    check_role(&config, &mut out);
    if let Some(files) = &config.http_tls {
        match crate::tls::http_acceptor(files) {
            Ok(_) => out.facts.push(format!(
                "HTTP API over TLS ({}{})",
                files.cert.display(),
                if files.client_ca.is_some() { ", client certificates required" } else { "" }
            )),
            Err(e) => out.problems.push(format!("[http_tls]: {e}")),
        }
    }
    check_data_dir(&config, &mut out);
    out
}

fn check_genesis(config: &NodeConfig, out: &mut Preflight) {
    match read_genesis(&config.genesis) {
        Ok(g) => {
            out.facts.push(format!(
                "genesis {}: chain {}, auth {:?}, {} funded accounts, hash {}",
                config.genesis.display(),
                g.chain_id,
                g.auth,
                g.allocations.len(),
                hex::encode(g.hash())
            ));
            if config.consensus == ConsensusKind::Paxos && !config.peers.is_empty() {
                let cluster_id = config.cluster_id.unwrap_or(g.chain_id);
                out.facts.push(format!("cluster id {cluster_id} (every member must use the same one)"));
            }
        }
        Err(e) => out.problems.push(e.to_string()),
    }
}

fn check_role(config: &NodeConfig, out: &mut Preflight) {
    match (config.consensus, config.node_id) {
        (ConsensusKind::Pow, _) => {
            out.facts.push(format!("proof-of-work node with {} configured peers", config.peers.len()));
        }
        (ConsensusKind::Paxos, None) => out.facts.push(format!("single node, HTTP {}", config.http_addr)),
        (ConsensusKind::Paxos, Some(id)) => {
            out.facts.push(format!(
                "member {id} of {}: HTTP {}, peer port {}",
                config.peers.len() + 1,
                config.http_addr,
                config.peer_addr.map_or("-".to_string(), |a| a.to_string())
            ));
            for p in &config.peers {
                out.facts.push(format!("  peer {}: peer port {}, HTTP {}", p.id, p.peer_addr, p.http_addr));
            }
            check_addresses(config, out);
            match &config.tls {
                Some(files) => check_member_tls(files, id, out),
                None => out.problems.push("[tls] is missing: members need the cluster CA and a certificate".into()),
            }
        }
    }
}

/// Two members at one address cannot both be reached: a copy-paste error
/// that otherwise shows only as a peer that never connects.
fn check_addresses(config: &NodeConfig, out: &mut Preflight) {
    let mut peer_ports: BTreeMap<SocketAddr, Vec<String>> = BTreeMap::new();
    let mut http_ports: BTreeMap<SocketAddr, Vec<String>> = BTreeMap::new();
    if let Some(own) = config.peer_addr {
        peer_ports.entry(own).or_default().push("this node".into());
    }
    http_ports.entry(config.http_addr).or_default().push("this node".into());
    for p in &config.peers {
        peer_ports.entry(p.peer_addr).or_default().push(format!("peer {}", p.id));
        http_ports.entry(p.http_addr).or_default().push(format!("peer {}", p.id));
    }
    for (kind, ports) in [("peer", &peer_ports), ("HTTP", &http_ports)] {
        for (addr, users) in ports {
            // Port 0 (pick any) is not a shared address.
            if users.len() > 1 && addr.port() != 0 {
                out.problems.push(format!("{kind} address {addr} is given to {}", users.join(" and ")));
            }
        }
    }
}

/// The files load as the node loads them, and the certificate chains to the
/// configured CA under the node's name and is valid now (the node itself
/// would only find out at its first handshake).
fn check_member_tls(files: &TlsConfig, id: u8, out: &mut Preflight) {
    if let Err(e) = TlsMaterial::load(files, id) {
        out.problems.push(format!("[tls]: {e}"));
        return;
    }
    let verdict = (|| -> Result<(), String> {
        let mut roots = RootCertStore::empty();
        for cert in load_certificates(&files.ca_cert).map_err(|e| e.to_string())? {
            roots.add(cert).map_err(|e| e.to_string())?;
        }
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), crate::tls::provider())
            .build()
            .map_err(|e| e.to_string())?;
        let chain = load_certificates(&files.cert).map_err(|e| e.to_string())?;
        let (leaf, intermediates) = chain.split_first().ok_or("no certificate in the file")?;
        let name = ServerName::try_from(node_name(id)).map_err(|e| e.to_string())?;
        verifier.verify_server_cert(leaf, intermediates, &name, &[], UnixTime::now()).map_err(|e| e.to_string())?;
        Ok(())
    })();
    match verdict {
        Ok(()) => out.facts.push(format!(
            "peer TLS: {} is valid now for {} and issued by the CA in {}",
            files.cert.display(),
            node_name(id),
            files.ca_cert.display()
        )),
        Err(e) => out.problems.push(format!(
            "[tls]: {} does not verify against the CA {} for {}: {e}",
            files.cert.display(),
            files.ca_cert.display(),
            node_name(id)
        )),
    }
}

fn check_data_dir(config: &NodeConfig, out: &mut Preflight) {
    let dir = config.data_dir.as_path();
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => out.problems.push(format!("data_dir {} exists and is not a directory", dir.display())),
        Ok(_) => {
            if config.db_path().exists() {
                out.facts.push(format!(
                    "data_dir {} holds a ledger (not opened here: the node checks its genesis at start)",
                    dir.display()
                ));
            } else {
                out.facts.push(format!("data_dir {} exists; a new ledger will be created", dir.display()));
            }
        }
        Err(_) => {
            // The node creates it: the nearest existing ancestor must be a directory.
            let parent = dir.ancestors().skip(1).find(|a| a.exists());
            match parent {
                Some(p) if p.is_dir() => {
                    out.facts.push(format!("data_dir {} will be created (in {})", dir.display(), p.display()))
                }
                _ => out.problems.push(format!("data_dir {} cannot be created", dir.display())),
            }
        }
    }
}
