//! Durable storage for a Synod node, on redb.
//!
//! One redb write transaction per group of blocks. A single node commits it
//! with `Durability::Immediate` (fsync) before any client hears that its
//! transfer is committed; one fsync covers every transfer of the group (group
//! commit). A cluster member may defer it (`WriteDurability::Deferred`): its
//! durable record is the consensus log, and the ledger becomes durable behind,
//! with the next durable commit (`Store::durable_applied_slot`). Every stored value carries a CRC-32C of its table, key and
//! payload, so a torn or corrupted value is reported as [`StoreError::Corrupt`]
//! and never used.

pub mod applied_config;
pub mod audit;
pub mod checksum;
pub mod crash_backend;
pub mod error;
pub mod paxos_log;
pub mod pow_store;
pub mod rewind;
pub mod snapshot;
pub mod store;
mod tables;

pub use applied_config::AppliedConfig;
pub use error::{OpenError, StoreError};
pub use pow_store::{PowStore, StoredPowBlock};
pub use store::{BlockWrite, Loaded, Store, WriteDurability};
