//! Verifying a file of concatenated 80-byte headers.

use crate::compact::Compact;
use crate::error::{Rule, VerifyHeadersError};
use crate::hash::BlockHash;
use crate::header::{Header, HEADER_LEN};
use crate::median_time::MedianTimeWindow;
use crate::params::Params;
use crate::retarget::calculate_next_work_required;
use crate::u256::U256;
use crate::work::target_work;

/// What a successful verification established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Number of headers verified.
    pub count: u64,
    /// The height of the first header, if the caller supplied it.
    pub first_height: Option<u64>,
    /// Hash of the first header.
    pub first_hash: BlockHash,
    /// Hash of the last header (prints in Bitcoin's reversed hex).
    pub last_hash: BlockHash,
    /// Sum of `2^256 / (target + 1)` over all headers (`GetBlockProof`);
    /// prints in decimal.
    pub total_work: U256,
    /// Retarget heights whose `bits` were recomputed from a whole previous
    /// period held in the file.
    pub retargets_checked: u64,
    /// Headers checked against the median of 11 predecessors in the file.
    pub median_time_checked: u64,
}

/// Verifies `bytes`, a concatenation of 80-byte headers in chain order
/// whose first header is at `start_height` (if known), under `params`.
///
/// Equivalent to [`verify_headers_at`] with no clock, so no future-time
/// check. See there for the rules applied.
pub fn verify_headers(
    bytes: &[u8],
    start_height: Option<u64>,
    params: &Params,
) -> Result<VerifyReport, VerifyHeadersError> {
    verify_headers_at(bytes, start_height, params, None)
}

/// Verifies a header file, optionally against a local clock `now` (Unix
/// seconds, supplied by the caller: the library never reads a clock).
///
/// The file is first checked as a whole: empty input is [`Rule::Empty`],
/// and a length that is not a multiple of 80 is [`Rule::Truncated`]
/// (reported at the height of the partial header) before any header is
/// looked at, since a misaligned file cannot be trusted at all.
///
/// Then each header, in order, must pass (the first failure is returned,
/// so the lowest failing height wins):
/// 1. [`Rule::Linkage`]: `prev_hash` equals the previous header's hash
///    (every header after the first).
/// 2. [`Rule::BadBits`]: `bits` is a valid target no easier than the pow
///    limit (every header).
/// 3. [`Rule::Retarget`] (only when `start_height` is given, so that
///    retarget heights are known, and the previous header is in the file):
///    at a non-retarget height `bits` equals the previous header's bits; at
///    a retarget height `h` it equals `CalculateNextWorkRequired` over
///    headers `h - interval ..= h - 1`, checked only when all of them are
///    in the file (`h - interval >= start_height`). A retarget height whose
///    period starts before the file is not checked. With
///    `Params::no_retargeting`, bits must never change, and that is checked
///    even without `start_height`.
/// 4. [`Rule::ProofOfWork`]: hash <= target (`CheckProofOfWork`; every
///    header).
/// 5. [`Rule::MedianTimePast`]: time > median of the previous 11 headers,
///    wherever 11 predecessors are in the file; in a file that starts at
///    genesis (`start_height` 0), at heights 1 to 10 too, over the
///    predecessors there are, as Core does.
/// 5a. [`Rule::BadVersion`] (only with `start_height`): version ≥ the
///    minimum for the height ([`Params::min_version_at`]: Core's
///    "bad-version" after the BIP34, BIP66 and BIP65 heights on mainnet).
/// 6. [`Rule::TimeTooFar`]: time <= `now + max_future_secs`, only if `now`
///    is given.
///
/// Without `start_height` only rules 1, 2, 4, 5 (and 6) apply, and errors
/// report the 0-based index in the file as the height.
///
/// Bitcoin Core checks proof of work before the expected bits; we check
/// bits first so that a tampered `bits` field is reported as such rather
/// than as the PoW failure it usually also causes. The set of accepted
/// files is the same either way.
///
/// Never panics on any input bytes.
pub fn verify_headers_at(
    bytes: &[u8],
    start_height: Option<u64>,
    params: &Params,
    now: Option<i64>,
) -> Result<VerifyReport, VerifyHeadersError> {
    let base = u128::from(start_height.unwrap_or(0));
    // Heights are tracked as u128 so that no start height can overflow;
    // reports saturate at u64::MAX (unreachable for real chains).
    let report_height = |h: u128| u64::try_from(h).unwrap_or(u64::MAX);
    let fail = |h: u128, rule: Rule, detail: String| VerifyHeadersError { height: report_height(h), rule, detail };

    if bytes.is_empty() {
        return Err(fail(base, Rule::Empty, "no headers".to_string()));
    }
    if bytes.len() % HEADER_LEN != 0 {
        let whole = bytes.len() / HEADER_LEN;
        return Err(fail(
            base + whole as u128,
            Rule::Truncated,
            format!(
                "{} bytes is not a multiple of {HEADER_LEN}: {} whole headers and {} trailing bytes",
                bytes.len(),
                whole,
                bytes.len() % HEADER_LEN
            ),
        ));
    }

    let interval = u128::from(params.interval());
    let is_retarget = |h: u128| h != 0 && h % interval == 0;

    let mut prev: Option<(Header, BlockHash)> = None;
    let mut first_hash = BlockHash::ZERO;
    // (height, time) of the last period-start header seen in the file.
    let mut period_start: Option<(u128, u32)> = None;
    let mut window = MedianTimeWindow::new();
    let mut total_work = U256::ZERO;
    let mut retargets_checked = 0u64;
    let mut median_time_checked = 0u64;

    for (i, chunk) in bytes.chunks_exact(HEADER_LEN).enumerate() {
        let height = base + i as u128;
        let arr: &[u8; HEADER_LEN] = chunk.try_into().expect("chunks_exact yields 80 bytes");
        let header = Header::from_bytes(arr);
        let hash = header.block_hash();

        if let Some((_, prev_hash)) = &prev {
            if header.prev_hash != *prev_hash {
                return Err(fail(
                    height,
                    Rule::Linkage,
                    format!("prev_hash {} is not the previous header's hash {}", header.prev_hash, prev_hash),
                ));
            }
        }

        let target = Compact::target(header.bits, params.pow_limit())
            .map_err(|e| fail(height, Rule::BadBits, format!("bits {:#010x}: {e}", header.bits)))?;

        if let Some((prev_header, _)) = &prev {
            let expected = if params.no_retargeting() {
                Some(prev_header.bits)
            } else if start_height.is_none() {
                None
            } else if !is_retarget(height) {
                Some(prev_header.bits)
            } else {
                match period_start {
                    Some((h0, first_time)) if h0 + interval == height => {
                        retargets_checked += 1;
                        Some(calculate_next_work_required(prev_header.bits, first_time, prev_header.time, params))
                    }
                    _ => None,
                }
            };
            if let Some(expected) = expected {
                if header.bits != expected {
                    let why = if is_retarget(height) && !params.no_retargeting() {
                        "at retarget height"
                    } else {
                        "changed at non-retarget height"
                    };
                    return Err(fail(
                        height,
                        Rule::Retarget,
                        format!("bits {:#010x} {why}, expected {expected:#010x}", header.bits),
                    ));
                }
            }
        }

        if hash.to_u256() > target {
            return Err(fail(height, Rule::ProofOfWork, format!("hash {hash} is above target {target:064x}")));
        }

        // Eleven predecessors in the file; or, for a file that starts at
        // genesis, every predecessor there is (Core takes the median of
        // however many ancestors exist, so heights 1 to 10 are checked too).
        let all_ancestors_held = start_height == Some(0) && i > 0;
        if window.is_full() || all_ancestors_held {
            let median = window.median().expect("a non-empty window has a median");
            median_time_checked += 1;
            if header.time <= median {
                return Err(fail(
                    height,
                    Rule::MedianTimePast,
                    format!(
                        "time {} is not after the median {median} of the previous {} headers",
                        header.time,
                        window.len()
                    ),
                ));
            }
        }

        if start_height.is_some() {
            let floor = params.min_version_at(report_height(height));
            if header.version < floor {
                return Err(fail(
                    height,
                    Rule::BadVersion,
                    format!(
                        "bad-version({:#010x}): version {} is below {floor} at this height",
                        header.version, header.version
                    ),
                ));
            }
        }

        if let Some(now) = now {
            if time_too_far(header.time, now, params) {
                return Err(fail(
                    height,
                    Rule::TimeTooFar,
                    format!(
                        "time {} is more than {}s ahead of local time {now}",
                        header.time,
                        params.max_future_secs()
                    ),
                ));
            }
        }

        // Saturating: overflow would need hashes below ~2^1, i.e. broken
        // SHA-256; Core's own chain work would wrap instead.
        total_work = total_work.saturating_add(&target_work(&target));
        window.push(header.time);
        if start_height.is_some() && height % interval == 0 {
            period_start = Some((height, header.time));
        }
        if i == 0 {
            first_hash = hash;
        }
        prev = Some((header, hash));
    }

    let (_, last_hash) = prev.expect("non-empty input has a last header");
    Ok(VerifyReport {
        count: (bytes.len() / HEADER_LEN) as u64,
        first_height: start_height,
        first_hash,
        last_hash,
        total_work,
        retargets_checked,
        median_time_checked,
    })
}

/// Core's "time-too-new" test: `time > now + MAX_FUTURE_BLOCK_TIME`.
/// `now` is the caller's clock in Unix seconds.
pub fn time_too_far(time: u32, now: i64, params: &Params) -> bool {
    i64::from(time) > now.saturating_add(i64::from(params.max_future_secs()))
}
