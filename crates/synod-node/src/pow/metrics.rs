//! Prometheus metrics of a proof-of-work node (`GET /metrics`), prefixed
//! `synod_pow_`; served like the Paxos node's (`crate::metrics::exposition`).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

pub struct PowMetrics {
    registry: Registry,
    /// The HTTP server's metrics, named as on every node (`synod_http_*`).
    http_registry: Registry,
    /// The HTTP server's connection counters; the server updates them.
    pub http: std::sync::Arc<crate::metrics::http::HttpStats>,
    pub blocks_mined: Counter,
    pub blocks_stored: Counter,
    /// Transfers in the stored blocks (side branches included).
    pub transfers_stored: Counter,
    pub peers_banned: Counter,
    pub messages_dropped: Counter,
    pub transfers_submitted: Counter,
    /// Seconds to write and fsync the blocks one input made the chain accept.
    pub fsync_seconds: Histogram,
    pub tip_height: Gauge,
    pub mempool_transfers: Gauge,
    pub peers_connected: Gauge,
    /// Milliseconds since anything arrived from each peer (-1: never).
    pub peer_last_heard_secs_ago: Family<crate::metrics::PeerLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    pub orphan_blocks: Gauge,
    /// Hashes per second over the last 5 s, all mining threads.
    pub hash_rate: Gauge,
}

impl Default for PowMetrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("synod_pow");
        let http = std::sync::Arc::new(crate::metrics::http::HttpStats::default());
        let mut http_registry = Registry::with_prefix("synod");
        http.register(&mut http_registry);
        let m = PowMetrics {
            registry: Registry::default(),
            http_registry,
            http,
            blocks_mined: Counter::default(),
            blocks_stored: Counter::default(),
            transfers_stored: Counter::default(),
            peers_banned: Counter::default(),
            messages_dropped: Counter::default(),
            transfers_submitted: Counter::default(),
            fsync_seconds: Histogram::new(exponential_buckets(0.000_05, 2.0, 16)),
            tip_height: Gauge::default(),
            mempool_transfers: Gauge::default(),
            peers_connected: Gauge::default(),
            peer_last_heard_secs_ago: Family::default(),
            orphan_blocks: Gauge::default(),
            hash_rate: Gauge::default(),
        };
        registry.register("blocks_mined", "Blocks this node mined that joined its best chain", m.blocks_mined.clone());
        registry.register(
            "blocks_stored",
            "Blocks made durable (best chain and side branches)",
            m.blocks_stored.clone(),
        );
        registry.register(
            "transfers_stored",
            "Transfers in the blocks made durable (side branches included)",
            m.transfers_stored.clone(),
        );
        registry.register("peers_banned", "Bans of misbehaving peers", m.peers_banned.clone());
        registry.register(
            "messages_dropped",
            "Gossip messages dropped on a full peer queue",
            m.messages_dropped.clone(),
        );
        registry.register(
            "transfers_submitted",
            "Transfers clients submitted to this node",
            m.transfers_submitted.clone(),
        );
        registry.register_with_unit(
            "fsync",
            "Time to write and fsync accepted blocks",
            Unit::Seconds,
            m.fsync_seconds.clone(),
        );
        registry.register("tip_height", "Height of the best chain's tip", m.tip_height.clone());
        registry.register("mempool_transfers", "Transfers waiting in the mempool", m.mempool_transfers.clone());
        registry.register("peers_connected", "Peers with an open outbound connection", m.peers_connected.clone());
        registry.register_with_unit(
            "peer_last_heard_ago",
            "Seconds since anything arrived from the peer (-1: never since start)",
            Unit::Seconds,
            m.peer_last_heard_secs_ago.clone(),
        );
        registry.register("orphan_blocks", "Blocks waiting for their parent", m.orphan_blocks.clone());
        registry.register("hashrate_hashes_per_second", "Mining hash rate over the last 5 s", m.hash_rate.clone());
        PowMetrics { registry, ..m }
    }
}

impl PowMetrics {
    /// OpenMetrics text; `crate::metrics::exposition::respond` serves it.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        use prometheus_client::encoding::text::{encode_eof, encode_registry};
        encode_registry(&mut out, &self.registry)
            .and_then(|()| encode_registry(&mut out, &self.http_registry))
            .and_then(|()| encode_eof(&mut out))
            .expect("writing to a String cannot fail");
        out
    }
}
