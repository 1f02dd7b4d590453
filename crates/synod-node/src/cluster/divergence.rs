//! Divergence watch: every member builds blocks deterministically from the
//! chosen log, so every member must have the same block at every height. Each
//! node periodically compares its head block with the block its peers have
//! at the same height and halts loudly on a mismatch: a fork is a bug that
//! must stop the node, never be served.
//!
//! The same loop compacts the consensus log (`compact` below), since both need
//! the peers' view: their head blocks and their applied slots.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::shared::Shared;

/// How often a node compares its head with its peers.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(2);

pub async fn watch(shared: Arc<Shared>) {
    let Some(cluster) = &shared.cluster else { return };
    let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().expect("http client");
    loop {
        tokio::time::sleep(CHECK_INTERVAL).await;
        if shared.is_stopping() || shared.is_halted() {
            return;
        }
        compact(&shared, &http).await;
        let Ok(height) = shared.store.head_height() else { continue };
        let Ok(Some(mine)) = shared.store.block(height) else { continue };
        let mine = mine.hash().to_string();
        for (peer, url) in &cluster.http_urls {
            if *peer == cluster.node_id {
                continue;
            }
            let Ok(resp) = http.get(format!("{url}/v1/blocks/{height}")).send().await else { continue };
            if !resp.status().is_success() {
                continue; // behind, or unreachable: nothing to compare
            }
            let Ok(theirs) = resp.json::<serde_json::Value>().await else { continue };
            let Some(theirs) = theirs["hash"].as_str() else { continue };
            if theirs != mine {
                tracing::error!(
                    node = cluster.node_id,
                    peer,
                    height,
                    mine = %mine,
                    theirs = %theirs,
                    "BLOCK HASH DIVERGENCE: replicas built different blocks at the same height; halting writes"
                );
                eprintln!("synod: block hash divergence at height {height} with node {peer}: halting");
                shared.halted.store(true, Ordering::SeqCst);
                return;
            }
        }
    }
}

/// Smallest compaction step, in slots.
pub const COMPACT_STEP_SLOTS: u64 = 64;

/// Compacts the consensus log up to the slot every member's ledger has durably
/// applied (the lowest `applied_index` in the members' `/v1/status`). No member
/// can then need those slots again, so no snapshot transfer is ever required;
/// the price is that a member that is down holds back compaction until it
/// returns. Compacts in steps of at least `COMPACT_STEP_SLOTS`.
async fn compact(shared: &Shared, http: &reqwest::Client) {
    let Some(cluster) = &shared.cluster else { return };
    let mut lowest = *cluster.applied.borrow();
    for (peer, url) in &cluster.http_urls {
        if *peer == cluster.node_id {
            continue;
        }
        let Ok(resp) = http.get(format!("{url}/v1/status")).send().await else { return };
        let Ok(status) = resp.json::<serde_json::Value>().await else { return };
        let Some(applied) = status["cluster"]["applied_index"].as_u64() else { return };
        lowest = lowest.min(applied);
    }
    let last = cluster.compacted.load(Ordering::Relaxed);
    if lowest >= last + COMPACT_STEP_SLOTS
        && cluster.inputs.try_send(crate::cluster::Input::Compact { upto_slot: lowest }).is_ok()
    {
        cluster.compacted.store(lowest, Ordering::Relaxed);
    }
}
