//! Power loss at every point of a block commit: after restart the store must
//! load, hold every block whose `append_block` returned Ok, and be consistent
//! (tree root matches the head, balances add up). A crash may keep or lose the
//! one block that was being written when power failed, never half of it.

use rand::{Rng, SeedableRng};
use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AuthMode, Genesis, Ledger, Transfer};
use synod_storage::crash_backend::CrashBackend;
use synod_storage::Store;

fn key(n: u8) -> Keypair {
    Keypair::from_seed(&[n; 32])
}

fn genesis() -> Genesis {
    let mut allocations: Vec<Allocation> =
        (1..=4).map(|n| Allocation { account: key(n).account(), amount: 1_000_000, policy: None }).collect();
    allocations.sort_by_key(|a| a.account);
    Genesis { chain_id: 3, auth: AuthMode::None, timestamp_ms: 0, allocations }
}

/// Appends random blocks until the backend loses power; returns the acknowledged head height.
fn run_until_crash(backend: &CrashBackend, rng: &mut impl Rng, blocks: u64) -> (u64, Ledger) {
    let store = Store::open_with_backend(backend.clone()).unwrap();
    store.init(&genesis()).unwrap();
    let mut ledger = store.load().unwrap().ledger;
    let mut acked = 0;
    for _ in 0..blocks {
        let count = rng.gen_range(1..20);
        let mut candidates = Vec::new();
        let mut nonces = [0u64; 5];
        for n in 1..=4u8 {
            nonces[n as usize] = ledger.state().account(&key(n).account()).nonce;
        }
        for _ in 0..count {
            let from = rng.gen_range(1..=4u8);
            let to = (from % 4) + 1;
            let t = Transfer {
                chain_id: 3,
                from: key(from).account(),
                to: key(to).account(),
                amount: rng.gen_range(1..1000),
                fee: 0,
                nonce: nonces[from as usize],
                memo: vec![],
            };
            nonces[from as usize] += 1;
            candidates.push(synod_core::SignedTransfer::unsigned(t).verify(AuthMode::None).unwrap());
        }
        let built = ledger.build_block(acked + 1, candidates);
        let block = built.block.expect("funded transfers are accepted");
        match store.append_block(&block, &built.touched) {
            Ok(()) => acked = block.header.height,
            Err(_) => return (acked, ledger),
        }
    }
    (acked, ledger)
}

#[test]
fn every_acknowledged_block_survives_power_loss_at_any_point() {
    let mut checked = 0;
    for seed in 0..60u64 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        // First learn how many IO operations a clean run makes, then crash inside it.
        let probe = CrashBackend::from_image(Vec::new());
        run_until_crash(&probe, &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed), 12);
        let total_ops = probe.ops();

        let backend = CrashBackend::from_image(Vec::new());
        // Crash after init at the earliest (init's own fsync must finish to have a ledger).
        let crash_at = rng.gen_range(total_ops / 6..total_ops);
        backend.crash_after(crash_at);
        let (acked, _) = run_until_crash(&backend, &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed), 12);
        if !backend.has_crashed() {
            continue;
        }
        let image = backend.surviving_image(seed);
        let restarted = match Store::open_with_backend(CrashBackend::from_image(image)) {
            Ok(s) => s,
            Err(e) => panic!("seed {seed}: store does not reopen after crash at op {crash_at}: {e}"),
        };
        if restarted.genesis().unwrap().is_none() {
            assert_eq!(acked, 0, "seed {seed}: lost the genesis after acknowledging blocks");
            continue;
        }
        let loaded = restarted.load().unwrap_or_else(|e| panic!("seed {seed}: inconsistent after crash: {e}"));
        let head = loaded.ledger.head().height;
        assert!(head >= acked, "seed {seed}: acknowledged block {acked} lost, head is {head}");
        assert!(head <= acked + 1, "seed {seed}: head {head} beyond the block in flight");
        // Every stored block is whole and re-applies from genesis.
        let mut replay = Ledger::new(genesis()).unwrap();
        for h in 1..=head {
            let block = restarted.block(h).unwrap().unwrap();
            replay.apply_block(&block, synod_core::ledger::SignaturePolicy::Verify).unwrap();
        }
        assert_eq!(replay.state(), loaded.ledger.state(), "seed {seed}: stored accounts differ from replay");
        assert_eq!(replay.head_hash(), loaded.ledger.head_hash());
        checked += 1;
    }
    assert!(checked >= 40, "most seeds crash inside the run ({checked})");
}

#[test]
fn a_flipped_byte_in_a_stored_block_is_reported_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db.redb")).unwrap();
    store.init(&genesis()).unwrap();
    let mut ledger = store.load().unwrap().ledger;
    let t = Transfer {
        chain_id: 3,
        from: key(1).account(),
        to: key(2).account(),
        amount: 5,
        fee: 0,
        nonce: 0,
        memo: vec![],
    };
    let built = ledger.build_block(1, vec![synod_core::SignedTransfer::unsigned(t).verify(AuthMode::None).unwrap()]);
    store.append_block(built.block.as_ref().unwrap(), &built.touched).unwrap();
    store.corrupt_block_bytes(1, 40).unwrap();
    let err = store.block(1).unwrap_err();
    assert!(matches!(err, synod_storage::StoreError::Corrupt { table: "blocks", .. }), "{err}");
    // Loading the ledger reads the head block, so it refuses too.
    assert!(store.load().is_err());
}

#[test]
fn reopening_with_another_genesis_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.redb");
    let store = Store::open(&path).unwrap();
    store.init(&genesis()).unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    store.init(&genesis()).unwrap();
    let mut other = genesis();
    other.chain_id = 4;
    assert!(matches!(store.init(&other), Err(synod_storage::OpenError::GenesisMismatch)));
}

#[test]
fn damaged_reads_are_caught_by_the_checksums_and_a_clean_read_later_is_fine() {
    // The simulator's faulty disk: reads flip a bit at random; every one must
    // surface as `Corrupt` (ledger) or a damaged Paxos state, never as data.
    let store = Store::open_with_backend(CrashBackend::from_image(Vec::new())).unwrap();
    store.init(&genesis()).unwrap();
    let ballot = synod_paxos::Ballot::new(3, 1);
    store.persist_paxos(&[synod_paxos::PersistOp::Promise { ballot }]).unwrap();
    store.set_read_faults(1.0, 7);
    assert!(matches!(store.block(0), Err(synod_storage::StoreError::Corrupt { table: "blocks", .. })));
    assert!(store.load().is_err());
    assert!(store.load_paxos().unwrap().damaged);
    store.set_read_faults(0.0, 0);
    assert!(store.block(0).unwrap().is_some());
    let clean = store.load_paxos().unwrap();
    assert!(!clean.damaged);
    assert_eq!(clean.promised, ballot);
}
