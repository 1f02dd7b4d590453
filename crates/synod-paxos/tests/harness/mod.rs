//! A tiny deterministic cluster for the crate's tests: an in-memory network
//! with a drop filter, manual or automatic persistence, crash and restart.
//! The full fault-injecting simulator lives in `synod-sim`.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use synod_paxos::*;

pub struct Node {
    pub replica: Option<Replica>,
    pub opts: ReplicaOptions,
    pub durable: DurableState,
    /// Persists issued but not yet reported durable (manual mode).
    pub pending: Vec<(PersistToken, PersistOp)>,
    pub auto_persist: bool,
    /// The state machine: applied commands by slot (rebuilt from the
    /// snapshot on restart).
    pub applied: BTreeMap<Slot, Command>,
    pub snapshot: BTreeMap<Slot, Command>,
    pub outputs: Vec<Action>,
    /// Installs are held here instead of completing at once (tests of a
    /// slow or interrupted install finish them with `Cluster::finish_install`).
    pub hold_installs: bool,
    pub held_installs: Vec<Snapshot>,
    /// The state machine applies at once but reports `Event::Applied` only
    /// while this is false (tests of the apply-ahead limit set it).
    pub hold_applied_reports: bool,
}

impl Node {
    /// A node with a new replica and empty durable state, persisting on its own.
    fn fresh(opts: ReplicaOptions) -> Node {
        let replica = Replica::new(opts.clone()).expect("valid options");
        Node {
            replica: Some(replica),
            opts,
            durable: DurableState::default(),
            pending: Vec::new(),
            auto_persist: true,
            applied: BTreeMap::new(),
            snapshot: BTreeMap::new(),
            outputs: Vec::new(),
            hold_installs: false,
            held_installs: Vec::new(),
            hold_applied_reports: false,
        }
    }
}

pub struct Cluster {
    pub nodes: BTreeMap<NodeId, Node>,
    pub now_ms: u64,
    pub net: VecDeque<Message>,
    pub sent: Vec<Message>,
    pub rng: ChaCha8Rng,
    pub drop: Box<dyn Fn(&Message) -> bool>,
}

pub fn options(id: NodeId, n: u8) -> ReplicaOptions {
    ReplicaOptions::new(id, ClusterConfig::new((1..=n).collect()))
}

/// What a driver records with its state machine: the latest applied
/// Config, with the first slot of the run of Configs with its members.
pub fn recorded_config(state: &BTreeMap<Slot, Command>) -> Option<ChosenConfig> {
    let mut recorded: Option<ChosenConfig> = None;
    for (slot, command) in state {
        if let Some(config) = command.config() {
            if recorded.as_ref().is_none_or(|r| !r.config.same_members(config)) {
                recorded = Some(ChosenConfig { slot: *slot, config: config.clone() });
            }
        }
    }
    recorded
}

pub fn batch(id: u64, len: usize) -> Command {
    Command::Batch(Batch { id: BatchId(id), bytes: vec![id as u8; len] })
}

impl Cluster {
    pub fn new(n: u8, seed: u64) -> Cluster {
        Cluster::with_options(n, seed, |_| {})
    }

    pub fn with_options(n: u8, seed: u64, tweak: impl Fn(&mut ReplicaOptions)) -> Cluster {
        let mut nodes = BTreeMap::new();
        for id in 1..=n {
            let mut opts = options(id, n);
            tweak(&mut opts);
            nodes.insert(id, Node::fresh(opts));
        }
        Cluster {
            nodes,
            now_ms: 0,
            net: VecDeque::new(),
            sent: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            drop: Box::new(|_| false),
        }
    }

    /// Starts node `id` as a learner (outside the bootstrap configuration of
    /// `n` members) and tells every other node about it.
    pub fn add_learner(&mut self, id: NodeId, n: u8) {
        let mut opts = options(1, n);
        opts.id = id;
        opts.learner = true;
        self.nodes.insert(id, Node::fresh(opts));

        let others: Vec<NodeId> = self.nodes.keys().copied().filter(|o| *o != id).collect();
        for other in others {
            self.step(other, Event::AddLearner { node: id });
        }
    }

    pub fn replica(&self, id: NodeId) -> &Replica {
        self.nodes[&id].replica.as_ref().expect("node is up")
    }

    pub fn step(&mut self, id: NodeId, event: Event) -> Vec<Action> {
        let now_ms = self.now_ms;
        let node = self.nodes.get_mut(&id).expect("node exists");
        let Some(replica) = node.replica.as_mut() else { return Vec::new() };
        let actions = replica.step(now_ms, event, &mut self.rng);
        self.execute(id, actions.clone());
        actions
    }

    fn execute(&mut self, id: NodeId, actions: Vec<Action>) {
        let mut max_token = None;
        let mut follow_up = Vec::new();
        let mut applied_upto = None;
        {
            let node = self.nodes.get_mut(&id).unwrap();
            for action in &actions {
                node.outputs.push(action.clone());
                match action {
                    Action::Persist { token, op } => {
                        if node.auto_persist {
                            node.durable.apply(op);
                            max_token = Some(*token);
                        } else {
                            node.pending.push((*token, op.clone()));
                        }
                    }
                    Action::Send(message) => {
                        self.sent.push(message.clone());
                        self.net.push_back(message.clone());
                    }
                    Action::Apply { slot, command } => {
                        let previous = node.applied.insert(*slot, command.clone());
                        assert!(previous.is_none() || previous.as_ref() == Some(command));
                        if !node.hold_applied_reports {
                            applied_upto = Some(*slot);
                        }
                    }
                    Action::InstallSnapshot { snapshot } => {
                        if node.hold_installs {
                            node.held_installs.push(snapshot.clone());
                            continue;
                        }
                        let state: BTreeMap<Slot, Command> = postcard::from_bytes(&snapshot.bytes).unwrap();
                        node.applied = state.clone();
                        node.snapshot = state;
                        node.durable.snapshot_slot = snapshot.last_slot;
                        node.durable.config = recorded_config(&node.snapshot);
                        follow_up.push(Event::SnapshotInstalled { upto_slot: snapshot.last_slot });
                    }
                    Action::SnapshotNeeded { to } => {
                        let last_slot = node.snapshot.keys().next_back().copied().unwrap_or(0);
                        let bytes = postcard::to_allocvec(&node.snapshot).unwrap();
                        follow_up.push(Event::SnapshotReady {
                            to: *to,
                            snapshot: Snapshot { last_slot, bytes, config: None },
                        });
                    }
                    _ => {}
                }
            }
        }
        if let Some(token) = max_token {
            self.step(id, Event::Persisted(token));
        }
        if let Some(upto_slot) = applied_upto {
            self.step(id, Event::Applied { upto_slot });
        }
        for event in follow_up {
            self.step(id, event);
        }
    }

    /// Makes every pending persist of `id` durable and reports it.
    pub fn flush(&mut self, id: NodeId) {
        let node = self.nodes.get_mut(&id).unwrap();
        let pending = std::mem::take(&mut node.pending);
        let Some(max) = pending.iter().map(|(t, _)| *t).max() else { return };
        for (_, op) in &pending {
            node.durable.apply(op);
        }
        self.step(id, Event::Persisted(max));
    }

    pub fn deliver_all(&mut self) {
        let mut budget = 1_000_000;
        while let Some(message) = self.net.pop_front() {
            budget -= 1;
            assert!(budget > 0, "message storm");
            if (self.drop)(&message) || self.nodes.get(&message.to).is_none_or(|n| n.replica.is_none()) {
                continue;
            }
            self.step(message.to, Event::Receive(message));
        }
    }

    /// Advances time by `ms` in 10 ms ticks, delivering everything between.
    pub fn run(&mut self, ms: u64) {
        let end = self.now_ms + ms;
        while self.now_ms < end {
            self.now_ms += 10;
            let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
            for id in ids {
                self.step(id, Event::Tick);
                self.deliver_all();
            }
        }
    }

    pub fn leaders(&self) -> Vec<NodeId> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.replica.as_ref().is_some_and(|r| r.is_leader()))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Runs until exactly one leader exists and returns it.
    pub fn elect(&mut self) -> NodeId {
        for _ in 0..500 {
            self.run(10);
            let leaders = self.leaders();
            if leaders.len() == 1 {
                return leaders[0];
            }
        }
        panic!("no leader elected");
    }

    pub fn propose(&mut self, id: NodeId, request_id: u64, command: Command) -> Action {
        let actions = self.step(id, Event::Propose { request_id, command });
        self.deliver_all();
        actions
            .into_iter()
            .find(|a| matches!(a, Action::Proposed { .. } | Action::ProposeRejected { .. }))
            .expect("propose answered")
    }

    pub fn crash(&mut self, id: NodeId) {
        let node = self.nodes.get_mut(&id).unwrap();
        node.replica = None;
        node.pending.clear();
        node.applied = node.snapshot.clone();
    }

    pub fn restart(&mut self, id: NodeId) {
        let node = self.nodes.get_mut(&id).unwrap();
        assert!(node.replica.is_none());
        node.applied = node.snapshot.clone();
        node.replica = Some(Replica::recover(node.opts.clone(), node.durable.clone()).unwrap());
    }

    /// Reports everything `id`'s state machine applied (after
    /// `hold_applied_reports`).
    pub fn report_applied(&mut self, id: NodeId) {
        let upto_slot = self.replica(id).applied_index();
        self.step(id, Event::Applied { upto_slot });
        self.deliver_all();
    }

    /// Completes a held install up to `upto_slot` (at most the snapshot's
    /// last slot): the state machine takes that prefix of the snapshot.
    pub fn finish_install(&mut self, id: NodeId, upto_slot: Slot) {
        let node = self.nodes.get_mut(&id).unwrap();
        let snapshot = node.held_installs.pop().expect("an install is held");
        assert!(upto_slot <= snapshot.last_slot);
        let state: BTreeMap<Slot, Command> = postcard::from_bytes(&snapshot.bytes).unwrap();
        for (slot, command) in state.range(..=upto_slot) {
            node.applied.insert(*slot, command.clone());
        }
        node.snapshot = node.applied.clone();
        node.durable.snapshot_slot = node.durable.snapshot_slot.max(upto_slot);
        node.durable.config = recorded_config(&node.snapshot);
        self.step(id, Event::SnapshotInstalled { upto_slot });
        self.deliver_all();
    }

    /// Snapshots `id`'s state machine and compacts its log.
    pub fn compact(&mut self, id: NodeId) {
        let node = self.nodes.get_mut(&id).unwrap();
        let upto = node.replica.as_ref().unwrap().applied_index();
        node.snapshot = node.applied.range(..=upto).map(|(s, c)| (*s, c.clone())).collect();
        node.durable.snapshot_slot = upto;
        node.durable.config = recorded_config(&node.snapshot);
        self.step(id, Event::Compact { upto_slot: upto });
    }

    /// Asserts every up node applied the same prefix; returns the shortest
    /// common length.
    pub fn assert_agreement(&self) {
        let mut chosen: BTreeMap<Slot, &Command> = BTreeMap::new();
        for node in self.nodes.values() {
            for (slot, command) in &node.applied {
                let seen = chosen.entry(*slot).or_insert(command);
                assert_eq!(*seen, command, "disagreement at slot {slot}");
            }
        }
    }

    pub fn applied_batches(&self, id: NodeId) -> Vec<u64> {
        self.nodes[&id]
            .applied
            .values()
            .filter_map(|c| match c {
                Command::Batch(b) => Some(b.id.0),
                _ => None,
            })
            .collect()
    }
}
