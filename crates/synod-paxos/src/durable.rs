//! What the replica asks the driver to make durable, and what it needs back
//! on restart.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ballot::{Ballot, Slot};
use crate::command::{ChosenConfig, Command};

/// Identifies one `Action::Persist`. Tokens increase by one per persist
/// within one incarnation (they restart at 1 after `Replica::recover`).
/// Reporting `Event::Persisted(n)` means every persist with token <= n is
/// durable: the driver may coalesce (group commit) but never reorder.
pub type PersistToken = u64;

/// One durable write. The driver must apply them in token order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PersistOp {
    /// The acceptor promised not to accept ballots below `ballot`.
    Promise { ballot: Ballot },
    /// The acceptor accepted `command` for `slot` at `ballot`; replaces any
    /// earlier entry for `slot`.
    Accept { slot: Slot, ballot: Ballot, command: Command },
    /// Entries at or below `upto` may be dropped: the state machine's snapshot
    /// covers them. The driver must have made that snapshot durable before
    /// (or atomically with) this record.
    Truncate { upto: Slot },
}

/// An accepted value as kept by the acceptor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedEntry {
    pub ballot: Ballot,
    pub command: Command,
}

/// Everything `Replica::recover` needs: the replay of all durable
/// `PersistOp`s plus the state machine's snapshot point.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurableState {
    /// Highest durable `PersistOp::Promise`.
    pub promised: Ballot,
    /// Durable accepted entries above `snapshot_slot`.
    pub accepted: BTreeMap<Slot, AcceptedEntry>,
    /// Slot covered by the state machine's durable snapshot (0 if none).
    /// The replica resumes with commit and applied index here.
    pub snapshot_slot: Slot,
    /// The driver detected a damaged record (checksum mismatch) while
    /// reading. The replica then runs as a learner only for this incarnation:
    /// it never promises, accepts or proposes, since it cannot prove what it
    /// promised before. See the crate docs, "Damaged storage".
    pub damaged: bool,
    /// The configuration the state machine recorded as applied (the first
    /// `Command::Config` it applied, with its slot), if any. The chosen
    /// entry may be compacted, so this is the replica's only way to know
    /// the log's configuration after a restart. It must be at or below the
    /// state machine's applied slot.
    #[serde(default)]
    pub config: Option<ChosenConfig>,
}

impl DurableState {
    /// Folds one persisted op into the state, as a driver's replay would.
    pub fn apply(&mut self, op: &PersistOp) {
        match op {
            PersistOp::Promise { ballot } => {
                assert!(*ballot >= self.promised, "durable promise went backwards");
                self.promised = *ballot;
            }
            PersistOp::Accept { slot, ballot, command } => {
                assert!(*slot > 0);
                if *slot > self.snapshot_slot {
                    self.accepted.insert(*slot, AcceptedEntry { ballot: *ballot, command: command.clone() });
                }
            }
            PersistOp::Truncate { upto } => {
                self.accepted = self.accepted.split_off(&(upto + 1));
                self.snapshot_slot = self.snapshot_slot.max(*upto);
            }
        }
    }
}
