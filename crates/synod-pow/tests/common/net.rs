// An in-test network for `Gossip` + `ChainState` nodes: a FIFO message pump
// that encodes every message to bytes and back (as a real link would), a
// filter to drop messages, and a log of what was delivered.

use std::collections::{BTreeSet, VecDeque};

use synod_pow::chain::ChainState;
use synod_pow::gossip::{Gossip, GossipAction, GossipLimits, GossipMsg, PeerId};

use super::T0;

pub struct NetNode {
    pub chain: ChainState,
    pub gossip: Gossip,
}

/// A delivered (or dropped) message.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub from: usize,
    pub to: usize,
    pub msg: GossipMsg,
}

pub struct Net {
    pub nodes: Vec<NetNode>,
    pub queue: VecDeque<Delivery>,
    pub now_ms: u64,
    pub links: BTreeSet<(usize, usize)>,
    pub delivered: Vec<Delivery>,
    pub dropped: Vec<Delivery>,
    pub bans: Vec<(usize, GossipAction)>,
    /// Returns true for messages the network loses.
    pub drop_if: Box<dyn FnMut(&Delivery) -> bool>,
    /// Called after every delivery (for invariants checked from outside).
    pub after_each: Box<dyn FnMut(&Net)>,
}

/// Small limits so a few dozen blocks exercise every path.
pub fn small_limits() -> GossipLimits {
    GossipLimits {
        inv_items_max: 8,
        headers_max: 5,
        locator_max: 8,
        blocks_in_flight_per_peer: 2,
        request_timeout_ms: 1_000,
        pending_headers_max: 10,
        sync_poll_ms: 600_000,
        ..GossipLimits::default()
    }
}

impl Net {
    /// `chains.len()` nodes, not connected yet.
    pub fn new(chains: Vec<ChainState>, limits: GossipLimits) -> Net {
        Net {
            nodes: chains.into_iter().map(|chain| NetNode { chain, gossip: Gossip::new(limits.clone()) }).collect(),
            queue: VecDeque::new(),
            now_ms: 0,
            links: BTreeSet::new(),
            delivered: Vec::new(),
            dropped: Vec::new(),
            bans: Vec::new(),
            drop_if: Box::new(|_| false),
            after_each: Box::new(|_| {}),
        }
    }

    /// The chain clock: far enough after genesis for every test block.
    pub fn now_secs(&self) -> i64 {
        T0 + 1_000_000 + (self.now_ms / 1000) as i64
    }

    pub fn connect(&mut self, a: usize, b: usize) {
        self.links.insert((a.min(b), a.max(b)));
        let now = self.now_ms;
        let n = &mut self.nodes[a];
        let acts = n.gossip.peer_connected(b as PeerId, &n.chain, now);
        self.apply(a, acts);
        let n = &mut self.nodes[b];
        let acts = n.gossip.peer_connected(a as PeerId, &n.chain, now);
        self.apply(b, acts);
    }

    /// Connects `node` to a peer id with no node behind it (a scripted
    /// peer: its messages are injected, what is sent to it is only logged).
    pub fn connect_stranger(&mut self, node: usize, stranger: usize) -> Vec<GossipAction> {
        assert!(stranger >= self.nodes.len());
        self.links.insert((node, stranger));
        let now = self.now_ms;
        let n = &mut self.nodes[node];
        let acts = n.gossip.peer_connected(stranger as PeerId, &n.chain, now);
        self.apply(node, acts.clone());
        acts
    }

    pub fn linked(&self, a: usize, b: usize) -> bool {
        self.links.contains(&(a.min(b), a.max(b)))
    }

    pub fn apply(&mut self, node: usize, actions: Vec<GossipAction>) {
        for a in actions {
            match a {
                GossipAction::Send { to, msg } => {
                    self.queue.push_back(Delivery { from: node, to: to as usize, msg });
                }
                GossipAction::Ban { peer, .. } => {
                    self.bans.push((node, a.clone()));
                    // The driver drops the connection.
                    let other = peer as usize;
                    if self.linked(node, other) {
                        self.links.remove(&(node.min(other), node.max(other)));
                        self.nodes[node].gossip.peer_disconnected(peer);
                        if other < self.nodes.len() {
                            self.nodes[other].gossip.peer_disconnected(node as PeerId);
                        }
                    }
                }
            }
        }
    }

    /// Delivers queued messages (and what they cause) until none are left.
    pub fn run(&mut self) {
        let mut steps = 0;
        while let Some(d) = self.queue.pop_front() {
            steps += 1;
            assert!(steps < 1_000_000, "the network quiesces");
            if !self.linked(d.from, d.to) || (self.drop_if)(&d) {
                self.dropped.push(d);
                continue;
            }
            if d.to >= self.nodes.len() {
                self.delivered.push(d);
                continue;
            }
            let bytes = d.msg.to_bytes();
            let (now_ms, now_secs) = (self.now_ms, self.now_secs());
            let n = &mut self.nodes[d.to];
            let acts = n.gossip.on_wire_message(d.from as PeerId, &bytes, &mut n.chain, now_ms, now_secs);
            self.delivered.push(d.clone());
            self.apply(d.to, acts);
            let mut check = std::mem::replace(&mut self.after_each, Box::new(|_| {}));
            check(self);
            self.after_each = check;
        }
    }

    /// Advances the clock and ticks every node, then runs.
    pub fn tick(&mut self, advance_ms: u64) {
        self.now_ms += advance_ms;
        for i in 0..self.nodes.len() {
            let now = self.now_ms;
            let n = &mut self.nodes[i];
            let acts = n.gossip.on_tick(&n.chain, now);
            self.apply(i, acts);
        }
        self.run();
    }

    /// Injects a message as if `from` had sent it (from may be a peer id
    /// with no node behind it, e.g. an attacker).
    pub fn inject(&mut self, from: usize, to: usize, msg: GossipMsg) -> Vec<GossipAction> {
        let (now_ms, now_secs) = (self.now_ms, self.now_secs());
        let n = &mut self.nodes[to];
        let acts = n.gossip.on_message(from as PeerId, msg, &mut n.chain, now_ms, now_secs);
        self.apply(to, acts.clone());
        acts
    }

    /// Messages of a kind delivered from `from` to `to`.
    pub fn count(&self, from: usize, to: usize, kind: &str) -> usize {
        self.delivered.iter().filter(|d| d.from == from && d.to == to && d.msg.kind() == kind).count()
    }

    pub fn tips_agree(&self) -> bool {
        self.nodes.iter().all(|n| n.chain.best_tip() == self.nodes[0].chain.best_tip())
    }
}
