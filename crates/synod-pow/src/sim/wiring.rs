//! The driver side of the gossip core, as the node runtime will do it:
//! connecting peers, handing messages, ticks, mined blocks and transfers to
//! [`crate::gossip::Gossip`], then carrying out its actions (sending,
//! dropping banned peers), draining the chain's stored-blocks log and
//! watching its events for the checks.

use rand::Rng;

use crate::chain::{BlockOutcome, ChainState};
use crate::gossip::{Gossip, GossipAction, GossipEvent, GossipMsg};
use crate::sim::checks::{self, fail, Violation};
use crate::sim::world::{hash_word, mix, Event, World, TICK_MS};

impl World<'_> {
    /// `node` joins: connects to every joined node (and the attacker), then
    /// starts mining and ticking.
    pub(super) fn join(&mut self, node: usize) -> Result<(), Violation> {
        let others: Vec<usize> = (0..self.nodes.len()).filter(|&o| o != node && self.nodes[o].joined).collect();
        if Some(node) == self.late_node() {
            let best = others.iter().map(|&o| self.nodes[o].chain.best_tip().height).max().unwrap_or(0);
            self.stats.late_join_gap = best;
            self.log(|| format!("node {node} joins {best} blocks behind"));
        }
        self.nodes[node].joined = true;
        let now = self.now_ms;
        for o in others {
            self.conns.open(node, o);
            self.gossip_call(node, |g, c| g.peer_connected(o as u64, c, now))?;
            self.gossip_call(o, |g, c| g.peer_connected(node as u64, c, now))?;
        }
        if let Some(a) = self.attacker() {
            self.conns.open(node, a);
            self.gossip_call(node, |g, c| g.peer_connected(a as u64, c, now))?;
        }
        self.schedule_mine(node);
        let offset = self.rng.gen_range(0..TICK_MS);
        self.push(offset, Event::Tick { node });
        Ok(())
    }

    /// Runs one call of `node`'s gossip core and everything a driver does
    /// after it: events (checked), the stored-blocks log (checked and
    /// drained), actions (sent or applied), and a new mining draw if the tip
    /// moved.
    pub(super) fn gossip_call(
        &mut self,
        node: usize,
        call: impl FnOnce(&mut Gossip, &mut ChainState) -> Vec<GossipAction>,
    ) -> Result<(), Violation> {
        let n = &mut self.nodes[node];
        let tip_before = n.chain.best_tip().hash;
        let actions = call(&mut n.gossip, &mut n.chain);
        let events = n.gossip.take_events();
        let stored = n.chain.take_stored_blocks();
        checks::stored_log(node, &self.nodes[node].chain, &stored)?;
        for e in events {
            self.on_event(node, e)?;
        }
        for a in actions {
            match a {
                GossipAction::Send { to, msg } => self.send(node, to as usize, &msg),
                GossipAction::Ban { peer, reason, .. } => self.on_ban(node, peer as usize, &reason)?,
            }
        }
        let tip = self.nodes[node].chain.best_tip().hash;
        if tip != tip_before {
            mix(&mut self.trace_hash, hash_word(&tip));
            self.schedule_mine(node);
        }
        Ok(())
    }

    fn on_event(&mut self, node: usize, e: GossipEvent) -> Result<(), Violation> {
        match e {
            GossipEvent::Block { peer, hash, height, outcome } => {
                self.log(|| format!("node {node} <- {peer:?} block {hash} (height {height}): {outcome:?}"));
                match outcome {
                    BlockOutcome::Orphaned { .. } => self.stats.orphaned += 1,
                    BlockOutcome::Invalid(err) => {
                        if peer.is_some_and(|p| Some(p as usize) == self.attacker()) {
                            self.stats.attacks_refused += 1;
                        } else if self.tampered.contains(&hash) {
                            self.stats.invalid_rejected += 1;
                        } else {
                            return fail(
                                "honest_block_rejected",
                                format!("node {node} refused {hash} from {peer:?}: {err}"),
                            );
                        }
                    }
                    _ => {}
                }
            }
            GossipEvent::Misbehaved { peer, what, ban_score } => {
                self.log(|| format!("node {node}: peer {peer} misbehaved ({what}), score {ban_score}"));
                if Some(peer as usize) != self.attacker() {
                    // Possible for honest peers only through the network's
                    // duplicates (a pushed block arriving twice): small scores.
                    self.stats.honest_misbehaviour += 1;
                }
            }
        }
        Ok(())
    }

    fn on_ban(&mut self, node: usize, peer: usize, reason: &str) -> Result<(), Violation> {
        self.log(|| format!("node {node} bans {peer}: {reason}"));
        if Some(peer) != self.attacker() {
            return fail("honest_peer_banned", format!("node {node} banned node {peer}: {reason}"));
        }
        self.stats.bans += 1;
        // The driver drops the connection.
        self.conns.close(node, peer);
        self.nodes[node].gossip.peer_disconnected(peer as u64);
        Ok(())
    }

    /// Encodes and sends a message (the attacker reads nothing).
    pub(super) fn send(&mut self, from: usize, to: usize, msg: &GossipMsg) {
        if Some(to) != self.attacker() {
            self.send_bytes(from, to, msg.to_bytes());
        }
    }

    /// Puts bytes on the link: lost, delayed, sometimes duplicated.
    pub(super) fn send_bytes(&mut self, from: usize, to: usize, bytes: Vec<u8>) {
        if self.active && self.rng.gen_range(0..1000) < self.opts.loss_per_mille {
            self.stats.messages_dropped += 1;
            return;
        }
        let copies = if self.active && self.rng.gen_range(0..1000) < self.opts.dup_per_mille { 2 } else { 1 };
        self.stats.duplicated += copies - 1;
        let (lo, hi) = self.opts.latency_ms;
        for _ in 0..copies {
            let delay = self.rng.gen_range(lo..=hi.max(lo));
            self.push(delay, Event::Deliver { from, to, bytes: bytes.clone() });
        }
    }

    /// Bytes arrive at `to` over an open connection.
    pub(super) fn deliver(&mut self, from: usize, to: usize, bytes: &[u8]) -> Result<(), Violation> {
        if Some(from) == self.attacker() {
            return self.deliver_attack(to, bytes);
        }
        let (now_ms, now_secs) = (self.now_ms, self.now_secs(to));
        self.gossip_call(to, |g, c| g.on_wire_message(from as u64, bytes, c, now_ms, now_secs))
    }
}
