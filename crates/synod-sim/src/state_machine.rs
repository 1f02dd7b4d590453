//! The simulated state machine: an append-only log of batch ids with
//! deterministic de-duplication (a batch id applies at its first slot only;
//! later copies from client retries are skipped on every replica alike).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use synod_paxos::{BatchId, Command, Slot, Snapshot};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogMachine {
    pub applied_index: Slot,
    /// Effective slot of every applied batch id.
    pub ids: BTreeMap<BatchId, Slot>,
    /// Copies skipped as duplicates.
    pub duplicates: u64,
}

/// What applying one command did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    Batch { id: BatchId, effective_slot: Slot, duplicate: bool },
    Other,
}

impl LogMachine {
    pub fn apply(&mut self, slot: Slot, command: &Command) -> Applied {
        assert_eq!(slot, self.applied_index + 1, "apply out of order or with a gap");
        self.applied_index = slot;
        match command {
            Command::Batch(batch) => {
                let effective_slot = *self.ids.entry(batch.id).or_insert(slot);
                let duplicate = effective_slot != slot;
                if duplicate {
                    self.duplicates += 1;
                }
                Applied::Batch { id: batch.id, effective_slot, duplicate }
            }
            Command::Noop | Command::Config(_) => Applied::Other,
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot { last_slot: self.applied_index, bytes: postcard::to_allocvec(self).expect("encodes") }
    }

    pub fn restore(snapshot: &Snapshot) -> LogMachine {
        let machine: LogMachine = postcard::from_bytes(&snapshot.bytes).expect("snapshot decodes");
        assert_eq!(machine.applied_index, snapshot.last_slot);
        machine
    }
}
