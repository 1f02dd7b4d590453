//! Prometheus metrics (`GET /metrics`), via prometheus-client; `exposition`
//! serves them as OpenMetrics or Prometheus text. Counters are registered
//! without `_total` (the encoder adds it), units with `register_with_unit`.

pub mod exposition;
pub mod http;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PeerLabels {
    pub peer: u8,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabels {
    pub peer: u8,
    /// A stable reason name (`PeerRefusal::as_str`).
    pub reason: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub proposals: Counter,
    pub blocks_committed: Counter,
    pub transfers_committed: Counter,
    pub transfers_rejected: Counter,
    /// Transfers per committed block.
    pub batch_transfers: Histogram,
    /// Seconds to write and fsync one block (ledger) transaction.
    pub block_fsync_seconds: Histogram,
    /// Seconds to write and fsync one group of Paxos promises/accepts.
    pub paxos_fsync_seconds: Histogram,
    /// Elections since start; follow the replica's own counts through
    /// `record_elections`.
    pub elections_started: Counter,
    pub elections_won: Counter,
    pub commit_index: Gauge,
    pub applied_index: Gauge,
    /// 1 while this node leads, else 0 (dashboards: which member leads).
    pub is_leader: Gauge,
    /// Changes of the leader this node follows (a new leader or none known).
    pub leader_changes: Counter,
    /// Linearizable reads this node served after a read index (its own as
    /// leader, or one asked of the leader); `?consistency=stale` reads skip it.
    pub linearizable_reads: Counter,
    /// Snapshot installs completed, chunks verified and written, chunks
    /// refused (damaged or not matching), chunks served to peers.
    pub snapshots_installed: Counter,
    pub snapshot_chunks_installed: Counter,
    pub snapshot_chunks_refused: Counter,
    pub snapshot_chunks_served: Counter,
    /// Messages waiting in the outbound queue to each peer.
    pub peer_queue: Family<PeerLabels, Gauge>,
    /// Payload bytes waiting in the outbound queue to each peer.
    pub peer_queue_bytes: Family<PeerLabels, Gauge>,
    /// Messages to each peer dropped because its queue was full (in
    /// messages or in bytes), and those of them over the byte bound.
    pub peer_messages_dropped: Family<PeerLabels, Counter>,
    pub peer_messages_dropped_bytes_full: Family<PeerLabels, Counter>,
    /// 1 if connected to the peer.
    pub peer_connected: Family<PeerLabels, Gauge>,
    /// Milliseconds since anything (a message or keepalive) arrived from
    /// the peer; -1 if never since start.
    pub peer_last_heard_secs_ago: Family<PeerLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    pub http_seconds: Family<HttpLabels, Histogram>,
    /// Peer messages refused before reaching consensus, by peer and reason.
    pub peer_messages_refused: Family<RefusalLabels, Counter>,
    /// The HTTP server's connection counters; the server updates them.
    pub http: std::sync::Arc<http::HttpStats>,
}

fn latency_histogram() -> Histogram {
    // 50 µs to ~1.6 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("synod");
        let m = Metrics {
            proposals: Counter::default(),
            blocks_committed: Counter::default(),
            transfers_committed: Counter::default(),
            transfers_rejected: Counter::default(),
            batch_transfers: Histogram::new(exponential_buckets(1.0, 2.0, 15)),
            block_fsync_seconds: latency_histogram(),
            paxos_fsync_seconds: latency_histogram(),
            elections_started: Counter::default(),
            elections_won: Counter::default(),
            commit_index: Gauge::default(),
            applied_index: Gauge::default(),
            is_leader: Gauge::default(),
            leader_changes: Counter::default(),
            linearizable_reads: Counter::default(),
            snapshots_installed: Counter::default(),
            snapshot_chunks_installed: Counter::default(),
            snapshot_chunks_refused: Counter::default(),
            snapshot_chunks_served: Counter::default(),
            peer_queue: Family::default(),
            peer_queue_bytes: Family::default(),
            peer_messages_dropped: Family::default(),
            peer_messages_dropped_bytes_full: Family::default(),
            peer_connected: Family::default(),
            peer_last_heard_secs_ago: Family::default(),
            http_seconds: Family::new_with_constructor(latency_histogram),
            peer_messages_refused: Family::default(),
            http: std::sync::Arc::new(http::HttpStats::default()),
            registry: Registry::default(),
        };
        registry.register("proposals", "Batches proposed to consensus", m.proposals.clone());
        registry.register("blocks_committed", "Blocks made durable", m.blocks_committed.clone());
        registry.register("transfers_committed", "Transfers made durable", m.transfers_committed.clone());
        registry.register("transfers_rejected", "Transfers rejected by the ledger rules", m.transfers_rejected.clone());
        registry.register("batch_transfers", "Transfers per committed block", m.batch_transfers.clone());
        registry.register_with_unit(
            "block_fsync",
            "Time to write and fsync one block",
            Unit::Seconds,
            m.block_fsync_seconds.clone(),
        );
        registry.register_with_unit(
            "paxos_fsync",
            "Time to write and fsync one group of Paxos records",
            Unit::Seconds,
            m.paxos_fsync_seconds.clone(),
        );
        registry.register("elections_started", "Elections this node started", m.elections_started.clone());
        registry.register("elections_won", "Elections this node won", m.elections_won.clone());
        registry.register("commit_index", "Highest log slot known chosen", m.commit_index.clone());
        registry.register("applied_index", "Highest log slot applied to the ledger", m.applied_index.clone());
        registry.register("is_leader", "1 while this node is the leader, else 0", m.is_leader.clone());
        registry.register(
            "leader_changes",
            "Changes of the leader this node follows (a new leader, or none known)",
            m.leader_changes.clone(),
        );
        registry.register(
            "linearizable_reads",
            "Reads served after a read index (not ?consistency=stale)",
            m.linearizable_reads.clone(),
        );
        registry.register("snapshots_installed", "Ledger snapshots installed", m.snapshots_installed.clone());
        registry.register(
            "snapshot_chunks_installed",
            "Snapshot chunks verified and written",
            m.snapshot_chunks_installed.clone(),
        );
        registry.register(
            "snapshot_chunks_refused",
            "Snapshot chunks refused (damaged or not matching)",
            m.snapshot_chunks_refused.clone(),
        );
        registry.register(
            "snapshot_chunks_served",
            "Snapshot chunks served to peers",
            m.snapshot_chunks_served.clone(),
        );
        registry.register("peer_queue_messages", "Messages queued for each peer", m.peer_queue.clone());
        registry.register_with_unit(
            "peer_queue",
            "Payload bytes queued for each peer",
            Unit::Bytes,
            m.peer_queue_bytes.clone(),
        );
        registry.register(
            "peer_messages_dropped",
            "Messages to each peer dropped because its outbound queue was full",
            m.peer_messages_dropped.clone(),
        );
        registry.register(
            "peer_messages_dropped_bytes_full",
            "Messages to each peer dropped because they did not fit its queue's byte bound",
            m.peer_messages_dropped_bytes_full.clone(),
        );
        registry.register(
            "peer_connected",
            "1 when the outbound connection to the peer is up",
            m.peer_connected.clone(),
        );
        // Exposed as `synod_peer_last_heard_ago_seconds{peer}`.
        registry.register_with_unit(
            "peer_last_heard_ago",
            "Seconds since anything arrived from the peer (-1: never since start)",
            Unit::Seconds,
            m.peer_last_heard_secs_ago.clone(),
        );
        registry.register_with_unit(
            "http_request",
            "HTTP request latency by method, route and status",
            Unit::Seconds,
            m.http_seconds.clone(),
        );
        registry.register(
            "peer_messages_refused",
            "Peer messages refused before reaching consensus (a faulty or malicious member), by peer and reason",
            m.peer_messages_refused.clone(),
        );
        m.http.register(&mut registry);
        Metrics { registry, ..m }
    }
}

impl Metrics {
    /// Brings the election counters up to the replica's counts (which only
    /// grow while the process lives, as these counters do).
    pub fn record_elections(&self, started: u64, won: u64) {
        self.elections_started.inc_by(started.saturating_sub(self.elections_started.get()));
        self.elections_won.inc_by(won.saturating_sub(self.elections_won.get()));
    }

    /// OpenMetrics text; `exposition::respond` serves it.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}
