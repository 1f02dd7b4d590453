//! # synod-sim: deterministic simulation of a Synod cluster
//!
//! VOPR-style: N `synod_paxos::Replica`s run unchanged over a simulated
//! network (`network.rs`), drive (`disk.rs`: the node's real
//! `synod_storage::Store` on a crash-injecting backend) and clock
//! (`clock.rs`), each fake opening with its fault model, and each replica's
//! chosen slots build blocks in a real `synod_core::Ledger` the way the
//! node's applier does (`state_machine.rs`; snapshots in `install.rs`). Clients (`client.rs`)
//! submit real transfers (`workload.rs`) and read accounts; every outcome
//! lands in a history. Checks (`checks/`, one invariant per file, each
//! citing its source) run online on every apply and at the end of each seed.
//!
//! A run has a *fault phase* (loss, duplication, reordering, long delays,
//! partitions, crashes and restarts, corrupted reads) and a *quiet phase*
//! (network healed, all nodes up, clean reads), after which liveness is
//! judged. One `u64` seed fixes everything: the fault intensities, every
//! random choice, the replicas' own randomness. See `README.md` for
//! running, replaying and reading traces.
//!
//! ```no_run
//! use synod_sim::{run_seed, run_seeds, SimOptions};
//! let summary = run_seeds(&SimOptions { seeds: 1_000, ..SimOptions::default() });
//! println!("{summary}");
//! let outcome = run_seed(42, &SimOptions { trace: true, ..SimOptions::default() });
//! for line in &outcome.trace { println!("{line}"); }
//! ```

pub mod checks;
mod client;
pub mod clock;
pub mod disk;
pub mod history;
mod install;
pub mod network;
mod node;
pub mod options;
mod outcome;
pub mod partition;
pub mod state_machine;
mod trace;
pub mod workload;
mod world;

pub use checks::Violation;
pub use history::{export_history_jsonl, HistoryEntry, Operation, Outcome, ReadResult, Stage, TransferResult};
pub use options::{FaultBounds, LedgerBugs, SimOptions};
pub use outcome::{replay_command, run_seed, run_seeds, SeedOutcome, SeedStats, Summary, Verdict};
pub use synod_paxos::BugInjection;
