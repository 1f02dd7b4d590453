//! The fakes and the history export, piece by piece.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use synod_paxos::{Ballot, Batch, BatchId, Command, PersistOp, Snapshot};
use synod_sim::disk::{Disk, DiskRecord};
use synod_sim::state_machine::LogMachine;
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
    let mut machine = LogMachine::default();
    for slot in 1..=5 {
        machine.apply(slot, &Command::Batch(Batch { id: BatchId(slot % 3), bytes: vec![] }));
    }
    assert_eq!(machine.duplicates, 2, "batch ids 1 and 2 repeat");
    let mut disk = Disk::default();
    disk.append(&DiskRecord::Persist {
        token: 1,
        op: PersistOp::Accept { slot: 3, ballot: Ballot::new(1, 1), command: Command::Noop },
    });
    disk.append(&DiskRecord::Snapshot { snapshot: machine.snapshot() });
    disk.append(&DiskRecord::Persist { token: 2, op: PersistOp::Truncate { upto: 5 } });
    disk.sync(0, 3);
    disk.crash();
    let recovered = disk.recover(0.0, &mut ChaCha8Rng::seed_from_u64(3));
    assert_eq!(recovered.durable.snapshot_slot, 5);
    assert!(recovered.durable.accepted.is_empty());
    let restored = LogMachine::restore(&recovered.snapshot.unwrap());
    assert_eq!(restored, machine);
    let _ = Snapshot { last_slot: 0, bytes: vec![] };
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
