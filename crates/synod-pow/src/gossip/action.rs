//! What the gossip core asks its driver to do ([`GossipAction`]), what it
//! reports ([`GossipEvent`], [`GossipStats`]) and how a peer looks from here
//! ([`PeerSummary`]).

use crate::chain::BlockOutcome;
use crate::gossip::message::{GossipMsg, PeerId};
use crate::gossip::misbehaviour::Misbehaviour;
use crate::hash::BlockHash;

/// An instruction for the driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GossipAction {
    /// Send `msg` to `to` (best effort: a lost message is recovered by timeouts and polls).
    Send {
        /// The peer.
        to: PeerId,
        /// The message.
        msg: GossipMsg,
    },
    /// Misbehaviour reached the threshold: the driver drops the connection
    /// and refuses this peer until `until_ms`.
    Ban {
        /// The peer.
        peer: PeerId,
        /// End of the ban, on the driver's clock (`now_ms`).
        until_ms: u64,
        /// The misbehaviour that crossed the threshold.
        reason: String,
    },
}

/// Something that happened, for logs, metrics and the simulator's checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GossipEvent {
    /// A block from a peer (or our miner: `peer` is `None`) went through
    /// [`crate::chain::ChainState::receive_block`].
    Block {
        /// Who sent it.
        peer: Option<PeerId>,
        /// Its hash.
        hash: BlockHash,
        /// The height its coinbase claims.
        height: u64,
        /// What the chain did with it.
        outcome: BlockOutcome,
    },
    /// A peer misbehaved.
    Misbehaved {
        /// The peer.
        peer: PeerId,
        /// What it did.
        what: Misbehaviour,
        /// Its score afterwards.
        ban_score: u32,
    },
}

/// A peer as the gossip core sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerSummary {
    /// The peer.
    pub peer: PeerId,
    /// Highest height the peer showed us (headers, blocks, announcements of blocks we know).
    pub best_height: u64,
    /// Its misbehaviour score.
    pub ban_score: u32,
    /// Blocks requested from it and not received.
    pub blocks_in_flight: usize,
    /// End of its ban, if banned now.
    pub banned_until_ms: Option<u64>,
}

/// Counters since start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GossipStats {
    /// Messages handled.
    pub messages_in: u64,
    /// Messages dropped unread: from banned or unknown peers.
    pub messages_ignored: u64,
    /// `Send` actions emitted.
    pub messages_out: u64,
    /// Blocks requested with `GetData`.
    pub blocks_requested: u64,
    /// Blocks received.
    pub blocks_received: u64,
    /// Block requests that timed out.
    pub block_timeouts: u64,
    /// Non-empty `Headers` messages accepted.
    pub header_batches: u64,
    /// Of those, full ones (`headers_max` headers: more were asked for).
    pub header_batches_full: u64,
    /// Headers added to the pending set.
    pub headers_accepted: u64,
    /// Misbehaviours scored.
    pub misbehaviours: u64,
    /// Bans issued.
    pub bans: u64,
    /// Connections ignored because `peers_max` peers were tracked.
    pub peers_refused: u64,
    /// Events dropped because nobody took them.
    pub events_dropped: u64,
}
