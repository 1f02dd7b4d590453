//! Headers-first sync (Bitcoin's `getheaders`/`headers`): a node learns a
//! peer's best chain as 80-byte headers, checks each links to the previous
//! one and meets its own target (the full rules run when the block
//! arrives), and downloads the blocks from the download plan. A full batch
//! means there is more: the next request starts from its last header, so a
//! node thousands of blocks behind converges `headers_max` headers per round
//! trip while blocks download in parallel.

use crate::chain::ChainState;
use crate::compact::Compact;
use crate::gossip::action::GossipAction;
use crate::gossip::gossip::Gossip;
use crate::gossip::locator::{fork_height, height_of, locator};
use crate::gossip::message::{GossipMsg, HeaderBytes, InvItem, PeerId};
use crate::gossip::misbehaviour::Misbehaviour;
use crate::hash::BlockHash;
use crate::header::Header;
use crate::verify::time_too_far;
use crate::work::block_proof;

impl Gossip {
    /// Sends `GetHeaders` with the locator from `from` (a pending header or
    /// stored block), or from our best known header.
    pub(super) fn send_get_headers(
        &mut self,
        peer: PeerId,
        from: Option<BlockHash>,
        chain: &ChainState,
        now_ms: u64,
        out: &mut Vec<GossipAction>,
    ) {
        let start =
            from.filter(|h| height_of(chain, &self.pending, h).is_some()).unwrap_or_else(|| self.best_header(chain));
        let locator = locator(chain, &self.pending, start, self.limits.locator_max);
        let p = self.peers.get_mut(&peer).expect("connected");
        p.headers_asked_ms = Some(now_ms);
        p.last_headers_sent_ms = now_ms;
        out.push(GossipAction::Send { to: peer, msg: GossipMsg::GetHeaders { locator } });
    }

    /// Sends `GetHeaders` unless one to this peer is outstanding.
    pub(super) fn maybe_get_headers(
        &mut self,
        peer: PeerId,
        chain: &ChainState,
        now_ms: u64,
        out: &mut Vec<GossipAction>,
    ) {
        if self.peers.get(&peer).is_some_and(|p| p.headers_asked_ms.is_none() && !p.is_banned(now_ms)) {
            self.send_get_headers(peer, None, chain, now_ms, out);
        }
    }

    /// The pending header with the most work if it beats our tip, else the tip.
    fn best_header(&self, chain: &ChainState) -> BlockHash {
        let tip = chain.best_tip();
        match self.pending.best() {
            Some((hash, h)) if h.chain_work > tip.chain_work => hash,
            _ => tip.hash,
        }
    }

    /// Serves up to `headers_max` headers of our best chain after the fork
    /// point the locator shows (none if the peer is up to date).
    pub(super) fn on_get_headers(
        &mut self,
        peer: PeerId,
        locator: &[BlockHash],
        chain: &ChainState,
        now_ms: u64,
        out: &mut Vec<GossipAction>,
    ) {
        let max = self.limits.locator_max;
        if locator.len() > max {
            let what = Misbehaviour::OverLimit { what: "getheaders locator", count: locator.len(), max };
            self.misbehave(peer, what, now_ms, out);
            return;
        }
        // The locator starts at the peer's best header: if we hold it on a
        // valid branch, that is how far the peer is.
        if let Some(e) = locator.first().and_then(|h| chain.tree().get(h)).filter(|e| e.is_candidate()) {
            self.peers.get_mut(&peer).expect("connected").note_best(e.height, e.chain_work);
        }
        let active = chain.active_chain();
        let from = fork_height(chain, locator) + 1;
        let to = (from + self.limits.headers_max as u64).min(active.len() as u64);
        let headers: Vec<HeaderBytes> =
            (from..to).map(|h| HeaderBytes::from(&chain.tree().entry(&active[h as usize]).header)).collect();
        assert!(headers.len() <= self.limits.headers_max, "answers respect headers_max");
        out.push(GossipAction::Send { to: peer, msg: GossipMsg::Headers(headers) });
    }

    /// Headers from a peer: context-free checks (linked, proof of work),
    /// then each one joins the download plan unless its block is stored.
    pub(super) fn on_headers(
        &mut self,
        peer: PeerId,
        batch: &[HeaderBytes],
        chain: &ChainState,
        now_ms: u64,
        now_secs: i64,
        out: &mut Vec<GossipAction>,
    ) {
        let max = self.limits.headers_max;
        if batch.len() > max {
            let what = Misbehaviour::OverLimit { what: "headers", count: batch.len(), max };
            self.misbehave(peer, what, now_ms, out);
            return;
        }
        let p = self.peers.get_mut(&peer).expect("connected");
        p.headers_asked_ms = None;
        p.lacks.clear();
        if batch.is_empty() {
            // "That was my tip": nothing more to continue.
            p.headers_continue_from = None;
            return;
        }
        let headers: Vec<(Header, BlockHash)> = batch
            .iter()
            .map(|b| {
                let h = b.header();
                (h, h.block_hash())
            })
            .collect();
        if let Some(what) = check_headers(&headers, chain) {
            self.misbehave(peer, what, now_ms, out);
            return;
        }
        let first_parent = headers[0].0.prev_hash;
        let parent =
            self.pending.get(&first_parent).map(|h| (h.height, h.chain_work)).or_else(|| {
                chain.tree().get(&first_parent).filter(|e| e.is_candidate()).map(|e| (e.height, e.chain_work))
            });
        let Some((parent_height, parent_work)) = parent else {
            self.on_unconnecting_headers(peer, chain, now_ms, out);
            return;
        };
        self.stats.header_batches += 1;
        let p = self.peers.get_mut(&peer).expect("connected");
        p.unconnecting_headers = 0;
        let params = &chain.config().params;
        let (mut height, mut work) = (parent_height, parent_work);
        // The last header placed (stored or pending), with its height and work.
        let mut last = None;
        let mut added = 0;
        // Whether the last header placed was pending already: another peer
        // is ahead of this one on the same chain.
        let mut last_was_pending = false;
        for (header, hash) in &headers {
            let (h, w) = (height + 1, work.saturating_add(&block_proof(header.bits)));
            let stored = chain.tree().get(hash);
            // (A stored block may linger among pending headers until pruned.)
            let was_pending = stored.is_none() && self.pending.contains(hash);
            if let Some(e) = stored {
                if !e.is_candidate() {
                    break;
                }
            } else if !was_pending {
                // Too far ahead of our clock: not yet (no one's fault); no room: later.
                if time_too_far(header.time, now_secs, params) || !self.pending.has_room(1) {
                    break;
                }
                self.pending.insert(*hash, *header, h, w, peer);
                added += 1;
            }
            (height, work, last_was_pending) = (h, w, was_pending);
            last = Some(*hash);
        }
        self.stats.headers_accepted += added;
        let Some(last) = last else {
            return;
        };
        let p = self.peers.get_mut(&peer).expect("connected");
        p.note_best(height, work);
        p.known.insert(InvItem::Block(last));
        if batch.len() == max {
            self.stats.header_batches_full += 1;
        }
        // A full batch means there is more: continue from the last header we
        // placed, unless another peer already brought us that far on the same
        // chain (it continues; polls and announcements cover a later split).
        p.headers_continue_from = (batch.len() == max && !last_was_pending).then_some(last);
    }

    /// A batch whose first header links to nothing we know: ask again with
    /// our locator; every `unconnecting_headers_max`th time in a row costs
    /// the peer.
    fn on_unconnecting_headers(&mut self, peer: PeerId, chain: &ChainState, now_ms: u64, out: &mut Vec<GossipAction>) {
        let p = self.peers.get_mut(&peer).expect("connected");
        p.unconnecting_headers += 1;
        let count = p.unconnecting_headers;
        if count % self.limits.unconnecting_headers_max == 0 {
            self.misbehave(peer, Misbehaviour::UnconnectingHeaders { count }, now_ms, out);
        }
        self.maybe_get_headers(peer, chain, now_ms, out);
    }

    /// Continues sync with peers whose last batch was full, while the
    /// pending headers have room for another batch.
    pub(super) fn continue_headers(&mut self, chain: &ChainState, now_ms: u64, out: &mut Vec<GossipAction>) {
        let ready: Vec<(PeerId, BlockHash)> = self
            .peers
            .iter()
            .filter(|(_, p)| p.headers_asked_ms.is_none() && !p.is_banned(now_ms))
            .filter_map(|(&id, p)| p.headers_continue_from.map(|h| (id, h)))
            .collect();
        for (peer, from) in ready {
            if !self.pending.has_room(self.limits.headers_max) {
                return;
            }
            self.peers.get_mut(&peer).expect("listed").headers_continue_from = None;
            self.send_get_headers(peer, Some(from), chain, now_ms, out);
        }
    }

    /// Asks every peer for headers every `sync_poll_ms` (a lost announcement
    /// costs at most that), and sooner a peer that showed more work than our
    /// tip while nothing is being downloaded from it.
    pub(super) fn poll_headers(&mut self, chain: &ChainState, now_ms: u64, out: &mut Vec<GossipAction>) {
        let tip_work = chain.best_tip().chain_work;
        let (poll_ms, retry_ms) = (self.limits.sync_poll_ms, self.limits.request_timeout_ms);
        let due: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.headers_asked_ms.is_none() && !p.is_banned(now_ms))
            .filter(|(&id, p)| {
                let since = now_ms.saturating_sub(p.last_headers_sent_ms);
                let stalled = p.best_work > tip_work && self.blocks_in_flight.count(id) == 0;
                since >= poll_ms || (stalled && since >= retry_ms)
            })
            .map(|(&id, _)| id)
            .collect();
        for peer in due {
            self.send_get_headers(peer, None, chain, now_ms, out);
        }
    }
}

/// The context-free checks of a batch: each header links to the one before
/// and its hash meets its own (valid) target. Returns the first failure.
fn check_headers(headers: &[(Header, BlockHash)], chain: &ChainState) -> Option<Misbehaviour> {
    let pow_limit = chain.config().params.pow_limit();
    for (index, (header, hash)) in headers.iter().enumerate() {
        if index > 0 && header.prev_hash != headers[index - 1].1 {
            return Some(Misbehaviour::HeadersNotLinked { index });
        }
        match Compact::target(header.bits, pow_limit) {
            Ok(target) if hash.to_u256() <= target => {}
            _ => return Some(Misbehaviour::HeaderProofOfWork { hash: *hash }),
        }
    }
    None
}
