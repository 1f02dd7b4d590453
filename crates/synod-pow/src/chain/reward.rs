//! The block reward schedule: a fixed initial subsidy halved every
//! `halving_interval` blocks, as Bitcoin's `GetBlockSubsidy`.
//!
//! `subsidy(h) = initial >> (h / halving_interval)` (0 once 64 halvings have
//! passed). Block 0 holds no coinbase, so the units minted through height `H`
//! are `subsidy(1) + … + subsidy(H)`; a chain's supply at height `H` is the
//! genesis supply plus that sum. Fees only move units.

/// Initial subsidy and halving interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RewardSchedule {
    /// Subsidy of blocks 1 ..= halving_interval − 1.
    pub initial: u64,
    /// Blocks between halvings (nonzero).
    pub halving_interval: u64,
}

impl RewardSchedule {
    /// The subsidy of the block at `height` (0 for block 0).
    pub fn subsidy(&self, height: u64) -> u64 {
        assert!(self.halving_interval > 0, "validated configuration");
        if height == 0 {
            return 0;
        }
        let halvings = height / self.halving_interval;
        if halvings >= 64 {
            0
        } else {
            self.initial >> halvings
        }
    }

    /// Units minted by blocks 1 ..= `height`, in O(halvings).
    pub fn cumulative(&self, height: u64) -> u128 {
        assert!(self.halving_interval > 0, "validated configuration");
        let n = self.halving_interval;
        let mut total: u128 = 0;
        let mut era = 0u64;
        while era < 64 {
            let first = (era * n).max(1);
            let Some(last) = era.checked_add(1).and_then(|e| e.checked_mul(n)).map(|x| x - 1) else {
                // The era's end overflows u64: it extends to `height`.
                total += u128::from(height.saturating_sub(first) + u64::from(height >= first))
                    * u128::from(self.initial >> era);
                break;
            };
            if first > height {
                break;
            }
            // Era 0 of a 1-block interval holds only block 0: no blocks.
            let blocks = (last.min(height) + 1).saturating_sub(first);
            total += u128::from(blocks) * u128::from(self.initial >> era);
            era += 1;
        }
        total
    }

    /// Every unit the schedule will ever mint.
    pub fn total(&self) -> u128 {
        self.cumulative(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves() {
        let r = RewardSchedule { initial: 50, halving_interval: 10 };
        assert_eq!(r.subsidy(0), 0);
        assert_eq!(r.subsidy(1), 50);
        assert_eq!(r.subsidy(9), 50);
        assert_eq!(r.subsidy(10), 25);
        assert_eq!(r.subsidy(20), 12);
        assert_eq!(r.subsidy(10 * 64), 0);
        assert_eq!(r.subsidy(u64::MAX), 0);
    }

    #[test]
    fn cumulative_matches_naive_sum() {
        for (initial, n) in [(50u64, 10u64), (7, 1), (1 << 40, 3), (u64::MAX, 2)] {
            let r = RewardSchedule { initial, halving_interval: n };
            let mut sum = 0u128;
            for h in 0..=(n * 66) {
                sum += u128::from(r.subsidy(h));
                assert_eq!(r.cumulative(h), sum, "initial {initial} interval {n} height {h}");
            }
            assert_eq!(r.total(), sum);
        }
        let r = RewardSchedule { initial: 5_000_000_000, halving_interval: 210_000 };
        // Bitcoin's schedule mints just under 21 million coins (minus the genesis block's 50).
        assert_eq!(r.total(), 2_099_999_997_690_000 - 5_000_000_000);
        let huge = RewardSchedule { initial: 1, halving_interval: u64::MAX };
        assert_eq!(huge.total(), u128::from(u64::MAX - 1));
    }
}
