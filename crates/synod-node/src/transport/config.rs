//! The transport's configuration and its defaults.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use super::error::ConfigError;
use super::stream::TransportSecurity;
use super::PeerId;

/// Default bound of each peer's outbound queue, in messages.
pub const QUEUE_MESSAGES_MAX_DEFAULT: usize = 4_096;
/// Default largest encoded message, in bytes (the frame's payload).
pub const FRAME_BYTES_MAX_DEFAULT: usize = 8 * 1024 * 1024;
pub const RECONNECT_BACKOFF_MIN_MS_DEFAULT: u64 = 50;
pub const RECONNECT_BACKOFF_MAX_MS_DEFAULT: u64 = 2_000;
/// Default idle time after which the connector sends a keepalive frame.
pub const KEEPALIVE_INTERVAL_MS_DEFAULT: u64 = 500;
/// Default silence after which a peer counts as lost: four keepalive
/// intervals, and about seven Multi-Paxos election timeouts (150..300 ms).
pub const PEER_LOST_AFTER_MS_DEFAULT: u64 = 2_000;

#[derive(Clone, Debug)]
pub struct TransportConfig {
    /// Both ends of a connection must agree, else the handshake fails.
    pub cluster_id: u64,
    pub node_id: PeerId,
    /// Port 0 is allowed; `Transport::local_addr` tells the bound address.
    pub listen: SocketAddr,
    /// Every other member of the cluster (never this node).
    pub peers: BTreeMap<PeerId, SocketAddr>,
    /// Bound of each peer's outbound queue; `send` refuses beyond it.
    pub queue_messages_max: usize,
    /// Largest encoded message; larger is refused on send and on receive.
    pub frame_bytes_max: usize,
    pub reconnect_backoff_min_ms: u64,
    pub reconnect_backoff_max_ms: u64,
    /// Seeds the jitter of the reconnect backoff (each peer's generator is
    /// derived from it), so a run can be replayed. `new` draws it at random.
    pub reconnect_jitter_seed: u64,
    /// Plain TCP (proof-of-work) or mutual TLS (Multi-Paxos members). `new`
    /// starts plain.
    pub security: TransportSecurity,
    /// The connector sends a keepalive frame (`00 00 00 00`) after this long
    /// without a message, so an idle but healthy peer is still heard.
    pub keepalive_interval_ms: u64,
    /// A peer heard nothing from (no frame, keepalives included) for this
    /// long is lost: logged, shown in `PeerStats::lost`, its inbound
    /// connection closed and its outbound connection re-dialled. At least
    /// twice `keepalive_interval_ms`.
    pub peer_lost_after_ms: u64,
}

impl TransportConfig {
    /// A config with the default bounds and a random jitter seed.
    pub fn new(cluster_id: u64, node_id: PeerId, listen: SocketAddr, peers: BTreeMap<PeerId, SocketAddr>) -> Self {
        TransportConfig {
            cluster_id,
            node_id,
            listen,
            peers,
            queue_messages_max: QUEUE_MESSAGES_MAX_DEFAULT,
            frame_bytes_max: FRAME_BYTES_MAX_DEFAULT,
            reconnect_backoff_min_ms: RECONNECT_BACKOFF_MIN_MS_DEFAULT,
            reconnect_backoff_max_ms: RECONNECT_BACKOFF_MAX_MS_DEFAULT,
            reconnect_jitter_seed: rand::random(),
            security: TransportSecurity::Plain,
            keepalive_interval_ms: KEEPALIVE_INTERVAL_MS_DEFAULT,
            peer_lost_after_ms: PEER_LOST_AFTER_MS_DEFAULT,
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.peers.contains_key(&self.node_id) {
            return Err(ConfigError::SelfInPeers(self.node_id));
        }
        if self.queue_messages_max == 0 {
            return Err(ConfigError::QueueEmpty);
        }
        // The length prefix is a u32: no frame can announce more.
        let frame_limit = u32::MAX as usize;
        if self.frame_bytes_max == 0 || self.frame_bytes_max > frame_limit {
            return Err(ConfigError::FrameBytesMax { value: self.frame_bytes_max, max: frame_limit });
        }
        let (min_ms, max_ms) = (self.reconnect_backoff_min_ms, self.reconnect_backoff_max_ms);
        if min_ms == 0 || min_ms > max_ms {
            return Err(ConfigError::Backoff { min_ms, max_ms });
        }
        let (keepalive_ms, lost_ms) = (self.keepalive_interval_ms, self.peer_lost_after_ms);
        if keepalive_ms == 0 || lost_ms < keepalive_ms.saturating_mul(2) {
            return Err(ConfigError::Liveness { keepalive_ms, lost_ms });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> TransportConfig {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        TransportConfig::new(7, 1, addr, BTreeMap::from([(2, addr), (3, addr)]))
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(config().validate(), Ok(()));
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut c = config();
        c.peers.insert(1, c.listen);
        assert_eq!(c.validate(), Err(ConfigError::SelfInPeers(1)));

        let mut c = config();
        c.queue_messages_max = 0;
        assert_eq!(c.validate(), Err(ConfigError::QueueEmpty));

        let mut c = config();
        c.frame_bytes_max = 0;
        assert!(matches!(c.validate(), Err(ConfigError::FrameBytesMax { value: 0, .. })));

        let mut c = config();
        c.reconnect_backoff_min_ms = 3_000;
        assert_eq!(c.validate(), Err(ConfigError::Backoff { min_ms: 3_000, max_ms: 2_000 }));

        let mut c = config();
        c.reconnect_backoff_min_ms = 0;
        assert_eq!(c.validate(), Err(ConfigError::Backoff { min_ms: 0, max_ms: 2_000 }));
    }
}
