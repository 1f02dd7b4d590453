//! Replicated mode: the node runtime as a driver of `synod_paxos::Replica`.
//!
//! Four threads plus the transport's tokio tasks:
//! - **consensus** (`consensus.rs`) owns the replica: feeds it ticks, peer
//!   messages, persistence acknowledgements, proposals and read-index
//!   requests, and routes its actions. It never blocks on IO.
//! - **persister** (`persister.rs`) makes `Persist` ops durable in the paxos
//!   tables, many per fsync (group commit), then reports `Persisted(token)`:
//!   the replica holds every message that depends on a promise or an accept
//!   until then (asserted inside the replica).
//! - **applier** (`applier.rs`) applies chosen slots in order: decodes the
//!   batch, builds the block deterministically (timestamp from the batch), and
//!   commits block + applied slot in one transaction, deferred (not fsynced:
//!   the chosen log entry is the durable record); then answers the clients
//!   whose batch it was. The ledger becomes durable behind, in groups.
//! - **proposer** (`proposer.rs`, leader only in effect) cuts waiting client
//!   requests into batches and proposes them.
//!
//! Around them: `compaction.rs` trims the consensus log to a retention window
//! below the applied slot; a peer that falls further behind is sent a
//! snapshot descriptor, and its applier pulls the ledger in verified chunks
//! (`install.rs`, served by `chunk_server.rs` on the peer port); `divergence.rs` compares head
//! blocks with the peers.

pub mod applier;
pub mod change;
pub mod chunk_server;
pub mod compaction;
pub mod consensus;
pub mod divergence;
pub mod install;
pub mod membership;
pub mod pending;
pub mod persister;
pub mod proposer;
pub mod refusals;
pub mod snapshot_config;

use std::collections::BTreeMap;
use std::sync::mpsc::SyncSender;
use std::sync::RwLock;

use serde::Serialize;
use synod_paxos::{Ballot, NodeId, RoleKind, Slot};
use tokio::sync::watch;

pub use consensus::Input;
pub use snapshot_config::SnapshotConfig;
use synod_storage::snapshot::SnapshotDescriptor;

/// Most inputs waiting for the consensus thread (peer messages beyond it are
/// dropped and retransmitted; proposals beyond it are refused as overloaded).
pub const CONSENSUS_INPUTS_MAX: usize = 65_536;

/// Transfers per proposed batch: one full request (8,192 transfers, at most
/// about 1.8 MB encoded) always fits in one proposal.
pub const BATCH_TRANSFERS_MAX: usize = crate::limits::REQUEST_TRANSFERS_MAX;

/// Largest proposed value: a block's worth of records (4 MiB) plus the batch header.
pub const VALUE_BYTES_MAX: usize = synod_core::limits::BLOCK_BYTES_MAX + 64;

/// A proposal not applied within this long is answered `commit_unknown`.
pub const PROPOSAL_TIMEOUT_MS: u64 = 10_000;

/// What `/v1/status` shows about consensus.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterStatus {
    pub node_id: NodeId,
    pub role: &'static str,
    /// The highest ballot this node promised (the current leader's, in a stable cluster).
    pub ballot: String,
    pub leader: Option<NodeId>,
    pub commit_index: Slot,
    /// The slot the ledger applied (readers see it; it may not be durable yet).
    pub applied_index: Slot,
    /// The slot the ledger's durable state holds (a crash leaves this; the
    /// log keeps every slot above it).
    pub durable_applied_index: Slot,
    pub elections_started: u64,
    pub elections_won: u64,
    /// The consensus log holds no slot at or below this one.
    pub compacted_upto: Slot,
    /// The slot of the snapshot this node is installing, if any.
    pub installing: Option<Slot>,
    pub snapshots_installed: u64,
    /// The configuration the replica runs on (`Replica::config`).
    pub config: ConfigStatus,
    /// On the leader: each peer's commit index as it last acknowledged it
    /// (`None`: not heard from at this ballot). Merged into `peers` by
    /// `/v1/status` as `commit_index` and `lag`; empty on other roles.
    #[serde(skip)]
    pub peer_commit_index: BTreeMap<NodeId, Option<Slot>>,
}

/// `cluster.config` in `/v1/status`: the members, and the log slot that
/// chose this configuration (`null` until one is chosen, as far as this
/// node knows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigStatus {
    pub members: Vec<NodeId>,
    pub slot: Option<Slot>,
}

impl ClusterStatus {
    pub fn new(node_id: NodeId, config: ConfigStatus) -> Self {
        ClusterStatus {
            node_id,
            role: "follower",
            ballot: Ballot::ZERO.to_string(),
            leader: None,
            commit_index: 0,
            applied_index: 0,
            durable_applied_index: 0,
            elections_started: 0,
            elections_won: 0,
            compacted_upto: 0,
            installing: None,
            snapshots_installed: 0,
            config,
            peer_commit_index: BTreeMap::new(),
        }
    }
}

pub fn role_name(role: RoleKind) -> &'static str {
    match role {
        RoleKind::Follower => "follower",
        RoleKind::Candidate => "candidate",
        RoleKind::Leader => "leader",
    }
}

/// Base URLs of the members' HTTP APIs. Membership changes at run time, so
/// readers take a copy (at most `MEMBERS_MAX` plus learners, a few entries).
#[derive(Debug, Default)]
pub struct MemberUrls {
    scheme: &'static str,
    urls: RwLock<BTreeMap<NodeId, String>>,
}

impl MemberUrls {
    /// `scheme`: `http` or `https` (`[http_tls]` is cluster-wide).
    pub fn new(scheme: &'static str) -> MemberUrls {
        MemberUrls { scheme, urls: RwLock::new(BTreeMap::new()) }
    }

    pub fn set(&self, node: NodeId, http_addr: std::net::SocketAddr) {
        let url = format!("{}://{http_addr}", self.scheme);
        self.urls.write().expect("member urls lock").insert(node, url);
    }

    pub fn remove(&self, node: NodeId) {
        self.urls.write().expect("member urls lock").remove(&node);
    }

    pub fn get(&self, node: NodeId) -> Option<String> {
        self.urls.read().expect("member urls lock").get(&node).cloned()
    }

    pub fn snapshot(&self) -> BTreeMap<NodeId, String> {
        self.urls.read().expect("member urls lock").clone()
    }
}

/// The cluster side of the node's shared state.
pub struct ClusterHandle {
    pub node_id: NodeId,
    pub status: RwLock<ClusterStatus>,
    pub inputs: SyncSender<Input>,
    /// The highest slot the ledger applied (durably, when it made a block).
    pub applied: watch::Receiver<Slot>,
    /// Base URL of every member's HTTP API, for forwarding; members that
    /// join through the log are added (`membership.rs`).
    pub http_urls: MemberUrls,
    /// Every known member's peer and HTTP address (the file's, the log's,
    /// and joining learners'): what a `Command::Members` proposal carries.
    pub addresses: RwLock<BTreeMap<NodeId, synod_paxos::MemberAddress>>,
    /// The membership change this node runs as leader, or the last one.
    pub change: std::sync::Mutex<Option<change::ChangeStatus>>,
    pub pending: pending::Pending,
    pub transport_stats: RwLock<BTreeMap<NodeId, crate::transport::PeerStats>>,
    /// The slot up to which this node asked the replica to compact its log.
    pub compacted: std::sync::atomic::AtomicU64,
    /// This node's durable ledger as a snapshot point (applied slot, head
    /// height and hash), refreshed by the applier after every write: what a
    /// peer that needs compacted slots is told to fetch.
    pub snapshot_point: RwLock<SnapshotDescriptor>,
    pub snapshot: SnapshotConfig,
    /// The client followers forward to the leader with (`api::forward::client`):
    /// HTTPS trusting the cluster CA when the members serve `[http_tls]`.
    pub forward_client: reqwest::Client,
}

impl ClusterHandle {
    pub fn leader_url(&self) -> Option<(NodeId, String)> {
        let leader = self.status.read().expect("status lock").leader?;
        self.http_urls.get(leader).map(|u| (leader, u))
    }

    pub fn is_leader(&self) -> bool {
        self.status.read().expect("status lock").role == "leader"
    }
}
