//! Synthetic chains on an easy Synod test network, mined with the midstate
//! miner, to exercise rules in isolation (median time past, future time,
//! retargets with chosen timestamps) without breaking proof of work.

use synod_pow::{
    block_proof, mine, next_work_required, verify_headers, verify_headers_at, BlockHash, Compact, Header, Params, Rule,
    U256,
};

const T0: u32 = 1_700_000_000;
const INTERVAL: u32 = 20;
const SPACING: u32 = 10;

/// Regtest-like limit (bits 0x207fffff): about half of all hashes qualify.
fn params() -> Params {
    Params::synod(U256::MAX.shr(1), SPACING, INTERVAL).unwrap()
}

/// Builds and mines `n` headers from height 0. `time_of(h, built)` picks
/// each header's time; `tamper(h, header)` may alter a header before it is
/// mined (so its proof of work stays valid). Bits follow the network's own
/// rules (`GetNextWorkRequired`) unless tampered.
fn build(
    params: &Params,
    n: usize,
    time_of: impl Fn(usize, &[Header]) -> u32,
    tamper: impl Fn(usize, &mut Header),
) -> Vec<Header> {
    let mut headers: Vec<Header> = Vec::with_capacity(n);
    for h in 0..n {
        let (prev_hash, bits) = match headers.last() {
            None => (BlockHash::ZERO, params.pow_limit_bits()),
            Some(prev) => {
                let interval = params.interval() as usize;
                let bits = next_work_required(h as u64, prev.bits, || (headers[h - interval].time, prev.time), params);
                (prev.block_hash(), bits)
            }
        };
        let mut header =
            Header { version: 1, prev_hash, merkle_root: [h as u8; 32], time: time_of(h, &headers), bits, nonce: 0 };
        tamper(h, &mut header);
        if let Ok(target) = Compact::target(header.bits, params.pow_limit()) {
            let sol = mine(&header, 0..=u32::MAX, &target).expect("easy target is minable");
            header.nonce = sol.nonce;
            assert!(header.block_hash().to_u256() <= target);
        }
        headers.push(header);
    }
    headers
}

fn to_bytes(headers: &[Header]) -> Vec<u8> {
    headers.iter().flat_map(|h| h.to_bytes()).collect()
}

fn spaced(secs: u32) -> impl Fn(usize, &[Header]) -> u32 {
    move |h, _| T0 + secs * h as u32
}

fn no_tamper(_: usize, _: &mut Header) {}

fn err_of(bytes: &[u8], start: Option<u64>, p: &Params) -> (u64, Rule) {
    let e = verify_headers(bytes, start, p).expect_err("must be rejected");
    (e.height, e.rule)
}

#[test]
fn valid_chain_with_three_retargets() {
    let p = params();
    // Blocks twice as fast as intended: every retarget makes mining harder.
    let chain = build(&p, 70, spaced(SPACING / 2), no_tamper);
    for h in [20, 40, 60] {
        assert!(
            Compact::decode(chain[h].bits).value < Compact::decode(chain[h - 1].bits).value,
            "difficulty rises at {h}"
        );
    }
    let r = verify_headers(&to_bytes(&chain), Some(0), &p).unwrap();
    assert_eq!(r.count, 70);
    assert_eq!(r.retargets_checked, 3);
    // From genesis every header after it is checked (heights 1 to 10 over
    // the ancestors there are).
    assert_eq!(r.median_time_checked, 70 - 1);
    assert_eq!(r.last_hash, chain[69].block_hash());
    let expected_work = chain.iter().fold(U256::ZERO, |acc, h| acc.checked_add(&block_proof(h.bits)).unwrap());
    assert_eq!(r.total_work, expected_work);
}

#[test]
fn clamps_in_a_real_chain() {
    let p = params();
    // Period 0..19 at 1s spacing (19s << T/4 = 50s): exactly 4x harder.
    // Periods from 20 on at 1000s spacing: 4x easier each, capped at the
    // limit.
    let chain = build(&p, 61, |h, _| if h < 20 { T0 + h as u32 } else { T0 + 1000 * h as u32 }, no_tamper);
    let limit = Compact::decode(p.pow_limit_bits()).value;
    assert_eq!(chain[20].bits, Compact::from_target(&limit.shr(2)));
    assert_eq!(chain[20].bits, 0x201fffff);
    // 4x of the truncated quarter is just under the limit, so not capped:
    // compact rounding is visible in consensus.
    assert_eq!(chain[40].bits, 0x207ffffc);
    // Another 4x would exceed the limit: capped.
    assert_eq!(chain[60].bits, p.pow_limit_bits());
    let r = verify_headers(&to_bytes(&chain), Some(0), &p).unwrap();
    assert_eq!(r.retargets_checked, 3);
}

#[test]
fn time_equal_to_median_is_rejected() {
    let p = params();
    let base = spaced(SPACING);
    // Previous 11 of header 30 are 19..=29; their median is header 24's time.
    let median = base(24, &[]);
    let chain = build(&p, 40, &base, |h, hd| {
        if h == 30 {
            hd.time = median;
        }
    });
    let bytes = to_bytes(&chain);
    assert_eq!(err_of(&bytes, Some(0), &p), (30, Rule::MedianTimePast));
    assert_eq!(err_of(&bytes, None, &p), (30, Rule::MedianTimePast));
    // A file that starts later holds fewer than 11 predecessors of header
    // 30, so the rule cannot be applied there.
    let r = verify_headers(&bytes[21 * 80..], Some(21), &p).unwrap();
    assert_eq!(r.median_time_checked, 40 - 21 - 11);
}

#[test]
fn time_one_after_median_is_accepted_even_if_before_parent() {
    let p = params();
    let base = spaced(SPACING);
    let median = base(24, &[]);
    let chain = build(&p, 40, &base, |h, hd| {
        if h == 30 {
            hd.time = median + 1;
        }
    });
    assert!(chain[30].time < chain[29].time, "Bitcoin allows non-monotonic times");
    let r = verify_headers(&to_bytes(&chain), Some(0), &p).unwrap();
    assert_eq!(r.count, 40);
}

#[test]
fn future_time_needs_a_clock() {
    let p = params();
    let chain = build(&p, 15, spaced(SPACING), no_tamper);
    let bytes = to_bytes(&chain);
    let last = i64::from(chain[14].time);
    let limit = i64::from(p.max_future_secs());
    assert_eq!(limit, 7200);
    // Exactly max_future_secs ahead: allowed (Core rejects only `>`).
    assert!(verify_headers_at(&bytes, Some(0), &p, Some(last - limit)).is_ok());
    let e = verify_headers_at(&bytes, Some(0), &p, Some(last - limit - 1)).unwrap_err();
    assert_eq!((e.height, e.rule), (14, Rule::TimeTooFar));
    // Without a clock there is no such check.
    assert!(verify_headers(&bytes, Some(0), &p).is_ok());
    // The allowance is a parameter.
    let strict = p.clone().with_max_future_secs(0);
    let e = verify_headers_at(&bytes, Some(0), &strict, Some(last - 1)).unwrap_err();
    assert_eq!((e.height, e.rule), (14, Rule::TimeTooFar));
}

#[test]
fn unchanged_bits_at_retarget_height_is_rejected() {
    let p = params();
    let chain = build(&p, 45, spaced(SPACING / 2), |h, hd| {
        if h == 40 {
            hd.bits = p.pow_limit_bits(); // "forgot" to retarget, mined anyway
        }
    });
    let bytes = to_bytes(&chain);
    assert_eq!(err_of(&bytes, Some(0), &p), (40, Rule::Retarget));
    // Without heights there is no retarget rule, and the header's own
    // proof of work is valid: the whole forged chain passes. This is why
    // start_height matters.
    assert!(verify_headers(&bytes, None, &p).is_ok());
}

#[test]
fn bits_change_at_non_retarget_height_is_rejected() {
    let p = params();
    let chain = build(&p, 30, spaced(SPACING), |h, hd| {
        if h == 25 {
            hd.bits = Compact::from_target(&Compact::decode(hd.bits).value.shr(1));
        }
    });
    assert_eq!(err_of(&to_bytes(&chain), Some(0), &p), (25, Rule::Retarget));
}

#[test]
fn retarget_whose_period_starts_before_the_file_is_not_checked() {
    let p = params();
    let chain = build(&p, 70, spaced(SPACING / 2), no_tamper);
    let bytes = to_bytes(&chain);
    let r = verify_headers(&bytes[5 * 80..], Some(5), &p).unwrap();
    assert_eq!(r.retargets_checked, 2, "40 and 60, not 20");
    let r = verify_headers(&bytes[20 * 80..], Some(20), &p).unwrap();
    assert_eq!(r.retargets_checked, 2, "40 and 60; 20's period is 0..=19");
    let r = verify_headers(&bytes[21 * 80..], Some(21), &p).unwrap();
    assert_eq!(r.retargets_checked, 1, "only 60");
}

#[test]
fn wrong_start_height_is_caught_by_bits_continuity() {
    // Claiming the file starts at 1 shifts every retarget by one height: the
    // real retarget at 20 becomes "bits changed at non-retarget height 21".
    let p = params();
    let chain = build(&p, 45, spaced(SPACING / 2), no_tamper);
    assert_eq!(err_of(&to_bytes(&chain), Some(1), &p), (21, Rule::Retarget));
}

#[test]
fn no_retargeting_network_forbids_any_bits_change() {
    let p = params().with_no_retargeting(true);
    let chain = build(&p, 30, spaced(1), no_tamper);
    assert!(chain.iter().all(|h| h.bits == p.pow_limit_bits()));
    let r = verify_headers(&to_bytes(&chain), Some(0), &p).unwrap();
    assert_eq!(r.retargets_checked, 0);
    let bad = build(&p, 30, spaced(1), |h, hd| {
        if h == 20 {
            hd.bits = 0x1f7fffff;
        }
    });
    // Checked even without a start height: no height is special.
    assert_eq!(err_of(&to_bytes(&bad), None, &p), (20, Rule::Retarget));
    assert_eq!(err_of(&to_bytes(&bad), Some(0), &p), (20, Rule::Retarget));
}

#[test]
fn easier_than_limit_is_bad_bits_even_with_valid_pow() {
    let p = params();
    let chain = build(&p, 5, spaced(SPACING), |h, hd| {
        if h == 3 {
            hd.bits = 0x2100ffff; // > 2^255 - 1
        }
    });
    assert_eq!(err_of(&to_bytes(&chain), Some(0), &p), (3, Rule::BadBits));
}

/// Core takes the median time past over however many ancestors exist, so
/// near genesis (heights 1 to 10) a header at or below the median of its few
/// predecessors is "time-too-old" too. Checked when the file is known to
/// start at genesis; without a start height the file might start anywhere.
#[test]
fn median_time_past_near_genesis_uses_every_ancestor() {
    let p = params();
    // Times T0, T0+10, …; header 5 goes back to T0+10: not after the median
    // T0+20 of heights 0..=4.
    let chain = build(&p, 8, |h, _| if h == 5 { T0 + SPACING } else { T0 + SPACING * h as u32 }, no_tamper);
    assert_eq!(err_of(&to_bytes(&chain), Some(0), &p), (5, Rule::MedianTimePast));
    assert!(verify_headers(&to_bytes(&chain), None, &p).is_ok(), "no start height: no ancestors known");
    // Two ancestors T0 and T0+100: Core's median is the upper one (sorted,
    // index count/2), T0+100. At it: refused; one second after: accepted.
    let at = build(&p, 3, |h, _| [T0, T0 + 100, T0 + 100][h], no_tamper);
    assert_eq!(err_of(&to_bytes(&at), Some(0), &p), (2, Rule::MedianTimePast));
    let after = build(&p, 3, |h, _| [T0, T0 + 100, T0 + 101][h], no_tamper);
    let r = verify_headers(&to_bytes(&after), Some(0), &p).unwrap();
    assert_eq!(r.median_time_checked, 2, "heights 1 and 2 checked");
}

/// Core's "bad-version": from BIP34's height a header needs version ≥ 2,
/// from BIP66's ≥ 3, from BIP65's ≥ 4 (versions are signed: a top bit set
/// is negative and below every floor).
#[test]
fn versions_below_the_floor_of_their_height_are_refused() {
    let floors = synod_pow::VersionFloors { bip34_height: 3, bip66_height: 5, bip65_height: 7 };
    let p = params().with_version_floors(Some(floors));
    let version_at = |h: usize| match h {
        0..=2 => 1,
        3..=4 => 2,
        5..=6 => 3,
        _ => 0x2000_0000,
    };
    let good = build(&p, 10, spaced(SPACING), |h, hd| hd.version = version_at(h));
    assert!(verify_headers(&to_bytes(&good), Some(0), &p).is_ok());
    for (height, version) in [(3, 1), (5, 2), (7, 3), (8, i32::MIN), (9, -1)] {
        let bad =
            build(&p, 10, spaced(SPACING), |h, hd| hd.version = if h == height { version } else { version_at(h) });
        let e = verify_headers(&to_bytes(&bad), Some(0), &p).expect_err("bad version accepted");
        assert_eq!((e.height, e.rule), (height as u64, Rule::BadVersion), "{e}");
        assert!(e.detail.contains("bad-version"), "{e}");
        // Heights unknown: the rule cannot apply.
        assert!(verify_headers(&to_bytes(&bad), None, &p).is_ok());
    }
    // Mainnet's floors are Core's.
    let main = Params::bitcoin_mainnet();
    assert_eq!(
        [
            main.min_version_at(227_930),
            main.min_version_at(227_931),
            main.min_version_at(363_725),
            main.min_version_at(388_381)
        ],
        [i32::MIN, 2, 3, 4]
    );
}
