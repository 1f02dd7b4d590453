//! Blocks: receiving them (and scoring bad ones), and the download plan that
//! turns pending headers into `GetData` requests, lowest height first,
//! within each peer's in-flight window and a window of heights that the
//! chain's orphan pool can absorb when answers arrive out of order.

use std::collections::BTreeMap;

use crate::chain::{BlockOutcome, ChainState, PowBlock};
use crate::gossip::action::{GossipAction, GossipEvent};
use crate::gossip::gossip::Gossip;
use crate::gossip::message::{GossipMsg, InvItem, PeerId};
use crate::gossip::misbehaviour::Misbehaviour;
use crate::hash::{sha256d, BlockHash};
use crate::header::HEADER_LEN;

impl Gossip {
    /// A block from a peer, asked for or pushed.
    pub(super) fn on_block(
        &mut self,
        peer: PeerId,
        bytes: &[u8],
        chain: &mut ChainState,
        now_ms: u64,
        now_secs: i64,
        out: &mut Vec<GossipAction>,
    ) {
        self.stats.blocks_received += 1;
        // The header hash names the request even if the rest is bad, so it
        // can be asked of someone else at once.
        let hash = (bytes.len() >= HEADER_LEN).then(|| sha256d(&bytes[..HEADER_LEN]));
        let requested = hash.is_some_and(|h| self.blocks_in_flight.get(&h).is_some_and(|r| r.peer == peer));
        if requested {
            self.blocks_in_flight.remove(&hash.expect("requested implies a hash"));
        }
        let max = chain.config().limits.max_block_bytes;
        if bytes.len() > max {
            let what = Misbehaviour::OverLimit { what: "block bytes", count: bytes.len(), max };
            self.misbehave(peer, what, now_ms, out);
            return;
        }
        let block = match PowBlock::decode(bytes) {
            Ok(b) => b,
            Err(e) => {
                self.misbehave(peer, Misbehaviour::MalformedBlock(e.to_string()), now_ms, out);
                return;
            }
        };
        let hash = block.hash();
        let p = self.peers.get_mut(&peer).expect("connected");
        let asked = requested || p.requested.contains(&hash);
        p.known.insert(InvItem::Block(hash));
        if !asked && chain.knows(&hash) {
            self.misbehave(peer, Misbehaviour::UnrequestedBlock { hash }, now_ms, out);
            return;
        }
        let height = block.height();
        let outcome = chain.receive_block(block, now_secs);
        self.after_block(Some(peer), hash, height, &outcome, chain, now_ms, out);
    }

    /// What follows a block through the chain, from a peer or our miner:
    /// relay a new tip, ask for the headers an orphan lacks, score a bad
    /// block, prune the download plan.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn after_block(
        &mut self,
        source: Option<PeerId>,
        hash: BlockHash,
        height: u64,
        outcome: &BlockOutcome,
        chain: &ChainState,
        now_ms: u64,
        out: &mut Vec<GossipAction>,
    ) {
        self.event(GossipEvent::Block { peer: source, hash, height, outcome: outcome.clone() });
        if chain.tree().contains(&hash) {
            self.pending.remove(&hash);
            let e = chain.tree().entry(&hash);
            if let (Some(p), true) = (source.and_then(|s| self.peers.get_mut(&s)), e.is_candidate()) {
                p.note_best(e.height, e.chain_work);
            }
        }
        match outcome {
            BlockOutcome::Extended { .. } | BlockOutcome::Reorged { .. } => {
                // Transfers refused against the old tip may fit the new one.
                self.recent_rejects.clear();
                self.relay_block(chain.best_tip().hash, source, chain, now_ms, out);
            }
            BlockOutcome::Orphaned { missing } => {
                let planned = self.pending.contains(missing) || self.blocks_in_flight.contains(missing);
                if let (Some(peer), false) = (source, planned) {
                    // Its ancestors are news to us: sync headers from the sender.
                    self.maybe_get_headers(peer, chain, now_ms, out);
                }
            }
            BlockOutcome::StoredSideBranch | BlockOutcome::AlreadyKnown => {}
            BlockOutcome::Invalid(err) => match Misbehaviour::for_invalid_block(hash, err) {
                // A damaged body: the header (and its pending entry) stays
                // good, and the genuine block is asked of someone else.
                Some(what) => {
                    if let Some(peer) = source {
                        self.misbehave(peer, what, now_ms, out);
                    }
                }
                // Our clock, the parent or the state refuses it: fetch neither
                // it nor its descendants again (a later announcement may).
                None => {
                    self.pending.remove_subtree(&hash);
                }
            },
        }
    }

    /// Registers a `GetData` for `hash` to `peer` (the caller sends it).
    pub(super) fn request_block(&mut self, peer: PeerId, hash: BlockHash, now_ms: u64) {
        self.blocks_in_flight.insert(hash, peer, now_ms.saturating_add(self.limits.request_timeout_ms));
        self.peers.get_mut(&peer).expect("connected").requested.insert(hash);
        self.stats.blocks_requested += 1;
    }

    /// Asks for pending blocks, lowest height first: only heights within
    /// the download window above the lowest missing one, each of one peer
    /// (the header's sender if it has room, else the least busy peer that
    /// showed that height), never beyond a peer's in-flight window.
    pub(super) fn fill_downloads(&mut self, chain: &ChainState, now_ms: u64, out: &mut Vec<GossipAction>) {
        if self.pending.len() == 0 {
            return;
        }
        let window = self.limits.download_window_blocks.min(chain.orphans().max_blocks() + 1) as u64;
        let mut stored = Vec::new();
        let mut doomed = Vec::new();
        let mut asks: BTreeMap<PeerId, Vec<InvItem>> = BTreeMap::new();
        let mut lowest = None;
        let mut any_room = self.peers.keys().any(|&p| self.can_ask(p, now_ms));
        for (height, hash) in self.pending.in_height_order() {
            if chain.tree().contains(&hash) {
                stored.push(hash);
                continue;
            }
            let entry = self.pending.get(&hash).expect("listed");
            if chain.tree().get(&entry.header.prev_hash).is_some_and(|e| !e.is_candidate()) {
                doomed.push(hash);
                continue;
            }
            let low = *lowest.get_or_insert(height);
            if height >= low + window || !any_room {
                break;
            }
            if self.blocks_in_flight.contains(&hash) || chain.orphans().contains(&hash) {
                continue;
            }
            if let Some(peer) = self.pick_peer(&hash, height, entry.source, now_ms) {
                self.blocks_in_flight.insert(hash, peer, now_ms.saturating_add(self.limits.request_timeout_ms));
                asks.entry(peer).or_default().push(InvItem::Block(hash));
                any_room = self.peers.keys().any(|&p| self.can_ask(p, now_ms));
            }
        }
        for hash in stored {
            self.pending.remove(&hash);
        }
        for hash in doomed {
            self.pending.remove_subtree(&hash);
        }
        for (peer, items) in asks {
            let p = self.peers.get_mut(&peer).expect("picked among connected peers");
            for item in &items {
                if let InvItem::Block(h) = item {
                    p.requested.insert(*h);
                }
            }
            self.stats.blocks_requested += items.len() as u64;
            assert!(items.len() <= self.limits.blocks_in_flight_per_peer, "one window per message");
            out.push(GossipAction::Send { to: peer, msg: GossipMsg::GetData(items) });
        }
    }

    fn can_ask(&self, peer: PeerId, now_ms: u64) -> bool {
        self.blocks_in_flight.has_room(peer) && self.peers.get(&peer).is_some_and(|p| !p.is_banned(now_ms))
    }

    /// Who to ask for a pending block: its sender if it can be asked; else
    /// the least busy peer that showed this height; else (the sender went
    /// away, the others showed less) the least busy peer at all. Never a
    /// peer that said it lacks the block; one that let a request for it
    /// time out only when no other will do.
    fn pick_peer(&self, hash: &BlockHash, height: u64, source: PeerId, now_ms: u64) -> Option<PeerId> {
        let usable = |id: PeerId, allow_slow: bool, allow_short: bool| {
            let p = &self.peers[&id];
            self.can_ask(id, now_ms)
                && (id == source || p.best_height >= height || allow_short)
                && !p.lacks.contains(hash)
                && (allow_slow || !p.slow.contains(hash))
        };
        if self.peers.contains_key(&source) && usable(source, false, false) {
            return Some(source);
        }
        [(false, false), (false, true), (true, true)].into_iter().find_map(|(allow_slow, allow_short)| {
            self.peers
                .keys()
                .copied()
                .filter(|&id| usable(id, allow_slow, allow_short))
                .min_by_key(|&id| (self.blocks_in_flight.count(id), id))
        })
    }

    /// Requests past their deadline: pending blocks go back to the plan
    /// (another peer is preferred); an announced block is asked of another
    /// peer that announced it, else headers are asked of the first.
    pub(super) fn on_block_timeouts(&mut self, chain: &ChainState, now_ms: u64, out: &mut Vec<GossipAction>) {
        for (hash, request) in self.blocks_in_flight.take_expired(now_ms) {
            self.stats.block_timeouts += 1;
            if let Some(p) = self.peers.get_mut(&request.peer) {
                p.slow.insert(hash);
            }
            if self.pending.contains(&hash) || chain.knows(&hash) {
                continue;
            }
            let item = InvItem::Block(hash);
            let other = self
                .peers
                .iter()
                .find(|(&id, p)| id != request.peer && p.known.contains(&item) && self.can_ask(id, now_ms))
                .map(|(&id, _)| id);
            match other {
                Some(peer) => {
                    self.request_block(peer, hash, now_ms);
                    out.push(GossipAction::Send { to: peer, msg: GossipMsg::GetData(vec![item]) });
                }
                None if self.peers.contains_key(&request.peer) => {
                    self.maybe_get_headers(request.peer, chain, now_ms, out);
                }
                None => {}
            }
        }
    }
}
