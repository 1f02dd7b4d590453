//! The clients: each owns one funded account and, until told to stop, sends
//! signed transfers from it to the other clients' accounts and reads random
//! accounts (linearizable reads, the default), each request to a random
//! node with a bounded timeout and no retry: a retry would blur what the
//! history records. After an unknown or refused transfer a client reads its
//! own account to learn its next nonce.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::Rng;
use synod_core::crypto::Keypair;
use synod_core::{AccountId, Transfer};
use synod_node::api::error::ErrorBody;
use synod_node::api::types::{AccountInfo, TransferReceipt};

use super::history::{Entry, History, Operation, Outcome};

/// Whole-request bound: connect, forward to the leader, commit, answer.
pub const REQUEST_TIMEOUT_MS: u64 = 5_000;
const CONNECT_TIMEOUT_MS: u64 = 1_000;
/// Pause between a client's operations, and after an unknown outcome: keeps
/// four clients from saturating two shared cores (pacing only, no check
/// depends on it).
const THINK_MS: u64 = 5;
const BACKOFF_MS: u64 = 100;
/// Share of operations that are reads.
const READ_SHARE: f64 = 0.3;
pub const AMOUNT_MAX: u64 = 5;

pub struct Workload {
    pub chain_id: u64,
    pub keys: Vec<Keypair>,
    pub urls: Vec<String>,
    pub started: Instant,
    pub history: History,
    pub stop: AtomicBool,
    http: reqwest::Client,
}

impl Workload {
    pub fn new(chain_id: u64, keys: Vec<Keypair>, urls: Vec<String>, entries_max: usize) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(REQUEST_TIMEOUT_MS))
            .connect_timeout(Duration::from_millis(CONNECT_TIMEOUT_MS))
            .pool_max_idle_per_host(8)
            .build()?;
        Ok(Workload {
            chain_id,
            keys,
            urls,
            started: Instant::now(),
            history: History::new(entries_max),
            stop: AtomicBool::new(false),
            http,
        })
    }

    fn now_us(&self) -> u64 {
        self.started.elapsed().as_micros() as u64
    }

    pub fn accounts(&self) -> Vec<AccountId> {
        self.keys.iter().map(|k| k.account()).collect()
    }

    async fn read(&self, node: usize, account: AccountId) -> Outcome {
        let url = format!("{}/v1/accounts/{account}", self.urls[node]);
        match self.http.get(url).send().await {
            Ok(r) if r.status().is_success() => match r.json::<AccountInfo>().await {
                Ok(a) => Outcome::Read { balance: a.balance, nonce: a.nonce },
                Err(e) => Outcome::Unknown { reason: format!("bad answer: {e}") },
            },
            Ok(r) => Outcome::Unknown { reason: error_code(r).await },
            Err(e) => Outcome::Unknown { reason: transport_reason(&e) },
        }
    }

    async fn submit(&self, node: usize, tx: &synod_core::SignedTransfer) -> Outcome {
        let url = format!("{}/v1/transfers", self.urls[node]);
        match self.http.post(url).json(tx).send().await {
            Ok(r) if r.status().is_success() => match r.json::<TransferReceipt>().await {
                Ok(TransferReceipt { status, height: Some(height), ledger_index: Some(ledger_index), .. })
                    if status == "committed" =>
                {
                    Outcome::Committed { height, ledger_index }
                }
                Ok(r) => Outcome::Unknown { reason: format!("receipt {}", r.status) },
                Err(e) => Outcome::Unknown { reason: format!("bad answer: {e}") },
            },
            // 4xx: refused (bad nonce, funds, signature): never committed.
            Ok(r) if r.status().is_client_error() => Outcome::Rejected { code: error_code(r).await },
            // 5xx: commit_unknown, not_leader, overloaded, halted: may or may not happen.
            Ok(r) => Outcome::Unknown { reason: error_code(r).await },
            Err(e) => Outcome::Unknown { reason: transport_reason(&e) },
        }
    }

    /// One client's loop, until `stop` or a full history.
    pub async fn client(self: Arc<Self>, client: usize, mut rng: StdRng) {
        let key = &self.keys[client];
        let accounts = self.accounts();
        let mut next_nonce: Option<u64> = Some(0);
        let mut sent: u64 = 0;
        while !self.stop.load(Ordering::Relaxed) {
            let node = rng.gen_range(0..self.urls.len());
            let invoke_us = self.now_us();
            let (operation, outcome) = if next_nonce.is_none() || rng.gen_bool(READ_SHARE) {
                let account =
                    if next_nonce.is_none() { key.account() } else { accounts[rng.gen_range(0..accounts.len())] };
                let outcome = self.read(node, account).await;
                if let (true, Outcome::Read { nonce, .. }) = (account == key.account(), &outcome) {
                    next_nonce = Some(*nonce);
                }
                (Operation::Read { account }, outcome)
            } else {
                let to = loop {
                    let j = rng.gen_range(0..accounts.len());
                    if j != client {
                        break accounts[j];
                    }
                };
                sent += 1;
                // The memo makes every attempt a distinct transfer, even two with the same nonce.
                let mut memo = (client as u32).to_be_bytes().to_vec();
                memo.extend_from_slice(&sent.to_be_bytes());
                let tx = Transfer {
                    chain_id: self.chain_id,
                    from: key.account(),
                    to,
                    amount: rng.gen_range(1..=AMOUNT_MAX),
                    fee: 0,
                    nonce: next_nonce.unwrap_or(0),
                    memo,
                }
                .sign(key);
                let outcome = self.submit(node, &tx).await;
                next_nonce = match outcome {
                    Outcome::Committed { .. } => next_nonce.map(|n| n + 1),
                    _ => None,
                };
                (Operation::Transfer(tx), outcome)
            };
            let unknown = matches!(outcome, Outcome::Unknown { .. });
            let entry = Entry { client, node, invoke_us, complete_us: self.now_us(), operation, outcome };
            if !self.history.record(entry) {
                break;
            }
            let pause = if unknown { BACKOFF_MS } else { THINK_MS };
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
    }
}

async fn error_code(r: reqwest::Response) -> String {
    let status = r.status().as_u16();
    match r.json::<ErrorBody>().await {
        Ok(b) => b.code,
        Err(_) => format!("http_{status}"),
    }
}

fn transport_reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connect_error".into()
    } else {
        "connection_error".into()
    }
}
