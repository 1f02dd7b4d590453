//! A node's disk: the node's own database code (`synod_storage::Store`: the
//! same redb tables, checksums, Paxos log, block writes and snapshot chunks)
//! over a simulated drive (`synod_storage::crash_backend::CrashBackend`).
//!
//! Fault model:
//! - a commit returns once it is synced (the node commits with fsync), so
//!   what a crash loses is what the node had not committed yet: the Paxos
//!   ops still queued for the persister (`queue`), reported `Persisted` only
//!   when their group commit returns;
//! - power can also fail inside a commit (`arm_power_failure`): the writes
//!   since the last sync survive whole, torn or not at all, chosen by the
//!   seed, and redb's recovery must cope;
//! - on restart each stored value read is damaged (one bit flipped) with the
//!   seed's probability; the store's checksums must catch it. A damaged Paxos
//!   record makes the incarnation a learner (`DurableState::damaged`); a
//!   damaged ledger record makes the start fail, as `Node::start` does, and
//!   the node stays down until a later restart reads cleanly. Damage is on
//!   the read path only: the stored bytes stay intact.

use std::collections::BTreeMap;
use std::sync::Mutex;

use synod_core::{Genesis, Ledger};
use synod_paxos::{DurableState, PersistOp, PersistToken, Slot};
use synod_storage::crash_backend::CrashBackend;
use synod_storage::{Store, StoreError};

/// Ledger values are read about 20× as often as Paxos records on a restart
/// (every leaf-hash run and account), so they are damaged that much less
/// often: most damaged restarts then exercise the learner-only path rather
/// than a node that cannot start.
const LEDGER_READ_FAULT_DIVISOR: f64 = 20.0;

/// A freshly initialised database per genesis, copied for every node: creating
/// a redb file costs ~8 ms, copying and opening its image ~1.5 ms.
static TEMPLATES: Mutex<BTreeMap<Vec<u8>, Vec<u8>>> = Mutex::new(BTreeMap::new());

fn template(genesis: &Genesis) -> Vec<u8> {
    let key = genesis.encode();
    let mut templates = TEMPLATES.lock().expect("templates lock");
    templates
        .entry(key)
        .or_insert_with(|| {
            let backend = CrashBackend::from_image(Vec::new());
            let store = Store::open_with_backend(backend.clone()).expect("a new database opens");
            store.init(genesis).expect("genesis initialises");
            // Taken before a clean shutdown, which would double the file
            // (1.6 MB instead of 3.7 MB; opening it runs redb's repair, which
            // is quick on a fresh database).
            let image = backend.image();
            lose_power(&backend, Some(store));
            image
        })
        .clone()
}

pub struct Disk {
    backend: CrashBackend,
    /// Always `Some`; an `Option` only so that a crash can take it away
    /// without redb's clean shutdown (`lose_power`).
    store: Option<Store>,
    /// Paxos ops issued and not yet committed, in token order.
    queue: Vec<(PersistToken, PersistOp)>,
}

/// What a restart reads back.
pub struct Recovered {
    pub durable: DurableState,
    pub ledger: Ledger,
    pub applied_slot: Slot,
}

impl Disk {
    pub fn new(genesis: &Genesis) -> Disk {
        let backend = CrashBackend::from_image(template(genesis));
        let store = Store::open_with_backend(backend.clone()).expect("the template opens");
        Disk { backend, store: Some(store), queue: Vec::new() }
    }

    pub fn store(&self) -> &Store {
        self.store.as_ref().expect("the database is open")
    }

    pub fn enqueue(&mut self, token: PersistToken, op: PersistOp) {
        assert!(self.queue.last().is_none_or(|(last, _)| token > *last), "persist tokens arrive in order");
        self.queue.push((token, op));
    }

    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    pub fn last_queued(&self) -> Option<PersistToken> {
        self.queue.last().map(|(token, _)| *token)
    }

    /// The persister's group commit: every queued op up to `upto` in one
    /// transaction (`Store::persist_paxos`). Returns the ops written.
    pub fn commit(&mut self, upto: PersistToken) -> Result<Vec<PersistOp>, StoreError> {
        let count = self.queue.partition_point(|(token, _)| *token <= upto);
        let ops: Vec<PersistOp> = self.queue[..count].iter().map(|(_, op)| op.clone()).collect();
        self.store().persist_paxos(&ops)?;
        self.queue.drain(..count);
        Ok(ops)
    }

    /// Power fails after `ops` more writes or syncs: inside a commit, most likely.
    pub fn arm_power_failure(&self, ops: u64) {
        self.backend.crash_after(ops);
    }

    pub fn disarm_power_failure(&self) {
        self.backend.disarm();
    }

    pub fn power_failed(&self) -> bool {
        self.backend.has_crashed()
    }

    /// Power loss: the queue is gone, the drive keeps what `seed` decides of
    /// its un-synced writes, and the database is opened again (redb's
    /// recovery runs) so that it can be inspected while the node is down.
    /// `image` replaces what survived (a deliberately broken ledger layer).
    pub fn crash(&mut self, seed: u64, image: Option<Vec<u8>>) -> Result<(), String> {
        lose_power(&self.backend, self.store.take());
        self.queue.clear();
        let image = image.unwrap_or_else(|| self.backend.surviving_image(seed));
        self.backend = CrashBackend::from_image(image);
        let store = Store::open_with_backend(self.backend.clone())
            .map_err(|e| format!("the database does not reopen after a crash: {e}"))?;
        self.store = Some(store);
        Ok(())
    }

    /// The disk image now (for the broken ledger layer's rollback).
    pub fn image(&self) -> Vec<u8> {
        self.backend.image()
    }

    /// A restart's reads, as `Node::start` does them, with reads damaged at
    /// `corrupt_read`. `Err`: the ledger cannot be read back, the node does
    /// not start.
    pub fn recover(&self, corrupt_read: f64, seed: u64) -> Result<Recovered, StoreError> {
        let store = self.store();
        store.set_read_faults(corrupt_read, seed);
        let durable = store.load_paxos();
        store.set_read_faults(corrupt_read / LEDGER_READ_FAULT_DIVISOR, seed ^ 0x5eed);
        let ledger = store.applied_slot().and_then(|slot| {
            let config = store.applied_config()?;
            let loaded = store.load().map_err(|e| match e {
                synod_storage::OpenError::Store(e) => e,
                other => StoreError::Inconsistent(other.to_string()),
            })?;
            Ok((slot, config, loaded.ledger))
        });
        store.set_read_faults(0.0, 0);
        let mut durable = durable?;
        let (applied_slot, config, ledger) = ledger?;
        // node.rs: the configuration the ledger recorded goes to the replica.
        durable.config = config.map(Into::into);
        // node.rs: the ledger is the snapshot point; accepted entries at or
        // below it are no longer needed.
        durable.snapshot_slot = durable.snapshot_slot.max(applied_slot);
        durable.accepted = durable.accepted.split_off(&(durable.snapshot_slot + 1));
        Ok(Recovered { durable, ledger, applied_slot })
    }
}

impl Drop for Disk {
    /// The end of a seed is a power loss too: no clean shutdown to pay for.
    fn drop(&mut self) {
        lose_power(&self.backend, self.store.take());
    }
}

/// Power fails under `store`: the process dies without running redb's clean
/// shutdown (on drop, a `Database` writes its allocator state so that the
/// next open needs no repair; a crashed process never does that, and it
/// would cost a large commit per crash). redb skips that work while the
/// thread unwinds, so the database is dropped during a caught unwind.
fn lose_power(backend: &CrashBackend, store: Option<Store>) {
    backend.power_off();
    struct DropWhileUnwinding(Option<Store>);
    impl Drop for DropWhileUnwinding {
        fn drop(&mut self) {
            assert!(std::thread::panicking());
            drop(self.0.take());
        }
    }
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _dropped_on_unwind = DropWhileUnwinding(store);
        std::panic::resume_unwind(Box::new(()));
    }));
    assert!(unwound.is_err(), "the unwind happened");
}
