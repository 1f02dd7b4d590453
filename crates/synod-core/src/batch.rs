//! The payload of one consensus value: the transfers a leader proposes for one
//! log slot, with the timestamp the leader assigned. Every replica builds the
//! slot's block from exactly these bytes, so blocks (and their hashes) are
//! identical everywhere.
//!
//! Layout: `timestamp_ms u64 ‖ count u32 ‖ record × count` (records as in
//! PROTOCOL.md 2.4), at most `BLOCK_TRANSFERS_MAX` records and
//! `BLOCK_RECORD_BYTES_MAX` bytes of them (so the block built from it stays
//! within the block byte limit, whatever a leader proposes).

use crate::codec::{DecodeError, Reader, Writer};
use crate::limits::{BLOCK_RECORD_BYTES_MAX, BLOCK_TRANSFERS_MAX};
use crate::SignedTransfer;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPayload {
    pub timestamp_ms: u64,
    pub transfers: Vec<SignedTransfer>,
}

impl BatchPayload {
    pub fn encode(&self) -> Vec<u8> {
        assert!(self.transfers.len() <= BLOCK_TRANSFERS_MAX, "batches are cut at the block limit");
        let mut w = Writer::with_capacity(12 + self.transfers.len() * 200);
        w.u64(self.timestamp_ms);
        w.u32(self.transfers.len() as u32);
        for t in &self.transfers {
            t.write_record(&mut w);
        }
        w.bytes
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let timestamp_ms = r.u64()?;
        let count = r.u32()? as usize;
        if count > BLOCK_TRANSFERS_MAX {
            return Err(DecodeError::OutOfRange { field: "batch_count", value: count as u64 });
        }
        if r.remaining() > BLOCK_RECORD_BYTES_MAX {
            return Err(DecodeError::OutOfRange { field: "batch_record_bytes", value: r.remaining() as u64 });
        }
        let mut transfers = Vec::with_capacity(count.min(r.remaining() / 116 + 1));
        for _ in 0..count {
            transfers.push(SignedTransfer::read_record(&mut r)?);
        }
        r.finish()?;
        Ok(BatchPayload { timestamp_ms, transfers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccountId, Transfer};

    #[test]
    fn refuses_more_record_bytes_than_a_block_holds() {
        let mut bytes = vec![0u8; 12 + BLOCK_RECORD_BYTES_MAX + 1];
        bytes[11] = 1; // count 1: the size is refused before any record is read
        let err = BatchPayload::decode(&bytes).unwrap_err();
        assert!(matches!(err, DecodeError::OutOfRange { field: "batch_record_bytes", .. }), "{err:?}");
    }

    #[test]
    fn round_trips_and_rejects_garbage() {
        let t = Transfer {
            chain_id: 1,
            from: AccountId([1; 32]),
            to: AccountId([2; 32]),
            amount: 5,
            fee: 0,
            nonce: 0,
            memo: vec![7],
        };
        let p = BatchPayload {
            timestamp_ms: 42,
            transfers: vec![
                SignedTransfer::unsigned(t.clone()),
                SignedTransfer { multisig: None, to_policy: None, transfer: t, signature: Some([3; 64]) },
            ],
        };
        let bytes = p.encode();
        assert_eq!(BatchPayload::decode(&bytes).unwrap(), p);
        assert!(BatchPayload::decode(&bytes[..bytes.len() - 1]).is_err());
        let mut huge = bytes.clone();
        huge[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(BatchPayload::decode(&huge), Err(DecodeError::OutOfRange { .. })));
    }
}
