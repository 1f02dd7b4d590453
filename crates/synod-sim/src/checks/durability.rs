//! Durability: no acknowledged transfer is ever lost. Every transfer a client
//! was told is committed at (height h, index i, ledger index l) is, after the
//! quiet period, in every node's ledger at exactly that position (block h,
//! transfer i, leaf l of the ledger tree, and the node's transfer index),
//! whatever crashes, restarts and snapshot installs happened in between.
//! Source: "Paxos Made Simple" §2 (a chosen value stays chosen) together with
//! the client contract of `POST /v1/transfers` (a `committed` receipt means
//! durable in that block); openraft's turmoil tests treat the same property.

use synod_core::ledger::TransferPosition;
use synod_paxos::NodeId;

use super::Violation;
use crate::history::{HistoryEntry, TransferResult};
use crate::state_machine::LedgerMachine;

pub fn check(history: &[HistoryEntry], nodes: &[(NodeId, &LedgerMachine)]) -> Result<(), Violation> {
    for entry in history {
        for (call, result) in entry.committed() {
            let TransferResult::Committed { height, index_in_block, ledger_index, .. } = *result else { continue };
            let position = TransferPosition { height, index_in_block, ledger_index };
            let lost = |node: &NodeId, what: String| {
                Violation::new(
                    "durability",
                    format!(
                        "transfer {} (client {} op {}) acknowledged at {position:?}: node {node} {what}",
                        call.id, entry.client, entry.op_id
                    ),
                )
            };
            for (node, machine) in nodes {
                let Some(block) = machine.block(height) else {
                    return Err(lost(node, format!("has only {} blocks", machine.height())));
                };
                let Some(tx) = block.transfers.get(index_in_block as usize) else {
                    return Err(lost(node, format!("has {} transfers in that block", block.transfers.len())));
                };
                if tx.id() != call.id {
                    return Err(lost(node, format!("has {} there", tx.id())));
                }
                let first = block.header.ledger_size - block.transfers.len() as u64;
                if first + u64::from(index_in_block) != ledger_index
                    || machine.ledger().tree().leaf(ledger_index) != Some(tx.leaf_hash())
                {
                    return Err(lost(node, "has another leaf at that ledger index".into()));
                }
                if machine.position(&call.id) != Some(position) {
                    return Err(lost(node, format!("indexes it at {:?}", machine.position(&call.id))));
                }
            }
        }
    }
    Ok(())
}
