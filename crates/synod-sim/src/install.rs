//! Snapshot transfer between simulated nodes, driven as `cluster/install.rs`
//! drives it in the node: the replica's `SnapshotNeeded` is answered with the
//! store's descriptor; a receiver's `InstallSnapshot` starts pulling chunks
//! (`Store::read_chunk` on the peer, `Store::install_chunk` here), the
//! descriptor's sender first, then the other members, until the descriptor's
//! head is reached or `CHUNK_FAILURES_MAX` fetches failed; then the replica
//! hears `SnapshotInstalled` with the slot the store durably reached.
//!
//! Fault model of a chunk fetch (one request and one reply over the
//! simulated network): it fails if the peer is down, if either direction is
//! partitioned, or with the seed's message loss; the reply is damaged (one
//! bit flipped) with the seed's `chunk_damage` probability during the fault
//! phase, which the chunk checksum must catch. A crash of the receiver drops
//! the install; the store keeps the chunks already written.

use rand::Rng;
use synod_paxos::{Event, NodeId, Slot, Snapshot};
use synod_storage::snapshot::{InstallError, SnapshotDescriptor};

use crate::checks::Violation;
use crate::network::Addr;
use crate::state_machine::CHUNK_BYTES_MAX;
use crate::world::{Phase, SimEvent, World};

/// Failed fetches (unreachable peer, refused chunk) before an install is
/// abandoned; the node's default is 8 too.
pub const CHUNK_FAILURES_MAX: u32 = 8;
/// How long a fetch with no reply takes to fail.
const FETCH_TIMEOUT_MS: u64 = 100;

/// An install in progress.
#[derive(Clone, Debug)]
pub struct Install {
    pub target: SnapshotDescriptor,
    /// The descriptor's sender first, then the other members.
    pub peers: Vec<NodeId>,
    pub failures: u32,
    pub chunks: u32,
}

impl World {
    /// `Action::SnapshotNeeded`: offer this node's durable ledger, unless it
    /// is itself installing (its ledger then runs ahead of its replica).
    pub(crate) fn offer_snapshot(&mut self, id: NodeId, to: NodeId) {
        let node = self.nodes.get_mut(&id).unwrap();
        let descriptor = match node.machine.descriptor(id) {
            Ok(d) => d,
            Err(e) => return self.power_failed(id, &e.to_string()),
        };
        let replica = node.replica.as_ref().expect("up");
        if descriptor.last_slot < replica.compacted_upto() || descriptor.last_slot > replica.applied_index() {
            return;
        }
        let snapshot = Snapshot { last_slot: descriptor.last_slot, bytes: descriptor.encode(), config: None };
        self.step_node(id, Event::SnapshotReady { to, snapshot });
    }

    /// `Action::InstallSnapshot`.
    pub(crate) fn start_install(&mut self, id: NodeId, snapshot: Snapshot) {
        let target = match SnapshotDescriptor::decode(&snapshot.bytes) {
            Ok(t) if t.last_slot == snapshot.last_slot => t,
            other => {
                let detail = format!("node {id} got an unusable snapshot descriptor: {other:?}");
                return self.fail(Violation::new("validity", detail));
            }
        };
        // Any pool node may hold the ledger (members change).
        let mut peers: Vec<NodeId> = (1..=self.opts.nodes).filter(|m| *m != id && *m != target.source).collect();
        if target.source != id {
            peers.insert(0, target.source);
        }
        self.trace.line(self.now_ms, || format!("n{id} installs snapshot {target:?}"));
        self.nodes.get_mut(&id).unwrap().install = Some(Install { target, peers, failures: 0, chunks: 0 });
        self.next_chunk(id);
    }

    /// Asks for the next chunk, or ends the install.
    fn next_chunk(&mut self, id: NodeId) {
        let node = &self.nodes[&id];
        let install = node.install.clone().expect("installing");
        let height = node.machine.ledger().head().height;
        if height >= install.target.height {
            let node = self.nodes.get_mut(&id).unwrap();
            return match node.machine.finish_install(&install.target) {
                Ok(slot) => self.end_install(id, slot),
                Err(InstallError::Store(e)) => self.power_failed(id, &e.to_string()),
                Err(e) => self.fail(Violation::new("block_agreement", format!("node {id}: snapshot refused: {e}"))),
            };
        }
        if install.failures >= CHUNK_FAILURES_MAX {
            let node = self.nodes.get_mut(&id).unwrap();
            return match node.machine.refresh_applied_slot() {
                Ok(slot) => self.end_install(id, slot),
                Err(e) => self.power_failed(id, &e.to_string()),
            };
        }
        // Above the blocks staged so far (issue 9: a chunk is staged until the chain reaches the head hash).
        let next = match node.machine.disk().store().install_next_height(node.machine.ledger(), &install.target) {
            Ok(next) => next,
            Err(e) => return self.power_failed(id, &e.to_string()),
        };
        let peer = install.peers[install.failures as usize % install.peers.len()];
        let (me, them) = (Addr::Node(id), Addr::Node(peer));
        let reachable = self.nodes[&peer].is_up()
            && !self.network.blocked(me, them)
            && !self.network.blocked(them, me)
            && !self.rng.gen_bool(self.network.loss);
        // The peer reads the chunk when the request reaches it; the request
        // and reply each take a network delay.
        let chunk = if reachable {
            let store = self.nodes[&peer].machine.disk().store();
            store.read_chunk(next, install.target.height, CHUNK_BYTES_MAX).ok().map(|c| c.encode())
        } else {
            None
        };
        let chunk = chunk.map(|mut bytes| {
            if self.phase == Phase::Faults && self.rng.gen_bool(self.faults.chunk_damage) {
                let i = self.rng.gen_range(0..bytes.len());
                bytes[i] ^= 1 << self.rng.gen_range(0..8);
            }
            bytes
        });
        let delay = match chunk {
            Some(_) => {
                let max = self.network.delay_ms_max;
                self.rng.gen_range(1..=max) + self.rng.gen_range(1..=max)
            }
            None => FETCH_TIMEOUT_MS,
        };
        let incarnation = self.nodes[&id].incarnation;
        self.schedule(self.now_ms + delay, SimEvent::ChunkArrived { node: id, incarnation, peer, chunk });
    }

    pub(crate) fn chunk_arrived(&mut self, id: NodeId, incarnation: u32, peer: NodeId, chunk: Option<Vec<u8>>) {
        let node = &self.nodes[&id];
        if node.incarnation != incarnation || !node.is_up() || node.install.is_none() {
            return;
        }
        let Some(bytes) = chunk else {
            self.trace.line(self.now_ms, || format!("n{id} got no chunk from n{peer}"));
            self.nodes.get_mut(&id).unwrap().install.as_mut().expect("installing").failures += 1;
            return self.next_chunk(id);
        };
        let node = self.nodes.get_mut(&id).unwrap();
        let target = node.install.as_ref().expect("installing").target.clone();
        let (result, added) = node.machine.install_chunk(&target, &bytes);
        self.check_blocks(id, &added);
        if self.violation.is_some() {
            return;
        }
        match result {
            Ok(progress) => {
                self.stats.snapshot_chunks += 1;
                self.trace.line(self.now_ms, || format!("n{id} installed a chunk from n{peer}: {progress:?}"));
                self.nodes.get_mut(&id).unwrap().install.as_mut().expect("installing").chunks += 1;
                self.next_chunk(id);
            }
            Err(InstallError::Store(e)) => self.power_failed(id, &e.to_string()),
            Err(e) => {
                self.stats.chunks_refused += 1;
                self.trace.line(self.now_ms, || format!("n{id} refused a chunk from n{peer}: {e}"));
                self.nodes.get_mut(&id).unwrap().install.as_mut().expect("installing").failures += 1;
                self.next_chunk(id);
            }
        }
    }

    /// The store durably holds every slot up to `upto_slot`: tell the replica.
    fn end_install(&mut self, id: NodeId, upto_slot: Slot) {
        let node = self.nodes.get_mut(&id).unwrap();
        let install = node.install.take().expect("installing");
        node.machine.installed(upto_slot);
        node.forget_waiting_upto(upto_slot);
        if upto_slot == install.target.last_slot {
            self.stats.snapshots_installed += 1;
        }
        self.trace.line(self.now_ms, || {
            format!(
                "n{id} snapshot install ends at slot {upto_slot} ({} chunks, {} failures)",
                install.chunks, install.failures
            )
        });
        self.step_node(id, Event::SnapshotInstalled { upto_slot });
    }
}
