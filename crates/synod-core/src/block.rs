//! Blocks: a header that commits to its transfers and to the whole ledger, and
//! the transfers themselves.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::codec::{DecodeError, Reader, Writer};
use crate::limits::{BLOCK_BYTES_MAX, BLOCK_TRANSFERS_MAX};
use crate::{Hash, SignedTransfer};

/// Domain prefix of the canonical header bytes.
pub const BLOCK_DOMAIN: &[u8; 15] = b"synod.block.v1\x00";

/// Encoded header size in bytes.
pub const HEADER_BYTES: usize = 15 + 8 + 8 + 32 + 8 + 4 + 32 + 8 + 32;

/// SHA-256 of a block's canonical header bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlockHash(#[serde(with = "crate::hexbytes::array")] pub Hash);

impl fmt::Display for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlockHash({})", &hex::encode(self.0)[..16])
    }
}

impl FromStr for BlockHash {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        crate::hexbytes::parse_hex_array::<32>(s).map(BlockHash)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockHeader {
    pub chain_id: u64,
    /// 0 for the genesis block.
    pub height: u64,
    /// Hash of the block at `height - 1`; for block 0, the genesis hash.
    #[serde(with = "crate::hexbytes::array")]
    pub prev_hash: Hash,
    /// Milliseconds since the Unix epoch; never less than the previous block's.
    pub timestamp_ms: u64,
    /// Number of transfers in this block.
    pub tx_count: u32,
    /// RFC 9162 root over this block's transfer records.
    #[serde(with = "crate::hexbytes::array")]
    pub tx_root: Hash,
    /// Transfers in the ledger from genesis up to and including this block.
    pub ledger_size: u64,
    /// RFC 9162 root of the whole ledger at `ledger_size`.
    #[serde(with = "crate::hexbytes::array")]
    pub ledger_root: Hash,
}

impl BlockHeader {
    pub fn encode(&self) -> [u8; HEADER_BYTES] {
        let mut w = Writer::with_capacity(HEADER_BYTES);
        self.write(&mut w);
        w.bytes.try_into().expect("header encoding has a fixed size")
    }

    fn write(&self, w: &mut Writer) {
        w.raw(BLOCK_DOMAIN);
        w.u64(self.chain_id);
        w.u64(self.height);
        w.raw(&self.prev_hash);
        w.u64(self.timestamp_ms);
        w.u32(self.tx_count);
        w.raw(&self.tx_root);
        w.u64(self.ledger_size);
        w.raw(&self.ledger_root);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.expect_domain(BLOCK_DOMAIN, "block header")?;
        Ok(BlockHeader {
            chain_id: r.u64()?,
            height: r.u64()?,
            prev_hash: r.array()?,
            timestamp_ms: r.u64()?,
            tx_count: r.u32()?,
            tx_root: r.array()?,
            ledger_size: r.u64()?,
            ledger_root: r.array()?,
        })
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let h = Self::read(&mut r)?;
        r.finish()?;
        Ok(h)
    }

    pub fn hash(&self) -> BlockHash {
        BlockHash(crate::sha256(&self.encode()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub header: BlockHeader,
    pub transfers: Vec<SignedTransfer>,
}

impl Block {
    /// Header bytes followed by each transfer record, in order.
    pub fn encode(&self) -> Vec<u8> {
        assert_eq!(self.header.tx_count as usize, self.transfers.len(), "header counts its transfers");
        let mut w = Writer::with_capacity(HEADER_BYTES + self.transfers.len() * 200);
        self.header.write(&mut w);
        for tx in &self.transfers {
            tx.write_record(&mut w);
        }
        assert!(w.bytes.len() <= BLOCK_BYTES_MAX, "blocks are built within the byte limit");
        w.bytes
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > BLOCK_BYTES_MAX {
            return Err(DecodeError::OutOfRange { field: "block_bytes", value: bytes.len() as u64 });
        }
        let mut r = Reader::new(bytes);
        let header = BlockHeader::read(&mut r)?;
        let count = header.tx_count as usize;
        if count > BLOCK_TRANSFERS_MAX {
            return Err(DecodeError::OutOfRange { field: "tx_count", value: count as u64 });
        }
        let mut transfers = Vec::with_capacity(count);
        for _ in 0..count {
            transfers.push(SignedTransfer::read_record(&mut r)?);
        }
        r.finish()?;
        Ok(Block { header, transfers })
    }

    pub fn hash(&self) -> BlockHash {
        self.header.hash()
    }
}
