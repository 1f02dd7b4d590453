//! Mining threads. The chain thread publishes a block template in a
//! [`TemplateSlot`] whenever its best tip (or, less often, its mempool)
//! changes; each miner searches nonces of the current template in slices of
//! [`SLICE_NONCES`], checks between slices whether a newer template was
//! published, and hands a solved block back to the chain thread, which
//! applies and announces it like any block from a peer.
//!
//! Thread `i` of `n` starts at extra nonce `i` and steps by `n`, so threads
//! never search the same header. When a header's 2^32 nonces are spent the
//! thread rolls its extra nonce (which changes the coinbase, hence the
//! Merkle root and the midstate).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use synod_pow::chain::{search_nonces, HashCounter, PowBlock};
use synod_pow::u256::U256;

use super::driver::PowInput;
use crate::health::Beat;

/// Nonces searched between two looks at the template slot: about 5 ms of
/// work at 3 M hashes/s, so a new tip stops stale work quickly.
pub const SLICE_NONCES: u32 = 16_384;

/// The template miners work on, with a generation number that changes
/// whenever the template does.
#[derive(Default)]
pub struct TemplateSlot {
    generation: AtomicU64,
    current: Mutex<Option<(u64, PowBlock, U256)>>,
}

impl TemplateSlot {
    /// Publishes a new template and its target; miners drop older work.
    pub fn publish(&self, block: PowBlock, target: U256) {
        let mut cur = self.current.lock().expect("template lock");
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        *cur = Some((generation, block, target));
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn get(&self) -> Option<(u64, PowBlock, U256)> {
        self.current.lock().expect("template lock").clone()
    }
}

/// One miner thread's parameters.
pub struct MinerThread {
    pub index: u64,
    pub threads: u64,
    /// This thread's share of the node's hash budget per second (0: none).
    pub hashes_per_sec_max: u64,
    pub slot: Arc<TemplateSlot>,
    pub counter: Arc<HashCounter>,
    pub stop: Arc<AtomicBool>,
    pub found: SyncSender<PowInput>,
}

impl MinerThread {
    pub fn run(self, beat: Beat) {
        let mut budget = Budget::new(self.hashes_per_sec_max);
        while !self.stop.load(Ordering::Relaxed) {
            if !beat.beat() {
                return;
            }
            let Some((generation, mut block, target)) = self.slot.get() else {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            };
            block.coinbase.extra_nonce = self.index;
            block.seal_merkle_root();
            let mut next_nonce: u64 = 0;
            loop {
                // One beat per slice of nonces (milliseconds of work).
                if self.stop.load(Ordering::Relaxed) || !beat.beat() {
                    return;
                }
                if self.slot.generation() != generation {
                    break;
                }
                let last = (next_nonce + u64::from(SLICE_NONCES) - 1).min(u64::from(u32::MAX));
                let before = self.counter.total();
                let solution = search_nonces(
                    &block.header,
                    next_nonce as u32..=last as u32,
                    &target,
                    1,
                    SLICE_NONCES,
                    &self.counter,
                    &self.stop,
                );
                budget.spend(self.counter.total().saturating_sub(before), &self.stop, &beat);
                if let Some(sol) = solution {
                    block.header.nonce = sol.nonce;
                    assert_eq!(block.hash(), sol.hash, "the midstate search hashed this header");
                    assert!(sol.hash.to_u256() <= target, "a solution meets its target");
                    // A full queue means the chain thread is far behind: the
                    // block would be stale anyway.
                    let _ = self.found.try_send(PowInput::Mined(Box::new(block)));
                    self.wait_for_new_template(generation);
                    break;
                }
                next_nonce = last + 1;
                if next_nonce > u64::from(u32::MAX) {
                    next_nonce = 0;
                    block.coinbase.extra_nonce = block.coinbase.extra_nonce.wrapping_add(self.threads);
                    block.seal_merkle_root();
                }
            }
        }
    }

    /// After a find, waits (bounded) until the chain thread publishes the
    /// template on top of it, rather than mining a sibling of our own block.
    fn wait_for_new_template(&self, generation: u64) {
        for _ in 0..100 {
            if self.slot.generation() != generation || self.stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A hash budget per second: after each slice, sleeps long enough that the
/// thread's rate stays at or under the cap, measured over one-second windows.
struct Budget {
    per_sec: u64,
    window_start: Instant,
    spent: u64,
}

impl Budget {
    fn new(per_sec: u64) -> Budget {
        Budget { per_sec, window_start: Instant::now(), spent: 0 }
    }

    fn spend(&mut self, hashes: u64, stop: &AtomicBool, beat: &Beat) {
        if self.per_sec == 0 {
            return;
        }
        self.spent += hashes;
        let elapsed = self.window_start.elapsed();
        let allowed_elapsed = Duration::from_secs_f64(self.spent as f64 / self.per_sec as f64);
        if allowed_elapsed > elapsed {
            // Sleep in short steps so a stop is seen promptly.
            let mut left = allowed_elapsed - elapsed;
            while left > Duration::ZERO && !stop.load(Ordering::Relaxed) {
                let step = left.min(Duration::from_millis(50));
                std::thread::sleep(step);
                left = left.saturating_sub(step);
                // A low budget sleeps for long: beat through it (a failure
                // is seen at the next slice).
                let _ = beat.beat();
            }
        }
        if self.window_start.elapsed() >= Duration::from_secs(1) {
            self.window_start = Instant::now();
            self.spent = 0;
        }
    }
}
