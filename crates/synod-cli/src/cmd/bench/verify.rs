//! After the load: is every acknowledged transfer in the ledger?
//!
//! Up to `--verify-max` acknowledged transfers: each is looked up with
//! `GET /v1/transfers/{id}`. Beyond that: a deterministic sample of that size
//! (every k-th acknowledged transfer, in client order; a client that acknowledged
//! millions kept only an evenly spread subset, see `load::Acked`), AND every sender's
//! nonce must be at least its start nonce plus its acknowledged count (each
//! acknowledged transfer used one nonce, and only that client sends from that
//! account). A nonce above that means transfers were committed whose answer
//! never arrived (a request that timed out): reported, not an error.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use synod_core::TransferId;
use synod_node::ClientError;

use super::accounts::Sender;
use super::load::Outcome;
use super::target::Target;
use super::Plan;

/// Lookups in flight at once.
const CONCURRENCY: usize = 32;
/// Attempts per lookup before it counts as a lookup error.
const ATTEMPTS: u32 = 3;
/// After this many failed lookups the node is taken to be unreachable and the rest are skipped.
const LOOKUP_ERRORS_MAX: u64 = 64;

#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// "all+nonces" (every acknowledged transfer looked up) or "sample+nonces"; both also check every sender's nonce.
    pub method: String,
    pub acknowledged: u64,
    pub looked_up: u64,
    /// Acknowledged transfers the node does not have. Must be 0.
    pub missing: u64,
    /// The first few missing ids.
    pub missing_ids: Vec<String>,
    /// Lookups that failed for another reason than 404 (node unreachable...).
    pub lookup_errors: u64,
    /// Lookups skipped after too many failed ones (the node seems unreachable).
    pub not_looked_up: u64,
    pub senders_checked: u64,
    /// Senders whose nonce is below start + acknowledged: acknowledged transfers are missing.
    pub senders_behind: u64,
    /// Committed transfers whose acknowledgement the bench never received (requests that
    /// failed in transport but had been committed); not an error.
    pub committed_unacknowledged: u64,
    pub seconds: f64,
    pub ok: bool,
}

enum Lookup {
    Found,
    Missing,
    Error,
}

async fn lookup(client: &synod_node::Client, id: &TransferId) -> Lookup {
    for attempt in 0..ATTEMPTS {
        match client.transfer(id, false).await {
            Ok(status) if status.id == id.to_string() && status.transfer.id() == *id => return Lookup::Found,
            Ok(_) => return Lookup::Missing,
            Err(ClientError::Api { status: 404, .. }) => return Lookup::Missing,
            Err(_) if attempt + 1 < ATTEMPTS => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(_) => {}
        }
    }
    Lookup::Error
}

pub async fn check(target: &Target, plan: &Plan, senders: &[Sender], outcome: &Outcome) -> CheckReport {
    let started = Instant::now();
    let all: Vec<TransferId> = outcome.clients.iter().flat_map(|c| c.acked.ids.iter().copied()).collect();
    let acknowledged: u64 = outcome.clients.iter().map(|c| c.acked.count).sum();
    let complete = outcome.clients.iter().all(|c| c.acked.complete());
    let (method, ids) = if complete && all.len() <= plan.verify_max {
        ("all+nonces", all)
    } else {
        let stride = all.len().div_ceil(plan.verify_max);
        let offset = (plan.seed as usize) % stride;
        ("sample+nonces", all.into_iter().skip(offset).step_by(stride).collect())
    };

    // Look the ids up, CONCURRENCY at a time.
    let ids = Arc::new(ids);
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..CONCURRENCY {
        let (ids, next, client) = (ids.clone(), next.clone(), target.client(w).clone());
        let (failed, done) = (failed.clone(), done.clone());
        tasks.spawn(async move {
            let (mut missing, mut errors) = (Vec::new(), 0u64);
            while failed.load(Ordering::Relaxed) < LOOKUP_ERRORS_MAX {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(id) = ids.get(i) else { break };
                match lookup(&client, id).await {
                    Lookup::Found => {}
                    Lookup::Missing => missing.push(*id),
                    Lookup::Error => {
                        errors += 1;
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            (missing, errors)
        });
    }
    let (mut missing, mut lookup_errors) = (Vec::new(), 0u64);
    while let Some(joined) = tasks.join_next().await {
        let (m, e) = joined.expect("lookup task");
        missing.extend(m);
        lookup_errors += e;
    }

    // Every sender's nonce against its acknowledged count.
    let (mut behind, mut unacked) = (0u64, 0u64);
    for (i, (s, c)) in senders.iter().zip(&outcome.clients).enumerate() {
        let expected = s.start_nonce + c.acked.count;
        let mut nonce = None;
        for _ in 0..ATTEMPTS {
            if let Ok(info) = target.client(i).account(&s.account).await {
                nonce = Some(info.nonce);
                break;
            }
        }
        match nonce {
            None => lookup_errors += 1,
            Some(n) if n < expected => behind += 1,
            Some(n) => unacked += n - expected,
        }
    }
    let missing_count = missing.len() as u64;
    let not_looked_up = ids.len() as u64 - done.load(Ordering::Relaxed);
    CheckReport {
        method: method.into(),
        acknowledged,
        looked_up: ids.len() as u64,
        missing: missing_count,
        missing_ids: missing.iter().take(10).map(|id| id.to_string()).collect(),
        lookup_errors,
        not_looked_up,
        senders_checked: senders.len() as u64,
        senders_behind: behind,
        committed_unacknowledged: unacked,
        seconds: started.elapsed().as_secs_f64(),
        ok: missing_count == 0 && behind == 0 && lookup_errors == 0 && not_looked_up == 0,
    }
}
