//! Which configuration a cluster member starts on, and the address book.
//!
//! The configuration is data in the log (PROTOCOL.md §7.2): once the ledger
//! recorded one (`Store::applied_config`, the latest applied), it wins over
//! the config file, whose `peers` are then only the bootstrap members of a
//! new cluster and an address book. The one start that is unsafe is a node
//! outside the recorded configuration that is not told it is joining: it
//! would believe the file and count quorums of a configuration the cluster
//! left (a removed member restarted with its old file).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use synod_paxos::{MemberAddress, MemberBook, Message, NodeId};
use synod_storage::applied_config::AppliedAddresses;
use synod_storage::AppliedConfig;

/// The configuration a member starts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartMembership {
    /// Sorted member ids: the recorded configuration's, else the file's
    /// (this node and its peers; the peers alone for a joining node).
    pub members: Vec<NodeId>,
    /// Start as a learner (outside `members`): a joining node.
    pub learner: bool,
    /// The file's members differ from the recorded configuration (logged
    /// at info: expected after a membership change).
    pub file_differs: bool,
}

/// Why a member refuses to start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MembershipStartError {
    #[error(
        "node {node} is not in the cluster configuration {recorded:?} this node's ledger recorded (log slot {slot}): \
         it was removed, or it has not been added yet; to join as a new member set `join = true` (docs/DEPLOY.md, \
         \"Replacing a dead member\")"
    )]
    NotAMember { node: NodeId, recorded: Vec<NodeId>, slot: u64 },
}

/// Decides the start configuration from the file's member ids (this node
/// and its peers; `join`: the peers only) and the recorded configuration.
pub fn start_membership(
    node: NodeId,
    file_peers: &[NodeId],
    recorded: Option<&AppliedConfig>,
    join: bool,
) -> Result<StartMembership, MembershipStartError> {
    let mut file_members: Vec<NodeId> = file_peers.to_vec();
    if !join {
        file_members.push(node);
    }
    file_members.sort_unstable();
    let Some(recorded) = recorded else {
        return Ok(StartMembership { members: file_members, learner: join, file_differs: false });
    };
    let mut members = recorded.members.clone();
    members.sort_unstable();
    let file_differs = members != file_members;
    if members.contains(&node) {
        // A joining node that was promoted: it is a member now.
        return Ok(StartMembership { members, learner: false, file_differs });
    }
    if join {
        return Ok(StartMembership { members, learner: true, file_differs });
    }
    Err(MembershipStartError::NotAMember { node, recorded: members, slot: recorded.slot })
}

/// Every known member's peer and HTTP address. The file's peers are the
/// base; addresses the log chose (`Command::Members`) fill in members the
/// file does not list, and this node's own entry is what it bound.
pub fn address_book(
    node: NodeId,
    own: (SocketAddr, SocketAddr),
    file_peers: &[crate::config::PeerConfig],
    recorded: Option<&AppliedAddresses>,
) -> BTreeMap<NodeId, MemberAddress> {
    let mut book: BTreeMap<NodeId, MemberAddress> = BTreeMap::new();
    for a in recorded.map(|r| r.addresses.as_slice()).unwrap_or_default() {
        book.insert(a.id, a.clone());
    }
    // The file wins for the peers it lists: an operator can correct an
    // address that changed by editing it.
    for p in file_peers {
        book.insert(p.id, MemberAddress { id: p.id, peer_addr: p.peer_addr, http_addr: p.http_addr });
    }
    book.insert(node, MemberAddress { id: node, peer_addr: own.0, http_addr: own.1 });
    book
}

/// How long a removed member stays reachable after the change applies: it
/// keeps hearing heartbeats whose commit index covers its removal (the
/// consensus core's rule), so it learns it left rather than campaign on the
/// old configuration. Ten seconds is hundreds of heartbeats.
pub const REMOVED_PEER_GRACE_MS: u64 = 10_000;

/// The consensus thread's side of membership: learners it was told about,
/// and the transport peers a change removed, dropped after the grace period.
pub struct PeerChanges {
    pub node_id: NodeId,
    /// Enters the tokio runtime the transport runs on (the consensus thread
    /// is a plain thread).
    pub runtime: tokio::runtime::Handle,
    learners: BTreeSet<NodeId>,
    removals: BTreeMap<NodeId, Instant>,
}

impl PeerChanges {
    pub fn new(node_id: NodeId, runtime: tokio::runtime::Handle) -> PeerChanges {
        PeerChanges { node_id, runtime, learners: BTreeSet::new(), removals: BTreeMap::new() }
    }

    /// A node joins as a learner: reach it, and remember its addresses for
    /// the `Command::Members` that will add it.
    pub fn add_learner(&mut self, cluster: &super::ClusterHandle, transport: &Transport, address: MemberAddress) {
        if address.id == self.node_id {
            return;
        }
        tracing::info!(node = address.id, peer_addr = %address.peer_addr, "membership: learner added");
        self.learners.insert(address.id);
        self.removals.remove(&address.id);
        self.reach(cluster, transport, &address);
    }

    pub fn remove_learner(&mut self, node: NodeId) {
        self.learners.remove(&node);
    }

    /// A `Command::Members` applied: every member in it not known yet is
    /// reached at its address (a known one keeps the address it has: the
    /// config file wins); a peer in none of it and not a learner is dropped
    /// after `REMOVED_PEER_GRACE_MS`.
    pub fn applied(&mut self, cluster: &super::ClusterHandle, transport: &Transport, book: &MemberBook, now: Instant) {
        let known = transport.peer_addrs();
        for address in &book.addresses {
            self.removals.remove(&address.id);
            if address.id != self.node_id && !known.contains_key(&address.id) {
                self.reach(cluster, transport, address);
            }
        }
        let grace = Duration::from_millis(REMOVED_PEER_GRACE_MS);
        for peer in transport.peer_addrs().into_keys() {
            if !book.config.contains(peer) && !self.learners.contains(&peer) {
                self.removals.entry(peer).or_insert(now + grace);
            }
        }
        tracing::info!(members = ?book.config.members, "membership: configuration applied");
    }

    /// Drops the removed peers whose grace period is over.
    pub fn expire(&mut self, cluster: &super::ClusterHandle, transport: &Transport, now: Instant) {
        let due: Vec<NodeId> = self.removals.iter().filter(|(_, at)| **at <= now).map(|(id, _)| *id).collect();
        for peer in due {
            self.removals.remove(&peer);
            if self.learners.contains(&peer) {
                continue;
            }
            tracing::info!(peer, "membership: removed member dropped from the transport");
            transport.remove_peer(peer);
            cluster.http_urls.remove(peer);
            cluster.addresses.write().expect("addresses lock").remove(&peer);
        }
    }

    fn reach(&self, cluster: &super::ClusterHandle, transport: &Transport, address: &MemberAddress) {
        transport.add_peer(address.id, address.peer_addr, &self.runtime);
        cluster.http_urls.set(address.id, address.http_addr);
        cluster.addresses.write().expect("addresses lock").insert(address.id, address.clone());
    }
}

type Transport = crate::transport::Transport<Message>;

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(members: &[NodeId]) -> AppliedConfig {
        AppliedConfig { slot: 7, members: members.to_vec() }
    }

    #[test]
    fn without_a_recorded_configuration_the_file_is_the_bootstrap() {
        let s = start_membership(2, &[3, 1], None, false).unwrap();
        assert_eq!(s, StartMembership { members: vec![1, 2, 3], learner: false, file_differs: false });
        let j = start_membership(4, &[3, 1, 2], None, true).unwrap();
        assert_eq!(j, StartMembership { members: vec![1, 2, 3], learner: true, file_differs: false });
    }

    #[test]
    fn the_recorded_configuration_wins_over_the_file() {
        // Grown to 5 while the file still lists the first 3.
        let s = start_membership(2, &[1, 3], Some(&recorded(&[1, 2, 3, 4, 5])), false).unwrap();
        assert_eq!(s, StartMembership { members: vec![1, 2, 3, 4, 5], learner: false, file_differs: true });
        let same = start_membership(2, &[1, 3], Some(&recorded(&[3, 2, 1])), false).unwrap();
        assert!(!same.file_differs);
    }

    #[test]
    fn a_promoted_joiner_is_a_member_and_a_waiting_one_a_learner() {
        let promoted = start_membership(4, &[1, 2, 3], Some(&recorded(&[1, 2, 3, 4])), true).unwrap();
        assert_eq!(promoted.members, vec![1, 2, 3, 4]);
        assert!(!promoted.learner);
        let waiting = start_membership(4, &[1, 2, 3], Some(&recorded(&[1, 2, 3])), true).unwrap();
        assert!(waiting.learner);
        assert!(!waiting.file_differs);
    }

    #[test]
    fn a_removed_member_restarted_with_its_old_file_is_refused() {
        let e = start_membership(3, &[1, 2], Some(&recorded(&[1, 2, 4])), false).unwrap_err();
        assert_eq!(e, MembershipStartError::NotAMember { node: 3, recorded: vec![1, 2, 4], slot: 7 });
    }

    #[test]
    fn the_file_wins_for_its_peers_and_the_log_fills_in_the_rest() {
        let addr = |s: &str| -> SocketAddr { s.parse().unwrap() };
        let log = AppliedAddresses {
            slot: 9,
            addresses: vec![
                MemberAddress { id: 1, peer_addr: addr("10.0.0.1:1"), http_addr: addr("10.0.0.1:2") },
                MemberAddress { id: 4, peer_addr: addr("10.0.0.4:1"), http_addr: addr("10.0.0.4:2") },
            ],
        };
        let file = [crate::config::PeerConfig { id: 1, peer_addr: addr("10.9.0.1:1"), http_addr: addr("10.9.0.1:2") }];
        let book = address_book(2, (addr("10.0.0.2:1"), addr("10.0.0.2:2")), &file, Some(&log));
        assert_eq!(book.keys().copied().collect::<Vec<_>>(), vec![1, 2, 4]);
        assert_eq!(book[&1].peer_addr, addr("10.9.0.1:1"), "the file corrects an address");
        assert_eq!(book[&4].http_addr, addr("10.0.0.4:2"), "a member only the log knows");
        assert_eq!(book[&2].peer_addr, addr("10.0.0.2:1"));
    }
}
