//! The fakes and the history export, piece by piece.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use synod_core::batch::BatchPayload;
use synod_core::ledger::SignaturePolicy;
use synod_core::{AuthMode, SignedTransfer, Transfer};
use synod_paxos::{Ballot, Batch, BatchId, Command, PersistOp};
use synod_sim::disk::{Disk, DiskRecord};
use synod_sim::state_machine::{replay, Applied, ApplyOutcome, LedgerMachine};
use synod_sim::workload::{Workload, FUNDING};
use synod_sim::{export_history_jsonl, run_seed, SimOptions};

fn promise(round: u64, token: u64) -> DiskRecord {
    DiskRecord::Persist { token, op: PersistOp::Promise { ballot: Ballot::new(round, 1) } }
}

#[test]
fn crash_loses_exactly_the_unsynced_suffix() {
    let mut disk = Disk::default();
    disk.append(&promise(1, 1));
    disk.append(&promise(2, 2));
    assert_eq!(disk.sync(0, 2), Some(2));
    disk.append(&promise(3, 3));
    disk.crash();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let recovered = disk.recover(0.0, &mut rng);
    assert_eq!(recovered.durable.promised, Ballot::new(2, 1));
    assert!(!recovered.durable.damaged);
}

#[test]
fn corrupted_reads_are_detected_and_mark_the_replica_damaged() {
    let mut disk = Disk::default();
    for i in 1..=50 {
        disk.append(&promise(i, i));
    }
    disk.sync(0, 50);
    disk.crash();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let recovered = disk.recover(0.2, &mut rng);
    assert!(recovered.damaged_records > 0);
    assert!(recovered.durable.damaged);
    // The corruption was on the read path: a clean read gets everything.
    let clean = disk.recover(0.0, &mut rng);
    assert_eq!(clean.durable.promised, Ballot::new(50, 1));
    assert!(!clean.durable.damaged);
}

#[test]
fn snapshot_record_sets_the_recovery_point() {
    let genesis = Workload::new(AuthMode::None, 1).genesis;
    let machine = LedgerMachine::new(&genesis);
    let mut disk = Disk::default();
    disk.append(&DiskRecord::Persist {
        token: 1,
        op: PersistOp::Accept { slot: 3, ballot: Ballot::new(1, 1), command: Command::Noop },
    });
    disk.append(&DiskRecord::Snapshot { snapshot: machine.marker(5) });
    disk.append(&DiskRecord::Persist { token: 2, op: PersistOp::Truncate { upto: 5 } });
    disk.sync(0, 3);
    disk.crash();
    let recovered = disk.recover(0.0, &mut ChaCha8Rng::seed_from_u64(3));
    assert_eq!(recovered.durable.snapshot_slot, 5);
    assert!(recovered.durable.accepted.is_empty());
    assert!(machine.check_marker(&recovered.snapshot.unwrap()).is_ok());
}

fn transfer(w: &Workload, from: usize, to: usize, amount: u64, nonce: u64) -> SignedTransfer {
    let t = Transfer {
        chain_id: w.genesis.chain_id,
        from: w.accounts[from],
        to: w.accounts[to],
        amount,
        fee: 0,
        nonce,
        memo: vec![],
    };
    w.sign(t, from)
}

fn batch(id: u64, timestamp_ms: u64, transfers: Vec<SignedTransfer>) -> Command {
    Command::Batch(Batch { id: BatchId(id), bytes: BatchPayload { timestamp_ms, transfers }.encode() })
}

#[test]
fn the_ledger_machine_builds_blocks_skips_durable_slots_and_resolves_duplicates() {
    let w = Workload::new(AuthMode::Ed25519, 1);
    let t1 = transfer(&w, 0, 1, 10, 0);
    let t2 = transfer(&w, 1, 0, FUNDING * 10, 0); // overdraft
    let mut a = LedgerMachine::new(&w.genesis);
    let applied = a.apply(1, &batch(1, 100, vec![t1.clone(), t2])).unwrap();
    let Applied::Batch { block: Some(block), outcomes, .. } = applied else { panic!("{applied:?}") };
    assert_eq!(block.height, 1);
    assert!(matches!(outcomes[0], ApplyOutcome::Committed { duplicate: false, .. }));
    assert!(matches!(outcomes[1], ApplyOutcome::Rejected(_)));
    assert_eq!(a.apply(2, &Command::Noop).unwrap(), Applied::Other);
    // The same transfer again: a duplicate answer, no block.
    let applied = a.apply(3, &batch(2, 50, vec![t1])).unwrap();
    let Applied::Batch { block: None, outcomes, .. } = applied else { panic!("{applied:?}") };
    assert!(matches!(outcomes[0], ApplyOutcome::Committed { duplicate: true, .. }));
    assert_eq!(a.store().applied_slot(), 1, "slots without a block write nothing");
    // A restart re-delivers from the replica's point; durable slots are skipped.
    a.restart(0);
    assert_eq!(a.ledger().head_hash(), a.store().head_hash());
    assert_eq!(a.apply(1, &Command::Noop).unwrap(), Applied::Skipped);
    // A peer installs a snapshot and ends in the same state.
    let mut b = LedgerMachine::new(&w.genesis);
    let installed = b.install(&a.snapshot(3)).unwrap();
    assert_eq!(installed.len(), 1);
    assert_eq!(b.ledger().head_hash(), a.ledger().head_hash());
    assert_eq!(b.delivered(), 3);
    let r = replay(&w.genesis, b.store().blocks(), SignaturePolicy::Verify).unwrap();
    assert_eq!(r.ledger.head_hash(), a.ledger().head_hash());
    assert_eq!(r.account_at(&w.accounts[0], 0).balance, FUNDING);
    assert_eq!(r.account_at(&w.accounts[0], 1).balance, FUNDING - 10);
}

#[test]
fn history_exports_as_json_lines() {
    let outcome = run_seed(3, &SimOptions::default());
    assert!(outcome.is_ok(), "{:?}", outcome.verdict);
    let mut out = Vec::new();
    export_history_jsonl(&outcome.history, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), outcome.history.len());
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    for field in ["seed", "client", "op_id", "invoke_ms", "complete_ms", "operation", "outcome"] {
        assert!(first.get(field).is_some(), "missing {field} in {}", lines[0]);
    }
    assert!(text.contains("\"status\":\"ok\""));
}
