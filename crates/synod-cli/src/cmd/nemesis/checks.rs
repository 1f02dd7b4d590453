//! The checks run against the live, settled cluster and then against the
//! stopped nodes' data directories, each returning the violations it found.

use std::sync::Arc;
use std::time::Duration;

use synod_core::{AccountId, TransferId};
use synod_node::api::types::{AccountInfo, TransferStatus};
use synod_storage::Store;

use super::cluster::Host;
use super::history::{Entry, Operation, Outcome};

const READ_TIMEOUT_MS: u64 = 5_000;
const VIOLATIONS_MAX: usize = 10;

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_millis(READ_TIMEOUT_MS)).build().expect("http client builds")
}

/// Every acknowledged transfer is in every node's ledger, where its
/// acknowledgement said (`GET /v1/transfers/{id}` answers from the node's
/// own store). The nodes are asked in parallel, each one request at a time.
pub async fn acknowledged_everywhere(entries: &[Entry], hosts: &[Host]) -> Vec<String> {
    let acked: Arc<Vec<(TransferId, u64, u64)>> = Arc::new(
        entries
            .iter()
            .filter_map(|e| match (&e.operation, &e.outcome) {
                (Operation::Transfer(tx), Outcome::Committed { height, ledger_index }) => {
                    Some((tx.id(), *height, *ledger_index))
                }
                _ => None,
            })
            .collect(),
    );
    let mut tasks = Vec::new();
    for h in hosts {
        let (acked, url, node) = (acked.clone(), h.url.clone(), h.id());
        tasks.push(tokio::spawn(async move {
            let http = http();
            let mut out = Vec::new();
            for (id, height, ledger_index) in acked.iter() {
                let got = match http.get(format!("{url}/v1/transfers/{id}")).send().await {
                    Ok(r) if r.status().is_success() => r.json::<TransferStatus>().await.map_err(|e| e.to_string()),
                    Ok(r) => Err(format!("HTTP {}", r.status())),
                    Err(e) => Err(e.to_string()),
                };
                match got {
                    Ok(s) if (s.height, s.ledger_index) == (*height, *ledger_index) => {}
                    Ok(s) => out.push(format!(
                        "acknowledged transfer {id} (height {height}, index {ledger_index}) is at height {}, index {} on node {node}",
                        s.height, s.ledger_index
                    )),
                    Err(err) => out.push(format!("acknowledged transfer {id} missing on node {node}: {err}")),
                }
                if out.len() >= VIOLATIONS_MAX {
                    break;
                }
            }
            out
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        match t.await {
            Ok(found) => out.extend(found),
            Err(e) => out.push(format!("checking a node failed: {e}")),
        }
    }
    out.truncate(VIOLATIONS_MAX);
    out
}

/// On each node, the funded accounts' balances (read from its own store)
/// add up to the genesis supply; the node's height is the same before and
/// after the reads, so they are of one height.
pub async fn supply_conserved(hosts: &[Host], accounts: &[AccountId], supply: u64) -> Vec<String> {
    let http = http();
    let mut out = Vec::new();
    for h in hosts {
        let height = |http: reqwest::Client| {
            let url = format!("{}/v1/status", h.url);
            async move {
                let v: serde_json::Value = http.get(url).send().await.ok()?.json().await.ok()?;
                v["height"].as_u64()
            }
        };
        let before = height(http.clone()).await;
        let mut sum: u128 = 0;
        let mut failed = None;
        for a in accounts {
            let url = format!("{}/v1/accounts/{a}?consistency=stale", h.url);
            match http.get(url).send().await {
                Ok(r) if r.status().is_success() => match r.json::<AccountInfo>().await {
                    Ok(info) => sum += info.balance as u128,
                    Err(e) => failed = Some(e.to_string()),
                },
                Ok(r) => failed = Some(format!("HTTP {}", r.status())),
                Err(e) => failed = Some(e.to_string()),
            }
        }
        let after = height(http.clone()).await;
        match (failed, before, after) {
            (Some(e), ..) => out.push(format!("node {}: reading balances failed: {e}", h.id())),
            (None, Some(b), Some(a)) if a == b => {
                if sum != supply as u128 {
                    out.push(format!(
                        "node {}: balances add up to {sum} at height {b}, genesis supply {supply}",
                        h.id()
                    ));
                }
            }
            (None, b, a) => out.push(format!("node {}: height moved during the reads ({b:?} -> {a:?})", h.id())),
        }
    }
    out
}

/// One stopped node's offline audit, as `synod verify` runs it.
pub struct Audited {
    pub node: u8,
    pub height: u64,
    pub head_hash: String,
}

/// Audits every stopped node's data dir; all must pass with one head.
pub fn audit_all(hosts: &[Host]) -> (Vec<Audited>, Vec<String>) {
    let mut done = Vec::new();
    let mut out = Vec::new();
    for h in hosts {
        let db = h.data_dir.join("synod.redb");
        let store = match Store::open(&db) {
            Ok(s) => s,
            Err(e) => {
                out.push(format!("node {}: cannot open {}: {e}", h.id(), db.display()));
                continue;
            }
        };
        match synod_storage::audit::audit(&store) {
            Ok(r) => done.push(Audited { node: h.id(), height: r.height, head_hash: r.head_hash.to_string() }),
            Err(f) => out.push(format!("node {}: audit failed at height {}: {}", h.id(), f.height, f.detail)),
        }
    }
    if let Some(first) = done.first() {
        for d in &done[1..] {
            if (d.height, &d.head_hash) != (first.height, &first.head_hash) {
                out.push(format!(
                    "audited heads differ: node {} height {} head {}, node {} height {} head {}",
                    first.node, first.height, first.head_hash, d.node, d.height, d.head_hash
                ));
            }
        }
    }
    (done, out)
}
