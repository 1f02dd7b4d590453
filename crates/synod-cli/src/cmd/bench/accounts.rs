//! The bench's accounts: one sender per client (so nonces never conflict:
//! each sender has exactly one request in flight), and one sink per client
//! that only receives. Keys are derived from the seed, so a run is repeatable.

use std::path::Path;

use anyhow::{bail, Context};
use synod_core::crypto::Keypair;
use synod_core::{AccountId, SignedTransfer, Transfer};
use synod_node::Client;

/// A client's sending account.
#[derive(Clone)]
pub struct Sender {
    pub key: Keypair,
    pub account: AccountId,
    /// Where this client's transfers go.
    pub sink: AccountId,
    /// The nonce of the first bench transfer (0 on a fresh ledger).
    pub start_nonce: u64,
}

/// Balance each sender gets in a `--dev` genesis: enough for any bounded run at 1 unit per transfer.
pub const DEV_SENDER_BALANCE: u64 = 1_000_000_000_000;

/// Most units moved from a key to one sender when funding against an external node.
pub const FUND_PER_SENDER_MAX: u64 = 100_000_000;

fn derive_key(seed: u64, role: &str, index: usize) -> Keypair {
    let mut material = Vec::with_capacity(48);
    material.extend_from_slice(b"synod.bench.v1\x00");
    material.extend_from_slice(role.as_bytes());
    material.extend_from_slice(&seed.to_be_bytes());
    material.extend_from_slice(&(index as u64).to_be_bytes());
    Keypair::from_seed(&synod_core::sha256(&material))
}

/// `n` senders and sinks derived from `seed` (start nonces 0 until read from the node).
pub fn derive(seed: u64, n: usize) -> Vec<Sender> {
    (0..n)
        .map(|i| {
            let key = derive_key(seed, "sender", i);
            let account = key.account();
            let sink = derive_key(seed, "sink", i).account();
            Sender { key, account, sink, start_nonce: 0 }
        })
        .collect()
}

/// Every `*.json` key file in `dir`, sorted by file name.
pub fn read_key_dir(dir: &Path) -> anyhow::Result<Vec<(String, Keypair)>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading key folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut keys = Vec::new();
    for p in paths {
        keys.push((p.display().to_string(), crate::keyfile::read(&p)?));
    }
    if keys.is_empty() {
        bail!("no *.json key files in {}", dir.display());
    }
    Ok(keys)
}

/// What funding did, for the report.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct FundSummary {
    pub keys: usize,
    pub transfers: usize,
    /// Units given to each bench account, per funding key.
    pub amount_per_account: Vec<u64>,
    pub seconds: f64,
}

/// Funds every sender from the keys: sender i is paid by key i mod k. Each key
/// pays its senders in one batch request per 8,192 transfers (nonces in order
/// inside a batch, so they cannot conflict), keys in parallel. Waits until
/// every funding transfer is committed.
pub async fn fund(
    client: &Client,
    chain_id: u64,
    keys: &[(String, Keypair)],
    senders: &[Sender],
) -> anyhow::Result<FundSummary> {
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (k, (name, key)) in keys.iter().enumerate() {
        let mine: Vec<AccountId> =
            senders.iter().enumerate().filter(|(i, _)| i % keys.len() == k).map(|(_, s)| s.account).collect();
        if mine.is_empty() {
            continue;
        }
        let client = client.clone();
        let key = key.clone();
        let name = name.clone();
        tasks.spawn(async move {
            let info = client.account(&key.account()).await.with_context(|| format!("reading key {name}"))?;
            let amount = (info.balance / (mine.len() as u64 + 1)).min(FUND_PER_SENDER_MAX);
            if amount < 1_000 {
                bail!("key {name} holds {} units: too little to fund {} bench accounts", info.balance, mine.len());
            }
            let mut nonce = info.nonce;
            for chunk in mine.chunks(synod_node::limits::REQUEST_TRANSFERS_MAX) {
                let txs: Vec<SignedTransfer> = chunk
                    .iter()
                    .map(|to| {
                        let t = Transfer {
                            chain_id,
                            from: key.account(),
                            to: *to,
                            amount,
                            fee: 0,
                            nonce,
                            memo: Vec::new(),
                        };
                        nonce += 1;
                        t.sign(&key)
                    })
                    .collect();
                let receipt = client.submit_batch(&txs).await.with_context(|| format!("funding from key {name}"))?;
                if let Some(bad) = receipt.results.iter().find(|r| r.status != "committed") {
                    bail!(
                        "funding from key {name} was rejected: {} {}",
                        bad.code.as_deref().unwrap_or("?"),
                        bad.message.as_deref().unwrap_or("")
                    );
                }
            }
            Ok((mine.len(), amount))
        });
    }
    let mut summary = FundSummary { keys: keys.len(), ..Default::default() };
    while let Some(joined) = tasks.join_next().await {
        let (n, amount) = joined.context("funding task")??;
        summary.transfers += n;
        summary.amount_per_account.push(amount);
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Reads each sender's next nonce from the node (32 requests at a time).
pub async fn read_nonces(clients: &[Client], senders: &mut [Sender]) -> anyhow::Result<()> {
    let ids: Vec<AccountId> = senders.iter().map(|s| s.account).collect();
    let ids = std::sync::Arc::new(ids);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..32.min(senders.len()) {
        let (ids, next, client) = (ids.clone(), next.clone(), clients[w % clients.len()].clone());
        tasks.spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= ids.len() {
                    return Ok::<_, anyhow::Error>(out);
                }
                let info = client.account(&ids[i]).await.context("reading a bench account")?;
                out.push((i, info.nonce));
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        for (i, nonce) in joined.context("nonce task")?? {
            senders[i].start_nonce = nonce;
        }
    }
    Ok(())
}
