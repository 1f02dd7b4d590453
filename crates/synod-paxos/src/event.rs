//! What drives the replica in, and what it asks the driver to do.

use crate::ballot::{Ballot, NodeId, Slot};
use crate::command::Command;
use crate::durable::{PersistOp, PersistToken};
use crate::error::{ProposeError, ReadError};
use crate::message::{Message, Snapshot};
use crate::validate::Refusal;

/// Input to `Replica::step`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Time passed; the driver sends one every few milliseconds (10 ms is
    /// plenty). Timers fire on ticks only.
    Tick,
    /// A message from a peer (`message.to` must be this replica).
    Receive(Message),
    /// Every persist with token <= this one is durable.
    Persisted(PersistToken),
    /// Client proposal; answered by `Proposed` or `ProposeRejected`.
    Propose { request_id: u64, command: Command },
    /// Linearizable read; answered by `ReadReady` or `ReadRejected`.
    ReadIndex { request_id: u64 },
    /// The state machine durably snapshotted everything up to `upto_slot`
    /// (which must be <= the applied index); log and accepted entries at or
    /// below it may go.
    Compact { upto_slot: Slot },
    /// The driver's answer to `Action::SnapshotNeeded { to }`.
    SnapshotReady { to: NodeId, snapshot: Snapshot },
    /// The driver's answer to `Action::InstallSnapshot`: the state machine
    /// now durably holds every slot up to `upto_slot`. That is the
    /// snapshot's `last_slot` when the install completed, and less (possibly
    /// the unchanged applied index) when it stopped early; the replica then
    /// resumes catching up from `upto_slot + 1`.
    SnapshotInstalled { upto_slot: Slot },
    /// The state machine finished applying every slot up to `upto_slot`
    /// (at most the last `Apply` handed to it). The replica hands out at
    /// most `Limits::apply_ahead_max` slots beyond the last report, so a
    /// driver that never sends this sees applies stop there.
    Applied { upto_slot: Slot },
    /// `node` is joining (or may join) the cluster: the leader sends it
    /// heartbeats and serves its fetches, and tracks how far it got, so a
    /// `Config` adding it can be checked (`ReconfigError::
    /// LearnerNotCaughtUp`). Feed it to every member (any may lead).
    AddLearner { node: NodeId },
    /// Stop treating `node` as a learner (it joined, or the join was
    /// abandoned).
    RemoveLearner { node: NodeId },
}

/// Output of `Replica::step`, to be executed in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Write `op` durably; report `Event::Persisted(token)` once it (and all
    /// earlier tokens) are durable.
    Persist {
        token: PersistToken,
        op: PersistOp,
    },
    /// Send `message` to `message.to`, best effort. Everything it depends on
    /// is already durable.
    Send(Message),
    /// `command` is chosen for `slot`; apply it. Slots arrive in order with
    /// no gaps (after a snapshot install, from `last_slot + 1`).
    Apply {
        slot: Slot,
        command: Command,
    },
    /// Bring the state machine up to `snapshot` (it may take long: fetch,
    /// verify, write) and answer `Event::SnapshotInstalled` with how far it
    /// durably got. Until then the replica applies, fetches and campaigns
    /// for nothing, so the driver never sees an `Apply` interleaved with an
    /// install; it treats no slot as applied that the state machine does not
    /// durably hold. No `Apply` comes for slots up to the installed slot: a
    /// driver waiting on a proposal in that range must look it up in the
    /// restored state (and treat it as not applied in that slot if absent).
    InstallSnapshot {
        snapshot: crate::message::Snapshot,
    },
    /// Peer `to` needs slots this replica compacted. Answer with
    /// `Event::SnapshotReady { to, .. }` carrying the current snapshot.
    SnapshotNeeded {
        to: NodeId,
    },
    /// The proposal got `slot`. It is chosen only when `Apply` for that slot
    /// carries it (a leader change may fill the slot with another value).
    Proposed {
        request_id: u64,
        slot: Slot,
    },
    ProposeRejected {
        request_id: u64,
        error: ProposeError,
    },
    /// Serve the read once the applied index is >= `index` (it already is
    /// when this action is emitted).
    ReadReady {
        request_id: u64,
        index: Slot,
    },
    ReadRejected {
        request_id: u64,
        error: ReadError,
    },
    /// This replica's view of leadership changed (for logs and metrics).
    RoleChanged {
        role: RoleKind,
        ballot: Ballot,
    },
    /// A peer's message failed validation (`validate.rs`) and changed
    /// nothing. A refusal means a faulty or malicious member (or a bug): the
    /// driver counts it, and may disconnect a peer that keeps sending them.
    MessageRefused {
        from: NodeId,
        reason: Refusal,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleKind {
    Follower,
    Candidate,
    Leader,
}
