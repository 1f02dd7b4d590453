//! The light client's header store on synthetic chains mined on an easy
//! network: every header rule, fork choice by work (not length), bounds,
//! save and reload.

use synod_pow::light::{AcceptHeaderError, Accepted, HeaderStore, LoadHeadersError};
use synod_pow::{mine, next_work_required, BlockHash, Compact, Header, Params, Rule, U256};

const T0: u32 = 1_700_000_000;
const INTERVAL: u32 = 20;
const SPACING: u32 = 10;
const NOW: i64 = T0 as i64 + 1_000_000;

fn params() -> Params {
    Params::synod(U256::MAX.shr(1), SPACING, INTERVAL).unwrap()
}

fn genesis(p: &Params) -> Header {
    let mut g = Header { version: 1, time: T0, bits: p.pow_limit_bits(), ..Header::default() };
    g.nonce = mine(&g, 0..=u32::MAX, &Compact::decode(g.bits).value).unwrap().nonce;
    g
}

fn seal(mut h: Header, p: &Params) -> Header {
    if let Ok(target) = Compact::target(h.bits, p.pow_limit()) {
        h.nonce = mine(&h, 0..=u32::MAX, &target).expect("easy target").nonce;
    }
    h
}

/// Extends `chain` (genesis first, every header's ancestors) by `n` headers
/// `spacing` seconds apart with the bits the rules demand; `tamper(height,
/// header)` may alter a header before it is mined. Returns the new headers.
fn extend(
    p: &Params,
    chain: &mut Vec<Header>,
    n: usize,
    spacing: u32,
    tag: u8,
    tamper: impl Fn(u64, &mut Header),
) -> Vec<Header> {
    let mut out = Vec::new();
    for _ in 0..n {
        let prev = *chain.last().unwrap();
        let h = chain.len() as u64;
        let interval = p.interval() as usize;
        let bits = next_work_required(h, prev.bits, || (chain[h as usize - interval].time, prev.time), p);
        let mut header = Header {
            version: 1,
            prev_hash: prev.block_hash(),
            merkle_root: [tag; 32],
            time: prev.time + spacing,
            bits,
            nonce: 0,
        };
        tamper(h, &mut header);
        let header = seal(header, p);
        chain.push(header);
        out.push(header);
    }
    out
}

fn no_tamper(_: u64, _: &mut Header) {}

fn store_with(p: &Params, g: Header, headers: &[Header]) -> HeaderStore {
    let mut s = HeaderStore::new(g, p.clone(), 10_000);
    for h in headers {
        s.accept(*h, NOW).expect("valid header");
    }
    s
}

#[test]
fn accepts_a_chain_with_retargets_and_counts_confirmations() {
    let p = params();
    let g = genesis(&p);
    let mut chain = vec![g];
    let headers = extend(&p, &mut chain, 45, SPACING / 2, 1, no_tamper);
    assert_ne!(headers[19].bits, headers[18].bits, "a retarget happened at 20");
    let s = store_with(&p, g, &headers);
    assert_eq!(s.len(), 46);
    assert_eq!(s.best().height, 45);
    assert_eq!(s.best().hash, headers[44].block_hash());
    let block = headers[39].block_hash(); // height 40
    let (confirmations, on_top) = s.confirmations(&block).unwrap();
    assert_eq!(confirmations, 6);
    let expected = s.best().chain_work.checked_sub(&s.get(&block).unwrap().chain_work).unwrap();
    assert_eq!(on_top, expected);
    assert!(!on_top.is_zero());
    // Again: already known, nothing changes.
    let mut s2 = s.clone();
    assert_eq!(s2.accept(headers[3], NOW), Ok(Accepted::AlreadyKnown));
    assert_eq!(s2.len(), 46);
}

#[test]
fn shorter_branch_with_more_work_beats_longer_branch() {
    let p = params();
    let g = genesis(&p);
    // Slow branch: bits stay at the pow limit, 35 headers.
    let mut slow = vec![g];
    let slow_headers = extend(&p, &mut slow, 35, SPACING * 10, 1, no_tamper);
    // Fast branch: retargets four times harder at 20, only 25 headers.
    let mut fast = vec![g];
    let fast_headers = extend(&p, &mut fast, 25, 1, 2, no_tamper);
    assert!(Compact::decode(fast_headers[24].bits).value < Compact::decode(slow_headers[24].bits).value);

    for order in [0, 1] {
        let mut s = HeaderStore::new(g, p.clone(), 10_000);
        let (a, b) = if order == 0 { (&slow_headers, &fast_headers) } else { (&fast_headers, &slow_headers) };
        for h in a.iter().chain(b.iter()) {
            s.accept(*h, NOW).unwrap();
        }
        assert_eq!(s.len(), 61);
        assert_eq!(s.best().hash, fast_headers[24].block_hash(), "most work wins, not most headers");
        assert_eq!(s.best().height, 25);
        assert!(s.is_on_best_chain(&fast_headers[10].block_hash()));
        assert!(!s.is_on_best_chain(&slow_headers[30].block_hash()));
        assert_eq!(s.confirmations(&slow_headers[30].block_hash()), None);
        assert_eq!(s.best_at(25).unwrap().hash, fast_headers[24].block_hash());
        assert!(s.best_at(26).is_none());
    }
}

#[test]
fn equal_work_keeps_the_first_seen_tip() {
    let p = params();
    let g = genesis(&p);
    let mut a = vec![g];
    let ah = extend(&p, &mut a, 5, SPACING, 1, no_tamper);
    let mut b = vec![g];
    let bh = extend(&p, &mut b, 5, SPACING, 2, no_tamper);
    let mut s = store_with(&p, g, &ah);
    for h in &bh[..4] {
        assert_eq!(s.accept(*h, NOW), Ok(Accepted::Stored));
    }
    assert_eq!(s.accept(bh[4], NOW), Ok(Accepted::Stored));
    assert_eq!(s.best().hash, ah[4].block_hash());
    // One more on b: strictly more work, the best chain moves.
    let next = extend(&p, &mut b, 1, SPACING, 2, no_tamper);
    assert_eq!(s.accept(next[0], NOW), Ok(Accepted::NewBest));
    assert!(s.is_on_best_chain(&bh[0].block_hash()));
    assert!(!s.is_on_best_chain(&ah[0].block_hash()));
}

#[test]
fn easier_bits_than_the_retarget_allows_are_refused() {
    let p = params();
    let g = genesis(&p);
    let mut chain = vec![g];
    let headers = extend(&p, &mut chain, 19, 1, 1, no_tamper);
    let mut s = store_with(&p, g, &headers);
    // Height 20 is a retarget: a fast period demands harder bits. Keep the
    // old, easier bits instead.
    let mut bad_chain = chain.clone();
    let bad = extend(&p, &mut bad_chain, 1, 1, 9, |_, h| h.bits = p.pow_limit_bits())[0];
    let err = s.accept(bad, NOW).unwrap_err();
    assert!(matches!(err, AcceptHeaderError::Retarget { height: 20, got, .. } if got == p.pow_limit_bits()));
    assert_eq!(err.rule(), Some(Rule::Retarget));
    assert_eq!(s.len(), 20, "a refused header changes nothing");
    // The honest retarget is accepted.
    let good = extend(&p, &mut chain, 1, 1, 1, no_tamper)[0];
    assert_eq!(s.accept(good, NOW), Ok(Accepted::NewBest));
}

#[test]
fn bits_changed_at_a_non_retarget_height_are_refused() {
    let p = params();
    let g = genesis(&p);
    let mut chain = vec![g];
    let headers = extend(&p, &mut chain, 5, SPACING, 1, no_tamper);
    let mut s = store_with(&p, g, &headers);
    // Harder bits (more work per header) are refused too: bits are fixed
    // between retargets.
    let bad = extend(&p, &mut chain, 1, SPACING, 1, |_, h| h.bits = 0x1f7fffff)[0];
    assert_eq!(
        s.accept(bad, NOW),
        Err(AcceptHeaderError::Retarget { height: 6, expected: 0x207fffff, got: 0x1f7fffff })
    );
}

#[test]
fn bits_above_the_pow_limit_are_refused() {
    let p = params();
    let g = genesis(&p);
    let mut s = HeaderStore::new(g, p.clone(), 100);
    let mut chain = vec![g];
    let bad = extend(&p, &mut chain, 1, SPACING, 1, |_, h| h.bits = 0x2100ffff)[0];
    let err = s.accept(bad, NOW).unwrap_err();
    assert_eq!(err.rule(), Some(Rule::BadBits));
}

#[test]
fn proof_of_work_is_checked() {
    let p = params();
    let g = genesis(&p);
    let mut s = HeaderStore::new(g, p.clone(), 100);
    let mut chain = vec![g];
    let mut h = extend(&p, &mut chain, 1, SPACING, 1, no_tamper)[0];
    let target = Compact::decode(h.bits).value;
    h.nonce = (0..).find(|n| Header { nonce: *n, ..h }.block_hash().to_u256() > target).unwrap();
    assert_eq!(s.accept(h, NOW), Err(AcceptHeaderError::ProofOfWork { hash: h.block_hash() }));
}

#[test]
fn median_time_past_near_genesis_and_beyond() {
    let p = params();
    let g = genesis(&p);
    // Height 1 at the genesis time: not after the median of {genesis}.
    let mut chain = vec![g];
    let bad = extend(&p, &mut chain, 1, 0, 1, no_tamper)[0];
    let mut s = HeaderStore::new(g, p.clone(), 100);
    assert_eq!(s.accept(bad, NOW), Err(AcceptHeaderError::MedianTimePast { time: T0, median: T0 }));
    // Height 3 over two ancestors plus genesis: times T0, T0+100, T0+200;
    // the median is T0+100, so T0+100 is refused even though it is after
    // genesis.
    let mut chain = vec![g];
    let ok = extend(&p, &mut chain, 2, 100, 1, no_tamper);
    let mut s = store_with(&p, g, &ok);
    let bad = extend(&p, &mut chain, 1, 0, 1, |_, h| h.time = T0 + 100)[0];
    assert!(matches!(s.accept(bad, NOW), Err(AcceptHeaderError::MedianTimePast { median, .. }) if median == T0 + 100));
    // Far from genesis: median of the last 11.
    let mut chain = vec![g];
    let ok = extend(&p, &mut chain, 15, SPACING, 1, no_tamper);
    let mut s = store_with(&p, g, &ok);
    let median = T0 + SPACING * 10; // heights 5..=15 -> middle is 10
    let bad = extend(&p, &mut chain, 1, 0, 1, |_, h| h.time = median)[0];
    assert_eq!(s.accept(bad, NOW), Err(AcceptHeaderError::MedianTimePast { time: median, median }));
}

#[test]
fn time_too_far_ahead_of_the_callers_clock_is_refused() {
    let p = params();
    let g = genesis(&p);
    let mut chain = vec![g];
    let h = extend(&p, &mut chain, 1, SPACING, 1, no_tamper)[0];
    let mut s = HeaderStore::new(g, p.clone(), 100);
    let now = i64::from(h.time) - i64::from(p.max_future_secs()) - 1;
    assert_eq!(s.accept(h, now), Err(AcceptHeaderError::TimeTooFar { time: h.time, now }));
    assert_eq!(s.accept(h, now + 1), Ok(Accepted::NewBest));
}

#[test]
fn version_floor_is_enforced() {
    let floors = synod_pow::VersionFloors { bip34_height: 2, bip66_height: 4, bip65_height: 6 };
    let p = params().with_version_floors(Some(floors));
    let g = genesis(&p);
    let mut chain = vec![g];
    let ok = extend(&p, &mut chain, 1, SPACING, 1, no_tamper);
    let mut s = store_with(&p, g, &ok);
    let bad = extend(&p, &mut chain, 1, SPACING, 1, no_tamper)[0];
    assert_eq!(s.accept(bad, NOW), Err(AcceptHeaderError::BadVersion { height: 2, version: 1, min: 2 }));
}

#[test]
fn unknown_parent_and_full_store_are_refused() {
    let p = params();
    let g = genesis(&p);
    let mut chain = vec![g];
    let headers = extend(&p, &mut chain, 4, SPACING, 1, no_tamper);
    let mut s = HeaderStore::new(g, p.clone(), 3);
    assert_eq!(s.accept(headers[1], NOW), Err(AcceptHeaderError::UnknownParent { parent: headers[0].block_hash() }));
    s.accept(headers[0], NOW).unwrap();
    s.accept(headers[1], NOW).unwrap();
    assert_eq!(s.accept(headers[2], NOW), Err(AcceptHeaderError::Full { max: 3 }));
    assert_eq!(s.len(), 3);
    assert_eq!(s.headers_max(), 3);
}

#[test]
fn save_and_reload_revalidates_every_header() {
    let p = params();
    let g = genesis(&p);
    let mut a = vec![g];
    let ah = extend(&p, &mut a, 25, 1, 1, no_tamper);
    let mut b = vec![g];
    let bh = extend(&p, &mut b, 30, SPACING * 10, 2, no_tamper);
    let mut s = store_with(&p, g, &ah);
    for h in &bh {
        s.accept(*h, NOW).unwrap();
    }
    let bytes = s.to_bytes();
    assert_eq!(bytes.len(), 56 * 80);
    let r = HeaderStore::load(&bytes, g, p.clone(), 10_000, NOW).unwrap();
    assert_eq!(r.len(), s.len());
    assert_eq!(r.best(), s.best());

    // A flipped byte in a stored header is caught on load.
    let mut bad = bytes.clone();
    bad[80 * 10 + 70] ^= 1; // time of the 10th header
    assert!(matches!(HeaderStore::load(&bad, g, p.clone(), 10_000, NOW), Err(LoadHeadersError::Header { .. })));
    // Truncated, empty, wrong genesis, too many for the bound.
    assert_eq!(
        HeaderStore::load(&bytes[..79], g, p.clone(), 10_000, NOW).unwrap_err(),
        LoadHeadersError::Truncated { len: 79 }
    );
    assert!(HeaderStore::load(&[], g, p.clone(), 10_000, NOW).is_err());
    let other = Header { time: T0 + 1, ..g };
    assert!(matches!(
        HeaderStore::load(&bytes, other, p.clone(), 10_000, NOW),
        Err(LoadHeadersError::WrongGenesis { .. })
    ));
    assert!(matches!(
        HeaderStore::load(&bytes, g, p.clone(), 10, NOW),
        Err(LoadHeadersError::Header { index: 10, err: AcceptHeaderError::Full { max: 10 } })
    ));
    let _ = BlockHash::ZERO;
}
