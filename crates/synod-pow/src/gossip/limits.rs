//! [`GossipLimits`]: every bound of the gossip core. Each map, set and queue
//! it keeps has one here, so its memory is bounded whatever peers send.

/// The bounds and timers of [`crate::gossip::Gossip`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GossipLimits {
    /// Most items in one `Inv`, `GetData` or `NotFound`.
    pub inv_items_max: usize,
    /// Most headers in one `Headers` answer.
    pub headers_max: usize,
    /// Most hashes in a `GetHeaders` locator.
    pub locator_max: usize,
    /// Most blocks requested from one peer and not yet received.
    pub blocks_in_flight_per_peer: usize,
    /// A block, transfer or headers request unanswered this long is given up
    /// (blocks are then asked of another peer).
    pub request_timeout_ms: u64,
    /// Misbehaviour score at which a peer is banned.
    pub ban_threshold: u32,
    /// How long a ban lasts.
    pub ban_duration_ms: u64,
    /// Most connected peers tracked; further connections are ignored.
    pub peers_max: usize,
    /// Most inventory items remembered per peer as "it has this" (not relayed back).
    pub known_inventory_per_peer: usize,
    /// Most validated headers waiting for their block to be downloaded.
    pub pending_headers_max: usize,
    /// Blocks are downloaded only within this many heights above the lowest
    /// one still missing (further capped by the chain's orphan pool, so
    /// out-of-order arrivals fit in it).
    pub download_window_blocks: usize,
    /// Most transfers requested and not yet received, over all peers.
    pub transfers_in_flight_max: usize,
    /// Most recently refused transfer ids remembered (not fetched again until
    /// the tip changes).
    pub recent_rejects_max: usize,
    /// Most bans remembered for peers that are no longer connected.
    pub bans_max: usize,
    /// Every peer is asked for headers (`GetHeaders`) this often, so a lost
    /// announcement delays a node by at most this much.
    pub sync_poll_ms: u64,
    /// Every this many consecutive `Headers` that do not connect to anything
    /// we know costs a peer [`crate::gossip::Misbehaviour::UnconnectingHeaders`].
    pub unconnecting_headers_max: u32,
    /// Most events kept for [`crate::gossip::Gossip::take_events`]; older ones are dropped.
    pub events_max: usize,
}

impl Default for GossipLimits {
    fn default() -> Self {
        GossipLimits {
            inv_items_max: 1000,
            headers_max: 2000,
            locator_max: 64,
            blocks_in_flight_per_peer: 16,
            request_timeout_ms: 10_000,
            ban_threshold: 100,
            ban_duration_ms: 3_600_000,
            peers_max: 125,
            known_inventory_per_peer: 5_000,
            pending_headers_max: 8_000,
            download_window_blocks: 1024,
            transfers_in_flight_max: 5_000,
            recent_rejects_max: 5_000,
            bans_max: 1_000,
            sync_poll_ms: 60_000,
            unconnecting_headers_max: 10,
            events_max: 1024,
        }
    }
}

/// A [`GossipLimits`] the core cannot run with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GossipLimitsError {
    /// A bound or timer is zero.
    #[error("{0} must be nonzero")]
    Zero(&'static str),
    /// A locator needs room for the tip and block 0.
    #[error("locator_max {0} must be at least 2")]
    LocatorTooShort(usize),
    /// One full `Headers` batch must fit among the pending headers.
    #[error("pending_headers_max {pending} must be at least headers_max {headers}")]
    PendingBelowBatch {
        /// `pending_headers_max`.
        pending: usize,
        /// `headers_max`.
        headers: usize,
    },
}

impl GossipLimits {
    /// Checks the limits; [`crate::gossip::Gossip::new`] panics on what this refuses.
    pub fn validate(&self) -> Result<(), GossipLimitsError> {
        let counts = [
            ("inv_items_max", self.inv_items_max),
            ("headers_max", self.headers_max),
            ("blocks_in_flight_per_peer", self.blocks_in_flight_per_peer),
            ("peers_max", self.peers_max),
            ("known_inventory_per_peer", self.known_inventory_per_peer),
            ("download_window_blocks", self.download_window_blocks),
            ("transfers_in_flight_max", self.transfers_in_flight_max),
            ("recent_rejects_max", self.recent_rejects_max),
            ("bans_max", self.bans_max),
            ("events_max", self.events_max),
        ];
        if let Some((name, _)) = counts.iter().find(|(_, v)| *v == 0) {
            return Err(GossipLimitsError::Zero(name));
        }
        let timers = [
            ("request_timeout_ms", self.request_timeout_ms),
            ("ban_duration_ms", self.ban_duration_ms),
            ("sync_poll_ms", self.sync_poll_ms),
        ];
        if let Some((name, _)) = timers.iter().find(|(_, v)| *v == 0) {
            return Err(GossipLimitsError::Zero(name));
        }
        if self.ban_threshold == 0 {
            return Err(GossipLimitsError::Zero("ban_threshold"));
        }
        if self.unconnecting_headers_max == 0 {
            return Err(GossipLimitsError::Zero("unconnecting_headers_max"));
        }
        if self.locator_max < 2 {
            return Err(GossipLimitsError::LocatorTooShort(self.locator_max));
        }
        if self.pending_headers_max < self.headers_max {
            return Err(GossipLimitsError::PendingBelowBatch {
                pending: self.pending_headers_max,
                headers: self.headers_max,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_zero_bounds_are_refused() {
        assert_eq!(GossipLimits::default().validate(), Ok(()));
        let l = GossipLimits { peers_max: 0, ..GossipLimits::default() };
        assert_eq!(l.validate(), Err(GossipLimitsError::Zero("peers_max")));
        let l = GossipLimits { sync_poll_ms: 0, ..GossipLimits::default() };
        assert_eq!(l.validate(), Err(GossipLimitsError::Zero("sync_poll_ms")));
        let l = GossipLimits { locator_max: 1, ..GossipLimits::default() };
        assert_eq!(l.validate(), Err(GossipLimitsError::LocatorTooShort(1)));
        let l = GossipLimits { pending_headers_max: 10, headers_max: 11, ..GossipLimits::default() };
        assert!(matches!(l.validate(), Err(GossipLimitsError::PendingBelowBatch { .. })));
    }
}
