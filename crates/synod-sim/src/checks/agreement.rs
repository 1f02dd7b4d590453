//! Agreement: no two replicas learn different values for one slot.
//! Source: Lamport, "Paxos Made Simple" (2001), §2 safety requirement
//! "Only a single value is chosen"; §2.3 learners learn only chosen values.

use std::collections::BTreeMap;

use synod_paxos::{Command, NodeId, Slot};

use super::Violation;

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
            format!(
                "node {node} applied {} at slot {slot}, another replica applied {}",
                describe(command),
                describe(first)
            ),
        )),
    }
}

/// A command without its payload bytes, for messages.
pub fn describe(command: &Command) -> String {
    match command {
        Command::Batch(batch) => {
            format!("batch {:#x} ({} bytes, crc {:08x})", batch.id.0, batch.bytes.len(), crc32fast::hash(&batch.bytes))
        }
        other => format!("{other:?}"),
    }
}
