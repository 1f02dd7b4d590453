//! Fixtures for the fuzz targets: a byte reader that turns fuzz input into
//! choices, a 3-node Paxos cluster driven to each role, a short mined PoW
//! chain, and a Paxos-mode ledger store with snapshot chunks. Everything is
//! deterministic (fixed seeds, fixed clocks), so a crash input replays.

pub mod chain;
pub mod input;
pub mod paxos;
pub mod store;

pub use input::Input;
