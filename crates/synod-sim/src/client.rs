//! Simulated clients. Each runs one operation at a time: an append of a
//! fresh batch (unique id) or a linearizable read, sent to a guessed leader
//! or a random node (followers forward or redirect). A request that gets no
//! reply is retried with the same batch id, since its fate is unknown; during
//! the fault phase a client gives up after `GIVE_UP_MS` and records the
//! operation as `Unknown`, never as failed.

use rand::Rng;
use synod_paxos::{Batch, BatchId, NodeId};

use crate::history::{HistoryEntry, Operation, Outcome};
use crate::network::{Addr, ClientReply, ClientRequest, Packet, RequestKind};
use crate::world::{Phase, SimEvent, World};

const ATTEMPT_TIMEOUT_MS: u64 = 300;
const GIVE_UP_MS: u64 = 2_000;
/// No new operations this close to the end: what is in flight must finish.
const LAST_INVOKE_BEFORE_END_MS: u64 = 1_500;

pub struct Client {
    next_seq: u64,
    /// Index into the history of the operation in flight.
    current: Option<usize>,
    request: Option<RequestKind>,
    leader_guess: Option<NodeId>,
    /// The pending wake-up is a planned retry (redirect, busy), not a
    /// timeout: keep the leader guess.
    keep_guess: bool,
    timer: u64,
}

impl Client {
    pub fn new() -> Client {
        Client { next_seq: 0, current: None, request: None, leader_guess: None, keep_guess: false, timer: 0 }
    }
}

impl World {
    pub(crate) fn client_wake(&mut self, c: u8, timer: u64) {
        let client = &self.clients[usize::from(c)];
        if timer != client.timer {
            return; // superseded
        }
        match client.current {
            None => self.client_start(c),
            Some(index) => {
                let entry = &self.history[index];
                if self.phase == Phase::Faults && self.now_ms - entry.invoke_ms > GIVE_UP_MS {
                    self.client_complete(c, Outcome::Unknown);
                } else {
                    let client = &mut self.clients[usize::from(c)];
                    if !std::mem::take(&mut client.keep_guess) {
                        client.leader_guess = None;
                    }
                    self.client_send(c);
                }
            }
        }
    }

    fn client_start(&mut self, c: u8) {
        if self.now_ms + LAST_INVOKE_BEFORE_END_MS >= self.end_ms {
            return;
        }
        let client = &mut self.clients[usize::from(c)];
        client.next_seq += 1;
        let op_id = client.next_seq;
        let (operation, request) = if self.rng.gen_bool(0.8) {
            let batch_id = (u64::from(c) + 1) << 40 | op_id;
            // A few oversized batches exercise the definite-failure path.
            let len = if self.rng.gen_bool(0.02) { 257 } else { self.rng.gen_range(1..=64) };
            let bytes: Vec<u8> = (0..len).map(|_| self.rng.gen()).collect();
            self.proposed.insert(BatchId(batch_id), bytes.clone());
            (Operation::Append { batch_id, bytes: len }, RequestKind::Append(Batch { id: BatchId(batch_id), bytes }))
        } else {
            (Operation::Read, RequestKind::Read)
        };
        self.history.push(HistoryEntry {
            seed: self.seed,
            client: c,
            op_id,
            invoke_ms: self.now_ms,
            complete_ms: None,
            attempts: 0,
            operation,
            outcome: Outcome::Pending,
        });
        let client = &mut self.clients[usize::from(c)];
        client.current = Some(self.history.len() - 1);
        client.request = Some(request);
        self.client_send(c);
    }

    fn client_send(&mut self, c: u8) {
        let n = self.opts.nodes;
        let guess = self.clients[usize::from(c)].leader_guess;
        let target = match guess {
            Some(leader) if self.rng.gen_bool(0.8) => leader,
            _ => self.rng.gen_range(1..=n),
        };
        let client = &mut self.clients[usize::from(c)];
        let index = client.current.expect("operation in flight");
        let request = ClientRequest {
            client: c,
            op_id: self.history[index].op_id,
            kind: client.request.clone().expect("request in flight"),
            forwarded: false,
        };
        self.history[index].attempts += 1;
        client.timer += 1;
        let timer = client.timer;
        self.schedule(self.now_ms + ATTEMPT_TIMEOUT_MS, SimEvent::ClientWake { client: c, timer });
        self.send(Addr::Client(c), Addr::Node(target), Packet::Request(request));
    }

    fn client_retry_after(&mut self, c: u8, delay_ms: u64) {
        let client = &mut self.clients[usize::from(c)];
        client.timer += 1;
        client.keep_guess = true;
        let timer = client.timer;
        self.schedule(self.now_ms + delay_ms, SimEvent::ClientWake { client: c, timer });
    }

    pub(crate) fn client_receive(&mut self, c: u8, packet: Packet) {
        let Packet::Reply { op_id, reply } = packet else { unreachable!("clients only get replies") };
        let Some(index) = self.clients[usize::from(c)].current else { return };
        if self.history[index].op_id != op_id {
            return; // a late reply to an operation already given up on
        }
        match reply {
            ClientReply::Appended { slot } => self.client_complete(c, Outcome::Ok { index: slot }),
            ClientReply::ReadOk { index } => self.client_complete(c, Outcome::Ok { index }),
            ClientReply::Failed { reason } => self.client_complete(c, Outcome::Fail { reason }),
            ClientReply::Redirect { hint } => {
                self.clients[usize::from(c)].leader_guess = hint;
                self.client_retry_after(c, 5);
            }
            ClientReply::Busy => self.client_retry_after(c, 20),
        }
    }

    fn client_complete(&mut self, c: u8, outcome: Outcome) {
        let client = &mut self.clients[usize::from(c)];
        let index = client.current.take().expect("operation in flight");
        client.request = None;
        let entry = &mut self.history[index];
        if outcome != Outcome::Unknown {
            entry.complete_ms = Some(self.now_ms);
        }
        let text = format!("client {c} op {} {:?} -> {outcome:?}", entry.op_id, entry.operation);
        entry.outcome = outcome;
        self.trace.line(self.now_ms, || text);
        let think = self.rng.gen_range(0..30);
        self.client_retry_after(c, think);
    }
}
