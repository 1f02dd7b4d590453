//! Log compaction: every `CHECK_INTERVAL` a node asks its peers how far their
//! ledgers applied (`/v1/status`) and compacts its consensus log up to
//! [`compaction_target`]: never keeping more than `log_retain_slots` slots
//! below its own applied slot, so memory and disk stay bounded whatever a
//! dead peer does, but within that window never trimming slots a peer (live,
//! or last seen before it went down) still lacks. A peer behind the
//! compaction point catches up from a ledger snapshot (`install.rs`).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use synod_paxos::{NodeId, Slot};

use super::Input;
use crate::shared::Shared;

/// How often a node considers compacting.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// Smallest compaction step, in slots (fewer, larger truncations), capped by
/// the retention window so that small test windows still compact.
pub const COMPACT_STEP_SLOTS: u64 = 64;

/// The slot to compact up to. `applied`: this node's durable applied slot;
/// `peers`: each peer's last known durable applied slot (`None`: never heard of since
/// this node started, which holds nothing back).
pub fn compaction_target(applied: Slot, retain_slots: u64, peers: impl IntoIterator<Item = Option<Slot>>) -> Slot {
    let floor = applied.saturating_sub(retain_slots);
    let lowest_peer = peers.into_iter().map(|p| p.unwrap_or(0)).min().unwrap_or(applied);
    let target = floor.max(lowest_peer.min(applied));
    assert!(target <= applied, "never compact past what this ledger applied");
    assert!(applied - target <= retain_slots, "never keep more than the retention window");
    target
}

pub async fn watch(shared: Arc<Shared>) {
    let Some(cluster) = &shared.cluster else { return };
    // The forwarding client: it speaks HTTPS to members that serve `[http_tls]`.
    let http = &cluster.forward_client;
    let retain = cluster.snapshot.log_retain_slots;
    let step = COMPACT_STEP_SLOTS.min(retain.max(1));
    let mut last_seen: BTreeMap<NodeId, Slot> = BTreeMap::new();
    loop {
        tokio::time::sleep(CHECK_INTERVAL).await;
        if shared.is_stopping() || shared.is_halted() {
            return;
        }
        let urls = cluster.http_urls.snapshot();
        for (peer, url) in &urls {
            if *peer == cluster.node_id {
                continue;
            }
            let Ok(resp) = http.get(format!("{url}/v1/status")).timeout(Duration::from_secs(2)).send().await else {
                continue;
            };
            let Ok(status) = resp.json::<serde_json::Value>().await else { continue };
            // A peer's durable applied slot: what a crash there would leave
            // it, so the slots it replays from its log on restart are still
            // in ours (older members report only `applied_index`).
            let cluster_status = &status["cluster"];
            let durable = cluster_status["durable_applied_index"].as_u64();
            if let Some(applied) = durable.or_else(|| cluster_status["applied_index"].as_u64()) {
                last_seen.insert(*peer, applied);
            }
        }
        // Our own durable point: the log must keep every slot above it
        // (the consensus thread clamps there again).
        let applied = cluster.snapshot_point.read().expect("snapshot point lock").last_slot;
        let peers = urls.keys().filter(|p| **p != cluster.node_id).map(|p| last_seen.get(p).copied());
        let target = compaction_target(applied, retain, peers);
        let last = cluster.compacted.load(Ordering::Relaxed);
        if target >= last + step && cluster.inputs.try_send(Input::Compact { upto_slot: target }).is_ok() {
            cluster.compacted.store(target, Ordering::Relaxed);
            tracing::info!(upto_slot = target, applied, "compacting the consensus log");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_within_the_window_are_waited_for() {
        assert_eq!(compaction_target(1_000, 100, [Some(950), Some(990)]), 950);
        assert_eq!(compaction_target(1_000, 100, [Some(1_000), Some(1_000)]), 1_000);
    }

    #[test]
    fn a_peer_behind_the_window_or_never_seen_holds_nothing_back() {
        assert_eq!(compaction_target(1_000, 100, [Some(10), Some(1_000)]), 900);
        assert_eq!(compaction_target(1_000, 100, [None, Some(1_000)]), 900);
        assert_eq!(compaction_target(50, 100, [None, None]), 0);
    }

    #[test]
    fn a_peer_ahead_of_this_node_does_not_push_it_past_its_own_ledger() {
        assert_eq!(compaction_target(500, 100, [Some(900), Some(800)]), 500);
    }
}
