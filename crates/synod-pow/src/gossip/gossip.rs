//! [`Gossip`]: one node's side of block and transfer gossip, sans-IO. The
//! driver (the node runtime or the simulator) tells it about connections,
//! messages, its clock and its own blocks and transfers; it updates the
//! [`ChainState`] and answers with [`GossipAction`]s. No clock, no
//! randomness, no threads: equal inputs give equal outputs.
//!
//! Handlers live by concern: relay (`Inv`/`GetData`/`NotFound`/transfers)
//! in `relay.rs`, blocks and the download plan in `blocks.rs`, headers-first
//! sync in `sync.rs`.

use std::collections::{BTreeMap, VecDeque};

use synod_core::{SignedTransfer, TransferId};

use crate::chain::{BlockOutcome, ChainState, PowBlock, SubmitError};
use crate::gossip::action::{GossipAction, GossipEvent, GossipStats, PeerSummary};
use crate::gossip::bounded_set::BoundedSet;
use crate::gossip::header_store::HeaderStore;
use crate::gossip::in_flight::{BlocksInFlight, TransfersInFlight};
use crate::gossip::limits::GossipLimits;
use crate::gossip::message::{GossipMsg, PeerId};
use crate::gossip::misbehaviour::Misbehaviour;
use crate::gossip::peer::Peer;

/// The gossip and sync core of one node.
#[derive(Clone, Debug)]
pub struct Gossip {
    pub(super) limits: GossipLimits,
    pub(super) peers: BTreeMap<PeerId, Peer>,
    /// Bans of peers that disconnected since: peer → end of the ban.
    pub(super) bans: BTreeMap<PeerId, u64>,
    pub(super) pending: HeaderStore,
    pub(super) blocks_in_flight: BlocksInFlight,
    pub(super) transfers_in_flight: TransfersInFlight,
    /// Transfers the mempool refused since the tip last changed.
    pub(super) recent_rejects: BoundedSet<TransferId>,
    pub(super) events: VecDeque<GossipEvent>,
    pub(super) stats: GossipStats,
    /// The peer syncing headers with us went away or stopped answering: ask
    /// everyone on the next tick (only one peer continues a shared chain).
    pub(super) headers_resync: bool,
}

impl Gossip {
    /// A core with no peers. Panics if `limits` fail [`GossipLimits::validate`].
    pub fn new(limits: GossipLimits) -> Gossip {
        if let Err(e) = limits.validate() {
            panic!("invalid gossip limits: {e}");
        }
        Gossip {
            peers: BTreeMap::new(),
            bans: BTreeMap::new(),
            pending: HeaderStore::new(limits.pending_headers_max),
            blocks_in_flight: BlocksInFlight::new(limits.blocks_in_flight_per_peer),
            transfers_in_flight: TransfersInFlight::new(limits.transfers_in_flight_max),
            recent_rejects: BoundedSet::new(limits.recent_rejects_max),
            events: VecDeque::new(),
            stats: GossipStats::default(),
            headers_resync: false,
            limits,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &GossipLimits {
        &self.limits
    }

    /// Counters.
    pub fn stats(&self) -> &GossipStats {
        &self.stats
    }

    /// Validated headers whose blocks are still to be downloaded.
    pub fn pending_headers(&self) -> usize {
        self.pending.len()
    }

    /// Blocks requested from any peer and not received.
    pub fn blocks_in_flight(&self) -> usize {
        self.blocks_in_flight.len()
    }

    /// Transfers requested from any peer and not received.
    pub fn transfers_in_flight(&self) -> usize {
        self.transfers_in_flight.len()
    }

    /// The events since the last call, oldest first (at most `events_max`;
    /// older ones were dropped and counted in [`GossipStats::events_dropped`]).
    pub fn take_events(&mut self) -> Vec<GossipEvent> {
        self.events.drain(..).collect()
    }

    /// A connection to `peer` is up: start headers-first sync (send
    /// `GetHeaders` with our locator). A banned peer gets its `Ban` again (the
    /// driver should not have connected it); beyond `peers_max` peers the
    /// connection is ignored (no actions, its messages dropped).
    pub fn peer_connected(&mut self, peer: PeerId, chain: &ChainState, now_ms: u64) -> Vec<GossipAction> {
        if let Some(until_ms) = self.ban_end(peer, now_ms) {
            let reason = "banned".to_string();
            return self.finish(vec![GossipAction::Ban { peer, until_ms, reason }]);
        }
        self.bans.remove(&peer);
        if !self.peers.contains_key(&peer) && self.peers.len() >= self.limits.peers_max {
            self.stats.peers_refused += 1;
            return Vec::new();
        }
        // A reconnection starts afresh.
        self.forget_requests(peer);
        self.peers.insert(peer, Peer::new(&self.limits, now_ms));
        let mut out = Vec::new();
        self.send_get_headers(peer, None, chain, now_ms, &mut out);
        self.finish(out)
    }

    /// The connection to `peer` is gone: its requests are forgotten (blocks
    /// are asked of others on the next tick); a ban outlives it.
    pub fn peer_disconnected(&mut self, peer: PeerId) {
        let Some(p) = self.peers.remove(&peer) else {
            return;
        };
        self.forget_requests(peer);
        self.headers_resync |= p.headers_continue_from.is_some() || p.headers_asked_ms.is_some();
        if let Some(until) = p.banned_until_ms {
            if self.bans.len() >= self.limits.bans_max {
                // Forget the ban that ends first.
                let first = self.bans.iter().min_by_key(|(id, until)| (**until, **id)).map(|(id, _)| *id);
                self.bans.remove(&first.expect("full means non-empty"));
            }
            self.bans.insert(peer, until);
        }
        self.assert_invariants();
    }

    /// A message from `peer`. `now_secs` is the local clock in Unix seconds
    /// for [`ChainState::receive_block`]. Messages from banned or unknown
    /// peers are ignored.
    pub fn on_message(
        &mut self,
        peer: PeerId,
        msg: GossipMsg,
        chain: &mut ChainState,
        now_ms: u64,
        now_secs: i64,
    ) -> Vec<GossipAction> {
        if !self.accepts(peer, now_ms) {
            self.stats.messages_ignored += 1;
            return Vec::new();
        }
        self.stats.messages_in += 1;
        let mut out = Vec::new();
        match msg {
            GossipMsg::Inv(items) => self.on_inv(peer, items, chain, now_ms, &mut out),
            GossipMsg::GetData(items) => self.on_get_data(peer, items, chain, now_ms, &mut out),
            GossipMsg::Block(bytes) => self.on_block(peer, &bytes, chain, now_ms, now_secs, &mut out),
            GossipMsg::Transfer(tx) => self.on_transfer(peer, tx, chain, now_ms, &mut out),
            GossipMsg::GetHeaders { locator } => self.on_get_headers(peer, &locator, chain, now_ms, &mut out),
            GossipMsg::Headers(headers) => self.on_headers(peer, &headers, chain, now_ms, now_secs, &mut out),
            GossipMsg::NotFound(items) => self.on_not_found(peer, items, now_ms, &mut out),
        }
        self.continue_headers(chain, now_ms, &mut out);
        self.fill_downloads(chain, now_ms, &mut out);
        self.finish(out)
    }

    /// Encoded bytes from `peer`: decodes them ([`GossipMsg::from_bytes`])
    /// and handles the message; bytes that do not decode cost
    /// [`Misbehaviour::MalformedMessage`].
    pub fn on_wire_message(
        &mut self,
        peer: PeerId,
        bytes: &[u8],
        chain: &mut ChainState,
        now_ms: u64,
        now_secs: i64,
    ) -> Vec<GossipAction> {
        if !self.accepts(peer, now_ms) {
            self.stats.messages_ignored += 1;
            return Vec::new();
        }
        match GossipMsg::from_bytes(bytes) {
            Ok(msg) => self.on_message(peer, msg, chain, now_ms, now_secs),
            Err(e) => {
                self.stats.messages_in += 1;
                let mut out = Vec::new();
                self.misbehave(peer, Misbehaviour::MalformedMessage(e.to_string()), now_ms, &mut out);
                self.finish(out)
            }
        }
    }

    /// Timers: lifts expired bans, gives up timed-out requests (blocks are
    /// asked of another peer), continues and polls headers sync, and fills
    /// the download windows.
    pub fn on_tick(&mut self, chain: &ChainState, now_ms: u64) -> Vec<GossipAction> {
        let mut out = Vec::new();
        for p in self.peers.values_mut() {
            if p.banned_until_ms.is_some_and(|until| until <= now_ms) {
                p.banned_until_ms = None;
                p.ban_score = 0;
            }
            if p.headers_asked_ms.is_some_and(|t| t.saturating_add(self.limits.request_timeout_ms) <= now_ms) {
                p.headers_asked_ms = None;
                self.headers_resync = true;
            }
        }
        self.bans.retain(|_, until| *until > now_ms);
        self.transfers_in_flight.remove_expired(now_ms);
        self.on_block_timeouts(chain, now_ms, &mut out);
        self.continue_headers(chain, now_ms, &mut out);
        if std::mem::take(&mut self.headers_resync) {
            let peers: Vec<PeerId> = self.peers.keys().copied().collect();
            for peer in peers {
                self.maybe_get_headers(peer, chain, now_ms, &mut out);
            }
        }
        self.poll_headers(chain, now_ms, &mut out);
        self.fill_downloads(chain, now_ms, &mut out);
        self.finish(out)
    }

    /// Our own miner found a block: apply it and announce it (`Inv`) to
    /// every peer that does not have it.
    pub fn on_mined_block(
        &mut self,
        block: PowBlock,
        chain: &mut ChainState,
        now_ms: u64,
        now_secs: i64,
    ) -> (BlockOutcome, Vec<GossipAction>) {
        let (hash, height) = (block.hash(), block.height());
        let outcome = chain.receive_block(block, now_secs);
        let mut out = Vec::new();
        self.after_block(None, hash, height, &outcome, chain, now_ms, &mut out);
        (outcome, self.finish(out))
    }

    /// A client submitted a transfer to this node: mempool it and announce
    /// it (`Inv`) to every peer.
    pub fn on_local_transfer(
        &mut self,
        tx: SignedTransfer,
        chain: &mut ChainState,
        now_ms: u64,
    ) -> (Result<TransferId, SubmitError>, Vec<GossipAction>) {
        let result = chain.submit_transfer(tx);
        let mut out = Vec::new();
        if let Ok(id) = &result {
            self.relay_transfer(*id, None, now_ms, &mut out);
        }
        (result, self.finish(out))
    }

    /// The connected peers, by id.
    pub fn peers(&self, now_ms: u64) -> Vec<PeerSummary> {
        self.peers
            .iter()
            .map(|(&peer, p)| PeerSummary {
                peer,
                best_height: p.best_height,
                ban_score: p.ban_score,
                blocks_in_flight: self.blocks_in_flight.count(peer),
                banned_until_ms: p.banned_until_ms.filter(|&until| now_ms < until),
            })
            .collect()
    }

    /// True if `peer` is banned at `now_ms` (connected or not).
    pub fn is_banned(&self, peer: PeerId, now_ms: u64) -> bool {
        self.ban_end(peer, now_ms).is_some()
    }

    /// Peers banned at `now_ms` (connected or not) with the end of their ban.
    pub fn bans(&self, now_ms: u64) -> Vec<(PeerId, u64)> {
        let connected = self.peers.iter().filter_map(|(&id, p)| p.banned_until_ms.map(|u| (id, u)));
        let mut all: Vec<(PeerId, u64)> = connected.chain(self.bans.iter().map(|(&id, &u)| (id, u))).collect();
        all.retain(|&(_, until)| now_ms < until);
        all.sort_unstable();
        all
    }

    fn ban_end(&self, peer: PeerId, now_ms: u64) -> Option<u64> {
        let until = self.peers.get(&peer).and_then(|p| p.banned_until_ms).or_else(|| self.bans.get(&peer).copied());
        until.filter(|&u| now_ms < u)
    }

    /// True if messages from `peer` are handled: connected and not banned.
    fn accepts(&self, peer: PeerId, now_ms: u64) -> bool {
        self.peers.get(&peer).is_some_and(|p| !p.is_banned(now_ms))
    }

    /// Adds `what`'s score to `peer`'s; at the threshold, bans it once and
    /// frees its requests for other peers.
    pub(super) fn misbehave(&mut self, peer: PeerId, what: Misbehaviour, now_ms: u64, out: &mut Vec<GossipAction>) {
        let threshold = self.limits.ban_threshold;
        let duration = self.limits.ban_duration_ms;
        let p = self.peers.get_mut(&peer).expect("only connected peers are scored");
        if p.is_banned(now_ms) {
            return;
        }
        p.ban_score = p.ban_score.saturating_add(what.score());
        let ban_score = p.ban_score;
        self.stats.misbehaviours += 1;
        if ban_score >= threshold {
            let until_ms = now_ms.saturating_add(duration);
            p.banned_until_ms = Some(until_ms);
            self.stats.bans += 1;
            out.push(GossipAction::Ban { peer, until_ms, reason: what.to_string() });
            self.forget_requests(peer);
        }
        self.event(GossipEvent::Misbehaved { peer, what, ban_score });
    }

    pub(super) fn event(&mut self, e: GossipEvent) {
        if self.events.len() == self.limits.events_max {
            self.events.pop_front();
            self.stats.events_dropped += 1;
        }
        self.events.push_back(e);
    }

    fn forget_requests(&mut self, peer: PeerId) {
        self.blocks_in_flight.remove_peer(peer);
        self.transfers_in_flight.remove_peer(peer);
    }

    /// Counts what goes out and checks the invariants before handing the actions over.
    fn finish(&mut self, out: Vec<GossipAction>) -> Vec<GossipAction> {
        for a in &out {
            if let GossipAction::Send { to, msg } = a {
                assert!(self.peers.contains_key(to), "messages go to connected peers only");
                assert!(
                    !matches!(msg, GossipMsg::Inv(v) | GossipMsg::GetData(v) | GossipMsg::NotFound(v)
                    if v.len() > self.limits.inv_items_max),
                    "our inventories respect the limit"
                );
                self.stats.messages_out += 1;
            }
        }
        self.assert_invariants();
        out
    }

    fn assert_invariants(&self) {
        let l = &self.limits;
        assert!(self.peers.len() <= l.peers_max && self.bans.len() <= l.bans_max, "peers and bans bounded");
        assert!(self.pending.len() <= l.pending_headers_max, "pending headers bounded");
        assert!(self.blocks_in_flight.len() <= l.peers_max * l.blocks_in_flight_per_peer, "blocks in flight bounded");
        assert!(self.transfers_in_flight.len() <= l.transfers_in_flight_max, "transfers in flight bounded");
        assert!(self.events.len() <= l.events_max, "events bounded");
        for (&id, p) in &self.peers {
            assert!(self.blocks_in_flight.count(id) <= l.blocks_in_flight_per_peer, "in-flight window never exceeded");
            assert!(p.known.len() <= l.known_inventory_per_peer, "known inventory bounded");
        }
        self.blocks_in_flight.assert_consistent();
    }
}
