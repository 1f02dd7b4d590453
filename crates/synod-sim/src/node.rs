//! One simulated node: a `Replica` driven exactly as the node runtime drives
//! it, over a simulated disk, clock and network, with the ledger state
//! machine (`state_machine.rs`) and the client-facing request handling of
//! the node's API: a follower forwards once or redirects; the leader checks
//! chain id, shape and signature of every transfer (`api/transfers.rs`),
//! cuts the valid ones into one `BatchPayload` stamped with its own clock
//! (`cluster/proposer.rs`) and proposes it under a fresh batch id.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use synod_core::batch::BatchPayload;
use synod_core::{RejectReason, SignedTransfer, VerifiedTransfer};
use synod_paxos::{
    Action, Ballot, Batch, BatchId, Command, Event, NodeId, PersistOp, ProposeError, ReadError, Replica, ReplicaOptions,
};

use crate::checks::{agreement, block_agreement, promise, quorum, validity, Violation};
use crate::clock::Clock;
use crate::history::{ReadResult, Stage, TransferResult};
use crate::install::Install;
use crate::network::{Addr, ClientReply, ClientRequest, Packet, RequestKind};
use crate::state_machine::{Applied, ApplyError, ApplyOutcome, BlockRef, LedgerMachine};
use crate::workload::GENESIS_MS;
use crate::world::World;

pub struct SimNode {
    pub opts: ReplicaOptions,
    pub replica: Option<Replica>,
    /// The ledger and the node's database (`machine.disk()`, which survives
    /// crashes).
    pub machine: LedgerMachine,
    pub clock: Clock,
    pub rng: ChaCha8Rng,
    pub incarnation: u32,
    pub sync_pending: bool,
    /// The snapshot install in progress, if any (`install.rs`).
    pub install: Option<Install>,
    /// Highest promise this incarnation read back or issued (promise check).
    promise_floor: Ballot,
    next_request: u64,
    next_batch: u64,
    /// Proposals and reads handed to the replica, by request id.
    requests: BTreeMap<u64, Pending>,
    /// Batches proposed here that await their `Apply`, and whom to tell.
    waiting: BTreeMap<BatchId, Waiter>,
}

struct Pending {
    request: ClientRequest,
    /// For a submit: the batch proposed and the transfers refused before it.
    batch: Option<(BatchId, Vec<Option<TransferResult>>)>,
}

/// Who to answer when a proposed batch applies, and the slot it was given.
struct Waiter {
    client: u8,
    op_id: u64,
    slot: u64,
    /// One per transfer of the request: `Some` if refused before consensus,
    /// `None` for those in the batch, in order.
    refused: Vec<Option<TransferResult>>,
}

impl SimNode {
    pub fn new(opts: ReplicaOptions, machine: LedgerMachine, clock: Clock, seed: u64) -> SimNode {
        let replica = Replica::new(opts.clone()).expect("valid options");
        SimNode {
            opts,
            replica: Some(replica),
            machine,
            clock,
            rng: ChaCha8Rng::seed_from_u64(seed),
            incarnation: 0,
            sync_pending: false,
            install: None,
            promise_floor: Ballot::ZERO,
            next_request: 0,
            next_batch: 0,
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

    /// No `Apply` comes for slots up to `slot` (a snapshot covered them):
    /// forget the proposals there (their clients retry and learn the outcome).
    pub(crate) fn forget_waiting_upto(&mut self, slot: u64) {
        self.waiting.retain(|_, w| w.slot > slot);
    }

    /// Unique across nodes and incarnations (the node draws random ids).
    fn fresh_batch_id(&mut self, id: NodeId) -> BatchId {
        self.next_batch += 1;
        assert!(self.next_batch < 1 << 40);
        BatchId(u64::from(id) << 56 | u64::from(self.incarnation & 0xffff) << 40 | self.next_batch)
    }
}

fn rejected(stage: Stage, reason: &RejectReason) -> TransferResult {
    let expected_nonce = match reason {
        RejectReason::BadNonce { expected, .. } => Some(*expected),
        _ => None,
    };
    TransferResult::Rejected { stage, code: reason.code().to_string(), expected_nonce }
}

fn result_of(outcome: &ApplyOutcome) -> TransferResult {
    match outcome {
        ApplyOutcome::Committed { position, duplicate } => TransferResult::Committed {
            height: position.height,
            index_in_block: position.index_in_block,
            ledger_index: position.ledger_index,
            duplicate: *duplicate,
        },
        ApplyOutcome::Rejected(reason) => rejected(Stage::Apply, reason),
    }
}

impl World {
    pub(crate) fn step_node(&mut self, id: NodeId, event: Event) {
        let mut next = Some(event);
        while let Some(event) = next.take() {
            let now_ms = self.now_ms;
            let node = self.nodes.get_mut(&id).expect("node exists");
            let Some(replica) = node.replica.as_mut() else { return };
            let local_ms = node.clock.local_ms(now_ms);
            let actions = replica.step(local_ms, event, &mut node.rng);
            for choice in replica.take_choices() {
                if let Err(v) = quorum::check_choice(&mut self.quorums, choice) {
                    self.fail(v);
                }
            }
            for action in actions {
                self.execute(id, action);
                // A violation ends the run; a power failure inside a commit
                // ends this incarnation and its remaining actions with it.
                if self.violation.is_some() || !self.nodes[&id].is_up() {
                    return;
                }
            }
            // The state machine applies synchronously: report its progress
            // once every action of this step ran (never in between, so
            // persists stay in token order), which may hand out more slots.
            let node = &self.nodes[&id];
            let Some(replica) = node.replica.as_ref() else { return };
            let applied = node.machine.delivered().min(replica.applied_index());
            if applied > replica.applied_reported() {
                next = Some(Event::Applied { upto_slot: applied });
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
            format!("n{id} <- client {} op {} {}", request.client, request.op_id, request.kind.summary())
        });
        if matches!(request.kind, RequestKind::Submit(_)) {
            self.node_submit(id, request);
            return;
        }
        let node = self.nodes.get_mut(&id).unwrap();
        node.next_request += 1;
        let request_id = node.next_request;
        node.requests.insert(request_id, Pending { request, batch: None });
        self.step_node(id, Event::ReadIndex { request_id });
    }

    fn node_submit(&mut self, id: NodeId, request: ClientRequest) {
        let (chain_id, auth) = (self.workload.genesis.chain_id, self.workload.auth);
        let node = self.nodes.get_mut(&id).unwrap();
        let replica = node.replica.as_ref().expect("up");
        if !replica.is_leader() {
            // api/forward.rs: only the leader serves writes.
            let hint = replica.leader_hint();
            self.redirect(id, request, hint);
            return;
        }
        // api/transfers.rs: chain, then shape and signature, before anything
        // reaches the proposer.
        let RequestKind::Submit(transfers) = &request.kind else { unreachable!("a submit") };
        let mut refused = Vec::with_capacity(transfers.len());
        let mut valid: Vec<SignedTransfer> = Vec::with_capacity(transfers.len());
        for tx in transfers {
            let checked = if tx.transfer.chain_id != chain_id {
                Err(RejectReason::WrongChain { expected: chain_id, got: tx.transfer.chain_id })
            } else {
                tx.clone().verify(auth)
            };
            match checked {
                Ok(v) => {
                    refused.push(None);
                    valid.push(VerifiedTransfer::into_inner(v));
                }
                Err(reason) => refused.push(Some(rejected(Stage::Verify, &reason))),
            }
        }
        if valid.is_empty() {
            let results = refused.into_iter().map(|r| r.expect("all refused")).collect();
            self.reply(id, request.client, request.op_id, ClientReply::Refused { results });
            return;
        }
        // cluster/proposer.rs: one payload, stamped with the leader's clock,
        // under a fresh batch id.
        let payload = BatchPayload { timestamp_ms: GENESIS_MS + node.clock.local_ms(self.now_ms), transfers: valid };
        let batch_id = node.fresh_batch_id(id);
        let bytes = payload.encode();
        self.proposed.insert(batch_id, bytes.clone());
        node.next_request += 1;
        let request_id = node.next_request;
        node.requests.insert(request_id, Pending { request, batch: Some((batch_id, refused)) });
        self.step_node(id, Event::Propose { request_id, command: Command::Batch(Batch { id: batch_id, bytes }) });
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
                node.machine.disk_mut().enqueue(token, op);
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
            Action::InstallSnapshot { snapshot } => self.start_install(id, snapshot),
            Action::SnapshotNeeded { to } => self.offer_snapshot(id, to),
            Action::Proposed { request_id, slot } if request_id > crate::world::RECONFIG_REQUEST_BASE => {
                self.trace.line(self.now_ms, || format!("n{id} proposed a membership change at slot {slot}"));
            }
            Action::ProposeRejected { request_id, error } if request_id > crate::world::RECONFIG_REQUEST_BASE => {
                self.stats.config_refusals += 1;
                self.trace.line(self.now_ms, || format!("n{id} refused a membership change: {error}"));
            }
            Action::Proposed { request_id, slot } => {
                let node = self.nodes.get_mut(&id).unwrap();
                let pending = node.requests.remove(&request_id).expect("known request");
                let (batch_id, refused) = pending.batch.expect("a proposal carries a batch");
                let (client, op_id) = (pending.request.client, pending.request.op_id);
                node.waiting.insert(batch_id, Waiter { client, op_id, slot, refused });
                self.trace.line(self.now_ms, || format!("n{id} proposed batch {:#x} at slot {slot}", batch_id.0));
            }
            Action::ProposeRejected { request_id, error } => {
                let pending = self.nodes.get_mut(&id).unwrap().requests.remove(&request_id).expect("known request");
                let request = pending.request;
                match error {
                    ProposeError::NotLeader { leader_hint } => self.redirect(id, request, leader_hint),
                    ProposeError::TooManyInflight { .. } | ProposeError::ConfigChangePending { .. } => {
                        self.reply(id, request.client, request.op_id, ClientReply::Busy)
                    }
                    error @ (ProposeError::ValueTooLarge { .. }
                    | ProposeError::NoopNotProposable
                    | ProposeError::Reconfig(_)) => {
                        self.reply(id, request.client, request.op_id, ClientReply::Failed { reason: error.to_string() })
                    }
                }
            }
            Action::ReadReady { request_id, index } => {
                let node = self.nodes.get_mut(&id).unwrap();
                let pending = node.requests.remove(&request_id).expect("known request");
                let RequestKind::Read(account) = pending.request.kind else { unreachable!("reads carry an account") };
                let applied = node.machine.applied();
                assert!(applied >= index, "read ready before the index is applied");
                // api/reads.rs: served from the node's ledger once it applied that far.
                let ledger = node.machine.ledger();
                let value = ledger.state().account(&account);
                let read = ReadResult { height: ledger.head().height, balance: value.balance, nonce: value.nonce };
                let (client, op_id) = (pending.request.client, pending.request.op_id);
                self.reply(id, client, op_id, ClientReply::ReadOk { index: applied, read });
            }
            Action::ReadRejected { request_id, error } => {
                let pending = self.nodes.get_mut(&id).unwrap().requests.remove(&request_id).expect("known request");
                let request = pending.request;
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
            // Simulated peers are honest: a refusal is a bug in the replica
            // or the validator. With a protocol bug injected, peers are no
            // longer honest, and refusing their messages is the validator's
            // job; the end-to-end checks judge the run.
            Action::MessageRefused { from, reason } => {
                let detail = format!("node {id} refused a message from {from}: {reason}");
                if self.opts.bugs.any() {
                    self.trace.line(self.now_ms, || detail);
                } else {
                    self.fail(Violation::new("refusal", detail));
                }
            }
        }
    }

    fn apply(&mut self, id: NodeId, slot: u64, command: Command) {
        if let Err(v) = agreement::check_apply(&mut self.chosen, id, slot, &command) {
            self.fail(v);
            return;
        }
        if let Err(v) = validity::check_apply(&self.proposed, &self.proposed_configs, id, slot, &command) {
            self.fail(v);
            return;
        }
        let node = self.nodes.get_mut(&id).unwrap();
        let applied = match node.machine.apply(slot, &command) {
            Ok(applied) => applied,
            Err(ApplyError::Integrity(detail)) => {
                self.fail(Violation::new("integrity", format!("node {id} slot {slot}: {detail}")));
                return;
            }
            Err(ApplyError::Storage(e)) => {
                self.power_failed(id, &e.to_string());
                return;
            }
        };
        // A proposal whose slot went to another value will not apply from
        // here; forget it so the client's retry is proposed afresh.
        let this_batch = match &command {
            Command::Batch(b) => Some(b.id),
            _ => None,
        };
        node.waiting.retain(|batch_id, w| w.slot != slot || Some(*batch_id) == this_batch);
        self.trace.line(self.now_ms, || match &applied {
            Applied::Batch { id: b, block, outcomes } => {
                let ok = outcomes.iter().filter(|o| matches!(o, ApplyOutcome::Committed { .. })).count();
                let made = block.map_or("no block".to_string(), |b| format!("block {} {}", b.height, b.hash));
                format!("n{id} apply {slot} batch {:#x}: {ok}/{} committed, {made}", b.0, outcomes.len())
            }
            other => format!("n{id} apply {slot} {}: {other:?}", agreement::describe(&command)),
        });
        match applied {
            Applied::Batch { id: batch_id, block, outcomes } => {
                if let Some(block) = block {
                    self.check_blocks(id, &[block]);
                }
                let node = self.nodes.get_mut(&id).unwrap();
                if let Some(w) = node.waiting.remove(&batch_id) {
                    let mut outcomes = outcomes.iter();
                    let results: Vec<TransferResult> = w
                        .refused
                        .into_iter()
                        .map(|r| {
                            r.unwrap_or_else(|| result_of(outcomes.next().expect("one outcome per proposed transfer")))
                        })
                        .collect();
                    assert!(outcomes.next().is_none(), "every outcome answered");
                    self.reply(id, w.client, w.op_id, ClientReply::Submitted { slot, results });
                }
            }
            Applied::Skipped => {
                self.stats.slots_skipped += 1;
                // Already in the durable ledger: the proposal's answer is unknown here.
                if let Some(batch_id) = this_batch {
                    self.nodes.get_mut(&id).unwrap().waiting.remove(&batch_id);
                }
            }
            Applied::Undecodable { id: batch_id, error } => {
                self.fail(Violation::new(
                    "validity",
                    format!("node {id} slot {slot}: batch {:#x} does not decode: {error}", batch_id.0),
                ));
                return;
            }
            Applied::Other => {}
        }
        if self.violation.is_none() {
            self.maybe_compact(id);
        }
    }

    pub(crate) fn check_blocks(&mut self, id: NodeId, blocks: &[BlockRef]) {
        for block in blocks {
            self.stats.blocks_made += 1;
            if let Err(v) = block_agreement::check_block(&mut self.blocks, id, block) {
                self.fail(v);
                return;
            }
        }
    }

    /// Compaction: the ledger is durable up to the applied slot (every apply
    /// commits it), so the replica may truncate up to there.
    fn maybe_compact(&mut self, id: NodeId) {
        let Some(every) = self.faults.compact_every else { return };
        let node = self.nodes.get_mut(&id).unwrap();
        let Some(replica) = node.replica.as_ref() else { return };
        let applied = node.machine.delivered();
        if applied < replica.compacted_upto() + every
            || applied != replica.applied_index()
            || applied != node.machine.applied_slot()
        {
            return;
        }
        self.step_node(id, Event::Compact { upto_slot: applied });
    }

    /// The persister: every queued Paxos op goes to disk in one group commit
    /// after a simulated fsync latency.
    fn ensure_sync(&mut self, id: NodeId) {
        let node = self.nodes.get_mut(&id).unwrap();
        let Some(upto) = node.machine.disk().last_queued() else { return };
        if node.sync_pending {
            return;
        }
        node.sync_pending = true;
        let incarnation = node.incarnation;
        let latency = rand::Rng::gen_range(&mut self.rng, 1..=self.faults.sync_ms_max);
        self.schedule(self.now_ms + latency, crate::world::SimEvent::DiskSynced { node: id, incarnation, upto });
    }

    pub(crate) fn node_synced(&mut self, id: NodeId, incarnation: u32, upto: u64) {
        let node = self.nodes.get_mut(&id).unwrap();
        if node.incarnation != incarnation || !node.is_up() {
            return;
        }
        node.sync_pending = false;
        let ops = match node.machine.disk_mut().commit(upto) {
            Ok(ops) => ops,
            Err(e) => {
                self.power_failed(id, &e.to_string());
                return;
            }
        };
        // Compaction never outruns the ledger: a truncated log entry is in
        // the durable ledger already.
        let durable = node.machine.applied_slot();
        if let Some(upto_slot) = ops.iter().find_map(|op| match op {
            PersistOp::Truncate { upto } if *upto > durable => Some(*upto),
            _ => None,
        }) {
            self.fail(Violation::new(
                "durability",
                format!("node {id} truncated its log up to slot {upto_slot}, its durable ledger holds {durable}"),
            ));
            return;
        }
        self.step_node(id, Event::Persisted(upto));
        if self.nodes[&id].is_up() {
            self.ensure_sync(id);
        }
    }

    /// A store call failed because power failed inside it
    /// (`Disk::arm_power_failure`): the node is down from here.
    pub(crate) fn power_failed(&mut self, id: NodeId, detail: &str) {
        assert!(
            self.nodes[&id].machine.disk().power_failed(),
            "node {id}: storage failed without a power loss: {detail}"
        );
        self.stats.commit_crashes += 1;
        self.trace.line(self.now_ms, || format!("n{id} lost power inside a commit"));
        self.crash(id);
    }

    pub(crate) fn crash(&mut self, id: NodeId) {
        let seed = rand::Rng::gen(&mut self.rng);
        let node = self.nodes.get_mut(&id).unwrap();
        if !node.is_up() {
            return;
        }
        node.replica = None;
        let reopened = node.machine.crash(seed);
        node.incarnation += 1;
        node.next_batch = 0;
        node.sync_pending = false;
        node.install = None;
        node.requests.clear();
        node.waiting.clear();
        self.stats.crashes += 1;
        self.trace.line(self.now_ms, || format!("n{id} crashed"));
        if let Err(detail) = reopened {
            self.fail(Violation::new("durability", format!("node {id}: {detail}")));
        }
    }

    /// Starts the node from its disk, as `Node::start` does. Returns false if
    /// the ledger did not read back cleanly (the node stays down).
    pub(crate) fn restart(&mut self, id: NodeId) -> bool {
        let corrupt = self.faults.corrupt_read;
        let seed = rand::Rng::gen(&mut self.rng);
        let node = self.nodes.get_mut(&id).unwrap();
        assert!(!node.is_up());
        let durable = match node.machine.recover(corrupt, seed) {
            Ok(durable) => durable,
            Err(e) => {
                self.stats.unreadable_restarts += 1;
                self.trace.line(self.now_ms, || format!("n{id} does not start: {e}"));
                return false;
            }
        };
        let damaged = durable.damaged;
        let durable_promise = durable.promised;
        let replica = Replica::recover(node.opts.clone(), durable).expect("valid options");
        let restart_check = promise::check_restart(id, durable_promise, replica.promised(), damaged);
        node.promise_floor = if damaged { Ballot::ZERO } else { durable_promise };
        node.replica = Some(replica);
        if damaged {
            self.stats.damaged_restarts += 1;
        }
        self.trace.line(self.now_ms, || {
            let node = &self.nodes[&id];
            format!(
                "n{id} restarted (damaged: {damaged}), ledger at block {} slot {}",
                node.machine.ledger().head().height,
                node.machine.applied_slot()
            )
        });
        if let Err(v) = restart_check {
            self.fail(v);
        }
        self.add_learners(id);
        true
    }
}
