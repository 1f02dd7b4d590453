//! A node's configuration, read from TOML by `synod node --config FILE`.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Where the database lives (`<data_dir>/synod.redb`).
    pub data_dir: PathBuf,
    /// HTTP API listen address; port 0 picks a free port (the node prints it).
    pub http_addr: SocketAddr,
    /// Path of the genesis JSON; needed on first start, checked on later ones.
    pub genesis: PathBuf,
    /// Most transfers per block (1..=16384).
    #[serde(default = "default_block_transfers_max")]
    pub block_transfers_max: usize,
    /// How long the committer waits for more transfers to fill a block, in
    /// milliseconds. 0 (the default) seals whatever arrived during the last
    /// fsync: batching then comes from the fsync itself, at no added latency.
    #[serde(default)]
    pub batch_linger_ms: u64,
    /// Replicated mode: this node's id (1..=255), unique in the cluster.
    #[serde(default)]
    pub node_id: Option<u8>,
    /// Replicated mode: where peers connect (TCP); port 0 picks one.
    #[serde(default)]
    pub peer_addr: Option<SocketAddr>,
    /// Replicated mode: the other members (2 to 6 of them). Empty: a single node.
    #[serde(default)]
    pub peers: Vec<PeerConfig>,
    /// Replicated mode: start as a learner joining a running cluster (a new
    /// or replacement member): `peers` lists the current members, this node
    /// catches up without voting, and becomes a member when a leader adds it
    /// (`synod cluster add`, docs/DEPLOY.md). Ignored once the log's
    /// configuration lists this node.
    #[serde(default)]
    pub join: bool,
    /// Peers must agree on it (default: the genesis chain id).
    #[serde(default)]
    pub cluster_id: Option<u64>,
    /// `paxos` (the default: a single node, or a Multi-Paxos cluster when
    /// `peers` is set) or `pow` (a proof-of-work network; see `[pow]`).
    #[serde(default)]
    pub consensus: ConsensusKind,
    /// Proof-of-work network parameters and mining (only with `consensus = "pow"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pow: Option<crate::pow::PowSettings>,
    /// Replicated mode: log retention and snapshot transfer (`[snapshot]`).
    #[serde(default)]
    pub snapshot: crate::cluster::SnapshotConfig,
    /// Multi-Paxos members: the cluster CA and this node's certificate and key
    /// for mutual TLS on the peer port (`[tls]`). Required with `peers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
    /// Optional TLS for the client HTTP API (`[http_tls]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_tls: Option<HttpTlsConfig>,
}

/// `[tls]`: PEM files of a member's peer-port mutual TLS (docs/DEPLOY.md,
/// "Certificates"). The certificate must carry the DNS subjectAltName
/// `node-<node_id>.synod` and be issued by `ca_cert`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The cluster CA's certificate: the only trust anchor for peers.
    pub ca_cert: PathBuf,
    /// This node's certificate (chain), issued by `ca_cert`.
    pub cert: PathBuf,
    /// This node's private key.
    pub key: PathBuf,
}

/// `[http_tls]`: PEM files of the client HTTP API's TLS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// When set, clients must present a certificate issued by this CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ca: Option<PathBuf>,
}

/// Which consensus a node runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsensusKind {
    #[default]
    Paxos,
    Pow,
}

/// Most peers a proof-of-work node is configured with.
pub const POW_PEERS_MAX: usize = 32;

/// Another member of the cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    pub id: u8,
    pub peer_addr: SocketAddr,
    pub http_addr: SocketAddr,
}

fn default_block_transfers_max() -> usize {
    crate::limits::BLOCK_TRANSFERS_MAX
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a valid node config: {source}")]
    Parse { path: PathBuf, source: toml::de::Error },
    #[error("block_transfers_max must be 1..={max}, got {got}")]
    BlockSize { got: usize, max: usize },
    #[error("proof-of-work mode: {0}")]
    Pow(String),
    #[error("replicated mode needs node_id, peer_addr and 2 to 6 peers with distinct ids other than node_id: {0}")]
    Cluster(String),
}

impl NodeConfig {
    pub fn new(data_dir: PathBuf, http_addr: SocketAddr, genesis: PathBuf) -> Self {
        NodeConfig {
            data_dir,
            http_addr,
            genesis,
            block_transfers_max: default_block_transfers_max(),
            batch_linger_ms: 0,
            node_id: None,
            peer_addr: None,
            peers: Vec::new(),
            join: false,
            cluster_id: None,
            consensus: ConsensusKind::Paxos,
            pow: None,
            snapshot: Default::default(),
            tls: None,
            http_tls: None,
        }
    }

    pub fn load(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        let config: NodeConfig =
            toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.into(), source })?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let max = crate::limits::BLOCK_TRANSFERS_MAX;
        if self.block_transfers_max == 0 || self.block_transfers_max > max {
            return Err(ConfigError::BlockSize { got: self.block_transfers_max, max });
        }
        if self.consensus == ConsensusKind::Pow {
            return self.validate_pow();
        }
        if self.pow.is_some() {
            return Err(ConfigError::Pow("a [pow] section needs consensus = \"pow\"".into()));
        }
        if self.peers.is_empty() {
            return Ok(());
        }
        if !(2..=6).contains(&self.peers.len()) {
            return Err(ConfigError::Cluster(format!("{} peers", self.peers.len())));
        }
        self.check_peer_ids().map_err(ConfigError::Cluster)
    }

    /// With peers: `node_id` and `peer_addr` are set and every id is distinct.
    fn check_peer_ids(&self) -> Result<(), String> {
        let id = self.node_id.ok_or("node_id is missing")?;
        if self.peer_addr.is_none() {
            return Err("peer_addr is missing".into());
        }
        let mut ids: Vec<u8> = self.peers.iter().map(|p| p.id).collect();
        ids.push(id);
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != self.peers.len() + 1 {
            return Err("duplicate node ids".into());
        }
        Ok(())
    }

    fn validate_pow(&self) -> Result<(), ConfigError> {
        if let Some(pow) = &self.pow {
            pow.validate().map_err(|e| ConfigError::Pow(e.to_string()))?;
        }
        if self.peers.len() > POW_PEERS_MAX {
            return Err(ConfigError::Pow(format!("{} peers; the limit is {POW_PEERS_MAX}", self.peers.len())));
        }
        if self.peers.is_empty() {
            return Ok(());
        }
        self.check_peer_ids().map_err(ConfigError::Pow)
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("synod.redb")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pow::PowSettings;

    fn pow_config(peers: usize) -> NodeConfig {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let mut c = NodeConfig::new("d".into(), addr, "g.json".into());
        c.consensus = ConsensusKind::Pow;
        c.node_id = Some(1);
        c.peer_addr = Some(addr);
        c.peers = (0..peers).map(|i| PeerConfig { id: i as u8 + 2, peer_addr: addr, http_addr: addr }).collect();
        c
    }

    #[test]
    fn pow_peers_are_bounded_and_distinct() {
        assert!(pow_config(0).validate().is_ok(), "a lone PoW node needs no peers");
        assert!(pow_config(POW_PEERS_MAX).validate().is_ok());
        assert!(matches!(pow_config(POW_PEERS_MAX + 1).validate(), Err(ConfigError::Pow(_))));
        let mut dup = pow_config(2);
        dup.peers[1].id = dup.peers[0].id;
        assert!(matches!(dup.validate(), Err(ConfigError::Pow(m)) if m.contains("duplicate")));
        let mut no_id = pow_config(1);
        no_id.node_id = None;
        assert!(matches!(no_id.validate(), Err(ConfigError::Pow(m)) if m.contains("node_id")));
    }

    #[test]
    fn pow_settings_are_checked_and_refused_outside_pow_mode() {
        let mut c = pow_config(0);
        c.pow = Some(PowSettings { mine: true, miner_account: None, ..Default::default() });
        assert!(matches!(c.validate(), Err(ConfigError::Pow(m)) if m.contains("miner_account")));
        c.pow = Some(PowSettings { miner_threads: 0, ..Default::default() });
        assert!(matches!(c.validate(), Err(ConfigError::Pow(_))));
        c.pow = Some(PowSettings::default());
        c.consensus = ConsensusKind::Paxos;
        c.peers.clear();
        assert!(matches!(c.validate(), Err(ConfigError::Pow(m)) if m.contains("consensus")));
    }

    #[test]
    fn tls_sections_parse_and_unknown_keys_are_refused() {
        let text = r#"
            data_dir = "d"
            http_addr = "127.0.0.1:0"
            genesis = "g.json"
            [tls]
            ca_cert = "ca.pem"
            cert = "node-1.pem"
            key = "node-1.key"
            [http_tls]
            cert = "api.pem"
            key = "api.key"
        "#;
        let c: NodeConfig = toml::from_str(text).unwrap();
        let tls = c.tls.unwrap();
        assert_eq!((tls.ca_cert.to_str(), tls.key.to_str()), (Some("ca.pem"), Some("node-1.key")));
        assert_eq!(c.http_tls.unwrap().client_ca, None);
        let typo = text.replace("key = \"node-1.key\"", "keyfile = \"node-1.key\"");
        assert!(toml::from_str::<NodeConfig>(&typo).is_err(), "a misspelt [tls] key is an error");
    }

    #[test]
    fn a_pow_config_round_trips_through_toml() {
        let mut c = pow_config(1);
        c.pow = Some(PowSettings::default());
        let text = toml::to_string(&c).unwrap();
        let back: NodeConfig = toml::from_str(&text).unwrap();
        assert_eq!(back.consensus, ConsensusKind::Pow);
        assert_eq!(back.pow, c.pow);
    }
}
