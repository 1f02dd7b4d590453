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
//! restart with a clean read resumes full duty. A permanently damaged disk
//! is replaced by removing the member and adding a fresh node (see
//! "Reconfiguration").
//!
//! ## Reconfiguration
//!
//! The configuration is data in the log, and a `Config` chosen at slot `s`
//! governs every slot after `s` (Lamport's α = 1: "Paxos Made Simple" §3,
//! "Reconfiguring a State Machine" §4.1). A new leader whose log has no
//! configuration chosen yet (`Replica::config` reports no slot, and Phase 1
//! found no `Config` to re-propose) proposes `Command::Config(bootstrap)`
//! right after the slots it re-proposes, so the first leader of a cluster
//! puts it in (about) slot 1. The same members chosen again change nothing
//! (the first slot stays). The replica keeps the configurations it knows
//! chosen by slot (`Replica::config_for`); `Replica::config` is the latest,
//! recorded when its slot is committed. After a restart the driver hands
//! back the latest one its state machine applied (`DurableState::config`),
//! which wins over the bootstrap one in the options; snapshots carry the
//! latest one at or below their slot.
//!
//! *Changes.* `Event::Propose { command: Config(new) }` at the leader, which
//! refuses (`ProposeError::Reconfig`, `ReconfigError`) unless `new` is well
//! formed (1..=7 members), differs from the configuration governing its
//! next slot by at most one member added or removed (`NotSingleStep`; a
//! replacement is an add then a remove), every added node acknowledged a
//! commit index within `Limits::learner_lag_slots_max` of the leader's
//! (`LearnerNotCaughtUp`, as etcd promotes learners) and no other change is
//! in flight (`ChangeInProgress`). The driver sees the change take effect as
//! the `Apply` of that `Config`.
//!
//! *One at a time, and a stall.* While a change proposed at slot `s` is not
//! chosen, the leader proposes nothing beyond `s` (client proposals get
//! `ProposeError::ConfigChangePending`): it never proposes a slot whose
//! governing configuration it does not know. Every `Inflight` slot records
//! the configuration it is counted against: the last `Config` below it,
//! chosen or proposed by this leader (`proposal_config`). Phase 2 for slot
//! `t` needs `Accepted` from a quorum of that configuration; votes of
//! anyone else are ignored.
//!
//! *Phase 1 across configurations.* A candidate's `Prepare` must be
//! promised by a quorum of every configuration that can govern a slot at or
//! above its first unchosen slot `f`: the one governing `f`, and each
//! `Config` value Phase 1 would re-propose at some slot `s >= f` (the
//! highest-ballot or known-chosen entry the promises report), since that one
//! may govern the slots after `s`. Learning of such a configuration, the
//! candidate sends `Prepare` to its members too, and completes only when
//! every needed quorum promised (`CandidateState::complete`).
//!
//! Why this is safe, slot by slot. Suppose `v` was chosen at slot `t` by a
//! quorum `Q` of the configuration `C` its leader counted against, and a
//! later candidate with first unchosen slot `f <= t` completes Phase 1.
//! (1) If `C` governs `f` (no change in between), `Q` meets the candidate's
//! quorum of `C`: it learns `v` as in single-configuration Paxos. (2)
//! Otherwise `C` was chosen (or proposed by `v`'s leader) at some `s` with
//! `f <= s < t`. Take the lowest such change `s`; by induction on the
//! changes between `f` and `t` the candidate's quorum of the configuration
//! governing `s` reports the highest-ballot value at `s`, which is that
//! `Config` (it was chosen, or it is the highest-ballot proposal of a
//! leader that proposed nothing beyond it until it was chosen), so the
//! candidate also needs, and gets, a quorum of it, which meets `Q`. The
//! stall is what makes "the highest-ballot value at `s`" a `Config` whenever
//! a later slot was counted against it. (3) The one gap is a leader that
//! re-proposes, in `become_leader`, a `Config` at `s` and values above it
//! before `s` is chosen: the value at `s` may end up different, and slots
//! above it were counted against the neighbour of their final governing
//! configuration. Single-member steps close it: any majority of `C` and any
//! majority of `C ± x` intersect (Ongaro's thesis §4.1), so every later
//! quorum meets `Q` anyway. Joint consensus (Raft §6) would allow arbitrary
//! changes at the price of two quorums per slot during the change; one
//! member at a time with α = 1 keeps every slot on one majority and costs
//! only the stall. The simulator checks the property directly (`synod-sim`,
//! check `quorum`) and its teeth test turns these rules off
//! (`BugInjection::reconfig_unsafe`).
//!
//! *Learners, removed members.* A node outside its latest configuration
//! (`ReplicaOptions::learner` to start one outside the bootstrap
//! configuration) never campaigns. It still answers `Prepare`, `Accept` and
//! `PreVote` like any acceptor: a node may be added before it learns so,
//! and a candidate may need its promise (if the leader that got the change
//! chosen dies before telling anyone, the new configuration's quorum must
//! include it, and nobody can tell it it is a member). Whose votes count is
//! decided by proposers only, against the configuration governing the slot.
//! So a removed node must never come back with a wiped disk under the same
//! id (a fresh node gets a fresh id, as in etcd). It catches up through
//! heartbeats' commit hints and fetches; a `PreVote` carrying a higher
//! commit index is a hint too. Drivers feed `Event::AddLearner { node }` to every
//! member: leaders then send it heartbeats, track the commit index it
//! acknowledges, and serve its fetches (a snapshot if compacted). A
//! leader's peers are the members of every configuration it still records
//! (so a removed member keeps hearing the commit index until compaction
//! drops its configuration), of the configurations in flight, and the
//! learners. Votes (`Promise`, `Accepted`, `HeartbeatAck`, `PreVoteReply`,
//! `Nack`) from anyone else are refused (`Refusal::SenderNotMember`); other
//! messages may come from any node id, since a replica that has not learned
//! of a join must still hear the new member lead.
//!
//! *A leader that removes itself* keeps leading until that `Config` is
//! committed, sends one last heartbeat round carrying the commit index that
//! covers it, and steps down; the members elect a new leader. Check-quorum
//! and the read index count the configuration governing the next slot.
//!
//! Durable state needs nothing new: the driver records the latest applied
//! configuration with its slot (`DurableState::config`). A pending change is
//! an ordinary accepted entry. Learners are not durable: a driver feeds
//! `AddLearner` again after a restart.

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
pub use command::{Batch, BatchId, ChosenConfig, ClusterConfig, Command, MemberAddress, MemberBook, MEMBERS_MAX};
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
