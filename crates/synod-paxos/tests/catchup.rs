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
