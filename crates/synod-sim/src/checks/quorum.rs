//! Quorum intersection across configurations: for every slot, any two sets
//! of acceptors that made a leader see it chosen intersect, and each of
//! them intersects every quorum of the configuration that governs the slot
//! in the final log (the last `Config` chosen below it). The second is what
//! lets any later Phase 1 find the chosen value; with single-member changes
//! it holds even when a leader counted against the neighbouring
//! configuration (a majority of `C` and one of `C ± x` always share a node).
//! Source: Lamport, "Paxos Made Simple" §2.2 ("any two majorities have at
//! least one acceptor in common") and §3 (the configuration chosen in the
//! log decides the acceptors of later instances); Ongaro, "Consensus:
//! Bridging Theory and Practice" §4.1 (single-server changes keep any two
//! majorities of the old and new configuration overlapping).

use std::collections::{BTreeMap, BTreeSet};

use synod_paxos::{Choice, ClusterConfig, Command, NodeId, Slot};

use super::Violation;

/// Online: a leader saw `choice.slot` chosen by `choice.acks`.
pub fn check_choice(quorums: &mut BTreeMap<Slot, Vec<Choice>>, choice: Choice) -> Result<(), Violation> {
    let earlier = quorums.entry(choice.slot).or_default();
    for other in earlier.iter() {
        if other.acks.is_disjoint(&choice.acks) {
            return Err(Violation::new(
                "quorum",
                format!(
                    "slot {}: chosen by {:?} (ballot {}, counted against {:?}) and by {:?} (ballot {}, counted against {:?}), disjoint",
                    choice.slot,
                    choice.acks,
                    choice.ballot,
                    choice.voters.members,
                    other.acks,
                    other.ballot,
                    other.voters.members
                ),
            ));
        }
    }
    earlier.push(choice);
    Ok(())
}

/// End of run: every recorded quorum meets every quorum of the slot's
/// governing configuration, as far as the applied log shows it.
pub fn check_governing(
    bootstrap: &ClusterConfig,
    chosen: &BTreeMap<Slot, Command>,
    quorums: &BTreeMap<Slot, Vec<Choice>>,
) -> Result<(), Violation> {
    let mut governing = bootstrap.clone();
    let mut next: Slot = 1;
    for (slot, choices) in quorums {
        // Walk the log up to the slot; stop where it has a hole (no node
        // applied that slot, e.g. every node installed a snapshot past it).
        while next < *slot {
            match chosen.get(&next) {
                Some(command) => {
                    if let Some(config) = command.config() {
                        governing = config.clone();
                    }
                }
                None => return Ok(()),
            }
            next += 1;
        }
        for choice in choices {
            if !meets_every_quorum(&choice.acks, &governing) {
                return Err(Violation::new(
                    "quorum",
                    format!(
                        "slot {slot}: chosen by {:?} (ballot {}, counted against {:?}), which misses a quorum of the governing {:?}",
                        choice.acks, choice.ballot, choice.voters.members, governing.members
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `acks` shares a node with every majority of `config`: it holds more
/// members than a majority can leave out.
fn meets_every_quorum(acks: &BTreeSet<NodeId>, config: &ClusterConfig) -> bool {
    config.count(acks) > config.members.len() - config.quorum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_paxos::Ballot;

    fn choice(slot: Slot, acks: &[NodeId], voters: &[NodeId]) -> Choice {
        Choice {
            slot,
            ballot: Ballot::new(1, acks[0]),
            acks: acks.iter().copied().collect(),
            voters: ClusterConfig::new(voters.to_vec()),
        }
    }

    #[test]
    fn single_step_neighbours_pass_and_two_step_jumps_are_caught() {
        let mut quorums = BTreeMap::new();
        // {1,2,3} then {1,2,3,4}: majorities overlap.
        assert!(check_choice(&mut quorums, choice(5, &[1, 2], &[1, 2, 3])).is_ok());
        assert!(check_choice(&mut quorums, choice(5, &[2, 3, 4], &[1, 2, 3, 4])).is_ok());
        // {1,2,3} then {3,4,5}: {1,2} and {4,5} are disjoint.
        let mut quorums = BTreeMap::new();
        assert!(check_choice(&mut quorums, choice(5, &[1, 2], &[1, 2, 3])).is_ok());
        let err = check_choice(&mut quorums, choice(5, &[4, 5], &[3, 4, 5])).unwrap_err();
        assert_eq!(err.check, "quorum");
        // Governing: slot 2 chose {3,4,5}; slot 3 counted against {1,2,3}.
        let chosen: BTreeMap<Slot, Command> = [
            (1, Command::Config(ClusterConfig::new(vec![1, 2, 3]))),
            (2, Command::Config(ClusterConfig::new(vec![3, 4, 5]))),
        ]
        .into_iter()
        .collect();
        let bootstrap = ClusterConfig::new(vec![1, 2, 3]);
        let stale = BTreeMap::from([(3, vec![choice(3, &[1, 2], &[1, 2, 3])])]);
        assert!(check_governing(&bootstrap, &chosen, &stale).is_err());
        let right = BTreeMap::from([(3, vec![choice(3, &[3, 4], &[3, 4, 5])])]);
        assert!(check_governing(&bootstrap, &chosen, &right).is_ok());
    }
}
