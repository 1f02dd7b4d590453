//! # synod-paxos: Multi-Paxos, sans-IO
//!
//! The consensus core of Synod. It owns no threads, sockets, files, clocks or
//! randomness: a *driver* feeds it events and executes the actions it
//! returns. The node runtime (TCP + disk) and the simulator (`synod-sim`)
//! are two drivers of this same code.
//!
//! ## Driver loop
//!
//! ```ignore
//! let mut replica = Replica::recover(options, durable_state_from_disk)?;
//! loop {
//!     // One of: Tick (every ~10 ms), Receive(message), Persisted(token),
//!     // Propose{..}, ReadIndex{..}, Compact{..}, SnapshotReady{..},
//!     // SnapshotInstalled{..}.
//!     let event = next_event();
//!     for action in replica.step(monotonic_now_ms(), event, &mut seeded_rng) {
//!         match action {
//!             // Append to the write-ahead log; after the fsync that covers
//!             // it, feed Event::Persisted(token) (group commit: the highest
//!             // token covered is enough).
//!             Action::Persist { token, op } => wal.append(token, op),
//!             // Best effort; anything it depends on is already durable.
//!             Action::Send(message) => transport.send(message.to, message),
//!             // In slot order, no gaps.
//!             Action::Apply { slot, command } => state_machine.apply(slot, command),
//!             // Restore durably (may take long), then report how far it got.
//!             Action::InstallSnapshot { snapshot } => {
//!                 let upto_slot = state_machine.restore(snapshot);
//!                 feed(Event::SnapshotInstalled { upto_slot })
//!             }
//!             Action::SnapshotNeeded { to } => feed(Event::SnapshotReady { to, snapshot: state_machine.snapshot() }),
//!             Action::Proposed { request_id, slot } => clients.assigned(request_id, slot),
//!             Action::ProposeRejected { request_id, error } => clients.reject_or_forward(request_id, error),
//!             Action::ReadReady { request_id, index } => clients.serve_read(request_id, index),
//!             Action::ReadRejected { request_id, error } => clients.reject_or_forward(request_id, error),
//!             Action::RoleChanged { .. } => metrics.role(..),
//!             // A peer's message failed validation and changed nothing.
//!             Action::MessageRefused { from, reason } => peers.score(from, reason),
//!         }
//!         // Flow control: report the state machine's progress; at most
//!         // `Limits::apply_ahead_max` slots are handed out beyond it.
//!         feed(Event::Applied { upto_slot: state_machine.applied() });
//!     }
//! }
//! ```
//!
//! Actions must be executed in order. `Persist` ops must become durable in
//! token order (a crash may lose a suffix, never a hole). Tokens restart at 1
//! after `Replica::recover`; a driver must forget tokens of the previous
//! incarnation.
//!
//! ## Roles
//!
//! Every member is acceptor, proposer and learner (`replica/acceptor.rs`,
//! `replica/election.rs` + `replica/leader.rs`, `replica/learner.rs`).
//! Ballots (`Ballot { round, node }`) are ordered by round then node. An
//! acceptor keeps one promised ballot for all slots (Multi-Paxos: a single
//! Phase 1 covers every slot from the candidate's first unchosen slot on).
//!
//! ## Validation
//!
//! Every message from a peer passes `validate.rs` before a handler sees it
//! (recipient, sender, slot and ballot bounds, entry ranges, sizes,
//! configurations, conflicts with values known chosen). A refused one
//! changes nothing and comes back as `Action::MessageRefused`. Handlers'
//! assertions guard the replica's own invariants only.
//!
//! ## Messages and persistence order
//!
//! See [`message`] for every message. The order of persisting and sending:
//!
//! 1. *Candidate*: raise `promised` to its new ballot → `Persist(Promise)` →
//!    `Prepare` to peers once durable (so a restart can never reuse the ballot).
//! 2. *Acceptor on Prepare(b)*: if `b > promised`: `Persist(Promise b)` →
//!    `Promise` once durable. If `b == promised`: re-send `Promise` (after
//!    anything pending is durable). If `b < promised`: `Nack` at once.
//! 3. *Leader proposing slot s*: `Accept` to every member, itself included,
//!    immediately (the ballot is already durable from step 1).
//! 4. *Acceptor on Accept(b, s, v)*: if `b >= promised`: (`Persist(Promise b)`
//!    if `b > promised`) → `Persist(Accept s b v)` → `Accepted` once durable.
//!    The leader counts its own vote only through this path.
//! 5. *Leader*: a quorum of `Accepted(b, s)` ⇒ `s` chosen; commit index
//!    advances over contiguous chosen slots → `Apply` in order.
//! 6. *Follower*: `Accept`/`Heartbeat` carry the commit index; see
//!    [`replica`]'s learner rules. Gaps are fetched (`Fetch`/`FetchReply`).
//! 7. *Compaction*: the driver snapshots, makes the snapshot durable, then
//!    feeds `Compact { upto_slot }` → `Persist(Truncate)`.
//! 8. *Snapshot install*: `InstallSnapshot` message → `Action::InstallSnapshot`
//!    → the driver makes the state durable → `SnapshotInstalled { upto_slot }`
//!    → commit and applied index move to `upto_slot` → `Persist(Truncate)`.
//!    A crash in between leaves a replica that is merely behind.
//!
//! Every message is sent from `Replica::emit`, which asserts that the
//! durable token covers what the message depends on and that the durable
//! promised ballot is at least the ballot the message votes for.
//!
//! ## Duplicates
//!
//! A client that retries may get the same `BatchId` chosen in two slots. The
//! log keeps both; the state machine must apply a batch id once (first slot
//! wins), deterministically on every replica.
//!
//! ## Damaged storage
//!
//! If the driver detects a damaged durable record (checksum mismatch) it sets
//! `DurableState::damaged`. That incarnation runs as a learner only: it
//! applies chosen values it fetches, but never promises, accepts, proposes or
//! acks heartbeats, because it cannot prove what it promised or accepted
//! before. Its disk stays a truthful record of its past votes, so a later
//! restart with a clean read resumes full duty. Replacing a permanently
//! damaged disk needs reconfiguration (future work).
//!
//! ## Reconfiguration
//!
//! The configuration is data in the log. A new leader whose log has no
//! configuration chosen yet (`Replica::config` reports no slot, and Phase 1
//! found no `Config` to re-propose) proposes `Command::Config(bootstrap)`
//! right after the slots it re-proposes, so the first leader of a cluster
//! puts it in (about) slot 1. Two leaders racing may get it chosen twice;
//! the first slot wins and the later one applies as nothing. The replica
//! takes quorum sizes and the member set from its effective configuration
//! (`Replica::config`): the first chosen `Config` it applied, the one the
//! driver recorded (`DurableState::config`), the one a snapshot carried
//! (`Snapshot::config`), or the bootstrap one from `ReplicaOptions` before
//! any is chosen.
//!
//! Membership is fixed for now: `Event::Propose` refuses a `Config` with
//! other members (`ProposeError::MembershipChange`), `recover` refuses a
//! durable configuration other than the options' (`OptionsError::
//! ConfigMismatch`), a peer message carrying a `Config` with other members
//! is refused (`validate.rs`, `Refusal::ConfigConflict`), and an `assert!`
//! (on in release) still guards the replica's own paths against adopting
//! one. A later issue replaces
//! that assertion with a real reconfiguration protocol (an α-window, where
//! the configuration chosen at slot `s` governs slots from `s + α`, which
//! bounds the pipeline to α slots; or joint consensus, where quorums of both
//! the old and the new member set are needed in between). Either needs the
//! configuration per slot, not one per replica; Phase 1 against the
//! configuration of every slot it covers; catch-up and snapshots that carry
//! the configuration history a receiver still needs; and a way to retire
//! removed members and start added ones from a snapshot.
//!
//! ## Limits
//!
//! See [`limits::Limits`]: in-flight slots, value size, message size,
//! per-peer held messages, catch-up chunk, promise size, pending reads,
//! slots applied ahead of the driver's reports.

//! ## Testing
//!
//! `tests/` covers each concern with a small deterministic in-memory cluster
//! (`tests/harness`): election, replication, durability gating, catch-up and
//! snapshots, read index, one test per limit, and property tests for ballot
//! order and the message size bound. The fault-injecting simulator is the
//! `synod-sim` crate (see its README): it drives this same `Replica` over a
//! lossy network, crashing disks and skewed clocks, and checks agreement,
//! validity, P1a, integrity, durability, linearizability and liveness.

pub mod ballot;
pub mod command;
pub mod durable;
pub mod error;
pub mod event;
pub mod limits;
pub mod message;
pub mod options;
pub mod replica;
pub mod validate;

pub use ballot::{Ballot, NodeId, Slot};
pub use command::{Batch, BatchId, ChosenConfig, ClusterConfig, Command, MEMBERS_MAX};
pub use durable::{AcceptedEntry, DurableState, PersistOp, PersistToken};
pub use error::{OptionsError, ProposeError, ReadError, ReconfigError};
pub use event::{Action, Event, RoleKind};
pub use limits::{Limits, Timing};
pub use message::{Body, Message, PromiseEntry, Snapshot};
#[doc(hidden)]
pub use options::BugInjection;
pub use options::ReplicaOptions;
#[doc(hidden)]
pub use replica::Choice;
pub use replica::{Replica, ReplicaStats};
pub use validate::Refusal;
