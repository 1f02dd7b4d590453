//! Ledger snapshots between cluster members (docs/PROTOCOL.md §7.6).
//!
//! A member that compacted its consensus log answers a lagging peer's fetch
//! with a Paxos `InstallSnapshot` whose bytes are only a
//! [`SnapshotDescriptor`]: the slot, height and head hash of the sender's
//! durable ledger. The receiver then pulls the blocks it lacks in bounded
//! [`chunk`]s, from the sender or any other member, and
//! [`Store::install_chunk`](crate::Store::install_chunk) verifies each block
//! (height, previous hash, slot order, `Ledger::apply_block` with signatures
//! checked, the final head hash) and makes it durable together with the slot
//! the ledger then reflects. Every committed chunk leaves a store that is a
//! consistent prefix of the sender's: a crash in the middle of an install
//! leaves a node that is merely behind.

pub mod chunk;
pub mod descriptor;
pub mod install;
pub mod stage;

pub use chunk::{Chunk, ChunkDecodeError, ChunkReadError, CHUNK_BYTES_MAX};
pub use descriptor::{DescriptorError, SnapshotDescriptor, DESCRIPTOR_BYTES, DESCRIPTOR_V2_BYTES_MIN};
pub use install::{InstallError, InstallProgress};
pub use stage::StageHead;
