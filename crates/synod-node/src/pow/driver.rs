//! The chain thread: the one owner of a proof-of-work node's
//! [`ChainState`] (blocks, state, mempool) and [`Gossip`] (peers, sync,
//! ban scores), both sans-IO. It is their driver: it feeds them peer
//! messages, client transfers, mined blocks and timer ticks with the real
//! clock; sends what gossip asks to send; makes every block the chain
//! accepted durable (`PowStore`, one fsync per input) before taking the next
//! input; and publishes mining templates. HTTP handlers read through
//! [`PowInput::Query`] closures that run on this thread, so they see a
//! consistent chain without locks.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use synod_core::{AccountId, SignedTransfer, TransferId};
use synod_pow::chain::{BlockOutcome, ChainState, HashCounter, HashRateMeter, PowBlock, SubmitError};
use synod_pow::gossip::{Gossip, GossipAction, GossipEvent, GossipMsg, PeerId};
use synod_storage::{PowStore, StoredPowBlock};
use tokio::sync::oneshot;

use super::miner::TemplateSlot;
use super::PowShared;
use crate::health::Beat;
use crate::transport::Transport;

/// Bound of the chain thread's input queue (peer messages, submissions,
/// queries, mined blocks). Senders `try_send`: a full queue drops a peer
/// message (gossip re-requests on timeout) and answers a client `overloaded`.
pub const POW_INPUTS_MAX: usize = 4_096;
/// How often timers run (request timeouts, peer connection changes, hash rate).
pub const TICK_INTERVAL: Duration = Duration::from_millis(250);
/// Least time between two templates for a changed mempool alone (a new tip
/// republishes at once).
pub const TEMPLATE_REFRESH_MS: u64 = 1_000;

/// A query run on the chain thread: it sees the chain and the gossip state.
pub type Query = Box<dyn FnOnce(&ChainView<'_>) + Send>;

/// What HTTP handlers see.
pub struct ChainView<'a> {
    pub chain: &'a ChainState,
    pub gossip: &'a Gossip,
    pub now_ms: u64,
    pub connected: &'a BTreeSet<u8>,
    pub hash_rate: f64,
    /// The transport's view of each peer (liveness: last heard, lost).
    pub transport: BTreeMap<u8, crate::transport::PeerStats>,
}

pub enum PowInput {
    /// A message from peer `from` (authenticated by the transport handshake).
    Net {
        from: u8,
        msg: GossipMsg,
    },
    /// A client's transfer for the mempool.
    Submit {
        tx: Box<SignedTransfer>,
        reply: oneshot::Sender<Result<TransferId, SubmitError>>,
    },
    /// This node's miner solved a block.
    Mined(Box<PowBlock>),
    Query(Query),
    Stop,
}

pub struct Driver {
    pub chain: ChainState,
    pub gossip: Gossip,
    pub store: PowStore,
    pub transport: Arc<Transport<GossipMsg>>,
    pub inputs: Receiver<PowInput>,
    pub shared: Arc<PowShared>,
    pub template: Arc<TemplateSlot>,
    pub miner: Option<AccountId>,
    pub hashes: Arc<HashCounter>,
}

struct Clock {
    started: Instant,
}

impl Clock {
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
    fn unix_secs() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
    }
}

impl Driver {
    pub fn run(mut self, beat: Beat) {
        let clock = Clock { started: Instant::now() };
        let mut connected = BTreeSet::new();
        let mut meter = HashRateMeter::new(5_000);
        let mut last_tick = Instant::now();
        let mut last_template: Option<(synod_pow::BlockHash, usize, u64)> = None;
        self.publish_template(&clock, &mut last_template, true);
        while beat.beat() {
            let input = match self.inputs.recv_timeout(TICK_INTERVAL) {
                Ok(input) => Some(input),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let now_ms = clock.now_ms();
            let now_secs = Clock::unix_secs();
            let mut actions = Vec::new();
            match input {
                Some(PowInput::Stop) => return,
                Some(PowInput::Net { from, msg }) => {
                    let peer = PeerId::from(from);
                    if !self.gossip.is_banned(peer, now_ms) {
                        actions = self.gossip.on_message(peer, msg, &mut self.chain, now_ms, now_secs);
                    }
                }
                Some(PowInput::Submit { tx, reply }) => {
                    let (result, acts) = self.gossip.on_local_transfer(*tx, &mut self.chain, now_ms);
                    actions = acts;
                    let _ = reply.send(result);
                }
                Some(PowInput::Mined(block)) => {
                    let height = block.height();
                    let (outcome, acts) = self.gossip.on_mined_block(*block, &mut self.chain, now_ms, now_secs);
                    actions = acts;
                    match outcome {
                        BlockOutcome::Extended { .. } | BlockOutcome::Reorged { .. } => {
                            self.shared.metrics.blocks_mined.inc();
                            tracing::info!(height, "mined a block");
                        }
                        other => tracing::debug!(height, ?other, "mined block not adopted"),
                    }
                }
                Some(PowInput::Query(q)) => {
                    let view = ChainView {
                        chain: &self.chain,
                        gossip: &self.gossip,
                        now_ms,
                        connected: &connected,
                        hash_rate: meter.rate(),
                        transport: self.transport.peer_stats(),
                    };
                    q(&view);
                }
                None => {}
            }
            if last_tick.elapsed() >= TICK_INTERVAL {
                last_tick = Instant::now();
                meter.record(now_ms, self.hashes.total());
                actions.extend(self.poll_connections(&mut connected, now_ms));
                actions.extend(self.gossip.on_tick(&self.chain, now_ms));
                self.shared.metrics.hash_rate.set(meter.rate() as i64);
            }
            if !self.persist() {
                return;
            }
            self.log_events();
            self.execute(actions, now_ms);
            self.publish_template(&clock, &mut last_template, false);
            self.update_gauges(&connected);
        }
    }

    /// Makes every block the chain accepted since the last call durable. A
    /// storage failure halts the node: it stops taking inputs (and so stops
    /// mining and relaying) rather than run ahead of its disk.
    fn persist(&mut self) -> bool {
        let blocks = self.chain.take_stored_blocks();
        if blocks.is_empty() {
            return true;
        }
        let stored: Vec<StoredPowBlock> =
            blocks.iter().map(|b| StoredPowBlock { hash: b.hash().0, height: b.height(), bytes: b.encode() }).collect();
        let started = Instant::now();
        match self.store.put_blocks(&stored) {
            Ok(()) => {
                self.shared.metrics.fsync_seconds.observe(started.elapsed().as_secs_f64());
                self.shared.metrics.blocks_stored.inc_by(stored.len() as u64);
                let transfers: usize = blocks.iter().map(|b| b.transfers.len()).sum();
                self.shared.metrics.transfers_stored.inc_by(transfers as u64);
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "storage failed; halting this node");
                eprintln!("synod: storage failed ({e}); the node stops");
                self.shared.fail(format!("block write failed: {e}"));
                false
            }
        }
    }

    /// Drains the gossip core's (bounded) event log into the node's log.
    fn log_events(&mut self) {
        for event in self.gossip.take_events() {
            match event {
                GossipEvent::Misbehaved { peer, what, ban_score } => {
                    tracing::info!(peer, ?what, ban_score, "peer misbehaved");
                }
                GossipEvent::Block { peer, hash, height, outcome } => {
                    tracing::debug!(?peer, %hash, height, ?outcome, "block received");
                }
            }
        }
    }

    fn execute(&mut self, actions: Vec<GossipAction>, now_ms: u64) {
        for action in actions {
            match action {
                GossipAction::Send { to, msg } => {
                    let Ok(to) = u8::try_from(to) else { continue };
                    if self.transport.send(to, msg).is_err() {
                        self.shared.metrics.messages_dropped.inc();
                    }
                }
                GossipAction::Ban { peer, until_ms, reason } => {
                    self.shared.metrics.peers_banned.inc();
                    if let Ok(id) = u8::try_from(peer) {
                        let left = Duration::from_millis(until_ms.saturating_sub(now_ms));
                        self.transport.ban(id, Instant::now() + left);
                    }
                    tracing::warn!(peer, until_ms, %reason, "peer banned: its messages are ignored until the ban ends");
                }
            }
        }
    }

    /// The transport reports its outbound connections; a new one starts
    /// headers-first sync with that peer.
    fn poll_connections(&mut self, connected: &mut BTreeSet<u8>, now_ms: u64) -> Vec<GossipAction> {
        let stats = self.transport.peer_stats();
        let mut actions = Vec::new();
        for (peer, st) in &stats {
            let heard_secs_ago = st.last_heard_ms_ago.map_or(-1.0, |ms| ms as f64 / 1000.0);
            let labels = crate::metrics::PeerLabels { peer: *peer };
            self.shared.metrics.peer_last_heard_secs_ago.get_or_create(&labels).set(heard_secs_ago);
            let was = connected.contains(peer);
            if st.connected && !was {
                connected.insert(*peer);
                tracing::info!(peer, "peer connected");
                actions.extend(self.gossip.peer_connected(PeerId::from(*peer), &self.chain, now_ms));
            } else if !st.connected && was {
                connected.remove(peer);
                tracing::info!(peer, "peer disconnected");
                self.gossip.peer_disconnected(PeerId::from(*peer));
            }
        }
        actions
    }

    /// A new template on a new tip at once, or for a changed mempool at most
    /// every `TEMPLATE_REFRESH_MS`.
    fn publish_template(&mut self, clock: &Clock, last: &mut Option<(synod_pow::BlockHash, usize, u64)>, force: bool) {
        let Some(miner) = self.miner else { return };
        let tip = self.chain.best_tip().hash;
        let pool = self.chain.mempool().len();
        let now_ms = clock.now_ms();
        let due = match last {
            None => true,
            Some((t, p, at)) => *t != tip || (*p != pool && now_ms >= *at + TEMPLATE_REFRESH_MS),
        };
        if !(due || force) {
            return;
        }
        let block = self.chain.block_template(miner, Clock::unix_secs());
        let target = self.chain.next_target();
        self.template.publish(block, target);
        *last = Some((tip, pool, now_ms));
    }

    fn update_gauges(&self, connected: &BTreeSet<u8>) {
        let m = &self.shared.metrics;
        let tip = self.chain.best_tip();
        m.tip_height.set(tip.height as i64);
        m.mempool_transfers.set(self.chain.mempool().len() as i64);
        m.peers_connected.set(connected.len() as i64);
        m.orphan_blocks.set(self.chain.orphans().len() as i64);
    }
}

/// Replays the stored blocks through a fresh chain (parents first), so that
/// everything derived from them is recomputed and checked. Returns how many
/// the chain refused (stored before a rule change, or damaged in a way the
/// checksum missed); those are logged and left out.
pub fn replay_stored(chain: &mut ChainState, store: &PowStore) -> Result<(u64, u64), crate::node::StartError> {
    let stored = store.load_all()?;
    let now = Clock::unix_secs();
    let (mut ok, mut refused) = (0u64, 0u64);
    for b in stored {
        let block = match PowBlock::decode(&b.bytes) {
            Ok(block) => block,
            Err(e) => {
                return Err(crate::node::StartError::Consensus(format!(
                    "stored block {} does not decode: {e}",
                    hex::encode(b.hash)
                )))
            }
        };
        match chain.receive_block(block, now) {
            BlockOutcome::Invalid(e) => {
                refused += 1;
                tracing::warn!(height = b.height, error = %e, "stored block refused on replay");
            }
            _ => ok += 1,
        }
    }
    // Everything replayed is already on disk.
    let _ = chain.take_stored_blocks();
    Ok((ok, refused))
}

/// Per-peer rows for `/v1/status`.
pub fn peer_rows(view: &ChainView<'_>) -> BTreeMap<String, serde_json::Value> {
    view.gossip
        .peers(view.now_ms)
        .into_iter()
        .map(|p| {
            let connected = u8::try_from(p.peer).is_ok_and(|id| view.connected.contains(&id));
            let link = u8::try_from(p.peer).ok().and_then(|id| view.transport.get(&id));
            (
                p.peer.to_string(),
                serde_json::json!({
                    "connected": connected,
                    "best_height": p.best_height,
                    "ban_score": p.ban_score,
                    "blocks_in_flight": p.blocks_in_flight,
                    "banned_until_ms": p.banned_until_ms,
                    "last_heard_ms_ago": link.and_then(|l| l.last_heard_ms_ago),
                    "lost": link.is_some_and(|l| l.lost),
                }),
            )
        })
        .collect()
}
