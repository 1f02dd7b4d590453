//! Consensus parameters for proof of work (Core's `Consensus::Params`, the
//! PoW subset).

use crate::compact::Compact;
use crate::error::ParamsError;
use crate::u256::U256;

/// Bitcoin's `MAX_FUTURE_BLOCK_TIME`: two hours.
pub const DEFAULT_MAX_FUTURE_SECS: u32 = 2 * 60 * 60;

/// Proof-of-work parameters. Fields are private so every value has passed
/// [`Params::custom`]'s checks; read them through the accessors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    pow_limit: U256,
    target_timespan: u32,
    target_spacing: u32,
    interval: u32,
    max_future_secs: u32,
    allow_min_difficulty_blocks: bool,
    no_retargeting: bool,
    /// Core's BIP34, BIP66 and BIP65 activation heights, from which a header
    /// must carry version ≥ 2, 3 and 4 ("bad-version"); `None`: no rule.
    version_floors: Option<VersionFloors>,
}

/// Heights from which the minimum header version rises (Core's
/// `BIP34Height`, `BIP66Height`, `BIP65Height`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionFloors {
    /// From this height a header needs version ≥ 2.
    pub bip34_height: u64,
    /// From this height, version ≥ 3.
    pub bip66_height: u64,
    /// From this height, version ≥ 4.
    pub bip65_height: u64,
}

impl Params {
    /// Bitcoin mainnet: pow limit `0x00000000ffff…ff` (Core's `powLimit`,
    /// whose compact form is `0x1d00ffff`), two-week timespan, ten-minute
    /// spacing, so a 2016-block interval.
    ///
    /// Core's constant is `00000000ffffffff…ff`, not the `0x1d00ffff`
    /// decoding `00000000ffff0000…00`; no compact `bits` value lies between
    /// the two, and a capped retarget encodes to `0x1d00ffff` with either, so
    /// they accept exactly the same headers. We keep Core's constant.
    pub fn bitcoin_mainnet() -> Params {
        Params {
            pow_limit: U256::MAX.shr(32),
            target_timespan: 14 * 24 * 60 * 60,
            target_spacing: 10 * 60,
            interval: 2016,
            max_future_secs: DEFAULT_MAX_FUTURE_SECS,
            allow_min_difficulty_blocks: false,
            no_retargeting: false,
            // Core's mainnet chainparams.
            version_floors: Some(VersionFloors { bip34_height: 227_931, bip66_height: 363_725, bip65_height: 388_381 }),
        }
    }

    /// A Synod network: `pow_limit` is the easiest allowed target, blocks
    /// are meant to come every `target_spacing` seconds, and difficulty is
    /// recomputed every `interval` blocks (so the target timespan is
    /// `target_spacing * interval`). Other fields take Bitcoin's defaults.
    pub fn synod(pow_limit: U256, target_spacing: u32, interval: u32) -> Result<Params, ParamsError> {
        let target_timespan = target_spacing.checked_mul(interval).ok_or(ParamsError::TimespanTooLarge)?;
        Params::custom(pow_limit, target_timespan, target_spacing, interval)
    }

    /// Fully explicit constructor. Rejects parameters that would make
    /// Core's arithmetic misbehave:
    /// - `interval` must be nonzero and equal `target_timespan /
    ///   target_spacing` (Core derives it that way:
    ///   `DifficultyAdjustmentInterval`);
    /// - `target_timespan >= 4`, so the lower clamp `timespan / 4` is not 0
    ///   (a 0 would retarget to a zero target and stall the chain);
    /// - `4 * target_timespan` fits in `u32`, because Core multiplies the
    ///   target by the clamped timespan as a `uint32_t`;
    /// - `pow_limit` is a nonzero target whose compact form decodes to a
    ///   valid target (otherwise a capped retarget could not be encoded).
    pub fn custom(
        pow_limit: U256,
        target_timespan: u32,
        target_spacing: u32,
        interval: u32,
    ) -> Result<Params, ParamsError> {
        if target_spacing == 0 || interval == 0 {
            return Err(ParamsError::ZeroInterval);
        }
        if target_timespan / target_spacing != interval {
            return Err(ParamsError::InconsistentInterval);
        }
        if target_timespan < 4 {
            return Err(ParamsError::TimespanTooSmall);
        }
        if target_timespan.checked_mul(4).is_none() {
            return Err(ParamsError::TimespanTooLarge);
        }
        let limit_bits = Compact::from_target(&pow_limit);
        if Compact::target(limit_bits, &pow_limit).is_err() {
            return Err(ParamsError::BadPowLimit);
        }
        Ok(Params {
            pow_limit,
            target_timespan,
            target_spacing,
            interval,
            max_future_secs: DEFAULT_MAX_FUTURE_SECS,
            allow_min_difficulty_blocks: false,
            no_retargeting: false,
            version_floors: None,
        })
    }

    /// Same parameters with minimum header versions by height (`None`: none).
    pub fn with_version_floors(mut self, floors: Option<VersionFloors>) -> Params {
        self.version_floors = floors;
        self
    }

    /// The lowest header version allowed at `height` (Core's "bad-version"
    /// rule of `ContextualCheckBlockHeader`): 4 from BIP65's height, 3 from
    /// BIP66's, 2 from BIP34's; `i32::MIN` (any) before them or without
    /// floors. Versions are signed, as in Core.
    pub fn min_version_at(&self, height: u64) -> i32 {
        match self.version_floors {
            Some(f) if height >= f.bip65_height => 4,
            Some(f) if height >= f.bip66_height => 3,
            Some(f) if height >= f.bip34_height => 2,
            _ => i32::MIN,
        }
    }

    /// Same parameters with a different future-time allowance.
    pub fn with_max_future_secs(mut self, secs: u32) -> Params {
        self.max_future_secs = secs;
        self
    }

    /// Same parameters with retargeting switched off (Core's
    /// `fPowNoRetargeting`, as on regtest): every header must carry the
    /// previous header's `bits`.
    pub fn with_no_retargeting(mut self, no_retargeting: bool) -> Params {
        self.no_retargeting = no_retargeting;
        self
    }

    /// Easiest allowed target (`powLimit`).
    pub fn pow_limit(&self) -> &U256 {
        &self.pow_limit
    }

    /// `pow_limit` in compact form.
    pub fn pow_limit_bits(&self) -> u32 {
        Compact::from_target(&self.pow_limit)
    }

    /// Seconds one interval should take (`nPowTargetTimespan`).
    pub fn target_timespan(&self) -> u32 {
        self.target_timespan
    }

    /// Seconds between blocks (`nPowTargetSpacing`).
    pub fn target_spacing(&self) -> u32 {
        self.target_spacing
    }

    /// Blocks between retargets (`DifficultyAdjustmentInterval`).
    pub fn interval(&self) -> u32 {
        self.interval
    }

    /// How far ahead of the local clock a header's time may be
    /// (`MAX_FUTURE_BLOCK_TIME`).
    pub fn max_future_secs(&self) -> u32 {
        self.max_future_secs
    }

    /// Testnet's 20-minute minimum-difficulty exception
    /// (`fPowAllowMinDifficultyBlocks`). Always false: this crate implements
    /// mainnet rules only, and the flag exists so callers can see that.
    pub fn allow_min_difficulty_blocks(&self) -> bool {
        self.allow_min_difficulty_blocks
    }

    /// `fPowNoRetargeting`.
    pub fn no_retargeting(&self) -> bool {
        self.no_retargeting
    }

    /// True if a header at `height` gets a freshly computed target.
    /// Height 0 (genesis) has no predecessor and is never a retarget.
    pub fn is_retarget_height(&self, height: u64) -> bool {
        height != 0 && height % u64::from(self.interval) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainnet() {
        let p = Params::bitcoin_mainnet();
        assert_eq!(p.interval(), 2016);
        assert_eq!(p.target_timespan(), 1_209_600);
        assert_eq!(p.target_spacing(), 600);
        assert_eq!(p.pow_limit_bits(), 0x1d00ffff);
        assert_eq!(p.max_future_secs(), 7200);
        assert!(!p.allow_min_difficulty_blocks());
        assert!(!p.no_retargeting());
        assert_eq!(
            format!("{:064x}", p.pow_limit()),
            "00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
        );
        // Mainnet's own numbers pass the custom constructor's checks; the
        // version floors are mainnet's chain history, not derived.
        let floors = p.version_floors;
        assert_eq!(
            Params::custom(*p.pow_limit(), 1_209_600, 600, 2016).map(|c| c.with_version_floors(floors)),
            Ok(p.clone())
        );
        assert!(p.is_retarget_height(824_544));
        assert!(!p.is_retarget_height(824_545));
        assert!(!p.is_retarget_height(0));
    }

    #[test]
    fn synod_validation() {
        let easy = U256::MAX.shr(1);
        let p = Params::synod(easy, 10, 20).unwrap();
        assert_eq!(p.target_timespan(), 200);
        assert_eq!(p.pow_limit_bits(), 0x207fffff);
        assert_eq!(Params::synod(easy, 0, 20), Err(ParamsError::ZeroInterval));
        assert_eq!(Params::synod(easy, 1, 0), Err(ParamsError::ZeroInterval));
        assert_eq!(Params::synod(easy, 1, 3), Err(ParamsError::TimespanTooSmall));
        assert_eq!(Params::synod(easy, u32::MAX, 2), Err(ParamsError::TimespanTooLarge));
        assert_eq!(Params::synod(easy, 1 << 30, 1), Err(ParamsError::TimespanTooLarge));
        assert_eq!(Params::synod(U256::ZERO, 10, 20), Err(ParamsError::BadPowLimit));
        assert_eq!(Params::custom(easy, 100, 10, 9), Err(ParamsError::InconsistentInterval));
        // A limit whose top bits would need a 257-bit compact: MAX encodes
        // as 0x2100ffff, which decodes to less than MAX but is valid.
        assert!(Params::synod(U256::MAX, 10, 20).is_ok());
    }
}
