//! Simulated network.
//!
//! Fault model: every node-to-node or client-to-node message is
//! independently lost with probability `loss`, duplicated with probability
//! `duplicate`, and delayed uniformly in `[1, delay_max]` ms, or with
//! probability `long_delay_chance` up to `long_delay_ms_max` (so messages
//! reorder freely and stale ones arrive late). Partitions cut node-to-node
//! links only, as a set of cut directed links (`partition.rs`: splits,
//! bridges, one-way cuts, random directed graphs). A partition is checked at
//! send and again at delivery time.

use rand::Rng;
use synod_core::{AccountId, SignedTransfer};
use synod_paxos::{Message, NodeId};

use crate::history::{ReadResult, TransferResult};
pub use crate::partition::Partition;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Addr {
    Node(NodeId),
    Client(u8),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// Transfers to commit, signed (or not) by the client.
    Submit(Vec<SignedTransfer>),
    /// A linearizable read of one account.
    Read(AccountId),
}

impl RequestKind {
    /// A short description for trace lines.
    pub fn summary(&self) -> String {
        match self {
            RequestKind::Submit(transfers) => format!("Submit({} transfers)", transfers.len()),
            RequestKind::Read(account) => format!("Read({account:?})"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRequest {
    pub client: u8,
    pub op_id: u64,
    pub kind: RequestKind,
    /// Set once a follower forwarded it to the leader; never forwarded twice.
    pub forwarded: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientReply {
    /// The batch carrying the valid transfers was applied at `slot`.
    Submitted {
        slot: u64,
        results: Vec<TransferResult>,
    },
    /// Every transfer was refused before consensus.
    Refused {
        results: Vec<TransferResult>,
    },
    ReadOk {
        index: u64,
        read: ReadResult,
    },
    Redirect {
        hint: Option<NodeId>,
    },
    Busy,
    Failed {
        reason: String,
    },
}

#[derive(Clone, Debug)]
pub enum Packet {
    Paxos(Message),
    Request(ClientRequest),
    Reply { op_id: u64, reply: ClientReply },
}

#[derive(Clone, Debug, Default)]
pub struct Network {
    pub loss: f64,
    pub duplicate: f64,
    pub delay_ms_max: u64,
    pub long_delay_chance: f64,
    pub long_delay_ms_max: u64,
    pub partition: Option<Partition>,
    pub sent: u64,
    pub lost: u64,
}

impl Network {
    pub fn blocked(&self, from: Addr, to: Addr) -> bool {
        let (Addr::Node(a), Addr::Node(b)) = (from, to) else { return false };
        self.partition.as_ref().is_some_and(|p| p.blocks(a, b))
    }

    /// Delivery delays for one send: empty if lost, two if duplicated.
    pub fn plan(&mut self, from: Addr, to: Addr, rng: &mut impl Rng) -> Vec<u64> {
        self.sent += 1;
        if self.blocked(from, to) || (self.loss > 0.0 && rng.gen_bool(self.loss)) {
            self.lost += 1;
            return Vec::new();
        }
        let copies = if self.duplicate > 0.0 && rng.gen_bool(self.duplicate) { 2 } else { 1 };
        (0..copies)
            .map(|_| {
                if self.long_delay_chance > 0.0 && rng.gen_bool(self.long_delay_chance) {
                    rng.gen_range(1..=self.long_delay_ms_max.max(1))
                } else {
                    rng.gen_range(1..=self.delay_ms_max.max(1))
                }
            })
            .collect()
    }
}
