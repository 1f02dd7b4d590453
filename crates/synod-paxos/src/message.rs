//! Peer-to-peer messages. Every message names its sender and receiver; the
//! node runtime frames them (postcard over TCP) and the simulator passes them
//! by value. Loss, duplication and reordering are all tolerated: every
//! handler is idempotent and every request is retried by a timer.
//!
//! | message | sender → receiver | durable before send? |
//! |---|---|---|
//! | `Prepare` | candidate → all | yes: the candidate's own promise of `ballot` |
//! | `Promise` | acceptor → candidate | yes: `promised >= ballot` |
//! | `Nack` | acceptor → proposer | no (informational) |
//! | `Accept` | leader → all | no (the leader's ballot was made durable by its Prepare) |
//! | `Accepted` | acceptor → leader | yes: the accepted entry and the promise |
//! | `Heartbeat` | leader → all | no |
//! | `HeartbeatAck` | follower → leader | no |
//! | `Fetch` | learner → any | no |
//! | `FetchReply` | any → learner | no (carries chosen values only) |
//! | `InstallSnapshot` | any → learner | no |
//! | `PreVote` | would-be candidate → all | no (changes no state anywhere) |
//! | `PreVoteReply` | member → would-be candidate | no (changes no state anywhere) |

use serde::{Deserialize, Serialize};

use crate::ballot::{Ballot, NodeId, Slot};
use crate::command::{ChosenConfig, Command};
use crate::limits::{ENTRY_OVERHEAD_BYTES, MESSAGE_OVERHEAD_BYTES};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub from: NodeId,
    pub to: NodeId,
    pub body: Body,
}

/// One accepted (or known chosen) value reported in a `Promise`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromiseEntry {
    pub slot: Slot,
    /// Ballot of the acceptor's accepted entry (`Ballot::ZERO` when the
    /// value is known chosen but the acceptor has no accepted entry).
    pub ballot: Ballot,
    pub command: Command,
    /// The acceptor knows this value is chosen. A chosen value wins over any
    /// ballot: it is the only value Phase 1 could ever select for the slot.
    pub chosen: bool,
}

/// The state machine's snapshot, opaque to consensus: `bytes` reflect every
/// command of slots `1..=last_slot`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub last_slot: Slot,
    pub bytes: Vec<u8>,
    /// The configuration chosen at or below `last_slot`, if any. The sending
    /// replica fills it in (`Event::SnapshotReady`); drivers leave it `None`.
    pub config: Option<ChosenConfig>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Body {
    /// Phase 1a. "Promise not to accept below `ballot`, and tell me what you
    /// accepted at or above `from_slot`" (the candidate's first unchosen slot).
    Prepare { ballot: Ballot, from_slot: Slot },
    /// Phase 1b, sent only once `promised >= ballot` is durable.
    /// `entries` lists every accepted or known-chosen slot `>= from_slot`
    /// unless `truncated` (more than `promise_entries_max` or
    /// `message_bytes_max`) or `compacted_upto >= from_slot` (the acceptor no
    /// longer has those slots). In either case the candidate cannot complete
    /// Phase 1 and must catch up first.
    Promise {
        ballot: Ballot,
        from_slot: Slot,
        entries: Vec<PromiseEntry>,
        truncated: bool,
        compacted_upto: Slot,
        commit_index: Slot,
    },
    /// "I promised `promised`, which is above your `ballot`" (step down), or,
    /// with `promised <= ballot`, "slot `slot` is compacted here; my commit
    /// index is `commit_index`" (fetch from me).
    Nack { ballot: Ballot, promised: Ballot, slot: Slot, commit_index: Slot },
    /// Phase 2a for one slot. `commit_index` is the leader's commit index:
    /// every slot up to it is chosen.
    Accept { ballot: Ballot, slot: Slot, command: Command, commit_index: Slot },
    /// Phase 2b, sent only once the accepted entry is durable.
    Accepted { ballot: Ballot, slot: Slot },
    /// Leader liveness, commit propagation and read-index confirmation
    /// (`seq` numbers heartbeat rounds).
    Heartbeat { ballot: Ballot, commit_index: Slot, seq: u64 },
    /// "I have not promised above `ballot`", echoing `seq`.
    HeartbeatAck { ballot: Ballot, seq: u64, commit_index: Slot },
    /// Catch-up: "send me chosen values from `from_slot` on".
    Fetch { from_slot: Slot },
    /// Chosen values `from_slot..` (contiguous, possibly empty), and the
    /// sender's commit index so the learner knows whether to ask again.
    FetchReply { from_slot: Slot, entries: Vec<(Slot, Command)>, commit_index: Slot },
    /// The sender compacted the requested slots; here is its snapshot.
    InstallSnapshot { snapshot: Snapshot },
    /// Pre-vote (Raft thesis §9.6): "would you promise `ballot` if I sent a
    /// `Prepare` now? My commit index is `commit_index`." Neither side
    /// raises, persists or records anything: a node cut off from the cluster
    /// asks in vain and keeps its ballot where it was.
    PreVote { ballot: Ballot, commit_index: Slot },
    /// "I would (`granted`) or would not promise `ballot`; my promise is
    /// `promised`." Granted only if `ballot > promised`, no live leader was
    /// heard within the minimum election timeout, and the asker's commit
    /// index is at least the member's.
    PreVoteReply { ballot: Ballot, granted: bool, promised: Ballot },
}

impl Body {
    /// Short name for traces and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Prepare { .. } => "Prepare",
            Body::Promise { .. } => "Promise",
            Body::Nack { .. } => "Nack",
            Body::Accept { .. } => "Accept",
            Body::Accepted { .. } => "Accepted",
            Body::Heartbeat { .. } => "Heartbeat",
            Body::HeartbeatAck { .. } => "HeartbeatAck",
            Body::Fetch { .. } => "Fetch",
            Body::FetchReply { .. } => "FetchReply",
            Body::InstallSnapshot { .. } => "InstallSnapshot",
            Body::PreVote { .. } => "PreVote",
            Body::PreVoteReply { .. } => "PreVoteReply",
        }
    }

    /// An upper bound on the encoded size (postcard), used for
    /// `Limits::message_bytes_max`.
    pub fn size_bound(&self) -> usize {
        let entries: usize = match self {
            Body::Promise { entries, .. } => entries.iter().map(|e| entry_bound(&e.command)).sum(),
            Body::Accept { command, .. } => entry_bound(command),
            Body::FetchReply { entries, .. } => entries.iter().map(|(_, c)| entry_bound(c)).sum(),
            Body::InstallSnapshot { snapshot } => {
                let config = snapshot.config.as_ref().map_or(0, |c| c.config.members.len() + ENTRY_OVERHEAD_BYTES);
                snapshot.bytes.len() + ENTRY_OVERHEAD_BYTES + config
            }
            _ => 0,
        };
        MESSAGE_OVERHEAD_BYTES + entries
    }
}

/// Size bound of one log entry carrying `command`.
pub fn entry_bound(command: &Command) -> usize {
    // A config member id is one byte; a batch adds its id and length prefix,
    // both inside the per-entry overhead.
    ENTRY_OVERHEAD_BYTES + command.payload_bytes()
}
