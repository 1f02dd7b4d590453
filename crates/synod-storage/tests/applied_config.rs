//! The applied cluster configuration in the store's meta table: it is
//! written in the applied slot's transaction, reads back, reads as none when
//! absent (stores from before the key existed), keeps the first slot, and a
//! configuration with other members is refused as an inconsistency.

use synod_core::crypto::Keypair;
use synod_core::genesis::Allocation;
use synod_core::{AuthMode, Genesis};
use synod_storage::crash_backend::CrashBackend;
use synod_storage::{AppliedConfig, Store, StoreError};

fn store() -> Store {
    let account = Keypair::from_seed(&[1; 32]).account();
    let genesis = Genesis {
        chain_id: 3,
        auth: AuthMode::Ed25519,
        timestamp_ms: 0,
        allocations: vec![Allocation { account, amount: 1_000, policy: None }],
    };
    let store = Store::open_with_backend(CrashBackend::from_image(Vec::new())).unwrap();
    store.init(&genesis).unwrap();
    store
}

#[test]
fn an_absent_key_reads_as_none() {
    let store = store();
    assert_eq!(store.applied_config().unwrap(), None);
    // Slots without a configuration leave it absent.
    store.append_group(&[], Some(1), None).unwrap();
    assert_eq!(store.applied_config().unwrap(), None);
    assert_eq!(store.snapshot_descriptor(1).unwrap().config, None);
}

#[test]
fn the_applied_config_round_trips_and_the_first_slot_wins() {
    let store = store();
    let config = AppliedConfig { slot: 2, members: vec![1, 2, 3] };
    store.append_group(&[], Some(1), None).unwrap();
    store.append_group(&[], Some(2), Some(&config)).unwrap();
    assert_eq!(store.applied_config().unwrap(), Some(config.clone()));
    assert_eq!(store.applied_slot().unwrap(), 2);
    // The descriptor reads it in the same transaction as the applied slot.
    assert_eq!(store.snapshot_descriptor(1).unwrap().config, Some(config.clone()));
    // The same configuration chosen again later is harmless: slot 2 stays.
    let again = AppliedConfig { slot: 5, members: vec![1, 2, 3] };
    store.append_group(&[], Some(5), Some(&again)).unwrap();
    assert_eq!(store.applied_config().unwrap(), Some(config));
}

#[test]
fn a_later_config_with_other_members_replaces_the_recorded_one() {
    let store = store();
    store.append_group(&[], Some(1), Some(&AppliedConfig { slot: 1, members: vec![1, 2, 3] })).unwrap();
    let added = AppliedConfig { slot: 4, members: vec![1, 2, 3, 4] };
    store.append_group(&[], Some(4), Some(&added)).unwrap();
    assert_eq!(store.applied_config().unwrap(), Some(added));
}

#[test]
fn an_older_config_with_other_members_is_an_inconsistency_and_writes_nothing() {
    let store = store();
    store.append_group(&[], Some(1), Some(&AppliedConfig { slot: 1, members: vec![1, 2, 3] })).unwrap();
    let other = AppliedConfig { slot: 1, members: vec![1, 2, 4] };
    let err = store.append_group(&[], Some(2), Some(&other)).unwrap_err();
    assert!(matches!(err, StoreError::Inconsistent(_)), "{err}");
    // The transaction was not committed: the applied slot did not move.
    assert_eq!(store.applied_slot().unwrap(), 1);
    assert_eq!(store.applied_config().unwrap().unwrap().members, vec![1, 2, 3]);
}
