//! Validity (non-triviality): only proposed values are chosen.
//! Source: Lamport, "Paxos Made Simple", §2: "Only a value that has been
//! proposed may be chosen." Noop is the protocol's own gap filler; a Config
//! is the bootstrap one (the first leader proposes it itself, synod-paxos
//! crate docs, "Reconfiguration") or one the simulated operator proposed.

use std::collections::BTreeMap;

use synod_paxos::{BatchId, ClusterConfig, Command, NodeId, Slot};

use super::Violation;

pub fn check_apply(
    proposed: &BTreeMap<BatchId, Vec<u8>>,
    configs: &[ClusterConfig],
    node: NodeId,
    slot: Slot,
    command: &Command,
) -> Result<(), Violation> {
    let ok = match command {
        Command::Noop => true,
        Command::Config(c) => configs.contains(c),
        Command::Members(book) => configs.contains(&book.config),
        Command::Batch(batch) => proposed.get(&batch.id).is_some_and(|bytes| *bytes == batch.bytes),
    };
    if ok {
        Ok(())
    } else {
        Err(Violation::new(
            "validity",
            format!("node {node} applied unproposed {} at slot {slot}", super::agreement::describe(command)),
        ))
    }
}
