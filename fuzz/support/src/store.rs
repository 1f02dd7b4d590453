//! A Paxos-mode sender ledger in an in-memory store (redb on the crash
//! backend, which never touches the disk), its snapshot descriptor and the
//! chunks a receiver pulls, and a fresh receiver.

use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AuthMode, Genesis, Ledger, Transfer};
use synod_storage::crash_backend::CrashBackend;
use synod_storage::snapshot::SnapshotDescriptor;
use synod_storage::{AppliedConfig, BlockWrite, Store};

pub const CHAIN_ID: u64 = 3;
/// Small, so the fixture's few blocks span several chunks.
pub const CHUNK_BYTES: usize = 700;
pub const SLOTS: u64 = 9;

fn key(n: u8) -> Keypair {
    Keypair::from_seed(&[n; 32])
}

pub fn genesis() -> Genesis {
    let mut allocations: Vec<Allocation> =
        (1..=3u8).map(|n| Allocation { account: key(n).account(), amount: 1_000_000, policy: None }).collect();
    allocations.sort_by_key(|a| a.account);
    Genesis { chain_id: CHAIN_ID, auth: AuthMode::Ed25519, timestamp_ms: 0, allocations }
}

/// An empty in-memory store holding only the genesis, and its ledger.
pub fn receiver() -> (Store, Ledger) {
    let store = Store::open_with_backend(CrashBackend::from_image(Vec::new())).expect("in-memory store opens");
    store.init(&genesis()).expect("genesis is valid");
    let ledger = store.load().expect("fresh store loads").ledger;
    (store, ledger)
}

/// The disk image of `receiver()`'s store, closed cleanly: opening a copy
/// (`receiver_from`) is much cheaper than creating and initialising a store.
pub fn receiver_image() -> Vec<u8> {
    let backend = CrashBackend::from_image(Vec::new());
    let store = Store::open_with_backend(backend.clone()).expect("in-memory store opens");
    store.init(&genesis()).expect("genesis is valid");
    drop(store);
    backend.image()
}

/// A receiver at genesis opened on a copy of `image` (from `receiver_image`),
/// and its ledger.
pub fn receiver_from(image: &[u8]) -> (Store, Ledger) {
    let store = Store::open_with_backend(CrashBackend::from_image(image.to_vec())).expect("the image opens");
    let ledger = store.load().expect("the image loads").ledger;
    (store, ledger)
}

/// A sender that applied `SLOTS` slots (every third made no block; slot 1
/// also chose the configuration), its descriptor, and its blocks as the
/// chunks a receiver at genesis pulls one after the other.
pub fn sender() -> (Store, SnapshotDescriptor, Vec<Vec<u8>>) {
    let (store, mut ledger) = receiver();
    let mut nonces = [0u64; 4];
    for slot in 1..=SLOTS {
        let config = (slot == 1).then(|| AppliedConfig { slot: 1, members: vec![1, 2, 3] });
        if slot % 3 == 0 {
            store.append_group(&[], Some(slot), config.as_ref()).expect("in-memory write");
            continue;
        }
        let from = (slot % 3 + 1) as u8;
        let t = Transfer {
            chain_id: CHAIN_ID,
            from: key(from).account(),
            to: key(from % 3 + 1).account(),
            amount: slot,
            fee: 0,
            nonce: nonces[from as usize],
            memo: vec![],
        };
        nonces[from as usize] += 1;
        let verified = t.sign(&key(from)).verify(AuthMode::Ed25519).expect("fixture transfer is valid");
        let built = ledger.build_block(slot, vec![verified]);
        let block = built.block.expect("fixture block is built");
        store
            .append_group(
                &[BlockWrite { block: &block, touched: &built.touched, slot: Some(slot) }],
                Some(slot),
                config.as_ref(),
            )
            .expect("in-memory write");
    }
    let descriptor = store.snapshot_descriptor(1).expect("descriptor of a written store");
    let mut chunks = Vec::new();
    let mut next = 1;
    while next <= descriptor.height {
        let chunk = store.read_chunk(next, descriptor.height, CHUNK_BYTES).expect("stored blocks read back");
        next += chunk.blocks.len() as u64;
        chunks.push(chunk.encode());
    }
    (store, descriptor, chunks)
}
