//! A redb storage backend that simulates power loss, for tests and the
//! simulator.
//!
//! Fault model: a disk with a volatile write cache. A write lands in the cache;
//! `sync_data` makes everything written so far durable. Power can fail after
//! any number of operations (`crash_after`) or at once (`power_off`); from
//! then on every call fails, as the process is gone. The image that survives
//! is the durable one plus, for each write issued since the last sync,
//! independently: nothing, all of it, or a torn prefix of it, chosen by a
//! seeded RNG (where un-synced writes overlap, each byte comes from one of the
//! versions written there). Length changes (`set_len`) survive in order, as a
//! journaling filesystem keeps them; a write beyond the surviving length is
//! lost with it. Writes before a sync are never lost; nothing else is
//! promised, which is what real disks promise.
//!
//! Cost: the backend keeps one copy of the file plus an undo record per
//! un-synced write (the bytes it replaced), so a sync is O(writes since the
//! last one), not O(file): the simulator syncs thousands of times per seed.

use std::io;
use std::sync::{Arc, Mutex};

use rand::{Rng, SeedableRng};

#[derive(Debug)]
struct Inner {
    /// What a reader sees now (cache included).
    data: Vec<u8>,
    /// The file length a crash keeps (synced, or set by `set_len`).
    kept_len: usize,
    /// Writes since the last sync, oldest first, each with the bytes it
    /// replaced (zeros where the file was shorter).
    pending: Vec<Undo>,
    ops: u64,
    crash_after_ops: Option<u64>,
    crashed: bool,
}

#[derive(Debug)]
struct Undo {
    offset: usize,
    old: Vec<u8>,
}

/// See the module docs. Clones share the same disk.
#[derive(Debug, Clone)]
pub struct CrashBackend {
    inner: Arc<Mutex<Inner>>,
}

impl CrashBackend {
    /// A disk holding `image`, which is all durable.
    pub fn from_image(image: Vec<u8>) -> Self {
        let kept_len = image.len();
        CrashBackend {
            inner: Arc::new(Mutex::new(Inner {
                data: image,
                kept_len,
                pending: Vec::new(),
                ops: 0,
                crash_after_ops: None,
                crashed: false,
            })),
        }
    }

    /// Power fails once `ops` more write/set_len/sync calls have been made.
    pub fn crash_after(&self, ops: u64) {
        let mut inner = self.inner.lock().expect("lock");
        inner.crash_after_ops = Some(inner.ops + ops);
    }

    /// Cancels a `crash_after` that has not fired yet.
    pub fn disarm(&self) {
        self.inner.lock().expect("lock").crash_after_ops = None;
    }

    /// Power fails now.
    pub fn power_off(&self) {
        self.inner.lock().expect("lock").crashed = true;
    }

    pub fn has_crashed(&self) -> bool {
        self.inner.lock().expect("lock").crashed
    }

    /// Number of operations so far.
    pub fn ops(&self) -> u64 {
        self.inner.lock().expect("lock").ops
    }

    /// What a reader sees now, un-synced writes included (the image a clean
    /// shutdown leaves).
    pub fn image(&self) -> Vec<u8> {
        self.inner.lock().expect("lock").data.clone()
    }

    /// Writes not yet covered by a sync.
    pub fn unsynced_writes(&self) -> usize {
        self.inner.lock().expect("lock").pending.len()
    }

    /// The image a restarted machine would find, with un-synced writes lost,
    /// kept or torn according to `seed`.
    pub fn surviving_image(&self, seed: u64) -> Vec<u8> {
        let inner = self.inner.lock().expect("lock");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut image = inner.data.clone();
        // Newest first, so that undoing a write restores what the one before
        // it left there.
        for undo in inner.pending.iter().rev().filter(|u| !u.old.is_empty()) {
            let keep = match rng.gen_range(0..3) {
                0 => 0,
                1 => undo.old.len(),
                _ => rng.gen_range(0..=undo.old.len()),
            };
            let start = undo.offset + keep;
            let end = undo.offset + undo.old.len();
            image[start..end].copy_from_slice(&undo.old[keep..]);
        }
        // File length is metadata: only set_len (or a sync) changes what
        // survives of it.
        image.resize(inner.kept_len, 0);
        image
    }

    fn tick(inner: &mut Inner) -> io::Result<()> {
        if inner.crashed {
            return Err(io::Error::other("simulated power loss"));
        }
        inner.ops += 1;
        if inner.crash_after_ops.is_some_and(|limit| inner.ops > limit) {
            inner.crashed = true;
            return Err(io::Error::other("simulated power loss"));
        }
        Ok(())
    }
}

impl redb::StorageBackend for CrashBackend {
    fn len(&self) -> io::Result<u64> {
        let inner = self.inner.lock().expect("lock");
        if inner.crashed {
            return Err(io::Error::other("simulated power loss"));
        }
        Ok(inner.data.len() as u64)
    }

    fn read(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let inner = self.inner.lock().expect("lock");
        if inner.crashed {
            return Err(io::Error::other("simulated power loss"));
        }
        let end = (offset as usize).checked_add(len).ok_or_else(|| io::Error::other("read overflows"))?;
        if end > inner.data.len() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end"));
        }
        Ok(inner.data[offset as usize..end].to_vec())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut inner = self.inner.lock().expect("lock");
        Self::tick(&mut inner)?;
        inner.data.resize(len as usize, 0);
        inner.kept_len = len as usize;
        // Undo records beyond the new end describe bytes that are gone.
        let len = len as usize;
        for undo in &mut inner.pending {
            undo.old.truncate(len.saturating_sub(undo.offset));
        }
        Ok(())
    }

    fn sync_data(&self, _eventual: bool) -> io::Result<()> {
        let mut inner = self.inner.lock().expect("lock");
        Self::tick(&mut inner)?;
        inner.pending.clear();
        inner.kept_len = inner.data.len();
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut inner = self.inner.lock().expect("lock");
        Self::tick(&mut inner)?;
        let offset = offset as usize;
        let end = offset + data.len();
        if inner.data.len() < end {
            inner.data.resize(end, 0);
        }
        let old = inner.data[offset..end].to_vec();
        inner.data[offset..end].copy_from_slice(data);
        inner.pending.push(Undo { offset, old });
        Ok(())
    }
}
