//! Agreement: no two replicas learn different values for one slot.
//! Source: Lamport, "Paxos Made Simple" (2001), §2 safety requirement
//! "Only a single value is chosen"; §2.3 learners learn only chosen values.

use std::collections::BTreeMap;

use synod_paxos::{Command, NodeId, Slot};

use super::Violation;
use crate::state_machine::LogMachine;

/// Online: called for every `Apply`; `chosen` remembers the first value
/// any replica applied per slot.
pub fn check_apply(
    chosen: &mut BTreeMap<Slot, Command>,
    node: NodeId,
    slot: Slot,
    command: &Command,
) -> Result<(), Violation> {
    match chosen.get(&slot) {
        None => {
            chosen.insert(slot, command.clone());
            Ok(())
        }
        Some(first) if first == command => Ok(()),
        Some(first) => Err(Violation::new(
            "agreement",
            format!("node {node} applied {command:?} at slot {slot}, another replica applied {first:?}"),
        )),
    }
}

/// A snapshot installed or restored on `node` must agree with every slot
/// it records: each effective batch slot holds that batch.
pub fn check_snapshot(chosen: &BTreeMap<Slot, Command>, node: NodeId, machine: &LogMachine) -> Result<(), Violation> {
    for (id, slot) in &machine.ids {
        match chosen.get(slot) {
            Some(Command::Batch(batch)) if batch.id == *id => {}
            other => {
                return Err(Violation::new(
                    "agreement",
                    format!("node {node} snapshot puts batch {} at slot {slot}, chosen there: {other:?}", id.0),
                ))
            }
        }
    }
    Ok(())
}
