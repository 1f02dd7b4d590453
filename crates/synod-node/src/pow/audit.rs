//! The offline audit of a stopped proof-of-work node (`synod verify`): the
//! block store names its chain (genesis and parameters), so the audit
//! rebuilds the chain from the file alone, re-validating every stored block
//! with every rule and signature, and replays the best chain from block 0.

use std::path::Path;

use serde::{Deserialize, Serialize};
use synod_core::Genesis;
use synod_pow::chain::{BlockOutcome, ChainState, PowBlock};
use synod_storage::PowStore;

use super::spec::PowChainSpec;

/// What a PoW block store records about its chain.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Descriptor {
    pub genesis: Genesis,
    pub chain: PowChainSpec,
}

/// A store that passed.
#[derive(Debug, Clone, Serialize)]
pub struct PowAuditReport {
    pub chain_id: u64,
    pub height: u64,
    pub tip: String,
    pub chain_work: String,
    /// Blocks stored, best chain and side branches.
    pub blocks: u64,
    pub transfers: u64,
    pub accounts: u64,
    pub supply: u64,
}

/// The first thing that is wrong.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PowAuditError {
    #[error("cannot open the store: {0}")]
    Open(String),
    #[error("the store's descriptor is unreadable: {0}")]
    Descriptor(String),
    #[error("the store's chain identity does not match its own descriptor")]
    Identity,
    #[error("stored block {hash} (height {height}) does not decode: {detail}")]
    Undecodable { height: u64, hash: String, detail: String },
    #[error("stored block {hash} (height {height}) breaks a rule: {detail}")]
    Invalid { height: u64, hash: String, detail: String },
    #[error("stored block {hash} (height {height}) has no stored parent")]
    Orphan { height: u64, hash: String },
    #[error("replaying the best chain from block 0 fails at height {height}: {detail}")]
    Replay { height: u64, detail: String },
    #[error("the replayed state differs from the incremental state")]
    StateMismatch,
}

impl PowAuditError {
    /// The height the failure is about (0 for the store as a whole).
    pub fn height(&self) -> u64 {
        match self {
            PowAuditError::Undecodable { height, .. }
            | PowAuditError::Invalid { height, .. }
            | PowAuditError::Orphan { height, .. }
            | PowAuditError::Replay { height, .. } => *height,
            _ => 0,
        }
    }
}

/// Audits the store at `path` (the node must be stopped).
pub fn audit(path: &Path) -> Result<PowAuditReport, PowAuditError> {
    let (store, identity, descriptor) =
        PowStore::open_existing(path).map_err(|e| PowAuditError::Open(e.to_string()))?;
    let d: Descriptor = serde_json::from_slice(&descriptor).map_err(|e| PowAuditError::Descriptor(e.to_string()))?;
    let config = d.chain.chain_config(&d.genesis).map_err(|e| PowAuditError::Descriptor(e.to_string()))?;
    if d.chain.identity(&config) != identity {
        return Err(PowAuditError::Identity);
    }
    let mut chain = ChainState::new(config).map_err(|e| PowAuditError::Descriptor(e.to_string()))?;
    let stored = store.load_all().map_err(|e| PowAuditError::Open(e.to_string()))?;
    let blocks = stored.len() as u64;
    // No future-time rule offline: the audit checks what was accepted, whenever that was.
    let now = i64::MAX / 2;
    for b in stored {
        let hash_hex = synod_pow::BlockHash(b.hash).to_string();
        let block = PowBlock::decode(&b.bytes).map_err(|e| PowAuditError::Undecodable {
            height: b.height,
            hash: hash_hex.clone(),
            detail: e.to_string(),
        })?;
        if block.hash().0 != b.hash || block.height() != b.height {
            return Err(PowAuditError::Undecodable {
                height: b.height,
                hash: hash_hex,
                detail: "stored under another hash or height".into(),
            });
        }
        match chain.receive_block(block, now) {
            BlockOutcome::Invalid(e) => {
                return Err(PowAuditError::Invalid { height: b.height, hash: hash_hex, detail: e.to_string() })
            }
            BlockOutcome::Orphaned { .. } => return Err(PowAuditError::Orphan { height: b.height, hash: hash_hex }),
            _ => {}
        }
    }
    let replayed =
        chain.replay_best_chain().map_err(|(height, e)| PowAuditError::Replay { height, detail: e.to_string() })?;
    if &replayed != chain.state() {
        return Err(PowAuditError::StateMismatch);
    }
    let tip = chain.best_tip();
    Ok(PowAuditReport {
        chain_id: d.genesis.chain_id,
        height: tip.height,
        tip: tip.hash.to_string(),
        chain_work: tip.chain_work.to_string(),
        blocks,
        transfers: chain.confirmed_transfers().len() as u64,
        accounts: chain.state().accounts().len() as u64,
        supply: chain.state().supply(),
    })
}
