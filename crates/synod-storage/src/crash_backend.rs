//! A redb storage backend that simulates power loss, for tests.
//!
//! Fault model: a disk with a volatile write cache. A write lands in the cache;
//! `sync_data` makes everything written so far durable. Power can fail after
//! any number of operations (`crash_after_ops`); from then on every call fails,
//! as the process is gone. The image that survives is the durable one plus,
//! for each write issued since the last sync, independently: nothing, all of
//! it, or a torn prefix of it, chosen by a seeded RNG. Length changes
//! (`set_len`) survive in order, as a journaling filesystem keeps them. Writes before a sync are
//! never lost; nothing else is promised, which is what real disks promise.

use std::io;
use std::sync::{Arc, Mutex};

use rand::{Rng, SeedableRng};

#[derive(Debug)]
struct Inner {
    /// What a reader sees now (cache included).
    volatile: Vec<u8>,
    /// What survives a crash for sure.
    durable: Vec<u8>,
    /// Operations since the last sync, in order.
    pending: Vec<Op>,
    ops: u64,
    crash_after_ops: Option<u64>,
    crashed: bool,
}

#[derive(Debug, Clone)]
enum Op {
    Write { offset: u64, data: Vec<u8> },
    SetLen(u64),
}

/// See the module docs. Clones share the same disk.
#[derive(Debug, Clone)]
pub struct CrashBackend {
    inner: Arc<Mutex<Inner>>,
}

impl CrashBackend {
    /// A disk holding `image`, which is all durable.
    pub fn from_image(image: Vec<u8>) -> Self {
        CrashBackend {
            inner: Arc::new(Mutex::new(Inner {
                volatile: image.clone(),
                durable: image,
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

    pub fn has_crashed(&self) -> bool {
        self.inner.lock().expect("lock").crashed
    }

    /// Number of operations so far.
    pub fn ops(&self) -> u64 {
        self.inner.lock().expect("lock").ops
    }

    /// The image a restarted machine would find, with un-synced writes lost,
    /// kept or torn according to `seed`.
    pub fn surviving_image(&self, seed: u64) -> Vec<u8> {
        let inner = self.inner.lock().expect("lock");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut image = inner.durable.clone();
        for op in &inner.pending {
            match op {
                // Length changes are metadata that the filesystem journals in
                // order (ext4 and xfs do for size changes), which is what redb's
                // recovery assumes: a surviving header never describes a file
                // longer than the file.
                Op::SetLen(len) => image.resize(*len as usize, 0),
                Op::Write { offset, data } => {
                    let keep = match rng.gen_range(0..3) {
                        0 => 0,
                        1 => data.len(),
                        _ => rng.gen_range(0..=data.len()),
                    };
                    // File length is metadata: only set_len changes it. A write
                    // beyond the surviving length is lost with the length change.
                    let start = (*offset as usize).min(image.len());
                    let end = (*offset as usize + keep).min(image.len());
                    image[start..end].copy_from_slice(&data[..end - start]);
                }
            }
        }
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
        Ok(inner.volatile.len() as u64)
    }

    fn read(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let inner = self.inner.lock().expect("lock");
        if inner.crashed {
            return Err(io::Error::other("simulated power loss"));
        }
        let end = (offset as usize).checked_add(len).ok_or_else(|| io::Error::other("read overflows"))?;
        if end > inner.volatile.len() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end"));
        }
        Ok(inner.volatile[offset as usize..end].to_vec())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut inner = self.inner.lock().expect("lock");
        Self::tick(&mut inner)?;
        inner.volatile.resize(len as usize, 0);
        inner.pending.push(Op::SetLen(len));
        Ok(())
    }

    fn sync_data(&self, _eventual: bool) -> io::Result<()> {
        let mut inner = self.inner.lock().expect("lock");
        Self::tick(&mut inner)?;
        inner.durable = inner.volatile.clone();
        inner.pending.clear();
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut inner = self.inner.lock().expect("lock");
        Self::tick(&mut inner)?;
        let end = offset as usize + data.len();
        if inner.volatile.len() < end {
            inner.volatile.resize(end, 0);
        }
        inner.volatile[offset as usize..end].copy_from_slice(data);
        inner.pending.push(Op::Write { offset, data: data.to_vec() });
        Ok(())
    }
}
