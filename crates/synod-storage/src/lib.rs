//! Durable storage for a Synod node, on redb.
//!
//! One redb write transaction per block, committed with `Durability::Immediate`
//! (fsync) before any client hears that its transfer is committed. Because a
//! block carries many transfers, one fsync covers all of them: that is the
//! group commit. Every stored value carries a CRC-32C of its table, key and
//! payload, so a torn or corrupted value is reported as [`StoreError::Corrupt`]
//! and never used.

pub mod applied_config;
pub mod audit;
pub mod checksum;
pub mod crash_backend;
pub mod error;
pub mod paxos_log;
pub mod pow_store;
pub mod snapshot;
pub mod store;
mod tables;

pub use applied_config::AppliedConfig;
pub use error::{OpenError, StoreError};
pub use pow_store::{PowStore, StoredPowBlock};
pub use store::{BlockWrite, Loaded, Store};
