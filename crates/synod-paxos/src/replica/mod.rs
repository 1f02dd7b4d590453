//! The replica: one struct holding acceptor, proposer and learner state, with
//! handlers split by role into sibling files. `step` is the only entry point
//! that mutates; everything it wants done comes back as `Action`s.

mod acceptor;
mod catchup;
mod election;
mod leader;
mod learner;
mod outbox;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rand::{Rng, RngCore};

use crate::ballot::{Ballot, NodeId, Slot};
use crate::command::{ChosenConfig, ClusterConfig, Command};
use crate::durable::{AcceptedEntry, DurableState, PersistOp, PersistToken};
use crate::error::{OptionsError, ProposeError, ReadError};
use crate::event::{Action, Event, RoleKind};
use crate::message::{Body, Message};
use crate::options::ReplicaOptions;
use crate::validate::{self, Refusal, View};

use self::election::{CandidateState, PreVoteState};
use self::leader::LeaderState;
use self::outbox::Outbox;

/// The acceptor's copy of an accepted value and the persist that made it
/// durable.
#[derive(Clone, Debug)]
pub(crate) struct Accepted {
    pub ballot: Ballot,
    pub command: Command,
    pub token: PersistToken,
}

#[derive(Clone, Debug)]
pub(crate) enum Role {
    Follower,
    Candidate(CandidateState),
    Leader(LeaderState),
}

/// Counters for tests, traces and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicaStats {
    pub elections_started: u64,
    /// Pre-vote rounds started (each may or may not lead to an election).
    pub prevotes_started: u64,
    pub elections_won: u64,
    pub messages_dropped_outbound: u64,
    pub promises_truncated: u64,
    pub snapshots_installed: u64,
    pub fetches_sent: u64,
    /// Peer messages refused by the validator (`validate.rs`).
    pub messages_refused: u64,
}

/// `Clone` copies the whole in-memory state (tests and fuzzing start many
/// runs from one prepared replica); it is not a way to share a replica.
#[derive(Clone)]
pub struct Replica {
    opts: ReplicaOptions,
    id: NodeId,
    /// The configurations this replica knows chosen, by the slot that chose
    /// them (crate docs, "Reconfiguration"): key 0 is the bootstrap one
    /// from the options, and a `Config` chosen at `s` governs slots `> s`.
    /// Only slots up to the commit index are recorded; entries that govern
    /// only compacted slots are dropped, so it holds a handful.
    configs: BTreeMap<Slot, ClusterConfig>,
    /// Nodes joining the cluster (`Event::AddLearner`): a leader sends them
    /// heartbeats. At most 256 (`NodeId` is a byte).
    learners: BTreeSet<NodeId>,

    // Acceptor.
    promised: Ballot,
    accepted: BTreeMap<Slot, Accepted>,
    /// Learner-only incarnation: durable state could not be read back.
    damaged: bool,

    // Durability.
    last_token: PersistToken,
    durable_token: PersistToken,
    /// The promised ballot as of `durable_token`.
    durable_promised: Ballot,
    pending_promises: VecDeque<(PersistToken, Ballot)>,
    outbox: Outbox,

    // Learner.
    /// Known chosen values above `compacted_upto`.
    log: BTreeMap<Slot, Command>,
    compacted_upto: Slot,
    commit_index: Slot,
    /// The last slot handed to the driver as `Apply`.
    applied_index: Slot,
    /// The last slot the driver reported applied (`Event::Applied`); at
    /// most `apply_ahead_max` below `applied_index`.
    applied_reported: Slot,
    /// Highest commit index any peer reported, and who reported it.
    commit_hint: Slot,
    commit_hint_from: Option<NodeId>,
    fetch_sent: Option<(NodeId, u64)>,
    /// The `last_slot` of the snapshot the driver is installing. While set,
    /// nothing is applied or fetched and no election is started.
    installing: Option<Slot>,
    /// The configuration the snapshot being installed carries.
    installing_config: Option<ChosenConfig>,

    // Roles and timers.
    role: Role,
    /// The leader this replica currently follows (or is), with its ballot.
    leader: Option<(NodeId, Ballot)>,
    leader_contact_ms: u64,
    election_deadline_ms: u64,
    election_timeout_ms: u64,
    failed_elections: u32,
    /// The pre-vote round in progress, if any (`election.rs`). Memory only:
    /// a pre-vote changes no durable state.
    prevote: Option<PreVoteState>,
    redraw_timer: bool,
    max_round_seen: u64,
    now_ms: u64,

    actions: Vec<Action>,
    loopback: VecDeque<Message>,
    stats: ReplicaStats,
    /// `ReplicaOptions::record_choices` only; drained by `take_choices`.
    choices: Vec<Choice>,
}

/// One slot this leader saw chosen: who accepted, counted against which
/// configuration (`ReplicaOptions::record_choices`).
#[doc(hidden)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub slot: Slot,
    pub ballot: Ballot,
    pub acks: BTreeSet<NodeId>,
    pub voters: ClusterConfig,
}

impl Replica {
    /// A fresh replica with empty durable state.
    pub fn new(opts: ReplicaOptions) -> Result<Replica, OptionsError> {
        Replica::recover(opts, DurableState::default())
    }

    /// Rebuilds a replica from what survived a restart. The state machine
    /// must already reflect `durable.snapshot_slot`; slots above it are
    /// re-learned (from the leader's commit index or by fetching) and
    /// re-emitted as `Apply`.
    pub fn recover(opts: ReplicaOptions, durable: DurableState) -> Result<Replica, OptionsError> {
        opts.validate()?;
        let promised = if opts.bugs.forget_promise_on_restart { Ballot::ZERO } else { durable.promised };
        let mut accepted = BTreeMap::new();
        // A damaged replay may have lost any record, so its accepted entries
        // prove nothing: a damaged incarnation learns by fetching only.
        let replayed = if durable.damaged { BTreeMap::new() } else { durable.accepted };
        for (slot, entry) in replayed {
            assert!(slot > durable.snapshot_slot, "accepted entry below the snapshot point");
            if !opts.bugs.forget_promise_on_restart {
                assert!(entry.ballot <= promised, "accepted above the durable promise");
            }
            accepted.insert(slot, Accepted { ballot: entry.ballot, command: entry.command, token: 0 });
        }
        let max_round_seen = accepted.values().map(|a| a.ballot.round).max().unwrap_or(0).max(promised.round);
        let mut configs = BTreeMap::from([(0, opts.config.clone())]);
        if let Some(recorded) = &durable.config {
            // The latest configuration the state machine applied; the log
            // at and below it may be compacted, so it replaces the
            // bootstrap one from the options.
            if !recorded.config.is_well_formed() {
                return Err(OptionsError::RecordedConfigInvalid {
                    recorded: recorded.config.members.clone(),
                    slot: recorded.slot,
                });
            }
            assert!(recorded.slot > 0 && recorded.slot <= durable.snapshot_slot, "recorded config above the snapshot");
            configs.insert(recorded.slot, recorded.config.clone());
        }
        Ok(Replica {
            id: opts.id,
            configs,
            learners: BTreeSet::new(),
            promised,
            accepted,
            damaged: durable.damaged,
            last_token: 0,
            durable_token: 0,
            durable_promised: promised,
            pending_promises: VecDeque::new(),
            outbox: Outbox::default(),
            log: BTreeMap::new(),
            compacted_upto: durable.snapshot_slot,
            commit_index: durable.snapshot_slot,
            applied_index: durable.snapshot_slot,
            applied_reported: durable.snapshot_slot,
            commit_hint: durable.snapshot_slot,
            commit_hint_from: None,
            fetch_sent: None,
            installing: None,
            installing_config: None,
            role: Role::Follower,
            leader: None,
            leader_contact_ms: 0,
            election_deadline_ms: 0,
            election_timeout_ms: 0,
            failed_elections: 0,
            prevote: None,
            redraw_timer: true,
            max_round_seen,
            now_ms: 0,
            actions: Vec::new(),
            loopback: VecDeque::new(),
            stats: ReplicaStats::default(),
            choices: Vec::new(),
            opts,
        })
    }

    /// Feeds one event; returns the actions to execute, in order.
    pub fn step(&mut self, now_ms: u64, event: Event, rng: &mut impl RngCore) -> Vec<Action> {
        assert!(now_ms >= self.now_ms, "clock went backwards: {now_ms} < {}", self.now_ms);
        assert!(self.actions.is_empty() && self.loopback.is_empty());
        self.now_ms = now_ms;
        match event {
            Event::Tick => self.on_tick(),
            Event::Receive(message) => match self.validate(&message) {
                Ok(()) => self.on_message(message),
                Err(reason) => {
                    // Refused at the door: no handler ran, nothing changed.
                    self.stats.messages_refused += 1;
                    self.actions.push(Action::MessageRefused { from: message.from, reason });
                }
            },
            Event::Persisted(token) => self.on_persisted(token),
            Event::Propose { request_id, command } => self.on_propose(request_id, command),
            Event::ReadIndex { request_id } => self.on_read_index(request_id),
            Event::Compact { upto_slot } => self.on_compact(upto_slot),
            Event::SnapshotReady { to, snapshot } => self.on_snapshot_ready(to, snapshot),
            Event::SnapshotInstalled { upto_slot } => self.on_snapshot_installed(upto_slot),
            Event::Applied { upto_slot } => self.on_applied(upto_slot),
            Event::AddLearner { node } => {
                if node != self.id {
                    self.learners.insert(node);
                }
            }
            Event::RemoveLearner { node } => {
                self.learners.remove(&node);
            }
        }
        // Messages to self are delivered here, after the event, so handlers
        // never re-enter each other.
        while let Some(message) = self.loopback.pop_front() {
            self.on_message(message);
        }
        if self.redraw_timer {
            self.redraw_timer = false;
            self.redraw_election_timer(rng);
        }
        self.check_invariants();
        std::mem::take(&mut self.actions)
    }

    /// The front door (`validate.rs`): may `message` reach a handler?
    fn validate(&self, message: &Message) -> Result<(), Refusal> {
        let candidate = match &self.role {
            Role::Candidate(c) => Some((c.ballot, c.from_slot, &c.merged)),
            _ => None,
        };
        let known = self.known_nodes();
        let view = View {
            id: self.id,
            known: &known,
            limits: &self.opts.limits,
            round_seen: self.max_round_seen.max(self.promised.round),
            chosen: &self.log,
            accepted: &self.accepted,
            candidate,
        };
        validate::check(&view, message)
    }

    /// Handles a validated peer message or one of our own (loopback).
    fn on_message(&mut self, message: Message) {
        // Our own invariant: peers' messages were validated, loopback ones
        // are addressed by `emit`.
        assert_eq!(message.to, self.id, "message delivered to the wrong replica");
        let from = message.from;
        match message.body {
            Body::Prepare { ballot, from_slot } => self.on_prepare(from, ballot, from_slot),
            Body::Promise { ballot, from_slot, entries, truncated, compacted_upto, commit_index } => {
                self.on_promise(from, ballot, from_slot, entries, truncated, compacted_upto, commit_index)
            }
            Body::Nack { ballot, promised, slot, commit_index } => {
                self.on_nack(from, ballot, promised, slot, commit_index)
            }
            Body::Accept { ballot, slot, command, commit_index } => {
                self.on_accept(from, ballot, slot, command, commit_index)
            }
            Body::Accepted { ballot, slot } => self.on_accepted(from, ballot, slot),
            Body::Heartbeat { ballot, commit_index, seq } => self.on_heartbeat(from, ballot, commit_index, seq),
            Body::HeartbeatAck { ballot, seq, commit_index } => self.on_heartbeat_ack(from, ballot, seq, commit_index),
            Body::Fetch { from_slot } => self.on_fetch(from, from_slot),
            Body::FetchReply { from_slot, entries, commit_index } => {
                self.on_fetch_reply(from, from_slot, entries, commit_index)
            }
            Body::InstallSnapshot { snapshot } => self.on_install_snapshot(from, snapshot),
            Body::PreVote { ballot, commit_index } => self.on_prevote(from, ballot, commit_index),
            Body::PreVoteReply { ballot, granted, promised } => self.on_prevote_reply(from, ballot, granted, promised),
        }
    }

    fn on_tick(&mut self) {
        self.tick_fetch();
        if self.damaged || self.installing.is_some() {
            return;
        }
        // A learner or a removed member never campaigns (crate docs,
        // "Reconfiguration"); a leader that removed itself stepped down when
        // that Config was committed.
        if !self.is_member() && !self.is_leader() {
            return;
        }
        match &self.role {
            Role::Leader(_) => self.tick_leader(),
            Role::Follower | Role::Candidate(_) => {
                if self.now_ms >= self.election_deadline_ms {
                    if matches!(self.role, Role::Candidate(_)) {
                        self.failed_elections += 1;
                    }
                    if self.opts.bugs.no_prevote {
                        self.campaign();
                    } else {
                        self.start_prevote();
                    }
                }
            }
        }
    }

    fn on_propose(&mut self, request_id: u64, command: Command) {
        let size = command.payload_bytes();
        let error = if command == Command::Noop {
            Some(ProposeError::NoopNotProposable)
        } else if let Some(proposed) = command.config() {
            self.check_config_proposal(proposed).err()
        } else if size > self.opts.limits.value_bytes_max {
            Some(ProposeError::ValueTooLarge { size, limit: self.opts.limits.value_bytes_max })
        } else {
            None
        };
        if let Some(error) = error {
            self.actions.push(Action::ProposeRejected { request_id, error });
            return;
        }
        match self.propose_new(command) {
            Ok(slot) => self.actions.push(Action::Proposed { request_id, slot }),
            Err(error) => self.actions.push(Action::ProposeRejected { request_id, error }),
        }
    }

    fn on_read_index(&mut self, request_id: u64) {
        if let Err(error) = self.read_index(request_id) {
            self.actions.push(Action::ReadRejected { request_id, error });
        }
    }

    // ---- durability ----

    /// Issues a persist and returns its token.
    fn persist(&mut self, op: PersistOp) -> PersistToken {
        assert!(!self.damaged || matches!(op, PersistOp::Truncate { .. }), "damaged replica persisting votes");
        self.last_token += 1;
        let token = self.last_token;
        if let PersistOp::Promise { ballot } = op {
            self.pending_promises.push_back((token, ballot));
        }
        self.actions.push(Action::Persist { token, op });
        token
    }

    fn on_persisted(&mut self, token: PersistToken) {
        assert!(token <= self.last_token, "persisted token {token} was never issued");
        if token <= self.durable_token {
            return;
        }
        self.durable_token = token;
        while self.pending_promises.front().is_some_and(|(t, _)| *t <= token) {
            let (_, ballot) = self.pending_promises.pop_front().expect("front exists");
            assert!(ballot >= self.durable_promised);
            self.durable_promised = ballot;
        }
        for held in self.outbox.release(token) {
            self.emit(held.depends_on, held.message);
        }
    }

    /// Sends a message that depends on nothing durable.
    fn send(&mut self, to: NodeId, body: Body) {
        let message = Message { from: self.id, to, body };
        self.emit(0, message);
    }

    /// Sends a message once every persist issued so far is durable.
    fn send_durable(&mut self, to: NodeId, body: Body) {
        let message = Message { from: self.id, to, body };
        let depends_on = self.last_token;
        if depends_on <= self.durable_token {
            self.emit(depends_on, message);
        } else if !self.outbox.hold(depends_on, message, self.opts.limits.outbound_per_peer_max) {
            self.stats.messages_dropped_outbound += 1;
        }
    }

    fn emit(&mut self, depends_on: PersistToken, message: Message) {
        // The durability rule, checked at the last moment: what this message
        // vouches for must already survive a crash.
        assert!(self.durable_token >= depends_on, "sending before its persist is durable");
        match &message.body {
            Body::Promise { ballot, .. } | Body::Prepare { ballot, .. } | Body::Accepted { ballot, .. } => {
                assert!(self.durable_promised >= *ballot, "vote for {ballot} sent before the promise is durable");
            }
            _ => {}
        }
        if let Body::Accepted { ballot, slot } = &message.body {
            if let Some(entry) = self.accepted.get(slot) {
                assert!(entry.ballot != *ballot || entry.token <= self.durable_token);
            }
        }
        if message.to == self.id {
            self.loopback.push_back(message);
        } else {
            self.actions.push(Action::Send(message));
        }
    }

    // ---- timers and roles ----

    fn redraw_election_timer(&mut self, rng: &mut impl RngCore) {
        let t = &self.opts.timing;
        let mut timeout = rng.gen_range(t.election_timeout_min_ms..t.election_timeout_max_ms);
        // Backoff after failed elections keeps duelling candidates apart.
        let backoff_steps = u64::from(self.failed_elections.min(4));
        if backoff_steps > 0 {
            timeout += rng.gen_range(0..t.election_timeout_min_ms * backoff_steps);
        }
        self.election_timeout_ms = timeout;
        self.election_deadline_ms = self.now_ms + timeout;
    }

    /// A live leader was heard: push the election deadline out.
    fn touch_election_timer(&mut self) {
        if self.election_timeout_ms == 0 {
            self.redraw_timer = true;
        } else {
            self.election_deadline_ms = self.now_ms + self.election_timeout_ms;
        }
    }

    fn set_role_follower(&mut self) {
        let was = std::mem::replace(&mut self.role, Role::Follower);
        match was {
            Role::Follower => return,
            Role::Candidate(_) => {}
            Role::Leader(leader) => {
                for read in leader.reads {
                    self.actions
                        .push(Action::ReadRejected { request_id: read.request_id, error: ReadError::LeadershipLost });
                }
                if self.leader.is_some_and(|(id, _)| id == self.id) {
                    self.leader = None;
                }
            }
        }
        self.redraw_timer = true;
        self.actions.push(Action::RoleChanged { role: RoleKind::Follower, ballot: self.promised });
    }

    fn observe_round(&mut self, ballot: Ballot) {
        self.max_round_seen = self.max_round_seen.max(ballot.round);
    }

    fn note_commit_hint(&mut self, from: NodeId, commit_index: Slot) {
        if commit_index > self.commit_hint {
            self.commit_hint = commit_index;
            self.commit_hint_from = Some(from);
        }
    }

    fn check_invariants(&self) {
        assert!(self.applied_index <= self.commit_index);
        assert!(self.applied_reported <= self.applied_index);
        assert!(self.applied_index - self.applied_reported <= self.opts.limits.apply_ahead_max, "apply ahead limit");
        assert!(self.compacted_upto <= self.applied_index);
        assert!(self.durable_token <= self.last_token);
        assert!(self.durable_promised <= self.promised);
        if let Role::Leader(leader) = &self.role {
            assert!(leader.ballot <= self.promised);
            assert!(leader.next_slot > self.commit_index);
        }
        if let Some(first) = self.log.keys().next() {
            assert!(*first > self.compacted_upto);
        }
        assert!(self.configs.contains_key(&0) || self.configs.keys().next().is_some_and(|s| *s <= self.compacted_upto));
        assert!(self.configs.keys().next_back().is_some_and(|slot| *slot <= self.commit_index));
        assert!(self.configs.values().all(ClusterConfig::is_well_formed));
        assert!(self.choices.len() <= 1 << 16, "record_choices without take_choices");
        if let Some(target) = self.installing {
            assert!(target > self.commit_index, "installing a snapshot we do not need");
            assert!(!self.is_leader(), "a replica installing a snapshot does not lead");
            assert!(self.fetch_sent.is_none(), "no fetch while installing");
        }
    }

    // ---- read-only accessors ----

    pub fn id(&self) -> NodeId {
        self.id
    }
    pub fn role(&self) -> RoleKind {
        match self.role {
            Role::Follower => RoleKind::Follower,
            Role::Candidate(_) => RoleKind::Candidate,
            Role::Leader(_) => RoleKind::Leader,
        }
    }
    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader(_))
    }
    /// Who this replica believes leads (itself included).
    pub fn leader_hint(&self) -> Option<NodeId> {
        match self.role {
            Role::Leader(_) => Some(self.id),
            _ => self.leader.map(|(id, _)| id),
        }
    }
    pub fn promised(&self) -> Ballot {
        self.promised
    }
    pub fn commit_index(&self) -> Slot {
        self.commit_index
    }
    pub fn applied_index(&self) -> Slot {
        self.applied_index
    }
    /// The last slot the driver reported applied (`Event::Applied`).
    pub fn applied_reported(&self) -> Slot {
        self.applied_reported
    }
    pub fn compacted_upto(&self) -> Slot {
        self.compacted_upto
    }
    pub fn is_damaged(&self) -> bool {
        self.damaged
    }
    /// The `last_slot` of the snapshot the driver is installing, if any.
    pub fn installing(&self) -> Option<Slot> {
        self.installing
    }
    pub fn durable_token(&self) -> PersistToken {
        self.durable_token
    }
    pub fn last_token(&self) -> PersistToken {
        self.last_token
    }
    pub fn held_messages(&self) -> usize {
        self.outbox.len()
    }
    pub fn held_messages_for(&self, peer: NodeId) -> usize {
        self.outbox.held_for(peer)
    }
    /// The choices recorded since the last call (`record_choices`).
    #[doc(hidden)]
    pub fn take_choices(&mut self) -> Vec<Choice> {
        std::mem::take(&mut self.choices)
    }
    pub fn stats(&self) -> &ReplicaStats {
        &self.stats
    }
    pub fn options(&self) -> &ReplicaOptions {
        &self.opts
    }
    /// The latest configuration this replica knows chosen (it governs the
    /// slots after the commit index) and the first slot known to have
    /// chosen it (`None`: the bootstrap configuration, none chosen yet as
    /// far as this replica knows).
    pub fn config(&self) -> (&ClusterConfig, Option<Slot>) {
        let (slot, config) = self.configs.iter().next_back().expect("configs is never empty");
        (config, Some(*slot).filter(|s| *s > 0))
    }
    /// The latest chosen configuration, if this replica knows one.
    pub fn chosen_config(&self) -> Option<ChosenConfig> {
        self.chosen_config_upto(Slot::MAX)
    }
    /// The latest configuration chosen at or below `slot`, if known.
    pub fn chosen_config_upto(&self, slot: Slot) -> Option<ChosenConfig> {
        self.configs
            .range(1..=slot)
            .next_back()
            .map(|(slot, config)| ChosenConfig { slot: *slot, config: config.clone() })
    }
    /// The configuration governing `slot`: the last one chosen below it.
    pub fn config_for(&self, slot: Slot) -> &ClusterConfig {
        let below = self.configs.range(..slot).next_back();
        below.or_else(|| self.configs.iter().next()).map(|(_, c)| c).expect("configs is never empty")
    }
    /// The nodes this replica treats as learners (`Event::AddLearner`).
    pub fn learners(&self) -> &BTreeSet<NodeId> {
        &self.learners
    }
    /// Is this replica a member of its latest configuration? A learner or a
    /// removed member is not: it never campaigns.
    pub fn is_member(&self) -> bool {
        self.latest_config().contains(self.id)
    }
    fn latest_config(&self) -> &ClusterConfig {
        self.configs.values().next_back().expect("configs is never empty")
    }
    /// Records that `slot` (now committed) chose `config`. An identical
    /// `Config` chosen again changes nothing: the first slot stays.
    fn record_config(&mut self, slot: Slot, config: &ClusterConfig) {
        assert!(config.is_well_formed(), "chosen configuration at slot {slot} is not well formed");
        let (last_slot, last) = self.configs.iter().next_back().expect("configs is never empty");
        if *last_slot >= slot || (*last_slot > 0 && last.same_members(config)) {
            return;
        }
        self.configs.insert(slot, config.clone());
    }
    /// Drops configurations that govern only slots at or below `upto`.
    fn prune_configs(&mut self, upto: Slot) {
        let keep_from = self.configs.range(..=upto).next_back().map_or(0, |(s, _)| *s);
        self.configs = self.configs.split_off(&keep_from);
    }
    /// The chosen value this replica knows for `slot`, if not compacted.
    pub fn chosen(&self, slot: Slot) -> Option<&Command> {
        self.log.get(&slot)
    }
    /// The acceptor's accepted entry for `slot`.
    pub fn accepted(&self, slot: Slot) -> Option<AcceptedEntry> {
        self.accepted.get(&slot).map(|a| AcceptedEntry { ballot: a.ballot, command: a.command.clone() })
    }
    /// On a leader: each peer's commit index as the peer last acknowledged
    /// it (heartbeat replies), `None` for a peer not heard from at this
    /// ballot. Empty on a follower or candidate: only a leader tracks peers.
    pub fn peer_commit_indexes(&self) -> BTreeMap<NodeId, Option<Slot>> {
        match &self.role {
            Role::Leader(leader) => leader.peers.iter().map(|(id, p)| (*id, p.commit_index)).collect(),
            _ => BTreeMap::new(),
        }
    }
    /// Slots proposed by this leader and not yet chosen (0 if not leader).
    pub fn inflight(&self) -> u64 {
        match &self.role {
            Role::Leader(leader) => leader.inflight.len() as u64,
            _ => 0,
        }
    }
    /// Everyone this replica talks to: the members of its recorded
    /// configurations, of the configurations a leader proposed or a
    /// candidate learned of and that may govern later slots, and the
    /// learners.
    fn peers(&self) -> Vec<NodeId> {
        // Every configuration still recorded, not just the latest: a member
        // removed since keeps hearing the leader's commit index until
        // compaction drops its configuration, so it learns its removal.
        let mut nodes: BTreeSet<NodeId> = self.configs.values().flat_map(|c| c.members.iter().copied()).collect();
        match &self.role {
            Role::Leader(leader) => {
                for inflight in leader.inflight.values() {
                    nodes.extend(inflight.voters.members.iter().copied());
                    if let Some(config) = inflight.command.config() {
                        nodes.extend(config.members.iter().copied());
                    }
                }
            }
            Role::Candidate(candidate) => {
                for entry in candidate.merged.values() {
                    if let Some(config) = entry.command.config() {
                        nodes.extend(config.members.iter().copied());
                    }
                }
            }
            Role::Follower => {}
        }
        nodes.extend(self.learners.iter().copied());
        nodes.remove(&self.id);
        nodes.into_iter().collect()
    }
    /// Whose votes (promises, acceptances, acknowledgements) this replica
    /// listens to: its peers and every configuration it knows.
    fn known_nodes(&self) -> BTreeSet<NodeId> {
        let mut nodes: BTreeSet<NodeId> = self.peers().into_iter().collect();
        for config in self.configs.values() {
            nodes.extend(config.members.iter().copied());
        }
        nodes
    }
}
