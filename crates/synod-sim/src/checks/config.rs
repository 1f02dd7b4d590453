//! Configuration: the cluster configuration is data in the log. Once a
//! leader was elected the log holds a `Command::Config`; every up node's
//! effective configuration (`Replica::config`) is the latest one the log
//! chose at or below its commit index, reported with the first slot of the
//! run of `Config`s with those members; and its store records the latest
//! one at or below its applied slot the same way (`Store::applied_config`,
//! which survives compaction and restarts).
//! Source: synod-paxos crate docs, "Reconfiguration" (a `Config` chosen at
//! `s` governs the slots after `s`) and docs/PROTOCOL.md §7.2; the idea of
//! the configuration as a log entry is Lamport, "Paxos Made Simple" §3 (the
//! set of servers "can be chosen by the algorithm itself" as a command in
//! the log).

use std::collections::BTreeMap;

use synod_paxos::{ClusterConfig, Command, NodeId, Slot};
use synod_storage::AppliedConfig;

use super::Violation;

/// One up node's view at the end of a run.
pub struct NodeConfig<'a> {
    pub id: NodeId,
    /// `Replica::config()`.
    pub effective: (&'a ClusterConfig, Option<Slot>),
    pub applied_index: Slot,
    /// `Store::applied_config()`.
    pub recorded: Option<AppliedConfig>,
}

/// The latest configuration chosen at or below `upto`, with the first slot
/// of its run of identical member sets.
fn latest(chosen: &BTreeMap<Slot, Command>, upto: Slot) -> Option<(Slot, &ClusterConfig)> {
    let mut found: Option<(Slot, &ClusterConfig)> = None;
    for (slot, command) in chosen.range(..=upto) {
        if let Some(config) = command.config() {
            if found.is_none_or(|(_, c)| !c.same_members(config)) {
                found = Some((*slot, config));
            }
        }
    }
    found
}

pub fn check(
    initial: &ClusterConfig,
    chosen: &BTreeMap<Slot, Command>,
    elections_won: u64,
    nodes: &[NodeConfig<'_>],
) -> Result<(), Violation> {
    let fail = |detail: String| Err(Violation::new("config", detail));
    let first = chosen.iter().find(|(_, c)| c.config().is_some()).map(|(slot, _)| *slot);
    if elections_won > 0 && first.is_none() {
        return fail(format!("{elections_won} elections won but the log holds no Config"));
    }
    for node in nodes {
        let (config, slot) = node.effective;
        let expected = latest(chosen, node.applied_index);
        let (want_slot, want) = match expected {
            Some((s, c)) => (Some(s), c),
            None => (None, initial),
        };
        // The replica records at commit, the store at apply; at the end of
        // a converged run both are the same slot.
        if config != want || slot != want_slot {
            return fail(format!(
                "node {} runs on {:?} (slot {slot:?}), the log chose {:?} at {want_slot:?}",
                node.id, config.members, want.members
            ));
        }
        let expected = expected.map(|(slot, c)| AppliedConfig { slot, members: c.members.clone() });
        if node.recorded != expected {
            return fail(format!("node {} recorded {:?} in its store, expected {expected:?}", node.id, node.recorded));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn initial() -> ClusterConfig {
        ClusterConfig::new(vec![1, 2, 3])
    }

    fn log_with_config_at(slot: Slot) -> BTreeMap<Slot, Command> {
        (1..=slot).map(|s| (s, if s == slot { Command::Config(initial()) } else { Command::Noop })).collect()
    }

    #[test]
    fn a_node_that_applied_the_config_and_recorded_it_passes() {
        let config = initial();
        let recorded = Some(AppliedConfig { slot: 2, members: vec![1, 2, 3] });
        let node = NodeConfig { id: 1, effective: (&config, Some(2)), applied_index: 5, recorded };
        assert_eq!(check(&initial(), &log_with_config_at(2), 1, &[node]), Ok(()));
        // A node behind the Config slot may not know it yet.
        let behind = NodeConfig { id: 2, effective: (&config, None), applied_index: 1, recorded: None };
        assert_eq!(check(&initial(), &log_with_config_at(2), 1, &[behind]), Ok(()));
    }

    #[test]
    fn each_way_of_losing_the_config_is_caught() {
        let config = initial();
        let other = ClusterConfig::new(vec![1, 2, 4]);
        let recorded = Some(AppliedConfig { slot: 1, members: vec![1, 2, 3] });
        let cases = [
            // A leader was elected but the log holds no Config.
            (BTreeMap::new(), NodeConfig { id: 1, effective: (&config, None), applied_index: 0, recorded: None }),
            // A replica runs on other members.
            (
                log_with_config_at(1),
                NodeConfig { id: 1, effective: (&other, Some(1)), applied_index: 1, recorded: recorded.clone() },
            ),
            // A replica forgot the slot (e.g. a restart without the recorded one).
            (
                log_with_config_at(1),
                NodeConfig { id: 1, effective: (&config, None), applied_index: 3, recorded: recorded.clone() },
            ),
            // The store did not record it.
            (
                log_with_config_at(1),
                NodeConfig { id: 1, effective: (&config, Some(1)), applied_index: 3, recorded: None },
            ),
        ];
        for (i, (chosen, node)) in cases.into_iter().enumerate() {
            let result = check(&initial(), &chosen, 1, &[node]);
            assert!(matches!(result, Err(Violation { check: "config", .. })), "case {i}: {result:?}");
        }
    }
}
