//! The cluster configuration as data in the log (crate docs,
//! "Reconfiguration"): the first leader proposes it, every replica learns
//! it, it survives compaction (snapshots) and restarts (durable state), and
//! a configuration with other members is refused.

mod harness;

use harness::*;
use synod_paxos::*;

fn bootstrap() -> ClusterConfig {
    ClusterConfig::new(vec![1, 2, 3])
}

fn configs_in(applied: &std::collections::BTreeMap<Slot, Command>) -> Vec<Slot> {
    applied.iter().filter(|(_, c)| c.config().is_some()).map(|(s, _)| *s).collect()
}

#[test]
fn the_first_leader_proposes_the_config_first_and_followers_learn_it() {
    let mut cluster = Cluster::new(3, 71);
    // Before any leader, every replica runs on the bootstrap configuration.
    for id in 1..=3 {
        assert_eq!(cluster.replica(id).config(), (&bootstrap(), None));
    }
    let leader = cluster.elect();
    // The leader's first proposal is the configuration, so a client's first
    // batch lands after it.
    assert!(matches!(cluster.propose(leader, 1, batch(1, 4)), Action::Proposed { slot: 2, .. }));
    cluster.run(200);
    for id in 1..=3 {
        assert_eq!(cluster.nodes[&id].applied.get(&1), Some(&Command::Config(bootstrap())), "node {id}");
        assert_eq!(cluster.replica(id).config(), (&bootstrap(), Some(1)), "node {id}");
        assert_eq!(configs_in(&cluster.nodes[&id].applied), vec![1], "node {id}: exactly one Config");
    }
    assert_eq!(cluster.applied_batches(leader), vec![1]);
}

#[test]
fn a_later_leader_does_not_propose_the_config_again() {
    let mut cluster = Cluster::new(3, 72);
    let first = cluster.elect();
    cluster.propose(first, 1, batch(1, 4));
    cluster.run(200);
    // The first leader dies; the next one finds the Config chosen already.
    cluster.crash(first);
    cluster.run(2_000);
    let second = cluster.elect();
    assert_ne!(second, first);
    cluster.propose(second, 2, batch(2, 4));
    cluster.run(200);
    assert_eq!(configs_in(&cluster.nodes[&second].applied), vec![1]);
    assert_eq!(cluster.replica(second).config(), (&bootstrap(), Some(1)));
}

#[test]
fn a_config_that_changes_two_members_is_refused() {
    let mut cluster = Cluster::new(3, 73);
    let leader = cluster.elect();
    let other = Command::Config(ClusterConfig::new(vec![1, 2, 4]));
    assert_eq!(
        cluster.propose(leader, 9, other),
        Action::ProposeRejected {
            request_id: 9,
            error: ProposeError::Reconfig(ReconfigError::NotSingleStep {
                current: vec![1, 2, 3],
                proposed: vec![1, 2, 4]
            })
        }
    );
}

#[test]
fn an_identical_config_chosen_twice_is_harmless() {
    // Two leaders racing can get the bootstrap Config chosen in two slots;
    // the first slot stays the configuration's slot.
    let mut cluster = Cluster::new(3, 74);
    let leader = cluster.elect();
    assert!(matches!(cluster.propose(leader, 1, Command::Config(bootstrap())), Action::Proposed { slot: 2, .. }));
    cluster.run(200);
    for id in 1..=3 {
        assert_eq!(configs_in(&cluster.nodes[&id].applied), vec![1, 2]);
        assert_eq!(cluster.replica(id).config(), (&bootstrap(), Some(1)));
    }
}

#[test]
fn a_recovered_replica_reports_the_config_from_its_durable_state() {
    let recorded = ChosenConfig { slot: 3, config: bootstrap() };
    let durable = DurableState { snapshot_slot: 10, config: Some(recorded), ..DurableState::default() };
    let replica = Replica::recover(options(1, 3), durable.clone()).unwrap();
    assert_eq!(replica.config(), (&bootstrap(), Some(3)));
    // The recorded configuration wins over the bootstrap one: the log may
    // have changed membership since.
    let mut other = options(1, 3);
    other.config = ClusterConfig::new(vec![1, 2, 4]);
    assert_eq!(Replica::recover(other, durable).unwrap().config(), (&bootstrap(), Some(3)));
    // A restart in a cluster keeps the slot, and the new leader adds none.
    let mut cluster = Cluster::new(3, 75);
    let leader = cluster.elect();
    cluster.run(200);
    for id in 1..=3 {
        cluster.compact(id);
        assert_eq!(cluster.nodes[&id].durable.config, Some(ChosenConfig { slot: 1, config: bootstrap() }));
    }
    for id in 1..=3 {
        cluster.crash(id);
        cluster.restart(id);
        assert_eq!(cluster.replica(id).config(), (&bootstrap(), Some(1)), "node {id} after restart");
    }
    let _ = leader;
    let leader = cluster.elect();
    cluster.propose(leader, 1, batch(1, 4));
    cluster.run(200);
    let all: Vec<Slot> = configs_in(&cluster.nodes[&leader].applied);
    assert_eq!(all, vec![1], "no second Config after a whole-cluster restart");
}

#[test]
fn a_snapshot_carries_the_config_past_compaction() {
    let mut cluster = Cluster::new(3, 76);
    // Node 3 is down from the start: it never sees the Config entry itself.
    cluster.crash(3);
    let leader = cluster.elect();
    for i in 0..10 {
        cluster.propose(leader, i, batch(i, 4));
    }
    cluster.run(200);
    for id in 1..=2 {
        cluster.compact(id);
    }
    cluster.restart(3);
    cluster.run(1_000);
    assert_eq!(cluster.replica(3).stats().snapshots_installed, 1);
    let carried = cluster.sent.iter().find_map(|m| match &m.body {
        Body::InstallSnapshot { snapshot } if m.to == 3 => Some(snapshot.config.clone()),
        _ => None,
    });
    assert_eq!(carried, Some(Some(ChosenConfig { slot: 1, config: bootstrap() })));
    assert_eq!(cluster.replica(3).config(), (&bootstrap(), Some(1)));
    assert!(!cluster.nodes[&3].applied.is_empty());
    cluster.assert_agreement();
}
