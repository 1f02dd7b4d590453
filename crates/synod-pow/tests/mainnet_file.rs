//! Verification of 4,032 real Bitcoin mainnet headers (822,528..=826,559)
//! and of corrupted copies of them.

use proptest::prelude::*;
use synod_pow::{
    calculate_next_work_required, mine, next_work_required, verify_headers, BlockHash, Compact, Header, Midstate,
    Params, Rule, HEADER_LEN,
};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/bitcoin-mainnet-822528-826559.headers");
const START: u64 = 822_528;
const COUNT: usize = 4_032;
const RETARGET: u64 = 824_544;
const FIRST_HASH: &str = "000000000000000000001daacd23f9cb40c69ba923085618a5f9dbdd4d97e93a";
const LAST_HASH: &str = "000000000000000000026ab1b5e445f9320cf2ec3dc6720b501877d4e0b40eff";
const TOTAL_WORK: &str = "1257288491124035557019048160";

/// Loads the test file; a missing file is a test failure, never a skip.
fn load() -> Vec<u8> {
    let bytes = std::fs::read(PATH).unwrap_or_else(|e| {
        panic!(
            "test data file missing or unreadable at {PATH}: {e}. \
             It lives in shared/data next to the repository clone \
             (<clone>/../shared/data); see shared/data/README.md."
        )
    });
    assert_eq!(bytes.len(), COUNT * HEADER_LEN, "unexpected size of {PATH}");
    bytes
}

fn idx(height: u64) -> usize {
    (height - START) as usize
}

fn header_at(bytes: &[u8], height: u64) -> Header {
    let i = idx(height) * HEADER_LEN;
    Header::parse(&bytes[i..i + HEADER_LEN]).unwrap()
}

fn put_header(bytes: &mut [u8], height: u64, h: &Header) {
    let i = idx(height) * HEADER_LEN;
    bytes[i..i + HEADER_LEN].copy_from_slice(&h.to_bytes());
}

fn mainnet() -> Params {
    Params::bitcoin_mainnet()
}

fn expect_err(bytes: &[u8], start: Option<u64>, height: u64, rule: Rule) -> String {
    match verify_headers(bytes, start, &mainnet()) {
        Ok(r) => panic!("expected {rule} at {height}, but verified: {r:?}"),
        Err(e) => {
            assert_eq!((e.height, e.rule), (height, rule), "wrong error: {e}");
            e.to_string()
        }
    }
}

#[test]
fn real_file_verifies_with_expected_values() {
    let bytes = load();
    let r = verify_headers(&bytes, Some(START), &mainnet()).unwrap();
    assert_eq!(r.count, COUNT as u64);
    assert_eq!(r.first_height, Some(START));
    assert_eq!(r.first_hash.to_string(), FIRST_HASH);
    assert_eq!(r.last_hash.to_string(), LAST_HASH);
    assert_eq!(r.total_work.to_string(), TOTAL_WORK);
    assert_eq!(r.retargets_checked, 1);
    assert_eq!(r.median_time_checked, (COUNT - 11) as u64);
}

#[test]
fn real_file_without_start_height_checks_no_retarget() {
    let bytes = load();
    let r = verify_headers(&bytes, None, &mainnet()).unwrap();
    assert_eq!(r.first_height, None);
    assert_eq!(r.last_hash.to_string(), LAST_HASH);
    assert_eq!(r.total_work.to_string(), TOTAL_WORK);
    assert_eq!(r.retargets_checked, 0);
}

#[test]
fn file_starting_mid_period_cannot_check_the_retarget() {
    let bytes = load();
    let from = START + 1;
    let r = verify_headers(&bytes[HEADER_LEN..], Some(from), &mainnet()).unwrap();
    assert_eq!(r.retargets_checked, 0);
    assert_eq!(r.count, COUNT as u64 - 1);
}

#[test]
fn first_and_last_hash_parse_back() {
    let bytes = load();
    assert_eq!(header_at(&bytes, START).block_hash(), FIRST_HASH.parse::<BlockHash>().unwrap());
    assert_eq!(header_at(&bytes, START + COUNT as u64 - 1).block_hash(), LAST_HASH.parse::<BlockHash>().unwrap());
}

#[test]
fn mainnet_retarget_at_824544_from_the_file() {
    let bytes = load();
    let first = header_at(&bytes, RETARGET - 2016);
    let last = header_at(&bytes, RETARGET - 1);
    let new = header_at(&bytes, RETARGET);
    assert_eq!(first.bits, 0x1703e8b3);
    assert_eq!(new.bits, 0x1703d869, "the difficulty did change at 824,544");
    assert_eq!(calculate_next_work_required(last.bits, first.time, last.time, &mainnet()), new.bits);
    let via_height = next_work_required(RETARGET, last.bits, || (first.time, last.time), &mainnet());
    assert_eq!(via_height, new.bits);
    // Bitcoin's off-by-one matters: measuring from block 824,543 - 2016
    // (2016 gaps) instead gives different bits.
    let wrong_first = first.time - 600;
    assert_ne!(calculate_next_work_required(last.bits, wrong_first, last.time, &mainnet()), new.bits);
}

#[test]
fn flipped_nonce_bit_is_proof_of_work_at_that_height() {
    let mut bytes = load();
    let height = 823_000;
    let mut h = header_at(&bytes, height);
    h.nonce ^= 1 << 13;
    put_header(&mut bytes, height, &h);
    // Header 823,001 now also fails linkage, but the first error wins.
    expect_err(&bytes, Some(START), height, Rule::ProofOfWork);
    // Same without a start height, reported as an index.
    expect_err(&bytes, None, idx(height) as u64, Rule::ProofOfWork);
    // The linkage break is real: from 823,001 on, the previous hash no longer
    // matches.
    let next = header_at(&bytes, height + 1);
    assert_ne!(next.prev_hash, h.block_hash());
}

#[test]
fn changed_bits_at_non_retarget_height_is_retarget() {
    let mut bytes = load();
    let height = 825_000;
    let mut h = header_at(&bytes, height);
    // Slightly harder and still valid, so BadBits does not apply.
    h.bits -= 1;
    put_header(&mut bytes, height, &h);
    let msg = expect_err(&bytes, Some(START), height, Rule::Retarget);
    assert!(msg.contains("non-retarget"), "{msg}");
    // Without heights the bits cannot be judged; the harder target then
    // fails proof of work.
    expect_err(&bytes, None, idx(height) as u64, Rule::ProofOfWork);
}

#[test]
fn invalid_bits_are_bad_bits() {
    for bad in [
        0x1783e8b3u32, // sign bit with a nonzero mantissa: negative
        0x17000000,    // zero mantissa
        0xff03e8b3,    // overflow
        0x1d01ffff,    // above the mainnet pow limit
    ] {
        let mut bytes = load();
        let height = 825_000;
        let mut h = header_at(&bytes, height);
        h.bits = bad;
        put_header(&mut bytes, height, &h);
        expect_err(&bytes, Some(START), height, Rule::BadBits);
        expect_err(&bytes, None, idx(height) as u64, Rule::BadBits);
    }
}

#[test]
fn wrong_bits_at_824544_is_retarget() {
    let mut bytes = load();
    let mut h = header_at(&bytes, RETARGET);
    // Keep the old period's bits: what a node that forgot to retarget does.
    h.bits = header_at(&bytes, RETARGET - 1).bits;
    put_header(&mut bytes, RETARGET, &h);
    let msg = expect_err(&bytes, Some(START), RETARGET, Rule::Retarget);
    assert!(msg.contains("0x1703d869"), "detail names the expected bits: {msg}");
}

#[test]
fn swapped_headers_are_linkage() {
    let mut bytes = load();
    let a = 824_000;
    let (ha, hb) = (header_at(&bytes, a), header_at(&bytes, a + 1));
    put_header(&mut bytes, a, &hb);
    put_header(&mut bytes, a + 1, &ha);
    expect_err(&bytes, Some(START), a, Rule::Linkage);
    expect_err(&bytes, None, idx(a) as u64, Rule::Linkage);
}

#[test]
fn truncated_and_empty_files() {
    let bytes = load();
    let last = START + COUNT as u64 - 1;
    expect_err(&bytes[..bytes.len() - 1], Some(START), last, Rule::Truncated);
    expect_err(&bytes[..bytes.len() - 1], None, COUNT as u64 - 1, Rule::Truncated);
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0u8; 5]);
    expect_err(&longer, Some(START), last + 1, Rule::Truncated);
    expect_err(&bytes[..79], Some(START), START, Rule::Truncated);
    expect_err(&[], Some(START), START, Rule::Empty);
    expect_err(&[], None, 0, Rule::Empty);
}

#[test]
fn single_header_verifies() {
    let bytes = load();
    let r = verify_headers(&bytes[..HEADER_LEN], Some(START), &mainnet()).unwrap();
    assert_eq!(r.count, 1);
    assert_eq!(r.first_hash, r.last_hash);
    assert_eq!(r.last_hash.to_string(), FIRST_HASH);
    assert_eq!(r.median_time_checked, 0);
}

#[test]
fn midstate_and_miner_agree_with_real_headers() {
    let bytes = load();
    for chunk in bytes.chunks_exact(HEADER_LEN).step_by(97) {
        let h = Header::parse(chunk).unwrap();
        let mid = Midstate::new(&h);
        assert_eq!(mid.hash_with_nonce(h.nonce), h.block_hash());
    }
    // Re-mine three real headers from a little below their nonce: the miner
    // must find exactly the real nonce (another solution in 500 tries at a
    // 2^-78 chance each would be a miracle).
    for height in [START, RETARGET, START + COUNT as u64 - 1] {
        let h = header_at(&bytes, height);
        let target = Compact::decode(h.bits).value;
        let from = h.nonce.saturating_sub(500);
        let sol = mine(&h, from..=h.nonce.saturating_add(500), &target).unwrap();
        assert_eq!(sol.nonce, h.nonce);
        assert_eq!(sol.hash, h.block_hash());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any single-byte change anywhere in the file is rejected, and the
    /// error names the height of the changed header.
    #[test]
    fn any_byte_change_is_caught_at_its_height(pos in 0usize..COUNT * HEADER_LEN, xor in 1u8..=255) {
        let mut bytes = load();
        bytes[pos] ^= xor;
        let height = START + (pos / HEADER_LEN) as u64;
        let field = pos % HEADER_LEN;
        let err = verify_headers(&bytes, Some(START), &mainnet()).unwrap_err();
        let expected_rule = match field {
            4..=35 if height != START => Rule::Linkage,
            72..=75 => {
                prop_assert!(matches!(err.rule, Rule::BadBits | Rule::Retarget | Rule::ProofOfWork | Rule::Linkage), "{}", err);
                err.rule
            }
            _ => Rule::ProofOfWork,
        };
        if (72..76).contains(&field) && height == START {
            // The first header's bits have no predecessor to compare with:
            // an easier valid target still passes its own PoW, and then the
            // next header's linkage breaks.
            prop_assert!(err.height == height || (err.height == height + 1 && err.rule == Rule::Linkage), "{}", err);
        } else {
            prop_assert_eq!(err.height, height, "{}", err);
            prop_assert_eq!(err.rule, expected_rule, "{}", err);
        }
    }

    /// Arbitrary bytes never panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), start in proptest::option::of(any::<u64>())) {
        let _ = verify_headers(&bytes, start, &mainnet());
    }
}
