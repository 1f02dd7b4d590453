//! Deferred ledger writes (a cluster member's applier): a group committed
//! with `WriteDurability::Deferred` is visible at once, lost by a power loss
//! until the next durable commit, and rebuilt on restart from the consensus
//! log, which must therefore keep every slot above the durable applied slot.

use synod_core::batch::BatchPayload;
use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AuthMode, BlockHash, Genesis, Ledger, SignedTransfer, Transfer};
use synod_paxos::{Ballot, Batch, BatchId, Command, PersistOp};
use synod_storage::crash_backend::CrashBackend;
use synod_storage::{BlockWrite, Store, WriteDurability};

fn key(n: u8) -> Keypair {
    Keypair::from_seed(&[n; 32])
}

fn genesis() -> Genesis {
    let mut allocations: Vec<Allocation> =
        (1..=2).map(|n| Allocation { account: key(n).account(), amount: 1_000_000, policy: None }).collect();
    allocations.sort_by_key(|a| a.account);
    Genesis { chain_id: 3, auth: AuthMode::None, timestamp_ms: 0, allocations }
}

/// The chosen command of `slot`: one transfer from account 1 with nonce `slot - 1`.
fn command(slot: u64) -> Command {
    let t = Transfer {
        chain_id: 3,
        from: key(1).account(),
        to: key(2).account(),
        amount: slot,
        fee: 0,
        nonce: slot - 1,
        memo: vec![],
    };
    let payload = BatchPayload { timestamp_ms: slot * 10, transfers: vec![SignedTransfer::unsigned(t)] };
    Command::Batch(Batch { id: BatchId(slot), bytes: payload.encode() })
}

/// What the applier does with a chosen slot: decode, build, write.
fn apply(store: &Store, ledger: &mut Ledger, slot: u64, cmd: &Command, durability: WriteDurability) {
    let Command::Batch(batch) = cmd else { panic!("a batch") };
    let payload = BatchPayload::decode(&batch.bytes).unwrap();
    let candidates = payload.transfers.into_iter().map(|t| t.verify(AuthMode::None).unwrap()).collect();
    let built = ledger.build_block(payload.timestamp_ms, candidates);
    let block = built.block.expect("a funded transfer makes a block");
    let write = BlockWrite { block: &block, touched: &built.touched, slot: Some(slot) };
    store.append_group_with(&[write], Some(slot), None, durability).unwrap();
}

/// Slots 1..=5 chosen (accepted durably in the log); slot 1 applied with an
/// fsync, slots 2..=5 deferred (acknowledged to their clients). Returns the
/// backend, the head hash the clients saw, and the store.
fn acknowledged_but_deferred() -> (CrashBackend, BlockHash, Store) {
    let backend = CrashBackend::from_image(Vec::new());
    let store = Store::open_with_backend(backend.clone()).unwrap();
    store.init(&genesis()).unwrap();
    let mut ledger = store.load().unwrap().ledger;
    let ballot = Ballot::new(1, 1);
    let accepts: Vec<PersistOp> =
        (1..=5).map(|slot| PersistOp::Accept { slot, ballot, command: command(slot) }).collect();
    store.persist_paxos(&accepts).unwrap();
    apply(&store, &mut ledger, 1, &command(1), WriteDurability::Fsync);
    for slot in 2..=5 {
        apply(&store, &mut ledger, slot, &command(slot), WriteDurability::Deferred);
    }
    // Readers see the deferred groups at once; the durable state is behind.
    assert_eq!(store.applied_slot().unwrap(), 5);
    assert_eq!(store.head_height().unwrap(), 5);
    assert_eq!(store.durable_applied_slot(), 1);
    (backend, ledger.head_hash(), store)
}

#[test]
fn acknowledged_deferred_blocks_are_replayed_from_the_log_after_power_loss() {
    for seed in 0..20 {
        let (backend, acked_head, store) = acknowledged_but_deferred();
        // Compaction as the consensus thread bounds it: never past the
        // durable applied slot, although the ledger shows slot 5 applied.
        let upto = store.applied_slot().unwrap().min(store.durable_applied_slot());
        assert_eq!(upto, 1);
        store.persist_paxos(&[PersistOp::Truncate { upto }]).unwrap();
        // That truncation was a durable commit: it made slots 2..=5 durable.
        assert_eq!(store.durable_applied_slot(), 5);
        // More deferred work after it, then power loss.
        backend.power_off();
        drop(store);

        let store = Store::open_with_backend(CrashBackend::from_image(backend.surviving_image(seed))).unwrap();
        let durable = store.applied_slot().unwrap();
        assert_eq!(durable, 5, "seed {seed}: a durable commit persists every deferred one before it");
        assert_eq!(store.load().unwrap().ledger.head_hash(), acked_head);
    }
}

#[test]
fn power_loss_before_any_durable_commit_is_repaired_by_replaying_the_log() {
    for seed in 0..20 {
        let (backend, acked_head, store) = acknowledged_but_deferred();
        backend.power_off();
        drop(store);

        let store = Store::open_with_backend(CrashBackend::from_image(backend.surviving_image(seed))).unwrap();
        // The durable state lost the deferred groups, all of them, whole.
        let durable = store.applied_slot().unwrap();
        assert_eq!(durable, 1, "seed {seed}: deferred groups are lost until a durable commit");
        assert_eq!(store.durable_applied_slot(), 1);
        let mut ledger = store.load().unwrap().ledger;
        assert_eq!(ledger.head().height, 1);
        // The log still holds every slot above it: replay restores exactly
        // what the clients were told.
        let log = store.load_paxos().unwrap();
        let above: Vec<u64> = log.accepted.range(durable + 1..).map(|(s, _)| *s).collect();
        assert_eq!(above, vec![2, 3, 4, 5]);
        for (slot, entry) in log.accepted.range(durable + 1..) {
            apply(&store, &mut ledger, *slot, &entry.command, WriteDurability::Deferred);
        }
        assert_eq!(ledger.head_hash(), acked_head, "seed {seed}: replay rebuilds the acknowledged head");
        assert_eq!(store.sync().unwrap(), 5);
    }
}

#[test]
fn compacting_to_the_visible_applied_slot_before_the_ledger_is_durable_loses_acknowledged_blocks() {
    // The hazard the bound exists for, with the log truncated before the
    // deferred writes reach the disk (as a log in another file, or a
    // truncation ordered ahead of them, would): the replay then has nothing.
    let backend = CrashBackend::from_image(Vec::new());
    let store = Store::open_with_backend(backend.clone()).unwrap();
    store.init(&genesis()).unwrap();
    let mut ledger = store.load().unwrap().ledger;
    let ballot = Ballot::new(1, 1);
    store.persist_paxos(&[PersistOp::Accept { slot: 1, ballot, command: command(1) }]).unwrap();
    // Truncating up to slot 1 while the ledger durably holds slot 0 ...
    assert!(store.durable_applied_slot() < 1);
    store.persist_paxos(&[PersistOp::Truncate { upto: 1 }]).unwrap();
    apply(&store, &mut ledger, 1, &command(1), WriteDurability::Deferred);
    backend.power_off();
    drop(store);
    let store = Store::open_with_backend(CrashBackend::from_image(backend.surviving_image(7))).unwrap();
    // ... leaves neither the block nor the log entry: slot 1 is gone.
    assert_eq!(store.applied_slot().unwrap(), 0);
    assert!(store.load_paxos().unwrap().accepted.is_empty());
}

#[test]
fn sync_makes_deferred_groups_durable_and_reports_the_slot() {
    let (backend, acked_head, store) = acknowledged_but_deferred();
    assert_eq!(store.sync().unwrap(), 5);
    assert_eq!(store.durable_applied_slot(), 5);
    // Nothing deferred: sync is still a valid durable commit.
    assert_eq!(store.sync().unwrap(), 5);
    backend.power_off();
    drop(store);
    let store = Store::open_with_backend(CrashBackend::from_image(backend.surviving_image(3))).unwrap();
    assert_eq!(store.applied_slot().unwrap(), 5);
    assert_eq!(store.durable_applied_slot(), 5, "a reopened store's state is durable");
    assert_eq!(store.load().unwrap().ledger.head_hash(), acked_head);
}
