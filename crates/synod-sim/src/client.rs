//! Simulated clients. Each runs one operation at a time: a submit of 1–4
//! transfers (or, rarely, an oversized batch of 8) or a linearizable read of
//! one account, sent to a guessed leader or a random node (followers forward
//! once or redirect). A request that gets no reply is sent again with the same
//! transfers, since its fate is unknown; during the fault phase a client gives
//! up after `GIVE_UP_MS` and records the operation as `Unknown`, never as
//! failed, and keeps its transfers to resubmit later.
//!
//! Transfers are generated from the seed's random stream when the operation
//! starts, signed then (under `AuthMode::Ed25519`) and never re-signed: every
//! retry sends the same bytes. A client owns two accounts and tracks their
//! next nonces from the answers it gets (a `bad_nonce` rejection tells it the
//! expected one), so most transfers are valid; about one in five is invalid on
//! purpose or a resubmission (see `workload::Intent`).

use std::collections::BTreeMap;

use rand::Rng;
use synod_core::{SignedTransfer, Transfer};
use synod_paxos::NodeId;

use crate::history::{HistoryEntry, Operation, Outcome, Stage, TransferResult};
use crate::network::{Addr, ClientReply, ClientRequest, Packet, RequestKind};
use crate::workload::{memo, Intent, TransferCall, Workload, CHAIN_ID};
use crate::world::{Phase, SimEvent, World};

const ATTEMPT_TIMEOUT_MS: u64 = 300;
const GIVE_UP_MS: u64 = 2_000;
/// No new operations this close to the end: what is in flight must finish.
const LAST_INVOKE_BEFORE_END_MS: u64 = 1_500;
const COMMITTED_POOL_MAX: usize = 32;
const UNKNOWN_POOL_MAX: usize = 16;

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
    /// The funded accounts this client owns (indices into
    /// `Workload::accounts`) and the nonce it will use next for each.
    owned: [usize; 2],
    next_nonce: [u64; 2],
    /// `next_nonce` when the operation in flight started.
    nonce_before: [u64; 2],
    /// Nonces seen by reads of accounts the client does not own.
    seen_nonce: BTreeMap<usize, u64>,
    /// Transfers of operations whose outcome stayed unknown.
    unknown_pool: Vec<SignedTransfer>,
    /// Transfers this client saw committed.
    committed_pool: Vec<SignedTransfer>,
}

impl Client {
    pub fn new(c: u8) -> Client {
        let first = 2 * usize::from(c);
        Client {
            next_seq: 0,
            current: None,
            request: None,
            leader_guess: None,
            keep_guess: false,
            timer: 0,
            owned: [first, first + 1],
            next_nonce: [0; 2],
            nonce_before: [0; 2],
            seen_nonce: BTreeMap::new(),
            unknown_pool: Vec::new(),
            committed_pool: Vec::new(),
        }
    }

    fn owned_index(&self, w: &Workload, account: &synod_core::AccountId) -> Option<usize> {
        (0..2).find(|k| w.accounts[self.owned[*k]] == *account)
    }

    /// The transfers of a new submit operation.
    fn generate(&mut self, w: &Workload, rng: &mut impl Rng) -> Vec<(SignedTransfer, Intent)> {
        self.nonce_before = self.next_nonce;
        if rng.gen_bool(0.02) {
            // Too large for one consensus value: refused as a whole.
            return (0..8)
                .map(|_| {
                    let k = rng.gen_range(0..2);
                    let from = self.owned[k];
                    let nonce = self.next_nonce[k];
                    self.next_nonce[k] += 1;
                    let transfer = Transfer {
                        chain_id: CHAIN_ID,
                        from: w.accounts[from],
                        to: w.receiver(from, rng),
                        amount: rng.gen_range(1..=100),
                        fee: 0,
                        nonce,
                        memo: (0..64).map(|_| rng.gen()).collect(),
                    };
                    (w.sign(transfer, from), Intent::Oversized)
                })
                .collect();
        }
        let count = match rng.gen_range(0..20) {
            0..=9 => 1,
            10..=14 => 2,
            15..=17 => 3,
            _ => 4,
        };
        (0..count).map(|_| self.one(w, rng)).collect()
    }

    fn one(&mut self, w: &Workload, rng: &mut impl Rng) -> (SignedTransfer, Intent) {
        let k = rng.gen_range(0..2);
        let from = self.owned[k];
        let mut t = Transfer {
            chain_id: CHAIN_ID,
            from: w.accounts[from],
            to: w.receiver(from, rng),
            amount: rng.gen_range(1..=5_000),
            fee: 0,
            nonce: self.next_nonce[k],
            memo: memo(rng, 8),
        };
        match rng.gen_range(0..100) {
            0..=3 => {
                t.amount = w.supply() + 1;
                self.next_nonce[k] += 1;
                (w.sign(t, from), Intent::Overdraft)
            }
            98..=99 => {
                t.fee = rng.gen_range(1..=10);
                self.next_nonce[k] += 1;
                (w.sign(t, from), Intent::Fee)
            }
            4..=7 => {
                t.nonce = if t.nonce == 0 || rng.gen_bool(0.5) {
                    t.nonce + rng.gen_range(1..=3)
                } else {
                    t.nonce - rng.gen_range(1..=t.nonce.min(3))
                };
                (w.sign(t, from), Intent::BadNonce)
            }
            8..=11 if !self.committed_pool.is_empty() => {
                let i = rng.gen_range(0..self.committed_pool.len());
                (self.committed_pool[i].clone(), Intent::Duplicate)
            }
            12..=15 if !self.unknown_pool.is_empty() => {
                let i = rng.gen_range(0..self.unknown_pool.len());
                (self.unknown_pool.swap_remove(i), Intent::Retry)
            }
            16..=17 => {
                let foreign = loop {
                    let f = rng.gen_range(0..w.accounts.len());
                    if !self.owned.contains(&f) {
                        break f;
                    }
                };
                t.from = w.accounts[foreign];
                t.to = w.receiver(foreign, rng);
                t.nonce = self.seen_nonce.get(&foreign).copied().unwrap_or(0);
                (w.sign(t, foreign), Intent::Foreign)
            }
            18 => {
                match rng.gen_range(0..3) {
                    0 => t.amount = 0,
                    1 => t.to = t.from,
                    _ => t.chain_id = CHAIN_ID + 1,
                }
                (w.sign(t, from), Intent::BadShape)
            }
            19 => {
                // A memo no valid transfer uses, so this id is never committed.
                t.memo = b"badsig".to_vec();
                t.memo.extend((0..8).map(|_| rng.gen::<u8>()));
                (w.sign_wrong(t, (from + 1) % w.accounts.len()), Intent::BadSignature)
            }
            _ => {
                self.next_nonce[k] += 1;
                (w.sign(t, from), Intent::Valid)
            }
        }
    }

    /// Learns from a completed operation.
    fn learn(&mut self, w: &Workload, operation: &Operation, sent: &[SignedTransfer], outcome: &Outcome) {
        match (operation, outcome) {
            (Operation::Submit { transfers }, Outcome::Ok { results, .. }) => {
                for ((call, result), tx) in transfers.iter().zip(results).zip(sent) {
                    if let TransferResult::Committed { duplicate: false, .. } = result {
                        if self.committed_pool.len() >= COMMITTED_POOL_MAX {
                            self.committed_pool.remove(0);
                        }
                        self.committed_pool.push(tx.clone());
                    }
                    let Some(k) = self.owned_index(w, &call.from) else { continue };
                    match result {
                        TransferResult::Committed { .. } => self.next_nonce[k] = self.next_nonce[k].max(call.nonce + 1),
                        TransferResult::Rejected { stage: Stage::Apply, expected_nonce: Some(e), .. } => {
                            self.next_nonce[k] = *e
                        }
                        TransferResult::Rejected { stage: Stage::Apply, .. }
                            if call.nonce + 1 == self.next_nonce[k] =>
                        {
                            self.next_nonce[k] = call.nonce
                        }
                        TransferResult::Rejected { .. } => {}
                    }
                }
            }
            (Operation::Submit { transfers }, Outcome::Unknown) => {
                for (call, tx) in transfers.iter().zip(sent) {
                    let resendable =
                        !matches!(call.intent, Intent::BadShape | Intent::BadSignature | Intent::Oversized);
                    if resendable && self.unknown_pool.len() < UNKNOWN_POOL_MAX {
                        self.unknown_pool.push(tx.clone());
                    }
                }
            }
            (Operation::Submit { .. }, Outcome::Fail { .. }) => self.next_nonce = self.nonce_before,
            (Operation::Read { account }, Outcome::Ok { read: Some(read), .. }) => {
                if let Some(k) = self.owned_index(w, account) {
                    self.next_nonce[k] = self.next_nonce[k].max(read.nonce);
                } else if let Some(i) = w.accounts.iter().position(|a| a == account) {
                    self.seen_nonce.insert(i, read.nonce);
                }
            }
            _ => {}
        }
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
        let w = &self.workload;
        let client = &mut self.clients[usize::from(c)];
        client.next_seq += 1;
        let op_id = client.next_seq;
        let (operation, request) = if self.rng.gen_bool(0.8) {
            let generated = client.generate(w, &mut self.rng);
            let calls = generated
                .iter()
                .map(|(tx, intent)| TransferCall {
                    id: tx.id(),
                    from: tx.transfer.from,
                    to: tx.transfer.to,
                    amount: tx.transfer.amount,
                    nonce: tx.transfer.nonce,
                    intent: *intent,
                })
                .collect();
            let transfers = generated.into_iter().map(|(tx, _)| tx).collect();
            (Operation::Submit { transfers: calls }, RequestKind::Submit(transfers))
        } else {
            let account = w.accounts[self.rng.gen_range(0..w.accounts.len())];
            (Operation::Read { account }, RequestKind::Read(account))
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
            ClientReply::Submitted { slot, results } => {
                self.client_complete(c, Outcome::Ok { index: slot, results, read: None })
            }
            ClientReply::Refused { results } => {
                let codes: Vec<String> = results
                    .iter()
                    .map(|r| match r {
                        TransferResult::Rejected { code, .. } => code.clone(),
                        TransferResult::Committed { .. } => "committed".to_string(),
                    })
                    .collect();
                self.client_complete(c, Outcome::Fail { reason: format!("refused: {}", codes.join(", ")) })
            }
            ClientReply::ReadOk { index, read } => {
                self.client_complete(c, Outcome::Ok { index, results: Vec::new(), read: Some(read) })
            }
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
        let request = client.request.take();
        let entry = &mut self.history[index];
        if outcome != Outcome::Unknown {
            entry.complete_ms = Some(self.now_ms);
        }
        let sent = match request {
            Some(RequestKind::Submit(transfers)) => transfers,
            _ => Vec::new(),
        };
        client.learn(&self.workload, &entry.operation, &sent, &outcome);
        entry.outcome = outcome;
        let entry = &self.history[index];
        self.trace.line(self.now_ms, || {
            format!("client {c} op {} {} -> {:?}", entry.op_id, entry.operation.summary(), entry.outcome)
        });
        let think = self.rng.gen_range(0..30);
        self.client_retry_after(c, think);
    }
}
