//! State agreement and conservation, at the end of the quiet phase:
//! - every node has the same head hash and the same account table;
//! - each node's ledger equals a fresh replay of its own blocks from genesis
//!   (`Ledger::apply_block`, every rule re-checked), and equals what its
//!   durable store would load after a restart;
//! - balances add up to the genesis supply on every node and in the replay.
//!
//! Sources: Schneider 1990 §3 (replicas that start in the same state and
//! apply the same requests in the same order reach the same state); the
//! auditor's rule that state is re-derivable from the chain alone
//! (`synod verify`, docs/PROTOCOL.md); conservation of supply (no minting in
//! Paxos mode, `LedgerState::assert_conservation`).
//!
//! Cost: the longest chain is replayed once, verifying every signature
//! (`SignaturePolicy::Verify`). A node whose stored blocks are equal, byte for
//! byte, to that chain's is compared with that replay (a replay is a pure
//! function of the blocks); any other node's blocks are replayed afresh, with
//! `Trust` if its head hash was already verified (equal head hashes imply
//! equal headers, and `apply_block` still checks every record against
//! `tx_root`, so the signatures it skips are the verified ones).

use std::collections::BTreeSet;

use synod_core::block::BlockHash;
use synod_core::ledger::SignaturePolicy;
use synod_core::{Genesis, Ledger};
use synod_paxos::NodeId;

use super::Violation;
use crate::state_machine::{replay, LedgerMachine, Replay};

fn fail(detail: String) -> Violation {
    Violation::new("state_agreement", detail)
}

fn same(a: &Ledger, b: &Ledger) -> bool {
    a.head_hash() == b.head_hash() && a.head() == b.head() && a.state() == b.state() && a.tree() == b.tree()
}

/// `reference` is the verified replay of node `reference.0`'s blocks.
pub fn check(
    genesis: &Genesis,
    nodes: &[(NodeId, &LedgerMachine)],
    reference: (NodeId, &Replay),
) -> Result<(), Violation> {
    let supply = u128::from(genesis.validate().expect("valid genesis"));
    let reference_blocks = nodes.iter().find(|(id, _)| *id == reference.0).expect("the reference is a node").1.blocks();
    let mut verified: BTreeSet<[u8; 32]> = BTreeSet::new();
    verified.insert(reference.1.ledger.head_hash().0);
    for (node, machine) in nodes {
        let ledger = machine.ledger();
        if ledger.state().balance_sum() != supply {
            return Err(fail(format!(
                "node {node}: balances add up to {}, supply {supply}",
                ledger.state().balance_sum()
            )));
        }
        if !same(&machine.load(), ledger) {
            return Err(fail(format!("node {node}: the ledger in memory differs from what its store loads")));
        }
        let fresh;
        let blocks = machine.blocks();
        let replayed = if *node == reference.0 || blocks == reference_blocks {
            reference.1
        } else {
            let head = machine.head_hash();
            let policy = if verified.contains(&head.0) { SignaturePolicy::Trust } else { SignaturePolicy::Verify };
            fresh = replay(genesis, &blocks, policy)
                .map_err(|e| fail(format!("node {node}: its blocks do not replay from genesis: {e}")))?;
            verified.insert(head.0);
            &fresh
        };
        if replayed.ledger.state().balance_sum() != supply {
            return Err(fail(format!("node {node}: the replay breaks conservation")));
        }
        if !same(&replayed.ledger, ledger) {
            return Err(fail(format!(
                "node {node}: state differs from a replay of its {} blocks (head {} vs replay {})",
                machine.height(),
                ledger.head_hash(),
                replayed.ledger.head_hash()
            )));
        }
    }
    let Some((first, first_machine)) = nodes.first() else { return Ok(()) };
    let head: BlockHash = first_machine.ledger().head_hash();
    for (node, machine) in &nodes[1..] {
        let ledger = machine.ledger();
        if ledger.head_hash() != head {
            return Err(fail(format!(
                "node {node} ends at block {} {}, node {first} at block {} {head}",
                ledger.head().height,
                ledger.head_hash(),
                first_machine.ledger().head().height
            )));
        }
        if ledger.state() != first_machine.ledger().state() {
            return Err(fail(format!("node {node} and node {first} share head {head} but not their accounts")));
        }
    }
    Ok(())
}
