//! Error types.

use std::fmt;

/// The consensus rule a header broke. `Display` gives a stable snake_case
/// name (e.g. `proof_of_work`) suitable for logs, metrics and CLI output.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Rule {
    /// The input length is not a multiple of 80 bytes.
    Truncated,
    /// `prev_hash` is not the hash of the previous header.
    Linkage,
    /// `bits` decodes to a negative, zero or overflowing target, or one
    /// above the pow limit.
    BadBits,
    /// The header's hash is above its target (`CheckProofOfWork`).
    ProofOfWork,
    /// `bits` differs from what `GetNextWorkRequired` demands: wrong at a
    /// retarget height, or changed at a non-retarget height.
    Retarget,
    /// Time not strictly after the median of the previous 11 headers
    /// ("time-too-old").
    MedianTimePast,
    /// Time more than `max_future_secs` ahead of the supplied clock
    /// ("time-too-new").
    TimeTooFar,
    /// No headers at all.
    Empty,
    /// A version below the minimum for its height (Core's "bad-version":
    /// BIP34, BIP66, BIP65).
    BadVersion,
}

impl Rule {
    /// Every rule, in declaration order.
    pub const ALL: [Rule; 9] = [
        Rule::Truncated,
        Rule::Linkage,
        Rule::BadBits,
        Rule::ProofOfWork,
        Rule::Retarget,
        Rule::MedianTimePast,
        Rule::TimeTooFar,
        Rule::Empty,
        Rule::BadVersion,
    ];

    /// The stable snake_case name.
    pub fn name(&self) -> &'static str {
        match self {
            Rule::Truncated => "truncated",
            Rule::Linkage => "linkage",
            Rule::BadBits => "bad_bits",
            Rule::ProofOfWork => "proof_of_work",
            Rule::Retarget => "retarget",
            Rule::MedianTimePast => "median_time_past",
            Rule::TimeTooFar => "time_too_far",
            Rule::Empty => "empty",
            Rule::BadVersion => "bad_version",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// Why a header file was rejected: the first failing header, the rule it
/// broke, and a human-readable explanation.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("header at height {height}: {rule}: {detail}")]
pub struct VerifyHeadersError {
    /// Absolute height if a start height was given, else the 0-based index
    /// in the file.
    pub height: u64,
    /// The rule broken.
    pub rule: Rule,
    /// Details (expected vs. found values).
    pub detail: String,
}

/// A header slice that is not exactly 80 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[error("a header is 80 bytes, got {len}")]
pub struct HeaderParseError {
    /// The length received.
    pub len: usize,
}

/// A block hash string that is not 64 hex digits.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("invalid block hash hex: {0}")]
pub struct HashParseError(pub String);

/// Rejected proof-of-work parameters (see [`crate::Params::custom`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
pub enum ParamsError {
    /// Zero spacing or zero interval.
    #[error("target spacing and interval must be nonzero")]
    ZeroInterval,
    /// `interval != target_timespan / target_spacing`.
    #[error("interval must equal target_timespan / target_spacing")]
    InconsistentInterval,
    /// `target_timespan < 4`: the lower clamp would be zero.
    #[error("target timespan must be at least 4 seconds")]
    TimespanTooSmall,
    /// `4 * target_timespan` does not fit in 32 bits.
    #[error("four times the target timespan must fit in 32 bits")]
    TimespanTooLarge,
    /// The pow limit is zero.
    #[error("pow limit must be a nonzero target")]
    BadPowLimit,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_stable_snake_case() {
        let names: Vec<String> = Rule::ALL.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            names,
            [
                "truncated",
                "linkage",
                "bad_bits",
                "proof_of_work",
                "retarget",
                "median_time_past",
                "time_too_far",
                "empty",
                "bad_version"
            ]
        );
    }

    #[test]
    fn error_display_names_height_and_rule() {
        let e = VerifyHeadersError { height: 7, rule: Rule::Linkage, detail: "x".into() };
        assert_eq!(e.to_string(), "header at height 7: linkage: x");
    }
}
