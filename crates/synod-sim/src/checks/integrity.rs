//! Integrity: a transfer takes effect at most once, and a definite refusal
//! is never committed.
//! - At most once: the store refuses (online) a block holding a transfer id
//!   the ledger already holds; the nonce rule is what should prevent it.
//! - A transfer refused before consensus (chain, shape, signature), an
//!   operation refused as a whole (every transfer refused, or too large to
//!   propose), and a transfer rejected for a nonce below the account's that
//!   was *not* resolved as a committed duplicate can never be in any ledger:
//!   the last means another transfer used that nonce, so this one is dead.
//!
//! Source: the at-most-once requirement of state machine replication
//! (Schneider 1990, §3); Lamport's validity for refused proposals; the
//! nonce rule of docs/PROTOCOL.md (replay protection) and the node's
//! idempotent resubmission (`committer::resolve_rejection`).

use synod_paxos::NodeId;

use super::Violation;
use crate::history::{HistoryEntry, Operation, Outcome, Stage, TransferCall, TransferResult};
use crate::state_machine::LedgerMachine;

pub fn check(history: &[HistoryEntry], nodes: &[(NodeId, &LedgerMachine)]) -> Result<(), Violation> {
    let never = |entry: &HistoryEntry, call: &TransferCall, why: &str| -> Result<(), Violation> {
        for (node, machine) in nodes {
            if let Some(position) = machine.position(&call.id) {
                return Err(Violation::new(
                    "integrity",
                    format!(
                        "transfer {} (client {} op {}, {why}) is in node {node}'s ledger at {position:?}",
                        call.id, entry.client, entry.op_id
                    ),
                ));
            }
        }
        Ok(())
    };
    for entry in history {
        let Operation::Submit { transfers } = &entry.operation else { continue };
        match &entry.outcome {
            Outcome::Fail { reason } => {
                for call in transfers {
                    never(entry, call, &format!("operation failed: {reason}"))?;
                }
            }
            Outcome::Ok { results, .. } => {
                for (call, result) in transfers.iter().zip(results) {
                    match result {
                        TransferResult::Rejected { stage: Stage::Verify, code, .. } => {
                            never(entry, call, &format!("refused before consensus: {code}"))?
                        }
                        TransferResult::Rejected { stage: Stage::Apply, expected_nonce: Some(e), .. }
                            if call.nonce < *e =>
                        {
                            never(entry, call, &format!("rejected: nonce {} below {e}", call.nonce))?
                        }
                        _ => {}
                    }
                }
            }
            Outcome::Pending | Outcome::Unknown => {}
        }
    }
    Ok(())
}
