//! Read index: a read is served after a quorum confirms leadership and the
//! applied index reaches the index fixed when the read arrived.

mod harness;

use harness::*;
use synod_paxos::*;

fn read_outcome(cluster: &Cluster, id: NodeId, request_id: u64) -> Option<Action> {
    cluster.nodes[&id]
        .outputs
        .iter()
        .find(|a| matches!(a, Action::ReadReady { request_id: r, .. } | Action::ReadRejected { request_id: r, .. } if *r == request_id))
        .cloned()
}

#[test]
fn read_is_served_after_a_quorum_confirms_leadership() {
    let mut cluster = Cluster::new(3, 41);
    let leader = cluster.elect();
    for i in 0..5 {
        cluster.propose(leader, i, batch(i, 1));
    }
    cluster.run(50);
    cluster.step(leader, Event::ReadIndex { request_id: 77 });
    assert_eq!(read_outcome(&cluster, leader, 77), None, "not before the heartbeat round is acked");
    cluster.deliver_all();
    let applied = cluster.replica(leader).applied_index();
    assert_eq!(read_outcome(&cluster, leader, 77), Some(Action::ReadReady { request_id: 77, index: applied }));
}

#[test]
fn isolated_leader_never_serves_a_read() {
    let mut cluster = Cluster::new(3, 42);
    let leader = cluster.elect();
    cluster.drop = Box::new(move |m| m.from == leader || m.to == leader);
    cluster.step(leader, Event::ReadIndex { request_id: 5 });
    cluster.run(1_000);
    assert_eq!(
        read_outcome(&cluster, leader, 5),
        Some(Action::ReadRejected { request_id: 5, error: ReadError::LeadershipLost })
    );
}

#[test]
fn read_on_a_follower_is_redirected() {
    let mut cluster = Cluster::new(3, 43);
    let leader = cluster.elect();
    cluster.run(100);
    let follower = (1..=3).find(|id| *id != leader).unwrap();
    let actions = cluster.step(follower, Event::ReadIndex { request_id: 1 });
    assert_eq!(
        actions,
        vec![Action::ReadRejected { request_id: 1, error: ReadError::NotLeader { leader_hint: Some(leader) } }]
    );
}
