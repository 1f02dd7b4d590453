//! The event loop of one seed: nodes mine (block-find times drawn from an
//! exponential distribution scaled by difficulty, each block then solved for
//! real against its easy target) and run the [`Gossip`] core over lossy,
//! delayed, duplicating links that partitions cut; clients send transfers
//! (and double spends across partitions); one node joins late and an
//! attacker sends invalid data. After the active phase the network heals
//! and settles, and the checks run.

use std::collections::{BTreeMap, HashSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AccountId, AuthMode, Genesis};

use crate::chain::{ChainConfig, ChainState, SharedBlock, EMPTY_BLOCK_BYTES};
use crate::gossip::{Gossip, GossipLimits};
use crate::hash::BlockHash;
use crate::sim::checks::{self, Violation};
use crate::sim::network::{Connections, Links};
use crate::sim::options::PowSimOptions;
use crate::sim::outcome::PowSeedStats;

/// Genesis time of every simulated chain (Unix seconds).
pub const GENESIS_SECS: u64 = 1_700_000_000;
/// Balance of each client account at genesis.
pub const CLIENT_FUNDS: u64 = 1_000_000;
/// Milliseconds between a node's gossip timer ticks.
pub(super) const TICK_MS: u64 = 1_000;

pub(super) enum Event {
    Mine { node: usize, gen: u64 },
    Deliver { from: usize, to: usize, bytes: Vec<u8> },
    Attack,
    Client,
    Tick { node: usize },
    Join { node: usize },
    Partition { groups: Vec<u8> },
    Heal,
    EndActive,
}

pub(super) struct SimNode {
    pub(super) chain: ChainState,
    pub(super) gossip: Gossip,
    pub(super) miner: AccountId,
    pub(super) power: u64,
    pub(super) skew_ms: i64,
    pub(super) mine_gen: u64,
    pub(super) joined: bool,
    /// The attacker delivered provably bad data to this node.
    pub(super) attacker_offended: bool,
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
    pub(super) conns: Connections,
    pub(super) active: bool,
    pub(super) mining: bool,
    pub(super) tampered: HashSet<BlockHash>,
    /// The latest block mined, for the attacker to damage.
    pub(super) last_mined: Option<SharedBlock>,
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
        .map(|k| Allocation { account: k.account(), amount: CLIENT_FUNDS, policy: None })
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
    // The simulated clients sign with one key each.
    let record_max = synod_core::limits::SINGLE_KEY_RECORD_BYTES_MAX;
    config.limits.max_block_bytes = EMPTY_BLOCK_BYTES + opts.block_transfers * record_max;
    config.limits.mempool_max_transfers = opts.mempool_transfers;
    config.limits.mempool_max_bytes = opts.mempool_transfers * record_max;
    config.limits.orphan_max_blocks = opts.orphan_blocks;
    config.limits.orphan_max_bytes = opts.orphan_blocks * config.limits.max_block_bytes;
    config.limits.sig_cache_entries = 4096;
    config
}

/// The gossip limits every simulated node runs: small batches and windows
/// so multi-round sync and timeouts happen in minutes of simulated time.
pub fn sim_gossip_limits(opts: &PowSimOptions) -> GossipLimits {
    GossipLimits {
        inv_items_max: 64,
        headers_max: opts.headers_max,
        locator_max: 32,
        blocks_in_flight_per_peer: 4,
        request_timeout_ms: 3_000,
        pending_headers_max: 4 * opts.headers_max,
        download_window_blocks: 64,
        sync_poll_ms: 15_000,
        known_inventory_per_peer: 512,
        ..GossipLimits::default()
    }
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
        let limits = sim_gossip_limits(opts);
        let nodes = (0..n)
            .map(|i| SimNode {
                chain: chain.clone(),
                gossip: Gossip::new(limits.clone()),
                miner: keys[opts.clients as usize + i].account(),
                power: rng.gen_range(1..=4),
                skew_ms: rng.gen_range(-2_000..=2_000),
                mine_gen: 0,
                joined: false,
                attacker_offended: false,
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
            conns: Connections::default(),
            active: true,
            mining: true,
            tampered: HashSet::new(),
            last_mined: None,
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

    /// The attacker's peer id, if there is one: the first id after the nodes.
    pub(super) fn attacker(&self) -> Option<usize> {
        self.opts.attacker.then_some(self.nodes.len())
    }

    /// The node that joins late, if any.
    pub(super) fn late_node(&self) -> Option<usize> {
        (self.opts.late_join_secs > 0).then(|| self.nodes.len() - 1)
    }

    /// Runs the seed to the end and checks it.
    pub(crate) fn run(&mut self) -> Result<(), Violation> {
        self.schedule()?;
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
        if let Some(late) = self.late_node() {
            self.stats.late_header_batches_full = self.nodes[late].gossip.stats().header_batches_full;
        }
        mix(&mut self.trace_hash, hash_word(&chains[0].best_tip().hash));
        checks::convergence(&chains)?;
        checks::replay(&chains)?;
        checks::supply(&chains)?;
        checks::applied_once(&chains, &self.tampered)?;
        checks::attacker_banned(self)
    }

    fn schedule(&mut self) -> Result<(), Violation> {
        let active_ms = self.opts.active_secs * 1000;
        let late = self.late_node();
        for node in 0..self.nodes.len() {
            if Some(node) == late {
                self.push(self.opts.late_join_secs * 1000, Event::Join { node });
            } else {
                self.join(node)?;
            }
        }
        let first = self.exp_ms(self.opts.transfer_every_ms as f64);
        self.push(first, Event::Client);
        if self.attacker().is_some() {
            let first = self.rng.gen_range(0..self.opts.attack_every_ms);
            self.push(first, Event::Attack);
        }
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
        Ok(())
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

    pub(super) fn step(&mut self, event: Event) -> Result<(), Violation> {
        match event {
            Event::Mine { node, gen } => {
                if self.mining && gen == self.nodes[node].mine_gen {
                    self.mine(node)?;
                }
            }
            Event::Deliver { from, to, bytes } => {
                mix(&mut self.trace_hash, (self.now_ms << 16) ^ ((from as u64) << 8) ^ to as u64);
                if self.links.connected(from, to) && self.conns.is_open(from, to) {
                    self.stats.messages += 1;
                    self.deliver(from, to, &bytes)?;
                    checks::bounds(to, &self.nodes[to].chain, &self.nodes[to].gossip)?;
                } else {
                    self.stats.messages_dropped += 1;
                }
            }
            Event::Attack => {
                if self.active {
                    self.attack()?;
                    self.push(self.opts.attack_every_ms, Event::Attack);
                }
            }
            Event::Client => {
                if self.active {
                    self.client()?;
                    let next = self.exp_ms(self.opts.transfer_every_ms as f64);
                    self.push(next, Event::Client);
                }
            }
            Event::Tick { node } => {
                if self.active {
                    let now = self.now_ms;
                    self.gossip_call(node, |g, c| g.on_tick(c, now))?;
                    self.push(TICK_MS, Event::Tick { node });
                }
            }
            Event::Join { node } => self.join(node)?,
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
                // Timers of the active phase would only move the clock on.
                self.queue.retain(|_, e| matches!(e, Event::Deliver { .. } | Event::Join { .. }));
            }
        }
        Ok(())
    }
}
