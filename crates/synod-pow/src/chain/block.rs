//! A proof-of-work block: a Bitcoin-format header, the coinbase, and signed
//! transfer records.
//!
//! ## Block bytes
//!
//! | offset | size | field | notes |
//! |---|---|---|---|
//! | 0 | 80 | header | Bitcoin's `CBlockHeader`, **little-endian** fields: version i32, prev_hash 32, merkle_root 32, time u32, bits u32, nonce u32 |
//! | 80 | 82 | coinbase | the coinbase record (see [`crate::chain::coinbase`]) |
//! | 162 | 4 | tx_count | u32 big-endian, ≤ 16,384 |
//! | 166 | … | records | `tx_count` transfer records (PROTOCOL.md 2.4), each self-delimiting |
//!
//! No trailing bytes; the whole block is at most the network's
//! `max_block_bytes` (≤ 4 MiB).
//!
//! - `block_hash = SHA-256(SHA-256(header))` (Bitcoin's; displayed byte-reversed).
//! - `merkle_root` = RFC 9162 `MTH` over the records `[coinbase, record_1, …,
//!   record_n]`, i.e. leaf 0 is `SHA-256(0x00 ‖ coinbase)`; the 32 digest
//!   bytes are stored in header order as SHA-256 produced them.
//! - `prev_hash` is the parent's block hash; the header carries no height:
//!   the coinbase does.
//!
//! **Block 0** is not mined and holds no records: `version = 1`, `prev_hash =
//! genesis_hash` (SHA-256 of the genesis bytes, PROTOCOL.md 3), `merkle_root
//! = SHA-256("")`, `time = genesis timestamp_ms / 1000`, `bits` = the pow
//! limit's compact form, `nonce = 0`. Its hash anchors the chain; its proof of
//! work is not checked.

use std::sync::Arc;

use synod_core::codec::{DecodeError, Reader, Writer};
use synod_core::limits::{BLOCK_BYTES_MAX, BLOCK_TRANSFERS_MAX};
use synod_core::transfer::SIGNING_BYTES_FIXED;
use synod_core::{Genesis, Hash, SignedTransfer};

use crate::chain::coinbase::{Coinbase, COINBASE_BYTES};
use crate::hash::BlockHash;
use crate::header::{Header, HEADER_LEN};
use crate::params::Params;

/// Size of a block with no transfers: header, coinbase and count.
pub const EMPTY_BLOCK_BYTES: usize = HEADER_LEN + COINBASE_BYTES + 4;

/// Version of the blocks this code builds.
pub const BLOCK_VERSION: i32 = 1;

/// A block after block 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PowBlock {
    /// The 80-byte header that is hashed and mined.
    pub header: Header,
    /// Record 0: who is paid, at what height.
    pub coinbase: Coinbase,
    /// Records 1..: the transfers, in the order they are applied.
    pub transfers: Vec<SignedTransfer>,
}

/// Encoded length of one transfer record.
pub fn record_len(tx: &SignedTransfer) -> usize {
    tx.record_len()
}

impl PowBlock {
    /// The block hash (double SHA-256 of the header).
    pub fn hash(&self) -> BlockHash {
        self.header.block_hash()
    }

    /// The height the coinbase claims.
    pub fn height(&self) -> u64 {
        self.coinbase.height
    }

    /// Encoded size in bytes, without encoding.
    pub fn encoded_len(&self) -> usize {
        EMPTY_BLOCK_BYTES + self.transfers.iter().map(record_len).sum::<usize>()
    }

    /// Leaf hashes of the block's Merkle tree: coinbase, then each transfer.
    pub fn leaf_hashes(&self) -> Vec<Hash> {
        let mut leaves = Vec::with_capacity(self.transfers.len() + 1);
        leaves.push(self.coinbase.leaf_hash());
        leaves.extend(self.transfers.iter().map(SignedTransfer::leaf_hash));
        leaves
    }

    /// The RFC 9162 root the header must carry.
    pub fn compute_merkle_root(&self) -> Hash {
        synod_merkle::root_from_leaf_hashes(&self.leaf_hashes())
    }

    /// Sets `header.merkle_root` from the records.
    pub fn seal_merkle_root(&mut self) {
        self.header.merkle_root = self.compute_merkle_root();
    }

    /// Sum of the transfers' fees, or `None` on overflow.
    pub fn fees(&self) -> Option<u64> {
        self.transfers.iter().try_fold(0u64, |acc, t| acc.checked_add(t.transfer.fee))
    }

    /// The block bytes (module docs). Blocks are built within the limits.
    pub fn encode(&self) -> Vec<u8> {
        assert!(self.transfers.len() <= BLOCK_TRANSFERS_MAX, "blocks are built within the count limit");
        let mut w = Writer::with_capacity(self.encoded_len());
        w.raw(&self.header.to_bytes());
        self.coinbase.write(&mut w);
        w.u32(self.transfers.len() as u32);
        for tx in &self.transfers {
            tx.write_record(&mut w);
        }
        assert_eq!(w.bytes.len(), self.encoded_len(), "encoded_len matches the encoding");
        w.bytes
    }

    /// Parses block bytes; never panics. Consensus rules are checked elsewhere.
    pub fn decode(bytes: &[u8]) -> Result<PowBlock, DecodeError> {
        if bytes.len() > BLOCK_BYTES_MAX {
            return Err(DecodeError::OutOfRange { field: "block_bytes", value: bytes.len() as u64 });
        }
        let mut r = Reader::new(bytes);
        let header = Header::from_bytes(&r.array::<HEADER_LEN>()?);
        let coinbase = Coinbase::read(&mut r)?;
        let count = r.u32()? as usize;
        if count > BLOCK_TRANSFERS_MAX {
            return Err(DecodeError::OutOfRange { field: "tx_count", value: count as u64 });
        }
        let mut transfers = Vec::with_capacity(count.min(r.remaining() / SIGNING_BYTES_FIXED + 1));
        for _ in 0..count {
            transfers.push(SignedTransfer::read_record(&mut r)?);
        }
        r.finish()?;
        Ok(PowBlock { header, coinbase, transfers })
    }
}

/// Block 0's header (module docs): derived from the genesis, never mined.
pub fn genesis_header(genesis: &Genesis, params: &Params) -> Header {
    Header {
        version: BLOCK_VERSION,
        prev_hash: BlockHash(genesis.hash()),
        merkle_root: synod_merkle::empty_root(),
        time: u32::try_from(genesis.timestamp_ms / 1000).expect("validated: genesis time fits u32"),
        bits: params.pow_limit_bits(),
        nonce: 0,
    }
}

/// A block shared between the tree, the orphan pool and peers.
pub type SharedBlock = Arc<PowBlock>;

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{AccountId, Transfer};

    fn block() -> PowBlock {
        let t = Transfer {
            chain_id: 1,
            from: AccountId([1; 32]),
            to: AccountId([2; 32]),
            amount: 5,
            fee: 2,
            nonce: 0,
            memo: vec![9, 9],
        };
        let mut b = PowBlock {
            header: Header { version: 1, bits: 0x207fffff, time: 7, ..Header::default() },
            coinbase: Coinbase { chain_id: 1, height: 1, miner: AccountId([3; 32]), amount: 52, extra_nonce: 0 },
            transfers: vec![
                SignedTransfer::unsigned(t.clone()),
                SignedTransfer {
                    multisig: None,
                    to_policy: None,
                    transfer: Transfer { nonce: 1, ..t },
                    signature: Some([4; 64]),
                },
            ],
        };
        b.seal_merkle_root();
        b
    }

    #[test]
    fn round_trip_and_layout() {
        let b = block();
        let bytes = b.encode();
        assert_eq!(bytes.len(), b.encoded_len());
        assert_eq!(&bytes[..80], &b.header.to_bytes());
        assert_eq!(&bytes[80..162], &b.coinbase.encode());
        assert_eq!(&bytes[162..166], &2u32.to_be_bytes());
        assert_eq!(PowBlock::decode(&bytes), Ok(b.clone()));
        assert!(PowBlock::decode(&bytes[..bytes.len() - 1]).is_err());
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(PowBlock::decode(&long), Err(DecodeError::TrailingBytes { trailing: 1 }));
        assert_eq!(b.fees(), Some(4));
    }

    #[test]
    fn merkle_root_covers_coinbase_first() {
        let b = block();
        let leaves = [
            synod_merkle::leaf_hash(&b.coinbase.encode()),
            synod_merkle::leaf_hash(&b.transfers[0].record_bytes()),
            synod_merkle::leaf_hash(&b.transfers[1].record_bytes()),
        ];
        assert_eq!(b.header.merkle_root, synod_merkle::root_from_leaf_hashes(&leaves));
        let mut c = b.clone();
        c.coinbase.extra_nonce = 1;
        assert_ne!(c.compute_merkle_root(), b.header.merkle_root);
    }
}
