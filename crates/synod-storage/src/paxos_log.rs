//! The acceptor's durable state for Multi-Paxos: the promised ballot and the
//! accepted (slot, ballot, command) entries, plus the slot the ledger has
//! applied. `persist_paxos` writes a group of `PersistOp`s in one fsynced
//! transaction, so a whole group survives a crash or none of it does, and
//! groups become durable in order (redb commits are serial).

use redb::{ReadableTable, TableDefinition};
use synod_paxos::{AcceptedEntry, Ballot, DurableState, PersistOp};

use crate::checksum::seal;
use crate::{Store, StoreError};

/// "promised" -> postcard(Ballot).
pub(crate) const PAXOS: TableDefinition<&str, &[u8]> = TableDefinition::new("paxos");
/// slot -> postcard(AcceptedEntry).
pub(crate) const PAXOS_ACCEPTED: TableDefinition<u64, &[u8]> = TableDefinition::new("paxos_accepted");
const PAXOS_NAME: &str = "paxos";
const ACCEPTED_NAME: &str = "paxos_accepted";

impl Store {
    /// Makes `ops` durable, in order, in one transaction.
    pub fn persist_paxos(&self, ops: &[PersistOp]) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write()?;
        {
            let mut meta = txn.open_table(PAXOS)?;
            let mut accepted = txn.open_table(PAXOS_ACCEPTED)?;
            for op in ops {
                match op {
                    PersistOp::Promise { ballot } => {
                        let bytes = postcard::to_allocvec(ballot).expect("ballot encodes");
                        meta.insert("promised", seal(PAXOS_NAME, b"promised", &bytes).as_slice())?;
                    }
                    PersistOp::Accept { slot, ballot, command } => {
                        let entry = AcceptedEntry { ballot: *ballot, command: command.clone() };
                        let bytes = postcard::to_allocvec(&entry).expect("entry encodes");
                        accepted.insert(*slot, seal(ACCEPTED_NAME, &slot.to_be_bytes(), &bytes).as_slice())?;
                    }
                    PersistOp::Truncate { upto } => {
                        let doomed: Vec<u64> =
                            accepted.range(..=*upto)?.map(|e| e.map(|(k, _)| k.value())).collect::<Result<_, _>>()?;
                        for slot in doomed {
                            accepted.remove(slot)?;
                        }
                    }
                }
            }
        }
        // Durable: this also makes every deferred ledger write before it
        // durable (`Store::commit_durable`).
        self.commit_durable(txn)
    }

    /// What `Replica::recover` needs. A record whose checksum fails marks the
    /// state `damaged` (the replica then only learns) instead of failing the start.
    pub fn load_paxos(&self) -> Result<DurableState, StoreError> {
        let txn = self.db.begin_read()?;
        let mut state = DurableState::default();
        match txn.open_table(PAXOS) {
            Ok(meta) => {
                if let Some(v) = meta.get("promised")? {
                    match self
                        .unseal(PAXOS_NAME, b"promised", v.value())
                        .ok()
                        .and_then(|p| postcard::from_bytes::<Ballot>(p).ok())
                    {
                        Some(b) => state.promised = b,
                        None => state.damaged = true,
                    }
                }
            }
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(state),
            Err(e) => return Err(e.into()),
        }
        if let Ok(accepted) = txn.open_table(PAXOS_ACCEPTED) {
            for entry in accepted.iter()? {
                let (k, v) = entry?;
                let slot = k.value();
                match self
                    .unseal(ACCEPTED_NAME, &slot.to_be_bytes(), v.value())
                    .ok()
                    .and_then(|p| postcard::from_bytes::<AcceptedEntry>(p).ok())
                {
                    Some(e) => {
                        state.accepted.insert(slot, e);
                    }
                    None => state.damaged = true,
                }
            }
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_paxos::{Batch, BatchId, Command};

    #[test]
    fn persisted_ops_replay_to_the_same_durable_state() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        assert_eq!(store.load_paxos().unwrap(), DurableState::default());
        let b1 = Ballot::new(1, 2);
        let b2 = Ballot::new(2, 1);
        let batch = |n: u64| Command::Batch(Batch { id: BatchId(n), bytes: vec![n as u8; 10] });
        let ops = vec![
            PersistOp::Promise { ballot: b1 },
            PersistOp::Accept { slot: 1, ballot: b1, command: batch(1) },
            PersistOp::Accept { slot: 2, ballot: b1, command: batch(2) },
            PersistOp::Promise { ballot: b2 },
            PersistOp::Accept { slot: 2, ballot: b2, command: Command::Noop },
            PersistOp::Accept { slot: 3, ballot: b2, command: batch(3) },
            PersistOp::Truncate { upto: 1 },
        ];
        store.persist_paxos(&ops[..3]).unwrap();
        store.persist_paxos(&ops[3..]).unwrap();
        let mut expected = DurableState::default();
        for op in &ops {
            expected.apply(op);
        }
        let mut got = store.load_paxos().unwrap();
        // The ledger, not this log, is the snapshot: load_paxos reports slot 0.
        expected.snapshot_slot = 0;
        got.snapshot_slot = 0;
        assert_eq!(got, expected);
        assert_eq!(got.promised, b2);
        assert_eq!(got.accepted.keys().copied().collect::<Vec<_>>(), vec![2, 3]);
    }
}
