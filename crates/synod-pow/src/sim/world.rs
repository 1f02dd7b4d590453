//! The event loop of one seed: nodes mine (block-find times drawn from an
//! exponential distribution scaled by difficulty, each block then solved for
//! real against its easy target), gossip blocks and transfers over lossy,
//! delayed links that partitions cut, and clients send transfers (and double
//! spends across partitions). After the active phase the network heals and
//! settles, and the checks run.

use std::collections::{BTreeMap, HashSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AccountId, AuthMode, Genesis};

use crate::chain::{BlockOutcome, ChainConfig, ChainState, SharedBlock, EMPTY_BLOCK_BYTES};
use crate::hash::BlockHash;
use crate::sim::checks::{self, fail, Violation};
use crate::sim::network::{Links, Msg};
use crate::sim::options::PowSimOptions;
use crate::sim::outcome::PowSeedStats;

/// Genesis time of every simulated chain (Unix seconds).
pub const GENESIS_SECS: u64 = 1_700_000_000;
/// Balance of each client account at genesis.
pub const CLIENT_FUNDS: u64 = 1_000_000;
const ANNOUNCE_EVERY_MS: u64 = 15_000;
const SETTLE_ROUNDS: usize = 60;

pub(super) enum Event {
    Mine { node: usize, gen: u64 },
    Deliver { from: usize, to: usize, msg: Msg },
    Client,
    Announce { node: usize },
    Partition { groups: Vec<u8> },
    Heal,
    EndActive,
}

pub(super) struct SimNode {
    pub(super) chain: ChainState,
    pub(super) miner: AccountId,
    pub(super) power: u64,
    pub(super) skew_ms: i64,
    pub(super) mine_gen: u64,
}

pub(crate) struct World<'a> {
    pub(super) opts: &'a PowSimOptions,
    pub(super) rng: ChaCha8Rng,
    pub(super) now_ms: u64,
    pub(super) seq: u64,
    pub(super) queue: BTreeMap<(u64, u64), Event>,
    pub(super) nodes: Vec<SimNode>,
    pub(super) keys: Vec<Keypair>,
    pub(super) links: Links,
    pub(super) active: bool,
    pub(super) mining: bool,
    pub(super) tampered: HashSet<BlockHash>,
    pub(crate) stats: PowSeedStats,
    pub(crate) trace: Vec<String>,
    pub(crate) trace_hash: u64,
}

pub(super) fn mix(h: &mut u64, v: u64) {
    *h = (*h ^ v).wrapping_mul(0x0100_0000_01b3).rotate_left(17);
}

pub(super) fn hash_word(h: &BlockHash) -> u64 {
    u64::from_le_bytes(h.0[..8].try_into().expect("8 bytes"))
}

/// The chain every simulated node runs.
pub fn sim_config(opts: &PowSimOptions, keys: &[Keypair]) -> ChainConfig {
    let mut allocations: Vec<Allocation> = keys[..opts.clients as usize]
        .iter()
        .map(|k| Allocation { account: k.account(), amount: CLIENT_FUNDS })
        .collect();
    allocations.sort_by_key(|a| a.account);
    let genesis = Genesis { chain_id: 77, auth: AuthMode::Ed25519, timestamp_ms: GENESIS_SECS * 1000, allocations };
    let mut config = ChainConfig::dev(
        genesis,
        opts.spacing_secs,
        opts.retarget_interval,
        opts.initial_reward,
        opts.halving_interval,
    );
    let record_max = synod_core::limits::TRANSFER_RECORD_BYTES_MAX;
    config.limits.max_block_bytes = EMPTY_BLOCK_BYTES + opts.block_transfers * record_max;
    config.limits.mempool_max_transfers = opts.mempool_transfers;
    config.limits.mempool_max_bytes = opts.mempool_transfers * record_max;
    config.limits.orphan_max_blocks = opts.orphan_blocks;
    config.limits.orphan_max_bytes = opts.orphan_blocks * config.limits.max_block_bytes;
    config.limits.sig_cache_entries = 4096;
    config
}

impl<'a> World<'a> {
    pub(crate) fn new(seed: u64, opts: &'a PowSimOptions) -> World<'a> {
        assert!((2..=16).contains(&opts.nodes) && opts.clients >= 2, "2..=16 nodes, at least 2 clients");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = opts.nodes as usize;
        // Clients first (funded at genesis), then one miner account per node.
        let keys: Vec<Keypair> =
            (0..opts.clients as usize + n).map(|_| Keypair::from_seed(&rng.gen::<[u8; 32]>())).collect();
        let config = sim_config(opts, &keys);
        let chain = ChainState::new(config).expect("valid simulation config");
        let nodes = (0..n)
            .map(|i| SimNode {
                chain: chain.clone(),
                miner: keys[opts.clients as usize + i].account(),
                power: rng.gen_range(1..=4),
                skew_ms: rng.gen_range(-2_000..=2_000),
                mine_gen: 0,
            })
            .collect();
        World {
            opts,
            rng,
            now_ms: 0,
            seq: 0,
            queue: BTreeMap::new(),
            nodes,
            keys,
            links: Links::default(),
            active: true,
            mining: true,
            tampered: HashSet::new(),
            stats: PowSeedStats::default(),
            trace: Vec::new(),
            trace_hash: 0xcbf2_9ce4_8422_2325 ^ seed,
        }
    }

    pub(super) fn push(&mut self, delay_ms: u64, event: Event) {
        self.seq += 1;
        self.queue.insert((self.now_ms + delay_ms, self.seq), event);
    }

    pub(super) fn log(&mut self, line: impl FnOnce() -> String) {
        if self.opts.trace {
            let l = line();
            self.trace.push(format!("{:>9} {l}", self.now_ms));
        }
    }

    pub(super) fn now_secs(&self, node: usize) -> i64 {
        (GENESIS_SECS * 1000 + self.now_ms) as i64 / 1000 + self.nodes[node].skew_ms / 1000
    }

    pub(super) fn exp_ms(&mut self, mean_ms: f64) -> u64 {
        let u: f64 = self.rng.gen();
        (-(1.0 - u).ln() * mean_ms).ceil().max(1.0) as u64
    }

    /// Runs the seed to the end and checks it.
    pub(crate) fn run(&mut self) -> Result<(), Violation> {
        self.schedule();
        while let Some(((t, _), event)) = self.queue.pop_first() {
            self.now_ms = t;
            let end = matches!(event, Event::EndActive);
            self.step(event)?;
            if end {
                break;
            }
        }
        self.settle()?;
        let chains: Vec<ChainState> = self.nodes.iter().map(|n| n.chain.clone()).collect();
        self.stats.final_height = chains[0].best_tip().height;
        self.stats.transfers_confirmed = chains[0].confirmed_transfers().len() as u64;
        for c in &chains {
            self.stats.reorgs += c.stats().reorgs;
            self.stats.max_reorg_depth = self.stats.max_reorg_depth.max(c.stats().max_reorg_depth);
            self.stats.returned_to_mempool += c.stats().returned_to_mempool;
        }
        mix(&mut self.trace_hash, hash_word(&chains[0].best_tip().hash));
        checks::convergence(&chains)?;
        checks::replay(&chains)?;
        checks::supply(&chains)?;
        checks::applied_once(&chains, &self.tampered)
    }

    fn schedule(&mut self) {
        let active_ms = self.opts.active_secs * 1000;
        for node in 0..self.nodes.len() {
            self.schedule_mine(node);
            let offset = self.rng.gen_range(0..ANNOUNCE_EVERY_MS);
            self.push(offset, Event::Announce { node });
        }
        let first = self.exp_ms(self.opts.transfer_every_ms as f64);
        self.push(first, Event::Client);
        // Partitions: connected 30–90 s, split 60–240 s, repeat while time remains.
        let mut t = self.rng.gen_range(30_000..90_000);
        while t + 120_000 < active_ms {
            let len = self.rng.gen_range(60_000..240_000).min(active_ms - 60_000 - t);
            let groups = self.split();
            self.push(t, Event::Partition { groups });
            self.push(t + len, Event::Heal);
            t += len + self.rng.gen_range(30_000..120_000);
        }
        self.push(active_ms, Event::EndActive);
    }

    /// A random split into two (sometimes three) non-empty groups.
    fn split(&mut self) -> Vec<u8> {
        let n = self.nodes.len();
        let parts = if n >= 3 && self.rng.gen_bool(0.25) { 3 } else { 2 };
        loop {
            let g: Vec<u8> = (0..n).map(|_| self.rng.gen_range(0..parts)).collect();
            if (0..parts).all(|p| g.contains(&p)) {
                return g;
            }
        }
    }

    fn step(&mut self, event: Event) -> Result<(), Violation> {
        match event {
            Event::Mine { node, gen } => {
                if self.mining && gen == self.nodes[node].mine_gen {
                    self.mine(node)?;
                }
            }
            Event::Deliver { from, to, msg } => {
                mix(&mut self.trace_hash, (self.now_ms << 16) ^ ((from as u64) << 8) ^ to as u64);
                if self.links.connected(from, to) {
                    self.stats.messages += 1;
                    self.deliver(from, to, msg)?;
                    checks::bounds(to, &self.nodes[to].chain)?;
                } else {
                    self.stats.messages_dropped += 1;
                }
            }
            Event::Client => {
                if self.active {
                    self.client()?;
                    let next = self.exp_ms(self.opts.transfer_every_ms as f64);
                    self.push(next, Event::Client);
                }
            }
            Event::Announce { node } => {
                if self.active {
                    self.announce(node);
                    self.push(ANNOUNCE_EVERY_MS, Event::Announce { node });
                }
            }
            Event::Partition { groups } => {
                self.log(|| format!("partition {groups:?}"));
                self.stats.partitions += 1;
                self.links.partition(groups);
            }
            Event::Heal => {
                self.log(|| "heal".to_string());
                self.links.heal();
            }
            Event::EndActive => {
                self.log(|| "end of active phase".to_string());
                self.active = false;
                self.mining = false;
                self.links.heal();
            }
        }
        Ok(())
    }

    pub(super) fn send(&mut self, from: usize, to: usize, msg: Msg) {
        if self.active && self.rng.gen_range(0..1000) < self.opts.loss_per_mille {
            self.stats.messages_dropped += 1;
            return;
        }
        let (lo, hi) = self.opts.latency_ms;
        let delay = self.rng.gen_range(lo..=hi.max(lo));
        self.push(delay, Event::Deliver { from, to, msg });
    }

    pub(super) fn broadcast(&mut self, from: usize, except: Option<usize>, msg: &Msg) {
        for to in 0..self.nodes.len() {
            if to != from && Some(to) != except {
                self.send(from, to, msg.clone());
            }
        }
    }

    fn announce(&mut self, node: usize) {
        let tip = self.nodes[node].chain.best_tip().hash;
        self.broadcast(node, None, &Msg::Tip(tip));
    }

    fn deliver(&mut self, from: usize, to: usize, msg: Msg) -> Result<(), Violation> {
        match msg {
            Msg::Block(block) => self.on_block(from, to, block),
            Msg::GetBlock(hash) => {
                if let Some(b) = self.nodes[to].chain.block(&hash).cloned() {
                    self.send(to, from, Msg::Block(b));
                }
                Ok(())
            }
            Msg::Tip(hash) => {
                let chain = &self.nodes[to].chain;
                if !chain.tree().contains(&hash) {
                    let want =
                        if chain.orphans().contains(&hash) { chain.orphans().missing_ancestor(&hash) } else { hash };
                    self.send(to, from, Msg::GetBlock(want));
                }
                Ok(())
            }
            Msg::Tx(tx) => {
                if self.nodes[to].chain.submit_transfer((*tx).clone()).is_ok() {
                    self.broadcast(to, Some(from), &Msg::Tx(tx));
                }
                Ok(())
            }
        }
    }

    fn on_block(&mut self, from: usize, to: usize, block: SharedBlock) -> Result<(), Violation> {
        let hash = block.hash();
        let now = self.now_secs(to);
        let outcome = self.nodes[to].chain.receive_block((*block).clone(), now);
        self.log(|| format!("node {to} <- node {from} block {hash} (height {}): {outcome:?}", block.height()));
        mix(&mut self.trace_hash, hash_word(&self.nodes[to].chain.best_tip().hash));
        match outcome {
            BlockOutcome::Extended { .. } | BlockOutcome::Reorged { .. } => {
                let chain = &self.nodes[to].chain;
                let tip = chain.block(&chain.best_tip().hash).expect("tip after a change has a body").clone();
                self.broadcast(to, Some(from), &Msg::Block(tip));
                self.schedule_mine(to);
            }
            BlockOutcome::Orphaned { missing } => {
                self.stats.orphaned += 1;
                self.send(to, from, Msg::GetBlock(missing));
            }
            BlockOutcome::StoredSideBranch | BlockOutcome::AlreadyKnown => {}
            BlockOutcome::Invalid(e) => {
                if !self.tampered.contains(&hash) {
                    return fail("honest_block_rejected", format!("node {to} refused {hash} from node {from}: {e}"));
                }
                self.stats.invalid_rejected += 1;
            }
        }
        Ok(())
    }

    /// After the active phase: no loss, no partitions, no mining. Nodes
    /// announce their tips and sync until the queue drains; while nodes
    /// still disagree and a round changed nothing (equal-work tips), the
    /// node with the most work mines one more block.
    fn settle(&mut self) -> Result<(), Violation> {
        let mut last: Vec<(BlockHash, usize)> = Vec::new();
        for round in 0..SETTLE_ROUNDS {
            for node in 0..self.nodes.len() {
                self.announce(node);
            }
            while let Some(((t, _), event)) = self.queue.pop_first() {
                self.now_ms = t;
                self.step(event)?;
            }
            let now: Vec<(BlockHash, usize)> =
                self.nodes.iter().map(|n| (n.chain.best_tip().hash, n.chain.tree().len())).collect();
            if now.iter().all(|(h, _)| *h == now[0].0) {
                self.stats.settle_rounds = round as u64 + 1;
                return Ok(());
            }
            if now == last {
                let best = (0..self.nodes.len())
                    .max_by(|&a, &b| {
                        let (wa, wb) = (self.nodes[a].chain.best_tip(), self.nodes[b].chain.best_tip());
                        wa.chain_work.cmp(&wb.chain_work).then(b.cmp(&a))
                    })
                    .expect("at least two nodes");
                self.log(|| format!("settle: tips tie, node {best} mines a tie-breaker"));
                self.mine(best)?;
            }
            last = now;
        }
        let tips: Vec<String> = self.nodes.iter().map(|n| n.chain.best_tip().hash.to_string()).collect();
        fail("convergence", format!("no agreement after {SETTLE_ROUNDS} settle rounds: {tips:?}"))
    }
}
