//! Durability: an append acknowledged to a client is never lost. After the
//! quiet period every replica has applied it, at the acknowledged slot,
//! whatever crashes happened in between.
//! Source: "Paxos Made Simple" §2 (a chosen value stays chosen) together
//! with the client contract (an acknowledgement means chosen and applied);
//! openraft's turmoil tests treat the same property.

use synod_paxos::BatchId;

use super::Violation;
use crate::history::{HistoryEntry, Operation, Outcome};
use crate::state_machine::LogMachine;

pub fn check(history: &[HistoryEntry], machines: &[(u8, &LogMachine)]) -> Result<(), Violation> {
    for entry in history {
        let (Operation::Append { batch_id, .. }, Outcome::Ok { index }) = (&entry.operation, &entry.outcome) else {
            continue;
        };
        for (node, machine) in machines {
            let found = machine.ids.get(&BatchId(*batch_id));
            if found != Some(index) {
                return Err(Violation::new(
                    "durability",
                    format!("batch {batch_id} acknowledged at slot {index}, node {node} has it at {found:?}"),
                ));
            }
        }
    }
    Ok(())
}
