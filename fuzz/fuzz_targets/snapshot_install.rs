//! Snapshot install (`Store::install_chunk`): a hostile chunk offered to a
//! receiver at genesis, against the fixture sender's descriptor. Every input
//! starts from the same state: one receiver store, in memory (redb's
//! in-memory backend), is rewound to its genesis savepoint after each input,
//! and its ledger is a clone of the genesis ledger (opening a fresh copy of a
//! store image per input cost more than the install itself). A chunk must
//! either be refused with a typed error or leave the receiver's ledger at
//! genesis (its blocks staged, unapplied) or equal to the sender's: no block
//! the sender does not hold is ever applied or written (issue 9).
//!
//! Input: `mode u8`, then the chunk: mode 0 as is; mode 1 a body to which
//! the target appends its valid CRC-32 (past the checksum, to the blocks).
#![no_main]

use std::sync::{Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use synod_core::Ledger;
use synod_fuzz_support::store::{genesis, sender, CHUNK_BYTES};
use synod_storage::rewind::Rewind;
use synod_storage::snapshot::SnapshotDescriptor;
use synod_storage::Store;

struct Fixture {
    sender: Store,
    descriptor: SnapshotDescriptor,
    /// The receiver, at genesis between inputs.
    receiver: Store,
    at_genesis: Rewind,
    genesis_ledger: Ledger,
}

fn fixture() -> &'static Mutex<Fixture> {
    static FIXTURE: OnceLock<Mutex<Fixture>> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (sender, descriptor, _) = sender();
        let receiver = Store::open_in_memory().expect("in-memory store opens");
        receiver.init(&genesis()).expect("genesis is valid");
        let genesis_ledger = receiver.load().expect("fresh store loads").ledger;
        let at_genesis = receiver.rewind_point().expect("savepoint");
        Mutex::new(Fixture { sender, descriptor, receiver, at_genesis, genesis_ledger })
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = rest.to_vec();
    if mode % 2 == 1 {
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_be_bytes());
    }
    let mut fixture = fixture().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let store = &fixture.receiver;
    let target = &fixture.descriptor;
    // Every input starts from the same state.
    assert_eq!(store.head_height().expect("in-memory read"), 0);
    assert_eq!(store.install_stage().expect("in-memory read"), None);
    let mut ledger = fixture.genesis_ledger.clone();
    let result = store.install_chunk(&mut ledger, target, &bytes, CHUNK_BYTES);
    // Whatever happened, the durable store and the ledger agree, and the
    // ledger is at genesis or the sender's: nothing in between is applied.
    let head = ledger.head().height;
    assert_eq!(store.head_height().expect("in-memory read"), head);
    assert!(head == 0 || head == target.height, "a partial chain was applied (head {head})");
    for height in 1..=head {
        let ours = store.read_chunk(height, height, CHUNK_BYTES).expect("installed block reads back");
        let theirs = fixture.sender.read_chunk(height, height, CHUNK_BYTES).expect("sender block");
        assert_eq!(ours.blocks[0].1, theirs.blocks[0].1, "installed block {height} differs from the sender's");
    }
    if head == target.height {
        assert_eq!(ledger.head_hash(), target.head_hash);
        assert_eq!(store.applied_slot().expect("in-memory read"), target.last_slot);
        assert_eq!(store.install_stage().expect("in-memory read"), None);
    }
    if let Ok(progress) = result {
        assert_eq!(progress.height, head);
        assert_eq!(progress.done, head == target.height);
    }
    store.rewind(&fixture.at_genesis).expect("in-memory rewind");
    // A fresh savepoint for the next input: while one lives, redb frees no
    // page that became unused after it, so reusing the first one grew the
    // database by about 1 MiB per input, and each restore took longer.
    fixture.at_genesis = store.rewind_point().expect("savepoint");
});
