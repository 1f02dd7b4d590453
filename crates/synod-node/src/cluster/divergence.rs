//! Divergence watch: every member builds blocks deterministically from the
//! chosen log, so every member must have the same block at every height. Each
//! node periodically compares its head block with the block its peers have
//! at the same height and halts loudly on a mismatch: a fork is a bug that
//! must stop the node, never be served.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::shared::Shared;

/// How often a node compares its head with its peers.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(2);

pub async fn watch(shared: Arc<Shared>) {
    let Some(cluster) = &shared.cluster else { return };
    // The forwarding client: it speaks HTTPS to members that serve `[http_tls]`.
    let http = &cluster.forward_client;
    loop {
        tokio::time::sleep(CHECK_INTERVAL).await;
        if shared.is_stopping() || shared.is_halted() {
            return;
        }
        let Ok(height) = shared.store.head_height() else { continue };
        let Ok(Some(mine)) = shared.store.block(height) else { continue };
        let mine = mine.hash().to_string();
        for (peer, url) in &cluster.http_urls.snapshot() {
            if *peer == cluster.node_id {
                continue;
            }
            let Ok(resp) = http.get(format!("{url}/v1/blocks/{height}")).timeout(Duration::from_secs(2)).send().await
            else {
                continue;
            };
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
