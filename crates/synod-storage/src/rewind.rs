//! Rewinding a store to an earlier state, for fuzzing: a target that runs
//! every input against the same starting store rewinds one open in-memory
//! store (a redb savepoint) instead of opening a fresh copy per input, which
//! cost more than the code under test. A node never uses this.

use crate::{OpenError, Store, StoreError};

/// A state of the store to come back to (a redb ephemeral savepoint: it
/// lives as long as this value).
pub struct Rewind {
    savepoint: redb::Savepoint,
}

fn savepoint_error(e: redb::SavepointError) -> StoreError {
    StoreError::Inconsistent(format!("savepoint: {e}"))
}

impl Store {
    /// A store on redb's in-memory backend: nothing touches the disk, and
    /// commits and syncs are memory operations.
    #[doc(hidden)]
    pub fn open_in_memory() -> Result<Store, OpenError> {
        Store::open_with_backend(redb::backends::InMemoryBackend::new())
    }

    /// Marks the current state to rewind to.
    #[doc(hidden)]
    pub fn rewind_point(&self) -> Result<Rewind, StoreError> {
        let txn = self.db.begin_write()?;
        let savepoint = txn.ephemeral_savepoint().map_err(savepoint_error)?;
        txn.abort()?;
        Ok(Rewind { savepoint })
    }

    /// Brings the store back to `point`, durably: every write since is gone
    /// (`durable_applied_slot`, a high-water mark, is not rewound). Take a
    /// fresh point after each rewind: while a savepoint lives, redb frees no
    /// page that became unused after it, so rewinding to one point again and
    /// again grows the database (about 1 MiB per fuzz input) and slows every
    /// restore.
    #[doc(hidden)]
    pub fn rewind(&self, point: &Rewind) -> Result<(), StoreError> {
        let mut txn = self.db.begin_write()?;
        txn.restore_savepoint(&point.savepoint).map_err(savepoint_error)?;
        self.commit_durable(txn)
    }
}

#[cfg(test)]
mod tests {
    use synod_core::genesis::Allocation;
    use synod_core::{AccountId, AuthMode, Genesis};

    use super::*;

    #[test]
    fn a_rewound_store_is_back_at_its_point_again_and_again() {
        let store = Store::open_in_memory().unwrap();
        let allocations = vec![Allocation { account: AccountId([1; 32]), amount: 100, policy: None }];
        store.init(&Genesis { chain_id: 1, auth: AuthMode::None, timestamp_ms: 0, allocations }).unwrap();
        let point = store.rewind_point().unwrap();
        for round in 1..=3u64 {
            store.append_group(&[], Some(round * 10), None).unwrap();
            assert_eq!(store.applied_slot().unwrap(), round * 10);
            store.rewind(&point).unwrap();
            assert_eq!(store.applied_slot().unwrap(), 0, "round {round}");
            assert_eq!(store.head_height().unwrap(), 0);
        }
    }
}
