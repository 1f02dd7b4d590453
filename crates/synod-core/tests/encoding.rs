//! Canonical encodings round-trip, and malformed bytes are typed errors, never panics.

mod common;
use common::*;

use proptest::prelude::*;
use synod_core::{AccountId, AuthMode, Block, BlockHeader, DecodeError, Genesis, SignedTransfer, Transfer};

fn arb_transfer() -> impl Strategy<Value = Transfer> {
    (
        any::<u64>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        proptest::collection::vec(any::<u8>(), 0..=64),
    )
        .prop_map(|(chain_id, from, to, amount, fee, nonce, memo)| Transfer {
            chain_id,
            from: AccountId(from),
            to: AccountId(to),
            amount,
            fee,
            nonce,
            memo,
        })
}

proptest! {
    #[test]
    fn records_round_trip(t in arb_transfer(), sig in proptest::option::of(any::<[u8; 32]>())) {
        let signature = sig.map(|s| { let mut full = [0u8; 64]; full[..32].copy_from_slice(&s); full[32..].copy_from_slice(&s); full });
        let tx = SignedTransfer { multisig: None, to_policy: None, transfer: t, signature };
        let bytes = tx.record_bytes();
        prop_assert_eq!(SignedTransfer::decode_record(&bytes).unwrap(), tx.clone());
        // JSON round-trips too.
        let json = serde_json::to_string(&tx).unwrap();
        prop_assert_eq!(serde_json::from_str::<SignedTransfer>(&json).unwrap(), tx);
        // Every strict prefix is a typed error.
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            prop_assert!(SignedTransfer::decode_record(&bytes[..cut]).is_err());
        }
        // Trailing bytes are refused: one canonical form.
        let mut longer = bytes.clone();
        longer.push(0);
        prop_assert_eq!(SignedTransfer::decode_record(&longer), Err(DecodeError::TrailingBytes { trailing: 1 }));
    }

    #[test]
    fn decoders_never_panic_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = SignedTransfer::decode_record(&bytes);
        let _ = Block::decode(&bytes);
        let _ = BlockHeader::decode(&bytes);
        let _ = Genesis::decode(&bytes);
    }
}

#[test]
fn a_memo_length_over_the_limit_is_refused_when_decoding() {
    let mut bytes = signed(1, 2, 5, 0).record_bytes();
    bytes[114] = 65; // memo_len
    assert_eq!(SignedTransfer::decode_record(&bytes), Err(DecodeError::OutOfRange { field: "memo_len", value: 65 }));
}

#[test]
fn an_unknown_auth_tag_is_refused() {
    let mut bytes = SignedTransfer::unsigned(transfer(1, key(2).account(), 5, 0)).record_bytes();
    *bytes.last_mut().unwrap() = 7;
    assert_eq!(SignedTransfer::decode_record(&bytes), Err(DecodeError::UnknownTag { field: "auth_tag", tag: 7 }));
}

#[test]
fn blocks_and_genesis_round_trip() {
    let mut l = ledger(3, 100);
    let txs = vec![
        signed(1, 2, 5, 0).verify(AuthMode::Ed25519).unwrap(),
        signed(2, 3, 7, 0).verify(AuthMode::Ed25519).unwrap(),
    ];
    let block = l.build_block(1, txs).block.unwrap();
    assert_eq!(Block::decode(&block.encode()).unwrap(), block);
    let g = genesis(AuthMode::None, 4, 9);
    assert_eq!(Genesis::decode(&g.encode()).unwrap(), g);
}

#[test]
fn genesis_rules() {
    let mut g = genesis(AuthMode::Ed25519, 3, 10);
    g.allocations.swap(0, 1);
    assert!(matches!(g.validate(), Err(synod_core::GenesisError::NotSortedOrDuplicate { index: 1 })));
    let mut g = genesis(AuthMode::Ed25519, 2, u64::MAX);
    assert!(matches!(g.validate(), Err(synod_core::GenesisError::SupplyOverflow)));
    g.allocations.truncate(1);
    g.allocations[0].amount = 0;
    assert!(matches!(g.validate(), Err(synod_core::GenesisError::ZeroAllocation { index: 0 })));
}

#[test]
fn json_rejects_bad_hex_wrong_lengths_and_unknown_fields() {
    let good = serde_json::to_value(signed(1, 2, 5, 0)).unwrap();
    let with = |field: &str, value: serde_json::Value| {
        let mut v = good.clone();
        v[field] = value;
        serde_json::from_value::<SignedTransfer>(v)
    };
    assert!(with("from", "zz".repeat(32).into()).is_err());
    assert!(with("from", "ab".repeat(31).into()).is_err());
    assert!(with("signature", "ab".repeat(63).into()).is_err());
    assert!(with("amount", (-1).into()).is_err());
    assert!(with("amount", "5".into()).is_err());
    assert!(with("surprise", 1.into()).is_err());
    assert!(with("memo", "abc".into()).is_err());
}

/// PROTOCOL 6: `fee`, `memo` and `signature` may each be omitted or null,
/// with the same meaning (0, empty, none); other fields may not be null.
#[test]
fn json_null_means_omitted_for_fee_memo_and_signature() {
    let mut tx = signed(1, 2, 5, 0);
    tx.signature = None;
    let full = serde_json::to_value(&tx).unwrap();
    for field in ["fee", "memo", "signature"] {
        let mut null = full.clone();
        null[field] = serde_json::Value::Null;
        assert_eq!(serde_json::from_value::<SignedTransfer>(null).unwrap(), tx, "{field}: null");
        let mut omitted = full.clone();
        omitted.as_object_mut().unwrap().remove(field);
        assert_eq!(serde_json::from_value::<SignedTransfer>(omitted).unwrap(), tx, "{field} omitted");
    }
    for field in ["chain_id", "from", "to", "amount", "nonce"] {
        let mut null = full.clone();
        null[field] = serde_json::Value::Null;
        assert!(serde_json::from_value::<SignedTransfer>(null).is_err(), "{field}: null accepted");
    }
}
