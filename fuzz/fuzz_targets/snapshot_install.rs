//! Snapshot install (`Store::install_chunk`): a hostile chunk offered to a
//! receiver at genesis, against the fixture sender's descriptor. The store
//! is in memory and every input opens a fresh copy of the same clean image
//! of a receiver at genesis (made once: creating and initialising a store
//! per input cost about 90 ms), so every input starts from the same state. A chunk must either be refused
//! with a typed error or leave the receiver a verified prefix of the sender.
//!
//! Input: `mode u8`, then the chunk: mode 0 as is; mode 1 a body to which
//! the target appends its valid CRC-32 (past the checksum, to the blocks).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use synod_fuzz_support::store::{receiver_from, receiver_image, sender, CHUNK_BYTES};
use synod_storage::snapshot::SnapshotDescriptor;
use synod_storage::Store;

struct Sender {
    store: Store,
    descriptor: SnapshotDescriptor,
    /// A clean receiver at genesis, copied for every input.
    receiver_image: Vec<u8>,
}

fn fixture() -> &'static Sender {
    static SENDER: OnceLock<Sender> = OnceLock::new();
    SENDER.get_or_init(|| {
        let (store, descriptor, _) = sender();
        Sender { store, descriptor, receiver_image: receiver_image() }
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
    let sender = fixture();
    let (store, mut ledger) = receiver_from(&sender.receiver_image);
    let result = store.install_chunk(&mut ledger, &sender.descriptor, &bytes, CHUNK_BYTES);
    // Whatever happened, the durable store and the ledger agree, and every
    // block installed is the sender's block at that height.
    let head = ledger.head().height;
    assert_eq!(store.head_height().expect("in-memory read"), head);
    assert!(head <= sender.descriptor.height);
    for height in 1..=head {
        let ours = store.read_chunk(height, height, CHUNK_BYTES).expect("installed block reads back");
        let theirs = sender.store.read_chunk(height, height, CHUNK_BYTES).expect("sender block");
        assert_eq!(ours, theirs, "installed block {height} differs from the sender's");
    }
    if let Ok(progress) = result {
        assert_eq!(progress.height, head);
        assert_eq!(progress.done, head == sender.descriptor.height);
    }
});
