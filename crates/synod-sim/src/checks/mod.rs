//! Invariant checks, one per file, each citing where it comes from. The
//! online ones run on every `Apply`, persist, snapshot install and restart;
//! the others at the end of a seed (`outcome.rs`, `final_checks`).
//!
//! | check | consensus layer | ledger layer |
//! |---|---|---|
//! | `agreement` | one value per slot | |
//! | `validity` | only proposed values chosen | |
//! | `promise` | P1a, durable promises | |
//! | `config` | the log holds a configuration; every replica runs on the latest one it committed | the latest applied is recorded in the store |
//! | `quorum` | quorums that chose a slot intersect, across configurations | |
//! | `block_agreement` | | same block at every height on every node |
//! | `state_agreement` | | same head and accounts; state = replay of blocks; conservation |
//! | `integrity` | | at most once; definite refusals never committed |
//! | `durability` | compaction never outruns the ledger | acknowledged transfers never lost |
//! | `linearizability` | slots | ledger indices, heights, read values |
//! | `liveness` | every operation completes, replicas converge | |

pub mod agreement;
pub mod block_agreement;
pub mod config;
pub mod durability;
pub mod integrity;
pub mod linearizability;
pub mod liveness;
pub mod promise;
pub mod quorum;
pub mod state_agreement;
pub mod validity;

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub check: &'static str,
    pub detail: String,
}

impl Violation {
    pub fn new(check: &'static str, detail: String) -> Violation {
        Violation { check, detail }
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.check, self.detail)
    }
}
