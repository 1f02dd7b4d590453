//! Catch-up by fetch in bounded chunks, and snapshot install when peers
//! compacted past what the learner needs.

mod harness;

use harness::*;
use synod_paxos::*;

#[test]
fn lagging_node_fetches_in_bounded_chunks() {
    let mut cluster = Cluster::with_options(3, 31, |o| o.limits.fetch_entries_max = 4);
    let leader = cluster.elect();
    let lagging = (1..=3).find(|id| *id != leader).unwrap();
    cluster.crash(lagging);
    for i in 0..30 {
        cluster.propose(leader, i, batch(i, 4));
    }
    cluster.run(100);
    cluster.restart(lagging);
    cluster.run(1_000);
    assert_eq!(cluster.applied_batches(lagging), (0..30).collect::<Vec<_>>());
    let replies: Vec<usize> = cluster
        .sent
        .iter()
        .filter_map(|m| match &m.body {
            Body::FetchReply { entries, .. } => Some(entries.len()),
            _ => None,
        })
        .collect();
    assert!(replies.iter().all(|n| *n <= 4), "chunks bounded: {replies:?}");
    assert!(replies.iter().filter(|n| **n == 4).count() >= 5, "catch-up needed several chunks");
}

#[test]
fn fetch_reply_respects_the_message_size_bound() {
    let mut cluster = Cluster::with_options(3, 32, |o| {
        o.limits.value_bytes_max = 1_000;
        o.limits.message_bytes_max = 3_000;
    });
    let leader = cluster.elect();
    let lagging = (1..=3).find(|id| *id != leader).unwrap();
    cluster.crash(lagging);
    for i in 0..10 {
        cluster.propose(leader, i, batch(i, 1_000));
    }
    cluster.run(100);
    cluster.restart(lagging);
    cluster.run(1_000);
    assert_eq!(cluster.applied_batches(lagging).len(), 10);
    for m in &cluster.sent {
        assert!(m.body.size_bound() <= 3_000, "{} too large", m.body.kind());
        let encoded = postcard::to_allocvec(m).unwrap();
        assert!(encoded.len() <= m.body.size_bound());
    }
}

#[test]
fn compacted_peers_send_a_snapshot() {
    let mut cluster = Cluster::new(3, 33);
    let leader = cluster.elect();
    let lagging = (1..=3).find(|id| *id != leader).unwrap();
    cluster.crash(lagging);
    for i in 0..20 {
        cluster.propose(leader, i, batch(i, 4));
    }
    cluster.run(200);
    for id in 1..=3 {
        if id != lagging {
            cluster.compact(id);
            assert!(cluster.replica(id).compacted_upto() >= 20);
        }
    }
    for i in 20..25 {
        cluster.propose(leader, i, batch(i, 4));
    }
    cluster.restart(lagging);
    cluster.run(1_000);
    assert_eq!(cluster.replica(lagging).stats().snapshots_installed, 1);
    assert_eq!(cluster.applied_batches(lagging), (0..25).collect::<Vec<_>>());
    assert_eq!(cluster.nodes[&lagging].durable.snapshot_slot, cluster.replica(lagging).compacted_upto());
    cluster.assert_agreement();
}

#[test]
fn candidate_behind_a_compacted_quorum_catches_up_before_leading() {
    let mut cluster = Cluster::new(3, 34);
    let leader = cluster.elect();
    let lagging = (1..=3).find(|id| *id != leader).unwrap();
    cluster.crash(lagging);
    for i in 0..10 {
        cluster.propose(leader, i, batch(i, 4));
    }
    cluster.run(200);
    for id in 1..=3 {
        if id != lagging {
            cluster.compact(id);
        }
    }
    // The leader dies; the lagging node comes back and must not lead with
    // a hole where the compacted slots were.
    cluster.crash(leader);
    cluster.restart(lagging);
    cluster.run(3_000);
    assert_eq!(cluster.leaders().len(), 1);
    assert_eq!(cluster.applied_batches(lagging), (0..10).collect::<Vec<_>>());
    cluster.assert_agreement();
}

/// Sets up a lagging node whose peers compacted slots 1..=20 away, with the
/// lagging node holding its installs; returns (leader, lagging).
fn lagging_behind_compacted_peers(seed: u64) -> (Cluster, NodeId, NodeId) {
    let mut cluster = Cluster::new(3, seed);
    let leader = cluster.elect();
    let lagging = (1..=3).find(|id| *id != leader).unwrap();
    cluster.crash(lagging);
    for i in 0..20 {
        cluster.propose(leader, i, batch(i, 4));
    }
    cluster.run(200);
    for id in 1..=3 {
        if id != lagging {
            cluster.compact(id);
        }
    }
    cluster.nodes.get_mut(&lagging).unwrap().hold_installs = true;
    cluster.restart(lagging);
    cluster.run(500);
    (cluster, leader, lagging)
}

#[test]
fn an_install_in_progress_applies_fetches_and_truncates_nothing() {
    let (mut cluster, leader, lagging) = lagging_behind_compacted_peers(35);
    let node = &cluster.nodes[&lagging];
    assert_eq!(node.held_installs.len(), 1, "one install at a time");
    let last = node.held_installs[0].last_slot;
    assert!(last >= 20);
    let replica = cluster.replica(lagging);
    assert_eq!(replica.installing(), Some(last));
    // The leader kept its ballot (pre-vote), so the node may have learned
    // the slot it accepted before crashing (the bootstrap configuration)
    // from the first heartbeat, before it learned that it lags: at most
    // that one, and nothing above what the state machine holds.
    let applied_before = replica.applied_index();
    assert!(applied_before <= 1, "nothing counts as applied before the state machine holds it");
    assert!(!replica.is_leader());
    let outputs = &cluster.nodes[&lagging].outputs;
    assert!(!outputs.iter().any(|a| matches!(a, Action::Apply { slot, .. } if *slot > applied_before)));
    assert!(!outputs.iter().any(|a| matches!(a, Action::Persist { op: PersistOp::Truncate { .. }, .. })));

    // New writes keep coming while the install runs; the lagging node
    // stays quiet about them until the install is reported.
    for i in 20..25 {
        cluster.propose(leader, i, batch(i, 4));
    }
    cluster.run(300);
    assert_eq!(cluster.replica(lagging).applied_index(), applied_before);

    cluster.finish_install(lagging, last);
    let replica = cluster.replica(lagging);
    assert_eq!(replica.installing(), None);
    assert_eq!(replica.compacted_upto(), last);
    let outputs = &cluster.nodes[&lagging].outputs;
    let truncate = outputs
        .iter()
        .position(|a| matches!(a, Action::Persist { op: PersistOp::Truncate { upto }, .. } if *upto == last));
    assert!(truncate.is_some(), "the log below the snapshot goes once the state is durable");
    cluster.run(1_000);
    assert_eq!(cluster.applied_batches(lagging), (0..25).collect::<Vec<_>>());
    assert_eq!(cluster.replica(lagging).stats().snapshots_installed, 1);
    cluster.assert_agreement();
}

#[test]
fn an_install_that_stops_half_way_resumes_from_the_slot_it_reached() {
    let (mut cluster, _leader, lagging) = lagging_behind_compacted_peers(36);
    let last = cluster.nodes[&lagging].held_installs[0].last_slot;
    // The driver got half the ledger durably, then gave up (bad chunks from
    // every peer, say): the replica moves exactly that far and asks again.
    let half = last / 2;
    cluster.nodes.get_mut(&lagging).unwrap().hold_installs = false;
    cluster.finish_install(lagging, half);
    assert!(cluster.replica(lagging).applied_index() >= half);
    cluster.run(1_000);
    assert_eq!(cluster.applied_batches(lagging), (0..20).collect::<Vec<_>>());
    assert_eq!(cluster.replica(lagging).stats().snapshots_installed, 1, "the second install completed");
    cluster.assert_agreement();
}

#[test]
fn a_crash_during_an_install_leaves_a_node_that_is_merely_behind() {
    let (mut cluster, _leader, lagging) = lagging_behind_compacted_peers(37);
    // Power fails mid-install: nothing was reported, nothing truncated.
    cluster.crash(lagging);
    let durable = &cluster.nodes[&lagging].durable;
    assert_eq!(durable.snapshot_slot, 0);
    let node = cluster.nodes.get_mut(&lagging).unwrap();
    node.held_installs.clear();
    node.hold_installs = false;
    cluster.restart(lagging);
    cluster.run(1_000);
    assert_eq!(cluster.applied_batches(lagging), (0..20).collect::<Vec<_>>());
    cluster.assert_agreement();
}
