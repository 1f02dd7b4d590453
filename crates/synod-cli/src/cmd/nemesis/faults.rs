//! The fault schedule: a seeded sequence of faults, each held for a while
//! and then healed, with a quiet gap before the next. The seed fixes the
//! kinds, the fixed targets and every duration; "the leader" is whoever
//! leads when the fault starts. Membership changes (add, remove, replace a
//! node) are not implemented by the node yet: they belong here as further
//! `Fault` variants once they are.

use std::fmt;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// kill -9 of node `n` (index), restarted on its data dir at heal.
    KillOne(usize),
    KillLeader,
    /// SIGSTOP of the leader, SIGCONT at heal.
    PauseLeader,
    /// Node `n` can neither send to nor receive from the other nodes.
    IsolateOne(usize),
    IsolateLeader,
    /// Two groups that each reach only the `middle` node.
    Bridge {
        middle: usize,
        left: Vec<usize>,
        right: Vec<usize>,
    },
    /// `from`'s packets to `to` are dropped; `to`'s packets to `from` arrive.
    OneWay {
        from: usize,
        to: usize,
    },
    /// kill -9 of every node at once; all restarted at heal.
    KillAll,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = |i: &usize| i + 1;
        let ids = |v: &[usize]| v.iter().map(|i| id(i).to_string()).collect::<Vec<_>>().join(",");
        match self {
            Fault::KillOne(n) => write!(f, "kill -9 node {}", id(n)),
            Fault::KillLeader => write!(f, "kill -9 the leader"),
            Fault::PauseLeader => write!(f, "SIGSTOP the leader"),
            Fault::IsolateOne(n) => write!(f, "isolate node {}", id(n)),
            Fault::IsolateLeader => write!(f, "isolate the leader"),
            Fault::Bridge { middle, left, right } => {
                write!(f, "bridge: {{{}}} and {{{}}} each reach only node {}", ids(left), ids(right), id(middle))
            }
            Fault::OneWay { from, to } => write!(f, "one-way cut: node {} -> node {} dropped", id(from), id(to)),
            Fault::KillAll => write!(f, "kill -9 all nodes"),
        }
    }
}

/// One step: the fault, how long it is held, then how long all is healed.
#[derive(Debug, Clone)]
pub struct Step {
    pub fault: Fault,
    pub hold_ms: u64,
    pub quiet_ms: u64,
}

const HOLD_MS: std::ops::RangeInclusive<u64> = 2_000..=6_000;
const QUIET_MS: std::ops::RangeInclusive<u64> = 2_000..=4_000;

/// Fault kinds, one per `Fault` variant.
const KINDS: usize = 8;

/// The steps that fit in `duration_ms` for `nodes` nodes, from `seed`. The
/// kinds come in rounds, each a seeded shuffle of all of them, so that a
/// run of eight steps or more (about a minute) strikes every kind.
pub fn schedule(seed: u64, nodes: usize, duration_ms: u64) -> Vec<Step> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6e65_6d65_7369_73);
    let mut steps = Vec::new();
    let mut round: Vec<usize> = Vec::new();
    let mut at_ms = 0;
    while at_ms < duration_ms || steps.is_empty() {
        if round.is_empty() {
            round = (0..KINDS).collect();
            shuffle(&mut rng, &mut round);
        }
        let kind = round.pop().expect("refilled");
        let step = Step {
            fault: pick(&mut rng, kind, nodes),
            hold_ms: rng.gen_range(HOLD_MS),
            quiet_ms: rng.gen_range(QUIET_MS),
        };
        at_ms += step.hold_ms + step.quiet_ms;
        steps.push(step);
    }
    steps
}

fn shuffle<T>(rng: &mut StdRng, v: &mut [T]) {
    for i in (1..v.len()).rev() {
        v.swap(i, rng.gen_range(0..=i));
    }
}

fn pick(rng: &mut StdRng, kind: usize, nodes: usize) -> Fault {
    let node = |rng: &mut StdRng| rng.gen_range(0..nodes);
    match kind {
        0 => Fault::KillOne(node(rng)),
        1 => Fault::KillLeader,
        2 => Fault::PauseLeader,
        3 => Fault::IsolateOne(node(rng)),
        4 => Fault::IsolateLeader,
        5 => {
            let middle = node(rng);
            let mut rest: Vec<usize> = (0..nodes).filter(|&i| i != middle).collect();
            shuffle(rng, &mut rest);
            let right = rest.split_off(rest.len() / 2);
            Fault::Bridge { middle, left: rest, right }
        }
        6 => {
            let from = node(rng);
            let to = (from + rng.gen_range(1..nodes)) % nodes;
            Fault::OneWay { from, to }
        }
        _ => Fault::KillAll,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_replays_the_same_schedule() {
        let a: Vec<String> =
            schedule(7, 5, 60_000).iter().map(|s| format!("{} {} {}", s.fault, s.hold_ms, s.quiet_ms)).collect();
        let b: Vec<String> =
            schedule(7, 5, 60_000).iter().map(|s| format!("{} {} {}", s.fault, s.hold_ms, s.quiet_ms)).collect();
        assert_eq!(a, b);
        assert!(!a.is_empty());
    }

    #[test]
    fn a_minute_strikes_every_kind_of_fault() {
        for seed in 0..50 {
            let steps = schedule(seed, 3, 60_000);
            let mut kinds: Vec<std::mem::Discriminant<Fault>> =
                steps.iter().map(|s| std::mem::discriminant(&s.fault)).collect();
            kinds.sort_by_key(|d| format!("{d:?}"));
            kinds.dedup();
            assert_eq!(
                kinds.len(),
                KINDS,
                "seed {seed}: {:?}",
                steps.iter().map(|s| s.fault.to_string()).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn bridges_split_the_others_and_one_way_cuts_join_two_nodes() {
        for seed in 0..200 {
            for s in schedule(seed, 5, 120_000) {
                match s.fault {
                    Fault::Bridge { middle, left, right } => {
                        let mut all: Vec<usize> = left.iter().chain(&right).copied().collect();
                        all.push(middle);
                        all.sort();
                        assert_eq!(all, vec![0, 1, 2, 3, 4]);
                        assert!(!left.is_empty() && !right.is_empty());
                    }
                    Fault::OneWay { from, to } => assert_ne!(from, to),
                    _ => {}
                }
            }
        }
    }
}
