//! `POST /v1/transfers` bodies: the server's own parser
//! (`synod_node::api::transfers::parse_body`: one object or a batch array)
//! and the stateless checks it runs next (shape, then strict Ed25519, under
//! both auth modes). A parsed transfer round-trips through JSON and through
//! its binary record, and a verified signature never covers a changed transfer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use synod_core::limits::MEMO_BYTES_MAX;
use synod_core::{AuthMode, SignedTransfer};
use synod_node::api::transfers::parse_body;

fuzz_target!(|data: &[u8]| {
    let Ok((transfers, single)) = parse_body(data) else {
        return;
    };
    assert!(!transfers.is_empty());
    assert!(!single || transfers.len() == 1);
    for tx in transfers {
        let json = serde_json::to_vec(&tx).expect("a parsed transfer serializes");
        let again: SignedTransfer = serde_json::from_slice(&json).expect("serialized JSON parses");
        assert_eq!(again, tx, "JSON round trip changed the transfer");
        if tx.transfer.memo.len() <= MEMO_BYTES_MAX {
            // What the server reports as the id, and what a block stores.
            let _ = tx.id();
            let record = SignedTransfer::decode_record(&tx.record_bytes()).expect("a record decodes");
            assert_eq!(record, tx, "record round trip changed the transfer");
        }
        let _ = tx.clone().verify(AuthMode::None);
        if tx.clone().verify(AuthMode::Ed25519).is_ok() {
            let mut changed = tx.clone();
            changed.transfer.amount ^= 1;
            assert!(changed.verify(AuthMode::Ed25519).is_err(), "a signature verified a changed amount");
            let mut changed = tx.clone();
            changed.transfer.nonce ^= 1;
            assert!(changed.verify(AuthMode::Ed25519).is_err(), "a signature verified a changed nonce");
        }
    }
});
