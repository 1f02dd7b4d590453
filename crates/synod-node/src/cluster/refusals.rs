//! What the node does with a peer message it refused: name the reason, log
//! it at a bounded rate, and score it against the peer, which is
//! disconnected for a while once it sends too many.
//!
//! A refusal means a faulty or malicious member (or a bug): honest members
//! send none. The ban is the transport's (`Transport::ban`): the peer's
//! connections close and nothing is sent to it until the ban ends. Paxos
//! tolerates a missing member, and every request is retried after the ban.

use std::collections::BTreeMap;

use synod_paxos::{NodeId, Refusal};
use synod_storage::snapshot::SnapshotDescriptor;

/// Refusals from one peer within `REFUSAL_WINDOW_MS` that get it banned.
pub const REFUSALS_BAN_THRESHOLD: u32 = 50;
/// The scoring window: refusals older than this no longer count.
pub const REFUSAL_WINDOW_MS: u64 = 10_000;
/// How long a banned peer stays disconnected.
pub const REFUSAL_BAN_MS: u64 = 60_000;
/// At most one warning per peer and reason per this long; the next one says
/// how many were suppressed in between.
pub const REFUSAL_LOG_INTERVAL_MS: u64 = 10_000;

/// Why the node refused a peer's message: the replica's validator, or one of
/// the node's own checks in front of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeerRefusal {
    Paxos(Refusal),
    /// `message.from` is not the peer the transport authenticated.
    ForgedSender,
    /// An `InstallSnapshot` whose bytes are no snapshot descriptor.
    DescriptorUndecodable,
    /// The descriptor's `source` is not a member, or is this node.
    DescriptorSource,
    /// The descriptor's `last_slot` is not the Paxos snapshot's.
    DescriptorLastSlot,
    /// The descriptor's configuration is invalid or not ours.
    DescriptorConfig,
}

impl PeerRefusal {
    /// Stable name: the `reason` label of `synod_peer_messages_refused_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            PeerRefusal::Paxos(reason) => reason.as_str(),
            PeerRefusal::ForgedSender => "forged_sender",
            PeerRefusal::DescriptorUndecodable => "descriptor_undecodable",
            PeerRefusal::DescriptorSource => "descriptor_source",
            PeerRefusal::DescriptorLastSlot => "descriptor_last_slot",
            PeerRefusal::DescriptorConfig => "descriptor_config",
        }
    }
}

/// Checks the snapshot descriptor an `InstallSnapshot` carries (opaque bytes
/// to Paxos) before the replica sees the message, so a bad one never makes
/// the replica enter `installing` nor reaches the applier, which indexes its
/// member map with `source`.
pub fn check_descriptor(
    bytes: &[u8],
    last_slot: synod_paxos::Slot,
    own_id: NodeId,
    members: &[NodeId],
) -> Result<SnapshotDescriptor, PeerRefusal> {
    let descriptor = SnapshotDescriptor::decode(bytes).map_err(|_| PeerRefusal::DescriptorUndecodable)?;
    if descriptor.source == own_id || !members.contains(&descriptor.source) {
        return Err(PeerRefusal::DescriptorSource);
    }
    if descriptor.last_slot != last_slot {
        return Err(PeerRefusal::DescriptorLastSlot);
    }
    if let Some(config) = &descriptor.config {
        // Membership is fixed: the only valid configuration is ours (which
        // the replica's options validated: 3..=7 members, no duplicates).
        if config.members != members || config.slot == 0 {
            return Err(PeerRefusal::DescriptorConfig);
        }
    }
    Ok(descriptor)
}

/// What to do about one refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Log a warning now, mentioning this many suppressed since the last.
    pub log_with_suppressed: Option<u64>,
    /// Disconnect the peer for `REFUSAL_BAN_MS`.
    pub ban: bool,
}

#[derive(Debug, Default)]
struct PeerScore {
    window_start_ms: u64,
    in_window: u32,
}

#[derive(Debug)]
struct LogState {
    last_logged_ms: u64,
    suppressed: u64,
}

/// Per-peer refusal counts in fixed windows, and the warning rate limit.
/// State is bounded: one score per peer id and one log entry per (peer,
/// reason), both finite sets.
#[derive(Debug, Default)]
pub struct RefusalScorer {
    scores: BTreeMap<NodeId, PeerScore>,
    logs: BTreeMap<(NodeId, &'static str), LogState>,
}

impl RefusalScorer {
    /// Records one refusal from `peer` at `now_ms` (a monotonic clock).
    pub fn record(&mut self, peer: NodeId, reason: PeerRefusal, now_ms: u64) -> Verdict {
        let score = self.scores.entry(peer).or_default();
        if now_ms.saturating_sub(score.window_start_ms) >= REFUSAL_WINDOW_MS || score.in_window == 0 {
            score.window_start_ms = now_ms;
            score.in_window = 0;
        }
        score.in_window = score.in_window.saturating_add(1);
        let ban = score.in_window >= REFUSALS_BAN_THRESHOLD;
        if ban {
            // A fresh count once the ban ends.
            score.in_window = 0;
        }
        let log_with_suppressed = match self.logs.get_mut(&(peer, reason.as_str())) {
            None => {
                self.logs.insert((peer, reason.as_str()), LogState { last_logged_ms: now_ms, suppressed: 0 });
                Some(0)
            }
            Some(state) if now_ms.saturating_sub(state.last_logged_ms) >= REFUSAL_LOG_INTERVAL_MS => {
                let suppressed = std::mem::take(&mut state.suppressed);
                state.last_logged_ms = now_ms;
                Some(suppressed)
            }
            Some(state) => {
                state.suppressed = state.suppressed.saturating_add(1);
                None
            }
        };
        Verdict { log_with_suppressed, ban }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRONG: PeerRefusal = PeerRefusal::Paxos(Refusal::WrongRecipient);

    #[test]
    fn bans_at_the_threshold_and_not_before() {
        let mut scorer = RefusalScorer::default();
        for i in 0..REFUSALS_BAN_THRESHOLD - 1 {
            assert!(!scorer.record(2, WRONG, u64::from(i)).ban, "banned after {} refusals", i + 1);
        }
        assert!(scorer.record(2, WRONG, 100).ban, "not banned at the threshold");
        // The count starts over after a ban.
        assert!(!scorer.record(2, WRONG, 101).ban);
    }

    #[test]
    fn refusals_spread_over_windows_never_ban() {
        let mut scorer = RefusalScorer::default();
        let mut now_ms = 0;
        for _ in 0..10 {
            for _ in 0..REFUSALS_BAN_THRESHOLD - 1 {
                assert!(!scorer.record(3, WRONG, now_ms).ban);
            }
            now_ms += REFUSAL_WINDOW_MS;
        }
    }

    #[test]
    fn peers_are_scored_apart() {
        let mut scorer = RefusalScorer::default();
        for _ in 0..REFUSALS_BAN_THRESHOLD - 1 {
            assert!(!scorer.record(2, WRONG, 0).ban);
            assert!(!scorer.record(3, PeerRefusal::ForgedSender, 0).ban);
        }
        assert!(scorer.record(3, PeerRefusal::ForgedSender, 1).ban);
    }

    #[test]
    fn warnings_are_rate_limited_per_peer_and_reason_with_a_suppressed_count() {
        let mut scorer = RefusalScorer::default();
        assert_eq!(scorer.record(2, WRONG, 0).log_with_suppressed, Some(0));
        assert_eq!(scorer.record(2, WRONG, 1).log_with_suppressed, None);
        assert_eq!(scorer.record(2, WRONG, 2).log_with_suppressed, None);
        // Another reason or another peer has its own budget.
        assert_eq!(scorer.record(2, PeerRefusal::ForgedSender, 3).log_with_suppressed, Some(0));
        assert_eq!(scorer.record(4, WRONG, 3).log_with_suppressed, Some(0));
        assert_eq!(scorer.record(2, WRONG, REFUSAL_LOG_INTERVAL_MS).log_with_suppressed, Some(2));
    }

    fn descriptor(source: u8, last_slot: u64, members: Option<Vec<u8>>) -> Vec<u8> {
        SnapshotDescriptor {
            last_slot,
            height: 3,
            head_hash: synod_core::BlockHash([0; 32]),
            source,
            config: members.map(|members| synod_storage::AppliedConfig { slot: 1, members }),
        }
        .encode()
    }

    #[test]
    fn descriptors_are_checked_before_the_replica_sees_them() {
        let members = [1, 2, 3];
        assert!(check_descriptor(&descriptor(2, 9, Some(vec![1, 2, 3])), 9, 1, &members).is_ok());
        assert_eq!(check_descriptor(&[7, 7], 9, 1, &members), Err(PeerRefusal::DescriptorUndecodable));
        assert_eq!(check_descriptor(&descriptor(9, 9, None), 9, 1, &members), Err(PeerRefusal::DescriptorSource));
        assert_eq!(check_descriptor(&descriptor(1, 9, None), 9, 1, &members), Err(PeerRefusal::DescriptorSource));
        assert_eq!(check_descriptor(&descriptor(2, 8, None), 9, 1, &members), Err(PeerRefusal::DescriptorLastSlot));
        assert_eq!(
            check_descriptor(&descriptor(2, 9, Some(vec![1, 2, 2])), 9, 1, &members),
            Err(PeerRefusal::DescriptorConfig)
        );
    }
}
