//! Every bound the replica enforces, in one place. Each has a test in
//! `tests/limits.rs`.

use serde::{Deserialize, Serialize};

/// Fixed per-message overhead assumed by the size estimate (header fields,
/// enum tags, varints). Generous on purpose: the estimate must never be
/// below the real postcard encoding.
pub const MESSAGE_OVERHEAD_BYTES: usize = 64;
/// Per log entry overhead in the size estimate (slot, ballot, tags, length).
pub const ENTRY_OVERHEAD_BYTES: usize = 48;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Leader only: slots proposed but not yet known chosen
    /// (`next_slot - 1 - commit_index`). New proposals beyond it fail with
    /// `ProposeError::TooManyInflight`.
    pub inflight_slots_max: u64,
    /// Largest `Batch::bytes` accepted by `Propose`.
    pub value_bytes_max: usize,
    /// Largest estimated encoded message. Fetch replies and promises are
    /// cut to fit. An `InstallSnapshot` is not cut (its blob is the
    /// driver's), but a receiver refuses any message above it, that one
    /// included (`validate.rs`).
    pub message_bytes_max: usize,
    /// Messages held for durability, per destination. Past it new messages
    /// to that peer are dropped; retransmission recovers them.
    pub outbound_per_peer_max: usize,
    /// Entries in one `FetchReply` (catch-up chunk).
    pub fetch_entries_max: usize,
    /// Entries in one `Promise`. A promise that would need more is sent
    /// truncated and the candidate abandons the election to catch up first.
    pub promise_entries_max: usize,
    /// Read-index requests waiting at the leader.
    pub pending_reads_max: usize,
    /// Accept retransmissions per peer per tick.
    pub retransmit_per_tick_max: usize,
    /// Slots handed to the driver as `Action::Apply` but not yet reported
    /// applied (`Event::Applied`). The replica emits no `Apply` past it,
    /// fetches no further ahead than it allows, and a leader whose own
    /// applier lags that far refuses new proposals (`TooManyInflight`), so
    /// the driver's apply queue and the chosen-but-unapplied log stay
    /// bounded.
    #[serde(default = "default_apply_ahead_max")]
    pub apply_ahead_max: u64,
    /// A `Config` adding a member is proposed only if that node (a learner)
    /// acknowledged a commit index at most this many slots below the
    /// leader's (`ReconfigError::LearnerNotCaughtUp`), so the new member
    /// can vote soon after it is counted.
    #[serde(default = "default_learner_lag_slots_max")]
    pub learner_lag_slots_max: u64,
}

fn default_learner_lag_slots_max() -> u64 {
    64
}

fn default_apply_ahead_max() -> u64 {
    64
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            inflight_slots_max: 64,
            value_bytes_max: 1 << 20,
            message_bytes_max: 8 << 20,
            outbound_per_peer_max: 1024,
            fetch_entries_max: 128,
            promise_entries_max: 512,
            pending_reads_max: 1024,
            retransmit_per_tick_max: 64,
            apply_ahead_max: default_apply_ahead_max(),
            learner_lag_slots_max: default_learner_lag_slots_max(),
        }
    }
}

/// Time constants, all in milliseconds of the driver's monotonic clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timing {
    /// Election timeouts are drawn uniformly from `[min, max)`.
    pub election_timeout_min_ms: u64,
    pub election_timeout_max_ms: u64,
    /// Leader heartbeat period; must be well under `election_timeout_min_ms`.
    pub heartbeat_interval_ms: u64,
    /// Leader resends an unacknowledged Accept after this long.
    pub retransmit_interval_ms: u64,
    /// A catch-up fetch with no reply is retried after this long.
    pub fetch_timeout_ms: u64,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            election_timeout_min_ms: 150,
            election_timeout_max_ms: 300,
            heartbeat_interval_ms: 50,
            retransmit_interval_ms: 100,
            fetch_timeout_ms: 100,
        }
    }
}
