//! A light client's directory: the network it follows (`network.json`: the
//! genesis and the `[pow]` chain parameters, copied from a node's own config
//! files, never from a node being checked) and the headers it has accepted
//! (`headers.bin`: 80-byte headers, parents first, genesis first), which are
//! re-validated on every load.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use synod_core::Genesis;
use synod_node::pow::PowChainSpec;
use synod_pow::chain::genesis_header;
use synod_pow::light::{HeaderStore, HEADERS_MAX_DEFAULT};
use synod_pow::Header;

/// Largest `network.json` read, in bytes (a genesis with many allocations).
const NETWORK_FILE_BYTES_MAX: u64 = 16 * 1024 * 1024;

/// What the light client trusts: the network's identity.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Block 0's state, as in the node's genesis file.
    pub genesis: Genesis,
    /// Consensus parameters, as in the node's `[pow]` section.
    pub chain: PowChainSpec,
}

/// A loaded light client directory.
pub struct LightDir {
    pub dir: PathBuf,
    pub network: Network,
    /// Block 0's header.
    pub genesis_header: Header,
    /// The network's chain identity (what `/v1/status` `pow.chain_identity` shows).
    pub identity: [u8; 32],
    pub store: HeaderStore,
}

pub fn now_secs() -> i64 {
    i64::try_from(crate::output::now_ms() / 1000).unwrap_or(i64::MAX)
}

impl LightDir {
    fn network_path(dir: &Path) -> PathBuf {
        dir.join("network.json")
    }

    fn headers_path(dir: &Path) -> PathBuf {
        dir.join("headers.bin")
    }

    /// Creates `dir` for `network` holding only the genesis header.
    pub fn init(dir: &Path, network: Network) -> anyhow::Result<LightDir> {
        if Self::network_path(dir).exists() {
            bail!("{} already holds a light client", dir.display());
        }
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let light = Self::build(dir, network, None)?;
        std::fs::write(Self::network_path(dir), serde_json::to_string_pretty(&light.network)? + "\n")?;
        light.save()?;
        Ok(light)
    }

    /// Loads `dir`, re-validating every stored header at the current time.
    pub fn load(dir: &Path) -> anyhow::Result<LightDir> {
        let path = Self::network_path(dir);
        let len = std::fs::metadata(&path)
            .with_context(|| format!("{} is not a light client directory (run `synod light init`)", dir.display()))?
            .len();
        if len > NETWORK_FILE_BYTES_MAX {
            bail!("{} is {len} bytes, more than {NETWORK_FILE_BYTES_MAX}", path.display());
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let network: Network = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let headers_path = Self::headers_path(dir);
        let headers_max_bytes = (HEADERS_MAX_DEFAULT * synod_pow::HEADER_LEN) as u64;
        let hlen =
            std::fs::metadata(&headers_path).with_context(|| format!("reading {}", headers_path.display()))?.len();
        if hlen > headers_max_bytes {
            bail!("{} holds more than {HEADERS_MAX_DEFAULT} headers", headers_path.display());
        }
        let bytes = std::fs::read(&headers_path).with_context(|| format!("reading {}", headers_path.display()))?;
        Self::build(dir, network, Some(&bytes))
    }

    fn build(dir: &Path, network: Network, headers: Option<&[u8]>) -> anyhow::Result<LightDir> {
        let config = network.chain.chain_config(&network.genesis).context("the network's parameters")?;
        let genesis_header = genesis_header(&config.genesis, &config.params);
        let identity = network.chain.identity(&config);
        let store = match headers {
            None => HeaderStore::new(genesis_header, config.params.clone(), HEADERS_MAX_DEFAULT),
            Some(bytes) => {
                HeaderStore::load(bytes, genesis_header, config.params.clone(), HEADERS_MAX_DEFAULT, now_secs())
                    .with_context(|| format!("{} does not re-validate", Self::headers_path(dir).display()))?
            }
        };
        Ok(LightDir { dir: dir.to_path_buf(), network, genesis_header, identity, store })
    }

    /// Writes the headers (to a temporary file renamed over the old one, so a
    /// crash leaves either the old or the new file).
    pub fn save(&self) -> anyhow::Result<()> {
        let path = Self::headers_path(&self.dir);
        let tmp = self.dir.join("headers.bin.tmp");
        std::fs::write(&tmp, self.store.to_bytes()).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("replacing {}", path.display()))?;
        Ok(())
    }
}
