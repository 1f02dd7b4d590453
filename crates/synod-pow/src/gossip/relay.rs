//! Inventory relay, Bitcoin's `inv`/`getdata`: announce what is new by
//! hash, send it to whoever asks. A peer is never told about an item it is
//! known to have (bounded per-peer memory), and blocks are asked of at most
//! one peer at a time, within its in-flight window.

use synod_core::{SignedTransfer, TransferId};

use crate::chain::{ChainState, SubmitError};
use crate::gossip::action::GossipAction;
use crate::gossip::gossip::Gossip;
use crate::gossip::message::{GossipMsg, InvItem, PeerId};
use crate::gossip::misbehaviour::Misbehaviour;
use crate::hash::BlockHash;

impl Gossip {
    /// "I have these": asks for the blocks and transfers we lack. A block
    /// that does not fit the peer's window is left to headers sync.
    pub(super) fn on_inv(
        &mut self,
        peer: PeerId,
        items: Vec<InvItem>,
        chain: &ChainState,
        now_ms: u64,
        out: &mut Vec<GossipAction>,
    ) {
        let max = self.limits.inv_items_max;
        if items.len() > max {
            self.misbehave(peer, Misbehaviour::OversizeInv { count: items.len(), max }, now_ms, out);
            return;
        }
        let deadline_ms = now_ms.saturating_add(self.limits.request_timeout_ms);
        let mut want = Vec::new();
        let mut needs_headers = false;
        for item in items {
            let p = self.peers.get_mut(&peer).expect("connected");
            p.known.insert(item);
            match item {
                InvItem::Block(hash) => {
                    p.lacks.clear();
                    if let Some(e) = chain.tree().get(&hash) {
                        if e.is_candidate() {
                            p.note_best(e.height, e.chain_work);
                        }
                        continue;
                    }
                    if let Some(h) = self.pending.get(&hash) {
                        p.note_best(h.height, h.chain_work);
                        continue;
                    }
                    if chain.orphans().contains(&hash) || self.blocks_in_flight.contains(&hash) {
                        continue;
                    }
                    if self.blocks_in_flight.has_room(peer) {
                        self.request_block(peer, hash, now_ms);
                        want.push(item);
                    } else {
                        needs_headers = true;
                    }
                }
                InvItem::Transfer(id) => {
                    let known = chain.mempool().contains(&id)
                        || chain.confirmed_transfers().contains_key(&id)
                        || self.recent_rejects.contains(&id)
                        || self.transfers_in_flight.contains(&id);
                    if !known && !self.transfers_in_flight.is_full() {
                        self.transfers_in_flight.insert(id, peer, deadline_ms);
                        want.push(item);
                    }
                }
            }
        }
        if !want.is_empty() {
            out.push(GossipAction::Send { to: peer, msg: GossipMsg::GetData(want) });
        }
        if needs_headers {
            self.maybe_get_headers(peer, chain, now_ms, out);
        }
    }

    /// "Send me these": blocks we hold (not known invalid) and mempool
    /// transfers; `NotFound` for the rest, in one message.
    pub(super) fn on_get_data(
        &mut self,
        peer: PeerId,
        items: Vec<InvItem>,
        chain: &ChainState,
        now_ms: u64,
        out: &mut Vec<GossipAction>,
    ) {
        let max = self.limits.inv_items_max;
        if items.len() > max {
            let what = Misbehaviour::OverLimit { what: "getdata items", count: items.len(), max };
            self.misbehave(peer, what, now_ms, out);
            return;
        }
        let p = self.peers.get_mut(&peer).expect("connected");
        let mut missing = Vec::new();
        for item in items {
            let msg = match item {
                InvItem::Block(hash) => chain
                    .tree()
                    .get(&hash)
                    .filter(|e| e.is_candidate())
                    .and_then(|e| e.block.as_ref())
                    .map(|b| GossipMsg::Block(b.encode())),
                InvItem::Transfer(id) => chain.mempool().get(&id).map(|e| GossipMsg::Transfer(e.tx.clone())),
            };
            match msg {
                Some(msg) => {
                    p.known.insert(item);
                    out.push(GossipAction::Send { to: peer, msg });
                }
                None => missing.push(item),
            }
        }
        if !missing.is_empty() {
            out.push(GossipAction::Send { to: peer, msg: GossipMsg::NotFound(missing) });
        }
    }

    /// The peer lacks what we asked: blocks are asked of someone else.
    pub(super) fn on_not_found(&mut self, peer: PeerId, items: Vec<InvItem>, now_ms: u64, out: &mut Vec<GossipAction>) {
        let max = self.limits.inv_items_max;
        if items.len() > max {
            let what = Misbehaviour::OverLimit { what: "notfound items", count: items.len(), max };
            self.misbehave(peer, what, now_ms, out);
            return;
        }
        for item in items {
            match item {
                InvItem::Block(hash) => {
                    if self.blocks_in_flight.get(&hash).is_some_and(|r| r.peer == peer) {
                        self.blocks_in_flight.remove(&hash);
                        self.peers.get_mut(&peer).expect("connected").lacks.insert(hash);
                    }
                }
                InvItem::Transfer(id) => {
                    self.transfers_in_flight.remove_from(&id, peer);
                }
            }
        }
    }

    /// A transfer from a peer: into the mempool, and on to the others if new.
    pub(super) fn on_transfer(
        &mut self,
        peer: PeerId,
        tx: SignedTransfer,
        chain: &mut ChainState,
        now_ms: u64,
        out: &mut Vec<GossipAction>,
    ) {
        let id = tx.id();
        self.transfers_in_flight.remove_from(&id, peer);
        self.peers.get_mut(&peer).expect("connected").known.insert(InvItem::Transfer(id));
        match chain.submit_transfer(tx) {
            Ok(id) => self.relay_transfer(id, Some(peer), now_ms, out),
            Err(SubmitError::Duplicate | SubmitError::AlreadyConfirmed { .. }) => {}
            Err(_) => {
                self.recent_rejects.insert(id);
            }
        }
    }

    /// Announces our new best tip to every peer that lacks it and has not
    /// shown us at least as much work (it would not switch to it).
    pub(super) fn relay_block(
        &mut self,
        hash: BlockHash,
        except: Option<PeerId>,
        chain: &ChainState,
        now_ms: u64,
        out: &mut Vec<GossipAction>,
    ) {
        let work = chain.tree().entry(&hash).chain_work;
        let item = InvItem::Block(hash);
        for (&id, p) in self.peers.iter_mut() {
            if Some(id) == except || p.is_banned(now_ms) || p.best_work >= work || !p.known.insert(item) {
                continue;
            }
            out.push(GossipAction::Send { to: id, msg: GossipMsg::Inv(vec![item]) });
        }
    }

    /// Announces a transfer new to our mempool to every peer that lacks it.
    pub(super) fn relay_transfer(
        &mut self,
        id: TransferId,
        except: Option<PeerId>,
        now_ms: u64,
        out: &mut Vec<GossipAction>,
    ) {
        let item = InvItem::Transfer(id);
        for (&peer, p) in self.peers.iter_mut() {
            if Some(peer) == except || p.is_banned(now_ms) || !p.known.insert(item) {
                continue;
            }
            out.push(GossipAction::Send { to: peer, msg: GossipMsg::Inv(vec![item]) });
        }
    }
}
