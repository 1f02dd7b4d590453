//! Request bodies: signed (or, in trusted mode, unsigned) transfers serialised
//! to JSON. Signing is the client's cost, not the server's, so as many requests
//! as the run is expected to need are prepared before the timed phase, on all
//! cores; a client that runs out signs the rest on the fly on tokio's blocking
//! pool, and the report counts those transfers.

use std::collections::VecDeque;
use std::time::Instant;

use serde::Serialize;
use synod_core::crypto::Keypair;
use synod_core::{AccountId, SignedTransfer, Transfer, TransferId};

use super::accounts::Sender;
use super::target::Target;
use super::{Auth, Plan};

/// One request: `count` transfers from one sender with nonces `first_nonce..`.
pub struct Req {
    pub first_nonce: u64,
    pub body: Vec<u8>,
    pub ids: Vec<TransferId>,
}

/// Makes the requests of one client.
#[derive(Clone)]
pub struct Maker {
    chain_id: u64,
    key: Keypair,
    from: AccountId,
    to: AccountId,
    sign: bool,
    pub batch: usize,
}

impl Maker {
    pub fn new(target: &Target, plan: &Plan, s: &Sender) -> Maker {
        Maker {
            chain_id: target.chain_id,
            key: s.key.clone(),
            from: s.account,
            to: s.sink,
            sign: plan.auth == Auth::Signed,
            batch: plan.batch,
        }
    }

    pub fn from(&self) -> AccountId {
        self.from
    }

    /// `batch` transfers of 1 unit each with nonces `first_nonce..first_nonce + batch`.
    /// One transfer is sent as a JSON object, more as a JSON array.
    pub fn make(&self, first_nonce: u64) -> Req {
        let mut txs = Vec::with_capacity(self.batch);
        let mut ids = Vec::with_capacity(self.batch);
        for j in 0..self.batch as u64 {
            let transfer = Transfer {
                chain_id: self.chain_id,
                from: self.from,
                to: self.to,
                amount: 1,
                fee: 0,
                nonce: first_nonce + j,
                memo: Vec::new(),
            };
            let bytes = transfer.signing_bytes();
            ids.push(TransferId(synod_core::sha256(&bytes)));
            let signature = self.sign.then(|| self.key.sign(&bytes));
            txs.push(SignedTransfer { multisig: None, to_policy: None, transfer, signature });
        }
        let body = if self.batch == 1 { serde_json::to_vec(&txs[0]) } else { serde_json::to_vec(&txs) }
            .expect("transfers serialise");
        Req { first_nonce, body, ids }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct PrepareSummary {
    /// Transfers signed (or, trusted, built) and serialised before the timed phase.
    pub transfers: u64,
    pub requests: u64,
    pub seconds: f64,
    pub threads: usize,
    /// Whether the transfers carry Ed25519 signatures.
    pub signed: bool,
}

pub struct Prepared {
    pub queues: Vec<VecDeque<Req>>,
    pub summary: PrepareSummary,
}

/// How many requests each client is expected to send: exact for an open loop,
/// an upper estimate for a closed loop (a durable request takes at least ~0.5 ms,
/// an fsync; a 2-core node verifies ≤ ~20,000 signatures/s), capped by --presign-max.
fn requests_per_client(plan: &Plan) -> usize {
    let seconds = plan.warmup_s + plan.duration_s;
    let batch = plan.batch as f64;
    let clients = plan.clients as f64;
    let mut transfers = match plan.rate {
        Some(rate) => {
            let mut requests = rate * seconds;
            if let Some(cap) = plan.requests {
                requests = requests.min(cap as f64 + rate * plan.warmup_s);
            }
            // Tickets are not shared evenly between an open loop's clients: leave a margin.
            (requests * 1.5 + 2.0 * clients) * batch
        }
        None => {
            let by_clients = clients * batch * 2_000.0 * seconds;
            let by_server = if plan.auth == Auth::Signed { 20_000.0 } else { 250_000.0 } * seconds;
            let mut t = by_clients.min(by_server);
            if let Some(cap) = plan.requests {
                t = t.min((cap as f64 + clients * 2_000.0 * plan.warmup_s) * batch);
            }
            t
        }
    };
    transfers = transfers.min(plan.presign_max as f64);
    let per_client = (transfers / clients / batch).ceil() as usize;
    per_client.max(1)
}

pub fn makers(target: &Target, plan: &Plan, senders: &[Sender]) -> Vec<Maker> {
    senders.iter().map(|s| Maker::new(target, plan, s)).collect()
}

/// Prepares each client's first requests on all cores.
pub fn prepare(target: &Target, plan: &Plan, senders: &[Sender]) -> Prepared {
    let started = Instant::now();
    let per_client = if plan.presign_max == 0 { 0 } else { requests_per_client(plan) };
    let makers = makers(target, plan, senders);
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(senders.len()).max(1);
    let mut queues: Vec<VecDeque<Req>> = (0..senders.len()).map(|_| VecDeque::new()).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let makers = &makers;
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for (i, (maker, s)) in makers.iter().zip(senders).enumerate().skip(t).step_by(threads) {
                        let q: VecDeque<Req> =
                            (0..per_client).map(|r| maker.make(s.start_nonce + (r * plan.batch) as u64)).collect();
                        out.push((i, q));
                    }
                    out
                })
            })
            .collect();
        for h in handles {
            for (i, q) in h.join().expect("prepare thread") {
                queues[i] = q;
            }
        }
    });
    let requests = (per_client * senders.len()) as u64;
    Prepared {
        queues,
        summary: PrepareSummary {
            transfers: requests * plan.batch as u64,
            requests,
            seconds: started.elapsed().as_secs_f64(),
            threads,
            signed: plan.auth == Auth::Signed,
        },
    }
}
