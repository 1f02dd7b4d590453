//! The offline auditor behind `synod verify`: trusts nothing on disk but the
//! genesis. It re-hashes every block, re-checks every signature, replays the
//! state from genesis, and compares what the node stored (accounts, transfer
//! index, leaf hashes) with the replay.

use synod_core::ledger::SignaturePolicy;
use synod_core::{BlockHash, Ledger};

use crate::Store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub chain_id: u64,
    pub height: u64,
    pub head_hash: BlockHash,
    pub transfers: u64,
    pub accounts: u64,
    pub total_supply: u64,
}

/// The first inconsistency found, by height.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("height {height}: {detail}")]
pub struct AuditFailure {
    pub height: u64,
    pub detail: String,
}

pub fn audit(store: &Store) -> Result<AuditReport, AuditFailure> {
    let fail = |height: u64, detail: String| AuditFailure { height, detail };
    let genesis = store
        .genesis()
        .map_err(|e| fail(0, format!("genesis unreadable: {e}")))?
        .ok_or_else(|| fail(0, "no genesis stored".into()))?;
    let mut ledger = Ledger::new(genesis.clone()).map_err(|e| fail(0, format!("genesis invalid: {e}")))?;
    let head_height = store.head_height().map_err(|e| fail(0, format!("cannot read the head: {e}")))?;

    let block0 =
        store.block(0).map_err(|e| fail(0, e.to_string()))?.ok_or_else(|| fail(0, "block 0 missing".into()))?;
    if block0.header != Ledger::genesis_header(&genesis) || !block0.transfers.is_empty() {
        return Err(fail(0, "block 0 does not match the genesis".into()));
    }
    for height in 1..=head_height {
        let block = store
            .block(height)
            .map_err(|e| fail(height, e.to_string()))?
            .ok_or_else(|| fail(height, "block missing".into()))?;
        ledger.apply_block(&block, SignaturePolicy::Verify).map_err(|e| fail(height, e.kind.to_string()))?;
        let leaves = store
            .leaf_hashes(height)
            .map_err(|e| fail(height, e.to_string()))?
            .ok_or_else(|| fail(height, "leaf hashes missing".into()))?;
        let expected: Vec<_> = block.transfers.iter().map(|t| t.leaf_hash()).collect();
        if leaves != expected {
            return Err(fail(height, "stored leaf hashes differ from the block's transfers".into()));
        }
        let first = block.header.ledger_size - block.transfers.len() as u64;
        for (i, tx) in block.transfers.iter().enumerate() {
            let pos = store.position(&tx.id()).map_err(|e| fail(height, e.to_string()))?;
            let ok = pos.is_some_and(|p| {
                p.height == height && p.index_in_block == i as u32 && p.ledger_index == first + i as u64
            });
            if !ok {
                return Err(fail(height, format!("transfer index entry for {} is wrong or missing", tx.id())));
            }
        }
    }
    let stored = store.accounts().map_err(|e| fail(head_height, e.to_string()))?;
    if &stored != ledger.state().accounts() {
        let differing = ledger
            .state()
            .accounts()
            .iter()
            .find(|(id, a)| stored.get(id) != Some(a))
            .map(|(id, _)| id.to_string())
            .or_else(|| stored.keys().find(|id| !ledger.state().accounts().contains_key(id)).map(|id| id.to_string()))
            .unwrap_or_default();
        return Err(fail(head_height, format!("stored account {differing} differs from the replayed state")));
    }
    let indexed = store.transfer_count().map_err(|e| fail(head_height, e.to_string()))?;
    if indexed != ledger.head().ledger_size {
        return Err(fail(
            head_height,
            format!("{indexed} indexed transfers, the ledger holds {}", ledger.head().ledger_size),
        ));
    }
    if ledger.state().balance_sum() != ledger.state().total_supply() as u128 {
        return Err(fail(head_height, "balances do not add up to the supply".into()));
    }
    Ok(AuditReport {
        chain_id: genesis.chain_id,
        height: head_height,
        head_hash: ledger.head_hash(),
        transfers: ledger.head().ledger_size,
        accounts: ledger.state().account_count() as u64,
        total_supply: ledger.state().total_supply(),
    })
}
