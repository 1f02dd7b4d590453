//! Why the light client refused a header.

use crate::compact::BitsError;
use crate::error::Rule;
use crate::hash::BlockHash;

/// A header [`HeaderStore::accept`](super::HeaderStore::accept) refused. The
/// store is unchanged after any of these.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AcceptHeaderError {
    /// The parent is not held: headers must arrive parent first.
    #[error("unknown parent {parent}")]
    UnknownParent {
        /// The missing parent's hash.
        parent: BlockHash,
    },
    /// The store already holds its documented maximum of headers.
    #[error("header store is full ({max} headers)")]
    Full {
        /// The bound.
        max: usize,
    },
    /// The height would not fit a u64 (unreachable for real chains).
    #[error("height overflow")]
    HeightOverflow,
    /// `bits` is not a valid target no easier than the pow limit.
    #[error("bits {bits:#010x}: {err}")]
    BadBits {
        /// The header's bits.
        bits: u32,
        /// Why they are invalid.
        err: BitsError,
    },
    /// `bits` differs from what the retarget rule demands at this height.
    #[error("bits {got:#010x} at height {height}, the retarget rule demands {expected:#010x}")]
    Retarget {
        /// Height of the refused header.
        height: u64,
        /// What `GetNextWorkRequired` gives.
        expected: u32,
        /// What the header carries.
        got: u32,
    },
    /// The hash is above the header's own target.
    #[error("hash {hash} is above its target")]
    ProofOfWork {
        /// The header's hash.
        hash: BlockHash,
    },
    /// Time not after the median of the parent and up to ten ancestors.
    #[error("time {time} is not after the median time past {median}")]
    MedianTimePast {
        /// The header's time.
        time: u32,
        /// The median.
        median: u32,
    },
    /// Version below the minimum for its height.
    #[error("version {version} is below {min} at height {height}")]
    BadVersion {
        /// Height of the refused header.
        height: u64,
        /// The header's version.
        version: i32,
        /// The minimum.
        min: i32,
    },
    /// Time more than the allowed amount ahead of the caller's clock.
    #[error("time {time} is too far ahead of local time {now}")]
    TimeTooFar {
        /// The header's time.
        time: u32,
        /// The caller's clock, Unix seconds.
        now: i64,
    },
}

impl AcceptHeaderError {
    /// The consensus rule broken, if the refusal is about one (not about
    /// the store's own state: unknown parent, full, height overflow).
    pub fn rule(&self) -> Option<Rule> {
        match self {
            AcceptHeaderError::UnknownParent { .. }
            | AcceptHeaderError::Full { .. }
            | AcceptHeaderError::HeightOverflow => None,
            AcceptHeaderError::BadBits { .. } => Some(Rule::BadBits),
            AcceptHeaderError::Retarget { .. } => Some(Rule::Retarget),
            AcceptHeaderError::ProofOfWork { .. } => Some(Rule::ProofOfWork),
            AcceptHeaderError::MedianTimePast { .. } => Some(Rule::MedianTimePast),
            AcceptHeaderError::BadVersion { .. } => Some(Rule::BadVersion),
            AcceptHeaderError::TimeTooFar { .. } => Some(Rule::TimeTooFar),
        }
    }
}

/// A saved header file that cannot be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadHeadersError {
    /// Not a whole number of 80-byte headers.
    #[error("{len} bytes is not a whole number of 80-byte headers")]
    Truncated {
        /// File length.
        len: usize,
    },
    /// The file does not start with the expected genesis header.
    #[error("the file starts with {got}, not the network's genesis {expected}")]
    WrongGenesis {
        /// The genesis hash the caller expects.
        expected: BlockHash,
        /// The first header's hash in the file.
        got: BlockHash,
    },
    /// A header in the file fails validation.
    #[error("header {index} of the file: {err}")]
    Header {
        /// 0-based index in the file.
        index: usize,
        /// Why.
        err: AcceptHeaderError,
    },
}
