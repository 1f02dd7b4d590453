//! Block agreement: for every height, every node that has a block there has
//! the same block (same hash, made from the same slot).
//! Source: the issue requirement "identical block hashes at every height
//! across nodes"; the ledger form of state machine replication's agreement
//! (Schneider, "Implementing Fault-Tolerant Services Using the State Machine
//! Approach", 1990, §3: replicas that process the same requests in the same
//! order produce the same outputs). Since each header commits to the previous
//! hash, equal hashes at a height mean equal chains up to it.

use synod_core::block::BlockHash;
use synod_paxos::{NodeId, Slot};

use super::Violation;
use crate::state_machine::{BlockRef, LedgerMachine};

/// Online: every block a node makes or installs. `registry[h - 1]` is the
/// first (hash, slot) any node had at height `h`.
pub fn check_block(registry: &mut Vec<(BlockHash, Slot)>, node: NodeId, block: &BlockRef) -> Result<(), Violation> {
    let index = usize::try_from(block.height - 1).expect("small heights");
    match registry.get(index) {
        Some(&(hash, slot)) if (hash, slot) == (block.hash, block.slot) => Ok(()),
        Some(&(hash, slot)) => Err(Violation::new(
            "block_agreement",
            format!(
                "node {node} has block {} = {} from slot {}, another node has {hash} from slot {slot}",
                block.height, block.hash, block.slot
            ),
        )),
        None if index == registry.len() => {
            registry.push((block.hash, block.slot));
            Ok(())
        }
        None => Err(Violation::new(
            "block_agreement",
            format!("node {node} made block {} before any node had block {}", block.height, registry.len() + 1),
        )),
    }
}

/// At the end: every stored block of every node against the registry.
pub fn check_all(registry: &[(BlockHash, Slot)], nodes: &[(NodeId, &LedgerMachine)]) -> Result<(), Violation> {
    for (node, machine) in nodes {
        for (index, block) in machine.blocks().iter().enumerate() {
            let height = index as u64 + 1;
            let got = (block.hash(), machine.block_slot(height).expect("one slot per block"));
            if registry.get(index) != Some(&got) {
                return Err(Violation::new(
                    "block_agreement",
                    format!(
                        "node {node} ends with block {height} = {} from slot {}, agreed: {:?}",
                        got.0,
                        got.1,
                        registry.get(index)
                    ),
                ));
            }
        }
    }
    Ok(())
}
