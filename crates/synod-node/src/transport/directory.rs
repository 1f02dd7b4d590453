//! The peers a transport knows, shared by its listener (whom to admit), its
//! liveness watchdog (whom to watch), its chunk client (where to dial) and
//! `Transport::send`. Membership changes through the log add and remove
//! peers while the node runs (`Transport::add_peer`, `remove_peer`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use super::stats::PeerCounters;
use super::PeerId;

/// One known peer: where it listens, and its counters.
#[derive(Clone, Debug)]
pub struct PeerEntry {
    pub addr: SocketAddr,
    pub counters: Arc<PeerCounters>,
}

/// Bounded by the cluster: at most one entry per node id (255).
#[derive(Debug, Default)]
pub struct PeerDirectory {
    peers: RwLock<BTreeMap<PeerId, PeerEntry>>,
}

impl PeerDirectory {
    pub fn insert(&self, peer: PeerId, entry: PeerEntry) {
        self.peers.write().expect("peer directory lock").insert(peer, entry);
    }

    pub fn remove(&self, peer: PeerId) -> Option<PeerEntry> {
        self.peers.write().expect("peer directory lock").remove(&peer)
    }

    pub fn get(&self, peer: PeerId) -> Option<PeerEntry> {
        self.peers.read().expect("peer directory lock").get(&peer).cloned()
    }

    pub fn contains(&self, peer: PeerId) -> bool {
        self.peers.read().expect("peer directory lock").contains_key(&peer)
    }

    /// A copy of every entry (the watchdog walks it without holding the lock).
    pub fn entries(&self) -> Vec<(PeerId, PeerEntry)> {
        self.peers.read().expect("peer directory lock").iter().map(|(id, e)| (*id, e.clone())).collect()
    }
}
