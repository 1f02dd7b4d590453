//! Block and transfer gossip with headers-first sync, sans-IO: the same
//! code runs in the simulator ([`crate::sim`]) and in the node runtime.
//!
//! Bitcoin's design is the model (PROTOCOL.md 8.1):
//!
//! - **Relay** (`Inv`/`GetData`): a node announces a new best tip or a new
//!   mempool transfer by hash to every peer not known to have it; peers ask
//!   for what they lack; blocks are asked of one peer at a time, within
//!   `blocks_in_flight_per_peer`, and asked of another on timeout.
//! - **Headers-first sync** (`GetHeaders`/`Headers`): on connect, when an
//!   announced block's parent is unknown, and on a slow poll, a node sends a
//!   block locator; the peer answers with up to `headers_max` headers of
//!   its best chain after the fork point. Headers that link and meet their
//!   own target join the download plan; a full batch asks for the next one.
//! - **Misbehaviour**: provably bad data (context-free invalid blocks,
//!   unlinked or under-target headers, undecodable bytes) costs 100 points,
//!   oversize messages 50, repeated unconnecting headers 20, unrequested
//!   duplicate blocks and oversize `Inv`s 10. At `ban_threshold` the driver
//!   gets one `Ban` and the peer's messages are ignored until it ends.
//!   Blocks refused because of our clock or chain state cost nothing.
//!
//! Every map, set and queue is bounded by [`GossipLimits`]. Nothing here
//! reads a clock or draws a random number: the driver passes `now_ms` (and
//! `now_secs` for the chain), and peers are visited in id order.

pub mod action;
mod blocks;
pub mod bounded_set;
#[allow(clippy::module_inception)]
mod gossip;
mod header_store;
mod in_flight;
pub mod limits;
mod locator;
pub mod message;
pub mod misbehaviour;
mod peer;
mod relay;
mod sync;
mod wire;

pub use action::{GossipAction, GossipEvent, GossipStats, PeerSummary};
pub use gossip::Gossip;
pub use limits::{GossipLimits, GossipLimitsError};
pub use message::{GossipMsg, HeaderBytes, InvItem, PeerId, WireError, MESSAGE_BYTES_MAX};
pub use misbehaviour::Misbehaviour;
