//! `synod pow verify-headers` on real mainnet headers and corrupted copies.

mod common;
use common::*;

const FILE: &str = "bitcoin-mainnet-822528-826559.headers";

#[test]
fn real_headers_verify_with_the_documented_chain_work() {
    let file = data_file(FILE);
    let out = run(&["pow", "verify-headers", file.to_str().unwrap(), "--start-height", "822528", "--json"]);
    assert!(out.status.success(), "{}", stdout(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["count"], 4032);
    assert_eq!(v["total_work"], "1257288491124035557019048160");
    assert_eq!(v["last_hash"], "000000000000000000026ab1b5e445f9320cf2ec3dc6720b501877d4e0b40eff");
    assert_eq!(v["retargets_checked"], 1);
}

#[test]
fn corruptions_are_rejected_naming_height_and_rule() {
    let bytes = std::fs::read(data_file(FILE)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let check = |name: &str, data: Vec<u8>, height: u64, rule: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, data).unwrap();
        let out = run(&["pow", "verify-headers", path.to_str().unwrap(), "--start-height", "822528", "--json"]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stdout(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["height"], height, "{name}: {v}");
        assert_eq!(v["rule"], rule, "{name}: {v}");
    };
    // A flipped bit in the nonce of header 100.
    let mut nonce = bytes.clone();
    nonce[100 * 80 + 76] ^= 0x01;
    check("nonce", nonce, 822_528 + 100, "proof_of_work");
    // A changed bits field in a non-retarget header.
    let mut bits = bytes.clone();
    bits[500 * 80 + 72] ^= 0x01;
    check("bits", bits, 822_528 + 500, "retarget");
    // Two headers swapped.
    let mut swapped = bytes.clone();
    let (a, b) = (1000 * 80, 1001 * 80);
    let tmp: Vec<u8> = swapped[a..a + 80].to_vec();
    swapped.copy_within(b..b + 80, a);
    swapped[b..b + 80].copy_from_slice(&tmp);
    check("swapped", swapped, 822_528 + 1000, "linkage");
    // A truncated file.
    check("truncated", bytes[..bytes.len() - 7].to_vec(), 822_528 + 4031, "truncated");
}
