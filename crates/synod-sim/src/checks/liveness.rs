//! Liveness: after faults stop (network healed, every node up, storage read
//! cleanly), every client operation completes and all replicas converge on
//! the same applied index within the quiet period.
//! Source: "Paxos Made Simple" §3 (progress needs a single distinguished
//! proposer and a working majority); the bound is the quiet period length.

use super::Violation;
use crate::history::{HistoryEntry, Outcome};

pub struct NodeEnd {
    pub id: u8,
    pub up: bool,
    pub damaged: bool,
    pub applied_index: u64,
    pub commit_index: u64,
}

pub fn check(history: &[HistoryEntry], nodes: &[NodeEnd], quiet_ms: u64) -> Result<(), Violation> {
    if let Some(pending) = history.iter().find(|e| e.outcome == Outcome::Pending) {
        return Err(Violation::new(
            "liveness",
            format!(
                "client {} op {} ({:?}) still pending after a {quiet_ms} ms quiet period",
                pending.client, pending.op_id, pending.operation
            ),
        ));
    }
    let max_commit = nodes.iter().map(|n| n.commit_index).max().unwrap_or(0);
    for node in nodes {
        if !node.up || node.damaged || node.applied_index != max_commit {
            return Err(Violation::new(
                "liveness",
                format!(
                    "node {} not converged after quiet period: up={} damaged={} applied={} max commit={max_commit}",
                    node.id, node.up, node.damaged, node.applied_index
                ),
            ));
        }
    }
    Ok(())
}
