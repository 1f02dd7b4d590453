//! One simulated node: a `Replica` driven exactly as the node runtime drives
//! it, over a simulated disk, clock and network, with the log state machine
//! and the client-facing request handling (propose, forward, redirect).

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synod_paxos::{Action, Ballot, BatchId, Command, Event, NodeId, ProposeError, ReadError, Replica, ReplicaOptions};

use crate::checks::{agreement, promise, validity};
use crate::clock::Clock;
use crate::disk::{Disk, DiskRecord};
use crate::network::{Addr, ClientReply, ClientRequest, Packet, RequestKind};
use crate::state_machine::{Applied, LogMachine};
use crate::world::World;

pub struct SimNode {
    pub opts: ReplicaOptions,
    pub replica: Option<Replica>,
    pub machine: LogMachine,
    pub disk: Disk,
    pub clock: Clock,
    pub rng: ChaCha8Rng,
    pub incarnation: u32,
    /// First disk record written by the current incarnation.
    pub incarnation_start: usize,
    pub sync_pending: bool,
    /// Highest promise this incarnation read back or issued (promise check).
    promise_floor: Ballot,
    next_request: u64,
    /// Proposals and reads handed to the replica, by request id.
    requests: BTreeMap<u64, ClientRequest>,
    /// Batches proposed here that await their `Apply`, and whom to tell.
    waiting: BTreeMap<BatchId, Waiter>,
}

/// Who to answer when a proposed batch applies, and the slot it was given.
struct Waiter {
    client: u8,
    op_id: u64,
    slot: u64,
}

impl SimNode {
    pub fn new(opts: ReplicaOptions, clock: Clock, seed: u64) -> SimNode {
        let replica = Replica::new(opts.clone()).expect("valid options");
        SimNode {
            opts,
            replica: Some(replica),
            machine: LogMachine::default(),
            disk: Disk::default(),
            clock,
            rng: ChaCha8Rng::seed_from_u64(seed),
            incarnation: 0,
            incarnation_start: 0,
            sync_pending: false,
            promise_floor: Ballot::ZERO,
            next_request: 0,
            requests: BTreeMap::new(),
            waiting: BTreeMap::new(),
        }
    }

    pub fn is_up(&self) -> bool {
        self.replica.is_some()
    }

    pub fn is_damaged(&self) -> bool {
        self.replica.as_ref().is_some_and(|r| r.is_damaged())
    }
}

impl World {
    pub(crate) fn step_node(&mut self, id: NodeId, event: Event) {
        let now_ms = self.now_ms;
        let node = self.nodes.get_mut(&id).expect("node exists");
        let Some(replica) = node.replica.as_mut() else { return };
        let local_ms = node.clock.local_ms(now_ms);
        let actions = replica.step(local_ms, event, &mut node.rng);
        for action in actions {
            self.execute(id, action);
            if self.violation.is_some() {
                return;
            }
        }
    }

    pub(crate) fn node_tick(&mut self, id: NodeId) {
        self.step_node(id, Event::Tick);
    }

    pub(crate) fn node_receive(&mut self, id: NodeId, from: Addr, packet: Packet) {
        if !self.nodes[&id].is_up() {
            return;
        }
        match packet {
            Packet::Paxos(message) => {
                self.trace.fold(u64::from(message.from) << 8 | u64::from(message.to));
                self.trace.line(self.now_ms, || format!("n{} <- n{} {:?}", message.to, message.from, message.body));
                self.step_node(id, Event::Receive(message));
            }
            Packet::Request(request) => self.node_request(id, request),
            Packet::Reply { .. } => unreachable!("replies go to clients, not {from:?}"),
        }
    }

    fn node_request(&mut self, id: NodeId, request: ClientRequest) {
        self.trace.line(self.now_ms, || {
            format!("n{id} <- client {} op {} {:?}", request.client, request.op_id, request.kind)
        });
        let node = self.nodes.get_mut(&id).unwrap();
        if let RequestKind::Append(batch) = &request.kind {
            if let Some(slot) = node.machine.ids.get(&batch.id).copied() {
                // Already applied here: idempotent success.
                self.reply(id, request.client, request.op_id, ClientReply::Appended { slot });
                return;
            }
            let leading = node.replica.as_ref().is_some_and(|r| r.is_leader());
            if let Some(waiter) = node.waiting.get_mut(&batch.id).filter(|_| leading) {
                // Still in flight here: answer the newest attempt.
                waiter.client = request.client;
                waiter.op_id = request.op_id;
                return;
            }
        }
        node.next_request += 1;
        let request_id = node.next_request;
        let event = match &request.kind {
            RequestKind::Append(batch) => Event::Propose { request_id, command: Command::Batch(batch.clone()) },
            RequestKind::Read => Event::ReadIndex { request_id },
        };
        node.requests.insert(request_id, request);
        self.step_node(id, event);
    }

    fn reply(&mut self, id: NodeId, client: u8, op_id: u64, reply: ClientReply) {
        self.trace.line(self.now_ms, || format!("n{id} -> client {client} op {op_id} {reply:?}"));
        self.send(Addr::Node(id), Addr::Client(client), Packet::Reply { op_id, reply });
    }

    /// A refused request: forward once to the leader the replica named, or
    /// tell the client where to go.
    fn redirect(&mut self, id: NodeId, request: ClientRequest, hint: Option<NodeId>) {
        match hint {
            Some(leader) if leader != id && !request.forwarded => {
                let forwarded = ClientRequest { forwarded: true, ..request };
                self.send(Addr::Node(id), Addr::Node(leader), Packet::Request(forwarded));
            }
            _ => self.reply(id, request.client, request.op_id, ClientReply::Redirect { hint }),
        }
    }

    fn execute(&mut self, id: NodeId, action: Action) {
        match action {
            Action::Persist { token, op } => {
                let node = self.nodes.get_mut(&id).unwrap();
                let checked = promise::check_persist(id, &mut node.promise_floor, &op);
                node.disk.append(&DiskRecord::Persist { token, op });
                if let Err(v) = checked {
                    self.fail(v);
                }
                self.ensure_sync(id);
            }
            Action::Send(message) => {
                self.stats.messages += 1;
                self.send(Addr::Node(message.from), Addr::Node(message.to), Packet::Paxos(message));
            }
            Action::Apply { slot, command } => self.apply(id, slot, command),
            Action::InstallSnapshot { snapshot } => {
                let node = self.nodes.get_mut(&id).unwrap();
                node.machine = LogMachine::restore(&snapshot);
                node.disk.append(&DiskRecord::Snapshot { snapshot });
                self.ensure_sync(id);
                self.stats.snapshots_installed += 1;
                self.trace.line(self.now_ms, || format!("n{id} installed snapshot"));
                let node = &self.nodes[&id];
                if let Err(v) = agreement::check_snapshot(&self.chosen, id, &node.machine) {
                    self.fail(v);
                }
                self.answer_waiters_from_machine(id);
            }
            Action::SnapshotNeeded { to } => {
                let snapshot = self.nodes[&id].machine.snapshot();
                self.step_node(id, Event::SnapshotReady { to, snapshot });
            }
            Action::Proposed { request_id, slot } => {
                let node = self.nodes.get_mut(&id).unwrap();
                let request = node.requests.remove(&request_id).expect("known request");
                let RequestKind::Append(batch) = &request.kind else { unreachable!() };
                node.waiting.insert(batch.id, Waiter { client: request.client, op_id: request.op_id, slot });
                self.trace.line(self.now_ms, || format!("n{id} proposed batch {} at slot {slot}", batch.id.0));
            }
            Action::ProposeRejected { request_id, error } => {
                let request = self.nodes.get_mut(&id).unwrap().requests.remove(&request_id).expect("known request");
                match error {
                    ProposeError::NotLeader { leader_hint } => self.redirect(id, request, leader_hint),
                    ProposeError::TooManyInflight { .. } => {
                        self.reply(id, request.client, request.op_id, ClientReply::Busy)
                    }
                    error @ (ProposeError::ValueTooLarge { .. } | ProposeError::NoopNotProposable) => {
                        self.reply(id, request.client, request.op_id, ClientReply::Failed { reason: error.to_string() })
                    }
                }
            }
            Action::ReadReady { request_id, index } => {
                let node = self.nodes.get_mut(&id).unwrap();
                let request = node.requests.remove(&request_id).expect("known request");
                assert!(node.machine.applied_index >= index, "read ready before the index is applied");
                let applied = node.machine.applied_index;
                self.reply(id, request.client, request.op_id, ClientReply::ReadOk { index: applied });
            }
            Action::ReadRejected { request_id, error } => {
                let request = self.nodes.get_mut(&id).unwrap().requests.remove(&request_id).expect("known request");
                match error {
                    ReadError::NotLeader { leader_hint } => self.redirect(id, request, leader_hint),
                    ReadError::TooManyPending { .. } | ReadError::LeadershipLost => {
                        self.reply(id, request.client, request.op_id, ClientReply::Busy)
                    }
                }
            }
            Action::RoleChanged { role, ballot } => {
                if role == synod_paxos::RoleKind::Leader {
                    self.stats.elections_won += 1;
                }
                self.trace.line(self.now_ms, || format!("n{id} is now {role:?} at ballot {ballot}"));
            }
        }
    }

    fn apply(&mut self, id: NodeId, slot: u64, command: Command) {
        if let Err(v) = agreement::check_apply(&mut self.chosen, id, slot, &command) {
            self.fail(v);
            return;
        }
        if let Err(v) = validity::check_apply(&self.proposed, &self.config, id, slot, &command) {
            self.fail(v);
            return;
        }
        self.trace.line(self.now_ms, || format!("n{id} apply {slot} {command:?}"));
        let node = self.nodes.get_mut(&id).unwrap();
        let applied = node.machine.apply(slot, &command);
        // A proposal whose slot went to another value will not apply from
        // here; forget it so the client's retry is proposed afresh.
        node.waiting.retain(|batch_id, w| w.slot != slot || matches!(&command, Command::Batch(b) if b.id == *batch_id));
        if let Applied::Batch { id: batch_id, effective_slot, .. } = applied {
            if let Some(w) = node.waiting.remove(&batch_id) {
                self.reply(id, w.client, w.op_id, ClientReply::Appended { slot: effective_slot });
            }
        }
        self.maybe_compact(id);
    }

    fn answer_waiters_from_machine(&mut self, id: NodeId) {
        let node = self.nodes.get_mut(&id).unwrap();
        let done: Vec<(BatchId, u64)> =
            node.waiting.keys().filter_map(|b| node.machine.ids.get(b).map(|s| (*b, *s))).collect();
        for (batch_id, slot) in done {
            let w = self.nodes.get_mut(&id).unwrap().waiting.remove(&batch_id).unwrap();
            self.reply(id, w.client, w.op_id, ClientReply::Appended { slot });
        }
        // Proposals whose slot the snapshot covers without them lost their
        // slot: no Apply will come for it, so forget them (the client retries).
        let node = self.nodes.get_mut(&id).unwrap();
        let covered = node.machine.applied_index;
        node.waiting.retain(|_, w| w.slot > covered);
    }

    /// Snapshot then compact, the order the replica requires: the snapshot
    /// record precedes the Truncate record on the same append-only disk, so
    /// no crash can keep the truncate without the snapshot.
    fn maybe_compact(&mut self, id: NodeId) {
        let Some(every) = self.faults.compact_every else { return };
        let node = self.nodes.get_mut(&id).unwrap();
        let Some(replica) = node.replica.as_ref() else { return };
        let applied = node.machine.applied_index;
        if applied < replica.compacted_upto() + every || applied != replica.applied_index() {
            return;
        }
        let snapshot = node.machine.snapshot();
        node.disk.append(&DiskRecord::Snapshot { snapshot });
        self.ensure_sync(id);
        self.step_node(id, Event::Compact { upto_slot: applied });
    }

    fn ensure_sync(&mut self, id: NodeId) {
        let node = self.nodes.get_mut(&id).unwrap();
        if node.sync_pending || node.disk.unsynced() == 0 {
            return;
        }
        node.sync_pending = true;
        let (incarnation, upto) = (node.incarnation, node.disk.len());
        let latency = self.rng.gen_range(1..=self.faults.sync_ms_max);
        self.schedule(self.now_ms + latency, crate::world::SimEvent::DiskSynced { node: id, incarnation, upto });
    }

    pub(crate) fn node_synced(&mut self, id: NodeId, incarnation: u32, upto: usize) {
        let node = self.nodes.get_mut(&id).unwrap();
        if node.incarnation != incarnation || !node.is_up() {
            return;
        }
        node.sync_pending = false;
        let token = node.disk.sync(node.incarnation_start, upto);
        if let Some(token) = token {
            self.step_node(id, Event::Persisted(token));
        }
        self.ensure_sync(id);
    }

    pub(crate) fn crash(&mut self, id: NodeId) {
        let node = self.nodes.get_mut(&id).unwrap();
        if !node.is_up() {
            return;
        }
        node.replica = None;
        node.disk.crash();
        node.incarnation += 1;
        node.sync_pending = false;
        node.requests.clear();
        node.waiting.clear();
        node.machine = LogMachine::default();
        self.stats.crashes += 1;
        self.trace.line(self.now_ms, || format!("n{id} crashed"));
    }

    pub(crate) fn restart(&mut self, id: NodeId) {
        let corrupt = self.faults.corrupt_read;
        let node = self.nodes.get_mut(&id).unwrap();
        assert!(!node.is_up());
        let recovered = node.disk.recover(corrupt, &mut node.rng);
        node.machine = recovered.snapshot.as_ref().map(LogMachine::restore).unwrap_or_default();
        let damaged = recovered.durable.damaged;
        let durable_promise = recovered.durable.promised;
        let replica = Replica::recover(node.opts.clone(), recovered.durable).expect("valid options");
        let restart_check = promise::check_restart(id, durable_promise, replica.promised(), damaged);
        node.promise_floor = if damaged { Ballot::ZERO } else { durable_promise };
        node.replica = Some(replica);
        node.incarnation_start = node.disk.len();
        if damaged {
            self.stats.damaged_restarts += 1;
        }
        self.trace.line(self.now_ms, || format!("n{id} restarted (damaged records: {})", recovered.damaged_records));
        if let Err(v) = restart_check {
            self.fail(v);
        }
        if let Err(v) = agreement::check_snapshot(&self.chosen, id, &self.nodes[&id].machine) {
            self.fail(v);
        }
    }
}
