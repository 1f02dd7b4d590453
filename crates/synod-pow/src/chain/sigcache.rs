//! A bounded set of transfer records whose shape and signature already
//! verified, so a transfer seen in the mempool, then in a block, then again in
//! a reorg costs one Ed25519 verification.

use std::collections::{HashSet, VecDeque};

use synod_core::{AuthMode, Hash, RejectReason, SignedTransfer};

/// Remembers up to `capacity` verified records (oldest forgotten first).
#[derive(Clone, Debug)]
pub struct SigCache {
    seen: HashSet<Hash>,
    order: VecDeque<Hash>,
    capacity: usize,
}

impl SigCache {
    /// An empty cache; `capacity` 0 verifies every time.
    pub fn new(capacity: usize) -> SigCache {
        SigCache { seen: HashSet::new(), order: VecDeque::new(), capacity }
    }

    /// Shape and signature checks of [`SignedTransfer::verify`] under `auth`,
    /// skipped for a record (signing bytes and signature, as its leaf hash
    /// covers them) that passed before.
    pub fn verify(&mut self, tx: &SignedTransfer, auth: AuthMode) -> Result<(), RejectReason> {
        let key = tx.leaf_hash();
        if self.seen.contains(&key) {
            return Ok(());
        }
        tx.clone().verify(auth)?;
        if self.capacity > 0 {
            if self.order.len() == self.capacity {
                let old = self.order.pop_front().expect("full cache has an oldest entry");
                self.seen.remove(&old);
            }
            self.seen.insert(key);
            self.order.push_back(key);
        }
        assert!(self.seen.len() == self.order.len() && self.order.len() <= self.capacity, "cache bound");
        Ok(())
    }

    /// Records remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True if nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}
