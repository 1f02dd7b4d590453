//! Integrity: every batch takes effect at most once, at the same slot on
//! every replica (the first slot it was chosen in), and a proposal refused
//! with a definite error is never chosen.
//! Source: the at-most-once requirement of state machine replication
//! (Schneider, "Implementing Fault-Tolerant Services Using the State Machine
//! Approach", 1990, §3: replicas process the same requests in the same
//! order); Lamport's validity for refused proposals.

use std::collections::BTreeMap;

use synod_paxos::{BatchId, Command, Slot};

use super::Violation;
use crate::history::{HistoryEntry, Operation, Outcome};
use crate::state_machine::LogMachine;

pub fn check(
    chosen: &BTreeMap<Slot, Command>,
    machines: &[(u8, &LogMachine)],
    history: &[HistoryEntry],
) -> Result<(), Violation> {
    let mut first_slot: BTreeMap<BatchId, Slot> = BTreeMap::new();
    for (slot, command) in chosen {
        if let Command::Batch(batch) = command {
            first_slot.entry(batch.id).or_insert(*slot);
        }
    }
    for (node, machine) in machines {
        for (id, slot) in &machine.ids {
            if first_slot.get(id) != Some(slot) {
                return Err(Violation::new(
                    "integrity",
                    format!(
                        "node {node} applied batch {} at slot {slot}, first chosen at {:?}",
                        id.0,
                        first_slot.get(id)
                    ),
                ));
            }
        }
        for (id, slot) in &first_slot {
            if *slot <= machine.applied_index && !machine.ids.contains_key(id) {
                return Err(Violation::new(
                    "integrity",
                    format!("node {node} skipped batch {} chosen at {slot}", id.0),
                ));
            }
        }
    }
    for entry in history {
        if let (Operation::Append { batch_id, .. }, Outcome::Fail { reason }) = (&entry.operation, &entry.outcome) {
            if let Some(slot) = first_slot.get(&BatchId(*batch_id)) {
                return Err(Violation::new(
                    "integrity",
                    format!("batch {batch_id} failed ({reason}) yet chosen at {slot}"),
                ));
            }
        }
    }
    Ok(())
}
