//! Checks a block passes on arrival, before anything else is looked at: they
//! need no chain context, only the block, the configuration and the clock.

use synod_core::limits::{BLOCK_TRANSFERS_MAX, MEMO_BYTES_MAX};
use synod_core::RejectReason;

use crate::chain::block::PowBlock;
use crate::chain::config::ChainConfig;
use crate::chain::error::BlockError;
use crate::compact::Compact;
use crate::verify::time_too_far;

/// In this order (cheapest and most attacker-costly first):
/// 1. `bits` is a valid target no easier than the pow limit ([`BlockError::BadBits`]);
/// 2. the header hash meets it ([`BlockError::ProofOfWork`]);
/// 3. the time is at most `max_future_secs` past `now` ([`BlockError::TimeTooFar`]);
/// 4. at most 16,384 transfers and `max_block_bytes` bytes;
/// 5. every memo fits (so the records can be encoded at all);
/// 6. the coinbase is for this chain;
/// 7. the Merkle root commits to the coinbase and the transfers.
pub fn check_block(block: &PowBlock, config: &ChainConfig, now: i64) -> Result<(), BlockError> {
    let h = &block.header;
    let params = &config.params;
    let target =
        Compact::target(h.bits, params.pow_limit()).map_err(|err| BlockError::BadBits { bits: h.bits, err })?;
    let hash = h.block_hash();
    if hash.to_u256() > target {
        return Err(BlockError::ProofOfWork { hash });
    }
    if time_too_far(h.time, now, params) {
        return Err(BlockError::TimeTooFar { time: h.time, now });
    }
    if block.transfers.len() > BLOCK_TRANSFERS_MAX {
        return Err(BlockError::TooManyTransfers { count: block.transfers.len(), max: BLOCK_TRANSFERS_MAX });
    }
    for (index, tx) in block.transfers.iter().enumerate() {
        let len = tx.transfer.memo.len();
        if len > MEMO_BYTES_MAX {
            return Err(BlockError::Transfer { index, reason: RejectReason::MemoTooLong { len, max: MEMO_BYTES_MAX } });
        }
    }
    let bytes = block.encoded_len();
    if bytes > config.limits.max_block_bytes {
        return Err(BlockError::TooLarge { bytes, max: config.limits.max_block_bytes });
    }
    if block.coinbase.chain_id != config.chain_id() {
        return Err(BlockError::WrongChain { expected: config.chain_id(), got: block.coinbase.chain_id });
    }
    if block.compute_merkle_root() != h.merkle_root {
        return Err(BlockError::MerkleRootMismatch);
    }
    Ok(())
}
