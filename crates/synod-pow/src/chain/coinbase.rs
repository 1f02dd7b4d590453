//! The coinbase: record 0 of every proof-of-work block after block 0, paying
//! the block's subsidy and the fees of its transfers to the miner.
//!
//! ## Coinbase record (82 bytes)
//!
//! Integers are unsigned big-endian, as everywhere in Synod's own encodings.
//!
//! | offset | size | field | notes |
//! |---|---|---|---|
//! | 0 | 18 | domain | ASCII `synod.coinbase.v1` followed by one `0x00` byte: `73796e6f642e636f696e626173652e763100` |
//! | 18 | 8 | chain_id | u64; must equal the genesis chain id |
//! | 26 | 8 | height | u64; the block's height (block 0 has no coinbase, so ≥ 1) |
//! | 34 | 32 | miner | account id credited with `amount` (any 32 bytes) |
//! | 66 | 8 | amount | u64; must equal `subsidy(height) + Σ fee` over the block's transfers |
//! | 74 | 8 | extra_nonce | u64; free, varied by miners when the 2^32 header nonces run out |
//!
//! The domain prefix has the same length as a transfer record's
//! (`synod.transfer.v1\0`) and differs from it, so a coinbase can never be read
//! as a transfer record or the reverse. The height makes every coinbase, and
//! so every block's Merkle root, unique (as BIP 34 does for Bitcoin).

use synod_core::codec::{DecodeError, Reader, Writer};
use synod_core::{AccountId, Hash};

/// Domain prefix of the coinbase record.
pub const COINBASE_DOMAIN: &[u8; 18] = b"synod.coinbase.v1\x00";

/// Encoded size of a coinbase record.
pub const COINBASE_BYTES: usize = 18 + 8 + 8 + 32 + 8 + 8;

/// The coinbase of one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Coinbase {
    /// The chain this block belongs to.
    pub chain_id: u64,
    /// Height of the block.
    pub height: u64,
    /// Who is paid.
    pub miner: AccountId,
    /// Subsidy plus fees.
    pub amount: u64,
    /// Miner-chosen value that changes the Merkle root.
    pub extra_nonce: u64,
}

impl Coinbase {
    /// The 82 record bytes.
    pub fn encode(&self) -> [u8; COINBASE_BYTES] {
        let mut w = Writer::with_capacity(COINBASE_BYTES);
        self.write(&mut w);
        w.bytes.try_into().expect("coinbase encoding has a fixed size")
    }

    /// Appends the record bytes to `w`.
    pub fn write(&self, w: &mut Writer) {
        w.raw(COINBASE_DOMAIN);
        w.u64(self.chain_id);
        w.u64(self.height);
        w.raw(&self.miner.0);
        w.u64(self.amount);
        w.u64(self.extra_nonce);
    }

    /// Reads a record from `r`.
    pub fn read(r: &mut Reader<'_>) -> Result<Coinbase, DecodeError> {
        r.expect_domain(COINBASE_DOMAIN, "coinbase")?;
        Ok(Coinbase {
            chain_id: r.u64()?,
            height: r.u64()?,
            miner: AccountId(r.array()?),
            amount: r.u64()?,
            extra_nonce: r.u64()?,
        })
    }

    /// Decodes exactly one record.
    pub fn decode(bytes: &[u8]) -> Result<Coinbase, DecodeError> {
        let mut r = Reader::new(bytes);
        let c = Coinbase::read(&mut r)?;
        r.finish()?;
        Ok(c)
    }

    /// RFC 9162 leaf hash of the record: leaf 0 of the block's Merkle tree.
    pub fn leaf_hash(&self) -> Hash {
        synod_merkle::leaf_hash(&self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let c = Coinbase { chain_id: 1, height: 2, miner: AccountId([0xaa; 32]), amount: 3, extra_nonce: 4 };
        let b = c.encode();
        assert_eq!(hex::encode(&b[..18]), "73796e6f642e636f696e626173652e763100");
        assert_eq!(&b[18..26], &1u64.to_be_bytes());
        assert_eq!(&b[26..34], &2u64.to_be_bytes());
        assert_eq!(&b[34..66], &[0xaa; 32]);
        assert_eq!(&b[66..74], &3u64.to_be_bytes());
        assert_eq!(&b[74..82], &4u64.to_be_bytes());
        assert_eq!(Coinbase::decode(&b), Ok(c));
        assert!(Coinbase::decode(&b[..81]).is_err());
        let mut wrong = b;
        wrong[6] = b'X';
        assert_eq!(Coinbase::decode(&wrong), Err(DecodeError::WrongDomain { what: "coinbase" }));
        assert_eq!(COINBASE_DOMAIN.len(), synod_core::transfer::TRANSFER_DOMAIN.len());
    }
}
