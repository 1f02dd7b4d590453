//! The fakes and the history export, piece by piece.

use synod_core::batch::BatchPayload;
use synod_core::ledger::SignaturePolicy;
use synod_core::{AuthMode, SignedTransfer, Transfer};
use synod_paxos::{Ballot, Batch, BatchId, Command, PersistOp};
use synod_sim::disk::Disk;
use synod_sim::state_machine::{replay, Applied, ApplyOutcome, LedgerMachine, CHUNK_BYTES_MAX};
use synod_sim::workload::{Workload, FUNDING};
use synod_sim::{export_history_jsonl, run_seed, SimOptions};

fn promise(round: u64) -> PersistOp {
    PersistOp::Promise { ballot: Ballot::new(round, 1) }
}

fn genesis() -> synod_core::Genesis {
    Workload::new(AuthMode::None, 1).genesis
}

#[test]
fn a_crash_loses_the_queued_ops_and_keeps_the_committed_ones() {
    let mut disk = Disk::new(&genesis());
    disk.enqueue(1, promise(1));
    disk.enqueue(2, promise(2));
    assert_eq!(disk.commit(2).unwrap().len(), 2);
    disk.enqueue(3, promise(3));
    disk.crash(1, None).unwrap();
    assert_eq!(disk.queued(), 0);
    let recovered = disk.recover(0.0, 1).unwrap();
    assert_eq!(recovered.durable.promised, Ballot::new(2, 1));
    assert!(!recovered.durable.damaged);
}

#[test]
fn power_loss_inside_a_commit_keeps_every_commit_that_returned() {
    for seed in 0..30u64 {
        let mut disk = Disk::new(&genesis());
        disk.arm_power_failure(1 + seed % 25);
        let mut committed = 0;
        for round in 1..=40 {
            disk.enqueue(round, promise(round));
            if disk.commit(round).is_err() {
                break;
            }
            committed = round;
        }
        assert!(disk.power_failed(), "seed {seed}: power failed within 40 commits");
        disk.crash(seed, None).unwrap();
        let promised = disk.recover(0.0, seed).unwrap().durable.promised.round;
        assert!(promised == committed || promised == committed + 1, "seed {seed}: {promised} after {committed}");
    }
}

#[test]
fn damaged_reads_are_caught_and_mark_the_replica_damaged() {
    let mut disk = Disk::new(&genesis());
    for round in 1..=50 {
        disk.enqueue(round, promise(round));
        let accept = PersistOp::Accept { slot: round, ballot: Ballot::new(round, 1), command: Command::Noop };
        disk.enqueue(100 + round, accept);
        disk.commit(100 + round).unwrap();
    }
    disk.crash(2, None).unwrap();
    let damaged = (0..20).filter_map(|seed| disk.recover(0.2, seed).ok()).find(|r| r.durable.damaged);
    assert!(damaged.is_some(), "some read was damaged and caught");
    // The damage was on the read path: a clean read gets everything.
    let clean = disk.recover(0.0, 3).unwrap();
    assert_eq!(clean.durable.promised, Ballot::new(50, 1));
    assert_eq!(clean.durable.accepted.len(), 50);
    assert!(!clean.durable.damaged);
}

#[test]
fn the_durable_ledger_is_the_recovery_point() {
    let mut machine = LedgerMachine::new(&genesis());
    for slot in 1..=5 {
        machine.apply(slot, &Command::Noop).unwrap();
    }
    let accept = |slot| PersistOp::Accept { slot, ballot: Ballot::new(1, 1), command: Command::Noop };
    machine.disk_mut().enqueue(1, accept(3));
    machine.disk_mut().enqueue(2, accept(7));
    machine.disk_mut().commit(2).unwrap();
    machine.crash(4).unwrap();
    let durable = machine.recover(0.0, 4).unwrap();
    assert_eq!(durable.snapshot_slot, 5);
    assert_eq!(durable.accepted.keys().copied().collect::<Vec<_>>(), vec![7]);
    assert_eq!(machine.delivered(), 5);
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
    assert_eq!(a.applied_slot(), 3, "every slot is recorded, with a block or without");
    // A restart resumes after the durable applied slot.
    a.crash(1).unwrap();
    let durable = a.recover(0.0, 1).unwrap();
    assert_eq!(durable.snapshot_slot, 3);
    assert_eq!(a.ledger().head_hash(), a.head_hash());
    assert_eq!(a.apply(4, &Command::Noop).unwrap(), Applied::Other);
    // A peer installs a snapshot, chunk by chunk, and ends in the same state.
    let mut b = LedgerMachine::new(&w.genesis);
    let target = a.descriptor(1).unwrap();
    assert_eq!((target.last_slot, target.height), (4, 1));
    let chunk = a.disk().store().read_chunk(1, target.height, CHUNK_BYTES_MAX).unwrap().encode();
    let (progress, added) = b.install_chunk(&target, &chunk);
    assert!(progress.unwrap().done);
    assert_eq!(added.len(), 1);
    b.installed(4);
    assert_eq!(b.ledger().head_hash(), a.ledger().head_hash());
    assert_eq!(b.delivered(), 4);
    assert_eq!(b.applied_slot(), 4);
    let r = replay(&w.genesis, &b.blocks(), SignaturePolicy::Verify).unwrap();
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
