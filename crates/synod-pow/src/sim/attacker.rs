//! A misbehaving peer with no chain of its own. Every round it sends each
//! node still talking to it one offence: a block whose hash misses its
//! target, a real block with a damaged body (same header and hash, so the
//! genuine block must stay acceptable), undecodable bytes, a header under
//! its target, or an oversize `Inv`. Provably bad data must get it banned at
//! once; the driver then drops the connection.

use rand::Rng;

use crate::chain::PowBlock;
use crate::compact::Compact;
use crate::gossip::{GossipMsg, HeaderBytes, InvItem};
use crate::hash::BlockHash;
use crate::header::Header;
use crate::sim::checks::{fail, Violation};
use crate::sim::world::World;

impl World<'_> {
    /// One round of offences.
    pub(super) fn attack(&mut self) -> Result<(), Violation> {
        let a = self.attacker().expect("attacks only with an attacker");
        for node in 0..self.nodes.len() {
            if self.conns.is_open(node, a) {
                let bytes = self.offence();
                self.stats.attacks += 1;
                self.log(|| format!("attacker -> node {node}: {} bytes of offence", bytes.len()));
                self.send_bytes(a, node, bytes);
            }
        }
        Ok(())
    }

    fn offence(&mut self) -> Vec<u8> {
        let block = self.last_mined.clone();
        match (self.rng.gen_range(0..5), block) {
            (0, Some(b)) => {
                let mut bad = (*b).clone();
                bad.header = under_target(bad.header);
                GossipMsg::Block(bad.encode()).to_bytes()
            }
            (1, Some(b)) => {
                let mut damaged = (*b).clone();
                damaged.coinbase.extra_nonce ^= 1;
                GossipMsg::Block(damaged.encode()).to_bytes()
            }
            (3, _) => {
                let mut bytes = [0u8; 80];
                self.rng.fill(&mut bytes[..]);
                let mut h = Header::from_bytes(&bytes);
                h.bits = 0x207f_ffff;
                GossipMsg::Headers(vec![HeaderBytes::from(&under_target(h))]).to_bytes()
            }
            (4, _) => {
                let count = self.nodes[0].gossip.limits().inv_items_max + 1;
                let items = (0..count).map(|_| InvItem::Block(BlockHash(self.rng.gen()))).collect();
                GossipMsg::Inv(items).to_bytes()
            }
            _ => {
                // An unknown variant index (7..=127) and noise.
                let mut junk = vec![self.rng.gen_range(7..128u8)];
                junk.extend((0..self.rng.gen_range(0..32)).map(|_| self.rng.gen::<u8>()));
                junk
            }
        }
    }

    /// An offence arrives: the victim must ban the attacker at once unless
    /// the offence only costs points (an oversize `Inv`, or a damaged copy of
    /// a block it already has, which is just an unrequested duplicate).
    pub(super) fn deliver_attack(&mut self, to: usize, bytes: &[u8]) -> Result<(), Violation> {
        let a = self.attacker().expect("delivered from the attacker");
        let provable = match GossipMsg::from_bytes(bytes) {
            Err(_) | Ok(GossipMsg::Headers(_)) => true,
            Ok(GossipMsg::Block(b)) => {
                PowBlock::decode(&b).map_or(true, |blk| !self.nodes[to].chain.knows(&blk.hash()))
            }
            Ok(_) => false,
        };
        let (now_ms, now_secs) = (self.now_ms, self.now_secs(to));
        self.gossip_call(to, |g, c| g.on_wire_message(a as u64, bytes, c, now_ms, now_secs))?;
        if provable {
            self.nodes[to].attacker_offended = true;
            if !self.nodes[to].gossip.is_banned(a as u64, self.now_ms) {
                return fail("attacker_not_banned", format!("node {to} kept the attacker after provably bad data"));
            }
        }
        Ok(())
    }
}

/// `header` with the nonce moved until its hash is above its own target.
fn under_target(mut header: Header) -> Header {
    let target = Compact::decode(header.bits).value;
    while header.block_hash().to_u256() <= target {
        header.nonce = header.nonce.wrapping_add(1);
    }
    header
}
