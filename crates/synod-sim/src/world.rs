//! The simulated world: a single-threaded discrete-event loop over true
//! simulated time. Every random choice comes from one ChaCha8 stream seeded
//! by the seed; events with equal times run in scheduling order; no
//! `HashMap` is iterated. So one seed replays exactly.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synod_core::block::BlockHash;
use synod_core::AuthMode;
use synod_paxos::{BatchId, ClusterConfig, Command, NodeId, ReplicaOptions, Slot};

use crate::checks::Violation;
use crate::client::Client;
use crate::history::HistoryEntry;
use crate::network::{Addr, Network, Packet, Partition};
use crate::node::SimNode;
use crate::options::SimOptions;
use crate::state_machine::LedgerMachine;
use crate::trace::Trace;
use crate::workload::Workload;

#[derive(Clone, Debug)]
pub enum SimEvent {
    Tick(NodeId),
    Deliver {
        from: Addr,
        to: Addr,
        packet: Packet,
    },
    /// The persister's group commit of every Paxos op up to token `upto`.
    DiskSynced {
        node: NodeId,
        incarnation: u32,
        upto: u64,
    },
    /// A snapshot chunk (or, `None`, the failure to get one) reaches `node`.
    ChunkArrived {
        node: NodeId,
        incarnation: u32,
        peer: NodeId,
        chunk: Option<Vec<u8>>,
    },
    /// The periodic fault: a node loses power now, or inside one of its next
    /// commits (then `PowerDown` follows shortly in case it made none).
    Crash(NodeId),
    PowerDown(NodeId),
    Restart(NodeId),
    PartitionStart,
    PartitionEnd,
    ClientWake {
        client: u8,
        timer: u64,
    },
    QuietStart,
    /// Ask the leader for a membership change (`SimOptions::reconfig`).
    Reconfigure,
}

/// Request ids of the membership changes the world proposes; client
/// requests count up from 0 and never reach them.
pub const RECONFIG_REQUEST_BASE: u64 = 1 << 62;

/// Share of crashes that strike inside a commit rather than between events.
const COMMIT_CRASH_CHANCE: f64 = 0.3;

/// Share of partition ends during the fault phase that switch straight to a
/// new partition graph instead of healing.
const PARTITION_SWITCH_CHANCE: f64 = 0.4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Faults,
    Quiet,
}

/// Per-seed fault intensities, drawn from the bounds.
#[derive(Clone, Debug)]
pub struct Faults {
    pub crash_interval_ms: u64,
    pub partition_interval_ms: u64,
    pub sync_ms_max: u64,
    pub corrupt_read: f64,
    pub compact_every: Option<u64>,
    pub chunk_damage: f64,
    /// The quiet phase starts with every node crashed and restarted at once.
    pub cluster_restart: bool,
}

pub struct World {
    pub seed: u64,
    pub opts: SimOptions,
    pub now_ms: u64,
    pub end_ms: u64,
    pub rng: ChaCha8Rng,
    queue: BTreeMap<(u64, u64), SimEvent>,
    seq: u64,
    pub phase: Phase,
    pub faults: Faults,
    pub nodes: BTreeMap<NodeId, SimNode>,
    pub clients: Vec<Client>,
    pub network: Network,
    /// The bootstrap configuration.
    pub config: ClusterConfig,
    /// Every configuration proposed (validity), the bootstrap one included.
    pub proposed_configs: Vec<ClusterConfig>,
    /// Per slot, every quorum a leader counted to choose it (`quorum` check).
    pub quorums: BTreeMap<Slot, Vec<synod_paxos::Choice>>,
    reconfig_requests: u64,
    pub workload: Workload,
    // Checker state.
    pub chosen: BTreeMap<Slot, Command>,
    /// Hash and slot of every block height any node made (block agreement).
    pub blocks: Vec<(BlockHash, Slot)>,
    pub proposed: BTreeMap<BatchId, Vec<u8>>,
    pub history: Vec<HistoryEntry>,
    pub violation: Option<Violation>,
    pub trace: Trace,
    pub stats: crate::outcome::SeedStats,
}

impl World {
    pub fn new(seed: u64, opts: &SimOptions) -> World {
        assert!(matches!(opts.nodes, 3 | 5 | 7), "3, 5 or 7 nodes");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let b = &opts.faults;
        let network = Network {
            loss: rng.gen_range(0.0..=b.loss_max),
            duplicate: rng.gen_range(0.0..=b.duplicate_max),
            delay_ms_max: rng.gen_range(5..=b.delay_ms_max.max(5)),
            long_delay_chance: b.long_delay_chance,
            long_delay_ms_max: b.long_delay_ms_max,
            ..Network::default()
        };
        let faults = Faults {
            crash_interval_ms: if b.crash_interval_ms_min == 0 {
                0
            } else {
                rng.gen_range(b.crash_interval_ms_min..=b.crash_interval_ms_min * 4)
            },
            partition_interval_ms: if b.partition_interval_ms_min == 0 {
                0
            } else {
                rng.gen_range(b.partition_interval_ms_min..=b.partition_interval_ms_min * 4)
            },
            sync_ms_max: rng.gen_range(1..=b.sync_ms_max.max(1)),
            corrupt_read: if rng.gen_bool(b.corrupt_seed_chance) {
                rng.gen_range(0.0..=b.corrupt_read_max)
            } else {
                0.0
            },
            compact_every: if rng.gen_bool(b.compact_chance) { Some(rng.gen_range(10..=80)) } else { None },
            chunk_damage: rng.gen_range(0.0..=b.chunk_damage_max),
            cluster_restart: b.cluster_restart_chance > 0.0 && rng.gen_bool(b.cluster_restart_chance),
        };
        let auth = if rng.gen_bool(opts.signed_seed_chance) { AuthMode::Ed25519 } else { AuthMode::None };
        let workload = Workload::new(auth, opts.clients);
        let initial = if opts.reconfig { 3 } else { opts.nodes };
        let config = ClusterConfig::new((1..=initial).collect());
        let mut nodes = BTreeMap::new();
        for id in 1..=opts.nodes {
            let mut ro = ReplicaOptions::new(id, config.clone());
            ro.learner = !config.contains(id);
            ro.record_choices = true;
            ro.bugs = opts.bugs;
            // Room for 4 transfers with memos; the 8-transfer batches exceed it.
            ro.limits.value_bytes_max = 1024;
            ro.limits.inflight_slots_max = 16;
            ro.limits.fetch_entries_max = 32;
            let drift = rng.gen_range(-(b.clock_drift_ppm_max as i64)..=b.clock_drift_ppm_max as i64);
            let offset = rng.gen_range(0..1_000_000);
            let machine = LedgerMachine::with_bugs(&workload.genesis, id, opts.ledger_bugs);
            let node = SimNode::new(ro.clone(), machine, crate::clock::Clock::new(offset, drift), rng.gen());
            nodes.insert(id, node);
        }
        let clients = (0..opts.clients).map(Client::new).collect();
        let mut world = World {
            seed,
            opts: opts.clone(),
            now_ms: 0,
            end_ms: opts.fault_ms + opts.quiet_ms,
            rng,
            queue: BTreeMap::new(),
            seq: 0,
            phase: Phase::Faults,
            faults,
            nodes,
            clients,
            network,
            proposed_configs: vec![config.clone()],
            config,
            quorums: BTreeMap::new(),
            reconfig_requests: 0,
            workload,
            chosen: BTreeMap::new(),
            blocks: Vec::new(),
            proposed: BTreeMap::new(),
            history: Vec::new(),
            violation: None,
            trace: Trace::new(opts.trace),
            stats: Default::default(),
        };
        world.trace.line(0, || {
            format!(
                "seed {seed}: {} nodes, auth {:?}, loss {:.3} dup {:.3} delay<={} ms, {:?}",
                opts.nodes,
                world.workload.auth,
                world.network.loss,
                world.network.duplicate,
                world.network.delay_ms_max,
                world.faults
            )
        });
        for id in 1..=opts.nodes {
            let first = world.rng.gen_range(1..=10);
            world.schedule(first, SimEvent::Tick(id));
        }
        for client in 0..opts.clients {
            let at = world.rng.gen_range(1..50);
            world.schedule(at, SimEvent::ClientWake { client, timer: 0 });
        }
        if world.faults.crash_interval_ms > 0 {
            let at = world.rng.gen_range(1..=world.faults.crash_interval_ms);
            let victim = world.rng.gen_range(1..=opts.nodes);
            world.schedule(at, SimEvent::Crash(victim));
        }
        if world.faults.partition_interval_ms > 0 {
            let at = world.rng.gen_range(1..=world.faults.partition_interval_ms);
            world.schedule(at, SimEvent::PartitionStart);
        }
        world.schedule(opts.fault_ms, SimEvent::QuietStart);
        if opts.reconfig {
            for id in 1..=opts.nodes {
                world.add_learners(id);
            }
            let at = world.rng.gen_range(100..=400);
            world.schedule(at, SimEvent::Reconfigure);
        }
        world
    }

    /// Tells `id`'s replica that every pool node may join (learners are
    /// not durable: again after each restart). The leader then sends them
    /// heartbeats, so removed and waiting nodes keep up with the log.
    pub(crate) fn add_learners(&mut self, id: NodeId) {
        if !self.opts.reconfig {
            return;
        }
        for node in 1..=self.opts.nodes {
            if node != id {
                self.step_node(id, synod_paxos::Event::AddLearner { node });
            }
        }
    }

    /// Asks the current leader to add or remove one member (or, with the
    /// injected `reconfig_unsafe` bug, to jump to any configuration).
    fn reconfigure(&mut self) {
        let leader =
            self.nodes.iter().find(|(_, n)| n.replica.as_ref().is_some_and(|r| r.is_leader())).map(|(id, _)| *id);
        if let Some(leader) = leader {
            let current = self.nodes[&leader].replica.as_ref().expect("up").config().0.clone();
            let pool: Vec<NodeId> = (1..=self.opts.nodes).collect();
            let outside: Vec<NodeId> = pool.iter().copied().filter(|id| !current.contains(*id)).collect();
            let mut members = current.members.clone();
            if self.opts.bugs.reconfig_unsafe {
                let size = self.rng.gen_range(3..=pool.len().min(5));
                let mut shuffled = pool.clone();
                for i in (1..shuffled.len()).rev() {
                    shuffled.swap(i, self.rng.gen_range(0..=i));
                }
                members = shuffled[..size].to_vec();
                members.sort_unstable();
            } else {
                let add = members.len() <= 3 || (!outside.is_empty() && self.rng.gen_bool(0.5));
                if add && !outside.is_empty() {
                    members.push(outside[self.rng.gen_range(0..outside.len())]);
                } else if members.len() > 3 {
                    members.remove(self.rng.gen_range(0..members.len()));
                }
            }
            let proposed = ClusterConfig::new(members);
            if !self.proposed_configs.contains(&proposed) {
                self.proposed_configs.push(proposed.clone());
            }
            self.reconfig_requests += 1;
            let request_id = RECONFIG_REQUEST_BASE + self.reconfig_requests;
            let text = format!("n{leader}: propose membership {:?} (from {:?})", proposed.members, current.members);
            self.trace.line(self.now_ms, || text);
            self.step_node(leader, synod_paxos::Event::Propose { request_id, command: Command::Config(proposed) });
        }
        if self.phase == Phase::Faults {
            let next = self.now_ms + self.rng.gen_range(100..=400);
            self.schedule(next, SimEvent::Reconfigure);
        }
    }

    pub fn schedule(&mut self, at_ms: u64, event: SimEvent) {
        assert!(at_ms >= self.now_ms, "scheduling in the past");
        self.seq += 1;
        self.queue.insert((at_ms, self.seq), event);
    }

    pub fn send(&mut self, from: Addr, to: Addr, packet: Packet) {
        let delays = self.network.plan(from, to, &mut self.rng);
        for delay in delays {
            self.schedule(self.now_ms + delay, SimEvent::Deliver { from, to, packet: packet.clone() });
        }
    }

    pub fn fail(&mut self, violation: Violation) {
        if self.violation.is_none() {
            let text = violation.to_string();
            self.trace.line(self.now_ms, || format!("VIOLATION {text}"));
            self.violation = Some(violation);
        }
    }

    /// Runs until the end of the quiet period or the first violation.
    pub fn run(&mut self) {
        while self.violation.is_none() {
            let Some(((at_ms, _), event)) = self.queue.pop_first() else { break };
            if at_ms > self.end_ms {
                break;
            }
            assert!(at_ms >= self.now_ms);
            self.now_ms = at_ms;
            self.trace.fold(at_ms);
            self.dispatch(event);
        }
    }

    fn dispatch(&mut self, event: SimEvent) {
        match event {
            SimEvent::Tick(id) => {
                self.trace.fold(u64::from(id));
                self.node_tick(id);
                self.schedule(self.now_ms + 10, SimEvent::Tick(id));
            }
            SimEvent::Deliver { from, to, packet } => {
                self.trace.fold(1000);
                if self.network.blocked(from, to) {
                    return;
                }
                match to {
                    Addr::Node(id) => self.node_receive(id, from, packet),
                    Addr::Client(c) => self.client_receive(c, packet),
                }
            }
            SimEvent::DiskSynced { node, incarnation, upto } => self.node_synced(node, incarnation, upto),
            SimEvent::ChunkArrived { node, incarnation, peer, chunk } => {
                self.chunk_arrived(node, incarnation, peer, chunk)
            }
            SimEvent::Crash(id) => {
                if self.phase == Phase::Faults {
                    if self.nodes[&id].is_up() && self.rng.gen_bool(COMMIT_CRASH_CHANCE) {
                        // Power fails a few writes or syncs from now: most
                        // likely in the middle of a redb commit.
                        let ops = self.rng.gen_range(1..=40);
                        self.nodes[&id].machine.disk().arm_power_failure(ops);
                        let at = self.now_ms + self.rng.gen_range(5..=40);
                        self.schedule(at, SimEvent::PowerDown(id));
                    } else {
                        self.power_down(id);
                    }
                    let next = self.now_ms + self.rng.gen_range(1..=2 * self.faults.crash_interval_ms);
                    let victim = self.rng.gen_range(1..=self.opts.nodes);
                    self.schedule(next, SimEvent::Crash(victim));
                }
            }
            SimEvent::PowerDown(id) => {
                if self.phase == Phase::Faults {
                    self.power_down(id);
                }
            }
            SimEvent::Restart(id) => {
                if !self.nodes[&id].is_up() && !self.restart(id) {
                    // The ledger did not read back cleanly: try again later
                    // (the quiet phase restarts every node with clean reads).
                    let again = self.rng.gen_range(20..=self.opts.faults.down_ms_max.max(20));
                    self.schedule(self.now_ms + again, SimEvent::Restart(id));
                }
            }
            SimEvent::PartitionStart => {
                if self.phase == Phase::Faults {
                    self.start_partition();
                    let length = self.rng.gen_range(50..=self.opts.faults.partition_ms_max.max(50));
                    self.schedule(self.now_ms + length, SimEvent::PartitionEnd);
                }
            }
            SimEvent::PartitionEnd => {
                if self.phase == Phase::Faults && self.rng.gen_bool(PARTITION_SWITCH_CHANCE) {
                    // The graph changes without a heal in between: a node
                    // that was in the middle may now sit in a group.
                    self.schedule(self.now_ms, SimEvent::PartitionStart);
                    return;
                }
                self.network.partition = None;
                self.trace.line(self.now_ms, || "partition healed".to_string());
                if self.phase == Phase::Faults {
                    let next = self.now_ms + self.rng.gen_range(1..=2 * self.faults.partition_interval_ms);
                    self.schedule(next, SimEvent::PartitionStart);
                }
            }
            SimEvent::ClientWake { client, timer } => self.client_wake(client, timer),
            SimEvent::QuietStart => self.quiet_start(),
            SimEvent::Reconfigure => self.reconfigure(),
        }
    }

    /// Crashes `id` (if its power did not fail already) and schedules its restart.
    fn power_down(&mut self, id: NodeId) {
        self.crash(id);
        let down = self.rng.gen_range(20..=self.opts.faults.down_ms_max.max(20));
        self.schedule(self.now_ms + down, SimEvent::Restart(id));
    }

    fn start_partition(&mut self) {
        let partition = Partition::draw(self.opts.nodes, &mut self.rng);
        self.stats.partitions += 1;
        let text = format!("partition {partition}");
        self.trace.line(self.now_ms, || text);
        self.network.partition = Some(partition);
    }

    fn quiet_start(&mut self) {
        self.phase = Phase::Quiet;
        self.network.partition = None;
        self.network.loss = 0.0;
        self.network.duplicate = 0.0;
        self.network.long_delay_chance = 0.0;
        self.faults.corrupt_read = 0.0;
        self.faults.chunk_damage = 0.0;
        self.trace.line(self.now_ms, || "quiet period: network healed, every node up, clean reads".to_string());
        if self.faults.cluster_restart {
            self.trace.line(self.now_ms, || "full-cluster restart".to_string());
            for id in 1..=self.opts.nodes {
                self.crash(id);
            }
        }
        for id in 1..=self.opts.nodes {
            let node = &self.nodes[&id];
            node.machine.disk().disarm_power_failure();
            if node.is_up() && (node.is_damaged() || node.machine.disk().power_failed()) {
                // A damaged incarnation is restarted by the operator; the
                // next read of the same disk is clean. A node whose power
                // failed without it noticing yet is down.
                self.crash(id);
            }
            if !self.nodes[&id].is_up() {
                let started = self.restart(id);
                assert!(started, "node {id} does not start with clean reads");
            }
        }
    }
}
