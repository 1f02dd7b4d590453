//! Simulated disk: an append-only record log per node.
//!
//! Fault model: appended records are volatile until a sync covers them; a
//! crash drops every unsynced record (a suffix: the disk never loses a record
//! while keeping a later one). Each record carries a CRC32 of its bytes. On
//! restart each record read is corrupted (one byte flipped) with the seed's
//! probability; the checksum detects it and the record counts as damaged.
//! Corruption is on the read path only: the stored bytes stay intact, so a
//! later restart may read them cleanly.

use rand::Rng;
use serde::{Deserialize, Serialize};
use synod_paxos::{DurableState, PersistOp, PersistToken, Snapshot};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum DiskRecord {
    Persist {
        token: PersistToken,
        op: PersistOp,
    },
    /// The state machine's recovery point. The ledger keeps its own durable
    /// store (`store.rs`), so the simulator writes a marker here
    /// (`LedgerMachine::marker`: height and head hash at `last_slot`).
    Snapshot {
        snapshot: Snapshot,
    },
}

#[derive(Clone, Debug)]
struct Stored {
    bytes: Vec<u8>,
    crc: u32,
    token: Option<PersistToken>,
}

#[derive(Clone, Debug, Default)]
pub struct Disk {
    records: Vec<Stored>,
    synced: usize,
}

/// What a restart reads back.
pub struct Recovered {
    pub durable: DurableState,
    pub snapshot: Option<Snapshot>,
    pub damaged_records: usize,
}

impl Disk {
    pub fn append(&mut self, record: &DiskRecord) {
        let bytes = postcard::to_allocvec(record).expect("encodes");
        let crc = crc32fast::hash(&bytes);
        let token = match record {
            DiskRecord::Persist { token, .. } => Some(*token),
            DiskRecord::Snapshot { .. } => None,
        };
        self.records.push(Stored { bytes, crc, token });
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn unsynced(&self) -> usize {
        self.records.len() - self.synced
    }

    /// Makes records `..upto` durable; returns the highest persist token
    /// among the records written by the current incarnation (`from..upto`).
    pub fn sync(&mut self, from: usize, upto: usize) -> Option<PersistToken> {
        assert!(upto <= self.records.len());
        self.synced = self.synced.max(upto);
        self.records[from.min(upto)..upto].iter().filter_map(|r| r.token).max()
    }

    pub fn crash(&mut self) {
        self.records.truncate(self.synced);
    }

    /// Replays the log; `corrupt_read` is the chance each read is corrupted.
    pub fn recover(&self, corrupt_read: f64, rng: &mut impl Rng) -> Recovered {
        assert_eq!(self.synced, self.records.len(), "recover only after a crash");
        let mut durable = DurableState::default();
        let mut snapshot: Option<Snapshot> = None;
        let mut damaged_records = 0;
        for stored in &self.records {
            let mut bytes = stored.bytes.clone();
            if corrupt_read > 0.0 && rng.gen_bool(corrupt_read) {
                let i = rng.gen_range(0..bytes.len());
                bytes[i] ^= 1 << rng.gen_range(0..8);
            }
            if crc32fast::hash(&bytes) != stored.crc {
                damaged_records += 1;
                continue;
            }
            match postcard::from_bytes::<DiskRecord>(&bytes).expect("checksummed record decodes") {
                DiskRecord::Persist { op, .. } => durable.apply(&op),
                DiskRecord::Snapshot { snapshot: s } => {
                    if snapshot.as_ref().is_none_or(|old| s.last_slot >= old.last_slot) {
                        snapshot = Some(s);
                    }
                }
            }
        }
        // The state machine restarts from the snapshot it can read; the
        // replica resumes from that same point.
        let snapshot_slot = snapshot.as_ref().map_or(0, |s| s.last_slot);
        if damaged_records == 0 {
            assert!(snapshot_slot >= durable.snapshot_slot, "truncate record without its snapshot");
        }
        durable.snapshot_slot = snapshot_slot;
        durable.accepted.retain(|slot, _| *slot > snapshot_slot);
        durable.damaged = damaged_records > 0;
        Recovered { durable, snapshot, damaged_records }
    }
}
